/* test-actuator.c - moves, rollback, timeouts, backoff, intent records and block picking
 *
 * Pure parts (intent text, backoff, page tallies, rankings) run as is. Moves run on trees made by
 * tests/fixtures/mktree.py with tests/shim/faults.so over tests/shim/kmodel.so preloaded: the
 * program re-executes itself with LD_PRELOAD set, and each case writes the fault rules it needs.
 */
#include "actuator.h"
#include "config.h"
#include "intent.h"
#include "iomem.h"
#include "memblock.h"
#include "rebalance.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MIB (1ull << 20)
#define BS (128 * MIB)

static char tree[MZ_PATH_MAX], faults[MZ_PATH_MAX], flog[MZ_PATH_MAX];

/* ------------------------------------------------------------------ helpers */

static int run(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void rules(const char *text)
{
	FILE *f = fopen(faults, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A fresh tree: 8 boot blocks (0-7), then the devices given to mktree.py. */
static bool make_tree(const char *const *hotplug)
{
	char *argv[32];
	char rm[MZ_PATH_MAX + 16];
	const char *top = getenv("top_srcdir");
	char script[MZ_PATH_MAX], blocks[16];
	int n = 0, total = 8;

	snprintf(rm, sizeof(rm), "%s", tree);
	{
		char *rmv[] = { "rm", "-rf", rm, NULL };

		run(rmv);
	}
	snprintf(script, sizeof(script), "%s/tests/fixtures/mktree.py", top ? top : ".");
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = tree;
	argv[n++] = "--blocks";
	argv[n++] = blocks;
	argv[n++] = "--nodes";
	argv[n++] = "1";
	for (size_t i = 0; hotplug[i]; i++) {
		argv[n++] = "--hotplug";
		argv[n++] = (char *)hotplug[i];
		total += atoi(strchr(hotplug[i], ':') + 1);
	}
	argv[n] = NULL;
	snprintf(blocks, sizeof(blocks), "%d", total);
	if (run(argv) != 0)
		return false;
	rules("");
	unlink(flog);
	mz_root_set(tree);
	return true;
}

static struct mz_block block(unsigned long id)
{
	struct mz_block b;

	if (mz_memblock_read(id, BS, &b) < 0)
		b.state = MZ_BLOCK_UNKNOWN;
	return b;
}

static bool intent_exists(void)
{
	char path[MZ_PATH_MAX];

	return mz_path(path, sizeof(path), MZ_INTENT_PATH) == 0 && access(path, F_OK) == 0;
}

/* ------------------------------------------------------------------ pure parts */

static void test_intent_text(void)
{
	struct mz_intent in = { .block = 37, .from = MZ_ZONE_MOVABLE, .to = MZ_ZONE_NORMAL, .started = 1764111000, .pid = 42 },
			 out;
	char buf[512], err[256];
	int r;

	ok(mz_intent_format(&in, buf, sizeof(buf)) > 0, "intent: formats");
	r = mz_intent_parse(buf, "intent", &out, err, sizeof(err));
	ok(r == 0 && out.block == 37 && out.from == MZ_ZONE_MOVABLE && out.to == MZ_ZONE_NORMAL &&
		   out.started == 1764111000 && out.pid == 42,
	   "intent: round trip");
	r = mz_intent_parse("version=1\nblock=3\nfrom=Movable\nto=Bogus\n", "f", &out, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "f:4:") && strstr(err, "Bogus"), "intent: a bad zone names file:line (%s)", err);
	r = mz_intent_parse("version=1\nblock=3\nfrom=Movable\n", "f", &out, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "incomplete"), "intent: a record without 'to' is refused (%s)", err);
	r = mz_intent_parse("version=2\nblock=3\nfrom=Movable\nto=Normal\n", "f", &out, err, sizeof(err));
	ok(r == -EPROTO && strstr(err, "f:1:"), "intent: another version is refused (%s)", err);
	r = mz_intent_parse("version=1\nblock 3\n", "f", &out, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "f:2:"), "intent: garbage line (%s)", err);
	r = mz_intent_parse("version=1\nblock=99999999999\nfrom=Movable\nto=Normal\n", "f", &out, err, sizeof(err));
	ok(r == -EINVAL, "intent: block id out of range");
	r = mz_intent_parse("version=1\nblock=3\nfrom=Movable\nto=Normal\nfuture=1\n", "f", &out, err, sizeof(err));
	ok(r == 0, "intent: unknown keys are ignored (a newer memzoned)");
}

static void test_backoff(void)
{
	struct mz_backoffs b = { 0 };
	uint64_t d1, d2, d3, d;

	d1 = mz_backoff_fail(&b, 5, 1000, 30000, 1800000);
	d2 = mz_backoff_fail(&b, 5, 2000, 30000, 1800000);
	d3 = mz_backoff_fail(&b, 5, 3000, 30000, 1800000);
	ok(d1 == 30000 && d2 == 60000 && d3 == 120000, "backoff doubles: %llu %llu %llu ms", (unsigned long long)d1,
	   (unsigned long long)d2, (unsigned long long)d3);
	for (int i = 0; i < 20; i++)
		d = mz_backoff_fail(&b, 5, 4000, 30000, 1800000);
	ok(d == 1800000, "backoff stops at backoff_max");
	ok(mz_backoff_active(&b, 5, 4000 + 1799999) && !mz_backoff_active(&b, 5, 4000 + 1800000),
	   "active until the delay is over");
	ok(!mz_backoff_active(&b, 6, 0), "other blocks are not affected");
	mz_backoff_clear(&b, 5);
	ok(!mz_backoff_active(&b, 5, 4000) && mz_backoff_fail(&b, 5, 5000, 30000, 1800000) == 30000,
	   "a success clears it: the next failure starts over");
	mz_backoff_prune(&b, 5000 + 30000 + 3600000, 3600000);
	ok(b.n == 0, "expired entries are forgotten");
	mz_backoffs_free(&b);
}

