/* test-pressure.c - the pure pressure model, replayed tick by tick on traces recorded in a VM
 *
 * The traces in tests/traces were recorded by tests/traces/record.sh in a 1 GiB guest (DMA32 is the only
 * kernel zone) with a 2 GiB DIMM online as ZONE_MOVABLE and no rebalancer: page tables built at
 * 64 and 16 MiB/s until the OOM killer stepped in, and an idle-but-noisy guest. Each record is run
 * through memzone's own parsers (zoneinfo, node meminfo, vmstat, PSI) and fed to the model at the
 * daemon's interval: the latest record at each tick, for every phase of the tick against the
 * records. Single-input tests change one parsed input of a real trace and nothing else.
 */
#include "config.h"
#include "policy.h"
#include "snapshot.h"
#include "pressure.h"
#include "procstat.h"
#include "tap.h"
#include "util.h"
#include "zoneinfo.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>

#define MIB (1ull << 20)
#define PAGE 4096ull
#define BLOCK (128 * MIB)

/* ------------------------------------------------------------------ traces */

struct rec {
	uint64_t t; /* ms of guest uptime */
	bool raw;
	char *text[4]; /* zoneinfo, meminfo, vmstat, psi */
};
static const char *const file_names[4] = { "zoneinfo", "meminfo", "vmstat", "psi" };

struct trace {
	const char *name;
	struct rec *r;
	size_t n;
};

static int trace_load(const char *name, struct trace *tr)
{
	char path[MZ_PATH_MAX], *buf, *p;
	const char *top = getenv("top_srcdir");
	size_t cap = 0;
	int cur = -1;
	int r;

	memset(tr, 0, sizeof(*tr));
	tr->name = name;
	snprintf(path, sizeof(path), "%s/tests/traces/%s.trace", top ? top : ".", name);
	r = mz_read_file(path, &buf, NULL);
	if (r < 0) {
		diag("%s: %s", path, strerror(-r));
		return r;
	}
	for (p = buf; p && *p;) {
		char *nl = strchr(p, '\n'), *line = p;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
		if (strncmp(line, "@@T ", 4) == 0) {
			if (tr->n == cap) {
				cap = cap ? cap * 2 : 256;
				tr->r = mz_xrealloc(tr->r, cap * sizeof(*tr->r));
			}
			memset(&tr->r[tr->n], 0, sizeof(tr->r[0]));
			tr->r[tr->n].t = strtoull(line + 4, NULL, 10);
			tr->r[tr->n].raw = strstr(line, " raw") != NULL;
			tr->n++;
			cur = -1;
		} else if (strncmp(line, "@@F ", 4) == 0 && tr->n) {
			cur = -1;
			for (int i = 0; i < 4; i++)
				if (strcmp(line + 4, file_names[i]) == 0)
					cur = i;
		} else if (strncmp(line, "@@", 2) == 0 || line[0] == '#') {
			cur = -1;
		} else if (cur >= 0) {
			struct rec *rc = &tr->r[tr->n - 1];
			size_t old = rc->text[cur] ? strlen(rc->text[cur]) : 0, add = strlen(line);

			rc->text[cur] = mz_xrealloc(rc->text[cur], old + add + 2);
			memcpy(rc->text[cur] + old, line, add);
			rc->text[cur][old + add] = '\n';
			rc->text[cur][old + add + 1] = '\0';
		}
	}
	free(buf);
	return 0;
}

static void trace_free(struct trace *tr)
{
	for (size_t i = 0; i < tr->n; i++)
		for (int k = 0; k < 4; k++)
			free(tr->r[i].text[k]);
	free(tr->r);
}

/* One record, parsed by the real parsers. */
struct parsed {
	struct mz_zoneinfo zi;
	struct mz_kvtab meminfo, vmstat;
	struct mz_psi psi;
};

static int rec_parse(const struct rec *rc, struct parsed *ps, char *err, size_t errlen)
{
	int r;

	memset(ps, 0, sizeof(*ps));
	if (!rc->text[0] || !rc->text[1] || !rc->text[2] || !rc->text[3]) {
		snprintf(err, errlen, "a file is missing");
		return -EINVAL;
	}
	if ((r = mz_zoneinfo_parse(rc->text[0], &ps->zi, err, errlen)) < 0 ||
	    (r = mz_meminfo_parse(rc->text[1], &ps->meminfo, err, errlen)) < 0 ||
	    (r = mz_vmstat_parse(rc->text[2], &ps->vmstat, err, errlen)) < 0 ||
	    (r = mz_psi_parse(rc->text[3], &ps->psi, err, errlen)) < 0)
		return r;
	return 0;
}

