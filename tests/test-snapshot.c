/* test-snapshot.c - snapshot: page-size inference, node sums, node lists, device grouping, boot baseline
 *
 * Builds one synthetic tree (block size 128 MiB, 4 KiB pages):
 *   blocks 0-7   boot, node 0, online Normal (memory0 "none")     iomem 00100000-3fffffff System RAM
 *   blocks 8-15  boot, node 1, online Normal                      iomem 40000000-7fffffff System RAM
 *   blocks 32-39 ACPI DIMM PNP0C80:00, node 0: 32-35 Movable, 36-37 Normal, 38-39 offline
 *                                                               iomem 100000000-13fffffff System RAM
 *   blocks 40-47 virtio5 (device 0x140000000-0x1bfffffff, blocks 40-55; 48-55 not plugged):
 *                40-43 Movable, 44-47 offline                    iomem System RAM (virtio_mem) under virtio5
 *   blocks 64-67 dax0.0 (kmem), node 1, Movable                  iomem under CXL Window 0 > region0 > dax0.0
 *   block 70     garbage state (outside every device)
 * Nodes 0, 1 and 2 (2 has neither CPUs nor memory; has_cpu = "0").
 */
#include "daemon_state.h"
#include "iomem.h"
#include "lock.h"
#include "snapshot.h"
#include "status.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BS 0x8000000ull
#define PAGE 4096ull

static char root[256];

static void mkparents(const char *path)
{
	char buf[MZ_PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		mz_mkdir_p(buf, 0755);
	}
}

