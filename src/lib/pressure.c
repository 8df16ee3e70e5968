/* pressure.c - PURE pressure model: per-node samples -> grow-kernel / hold / grow-movable + reason */
#include "pressure.h"
#include "policy.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000u
/* Trend history kept per node: enough points to fit a slope over the window, few enough to stay small. */
#define HIST_MAX 48
#define HIST_STEPS 40 /* points per trend_window */
/* t statistic a slope needs to count as a trend (~99.5% one-sided with the ~10 points of a window) */
#define TREND_MIN_T 3.0

/* ------------------------------------------------------------------ samples */

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void mz_pressure_sample_init(struct mz_pressure_sample *s, uint64_t t_ms, uint64_t block_size)
{
	memset(s, 0, sizeof(*s));
	s->t_ms = t_ms;
	s->block_size = block_size;
}

void mz_pressure_sample_free(struct mz_pressure_sample *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = 0;
}

struct mz_pressure_node *mz_pressure_sample_node(struct mz_pressure_sample *s, int node)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].node == node)
			return &s->nodes[i];
	return NULL;
}

static struct mz_pressure_node *sample_node_add(struct mz_pressure_sample *s, int node)
{
	struct mz_pressure_node *n = mz_pressure_sample_node(s, node);
	size_t i;

	if (n)
		return n;
	s->nodes = mz_xrealloc(s->nodes, (s->nnodes + 1) * sizeof(*s->nodes));
	for (i = s->nnodes; i > 0 && s->nodes[i - 1].node > node; i--)
		s->nodes[i] = s->nodes[i - 1];
	s->nnodes++;
	memset(&s->nodes[i], 0, sizeof(s->nodes[i]));
	s->nodes[i].node = node;
	return &s->nodes[i];
}

/* Where the entry for ZONE_NORMAL is in the protection arrays of the node's zones: Normal's position
 * among the node's sections (kernels since 4.12 list every zone, empty ones too, in zone order).
 * -1 when the node lists no Normal zone: its kernel zones' entries at their own index are 0 anyway. */
static int normal_index(const struct mz_zoneinfo *zi, int node)
{
	int pos = 0;

	for (size_t i = 0; i < zi->nzones; i++) {
		if (zi->zones[i].node != node)
			continue;
		if (zi->zones[i].type == MZ_ZONE_NORMAL)
			return pos;
		pos++;
	}
	return -1;
}

/* Does the node have kernel memory outside ZONE_DMA? Then DMA (x86: the 16 MiB below 16 MiB, held
 * back from kernel allocations by its lowmem_reserve) is not counted as kernel free. */
static bool has_kernel_beyond_dma(const struct mz_zoneinfo *zi, int node)
{
	for (size_t i = 0; i < zi->nzones; i++) {
		const struct mz_zone_info *z = &zi->zones[i];

		if (z->node == node && z->type != MZ_ZONE_DMA && mz_zone_is_kernel(z->type) && z->managed)
			return true;
	}
	return false;
}

int mz_pressure_sample_add_zoneinfo(struct mz_pressure_sample *s, const struct mz_zoneinfo *zi, uint64_t page_size)
{
	if (!zi->nzones)
		return -ENODATA;
	for (size_t i = 0; i < zi->nzones; i++) {
		const struct mz_zone_info *z = &zi->zones[i];
		struct mz_pressure_node *n = sample_node_add(s, z->node);

		if (z->type == MZ_ZONE_MOVABLE) {
			n->movable_managed += z->managed * page_size;
			n->movable_present += z->present * page_size;
			n->movable_free += z->free * page_size;
			n->movable_high += z->high * page_size;
		} else if (mz_zone_is_kernel(z->type)) {
			int ni = normal_index(zi, z->node);
			uint64_t prot = ni >= 0 && ni < z->nprotection ? z->protection[ni] : 0;

			n->kernel_managed += z->managed * page_size;
			if (z->type == MZ_ZONE_DMA && has_kernel_beyond_dma(zi, z->node))
				continue;
			/* what a kernel allocation may take: the kernel's watermark check for an
			 * allocation without ALLOC_CMA is free - free CMA > watermark + protection
			 * (lowmem_reserve against allocations up to ZONE_NORMAL) */
			n->kernel_free += sat_sub(z->free, z->free_cma + prot) * page_size;
			n->kernel_file += (z->inactive_file + z->active_file) * page_size;
			n->kernel_min += z->min * page_size;
			n->kernel_low += z->low * page_size;
			n->kernel_high += z->high * page_size;
		}
	}
	return 0;
}

