/* status_render.c - `memzone status`'s printers: text, --blocks, --json, --prometheus
 *
 * They print one collected struct mz_status (status.c) and never touch a file.
 *
 * JSON (`--json`), version 1. Keys are stable; new keys may be added, none renamed or removed.
 * Sizes are always bytes. null means "unknown / not applicable".
 *   version                  1
 *   page_size                bytes; page_size_from: "system" (sysconf), "meminfo" (a --root tree:
 *                            MemTotal = managed pages x page size) or "assumed" (4096: no match)
 *   block_size               memory block size, null without memory hotplug (no sysfs memory dir)
 *   iomem                    "ok" | "zeroed" (read without CAP_SYS_ADMIN) | "missing"
 *   nodes[]                  one object per NUMA node, ascending:
 *     node, has_cpu
 *     kernel_managed, kernel_present, kernel_boot     kernel = every zone but Movable and Device;
 *                                                     kernel_boot = present minus hot-added kernel blocks
 *     movable_managed, movable_present
 *     kernel_free, kernel_min, kernel_low, kernel_high, movable_free
 *     movable_kernel_ratio_percent  floor(movable_managed * 100 / kernel_managed); null when kernel is 0
 *     blocks {online_kernel, online_movable, online_unknown, offline, other}
 *                              online_unknown: online without valid_zones (kernel < 3.18);
 *                              other: going-offline
 *     hot_removable            bytes of hot-added devices whose every block is offline or Movable
 *   total                    the same keys for the whole system (no node, has_cpu)
 *   devices[]                hot-added devices: source ("dimm"|"virtio_mem"|"kmem"|"other"), device
 *                            (name or null), start, end, node, blocks, offline, kernel, movable,
 *                            unknown, hot_removable (bytes)
 *   policy                   memzone's cap (null when not loaded): ratio_cap_percent, ratio_cap_key
 *                            ("ratio": the cap in force with and without memzoned), ratio_scope
 *                            ("node" | "system" | "both"), ratio_basis ("current" | "boot")
 *   hotplug                  auto_online_blocks (null: unknown), online_policy, auto_movable_ratio,
 *                            memmap_on_memory (null when not visible), memzone_rule (path or null),
 *                            memzone_rule_masked, distro_rules[] (paths of rules that online memory),
 *                            new_memory_by: who decides a new block now, "memzoned" (a memzoned
 *                            holds the flock on run/memzone/memzoned.decides: the helper exits at
 *                            once) | "udev_helper" (the rule is in effect and no memzoned decides)
 *                            | "nobody" (neither); memzoned_online_link: run/memzone/memzoned.online,
 *                            the rule's shortcut, "ok" (resolves: the rule starts no helper) |
 *                            "dangling" (left by a memzoned that is gone) | "absent";
 *                            memzoned_online_pid: N of its "/proc/N/..." target, or null
 *   rebalancer               running (a memzoned holds the flock on run/memzone/memzoned.lock),
 *                            pid (written in that file; null), state (null without /run/memzone/state, else:
 *                            pid, updated, observe_only, moves_to_kernel, moves_to_movable, failures,
 *                            rollbacks, nodes[] {node, verdict, reason}, backoff[] {block, until},
 *                            pinned[] {block, since, slab, page_table, reserved, other_unmovable,
 *                            refused}: kernel-zone blocks memzoned wants back in Movable that the
 *                            kernel cannot take (page counts from kpageflags; refused: the kernel's
 *                            error for their offline, null when none was tried),
 *                            moves[] {when, block, direction, result, duration_ms, error})
 *   warnings[]               {code, message}; codes: kernel-auto-online, no-memzone-rule,
 *                            memzone-rule-masked, distro-rule, iomem-zeroed, iomem-missing,
 *                            daemon-not-running, ratio-above-cap, config-error
 *   blocks[]                 (--blocks only) ranges of equal attributes (one per block with --split):
 *                            start, end, size, first_block, last_block, state, zones[] (null when
 *                            unknown), node (null), source, device (null); left_offline (only
 *                            on a range offlined during this boot by someone else: why memzone
 *                            leaves it offline); pinned (only on a block rebalancer.state.pinned
 *                            lists: the same object)
 */
#include "status.h"
#include "status_render.h"
#include "units.h"
#include "util.h"
#include "json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *new_memory_by_name(enum mz_new_memory_by b)
{
	return b == MZ_NEW_MEMORY_MEMZONED ? "memzoned" : b == MZ_NEW_MEMORY_UDEV_HELPER ? "udev_helper" : "nobody";
}

static int64_t ratio_percent(const struct mz_node_snap *n)
{
	return mz_status_ratio_of(n->movable_managed, n->kernel_managed);
}

static const char *scope_name(enum mz_ratio_scope s)
{
	return s == MZ_SCOPE_NODE ? "node" : s == MZ_SCOPE_SYSTEM ? "system" : "both";
}

/* ---------------------------------------------------------------- formatting helpers */

#define CELL 64
#define MAX_COLS 12

typedef void (*row_fn)(const void *ctx, size_t row, char cells[][CELL]);

/* Columns two blanks apart, widths from the widest cell; align: 'l' or 'r' per column; every line
 * starts with indent. */
