#!/bin/bash
# fetch-kernel.sh KERNEL  -  fetch a stock Debian 12 kernel for the memzone VM tests.
#
#   KERNEL = 6.1   the kernel `linux-image-amd64` depends on (linux-image-6.1.0-NN-amd64)
#            6.12  the kernel `linux-image-6.12-amd64` depends on (linux-image-6.12.x+deb12-amd64)
#
# The package is resolved with apt-cache depends, fetched with `apt-get download` (nothing is
# installed, /boot is not touched), unpacked with dpkg-deb -x into a temporary directory, and only
# these pieces are kept in ${MEMZONE_VM_CACHE:-/var/cache/memzone-vm}/<package>_<version>/:
#   vmlinux   the uncompressed ELF (xz/zstd payload of the bzImage), booted by QEMU through its PVH
#             note (vmlinuz, the bzImage, instead if the payload cannot be decompressed)
#   config    the kernel config
#   modules/  virtio modules, uncompressed, plus modules/order (insmod order)
#   package   "<package> <version>"
# Prints the cache directory on stdout (last line).  Idempotent: a complete cache entry is reused,
# and `current-<KERNEL>` in the cache remembers the last resolution so later runs work offline.
#
# Environment: MEMZONE_VM_CACHE (cache root), KERNEL_DEB (use this .deb instead of downloading).
set -eu -o pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }
KERNEL=${1:-}
case $KERNEL in
    6.1)  META=linux-image-amd64
          MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mem" ;;
    # VIRTIO and VIRTIO_PCI are built in on 6.12; the nvdimm/dax modules make a dax device bound to
    # dax_kmem out of a memmap= legacy-pmem range (scenario 11), as the kernel binds CXL RAM regions
    6.12) META=linux-image-6.12-amd64
          MODS="virtio_mem libnvdimm nd_btt nd_pmem nd_e820 device_dax dax_pmem kmem" ;;
    *)    die "usage: $0 6.1|6.12" ;;
esac
CACHE=${MEMZONE_VM_CACHE:-/var/cache/memzone-vm}
mkdir -p "$CACHE" || die "cannot create $CACHE"

complete() {
    local m
    { [ -s "$1/vmlinux" ] || [ -s "$1/vmlinuz" ]; } && [ -s "$1/config" ] && [ -s "$1/modules/order" ] && [ -s "$1/package" ] || return 1
    for m in $MODS; do [ -s "$1/modules/$m.ko" ] || return 1; done    # a cache from before a module was added
}

# ---- resolve package + version
PKG='' VER=''
if [ -n "${KERNEL_DEB:-}" ]; then
    PKG=$(dpkg-deb -f "$KERNEL_DEB" Package) VER=$(dpkg-deb -f "$KERNEL_DEB" Version)
else
    PKG=$(apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}') || true
    if [ -n "$PKG" ]; then
        VER=$(apt-cache policy "$PKG" 2>/dev/null | awk '/Candidate:/{print $2; exit}') || true
    fi
    if [ -z "$PKG" ] || [ -z "$VER" ] || [ "$VER" = "(none)" ]; then
        # offline / no apt lists: fall back to the last resolved entry
        if [ -L "$CACHE/current-$KERNEL" ] && complete "$CACHE/current-$KERNEL"; then
            readlink -f "$CACHE/current-$KERNEL"; exit 0
        fi
        die "cannot resolve $META (run apt-get update?)"
    fi
fi
DIR=$CACHE/${PKG}_${VER//[:\/]/_}
if complete "$DIR"; then
    ln -sfn "$(basename "$DIR")" "$CACHE/current-$KERNEL"
    echo "$DIR"; exit 0
fi

# ---- download + extract (temp dir, removed on exit)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/memzone-kernel.XXXXXX")
trap 'rm -rf "$TMP" "${NEW:-}"' EXIT
chmod 0777 "$TMP"          # so apt's _apt sandbox user may write the .deb (avoids a warning as root)
if [ -z "${KERNEL_DEB:-}" ]; then
    echo "fetch-kernel: apt-get download $PKG=$VER" >&2
    (cd "$TMP" && timeout 300 apt-get download "$PKG=$VER" >&2) || die "apt-get download $PKG=$VER failed"
    KERNEL_DEB=$(ls "$TMP"/*.deb)
fi
dpkg-deb -x "$KERNEL_DEB" "$TMP/x" || die "dpkg-deb -x failed"

NEW=$DIR.tmp.$$
rm -rf "$NEW"; mkdir -p "$NEW/modules"
cp "$TMP"/x/boot/config-* "$NEW/config"
# The bzImage carries a compressed ELF vmlinux (6.1: xz, 6.12: zstd).  QEMU boots that ELF through
# its PVH note (CONFIG_PVH=y), which skips ~3 s of in-guest decompression under TCG.  The payload is
# located through the x86 boot header (setup_sects, payload_offset, payload_length).  xz is
# decompressed with python3's lzma, zstd with the zstd tool.  If that is impossible, the bzImage is
# kept as vmlinuz instead (vmlib.sh boots it, ~3 s slower).
VMLINUZ=$(ls "$TMP"/x/boot/vmlinuz-*)
if ! python3 - "$VMLINUZ" "$NEW/vmlinux" <<'PY'; then
import lzma, shutil, struct, subprocess, sys
d = open(sys.argv[1], 'rb').read()
if d[0x202:0x206] != b'HdrS': sys.exit('not a bzImage')
setup = (d[0x1f1] or 4) + 1
off, length = struct.unpack_from('<II', d, 0x248)
p = d[setup * 512 + off: setup * 512 + off + length]
if p.startswith(b'\xfd7zXZ\x00'):
    out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(p)
elif p.startswith(b'\x28\xb5\x2f\xfd'):
    if not shutil.which('zstd'): sys.exit('zstd payload but no zstd tool (apt-get install zstd)')
    # the last 4 bytes of the payload are the decompressed size, not part of the zstd frame
    out = subprocess.run(['zstd', '-dcq'], input=p[:-4], stdout=subprocess.PIPE, check=True).stdout
else:
    sys.exit('unsupported payload magic %r' % p[:6])
if out[:4] != b'\x7fELF': sys.exit('payload is not an ELF')
open(sys.argv[2], 'wb').write(out)
PY
    echo "fetch-kernel: cannot extract vmlinux, keeping the bzImage (slower boot)" >&2
    rm -f "$NEW/vmlinux"; cp "$VMLINUZ" "$NEW/vmlinuz"
fi
for m in $MODS; do
    f=$(find "$TMP"/x/lib/modules "$TMP"/x/usr/lib/modules -name "$m.ko*" 2>/dev/null | head -n1) || true
    [ -n "$f" ] || die "module $m not found in $PKG"
    case $f in
        *.ko)    cp "$f" "$NEW/modules/$m.ko" ;;
        *.ko.xz) xz -dc "$f" > "$NEW/modules/$m.ko" ;;      # busybox insmod wants plain .ko
        *.ko.zst) die "zstd module $f not supported" ;;
        *)       die "unknown module format $f" ;;
    esac
    echo "$m" >> "$NEW/modules/order"
done
echo "$PKG $VER" > "$NEW/package"
rm -rf "$DIR"; mv "$NEW" "$DIR"
ln -sfn "$(basename "$DIR")" "$CACHE/current-$KERNEL"
echo "fetch-kernel: cached $PKG $VER in $DIR ($(du -sh "$DIR" | cut -f1))" >&2
echo "$DIR"
