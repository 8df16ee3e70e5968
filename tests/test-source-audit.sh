#!/bin/bash
# test-source-audit.sh - grep src/ for what memzone must never do (TAP).
#
# memzone runs as root from udev and from a daemon. It must not hand strings to a shell, must not use
# the unbounded string functions, and must reach every kernel/config file through mz_path() so that
# --root confines it to a fixture tree. Comments are stripped before matching (a comment may say
# "no system()"); string literals are kept (they are where "/bin/sh" or "/sys/..." would hide).
#
# Checked, one TAP point each:
#   system(  popen(  exec*() with "sh"/"-c"/"/bin/sh" among its arguments  "/bin/sh" anywhere
#   strcpy(  strcat(  sprintf( (snprintf is fine)  vsprintf(  gets(
#   a path literal starting with /sys /proc /etc /run /dev, or MZ_SYSCONFDIR, passed straight to a
#   file-access call: open openat open64 creat fopen freopen opendir scandir stat lstat fstatat access
#   faccessat readlink readlinkat realpath unlink unlinkat rename mkdir chmod chown truncate ini_parse
#   mz_read_file mz_read_line mz_write_string mz_write_file_atomic mz_mkdir_p udev_device_new_from_syspath
#   (a literal the call builds through mz_path() first is fine; a path held in a variable is not seen:
#   this is a grep, not a compiler). Allowed: /dev/kmsg, /dev/null and /run/systemd/journal/ (log.c's
#   sinks belong to the host, not to the tree; log.c only uses them when the root is the real one).
# Every check is first run on a planted bad sample, so a check that can no longer fail is noticed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SRC=$top_srcdir/src
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

if ! command -v perl >/dev/null; then
	echo "1..0 # SKIP perl is needed to strip comments"
	exit 0
fi

# Print "file:line: text" for every match of a Perl regex (applied to the whole file, comments blanked,
# newlines kept so line numbers are right). $1 = regex, rest = files.
audit() {
	perl -e '
		my $re = shift;
		for my $file (@ARGV) {
			open(my $fh, "<", $file) or die "$file: $!\n";
			local $/; my $code = <$fh>; close $fh;
			# Blank comments (keeping newlines); leave strings and char literals alone.
			$code =~ s{(/\*.*?\*/|//[^\n]*)|("(?:\\.|[^"\\])*"|'"'"'(?:\\.|[^'"'"'\\])*'"'"')}
				{ defined $1 ? ($1 =~ tr/\n//cdr) : $2 }gse;
			while ($code =~ /$re/g) {
				my $line = 1 + (substr($code, 0, $-[0]) =~ tr/\n//);
				my $text = substr($code, $-[0], $+[0] - $-[0]);
				$text =~ s/\s+/ /g;
				print "$file:$line: $text\n";
			}
		}' "$@"
}

FILE_CALLS='open|openat|open64|creat|fopen|freopen|opendir|scandir|stat|lstat|fstatat|access|faccessat|readlink|readlinkat|realpath|unlink|unlinkat|rename|mkdir|chmod|chown|truncate|ini_parse|mz_read_file|mz_read_line|mz_write_string|mz_write_file_atomic|mz_mkdir_p|udev_device_new_from_syspath'
# A path literal or MZ_SYSCONFDIR among the arguments of a file-access call (up to the end of the
# statement, stopping early at mz_path( so "mz_path(buf, n, "/proc/x") ... open(buf)" is fine).
ROOTED_PATH='"/(?:sys|proc|etc|run(?!/systemd/journal/)|dev/(?!kmsg"|null"))|\bMZ_SYSCONFDIR\b'
PATH_CALL="\\b(?:$FILE_CALLS)\\s*\\((?:(?!\\bmz_path\\s*\\()[^;{}])*?(?:$ROOTED_PATH)"

checks=(
	"no system()|\\bsystem\\s*\\("
	"no popen()|\\bpopen\\s*\\("
	"no exec*() of a shell|\\bexec(?:l|lp|le|v|vp|vpe|ve)\\s*\\([^;]*(?:\"(?:/bin/|/usr/bin/)?(?:ba|da|z|k)?sh\"|\"-c\")"
	"no \"/bin/sh\"|\"/(?:usr/)?bin/(?:ba|da)?sh\\b"
	"no strcpy()|\\bstrcpy\\s*\\("
	"no strcat()|\\bstrcat\\s*\\("
	"no sprintf() (snprintf is fine)|\\bsprintf\\s*\\("
	"no vsprintf()|\\bvsprintf\\s*\\("
	"no gets()|\\bgets\\s*\\("
	"no /sys /proc /etc /run path opened without mz_path()|$PATH_CALL"
)

# One planted offence per check, in the same order: proves each pattern still matches.
planted=(
	'int f(void) { return system("true"); }'
	'FILE *f(void) { return popen("ls", "r"); }'
	'void f(void) { execl("/bin/sh", "sh", "-c", "ls", (char *)0); }'
	'static const char *sh = "/bin/sh";'
	'void f(char *d, const char *s) { strcpy(d, s); }'
	'void f(char *d, const char *s) { strcat(d, s); }'
	'void f(char *d) { sprintf(d, "%d", 1); }'
	'void f(char *d, va_list ap) { vsprintf(d, "%d", ap); }'
	'void f(char *d) { gets(d); }'
	'int f(void) { return open(
		"/sys/devices/system/memory/block_size_bytes", O_RDONLY); }'
)
# And code that must not be flagged (comments, snprintf, fgets, a path built by mz_path).
clean='/* never system() or popen(), no strcpy(), no "/bin/sh" */
// sprintf( gets( execl("/bin/sh")
int f(char *d, size_t n) { snprintf(d, n, "%d", 1); vsnprintf(d, n, "x", ap); return fgets(d, 4, stdin) != 0; }
int g(char *p) { if (mz_path(p, 64, "/proc/zoneinfo") < 0) return -1; return open(p, O_RDONLY); }
int h(void) { return open("/dev/kmsg", O_WRONLY) + access("/run/systemd/journal/socket", W_OK); }
int k(char *p) { return mz_path(p, 64, "%s/memzone.conf", MZ_SYSCONFDIR) || mz_read_file(p, 0, 0); }'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$clean" >"$tmp/clean.c"

shopt -s nullglob
sources=("$SRC"/lib/*.c "$SRC"/lib/*.h "$SRC"/tools/*.c "$SRC"/tools/*.h)
if [ ${#sources[@]} -eq 0 ]; then
	echo "1..0 # SKIP no sources under $SRC"
	exit 0
fi
echo "# auditing ${#sources[@]} files under $SRC"

for i in "${!checks[@]}"; do
	name=${checks[$i]%%|*}
	re=${checks[$i]#*|}
	printf '%s\n' "${planted[$i]}" >"$tmp/planted.c"
	if [ -z "$(audit "$re" "$tmp/planted.c")" ]; then
		not_ok "$name: the check does not even catch a planted one"
		continue
	fi
	if false_hit=$(audit "$re" "$tmp/clean.c") && [ -n "$false_hit" ]; then
		not_ok "$name: the check flags harmless code: $false_hit"
		continue
	fi
	hits=$(audit "$re" "${sources[@]}" | sed "s|^$top_srcdir/||")
	if [ -z "$hits" ]; then
		ok "$name in src/"
	else
		not_ok "$name in src/"
		printf '%s\n' "$hits" | sed 's/^/#   /'
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
