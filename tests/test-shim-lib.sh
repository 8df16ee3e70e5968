# test-shim-lib.sh - sourced by the memzoned tests that run on fixture trees under the preloaded
# shims (test-memzoned.sh, test-crash-recovery.sh): the paths of mktree.py, faults.so and kmodel.so,
# the ASan preload setting, and the TAP helpers ok/check/diag (the caller prints the plan from
# $tap_n and fails on $tap_failed). Skips without python3; bails out when a shim is not built.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # the variables are the caller's; top_srcdir/top_builddir come from make check
MKTREE="$top_srcdir/tests/fixtures/mktree.py"
FAULTS="$top_builddir/tests/shim/faults.so"
KMODEL="$top_builddir/tests/shim/kmodel.so"
# the shims are built without sanitizers; an ASan binary must accept preloads listed before it
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

tap_n=0 tap_failed=0
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}
check() { local d=$1; shift; if "$@"; then ok 0 "$d"; else ok 1 "$d"; fi; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not available"; exit 0; }
for f in "$FAULTS" "$KMODEL"; do [ -f "$f" ] || { echo "Bail out! $f not built"; exit 1; }; done
