/* actuator.c - moving one memory block between ZONE_MOVABLE and a kernel zone, safely */
#include "actuator.h"
#include "lock.h"
#include "log.h"
#include "snapshot.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a block may sit in "going-offline" after an interrupted offline before we stop waiting. */
#define GOING_OFFLINE_WAIT_MS 2000
#define ONLINE_TRIES 3

const char *mz_online_word(enum mz_zone z)
{
	return z == MZ_ZONE_MOVABLE ? "online_movable" : "online_kernel";
}

static bool zone_matches(enum mz_zone want, enum mz_zone got)
{
	if (got == MZ_ZONE_NONE) /* valid_zones unreadable (before 3.18): the state is all we know */
		return true;
	return want == MZ_ZONE_MOVABLE ? got == MZ_ZONE_MOVABLE : mz_zone_is_kernel(got);
}

/* The block's state now, waiting out a transient "going-offline". -ENOENT when it is gone. */
static int settled_state(unsigned long id, uint64_t block_size, struct mz_block *b)
{
	uint64_t until = mz_now_ms() + GOING_OFFLINE_WAIT_MS;
	int r;

	for (;;) {
		r = mz_memblock_read(id, block_size, b);
		if (r < 0 || b->state != MZ_BLOCK_GOING_OFFLINE || mz_now_ms() >= until)
			return r;
		mz_sleep_ms(50);
	}
}

/* Write "offline", interrupted by a signal to this thread after timeout_ms (the kernel's migration
 * loop gives up on a pending signal and puts the block back online). */
static int offline_bounded(unsigned long id, uint64_t timeout_ms, bool *timed_out)
{
	struct mz_deadline dl;
	int r;

	*timed_out = false;
	r = mz_deadline_arm(&dl, timeout_ms);
	if (r < 0)
		return r; /* an offline we could not bound is one we do not start */
	r = mz_deadline_expired(&dl) ? -EINTR : mz_memblock_write_state(id, "offline");
	*timed_out = r == -EINTR && mz_deadline_expired(&dl);
	mz_deadline_disarm(&dl);
	return r;
}

/* One online write, retried when a signal or a transient EAGAIN got in the way. */
static int online_write(unsigned long id, const char *word)
{
	int r = -EINTR;

	for (int i = 0; i < ONLINE_TRIES && (r == -EINTR || r == -EAGAIN); i++)
		r = mz_memblock_write_state(id, word);
	return r;
}

/* Bring an offline block online: the wanted side, else the other, else the kernel's default zone.
 * Returns the index of the word that worked (0, 1, 2) or -1 with *err the first refusal. */
static int online_somewhere(unsigned long id, uint64_t block_size, enum mz_zone want, enum mz_zone other,
			    struct mz_block *b, int *err, const char **failed_word)
{
	const char *words[3] = { mz_online_word(want), mz_online_word(other), "online" };

	*err = 0;
	*failed_word = NULL;
	for (size_t i = 0; i < MZ_ARRAY_SIZE(words); i++) {
		int r, sr;

		if (i == 1 && strcmp(words[1], words[0]) == 0)
			continue; /* same side: nothing else to roll back to */
		r = online_write(id, words[i]);
		/* A short write or an odd errno may still have onlined it: the state file is the truth. */
		sr = settled_state(id, block_size, b);
		if (sr == 0 && b->state == MZ_BLOCK_ONLINE)
			return (int)i;
		if (r == 0)
			r = -EIO; /* the write "worked" but the block is not online */
		if (!*err) {
			*err = -r;
			*failed_word = words[i];
		}
		/* gone only when its directory is: an ENOENT of the write with the block still there
		 * leaves the other zones to try */
		if (sr == -ENOENT)
			break;
	}
	return -1;
}

static void outcome_init(struct mz_move_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = MZ_MOVE_FAILED;
	out->state = MZ_BLOCK_UNKNOWN;
	out->zone = MZ_ZONE_NONE;
}

static void outcome_block(struct mz_move_outcome *out, const struct mz_block *b)
{
	out->state = b->state;
	out->zone = b->state == MZ_BLOCK_ONLINE ? b->zone : MZ_ZONE_NONE;
}

