/* test-memblock.c - /sys/devices/system/memory reader on expanded real-world trees and mktree trees
 *
 * Trees come from tests/fixtures/expand-tree.py and mktree.py (python3). The listing of each
 * real-world tree is also read here, independently, so every block the reader returns is checked
 * against the capture. A block that vanishes mid-read is simulated by an openat() wrapper that
 * removes the block directory just before a chosen attribute is opened.
 */
#include "iomem.h"
#include "memblock.h"
#include "tap.h"
#include "util.h"
#include "zoneinfo.h"
#include "udevdb.h"
#include "daxctl.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char srcdir[1024], tmp[1024];
static bool have_python = true;

/* ------------------------------------------------------------ helpers */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

/* python3 SCRIPT ARGS... (NULL-terminated); true on exit status 0 */
static bool run_python(const char *script, ...)
{
	char path[MZ_PATH_MAX];
	const char *argv[16] = { "python3", path };
	int argc = 2, status;
	va_list ap;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", srcdir, script);
	va_start(ap, script);
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (posix_spawnp(&pid, "python3", NULL, NULL, (char *const *)argv, environ) != 0)
		return false;
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void write_text(const char *root, const char *rel, const char *text)
{
	char path[MZ_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* ------------------------------------------------------------ a block vanishing mid-read */

static char vanish_attr[32];          /* remove vanish_dir when this attribute is opened */
static char vanish_dir[MZ_PATH_MAX];

int openat(int dirfd, const char *pathname, int flags, ...);
int openat(int dirfd, const char *pathname, int flags, ...)
{
	static int (*real_openat)(int, const char *, int, ...);
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (!real_openat)
		real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	if (vanish_attr[0] && strcmp(pathname, vanish_attr) == 0) {
		vanish_attr[0] = '\0';
		rm_rf(vanish_dir); /* the kernel removed the block: its directory fd now leads nowhere */
	}
	return real_openat(dirfd, pathname, flags, mode);
}

/* ------------------------------------------------------------ the capture's own view */

#define MAX_BLOCKS 512

struct listed {
	bool present;
	char state[32], zones[64];
	long phys_device;
	int node;
};

/* Parse memory-tree.txt ("memoryN/attr: value", "memoryN/nodeX -> ...") without the reader. */
static size_t read_listing(const char *dir, struct listed *l, unsigned long base, uint64_t *bs)
{
	char path[MZ_PATH_MAX], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/real-world/%s/memory-tree.txt", srcdir, dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	memset(l, 0, MAX_BLOCKS * sizeof(*l));
	while (fgets(line, sizeof(line), f)) {
		unsigned long id;
		char attr[64], *val;
		int node;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "block_size_bytes: %" SCNx64, bs) == 1)
			continue;
		if (sscanf(line, "memory%lu/%63[^:]", &id, attr) != 2 || id < base || id - base >= MAX_BLOCKS)
			continue;
		if (!l[id - base].present) {
			l[id - base].present = true;
			l[id - base].node = -1;
			l[id - base].phys_device = -1;
			n++;
		}
		val = strstr(line, ": ");
		if (sscanf(attr, "node%d ->", &node) == 1)
			l[id - base].node = node;
		else if (val && strcmp(attr, "state") == 0)
			snprintf(l[id - base].state, sizeof(l[id - base].state), "%s", val + 2);
		else if (val && strcmp(attr, "valid_zones") == 0)
			snprintf(l[id - base].zones, sizeof(l[id - base].zones), "%s", val + 2);
		else if (val && strcmp(attr, "phys_device") == 0)
			l[id - base].phys_device = strtol(val + 2, NULL, 10);
	}
	fclose(f);
	return n;
}

/* Expand one capture and compare every block with the listing. Leaves the root set. */
static bool check_capture(const char *dir, unsigned long base, struct listed *l)
{
	char root[2048], src[MZ_PATH_MAX];
	unsigned long *ids = NULL;
	uint64_t bs = 0, want_bs = 0;
	size_t n = 0, want_n, agree = 0;

	want_n = read_listing(dir, l, base, &want_bs);
	snprintf(root, sizeof(root), "%s/%s", tmp, dir);
	snprintf(src, sizeof(src), "%s/tests/fixtures/real-world/%s", srcdir, dir);
	if (!ok(run_python("expand-tree.py", src, root, NULL), "%s: expanded by expand-tree.py", dir))
		return false;
	mz_root_set(root);
	is_int(mz_memblock_size(&bs), 0, "%s: block size read", dir);
	is_u64(bs, want_bs, "%s: block size %#" PRIx64, dir, want_bs);
	is_int(mz_memblock_list(&ids, &n), 0, "%s: block list read", dir);
	is_int(n, want_n, "%s: %zu blocks", dir, want_n);
	for (size_t i = 0; i < n; i++) {
		struct mz_block b;
		const struct listed *w = ids[i] >= base && ids[i] - base < MAX_BLOCKS ? &l[ids[i] - base] : NULL;
		unsigned mask;
		enum mz_zone first;
		bool same;

		if (!w || !w->present || (i && ids[i] <= ids[i - 1]) || mz_memblock_read(ids[i], bs, &b) < 0) {
			diag("block %lu: not in the listing, out of order or unreadable", ids[i]);
			continue;
		}
		same = strcmp(mz_block_state_name(b.state), w->state) == 0 && b.node == w->node &&
		       b.phys_device == w->phys_device && b.start == ids[i] * bs &&
		       mz_valid_zones_parse(w->zones, &mask, &first) == 0 && b.zones == mask && b.zone == first &&
		       !b.acpi_dimm && b.firmware_node[0] == '\0';
		if (!same)
			diag("block %lu: state %s node %d phys %ld zones %#x vs listing %s node %d phys %ld '%s'", ids[i],
			     mz_block_state_name(b.state), b.node, b.phys_device, b.zones, w->state, w->node,
			     w->phys_device, w->zones);
		agree += same;
	}
	is_int(agree, want_n, "%s: every block agrees with the capture", dir);
	free(ids);
	return true;
}

/* ------------------------------------------------------------ real-world trees */

static void test_captures(void)
{
	static struct listed l[MAX_BLOCKS];
	unsigned long *ids = NULL;
	char buf[64];
	struct mz_block b;
	size_t n = 0, offline = 0, node1 = 0;

	if (check_capture("firecracker-6.18-x86_64", 0, l)) {
		/* 192 x 128 MiB blocks, ids 0-23 and 32-199 (the 3-4 GiB PCI hole) */
		mz_memblock_list(&ids, &n);
		ok(n == 192 && ids[0] == 0 && ids[23] == 23 && ids[24] == 32 && ids[191] == 199,
		   "6.18: ids 0-23, 32-199");
		free(ids);
		is_int(mz_memblock_read(24, 0x8000000, &b), -ENOENT, "6.18: memory24 (hole): -ENOENT");
		ok(mz_memblock_read(0, 0x8000000, &b) == 0 && b.zones == 0 && b.zone == MZ_ZONE_NONE,
		   "6.18: memory0 valid_zones none -> mask 0, zone none");
		ok(mz_auto_online_read(buf, sizeof(buf)) == 0 && strcmp(buf, "offline") == 0,
		   "6.18: auto_online_blocks offline");
		{
			struct mz_zoneinfo zi = { 0 };
			char err[512];

			ok(mz_zoneinfo_read(&zi, err, sizeof(err)) == 0 && zi.nzones == 5,
			   "6.18: expand-tree.py put proc/zoneinfo in the root");
			mz_zoneinfo_free(&zi);
		}
	}

	if (check_capture("util-linux-lsmem-s390-zvm-6g", 0, l)) {
		/* 24 x 256 MiB = 6 GiB; memory14 and memory20-23 offline */
		for (unsigned long id = 0; id < 24; id++)
			offline += mz_memblock_read(id, 0x10000000, &b) == 0 && b.state == MZ_BLOCK_OFFLINE;
		is_int(offline, 5, "s390: 5 offline blocks");
		ok(mz_memblock_read(18, 0x10000000, &b) == 0 && b.state == MZ_BLOCK_ONLINE && b.zone == MZ_ZONE_MOVABLE &&
			   b.zones == (MZ_ZONE_BIT(MZ_ZONE_MOVABLE) | MZ_ZONE_BIT(MZ_ZONE_NORMAL)),
		   "s390 memory18 'Movable Normal': online in Movable");
		/* phys_device = storage increment: 32 per 256 MiB block -> memory18 is 18 * 32 = 576 */
		ok(b.phys_device == 576 && b.start == 18ull * 0x10000000, "s390 memory18: phys_device 576, at 4.5 GiB");
		ok(mz_memblock_read(7, 0x10000000, &b) == 0 && b.zone == MZ_ZONE_DMA &&
			   b.zones == (MZ_ZONE_BIT(MZ_ZONE_DMA) | MZ_ZONE_BIT(MZ_ZONE_NORMAL)),
		   "s390 memory7 'DMA Normal'");
		ok(mz_memblock_read(20, 0x10000000, &b) == 0 && b.state == MZ_BLOCK_OFFLINE && b.zone == MZ_ZONE_MOVABLE,
		   "s390 memory20: offline, would go to Movable");
	}

	if (check_capture("util-linux-lsmem-aarch64-16k-16g", 8192, l)) {
		/* 126 blocks 8192-8316 and 8319: the first one sits at 8192 * 128 MiB = 2^40 (1 TiB) */
		mz_memblock_list(&ids, &n);
		ok(n == 126 && ids[0] == 8192 && ids[124] == 8316 && ids[125] == 8319, "aarch64: ids 8192-8316, 8319");
		free(ids);
		ok(mz_memblock_read(8192, 0x8000000, &b) == 0 && b.start == 1ull << 40 && b.zone == MZ_ZONE_DMA,
		   "aarch64 memory8192 at 1 TiB, zone DMA");
		is_int(mz_memblock_read(8317, 0x8000000, &b), -ENOENT, "aarch64: memory8317 (gap): -ENOENT");
		is_int(mz_memblock_read(0, 0x8000000, &b), -ENOENT, "aarch64: no memory0");
	}

	if (check_capture("pcp-meminfo-root-008", 0, l)) {
		/* 2 GiB blocks: 0 and 2-128 (memory1 missing), 64 per node */
		mz_memblock_list(&ids, &n);
		ok(n == 128 && ids[0] == 0 && ids[1] == 2 && ids[127] == 128, "pcp-008: ids 0, 2-128");
		for (size_t i = 0; i < n; i++)
			node1 += mz_memblock_read(ids[i], 1ull << 31, &b) == 0 && b.node == 1;
		free(ids);
		is_int(node1, 64, "pcp-008: 64 blocks on node 1");
		is_int(mz_memblock_read(1, 1ull << 31, &b), -ENOENT, "pcp-008: memory1 (hole): -ENOENT");
		ok(mz_memblock_read(128, 1ull << 31, &b) == 0 && b.start == 256ull << 30 && b.node == 1,
		   "pcp-008 memory128 at 256 GiB on node 1");
	}

	check_capture("pcp-sysfs-numa-001", 0, l);
	check_capture("util-linux-lsmem-x86_64-16g", 0, l);
	check_capture("util-linux-chmem-x86_64-16g", 0, l);
	mz_root_set(NULL);
}

/* ------------------------------------------------------------ mktree: devices, writes, races */

/* mktree's zoneinfo and iomem agree with its blocks (the tree other areas' tests are built on). */
static void test_mktree_consistent(void)
{
	struct mz_zoneinfo zi = { 0 };
	struct mz_iomem io = { 0 };
	struct mz_iomem_owner own;
	const struct mz_zone_info *z;
	char err[512];

	if (!ok(mz_zoneinfo_read(&zi, err, sizeof(err)) == 0, "mktree: zoneinfo parses"))
		diag("%s", err);
	/* node 1: 4 virtio-mem blocks online movable = 4 * 32768 pages, contiguous from block 36 */
	z = mz_zoneinfo_find(&zi, 1, MZ_ZONE_MOVABLE);
	ok(z && z->present == 4 * 32768 && z->managed == 4 * 32768 && z->spanned == 4 * 32768,
	   "mktree: node 1 Movable = the 4 online virtio-mem blocks");
	/* node 0: blocks 0-15, minus the first 16 MiB (DMA): 16 * 32768 - 4096 = 520192 pages,
	 * managed = 520192 - 520192 / 64 = 512064 */
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA32);
	ok(z && z->present == 520192 && z->managed == 512064, "mktree: node 0 DMA32 520192 present, 512064 managed");
	/* node 1: blocks 16-31 = 524288 pages, all below 4 GiB */
	z = mz_zoneinfo_find(&zi, 1, MZ_ZONE_DMA32);
	ok(z && z->present == 524288 && z->spanned == 524288, "mktree: node 1 DMA32 = blocks 16-31");
	ok(mz_zoneinfo_find(&zi, 1, MZ_ZONE_NORMAL) && mz_zoneinfo_find(&zi, 1, MZ_ZONE_NORMAL)->present == 0,
	   "mktree: the offline DIMM adds nothing");
	mz_zoneinfo_free(&zi);

	if (!ok(mz_iomem_read(&io, err, sizeof(err)) == 0, "mktree: iomem parses"))
		diag("%s", err);
	/* the DIMM: its own top-level System RAM from 4 GiB (block 32), 4 blocks = 512 MiB */
	ok(mz_iomem_owner(&io, 32ull << 27, &own) == 0 && own.source == MZ_SOURCE_BOOT &&
		   own.dev_start == 0x100000000ull && own.dev_end == 0x11fffffffull,
	   "mktree: DIMM range 100000000-11fffffff, top-level System RAM");
	ok(mz_iomem_owner(&io, 38ull << 27, &own) == 0 && own.source == MZ_SOURCE_VIRTIO_MEM &&
		   strcmp(own.device, "virtio0") == 0 && own.dev_start == 0x120000000ull && own.dev_end == 0x13fffffffull,
	   "mktree: block 38 belongs to virtio0 (120000000-13fffffff)");
	mz_iomem_free(&io);
}

