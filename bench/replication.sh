#!/usr/bin/env bash
# Replication benchmark, warden and Debian's redis-server side by side:
#  1. the time a new replica takes to full-sync a data set of REPL_KEYS keys
#     of REPL_VALUE_SIZE bytes (default 1M x 1000 B, about 1 GB),
#  2. SET throughput (redis-benchmark) on a master with two replicas attached.
#
#   bash bench/replication.sh
#   REPL_KEYS=100000 bash bench/replication.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${REPL_KEYS:-1000000}
SIZE=${REPL_VALUE_SIZE:-1000}
REQUESTS=${REQUESTS:-200000}
IO_THREADS=${IO_THREADS:-1} # the same for both servers (Redis's default)
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "replication.sh: $tool not found" >&2; exit 1; }
done
[ -x bin/warden ] || make build >/dev/null

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
next=$(( 30000 + ($$ % 20000) ))
port() { local p=$next; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; next=$((p + 1)); echo "$p"; }
wait_ping() { for _ in $(seq 1 3000); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.01; done; echo "no PONG on $1" >&2; exit 1; }
ms() { date +%s%3N; }

# server KIND PORT DIR [args...]: start redis-server or warden.
server() {
  local kind=$1 p=$2 dir=$3; shift 3
  mkdir -p "$dir"
  if [ "$kind" = redis ]; then
    redis-server --port "$p" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --io-threads "$IO_THREADS" \
      --enable-debug-command yes --repl-diskless-sync-delay 0 --logfile "$dir/log" "$@" &
  else
    bin/warden server --port "$p" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --io-threads "$IO_THREADS" \
      --enable-debug-command yes --loglevel warning "$@" 2>>"$dir/log" &
  fi
  pids+=($!)
  wait_ping "$p"
}

synced() { # replica port: link up and not syncing
  local info; info=$(redis-cli -p "$1" info replication 2>/dev/null | tr -d '\r')
  grep -q '^master_link_status:up' <<<"$info" && grep -q '^master_sync_in_progress:0' <<<"$info"
}

declare -A sync_ms set_ops
for kind in redis warden; do
  mp=$(port); server "$kind" "$mp" "$tmp/$kind-master"
  redis-cli -p "$mp" debug populate "$KEYS" key "$SIZE" >/dev/null
  r1=$(port)
  t0=$(ms)
  server "$kind" "$r1" "$tmp/$kind-r1" --replicaof 127.0.0.1 "$mp"
  until synced "$r1"; do sleep 0.01; done
  sync_ms[$kind]=$(( $(ms) - t0 ))
  [ "$(redis-cli -p "$r1" dbsize)" = "$KEYS" ] || { echo "$kind replica has $(redis-cli -p "$r1" dbsize) keys, want $KEYS" >&2; exit 1; }
  r2=$(port); server "$kind" "$r2" "$tmp/$kind-r2" --replicaof 127.0.0.1 "$mp"
  until synced "$r2"; do sleep 0.05; done
  set_ops[$kind]=$(redis-benchmark -p "$mp" -c 50 -n "$REQUESTS" -t set --csv -q 2>/dev/null | awk -F'","' 'NR>1 {print $2}' | tr -d '"')
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  rm -rf "$tmp/$kind-"*
done
echo "machine: $(nproc) cores; data set: $KEYS keys x $SIZE bytes; io-threads $IO_THREADS"
printf '%-44s %12s %12s %8s\n' measurement redis warden ratio
awk -v r="${sync_ms[redis]}" -v w="${sync_ms[warden]}" 'BEGIN { printf "%-44s %9d ms %9d ms %8.2f\n", "new replica full sync", r, w, w/r }'
awk -v r="${set_ops[redis]}" -v w="${set_ops[warden]}" 'BEGIN { printf "%-44s %12.0f %12.0f %8.2f\n", "SET ops/s, master with 2 replicas", r, w, w/r }'
