/* test-zoneinfo.c - /proc/zoneinfo parser: every real capture 2.6.16-6.18, hand-checked values, edge cases */
#include "tap.h"
#include "util.h"
#include "zoneinfo.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixtures[1024];

static char *slurp(const char *dir, const char *file)
{
	char path[MZ_PATH_MAX];
	char *text = NULL;

	snprintf(path, sizeof(path), "%s/%s/%s", fixtures, dir, file);
	if (mz_read_file(path, &text, NULL) < 0) {
		diag("cannot read %s", path);
		return NULL;
	}
	return text;
}

/* Parse a capture; NULL (and a failed test point) when it does not parse. */
static bool parse_fixture(const char *dir, struct mz_zoneinfo *zi)
{
	char err[256] = "";
	char *text = slurp(dir, "zoneinfo");
	int r = text ? mz_zoneinfo_parse(text, zi, err, sizeof(err)) : -ENOENT;

	free(text);
	if (!ok(r == 0, "%s: parses", dir))
		diag("%d: %s", r, err);
	return r == 0;
}

static int parse_str(const char *text, struct mz_zoneinfo *zi, char *err, size_t errlen)
{
	int r = mz_zoneinfo_parse(text, zi, err, errlen);

	if (r < 0)
		diag("  (message: %s)", err);
	return r;
}

/* ------------------------------------------------------------ every capture */

static void test_every_capture(void)
{
	char path[MZ_PATH_MAX];
	struct dirent **ents;
	int n, parsed = 0;

	n = scandir(fixtures, &ents, NULL, alphasort);
	ok(n > 0, "fixture directory %s is readable", fixtures);
	for (int i = 0; i < n; i++) {
		struct mz_zoneinfo zi = { 0 };
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s/zoneinfo", fixtures, ents[i]->d_name);
		if (ents[i]->d_name[0] == '.' || stat(path, &st) < 0) {
			free(ents[i]);
			continue;
		}
		parsed++;
		if (parse_fixture(ents[i]->d_name, &zi)) {
			bool sane = zi.nzones > 0;

			/* What holds on every real kernel: watermarks ordered, present within the span,
			 * managed within present (pre-3.8: equal by definition), a known zone name. */
			for (size_t z = 0; z < zi.nzones; z++) {
				const struct mz_zone_info *zn = &zi.zones[z];

				if (!(zn->min <= zn->low && zn->low <= zn->high && zn->present <= zn->spanned &&
				      zn->managed <= zn->present && zn->type != MZ_ZONE_OTHER && zn->nprotection >= 2)) {
					diag("node %d zone %s: min %" PRIu64 " low %" PRIu64 " high %" PRIu64
					     " spanned %" PRIu64 " present %" PRIu64 " managed %" PRIu64,
					     zn->node, zn->name, zn->min, zn->low, zn->high, zn->spanned, zn->present,
					     zn->managed);
					sane = false;
				}
			}
			ok(sane, "%s: %zu zones, all consistent", ents[i]->d_name, zi.nzones);
		}
		mz_zoneinfo_free(&zi);
		free(ents[i]);
	}
	free(ents);
	/* 22 directories hold a whole zoneinfo (lkml-excerpts only has grep'd fragments). */
	is_int(parsed, 22, "every real-world zoneinfo was parsed");
}

/* ------------------------------------------------------------ hand-checked captures */

