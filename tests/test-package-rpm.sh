#!/bin/bash
# test-package-rpm.sh - memzone.spec builds a binary RPM from the release tarball ("make dist"
# layout) with whatever rpmbuild is installed (Debian's, without Fedora's macros, in CI), the RPM
# holds every file where the spec's macros put it, the scriptlets do what the spec promises, and the
# 40-redhat.rules trigger creates, refreshes and removes only its own file.
#
# Environment: MEMZONE_SKIP_PACKAGE_TESTS=1 (set by package builds: skip).
set -u
# shellcheck source=tests/packaging-lib.sh disable=SC2154 # top_srcdir, MEMZONE...: from make check
. "$top_srcdir/tests/packaging-lib.sh"

[ "${MEMZONE_SKIP_PACKAGE_TESTS:-0}" = 1 ] && skip_all "MEMZONE_SKIP_PACKAGE_TESTS=1 (inside a package build)"
command -v rpmbuild >/dev/null || skip_all "rpmbuild is not installed (apt-get install rpm)"

work=$(mktemp -d /tmp/memzone-rpm-test.XXXXXX)
cleanup_dir "$work"
version=$(package_version)

# --- build ---------------------------------------------------------------------------------------
if ! make_distdir "$work/memzone-$version" 2>"$work/distdir.log"; then
	fail "make distdir" "$(tail -20 "$work/distdir.log")"
	done_testing
	exit
fi
tar -C "$work" -cJf "$work/memzone-$version.tar.xz" "memzone-$version"
# --nodeps: this rpm database does not know the BuildRequires (Debian packages provide them);
# --nocheck: %check runs make check, which CI runs anyway. debug_package: Debian's rpm has no
# find-debuginfo, and debug info is not what is tested here.
t0=$SECONDS
if rpmbuild -bb --nodeps --nocheck \
	--define "_topdir $work/rpmbuild" --define "_sourcedir $work" --define "debug_package %{nil}" \
	"$work/memzone-$version/memzone.spec" >"$work/rpmbuild.log" 2>&1; then
	pass "rpmbuild -bb memzone.spec ($((SECONDS - t0))s)"
else
	fail "rpmbuild -bb memzone.spec" "$(tail -30 "$work/rpmbuild.log")"
	done_testing
	exit
fi
rpm=$(find "$work/rpmbuild/RPMS" -name "memzone-$version-*.rpm" 2>/dev/null | head -n 1)
[ -n "$rpm" ] || bail_out "rpmbuild made no memzone-$version-*.rpm"

# --- contents ------------------------------------------------------------------------------------
files=$(rpm -qpl "$rpm" 2>/dev/null)
for f in /usr/sbin/memzone /usr/sbin/memzoned /usr/lib/udev/rules.d/60-memzone.rules \
	/usr/lib/systemd/system/memzoned.service /usr/lib/systemd/system/memzone-init.service \
	/usr/lib/tmpfiles.d/memzone.conf /etc/memzone.conf /usr/share/man/man5/memzone.conf.5 \
	/usr/share/man/man8/memzone.8 /usr/share/man/man8/memzoned.8 \
	/usr/share/bash-completion/completions/memzone /usr/share/bash-completion/completions/memzoned \
	/usr/share/memzone/udev-masks/40-redhat.rules.sed /run/memzone; do
	# rpm may compress man pages (brp-compress): accept NAME and NAME.gz etc.
	if grep -qE "^${f//./\\.}(\.(gz|bz2|xz|zst))?\$" <<<"$files"; then pass "rpm contains $f"; else fail "rpm contains $f"; fi
done
conf=$(rpm -qpc "$rpm" 2>/dev/null)
if [ "$conf" = /etc/memzone.conf ]; then pass "/etc/memzone.conf is the only %config file"; else fail "/etc/memzone.conf is the only %config file" "rpm -qpc: $conf"; fi
if rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null | grep -q '^cn /etc/memzone.conf$'; then
	pass "/etc/memzone.conf is %config(noreplace)"
else
	fail "/etc/memzone.conf is %config(noreplace)" "$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" | grep memzone.conf)"
fi

scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
post=$(sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' <<<"$scripts")
postun=$(sed -n '/^postuninstall scriptlet/,$p' <<<"$scripts")
expect_in() { if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "no /$2/ in:" "$3"; fi; }
expect_in "%post enables both units (systemctl preset or systemd-update-helper)" 'preset.*memzoned\.service memzone-init\.service|install-system-units.*memzoned\.service memzone-init\.service' "$post"
expect_in "%post creates /run/memzone (systemd-tmpfiles)" 'systemd-tmpfiles --create.*memzone\.conf' "$post"
expect_in "%post reloads the udev rules" 'udevadm control --reload' "$post"
expect_in "%postun restarts memzoned after an upgrade" 'try-restart.*memzoned\.service' "$postun"
if grep -qE 'restart.*memzone-init' <<<"$postun"; then fail "%postun does not run memzone-init again on upgrade" "$postun"; else pass "%postun does not run memzone-init again on upgrade"; fi

# --- the 40-redhat.rules trigger, run against a scratch root -------------------------------------
trigger=$(rpm -qp --triggerscripts "$rpm" 2>/dev/null | sed -n '/^triggerin scriptlet.*-- systemd-udev/,/^[a-z]* scriptlet/p' | sed '1d; /^[a-z]* scriptlet/d')
if [ -n "$trigger" ]; then pass "the rpm has a triggerin on systemd-udev"; else fail "the rpm has a triggerin on systemd-udev" "$(rpm -qp --triggers "$rpm" 2>&1)"; fi
mkdir -p "$work/payload" "$work/sys/usr/lib/udev/rules.d" "$work/sys/etc/udev/rules.d"
(cd "$work/payload" && rpm2cpio "$rpm" | cpio -idm --quiet 2>/dev/null)
# The scriptlet with its absolute paths moved under the scratch root; udevadm becomes "true": the
# host's udev is none of this test's business.
run_trigger()
{
	sed -e "s|/etc/udev/rules.d|$work/sys/etc/udev/rules.d|g" \
	    -e "s|/usr/lib/udev/rules.d|$work/sys/usr/lib/udev/rules.d|g" \
	    -e "s|/usr/share/memzone|$work/payload/usr/share/memzone|g" \
	    -e "s|udevadm control|true|g" <<<"$trigger" >"$work/trigger.sh"
	sh -e "$work/trigger.sh" 1 1 </dev/null
}
src=$work/sys/usr/lib/udev/rules.d/40-redhat.rules
dst=$work/sys/etc/udev/rules.d/40-redhat.rules
printf '%s\n' '# CPU hotadd request' 'SUBSYSTEM=="cpu", ACTION=="add", ATTR{online}="1"' \
	'SUBSYSTEM!="memory", GOTO="memory_hotplug_end"' 'ATTR{state}=="offline", ATTR{state}="online"' \
	'LABEL="memory_hotplug_end"' 'SUBSYSTEM=="scsi", RUN+="/sbin/modprobe -bv sg"' >"$src"
if run_trigger && head -n 1 "$dst" 2>/dev/null | grep -q '^# Generated by memzone' && ! grep -q 'memory' <(grep -v '^#' "$dst") && grep -q 'modprobe -bv sg' "$dst"; then
	pass "trigger: a 40-redhat.rules with a memory section gets a copy without it in /etc"
else
	fail "trigger: a 40-redhat.rules with a memory section gets a copy without it in /etc" "$(cat "$dst" 2>&1)"
fi
sed -i 's/modprobe -bv sg/modprobe -b sg/' "$src"
if run_trigger && grep -q 'modprobe -b sg' "$dst"; then pass "trigger: an updated 40-redhat.rules refreshes the copy"; else fail "trigger: an updated 40-redhat.rules refreshes the copy" "$(cat "$dst" 2>&1)"; fi
grep -v 'memory\|ATTR{state}' "$src" >"$src.new" && mv "$src.new" "$src"
if run_trigger && [ ! -e "$dst" ]; then pass "trigger: a 40-redhat.rules without memory section removes the copy"; else fail "trigger: a 40-redhat.rules without memory section removes the copy" "$(ls -l "$dst" 2>&1)"; fi
printf '%s\n' '# my own rules' 'SUBSYSTEM!="memory", GOTO="memory_hotplug_end"' 'LABEL="memory_hotplug_end"' >"$src"
echo '# the admin wrote this' >"$dst"
if run_trigger && [ "$(cat "$dst")" = '# the admin wrote this' ]; then pass "trigger: an admin's own /etc/udev/rules.d/40-redhat.rules is left alone"; else fail "trigger: an admin's own /etc/udev/rules.d/40-redhat.rules is left alone" "$(cat "$dst" 2>&1)"; fi

done_testing
