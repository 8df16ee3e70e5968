#!/bin/bash
# daemon-footprint.sh - what an idle memzoned costs: CPU per second and PSS at a 1 s interval on a
# large fixture tree (issue 5: <= 0.05% of one core and <= 2 MiB PSS on 131072 blocks).
#
#   bench/daemon-footprint.sh [--memzoned PATH] [--blocks N] [--nodes K] [--seconds S] [--workdir DIR]
#                             [--json FILE]
#
# Builds the tree with tests/fixtures/mktree.py (boot memory plus a 64-block DIMM online Movable on
# the last node; ~1.2M files for 131072 blocks, ~3 GiB in tmpfs: the default workdir is /dev/shm),
# starts memzoned on it (--root, default policy, interval 1s, no udev), lets it settle for 15 s (its
# trend history fills, the first scan for a block to give back finds none), then measures over S
# seconds (default 120): CPU from /proc/PID/schedstat (ns on CPU, user + system), PSS and RSS from
# /proc/PID/smaps_rollup, and the number of ticks from state-file rewrites. Exit 1 when a target is
# missed. The state file is rewritten each tick on the tree's tmpfs, as /run/memzone is on a host.
# Never touches this machine's /sys.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
MEMZONED=${MEMZONED:-$TOP/memzoned}
BLOCKS=131072 NODES=1 SECONDS_RUN=120 WORKDIR=/dev/shm JSON=''
CPU_TARGET=0.05 PSS_TARGET_KIB=2048
die() { echo "daemon-footprint: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--memzoned) MEMZONED=$2; shift 2 ;;
	--blocks) BLOCKS=$2; shift 2 ;;
	--nodes) NODES=$2; shift 2 ;;
	--seconds) SECONDS_RUN=$2; shift 2 ;;
	--workdir) WORKDIR=$2; shift 2 ;;
	--json) JSON=$2; shift 2 ;;
	*) die "usage: $0 [--memzoned PATH] [--blocks N] [--nodes K] [--seconds S] [--workdir DIR] [--json FILE]" ;;
	esac
done
[ -x "$MEMZONED" ] || die "no memzoned at $MEMZONED (--memzoned PATH)"
W=$(mktemp -d "$WORKDIR/memzoned-footprint.XXXXXX") || die "cannot create a directory in $WORKDIR"
DPID=''
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

T=$W/tree
echo "daemon-footprint: building a $BLOCKS-block tree with $NODES node(s) in $T" >&2
python3 "$TOP/tests/fixtures/mktree.py" "$T" --blocks "$BLOCKS" --nodes "$NODES" \
	--hotplug "dimm:64@$((NODES - 1))=movable" >/dev/null || die "mktree.py failed"
mkdir -p "$T/etc"
printf '[rebalance]\ninterval = 1s\n' >"$T/etc/memzone.conf"

"$MEMZONED" --root "$T" --config "$T/etc/memzone.conf" --allow-insecure-config --log stderr -q 2>"$W/err" &
DPID=$!
sleep 15
kill -0 "$DPID" 2>/dev/null || die "memzoned exited: $(tail -n 3 "$W/err")"

cpu_ns() { awk '{print $1}' "/proc/$DPID/schedstat"; }
state_mtime() { stat -c %Y "$T/run/memzone/state" 2>/dev/null || echo 0; }
ticks=0 last=$(state_mtime)
c0=$(cpu_ns) t0=$(date +%s%N)
end=$(( $(date +%s) + SECONDS_RUN ))
while [ "$(date +%s)" -lt "$end" ]; do   # count state rewrites (1 s resolution of mtime: one per second)
	sleep 0.25
	m=$(state_mtime)
	[ "$m" != "$last" ] && { ticks=$((ticks + 1)); last=$m; }
done
c1=$(cpu_ns) t1=$(date +%s%N)
pss=$(awk '/^Pss:/{print $2}' "/proc/$DPID/smaps_rollup")
rss=$(awk '/^Rss:/{print $2}' "/proc/$DPID/smaps_rollup")
pss_anon=$(awk '/^Pss_Anon:/{print $2}' "/proc/$DPID/smaps_rollup")
kill "$DPID"
wait "$DPID"
DPID=''

cpu_pct=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN{printf "%.4f", 100 * c / t}')
per_s_us=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", c / (t / 1e9) / 1000}')
ok_cpu=$(awk -v p="$cpu_pct" -v t="$CPU_TARGET" 'BEGIN{print (p <= t) ? "yes" : "no"}')
ok_pss=$([ "${pss:-999999}" -le "$PSS_TARGET_KIB" ] && echo yes || echo no)
printf 'memzoned idle on %s blocks, %s node(s), interval 1s, %ss measured:\n' "$BLOCKS" "$NODES" "$SECONDS_RUN"
printf '  CPU  %s%% of one core (%s us of CPU per second; state file rewritten in %s of the seconds)   target <= %s%%: %s\n' \
	"$cpu_pct" "$per_s_us" "$ticks" "$CPU_TARGET" "$ok_cpu"
printf '  PSS  %s KiB (anonymous %s KiB), RSS %s KiB               target <= %s KiB: %s\n' \
	"$pss" "${pss_anon:-?}" "$rss" "$PSS_TARGET_KIB" "$ok_pss"
if [ -n "$JSON" ]; then
	printf '{"blocks": %s, "nodes": %s, "seconds": %s, "ticks": %s, "cpu_percent": %s, "cpu_us_per_second": %s, "pss_kib": %s, "pss_anon_kib": %s, "rss_kib": %s}\n' \
		"$BLOCKS" "$NODES" "$SECONDS_RUN" "$ticks" "$cpu_pct" "$per_s_us" "$pss" "${pss_anon:-null}" "$rss" >"$JSON"
fi
[ "$ok_cpu" = yes ] && [ "$ok_pss" = yes ]