static void test_mktree(void)
{
	char root[2048], path[MZ_PATH_MAX], buf[64];
	struct mz_hotplug_params hp;
	struct mz_block b;
	uint64_t bs;

	snprintf(root, sizeof(root), "%s/mk", tmp);
	/* 32 boot blocks (0-31, 4 GiB), then from 4 GiB: a DIMM (32-35, offline) and virtio-mem
	 * (36-39, online movable) on node 1 */
	if (!ok(run_python("mktree.py", root, "--blocks", "40", "--nodes", "2", "--hotplug", "dimm:4@1", "--hotplug",
			   "virtio_mem:4@1=movable", NULL),
		"mktree.py tree"))
		return;
	mz_root_set(root);
	ok(mz_memblock_size(&bs) == 0 && bs == 128u << 20, "mktree: 128 MiB blocks");
	ok(mz_memblock_read(33, bs, &b) == 0 && b.acpi_dimm && strcmp(b.firmware_node, "PNP0C80:00") == 0 &&
		   b.state == MZ_BLOCK_OFFLINE && b.node == 1 && b.zone == MZ_ZONE_NORMAL &&
		   b.zones == (MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE)),
	   "DIMM block: firmware_node PNP0C80:00, acpi_dimm, offline, 'Normal Movable'");
	ok(mz_memblock_read(37, bs, &b) == 0 && !b.acpi_dimm && b.firmware_node[0] == '\0' &&
		   b.state == MZ_BLOCK_ONLINE && b.zone == MZ_ZONE_MOVABLE,
	   "virtio-mem block: no firmware_node, online Movable");
	ok(mz_memblock_read(5, bs, &b) == 0 && b.node == 0 && b.zone == MZ_ZONE_DMA32 && b.start == 5ull << 27,
	   "boot block 5: node 0, DMA32");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory", root);
	{
		int memfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char fw[16], tiny[8];

		mz_firmware_node_at(memfd, 34, fw, sizeof(fw));
		ok(strcmp(fw, "PNP0C80:00") == 0, "firmware_node by id: the DIMM's device (%s)", fw);
		mz_firmware_node_at(memfd, 37, fw, sizeof(fw));
		ok(fw[0] == '\0', "firmware_node by id: none for virtio-mem");
		mz_firmware_node_at(memfd, 99, fw, sizeof(fw));
		ok(fw[0] == '\0', "firmware_node by id: none for a block that does not exist");
		mz_firmware_node_at(memfd, 34, tiny, sizeof(tiny));
		ok(tiny[0] == '\0', "firmware_node by id: a name too long for the buffer is none, not a prefix");
		if (memfd >= 0)
			close(memfd);
	}
	test_mktree_consistent();

	/* states the kernel prints while a block goes away, and nonsense */
	write_text(root, "sys/devices/system/memory/memory5/state", "going-offline\n");
	ok(mz_memblock_read(5, bs, &b) == 0 && b.state == MZ_BLOCK_GOING_OFFLINE, "state going-offline");
	is_str(mz_block_state_name(b.state), "going-offline", "... named going-offline");
	write_text(root, "sys/devices/system/memory/memory5/state", "sleepy\n");
	ok(mz_memblock_read(5, bs, &b) == 0 && b.state == MZ_BLOCK_UNKNOWN, "unknown state text -> unknown");
	write_text(root, "sys/devices/system/memory/memory5/valid_zones", "N@rmal\n");
	ok(mz_memblock_read(5, bs, &b) == 0 && b.zones == 0 && b.zone == MZ_ZONE_NONE, "garbage valid_zones -> unknown");
	write_text(root, "sys/devices/system/memory/memory5/phys_device", "-3\n");
	ok(mz_memblock_read(5, bs, &b) == 0 && b.phys_device == -1, "negative phys_device -> -1");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory5/valid_zones", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory5/node0", root);
	unlink(path);
	ok(mz_memblock_read(5, bs, &b) == 0 && b.zones == 0 && b.node == -1,
	   "no valid_zones (pre-3.18) and no node link: still readable");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory5/state", root);
	unlink(path);
	is_int(mz_memblock_read(5, bs, &b), -ENOENT, "no state file: -ENOENT");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory77", root);
	write_text(root, "sys/devices/system/memory/memory77", "not a dir\n");
	is_int(mz_memblock_read(77, bs, &b), -ENOENT, "memoryN that is a file: -ENOENT");
	unlink(path);
	is_int(mz_memblock_read(4000000000ul, bs, &b), -ENOENT, "absent block: -ENOENT");

	/* vanishing while being read, at each attribute after the directory was opened */
	/* (attributes are opened relative to the memory directory; "" is the block's directory itself,
	 * opened for its node link) */
	static const char *const attrs[] = { "state", "valid_zones", "phys_device", "" };
	for (size_t i = 0; i < MZ_ARRAY_SIZE(attrs); i++) {
		unsigned long id = 20 + i;

		snprintf(vanish_dir, sizeof(vanish_dir), "%s/sys/devices/system/memory/memory%lu", root, id);
		snprintf(vanish_attr, sizeof(vanish_attr), "memory%lu%s%s", id, attrs[i][0] ? "/" : "", attrs[i]);
		is_int(mz_memblock_read(id, bs, &b), -ENOENT, "memory%lu removed when '%s' is opened: -ENOENT", id,
		       attrs[i]);
		ok(vanish_attr[0] == '\0', "... the removal happened mid-read");
	}

	/* state writes: one write() of the word, refused words never reach the file */
	is_int(mz_memblock_write_state(33, "online_movable"), 0, "write online_movable to memory33");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory33/state", root);
	ok(mz_read_line(path, buf, sizeof(buf)) == 0 && strcmp(buf, "online_movable") == 0, "... the file got it");
	is_int(mz_memblock_write_state(34, "online_movable\n"), -EINVAL, "word with newline refused");
	is_int(mz_memblock_write_state(34, "remove"), -EINVAL, "unknown word refused");
	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory34/state", root);
	ok(mz_read_line(path, buf, sizeof(buf)) == 0 && strcmp(buf, "offline") == 0, "... file untouched");
	is_int(mz_memblock_write_state(4000, "offline"), -ENOENT, "write to an absent block: -ENOENT");

	/* auto_online_blocks */
	ok(mz_auto_online_read(buf, sizeof(buf)) == 0 && strcmp(buf, "offline") == 0, "auto_online_blocks offline");
	is_int(mz_auto_online_write("always"), -EINVAL, "auto_online value 'always' refused");
	is_int(mz_auto_online_write("online_movable"), 0, "auto_online_blocks <- online_movable");
	ok(mz_auto_online_read(buf, sizeof(buf)) == 0 && strcmp(buf, "online_movable") == 0, "... read back");
	is_int(mz_auto_online_read(buf, 4), -ENOSPC, "too small a buffer: -ENOSPC");

	/* /sys/module/memory_hotplug/parameters */
	mz_hotplug_params_read(&hp);
	ok(hp.online_policy[0] == '\0' && hp.auto_movable_ratio == -1 && hp.memmap_on_memory[0] == '\0',
	   "no module parameters: empty, -1, empty");
	snprintf(path, sizeof(path), "%s/sys/module/memory_hotplug/parameters", root);
	mz_mkdir_p(path, 0755);
	write_text(root, "sys/module/memory_hotplug/parameters/online_policy", "auto-movable\n");
	write_text(root, "sys/module/memory_hotplug/parameters/auto_movable_ratio", "301\n");
	write_text(root, "sys/module/memory_hotplug/parameters/memmap_on_memory", "Y\n");
	mz_hotplug_params_read(&hp);
	ok(strcmp(hp.online_policy, "auto-movable") == 0 && hp.auto_movable_ratio == 301 &&
		   strcmp(hp.memmap_on_memory, "Y") == 0,
	   "module parameters: auto-movable, 301, Y");
	write_text(root, "sys/module/memory_hotplug/parameters/auto_movable_ratio", "lots\n");
	mz_hotplug_params_read(&hp);
	is_int(hp.auto_movable_ratio, -1, "garbage ratio -> -1");

	/* block_size_bytes */
	write_text(root, "sys/devices/system/memory/block_size_bytes", "0\n");
	is_int(mz_memblock_size(&bs), -EINVAL, "block size 0 refused");
	write_text(root, "sys/devices/system/memory/block_size_bytes", "8000001\n");
	is_int(mz_memblock_size(&bs), -EINVAL, "block size not a power of two refused");
	write_text(root, "sys/devices/system/memory/block_size_bytes", "zz\n");
	is_int(mz_memblock_size(&bs), -EINVAL, "block size garbage refused");
	write_text(root, "sys/devices/system/memory/block_size_bytes", "80000000");
	ok(mz_memblock_size(&bs) == 0 && bs == 1ull << 31, "80000000 without newline = 2 GiB");
	mz_root_set(NULL);
}

