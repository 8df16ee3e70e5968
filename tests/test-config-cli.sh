#!/bin/sh
# test-config-cli.sh - `memzone check-config` on fixture trees: exit codes, messages, text and JSON output
set -u
: "${MEMZONE:?MEMZONE must name the built memzone binary}" "${top_srcdir:?}"
CONF=$top_srcdir/tests/config

n=0
ok() { # ok STATUS DESCRIPTION: one TAP test point
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
diag() { sed 's/^/# /' "$@"; }
run() { # run ARGS...: check-config with output in $T/out, $T/err and the exit code in $rc
	"$MEMZONE" check-config "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
has() { grep -qF -- "$2" "$1"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mz-config-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
TREE=$T/root
# where the default config lives inside a --root tree: the configured sysconfdir, as --help says
sysconf=$("$MEMZONE" check-config --help | sed -n 's|^Default files: \(/.*\)/memzone\.conf, .*|\1|p')
ok "$([ -n "$sysconf" ]; echo $?)" "--help names the default files ($sysconf/memzone.conf)"
ETC=$TREE$sysconf
mkdir -p "$ETC/memzone.conf.d"
R="--root $TREE --allow-insecure-config"

# --help lists every option
run --help
missing=
for opt in --json --root --config --log --allow-insecure-config -v, --verbose -q, --quiet -h, --help -V, --version; do
	has "$T/out" "$opt" || missing="$missing $opt"
done
ok "$([ $rc -eq 0 ] && [ -z "$missing" ]; echo $?)" "--help exits 0 and lists every option${missing:+ (missing:$missing)}"

# an empty tree: the built-in defaults
run $R
ok "$([ $rc -eq 0 ] && has "$T/out" "# files read: none (built-in defaults)" && has "$T/out" "ratio = 301" &&
	[ ! -s "$T/err" ]; echo $?)" "no config files: exit 0, the defaults"

# every key set: the dump is exactly the expected file; --config FILE is used as given, not under --root
cp "$CONF/every-key.conf" "$TREE/every-key.conf"
run $R --config "$TREE/every-key.conf"
sed "s|@SRCDIR@/tests/config|$TREE|" "$CONF/every-key.expected" >"$T/expected"
ok "$([ $rc -eq 0 ] && cmp -s "$T/out" "$T/expected"; echo $?)" "every key: the effective policy as expected"
[ $rc -eq 0 ] && cmp -s "$T/out" "$T/expected" || { diff "$T/expected" "$T/out" | diag; diag "$T/err"; }

run $R --config "$TREE/every-key.conf" --json
ok "$([ $rc -eq 0 ] && has "$T/out" '"ratio": 250,' && has "$T/out" '"min_kernel": 1610612736,' &&
	has "$T/out" '"lock_timeout": 2500' && has "$T/out" "\"$TREE/every-key.conf\""; echo $?)" \
	"--json: sizes in bytes, durations in ms, the file read"

# the shipped file changes nothing
cp "$top_srcdir/conf/memzone.conf" "$ETC/memzone.conf"
run $R
rc_shipped=$rc
sed 1,4d "$T/out" >"$T/shipped"
rm "$ETC/memzone.conf"
run $R
sed 1,3d "$T/out" >"$T/defaults"
ok "$([ $rc_shipped -eq 0 ] && [ $rc -eq 0 ] && has "$T/defaults" "[rebalance]" && cmp -s "$T/shipped" "$T/defaults"
	echo $?)" "conf/memzone.conf as shipped gives the built-in defaults"

# a BOM and CRLF line endings
cp "$CONF/crlf-bom.conf" "$ETC/memzone.conf"
run $R
ok "$([ $rc -eq 0 ] && has "$T/out" "ratio = 150" && has "$T/out" "ratio_scope = system" &&
	has "$T/out" "metrics_file = /var/lib/memzone.prom"; echo $?)" "a file with a BOM and CRLF line endings"

# drop-ins: read in C-locale order after the main file, later wins, only *.conf
printf '[online]\nratio = 100\nratio_scope = node\n' >"$ETC/memzone.conf"
printf '[online]\nratio = 200\n' >"$ETC/memzone.conf.d/50-site.conf"
printf '[online]\nratio = 300\n' >"$ETC/memzone.conf.d/60-later.conf"
printf '[online]\nratio = 999\n' >"$ETC/memzone.conf.d/70-off.conf.disabled"
run $R
ok "$([ $rc -eq 0 ] && has "$T/out" "ratio = 300" && has "$T/out" "ratio_scope = node" &&
	[ "$(grep -c '^#   ' "$T/out")" -eq 3 ]; echo $?)" "drop-ins override the main file in order; others ignored"
rm "$ETC/memzone.conf.d/"*

