# shellcheck shell=bash
# What the bench scripts share. Sourced from the repository root:
#
#   set -euo pipefail
#   cd "$(dirname "$0")/.."
#   . bench/lib.sh
#   bench_init
#
# Error messages name the script that sourced this file ($0).

me=${0##*/}
# The warden under test: WARDEN_BIN (another build to compare with) or bin/warden.
WARDEN=${WARDEN_BIN:-bin/warden}

# bench_init: redis-server, redis-benchmark and redis-cli are installed,
# bin/warden is built (unless WARDEN_BIN names another build), and $tmp is a
# fresh directory removed at exit, after the processes in pids are killed.
bench_init() {
  local tool
  for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || { echo "$me: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
  done
  [ -n "${WARDEN_BIN:-}" ] || [ -x bin/warden ] || make build >/dev/null
  tmp=$(mktemp -d)
  pids=()
  trap cleanup EXIT
}

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}

# Ports below the ephemeral range (32768 and up), where outgoing connections
# hold ports a probe cannot see.
next_port=$((20000 + ($$ % 10000)))

# free_port: the next port nothing listens on, in PORT. Not echoed: in a
# $(...) subshell next_port would not advance, and two servers not yet
# listening would get the same port.
free_port() {
  local p=$next_port
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  next_port=$((p + 1))
  PORT=$p
}

# wait_ping PORT: until the server there answers PING; after 60 s exit
# with the tail of the logs in $tmp.
wait_ping() {
  local f
  for _ in $(seq 1 6000); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.01
  done
  echo "$me: server on port $1 did not answer PING" >&2
  for f in "$tmp"/*.log "$tmp"/*/log; do [ -f "$f" ] && tail -n 5 "$f" >&2; done
  exit 1
}

# start_pair DIRECTIVE VALUE...: a redis-server and a warden on free ports,
# both with --save '' and the same directives, each with its own data dir
# ($tmp/redis, $tmp/warden) that survives stop_pair. Sets rport, wport,
# rpid, wpid.
start_pair() {
  mkdir -p "$tmp/redis" "$tmp/warden"
  free_port
  rport=$PORT
  redis-server --port "$rport" --bind 127.0.0.1 --save '' "$@" --dir "$tmp/redis" --logfile "$tmp/redis.log" &
  rpid=$!
  free_port
  wport=$PORT
  "$WARDEN" server --port "$wport" --bind 127.0.0.1 --save '' "$@" --dir "$tmp/warden" --loglevel warning 2>>"$tmp/warden.log" &
  wpid=$!
  pids+=("$rpid" "$wpid")
  wait_ping "$rport"
  wait_ping "$wport"
}

stop_pair() {
  kill "$rpid" "$wpid" 2>/dev/null || true
  wait "$rpid" "$wpid" 2>/dev/null || true
}

# median_round LABEL P WIDTH: reads "redis:warden" ops/s pairs, one round
# each, on stdin; prints the median round by ratio (LABEL left-aligned in
# WIDTH columns) and every round's ratio.
median_round() {
  tr ' ' '\n' | grep : | awk -F: -v L="$1" -v P="$2" -v W="$3" '
    { r[NR] = $1; w[NR] = $2; q[NR] = ($1 > 0 ? $2 / $1 : 0); s = s sprintf(" %.2f", q[NR]) }
    END {
      n = NR
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (q[j] < q[i]) { t = q[i]; q[i] = q[j]; q[j] = t; t = r[i]; r[i] = r[j]; r[j] = t; t = w[i]; w[i] = w[j]; w[j] = t }
      m = int((n + 1) / 2)
      printf "%-" W "s %4s %14.0f %14.0f %8.2f  %s\n", L, P, r[m], w[m], q[m], s
    }'
}
