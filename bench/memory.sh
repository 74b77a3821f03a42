#!/usr/bin/env bash
# Memory, warden and Debian's redis-server side by side: the same KEYS keys
# of one shape loaded through `redis-cli --pipe` into a fresh pair of
# servers, RSS read after the load settles (warden's GC has run), printed
# with warden÷Redis. Shapes: small strings (`SET key:N value:N`, as in
# issue 15), and hashes, sets (non-integer members), integer sets and sorted
# sets of MEMBERS small members each.
#
#   bash bench/memory.sh
#   KEYS=10000000 SHAPES=strings bash bench/memory.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/memory.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000000}
MEMBERS=${MEMBERS:-10}
SHAPES=${SHAPES:-"strings hashes sets intsets zsets"}
. bench/lib.sh
bench_init

# gen SHAPE: the commands that load KEYS keys of SHAPE, in RESP.
gen() {
  awk -v n="$KEYS" -v m="$MEMBERS" -v shape="$1" '
  function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
  BEGIN {
    for (i = 0; i < n; i++) {
      k = "key:" i
      if (shape == "strings") { printf "*3\r\n$3\r\nSET\r\n%s%s", bulk(k), bulk("value:" i); continue }
      cmd = shape == "hashes" ? "HSET" : (shape == "zsets" ? "ZADD" : "SADD")
      per = shape == "hashes" || shape == "zsets" ? 2 : 1
      printf "*%d\r\n%s%s", 2 + m * per, bulk(cmd), bulk(k)
      for (j = 0; j < m; j++) {
        if (shape == "hashes") printf "%s%s", bulk("field:" j), bulk("value:" i ":" j)
        else if (shape == "zsets") printf "%s%s", bulk(j * 1.5), bulk("member:" j)
        else if (shape == "intsets") printf "%s", bulk(i * 16 + j)
        else printf "%s", bulk("member:" j)
      }
    }
  }'
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "machine: $(nproc) cores; redis $(redis-server --version | awk '{print $3}'); $KEYS keys, $MEMBERS members per collection"
printf '%-8s %12s %12s %8s %10s %10s\n' shape redis_MB warden_MB ratio redis_enc warden_enc
for shape in $SHAPES; do
  start_pair --appendonly no
  gen "$shape" >"$tmp/load.resp"
  r0=$(rss_kb "$rpid")
  w0=$(rss_kb "$wpid")
  redis-cli -p "$rport" --pipe <"$tmp/load.resp" >/dev/null
  redis-cli -p "$wport" --pipe <"$tmp/load.resp" >/dev/null
  for p in "$rport" "$wport"; do
    n=$(redis-cli -p "$p" dbsize)
    [ "$n" = "$KEYS" ] || { echo "$me: port $p holds $n keys, want $KEYS" >&2; exit 1; }
  done
  sleep 2 # let warden's GC settle
  r1=$(rss_kb "$rpid")
  w1=$(rss_kb "$wpid")
  re=$(redis-cli -p "$rport" object encoding key:1)
  we=$(redis-cli -p "$wport" object encoding key:1)
  awk -v s="$shape" -v r0="$r0" -v r1="$r1" -v w0="$w0" -v w1="$w1" -v re="$re" -v we="$we" 'BEGIN {
    printf "%-8s %12.1f %12.1f %8.2f %10s %10s\n", s, r1/1024, w1/1024, w1/r1, re, we }'
  stop_pair
  rm -rf "$tmp/redis" "$tmp/warden"
done
