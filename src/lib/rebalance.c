/* rebalance.c - one decision cycle of the rebalancer: samples -> pressure -> pick a block -> move */
#include "rebalance.h"
#include "iomem.h"
#include "lock.h"
#include "log.h"
#include "memblock.h"
#include "policy.h"
#include "procstat.h"
#include "snapshot.h"
#include "units.h"
#include "util.h"
#include "zoneinfo.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Candidates whose page frames are counted before choosing (each costs 2 x 256 KiB of reads for a
 * 128 MiB block). */
#define MAX_TALLY 8
/* A backoff is forgotten this long after it expired (a block that stayed healthy starts over). */
#define BACKOFF_FORGET_MS (60u * 60u * 1000u)
/* Where a scan found nothing to move, the next scan waits for a change or this long (a scan reads
 * every block: an idle daemon must not do it every tick). */
#define NOTHING_RECHECK_MS (10u * 60u * 1000u)
/* A pinned block's pages are counted again this often (8 ms for a 128 MiB block on a real kernel);
 * in between one word of kpageflags, a page that was pinned, tells whether it still is. */
#define PINNED_RECOUNT_MS (60u * 1000u)

int mz_rebalance_init(struct mz_rebalancer *r, const struct mz_config *c, enum mz_rebalance_mode mode,
		      bool write_state, char *err, size_t errlen)
{
	struct mz_snapshot s;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = *c;
	r->mode = mode;
	r->write_state = write_state;
	rc = mz_snapshot_read(&s, err, errlen);
	if (rc < 0)
		return rc;
	r->page_size = s.page_size ? s.page_size : 4096;
	r->block_size = s.block_size;
	mz_snapshot_free(&s);
	r->model = mz_pressure_new();
	mz_daemon_state_init(&r->state);
	r->state.pid = getpid();
	r->state.observe_only = c->rebalance.observe_only;
	return 0;
}

void mz_rebalance_free(struct mz_rebalancer *r)
{
	mz_pressure_free(r->model);
	mz_pressure_sample_free(&r->sample);
	mz_pressure_result_free(&r->last);
	mz_backoffs_free(&r->backoffs);
	free(r->pinned);
	mz_daemon_state_free(&r->state);
	free(r->logged);
	free(r->nothing);
	free(r->picks);
	memset(r, 0, sizeof(*r));
}

void mz_rebalance_set_config(struct mz_rebalancer *r, const struct mz_config *c)
{
	r->cfg = *c;
	r->state.observe_only = c->rebalance.observe_only;
}

void mz_rebalance_blocks_changed(struct mz_rebalancer *r)
{
	r->nnothing = 0;
}

/* The node's sample, for the no-candidate memo. */
static const struct mz_pressure_node *sample_node(const struct mz_pressure_sample *s, int node)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].node == node)
			return &s->nodes[i];
	return NULL;
}

/* Did the last scan of (node, dir) find nothing, with the node's zones as they are now? */
static bool nothing_to_move(const struct mz_rebalancer *r, const struct mz_pressure_node *n, enum mz_move_dir dir,
			    uint64_t now)
{
	for (size_t i = 0; n && i < r->nnothing; i++)
		if (r->nothing[i].node == n->node && r->nothing[i].dir == dir)
			return r->nothing[i].kernel_managed == n->kernel_managed &&
			       r->nothing[i].movable_managed == n->movable_managed && now < r->nothing[i].until_ms;
	return false;
}

/* Until when: NOTHING_RECHECK_MS, or the end of the first backoff when blocks were only backing off. */
static void remember_nothing(struct mz_rebalancer *r, const struct mz_pressure_node *n, enum mz_move_dir dir,
			     uint64_t now, bool backing_off)
{
	uint64_t until = now + NOTHING_RECHECK_MS;
	size_t i;

	if (!n)
		return;
	for (i = 0; backing_off && i < r->backoffs.n; i++)
		if (r->backoffs.v[i].until_ms > now && r->backoffs.v[i].until_ms < until)
			until = r->backoffs.v[i].until_ms;
	for (i = 0; i < r->nnothing; i++)
		if (r->nothing[i].node == n->node && r->nothing[i].dir == dir)
			break;
	if (i == r->nnothing) {
		r->nothing = mz_xrealloc(r->nothing, (r->nnothing + 1) * sizeof(*r->nothing));
		r->nnothing++;
	}
	r->nothing[i].node = n->node;
	r->nothing[i].dir = dir;
	r->nothing[i].kernel_managed = n->kernel_managed;
	r->nothing[i].movable_managed = n->movable_managed;
	r->nothing[i].until_ms = until;
}

const struct mz_rebalance_pick *mz_rebalance_last_picks(const struct mz_rebalancer *r, size_t *n)
{
	*n = r->npicks;
	return r->picks;
}

/* ------------------------------------------------------------------ logging helpers */

