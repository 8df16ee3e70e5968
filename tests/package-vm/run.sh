#!/bin/bash
# tests/package-vm/run.sh - the Debian package end to end, with systemd as PID 1 in a QEMU guest (TAP).
#
#   1. the memzone .deb (dpkg-buildpackage -us -uc -b of "make distdir", or MEMZONE_DEB);
#   2. a Debian 12 root filesystem from the cached minbase chroot of tests/test-package-chroot.sh
#      (systemd, udev, procps), the .deb installed with dpkg under a policy-rc.d that forbids
#      starting services (removed afterwards), plus a control shell on ttyS1 (guest/mzctl.service);
#      an ext4 image of it made with `mkfs.ext4 -d` (no loop mount);
#   3. Debian 12's stock 6.1 kernel (tests/vm/fetch-kernel.sh), booted under QEMU TCG with a busybox
#      initramfs that loads virtio_blk + ext4 (from the same kernel package) and switch_roots to systemd;
#      the kernel is booted with memhp_default_state=online, so memzone-init.service has to turn
#      the kernel's auto-onlining off;
#   4. checks on the guest's systemd, udev, journal and /sys: boot reaches multi-user.target,
#      memzoned runs, a 1 GiB pc-dimm hot-added over QMP is onlined by the rule per the shipped
#      default policy, the helper and the daemon log to the journal, reload and stop work.
# Nothing runs on this machine's memory blocks: every sysfs write happens in the guest.
#
# Environment: MEMZONE_DEB (use this .deb), MEMZONE_CHROOT_CACHE (default /var/cache/memzone-chroot,
# filled by tests/test-package-chroot.sh), MEMZONE_VM_CACHE (kernel, see tests/vm/README.md),
# MEMZONE_PKGVM_CACHE (extra modules, default /var/cache/memzone-pkgvm), VM_WATCHDOG (seconds the
# VM may live, default 600), PKGVM_BOOT_TIMEOUT (seconds to multi-user.target, default 300),
# MEMZONE_VM_LOGDIR (keep the console log there), VM_KEEP=1 (keep the work dir), VM_VERBOSE=1 (guest
# output of passing checks as TAP comments), PKGVM_APPEND (more kernel command line, e.g.
# systemd.mask=memzoned.service to see the checks fail).
set -u
# shellcheck source=tests/packaging-lib.sh disable=SC2154 # top_srcdir, top_builddir: from the make target
. "$top_srcdir/tests/packaging-lib.sh"

here=$top_srcdir/tests/package-vm
vmdir=$top_srcdir/tests/vm
t_start=$SECONDS
[ "${MEMZONE_SKIP_PACKAGE_TESTS:-0}" = 1 ] && skip_all "MEMZONE_SKIP_PACKAGE_TESTS=1 (inside a package build)"
[ "$(id -u)" = 0 ] || skip_all "needs root (chroot, dpkg, file ownership in the image)"
for tool in qemu-system-x86_64 mkfs.ext4 busybox python3 dpkg-deb chroot tar flock gzip; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (see tests/package-vm/README.md)"
done
ldd "$(command -v busybox)" >/dev/null 2>&1 && skip_all "busybox is dynamically linked (apt-get install busybox-static)"
tarball=${MEMZONE_CHROOT_CACHE:-/var/cache/memzone-chroot}/bookworm.tar
[ -f "$tarball" ] || skip_all "no cached Debian 12 chroot $tarball (tests/test-package-chroot.sh makes it)"
for p in systemd udev; do
	grep -qw "$p" "$tarball.extras" 2>/dev/null || skip_all "$tarball has no $p (an older cache: tests/test-package-chroot.sh remakes it)"
done

work=$(mktemp -d /tmp/mzpkgvm.XXXXXX)     # short: unix socket paths are limited to 107 bytes
if [ "${VM_KEEP:-0}" = 1 ]; then diag "keeping $work"; else cleanup_dir "$work"; fi
root=$work/root

# --- 1. the package ------------------------------------------------------------------------------
if [ -n "${MEMZONE_DEB:-}" ]; then
	deb=$MEMZONE_DEB
	if [ -f "$deb" ]; then pass "memzone .deb: MEMZONE_DEB=$deb"; else bail_out "MEMZONE_DEB=$deb does not exist"; fi
