#!/usr/bin/env bash
# XADD and XREADGROUP throughput, warden next to a real redis-server on free
# loopback ports, printing ops/s and the ratio warden/redis.
#
#   bash bench/streams.sh                       # 200000 requests per test
#   REQUESTS=50000 PIPELINES="1" bash bench/streams.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/streams.sh
#
# Tests: XADD to one stream, XADD to 1000 streams (random keys), and
# XREADGROUP COUNT 1 of new entries (">") by one group from a stream filled
# beforehand with REQUESTS entries (each read delivers one entry and adds it
# to the PEL, as a consumer does).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}

. bench/lib.sh
bench_init
start_pair --appendonly no

# bench PORT P ARGS...: ops/s of one redis-benchmark run.
bench() {
  local port=$1 p=$2
  shift 2
  redis-benchmark -p "$port" -c "$CLIENTS" -n "$REQUESTS" -P "$p" -r 1000 --csv -q "$@" 2>/dev/null |
    awk -F'","' 'NR>1 && NF>1 { gsub(/"/, "", $2); print $2 }' | tail -n 1
}

echo "machine: $(nproc) cores; redis: $(redis-server --version | awk '{print $3}'); requests=$REQUESTS clients=$CLIENTS"
printf '%-22s %4s %14s %14s %8s\n' test P redis_ops/s warden_ops/s ratio
for P in $PIPELINES; do
  for port in "$rport" "$wport"; do redis-cli -p "$port" flushall >/dev/null; done
  r=$(bench "$rport" "$P" XADD xs '*' field value); w=$(bench "$wport" "$P" XADD xs '*' field value)
  awk -v P="$P" -v r="$r" -v w="$w" 'BEGIN { printf "%-22s %4s %14.0f %14.0f %8.2f\n", "XADD one stream", P, r, w, (r > 0 ? w/r : 0) }'
  r=$(bench "$rport" "$P" XADD xs:__rand_int__ '*' field value); w=$(bench "$wport" "$P" XADD xs:__rand_int__ '*' field value)
  awk -v P="$P" -v r="$r" -v w="$w" 'BEGIN { printf "%-22s %4s %14.0f %14.0f %8.2f\n", "XADD 1000 streams", P, r, w, (r > 0 ? w/r : 0) }'
  for port in "$rport" "$wport"; do
    redis-cli -p "$port" del rg >/dev/null
    redis-benchmark -p "$port" -c "$CLIENTS" -n "$REQUESTS" -P 64 -q XADD rg '*' field value >/dev/null 2>&1
    redis-cli -p "$port" xgroup create rg g 0 >/dev/null
  done
  r=$(bench "$rport" "$P" XREADGROUP GROUP g c COUNT 1 STREAMS rg '>')
  w=$(bench "$wport" "$P" XREADGROUP GROUP g c COUNT 1 STREAMS rg '>')
  awk -v P="$P" -v r="$r" -v w="$w" 'BEGIN { printf "%-22s %4s %14.0f %14.0f %8.2f\n", "XREADGROUP COUNT 1", P, r, w, (r > 0 ? w/r : 0) }'
  for port in "$rport" "$wport"; do
    [ "$(redis-cli -p "$port" xlen rg)" -ge "$REQUESTS" ] || echo "$me: port $port: XLEN rg $(redis-cli -p "$port" xlen rg), want >= $REQUESTS" >&2
  done
done
