#!/bin/bash
# test-package-chroot.sh - the Debian package, end to end, without touching this machine:
#   1. dpkg-buildpackage -us -uc -b in a copy of the release tree ("make distdir"); lintian: no errors;
#      the binaries have every hardening feature dpkg-buildflags gives debian/rules (readelf);
#   2. a fresh Debian 12 chroot (debootstrap --variant=minbase, cached as a tarball outside the tree);
#   3. apt-get install ./memzone_*.deb there, with a policy-rc.d that forbids starting services;
#      every file lands where udev and systemd of that system look for it, units enabled, the
#      tmpfiles entry applied, the man pages render, the programs run;
#   4. apt-get remove keeps the conffile, apt-get purge leaves no file behind.
# The chroot gets /proc (systemd-tmpfiles, systemd-analyze and man want it) and nothing of the
# host's /sys: nothing in it can write to /sys/devices/system/memory.
#
# Environment: MEMZONE_CHROOT_CACHE (default /var/cache/memzone-chroot), MEMZONE_DEBIAN_MIRROR
# (default: the bookworm mirror of /etc/apt/sources.list*), MEMZONE_DEB (use this .deb instead of
# building one), MEMZONE_SKIP_PACKAGE_TESTS=1 (set by package builds: skip).
set -u
# shellcheck source=tests/packaging-lib.sh disable=SC2154 # top_srcdir, MEMZONE...: from make check
. "$top_srcdir/tests/packaging-lib.sh"

[ "${MEMZONE_SKIP_PACKAGE_TESTS:-0}" = 1 ] && skip_all "MEMZONE_SKIP_PACKAGE_TESTS=1 (inside a package build)"
[ "$(id -u)" = 0 ] || bail_out "needs root (debootstrap, chroot, mount); CI runs as root"
for tool in debootstrap dpkg-buildpackage dh lintian chroot tar flock; do
	command -v "$tool" >/dev/null || bail_out "$tool is not installed (apt-get install debootstrap dpkg-dev debhelper lintian)"
done

suite=bookworm
cache=${MEMZONE_CHROOT_CACHE:-/var/cache/memzone-chroot}
tarball=$cache/$suite.tar
# Installed into the cached chroot once: what memzone's files are checked against (udev and systemd
# directories, man) and its dependencies, so that reruns need no network.
extras=(libinih1 man-db procps systemd udev)

work=$(mktemp -d /tmp/memzone-chroot-test.XXXXXX)
cleanup_dir "$work"
root=$work/root

# The bookworm mirror apt already uses (one-line and deb822 sources), else deb.debian.org.
debian_mirror()
{
	if [ -n "${MEMZONE_DEBIAN_MIRROR:-}" ]; then echo "$MEMZONE_DEBIAN_MIRROR"; return; fi
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v s="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; if ($(i + 1) == s) { print $i; exit } }')
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
		BEGIN { RS = ""; FS = "\n" }
		{ uri = ""; ok = 0; deb = 0
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[[:space:]]*/, "", uri); sub(/[[:space:]].*/, "", uri) }
			if ($i ~ /^Suites:/) { n = split(substr($i, 8), w, /[[:space:]]+/); for (j = 1; j <= n; j++) if (w[j] == s) ok = 1 }
			if ($i ~ /^Types:.*(^|[[:space:]])deb([[:space:]]|$)/) deb = 1
		  }
		  if (ok && deb && uri != "") { print uri; exit } }')
	echo "${m:-http://deb.debian.org/debian}"
}
mirror_reachable()
{
	local url=$1/dists/$suite/Release
	if command -v curl >/dev/null; then curl -fsS -o /dev/null --max-time 20 "$url"
	else wget -q -O /dev/null --timeout=20 "$url"; fi
}

# --- 1. the package ------------------------------------------------------------------------------
version=$(package_version)
if [ -n "${MEMZONE_DEB:-}" ]; then
	deb=$MEMZONE_DEB
	diag "using MEMZONE_DEB=$deb"