else
	t0=$SECONDS
	version=$(package_version)
	if make_distdir "$work/memzone-$version" 2>"$work/distdir.log" &&
		(cd "$work/memzone-$version" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
		pass "dpkg-buildpackage -us -uc -b ($((SECONDS - t0))s)"
	else
		fail "dpkg-buildpackage -us -uc -b" "$(tail -30 "$work/distdir.log" "$work/build.log" 2>/dev/null)"
		done_testing
		exit
	fi
	deb=$(find "$work" -maxdepth 1 -name "memzone_$version-*_*.deb" | head -n 1)
	[ -n "$deb" ] || bail_out "dpkg-buildpackage made no memzone_$version-*.deb"
	rm -rf "${work:?}/memzone-$version"
fi

# --- 2. the kernel and the modules the initramfs needs ------------------------------------------
t0=$SECONDS
kdir=$("$vmdir/fetch-kernel.sh" 6.1 2>"$work/fetch.log" | tail -n 1)
if [ -z "$kdir" ] || [ ! -s "$kdir/vmlinux" ] && [ ! -s "$kdir/vmlinuz" ]; then
	skip_all "no Debian 12 kernel: $(tail -3 "$work/fetch.log" | tr '\n' ' ')"
fi
kimg=$kdir/vmlinux
[ -s "$kimg" ] || kimg=$kdir/vmlinuz
# fetch-kernel.sh keeps only the virtio modules; virtio_blk and ext4 come from the same package,
# extracted once into our own cache (never into fetch-kernel.sh's entries).
extra_mods="crc16 mbcache jbd2 crc32c_generic ext4 virtio_blk"
mcache=${MEMZONE_PKGVM_CACHE:-/var/cache/memzone-pkgvm}/$(basename "$kdir")
read -r kpkg kver <"$kdir/package"
if [ "$(cat "$mcache/order" 2>/dev/null)" != "$(echo "$extra_mods" | tr ' ' '\n')" ]; then
	mkdir -p "$mcache" && (
		set -e
		flock 9
		tmp=$(mktemp -d "$work/kdeb.XXXXXX")
		chmod 0777 "$tmp"          # apt's _apt sandbox user writes the .deb
		(cd "$tmp" && timeout 300 apt-get download "$kpkg=$kver")
		dpkg-deb -x "$tmp"/*.deb "$tmp/x"
		rm -f "$mcache/order"
		for m in $extra_mods; do
			f=$(find "$tmp/x/lib/modules" "$tmp/x/usr/lib/modules" -name "$m.ko*" 2>/dev/null | head -n 1)
			[ -n "$f" ] || { echo "no $m.ko in $kpkg" >&2; exit 1; }
			case $f in
			*.ko) cp "$f" "$mcache/$m.ko" ;;
			*.ko.xz) xz -dc "$f" >"$mcache/$m.ko" ;;
			*) echo "unsupported module file $f" >&2; exit 1 ;;
			esac
		done
		echo "$extra_mods" | tr ' ' '\n' >"$mcache/order"
		rm -rf "$tmp"
	) 9>"$mcache/lock" >"$work/modules.log" 2>&1
fi
if [ "$(cat "$mcache/order" 2>/dev/null)" != "$(echo "$extra_mods" | tr ' ' '\n')" ]; then
	skip_all "cannot get virtio_blk/ext4 of $kpkg $kver: $(tail -3 "$work/modules.log" | tr '\n' ' ')"
fi

# initramfs: busybox-static, the modules in load order, guest/initramfs-init as /init
ird=$work/initramfs
mkdir -p "$ird"/{bin,proc,sys,dev,newroot,modules}
cp "$(command -v busybox)" "$ird/bin/busybox"
for a in sh mount umount insmod sleep mkdir ls poweroff switch_root; do ln -s busybox "$ird/bin/$a"; done
virtio_mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci"
for m in $virtio_mods; do cp "$kdir/modules/$m.ko" "$ird/modules/"; done
cp "$mcache"/*.ko "$ird/modules/"
echo "$virtio_mods $extra_mods" | tr ' ' '\n' >"$ird/modules/order"
cp "$here/guest/initramfs-init" "$ird/init"
chmod 0755 "$ird/init"
if (cd "$ird" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"; then
	pass "kernel $kpkg $kver + initramfs with virtio_blk and ext4 ($((SECONDS - t0))s)"
else
	bail_out "cannot write the initramfs"
fi

# --- 3. the root filesystem image ----------------------------------------------------------------
t0=$SECONDS
mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball" || bail_out "cannot unpack $tarball"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc" || bail_out "cannot mount proc in the chroot"
cleanup_cmd "umount -l '$root/proc' 2>/dev/null"
cp "$deb" "$root/tmp/"
if chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
	dpkg -i "/tmp/${deb##*/}" >"$work/install.log" 2>&1; then
	install_ok=1
else
	install_ok=0
fi
umount "$root/proc"
rm -f "$root/tmp/${deb##*/}" "$root/usr/sbin/policy-rc.d" "$root"/var/cache/apt/archives/*.deb
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/locale/*
# The test image's own pieces: an identity (no first-boot prompts), no getty on the consoles (the
# control shell on ttyS1 is the only way in), the control shell itself.
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$root/etc/machine-id"
echo >>"$root/etc/machine-id"
echo memzone-pkgvm >"$root/etc/hostname"
for u in serial-getty@ttyS0.service getty@tty1.service getty-static.service systemd-firstboot.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done
install -m 0755 "$here/guest/mzctl-loop" "$root/usr/local/sbin/mzctl-loop"
install -m 0644 "$here/guest/mzctl.service" "$root/etc/systemd/system/mzctl.service"
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sf ../mzctl.service "$root/etc/systemd/system/sysinit.target.wants/mzctl.service"
if [ $install_ok = 1 ] && mkfs.ext4 -q -F -L mzroot -d "$root" "$work/root.img" 1536M >"$work/mkfs.log" 2>&1; then
	pass "Debian 12 image with ${deb##*/} installed, mkfs.ext4 -d ($((SECONDS - t0))s)"