static void test_tally(void)
{
	/* kpagecount is the map count: unmapped page cache and slab read 0 there */
	/* pinned: 's'lab, 'p'age table, 'r'eserved, 0 none */
	static const struct { uint64_t count, flags; bool used, unmovable; char pinned; const char *what; } pages[] = {
		{ 0, 0, false, false, false, "a free tail page (no flags)" },
		{ 0, 1ull << 10, false, false, false, "a free buddy head" },
		{ 0, 1ull << 25, false, false, false, "a free page marked idle" },
		{ 0, (1ull << 5) | (1ull << 14) | (1ull << 3), true, false, false,
		  "unmapped shmem/page cache (LRU, swapbacked)" },
		{ 1, (1ull << 5) | (1ull << 12) | (1ull << 11), true, false, false, "mapped anonymous memory" },
		{ 0, 1ull << 16, true, false, false, "a THP tail" },
		{ 0, 1ull << 7, true, true, 's', "slab" },
		{ 0, (1ull << 7) | (1ull << 15), true, true, 's', "a compound slab head" },
		{ 0, 1ull << 26, true, true, 'p', "a page table" },
		{ 0, 1ull << 32, true, true, 'r', "reserved" },
		{ 0, (1ull << 32) | (1ull << 7), true, true, 'r', "reserved and slab (counted once, as reserved)" },
		{ 1, 0, true, true, false, "a mapped page without flags (a driver's)" },
		{ 0, 1ull << 4, true, true, false, "dirty, not on an LRU list (yet)" },
		{ 0, 1ull << 23, false, false, false, "logically offline (balloon)" },
		{ 0, 1ull << 20, false, false, false, "no page (a hole)" },
	};

	for (size_t i = 0; i < MZ_ARRAY_SIZE(pages); i++) {
		struct mz_page_tally t = { 0 };

		mz_page_tally_add(&t, &pages[i].count, &pages[i].flags, 1);
		ok(t.pages == 1 && (t.used == 1) == pages[i].used && (t.unmovable == 1) == pages[i].unmovable &&
		   (t.pinned == 1) == (pages[i].pinned != 0) && t.slab == (pages[i].pinned == 's') &&
		   t.pgtable == (pages[i].pinned == 'p') && t.reserved == (pages[i].pinned == 'r'),
		   "page tally: %s: %s%s%s", pages[i].what, pages[i].used ? "used" : "free",
		   pages[i].unmovable ? ", unmovable" : "", pages[i].pinned ? ", pinned (the offline is refused at once)" : "");
	}
}

static struct mz_candidate cand(unsigned long id, unsigned dev_kernel, bool tallied, uint64_t used, uint64_t unmov)
{
	struct mz_candidate c = { .block = id, .dev_kernel = dev_kernel, .tallied = tallied };

	c.pages.used = used;
	c.pages.unmovable = unmov;
	return c;
}

static struct mz_candidate pinned_cand(unsigned long id, bool tallied, uint64_t unmov, uint64_t pinned)
{
	struct mz_candidate c = cand(id, 0, tallied, unmov, unmov);

	c.pages.pinned = pinned;
	return c;
}

/* A give-back offlines the first candidate that can leave the kernel zone; when every known one
 * holds slab or page tables none is offlined (the kernel would refuse at once). */
static void test_giveback_pick(void)
{
	struct mz_candidate a[] = { pinned_cand(60, true, 3, 3), pinned_cand(61, true, 9, 0), pinned_cand(62, true, 12, 12) };
	struct mz_candidate b[] = { pinned_cand(56, true, 2, 2), pinned_cand(57, true, 40, 40) };
	struct mz_candidate c[] = { pinned_cand(56, true, 2, 2), pinned_cand(57, false, 0, 0) };
	struct mz_candidate d[] = { pinned_cand(58, true, 0, 0) };

	ok(mz_rebalance_giveback_pick(a, 3) == 1,
	   "give-back: a block with unmovable pages but no slab/page table is tried before pinned ones (got %zu)",
	   mz_rebalance_giveback_pick(a, 3));
	ok(mz_rebalance_giveback_pick(b, 2) == 2, "give-back: every candidate pinned -> none is offlined (got %zu)",
	   mz_rebalance_giveback_pick(b, 2));
	ok(mz_rebalance_giveback_pick(c, 2) == 1, "give-back: a block whose pages are unknown is still tried (got %zu)",
	   mz_rebalance_giveback_pick(c, 2));
	ok(mz_rebalance_giveback_pick(d, 1) == 0 && mz_rebalance_giveback_pick(d, 0) == 0,
	   "give-back: a clean block is tried; no candidate -> 0");
}