void mz_pressure_sample_add_meminfo(struct mz_pressure_sample *s, int node, const struct mz_kvtab *meminfo)
{
	static const char *const unmovable_keys[] = { "SUnreclaim", "PageTables", "SecPageTables", "KernelStack" };
	struct mz_pressure_node *n;
	uint64_t sum = 0, v;
	bool any = false;

	if (node < 0) {
		if (s->nnodes != 1) /* system totals cannot be split over nodes */
			return;
		n = &s->nodes[0];
	} else {
		n = mz_pressure_sample_node(s, node);
		if (!n)
			return;
	}
	for (size_t i = 0; i < MZ_ARRAY_SIZE(unmovable_keys); i++)
		if (mz_kvtab_get(meminfo, unmovable_keys[i], &v)) {
			sum += v;
			any = true;
		}
	if (!any)
		return;
	n->unmovable = sum;
	n->has_unmovable = true;
}

void mz_pressure_sample_add_vmstat(struct mz_pressure_sample *s, const struct mz_kvtab *vmstat)
{
	/* allocstall_movable counts user allocations (their highest zone is Movable): not kernel pressure */
	static const char *const kernel_stalls[] = { "allocstall_dma", "allocstall_dma32", "allocstall_normal",
						     "allocstall_highmem" };
	uint64_t sum = 0, v;
	bool any = false;

	if (mz_kvtab_get(vmstat, "allocstall", &v)) { /* before 4.9: one counter for every zone */
		sum += v;
		any = true;
	}
	for (size_t i = 0; i < MZ_ARRAY_SIZE(kernel_stalls); i++)
		if (mz_kvtab_get(vmstat, kernel_stalls[i], &v)) {
			sum += v;
			any = true;
		}
	if (mz_kvtab_get(vmstat, "compactstall", &v)) {
		sum += v;
		any = true;
	}
	s->stalls = sum;
	s->has_stalls = any;
}

void mz_pressure_sample_add_psi(struct mz_pressure_sample *s, const struct mz_psi *psi)
{
	s->has_psi = psi->available && isfinite(psi->some_avg10);
	s->psi_some_avg10 = s->has_psi ? psi->some_avg10 : 0;
}

/* ------------------------------------------------------------------ reasons */

static const char *const reason_names[MZ_PR__COUNT] = {
	[MZ_PR_NONE] = "none",
	[MZ_PR_BALANCED] = "balanced",
	[MZ_PR_NO_KERNEL_ZONE] = "no-kernel-zone",
	[MZ_PR_WARMUP] = "warmup",
	[MZ_PR_NODE_FULL] = "node-full",
	[MZ_PR_USER_PRESSURE] = "user-pressure",
	[MZ_PR_FREE_LOW] = "free-low",
	[MZ_PR_TREND] = "unmovable-trend",
	[MZ_PR_STALLS] = "stalls",
	[MZ_PR_PSI] = "psi",
	[MZ_PR_RELEASE] = "release",
	[MZ_PR_RELEASE_PENDING] = "release-pending",
	[MZ_PR_DISABLED] = "disabled",
	[MZ_PR_NO_MOVABLE] = "no-movable",
	[MZ_PR_MIN_KERNEL] = "min-kernel",
	[MZ_PR_RATIO_CAP] = "ratio-cap",
	[MZ_PR_COOLDOWN] = "cooldown",
	[MZ_PR_RATE_LIMIT] = "rate-limit",
};

const char *mz_pressure_reason_name(enum mz_pressure_reason r)
{
	return (unsigned)r < MZ_PR__COUNT && reason_names[r] ? reason_names[r] : "unknown";
}

/* ------------------------------------------------------------------ model state */

struct hist_pt {
	uint64_t t;
	double v;
};

struct node_state {
	int node;
	struct hist_pt hist[HIST_MAX]; /* ring, oldest at head */
	size_t head, len;
	uint64_t calm_since;
	bool calm;
	uint64_t last_done[MZ_MOVE_DIR__COUNT];
	bool has_done[MZ_MOVE_DIR__COUNT];
};