/* "EBUSY", or the number when glibc has no name for it; blanks never appear (state file token). */
static void errno_token(int err, char *buf, size_t len)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "errno%d", err);
}

static void log_move(int prio, const struct mz_rebalance_pick *p, const char *msg)
{
	char kb[48], kd[48], kr[48], ke[48], kn[32];
	const char *kv[6];
	size_t n = 0;

	snprintf(kb, sizeof(kb), "MEMZONE_BLOCK=memory%lu", p->block);
	snprintf(kd, sizeof(kd), "MEMZONE_DIRECTION=%s", mz_move_dir_name(p->dir));
	snprintf(kr, sizeof(kr), "MEMZONE_RESULT=%s", mz_move_result_name(p->outcome.result));
	snprintf(kn, sizeof(kn), "MEMZONE_NODE=%d", p->node);
	kv[n++] = kb;
	kv[n++] = kd;
	kv[n++] = kr;
	kv[n++] = kn;
	if (p->outcome.err) {
		char tok[32];

		errno_token(p->outcome.err, tok, sizeof(tok));
		snprintf(ke, sizeof(ke), "MEMZONE_ERRNO=%s", tok);
		kv[n++] = ke;
	}
	kv[n] = NULL;
	mz_log_kv(prio, kv, "%s", msg);
}

/* Log a node's verdict when it changed: moves wanted at info, the rest at debug. */
static void log_verdict_change(struct mz_rebalancer *r, const struct mz_node_verdict *v)
{
	char kn[32], kv_reason[64], kv_verdict[48];
	const char *kv[4] = { kn, kv_verdict, kv_reason, NULL };
	size_t i;

	for (i = 0; i < r->nlogged; i++)
		if (r->logged[i].node == v->node)
			break;
	if (i == r->nlogged) {
		r->logged = mz_xrealloc(r->logged, (r->nlogged + 1) * sizeof(*r->logged));
		r->logged[r->nlogged].node = v->node;
		r->logged[r->nlogged].verdict = MZ_VERDICT__COUNT; /* never logged */
		r->nlogged++;
	} else if (r->logged[i].verdict == v->verdict && r->logged[i].reason == v->reason &&
		   r->logged[i].blocked == v->blocked) {
		return;
	}
	r->logged[i].verdict = v->verdict;
	r->logged[i].reason = v->reason;
	r->logged[i].blocked = v->blocked;
	snprintf(kn, sizeof(kn), "MEMZONE_NODE=%d", v->node);
	snprintf(kv_verdict, sizeof(kv_verdict), "MEMZONE_VERDICT=%s", mz_verdict_name(v->verdict));
	snprintf(kv_reason, sizeof(kv_reason), "MEMZONE_REASON=%s", mz_pressure_reason_name(v->reason));
	if (v->blocked != MZ_PR_NONE)
		mz_log_kv(v->want == MZ_VERDICT_GROW_KERNEL ? LOG_INFO : LOG_DEBUG, kv,
			  "node %d: %s wanted but %s: %s", v->node, mz_verdict_name(v->want),
			  mz_pressure_reason_name(v->blocked), v->why);
	else
		mz_log_kv(v->verdict == MZ_VERDICT_HOLD ? LOG_DEBUG : LOG_INFO, kv, "node %d: %s (%s): %s", v->node,
			  mz_verdict_name(v->verdict), mz_pressure_reason_name(v->reason), v->why);
}

/* ------------------------------------------------------------------ sampling */

int mz_rebalance_read_sample(struct mz_pressure_sample *s, uint64_t t_ms, uint64_t page_size,
			     uint64_t block_size, char *err, size_t errlen)
{
	struct mz_zoneinfo zi = { 0 };
	struct mz_kvtab t = { 0 };
	struct mz_psi psi;
	char e[256];
	int r;

	mz_pressure_sample_init(s, t_ms, block_size);
	r = mz_zoneinfo_read(&zi, err, errlen);
	if (r < 0)
		return r;
	r = mz_pressure_sample_add_zoneinfo(s, &zi, page_size);
	mz_zoneinfo_free(&zi);
	if (r < 0) {
		snprintf(err, errlen, "/proc/zoneinfo: no zones");
		return r;
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		if (mz_meminfo_read(s->nodes[i].node, &t, e, sizeof(e)) == 0)
			mz_pressure_sample_add_meminfo(s, s->nodes[i].node, &t);
		mz_kvtab_free(&t);
	}
	if (s->nnodes == 1 && !s->nodes[0].has_unmovable) { /* no node directory (CONFIG_NUMA=n) */
		if (mz_meminfo_read(-1, &t, e, sizeof(e)) == 0)
			mz_pressure_sample_add_meminfo(s, -1, &t);
		mz_kvtab_free(&t);
	}
	if (mz_vmstat_read(-1, &t, e, sizeof(e)) == 0)
		mz_pressure_sample_add_vmstat(s, &t);
	mz_kvtab_free(&t);
	if (mz_psi_read(&psi, e, sizeof(e)) == 0)
		mz_pressure_sample_add_psi(s, &psi);
	return 0;
}

