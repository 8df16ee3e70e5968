/* test-iomem.c - /proc/iomem parser and owner lookup: real captures, hand-checked owners, edge cases */
#include "iomem.h"
#include "tap.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixtures[1024];

static bool parse_file(const char *dir, const char *file, struct mz_iomem *io)
{
	char path[MZ_PATH_MAX], err[256] = "";
	char *text = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s/%s", fixtures, dir, file);
	r = mz_read_file(path, &text, NULL);
	if (r == 0)
		r = mz_iomem_parse(text, io, err, sizeof(err));
	free(text);
	if (!ok(r == 0, "%s/%s parses", dir, file))
		diag("%d: %s", r, err);
	return r == 0;
}

static int parse_str(const char *text, struct mz_iomem *io, char *err, size_t errlen)
{
	int r = mz_iomem_parse(text, io, err, errlen);

	if (r < 0)
		diag("  (message: %s)", err);
	return r;
}

/* Parent links point one level up to an earlier line, and contain their children. */
static bool tree_consistent(const struct mz_iomem *io)
{
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *r = &io->res[i];

		if (r->depth == 0 ? r->parent != -1
				  : (r->parent < 0 || (size_t)r->parent >= i || io->res[r->parent].depth != r->depth - 1)) {
			diag("res %zu (%s): depth %d parent %d", i, r->name, r->depth, r->parent);
			return false;
		}
		if (r->depth && !io->zeroed &&
		    (r->start < io->res[r->parent].start || r->end > io->res[r->parent].end)) {
			diag("res %zu (%s) outside its parent", i, r->name);
			return false;
		}
	}
	return true;
}

static void test_every_capture(void)
{
	char path[MZ_PATH_MAX];
	struct dirent **ents;
	int n, parsed = 0, zeroed = 0;

	n = scandir(fixtures, &ents, NULL, alphasort);
	ok(n > 0, "fixture directory readable");
	for (int i = 0; i < n; i++) {
		struct mz_iomem io = { 0 };
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s/iomem", fixtures, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0) {
			parsed++;
			if (parse_file(ents[i]->d_name, "iomem", &io)) {
				ok(io.n > 0 && tree_consistent(&io), "%s: %zu resources, tree consistent", ents[i]->d_name,
				   io.n);
				zeroed += io.zeroed;
			}
			mz_iomem_free(&io);
		}
		free(ents[i]);
	}
	free(ents);
	is_int(parsed, 10, "every real-world iomem was parsed");
	is_int(zeroed, 2, "exactly debian-5.10 and porteus-5.12 are zeroed (read as non-root)");
}

static void expect_owner(const struct mz_iomem *io, uint64_t addr, int want_r, enum mz_source src, const char *dev,
			 uint64_t start, uint64_t end, const char *what)
{
	struct mz_iomem_owner o;
	int r;

	memset(&o, 0x5a, sizeof(o));
	r = mz_iomem_owner(io, addr, &o);
	if (want_r) {
		is_int(r, want_r, "%s", what);
		return;
	}
	if (!ok(r == 0 && o.source == src && strcmp(o.device, dev) == 0 && o.dev_start == start && o.dev_end == end,
		"%s", what))
		diag("got %d %s '%.64s' %" PRIx64 "-%" PRIx64, r, r == 0 ? mz_source_name(o.source) : "-",
		     r == 0 ? o.device : "", r == 0 ? o.dev_start : 0, r == 0 ? o.dev_end : 0);
}

static void test_firecracker(void)
{
	struct mz_iomem io = { 0 };

	if (!parse_file("firecracker-6.18-x86_64", "iomem", &io))
		return;
	is_int(io.n, 27, "6.18: 27 lines");
	ok(!io.zeroed, "6.18: read as root");
	/* line 6: "00100000-bfffffff : System RAM", line 7 "  01000000-0220bb07 : Kernel code" */
	ok(io.res[5].start == 0x100000 && io.res[5].end == 0xbfffffff && io.res[5].depth == 0 &&
		   strcmp(io.res[5].name, "System RAM") == 0,
	   "line 6: 00100000-bfffffff System RAM");
	ok(io.res[6].depth == 1 && io.res[6].parent == 5 && strcmp(io.res[6].name, "Kernel code") == 0,
	   "line 7: Kernel code nested under it");
	/* "    eec00000-eecfffff : PCI Bus 0000:00" is 2 levels deep (Reserved > PCI ECAM > PCI Bus) */
	ok(io.res[13].depth == 2 && strcmp(io.res[13].name, "PCI Bus 0000:00") == 0 &&
		   strcmp(io.res[io.res[13].parent].name, "PCI ECAM 0000 [bus 00-00]") == 0,
	   "line 14: depth 2 under PCI ECAM");
	/* 100000000-63fffffff = 4 GiB .. 25 GiB - 1: 21 GiB of boot RAM above the PCI hole */
	expect_owner(&io, 0x200000000ull, 0, MZ_SOURCE_BOOT, "", 0x100000000ull, 0x63fffffffull,
		     "8 GiB: boot, range 100000000-63fffffff");
	is_u64(0x63fffffffull + 1 - 0x100000000ull, 21ull << 30, "... which is 21 GiB");
	expect_owner(&io, 0x63fffffffull, 0, MZ_SOURCE_BOOT, "", 0x100000000ull, 0x63fffffffull, "last byte: boot");
	expect_owner(&io, 0x640000000ull, -ENOENT, 0, "", 0, 0, "one past the end: -ENOENT");
	expect_owner(&io, 0x4000000000ull, -ENOENT, 0, "", 0, 0, "PCI BAR (virtio-pci-modern): -ENOENT");
	expect_owner(&io, 0, -ENOENT, 0, "", 0, 0, "page 0 (Reserved): -ENOENT");
	mz_iomem_free(&io);
}