static void test_no_hotplug(void)
{
	char root[2048], buf[32];
	unsigned long *ids = (unsigned long *)1;
	uint64_t bs;
	size_t n = 1;

	snprintf(root, sizeof(root), "%s/empty", tmp);
	mkdir(root, 0755);
	mz_root_set(root);
	is_int(mz_memblock_size(&bs), -ENOENT, "no memory directory: block size -ENOENT");
	is_int(mz_memblock_list(&ids, &n), -ENOENT, "... list -ENOENT");
	ok(ids == NULL && n == 0, "... with an empty result");
	strcpy(buf, "junk");
	is_int(mz_auto_online_read(buf, sizeof(buf)), -ENOENT, "... auto_online -ENOENT");
	is_str(buf, "", "... and an empty value");
	mz_root_set(NULL);
}

/* A big directory with a gap, made in scrambled order: the list is complete and sorted. 8192
 * blocks keep `make check` quick on a disk-backed /tmp; the 131072-block case is the same code
 * (benchmarked by hand: one readdir, no stat per entry). */
#define BIG_BLOCKS 8192ul
static void test_big_list(void)
{
	char root[2048], path[MZ_PATH_MAX];
	unsigned long *ids = NULL;
	size_t n = 0, expect = 0;
	bool sorted = true;
	uint64_t t0;
	int made = 0;

	snprintf(root, sizeof(root), "%s/big/sys/devices/system/memory", tmp);
	mz_mkdir_p(root, 0755);
	/* created in a scrambled order (7919 is odd, so prime to 2^13) so readdir order is not numeric */
	for (unsigned long k = 0; k < BIG_BLOCKS; k++) {
		unsigned long id = (k * 7919) % BIG_BLOCKS;

		if (id >= 1000 && id < 1100)
			continue;
		snprintf(path, sizeof(path), "%s/memory%lu", root, id);
		made += mkdir(path, 0755) == 0;
		expect++;
	}
	/* names that are not blocks */
	snprintf(path, sizeof(path), "%s/memory", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/memory12x", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/power", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/big", tmp);
	mz_root_set(path);
	t0 = mz_now_ns();
	is_int(mz_memblock_list(&ids, &n), 0, "%lu-block directory listed", BIG_BLOCKS);
	diag("listing %zu blocks took %.1f ms", n, (double)(mz_now_ns() - t0) / 1e6);
	is_int(made, BIG_BLOCKS - 100, "%lu block directories made", BIG_BLOCKS - 100);
	is_int(n, expect, "every block listed, nothing else");
	for (size_t i = 1; i < n; i++)
		sorted &= ids[i] > ids[i - 1];
	ok(sorted && n > 1100 && ids[0] == 0 && ids[999] == 999 && ids[1000] == 1100 && ids[n - 1] == BIG_BLOCKS - 1,
	   "ascending, gap 1000-1099 respected");
	free(ids);
	mz_root_set(NULL);
}

static void test_valid_zones(void)
{
	unsigned m;
	enum mz_zone z;

	ok(mz_valid_zones_parse("DMA32 Normal Movable\n", &m, &z) == 0 && z == MZ_ZONE_DMA32 &&
		   m == (MZ_ZONE_BIT(MZ_ZONE_DMA32) | MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE)),
	   "'DMA32 Normal Movable'");
	ok(mz_valid_zones_parse("Movable Normal", &m, &z) == 0 && z == MZ_ZONE_MOVABLE, "first name is the zone");
	ok(mz_valid_zones_parse("none", &m, &z) == 0 && m == 0 && z == MZ_ZONE_NONE, "'none' -> 0 / none");
	ok(mz_valid_zones_parse("  Normal", &m, &z) == 0 && z == MZ_ZONE_NORMAL, "leading blanks");
	ok(mz_valid_zones_parse("Normal Frob", &m, &z) == 0 && (m & MZ_ZONE_BIT(MZ_ZONE_OTHER)),
	   "unknown name -> MZ_ZONE_OTHER bit");
	is_int(mz_valid_zones_parse("", &m, &z), -EINVAL, "empty refused");
	is_int(mz_valid_zones_parse(" \n", &m, &z), -EINVAL, "blank refused");
	is_int(mz_valid_zones_parse("none Normal", &m, &z), -EINVAL, "'none' with zones refused");
	is_int(mz_valid_zones_parse("Nor-mal", &m, &z), -EINVAL, "punctuation refused");
	is_int(mz_valid_zones_parse("AVeryLongZoneNameThatIsNotAZoneX", &m, &z), -EINVAL, "32-character word refused");
	ok(mz_valid_zones_parse("AVeryLongZoneNameThatIsNotAZone", &m, &z) == 0 && z == MZ_ZONE_OTHER,
	   "31-character unknown word: other");
	is_str(mz_block_state_name(MZ_BLOCK_UNKNOWN), "unknown", "state name unknown");
	is_str(mz_block_state_name((enum mz_block_state)42), "unknown", "out-of-range state name");
}