int mz_actuator_move(unsigned long id, enum mz_zone from, enum mz_move_dir dir, uint64_t block_size,
		     uint64_t offline_timeout_ms, struct mz_move_outcome *out)
{
	enum mz_zone to = dir == MZ_MOVE_TO_KERNEL ? MZ_ZONE_NORMAL : MZ_ZONE_MOVABLE;
	struct mz_intent in = { .block = id, .from = from, .to = to, .started = mz_wall_s(), .pid = getpid() };
	uint64_t t0 = mz_now_ms();
	const char *failed_word;
	struct mz_block b;
	bool timed_out;
	char err[256], tbuf[16];
	int r, err_online, used;

	outcome_init(out);
	/* a record still there is a block an earlier move left offline: writing ours over it would lose
	 * the only trace of that block, so recovery must clear it first */
	{
		struct mz_intent old;

		r = mz_intent_read(&old, err, sizeof(err));
		if (r != -ENOENT) {
			out->err = EBUSY;
			out->step = "intent";
			if (r == 0)
				snprintf(out->why, sizeof(out->why), "memory%lu not moved: the interrupted move of "
					 "memory%lu is not recovered yet", id, old.block);
			else
				snprintf(out->why, sizeof(out->why), "memory%lu not moved: %.200s", id, err);
			return -EBUSY;
		}
	}
	r = mz_intent_write(&in, err, sizeof(err));
	if (r < 0) {
		out->err = -r;
		out->step = "intent";
		snprintf(out->why, sizeof(out->why), "not moved: %.240s", err);
		return r;
	}

	/* ---- offline, bounded */
	r = offline_bounded(id, offline_timeout_ms, &timed_out);
	out->offline_ms = mz_now_ms() - t0;
	if (r < 0) {
		int sr = settled_state(id, block_size, &b);

		out->err = -r;
		out->step = "offline";
		if (sr == -ENOENT) {
			mz_intent_clear();
			out->duration_ms = mz_now_ms() - t0;
			snprintf(out->why, sizeof(out->why), "memory%lu vanished while it was being offlined", id);
			return r;
		}
		if (sr == 0 && b.state == MZ_BLOCK_ONLINE) {
			/* the kernel refused or gave up and left the block where it was */
			outcome_block(out, &b);
			out->result = timed_out ? MZ_MOVE_TIMEOUT : MZ_MOVE_FAILED;
			mz_intent_clear();
			out->duration_ms = mz_now_ms() - t0;
			if (timed_out)
				snprintf(out->why, sizeof(out->why), "offline of memory%lu did not finish within %s; "
					 "interrupted, the block stayed online in %s", id,
					 mz_format_duration(offline_timeout_ms, tbuf, sizeof(tbuf)), mz_zone_name(b.zone));
			else
				snprintf(out->why, sizeof(out->why), "offline of memory%lu refused: %s; the block stayed "
					 "online in %s", id, strerror(-r), mz_zone_name(b.zone));
			return r;
		}
		if (sr < 0 || b.state != MZ_BLOCK_OFFLINE) {
			/* neither online nor offline after waiting: leave the record, recovery retries */
			out->stranded = true;
			if (sr == 0)
				outcome_block(out, &b);
			out->duration_ms = mz_now_ms() - t0;
			snprintf(out->why, sizeof(out->why), "offline of memory%lu failed (%s) and its state is %s; "
				 "the intent record stays for recovery", id, strerror(-r),
				 sr < 0 ? strerror(-sr) : mz_block_state_name(b.state));
			return r;
		}
		/* it is offline despite the error (a short write the kernel applied): carry on */
		out->err = 0;
		out->step = NULL;
	}

	/* ---- online on the other side; roll back to the old zone when that is refused */
	used = online_somewhere(id, block_size, to, from, &b, &err_online, &failed_word);
	out->duration_ms = mz_now_ms() - t0;
	if (used < 0) {
		out->stranded = true;
		out->err = err_online;
		out->step = failed_word;
		outcome_block(out, &b);
		snprintf(out->why, sizeof(out->why), "memory%lu is offline and every online was refused (%s: %s); "
			 "the intent record stays, the next tick retries", id, failed_word ? failed_word : "?",
			 strerror(err_online));
		return -err_online;
	}
	outcome_block(out, &b);
	if (used == 0 && zone_matches(to, b.zone)) {
		mz_intent_clear();
		out->result = MZ_MOVE_OK;
		snprintf(out->why, sizeof(out->why), "memory%lu moved from %s to %s in %s", id, mz_zone_name(from),
			 mz_zone_name(b.zone), mz_format_duration(out->duration_ms, tbuf, sizeof(tbuf)));
		return 0;
	}
	mz_intent_clear();
	out->result = MZ_MOVE_ROLLED_BACK;
	out->err = err_online ? err_online : EINVAL;
	out->step = failed_word ? failed_word : mz_online_word(to);
	snprintf(out->why, sizeof(out->why), "%s of memory%lu refused (%s); rolled back: online in %s", out->step, id,
		 strerror(out->err), mz_zone_name(b.zone));
	return -out->err;
}