static void print_table(FILE *f, const char *indent, size_t ncols, const char *const *hdr, const char *align,
			size_t nrows, row_fn fn, const void *ctx)
{
	char cells[MAX_COLS][CELL];
	size_t w[MAX_COLS] = { 0 };

	for (size_t c = 0; c < ncols; c++)
		w[c] = strlen(hdr[c]);
	for (size_t r = 0; r < nrows; r++) {
		fn(ctx, r, cells);
		for (size_t c = 0; c < ncols; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (size_t r = 0; r <= nrows; r++) {
		if (r > 0)
			fn(ctx, r - 1, cells);
		fputs(indent, f);
		for (size_t c = 0; c < ncols; c++) {
			const char *s = r == 0 ? hdr[c] : cells[c];
			bool last = c + 1 == ncols;

			if (align[c] == 'r')
				fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

static const char *size_str(const struct mz_status_opts *o, uint64_t bytes, char *buf, size_t len)
{
	if (o->bytes) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return buf;
	}
	return mz_format_size(bytes, buf, len);
}

static void zones_text(const struct mz_status_block *b, const char *sep, char *buf, size_t len)
{
	size_t off;

	if (!b->zones_known) {
		snprintf(buf, len, "-");
		return;
	}
	if (b->zones == 0) {
		snprintf(buf, len, "none");
		return;
	}
	off = (size_t)snprintf(buf, len, "%s", mz_zone_name((enum mz_zone)b->zone));
	for (int z = 1; z < MZ_ZONE__COUNT && off < len; z++)
		if ((b->zones & MZ_ZONE_BIT(z)) && z != b->zone)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", sep, mz_zone_name((enum mz_zone)z));
}

static const char *page_size_from_name(enum mz_page_size_from f)
{
	return f == MZ_PAGE_SIZE_SYSCONF ? "system" : f == MZ_PAGE_SIZE_MEMTOTAL ? "meminfo" : "assumed";
}

static const char *iomem_name(enum mz_iomem_state s)
{
	return s == MZ_IOMEM_OK ? "ok" : s == MZ_IOMEM_ZEROED ? "zeroed" : "missing";
}

static void when_text(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/* ---------------------------------------------------------------- text */

struct text_ctx {
	const struct mz_status *st;
	const struct mz_status_opts *o;
};

static const struct mz_node_snap *row_node(const struct mz_status *st, size_t row)
{
	return row < st->snap.nnodes ? &st->snap.nodes[row] : &st->snap.total;
}

static void zones_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_node_snap *n = row_node(t->st, row);
	int64_t ratio = ratio_percent(n);

	if (n->id < 0)
		snprintf(c[0], CELL, "total");
	else
		snprintf(c[0], CELL, "%d", n->id);
	snprintf(c[1], CELL, "%s", n->id < 0 ? "" : n->has_cpu ? "yes" : "no");
	size_str(t->o, n->kernel_managed, c[2], CELL);
	size_str(t->o, n->movable_managed, c[3], CELL);
	if (ratio >= 0)
		snprintf(c[4], CELL, "%" PRId64 "%%", ratio);
	else
		snprintf(c[4], CELL, "%s", n->movable_managed ? "inf" : "-");
	size_str(t->o, n->kernel_free, c[5], CELL);
	size_str(t->o, n->kernel_min, c[6], CELL);
	size_str(t->o, n->kernel_low, c[7], CELL);
	size_str(t->o, n->kernel_high, c[8], CELL);
	size_str(t->o, n->movable_free, c[9], CELL);
}

static void blocks_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_status_counts *k = row < t->st->snap.nnodes ? &t->st->counts[row] : &t->st->total;

	if (row < t->st->snap.nnodes)
		snprintf(c[0], CELL, "%d", t->st->snap.nodes[row].id);
	else
		snprintf(c[0], CELL, "total");
	snprintf(c[1], CELL, "%u", k->online_kernel);
	snprintf(c[2], CELL, "%u", k->online_movable);
	snprintf(c[3], CELL, "%u", k->online_unknown);
	snprintf(c[4], CELL, "%u", k->offline);
	snprintf(c[5], CELL, "%u", k->other);
	size_str(t->o, k->hot_removable, c[6], CELL);
}

static void device_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_status_device *d = &t->st->devices[row];

	snprintf(c[0], CELL, "%s", mz_source_name(d->source));
	snprintf(c[1], CELL, "%s", d->name[0] ? d->name : "-");
	if (d->node >= 0)
		snprintf(c[2], CELL, "%d", d->node);
	else
		snprintf(c[2], CELL, "-");
	snprintf(c[3], CELL, "0x%016" PRIx64 "-0x%016" PRIx64, d->start, d->end);
	snprintf(c[4], CELL, "%u", d->n_blocks);
	snprintf(c[5], CELL, "%u", d->n_kernel);
	snprintf(c[6], CELL, "%u", d->n_movable);
	snprintf(c[7], CELL, "%u", d->n_offline);
	size_str(t->o, d->hot_removable, c[8], CELL);
}

static void move_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_ds_move *m = &t->st->daemon->moves[t->st->daemon->nmoves - 1 - row]; /* newest first */

	when_text(m->when, c[0], CELL);
	snprintf(c[1], CELL, "memory%lu", m->block);
	snprintf(c[2], CELL, "%s", mz_move_dir_name(m->dir));
	snprintf(c[3], CELL, "%s", mz_move_result_name(m->result));
	mz_format_duration(m->duration_ms, c[4], CELL);
	snprintf(c[5], CELL, "%s", m->error[0] ? m->error : "-");
}

/* Blocks memzoned wants back in Movable that the kernel cannot take, and why. */
static void print_pinned(const struct mz_daemon_state *ds, const char *indent, FILE *f)
{
	char when[64], causes[200];

	for (size_t i = 0; i < ds->npinned; i++) {
		when_text(ds->pinned[i].since, when, sizeof(when));
		fprintf(f, "%spinned: memory%lu since %s: %s\n", indent, ds->pinned[i].block, when,
			mz_ds_pinned_causes(&ds->pinned[i], causes, sizeof(causes)));
	}
}

static void print_daemon(const struct mz_status *st, FILE *f)
{
	const struct mz_daemon_state *ds = st->daemon;
	char when[64];

	fprintf(f, "\nRebalancer (memzoned):\n");
	if (st->daemon_alive)
		fprintf(f, "  running, pid %ld\n", (long)st->daemon_pid);
	else
		fprintf(f, "  not running\n");
	if (!ds) {
		fprintf(f, "  no state written (%s)\n", MZ_DS_STATE_PATH);
		return;
	}
	when_text(ds->updated, when, sizeof(when));
	fprintf(f, "  state of pid %ld, updated %s%s\n", (long)ds->pid, when,
		ds->observe_only ? " (observe only: nothing is moved)" : "");
	for (size_t i = 0; i < ds->nnodes; i++)
		fprintf(f, "  node %d: %s%s%s\n", ds->nodes[i].node, mz_verdict_name(ds->nodes[i].verdict),
			ds->nodes[i].reason[0] ? " - " : "", ds->nodes[i].reason);
	fprintf(f, "  moves: %" PRIu64 " to kernel, %" PRIu64 " to movable; %" PRIu64 " failed, %" PRIu64
		   " rolled back\n", ds->moves_to_kernel, ds->moves_to_movable, ds->failures, ds->rollbacks);
	for (size_t i = 0; i < ds->nbackoffs; i++) {
		when_text(ds->backoffs[i].until, when, sizeof(when));
		fprintf(f, "  backoff: memory%lu until %s\n", ds->backoffs[i].block, when);
	}
	print_pinned(ds, "  ", f);
	if (ds->nmoves) {
		static const char *const hdr[] = { "WHEN", "BLOCK", "DIRECTION", "RESULT", "TOOK", "ERROR" };
		struct text_ctx t = { st, NULL };

		fprintf(f, "  last moves (newest first):\n");
		print_table(f, "    ", 6, hdr, "lllrrl", ds->nmoves, move_row, &t);
	}
}

static void print_new_memory_by(const struct mz_status *st, FILE *f)
{
	fprintf(f, "  new memory decided by: ");
	switch (st->new_memory_by) {
	case MZ_NEW_MEMORY_MEMZONED:
		fprintf(f, "memzoned (pid %ld; the udev helper exits at once)\n", (long)st->daemon_pid);
		return;
	case MZ_NEW_MEMORY_UDEV_HELPER:
		fprintf(f, "udev helper (memzone online, one process per block)");
		if (st->daemon_alive)
			fprintf(f, "; memzoned runs but does not decide new memory now: a move in progress, or it "
				   "cannot hear the kernel's uevents");
		fputc('\n', f);
		return;
	case MZ_NEW_MEMORY_NOBODY:
		fprintf(f, "nobody in memzone (the memzone udev rule is %s and no memzoned decides new memory)\n",
			st->memzone_rule[0] ? "masked" : "not installed");
		return;
	}
}

void mz_status_print_text(const struct mz_status *st, const struct mz_status_opts *o, FILE *f)
{
	static const char *const zhdr[] = { "NODE", "CPUS", "KERNEL", "MOVABLE", "MOVABLE:KERNEL",
					    "KERNEL-FREE", "MIN", "LOW", "HIGH", "MOVABLE-FREE" };
	static const char *const bhdr[] = { "NODE", "ONLINE-KERNEL", "ONLINE-MOVABLE", "ONLINE-UNKNOWN",
					    "OFFLINE", "OTHER", "HOT-REMOVABLE" };
	static const char *const dhdr[] = { "SOURCE", "DEVICE", "NODE", "RANGE", "BLOCKS", "KERNEL",
					    "MOVABLE", "OFFLINE", "HOT-REMOVABLE" };
	struct text_ctx t = { st, o };
	const struct mz_snapshot *s = &st->snap;
	char a[32], b[32];

	fprintf(f, "Page size %s%s; ", size_str(o, s->page_size, a, sizeof(a)),
		s->page_size_from == MZ_PAGE_SIZE_MEMTOTAL ? " (inferred from MemTotal)"
		: s->page_size_from == MZ_PAGE_SIZE_ASSUMED ? " (assumed: no MemTotal that matches zoneinfo)" : "");
	if (st->have_blocks)
		fprintf(f, "memory blocks of %s; ", size_str(o, s->block_size, b, sizeof(b)));
	else
		fprintf(f, "no /sys/devices/system/memory (no memory hotplug); ");
	fprintf(f, "iomem %s\n\n", iomem_name(st->iomem));

	fprintf(f, "Zones (managed memory; kernel = every zone but Movable and Device; free vs kernel watermarks):\n");
	print_table(f, "", 10, zhdr, "llrrrrrrrr", s->nnodes + 1, zones_row, &t);
	if (st->policy_known)
		fprintf(f, "memzone's cap: MOVABLE:KERNEL at most %u%% (ratio; %s; against %s kernel memory)\n",
			st->ratio_cap,
			st->ratio_scope == MZ_SCOPE_NODE ? "per node" : st->ratio_scope == MZ_SCOPE_SYSTEM ? "system-wide"
			: "per node and system-wide",
			st->ratio_basis == MZ_BASIS_BOOT ? "boot-time" : "current");

	if (st->have_blocks) {
		fprintf(f, "\nBlocks (hot-removable = hot-added devices whose every block is offline or Movable):\n");
		print_table(f, "", 7, bhdr, "lrrrrrr", s->nnodes + 1, blocks_row, &t);
		if (st->ndevices) {
			fprintf(f, "\nHot-added devices:\n");
			print_table(f, "", 9, dhdr, "lllrrrrrr", st->ndevices, device_row, &t);
		} else {
			fprintf(f, "\nHot-added devices: none\n");
		}
	}

	fprintf(f, "\nWho onlines hot-added memory:\n");
	fprintf(f, "  kernel auto_online_blocks: %s\n", s->auto_online[0] ? s->auto_online : "unknown (not visible)");
	if (st->policy_known)
		fprintf(f, "  onlining mode: %s\n", st->mode_why);
	if (s->hotplug.online_policy[0] || s->hotplug.auto_movable_ratio >= 0) {
		fprintf(f, "  kernel memory_hotplug: online_policy=%s", s->hotplug.online_policy[0] ? s->hotplug.online_policy : "?");
		if (s->hotplug.auto_movable_ratio >= 0)
			fprintf(f, " auto_movable_ratio=%d%%", s->hotplug.auto_movable_ratio);
		if (s->hotplug.memmap_on_memory[0])
			fprintf(f, " memmap_on_memory=%s", s->hotplug.memmap_on_memory);
		fputc('\n', f);
	} else {
		fprintf(f, "  kernel memory_hotplug: parameters not visible\n");
	}
	if (st->memzone_rule[0])
		fprintf(f, "  memzone udev rule: %s%s\n", st->memzone_rule, st->memzone_rule_masked ? " (masked)" : "");
	else
		fprintf(f, "  memzone udev rule: not installed\n");
	for (size_t i = 0; i < st->ndistro_rules; i++)
		fprintf(f, "  distribution rule: %s\n", st->distro_rules[i]);
	print_new_memory_by(st, f);

	if (st->daemon || st->daemon_alive)
		print_daemon(st, f);
	else
		fprintf(f, "  memzoned: not running\n");

	if (st->nwarnings) {
		fputc('\n', f);
		for (size_t i = 0; i < st->nwarnings; i++)
			fprintf(f, "warning: %s\n", st->warnings[i].message);
	}
}

/* ---------------------------------------------------------------- --blocks */

/* Same attributes, next id: one row unless split. */
static bool same_range(const struct mz_status_block *a, const struct mz_status_block *b)
{
	return b->id == a->id + 1 && a->state == b->state && a->zones_known == b->zones_known &&
	       a->zones == b->zones && a->zone == b->zone && a->node == b->node && a->source == b->source &&
	       a->dev == b->dev && a->offlined_this_boot == b->offlined_this_boot;
}

#define OFFLINED_THIS_BOOT "offlined during this boot; memzone leaves it"
#define LEFT_TO_DAXCTL "left to daxctl"

/* offline kmem whose dax device a daxctl config names (the device's daxctl says which) */
static bool left_to_daxctl(const struct mz_status *st, const struct mz_status_block *b)
{
	return b->state == MZ_BLOCK_OFFLINE && b->dev != MZ_STATUS_NO_DEV && st->devices[b->dev].daxctl[0];
}

static const struct mz_ds_pinned *block_pinned(const struct mz_status *st, const struct mz_status_block *b)
{
	return st->daemon ? mz_daemon_state_pinned(st->daemon, b->id) : NULL;
}

/* Rows of --blocks as [first, last] indices into st->blocks (gone blocks skipped; a pinned block is a
 * row of its own). */
static size_t block_rows(const struct mz_status *st, bool split, size_t **rows_out)
{
	size_t *rows = mz_xmalloc((2 * st->nblocks + 2) * sizeof(*rows)), n = 0;
	size_t i = 0;

	while (i < st->nblocks) {
		size_t j = i;

		if (st->blocks[i].gone) {
			i++;
			continue;
		}
		while (!split && j + 1 < st->nblocks && !st->blocks[j + 1].gone && same_range(&st->blocks[j], &st->blocks[j + 1]) &&
		       !block_pinned(st, &st->blocks[j]) && !block_pinned(st, &st->blocks[j + 1]))
			j++;
		rows[2 * n] = i;
		rows[2 * n + 1] = j;
		n++;
		i = j + 1;
	}
	*rows_out = rows;
	return n;
}

struct blocks_ctx {
	const struct mz_status *st;
	const struct mz_status_opts *o;
	const size_t *rows;
};

static void range_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct blocks_ctx *t = ctx;
	const struct mz_status_block *a = &t->st->blocks[t->rows[2 * row]], *z = &t->st->blocks[t->rows[2 * row + 1]];
	uint64_t bs = t->st->snap.block_size;

	snprintf(c[0], CELL, "0x%016" PRIx64 "-0x%016" PRIx64, (uint64_t)a->id * bs, (uint64_t)z->id * bs + bs - 1);
	size_str(t->o, (uint64_t)(z->id - a->id + 1) * bs, c[1], CELL);
	snprintf(c[2], CELL, "%s%s", mz_block_state_name((enum mz_block_state)a->state),
		 a->offlined_this_boot ? " (" OFFLINED_THIS_BOOT ")" : left_to_daxctl(t->st, a) ? " (" LEFT_TO_DAXCTL ")" :
		 block_pinned(t->st, a) ? " (pinned)" : "");
	if (a->id == z->id)
		snprintf(c[3], CELL, "%" PRIu32, a->id);
	else
		snprintf(c[3], CELL, "%" PRIu32 "-%" PRIu32, a->id, z->id);
	zones_text(a, "/", c[4], CELL);
	if (a->node >= 0)
		snprintf(c[5], CELL, "%d", a->node);
	else
		snprintf(c[5], CELL, "-");
	snprintf(c[6], CELL, "%s", mz_source_name((enum mz_source)a->source));
	snprintf(c[7], CELL, "%s", a->dev != MZ_STATUS_NO_DEV && t->st->devices[a->dev].name[0] ?
					   t->st->devices[a->dev].name : "-");
}