static void parsed_free(struct parsed *ps)
{
	mz_zoneinfo_free(&ps->zi);
	mz_kvtab_free(&ps->meminfo);
	mz_kvtab_free(&ps->vmstat);
}

static struct mz_kv *kv_find(struct mz_kvtab *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->kv[i].key, key) == 0)
			return &t->kv[i];
	return NULL;
}

/* ------------------------------------------------------------------ edits (one input each) */

/* An edit changes one parsed input of record i (time t since the trace's start). */
struct edit {
	void (*fn)(const struct edit *e, struct parsed *ps, uint64_t t);
	uint64_t from_ms, to_ms; /* active window, since the first record */
	double value;
};

static bool active(const struct edit *e, uint64_t t) { return t >= e->from_ms && t < e->to_ms; }

/* kernel free := value bytes (all of it in DMA32, DMA keeps its own) */
static void edit_kernel_free(const struct edit *e, struct parsed *ps, uint64_t t)
{
	uint64_t other = 0;

	if (!active(e, t))
		return;
	for (size_t i = 0; i < ps->zi.nzones; i++)
		if (ps->zi.zones[i].type == MZ_ZONE_DMA)
			other += ps->zi.zones[i].free;
	for (size_t i = 0; i < ps->zi.nzones; i++)
		if (ps->zi.zones[i].type == MZ_ZONE_DMA32)
			ps->zi.zones[i].free = (uint64_t)e->value / PAGE - other;
}

/* page tables grow by value bytes/s from from_ms on (free untouched) */
static void edit_unmovable_ramp(const struct edit *e, struct parsed *ps, uint64_t t)
{
	struct mz_kv *kv = kv_find(&ps->meminfo, "PageTables");

	if (kv && t >= e->from_ms)
		kv->val += (uint64_t)(e->value * (double)((t < e->to_ms ? t : e->to_ms) - e->from_ms) / 1000.0);
}

/* strip the unmovable-memory lines: the model has no trend */
static void edit_no_unmovable(const struct edit *e, struct parsed *ps, uint64_t t)
{
	(void)e;
	(void)t;
	ps->meminfo.n = 0;
}

/* allocstall_normal grows by value/s inside the window (cumulative afterwards) */
static void edit_stalls(const struct edit *e, struct parsed *ps, uint64_t t)
{
	struct mz_kv *kv = kv_find(&ps->vmstat, "allocstall_normal");

	if (kv && t >= e->from_ms)
		kv->val += (uint64_t)(e->value * (double)((t < e->to_ms ? t : e->to_ms) - e->from_ms) / 1000.0);
}

static void edit_psi(const struct edit *e, struct parsed *ps, uint64_t t)
{
	if (active(e, t))
		ps->psi.some_avg10 = e->value;
}

/* ------------------------------------------------------------------ replay */

struct replay {
	unsigned ticks, to_kernel, to_movable;
	int64_t first_kernel_ms, first_movable_ms; /* since the first record; -1: never */
	enum mz_pressure_reason first_kernel_reason;
	char first_kernel_why[MZ_DS_REASON_MAX];
	int64_t last_kernel_ms;
	bool movable_in_cooldown; /* a grow-movable came < cooldown after a grow-kernel */
	unsigned max_per_minute;
};

/* Feed the trace at c->rebalance.interval_ms, starting phase_ms after its first record. The model
 * is told every move it asks for was made (the trace cannot show the effect). */
static void replay(const struct trace *tr, const struct mz_config *c, uint64_t phase_ms, const struct edit *ed,
		   struct replay *out)
{
	struct mz_pressure *m = mz_pressure_new();
	struct mz_pressure_result res = { 0 };
	uint64_t t0 = tr->r[0].t, iv = c->rebalance.interval_ms;
	uint64_t *window = mz_xcalloc(1024, sizeof(*window));
	size_t nwin = 0, ri = 0;

