#!/usr/bin/env bash
# Resharding 1/3 of the slots, warden against a real Redis Cluster of the
# same shape (3 masters + 3 replicas on loopback each): KEYS SETs through
# redis-benchmark --cluster (random keys, so about 63% distinct), then the
# first master's 5461 slots (0-5460) move to the second master:
#   Redis:  redis-cli --cluster reshard (key by key with MIGRATE)
#   warden: POST /migrations (atomic slot migration), until GET /migrations
#           says done
# It prints the keys moved, seconds each, warden÷Redis, and the max GET
# latency clients saw during the move (redis-benchmark --cluster runs of
# LAT_REQUESTS GETs with 4 clients, back to back while the move runs).
#
#   bash bench/reshard.sh
#   KEYS=1000000 bash bench/reshard.sh
#   LOGS=/tmp/reshard-logs bash bench/reshard.sh   # keep the warden logs
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-200000}
VALUE=${VALUE:-16}
IO_THREADS=${IO_THREADS:-1}
LAT_REQUESTS=${LAT_REQUESTS:-5000}
PIPELINE=${PIPELINE:-100} # redis-cli --cluster reshard --cluster-pipeline
. bench/lib.sh
bench_init
command -v curl >/dev/null || { echo "$me: curl not found" >&2; exit 1; }
. bench/clusterlib.sh

load() { redis-benchmark --cluster -h 127.0.0.1 -p "$1" -t set -n "$KEYS" -r "$KEYS" -d "$VALUE" -c 50 -P 16 -q >/dev/null 2>&1; }
# keys_in PORT: the keys over the cluster's masters (redis-cli --cluster info).
keys_in() {
  redis-cli --cluster info "127.0.0.1:$1" 2>/dev/null | awk '/ keys \|/ {for (i = 1; i <= NF; i++) if ($(i+1) == "keys") n += $i} END {print n+0}'
}
# master_of PORT SLOT: the node id serving SLOT.
master_of() {
  redis-cli -p "$1" cluster nodes | awk -v s="$2" '$3 ~ /master/ {for (i = 9; i <= NF; i++) {split($i, r, "-"); if (r[2] == "") r[2] = r[1]; if (s >= r[1] && s <= r[2]) print $1}}'
}
# latency_while PID PORT: max GET latency (ms) of back-to-back
# redis-benchmark runs while PID lives.
latency_while() {
  local max=0 m
  while kill -0 "$1" 2>/dev/null; do
    m=$(redis-benchmark --cluster -h 127.0.0.1 -p "$2" -t get -n "$LAT_REQUESTS" -r "$KEYS" -c 4 --csv 2>/dev/null |
      awk -F'","' '/^"GET"/ {gsub(/"/, "", $8); print $8; exit}')
    [ -n "$m" ] && max=$(awk -v a="$max" -v b="$m" 'BEGIN {print (b > a ? b : a)}')
  done
  echo "$max"
}
now() { date +%s.%N; }

start_redis
start_warden
load "$redis_entry"
load "$warden_entry"
rkeys=$(keys_in "$redis_entry")
wkeys=$(keys_in "$warden_entry")

# Redis: key-by-key resharding.
src=$(master_of "$redis_entry" 0)
dst=$(master_of "$redis_entry" 5461)
t0=$(now)
redis-cli --cluster reshard "127.0.0.1:$redis_entry" --cluster-from "$src" --cluster-to "$dst" --cluster-slots 5461 \
  --cluster-yes --cluster-pipeline "$PIPELINE" >"$tmp/redis-reshard.log" 2>&1 &
rp=$!
rlat=$(latency_while "$rp" "$redis_entry")
wait "$rp" || { echo "$me: redis-cli --cluster reshard failed:" >&2; tail -5 "$tmp/redis-reshard.log" >&2; exit 1; }
rsec=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')

# warden: one atomic migration through the HTTP API.
t0=$(now)
curl -sf -X POST "http://$warden_http/migrations" -H 'Content-Type: application/json' \
  -d '{"from":0,"to":1,"ranges":[[0,5460]]}' >"$tmp/post.json"
(until curl -sf "http://$warden_http/migrations" | grep -q '"state": "\(done\|cancelled\)"'; do sleep 0.02; done) &
wp=$!
wlat=$(latency_while "$wp" "$warden_entry")
wait "$wp"
wsec=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
curl -sf "http://$warden_http/migrations" >"$tmp/migrations.json"
grep -q '"state": "done"' "$tmp/migrations.json" || { echo "$me: warden migration did not complete:" >&2; cat "$tmp/migrations.json" >&2; exit 1; }
moved=$(grep -o '"keys_moved": [0-9]*' "$tmp/migrations.json" | head -1 | grep -o '[0-9]*$')

printf '%-8s %12s %10s %16s\n' cluster keys seconds max_get_lat_ms
printf '%-8s %12s %10s %16s\n' redis "$rkeys" "$rsec" "$rlat"
printf '%-8s %12s %10s %16s\n' warden "$wkeys" "$wsec" "$wlat"
[ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && for i in 1 2 3 4 5 6; do cp "$tmp/warden$i/log" "$LOGS/warden$i.log"; done
grep -ho 'slots_paused=[^ ]*' "$tmp"/warden*/log | sed 's/^/warden source: /' || true
echo "warden keys moved: $moved; warden/redis seconds: $(awk -v a="$wsec" -v b="$rsec" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}')"