else
	t0=$SECONDS
	if ! make_distdir "$work/memzone-$version" 2>"$work/distdir.log"; then
		fail "make distdir" "$(tail -20 "$work/distdir.log")"
		done_testing
		exit
	fi
	# nocheck: make check of the package build would run these tests again; it is run by CI anyway.
	if (cd "$work/memzone-$version" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
		pass "dpkg-buildpackage -us -uc -b ($((SECONDS - t0))s)"
	else
		fail "dpkg-buildpackage -us -uc -b" "$(tail -30 "$work/build.log")"
		done_testing
		exit
	fi
	deb=$(find "$work" -maxdepth 1 -name "memzone_$version-*_*.deb" | head -n 1)
	[ -n "$deb" ] || bail_out "dpkg-buildpackage made no memzone_$version-*.deb"
	t0=$SECONDS
	lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then pass "lintian: no errors ($((SECONDS - t0))s)"; else fail "lintian: no errors" "$(cat "$work/lintian.log")"; fi
	grep -E '^[WIE]:' "$work/lintian.log" | sed 's/^/lintian: /' | while IFS= read -r l; do diag "$l"; done
	# the binaries carry what debian/rules asks for (hardening=+all): every feature dpkg-buildflags
	# turns on for this dpkg, read back from the ELF files (readelf only, nothing runs)
	dpkg-deb -x "$deb" "$work/x"
	want=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh | hardening_wanted)
	for bin in memzone memzoned; do
		missing=$(hardening_missing "$work/x/usr/sbin/$bin" "$want")
		if [ -z "$missing" ]; then pass "/usr/sbin/$bin has the distro's hardening ($want)"
		else fail "/usr/sbin/$bin has the distro's hardening ($want)" "missing: $missing"; fi
	done
fi

# --- 2. the chroot -------------------------------------------------------------------------------
mkdir -p "$cache"
(
	flock 9
	if [ -f "$tarball" ] && [ "$(cat "$tarball.extras" 2>/dev/null)" = "${extras[*]}" ]; then
		exit 0
	fi
	mirror=$(debian_mirror)
	mirror_reachable "$mirror" || exit 77
	t0=$SECONDS
	tmp=$(mktemp -d "$cache/build.XXXXXX") || exit 1
	trap 'umount -l "$tmp/root/proc" 2>/dev/null; rm -rf --one-file-system "$tmp"' EXIT
	# minbase starts no service; the extras (systemd, udev, procps) have init scripts and postinsts
	# that would act on the host's kernel through the /proc that debootstrap mounts. So they are
	# installed afterwards, with a policy-rc.d that forbids starting anything.
	if ! debootstrap --variant=minbase --include=libinih1 "$suite" "$tmp/root" "$mirror" >"$tmp/log" 2>&1; then
		tail -20 "$tmp/log" >&2
		exit 1
	fi
	printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/root/usr/sbin/policy-rc.d"
	mount -t proc proc "$tmp/root/proc" || exit 1
	if ! chroot "$tmp/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${extras[@]}" >"$tmp/log" 2>&1; then
		tail -20 "$tmp/log" >&2
		exit 1
	fi
	umount "$tmp/root/proc"
	rm -f "$tmp"/root/var/cache/apt/archives/*.deb "$tmp/root/usr/sbin/policy-rc.d"
	tar -C "$tmp/root" --numeric-owner -cf "$tarball.new" . && mv -f "$tarball.new" "$tarball" || exit 1
	echo "${extras[*]}" >"$tarball.extras"
	echo "debootstrap --variant=minbase $suite from $mirror, then ${extras[*]}: $((SECONDS - t0))s" >"$work/made"
) 9>"$cache/lock" 2>"$work/debootstrap.err"
rc=$?
if [ $rc -eq 77 ]; then
	[ "$tap_n" -eq 0 ] && skip_all "no cached chroot and the Debian mirror $(debian_mirror) does not answer"
	skip "Debian $suite chroot" "no cached chroot and the Debian mirror $(debian_mirror) does not answer"
	done_testing
	exit
elif [ $rc -ne 0 ]; then
	fail "debootstrap a Debian $suite chroot" "$(cat "$work/debootstrap.err")"
	done_testing
	exit
fi
pass "Debian $suite chroot ($(cat "$work/made" 2>/dev/null || echo "cached in $tarball"))"

mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball" || bail_out "cannot unpack $tarball"
# No service may start in the chroot (invoke-rc.d / deb-systemd-invoke ask policy-rc.d).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc" || bail_out "cannot mount proc in the chroot"
cleanup_cmd "umount -l '$root/proc'"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"; }

# Every file of the chroot, with type and target of symlinks, minus what apt/dpkg/man-db keep for
# themselves and what systemctl/systemd-analyze leave in /run/systemd when this test runs them;
# /run and /etc are in, so that purge must clean them too.
snapshot()
{
	(cd "$root" && find . -xdev \
		\( -path ./proc -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache \
		   -o -path ./var/log -o -path ./tmp -o -path ./usr/sbin/policy-rc.d -o -path ./run/systemd \) -prune -o \
		-printf '%y %p %l\n' | sort)
}
before=$(snapshot)

# --- 3. install ----------------------------------------------------------------------------------
cp "$deb" "$root/tmp/"
debname=${deb##*/}
t0=$SECONDS
if in_root apt-get install -y -q "/tmp/$debname" >"$work/install.log" 2>&1 ||
	{ in_root apt-get update -q >>"$work/install.log" 2>&1 && in_root apt-get install -y -q "/tmp/$debname" >>"$work/install.log" 2>&1; }; then
	pass "apt-get install ./$debname ($((SECONDS - t0))s)"