void mz_actuator_set_aside_record(const char *why)
{
	char kept[MZ_PATH_MAX];
	int r = mz_intent_set_aside(kept, sizeof(kept));

	mz_err("%s; %s%s, no block was touched", why, r < 0 ? "cannot remove it: " : kept[0] ? "set aside as " : "removed",
	       r < 0 ? strerror(-r) : kept);
}

int mz_actuator_recover(const struct mz_intent *in, uint64_t block_size, struct mz_move_outcome *out)
{
	const char *failed_word;
	struct mz_block b;
	char rec[MZ_PATH_MAX];
	int r, err, used;

	outcome_init(out);
	out->step = "recover";
	/* the messages name the record, so the log says where the interrupted move comes from */
	if (mz_path(rec, sizeof(rec), MZ_INTENT_PATH) < 0)
		snprintf(rec, sizeof(rec), "%s", MZ_INTENT_PATH);
	r = settled_state(in->block, block_size, &b);
	if (r == -ENOENT) {
		mz_intent_clear();
		out->result = MZ_MOVE_FAILED;
		snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move is gone (unplugged); "
			 "record removed", rec, in->block);
		return 0;
	}
	if (r < 0) {
		out->err = -r;
		snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move is unreadable: %s", rec,
			 in->block, strerror(-r));
		return r;
	}
	if (b.state == MZ_BLOCK_ONLINE) {
		outcome_block(out, &b);
		out->result = zone_matches(in->to, b.zone) ? MZ_MOVE_OK : MZ_MOVE_ROLLED_BACK;
		mz_intent_clear();
		snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move %s -> %s is online in %s",
			 rec, in->block, mz_zone_name(in->from), mz_zone_name(in->to), mz_zone_name(b.zone));
		return 0;
	}
	if (b.state != MZ_BLOCK_OFFLINE) {
		outcome_block(out, &b);
		out->stranded = true;
		snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move is %s; retrying later", rec,
			 in->block, mz_block_state_name(b.state));
		return -EAGAIN;
	}
	used = online_somewhere(in->block, block_size, in->to, in->from, &b, &err, &failed_word);
	outcome_block(out, &b);
	if (used < 0) {
		out->stranded = true;
		out->err = err;
		out->step = failed_word;
		snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move stays offline: %s refused (%s)",
			 rec, in->block, failed_word ? failed_word : "?", strerror(err));
		return -err;
	}
	mz_intent_clear();
	out->result = used == 0 && zone_matches(in->to, b.zone) ? MZ_MOVE_OK : MZ_MOVE_ROLLED_BACK;
	snprintf(out->why, sizeof(out->why), "%.120s: memory%lu of the interrupted move %s -> %s was offline; %s: online in %s",
		 rec, in->block, mz_zone_name(in->from), mz_zone_name(in->to),
		 out->result == MZ_MOVE_OK ? "completed" : "rolled back", mz_zone_name(b.zone));
	return 0;
}

/* ------------------------------------------------------------------ backoff */

static struct mz_backoff *backoff_find(const struct mz_backoffs *b, unsigned long block)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].block == block)
			return &b->v[i];
	return NULL;
}

bool mz_backoff_active(const struct mz_backoffs *b, unsigned long block, uint64_t now_ms)
{
	const struct mz_backoff *e = backoff_find(b, block);

	return e && now_ms < e->until_ms;
}