else
	fail "Debian 12 image with ${deb##*/} installed" "$(tail -20 "$work/install.log" "$work/mkfs.log" 2>/dev/null)"
	done_testing
	exit
fi
rm -rf --one-file-system "$root"

# --- 4. the VM -----------------------------------------------------------------------------------
qemu_pid='' watchdog_pid=''
vm_stop()
{
	[ -n "$qemu_pid" ] || return 0
	if kill -0 "$qemu_pid" 2>/dev/null; then
		python3 "$vmdir/vmctl.py" qmp "$work/qmp.sock" --timeout 5 '{"execute":"quit"}' >/dev/null 2>&1
		local i
		for i in $(seq 50); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; : "$i"; done
		kill -TERM "$qemu_pid" 2>/dev/null                      # by PID only, never by name
		for i in $(seq 30); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; : "$i"; done
		kill -KILL "$qemu_pid" 2>/dev/null
	fi
	wait "$qemu_pid" 2>/dev/null
	if [ -n "$watchdog_pid" ]; then kill "$watchdog_pid" 2>/dev/null; wait "$watchdog_pid" 2>/dev/null; fi
	if [ -n "${MEMZONE_VM_LOGDIR:-}" ]; then
		mkdir -p "$MEMZONE_VM_LOGDIR" && cp "$work/console.log" "$MEMZONE_VM_LOGDIR/package-vm.console.log" 2>/dev/null
	fi
	qemu_pid='' watchdog_pid=''
}
cleanup_cmd vm_stop
CTL() { local to=60; [ "$1" = --timeout ] && { to=$2; shift 2; }
	python3 "$vmdir/vmctl.py" ctl "$work/ctl.sock" --timeout "$to" "$1"; }
