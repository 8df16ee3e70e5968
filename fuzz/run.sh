#!/bin/bash
# run.sh - build memzone's libFuzzer targets and run each for a while; fail on any crash, leak or UB.
#
#   fuzz/run.sh [--seconds N] [--out DIR] [--builddir DIR] [--build-only] [TARGET...]
#               [--cflags FLAGS... [--libs FLAGS...]]
#
# `make fuzz` calls it with the configure results (--cflags/--libs); CI can call it directly from a
# configured build dir (build-config.h is taken from --builddir, default the current directory, and the
# libraries from pkg-config). TARGETs default to every fuzz/fuzz-*.c. FUZZ_SECONDS (default 30) is
# the run time per target, FUZZ_CC (default clang) the compiler.
#
# Outputs under --out (default BUILDDIR/fuzz/out): bin/fuzz-TARGET, corpus/TARGET (inputs the fuzzer
# found, kept between runs), artifacts/TARGET (crash-*, leak-*, timeout-* inputs), logs/TARGET.log.
# A crash input belongs in fuzz/crashers/TARGET/ (named open-* until the parser is fixed), where
# `make check` replays it forever.
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$PWD
out=
seconds=${FUZZ_SECONDS:-30}
cc=${FUZZ_CC:-clang}
build_only=0
targets=()
cflags=()
libs=()
have_flags=0

die() { echo "fuzz/run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--builddir) builddir=${2:?}; shift 2 ;;
	--build-only) build_only=1; shift ;;
	--cflags)
		have_flags=1; shift
		while [ $# -gt 0 ] && [ "$1" != --libs ]; do cflags+=("$1"); shift; done ;;
	--libs)
		shift
		while [ $# -gt 0 ]; do libs+=("$1"); shift; done ;;
	-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1'" ;;
	*) targets+=("$1"); shift ;;
	esac
done
case $seconds in ''|*[!0-9]*) die "--seconds / FUZZ_SECONDS: '$seconds' is not a number of seconds" ;; esac
[ -n "$out" ] || out=$builddir/fuzz/out
[ -f "$builddir/build-config.h" ] ||
	die "$builddir/build-config.h: not found (run from a configured build dir or pass --builddir)"
command -v "$cc" >/dev/null || die "$cc: not found (FUZZ_CC; libFuzzer needs clang and libclang-rt-dev)"
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$srcdir"/fuzz/fuzz-*.c; do
		t=${f##*/fuzz-}
		targets+=("${t%.c}")
	done
fi
if [ "$have_flags" = 0 ]; then
	cflags=(-I"$srcdir/src/lib" -include "$builddir/build-config.h" -DMZ_SYSCONFDIR='"/etc"' -DMZ_SBINDIR='"/usr/sbin"'
		$(pkg-config --cflags libudev libsystemd inih))
	libs=($(pkg-config --libs libudev libsystemd inih) -lm -lpthread -lrt)
fi

# The library pieces the parsers need, compiled from source with the fuzzer's instrumentation: the
# -Werror libmemzone.a of the normal build has neither coverage nor sanitizers.
lib_sources=(util units log json zone textscan zoneinfo iomem procstat memblock config intent daemon_state lock udevdb daxctl)
# The module each target exercises.
declare -A parser_of=([zoneinfo]=zoneinfo [iomem]=iomem [procstat]=procstat [valid-zones]=memblock [config]=config
	[intent]=intent [state]=daemon_state [daxconf]=daxctl)

san=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
mkdir -p "$out"/obj "$out"/bin "$out"/logs || exit 2

objs=()
for m in "${lib_sources[@]}"; do
	[ -f "$srcdir/src/lib/$m.c" ] || die "src/lib/$m.c is missing (a library source the parsers need)"
	"$cc" "${san[@]}" -fsanitize=fuzzer-no-link "${cflags[@]}" -c "$srcdir/src/lib/$m.c" -o "$out/obj/$m.o" ||
		die "compiling src/lib/$m.c failed"
	objs+=("$out/obj/$m.o")
done
rm -f "$out/libmz-fuzz.a"
ar rcs "$out/libmz-fuzz.a" "${objs[@]}" || die "ar failed"

rc=0
declare -A result execs
for t in "${targets[@]}"; do
	src=$srcdir/fuzz/fuzz-$t.c
	[ -f "$src" ] || die "no fuzz target '$t' ($src)"
	p=${parser_of[$t]:-}
	[ -z "$p" ] || [ -f "$srcdir/src/lib/$p.c" ] || die "fuzz target '$t': src/lib/$p.c is missing"
	if ! "$cc" "${san[@]}" -fsanitize=fuzzer "${cflags[@]}" -I"$srcdir/fuzz" "$src" "$out/libmz-fuzz.a" \
		"${libs[@]}" -o "$out/bin/fuzz-$t"; then
		result[$t]="FAIL (build)"
		rc=1
		continue
	fi
	result[$t]=built
done
[ "$build_only" = 1 ] && seconds=0

for t in "${targets[@]}"; do
	[ "${result[$t]}" = built ] || continue
	if [ "$seconds" = 0 ]; then
		result[$t]="built: $out/bin/fuzz-$t"
		continue
	fi
	log=$out/logs/$t.log
	work=$out/corpus/$t
	art=$out/artifacts/$t
	mkdir -p "$work" "$art"
	corpora=("$work" "$srcdir/fuzz/corpus/$t")
	[ -d "$srcdir/fuzz/crashers/$t" ] && corpora+=("$srcdir/fuzz/crashers/$t")
	dict=()
	[ -f "$srcdir/fuzz/dict/$t.dict" ] && dict=(-dict="$srcdir/fuzz/dict/$t.dict")
	echo "fuzz: $t for ${seconds}s (log: $log)"
	# New inputs go to the first corpus dir (the build tree), never into the source tree.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$out/bin/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "${dict[@]}" "${corpora[@]}" >"$log" 2>&1
	status=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	[ -n "$n" ] || n=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -1)
	execs[$t]=${n:-0}
	if [ $status -eq 0 ] && ! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		result[$t]=ok
		continue
	fi
	rc=1
	found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	result[$t]="FAIL (exit $status)${found:+ input: $found}"
	echo "---- $t: end of $log"
	grep -E -m1 -A40 'ERROR: |runtime error:|invariant .* broken' "$log" || tail -40 "$log"
	if [ -n "$found" ]; then
		echo "---- record it: cp '$found' '$srcdir/fuzz/crashers/$t/open-${found##*/}'"
		echo "---- replay it:  tests/fuzz-replay-$t '$found'   (or: $out/bin/fuzz-$t '$found')"
	fi
done

echo
echo "fuzz summary (${seconds}s per target):"
for t in "${targets[@]}"; do
	printf '  %-12s %12s execs  %s\n' "$t" "${execs[$t]:--}" "${result[$t]}"
done
exit $rc