struct mz_pressure {
	struct node_state *ns;
	size_t nns;
	uint64_t prev_stalls, prev_stalls_t;
	bool has_prev_stalls;
	uint64_t *attempts; /* start times of move attempts in the last minute, oldest first */
	size_t nattempts, attempts_cap;
};

struct mz_pressure *mz_pressure_new(void)
{
	return mz_xcalloc(1, sizeof(struct mz_pressure));
}

void mz_pressure_free(struct mz_pressure *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->attempts);
	free(p);
}

static struct node_state *node_state(struct mz_pressure *p, int node)
{
	for (size_t i = 0; i < p->nns; i++)
		if (p->ns[i].node == node)
			return &p->ns[i];
	p->ns = mz_xrealloc(p->ns, (p->nns + 1) * sizeof(*p->ns));
	memset(&p->ns[p->nns], 0, sizeof(p->ns[p->nns]));
	p->ns[p->nns].node = node;
	return &p->ns[p->nns++];
}

static const struct hist_pt *hist_at(const struct node_state *ns, size_t i)
{
	return &ns->hist[(ns->head + i) % HIST_MAX];
}

/* Keep at most HIST_STEPS points per window: a point is added when the newest is a step old. */
static void hist_push(struct node_state *ns, uint64_t t, double v, uint64_t window_ms)
{
	uint64_t step = window_ms / HIST_STEPS;

	if (ns->len && t < hist_at(ns, ns->len - 1)->t + step)
		return;
	if (ns->len && t < hist_at(ns, ns->len - 1)->t) /* clock went back: start over */
		ns->len = 0;
	if (ns->len == HIST_MAX) {
		ns->head = (ns->head + 1) % HIST_MAX;
		ns->len--;
	}
	ns->hist[(ns->head + ns->len) % HIST_MAX] = (struct hist_pt){ t, v };
	ns->len++;
}

/* Least-squares slope (per second) of the points within the window plus the current one, and its
 * t statistic (slope / standard error; INFINITY for a perfect line). NAN until the points span half
 * the window: a slope over a few ticks is mostly noise. */
static double hist_slope(const struct node_state *ns, uint64_t now, double v_now, uint64_t window_ms, double *tstat)
{
	double xs[HIST_MAX + 1], ys[HIST_MAX + 1], mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0, b, ssr;
	uint64_t oldest = now;
	size_t n = 0;

	*tstat = NAN;
	for (size_t i = 0; i < ns->len; i++) {
		const struct hist_pt *h = hist_at(ns, i);

		if (h->t + window_ms < now || h->t >= now)
			continue;
		if (h->t < oldest)
			oldest = h->t;
		xs[n] = (double)(now - h->t) / -1000.0;
		ys[n++] = h->v;
	}
	xs[n] = 0;
	ys[n++] = v_now;
	if (n < 3 || (now - oldest) * 2 < window_ms)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		mx += xs[i];
		my += ys[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxx += (xs[i] - mx) * (xs[i] - mx);
		sxy += (xs[i] - mx) * (ys[i] - my);
		syy += (ys[i] - my) * (ys[i] - my);
	}
	if (sxx <= 0)
		return NAN;
	b = sxy / sxx;
	ssr = syy - b * sxy;
	*tstat = ssr <= syy * 1e-12 ? (b > 0 ? INFINITY : b < 0 ? -INFINITY : 0)
				    : b / sqrt(ssr / (double)(n - 2) / sxx);
	return b;
}

void mz_pressure_record_move(struct mz_pressure *p, int node, enum mz_move_dir dir, bool done, uint64_t t_ms)
{
	if (p->nattempts == p->attempts_cap) {
		p->attempts_cap = p->attempts_cap ? p->attempts_cap * 2 : 16;
		p->attempts = mz_xrealloc(p->attempts, p->attempts_cap * sizeof(*p->attempts));
	}
	p->attempts[p->nattempts++] = t_ms;
	if (done && (unsigned)dir < MZ_MOVE_DIR__COUNT) {
		struct node_state *ns = node_state(p, node);

		ns->last_done[dir] = t_ms;
		ns->has_done[dir] = true;
	}
}

/* Moves still allowed now by moves_per_tick (attempts in the last half interval: a tick that an event
 * brought early shares the budget of the timer's tick) and moves_per_minute. */