static void put(const char *rel, const char *content)
{
	char path[MZ_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkparents(path);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static void link_to(const char *rel, const char *target)
{
	char path[MZ_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkparents(path);
	unlink(path);
	if (symlink(target, path) < 0) {
		printf("Bail out! cannot link %s\n", path);
		exit(1);
	}
}

static void block(unsigned long id, int node, const char *state, const char *zones, const char *fw)
{
	char rel[128], target[64];

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/state", id);
	put(rel, state);
	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/valid_zones", id);
	put(rel, zones);
	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/phys_device", id);
	put(rel, "0\n");
	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/node%d", id, node);
	snprintf(target, sizeof(target), "../../node/node%d", node);
	link_to(rel, target);
	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/memory%lu", node, id);
	snprintf(target, sizeof(target), "../../memory/memory%lu", id);
	link_to(rel, target);
	if (fw) {
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/firmware_node", id);
		snprintf(target, sizeof(target), "../../../LNXSYSTM:00/LNXSYBUS:00/%s", fw);
		link_to(rel, target);
	}
}

static const char zoneinfo_text[] =
	"Node 0, zone      DMA\n"
	"  pages free     3000\n        min      5\n        low      6\n        high     7\n"
	"        spanned  4095\n        present  3998\n        managed  3840\n"
	"        protection: (0, 1000, 1000, 1000, 1000)\n"
	"Node 0, zone   Normal\n"
	"  pages free     200000\n        min      1000\n        low      1250\n        high     1500\n"
	"        spanned  303000\n        present  300000\n        managed  290000\n"
	"        protection: (0, 0, 0, 0, 0)\n"
	"Node 0, zone  Movable\n"
	"  pages free     100000\n        min      10\n        low      20\n        high     30\n"
	"        spanned  131072\n        present  131072\n        managed  131072\n"
	"        protection: (0, 0, 0, 0, 0)\n"
	"Node 0, zone   Device\n"
	"  pages free     55\n        min      1\n        low      1\n        high     1\n"
	"        spanned  0\n        present  0\n        managed  0\n"
	"        protection: (0, 0, 0, 0, 0)\n"
	"Node 1, zone   Normal\n"
	"  pages free     50000\n        min      500\n        low      600\n        high     700\n"
	"        spanned  65536\n        present  65536\n        managed  60000\n"
	"        protection: (0, 0, 0, 0, 0)\n"
	"Node 1, zone  Movable\n"
	"  pages free     131000\n        min      1\n        low      2\n        high     3\n"
	"        spanned  131072\n        present  131072\n        managed  131072\n"
	"        protection: (0, 0, 0, 0, 0)\n";

static const char iomem_text[] =
	"00000000-00000fff : Reserved\n"
	"00001000-0009fbff : System RAM\n"
	"00100000-3fffffff : System RAM\n"
	"  01000000-01ffffff : Kernel code\n"
	"40000000-7fffffff : System RAM\n"
	"100000000-13fffffff : System RAM\n"
	"140000000-1bfffffff : virtio5\n"
	"  140000000-17fffffff : System RAM (virtio_mem)\n"
	"200000000-21fffffff : CXL Window 0\n"
	"  200000000-21fffffff : region0\n"
	"    200000000-21fffffff : dax0.0\n"
	"      200000000-21fffffff : System RAM (kmem)\n";

static void build_tree(void)
{
	char buf[64];
	/* managed pages of every zone: 3840 + 290000 + 131072 + 0 + 60000 + 131072 */
	unsigned long long managed = 3840 + 290000 + 131072 + 60000 + 131072;

	snprintf(root, sizeof(root), "/tmp/test-snapshot.XXXXXX");
	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	put("proc/zoneinfo", zoneinfo_text);
	put("proc/iomem", iomem_text);
	snprintf(buf, sizeof(buf), "MemTotal:       %llu kB\nMemFree:  1 kB\n", managed * PAGE / 1024);
	put("proc/meminfo", buf);
	put("sys/devices/system/node/has_cpu", "0\n");
	put("sys/devices/system/node/node2/meminfo", "");
	put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	put("sys/devices/system/memory/auto_online_blocks", "offline\n");
	put("sys/devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C80:00/hid", "PNP0C80\n");
	for (unsigned long id = 0; id < 8; id++)
		block(id, 0, "online\n", id == 0 ? "none\n" : "Normal\n", NULL);
	for (unsigned long id = 8; id < 16; id++)
		block(id, 1, "online\n", "Normal\n", NULL);
	for (unsigned long id = 32; id < 40; id++)
		block(id, 0, id < 38 ? "online\n" : "offline\n", id < 36 ? "Movable\n" : id < 38 ? "Normal\n" : "Normal Movable\n",
		      "PNP0C80:00");
	for (unsigned long id = 40; id < 48; id++)
		block(id, 0, id < 44 ? "online\n" : "offline\n", id < 44 ? "Movable\n" : "Normal Movable\n", NULL);
	for (unsigned long id = 64; id < 68; id++)
		block(id, 1, "online\n", "Movable\n", NULL);
	block(70, 0, "bogus\n", "Normal\n", NULL);
}

static void test_pure(void)
{
	bool has;

	is_u64(mz_page_size_guess(24ull << 30, (24ull << 30) / 4096 - 5000), 4096, "4K pages: MemTotal/managed ~4096");
	is_u64(mz_page_size_guess(16ull << 30, (16ull << 30) / 16384), 16384, "16K pages (arm64)");
	is_u64(mz_page_size_guess(16ull << 30, (16ull << 30) / 65536 + 3), 65536, "64K pages (arm64/ppc64)");
	is_u64(mz_page_size_guess(4047ull * 1000, 1000), 4096, "old kernel without managed: present within 2%%");
	/* firecracker-6.18: zoneinfo caught during deferred page init, MemTotal 24684084 kB, 1366579 managed */
	is_u64(mz_page_size_guess(24684084ull * 1024, 1366579), 0, "files that disagree: no guess (not 16K)");
	/* prometheus-procfs: meminfo and zoneinfo from different machines, ratio 7959 */
	is_u64(mz_page_size_guess(15666184ull * 1024, 2015473), 0, "ratio 2.8%% off 8192: no guess");
	is_u64(mz_page_size_guess(0, 1000), 0, "no MemTotal: no guess");
	is_u64(mz_page_size_guess(1 << 20, 0), 0, "no managed pages: no guess");

	ok(mz_nodelist_has("0-3,8\n", 2, &has) == 0 && has, "node 2 in 0-3,8");
	ok(mz_nodelist_has("0-3,8", 8, &has) == 0 && has, "node 8 in 0-3,8");
	ok(mz_nodelist_has("0-3,8", 5, &has) == 0 && !has, "node 5 not in 0-3,8");
	ok(mz_nodelist_has("", 0, &has) == 0 && !has, "empty list has no node");
	is_int(mz_nodelist_has("0-", 0, &has), -EINVAL, "'0-' refused");
	is_int(mz_nodelist_has("3-1", 2, &has), -EINVAL, "descending range refused");
	is_int(mz_nodelist_has("0,,1", 1, &has), -EINVAL, "empty element refused");
	is_int(mz_nodelist_has("zero", 0, &has), -EINVAL, "words refused");
	is_int(mz_nodelist_has("0 1", 0, &has), -EINVAL, "two lists refused");

	is_int(mz_block_source(true, MZ_SOURCE_VIRTIO_MEM, false, MZ_BLOCK_ONLINE), MZ_SOURCE_VIRTIO_MEM, "iomem owner wins");
	is_int(mz_block_source(true, MZ_SOURCE_KMEM, true, MZ_BLOCK_OFFLINE), MZ_SOURCE_KMEM, "kmem owner beats a firmware node");
	is_int(mz_block_source(true, MZ_SOURCE_BOOT, true, MZ_BLOCK_ONLINE), MZ_SOURCE_DIMM, "boot range + PNP0C80: dimm");
	is_int(mz_block_source(false, MZ_SOURCE_BOOT, true, MZ_BLOCK_OFFLINE), MZ_SOURCE_DIMM, "no iomem + PNP0C80: dimm");
	is_int(mz_block_source(false, MZ_SOURCE_BOOT, false, MZ_BLOCK_OFFLINE), MZ_SOURCE_OTHER, "no iomem, offline: other");
	is_int(mz_block_source(false, MZ_SOURCE_BOOT, false, MZ_BLOCK_ONLINE), MZ_SOURCE_BOOT, "no iomem, online: boot");
	is_int(mz_block_source(true, MZ_SOURCE_BOOT, false, MZ_BLOCK_ONLINE), MZ_SOURCE_BOOT, "boot range, online: boot");

	is_int(mz_block_state_from_text("online"), MZ_BLOCK_ONLINE, "state online");
	is_int(mz_block_state_from_text("going-offline"), MZ_BLOCK_GOING_OFFLINE, "state going-offline");
	is_int(mz_block_state_from_text("Online"), MZ_BLOCK_UNKNOWN, "state is case-sensitive");
	is_int(mz_block_state_from_text(""), MZ_BLOCK_UNKNOWN, "empty state unknown");
}

static void test_snapshot(struct mz_snapshot *s)
{
	const struct mz_node_snap *n0, *n1, *n2;
	char err[512] = "";
	int r;

	r = mz_snapshot_read(s, err, sizeof(err));
	if (!ok(r == 0, "snapshot of the synthetic tree"))
		diag("%d: %s", r, err);
	is_u64(s->page_size, 4096, "page size inferred from MemTotal");
	is_int(s->page_size_from, MZ_PAGE_SIZE_MEMTOTAL, "page size marked as inferred");
	is_u64(s->block_size, BS, "block size");
	is_int(s->nnodes, 3, "nodes 0, 1 and the memory-less node 2");
	is_str(s->auto_online, "offline", "auto_online_blocks");
	ok(!s->rebalancer_running, "no pid file: rebalancer not running");
	n0 = mz_snapshot_node(s, 0);
	n1 = mz_snapshot_node(s, 1);
	n2 = mz_snapshot_node(s, 2);
	ok(n0 && n1 && n2 && !mz_snapshot_node(s, 3), "node lookup");
	if (!n0 || !n1 || !n2)
		return;
	ok(n0->has_cpu && !n1->has_cpu && !n2->has_cpu, "has_cpu from the node list '0'");
	is_u64(n0->kernel_managed, (3840 + 290000) * PAGE, "node 0 kernel managed = DMA + Normal");
	is_u64(n0->kernel_present, (3998 + 300000) * PAGE, "node 0 kernel present");
	is_u64(n0->kernel_free, (3000 + 200000) * PAGE, "node 0 kernel free (Device zone's 55 pages left out)");
	is_u64(n0->kernel_min, (5 + 1000) * PAGE, "node 0 min watermark summed over kernel zones");
	is_u64(n0->kernel_low, (6 + 1250) * PAGE, "node 0 low watermark");
	is_u64(n0->kernel_high, (7 + 1500) * PAGE, "node 0 high watermark");
	is_u64(n0->movable_managed, 131072 * PAGE, "node 0 movable managed");
	is_u64(n0->movable_free, 100000 * PAGE, "node 0 movable free");
	is_u64(n1->kernel_managed, 60000 * PAGE, "node 1 kernel managed");
	is_u64(n1->movable_present, 131072 * PAGE, "node 1 movable present");
	is_u64(n2->kernel_managed + n2->movable_managed, 0, "node 2 listed with no memory");
	is_u64(s->total.kernel_managed, (3840 + 290000 + 60000) * PAGE, "system kernel managed");
	is_u64(s->total.movable_managed, 2 * 131072 * PAGE, "system movable managed");
	is_u64(s->total.kernel_high, (7 + 1500 + 700) * PAGE, "system high watermark");
	is_u64(n0->kernel_boot, n0->kernel_present, "kernel_boot = present before the baseline is read");
}

static void test_devices(const struct mz_snapshot *s, const struct mz_iomem *io)
{
	struct mz_device_snap dev;
	struct mz_block b;
	int r;

	r = mz_snapshot_block(s, io, 33, &b, &dev);
	is_int(r, 0, "block 33 (DIMM)");
	is_int(dev.source, MZ_SOURCE_DIMM, "DIMM: top-level System RAM + PNP0C80 firmware node");
	is_str(dev.name, "PNP0C80:00", "DIMM device named by its firmware node");
	is_u64(dev.start, 0x100000000ull, "DIMM range start from iomem");
	is_u64(dev.end, 0x13fffffffull, "DIMM range end from iomem");
	ok(dev.first_block == 32 && dev.last_block == 39, "DIMM blocks 32-39");
	ok(dev.n_blocks == 8 && dev.n_movable == 4 && dev.n_kernel == 2 && dev.n_offline == 2, "DIMM counts 4/2/2");
	ok(dev.mixed && dev.zone == MZ_ZONE_NONE, "DIMM with Movable and Normal blocks is mixed");

	r = mz_snapshot_block(s, io, 44, &b, &dev);
	is_int(r, 0, "block 44 (virtio-mem)");
	is_int(dev.source, MZ_SOURCE_VIRTIO_MEM, "virtio_mem source");
	is_str(dev.name, "virtio5", "virtio device name");
	ok(dev.start == 0x140000000ull && dev.end == 0x1bfffffffull, "virtio range = the virtio5 resource");
	ok(dev.first_block == 40 && dev.last_block == 55, "virtio blocks 40-55 scanned");
	ok(dev.n_blocks == 8 && dev.n_movable == 4 && dev.n_offline == 4 && dev.n_kernel == 0,
	   "virtio: 8 plugged blocks (48-55 absent), 4 Movable, 4 offline");
	ok(!dev.mixed && dev.zone == MZ_ZONE_MOVABLE, "virtio online blocks agree on Movable");
	ok(b.state == MZ_BLOCK_OFFLINE && b.id == 44, "the block itself is returned");

	r = mz_snapshot_block(s, io, 66, &b, &dev);
	ok(r == 0 && dev.source == MZ_SOURCE_KMEM && strcmp(dev.name, "dax0.0") == 0, "kmem block under CXL > region > dax0.0");
	ok(dev.n_blocks == 4 && dev.n_movable == 4, "dax0.0: 4 Movable blocks");

	r = mz_snapshot_block(s, io, 3, &b, &dev);
	ok(r == 0 && dev.source == MZ_SOURCE_BOOT && dev.name[0] == '\0', "block 3 is boot memory");
	ok(dev.n_blocks == 1 && dev.first_block == 3 && dev.last_block == 3,
	   "boot memory: only the block itself is read, never its whole range");

	is_int(mz_snapshot_block(s, io, 99, &b, &dev), -ENOENT, "missing block: -ENOENT");
}

static void test_devices_without_iomem(const struct mz_snapshot *s)
{
	struct mz_iomem zeroed = { .res = NULL, .n = 0, .zeroed = true };
	struct mz_device_snap dev;
	struct mz_block b;

	ok(mz_snapshot_block(s, NULL, 33, &b, &dev) == 0 && dev.source == MZ_SOURCE_DIMM, "no iomem: DIMM from firmware node");
	ok(dev.first_block == 32 && dev.last_block == 39 && dev.n_blocks == 8, "no iomem: DIMM extent from its neighbours");
	ok(dev.start == 0x100000000ull && dev.end == 0x13fffffffull, "no iomem: DIMM range from its blocks");
	ok(mz_snapshot_block(s, &zeroed, 45, &b, &dev) == 0 && dev.source == MZ_SOURCE_OTHER && dev.n_blocks == 1,
	   "zeroed iomem: an offline block is hot-added by 'other', alone");
	ok(mz_snapshot_block(s, &zeroed, 41, &b, &dev) == 0 && dev.source == MZ_SOURCE_BOOT,
	   "zeroed iomem: an online block without firmware node looks like boot memory");
}

static void test_baseline(struct mz_snapshot *s, const struct mz_iomem *io)
{
	const struct mz_node_snap *n0 = mz_snapshot_node(s, 0), *n1 = mz_snapshot_node(s, 1);

	is_int(mz_snapshot_boot_baseline(s, io, true), 0, "boot baseline");
	is_u64(n0->kernel_boot, n0->kernel_present - 2 * BS, "node 0: the DIMM's 2 Normal blocks are not boot memory");
	is_u64(n1->kernel_boot, n1->kernel_present, "node 1: kmem blocks are Movable, nothing to subtract");
	is_u64(s->total.kernel_boot, s->total.kernel_present - 2 * BS, "system baseline");
	ok(!s->iomem_zeroed, "iomem not zeroed");
	is_int(mz_snapshot_boot_baseline(s, NULL, true), 0, "baseline without iomem");
	is_u64(n0->kernel_boot, n0->kernel_present, "without iomem: kernel_boot = kernel_present");
}

/* The per-boot record: written by a scan, read instead of the blocks by a boot-basis decision. */
static void test_boot_record(struct mz_snapshot *s, const struct mz_iomem *io)
{
	const struct mz_node_snap *n0 = mz_snapshot_node(s, 0), *n1 = mz_snapshot_node(s, 1);
	char path[MZ_PATH_MAX], text[128];

	mz_path(path, sizeof(path), "%s", MZ_BOOT_RECORD_PATH);
	put("run/memzone/.keep", "");
	mz_snapshot_boot_record_forget();
	is_int(mz_snapshot_boot_baseline(s, io, false), 0, "boot baseline, no record yet");
	ok(access(path, F_OK) == 0, "the scan left a record");
	is_u64(n0->kernel_boot, n0->kernel_present - 2 * BS, "scanned: the DIMM's Normal blocks left out");

	snprintf(text, sizeof(text), "memzone-boot-kernel 1 %llu\n0 %llu\n", (unsigned long long)BS,
		 (unsigned long long)BS);
	put("run/memzone/boot-kernel", text);
	is_int(mz_snapshot_boot_baseline(s, io, false), 0, "boot baseline from the record");
	is_u64(n0->kernel_boot, BS, "node 0: the recorded figure, no block read");
	is_u64(n1->kernel_boot, 0, "node 1: not in the record, no kernel memory at boot");
	ok(!s->baseline_read, "kernel_hot_policy unknown from a record");
	is_int(mz_snapshot_boot_baseline(s, io, true), 0, "full baseline (ratio_basis = current)");
	is_u64(n0->kernel_boot, n0->kernel_present - 2 * BS, "full: scanned again, not the record");
	ok(s->baseline_read, "full: kernel_hot_policy known");

	snprintf(text, sizeof(text), "memzone-boot-kernel 1 %llu\n0 %llu\n", (unsigned long long)BS,
		 (unsigned long long)n0->kernel_present * 2);
	put("run/memzone/boot-kernel", text);
	is_int(mz_snapshot_boot_baseline(s, io, false), 0, "record above present");
	is_u64(n0->kernel_boot, n0->kernel_present, "never above the kernel memory present now");

	put("run/memzone/boot-kernel", "memzone-boot-kernel 1 4096\n0 1\n");
	is_int(mz_snapshot_boot_baseline(s, io, false), 0, "record of another block size");
	is_u64(n0->kernel_boot, n0->kernel_present - 2 * BS, "another block size: scanned");
	put("run/memzone/boot-kernel", "memzone-boot-kernel 1 134217728\n0 12x\n");
	is_int(mz_snapshot_boot_baseline(s, io, false), 0, "garbled record");
	is_u64(n0->kernel_boot, n0->kernel_present - 2 * BS, "garbled: scanned, and recorded anew");
	mz_snapshot_boot_record_forget();
	ok(access(path, F_OK) < 0 && errno == ENOENT, "forget removes the record");
}

static void test_brief(void)
{
	struct mz_block_brief bb;
	char why[256] = "";
	int fd = mz_memory_dir_open();

	ok(fd >= 0, "memory dir opens");
	is_int(mz_block_brief_at(fd, 70, MZ_BRIEF_ZONES, &bb, why, sizeof(why)), -EINVAL, "garbage state: -EINVAL");
	ok(strstr(why, "memory70/state") && strstr(why, "bogus"), "message names the file and its text: %s", why);
	is_int(mz_block_brief_at(fd, 71, MZ_BRIEF_ZONES, &bb, why, sizeof(why)), -ENOENT, "missing block: -ENOENT");
	ok(mz_block_brief_at(fd, 0, MZ_BRIEF_ZONES, &bb, why, sizeof(why)) == 0 && bb.zones_known && bb.zones == 0 &&
		   mz_block_zone_class(&bb) == MZ_CLASS_KERNEL,
	   "online block with valid_zones 'none' counts as kernel");
	ok(mz_block_brief_at(fd, 38, MZ_BRIEF_ZONES_IF_ONLINE, &bb, why, sizeof(why)) == 0 && !bb.zones_known,
	   "offline block: valid_zones not read when only online zones are wanted");
	ok(mz_block_brief_at(fd, 38, MZ_BRIEF_ZONES, &bb, why, sizeof(why)) == 0 && bb.zone == MZ_ZONE_NORMAL &&
		   (bb.zones & MZ_ZONE_BIT(MZ_ZONE_MOVABLE)),
	   "offline block: default zone first, Movable allowed");
	/* a value longer than the reader's buffer is an error, never its first bytes */
	block(72, 0, "online", "Normal", NULL);
	{
		char longer[300];

		snprintf(longer, sizeof(longer), "offline%*s!\n", 200, "");
		put("sys/devices/system/memory/memory72/state", longer);
	}
	is_int(mz_block_brief_at(fd, 72, MZ_BRIEF_ZONES, &bb, why, sizeof(why)), -ENOSPC,
	       "state longer than fits: -ENOSPC, not the 'offline' it starts with");
	ok(strstr(why, "memory72/state") != NULL, "... the message names the file: %s", why);
	put("sys/devices/system/memory/memory72/state", "offline\n");
	ok(mz_block_brief_at(fd, 72, MZ_BRIEF_ZONES, &bb, why, sizeof(why)) == 0 && bb.state == MZ_BLOCK_OFFLINE,
	   "... and read once it fits");
	if (fd >= 0)
		close(fd);
}

static void test_errors(void)
{
	struct mz_snapshot s;
	char err[512] = "";

	put("sys/devices/system/node/has_cpu", "0-\n");
	ok(mz_snapshot_read(&s, err, sizeof(err)) < 0 && strstr(err, "has_cpu"), "malformed has_cpu: %s", err);
	put("sys/devices/system/node/has_cpu", "0\n");
	put("proc/zoneinfo", "");
	err[0] = '\0';
	ok(mz_snapshot_read(&s, err, sizeof(err)) < 0 && strstr(err, "zoneinfo"), "empty zoneinfo: %s", err);
	put("proc/zoneinfo", zoneinfo_text);

	/* a 16K-page tree: same page counts, four times the MemTotal */
	char buf[64];
	snprintf(buf, sizeof(buf), "MemTotal: %llu kB\n", (3840ull + 290000 + 131072 + 60000 + 131072) * 16);
	put("proc/meminfo", buf);
	ok(mz_snapshot_read(&s, err, sizeof(err)) == 0 && s.page_size == 16384, "16K pages inferred from MemTotal");
	is_u64(mz_snapshot_node(&s, 1)->kernel_managed, 60000ull * 16384, "sums use the inferred page size");
	mz_snapshot_free(&s);
	unlink(strcat(strcpy(buf, root), "/proc/meminfo"));
	ok(mz_snapshot_read(&s, err, sizeof(err)) == 0 && s.page_size == 4096 && s.page_size_from == MZ_PAGE_SIZE_ASSUMED,
	   "no meminfo: 4096, assumed");
	mz_snapshot_free(&s);
}

/* ---------------------------------------------------------------- daemon state (what status reads) */

static void test_daemon_state(void)
{
	struct mz_daemon_state st, back;
	struct mz_ds_move m = { .when = 1000, .block = 0, .dir = MZ_MOVE_TO_KERNEL, .result = MZ_MOVE_OK, .duration_ms = 5 };
	char err[512] = "", *text;
	pid_t pid, child;
	size_t len;

	mz_daemon_state_init(&st);
	st.pid = 4242;
	st.updated = 1764111000;
	st.observe_only = true;
	mz_daemon_state_set_node(&st, 1, MZ_VERDICT_GROW_KERNEL, "free %s below\nhigh", "12M");
	mz_daemon_state_set_node(&st, 0, MZ_VERDICT_HOLD, "quiet");
	mz_daemon_state_set_node(&st, 1, MZ_VERDICT_GROW_KERNEL, "kernel free %dM below high + headroom", 12);
	ok(st.nnodes == 2 && st.nodes[0].node == 0 && st.nodes[1].node == 1, "nodes kept in id order, set twice = replaced");
	is_str(st.nodes[1].reason, "kernel free 12M below high + headroom", "reason formatted");
	mz_daemon_state_set_node(&st, 2, MZ_VERDICT_GROW_MOVABLE, "a\nb\tc");
	is_str(st.nodes[2].reason, "a b c", "line breaks in a reason become blanks (the file is line-based)");
	mz_daemon_state_add_backoff(&st, 37, 1764111300);
	mz_daemon_state_add_pinned(&st, &(struct mz_ds_pinned){ .block = 38, .since = 1764110000, .slab = 12, .pgtable = 3,
								 .other = 5 });
	mz_daemon_state_add_pinned(&st, &(struct mz_ds_pinned){ .block = 39, .since = 1764110100, .refused = "EBUSY x" });
	{
		char c[200];

		is_str(mz_ds_pinned_causes(&st.pinned[0], c, sizeof(c)), "12 slab, 3 page-table, 5 other unmovable pages",
		       "pinned causes: the nonzero counts");
		is_str(mz_ds_pinned_causes(&st.pinned[1], c, sizeof(c)),
		       "no slab, page-table, reserved or other unmovable page; offline refused (EBUSY_x)",
		       "pinned causes: none in the page flags, the kernel's refusal (one token)");
		is_str(mz_ds_pinned_causes(&(struct mz_ds_pinned){ .reserved = 1 }, c, sizeof(c)), "1 reserved page",
		       "pinned causes: one page");
	}
	for (unsigned long i = 0; i < 20; i++) {
		m.block = i;
		m.when = 1000 + (int64_t)i;
		m.result = i % 5 == 1 ? MZ_MOVE_FAILED : i % 5 == 2 ? MZ_MOVE_ROLLED_BACK : i % 5 == 3 ? MZ_MOVE_OBSERVED : MZ_MOVE_OK;
		m.dir = i % 2 ? MZ_MOVE_TO_MOVABLE : MZ_MOVE_TO_KERNEL;
		snprintf(m.error, sizeof(m.error), "%s", m.result == MZ_MOVE_FAILED ? "EBUSY after 2 tries" : "");
		mz_daemon_state_record_move(&st, &m);
	}
	is_int(st.nmoves, MZ_DS_MOVES, "only the last 16 moves are kept");
	is_int(st.moves[0].block, 4, "the oldest ones are dropped");
	is_int(st.moves[MZ_DS_MOVES - 1].block, 19, "newest last");
	/* i % 5: 0,4 ok (8 moves: i=0,4,5,9,10,14,15,19), 1 failed (4), 2 rolled back (4), 3 observed (4) */
	is_u64(st.moves_to_kernel + st.moves_to_movable, 8, "ok moves counted by direction");
	is_u64(st.moves_to_kernel, 4, "ok moves to kernel (even i)");
	is_u64(st.failures, 8, "failed and rolled-back moves are failures");
	is_u64(st.rollbacks, 4, "rollbacks");
	is_str(st.moves[MZ_DS_MOVES - 4].error, "EBUSY_after_2_tries", "blanks in an error become '_' (one token)");

	text = mz_daemon_state_format(&st, &len);
	ok(text && len == strlen(text) && mz_startswith(strchr(text, '\n') + 1, "version=1\n"), "formatted, version first");
	if (!ok(mz_daemon_state_parse(&back, "state", text, err, sizeof(err)) == 0, "parse what was formatted"))
		diag("%s", err);
	ok(back.pid == 4242 && back.updated == 1764111000 && back.observe_only && back.failures == 8 &&
		   back.rollbacks == 4 && back.moves_to_kernel == 4,
	   "round trip: pid, time, observe_only, counters");
	ok(back.nnodes == 3 && back.nodes[1].verdict == MZ_VERDICT_GROW_KERNEL &&
		   strcmp(back.nodes[1].reason, st.nodes[1].reason) == 0 && back.nodes[2].verdict == MZ_VERDICT_GROW_MOVABLE,
	   "round trip: verdicts and reasons");
	ok(back.nbackoffs == 1 && back.backoffs[0].block == 37 && back.backoffs[0].until == 1764111300, "round trip: backoff");
	ok(back.npinned == 2 && back.pinned[0].block == 38 && back.pinned[0].since == 1764110000 && back.pinned[0].slab == 12 &&
		   back.pinned[0].pgtable == 3 && back.pinned[0].reserved == 0 && back.pinned[0].other == 5 &&
		   !back.pinned[0].refused[0] && strcmp(back.pinned[1].refused, "EBUSY_x") == 0 &&
		   mz_daemon_state_pinned(&back, 39) == &back.pinned[1] && !mz_daemon_state_pinned(&back, 37),
	   "round trip: pinned blocks, their causes and refusals; looked up by block");
	bool same = back.nmoves == MZ_DS_MOVES;
	for (size_t i = 0; same && i < MZ_DS_MOVES; i++) {
		const struct mz_ds_move *a = &st.moves[i], *b = &back.moves[i];

		same = a->when == b->when && a->block == b->block && a->dir == b->dir && a->result == b->result &&
		       a->duration_ms == b->duration_ms && strcmp(a->error, b->error) == 0;
	}
	ok(same, "round trip: moves");
	mz_daemon_state_free(&back);
	free(text);

	/* written under the root, read back */
	is_int(mz_daemon_state_read(&back, err, sizeof(err)), -ENOENT, "no state file: -ENOENT");
	if (!ok(mz_daemon_state_write(&st, err, sizeof(err)) == 0, "written under <root>/run/memzone (created)"))
		diag("%s", err);
	ok(mz_daemon_state_read(&back, err, sizeof(err)) == 0 && back.nmoves == MZ_DS_MOVES && back.nnodes == 3,
	   "read back from the file");
	mz_daemon_state_free(&back);
	mz_daemon_state_begin_tick(&st);
	ok(st.nnodes == 0 && st.nbackoffs == 0 && st.npinned == 0 && st.nmoves == MZ_DS_MOVES && st.failures == 8,
	   "a new tick forgets verdicts, backoffs and pinned blocks, keeps moves and counters");
	mz_daemon_state_free(&st);

	static const struct { const char *text, *msg; int r; } bad[] = {
		{ "", "empty (no 'version=' line)", -EINVAL },
		{ "# only a comment\n", "empty", -EINVAL },
		{ "pid=1\nversion=1\n", "state:1: the first line must be 'version=N'", -EINVAL },
		{ "version=2\npid=1\n", "state:1: version 2 is not supported", -EPROTO },
		{ "version=1\nbanana\n", "state:2: not a 'key=value' line", -EINVAL },
		{ "version=1\npid=-3\n", "state:2: pid: not a process id", -EINVAL },
		{ "version=1\nfailures=1e3\n", "state:2: failures: not a counter", -EINVAL },
		{ "version=1\nnode=0 panic oh no\n", "state:2: node: verdict is not", -EINVAL },
		{ "version=1\nnode=-1 hold\n", "state:2: node: expected", -EINVAL },
		{ "version=1\nbackoff=12\n", "state:2: backoff: expected", -EINVAL },
		{ "version=1\nbackoff=12 13 14\n", "state:2: backoff: expected", -EINVAL },
		{ "version=1\npinned=12 13 1 2 3 4\n", "state:2: pinned: expected", -EINVAL },
		{ "version=1\npinned=12 13 1 2 3 x -\n", "state:2: pinned: expected", -EINVAL },
		{ "version=1\npinned=12 13 1 2 3 4 - extra\n", "state:2: pinned: expected", -EINVAL },
		{ "version=1\nmove=1 2 to-kernel ok 5\n", "state:2: move: expected", -EINVAL },
		{ "version=1\nmove=1 2 sideways ok 5 -\n", "state:2: move: expected", -EINVAL },
		{ "version=1\nmove=1 99999999999 to-kernel ok 5 -\n", "state:2: move: expected", -EINVAL },
		{ "version=1\nobserve_only=yes\n", "state:2: observe_only: not 0 or 1", -EINVAL },
	};
	for (size_t i = 0; i < MZ_ARRAY_SIZE(bad); i++) {
		int r = mz_daemon_state_parse(&back, "state", bad[i].text, err, sizeof(err));

		if (!ok(r == bad[i].r && strstr(err, bad[i].msg) && back.nnodes == 0 && back.nodes == NULL,
			"corrupt state %zu refused: %s", i, bad[i].msg))
			diag("got %d '%s'", r, err);
	}
	ok(mz_daemon_state_parse(&back, "state", "version=1\nnew_key=whatever\n\n  # note\nnode=3 hold\n", err,
				 sizeof(err)) == 0 && back.nnodes == 1 && back.nodes[0].reason[0] == '\0',
	   "unknown keys, blank and comment lines are fine; a verdict without reason too");
	mz_daemon_state_free(&back);

	/* liveness from memzoned's flocks, which the kernel drops when the holder dies */
	ok(!mz_daemon_alive(&pid) && pid == 0 && !mz_daemon_decides(), "no lock file: not alive, not deciding");
	snprintf(err, sizeof(err), "%ld\n", (long)getpid());
	put("run/memzone/memzoned.lock", err);
	put("run/memzone/memzoned.decides", "");
	ok(!mz_daemon_alive(&pid) && pid == 0 && !mz_daemon_decides(),
	   "lock files left behind, naming a live process (a killed memzoned's pid, reused): not alive, not deciding");
	{
		struct mz_lock life = MZ_LOCK_INIT, decides = MZ_LOCK_INIT;
		struct mz_snapshot sn;
		char e2[256] = "", st_path[MZ_PATH_MAX];

		ok(mz_flock_take(&life, MZ_DS_LOCK_PATH, 0) == 0, "the lock is free: taken");
		ok(mz_daemon_alive(&pid) && pid == getpid() && !mz_daemon_decides(),
		   "lock held by a live process: alive, with the pid in the file; not deciding without the second flock");
		ok(mz_flock_take(&decides, MZ_DS_DECIDES_PATH, 0) == 0 && mz_daemon_decides(), "memzoned.decides held: deciding");
		/* the state file an earlier test wrote goes first: a memzoned that has not ticked yet */
		snprintf(st_path, sizeof(st_path), "%s/run/memzone/state", root);
		unlink(st_path);
		ok(mz_snapshot_read(&sn, e2, sizeof(e2)) == 0 && sn.rebalancer_running,
		   "... the snapshot: memzoned runs (no state file yet: it may move blocks)");
		mz_snapshot_free(&sn);
		put("run/memzone/state", "version=1\nobserve_only=0\n");
		ok(mz_snapshot_read(&sn, e2, sizeof(e2)) == 0 && sn.rebalancer_running, "... observe_only=0: it runs");
		mz_snapshot_free(&sn);
		put("run/memzone/state", "version=1\nobserve_only=1\n");
		ok(mz_snapshot_read(&sn, e2, sizeof(e2)) == 0 && !sn.rebalancer_running,
		   "... observe_only=1 in its state file: it moves nothing, the policy is the one without it");
		mz_snapshot_free(&sn);
		unlink(st_path);
		{
			struct mz_lock second = MZ_LOCK_INIT;

			ok(mz_flock_take(&second, MZ_DS_LOCK_PATH, 0) == -ETIMEDOUT && !mz_lock_held(&second),
			   "a second taker finds it held (a second memzoned)");
		}
		put("run/memzone/memzoned.lock", "12ab\n");
		ok(mz_daemon_alive(&pid) && pid == 0, "held, garbage in the file: alive, pid unknown");
		mz_lock_release(&decides);
		mz_lock_release(&life);
		ok(!mz_daemon_alive(&pid) && pid == 0 && !mz_daemon_decides(), "let go: not alive, not deciding");
	}
	{
		int pfd[2];
		char c;

		/* a holder killed with SIGKILL: nothing it could clean up, the kernel drops its flocks */
		child = -1;
		if (pipe(pfd) == 0 && (child = fork()) == 0) {
			struct mz_lock l = MZ_LOCK_INIT, d = MZ_LOCK_INIT;

			if (mz_flock_take(&l, MZ_DS_LOCK_PATH, 0) == 0 && mz_flock_take(&d, MZ_DS_DECIDES_PATH, 0) == 0) {
				snprintf(err, sizeof(err), "%ld\n", (long)getpid());
				put("run/memzone/memzoned.lock", err);
				(void)!write(pfd[1], "x", 1);
				pause();
			}
			_exit(1);
		}
		close(pfd[1]);
		ok(read(pfd[0], &c, 1) == 1 && mz_daemon_alive(&pid) && pid == child && mz_daemon_decides(),
		   "held by another live process: alive (its pid), deciding");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		close(pfd[0]);
		ok(!mz_daemon_alive(&pid) && pid == 0 && !mz_daemon_decides(),
		   "that process SIGKILLed: not alive, not deciding (its pid is still in the file)");
		{
			struct mz_lock again = MZ_LOCK_INIT;

			ok(mz_flock_take(&again, MZ_DS_LOCK_PATH, 0) == 0, "the next taker (a new memzoned) gets the lock");
			mz_lock_release(&again);
		}
	}
}

/* The Prometheus printer gives the per-node figures and, when memzoned's state is known, its counters
 * and verdicts next to them. */
static void test_status_prometheus(void)
{
	struct mz_daemon_state ds;
	struct mz_status st;
	char err[512] = "", *text = NULL;
	size_t len = 0;
	FILE *f;

	put("sys/devices/system/memory/memory70/state", "offline\n"); /* status refuses its garbage */
	if (!ok(mz_status_collect(&st, 0, err, sizeof(err)) == 0, "status collects the tree"))
		diag("%s", err);
	put("sys/devices/system/memory/memory70/state", "bogus\n");
	ok(st.daemon == NULL, "no daemon state file: no daemon section");
	mz_daemon_state_init(&ds);
	ds.moves_to_kernel = 7;
	mz_daemon_state_set_node(&ds, 0, MZ_VERDICT_GROW_KERNEL, "test");
	st.daemon = &ds;
	f = open_memstream(&text, &len);
	mz_status_print_prometheus(&st, f);
	fclose(f);
	ok(strstr(text, "memzone_zone_managed_bytes{node=\"1\",zone=\"kernel\"} 245760000\n") != NULL,
	   "per-node managed bytes (60000 pages)");
	ok(strstr(text, "memzone_moves_total{direction=\"to_kernel\"} 7\n") &&
		   strstr(text, "memzone_pressure{node=\"0\",verdict=\"grow-kernel\"} 1\n"),
	   "the daemon's own counters and verdicts");
	free(text);
	mz_daemon_state_free(&ds);
	st.daemon = NULL;
	mz_status_free(&st);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* New top-level System RAM ranges: an ACPI DIMM is known before its blocks are bound to it, and a
 * range ACPI never binds is one device of another agent (snapshot.c, "new blocks of ACPI memory
 * devices"). Blocks 96-99: a DIMM bound 60 ms later; 104-107: never bound; 112-115: bound from the
 * first block on, the rest not yet; 120-123: boot memory's range with new blocks merged into it. */
static const char iomem_new_text[] =
	"00100000-3fffffff : System RAM\n"
	"300000000-31fffffff : System RAM\n"
	"340000000-35fffffff : System RAM\n"
	"380000000-39fffffff : System RAM\n"
	"3c0000000-3dfffffff : System RAM\n";

static void bind_blocks(unsigned long first, unsigned long last, const char *fw)
{
	char rel[128], target[64];

	for (unsigned long id = first; id <= last; id++) {
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%lu/firmware_node", id);
		snprintf(target, sizeof(target), "../../../LNXSYSTM:00/LNXSYBUS:00/%s", fw);
		link_to(rel, target);
	}
}

static void test_new_ranges(void)
{
	struct mz_snapshot s;
	struct mz_iomem io = { 0 };
	struct mz_device_snap dev;
	struct mz_block b;
	char err[512];
	unsigned budget;
	uint64_t t0;
	pid_t pid;
	int r, st;

	for (unsigned long id = 96; id < 100; id++)
		block(id, 0, "offline\n", "Normal Movable\n", NULL);
	for (unsigned long id = 104; id < 108; id++)
		block(id, 0, "offline\n", "Normal Movable\n", NULL);
	for (unsigned long id = 112; id < 116; id++)
		block(id, 0, "offline\n", "Normal Movable\n", id == 112 ? "PNP0C80:02" : NULL);
	block(120, 0, "online\n", "Normal\n", NULL);
	for (unsigned long id = 121; id < 124; id++)
		block(id, 0, "offline\n", "Normal Movable\n", NULL);
	put("sys/firmware/acpi/tables/DSDT", "");
	if (!ok(mz_snapshot_read(&s, err, sizeof(err)) == 0 && mz_iomem_parse(iomem_new_text, &io, err, sizeof(err)) == 0,
		"tree with new ranges"))
		diag("%s", err);

	/* a DIMM whose binding comes while the decision waits */
	pid = fork();
	if (pid == 0) {
		usleep(60000);
		bind_blocks(96, 99, "PNP0C80:01");
		_exit(0);
	}
	budget = 1000;
	t0 = mz_now_ms();
	r = mz_snapshot_block_wait(&s, &io, 97, &b, &dev, &budget);
	waitpid(pid, &st, 0);
	ok(r == 0 && dev.source == MZ_SOURCE_DIMM && strcmp(dev.name, "PNP0C80:01") == 0,
	   "new range, bound 60 ms later: the decision waits and sees the DIMM (%s %s)", mz_source_name(dev.source), dev.name);
	ok(dev.first_block == 96 && dev.last_block == 99 && dev.n_offline == 4, "... with the range's 4 blocks");
	ok(dev.bind_wait_ms >= 50 && !dev.bind_timed_out && budget == 1000 - dev.bind_wait_ms,
	   "... after %u ms, taken off the budget (%u left)", dev.bind_wait_ms, budget);
	ok(b.acpi_dimm && strcmp(b.firmware_node, "PNP0C80:01") == 0, "... and the block is the DIMM's");
	ok(mz_now_ms() - t0 < 900, "... without waiting for the whole budget");

	/* never bound: another agent's memory, one device = the range */
	budget = 100;
	r = mz_snapshot_block_wait(&s, &io, 105, &b, &dev, &budget);
	ok(r == 0 && dev.source == MZ_SOURCE_OTHER && dev.bind_timed_out && budget == 0 && dev.bind_wait_ms >= 100,
	   "never bound: 'other' once the budget is spent (%u ms)", dev.bind_wait_ms);
	ok(dev.first_block == 104 && dev.last_block == 107 && dev.n_blocks == 4 && dev.start == 0x340000000ull &&
	   dev.end == 0x35fffffffull, "... its device is the whole range, as a DIMM's would be");
	r = mz_snapshot_block_wait(&s, &io, 106, &b, &dev, &budget);
	ok(r == 0 && dev.source == MZ_SOURCE_OTHER && dev.bind_wait_ms == 0 && dev.first_block == 104 && dev.n_blocks == 4,
	   "budget spent: no wait, the same device for the range's next block");
	r = mz_snapshot_block(&s, &io, 107, &b, &dev);
	ok(r == 0 && dev.source == MZ_SOURCE_OTHER && dev.first_block == 104 && dev.last_block == 107,
	   "without a wait (plan, the reservations): the same device");

	/* binding in progress: the first block is bound, this one not yet */
	budget = 1000;
	r = mz_snapshot_block_wait(&s, &io, 114, &b, &dev, &budget);
	ok(r == 0 && dev.source == MZ_SOURCE_DIMM && strcmp(dev.name, "PNP0C80:02") == 0 && dev.first_block == 112 &&
	   dev.last_block == 115 && budget == 1000 && dev.bind_wait_ms == 0,
	   "range's first block bound: a DIMM at once, whatever this block's own link says");

	/* the range holds online memory without a binding: boot memory (a merged balloon): alone */
	r = mz_snapshot_block_wait(&s, &io, 122, &b, &dev, &budget);
	ok(r == 0 && dev.source == MZ_SOURCE_OTHER && dev.n_blocks == 1 && dev.first_block == 122 && budget == 1000,
	   "range starting with online unbound memory: 'other', this block alone, no wait, no scan of the range");

	/* no ACPI (s390, Xen PV): nothing binds blocks, nothing to wait for */
	{
		char path[MZ_PATH_MAX];

		snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/DSDT", root);
		unlink(path);
		snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables", root);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/sys/firmware/acpi", root);
		rmdir(path);
	}
	budget = 1000;
	r = mz_snapshot_block_wait(&s, &io, 104, &b, &dev, &budget);
	ok(r == 0 && dev.source == MZ_SOURCE_OTHER && budget == 1000 && dev.bind_wait_ms == 0 && dev.n_blocks == 4,
	   "no ACPI: no wait, 'other' with its range");

	mz_iomem_free(&io);
	mz_snapshot_free(&s);
}

int main(void)
{
	struct mz_snapshot s;
	struct mz_iomem io = { 0 };
	char err[512];

	test_pure();
	build_tree();
	mz_root_set(root);
	test_snapshot(&s);
	if (!ok(mz_iomem_parse(iomem_text, &io, err, sizeof(err)) == 0, "iomem parses"))
		diag("%s", err);
	test_devices(&s, &io);
	test_devices_without_iomem(&s);
	test_baseline(&s, &io);
	test_boot_record(&s, &io);
	test_brief();
	mz_iomem_free(&io);
	mz_snapshot_free(&s);
	test_errors();
	test_daemon_state();
	test_status_prometheus();
	test_new_ranges();
	if (!getenv("KEEP_TREE"))
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		diag("tree kept in %s", root);
	return tap_done();
}