static void test_firecracker_6_18(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;

	if (!parse_fixture("firecracker-6.18-x86_64", &zi))
		return;
	is_int(zi.nzones, 5, "6.18: DMA DMA32 Normal Movable Device");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
	ok(z != NULL, "6.18: node 0 Normal found");
	if (!z)
		return;
	/* zoneinfo lines 146-156: "pages free 324399", min 7292, low 9115, high 10938, promo 12761
	 * (skipped), spanned = present = 5505024, managed 589824, cma 0. The kernel sets
	 * low = min + d and high = min + 2d: 9115 - 7292 = 1823 = 10938 - 9115, so the three lines
	 * went to the right fields. managed 589824 pages * 4 KiB = 2304 MiB. */
	is_u64(z->free, 324399, "6.18 Normal free");
	is_u64(z->min, 7292, "6.18 Normal min");
	is_u64(z->low, 9115, "6.18 Normal low");
	is_u64(z->high, 10938, "6.18 Normal high");
	is_u64(z->high - z->low, z->low - z->min, "6.18 Normal: high - low == low - min (1823)");
	is_u64(z->spanned, 5505024, "6.18 Normal spanned");
	is_u64(z->present, 5505024, "6.18 Normal present");
	is_u64(z->managed, 589824, "6.18 Normal managed");
	is_u64(z->managed * 4096, 2304ull << 20, "6.18 Normal managed = 2304 MiB");
	ok(z->has_managed && z->has_cma && z->cma == 0, "6.18 Normal has managed and cma 0");
	is_int(z->nprotection, 5, "6.18 Normal: 5 protection entries");
	/* DMA protection (0, 3019, 5323, 5323, 5323): lowmem_reserve = managed above / 256:
	 * DMA32 772915 / 256 = 3019; (772915 + 589824) / 256 = 5323. */
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	ok(z && z->nprotection == 5 && z->protection[0] == 0 && z->protection[1] == 3019 && z->protection[2] == 5323 &&
		   z->protection[4] == 5323,
	   "6.18 DMA protection (0, 3019, 5323, 5323, 5323)");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA32);
	ok(z && z->protection[1] == 0 && z->protection[2] == 589824 / 256 && z->protection[2] == 2304,
	   "6.18 DMA32 protection[2] = Normal managed 589824 / 256 = 2304");
	/* zone vm stats (lines 159-167): nr_zone_inactive_file 83811, nr_zone_active_file 35000,
	 * nr_free_cma 0; the per-node nr_inactive_file of the DMA section is not a zone's */
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
	ok(z && z->inactive_file == 83811 && z->active_file == 35000 && z->free_cma == 0,
	   "6.18 Normal: nr_zone_inactive_file 83811, nr_zone_active_file 35000, nr_free_cma 0");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	ok(z && z->inactive_file == 0 && z->active_file == 0, "6.18 DMA: the per-node file LRU stats are not the zone's");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_MOVABLE);
	ok(z && z->present == 0 && z->managed == 0 && z->free == 0 && z->min == 32,
	   "6.18 empty Movable: short form, min 32 (the kernel's floor)");
	mz_zoneinfo_free(&zi);
}

static void test_pcp_002_two_nodes(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;
	uint64_t managed[2] = { 0, 0 };

	if (!parse_fixture("pcp-meminfo-root-002", &zi))
		return;
	is_int(zi.nzones, 4, "2-node 3.x: N0 DMA DMA32 Normal + N1 Normal");
	ok(mz_zoneinfo_find(&zi, 1, MZ_ZONE_DMA) == NULL, "node 1 has no DMA zone");
	for (size_t i = 0; i < zi.nzones; i++)
		managed[zi.zones[i].node] += zi.zones[i].managed;
	/* node 0: 3974 + 449237 + 15990165 = 16443376 pages; node 1: 16514387 */
	is_u64(managed[0], 16443376, "node 0 managed = 3974 + 449237 + 15990165");
	is_u64(managed[1], 16514387, "node 1 managed");
	z = mz_zoneinfo_find(&zi, 1, MZ_ZONE_NORMAL);
	/* 16777216 pages * 4 KiB = 64 GiB present on node 1 */
	ok(z && z->present == 16777216 && z->present * 4096 == 64ull << 30, "node 1 Normal present = 64 GiB");
	ok(z && z->free == 11093906 && z->min == 11288 && z->low == 14110 && z->high == 16932,
	   "node 1 Normal free/min/low/high");
	/* DMA protection (0, 1754, 64216, 64216): 449237 / 256 = 1754; (449237 + 15990165) / 256 = 64216 */
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	ok(z && z->nprotection == 4 && z->protection[1] == 449237 / 256 &&
		   z->protection[2] == (449237 + 15990165) / 256,
	   "node 0 DMA protection after the stats: (0, 1754, 64216, 64216)");
	mz_zoneinfo_free(&zi);
}

static void test_rw4020_2_6_16(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;

	if (!parse_fixture("rw-4020board-arm-2.6.16", &zi))
		return;
	is_int(zi.nzones, 1, "2.6.16: one zone");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	if (!ok(z != NULL, "2.6.16: DMA found"))
		return;
	/* free 5410, min 181, low 226, high 271; "scanned  0 (a: 0 i: 0)", active/inactive skipped;
	 * no managed line: managed = present = 8192 pages = 32 MiB, the board's RAM. */
	ok(z->free == 5410 && z->min == 181 && z->low == 226 && z->high == 271, "2.6.16 DMA free/min/low/high");
	ok(!z->has_managed && z->managed == 8192 && z->present == 8192, "2.6.16: no managed line, managed = present");
	is_u64(z->managed * 4096, 32ull << 20, "2.6.16: 32 MiB");
	ok(!z->has_cma && z->cma == 0, "2.6.16: no cma");
	is_int(z->nprotection, 4, "2.6.16: protection (0, 0, 0, 0)");
	mz_zoneinfo_free(&zi);
}