/* ------------------------------------------------------------------ recovery */

int mz_rebalance_recover(struct mz_rebalancer *r)
{
	struct mz_lock lk = MZ_LOCK_INIT;
	struct mz_move_outcome out;
	struct mz_intent in;
	char err[256];
	int rc;

	rc = mz_intent_read(&in, err, sizeof(err));
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		/* a record we cannot parse names no block we can trust: set it aside for inspection
		 * (keeping it would stop every recovery) and touch no block */
		mz_actuator_set_aside_record(err);
		return 0;
	}
	if (r->mode == MZ_REBALANCE_DRY_RUN) {
		mz_info("an interrupted move of memory%lu (%s -> %s) is pending; --dry-run leaves it", in.block,
			mz_zone_name(in.from), mz_zone_name(in.to));
		return 0;
	}
	rc = mz_lock_take(&lk, r->cfg.lock_timeout_ms);
	if (rc < 0) {
		mz_warn("interrupted move of memory%lu: /run/memzone/lock: %s; retrying next tick", in.block,
			strerror(-rc));
		return rc;
	}
	rc = mz_actuator_recover(&in, r->block_size, &out);
	mz_lock_release(&lk);
	if (rc < 0)
		mz_err("%s", out.why);
	else
		mz_warn("%s", out.why);
	return rc;
}

/* ------------------------------------------------------------------ moves */

static struct mz_rebalance_pick *new_pick(struct mz_rebalancer *r, const struct mz_node_verdict *v,
					  enum mz_move_dir dir)
{
	struct mz_rebalance_pick *p;

	r->picks = mz_xrealloc(r->picks, (r->npicks + 1) * sizeof(*r->picks));
	p = &r->picks[r->npicks++];
	memset(p, 0, sizeof(*p));
	p->node = v->node;
	p->dir = dir;
	p->outcome.result = MZ_MOVE_OBSERVED;
	return p;
}

static void record(struct mz_rebalancer *r, const struct mz_rebalance_pick *p, int64_t when)
{
	struct mz_ds_move m = {
		.when = when,
		.block = p->block,
		.dir = p->dir,
		.result = p->outcome.result,
		.duration_ms = p->outcome.duration_ms,
	};

	if (p->outcome.result == MZ_MOVE_TIMEOUT)
		snprintf(m.error, sizeof(m.error), "timeout");
	else if (p->outcome.err)
		errno_token(p->outcome.err, m.error, sizeof(m.error));
	mz_daemon_state_record_move(&r->state, &m);
}

static void no_candidate(const struct mz_rebalance_pick *p, enum mz_verdict want)
{
	const struct mz_pick_stats *st = &p->stats;

	mz_info("node %d: %s wanted but no block qualifies: %u online in the source zone, %u boot memory, "
		"%u pinned by a [source] rule, %u on a device being unplugged, %u backing off, %u holding pages the "
		"kernel cannot migrate (their page flags are read each tick)",
		p->node, mz_verdict_name(want), st->considered, st->boot, st->source_rule, st->unplugging, st->backoff,
		st->pinned);
}

size_t mz_rebalance_giveback_pick(const struct mz_candidate *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!c[i].tallied || c[i].pages.pinned == 0)
			break;
	return i;
}

/* ------------------------------------------------------------------ pinned blocks */

static struct mz_rb_pinned *pinned_find(struct mz_rebalancer *r, unsigned long block)
{
	for (size_t i = 0; i < r->npinned; i++)
		if (r->pinned[i].ds.block == block)
			return &r->pinned[i];
	return NULL;
}

static void pinned_forget(struct mz_rebalancer *r, unsigned long block)
{
	struct mz_rb_pinned *e = pinned_find(r, block);

	if (e)
		*e = r->pinned[--r->npinned];
}

static void pinned_set_pages(struct mz_rebalancer *r, struct mz_rb_pinned *e, const struct mz_page_tally *t,
			     uint64_t now)
{
	e->ds.slab = t->slab;
	e->ds.pgtable = t->pgtable;
	e->ds.reserved = t->reserved;
	e->ds.other = t->unmovable - t->pinned;
	e->hint_pfn = (uint64_t)e->ds.block * (r->block_size / r->page_size) + t->first_pinned;
	e->counted_ms = now;
}

/* A give-back candidate the kernel cannot take: its pages (t, when tallied) hold slab, page tables or
 * reserved memory, or the kernel refused its offline (err). Listed, with the time it was first seen,
 * until it leaves the kernel zone, is given back, or (not refused) its pages free up. */