static void test_ranking(void)
{
	struct mz_candidate k[] = { cand(10, 0, true, 5, 0), cand(11, 2, true, 900, 0), cand(12, 2, true, 100, 0),
				    cand(13, 0, false, 0, 0) };
	struct mz_candidate m[] = { cand(20, 1, true, 10, 3), cand(21, 4, true, 10, 0), cand(22, 1, true, 50, 0),
				    cand(23, 1, true, 20, 0) };

	for (size_t i = 0; i < 4; i++) {
		k[i].source = MZ_SOURCE_DIMM;
		snprintf(k[i].device, sizeof(k[i].device), "PNP0C80:%02lu", k[i].block / 2);
		k[i].dev_blocks = 4;
	}
	mz_candidates_classify(k, 4, MZ_HARVEST_DEVICES);
	qsort(k, 4, sizeof(k[0]), mz_candidate_cmp_to_kernel);
	ok(k[0].block == 12 && k[1].block == 11 && k[2].block == 10 && k[3].block == 13,
	   "to-kernel: partly-kernel device first, then fewest used pages, unknown last (%lu %lu %lu %lu)", k[0].block,
	   k[1].block, k[2].block, k[3].block);
	qsort(m, 4, sizeof(m[0]), mz_candidate_cmp_to_movable);
	ok(m[0].block == 23 && m[1].block == 22 && m[2].block == 21 && m[3].block == 20,
	   "to-movable: no unmovable pages first, then the device closest to wholly movable, then fewest used (%lu %lu %lu %lu)",
	   m[0].block, m[1].block, m[2].block, m[3].block);
}

static struct mz_candidate hc(unsigned long id, int node, enum mz_source src, const char *dev, unsigned dev_blocks,
			      unsigned dev_kernel, uint64_t used)
{
	struct mz_candidate c = { .block = id, .node = node, .zone = MZ_ZONE_MOVABLE, .source = src,
				  .dev_blocks = dev_blocks, .dev_kernel = dev_kernel, .tallied = true };

	snprintf(c.device, sizeof(c.device), "%s", dev);
	c.dev_movable = dev_blocks - dev_kernel;
	c.pages.used = used;
	return c;
}

static bool order_is(struct mz_candidate *v, size_t n, enum mz_harvest_order o, const unsigned long *want, char *got,
		     size_t glen)
{
	bool same = true;
	size_t off = 0;

	mz_candidates_classify(v, n, o);
	qsort(v, n, sizeof(*v), mz_candidate_cmp_to_kernel);
	got[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		same &= v[i].block == want[i];
		off += (size_t)snprintf(got + off, off < glen ? glen - off : 0, "%s%lu", i ? " " : "", v[i].block);
	}
	return same;
}

/* The harvest order keeps unplug units whole: a device already partly kernel (nothing new is lost),
 * then virtio-mem, then the smallest intact DIMM, the node's last intact one only when nothing else is
 * left; fewest used pages within a class. */
static void test_harvest_order(void)
{
	char got[128];
	/* 30-31: a 64-block DIMM partly kernel, busy; 40-41 virtio-mem (Movable), idle; 50: a 4-block
	 * DIMM, idle; 60: an 8-block DIMM, idle */
	struct mz_candidate a[] = {
		hc(50, 0, MZ_SOURCE_DIMM, "PNP0C80:01", 4, 0, 0), hc(60, 0, MZ_SOURCE_DIMM, "PNP0C80:02", 8, 0, 0),
		hc(40, 0, MZ_SOURCE_VIRTIO_MEM, "virtio5", 16, 0, 10), hc(41, 0, MZ_SOURCE_VIRTIO_MEM, "virtio5", 16, 0, 3),
		hc(30, 0, MZ_SOURCE_DIMM, "PNP0C80:00", 64, 1, 900), hc(31, 0, MZ_SOURCE_DIMM, "PNP0C80:00", 64, 1, 800),
	};
	static const unsigned long a_want[] = { 31, 30, 41, 40, 50, 60 };
	/* without a partly-kernel device, virtio-mem beats even an idle DIMM; a virtio-mem device already
	 * partly kernel is class (1) like any other */
	struct mz_candidate b[] = {
		hc(50, 0, MZ_SOURCE_DIMM, "PNP0C80:01", 4, 0, 0), hc(60, 0, MZ_SOURCE_DIMM, "PNP0C80:02", 8, 0, 0),
		hc(70, 0, MZ_SOURCE_VIRTIO_MEM, "virtio6", 8, 0, 1), hc(80, 0, MZ_SOURCE_VIRTIO_MEM, "virtio7", 8, 2, 700),
	};
	static const unsigned long b_want[] = { 80, 70, 50, 60 };
	/* DIMMs only: the smaller device first even when the larger one's block is idler */
	struct mz_candidate c[] = {
		hc(90, 0, MZ_SOURCE_DIMM, "PNP0C80:05", 16, 0, 0), hc(91, 0, MZ_SOURCE_DIMM, "PNP0C80:05", 16, 0, 0),
		hc(100, 0, MZ_SOURCE_DIMM, "PNP0C80:06", 8, 0, 500), hc(101, 0, MZ_SOURCE_DIMM, "PNP0C80:06", 8, 0, 400),
	};
	static const unsigned long c_want[] = { 101, 100, 91, 90 };
	/* the last intact DIMM is still taken when it is the only choice; boot memory loses nothing */
	struct mz_candidate e[] = { hc(140, 0, MZ_SOURCE_DIMM, "PNP0C80:0a", 4, 0, 0), hc(5, 0, MZ_SOURCE_BOOT, "", 1, 0, 9000) };
	static const unsigned long e_want[] = { 5, 140 };
	/* harvest_order = pages: fewest used pages, whatever the device */
	struct mz_candidate f[] = {
		hc(50, 0, MZ_SOURCE_DIMM, "PNP0C80:01", 4, 0, 0), hc(41, 0, MZ_SOURCE_VIRTIO_MEM, "virtio5", 16, 0, 3),
		hc(31, 0, MZ_SOURCE_DIMM, "PNP0C80:00", 64, 1, 800),
	};
	static const unsigned long f_want[] = { 50, 41, 31 };

	ok(order_is(a, 6, MZ_HARVEST_DEVICES, a_want, got, sizeof(got)),
	   "harvest: partly-kernel device first (busy as it is), then virtio-mem, then the smallest DIMM (%s)", got);
	ok(a[0].harvest == MZ_HARVEST_NO_LOSS && a[2].harvest == MZ_HARVEST_VIRTIO_MEM &&
	   a[4].harvest == MZ_HARVEST_DEVICE && a[5].harvest == MZ_HARVEST_DEVICE,
	   "harvest: two intact DIMMs on the node: neither is the last one");
	ok(order_is(b, 4, MZ_HARVEST_DEVICES, b_want, got, sizeof(got)),
	   "harvest: a partly-kernel virtio-mem device, then an intact one, then DIMMs (%s)", got);
	ok(order_is(c, 4, MZ_HARVEST_DEVICES, c_want, got, sizeof(got)),
	   "harvest: the smaller intact DIMM first, fewest used pages within it (%s)", got);
	ok(order_is(e, 2, MZ_HARVEST_DEVICES, e_want, got, sizeof(got)) && e[1].harvest == MZ_HARVEST_DEVICE,
	   "harvest: boot memory before the node's last intact DIMM, which is still a candidate (%s)", got);
	ok(order_is(f, 3, MZ_HARVEST_PAGES, f_want, got, sizeof(got)),
	   "harvest_order = pages: the fewest used pages first, whatever the device (%s)", got);
}