static void test_rhel8_unnamed_line(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;

	if (!parse_fixture("sosreport-rhel8-4.18", &zi))
		return;
	/* Line 30 is "                   537792" (the RHEL 8 per-node stat without a name) and line 31
	 * is "  pages free     3975": the nameless number must not become DMA's free pages. */
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	ok(z && z->free == 3975 && z->min == 33 && z->present == 3999 && z->managed == 3977,
	   "RHEL 8: nameless value skipped, DMA free 3975");
	is_int(zi.nzones, 5, "RHEL 8: 5 zones");
	mz_zoneinfo_free(&zi);

	if (!parse_fixture("pcp-meminfo-root-006", &zi))
		return;
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA);
	ok(z && z->free == 3975 && z->managed == 3977, "EL8-style 4.18 (pcp-006): nameless 176096 skipped");
	mz_zoneinfo_free(&zi);
}

static void test_porteus_no_device(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;

	if (!parse_fixture("porteus-5.12-ryzen", &zi))
		return;
	/* CONFIG_ZONE_DEVICE=n: DMA DMA32 Normal Movable only, so protection has 4 entries */
	is_int(zi.nzones, 4, "porteus 5.12: 4 zones");
	ok(mz_zoneinfo_find(&zi, 0, MZ_ZONE_DEVICE) == NULL, "porteus 5.12: no Device zone");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA32);
	/* DMA32 protection (0, 0, 12500, 12500): Normal managed 3200037 / 256 = 12500 */
	ok(z && z->nprotection == 4 && z->protection[2] == 3200037 / 256, "porteus: DMA32 protection[2] = 3200037/256");
	z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_MOVABLE);
	ok(z && z->present == 0 && z->has_managed, "porteus: empty Movable, short form");
	mz_zoneinfo_free(&zi);
}

static void test_other_layouts(void)
{
	struct mz_zoneinfo zi = { 0 };
	const struct mz_zone_info *z;
	uint64_t sum = 0;

	if (parse_fixture("jiofi-jmr540-arm", &zi)) {
		/* a CMA region in Normal: "nr_free_cma  1582" among the zone stats; before 4.8 the file
		 * LRU is nr_inactive_file (no nr_zone_ prefix), which is not read: 0 */
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
		ok(z && z->free == 33393 && z->free_cma == 1582 && z->inactive_file == 0,
		   "jiofi (arm): Normal nr_free_cma 1582 of 33393 free pages");
		mz_zoneinfo_free(&zi);
	}
	if (parse_fixture("android-tablet-arm-3.4", &zi)) {
		/* HighMem zone; no managed line (3.4 < 3.8); protection after the vm stats */
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_HIGHMEM);
		ok(z && z->free == 13452 && z->present == 129238 && z->managed == 129238 && !z->has_managed,
		   "3.4 HighMem: free 13452, managed = present 129238");
		ok(z && mz_zone_is_kernel(z->type), "HighMem counts as kernel memory");
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
		ok(z && z->nprotection == 3 && z->protection[1] == 4038, "3.4 Normal protection (0, 4038, 4038)");
	}
	mz_zoneinfo_free(&zi);

	if (parse_fixture("pcp-meminfo-root-004", &zi)) {
		/* 4.8-4.12: per-node stats with "   node_scanned  0" (3 spaces) */
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
		ok(z && z->managed == 243535 && z->present == 262144, "4.8-era: Normal managed 243535 of 262144");
	}
	mz_zoneinfo_free(&zi);

	if (parse_fixture("pcp-meminfo-root-005", &zi)) {
		/* protection right under managed; empty Movable and Device stop after it */
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DEVICE);
		ok(z && z->present == 0 && z->nprotection == 5, "4.1x: empty Device zone, short form");
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_NORMAL);
		ok(z && z->free == 494869 && z->min == 15153 && z->managed == 3594150, "4.1x: Normal values");
	}
	mz_zoneinfo_free(&zi);

	if (parse_fixture("ncollectd-4node-3.x", &zi)) {
		/* 4 nodes; nodes 1-3 Normal only. Node 3 present 12582911 = 48 GiB - 1 page */
		is_int(zi.nzones, 6, "4 nodes: 3 + 1 + 1 + 1 zones");
		z = mz_zoneinfo_find(&zi, 3, MZ_ZONE_NORMAL);
		ok(z && z->present == 12582911 && z->managed == 12385659, "node 3 Normal present 12582911");
		for (size_t i = 0; i < zi.nzones; i++)
			sum += zi.zones[i].node == 1 || zi.zones[i].node == 2 ? zi.zones[i].managed : 0;
		is_u64(sum, 2 * 12385777ull, "nodes 1 and 2 each 12385777 managed");
	}
	mz_zoneinfo_free(&zi);

	if (parse_fixture("pcp-meminfo-root-007", &zi)) {
		/* node 1 lists all 5 zones with zeros except Normal */
		is_int(zi.nzones, 10, "2-node 5.9+: 5 zones per node");
		z = mz_zoneinfo_find(&zi, 1, MZ_ZONE_DMA32);
		ok(z && z->present == 0 && z->spanned == 0, "node 1 DMA32 listed but empty");
	}
	mz_zoneinfo_free(&zi);

	if (parse_fixture("centos-stream9-5.14-do-vm", &zi)) {
		/* "boost" line between free and min; Normal present 0 */
		z = mz_zoneinfo_find(&zi, 0, MZ_ZONE_DMA32);
		ok(z && z->min == 8446 && z->low == 10557 && z->high == 12668, "5.14: boost skipped, watermarks right");
	}
	mz_zoneinfo_free(&zi);
}

