# packaging-lib.sh - TAP output and source-tree helpers shared by the packaging tests (sourced, bash).
#
# The tests print one "ok N - ..." / "not ok N - ..." line per check and the plan at the end;
# automake's tap-driver counts every point.

: "${top_srcdir:?run from make check (top_srcdir unset)}"
: "${top_builddir:?run from make check (top_builddir unset)}"

tap_n=0
tap_failed=0

# pass DESCRIPTION / fail DESCRIPTION [DIAG...]
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail()
{
	local d=$1
	shift
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $d"
	local line
	for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
# check DESCRIPTION COMMAND...: pass when COMMAND succeeds; its output goes to the log on failure.
check()
{
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then pass "$d"; else fail "$d" "command: $*" "$out"; fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP ${2:-}"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# The whole script cannot run here: TAP "1..0 # SKIP" and exit 0.
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
bail_out() { echo "Bail out! $1"; exit 99; }
done_testing()
{
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# Difference of two lists (one item a line, order and blank lines ignored): "- item" only in the
# first, "+ item" only in the second; empty when they are equal.
set_diff()
{
	local a b
	a=$(sed '/^$/d' <<<"$1" | sort -u)
	b=$(sed '/^$/d' <<<"$2" | sort -u)
	comm -23 <(echo "$a") <(echo "$b") | sed '/^$/d; s/^/- /'
	comm -13 <(echo "$a") <(echo "$b") | sed '/^$/d; s/^/+ /'
}

# The package version from configure.ac's AC_INIT (what "make dist" names the tarball after).
package_version() { sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac"; }

# make_distdir DIR: the release tree ("make distdir"), as the distribution packages start from it,
# without touching the build tree's own memzone-VERSION/ (other tests may run "make dist").
make_distdir()
{
	local dir=$1
	rm -rf "$dir"
	make -s -C "$top_builddir" distdir distdir="$dir" top_distdir="$dir" am__remove_distdir=: >/dev/null
}

# Remove DIR at exit even when the test fails half-way; several calls accumulate.
cleanup_dirs=()
cleanup_cmds=()
_packaging_cleanup()
{
	local c
	for c in "${cleanup_cmds[@]}"; do eval "$c" || true; done
	# --one-file-system: never into a /proc a failed umount left mounted
	[ ${#cleanup_dirs[@]} -eq 0 ] || rm -rf --one-file-system "${cleanup_dirs[@]}"
}
trap _packaging_cleanup EXIT
cleanup_dir() { cleanup_dirs+=("$1"); }
cleanup_cmd() { cleanup_cmds=("$1" "${cleanup_cmds[@]}"); }

# hardening_wanted : the ELF hardening features that the dpkg-buildflags output on stdin turns on
# (pie is gcc's default on Debian; cf-protection only where dpkg adds -fcf-protection, dpkg >= 1.22)
hardening_wanted() {
	local flags
	flags=$(cat)
	printf 'pie'
	case $flags in *-fstack-protector*) printf ' stackprotector' ;; esac
	case $flags in *-D_FORTIFY_SOURCE*) printf ' fortify' ;; esac
	case $flags in *-z,relro*) printf ' relro' ;; esac
	case $flags in *-z,now*) printf ' bindnow' ;; esac
	case $flags in *-fcf-protection*) printf ' cf-protection' ;; esac
	echo
}
# hardening_missing BINARY "FEATURE..." : the features of the list the ELF binary lacks, as read by
# readelf (type DYN, a GNU_RELRO segment, BIND_NOW, __stack_chk_fail and *_chk imports, IBT+SHSTK)
hardening_missing() {
	local f=$1 feat h d s n missing=''
	h=$(readelf -h -W "$f" 2>&1) d=$(readelf -d -W "$f" 2>&1) s=$(readelf --dyn-syms -W "$f" 2>&1)
	n=$(readelf -n -W "$f" 2>&1)
	for feat in $2; do
		case $feat in
		pie) grep -q 'Type:[[:space:]]*DYN' <<<"$h" ;;
		relro) readelf -l -W "$f" 2>&1 | grep -q GNU_RELRO ;;
		bindnow) grep -q -E 'BIND_NOW|FLAGS_1.*NOW' <<<"$d" ;;
		stackprotector) grep -q '__stack_chk_fail' <<<"$s" ;;
		fortify) grep -q -E '__[a-z0-9_]+_chk' <<<"$s" ;;
		cf-protection) grep -q IBT <<<"$n" && grep -q SHSTK <<<"$n" ;;
		esac || missing="$missing${missing:+ }$feat"
	done
	echo "$missing"
}