QMP() { python3 "$vmdir/vmctl.py" qmp "$work/qmp.sock" "$@"; }
# gcheck DESCRIPTION SCRIPT: pass when SCRIPT exits 0 in the guest; its output is the diagnostic.
gcheck()
{
	local d=$1 out
	if out=$(CTL --timeout "${3:-60}" "$2" 2>&1); then
		pass "$d"
		[ "${VM_VERBOSE:-0}" = 1 ] && diag "$out"
	else
		fail "$d" "$out"
	fi
	return 0
}
console_tail() { diag "console:" "$(tail -n 40 "$work/console.log" 2>/dev/null)"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

t_boot=$(date +%s.%N)
qemu-system-x86_64 -machine pc -accel tcg -cpu max -smp 2 -m 1G,slots=4,maxmem=8G \
	-nodefaults -nic none -display none -no-reboot \
	-kernel "$kimg" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 fsck.mode=skip memhp_default_state=online systemd.show_status=1 ${PKGVM_APPEND:-}" \
	-drive "file=$work/root.img,if=virtio,format=raw,cache=unsafe" \
	-serial "file:$work/console.log" \
	-chardev "socket,id=ctl,path=$work/ctl.sock,server=on,wait=off" -serial chardev:ctl \
	-qmp "unix:$work/qmp.sock,server=on,wait=off" >"$work/qemu.out" 2>&1 &
qemu_pid=$!
# watchdog: the VM dies after VM_WATCHDOG seconds whatever happens to this script
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep "${VM_WATCHDOG:-600}" & sp=$!
	wait $sp
	echo "package-vm: WATCHDOG: killing qemu $qemu_pid" >&2
	kill -KILL "$qemu_pid"
) 2>/dev/null &
watchdog_pid=$!

boot_to=${PKGVM_BOOT_TIMEOUT:-300}
deadline=$((SECONDS + boot_to))
while [ $SECONDS -lt $deadline ] && kill -0 "$qemu_pid" 2>/dev/null; do
	grep -q '@@CTL-READY' "$work/console.log" 2>/dev/null && break
	sleep 0.2
done
if grep -q '@@CTL-READY' "$work/console.log" 2>/dev/null; then
	pass "systemd started the control shell ($(elapsed "$t_boot")s after qemu started)"
else
	fail "systemd started the control shell within ${boot_to}s" "$(cat "$work/qemu.out")"
	console_tail
	done_testing
	exit
fi

left=$((deadline - SECONDS)); [ $left -gt 10 ] || left=10
if CTL --timeout $((left + 10)) "timeout $left sh -c 'until systemctl is-active -q multi-user.target; do sleep 0.5; done'" >/dev/null 2>&1; then
	boot_secs=$(elapsed "$t_boot")
	pass "multi-user.target reached (${boot_secs}s after qemu started)"
	diag "$(CTL 'systemd-analyze time 2>&1 | head -n 1; systemctl --failed --no-legend 2>&1' 2>&1)"
else
	fail "multi-user.target reached within ${boot_to}s" "$(CTL 'systemctl list-jobs; systemctl --failed' 2>&1)"
	console_tail
	done_testing
	exit
fi

gcheck "memzoned.service is active" \
	'systemctl is-active memzoned || { systemctl status --no-pager -n 20 memzoned; exit 1; }'
gcheck "memzone-init.service ran and handed the shipped policy to the kernel (auto_online_blocks online, online_policy auto-movable, ratio 301)" '
	s="$(systemctl show -P ActiveState memzone-init) $(systemctl show -P Result memzone-init)"
	P=/sys/module/memory_hotplug/parameters
	a="$(cat /sys/devices/system/memory/auto_online_blocks) $(cat $P/online_policy) $(cat $P/auto_movable_ratio)"
	echo "memzone-init: $s; kernel: $a"
	[ "$s" = "active success" ] && [ "$a" = "online auto-movable 301" ] || { journalctl -b -u memzone-init --no-pager; exit 1; }'
gcheck "udev reads 60-memzone.rules; memzoned holds memzoned.lock (its MainPID in it) and memzoned.decides" '
	f=$(ls /etc/udev/rules.d/60-memzone.rules /run/udev/rules.d/60-memzone.rules \
	       /usr/lib/udev/rules.d/60-memzone.rules 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "60-memzone.rules is in none of the directories udevd reads"; exit 1; }
	l=$(cat /run/memzone/memzoned.lock); p=$(systemctl show -P MainPID memzoned)
	echo "memzoned.lock: $l (MainPID $p)"
	[ "$l" = "$p" ] && ! flock -n -s /run/memzone/memzoned.lock true && ! flock -n -s /run/memzone/memzoned.decides true || exit 1
	out=$(udevadm test --action=add /devices/system/memory/memory0 2>&1)
	echo "$out" | grep -E "60-memzone.rules|memzone online" | head -n 5
	echo "$out" | grep -q "60-memzone.rules"'