/* lkml excerpts are grep'd fragments: refused (no 'pages free'), with a message that says why. */
static void test_lkml_excerpts(void)
{
	struct mz_zoneinfo zi = { 0 };
	char err[256];
	char *text;

	text = slurp("lkml-excerpts", "zoneinfo-grep-spanned-2socket-dcpmm-kmem-4nodes.txt");
	is_int(text ? parse_str(text, &zi, err, sizeof(err)) : 0, -EINVAL, "TAB-joined grep excerpt refused");
	ok(strstr(err, "line 1:") && strstr(err, "pages free"), "... naming line 1 and the missing 'pages free'");
	is_int(zi.nzones, 0, "... and no zones are left behind");
	free(text);

	text = slurp("lkml-excerpts", "zoneinfo-grep-movable-hotplug-sequence.txt");
	is_int(text ? parse_str(text, &zi, err, sizeof(err)) : 0, -EINVAL, "shell transcript refused");
	ok(strstr(err, "line 1:") && strstr(err, "Node N, zone NAME"), "... at line 1 (the prompt)");
	free(text);

	/* The TAB joining itself is understood: a complete zone with its stats pasted onto the header. */
	is_int(parse_str("Node 0, zone      DMA\t  pages free     3840\n"
			 "        min      47\n        low      58\n        high     69\n"
			 "Node 0, zone   Normal\t        spanned  98304\n"
			 "  pages free 1\n min 2\n low 3\n high 4\n present 65536\n",
			 &zi, err, sizeof(err)),
	       -EINVAL, "TAB-joined zone without spanned/present refused");
	ok(strstr(err, "line 1:") && strstr(err, "spanned"), "... naming line 1 and 'spanned'");
	is_int(parse_str("Node 0, zone   Normal\t        spanned  98304\n"
			 "  pages free 1\n min 2\n low 3\n high 4\n present 65536\n",
			 &zi, err, sizeof(err)),
	       0, "TAB-joined header + stat parses");
	ok(zi.nzones == 1 && zi.zones[0].spanned == 98304 && zi.zones[0].present == 65536,
	   "... spanned taken from the joined part");
	mz_zoneinfo_free(&zi);
}

/* ------------------------------------------------------------ synthetic edge cases */

#define ZONE_BODY "  pages free 10\n  min 1\n  low 2\n  high 3\n  spanned 100\n  present 90\n"