/* ------------------------------------------------------------------ moves on a tree */

static void test_moves(void)
{
	static const char *const two_dimms[] = { "dimm:4=movable", "dimm:4=movable", NULL };
	struct mz_move_outcome out;
	struct mz_block b;
	struct mz_intent in;
	char err[256];
	int r;

	if (!make_tree(two_dimms)) {
		ok(false, "mktree.py builds the tree");
		return;
	}

	r = mz_actuator_move(15, MZ_ZONE_MOVABLE, MZ_MOVE_TO_KERNEL, BS, 5000, &out);
	b = block(15);
	ok(r == 0 && out.result == MZ_MOVE_OK && b.state == MZ_BLOCK_ONLINE && b.zone == MZ_ZONE_NORMAL && !intent_exists(),
	   "move to kernel: memory15 online in Normal, intent cleared (%s)", out.why);

	r = mz_actuator_move(15, MZ_ZONE_NORMAL, MZ_MOVE_TO_MOVABLE, BS, 5000, &out);
	b = block(15);
	ok(r == 0 && out.result == MZ_MOVE_OK && b.zone == MZ_ZONE_MOVABLE, "move back to Movable (%s)", out.why);

	/* single faults of the offline and online writes: test_fault_matrix() */
	rules("memory14 offline hang\n");

	/* a signal blocked for a signalfd (SIGTERM in memzoned) must not end the offline; the timeout does */
	{
		sigset_t set, old, pend;
		timer_t t;
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGTERM };
		struct itimerspec its = { .it_value = { 0, 50 * 1000000L } };
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, &old);
		timer_create(CLOCK_MONOTONIC, &sev, &t);
		timer_settime(t, 0, &its, NULL); /* SIGTERM arrives 50 ms into the hanging offline */
		r = mz_actuator_move(14, MZ_ZONE_MOVABLE, MZ_MOVE_TO_KERNEL, BS, 400, &out);
		sigpending(&pend);
		ok(out.result == MZ_MOVE_TIMEOUT && sigismember(&pend, SIGTERM),
		   "a blocked SIGTERM stays pending and does not end the offline; the timeout does");
		/* consume it before deleting the timer (newer kernels drop a deleted timer's signal on
		 * dequeue, and sigwait would then wait forever) */
		if (sigismember(&pend, SIGTERM))
			sigwait(&set, &sig);
		timer_delete(t);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}

	rules("memory13 online_kernel ENOMEM\nmemory13 online_movable EBUSY\n");
	r = mz_actuator_move(13, MZ_ZONE_MOVABLE, MZ_MOVE_TO_KERNEL, BS, 5000, &out);
	b = block(13);
	ok(r < 0 && out.result == MZ_MOVE_ROLLED_BACK && b.state == MZ_BLOCK_ONLINE,
	   "both zones refused: onlined where the kernel puts it (%s, %s)", mz_zone_name(b.zone), out.why);

	rules("memory12 online_kernel EINVAL\nmemory12 online_movable EINVAL\nmemory12 online EINVAL\n");
	r = mz_actuator_move(12, MZ_ZONE_MOVABLE, MZ_MOVE_TO_KERNEL, BS, 5000, &out);
	b = block(12);
	ok(r < 0 && out.stranded && b.state == MZ_BLOCK_OFFLINE && intent_exists(),
	   "every online refused: stranded, the intent record stays (%s)", out.why);
	rules("");
	r = mz_intent_read(&in, err, sizeof(err));
	ok(r == 0 && in.block == 12 && in.from == MZ_ZONE_MOVABLE, "the record names memory12, from Movable");
	r = mz_actuator_recover(&in, BS, &out);
	b = block(12);
	ok(r == 0 && b.state == MZ_BLOCK_ONLINE && mz_zone_is_kernel(b.zone) && !intent_exists() && out.result == MZ_MOVE_OK,
	   "recovery completes the move: online in %s, record removed (%s)", mz_zone_name(b.zone), out.why);

	/* recovery of a record whose block is online (the move finished or was rolled back) */
	in = (struct mz_intent){ .block = 11, .from = MZ_ZONE_MOVABLE, .to = MZ_ZONE_NORMAL };
	mz_intent_write(&in, err, sizeof(err));
	r = mz_actuator_recover(&in, BS, &out);
	b = block(11);
	ok(r == 0 && b.zone == MZ_ZONE_MOVABLE && !intent_exists(), "recovery of an online block only clears the record");

	/* ... of a block that went away */
	in = (struct mz_intent){ .block = 999, .from = MZ_ZONE_MOVABLE, .to = MZ_ZONE_NORMAL };
	mz_intent_write(&in, err, sizeof(err));
	r = mz_actuator_recover(&in, BS, &out);
	ok(r == 0 && !intent_exists(), "recovery of a vanished block clears the record");

	/* ... of an offline block whose wanted zone is refused: back to where it was */
	rules("memory10 online_kernel EINVAL 1\n");
	mz_memblock_write_state(10, "offline");
	in = (struct mz_intent){ .block = 10, .from = MZ_ZONE_MOVABLE, .to = MZ_ZONE_NORMAL };
	mz_intent_write(&in, err, sizeof(err));
	r = mz_actuator_recover(&in, BS, &out);
	b = block(10);
	ok(r == 0 && b.state == MZ_BLOCK_ONLINE && b.zone == MZ_ZONE_MOVABLE && out.result == MZ_MOVE_ROLLED_BACK,
	   "recovery rolls back when the wanted zone is refused (%s)", out.why);
	rules("");

	/* the block vanishes before the move */
	{
		char path[MZ_PATH_MAX], *rmv[] = { "rm", "-rf", path, NULL };

		mz_path(path, sizeof(path), "/sys/devices/system/memory/memory9");
		run(rmv);
		r = mz_actuator_move(9, MZ_ZONE_MOVABLE, MZ_MOVE_TO_KERNEL, BS, 5000, &out);
		ok(r < 0 && out.result == MZ_MOVE_FAILED && !intent_exists(), "a block that vanished: failed, no record left (%s)",
		   out.why);
	}
}