# add_dimm ID DESC: the guest's blocks noted in /run/blocks.before, then a 1 GiB pc-dimm ID hot-added
# over QMP (a TAP point DESC)
add_dimm()
{
	CTL 'ls -d /sys/devices/system/memory/memory[0-9]* | sed "s|.*/||" | sort > /run/blocks.before' >/dev/null
	if QMP --timeout 30 "{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-ram\",\"id\":\"mem-$1\",\"size\":1073741824}}" \
		"{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pc-dimm\",\"id\":\"$1\",\"memdev\":\"mem-$1\"}}" >"$work/qmp.out" 2>&1; then
		pass "$2"
	else
		fail "$2" "$(cat "$work/qmp.out")"
	fi
}
# In the guest, after a DIMM was added: wait (60 s at most) until 8 blocks that are not in
# /run/blocks.before exist and are online; leaves them in /run/blocks.new, n (new) and on (online).
wait_new_dimm='
	end=$(( $(cut -d. -f1 /proc/uptime) + 60 ))
	while :; do
		ls -d /sys/devices/system/memory/memory[0-9]* | sed "s|.*/||" | sort > /run/blocks.after
		comm -13 /run/blocks.before /run/blocks.after > /run/blocks.new
		n=0 on=0
		for b in $(cat /run/blocks.new); do
			n=$((n + 1)); [ "$(cat /sys/devices/system/memory/$b/state)" = online ] && on=$((on + 1))
		done
		[ $n -eq 8 ] && [ $on -eq 8 ] && break
		[ "$(cut -d. -f1 /proc/uptime)" -lt $end ] || break
		sleep 0.2
	done'

# Hot-add 1 GiB: with the shipped /etc/memzone.conf (only defaults: default_zone=auto, ratio 301)
# a 1 GiB DIMM next to ~1 GiB of kernel memory fits under the cap, so every block goes Movable.
t0=$(date +%s.%N)
add_dimm d1 "QMP: 1 GiB pc-dimm added"
gcheck "the DIMM's 8 blocks are online" "$wait_new_dimm"'
	echo "new blocks: $(tr "\n" " " < /run/blocks.new)($on of $n online)"
	[ $n -eq 8 ] && [ $on -eq 8 ]' 120
diag "hot-add to all blocks online: $(elapsed "$t0")s"
gcheck "every block of the DIMM is in ZONE_MOVABLE (default policy), per /sys valid_zones" '
	bad=0
	for b in $(cat /run/blocks.new); do
		z=$(cat /sys/devices/system/memory/$b/valid_zones)
		echo "$b: $(cat /sys/devices/system/memory/$b/state) $z"
		[ "$z" = Movable ] || bad=1
	done
	[ -s /run/blocks.new ] && [ $bad = 0 ]'
gcheck "the journal has memzoned's decision for each block (MEMZONE_BLOCK=, unit memzoned.service)" '
	bad=0
	for b in $(cat /run/blocks.new); do
		l=$(journalctl -b _SYSTEMD_UNIT=memzoned.service MEMZONE_BLOCK=$b -o cat --no-pager | tail -n 1)
		echo "$b: $l"
		[ -n "$l" ] || bad=1
	done
	[ -s /run/blocks.new ] && [ $bad = 0 ]'
gcheck "journalctl -u memzoned has the daemon's lines" '
	journalctl -b -u memzoned -o cat --no-pager | tail -n 5
	[ "$(journalctl -b _SYSTEMD_UNIT=memzoned.service -o cat --no-pager | wc -l)" -gt 0 ]'
gcheck "systemctl reload memzoned: exit 0, the daemon reloaded its configuration, same process, still active" '
	p=$(systemctl show -P MainPID memzoned)
	timeout 60 systemctl reload memzoned || exit 1
	end=$(( $(cut -d. -f1 /proc/uptime) + 20 ))
	until l=$(journalctl -b _SYSTEMD_UNIT=memzoned.service -o cat --no-pager | grep "configuration reloaded"); do
		[ "$(cut -d. -f1 /proc/uptime)" -lt $end ] || break
		sleep 0.5
	done
	q=$(systemctl show -P MainPID memzoned); s=$(systemctl is-active memzoned)
	echo "pid $p -> $q, $s; journal: ${l:-no line with \"configuration reloaded\"}"
	[ -n "$l" ] && [ "$p" = "$q" ] && [ "$p" != 0 ] && [ "$s" = active ]' 120