static void test_hotplug_excerpts(void)
{
	struct mz_iomem io = { 0 };

	if (parse_file("lkml-excerpts", "iomem-cxl-kmem.txt", &io)) {
		/* CXL Window 0 > region0 > dax0.0 > System RAM (kmem): 490000000-50fffffff = 2 GiB */
		ok(io.n == 4 && io.res[3].depth == 3, "CXL: System RAM (kmem) 3 levels deep");
		expect_owner(&io, 0x4a0000000ull, 0, MZ_SOURCE_KMEM, "dax0.0", 0x490000000ull, 0x50fffffffull,
			     "CXL: kmem, device dax0.0");
	}
	mz_iomem_free(&io);

	if (parse_file("lkml-excerpts", "iomem-virtio_mem-x86_64-2G-before-merge.txt", &io)) {
		/* 16 resources of 128 MiB under virtio0 (140000000-33fffffff, an 8 GiB device region) */
		expect_owner(&io, 0x150000000ull, 0, MZ_SOURCE_VIRTIO_MEM, "virtio0", 0x140000000ull, 0x33fffffffull,
			     "virtio-mem before merge: device virtio0, its whole region");
		expect_owner(&io, 0x1b8000000ull, 0, MZ_SOURCE_VIRTIO_MEM, "virtio0", 0x140000000ull, 0x33fffffffull,
			     "... the 16th block too");
		expect_owner(&io, 0x1c0000000ull, -ENOENT, 0, "", 0, 0, "unplugged part of virtio0: -ENOENT");
		expect_owner(&io, 0x100000000ull, 0, MZ_SOURCE_BOOT, "", 0x100000000ull, 0x13fffffffull,
			     "RAM below it: boot");
	}
	mz_iomem_free(&io);

	if (parse_file("lkml-excerpts", "iomem-virtio_mem-x86_64-2G-after-merge.txt", &io))
		expect_owner(&io, 0x1bfffffffull, 0, MZ_SOURCE_VIRTIO_MEM, "virtio0", 0x140000000ull, 0x33fffffffull,
			     "virtio-mem after merge: same owner");
	mz_iomem_free(&io);

	if (parse_file("debian-5.10-qemu-vm", "iomem", &io)) {
		ok(io.zeroed, "debian 5.10 (non-root): zeroed");
		expect_owner(&io, 0, -ENODATA, 0, "", 0, 0, "zeroed: owner -ENODATA");
	}
	mz_iomem_free(&io);

	if (parse_file("sosreport-rhel8-4.18", "iomem", &io)) {
		/* line 13 has a GUID as its name */
		ok(strcmp(io.res[12].name, "5620e0c7-8062-4dce-aeb7-520c7ef76171") == 0, "RHEL 8: GUID name kept");
		expect_owner(&io, 0x1c4000000ull, 0, MZ_SOURCE_BOOT, "", 0x100000000ull, 0x207ffffffull,
			     "RHEL 8: kernel code lies in boot RAM");
	}
	mz_iomem_free(&io);

	if (parse_file("rw-4020board-arm-2.6.16", "iomem", &io))
		expect_owner(&io, 0x30000000, 0, MZ_SOURCE_BOOT, "", 0x30000000, 0x31ffffff, "2.6.16 ARM: 32 MiB at 0x30000000");
	mz_iomem_free(&io);
}

