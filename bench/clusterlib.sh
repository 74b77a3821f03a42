# shellcheck shell=bash
# Cluster starters shared by bench/cluster.sh and bench/reshard.sh (sourced
# after bench/lib.sh and bench_init): a Redis Cluster and a warden cluster
# of the same shape, 3 masters + 3 replicas on loopback. Both read
# IO_THREADS; start_redis sets redis_entry and redis_ports, start_warden
# sets warden_entry and warden_http.

# wait_check PORT: redis-cli --cluster check passes with 3 masters, 1 replica each.
wait_check() {
  for _ in $(seq 1 3000); do
    out=$(redis-cli --cluster check "127.0.0.1:$1" 2>/dev/null || true)
    if grep -q 'All 16384 slots covered' <<<"$out" && ! grep -q 'ERR\|WARNING' <<<"$out" &&
      [ "$(grep -c '1 slaves\.' <<<"$out")" = 3 ]; then return 0; fi
    sleep 0.05
  done
  echo "cluster on $1 never passed --cluster check:" >&2; echo "$out" >&2; exit 1
}

# Redis Cluster: 6 nodes, then --cluster create.
redis_entry=
start_redis() {
  local addrs=()
  for i in 1 2 3 4 5 6; do
    local p cp; free_port; p=$PORT; free_port; cp=$PORT; mkdir -p "$tmp/redis$i"
    redis-server --port "$p" --bind 127.0.0.1 --dir "$tmp/redis$i" --save '' --appendonly no \
      --cluster-enabled yes --cluster-port "$cp" --cluster-config-file nodes.conf --io-threads "$IO_THREADS" \
      --logfile "$tmp/redis$i/log" &
    pids+=($!)
    wait_ping "$p"
    addrs+=("127.0.0.1:$p")
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
  redis_entry=${addrs[0]#127.0.0.1:}
  redis_ports=("${addrs[@]#127.0.0.1:}")
  wait_check "$redis_entry"
}

# warden: 3 voters (--peers), 3 non-voters (--join), --shards 3.
warden_entry=
start_warden() {
  local -a rp gp hp dp
  for i in 1 2 3 4 5 6; do
    free_port; dp[$i]=$PORT; free_port; rp[$i]=$PORT; free_port; gp[$i]=$PORT; free_port; hp[$i]=$PORT
  done
  local peers="n1=127.0.0.1:${rp[1]},n2=127.0.0.1:${rp[2]},n3=127.0.0.1:${rp[3]}"
  for i in 1 2 3 4 5 6; do
    mkdir -p "$tmp/warden$i"
    local extra=(--peers "$peers")
    [ "$i" -gt 3 ] && extra=(--join "http://127.0.0.1:${hp[1]}" --voter no)
    "$WARDEN" server --port "${dp[$i]}" --bind 127.0.0.1 --dir "$tmp/warden$i" --save '' --appendonly no --io-threads "$IO_THREADS" \
      --loglevel "${WARDEN_LOGLEVEL:-warning}" --node-id "n$i" --raft-addr "127.0.0.1:${rp[$i]}" --gossip-addr "127.0.0.1:${gp[$i]}" \
      --http-addr "127.0.0.1:${hp[$i]}" --sentinel-port 0 --announce-host 127.0.0.1 --shards 3 \
      --cluster-enabled yes --repl-diskless-sync-delay 0 "${extra[@]}" 2>>"$tmp/warden$i/log" &
    pids+=($!)
    wait_ping "${dp[$i]}"
    # Non-voters join once the founders have a leader.
    [ "$i" = 3 ] && until redis-cli -p "${dp[1]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; do sleep 0.05; done
  done
  warden_entry=${dp[1]}
  warden_http=127.0.0.1:${hp[1]}
  wait_check "$warden_entry"
}
