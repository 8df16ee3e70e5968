#!/bin/bash
# mkinitramfs.sh [-k KERNEL_CACHE_DIR]... STAGE OUT.gz
#
# Builds the guest initramfs for the memzone VM tests from a `make install DESTDIR=STAGE` tree:
#   * merged-/usr layout like Debian 12 (/bin /sbin /lib /lib64 -> usr/...), so STAGE/lib/udev/rules.d
#     (udevdir=/lib/udev from Debian 12's udev.pc) and STAGE/usr/lib/udev/rules.d both end up in
#     /usr/lib/udev/rules.d, which systemd-udevd reads;
#   * busybox-static (+ applet symlinks), util-linux flock, systemd-udevd (udevadm + symlink) with its ldd libraries;
#   * the whole STAGE tree at / of the guest, plus the ldd libraries of every ELF file in it;
#   * /etc/memzone-vm.boot-cmds: `memzone init` lines of the installed systemd units (run by /init);
#   * /usr/bin/loadgen (tests/vm/loadgen.c, gcc -O2 -static), /etc/memfuncs.sh, the uevent logger rule,
#     /etc/memzone-vm.env (where memzone's binary and config landed);
#   * the virtio modules of each -k kernel cache dir (from fetch-kernel.sh) in /lib/modules/<uname -r>/.
#     Without -k, the 6.1 and 6.12 kernels are fetched/resolved with fetch-kernel.sh.
# No host udev rules are copied: udevd in the guest sees memzone's rules + the harness's event logger.
#
# Environment: CC (default gcc), LOADGEN (use this prebuilt static binary instead of compiling).
set -eu -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkinitramfs: $*" >&2; exit 1; }

KDIRS=()
while getopts k: o; do
    case $o in
        k) KDIRS+=("$OPTARG") ;;
        *) die "usage: $0 [-k KERNEL_CACHE_DIR]... STAGE OUT.gz" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || die "usage: $0 [-k KERNEL_CACHE_DIR]... STAGE OUT.gz"
STAGE=$(cd "$1" && pwd) || die "no stage dir $1"
OUT=$2
if [ ${#KDIRS[@]} -eq 0 ]; then
    for k in 6.1 6.12; do KDIRS+=("$("$HERE/fetch-kernel.sh" "$k" | tail -n1)"); done
fi

BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked (apt-get install busybox-static)"
UDEVADM=$(command -v udevadm) || die "udevadm not found (apt-get install udev)"

R=$(mktemp -d "${TMPDIR:-/tmp}/mzvm-root.XXXXXX")
trap 'rm -rf "$R"' EXIT

# ---- layout (merged /usr, as on Debian 12)
mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{proc,sys,dev,run,tmp,etc/udev/rules.d,root}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$R/$d"; done
chmod 1777 "$R/tmp"

# ---- the stage tree (first, so nothing of ours is overwritten by it silently)
tar -C "$STAGE" -cf - . | tar -C "$R" --keep-directory-symlink --no-same-owner -xf -

# ---- busybox + applets (never replacing a file from the stage)
cp "$BUSYBOX" "$R/usr/bin/busybox"
"$BUSYBOX" --list-full | while read -r a; do
    case $a in linuxrc|sbin/init) continue ;; esac
    [ -e "$R/$a" ] || [ -L "$R/$a" ] || ln -s /usr/bin/busybox "$R/$a"
done

# ---- util-linux flock (busybox-static has none): tests whether memzoned holds its liveness locks
FLOCK=$(command -v flock) || die "flock not found (apt-get install util-linux)"
cp "$FLOCK" "$R/usr/bin/flock"

# ---- systemd-udevd: argv[0] of the multi-call udevadm picks the role
cp "$UDEVADM" "$R/usr/bin/udevadm"
ln -sf udevadm "$R/usr/bin/systemd-udevd"

# ---- loadgen
if [ -n "${LOADGEN:-}" ]; then
    cp "$LOADGEN" "$R/usr/bin/loadgen"
else
    "${CC:-gcc}" -O2 -static -Wall -o "$R/usr/bin/loadgen" "$HERE/loadgen.c" || die "cannot build loadgen (glibc's libc.a: libc6-dev)"
fi

# ---- harness files
cp "$HERE/guest/init" "$R/init"; chmod 0755 "$R/init"
cp "$HERE/guest/funcs.sh" "$R/etc/memfuncs.sh"
cp "$HERE/guest/demo-timeline.sh" "$R/etc/mzdemo-timeline.sh"   # make demo's rebalancer timeline
cp "$HERE/guest/99-memzone-vm-events.rules" "$R/etc/udev/rules.d/"

# ---- where did memzone land?  (prefix /usr or /usr/local, sysconfdir /etc or PREFIX/etc)
first() { for p; do [ -e "$R$p" ] && { echo "$p"; return; }; done; echo "$1"; }
{
    echo "MZ_BIN=$(first /usr/sbin/memzone /usr/local/sbin/memzone /usr/bin/memzone /usr/local/bin/memzone)"
    echo "MZ_DAEMON=$(first /usr/sbin/memzoned /usr/local/sbin/memzoned /usr/bin/memzoned /usr/local/bin/memzoned)"
    echo "MZ_CONF=$(first /etc/memzone.conf /usr/local/etc/memzone.conf /usr/etc/memzone.conf)"
} > "$R/etc/memzone-vm.env"

# ---- boot-time commands of the installed systemd units (`memzone init` ...): the guest has no
# systemd, so /init runs them before udevd starts, as the units would at boot.
{ find "$R" -name '*.service' -path '*/systemd/*' -exec grep -h -E '^ExecStart(Pre)?=' {} + 2>/dev/null || true; } |
    sed 's/^[^=]*=//; s/^[-@:+!]*//' | { grep -E '(^|/)memzone[[:space:]]+init([[:space:]]|$)' || true; } \
    > "$R/etc/memzone-vm.boot-cmds"

# ---- shared libraries of every dynamic ELF file (udevadm, memzone, memzoned, ...)
find "$R" -type f -perm /111 | while read -r f; do
    [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while read -r l; do
    [ -e "$R$l" ] && continue
    mkdir -p "$R$(dirname "$l")"
    cp -L "$l" "$R$l"
done
# Libraries copied by the loop can pull others in (ldd already lists the whole closure).

# ---- kernel modules, one dir per kernel release
for k in "${KDIRS[@]}"; do
    { [ -s "$k/package" ] && [ -s "$k/modules/order" ]; } || die "$k is not a fetch-kernel.sh cache dir"
    rel=$(cut -d' ' -f1 "$k/package"); rel=${rel#linux-image-}
    mkdir -p "$R/lib/modules/$rel"
    cp "$k"/modules/*.ko "$k/modules/order" "$R/lib/modules/$rel/"
done

# ---- rules check: udevd must see only memzone's rules and ours
{ find "$R/etc/udev/rules.d" "$R/usr/lib/udev/rules.d" "$R/usr/local/lib/udev/rules.d" -name '*.rules' 2>/dev/null || true; } |
    sed "s|^$R||" | sort > "$R/etc/memzone-vm.rules-list"

mkdir -p "$(dirname "$OUT")"
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) > "$OUT.tmp" || die "cpio failed"
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT ($(du -k "$OUT" | cut -f1) KiB); rules: $(tr '\n' ' ' < "$R/etc/memzone-vm.rules-list")" >&2