/* ------------------------------------------------------------------ the fault matrix */

/* One row per fault for the table `make check` prints (tests/print-fault-matrix.sh): area, write or read,
 * fault, expected outcome, observed outcome, whether every block online before is online after. */
static FILE *matrix;

static void matrix_open(void)
{
	const char *b = getenv("top_builddir");
	char path[MZ_PATH_MAX];

	snprintf(path, sizeof(path), "%s/tests/test-actuator.matrix", b ? b : ".");
	matrix = fopen(path, "w"); /* rows of an earlier run go */
	if (!matrix)
		diag("cannot write %s: %s", path, strerror(errno));
}

static void matrix_row(const char *area, const char *op, const char *fault, const char *expected, const char *observed,
		       bool safe)
{
	ok(strcmp(expected, observed) == 0 && safe, "%s %s %s: %s; no online block left offline: %s", area, op, fault,
	   observed, safe ? "yes" : "NO");
	if (strcmp(expected, observed) != 0)
		diag("expected: %s", expected);
	if (matrix) {
		fprintf(matrix, "%s\t%s\t%s\t%s\t%s\t%s\n", area, op, fault, expected, observed, safe ? "yes" : "no");
		fflush(matrix);
	}
}

#define MATRIX_BLOCKS 16

/* Which blocks are online now (ids 0..MATRIX_BLOCKS-1). */
static void online_set(bool *on)
{
	for (unsigned long id = 0; id < MATRIX_BLOCKS; id++)
		on[id] = block(id).state == MZ_BLOCK_ONLINE;
}

/* Every block online in `before` is online now, or gone (a vanished block is not one left offline). */
static bool none_left_offline(const bool *before)
{
	for (unsigned long id = 0; id < MATRIX_BLOCKS; id++) {
		struct mz_block b;

		if (before[id] && mz_memblock_read(id, BS, &b) == 0 && b.state != MZ_BLOCK_ONLINE)
			return false;
	}
	return true;
}

/* Writes of word to memory<id> the fault shim saw since its log was last removed. */
static unsigned writes_of(unsigned long id, const char *word)
{
	char line[160], want[64];
	unsigned n = 0;
	FILE *f = fopen(flog, "r");

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "memory%lu %s ", id, word);
	while (fgets(line, sizeof(line), f))
		n += strncmp(line, want, strlen(want)) == 0;
	fclose(f);
	return n;
}