uint64_t mz_backoff_fail(struct mz_backoffs *b, unsigned long block, uint64_t now_ms, uint64_t initial_ms,
			 uint64_t max_ms)
{
	struct mz_backoff *e = backoff_find(b, block);

	if (!e) {
		b->v = mz_xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
		e = &b->v[b->n++];
		e->block = block;
		e->delay_ms = 0;
	}
	if (e->delay_ms == 0)
		e->delay_ms = initial_ms;
	else
		e->delay_ms = e->delay_ms > max_ms / 2 ? max_ms : e->delay_ms * 2;
	if (e->delay_ms > max_ms)
		e->delay_ms = max_ms;
	e->until_ms = now_ms + e->delay_ms;
	return e->delay_ms;
}

void mz_backoff_clear(struct mz_backoffs *b, unsigned long block)
{
	struct mz_backoff *e = backoff_find(b, block);

	if (e)
		*e = b->v[--b->n];
}

void mz_backoff_prune(struct mz_backoffs *b, uint64_t now_ms, uint64_t keep_ms)
{
	size_t keep = 0;

	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].until_ms + keep_ms > now_ms)
			b->v[keep++] = b->v[i];
	b->n = keep;
}

void mz_backoffs_free(struct mz_backoffs *b)
{
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* ------------------------------------------------------------------ page frames */

/* include/uapi/linux/kernel-page-flags.h (32+ are the kernel-hacking flags, shown to root) */
#define KPF(bit) (1ull << (bit))
#define KPF_LRU KPF(5)
#define KPF_SLAB KPF(7)
#define KPF_BUDDY KPF(10)
#define KPF_ANON KPF(12)
#define KPF_SWAPBACKED KPF(14)
#define KPF_COMPOUND_TAIL KPF(16)
#define KPF_NOPAGE KPF(20)
#define KPF_KSM KPF(21)
#define KPF_OFFLINE KPF(23)
#define KPF_IDLE KPF(25)
#define KPF_PGTABLE KPF(26)
#define KPF_RESERVED KPF(32)
#define KPF_SOFTDIRTY KPF(40)

/* kpagecount is the map count, not the reference count: unmapped page cache and slab read 0 there.
 * A page is in use when it is mapped or has a flag (a freed page has its flags cleared; the head of
 * a free buddy chunk says BUDDY, its tail pages say nothing). */
void mz_page_tally_add(struct mz_page_tally *t, const uint64_t *counts, const uint64_t *flags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t f = flags[i] & ~(KPF_IDLE | KPF_SOFTDIRTY); /* tracking bits, also on free pages */

		t->pages++;
		if (f & (KPF_BUDDY | KPF_NOPAGE | KPF_OFFLINE))
			continue; /* free, a hole, or logically offline (a balloon) */
		if (counts[i] == 0 && f == 0)
			continue; /* free (a buddy tail, a per-cpu list), or a bare kernel page we cannot tell */
		t->used++;
		/* migration moves LRU, anonymous, shmem and KSM pages (a THP's tails follow their head);
		 * slab, page tables, reserved and other kernel pages stay and make the offline fail */
		if (f & (KPF_SLAB | KPF_PGTABLE | KPF_RESERVED)) {
			if (!t->pinned)
				t->first_pinned = t->pages - 1;
			t->unmovable++;
			t->pinned++;
			if (f & KPF_RESERVED)
				t->reserved++;
			else if (f & KPF_PGTABLE)
				t->pgtable++;
			else
				t->slab++;
		} else if (!(f & (KPF_LRU | KPF_ANON | KPF_SWAPBACKED | KPF_KSM | KPF_COMPOUND_TAIL))) {
			t->unmovable++;
		}
	}
}

static int pread_words(int fd, uint64_t index, uint64_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)(buf + done), (n - done) * sizeof(*buf),
				  (off_t)((index + done) * sizeof(*buf)));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) /* past the end of memory: no page frames there */
			break;
		done += (size_t)r / sizeof(*buf);
		if ((size_t)r % sizeof(*buf))
			return -EIO;
	}
	for (; done < n; done++)
		buf[done] = 0;
	return 0;
}