static void test_synthetic_owners(void)
{
	struct mz_iomem io = { 0 };
	char err[256];

	/* mktree-style: a hot-added ACPI DIMM is its own top-level "System RAM" (the caller upgrades it
	 * to dimm from the block's firmware_node), kmem without a dax parent, other drivers' RAM. */
	is_int(parse_str("00100000-bfffffff : System RAM\n"
			 "100000000-13fffffff : System RAM\n"
			 "140000000-17fffffff : System RAM\n"
			 "180000000-1bfffffff : hv_balloon\n"
			 "  180000000-18fffffff : System RAM\n"
			 "1c0000000-1cfffffff : System RAM (kmem)\n"
			 "1d0000000-1dfffffff : System RAM (xen)\n"
			 "1e0000000-1efffffff : mystery\n"
			 "  1e0000000-1efffffff : region7\n"
			 "    1e0000000-1efffffff : System RAM (virtio_mem)\n"
			 "1f0000000-1ffffffff : virtio3\n"
			 "  1f0000000-1ffffffff : dax1.0\n"
			 "    1f0000000-1f7ffffff : System RAM (kmem)\n",
			 &io, err, sizeof(err)),
	       0, "synthetic owners parse");
	expect_owner(&io, 0x140000000ull, 0, MZ_SOURCE_BOOT, "", 0x140000000ull, 0x17fffffffull,
		     "separate top-level range (hot-added DIMM): boot until the caller upgrades it");
	expect_owner(&io, 0x180000000ull, 0, MZ_SOURCE_OTHER, "", 0x180000000ull, 0x18fffffffull,
		     "System RAM under an unknown parent: other");
	expect_owner(&io, 0x1c0000000ull, 0, MZ_SOURCE_KMEM, "", 0x1c0000000ull, 0x1cfffffffull,
		     "kmem without a daxX.Y parent: kmem, no device name");
	expect_owner(&io, 0x1d0000000ull, 0, MZ_SOURCE_OTHER, "", 0x1d0000000ull, 0x1dfffffffull,
		     "System RAM (xen): other");
	expect_owner(&io, 0x1e0000000ull, 0, MZ_SOURCE_VIRTIO_MEM, "", 0x1e0000000ull, 0x1efffffffull,
		     "virtio_mem without virtioN parent: virtio_mem, its own range");
	expect_owner(&io, 0x1f0000000ull, 0, MZ_SOURCE_KMEM, "dax1.0", 0x1f0000000ull, 0x1ffffffffull,
		     "the RAM's own name decides: kmem under dax1.0 (under virtio3)");
	expect_owner(&io, 0x1f8000000ull, -ENOENT, 0, "", 0, 0, "inside dax1.0 but not RAM: -ENOENT");
	expect_owner(&io, UINT64_MAX, -ENOENT, 0, "", 0, 0, "2^64 - 1: -ENOENT");
	mz_iomem_free(&io);

	is_int(parse_str("fffffffffffff000-ffffffffffffffff : System RAM", &io, err, sizeof(err)), 0,
	       "top of the address space, no newline");
	expect_owner(&io, UINT64_MAX, 0, MZ_SOURCE_BOOT, "", 0xfffffffffffff000ull, UINT64_MAX, "... owner at 2^64 - 1");
	mz_iomem_free(&io);
}

