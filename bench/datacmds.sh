#!/usr/bin/env bash
# The data families of issue 14 (HyperLogLog, geo, BITFIELD/BITOP, SORT,
# LCS) under redis-benchmark, warden and a real redis-server side by side on
# free loopback ports: ops/s of each and the ratio warden/redis.
#
#   bash bench/datacmds.sh                 # 100000 requests per command
#   REQUESTS=20000 PIPELINES="1" bash bench/datacmds.sh
#   WARDEN_BIN=/tmp/old/warden bash bench/datacmds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-"1 16"}
IO_THREADS=${IO_THREADS:-1}
. bench/lib.sh
bench_init
start_pair --appendonly no --io-threads "$IO_THREADS"

# The same fixture on both: a dense HLL, a geo set of 10000 points, a list
# of 100 numbers, two 300-byte strings.
fixture() {
  awk 'BEGIN {
    for (i = 0; i < 20000; i++) printf "PFADD dense e%d\n", i
    for (i = 0; i < 10000; i++) printf "GEOADD pts %.6f %.6f p%d\n", (i * 37 % 3600) / 10 - 180, (i * 53 % 1700) / 10 - 85, i
    for (i = 0; i < 100; i++) printf "RPUSH nums %d\n", (i * 7919) % 1000
    s = ""; t = ""
    for (i = 0; i < 300; i++) { s = s substr("acgt", i * 7 % 4 + 1, 1); t = t substr("acgt", i * 11 % 4 + 1, 1) }
    printf "SET s1 %s\nSET s2 %s\n", s, t
  }' | redis-cli -p "$1" >/dev/null
}
fixture "$rport"
fixture "$wport"

cmds=(
  "PFADD hll:__rand_int__ a b c"
  "PFADD big ele:__rand_int__"
  "PFCOUNT dense"
  "PFCOUNT dense big"
  "PFMERGE merged dense big"
  "GEOADD geo 13.361389 38.115556 m:__rand_int__"
  "GEOSEARCH pts FROMLONLAT 15 37 BYRADIUS 500 km ASC COUNT 10 WITHDIST"
  "GEODIST pts p1 p2 km"
  "GEOPOS pts p1 p2"
  "BITFIELD bf:__rand_int__ SET u8 0 200 INCRBY i5 100 1 GET u4 0"
  "BITOP XOR dst s1 s2"
  "SORT nums LIMIT 0 10"
  "LCS s1 s2 LEN"
)
bench() { # PORT PIPELINE CMD -> ops/s
  redis-benchmark -p "$1" -c "$CLIENTS" -n "$REQUESTS" -P "$2" -r 100000 --csv -q $3 2>/dev/null |
    awk -F'","' 'NR>1 && NF>1 { print $2; exit }'
}
echo "machine: $(nproc) cores; redis: $(redis-server --version | awk '{print $3}'); requests=$REQUESTS clients=$CLIENTS io-threads=$IO_THREADS"
printf '%-70s %3s %12s %12s %7s\n' command P redis_ops/s warden_ops/s ratio
for P in $PIPELINES; do
  for c in "${cmds[@]}"; do
    r=$(bench "$rport" "$P" "$c")
    w=$(bench "$wport" "$P" "$c")
    awk -v c="$c" -v P="$P" -v r="${r:-0}" -v w="${w:-0}" 'BEGIN { printf "%-70s %3s %12.0f %12.0f %7.2f\n", c, P, r, w, (r > 0 ? w / r : 0) }'
  done
done