static unsigned move_budget(struct mz_pressure *p, const struct mz_rebalance_config *rc, uint64_t now)
{
	size_t keep = 0, in_tick = 0, in_minute;
	uint64_t tick_window = rc->interval_ms / 2;

	for (size_t i = 0; i < p->nattempts; i++)
		if (p->attempts[i] + MINUTE_MS > now)
			p->attempts[keep++] = p->attempts[i];
	p->nattempts = keep;
	in_minute = keep;
	for (size_t i = 0; i < keep; i++)
		if (p->attempts[i] + tick_window > now)
			in_tick++;
	if (in_tick >= rc->moves_per_tick || in_minute >= rc->moves_per_minute)
		return 0;
	return (unsigned)(rc->moves_per_tick - in_tick < rc->moves_per_minute - in_minute
				  ? rc->moves_per_tick - in_tick
				  : rc->moves_per_minute - in_minute);
}

/* ------------------------------------------------------------------ decision */

/* The part of the kernel zones' file pages counted as available (1/FILE_DIV): reclaim frees them
 * before a harvest is needed, but not all at once (dirty, mapped, active pages). */
#define FILE_DIV 2

struct node_eval {
	const struct mz_pressure_node *n;
	struct node_state *ns;
	uint64_t headroom, floor, release;
	uint64_t avail;    /* kernel free + kernel file pages / FILE_DIV */
	double slope;      /* bytes/s, NAN unknown */
	uint64_t drop;     /* projected loss of kernel free over the lookahead */
	int64_t margin;    /* avail - floor */
	bool movable_room; /* Movable free above its high watermark by at least one block */
};

static uint64_t pct_of(double pct, uint64_t v)
{
	double r = (double)v * pct / 100.0;

	return r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r;
}

static const char *sz(uint64_t v, char *buf) { return mz_format_size(v, buf, 16); }

static void eval_node(struct node_eval *e, const struct mz_config *c, const struct mz_pressure_node *n,
		      struct node_state *ns, uint64_t now, uint64_t block_size)
{
	const struct mz_rebalance_config *rc = &c->rebalance;
	uint64_t hp = pct_of(rc->headroom_percent, n->kernel_managed);

	e->n = n;
	e->ns = ns;
	e->headroom = rc->headroom > hp ? rc->headroom : hp;
	e->floor = n->kernel_high + e->headroom;
	e->release = n->kernel_high + (rc->release_headroom > e->headroom ? rc->release_headroom : e->headroom);
	e->avail = n->kernel_free + n->kernel_file / FILE_DIV;
	e->margin = (int64_t)e->avail - (int64_t)e->floor;
	/* User allocations prefer Movable: while it has a block's worth free above its watermark they
	 * are not what fills the kernel zones, and a converted block's pages have somewhere to go. */
	e->movable_room = n->movable_free > n->movable_high + block_size;
	e->slope = NAN;
	e->drop = 0;
	if (n->has_unmovable) {
		double t;

		e->slope = hist_slope(ns, now, (double)n->unmovable, rc->trend_window_ms, &t);
		hist_push(ns, now, (double)n->unmovable, rc->trend_window_ms);
		/* A trend counts when it is real growth, not bursts: the points follow the line
		 * (t >= TREND_MIN_T) and it would eat at least half the headroom within the lookahead. */
		if (isfinite(e->slope) && e->slope > 0 && t >= TREND_MIN_T) {
			uint64_t drop = (uint64_t)(e->slope * (double)rc->trend_window_ms / 1000.0);

			if (drop >= e->headroom / 2)
				e->drop = drop;
		}
	}
}

/* The node system-wide signals (stalls, PSI) are charged to: the one closest to its floor among the
 * nodes that have both kernel memory and Movable memory to harvest (else among all with kernel memory). */
static const struct node_eval *pressure_target(const struct node_eval *ev, size_t n)
{
	const struct node_eval *best = NULL;

	for (int pass = 0; pass < 2 && !best; pass++)
		for (size_t i = 0; i < n; i++) {
			if (!ev[i].n->kernel_managed || (pass == 0 && !ev[i].n->movable_managed))
				continue;
			if (!best || ev[i].margin < best->margin)
				best = &ev[i];
		}
	return best;
}