/* Put block id online in zone z without faults (the start of a row). */
static void reset_block(unsigned long id, enum mz_zone z)
{
	struct mz_block b = block(id);

	rules("");
	if (b.state == MZ_BLOCK_ONLINE && b.zone == z)
		return;
	if (b.state == MZ_BLOCK_ONLINE)
		mz_memblock_write_state(id, "offline");
	mz_memblock_write_state(id, mz_online_word(z));
}

/* What the move did, in the matrix's words, from the outcome and the block as it is now. memzoned's
 * reaction follows from the outcome (rebalance.c): a failed move of a block whose state is known
 * backs off; a stranded block keeps its intent record and the next tick recovers it. */
static void describe(char *buf, size_t len, unsigned long id, const struct mz_move_outcome *out, const char *word)
{
	struct mz_block b = block(id);
	const char *zone = b.state == MZ_BLOCK_ONLINE ? mz_zone_name(b.zone) : mz_block_state_name(b.state);
	bool record = intent_exists();

	if (out->stranded)
		snprintf(buf, len, "stranded %s, record %s", zone, record ? "kept" : "LOST");
	else if (out->result == MZ_MOVE_OK)
		snprintf(buf, len, "%smoved to %s", writes_of(id, word) > 1 ? "retry, " : "", zone);
	else if (out->result == MZ_MOVE_ROLLED_BACK)
		snprintf(buf, len, "rollback to %s, backoff", zone);
	else if (out->state == MZ_BLOCK_UNKNOWN && b.state == MZ_BLOCK_UNKNOWN)
		snprintf(buf, len, "skip (block gone)");
	else
		snprintf(buf, len, "%s, stays %s, backoff", out->result == MZ_MOVE_TIMEOUT ? "timeout" : "refused", zone);
	if (record && !out->stranded)
		snprintf(buf + strlen(buf), len - strlen(buf), ", record left");
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The faults of the brief for every state write of a move, each applying to one write (a transient
 * fault; "hang" waits for a signal like the kernel's migration loop). */
static void test_fault_matrix(void)
{
	static const char *const two_dimms[] = { "dimm:4=movable", "dimm:4=movable", NULL };
	static const struct {
		const char *word, *fault, *expected;
	} rows[] = {
		/* offline: refused, the block stays where it was; memzoned backs off from it */
		{ "offline", "EBUSY", "refused, stays Movable, backoff" },
		{ "offline", "EINVAL", "refused, stays Movable, backoff" },
		{ "offline", "EINTR", "refused, stays Movable, backoff" },
		{ "offline", "EAGAIN", "refused, stays Movable, backoff" },
		{ "offline", "ENOENT", "skip (block gone)" },
		{ "offline", "ENOMEM", "refused, stays Movable, backoff" },
		{ "offline", "short", "refused, stays Movable, backoff" },
		{ "offline", "hang", "timeout, stays Movable, backoff" },
		/* online in the new zone: a transient error is retried, a refusal rolls back to the old zone */
		{ "online_kernel", "EBUSY", "rollback to Movable, backoff" },
		{ "online_kernel", "EINVAL", "rollback to Movable, backoff" },
		{ "online_kernel", "EINTR", "retry, moved to Normal" },
		{ "online_kernel", "EAGAIN", "retry, moved to Normal" },
		{ "online_kernel", "ENOENT", "rollback to Movable, backoff" },
		{ "online_kernel", "ENOMEM", "rollback to Movable, backoff" },
		{ "online_kernel", "short", "rollback to Movable, backoff" },
		{ "online_kernel", "hang", "retry, moved to Normal" },
		{ "online_movable", "EBUSY", "rollback to Normal, backoff" },
		{ "online_movable", "EINVAL", "rollback to Normal, backoff" },
		{ "online_movable", "EINTR", "retry, moved to Movable" },
		{ "online_movable", "EAGAIN", "retry, moved to Movable" },
		{ "online_movable", "ENOENT", "rollback to Normal, backoff" },
		{ "online_movable", "ENOMEM", "rollback to Normal, backoff" },
		{ "online_movable", "short", "rollback to Normal, backoff" },
		{ "online_movable", "hang", "retry, moved to Movable" },
	};
	struct sigaction sa = { .sa_handler = on_signal }, old_sa; /* no SA_RESTART: the write ends with EINTR */

	if (!make_tree(two_dimms)) {
		ok(false, "mktree.py builds the tree");
		return;
	}
	matrix_open();
	sigaction(SIGUSR1, &sa, &old_sa);
	for (size_t i = 0; i < MZ_ARRAY_SIZE(rows); i++) {
		bool to_kernel = strcmp(rows[i].word, "online_movable") != 0;
		enum mz_zone from = to_kernel ? MZ_ZONE_MOVABLE : MZ_ZONE_NORMAL;
		const char *area = to_kernel ? "memzoned move to kernel" : "memzoned move to Movable";
		struct mz_move_outcome out;
		bool before[MATRIX_BLOCKS];
		char rl[96], observed[256], path[MZ_PATH_MAX];
		timer_t t;
		bool timer = false;
		unsigned long id = 14;

		reset_block(id, from);
		online_set(before);
		unlink(flog);
		if (strcmp(rows[i].fault, "ENOENT") == 0 && strcmp(rows[i].word, "offline") == 0) {
			/* the block vanishes (unplugged) before the offline: its directory is gone */
			char *rmv[] = { "rm", "-rf", path, NULL };

			id = 15;
			mz_path(path, sizeof(path), "/sys/devices/system/memory/memory%lu", id);
			run(rmv);
		} else {
			snprintf(rl, sizeof(rl), "memory%lu %s %s 1\n", id, rows[i].word, rows[i].fault);
			rules(rl);
		}
		if (strcmp(rows[i].fault, "hang") == 0 && strcmp(rows[i].word, "offline") != 0) {
			/* nothing bounds an online write: a signal (here 100 ms in) ends the hang */
			struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
			struct itimerspec its = { .it_value = { 0, 100 * 1000000L } };

			timer = timer_create(CLOCK_MONOTONIC, &sev, &t) == 0 && timer_settime(t, 0, &its, NULL) == 0;
		}
		mz_actuator_move(id, from, to_kernel ? MZ_MOVE_TO_KERNEL : MZ_MOVE_TO_MOVABLE, BS, 300, &out);
		if (timer)
			timer_delete(t);
		describe(observed, sizeof(observed), id, &out, rows[i].word);
		if (out.stranded) {
			/* what the next tick does: recover from the record */
			struct mz_intent in;
			struct mz_move_outcome rec;
			char err[256];
			struct mz_block b;

			rules("");
			if (mz_intent_read(&in, err, sizeof(err)) == 0 && mz_actuator_recover(&in, BS, &rec) == 0) {
				b = block(id);
				snprintf(observed + strlen(observed), sizeof(observed) - strlen(observed), "; next tick: %s %s",
					 mz_block_state_name(b.state), b.state == MZ_BLOCK_ONLINE ? mz_zone_name(b.zone) : "");
			} else {
				snprintf(observed + strlen(observed), sizeof(observed) - strlen(observed),
					 "; next tick: recovery failed");
			}
		}
		snprintf(rl, sizeof(rl), "write %s", rows[i].word);
		matrix_row(area, rl, rows[i].fault, rows[i].expected, observed, none_left_offline(before));
	}
	sigaction(SIGUSR1, &old_sa, NULL);
	rules("");
	if (matrix)
		fclose(matrix);
	matrix = NULL;
}

/* ------------------------------------------------------------------ picking */

static void kpage_files(uint64_t pfn_first, uint64_t npages, unsigned long busy_block, uint64_t busy_pages)
{
	char pc[MZ_PATH_MAX], pf[MZ_PATH_MAX];
	int fc, ff;
	uint64_t zero = 0, lru = 1ull << 5;

	mz_path(pc, sizeof(pc), "/proc/kpagecount");
	mz_path(pf, sizeof(pf), "/proc/kpageflags");
	fc = open(pc, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ff = open(pf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* every page of the range free (sparse zeros), except busy_pages pages of busy_block */
	if (ftruncate(fc, (off_t)((pfn_first + npages) * 8)) < 0 || ftruncate(ff, (off_t)((pfn_first + npages) * 8)) < 0)
		diag("ftruncate failed");
	for (uint64_t i = 0; i < busy_pages; i++) {
		off_t off = (off_t)((busy_block * (BS / 4096) + i) * 8);

		if (pwrite(fc, &zero, 8, off) != 8 || pwrite(ff, &lru, 8, off) != 8) /* unmapped page cache */
			diag("pwrite failed");
	}
	close(fc);
	close(ff);
}

static void test_pick(void)
{
	/* 0-7 boot; 8-11 dimm movable; 12-15 dimm movable; 16-19 virtio_mem kernel; 20-23 kmem movable */
	static const char *const devs[] = { "dimm:4=movable", "dimm:4=movable", "virtio_mem:4=kernel", "kmem:4=movable",
					    NULL };
	struct mz_config c;
	struct mz_candidate *v;
	struct mz_pick_stats st;
	struct mz_backoffs bo = { 0 };
	struct mz_iomem iomem, *io = &iomem;
	char err[256];
	size_t n;
	int r;

	mz_config_defaults(&c);
	if (!make_tree(devs) || mz_iomem_read(&iomem, err, sizeof(err)) < 0) {
		ok(false, "mktree.py builds the tree");
		return;
	}
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 8 && v[0].block == 15 && st.source_rule == 4,
	   "to-kernel: 8 DIMM blocks, kmem left to daxctl; highest id first (memory%lu)", n ? v[0].block : 0);
	free(v);
	r = mz_actuator_candidates(&c, NULL, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 8 && st.boot == 4,
	   "without iomem: DIMMs are known by their ACPI firmware_node, the kmem blocks count as boot memory");
	free(v);

	/* make memory12 kernel: its DIMM is now partly kernel and is preferred */
	mz_memblock_write_state(12, "offline");
	mz_memblock_write_state(12, "online_kernel");
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 7 && v[0].block >= 13 && v[0].block <= 15,
	   "a DIMM already partly kernel is harvested first (memory%lu), the other stays wholly removable",
	   n ? v[0].block : 0);
	free(v);

	/* page use decides within the device */
	kpage_files(0, 24 * (BS / 4096), 15, 5000);
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 7 && v[0].block == 14 && v[0].tallied && st.tallied > 0,
	   "the least-used block wins when kpageflags is readable (memory%lu, %llu pages used)", n ? v[0].block : 0,
	   n ? (unsigned long long)v[0].pages.used : 0ull);
	free(v);

	mz_backoff_fail(&bo, 14, 0, 30000, 1800000);
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 1000, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 6 && st.backoff == 1 && v[0].block != 14, "a block backing off is skipped");
	free(v);
	mz_backoffs_free(&bo);

	/* a device with an offline block is being unplugged: hands off */
	mz_memblock_write_state(8, "offline");
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && st.unplugging == 3, "a device with blocks going offline is left alone (%u blocks)", st.unplugging);
	free(v);

	/* to-movable: hot-added kernel blocks only (virtio_mem 16-19 and memory12), never boot memory */
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_MOVABLE, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && st.boot >= 7, "to-movable: boot memory is never a candidate (%u boot blocks skipped)", st.boot);
	{
		bool only_hot = true;

		for (size_t i = 0; i < n; i++)
			only_hot &= v[i].source != MZ_SOURCE_BOOT;
		ok(only_hot && n >= 1, "to-movable: %zu hot-added candidates", n);
	}
	free(v);
	c.rebalance.boot_memory = true;
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_MOVABLE, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && st.boot == 0 && n >= 8, "boot_memory = yes: boot kernel blocks become candidates (%zu)", n);
	free(v);
	c.rebalance.boot_memory = false;

	/* a source pinned to one side stays there */
	c.source[MZ_SOURCE_VIRTIO_MEM].zone = MZ_SRCZONE_KERNEL;
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_MOVABLE, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && st.source_rule == 4, "[source virtio_mem] zone = kernel: its blocks are not given back");
	free(v);

	/* a node with no blocks */
	r = mz_actuator_candidates(&c, io, BS, 4096, 3, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 0 && st.considered == 0, "no candidates on a node without blocks");
	free(v);
	mz_iomem_free(&iomem);

	/* the gathering fills what the harvest order needs: 8-11 dimm, 12-15 virtio_mem, both Movable */
	static const char *const dv[] = { "dimm:4=movable", "virtio_mem:4=movable", NULL };

	mz_config_defaults(&c);
	if (!make_tree(dv) || mz_iomem_read(&iomem, err, sizeof(err)) < 0) {
		ok(false, "mktree.py builds the dimm + virtio_mem tree");
		return;
	}
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 8 && v[0].source == MZ_SOURCE_VIRTIO_MEM && v[0].harvest == MZ_HARVEST_VIRTIO_MEM &&
	   v[7].source == MZ_SOURCE_DIMM && v[7].harvest == MZ_HARVEST_DEVICE && v[7].dev_blocks == 4,
	   "to-kernel: virtio-mem blocks before the node's one intact DIMM (memory%lu first)", n ? v[0].block : 0);
	free(v);
	mz_memblock_write_state(9, "offline");
	mz_memblock_write_state(9, "online_kernel");
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 7 && v[0].source == MZ_SOURCE_DIMM && v[0].harvest == MZ_HARVEST_NO_LOSS,
	   "a DIMM already partly kernel goes before virtio-mem (memory%lu first)", n ? v[0].block : 0);
	free(v);
	c.rebalance.harvest_order = MZ_HARVEST_PAGES;
	kpage_files(0, 16 * (BS / 4096), 15, 100);
	r = mz_actuator_candidates(&c, io, BS, 4096, 0, MZ_MOVE_TO_KERNEL, &bo, 0, NULL, 0, 8, &v, &n, &st);
	ok(r == 0 && n == 7 && v[0].block == 14 && v[0].harvest == MZ_HARVEST_NO_LOSS && v[6].harvest == MZ_HARVEST_NO_LOSS,
	   "harvest_order = pages: the idle virtio-mem memory14 before the partly-kernel DIMM's (memory%lu first)",
	   n ? v[0].block : 0);
	free(v);
	mz_iomem_free(&iomem);
}