static void pinned_note(struct mz_rebalancer *r, unsigned long block, int node, enum mz_zone zone,
			const struct mz_page_tally *t, int err, const char *err_token, uint64_t now)
{
	struct mz_rb_pinned *e = pinned_find(r, block);
	bool fresh = !e;
	char causes[160];

	if (!e) {
		r->pinned = mz_xrealloc(r->pinned, (r->npinned + 1) * sizeof(*r->pinned));
		e = &r->pinned[r->npinned++];
		memset(e, 0, sizeof(*e));
		e->ds.block = block;
		e->ds.since = mz_wall_s();
	}
	e->node = node;
	if (t)
		pinned_set_pages(r, e, t, now);
	if (fresh && t && !err && r->mode == MZ_REBALANCE_ACT)
		mz_warn("memory%lu stays in %s: %s, which the kernel cannot migrate; its page flags are read again "
			"each tick", block, mz_zone_name(zone), mz_ds_pinned_causes(&e->ds, causes, sizeof(causes)));
	if (err_token)
		snprintf(e->ds.refused, sizeof(e->ds.refused), "%s", err_token);
	else if (err)
		errno_token(err, e->ds.refused, sizeof(e->ds.refused));
}

static void forget_nothing(struct mz_rebalancer *r, int node, enum mz_move_dir dir)
{
	for (size_t i = 0; i < r->nnothing; i++)
		if (r->nothing[i].node == node && r->nothing[i].dir == dir) {
			r->nothing[i] = r->nothing[--r->nnothing];
			return; /* one entry per node and direction */
		}
}