static void test_edges(void)
{
	struct mz_iomem io = { 0 };
	char err[256], line[300];

	is_int(parse_str("", &io, err, sizeof(err)), -ENODATA, "empty: -ENODATA");
	ok(err[0] != '\0', "... with a message");
	is_int(parse_str("\n\n", &io, err, sizeof(err)), -ENODATA, "blank lines: -ENODATA");
	is_int(parse_str("0-fff : a\n   1-2 : b\n", &io, err, sizeof(err)), -EINVAL, "odd indent refused");
	ok(strstr(err, "line 2:") != NULL, "... at line 2");
	is_int(parse_str("0-fff : a\n    1-2 : b\n", &io, err, sizeof(err)), -EINVAL, "two levels at once refused");
	is_int(parse_str("  0-fff : a\n", &io, err, sizeof(err)), -EINVAL, "first line indented refused");
	is_int(parse_str("0-fff : a\n\t1-2 : b\n", &io, err, sizeof(err)), -EINVAL, "TAB indent refused");
	is_int(parse_str("0-fff a\n", &io, err, sizeof(err)), -EINVAL, "missing ' : ' refused");
	is_int(parse_str("0-fff: a\n", &io, err, sizeof(err)), -EINVAL, "':' without the space refused");
	is_int(parse_str("0xfff-1000 : a\n", &io, err, sizeof(err)), -EINVAL, "0x prefix refused");
	is_int(parse_str("g-1000 : a\n", &io, err, sizeof(err)), -EINVAL, "non-hex start refused");
	is_int(parse_str("0 : a\n", &io, err, sizeof(err)), -EINVAL, "no end refused");
	is_int(parse_str("10000000000000000-10000000000000001 : a\n", &io, err, sizeof(err)), -EINVAL,
	       "17 significant hex digits refused");
	ok(strstr(err, "64 bits") != NULL, "... as too large");
	is_int(parse_str("00000000000000000fff-1000 : a\n", &io, err, sizeof(err)), 0, "leading zeros accepted");
	mz_iomem_free(&io);
	is_int(parse_str("2000-1000 : a\n", &io, err, sizeof(err)), -EINVAL, "end before start refused");
	is_int(parse_str("0-fff : \n", &io, err, sizeof(err)), 0, "empty name accepted");
	ok(io.n == 1 && io.res[0].name[0] == '\0', "... as ''");
	mz_iomem_free(&io);
	is_int(parse_str("0-fff :\n", &io, err, sizeof(err)), 0, "name-less line without trailing space accepted");
	mz_iomem_free(&io);

	memset(line, 'n', sizeof(line));
	memcpy(line, "0-fff : ", 8);
	line[sizeof(line) - 1] = '\0';
	is_int(parse_str(line, &io, err, sizeof(err)), 0, "a 291-character name");
	ok(io.n == 1 && strlen(io.res[0].name) == sizeof(io.res[0].name) - 1, "... kept as a 63-character label");
	mz_iomem_free(&io);

	/* 40 levels of nesting: deeper than any kernel, refused before owner walks could get costly */
	{
		char deep[4096] = "";
		size_t off = 0;

		for (int d = 0; d < 40; d++)
			off += (size_t)snprintf(deep + off, sizeof(deep) - off, "%*s0-fff : l%d\n", 2 * d, "", d);
		is_int(parse_str(deep, &io, err, sizeof(err)), -EINVAL, "40 levels deep refused");
		ok(strstr(err, "line 34:") != NULL, "... at the 34th line (depth 33)");
	}
	is_int(io.n, 0, "a refused file leaves no resources");
	ok(!io.zeroed && io.res == NULL, "... and no array");

	is_int(parse_str("00000000-00000000 : Reserved\n  00000000-00000000 : System ROM\n", &io, err, sizeof(err)), 0,
	       "all-zero file");
	ok(io.zeroed, "... is zeroed");
	mz_iomem_free(&io);
	is_int(parse_str("00000000-00000000 : Reserved\n00001000-00001fff : System RAM\n", &io, err, sizeof(err)), 0,
	       "one real address");
	ok(!io.zeroed, "... is not zeroed");
	mz_iomem_free(&io);
	memset(err, 'X', sizeof(err));
	is_int(mz_iomem_parse("zz", &io, err, 5), -EINVAL, "5-byte error buffer");
	ok(memchr(err, '\0', 5) != NULL && err[5] == 'X', "... terminated, not overrun");
}

static void test_source_names(void)
{
	enum mz_source s;
	bool round = true;

	for (int i = 0; i < MZ_SOURCE__COUNT; i++)
		round &= mz_source_from_name(mz_source_name((enum mz_source)i), &s) == 0 && s == (enum mz_source)i;
	ok(round, "every source name round-trips");
	is_str(mz_source_name(MZ_SOURCE_VIRTIO_MEM), "virtio_mem", "virtio_mem name");
	is_str(mz_source_name(MZ_SOURCE__COUNT), "other", "out of range: other");
	is_int(mz_source_from_name("Dimm", &s), -EINVAL, "names are case-sensitive");
	is_int(mz_source_from_name("", &s), -EINVAL, "empty name refused");
}

static void test_read(void)
{
	char dir[] = "/tmp/test-iomem.XXXXXX", path[MZ_PATH_MAX], err[512];
	struct mz_iomem io = { 0 };
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "temporary root"))
		return;
	mz_root_set(dir);
	is_int(mz_iomem_read(&io, err, sizeof(err)), -ENOENT, "no proc/iomem: -ENOENT");
	ok(strstr(err, "/proc/iomem") != NULL, "... naming the file");
	snprintf(path, sizeof(path), "%s/proc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/iomem", dir);
	f = fopen(path, "w");
	fputs("00000000-00000fff : Reserved\n0-\n", f);
	fclose(f);
	is_int(mz_iomem_read(&io, err, sizeof(err)), -EINVAL, "broken proc/iomem");
	ok(strstr(err, "/proc/iomem: line 2:") != NULL, "... 'FILE: line 2: ...': %s", err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc", dir);
	rmdir(path);
	rmdir(dir);
	mz_root_set(NULL);
}

int main(void)
{
	const char *src = getenv("top_srcdir");

	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/real-world", src ? src : ".");
	test_every_capture();
	test_firecracker();
	test_hotplug_excerpts();
	test_synthetic_owners();
	test_edges();
	test_source_names();
	test_read();
	return tap_done();
}