/* movable + block <= ratio% of (kernel - block): the cap of the onlining policy, the same with or
 * without memzoned, so a give-back never takes MOVABLE:KERNEL past what onlining allows once memzoned
 * is gone. The policy's own arithmetic (Movable = max(present, managed), exact integers), on the
 * current managed kernel memory of the sample: a first filter. The basis (ratio_basis, CMA, memory
 * memzoned harvested not counted) is applied by mz_policy_giveback_fits under the lock. */
static bool ratio_allows(const struct mz_config *c, uint64_t movable_present, uint64_t movable_managed,
			 uint64_t kernel, uint64_t block)
{
	return mz_policy_within_ratio(mz_policy_movable(movable_present, movable_managed), block,
				      sat_sub(kernel, block), c->ratio);
}

static void decide_node(const struct mz_config *c, const struct mz_pressure_sample *s, const struct node_eval *e,
			const struct node_eval *target, double stall_rate, uint64_t sys_kernel, uint64_t sys_movable,
			uint64_t sys_movable_present, struct mz_node_verdict *v)
{
	const struct mz_rebalance_config *rc = &c->rebalance;
	const struct mz_pressure_node *n = e->n;
	struct node_state *ns = e->ns;
	uint64_t now = s->t_ms, B = s->block_size;
	uint64_t projected = sat_sub(e->avail, e->drop);              /* available after the lookahead */
	uint64_t free_projected = sat_sub(n->kernel_free, e->drop);   /* the same without file pages */
	bool psi_hot = s->has_psi && s->psi_some_avg10 >= rc->psi_some_avg10;
	bool stalls_hot = isfinite(stall_rate) && stall_rate >= (double)rc->stall_rate;
	/* PSI and stalls make a real trend count sooner (bar: the release level), never alone */
	bool sooner = e == target && (psi_hot || stalls_hot);
	bool trend_short = e->drop > 0 && projected < (sooner ? e->release : e->floor);
	char a[16], b[16], d[16], f[16], g[16], h[16], k[16], sig[64] = "";

	v->node = n->node;
	v->margin = e->margin;
	v->trend = e->slope;
	v->want = v->verdict = MZ_VERDICT_HOLD;
	v->blocked = MZ_PR_NONE;
	if (psi_hot)
		snprintf(sig, sizeof(sig), "PSI memory some avg10 %.2f%% >= %.2f%%", s->psi_some_avg10, rc->psi_some_avg10);
	else if (stalls_hot)
		snprintf(sig, sizeof(sig), "%.0f kernel allocation stalls/s >= %llu/s", stall_rate,
			 (unsigned long long)rc->stall_rate);

	/* ---- what the signals ask for */
	if (!n->kernel_managed) {
		v->reason = MZ_PR_NO_KERNEL_ZONE;
		snprintf(v->why, sizeof(v->why), "no kernel zone on this node: its kernel allocations use other nodes");
		ns->calm = false;
		return;
	}
	if (e->avail < e->floor && e->movable_room) {
		v->want = MZ_VERDICT_GROW_KERNEL;
		v->reason = MZ_PR_FREE_LOW;
		snprintf(v->why, sizeof(v->why),
			 "kernel free %s + file %s/%d < high watermark %s + headroom %s; Movable free %s > its high %s + one block",
			 sz(n->kernel_free, a), sz(n->kernel_file, b), FILE_DIV, sz(n->kernel_high, d), sz(e->headroom, f),
			 sz(n->movable_free, g), sz(n->movable_high, h));
	} else if (e->avail >= e->floor && trend_short && e->movable_room) {
		v->want = MZ_VERDICT_GROW_KERNEL;
		if (projected < e->floor) {
			v->reason = MZ_PR_TREND;
			snprintf(v->why, sizeof(v->why),
				 "unmovable kernel memory +%s/s: kernel free %s + file %s/%d would be %s in %s, below the floor %s",
				 sz((uint64_t)e->slope, a), sz(n->kernel_free, b), sz(n->kernel_file, d), FILE_DIV,
				 sz(projected, f), mz_format_duration(rc->trend_window_ms, g, sizeof(g)), sz(e->floor, h));
		} else {
			v->reason = psi_hot ? MZ_PR_PSI : MZ_PR_STALLS;
			snprintf(v->why, sizeof(v->why),
				 "%s and unmovable +%s/s: kernel free %s + file %s/%d would be %s in %s, below the release level %s",
				 sig, sz((uint64_t)e->slope, a), sz(n->kernel_free, b), sz(n->kernel_file, d), FILE_DIV,
				 sz(projected, f), mz_format_duration(rc->trend_window_ms, g, sizeof(g)), sz(e->release, h));
		}
	} else if (e->avail < e->floor || trend_short) {
		v->reason = MZ_PR_NODE_FULL;
		snprintf(v->why, sizeof(v->why),
			 "kernel free %s + file %s/%d %s floor %s, but Movable free %s is not above its high %s + one block: "
			 "reclaim, not a conversion, helps", sz(n->kernel_free, a), sz(n->kernel_file, b), FILE_DIV,
			 e->avail < e->floor ? "< the" : "is heading below the", sz(e->floor, d), sz(n->movable_free, f),
			 sz(n->movable_high, g));
	} else if (sooner) {
		v->reason = MZ_PR_USER_PRESSURE;
		if (isfinite(e->slope))
			snprintf(k, sizeof(k), "%s%s/s", e->slope < 0 ? "-" : "+", sz((uint64_t)fabs(e->slope), f));
		snprintf(v->why, sizeof(v->why),
			 "%s, but kernel free %s + file %s/%d >= floor %s and no unmovable trend (%s) reaches "
			 "the release level %s", sig, sz(n->kernel_free, a), sz(n->kernel_file, b),
			 FILE_DIV, sz(e->floor, d), isfinite(e->slope) ? k : "not known yet", sz(e->release, g));
	} else if (!isfinite(e->slope)) {
		v->reason = MZ_PR_WARMUP;
		snprintf(v->why, sizeof(v->why), "kernel free %s; collecting %s of history for the unmovable trend",
			 sz(n->kernel_free, a), mz_format_duration(rc->trend_window_ms, b, sizeof(b)));
	} else if (n->kernel_free >= e->release + B && free_projected >= e->release + B && !psi_hot && !stalls_hot) {
		if (!ns->calm) {
			ns->calm = true;
			ns->calm_since = now;
		}
		if (now - ns->calm_since >= rc->release_delay_ms) {
			v->want = MZ_VERDICT_GROW_MOVABLE;
			v->reason = MZ_PR_RELEASE;
		} else {
			v->reason = MZ_PR_RELEASE_PENDING;
		}
		snprintf(v->why, sizeof(v->why), "kernel free %s >= release level %s + one block %s, calm for %s "
			 "(release_delay %s)", sz(n->kernel_free, a), sz(e->release, b), sz(B, d),
			 mz_format_duration((now - ns->calm_since) / 1000 * 1000, f, sizeof(f)),
			 mz_format_duration(rc->release_delay_ms, g, sizeof(g)));
	} else {
		v->reason = MZ_PR_BALANCED;
		snprintf(v->why, sizeof(v->why), "kernel free %s + file %s/%d between the floor %s and release level %s + one block %s",
			 sz(n->kernel_free, a), sz(n->kernel_file, b), FILE_DIV, sz(e->floor, d), sz(e->release, f), sz(B, g));
	}
	if (v->reason != MZ_PR_RELEASE && v->reason != MZ_PR_RELEASE_PENDING)
		ns->calm = false;

	/* ---- what may be done now */
	if (v->want == MZ_VERDICT_GROW_KERNEL) {
		bool emergency = n->kernel_free < n->kernel_low;

		if (!rc->grow_kernel)
			v->blocked = MZ_PR_DISABLED;
		else if (n->movable_managed < B || !n->movable_managed)
			v->blocked = MZ_PR_NO_MOVABLE;
		else if (!emergency && ns->has_done[MZ_MOVE_TO_MOVABLE] &&
			 now < ns->last_done[MZ_MOVE_TO_MOVABLE] + rc->cooldown_ms)
			v->blocked = MZ_PR_COOLDOWN;
	} else if (v->want == MZ_VERDICT_GROW_MOVABLE) {
		uint64_t min_k = pct_of(c->min_kernel_percent, n->kernel_managed + n->movable_managed);
		bool node_ok, sys_ok;

		if (c->min_kernel > min_k)
			min_k = c->min_kernel;
		node_ok = ratio_allows(c, n->movable_present, n->movable_managed, n->kernel_managed, B);
		sys_ok = ratio_allows(c, sys_movable_present, sys_movable, sys_kernel, B);
		if (!rc->grow_movable)
			v->blocked = MZ_PR_DISABLED;
		else if (n->kernel_managed < B || n->kernel_managed - B < min_k)
			v->blocked = MZ_PR_MIN_KERNEL;
		else if ((c->ratio_scope != MZ_SCOPE_SYSTEM && !node_ok) || (c->ratio_scope != MZ_SCOPE_NODE && !sys_ok))
			v->blocked = MZ_PR_RATIO_CAP;
		else if (ns->has_done[MZ_MOVE_TO_KERNEL] && now < ns->last_done[MZ_MOVE_TO_KERNEL] + rc->cooldown_ms)
			v->blocked = MZ_PR_COOLDOWN;
	}
	if (v->want != MZ_VERDICT_HOLD && v->blocked == MZ_PR_NONE)
		v->verdict = v->want;
}

