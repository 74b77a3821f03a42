#!/usr/bin/env bash
# EVALSHA throughput, warden vs a real redis-server on free loopback ports:
# a 3-command script (INCR, SET, GET on its declared key) loaded with
# SCRIPT LOAD, run by redis-benchmark; prints ops/s and warden/redis.
#
#   bash bench/evalsha.sh                 # 200000 requests, 50 clients, P 1 and 16
#   REQUESTS=50000 PIPELINES=1 bash bench/evalsha.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/evalsha.sh
#   IO_THREADS=2 bash bench/evalsha.sh    # --io-threads for both (default 1, Redis's)
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
# The machine is shared: each round runs redis then warden back to back,
# and the median of the rounds' ratios is reported with them.
ROUNDS=${ROUNDS:-3}
KEYSPACE=${KEYSPACE:-10000}
SCRIPT="redis.call('incr', KEYS[1]); redis.call('set', KEYS[1] .. ':v', ARGV[1]); return redis.call('get', KEYS[1])"

. bench/lib.sh
bench_init
start_pair --appendonly no --io-threads "${IO_THREADS:-1}"

rsha=$(redis-cli -p "$rport" script load "$SCRIPT")
wsha=$(redis-cli -p "$wport" script load "$SCRIPT")
[ "$rsha" = "$wsha" ] || { echo "$me: SHA differs: redis $rsha warden $wsha" >&2; exit 1; }
# Same reply on both first.
r=$(redis-cli -p "$rport" evalsha "$rsha" 1 check v); w=$(redis-cli -p "$wport" evalsha "$wsha" 1 check v)
[ "$r" = "$w" ] || { echo "$me: replies differ: redis $r warden $w" >&2; exit 1; }

rps() {
  redis-benchmark -p "$1" -c "$CLIENTS" -n "$REQUESTS" -P "$2" -r "$KEYSPACE" --csv -q \
    evalsha "$rsha" 1 "key:__rand_int__" "value" 2>/dev/null |
    awk -F'","' 'NR>1 && NF>1 { print $2; exit }'
}

echo "machine: $(nproc) cores; redis: $(redis-server --version | awk '{print $3}'); requests=$REQUESTS clients=$CLIENTS script: $SCRIPT"
printf '%-8s %4s %14s %14s %8s   %s\n' test P redis_ops/s warden_ops/s ratio "rounds (warden/redis)"
for P in $PIPELINES; do
  rounds=""
  for _ in $(seq 1 "$ROUNDS"); do
    rr=$(rps "$rport" "$P")
    ww=$(rps "$wport" "$P")
    rounds="$rounds $rr:$ww"
  done
  echo "$rounds" | median_round EVALSHA "$P" 8
done