	memset(out, 0, sizeof(*out));
	out->first_kernel_ms = out->first_movable_ms = out->last_kernel_ms = -1;
	for (uint64_t tick = t0 + phase_ms; tick <= tr->r[tr->n - 1].t; tick += iv) {
		struct mz_pressure_sample s;
		struct parsed ps;
		char err[256];

		while (ri + 1 < tr->n && tr->r[ri + 1].t <= tick)
			ri++;
		if (rec_parse(&tr->r[ri], &ps, err, sizeof(err)) < 0) {
			parsed_free(&ps);
			continue; /* test_parse_all reports it */
		}
		if (ed)
			ed->fn(ed, &ps, tr->r[ri].t - t0);
		mz_pressure_sample_init(&s, tick, BLOCK);
		mz_pressure_sample_add_zoneinfo(&s, &ps.zi, PAGE);
		mz_pressure_sample_add_meminfo(&s, 0, &ps.meminfo);
		mz_pressure_sample_add_vmstat(&s, &ps.vmstat);
		mz_pressure_sample_add_psi(&s, &ps.psi);
		mz_pressure_decide(m, c, &s, &res);
		out->ticks++;
		for (size_t i = 0; i < res.n && i < res.budget; i++) {
			const struct mz_node_verdict *v = &res.v[i];
			int64_t rel = (int64_t)(tick - t0);

			if (v->verdict == MZ_VERDICT_HOLD)
				break;
			if (v->verdict == MZ_VERDICT_GROW_KERNEL) {
				if (out->first_kernel_ms < 0) {
					out->first_kernel_ms = rel;
					out->first_kernel_reason = v->reason;
					snprintf(out->first_kernel_why, sizeof(out->first_kernel_why), "%s", v->why);
				}
				out->last_kernel_ms = rel;
				out->to_kernel++;
			} else {
				if (out->first_movable_ms < 0)
					out->first_movable_ms = rel;
				if (out->last_kernel_ms >= 0 && rel - out->last_kernel_ms < (int64_t)c->rebalance.cooldown_ms)
					out->movable_in_cooldown = true;
				out->to_movable++;
			}
			mz_pressure_record_move(m, v->node,
						v->verdict == MZ_VERDICT_GROW_KERNEL ? MZ_MOVE_TO_KERNEL : MZ_MOVE_TO_MOVABLE,
						true, tick);
			if (nwin < 1024)
				window[nwin++] = tick;
		}
		/* the most moves seen in any minute */
		for (size_t a = 0; a < nwin; a++) {
			unsigned k = 0;

			for (size_t b = a; b < nwin && window[b] < window[a] + 60000; b++)
				k++;
			if (k > out->max_per_minute)
				out->max_per_minute = k;
		}
		mz_pressure_sample_free(&s);
		parsed_free(&ps);
	}
	free(window);
	mz_pressure_result_free(&res);
	mz_pressure_free(m);
}

/* When the trace crossed the kernel's min watermark, as a lower bound: the time of the last record
 * before the first one that shows it (free below min, or the kernel-zone stalls / oom kills that
 * follow a crossing between two records). -1 when it never did. */
static int64_t min_crossing_ms(const struct trace *tr)
{
	uint64_t stalls0 = 0, oom0 = 0;

	for (size_t i = 0; i < tr->n; i++) {
		struct parsed ps;
		struct mz_pressure_sample s;
		uint64_t oom = 0;
		char err[256];
		bool crossed;

		if (rec_parse(&tr->r[i], &ps, err, sizeof(err)) < 0) {
			parsed_free(&ps);
			continue;
		}
		mz_pressure_sample_init(&s, tr->r[i].t, BLOCK);
		mz_pressure_sample_add_zoneinfo(&s, &ps.zi, PAGE);
		mz_pressure_sample_add_vmstat(&s, &ps.vmstat);
		mz_kvtab_get(&ps.vmstat, "oom_kill", &oom);
		if (i == 0) {
			stalls0 = s.stalls;
			oom0 = oom;
		}
		crossed = s.nodes[0].kernel_free < s.nodes[0].kernel_min || s.stalls > stalls0 || oom > oom0;
		mz_pressure_sample_free(&s);
		parsed_free(&ps);
		if (crossed)
			return i ? (int64_t)(tr->r[i - 1].t - tr->r[0].t) : 0;
	}
	return -1;
}

