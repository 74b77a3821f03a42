#!/usr/bin/env bash
# Rolling restart of a 3-node warden cluster (each node in turn: SIGTERM,
# exit, start again, wait until ready) while 4 clients write with SET +
# WAIT 1, finding the master through Sentinel. Prints the longest pause a
# client saw between two acknowledged writes and the acknowledged writes
# lost (bench/rollingrestart). Goal: none lost, no pause over 500 ms.
#
#   bash bench/rolling-restart.sh local     # three bin/warden processes on loopback
#   bash bench/rolling-restart.sh compose   # the compose cluster (make compose-up first)
#
# compose: deploy/docker-compose.yml's published ports (6381-6383,
# 26381-26383, 8081-8083, or the WARDEN_N*_ overrides); nodes are
# restarted with `$COMPOSE restart`, which sends SIGTERM. A cluster brought
# up under a project name (make compose-up uses -p warden) needs WARDEN_COMPOSE_PROJECT.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mode=${1:-local}

# _restart DIR NODE (internal): SIGTERM a local node, wait for its exit,
# start it again with the command line it was started with.
if [ "$mode" = _restart ]; then
  dir=$2/$3
  pid=$(cat "$dir/pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  # shellcheck disable=SC2046
  setsid "$WARDEN" $(cat "$dir/args") --save "" >>"$dir/warden.log" 2>&1 </dev/null &
  exit 0
fi

go build -o bin/rollingrestart ./bench/rollingrestart

case "$mode" in
local)
  [ -n "${WARDEN_BIN:-}" ] || make -s build
  tmp=$(mktemp -d)
  cleanup() {
    for n in n1 n2 n3; do [ -f "$tmp/$n/pid" ] && kill "$(cat "$tmp/$n/pid")" 2>/dev/null || true; done
    sleep 0.5
    if [ -n "${KEEP:-}" ]; then echo "logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
  }
  trap cleanup EXIT
  declare -A resp raft gossip http sent
  peers=""
  for n in n1 n2 n3; do
    free_port; resp[$n]=$PORT; free_port; raft[$n]=$PORT; free_port; gossip[$n]=$PORT; free_port; http[$n]=$PORT; free_port; sent[$n]=$PORT
    peers="$peers${peers:+,}$n=127.0.0.1:${raft[$n]}"
  done
  sentinels="" https=""
  for n in n1 n2 n3; do
    mkdir -p "$tmp/$n"
    echo "server --port ${resp[$n]} --bind 127.0.0.1 --dir $tmp/$n --appendonly no \
--logfile $tmp/$n/warden.log --pidfile $tmp/$n/pid --node-id $n --announce-host 127.0.0.1 \
--raft-addr 127.0.0.1:${raft[$n]} --gossip-addr 127.0.0.1:${gossip[$n]} --http-addr 127.0.0.1:${http[$n]} \
--sentinel-port ${sent[$n]} --peers $peers" >"$tmp/$n/args"
    # shellcheck disable=SC2046
    setsid "$WARDEN" $(cat "$tmp/$n/args") --save "" >>"$tmp/$n/warden.log" 2>&1 </dev/null &
    sentinels="$sentinels${sentinels:+,}127.0.0.1:${sent[$n]}"
    https="$https${https:+,}$n=127.0.0.1:${http[$n]}"
  done
  bin/rollingrestart -sentinels "$sentinels" -http "$https" -restart "WARDEN_BIN=$WARDEN bash $0 _restart $tmp {node}"
  ;;
compose)
  COMPOSE=${COMPOSE:-$(docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)}
  r1=${WARDEN_N1_RESP:-6381} r2=${WARDEN_N2_RESP:-6382} r3=${WARDEN_N3_RESP:-6383}
  s1=${WARDEN_N1_SENTINEL:-26381} s2=${WARDEN_N2_SENTINEL:-26382} s3=${WARDEN_N3_SENTINEL:-26383}
  h1=${WARDEN_N1_HTTP:-8081} h2=${WARDEN_N2_HTTP:-8082} h3=${WARDEN_N3_HTTP:-8083}
  # Sentinel names the nodes by their compose hostnames: dial the published ports.
  bin/rollingrestart -sentinels "127.0.0.1:$s1,127.0.0.1:$s2,127.0.0.1:$s3" \
    -http "n1=127.0.0.1:$h1,n2=127.0.0.1:$h2,n3=127.0.0.1:$h3" \
    -map "n1:6379=127.0.0.1:$r1,n2:6379=127.0.0.1:$r2,n3:6379=127.0.0.1:$r3" \
    -restart "WARDEN_CLUSTER_SECRET=\${WARDEN_CLUSTER_SECRET:-unused} $COMPOSE ${WARDEN_COMPOSE_PROJECT:+-p $WARDEN_COMPOSE_PROJECT} -f deploy/docker-compose.yml restart -t 30 {node}"
  ;;
*)
  echo "usage: bash bench/rolling-restart.sh local|compose" >&2
  exit 2
  ;;
esac