else
	fail "apt-get install ./$debname" "$(tail -30 "$work/install.log")"
	done_testing
	exit
fi
if grep -qi 'warning\|error' "$work/install.log"; then
	diag "install log:" "$(grep -i 'warning\|error' "$work/install.log")"
fi

files=$(in_root dpkg -L memzone)
# same_dir_as FILE REFERENCE: FILE (a path suffix) is installed, in the directory of REFERENCE, a
# file of udev or systemd itself: the place they read, whatever the split-/usr layout of this release.
same_dir_as()
{
	local file=$1 ref=$2 got
	got=$(grep -E "/${file//./\\.}\$" <<<"$files" | head -n 1)
	if [ -z "$got" ]; then fail "$file is installed" "dpkg -L memzone has no $file"; return; fi
	local refpath
	refpath=$(cd "$root" && for d in lib/udev/rules.d usr/lib/udev/rules.d lib/systemd/system usr/lib/systemd/system usr/lib/tmpfiles.d lib/tmpfiles.d; do [ -e "$d/$ref" ] && echo "/$d" && break; done)
	if [ -z "$refpath" ]; then fail "$file is where $ref is" "$ref not found in the chroot"; return; fi
	if [ "${got%/*}" = "$refpath" ] || [ "$(readlink -f "$root${got%/*}")" = "$(readlink -f "$root$refpath")" ]; then
		pass "$file is in $refpath, next to $ref"
	else
		fail "$file is in $refpath, next to $ref" "installed as $got"
	fi
}
same_dir_as 60-memzone.rules 50-udev-default.rules
same_dir_as memzoned.service systemd-udevd.service
same_dir_as memzone-init.service systemd-udevd.service
same_dir_as tmpfiles.d/memzone.conf tmp.conf
for f in /usr/sbin/memzone /usr/sbin/memzoned /usr/share/bash-completion/completions/memzone \
	/usr/share/bash-completion/completions/memzoned /usr/share/memzone/udev-masks/40-vm-hotadd.rules; do
	if grep -qxF "$f" <<<"$files"; then pass "$f is installed"; else fail "$f is installed"; fi
done
if in_root dpkg-query -W -f='${Conffiles}\n' memzone | grep -q '^ */etc/memzone.conf '; then pass "/etc/memzone.conf is a conffile"; else fail "/etc/memzone.conf is a conffile" "$(in_root dpkg-query -W -f='${Conffiles}' memzone)"; fi
if grep -q '^/etc/udev/rules.d/' <<<"$files"; then fail "no rule is activated in /etc/udev/rules.d" "$(grep '^/etc/udev' <<<"$files")"; else pass "no rule is activated in /etc/udev/rules.d"; fi

check "memzone --version runs in the chroot" in_root memzone --version
check "memzoned --help runs in the chroot" in_root memzoned --help
for unit in memzoned.service memzone-init.service; do
	state=$(in_root systemctl is-enabled "$unit" 2>&1)
	if [ "$state" = enabled ]; then pass "$unit is enabled"; else fail "$unit is enabled" "systemctl is-enabled: $state"; fi
done
# The postinst "start"s memzone-init on every configure, upgrades included (dh_installsystemd
# --no-stop-on-upgrade): that is a no-op, and boot-time work is not redone, only for a unit that
# stays active after its run.
if grep -qx 'RemainAfterExit=yes' "$root/lib/systemd/system/memzone-init.service" "$root/usr/lib/systemd/system/memzone-init.service" 2>/dev/null; then
	pass "memzone-init.service has RemainAfterExit=yes (not run again on upgrade)"
else
	fail "memzone-init.service has RemainAfterExit=yes (not run again on upgrade)"
fi
check "systemd-analyze verify memzoned.service memzone-init.service" \
	in_root systemd-analyze verify memzoned.service memzone-init.service
if [ -d "$root/run/memzone" ]; then pass "postinst applied the tmpfiles entry (/run/memzone exists)"; else fail "postinst applied the tmpfiles entry (/run/memzone exists)"; fi
for page in memzone.conf memzone memzoned; do
	if out=$(in_root env MANPAGER=cat MANWIDTH=80 man "$page" 2>&1) && grep -q "^NAME" <<<"$out"; then pass "man $page renders"; else fail "man $page renders" "$(head -5 <<<"$out")"; fi
done
check "bash completion file parses" in_root bash -n /usr/share/bash-completion/completions/memzone

# --- 4. remove, purge ----------------------------------------------------------------------------
# The chroot has no sysfs: plain files stand for auto_online_blocks (memzone's "offline"), the
# memory_hotplug parameters (memzone's kernel mode, one since changed by someone else) and an
# offline block, with the values memzone init recorded. Removal (prerm: memzone init --restore)
# must put them back and touch nothing else (the package-VM test does it for real, with systemd
# stopping memzone-init).
fake=$root/sys/devices/system/memory
params=$root/sys/module/memory_hotplug/parameters
mkdir -p "$fake/memory9" "$root/run/memzone" "$params"
echo offline >"$fake/auto_online_blocks"
echo offline >"$fake/memory9/state"
echo online_movable >"$root/run/memzone/auto_online_blocks.found"
echo auto-movable >"$params/online_policy"
echo 150 >"$params/auto_movable_ratio"
echo Y >"$params/auto_movable_numa_aware"
printf 'online_policy contig-zones auto-movable\nauto_movable_ratio 301 200\nauto_movable_numa_aware N Y\n' \
	>"$root/run/memzone/kernel-policy.found"
if in_root apt-get remove -y -q memzone >"$work/remove.log" 2>&1; then pass "apt-get remove memzone"; else fail "apt-get remove memzone" "$(tail -20 "$work/remove.log")"; fi
a=$(cat "$fake/auto_online_blocks"); st=$(cat "$fake/memory9/state")
k="$(cat "$params/online_policy") $(cat "$params/auto_movable_ratio") $(cat "$params/auto_movable_numa_aware")"
if [ "$a" = online_movable ] && [ "$st" = offline ] && [ ! -e "$root/run/memzone/auto_online_blocks.found" ]; then
	pass "remove restores the recorded auto_online_blocks (online_movable) and onlines nothing"
else
	fail "remove restores the recorded auto_online_blocks (online_movable) and onlines nothing" \
		"auto_online_blocks: $a; memory9: $st; record: $(ls "$root/run/memzone" 2>&1)"
fi
if [ "$k" = "contig-zones 150 N" ] && [ ! -e "$root/run/memzone/kernel-policy.found" ]; then
	pass "remove restores the kernel's online_policy and NUMA awareness, leaves the ratio someone else set"
else
	fail "remove restores the kernel's online_policy and NUMA awareness, leaves the ratio someone else set" \
		"parameters: $k; record: $(ls "$root/run/memzone" 2>&1)"
fi
left=$(while IFS= read -r f; do
	[ "$f" = /etc/memzone.conf ] && continue
	[ -e "$root$f" ] && [ ! -d "$root$f" ] && echo "$f"
done <<<"$files")
if [ -z "$left" ]; then pass "remove takes every file but the conffile away"; else fail "remove takes every file but the conffile away" "left: $left"; fi
if [ -e "$root/etc/memzone.conf" ]; then pass "remove keeps /etc/memzone.conf"; else fail "remove keeps /etc/memzone.conf"; fi
if in_root apt-get purge -y -q memzone >"$work/purge.log" 2>&1 && in_root apt-get autoremove --purge -y -q >>"$work/purge.log" 2>&1; then
	pass "apt-get purge memzone"
else
	fail "apt-get purge memzone" "$(tail -20 "$work/purge.log")"
fi
if [ ! -e "$root/run/memzone" ]; then
	pass "purge removes /run/memzone"
else
	fail "purge removes /run/memzone" "$(ls "$root/run/memzone" 2>&1)"
fi
rm -rf "${root:?}/sys/devices" "${root:?}/sys/module"
after=$(snapshot)
d=$(set_diff "$before" "$after")
if [ -z "$d" ]; then pass "purge leaves the chroot as it was before the install"; else fail "purge leaves the chroot as it was before the install" "- gone, + left behind:" "$d"; fi

done_testing