/* Kernel free and floor of one record (for choosing edit values from the trace itself). */
static void rec_levels(const struct trace *tr, size_t i, const struct mz_config *c, uint64_t *free_b,
		       uint64_t *floor_b)
{
	struct parsed ps;
	struct mz_pressure_sample s;
	char err[256];

	*free_b = *floor_b = 0;
	if (rec_parse(&tr->r[i], &ps, err, sizeof(err)) == 0) {
		mz_pressure_sample_init(&s, 0, BLOCK);
		mz_pressure_sample_add_zoneinfo(&s, &ps.zi, PAGE);
		*free_b = s.nodes[0].kernel_free;
		*floor_b = s.nodes[0].kernel_high + c->rebalance.headroom;
		mz_pressure_sample_free(&s);
	}
	parsed_free(&ps);
}

/* ------------------------------------------------------------------ tests */

static void test_parse_all(const struct trace *tr)
{
	size_t bad = 0, raw = 0;
	char err[256] = "";

	for (size_t i = 0; i < tr->n; i++) {
		struct parsed ps;

		if (rec_parse(&tr->r[i], &ps, err, sizeof(err)) < 0) {
			if (!bad)
				diag("%s record %zu: %s", tr->name, i, err);
			bad++;
		}
		raw += tr->r[i].raw;
		parsed_free(&ps);
	}
	ok(tr->n >= 100 && bad == 0, "%s: all %zu records parse with memzone's parsers (zoneinfo, meminfo, vmstat, PSI)",
	   tr->name, tr->n);
	ok(raw == 2 && tr->r[0].raw && tr->r[tr->n - 1].raw, "%s: first and last record are kept whole", tr->name);
	ok(tr->r[tr->n - 1].t - tr->r[0].t >= 30000, "%s: spans %.1f s", tr->name,
	   (double)(tr->r[tr->n - 1].t - tr->r[0].t) / 1000.0);
}

static void test_ramp(const struct trace *tr, const struct mz_config *c)
{
	int64_t cross = min_crossing_ms(tr), iv = (int64_t)c->rebalance.interval_ms;
	int64_t worst_lead = INT64_MAX;
	bool all_trend = true, caps_ok = true;
	struct replay rp;
	struct edit no_trend = { edit_no_unmovable, 0, UINT64_MAX, 0 };

	ok(cross > 0, "%s: the kernel's min watermark is crossed at %.1f s (OOM follows)", tr->name, (double)cross / 1000.0);
	for (uint64_t phase = 0; phase < (uint64_t)iv; phase += 100) {
		replay(tr, c, phase, NULL, &rp);
		if (rp.first_kernel_ms < 0) {
			worst_lead = INT64_MIN;
			break;
		}
		if (cross - rp.first_kernel_ms < worst_lead)
			worst_lead = cross - rp.first_kernel_ms;
		all_trend &= rp.first_kernel_reason == MZ_PR_TREND;
		caps_ok &= rp.max_per_minute <= c->rebalance.moves_per_minute;
	}
	ok(worst_lead != INT64_MIN && worst_lead >= 2 * iv,
	   "%s: grow-kernel decided at least two intervals before the crossing at every tick phase (worst lead %.1f s)",
	   tr->name, (double)worst_lead / 1000.0);
	replay(tr, c, 0, NULL, &rp);
	diag("%s: first grow-kernel at %.1f s: %s", tr->name, (double)rp.first_kernel_ms / 1000.0, rp.first_kernel_why);
	ok(all_trend, "%s: the first decision comes from the unmovable trend", tr->name);
	ok(caps_ok, "%s: never more than moves_per_minute=%u in a minute", tr->name, c->rebalance.moves_per_minute);
	ok(rp.to_movable == 0, "%s: nothing given back within the trace (release_delay %llus)", tr->name,
	   (unsigned long long)c->rebalance.release_delay_ms / 1000);

	/* the trend is what buys the lead: without the unmovable lines, only free-vs-floor is left */
	{
		struct replay nt;

		replay(tr, c, 0, &no_trend, &nt);
		ok(nt.first_kernel_ms > rp.first_kernel_ms && nt.first_kernel_reason == MZ_PR_FREE_LOW,
		   "%s: without the unmovable trend the first grow-kernel comes later (%.1f s, free-low) than with it (%.1f s)",
		   tr->name, (double)nt.first_kernel_ms / 1000.0, (double)rp.first_kernel_ms / 1000.0);
	}
}