int mz_page_pinned_read(uint64_t pfn)
{
	char pf[MZ_PATH_MAX];
	uint64_t f;
	int fd, r;

	if ((r = mz_path(pf, sizeof(pf), "/proc/kpageflags")) < 0)
		return r;
	fd = open(pf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = pread_words(fd, pfn, &f, 1);
	close(fd);
	if (r < 0)
		return r;
	return (f & (KPF_SLAB | KPF_PGTABLE | KPF_RESERVED)) ? 1 : 0;
}

int mz_page_tally_read(uint64_t start_pfn, uint64_t n, struct mz_page_tally *t)
{
	enum { CHUNK = 4096 };
	char pc[MZ_PATH_MAX], pf[MZ_PATH_MAX];
	uint64_t *counts, *flags;
	int fdc, fdf, r;

	memset(t, 0, sizeof(*t));
	if ((r = mz_path(pc, sizeof(pc), "/proc/kpagecount")) < 0 ||
	    (r = mz_path(pf, sizeof(pf), "/proc/kpageflags")) < 0)
		return r;
	fdc = open(pc, O_RDONLY | O_CLOEXEC);
	if (fdc < 0)
		return -errno;
	fdf = open(pf, O_RDONLY | O_CLOEXEC);
	if (fdf < 0) {
		r = -errno;
		close(fdc);
		return r;
	}
	counts = mz_xmalloc(CHUNK * sizeof(*counts));
	flags = mz_xmalloc(CHUNK * sizeof(*flags));
	for (uint64_t off = 0; off < n && r == 0; off += CHUNK) {
		size_t k = n - off < CHUNK ? (size_t)(n - off) : CHUNK;

		r = pread_words(fdc, start_pfn + off, counts, k);
		if (r == 0)
			r = pread_words(fdf, start_pfn + off, flags, k);
		if (r == 0)
			mz_page_tally_add(t, counts, flags, k);
	}
	free(counts);
	free(flags);
	close(fdc);
	close(fdf);
	return r;
}

/* ------------------------------------------------------------------ ranking */

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* unknown page counts rank after known ones */
static uint64_t used_key(const struct mz_candidate *c) { return c->tallied ? c->pages.used : UINT64_MAX; }
static uint64_t unmovable_key(const struct mz_candidate *c) { return c->tallied ? c->pages.unmovable : UINT64_MAX; }

void mz_candidates_classify(struct mz_candidate *v, size_t n, enum mz_harvest_order order)
{
	for (size_t i = 0; i < n; i++) {
		if (order == MZ_HARVEST_PAGES || v[i].source == MZ_SOURCE_BOOT || v[i].dev_kernel > 0)
			v[i].harvest = MZ_HARVEST_NO_LOSS;
		else if (v[i].source == MZ_SOURCE_VIRTIO_MEM)
			v[i].harvest = MZ_HARVEST_VIRTIO_MEM;
		else
			v[i].harvest = MZ_HARVEST_DEVICE;
	}
}

int mz_candidate_cmp_to_kernel(const void *pa, const void *pb)
{
	const struct mz_candidate *a = pa, *b = pb;
	int r;

	if ((r = cmp_u64(a->harvest, b->harvest)))
		return r;
	if (a->harvest >= MZ_HARVEST_DEVICE && (r = cmp_u64(a->dev_blocks, b->dev_blocks)))
		return r;
	if ((r = cmp_u64(used_key(a), used_key(b))))
		return r;
	return cmp_u64(b->block, a->block);
}

int mz_candidate_cmp_to_movable(const void *pa, const void *pb)
{
	const struct mz_candidate *a = pa, *b = pb;
	int r;

	if ((r = cmp_u64(unmovable_key(a), unmovable_key(b))))
		return r;
	if ((r = cmp_u64(a->dev_kernel, b->dev_kernel)))
		return r;
	if ((r = cmp_u64(used_key(a), used_key(b))))
		return r;
	return cmp_u64(b->block, a->block);
}

/* ------------------------------------------------------------------ gathering */

static bool source_rule_pins(const struct mz_config *c, enum mz_source src, enum mz_move_dir dir)
{
	enum mz_source_zone z;

	if (src == MZ_SOURCE_BOOT || (unsigned)src >= MZ_SOURCE__COUNT)
		return false;
	z = c->source[src].zone;
	if (z == MZ_SRCZONE_IGNORE)
		return true; /* another agent manages these blocks (e.g. daxctl) */
	/* a source pinned to one side stays there */
	return dir == MZ_MOVE_TO_KERNEL ? z == MZ_SRCZONE_MOVABLE : z == MZ_SRCZONE_KERNEL;
}

int mz_actuator_candidates(const struct mz_config *c, const struct mz_iomem *io, uint64_t block_size,
			   uint64_t page_size, int node, enum mz_move_dir dir, const struct mz_backoffs *bo,
			   uint64_t now_ms, const unsigned long *skip, size_t nskip, size_t max_tally,
			   struct mz_candidate **out, size_t *nout, struct mz_pick_stats *stats)
{
	struct mz_snapshot snap = { .page_size = page_size, .block_size = block_size };
	struct mz_device_snap dev = { 0 };
	bool have_dev = false;
	struct mz_candidate *v = NULL;
	unsigned long *ids = NULL;
	size_t nids = 0, n = 0, cap = 0;
	int memfd, r;
	int (*cmp)(const void *, const void *) =
		dir == MZ_MOVE_TO_KERNEL ? mz_candidate_cmp_to_kernel : mz_candidate_cmp_to_movable;

	*out = NULL;
	*nout = 0;
	memset(stats, 0, sizeof(*stats));
	if (!block_size || !page_size)
		return -EINVAL;
	r = mz_memblock_list(&ids, &nids);
	if (r < 0)
		return r;
	memfd = mz_memory_dir_open();
	if (memfd < 0) {
		free(ids);
		return memfd;
	}
	for (size_t i = 0; i < nids; i++) {
		struct mz_block_brief bb;
		struct mz_block b;
		struct mz_candidate *cd;

		if (mz_block_brief_at(memfd, ids[i], MZ_BRIEF_ZONES_IF_ONLINE, &bb, NULL, 0) < 0)
			continue;
		if (bb.state != MZ_BLOCK_ONLINE || !bb.zones_known)
			continue;
		if (dir == MZ_MOVE_TO_KERNEL ? bb.zone != MZ_ZONE_MOVABLE : !mz_zone_is_kernel(bb.zone))
			continue;
		/* the device (and, on the way, the node) of this block; one device read per device */
		if (!have_dev || ids[i] < dev.first_block || ids[i] > dev.last_block || !dev.name[0]) {
			if (mz_snapshot_block(&snap, io, ids[i], &b, &dev) < 0)
				continue;
			have_dev = true;
		} else if (mz_memblock_read(ids[i], block_size, &b) < 0) {
			continue;
		}
		if (node >= 0 && b.node != node)
			continue;
		stats->considered++;
		if (dev.source == MZ_SOURCE_BOOT && !c->rebalance.boot_memory) {
			stats->boot++;
			continue;
		}
		if (source_rule_pins(c, dev.source, dir)) {
			stats->source_rule++;
			continue;
		}
		if (dev.n_offline > 0 || dev.n_blocks > dev.n_offline + dev.n_kernel + dev.n_movable) {
			stats->unplugging++;
			continue;
		}
		if (bo && mz_backoff_active(bo, ids[i], now_ms)) {
			stats->backoff++;
			continue;
		}
		if (nskip && bsearch(&ids[i], skip, nskip, sizeof(*skip), mz_block_id_cmp)) {
			stats->pinned++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = mz_xrealloc(v, cap * sizeof(*v));
		}
		cd = &v[n++];
		memset(cd, 0, sizeof(*cd));
		cd->block = ids[i];
		cd->node = b.node;
		cd->zone = bb.zone;
		cd->source = dev.source;
		snprintf(cd->device, sizeof(cd->device), "%s", dev.name);
		cd->dev_blocks = dev.n_blocks;
		cd->dev_kernel = dev.n_kernel;
		cd->dev_movable = dev.n_movable;
		cd->dev_offline = dev.n_offline;
	}
	close(memfd);
	free(ids);

	/* Rank on what is known, count the page frames of the best few, rank again. */
	if (n == 0) {
		*out = v;
		return 0;
	}
	if (dir == MZ_MOVE_TO_KERNEL)
		mz_candidates_classify(v, n, c->rebalance.harvest_order);
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n && i < max_tally; i++) {
		uint64_t pfn = (uint64_t)v[i].block * (block_size / page_size);

		if (mz_page_tally_read(pfn, block_size / page_size, &v[i].pages) == 0) {
			v[i].tallied = true;
			stats->tallied++;
		} else {
			break; /* no kpageflags (no CAP_SYS_ADMIN, no PROC_PAGE_MONITOR): rank without it */
		}
	}
	qsort(v, n < max_tally ? n : max_tally, sizeof(*v), cmp);
	*out = v;
	*nout = n;
	return 0;
}
