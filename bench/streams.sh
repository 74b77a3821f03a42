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
# beforehand with ROUNDS x REQUESTS entries (each read delivers one entry
# and adds it to the PEL, as a consumer does). Each test runs ROUNDS times,
# redis then warden, and prints the median round (by ratio) and all ratios.
# Both servers get --io-threads IO_THREADS (1: Redis's default; the
# benchmark client shares the machine's cores).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
ROUNDS=${ROUNDS:-3}

. bench/lib.sh
bench_init
start_pair --appendonly no --io-threads "${IO_THREADS:-1}"

# bench PORT P ARGS...: ops/s of one redis-benchmark run.
bench() {
  local port=$1 p=$2
  shift 2
  redis-benchmark -p "$port" -c "$CLIENTS" -n "$REQUESTS" -P "$p" -r 1000 --csv -q "$@" 2>/dev/null |
    awk -F'","' 'NR>1 && NF>1 { gsub(/"/, "", $2); print $2 }' | tail -n 1
}

# rounds LABEL P ARGS...: ROUNDS alternating runs, then the median line.
rounds() {
  local label=$1 p=$2 out=""
  shift 2
  for _ in $(seq 1 "$ROUNDS"); do
    out="$out $(bench "$rport" "$p" "$@"):$(bench "$wport" "$p" "$@")"
  done
  echo "$out" | median_round "$label" "$p" 22
}

echo "machine: $(nproc) cores; redis: $(redis-server --version | awk '{print $3}'); requests=$REQUESTS clients=$CLIENTS io-threads=${IO_THREADS:-1} rounds=$ROUNDS"
printf '%-22s %4s %14s %14s %8s   %s\n' test P redis_ops/s warden_ops/s ratio "rounds (warden/redis)"
for P in $PIPELINES; do
  for port in "$rport" "$wport"; do redis-cli -p "$port" flushall >/dev/null; done
  rounds "XADD one stream" "$P" XADD xs '*' field value
  rounds "XADD 1000 streams" "$P" XADD xs:__rand_int__ '*' field value
  for port in "$rport" "$wport"; do
    redis-cli -p "$port" del rg >/dev/null
    redis-benchmark -p "$port" -c "$CLIENTS" -n $((REQUESTS * ROUNDS)) -P 64 -q XADD rg '*' field value >/dev/null 2>&1
    redis-cli -p "$port" xgroup create rg g 0 >/dev/null
  done
  rounds "XREADGROUP COUNT 1" "$P" XREADGROUP GROUP g c COUNT 1 STREAMS rg '>'
  for port in "$rport" "$wport"; do
    [ "$(redis-cli -p "$port" xlen rg)" -ge $((REQUESTS * ROUNDS)) ] || echo "$me: port $port: XLEN rg $(redis-cli -p "$port" xlen rg), want >= $((REQUESTS * ROUNDS))" >&2
  done
done