static int verdict_rank(const struct mz_node_verdict *v)
{
	return v->verdict == MZ_VERDICT_GROW_KERNEL ? 0 : v->verdict == MZ_VERDICT_GROW_MOVABLE ? 1 : 2;
}

static int verdict_cmp(const void *pa, const void *pb)
{
	const struct mz_node_verdict *a = pa, *b = pb;
	int ra = verdict_rank(a), rb = verdict_rank(b);

	if (ra != rb)
		return ra - rb;
	if (a->margin != b->margin) /* grow-kernel: tightest first; grow-movable: most spare first */
		return (ra == 1) == (a->margin > b->margin) ? -1 : 1;
	return a->node - b->node;
}

void mz_pressure_decide(struct mz_pressure *p, const struct mz_config *c, const struct mz_pressure_sample *s,
			struct mz_pressure_result *r)
{
	struct node_eval *ev = mz_xcalloc(s->nnodes, sizeof(*ev));
	const struct node_eval *target;
	uint64_t sys_kernel = 0, sys_movable = 0, sys_movable_present = 0;
	unsigned budget;

	mz_pressure_result_free(r);
	r->stall_rate = NAN;
	if (s->has_stalls && p->has_prev_stalls && s->t_ms > p->prev_stalls_t && s->stalls >= p->prev_stalls)
		r->stall_rate = (double)(s->stalls - p->prev_stalls) * 1000.0 / (double)(s->t_ms - p->prev_stalls_t);
	p->has_prev_stalls = s->has_stalls;
	p->prev_stalls = s->stalls;
	p->prev_stalls_t = s->t_ms;