static void test_edges(void)
{
	struct mz_zoneinfo zi = { 0 };
	char err[256], big[512];
	const struct mz_zone_info *z;

	is_int(parse_str("", &zi, err, sizeof(err)), -ENODATA, "empty file: -ENODATA");
	ok(err[0] != '\0', "... with a message");
	is_int(parse_str("\n  \n\t\n", &zi, err, sizeof(err)), -ENODATA, "blank lines only: -ENODATA");
	is_int(parse_str("Node 0, zone Normal\n", &zi, err, sizeof(err)), -EINVAL, "header only: -EINVAL");
	ok(strstr(err, "line 1:") && strstr(err, "pages free"), "... 'line 1: ... no pages free'");
	is_int(parse_str("Node 0, zone Normal\n  pages free 10\n  min 1\n  low 2\n", &zi, err, sizeof(err)), -EINVAL,
	       "truncated after low: -EINVAL");
	ok(strstr(err, "'high'") != NULL, "... names the missing 'high'");

	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)), 0, "minimal pre-3.8 zone");
	ok(zi.nzones == 1 && zi.zones[0].managed == 90 && !zi.zones[0].has_managed && zi.zones[0].nprotection == 0,
	   "... managed = present, no protection");
	mz_zoneinfo_free(&zi);
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "    nr_free_cma 4\n    nr_free_cma 5\n", &zi, err, sizeof(err)),
	       -EINVAL, "second nr_free_cma line refused");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "    nr_zone_active_file x\n", &zi, err, sizeof(err)), -EINVAL,
	       "nr_zone_active_file garbage refused");
	mz_zoneinfo_free(&zi);

	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  managed 80", &zi, err, sizeof(err)), 0,
	       "last line without newline");
	ok(zi.nzones == 1 && zi.zones[0].managed == 80 && zi.zones[0].has_managed, "... its value is kept");
	mz_zoneinfo_free(&zi);

	is_int(parse_str("Node 0, zone Normal\r\n  pages free 10\r\n  min 1\r\n  low 2\r\n  high 3\r\n  spanned 100\r\n"
			 "  present 90\r\n",
			 &zi, err, sizeof(err)),
	       0, "CRLF line ends");
	mz_zoneinfo_free(&zi);

	is_int(parse_str("Node 0, zone Normal\n  pages free 1x0\n", &zi, err, sizeof(err)), -EINVAL, "garbage number");
	ok(strstr(err, "line 2:") && strstr(err, "pages free"), "... 'line 2: pages free ...'");
	is_int(parse_str("Node 0, zone Normal\n  pages free\n", &zi, err, sizeof(err)), -EINVAL, "missing number");
	is_int(parse_str("Node 0, zone Normal\n  pages free -5\n", &zi, err, sizeof(err)), -EINVAL, "negative number");
	is_int(parse_str("Node 0, zone Normal\n  min 5 6\n", &zi, err, sizeof(err)), -EINVAL, "two numbers");
	is_int(parse_str("Node 0, zone Normal\n  pages free 18446744073709551616\n", &zi, err, sizeof(err)), -EINVAL,
	       "2^64 refused");
	ok(strstr(err, "64 bits") != NULL, "... as too large");
	is_int(parse_str("Node 0, zone Normal\n  pages free 18446744073709551615\n  min 1\n  low 2\n  high 3\n"
			 "  spanned 100\n  present 90\n",
			 &zi, err, sizeof(err)),
	       0, "2^64 - 1 accepted");
	ok(zi.nzones == 1 && zi.zones[0].free == UINT64_MAX, "... exactly");
	mz_zoneinfo_free(&zi);

	is_int(parse_str("  pages free 10\nNode 0, zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL,
	       "stat line before any header");
	is_int(parse_str("Node x, zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL, "bad node number");
	is_int(parse_str("Node 0 zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL, "missing comma");
	is_int(parse_str("Node 0, Normal\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL, "missing 'zone'");
	is_int(parse_str("Node 0, zone\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL, "missing zone name");
	is_int(parse_str("Node 70000, zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL, "node id 70000 refused");
	is_int(parse_str("Node 0, zone ThisNameIsFarTooLong\n" ZONE_BODY, &zi, err, sizeof(err)), -EINVAL,
	       "zone name longer than 15 refused");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  min 7\n", &zi, err, sizeof(err)), -EINVAL,
	       "second min line refused");
	ok(strstr(err, "line 8:") != NULL, "... at line 8");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "Node 0, zone Normal\n" ZONE_BODY, &zi, err, sizeof(err)),
	       -EINVAL, "a zone listed twice is refused");
	ok(strstr(err, "line 8:") && strstr(err, "line 1"), "... naming both lines");

	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  protection: (0, 1, 2, 3, 4, 5, 6, 7, 8)\n", &zi, err,
			 sizeof(err)),
	       -EINVAL, "9 protection entries refused");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  protection: (0, x)\n", &zi, err, sizeof(err)), -EINVAL,
	       "protection garbage refused");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  protection: (0, 1\n", &zi, err, sizeof(err)), -EINVAL,
	       "protection without ')' refused");
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "  protection: (0, 1,)\n", &zi, err, sizeof(err)), -EINVAL,
	       "protection with a trailing comma refused");

	/* Unknown lines anywhere are skipped, known ones are found at any indent and in any order. */
	is_int(parse_str("Node 0, zone Normal\n  per-node stats\n      nr_inactive_anon 5\n   node_scanned  0\n"
			 "                   176096\n        protection: (0, 0)\n  present 90\n  spanned 100\n"
			 "  high 3\n  low 2\n  min 1\n  pages free 10\n    cpu: 0 pcp: 0\n              high:  6\n"
			 "  all_unreclaimable: 0\n  start_pfn:         196608\n  newfield 12 13 14\n",
			 &zi, err, sizeof(err)),
	       0, "stats in reverse order among unknown lines");
	ok(zi.nzones == 1 && zi.zones[0].high == 3 && zi.zones[0].free == 10 && zi.zones[0].nprotection == 2,
	   "... pageset 'high:' is not the watermark");
	mz_zoneinfo_free(&zi);

	/* Sparse node ids (POWER9 GPU nodes 250-255), unknown zone name */
	is_int(parse_str("Node 0, zone Normal\n" ZONE_BODY "Node 8, zone Normal\n" ZONE_BODY
			 "Node 255, zone Movable\n" ZONE_BODY "Node 255, zone Weird\n" ZONE_BODY,
			 &zi, err, sizeof(err)),
	       0, "sparse node ids 0, 8, 255");
	z = mz_zoneinfo_find(&zi, 255, MZ_ZONE_MOVABLE);
	ok(z && z->node == 255 && z->free == 10, "node 255 Movable found");
	z = mz_zoneinfo_find(&zi, 255, MZ_ZONE_OTHER);
	ok(z && strcmp(z->name, "Weird") == 0, "unknown zone name kept, typed MZ_ZONE_OTHER");
	ok(mz_zoneinfo_find(&zi, 1, MZ_ZONE_NORMAL) == NULL, "node 1 absent");
	ok(mz_zoneinfo_find(&zi, -1, MZ_ZONE_NORMAL) == NULL, "node -1 absent");
	mz_zoneinfo_free(&zi);

	/* A tiny error buffer is never overrun and stays terminated. */
	memset(big, 'X', sizeof(big));
	is_int(mz_zoneinfo_parse("Node 0, zone Normal\n  min zz\n", &zi, big, 8), -EINVAL, "8-byte error buffer");
	ok(memchr(big, '\0', 8) != NULL && big[8] == 'X', "... terminated, not overrun");
	is_int(mz_zoneinfo_parse("garbage", &zi, NULL, 0), -EINVAL, "NULL error buffer accepted");
}

/* ------------------------------------------------------------ reading through the root */

static void test_read(void)
{
	char dir[] = "/tmp/test-zoneinfo.XXXXXX", path[MZ_PATH_MAX], err[512];
	struct mz_zoneinfo zi = { 0 };
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "temporary root"))
		return;
	mz_root_set(dir);
	is_int(mz_zoneinfo_read(&zi, err, sizeof(err)), -ENOENT, "no proc/zoneinfo: -ENOENT");
	ok(strstr(err, dir) && strstr(err, "/proc/zoneinfo"), "... message names the file: %s", err);
	snprintf(path, sizeof(path), "%s/proc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/zoneinfo", dir);
	f = fopen(path, "w");
	fputs("Node 0, zone Normal\n  pages free 10\n  min oops\n", f);
	fclose(f);
	is_int(mz_zoneinfo_read(&zi, err, sizeof(err)), -EINVAL, "broken proc/zoneinfo: -EINVAL");
	ok(strstr(err, "/proc/zoneinfo: line 3:") != NULL, "... 'FILE: line 3: ...': %s", err);
	f = fopen(path, "w");
	fputs("Node 0, zone Normal\n" ZONE_BODY, f);
	fclose(f);
	is_int(mz_zoneinfo_read(&zi, err, sizeof(err)), 0, "good proc/zoneinfo");
	ok(zi.nzones == 1, "... one zone");
	mz_zoneinfo_free(&zi);
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
	test_firecracker_6_18();
	test_pcp_002_two_nodes();
	test_rw4020_2_6_16();
	test_rhel8_unnamed_line();
	test_porteus_no_device();
	test_other_layouts();
	test_lkml_excerpts();
	test_edges();
	test_read();
	return tap_done();
}
