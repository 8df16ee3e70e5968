#!/bin/sh
# print-fault-matrix.sh FILE... - the fault matrix on the console of `make check` (case -> outcome).
#
# Each fault test (tests/test-actuator, tests/test-fault-online.sh, tests/test-fault-readers.sh) writes
# tests/NAME.matrix in the build dir, replacing it at every run, one tab-separated row per case:
#   area, operation, fault, expected outcome, observed outcome, every block online before online after
#   (yes/no)[, why the row is a known problem (a TAP TODO point in its test)]
# The test itself fails on a row whose observed outcome is not the expected one or that left an online
# block offline; this only shows them. Files that do not exist (test not run or skipped) are left out.
# Exits 0: the verdict is the tests'.
set -u

rows=
for f in "$@"; do
	[ -f "$f" ] && rows="$rows $f"
done
[ -n "$rows" ] || exit 0

# shellcheck disable=SC2086 # one argument per file
awk -F '\t' '
	NF >= 6 {
		n++
		for (i = 1; i <= 7; i++) c[n, i] = $i
		for (i = 1; i <= 5; i++) if (length($i) > w[i]) w[i] = length($i)
	}
	END {
		if (!n) exit
		h[1] = "AREA"; h[2] = "OPERATION"; h[3] = "FAULT"; h[5] = "OUTCOME"; h[6] = "ONLINE KEPT"
		for (i = 1; i <= 5; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
		fmt = "%-" w[1] "s  %-" w[2] "s  %-" w[3] "s  %-" w[5] "s  %s\n"
		print ""
		print "==== fault matrix: case -> outcome (ONLINE KEPT: every block online before is online after)"
		printf fmt, h[1], h[2], h[3], h[5], h[6]
		for (r = 1; r <= n; r++) {
			printf fmt, c[r, 1], c[r, 2], c[r, 3], c[r, 5], c[r, 6]
			as_expected = c[r, 4] == c[r, 5] && c[r, 6] == "yes"
			if (!as_expected && c[r, 7] != "") {
				printf "    ^ KNOWN PROBLEM (TODO): %s; wanted: %s\n", c[r, 7], c[r, 4]
				todo++
			} else if (!as_expected) {
				printf "    ^ NOT AS EXPECTED: %s\n", c[r, 4]
				bad++
			} else if (c[r, 7] != "") {
				printf "    ^ a known problem no more: its TODO note in the test can go\n"
			}
			if (c[r, 6] != "yes") lost++
		}
		printf "==== %d cases: %d as expected, %d not, %d known problems; %d left an online block offline\n\n", n,
			n - bad - todo, bad, todo, lost
	}' $rows
exit 0
