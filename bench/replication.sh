#!/usr/bin/env bash
# Replication benchmark, warden and Debian's redis-server side by side:
#  1. the time a new replica takes to full-sync a data set of REPL_KEYS keys
#     of REPL_VALUE_SIZE bytes (default 200k x 1000 B), with the master's
#     repl-diskless-sync off (disk) and on (diskless, delay 0);
#  2. a replica restarted from its own RDB (SHUTDOWN SAVE, then started
#     again): does it partial-resync (the master's sync_partial_ok +1, no
#     new full sync), and how long until its link is up;
#  3. SET throughput (redis-benchmark -c 50, -P 1 and -P 16) on a master with
#     two replicas attached, ROUNDS alternating pairs.
#
#   bash bench/replication.sh
#   REPL_KEYS=1000000 bash bench/replication.sh
#   SKIP_SYNC=1 ROUNDS=5 bash bench/replication.sh   # only the SET runs
#   WARDEN_BIN=/tmp/old/warden bash bench/replication.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${REPL_KEYS:-200000}
SIZE=${REPL_VALUE_SIZE:-1000}
REQUESTS=${REQUESTS:-200000}
IO_THREADS=${IO_THREADS:-1} # the same for both servers (Redis's default)
PIPELINES=${PIPELINES:-"1 16"} # redis-benchmark -P for the SET runs
ROUNDS=${ROUNDS:-3}            # alternating redis/warden pairs per -P
SKIP_SYNC=${SKIP_SYNC:-0}      # 1: only the SET runs
. bench/lib.sh
bench_init
ms() { date +%s%3N; }

# server KIND PORT DIR [args...]: start redis-server or warden.
server() {
  local kind=$1 p=$2 dir=$3; shift 3
  mkdir -p "$dir"
  if [ "$kind" = redis ]; then
    redis-server --port "$p" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --io-threads "$IO_THREADS" \
      --enable-debug-command yes --repl-diskless-sync-delay 0 --logfile "$dir/log" "$@" &
  else
    "$WARDEN" server --port "$p" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --io-threads "$IO_THREADS" \
      --enable-debug-command yes --repl-diskless-sync-delay 0 --loglevel warning "$@" 2>>"$dir/log" &
  fi
  pids+=($!)
  wait_ping "$p"
}

synced() { # replica port: link up and not syncing
  local info; info=$(redis-cli -p "$1" info replication 2>/dev/null | tr -d '\r')
  grep -q '^master_link_status:up' <<<"$info" && grep -q '^master_sync_in_progress:0' <<<"$info"
}
stat() { redis-cli -p "$1" info stats | tr -d '\r' | awk -F: -v k="$2" '$1 == k {print $2}'; }
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

declare -A sync_ms restart_ms restart_ok
if [ "$SKIP_SYNC" != 1 ]; then
  # Redis and warden alternate for each case, so a load change on the machine
  # hits both sides of a ratio alike.
  for mode in disk diskless; do
    for kind in redis warden; do
      diskless=no; [ "$mode" = diskless ] && diskless=yes
      free_port; mp=$PORT; server "$kind" "$mp" "$tmp/$kind-master" --repl-diskless-sync "$diskless"
      redis-cli -p "$mp" debug populate "$KEYS" key "$SIZE" >/dev/null
      free_port; r1=$PORT
      t0=$(ms)
      server "$kind" "$r1" "$tmp/$kind-r1" --replicaof 127.0.0.1 "$mp"
      until synced "$r1"; do sleep 0.01; done
      sync_ms[$kind,$mode]=$(( $(ms) - t0 ))
      [ "$(redis-cli -p "$r1" dbsize)" = "$KEYS" ] || { echo "$kind replica has $(redis-cli -p "$r1" dbsize) keys, want $KEYS" >&2; exit 1; }
      if [ "$mode" = diskless ]; then
        # Restart the replica from its RDB: it should continue the master's
        # history (PSYNC <replid> <offset+1> -> +CONTINUE), not full-sync.
        redis-cli -p "$mp" set after-sync 1 >/dev/null
        until [ "$(redis-cli -p "$r1" get after-sync)" = 1 ]; do sleep 0.01; done
        full0=$(stat "$mp" sync_full); part0=$(stat "$mp" sync_partial_ok)
        redis-cli -p "$r1" shutdown save >/dev/null 2>&1 || true
        while redis-cli -p "$r1" ping >/dev/null 2>&1; do sleep 0.01; done
        redis-cli -p "$mp" set while-down 1 >/dev/null
        t0=$(ms)
        server "$kind" "$r1" "$tmp/$kind-r1" --replicaof 127.0.0.1 "$mp"
        until synced "$r1"; do sleep 0.01; done
        restart_ms[$kind]=$(( $(ms) - t0 ))
        full1=$(stat "$mp" sync_full); part1=$(stat "$mp" sync_partial_ok)
        ok=no; [ "$((part1 - part0))" = 1 ] && [ "$full1" = "$full0" ] && ok=yes
        until [ "$(redis-cli -p "$r1" get while-down)" = 1 ]; do sleep 0.01; done
        [ "$(redis-cli -p "$r1" dbsize)" = "$((KEYS + 2))" ] || ok="no (dbsize $(redis-cli -p "$r1" dbsize))"
        restart_ok[$kind]="$ok (partial +$((part1 - part0)), full +$((full1 - full0)))"
      fi
      stop_all
      rm -rf "$tmp/$kind-"*
    done
  done