/* the two little parsers of files other programs own: udev's database entry, daxctl's config */
static void test_udevdb_daxctl(void)
{
	static const char db[] = "S:x\nI:1234\nE:MEMZONE_OFFLINED=1\nG:systemd\n";
	static const char u[] = "ed93e918-e165-49d8-921d-383d7b9660c5";
	char name[32];

	ok(mz_udevdb_text_offlined(db, sizeof(db) - 1), "udev db: E:MEMZONE_OFFLINED=1 on its own line");
	ok(mz_udevdb_text_offlined("E:MEMZONE_OFFLINED=1", 20), "udev db: ... also as the last line without newline");
	ok(!mz_udevdb_text_offlined("E:MEMZONE_OFFLINED=10\n", 22), "udev db: =10 is not =1");
	ok(!mz_udevdb_text_offlined("E:MEMZONE_OFFLINED=", 19), "udev db: an empty value is not =1");
	ok(!mz_udevdb_text_offlined("XE:MEMZONE_OFFLINED=1\n", 22), "udev db: only at a line's start");
	ok(!mz_udevdb_text_offlined("E:MEMZONE_OFF", 13), "udev db: a truncated file");
	ok(!mz_udevdb_text_offlined("", 0), "udev db: empty");

	ok(mz_daxctl_text_names("# c\n[reconfigure-device foo]\n nvdimm.uuid = ED93E918-E165-49D8-921D-383D7B9660C5 \nmode = system-ram\n",
				u, name, sizeof(name)) && strcmp(name, "foo") == 0,
	   "daxctl.conf: the section whose nvdimm.uuid is the device's (case and blanks ignored)");
	ok(!mz_daxctl_text_names("[reconfigure-device foo]\n# nvdimm.uuid = ed93e918-e165-49d8-921d-383d7b9660c5\n", u, name, sizeof(name)),
	   "daxctl.conf: a commented-out uuid names nothing");
	ok(!mz_daxctl_text_names("[other-section foo]\nnvdimm.uuid = ed93e918-e165-49d8-921d-383d7b9660c5\n", u, name, sizeof(name)),
	   "daxctl.conf: only [reconfigure-device NAME] sections");
	ok(!mz_daxctl_text_names("[reconfigure-device foo]\nnvdimm.uuid = ed93e918-e165-49d8-921d-383d7b9660c6\n", u, name, sizeof(name)),
	   "daxctl.conf: another uuid");
	ok(!mz_daxctl_text_names("[reconfigure-device]\nnvdimm.uuid = ed93e918-e165-49d8-921d-383d7b9660c5\n[", u, name, sizeof(name)),
	   "daxctl.conf: a section without a name, a lone '['");
	ok(!mz_daxctl_text_names("[reconfigure-device foo]\nnvdimm.uuid = \n", "", name, sizeof(name)),
	   "daxctl.conf: an empty uuid matches nothing");
}

int main(void)
{
	const char *src = getenv("top_srcdir"), *tmpdir = getenv("TMPDIR");
	int status;
	pid_t pid;

	snprintf(srcdir, sizeof(srcdir), "%s", src ? src : ".");
	snprintf(tmp, sizeof(tmp), "%s/test-memblock.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmp)) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	{
		const char *argv[] = { "python3", "--version", NULL };

		have_python = posix_spawnp(&pid, "python3", NULL, NULL, (char *const *)argv, environ) == 0 &&
			      waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	test_valid_zones();
	test_no_hotplug();
	test_udevdb_daxctl();
	if (have_python) {
		test_captures();
		test_mktree();
	} else {
		ok(true, "fixture trees # SKIP python3 not found");
	}
	test_big_list();
	rm_rf(tmp);
	return tap_done();
}