static void test_release(const struct trace *tr, const struct mz_config *defaults)
{
	struct mz_config c = *defaults;
	struct replay rp;

	/* after the OOM killer freed the page tables the kernel zone is idle again: with a short
	 * release_delay the model gives memory back, but never within cooldown of a grow-kernel */
	c.rebalance.release_delay_ms = 5000;
	c.rebalance.moves_per_minute = 60; /* 8 a minute are spent by the ramp until after the trace ends */
	replay(tr, &c, 0, NULL, &rp);
	ok(rp.to_movable > 0 && rp.first_movable_ms > rp.last_kernel_ms,
	   "%s: with release_delay=5s memory is given back after the ramp is gone (%u blocks, first at %.1f s)",
	   tr->name, rp.to_movable, (double)rp.first_movable_ms / 1000.0);
	ok(!rp.movable_in_cooldown, "%s: no grow-movable within cooldown of a grow-kernel", tr->name);
	ok(rp.first_movable_ms - rp.last_kernel_ms >= (int64_t)c.rebalance.release_delay_ms,
	   "%s: the first release waits release_delay of calm (%.1f s after the last grow-kernel)", tr->name,
	   (double)(rp.first_movable_ms - rp.last_kernel_ms) / 1000.0);
}

static void test_noisy(const struct trace *tr, const struct mz_config *c)
{
	unsigned moves = 0;
	struct replay rp;
	struct mz_config quick = *c;

	for (uint64_t phase = 0; phase < c->rebalance.interval_ms; phase += 100) {
		replay(tr, c, phase, NULL, &rp);
		moves += rp.to_kernel + rp.to_movable;
	}
	ok(moves == 0, "%s: zero moves at every tick phase (got %u)", tr->name, moves);
	quick.rebalance.release_delay_ms = 0;
	quick.rebalance.interval_ms = 200; /* at the recording's own pace, too */
	replay(tr, &quick, 0, NULL, &rp);
	ok(rp.to_kernel + rp.to_movable == 0, "%s: zero moves at a 200 ms interval with release_delay=0 (got %u)", tr->name,
	   rp.to_kernel + rp.to_movable);
}

/* Each input alone flips the outcome of the noisy trace (zero moves) to grow-kernel; the same
 * edit on the quiet side of its threshold keeps zero moves. */