/* The listed blocks pinned by their page flags, ascending (a refused one backs off instead). */
static unsigned long *pinned_skip_list(const struct mz_rebalancer *r, size_t *n)
{
	unsigned long *v = mz_xmalloc((r->npinned + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < r->npinned; i++)
		if (!r->pinned[i].ds.refused[0])
			v[(*n)++] = r->pinned[i].ds.block;
	qsort(v, *n, sizeof(*v), mz_block_id_cmp);
	return v;
}

/* Each tick, for every listed block (never a scan of the machine's blocks): one that left the kernel
 * zone is dropped; the page that pinned it is read again (one word of kpageflags), and only when that
 * page is free, or every PINNED_RECOUNT_MS, are its pages counted again. One whose slab, page-table
 * and reserved pages are gone is dropped and its node scanned at once, so the next give-back takes it
 * instead of waiting out a backoff. A block whose offline the kernel refused stays listed until it
 * moves: its backoff says when it is tried again. */
static void pinned_recheck(struct mz_rebalancer *r, uint64_t now)
{
	uint64_t per = r->page_size ? r->block_size / r->page_size : 0;
	int memfd;

	if (!r->npinned || !per)
		return;
	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return;
	for (size_t i = 0; i < r->npinned;) {
		struct mz_rb_pinned *e = &r->pinned[i];
		struct mz_block_brief bb;
		struct mz_page_tally t;

		if (mz_block_brief_at(memfd, e->ds.block, MZ_BRIEF_ZONES_IF_ONLINE, &bb, NULL, 0) < 0 ||
		    bb.state != MZ_BLOCK_ONLINE || !bb.zones_known || !mz_zone_is_kernel(bb.zone)) {
			*e = r->pinned[--r->npinned];
			continue;
		}
		if (now - e->counted_ms < PINNED_RECOUNT_MS &&
		    (e->ds.refused[0] || mz_page_pinned_read(e->hint_pfn) == 1)) {
			i++;
			continue;
		}
		if (mz_page_tally_read((uint64_t)e->ds.block * per, per, &t) < 0) {
			i++;
			continue;
		}
		pinned_set_pages(r, e, &t, now);
		if (t.pinned == 0 && !e->ds.refused[0]) {
			char took[16];

			if (r->mode == MZ_REBALANCE_ACT)
				mz_info("memory%lu holds no slab, page-table or reserved page any more (pinned for %s): "
					"it can be given back", e->ds.block,
					mz_format_duration((uint64_t)(mz_wall_s() - e->ds.since) * 1000, took, sizeof(took)));
			forget_nothing(r, e->node, MZ_MOVE_TO_MOVABLE);
			*e = r->pinned[--r->npinned];
			continue;
		}
		i++;
	}
	close(memfd);
}

/* Every candidate of a give-back holds pages the kernel cannot migrate (slab, page tables, reserved):
 * it would refuse the offline at once, after dumping a page into its log and draining every CPU's page
 * lists. None is tried; the scan listed them as pinned. The first is the pick `memzone rebalance
 * --once` reports. */
static void giveback_pinned(struct mz_rebalance_pick *p, const struct mz_candidate *c, bool writes)
{
	p->any = true;
	p->block = c->block;
	p->from = c->zone;
	p->tallied = true;
	p->pages = c->pages;
	p->outcome.result = writes ? MZ_MOVE_FAILED : MZ_MOVE_OBSERVED;
	p->outcome.err = EBUSY;
	p->outcome.step = "offline";
	p->outcome.state = MZ_BLOCK_ONLINE;
	p->outcome.zone = c->zone;
	snprintf(p->outcome.why, sizeof(p->outcome.why), "%smemory%lu not offlined: %" PRIu64 " of its pages are "
		 "slab, page tables or reserved, which the kernel cannot migrate", writes ? "" : "would leave ",
		 c->block, c->pages.pinned);
}

/* A give-back is decided on the sample of the tick, taken before /run/memzone/lock: helpers holding the
 * lock meanwhile may have filled Movable up to `ratio`. Under the lock (no helper onlines
 * now) the zone totals are read again and the move checked against the cap the onlining policy applies.
 * False (why filled) when it would cross the cap, or when the totals cannot be read (no move unchecked).
 * A grow-kernel needs no second look: Movable -> kernel only lowers movable against kernel. */
static bool giveback_still_fits(const struct mz_rebalancer *r, int node, const struct mz_iomem *io, char *why,
				size_t whylen)
{
	struct mz_snapshot s;
	char err[128];
	bool fits;
	int rc;

	rc = mz_snapshot_read(&s, err, sizeof(err));
	if (rc < 0) {
		snprintf(why, whylen, "cannot read the zones again: %.100s", err);
		return false;
	}
	/* memzoned's own cap, whether or not a pid file names it (`memzone rebalance --once`) */
	s.rebalancer_running = true;
	if ((rc = mz_snapshot_boot_baseline(&s, io, r->cfg.ratio_basis == MZ_BASIS_CURRENT)) < 0) {
		snprintf(why, whylen, "cannot count boot memory (ratio_basis): %s", strerror(-rc));
		mz_snapshot_free(&s);
		return false;
	}
	fits = mz_policy_giveback_fits(&r->cfg, &s, node, r->block_size, why, whylen);
	mz_snapshot_free(&s);
	return fits;
}

/* The scan (every block read) runs without the lock; under it only the chosen block and its device
 * (the device's blocks, never the machine's) are read again. Still online in the zone it was scanned
 * in, on the node, its device not being unplugged: the pick stands. */
static bool candidate_unchanged(const struct mz_rebalancer *r, const struct mz_iomem *io, const struct mz_candidate *c,
				int node)
{
	struct mz_snapshot snap = { .page_size = r->page_size, .block_size = r->block_size };
	struct mz_device_snap dev = { 0 };
	struct mz_block b;

	if (mz_snapshot_block(&snap, io, c->block, &b, &dev) < 0 || b.state != MZ_BLOCK_ONLINE)
		return false;
	if ((node >= 0 && b.node != node) || b.zone != c->zone)
		return false;
	return dev.n_offline == 0 && dev.n_blocks <= dev.n_offline + dev.n_kernel + dev.n_movable;
}

/* The next candidate after k worth trying: a give-back skips those holding pinned pages. */
static size_t next_candidate(const struct mz_candidate *c, size_t n, size_t k, enum mz_move_dir dir)
{
	if (k + 1 >= n)
		return n;
	return dir == MZ_MOVE_TO_MOVABLE ? k + 1 + mz_rebalance_giveback_pick(c + k + 1, n - k - 1) : k + 1;
}

/* Returns false when the move was not even looked for (nothing changed since a scan found nothing). */
static bool attempt_move(struct mz_rebalancer *r, const struct mz_node_verdict *v, const struct mz_pressure_sample *s,
			 uint64_t now)
{
	enum mz_move_dir dir = v->verdict == MZ_VERDICT_GROW_KERNEL ? MZ_MOVE_TO_KERNEL : MZ_MOVE_TO_MOVABLE;
	bool writes = r->mode == MZ_REBALANCE_ACT && !r->cfg.rebalance.observe_only;
	const struct mz_pressure_node *sn = sample_node(s, v->node);
	struct mz_rebalance_pick *p;
	struct mz_lock lk = MZ_LOCK_INIT;
	struct mz_iomem io = { 0 };
	struct mz_candidate *cands = NULL;
	unsigned long *skip;
	size_t n = 0, k = 0, changed = 0, nskip = 0;
	int64_t started = mz_wall_s();
	char msg[512], ebuf[256], tbuf[16], gwhy[160];
	bool have_io, boot;
	int rc;

	if (nothing_to_move(r, sn, dir, now))
		return false;
	p = new_pick(r, v, dir);
	/* the scan, without the lock: on a machine with 100k blocks it takes seconds, and helpers
	 * waiting for the lock that long would give up on it (lock_timeout) */
	have_io = mz_iomem_read(&io, ebuf, sizeof(ebuf)) == 0;
	skip = dir == MZ_MOVE_TO_MOVABLE ? pinned_skip_list(r, &nskip) : NULL;
	rc = mz_actuator_candidates(&r->cfg, have_io ? &io : NULL, r->block_size, r->page_size, v->node, dir,
				    &r->backoffs, now, skip, nskip, MAX_TALLY, &cands, &n, &p->stats);
	free(skip);
	if (rc < 0 || n == 0) {
		if (have_io)
			mz_iomem_free(&io);
		p->no_candidate = true;
		if (rc < 0) {
			mz_warn("node %d: cannot list memory blocks: %s", v->node, strerror(-rc));
		} else {
			no_candidate(p, v->verdict);
			remember_nothing(r, sn, dir, now, p->stats.backoff > 0);
		}
		free(cands);
		return true;
	}
	if (dir == MZ_MOVE_TO_MOVABLE) {
		for (size_t i = 0; i < n; i++)
			if (cands[i].tallied && cands[i].pages.pinned)
				pinned_note(r, cands[i].block, v->node, cands[i].zone, &cands[i].pages, 0, NULL, now);
		k = mz_rebalance_giveback_pick(cands, n);
		if (k < n && !cands[k].tallied && p->stats.tallied) {
			/* the counted ones are all pinned and listed now; the rest are not counted yet: the
			 * next tick's scan leaves the listed ones out and counts those, rather than offline a
			 * block whose pages nobody looked at (the kernel would refuse a pinned one) */
			if (have_io)
				mz_iomem_free(&io);
			giveback_pinned(p, cands, writes);
			free(cands);
			return true;
		}
		if (k == n) {
			if (have_io)
				mz_iomem_free(&io);
			giveback_pinned(p, cands, writes);
			free(cands);
			/* not scanned again until a pinned block frees up (pinned_recheck) or the zones change */
			remember_nothing(r, sn, dir, now, p->stats.backoff > 0);
			return true;
		}
	}
	if (writes) {
		rc = mz_lock_take(&lk, r->cfg.lock_timeout_ms);
		if (rc < 0) {
			mz_warn("node %d: %s postponed: /run/memzone/lock: %s", v->node, mz_verdict_name(v->verdict),
				strerror(-rc));
			if (have_io)
				mz_iomem_free(&io);
			free(cands);
			r->npicks--;
			return true;
		}
		if (dir == MZ_MOVE_TO_MOVABLE &&
		    !giveback_still_fits(r, v->node, have_io ? &io : NULL, gwhy, sizeof(gwhy))) {
			mz_lock_release(&lk);
			if (have_io)
				mz_iomem_free(&io);
			free(cands);
			/* a skipped pick: no block chosen, nothing written or recorded as a move. Not the
			 * block's fault, so no backoff; the scan memo keeps the next ticks from asking again
			 * until the node's zones change (the next sample shows the new totals to the
			 * pressure policy) */
			snprintf(p->outcome.why, sizeof(p->outcome.why), "%s not moved, checked again under the lock: %s",
				 mz_verdict_name(v->verdict), gwhy);
			mz_info("node %d: %s", v->node, p->outcome.why);
			remember_nothing(r, sn, dir, now, false);
			return true;
		}
		while (k < n && !candidate_unchanged(r, have_io ? &io : NULL, &cands[k], v->node)) {
			changed++;
			k = next_candidate(cands, n, k, dir);
		}
		if (k == n) {
			mz_lock_release(&lk);
			if (have_io)
				mz_iomem_free(&io);
			free(cands);
			/* not remembered as nothing to move: the blocks changed, the next scan sees how */
			p->no_candidate = true;
			snprintf(p->outcome.why, sizeof(p->outcome.why), "%s not moved: the %zu block%s picked changed "
				 "zone or state between the scan and the lock", mz_verdict_name(v->verdict), changed,
				 changed == 1 ? "" : "s");
			mz_info("node %d: %s", v->node, p->outcome.why);
			return true;
		}
		if (changed)
			mz_info("node %d: %zu candidate%s changed since the scan; memory%lu instead", v->node, changed,
				 changed == 1 ? "" : "s", cands[k].block);
	}
	if (have_io)
		mz_iomem_free(&io);
	p->any = true;
	p->block = cands[k].block;
	p->from = cands[k].zone;
	p->tallied = cands[k].tallied;
	p->pages = cands[k].pages;

	if (!writes) {
		char used[48] = "page use unknown";

		if (cands[k].tallied)
			snprintf(used, sizeof(used), "%" PRIu64 " of %" PRIu64 " pages in use", cands[k].pages.used,
				 cands[k].pages.pages);
		snprintf(p->outcome.why, sizeof(p->outcome.why), "would move memory%lu (%s%s%s, %s) from %s %s",
			 p->block, mz_source_name(cands[k].source), cands[k].device[0] ? " " : "", cands[k].device,
			 used, mz_zone_name(p->from), dir == MZ_MOVE_TO_KERNEL ? "to a kernel zone" : "to Movable");
		free(cands);
		if (r->mode == MZ_REBALANCE_ACT) { /* observe_only: behave as if it had moved (caps, cooldown) */
			log_move(LOG_INFO, p, p->outcome.why);
			record(r, p, started);
			mz_pressure_record_move(r->model, v->node, dir, true, now);
		}
		return true;
	}
	boot = cands[k].source == MZ_SOURCE_BOOT;
	free(cands);

	if (r->moving)
		r->moving(r->progress_ctx, true);
	rc = mz_actuator_move(p->block, p->from, dir, r->block_size, r->cfg.rebalance.offline_timeout_ms, &p->outcome);
	if (rc == 0 && boot) /* boot memory changed zone: the recorded boot baseline no longer holds */
		mz_snapshot_boot_record_forget();
	mz_lock_release(&lk);
	if (r->moving)
		r->moving(r->progress_ctx, false);
	mz_pressure_record_move(r->model, v->node, dir, rc == 0, now);
	record(r, p, started);
	if (rc == 0) {
		char used[64] = "";

		mz_backoff_clear(&r->backoffs, p->block);
		pinned_forget(r, p->block);
		if (p->tallied)
			snprintf(used, sizeof(used), ", %" PRIu64 " of %" PRIu64 " pages were in use", p->pages.used,
				 p->pages.pages);
		snprintf(msg, sizeof(msg), "%s%s (%s: %s)", p->outcome.why, used, mz_verdict_name(v->verdict), v->why);
		log_move(LOG_NOTICE, p, msg);
		return true;
	}
	if (p->outcome.stranded) {
		log_move(LOG_CRIT, p, p->outcome.why);
		return true;
	}
	if (p->outcome.state != MZ_BLOCK_UNKNOWN) {
		uint64_t delay = mz_backoff_fail(&r->backoffs, p->block, mz_now_ms(), r->cfg.rebalance.backoff_initial_ms,
						 r->cfg.rebalance.backoff_max_ms);

		snprintf(msg, sizeof(msg), "%s; memory%lu backs off for %s", p->outcome.why, p->block,
			 mz_format_duration(delay, tbuf, sizeof(tbuf)));
		if (dir == MZ_MOVE_TO_MOVABLE && mz_zone_is_kernel(p->outcome.zone))
			pinned_note(r, p->block, v->node, p->outcome.zone, p->tallied ? &p->pages : NULL,
				    p->outcome.err ? p->outcome.err : EBUSY,
				    p->outcome.result == MZ_MOVE_TIMEOUT ? "timeout" : NULL, now);
	} else {
		snprintf(msg, sizeof(msg), "%s", p->outcome.why);
	}
	log_move(LOG_WARNING, p, msg);
	return true;
}

/* ------------------------------------------------------------------ metrics */

static void write_metrics(const struct mz_rebalancer *r, const struct mz_pressure_sample *s)
{
	char path[MZ_PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!r->cfg.rebalance.metrics_file[0])
		return;
	rc = mz_path(path, sizeof(path), "%s", r->cfg.rebalance.metrics_file);
	if (rc < 0)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, "# HELP memzone_rebalance_verdict What memzoned decided for the node this tick (1 = this verdict).\n"
		   "# TYPE memzone_rebalance_verdict gauge\n");
	for (size_t i = 0; i < r->last.n; i++)
		for (int vd = 0; vd < MZ_VERDICT__COUNT; vd++)
			fprintf(f, "memzone_rebalance_verdict{node=\"%d\",verdict=\"%s\"} %d\n", r->last.v[i].node,
				mz_verdict_name((enum mz_verdict)vd), r->last.v[i].verdict == (enum mz_verdict)vd);
	fprintf(f, "# HELP memzone_rebalance_kernel_free_bytes Free memory of the node's kernel zones.\n"
		   "# TYPE memzone_rebalance_kernel_free_bytes gauge\n");
	for (size_t i = 0; i < s->nnodes; i++)
		fprintf(f, "memzone_rebalance_kernel_free_bytes{node=\"%d\"} %" PRIu64 "\n", s->nodes[i].node,
			s->nodes[i].kernel_free);
	fprintf(f, "# HELP memzone_rebalance_margin_bytes Kernel free minus (high watermark + headroom).\n"
		   "# TYPE memzone_rebalance_margin_bytes gauge\n");
	for (size_t i = 0; i < r->last.n; i++)
		fprintf(f, "memzone_rebalance_margin_bytes{node=\"%d\"} %" PRId64 "\n", r->last.v[i].node,
			r->last.v[i].margin);
	fprintf(f, "# HELP memzone_rebalance_moves_total Blocks moved.\n# TYPE memzone_rebalance_moves_total counter\n"
		   "memzone_rebalance_moves_total{direction=\"to-kernel\"} %" PRIu64 "\n"
		   "memzone_rebalance_moves_total{direction=\"to-movable\"} %" PRIu64 "\n"
		   "# HELP memzone_rebalance_failures_total Moves that failed (offline refused, timed out, rolled back).\n"
		   "# TYPE memzone_rebalance_failures_total counter\nmemzone_rebalance_failures_total %" PRIu64 "\n"
		   "# HELP memzone_rebalance_rollbacks_total Moves rolled back to the old zone.\n"
		   "# TYPE memzone_rebalance_rollbacks_total counter\nmemzone_rebalance_rollbacks_total %" PRIu64 "\n"
		   "# HELP memzone_rebalance_backoffs Blocks backing off after a failure.\n"
		   "# TYPE memzone_rebalance_backoffs gauge\nmemzone_rebalance_backoffs %zu\n"
		   "# HELP memzone_rebalance_pinned_blocks Kernel-zone blocks memzoned wants back in Movable that the kernel cannot take.\n"
		   "# TYPE memzone_rebalance_pinned_blocks gauge\nmemzone_rebalance_pinned_blocks %zu\n",
		r->state.moves_to_kernel, r->state.moves_to_movable, r->state.failures, r->state.rollbacks,
		r->backoffs.n, r->npinned);
	if (fclose(f) == 0) {
		rc = mz_write_file_atomic(path, buf, len, 0644);
		if (rc < 0)
			mz_debug("metrics_file %s: %s", path, strerror(-rc));
	}
	free(buf);
}

