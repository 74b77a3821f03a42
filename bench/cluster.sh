#!/usr/bin/env bash
# Cluster throughput, warden and a real Redis Cluster of the same shape
# side by side: 3 masters + 3 replicas on loopback each (Redis: redis-cli
# --cluster create --cluster-replicas 1; warden: 3 voters with --peers and
# 3 non-voters with --join, --shards 3, cluster-enabled yes), then
# redis-benchmark --cluster -t set,get at each -P, ROUNDS alternating runs,
# printing requests/s and warden÷Redis (median of the rounds).
#
#   bash bench/cluster.sh
#   REQUESTS=1000000 ROUNDS=5 bash bench/cluster.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
IO_THREADS=${IO_THREADS:-1} # the same for both (Redis's default; warden: GOMAXPROCS per process)
PIPELINES=${PIPELINES:-"1 16"}
ROUNDS=${ROUNDS:-3}
. bench/lib.sh
bench_init

. bench/clusterlib.sh

# bench KIND PORT P TEST: requests/s of one redis-benchmark --cluster run.
bench() {
  redis-benchmark --cluster -h 127.0.0.1 -p "$2" -c "$CLIENTS" -n "$REQUESTS" -P "$3" -t "$4" -r 100000 --csv 2>/dev/null |
    awk -F'","' '/^"(SET|GET)"/ {gsub(/"/, "", $2); print int($2); exit}'
}

start_redis
start_warden
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %-4s %14s %14s %8s\n' test P redis_rps warden_rps ratio
for P in $PIPELINES; do
  for t in set get; do
    r=() w=()
    for _ in $(seq 1 "$ROUNDS"); do
      r+=("$(bench redis "$redis_entry" "$P" "$t")")
      w+=("$(bench warden "$warden_entry" "$P" "$t")")
    done
    rm=$(echo "${r[*]}" | median); wm=$(echo "${w[*]}" | median)
    printf '%-6s %-4s %14s %14s %8s\n' "$t" "$P" "$rm" "$wm" "$(awk -v a="$wm" -v b="$rm" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
  done
done