fi

# SET with two replicas: both masters up at once, runs alternating so both
# see the same machine load; ROUNDS pairs for each pipeline depth.
declare -A master procs
for kind in redis warden; do
  free_port; mp=$PORT; server "$kind" "$mp" "$tmp/$kind-master"
  procs[$kind]=${pids[-1]}
  for i in 1 2; do
    free_port; rp=$PORT; server "$kind" "$rp" "$tmp/$kind-r$i" --replicaof 127.0.0.1 "$mp"
    procs[$kind]="${procs[$kind]} ${pids[-1]}"
    until synced "$rp"; do sleep 0.05; done
  done
  master[$kind]=$mp
done
# CPU ticks (user+sys, 1/100 s) used so far by the given processes.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
declare -A set_ops set_cpu
for P in $PIPELINES; do
  for round in $(seq 1 "$ROUNDS"); do
    for kind in redis warden; do
      # shellcheck disable=SC2086 # a list of pids
      t0=$(ticks ${procs[$kind]})
      set_ops[$kind,$P,$round]=$(redis-benchmark -p "${master[$kind]}" -c 50 -P "$P" -n "$REQUESTS" -t set --csv -q 2>/dev/null | awk -F'","' 'NR>1 {print $2}' | tr -d '"')
      # shellcheck disable=SC2086
      set_cpu[$kind,$P,$round]=$(( $(ticks ${procs[$kind]}) - t0 ))
    done
  done
done

echo "machine: $(nproc) cores; io-threads $IO_THREADS; warden: $WARDEN; SET: redis-benchmark -c 50 -n $REQUESTS"
[ "$SKIP_SYNC" = 1 ] || echo "full sync data set: $KEYS keys x $SIZE bytes"
printf '%-48s %12s %12s %8s\n' measurement redis warden ratio
if [ "$SKIP_SYNC" != 1 ]; then
  for mode in disk diskless; do
    awk -v r="${sync_ms[redis,$mode]}" -v w="${sync_ms[warden,$mode]}" -v m="$mode" \
      'BEGIN { printf "%-48s %9d ms %9d ms %8.2f\n", "new replica full sync (" m ")", r, w, w/r }'
  done
  awk -v r="${restart_ms[redis]}" -v w="${restart_ms[warden]}" \
    'BEGIN { printf "%-48s %9d ms %9d ms %8.2f\n", "restarted replica until link up", r, w, w/r }'
  printf '%-48s %s | %s\n' "restarted replica partial resync" "redis: ${restart_ok[redis]}" "warden: ${restart_ok[warden]}"
fi
for P in $PIPELINES; do
  for round in $(seq 1 "$ROUNDS"); do
    awk -v r="${set_ops[redis,$P,$round]}" -v w="${set_ops[warden,$P,$round]}" -v what="SET ops/s, master with 2 replicas, -P $P #$round" \
      'BEGIN { printf "%-48s %12.0f %12.0f %8.2f\n", what, r, w, w/r }'
  done
done
# CPU per SET of master + replicas: what a busy machine moves least.
for P in $PIPELINES; do
  for round in $(seq 1 "$ROUNDS"); do
    awk -v r="${set_cpu[redis,$P,$round]}" -v w="${set_cpu[warden,$P,$round]}" -v n="$REQUESTS" -v what="  CPU µs per SET (master+replicas), -P $P #$round" \
      'BEGIN { printf "%-48s %12.2f %12.2f %8.2f\n", what, r*10000/n, w*10000/n, (r > 0 ? w/r : 0) }'
  done
done