/* ------------------------------------------------------------------ the cycle */

int mz_rebalance_prime(struct mz_rebalancer *r, uint64_t now_ms)
{
	struct mz_pressure_sample s;
	char err[512];
	int rc;

	rc = mz_rebalance_read_sample(&s, now_ms, r->page_size, r->block_size, err, sizeof(err));
	if (rc < 0) {
		mz_err("%s", err);
		mz_pressure_sample_free(&s);
		return rc;
	}
	mz_pressure_decide(r->model, &r->cfg, &s, &r->last);
	mz_pressure_sample_free(&r->sample);
	r->sample = s;
	return rc;
}

int mz_rebalance_cycle(struct mz_rebalancer *r, uint64_t now_ms)
{
	struct mz_pressure_sample s;
	unsigned budget, attempts = 0;
	bool pending = false;
	char err[512];
	int rc;

	r->npicks = 0;
	r->ticks++;
	/* while an interrupted move is not recovered, no move may start (its record would replace that one).
	 * observe_only retries too: bringing back a block a killed move left offline is no rebalancing */
	if (r->mode == MZ_REBALANCE_ACT)
		pending = mz_rebalance_recover(r) < 0;

	rc = mz_rebalance_read_sample(&s, now_ms, r->page_size, r->block_size, err, sizeof(err));
	if (rc < 0) {
		mz_pressure_sample_free(&s);
		mz_err("%s", err);
		return rc;
	}
	mz_pressure_decide(r->model, &r->cfg, &s, &r->last);

	mz_daemon_state_begin_tick(&r->state);
	r->state.observe_only = r->cfg.rebalance.observe_only;
	for (size_t i = 0; i < r->last.n; i++) {
		const struct mz_node_verdict *v = &r->last.v[i];

		if (v->blocked != MZ_PR_NONE)
			mz_daemon_state_set_node(&r->state, v->node, v->verdict, "%s wanted, %s: %s",
						 mz_verdict_name(v->want), mz_pressure_reason_name(v->blocked), v->why);
		else
			mz_daemon_state_set_node(&r->state, v->node, v->verdict, "%s: %s",
						 mz_pressure_reason_name(v->reason), v->why);
		log_verdict_change(r, v);
	}

	pinned_recheck(r, now_ms);
	budget = r->block_size && !pending ? r->last.budget : 0;
	for (size_t i = 0; i < r->last.n && attempts < budget; i++) {
		if (r->last.v[i].verdict == MZ_VERDICT_HOLD)
			break; /* sorted: the moves come first */
		if (!attempt_move(r, &r->last.v[i], &s, now_ms))
			continue;
		attempts++;
		if (r->progress)
			r->progress(r->progress_ctx);
	}

	mz_backoff_prune(&r->backoffs, mz_now_ms(), BACKOFF_FORGET_MS);
	for (size_t i = 0; i < r->backoffs.n; i++)
		if (r->backoffs.v[i].until_ms > mz_now_ms())
			mz_daemon_state_add_backoff(&r->state, r->backoffs.v[i].block,
						    mz_wall_s() + (int64_t)((r->backoffs.v[i].until_ms - mz_now_ms()) / 1000));
	for (size_t i = 0; i < r->npinned; i++)
		mz_daemon_state_add_pinned(&r->state, &r->pinned[i].ds);
	if (r->write_state && r->mode == MZ_REBALANCE_ACT) {
		r->state.updated = mz_wall_s();
		rc = mz_daemon_state_write(&r->state, err, sizeof(err));
		if (rc < 0)
			mz_warn("%s", err);
		write_metrics(r, &s);
	}
	mz_pressure_sample_free(&r->sample);
	r->sample = s;
	return (int)attempts;
}