void mz_status_print_blocks(const struct mz_status *st, const struct mz_status_opts *o, FILE *f)
{
	static const char *const hdr[] = { "RANGE", "SIZE", "STATE", "BLOCK", "ZONES", "NODE", "SOURCE", "DEVICE" };
	uint64_t on = 0, off = 0, bs = st->snap.block_size;
	struct blocks_ctx t = { st, o, NULL };
	size_t *rows, n;
	char a[32];

	if (!st->have_blocks) {
		fprintf(f, "No memory blocks: %s/sys/devices/system/memory is missing (no memory hotplug)\n", mz_root());
		return;
	}
	n = block_rows(st, o->split, &rows);
	t.rows = rows;
	print_table(f, "", 8, hdr, "lrrrrrll", n, range_row, &t);
	free(rows);
	if (st->daemon && st->daemon->npinned) {
		fprintf(f, "\nPinned in a kernel zone (memzoned wants them back in Movable; the kernel cannot take them):\n");
		print_pinned(st->daemon, "  ", f);
	}
	for (size_t i = 0; i < st->nblocks; i++) {
		if (st->blocks[i].gone)
			continue;
		if (st->blocks[i].state == MZ_BLOCK_OFFLINE)
			off += bs;
		else
			on += bs;
	}
	fprintf(f, "\nMemory block size:    %s\n", size_str(o, bs, a, sizeof(a)));
	fprintf(f, "Total online memory:  %s\n", size_str(o, on, a, sizeof(a)));
	fprintf(f, "Total offline memory: %s\n", size_str(o, off, a, sizeof(a)));
}

