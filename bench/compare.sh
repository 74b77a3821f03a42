#!/usr/bin/env bash
# Runs the same redis-benchmark against warden and a real redis-server on free
# loopback ports, prints ops/s side by side with the ratio warden/redis, then
# the resident memory of both after loading 1M keys.
#
#   bash bench/compare.sh            # defaults: 200000 requests per test
#   REQUESTS=50000 TESTS=set,get bash bench/compare.sh
#   IO_THREADS=2 bash bench/compare.sh   # both servers with io-threads 2
#   WARDEN_BIN=/tmp/old/warden bash bench/compare.sh
#
# Both servers get the same settings, including io-threads (Redis's default,
# 1, unless IO_THREADS says otherwise): for warden it is the number of cores
# its goroutines may use, for Redis the number of I/O threads.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,lpush,rpop,sadd,hset,zadd,mset}
PIPELINES=${PIPELINES:-"1 16"}
KEYS_FOR_MEMORY=${KEYS_FOR_MEMORY:-1000000}
IO_THREADS=${IO_THREADS:-1}

. bench/lib.sh
bench_init

# start_servers [directive value ...]: both servers, same settings (default
# --appendonly no); each keeps its data dir across a restart.
start_servers() {
  local extra=("$@")
  [ ${#extra[@]} -gt 0 ] || extra=(--appendonly no)
  start_pair --io-threads "$IO_THREADS" "${extra[@]}"
}

# bench PORT PIPELINE -> lines "test rps"
bench() {
  redis-benchmark -p "$1" -c "$CLIENTS" -n "$REQUESTS" -P "$2" -t "$TESTS" --csv -q 2>/dev/null |
    awk -F'","' 'NR>1 && NF>1 { t=$1; gsub(/^"/, "", t); gsub(/[ ()]+/, "_", t); sub(/_$/, "", t); print t, $2 }'
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); redis: $(redis-server --version | awk '{print $3}'); requests=$REQUESTS clients=$CLIENTS io-threads=$IO_THREADS"
start_servers
printf '%-10s %4s %14s %14s %8s\n' test P redis_ops/s warden_ops/s ratio
for P in $PIPELINES; do
  redis-cli -p "$rport" flushall >/dev/null; redis-cli -p "$wport" flushall >/dev/null
  bench "$rport" "$P" >"$tmp/r.txt"
  bench "$wport" "$P" >"$tmp/w.txt"
  join <(sort "$tmp/r.txt") <(sort "$tmp/w.txt") | sort |
    awk -v P="$P" '{ printf "%-10s %4s %14.0f %14.0f %8.2f\n", $1, P, $2, $3, ($2 > 0 ? $3/$2 : 0) }'
done

# Memory after loading the same KEYS_FOR_MEMORY keys into fresh servers.
stop_pair
start_servers
load() {
  awk -v n="$KEYS_FOR_MEMORY" 'BEGIN {
    for (i = 0; i < n; i++) {
      k = "key:" i; v = "value:" i
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
  }' | redis-cli -p "$1" --pipe >/dev/null
}
r0=$(rss_kb "$rpid"); w0=$(rss_kb "$wpid")
load "$rport"; load "$wport"
rk=$(redis-cli -p "$rport" dbsize); wk=$(redis-cli -p "$wport" dbsize)
r1=$(rss_kb "$rpid"); w1=$(rss_kb "$wpid")
awk -v n="$KEYS_FOR_MEMORY" -v r0="$r0" -v r1="$r1" -v w0="$w0" -v w1="$w1" -v rk="$rk" -v wk="$wk" 'BEGIN {
  printf "\nmemory after %d keys (RSS MB): redis %.1f (dbsize %d, empty %.1f)  warden %.1f (dbsize %d, empty %.1f)  ratio warden/redis %.2f\n",
    n, r1/1024, rk, r0/1024, w1/1024, wk, w0/1024, w1/r1
}'

# Persistence: SET throughput with the AOF on, both fsync policies.
if [ "${PERSIST:-1}" = 1 ]; then
  stop_pair
  printf '\n%-26s %14s %14s %8s\n' "persistence test" redis warden ratio
  for fs in everysec always; do
    rm -rf "$tmp/redis" "$tmp/warden"
    start_servers --appendonly yes --appendfsync "$fs"
    TESTS=set bench "$rport" 1 | grep "^SET " >"$tmp/r.txt" || true
    TESTS=set bench "$wport" 1 | grep "^SET " >"$tmp/w.txt" || true
    join "$tmp/r.txt" "$tmp/w.txt" | awk -v fs="$fs" '{ printf "%-26s %14.0f %14.0f %8.2f\n", "SET aof " fs " (ops/s)", $2, $3, $3/$2 }'
    stop_pair
  done

  # Restart time with KEYS_FOR_MEMORY keys, from dump.rdb and from the AOF.
  for mode in rdb aof; do
    rm -rf "$tmp/redis" "$tmp/warden"
    if [ "$mode" = aof ]; then set -- --appendonly yes --aof-use-rdb-preamble yes; else set -- --appendonly no; fi
    start_servers "$@"
    load "$rport"; load "$wport"
    if [ "$mode" = rdb ]; then redis-cli -p "$rport" save >/dev/null; redis-cli -p "$wport" save >/dev/null; fi
    stop_pair
    t0=$(date +%s%N)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' "$@" --dir "$tmp/redis" --logfile "$tmp/redis.log" &
    rpid=$!; pids+=("$rpid"); wait_ping "$rport"; t1=$(date +%s%N)
    "$WARDEN" server --port "$wport" --bind 127.0.0.1 --save '' "$@" --dir "$tmp/warden" --loglevel warning 2>>"$tmp/warden.log" &
    wpid=$!; pids+=("$wpid"); wait_ping "$wport"; t2=$(date +%s%N)
    rk=$(redis-cli -p "$rport" dbsize); wk=$(redis-cli -p "$wport" dbsize)
    awk -v m="$mode" -v r=$(( (t1 - t0) / 1000000 )) -v w=$(( (t2 - t1) / 1000000 )) -v rk="$rk" -v wk="$wk" -v n="$KEYS_FOR_MEMORY" \
      'BEGIN { printf "%-26s %12d ms %12d ms %8.2f   (keys loaded: redis %d, warden %d)\n", "restart " n " keys " m, r, w, w/r, rk, wk }'
    stop_pair
  done
fi