gcheck "systemctl stop memzoned: exit 0, the running daemon ended cleanly" '
	systemctl is-active -q memzoned || { echo "memzoned is not running"; exit 1; }
	timeout 90 systemctl stop memzoned || exit 1
	s="$(systemctl show -P ActiveState memzoned) $(systemctl show -P Result memzoned) $(systemctl show -P ExecMainStatus memzoned)"
	echo "$s"
	journalctl -b -u memzoned -o cat --no-pager | tail -n 3
	[ "$s" = "inactive success 0" ]' 120
gcheck "memzoned stopped: its locks are free; in the kernel mode udev starts no helper for a memory block" '
	flock -n -s /run/memzone/memzoned.lock true && flock -n -s /run/memzone/memzoned.decides true || { ls -la /run/memzone; exit 1; }
	out=$(udevadm test --action=add /devices/system/memory/memory0 2>&1)
	! echo "$out" | grep -q "run: .*/memzone online memory0"'
gcheck "kernel_auto_online = disable in a drop-in, memzone-init restarted: userspace mode, udev runs memzone online" '
	mkdir -p /etc/memzone.conf.d; printf "[online]\nkernel_auto_online = disable\n" > /etc/memzone.conf.d/50-userspace.conf
	timeout 60 systemctl restart memzone-init || exit 1
	a="$(cat /sys/devices/system/memory/auto_online_blocks) $(cat /sys/module/memory_hotplug/parameters/online_policy)"
	out=$(udevadm test --action=add /devices/system/memory/memory0 2>&1)
	echo "kernel: $a"; echo "$out" | grep -E "memzone online" | head -n 3
	[ "$a" = "offline contig-zones" ] && echo "$out" | grep -q "run: .*/memzone online memory0"' 90

# the helper's own path under the packaged rule: a second DIMM with memzoned stopped
add_dimm d2 "QMP: a second 1 GiB pc-dimm added, memzoned stopped"
gcheck "... the udev helper onlines its 8 blocks, with its journal line for each (identifier memzone)" "$wait_new_dimm"'
	echo "new blocks: $(tr "\n" " " < /run/blocks.new)($on of $n online)"
	bad=0
	for b in $(cat /run/blocks.new); do
		l=$(journalctl -b -t memzone MEMZONE_BLOCK=$b -o cat --no-pager | tail -n 1)
		[ -n "$l" ] || { echo "$b: no line from memzone"; bad=1; }
	done
	[ $n -eq 8 ] && [ $on -eq 8 ] && [ $bad = 0 ]' 120

# auto_online_blocks back as memzone found it (memhp_default_state=online): on stopping
# memzone-init, and on removing the package (prerm stops the units; nothing else is hotplugged)
gcheck "systemctl stop memzone-init puts auto_online_blocks back to online; start sets offline again" '
	cat /run/memzone/auto_online_blocks.found
	timeout 60 systemctl stop memzone-init || exit 1
	a=$(cat /sys/devices/system/memory/auto_online_blocks)
	timeout 60 systemctl start memzone-init || exit 1
	b=$(cat /sys/devices/system/memory/auto_online_blocks)
	echo "after stop: $a; after start: $b"
	[ "$a" = online ] && [ "$b" = offline ]' 150
gcheck "dpkg -r memzone puts auto_online_blocks back to online and changes no block state" '
	grep -H . /sys/devices/system/memory/memory*/state | sort > /run/states.before
	timeout 120 dpkg -r memzone >/run/dpkg-r.log 2>&1 || { tail -n 20 /run/dpkg-r.log; exit 1; }
	grep -H . /sys/devices/system/memory/memory*/state | sort > /run/states.after
	a=$(cat /sys/devices/system/memory/auto_online_blocks)
	echo "auto_online_blocks after dpkg -r: $a"
	cmp /run/states.before /run/states.after || diff /run/states.before /run/states.after
	[ "$a" = online ] && cmp -s /run/states.before /run/states.after' 180

vm_stop
if [ -z "$qemu_pid" ]; then pass "qemu stopped"; else fail "qemu stopped"; fi
diag "boot to multi-user.target: ${boot_secs:-?}s; whole run: $((SECONDS - t_start))s"
done_testing