/* ---------------------------------------------------------------- JSON */

static void json_node(struct mz_json *j, const char *key, const struct mz_node_snap *n,
		      const struct mz_status_counts *c)
{
	int64_t ratio = ratio_percent(n);

	mz_json_obj_begin(j, key);
	if (n->id >= 0) {
		mz_json_i64(j, "node", n->id);
		mz_json_bool(j, "has_cpu", n->has_cpu);
	}
	mz_json_u64(j, "kernel_managed", n->kernel_managed);
	mz_json_u64(j, "kernel_present", n->kernel_present);
	mz_json_u64(j, "kernel_boot", n->kernel_boot);
	mz_json_u64(j, "movable_managed", n->movable_managed);
	mz_json_u64(j, "movable_present", n->movable_present);
	mz_json_u64(j, "kernel_free", n->kernel_free);
	mz_json_u64(j, "kernel_min", n->kernel_min);
	mz_json_u64(j, "kernel_low", n->kernel_low);
	mz_json_u64(j, "kernel_high", n->kernel_high);
	mz_json_u64(j, "movable_free", n->movable_free);
	if (ratio >= 0)
		mz_json_i64(j, "movable_kernel_ratio_percent", ratio);
	else
		mz_json_null(j, "movable_kernel_ratio_percent");
	mz_json_obj_begin(j, "blocks");
	mz_json_u64(j, "online_kernel", c->online_kernel);
	mz_json_u64(j, "online_movable", c->online_movable);
	mz_json_u64(j, "online_unknown", c->online_unknown);
	mz_json_u64(j, "offline", c->offline);
	mz_json_u64(j, "other", c->other);
	mz_json_obj_end(j);
	mz_json_u64(j, "hot_removable", c->hot_removable);
	mz_json_obj_end(j);
}