# every mistake: exit 3, nothing on stdout, the messages (as many as fit) on stderr in order
cp "$CONF/mistakes.conf" "$ETC/memzone.conf"
run $R
sed "s|^mistakes.conf:|$ETC/memzone.conf:|" "$CONF/mistakes.expected" >"$T/want"
sed '1s/^memzone: error: //' "$T/err" | grep -v '^\.\.\. and ' >"$T/got"
shown=$(wc -l <"$T/got")
total=$(wc -l <"$T/want")
head -n "$shown" "$T/want" >"$T/want-shown"
more=$(sed -n 's/^\.\.\. and \([0-9]*\) more errors\{0,1\}$/\1/p' "$T/err")
ok "$([ $rc -eq 3 ] && [ ! -s "$T/out" ] && [ "$shown" -ge 3 ] && cmp -s "$T/got" "$T/want-shown" &&
	[ "$((shown + ${more:-0}))" -eq "$total" ]; echo $?)" \
	"mistakes.conf: exit 3, $shown messages with file and line, then how many more"
[ $rc -eq 3 ] && cmp -s "$T/got" "$T/want-shown" || { diag "$T/err"; }

run $R --json
ok "$([ $rc -eq 3 ] && [ ! -s "$T/out" ] && has "$T/err" "memzone.conf:3: key 'ratio'"; echo $?)" \
	"--json with a broken config: exit 3, errors on stderr"

run $R -q
ok "$([ $rc -eq 3 ] && has "$T/err" "memzone.conf:3: key 'ratio'"; echo $?)" "--quiet still shows the errors"

# insecure files are refused unless --allow-insecure-config (only accepted with --root)
printf '[online]\nratio = 100\n' >"$ETC/memzone.conf"
chmod 666 "$ETC/memzone.conf"
run --root "$TREE"
ok "$([ $rc -eq 3 ] && has "$T/err" "$ETC/memzone.conf: refusing insecure config file:" &&
	has "$T/err" "mode 0666 lets group and others write it"; echo $?)" "a world-writable config file: exit 3"
run $R
ok "$([ $rc -eq 0 ] && has "$T/out" "ratio = 100"; echo $?)" "accepted with --allow-insecure-config under --root"
chmod 644 "$ETC/memzone.conf"
if [ "$(id -u)" -eq 0 ]; then
	run --root "$TREE"
	ok "$([ $rc -eq 0 ]; echo $?)" "root-owned 0644 files need no --allow-insecure-config"
	chown 65534 "$ETC/memzone.conf"
	run --root "$TREE"
	ok "$([ $rc -eq 3 ] && has "$T/err" "owned by uid 65534, not root"; echo $?)" "a file owned by nobody: exit 3"
	chown 0 "$ETC/memzone.conf"
else
	echo "ok $((n + 1)) - root-owned files # SKIP not running as root"
	echo "ok $((n + 2)) - a file owned by nobody # SKIP not running as root"
	n=$((n + 2))
fi
run --allow-insecure-config
ok "$([ $rc -eq 2 ] && has "$T/err" "--allow-insecure-config is only accepted with --root"; echo $?)" \
	"--allow-insecure-config without --root: exit 2"

# files that cannot be read
run $R --config "$TREE/missing.conf"
ok "$([ $rc -eq 3 ] && has "$T/err" "$TREE/missing.conf: cannot open: No such file or directory"; echo $?)" \
	"--config FILE that does not exist: exit 3"
rm "$ETC/memzone.conf"
mkdir "$ETC/memzone.conf"
run $R
ok "$([ $rc -eq 3 ] && has "$T/err" "$ETC/memzone.conf: is a directory, not a config file"; echo $?)" \
	"the config file is a directory: exit 3"
rmdir "$ETC/memzone.conf"

# settings whose worst tick can outlast memzoned.service's WatchdogSec: a warning naming both values
# (memzoned clamps them for itself), exit 0, the configured values printed (the helper uses them)
wd=$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$top_builddir/systemd/memzoned.service")
printf '[online]\nlock_timeout = 60s\n[rebalance]\noffline_timeout = 1h\n' >"$ETC/memzone.conf"
run $R
ok "$([ "$wd" = 60 ] && [ $rc -eq 0 ] && has "$T/err" "lock_timeout = 1m = 3665s can outlast the watchdog (WatchdogSec of memzoned.service = 1m): using moves_per_tick = 1, offline_timeout = 39s, lock_timeout = 15s" &&
	has "$T/out" "offline_timeout = 1h"; echo $?)" "offline_timeout = 1h, lock_timeout = 60s against the unit's WatchdogSec=${wd}s: warned, exit 0"
printf '[rebalance]\nmoves_per_tick = 3\n' >"$ETC/memzone.conf"
run $R
ok "$([ $rc -eq 0 ] && ! has "$T/err" "outlast"; echo $?)" "3 moves per tick of 10s + 5s fit in ${wd}s: no warning"
rm "$ETC/memzone.conf"

# the command line
run $R --bogus
ok "$([ $rc -eq 2 ] && has "$T/err" "check-config --help"; echo $?)" "unknown option: exit 2"
run $R extra
ok "$([ $rc -eq 2 ] && has "$T/err" "unexpected argument 'extra'"; echo $?)" "an argument: exit 2"
run $R --log bogus
ok "$([ $rc -eq 2 ]; echo $?)" "bad --log: exit 2"
run --version
ok "$([ $rc -eq 0 ] && has "$T/out" "memzone "; echo $?)" "--version: exit 0"

echo "1..$n"