static void test_single_inputs(const struct trace *tr, const struct mz_config *c)
{
	uint64_t free_b, floor_b, margin;
	struct replay hi, lo;
	size_t mid = tr->n / 3;
	uint64_t from = tr->r[mid].t - tr->r[0].t, to = from + 15000;

	rec_levels(tr, mid, c, &free_b, &floor_b);
	margin = free_b > floor_b ? free_b - floor_b : 0;
	diag("%s: at %.1f s kernel free %.0f MiB, floor %.0f MiB", tr->name, (double)from / 1000.0,
	     (double)free_b / MIB, (double)floor_b / MIB);

	/* free vs watermark + headroom */
	{
		struct edit below = { edit_kernel_free, from, to, (double)(floor_b - 8 * MIB) };
		struct edit above = { edit_kernel_free, from, to, (double)(floor_b + 8 * MIB) };

		replay(tr, c, 0, &below, &hi);
		replay(tr, c, 0, &above, &lo);
		if (lo.to_kernel + lo.to_movable)
			diag("8 MiB over the floor: %u grow-kernel (first at %.1f s: %s), %u grow-movable", lo.to_kernel,
			     (double)lo.first_kernel_ms / 1000.0, lo.first_kernel_why, lo.to_movable);
		ok(hi.to_kernel > 0 && hi.first_kernel_reason == MZ_PR_FREE_LOW && lo.to_kernel + lo.to_movable == 0,
		   "free alone: kernel free 8 MiB under the floor -> grow-kernel (%s); 8 MiB over it -> no move",
		   mz_pressure_reason_name(hi.first_kernel_reason));
	}
	/* unmovable trend (page tables grow, free untouched) */
	{
		double fast = (double)margin * 2 / ((double)c->rebalance.trend_window_ms / 1000.0);
		double slow = (double)margin / 4 / ((double)c->rebalance.trend_window_ms / 1000.0);
		struct edit f = { edit_unmovable_ramp, from, to, fast };
		struct edit s = { edit_unmovable_ramp, from, to, slow };

		replay(tr, c, 0, &f, &hi);
		replay(tr, c, 0, &s, &lo);
		ok(hi.to_kernel > 0 && hi.first_kernel_reason == MZ_PR_TREND && lo.to_kernel + lo.to_movable == 0,
		   "trend alone: page tables +%.0f MiB/s -> grow-kernel (%s); +%.0f MiB/s -> no move", fast / MIB,
		   mz_pressure_reason_name(hi.first_kernel_reason), slow / MIB);
	}
	/* stalls */
	{
		struct edit f = { edit_stalls, from, to, (double)c->rebalance.stall_rate * 1.5 };
		struct edit s = { edit_stalls, from, to, (double)c->rebalance.stall_rate * 0.5 };

		replay(tr, c, 0, &f, &hi);
		replay(tr, c, 0, &s, &lo);
		ok(hi.to_kernel > 0 && hi.first_kernel_reason == MZ_PR_STALLS && lo.to_kernel + lo.to_movable == 0,
		   "stalls alone: %.0f kernel stalls/s -> grow-kernel (%s); %.0f/s -> no move",
		   (double)c->rebalance.stall_rate * 1.5, mz_pressure_reason_name(hi.first_kernel_reason),
		   (double)c->rebalance.stall_rate * 0.5);
	}
	/* PSI */
	{
		struct edit f = { edit_psi, from, to, c->rebalance.psi_some_avg10 * 2 };
		struct edit s = { edit_psi, from, to, c->rebalance.psi_some_avg10 / 2 };

		replay(tr, c, 0, &f, &hi);
		replay(tr, c, 0, &s, &lo);
		ok(hi.to_kernel > 0 && hi.first_kernel_reason == MZ_PR_PSI && lo.to_kernel + lo.to_movable == 0,
		   "PSI alone: some avg10 %.1f%% -> grow-kernel (%s); %.1f%% -> no move", c->rebalance.psi_some_avg10 * 2,
		   mz_pressure_reason_name(hi.first_kernel_reason), c->rebalance.psi_some_avg10 / 2);
	}
	/* reaction: from the onset of pressure (free under the floor) to the decision: within two intervals */
	{
		struct edit below = { edit_kernel_free, from, to, (double)(floor_b - 8 * MIB) };

		replay(tr, c, 0, &below, &hi);
		ok(hi.first_kernel_ms >= 0 && hi.first_kernel_ms - (int64_t)from <= 2 * (int64_t)c->rebalance.interval_ms,
		   "reaction: grow-kernel %.1f s after kernel free fell under the floor (<= two intervals)",
		   (double)(hi.first_kernel_ms - (int64_t)from) / 1000.0);
	}
}

/* Every real-world capture with a zoneinfo (2.6.16-6.18, 1-4 nodes) makes a sample; the model decides
 * for each of its nodes, twice (the second time with history), and charges PSI to one node only. */