static void json_str_or_null(struct mz_json *j, const char *key, const char *s)
{
	mz_json_str(j, key, s && s[0] ? s : NULL);
}

/* {block, since, slab, page_table, reserved, other_unmovable, refused}: a pinned block of the state file */
static void json_pinned(struct mz_json *j, const char *key, const struct mz_ds_pinned *p)
{
	mz_json_obj_begin(j, key);
	mz_json_u64(j, "block", p->block);
	mz_json_i64(j, "since", p->since);
	mz_json_u64(j, "slab", p->slab);
	mz_json_u64(j, "page_table", p->pgtable);
	mz_json_u64(j, "reserved", p->reserved);
	mz_json_u64(j, "other_unmovable", p->other);
	json_str_or_null(j, "refused", p->refused);
	mz_json_obj_end(j);
}

static void json_daemon(struct mz_json *j, const struct mz_status *st)
{
	const struct mz_daemon_state *ds = st->daemon;

	mz_json_obj_begin(j, "rebalancer");
	mz_json_bool(j, "running", st->daemon_alive);
	if (st->daemon_pid > 0)
		mz_json_i64(j, "pid", st->daemon_pid);
	else
		mz_json_null(j, "pid");
	if (!ds) {
		mz_json_null(j, "state");
		mz_json_obj_end(j);
		return;
	}
	mz_json_obj_begin(j, "state");
	mz_json_i64(j, "pid", ds->pid);
	mz_json_i64(j, "updated", ds->updated);
	mz_json_bool(j, "observe_only", ds->observe_only);
	mz_json_u64(j, "moves_to_kernel", ds->moves_to_kernel);
	mz_json_u64(j, "moves_to_movable", ds->moves_to_movable);
	mz_json_u64(j, "failures", ds->failures);
	mz_json_u64(j, "rollbacks", ds->rollbacks);
	mz_json_arr_begin(j, "nodes");
	for (size_t i = 0; i < ds->nnodes; i++) {
		mz_json_obj_begin(j, NULL);
		mz_json_i64(j, "node", ds->nodes[i].node);
		mz_json_str(j, "verdict", mz_verdict_name(ds->nodes[i].verdict));
		mz_json_str(j, "reason", ds->nodes[i].reason);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_arr_begin(j, "backoff");
	for (size_t i = 0; i < ds->nbackoffs; i++) {
		mz_json_obj_begin(j, NULL);
		mz_json_u64(j, "block", ds->backoffs[i].block);
		mz_json_i64(j, "until", ds->backoffs[i].until);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_arr_begin(j, "pinned");
	for (size_t i = 0; i < ds->npinned; i++)
		json_pinned(j, NULL, &ds->pinned[i]);
	mz_json_arr_end(j);
	mz_json_arr_begin(j, "moves");
	for (size_t i = 0; i < ds->nmoves; i++) {
		const struct mz_ds_move *m = &ds->moves[i];

		mz_json_obj_begin(j, NULL);
		mz_json_i64(j, "when", m->when);
		mz_json_u64(j, "block", m->block);
		mz_json_str(j, "direction", mz_move_dir_name(m->dir));
		mz_json_str(j, "result", mz_move_result_name(m->result));
		mz_json_u64(j, "duration_ms", m->duration_ms);
		json_str_or_null(j, "error", m->error);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_obj_end(j);
	mz_json_obj_end(j);
}

static void json_blocks(struct mz_json *j, const struct mz_status *st, const struct mz_status_opts *o)
{
	uint64_t bs = st->snap.block_size;
	size_t *rows, n = block_rows(st, o->split, &rows);

	mz_json_arr_begin(j, "blocks");
	for (size_t r = 0; r < n; r++) {
		const struct mz_status_block *a = &st->blocks[rows[2 * r]], *z = &st->blocks[rows[2 * r + 1]];

		mz_json_obj_begin(j, NULL);
		mz_json_u64(j, "start", (uint64_t)a->id * bs);
		mz_json_u64(j, "end", (uint64_t)z->id * bs + bs - 1);
		mz_json_u64(j, "size", (uint64_t)(z->id - a->id + 1) * bs);
		mz_json_u64(j, "first_block", a->id);
		mz_json_u64(j, "last_block", z->id);
		mz_json_str(j, "state", mz_block_state_name((enum mz_block_state)a->state));
		if (a->offlined_this_boot)
			mz_json_str(j, "left_offline", OFFLINED_THIS_BOOT);
		else if (left_to_daxctl(st, a))
			mz_json_str(j, "left_offline", LEFT_TO_DAXCTL);
		if (block_pinned(st, a))
			json_pinned(j, "pinned", block_pinned(st, a));
		if (a->zones_known) {
			mz_json_arr_begin(j, "zones");
			if (a->zones) {
				mz_json_str(j, NULL, mz_zone_name((enum mz_zone)a->zone));
				for (int zz = 1; zz < MZ_ZONE__COUNT; zz++)
					if ((a->zones & MZ_ZONE_BIT(zz)) && zz != a->zone)
						mz_json_str(j, NULL, mz_zone_name((enum mz_zone)zz));
			}
			mz_json_arr_end(j);
		} else {
			mz_json_null(j, "zones");
		}
		if (a->node >= 0)
			mz_json_i64(j, "node", a->node);
		else
			mz_json_null(j, "node");
		mz_json_str(j, "source", mz_source_name((enum mz_source)a->source));
		json_str_or_null(j, "device", a->dev != MZ_STATUS_NO_DEV ? st->devices[a->dev].name : NULL);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	free(rows);
}

void mz_status_print_json(const struct mz_status *st, const struct mz_status_opts *o, bool with_blocks, FILE *f)
{
	const struct mz_snapshot *s = &st->snap;
	struct mz_json j;

	mz_json_init(&j, f, true);
	mz_json_obj_begin(&j, NULL);
	mz_json_i64(&j, "version", 1);
	mz_json_u64(&j, "page_size", s->page_size);
	mz_json_str(&j, "page_size_from", page_size_from_name(s->page_size_from));
	if (st->have_blocks)
		mz_json_u64(&j, "block_size", s->block_size);
	else
		mz_json_null(&j, "block_size");
	mz_json_str(&j, "iomem", iomem_name(st->iomem));
	mz_json_arr_begin(&j, "nodes");
	for (size_t i = 0; i < s->nnodes; i++)
		json_node(&j, NULL, &s->nodes[i], &st->counts[i]);
	mz_json_arr_end(&j);
	json_node(&j, "total", &s->total, &st->total);
	mz_json_arr_begin(&j, "devices");
	for (size_t i = 0; i < st->ndevices; i++) {
		const struct mz_status_device *d = &st->devices[i];

		mz_json_obj_begin(&j, NULL);
		mz_json_str(&j, "source", mz_source_name(d->source));
		json_str_or_null(&j, "device", d->name);
		mz_json_u64(&j, "start", d->start);
		mz_json_u64(&j, "end", d->end);
		if (d->node >= 0)
			mz_json_i64(&j, "node", d->node);
		else
			mz_json_null(&j, "node");
		mz_json_u64(&j, "blocks", d->n_blocks);
		mz_json_u64(&j, "offline", d->n_offline);
		mz_json_u64(&j, "kernel", d->n_kernel);
		mz_json_u64(&j, "movable", d->n_movable);
		mz_json_u64(&j, "unknown", d->n_unknown);
		mz_json_u64(&j, "hot_removable", d->hot_removable);
		if (d->daxctl[0])
			mz_json_str(&j, "daxctl", d->daxctl);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	mz_json_obj_begin(&j, "hotplug");
	json_str_or_null(&j, "auto_online_blocks", s->auto_online);
	if (st->policy_known) {
		mz_json_str(&j, "mode", st->kernel_mode ? "kernel" : "userspace");
		mz_json_str(&j, "mode_why", strchr(st->mode_why, ':') ? strchr(st->mode_why, ':') + 2 : st->mode_why);
	}
	json_str_or_null(&j, "online_policy", s->hotplug.online_policy);
	if (s->hotplug.auto_movable_ratio >= 0)
		mz_json_i64(&j, "auto_movable_ratio", s->hotplug.auto_movable_ratio);
	else
		mz_json_null(&j, "auto_movable_ratio");
	json_str_or_null(&j, "memmap_on_memory", s->hotplug.memmap_on_memory);
	json_str_or_null(&j, "memzone_rule", st->memzone_rule);
	mz_json_bool(&j, "memzone_rule_masked", st->memzone_rule_masked);
	mz_json_arr_begin(&j, "distro_rules");
	for (size_t i = 0; i < st->ndistro_rules; i++)
		mz_json_str(&j, NULL, st->distro_rules[i]);
	mz_json_arr_end(&j);
	mz_json_str(&j, "new_memory_by", new_memory_by_name(st->new_memory_by));
	mz_json_str(&j, "memzoned_online_link", st->online_link == MZ_ONLINE_LINK_OK ? "ok" :
						st->online_link == MZ_ONLINE_LINK_DANGLING ? "dangling" : "absent");
	if (st->online_link_pid)
		mz_json_i64(&j, "memzoned_online_pid", st->online_link_pid);
	else
		mz_json_null(&j, "memzoned_online_pid");
	mz_json_obj_end(&j);
	if (st->policy_known) {
		mz_json_obj_begin(&j, "policy");
		mz_json_u64(&j, "ratio_cap_percent", st->ratio_cap);
		mz_json_str(&j, "ratio_cap_key", "ratio");
		mz_json_str(&j, "ratio_scope", scope_name(st->ratio_scope));
		mz_json_str(&j, "ratio_basis", st->ratio_basis == MZ_BASIS_BOOT ? "boot" : "current");
		mz_json_obj_end(&j);
	} else {
		mz_json_null(&j, "policy");
	}
	json_daemon(&j, st);
	mz_json_arr_begin(&j, "warnings");
	for (size_t i = 0; i < st->nwarnings; i++) {
		mz_json_obj_begin(&j, NULL);
		mz_json_str(&j, "code", st->warnings[i].code);
		mz_json_str(&j, "message", st->warnings[i].message);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	if (with_blocks && st->have_blocks)
		json_blocks(&j, st, o);
	mz_json_obj_end(&j);
	mz_json_finish(&j);
}

/* ---------------------------------------------------------------- Prometheus */

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void mz_status_print_prometheus(const struct mz_status *st, FILE *f)
{
	static const struct { const char *state, *zone; size_t off; } block_series[] = {
		{ "online", "kernel", offsetof(struct mz_status_counts, online_kernel) },
		{ "online", "movable", offsetof(struct mz_status_counts, online_movable) },
		{ "online", "unknown", offsetof(struct mz_status_counts, online_unknown) },
		{ "offline", "none", offsetof(struct mz_status_counts, offline) },
		{ "going-offline", "none", offsetof(struct mz_status_counts, other) },
	};
	const struct mz_snapshot *s = &st->snap;
	const struct mz_daemon_state *ds = st->daemon;

	prom_head(f, "memzone_zone_managed_bytes", "gauge",
		  "Managed memory per node; zone=kernel is every zone but Movable and Device.");
	for (size_t i = 0; i < s->nnodes; i++) {
		fprintf(f, "memzone_zone_managed_bytes{node=\"%d\",zone=\"kernel\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].kernel_managed);
		fprintf(f, "memzone_zone_managed_bytes{node=\"%d\",zone=\"movable\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].movable_managed);
	}
	prom_head(f, "memzone_zone_free_bytes", "gauge", "Free memory per node and zone class.");
	for (size_t i = 0; i < s->nnodes; i++) {
		fprintf(f, "memzone_zone_free_bytes{node=\"%d\",zone=\"kernel\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].kernel_free);
		fprintf(f, "memzone_zone_free_bytes{node=\"%d\",zone=\"movable\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].movable_free);
	}
	prom_head(f, "memzone_kernel_watermark_bytes", "gauge", "Sum of the kernel zones' min/low/high watermarks per node.");
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct mz_node_snap *n = &s->nodes[i];

		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"min\"} %" PRIu64 "\n", n->id, n->kernel_min);
		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"low\"} %" PRIu64 "\n", n->id, n->kernel_low);
		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"high\"} %" PRIu64 "\n", n->id, n->kernel_high);
	}
	prom_head(f, "memzone_movable_kernel_ratio_percent", "gauge",
		  "Movable managed memory as a percentage of kernel managed memory (like auto_movable_ratio).");
	for (size_t i = 0; i < s->nnodes; i++) {
		int64_t r = ratio_percent(&s->nodes[i]);

		if (r >= 0)
			fprintf(f, "memzone_movable_kernel_ratio_percent{node=\"%d\"} %" PRId64 "\n", s->nodes[i].id, r);
		else
			fprintf(f, "memzone_movable_kernel_ratio_percent{node=\"%d\"} %s\n", s->nodes[i].id,
				s->nodes[i].movable_managed ? "+Inf" : "0");
	}
	if (st->policy_known) {
		prom_head(f, "memzone_movable_kernel_ratio_cap_percent", "gauge",
			  "The largest MOVABLE:KERNEL ratio memzone's policy allows (ratio, with or without memzoned).");
		fprintf(f, "memzone_movable_kernel_ratio_cap_percent %u\n", st->ratio_cap);
	}
	if (st->have_blocks) {
		prom_head(f, "memzone_block_size_bytes", "gauge", "Size of one memory block.");
		fprintf(f, "memzone_block_size_bytes %" PRIu64 "\n", s->block_size);
		prom_head(f, "memzone_blocks", "gauge", "Memory blocks per node, state and zone class.");
		for (size_t i = 0; i < s->nnodes; i++)
			for (size_t k = 0; k < MZ_ARRAY_SIZE(block_series); k++)
				fprintf(f, "memzone_blocks{node=\"%d\",state=\"%s\",zone=\"%s\"} %u\n", s->nodes[i].id,
					block_series[k].state, block_series[k].zone,
					*(const unsigned *)((const char *)&st->counts[i] + block_series[k].off));
		prom_head(f, "memzone_hot_removable_bytes", "gauge",
			  "Memory of hot-added devices whose every block is offline or Movable (unpluggable now).");
		fprintf(f, "memzone_hot_removable_bytes %" PRIu64 "\n", st->total.hot_removable);
		prom_head(f, "memzone_node_hot_removable_bytes", "gauge", "memzone_hot_removable_bytes per node.");
		for (size_t i = 0; i < s->nnodes; i++)
			fprintf(f, "memzone_node_hot_removable_bytes{node=\"%d\"} %" PRIu64 "\n", s->nodes[i].id,
				st->counts[i].hot_removable);
	}
	if (s->auto_online[0]) {
		prom_head(f, "memzone_kernel_auto_online_info", "gauge", "The kernel's auto_online_blocks setting.");
		fprintf(f, "memzone_kernel_auto_online_info{auto_online_blocks=\"%s\"} 1\n", s->auto_online);
	}
	prom_head(f, "memzone_warning", "gauge", "1 for each problem 'memzone status' warns about.");
	for (size_t i = 0; i < st->nwarnings; i++)
		fprintf(f, "memzone_warning{code=\"%s\"} 1\n", st->warnings[i].code);
	prom_head(f, "memzone_rebalancer_running", "gauge", "1 while a memzoned holds run/memzone/memzoned.lock.");
	fprintf(f, "memzone_rebalancer_running %d\n", st->daemon_alive ? 1 : 0);
	prom_head(f, "memzone_new_memory_by_memzoned", "gauge",
		  "1 while memzoned holds run/memzone/memzoned.decides: it decides new memory, the udev helper exits at once.");
	fprintf(f, "memzone_new_memory_by_memzoned %d\n", st->new_memory_by == MZ_NEW_MEMORY_MEMZONED ? 1 : 0);
	if (!ds)
		return;
	prom_head(f, "memzone_moves_total", "counter", "Blocks moved between zones by memzoned.");
	fprintf(f, "memzone_moves_total{direction=\"to_kernel\"} %" PRIu64 "\n", ds->moves_to_kernel);
	fprintf(f, "memzone_moves_total{direction=\"to_movable\"} %" PRIu64 "\n", ds->moves_to_movable);
	prom_head(f, "memzone_move_failures_total", "counter", "Moves that failed (refused, timed out or rolled back).");
	fprintf(f, "memzone_move_failures_total %" PRIu64 "\n", ds->failures);
	prom_head(f, "memzone_move_rollbacks_total", "counter", "Failed moves whose block was re-onlined in its old zone.");
	fprintf(f, "memzone_move_rollbacks_total %" PRIu64 "\n", ds->rollbacks);
	prom_head(f, "memzone_pressure", "gauge", "1 for the rebalancer's current verdict per node.");
	for (size_t i = 0; i < ds->nnodes; i++)
		for (int v = 0; v < MZ_VERDICT__COUNT; v++)
			fprintf(f, "memzone_pressure{node=\"%d\",verdict=\"%s\"} %d\n", ds->nodes[i].node,
				mz_verdict_name((enum mz_verdict)v), ds->nodes[i].verdict == (enum mz_verdict)v);
	prom_head(f, "memzone_blocks_in_backoff", "gauge", "Blocks memzoned will not try to move for a while.");
	fprintf(f, "memzone_blocks_in_backoff %zu\n", ds->nbackoffs);
	prom_head(f, "memzone_pinned_pages", "gauge",
		  "Pages of a kernel-zone block memzoned wants back in Movable that the kernel cannot migrate, by cause.");
	for (size_t i = 0; i < ds->npinned; i++) {
		const struct mz_ds_pinned *p = &ds->pinned[i];
		const struct { const char *cause; uint64_t n; } c[] = {
			{ "slab", p->slab }, { "page_table", p->pgtable }, { "reserved", p->reserved },
			{ "other_unmovable", p->other },
		};

		for (size_t k = 0; k < MZ_ARRAY_SIZE(c); k++)
			fprintf(f, "memzone_pinned_pages{block=\"%lu\",cause=\"%s\"} %" PRIu64 "\n", p->block, c[k].cause, c[k].n);
	}
	prom_head(f, "memzone_pinned_since_timestamp_seconds", "gauge", "Since when each pinned block has been pinned.");
	for (size_t i = 0; i < ds->npinned; i++)
		fprintf(f, "memzone_pinned_since_timestamp_seconds{block=\"%lu\"} %" PRId64 "\n", ds->pinned[i].block,
			ds->pinned[i].since);
	prom_head(f, "memzone_observe_only", "gauge", "1 when memzoned only logs what it would do.");
	fprintf(f, "memzone_observe_only %d\n", ds->observe_only ? 1 : 0);
	prom_head(f, "memzone_state_updated_timestamp_seconds", "gauge", "When memzoned last wrote its state.");
	fprintf(f, "memzone_state_updated_timestamp_seconds %" PRId64 "\n", ds->updated);
}
