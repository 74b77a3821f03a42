#!/usr/bin/env bash
# Tail latency with a large data set resident, and the restart that loads
# it back, warden and Debian's redis-server side by side (issue 15).
#
# Both servers get KEYS small strings (`SET key:N value:N`, through
# `redis-cli --pipe`); then `redis-benchmark -c 50 -P 1` runs SET and GET over
# random keys of the same range against each, and the p50/p99/max latencies
# are printed with warden÷Redis, beside the Go GC's work during the run
# (INFO memory's gc_cycles and gc_pause_total_ms). Last, each server SAVEs,
# is stopped and started on its RDB: the time until it holds every key
# again is printed.
#
#   bash bench/latency.sh                    # 10M keys
#   KEYS=1000000 REQUESTS=200000 bash bench/latency.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/latency.sh
#   IO_THREADS=1 bash bench/latency.sh       # both on one I/O thread / core
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-10000000}
REQUESTS=${REQUESTS:-1000000}
threads=()
[ -z "${IO_THREADS:-}" ] || threads=(--io-threads "$IO_THREADS")
. bench/lib.sh
bench_init

info_field() { redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'; }

echo "machine: $(nproc) cores; redis $(redis-server --version | awk '{print $3}'); $KEYS keys; $REQUESTS requests per test, 50 clients, -P 1"
start_pair --appendonly no "${threads[@]}"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) { k = "key:" i; v = "value:" i
  printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' >"$tmp/load.resp"
for p in "$rport" "$wport"; do
  redis-cli -p "$p" --pipe <"$tmp/load.resp" >/dev/null
  n=$(redis-cli -p "$p" dbsize)
  [ "$n" = "$KEYS" ] || { echo "$me: port $p holds $n keys, want $KEYS" >&2; exit 1; }
done
rm -f "$tmp/load.resp"
sleep 2

# csv line: "test","rps","avg","min","p50","p95","p99","max"
bench() { redis-benchmark -p "$1" -c 50 -P 1 -n "$REQUESTS" -r "$KEYS" -t set,get --csv 2>/dev/null | tr -d '"' | grep -E '^(SET|GET),'; }
gc0=$(info_field "$wport" memory gc_cycles)
pause0=$(info_field "$wport" memory gc_pause_total_ms)
bench "$rport" >"$tmp/r.csv"
bench "$wport" >"$tmp/w.csv"
gc1=$(info_field "$wport" memory gc_cycles)
pause1=$(info_field "$wport" memory gc_pause_total_ms)
printf '%-5s %10s %10s %10s %10s %10s %10s %8s %8s\n' test redis_p50 warden_p50 redis_p99 warden_p99 redis_max warden_max p99_w/r max_w/r
join -t, "$tmp/r.csv" "$tmp/w.csv" | awk -F, '{
  printf "%-5s %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %8.2f %8.2f\n", $1, $5, $12, $7, $14, $8, $15, $14/$7, $15/$8 }'
awk -v c="$((gc1 - gc0))" -v a="$pause0" -v b="$pause1" 'BEGIN {
  printf "warden GC during the runs: %d cycles, %.3f ms of stop-the-world pauses in all\n", c, b - a }'

# Restart from the RDB: each server saves, stops, and starts again on its
# file; timed from the start until DBSIZE answers what it held before
# (the benchmark's SETs added keys of its own).
restart_time() { # port keys: echo seconds until the server on port holds keys
  local t0 n
  t0=$(date +%s.%N)
  while :; do
    n=$(redis-cli -p "$1" dbsize 2>/dev/null || true)
    [ "$n" = "$2" ] && break
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a > 600) }' && { echo "$me: port $1 holds $n keys after 600 s, want $2" >&2; exit 1; }
    sleep 0.02
  done
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}
redis-cli -p "$rport" save >/dev/null
redis-cli -p "$wport" save >/dev/null
rkeys=$(redis-cli -p "$rport" dbsize)
wkeys=$(redis-cli -p "$wport" dbsize)
stop_pair
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no "${threads[@]}" --dir "$tmp/redis" --logfile "$tmp/redis.log" &
rpid=$!
pids+=("$rpid")
rt=$(restart_time "$rport" "$rkeys")
"$WARDEN" server --port "$wport" --bind 127.0.0.1 --save '' --appendonly no "${threads[@]}" --dir "$tmp/warden" --loglevel warning 2>>"$tmp/warden.log" &
wpid=$!
pids+=("$wpid")
wt=$(restart_time "$wport" "$wkeys")
printf 'restart on the RDB until DBSIZE is back (%s keys): redis %.2f s, warden %.2f s, ratio %.2f\n' "$wkeys" "$rt" "$wt" "$(awk -v a="$wt" -v b="$rt" 'BEGIN { print a / b }')"
printf 'RDB size: redis %s bytes, warden %s bytes\n' "$(stat -c %s "$tmp/redis/dump.rdb")" "$(stat -c %s "$tmp/warden/dump.rdb")"
stop_pair