	/* create every node's state first: node_state() may move the array, so no pointer is taken
	 * into it before it stops growing */
	for (size_t i = 0; i < s->nnodes; i++)
		node_state(p, s->nodes[i].node);
	for (size_t i = 0; i < s->nnodes; i++) {
		eval_node(&ev[i], c, &s->nodes[i], node_state(p, s->nodes[i].node), s->t_ms, s->block_size);
		sys_kernel += s->nodes[i].kernel_managed;
		sys_movable += s->nodes[i].movable_managed;
		sys_movable_present += s->nodes[i].movable_present; /* max of the sums, like the policy's total */
	}
	target = pressure_target(ev, s->nnodes);

	r->n = s->nnodes;
	r->v = mz_xcalloc(s->nnodes ? s->nnodes : 1, sizeof(*r->v));
	for (size_t i = 0; i < s->nnodes; i++)
		decide_node(c, s, &ev[i], target, r->stall_rate, sys_kernel, sys_movable, sys_movable_present, &r->v[i]);
	free(ev);

	budget = move_budget(p, &c->rebalance, s->t_ms);
	r->budget = budget;
	if (budget == 0)
		for (size_t i = 0; i < r->n; i++)
			if (r->v[i].verdict != MZ_VERDICT_HOLD) {
				r->v[i].verdict = MZ_VERDICT_HOLD;
				r->v[i].blocked = MZ_PR_RATE_LIMIT;
			}
	qsort(r->v, r->n, sizeof(*r->v), verdict_cmp);
}

void mz_pressure_result_free(struct mz_pressure_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