int main(int argc, char **argv)
{
	const char *b = getenv("top_builddir");
	char pre[2 * MZ_PATH_MAX + 8];

	(void)argc;
	if (!getenv("MZ_TEST_PRELOADED")) {
		/* run again with the shims preloaded; the pure tests need no shim but run there too */
		snprintf(pre, sizeof(pre), "%s/tests/shim/faults.so %s/tests/shim/kmodel.so", b ? b : ".", b ? b : ".");
		setenv("LD_PRELOAD", pre, 1);
		setenv("MZ_TEST_PRELOADED", "1", 1);
		execv("/proc/self/exe", argv);
		printf("Bail out! cannot re-execute with LD_PRELOAD: %s\n", strerror(errno));
		return 1;
	}
	unsetenv("LD_PRELOAD"); /* not for the children (python3, rm) */
	snprintf(tree, sizeof(tree), "%s/test-actuator.tree", b ? b : ".");
	snprintf(faults, sizeof(faults), "%s/test-actuator.faults", b ? b : ".");
	snprintf(flog, sizeof(flog), "%s/test-actuator.flog", b ? b : ".");
	setenv("KMODEL_ROOT", tree, 1);
	setenv("MZ_FAULTS", faults, 1);
	setenv("MZ_FAULTS_LOG", flog, 1);

	test_intent_text();
	test_backoff();
	test_tally();
	test_ranking();
	test_harvest_order();
	test_giveback_pick();
	test_moves();
	test_fault_matrix();
	test_pick();
	return tap_done();
}