static void test_real_world(const struct mz_config *c)
{
	const char *top = getenv("top_srcdir");
	char dir[MZ_PATH_MAX];
	unsigned captures = 0, multi = 0, bad = 0, psi_nodes_bad = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/real-world", top ? top : ".");
	d = opendir(dir);
	if (!d) {
		ok(false, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		char path[2 * MZ_PATH_MAX], err[256], *text;
		struct mz_zoneinfo zi = { 0 };
		struct mz_pressure *m;
		struct mz_pressure_result res = { 0 };

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/zoneinfo", dir, de->d_name);
		if (mz_read_file(path, &text, NULL) < 0)
			continue;
		if (mz_zoneinfo_parse(text, &zi, err, sizeof(err)) < 0) { /* partial excerpts */
			free(text);
			mz_zoneinfo_free(&zi);
			continue;
		}
		free(text);
		captures++;
		m = mz_pressure_new();
		for (int round = 0; round < 2; round++) {
			struct mz_pressure_sample s;
			struct mz_psi psi = { .available = true, .some_avg10 = round ? 50.0 : 0.0 };
			unsigned psi_nodes = 0;

			mz_pressure_sample_init(&s, 1000u + 60000u * (unsigned)round, 128ull << 20);
			mz_pressure_sample_add_zoneinfo(&s, &zi, 4096);
			for (size_t i = 0; i < s.nnodes; i++) {
				struct mz_kvtab t = { 0 };

				snprintf(path, sizeof(path), "%s/%s/node%d-meminfo", dir, de->d_name, s.nodes[i].node);
				if (mz_read_file(path, &text, NULL) == 0) {
					if (mz_meminfo_parse(text, &t, err, sizeof(err)) == 0)
						mz_pressure_sample_add_meminfo(&s, s.nodes[i].node, &t);
					free(text);
				}
				mz_kvtab_free(&t);
			}
			mz_pressure_sample_add_psi(&s, &psi);
			mz_pressure_decide(m, c, &s, &res);
			if (res.n != s.nnodes)
				bad++;
			for (size_t i = 0; i < res.n; i++) {
				if (strcmp(mz_pressure_reason_name(res.v[i].reason), "unknown") == 0 || !res.v[i].why[0])
					bad++;
				psi_nodes += res.v[i].reason == MZ_PR_PSI;
			}
			if (psi_nodes > 1)
				psi_nodes_bad++;
			if (round == 0 && s.nnodes > 1)
				multi++;
			mz_pressure_sample_free(&s);
		}
		mz_pressure_result_free(&res);
		mz_pressure_free(m);
		mz_zoneinfo_free(&zi);
	}
	closedir(d);
	ok(captures >= 20 && bad == 0, "%u real-world captures (%u with several nodes): a verdict with a reason for every node",
	   captures, multi);
	ok(multi >= 2 && psi_nodes_bad == 0, "system-wide PSI pressure is charged to one node at most");
}

/* One node of a give-back case: the zones the pressure model and the policy both see. */
struct gb_node {
	uint64_t kernel, movable_managed, movable_present;
};

/* The model's verdict on growing Movable on node 0 from these zones (kernel free far above the
 * release level, a flat unmovable trend, release_delay 0): the blocker, or MZ_PR_NONE when it would
 * give a block back; MZ_PR__COUNT when it never got as far as wanting to. */
static enum mz_pressure_reason gb_model(const struct mz_config *c, const struct gb_node *g, size_t nn, uint64_t B)
{
	enum mz_pressure_reason out = MZ_PR__COUNT;
	struct mz_pressure *m = mz_pressure_new();
	struct mz_pressure_result res = { 0 };

	for (unsigned tick = 0; tick < 60 && out == MZ_PR__COUNT; tick++) {
		struct mz_pressure_sample s;

		mz_pressure_sample_init(&s, 1000ull * tick, B);
		s.nodes = calloc(nn, sizeof(*s.nodes));
		s.nnodes = nn;
		for (size_t i = 0; i < nn; i++) {
			struct mz_pressure_node *n = &s.nodes[i];

			n->node = (int)i;
			n->kernel_managed = g[i].kernel;
			n->kernel_free = g[i].kernel / 2;
			n->kernel_min = 16ull << 20;
			n->kernel_low = 20ull << 20;
			n->kernel_high = 24ull << 20;
			n->movable_managed = g[i].movable_managed;
			n->movable_present = g[i].movable_present;
			n->movable_free = g[i].movable_managed / 2;
			n->movable_high = 24ull << 20;
			n->unmovable = 100ull << 20;
			n->has_unmovable = true;
		}
		mz_pressure_decide(m, c, &s, &res);
		for (size_t i = 0; i < res.n; i++)
			if (res.v[i].node == 0 && res.v[i].want == MZ_VERDICT_GROW_MOVABLE)
				out = res.v[i].blocked;
		mz_pressure_sample_free(&s);
	}
	mz_pressure_result_free(&res);
	mz_pressure_free(m);
	return out;
}

/* What memzoned's check under the lock says about the same move on the same zones. */
static bool gb_policy(const struct mz_config *c, const struct gb_node *g, size_t nn, uint64_t B)
{
	struct mz_node_snap nodes[4];
	struct mz_snapshot s;
	char why[256] = "";
	bool fits;

	memset(&s, 0, sizeof(s));
	memset(nodes, 0, sizeof(nodes));
	s.page_size = 4096;
	s.block_size = B;
	s.nodes = nodes;
	s.nnodes = nn;
	s.total.id = -1;
	s.rebalancer_running = true;
	for (size_t i = 0; i < nn; i++) {
		nodes[i].id = (int)i;
		nodes[i].has_cpu = true;
		nodes[i].kernel_managed = nodes[i].kernel_present = nodes[i].kernel_boot = g[i].kernel;
		nodes[i].kernel_free = g[i].kernel / 2;
		nodes[i].movable_managed = g[i].movable_managed;
		nodes[i].movable_present = g[i].movable_present;
		s.total.kernel_managed += g[i].kernel;
		s.total.kernel_present += g[i].kernel;
		s.total.kernel_boot += g[i].kernel;
		s.total.kernel_free += g[i].kernel / 2;
		s.total.movable_managed += g[i].movable_managed;
		s.total.movable_present += g[i].movable_present;
	}
	fits = mz_policy_giveback_fits(c, &s, 0, B, why, sizeof(why));
	return fits;
}

/* The model's give-back verdict and the check under the lock use the same cap arithmetic: Movable
 * counted as max(present, managed) (memmap_on_memory makes managed smaller), per node and system. */
static void test_giveback_matches_policy(const struct mz_config *defaults)
{
	const uint64_t M = 1ull << 20, B = 128 * M;
	struct mz_config c = *defaults;
	/* ratio 800, kernel 2 GiB: movable + B may reach 800% of (2048 - 128) MiB = 15360 MiB on a node;
	 * two such nodes: 800% of (4096 - 128) MiB = 31744 MiB system-wide */
	static const struct {
		const char *what;
		enum mz_ratio_scope scope;
		size_t nn;
		struct gb_node n[2];
		bool fits;
	} cases[] = {
		{ "managed fits, present (vmemmap) does not", MZ_SCOPE_BOTH, 1,
		  { { 2048 * M, 15168 * M, 15408 * M } }, false },
		{ "present exactly at the cap", MZ_SCOPE_BOTH, 1,
		  { { 2048 * M, 15000 * M, 15232 * M } }, true },
		{ "present one page over the cap", MZ_SCOPE_BOTH, 1,
		  { { 2048 * M, 15000 * M, 15232 * M + 4096 } }, false },
		{ "present above managed, well within", MZ_SCOPE_BOTH, 1,
		  { { 2048 * M, 8192 * M, 8320 * M } }, true },
		{ "no Movable present yet (managed only)", MZ_SCOPE_BOTH, 1,
		  { { 2048 * M, 15232 * M, 0 } }, true },
		{ "system scope: the nodes' present sum crosses the cap", MZ_SCOPE_SYSTEM, 2,
		  { { 2048 * M, 15000 * M, 15500 * M }, { 2048 * M, 15000 * M, 16500 * M } }, false },
		{ "node scope: node 0 present within, node 1 over", MZ_SCOPE_NODE, 2,
		  { { 2048 * M, 15000 * M, 15100 * M }, { 2048 * M, 15000 * M, 16000 * M } }, true },
		{ "both scopes: node 0 present over its own cap", MZ_SCOPE_BOTH, 2,
		  { { 2048 * M, 15100 * M, 15300 * M }, { 4096 * M, 1024 * M, 1024 * M } }, false },
	};

	c.rebalance.release_delay_ms = 0;
	c.ratio = 800; /* the cap of the cases above (it is `ratio` with or without memzoned) */
	c.ratio_basis = MZ_BASIS_CURRENT;
	c.min_kernel = 0;
	c.min_kernel_percent = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum mz_pressure_reason blocked;
		bool policy;

		c.ratio_scope = cases[i].scope;
		blocked = gb_model(&c, cases[i].n, cases[i].nn, B);
		policy = gb_policy(&c, cases[i].n, cases[i].nn, B);
		ok(blocked != MZ_PR__COUNT && (blocked == MZ_PR_NONE) == policy && policy == cases[i].fits &&
			   (cases[i].fits || blocked == MZ_PR_RATIO_CAP),
		   "give-back, %s: model %s, check under the lock %s", cases[i].what,
		   blocked == MZ_PR__COUNT ? "never wants it" : blocked == MZ_PR_NONE ? "gives back"
											: mz_pressure_reason_name(blocked),
		   policy ? "fits" : "refuses");
	}
}

int main(void)
{
	struct mz_config c;
	struct trace r64, r16, noisy;

	mz_config_defaults(&c);
	if (trace_load("ramp-64", &r64) < 0 || trace_load("ramp-16", &r16) < 0 || trace_load("noisy", &noisy) < 0) {
		ok(false, "traces load");
		return tap_done();
	}
	test_parse_all(&r64);
	test_parse_all(&r16);
	test_parse_all(&noisy);
	test_ramp(&r64, &c);
	test_ramp(&r16, &c);
	test_release(&r64, &c);
	test_noisy(&noisy, &c);
	test_single_inputs(&noisy, &c);
	test_real_world(&c);
	test_giveback_matches_policy(&c);
	trace_free(&r64);
	trace_free(&r16);
	trace_free(&noisy);
	return tap_done();
}
