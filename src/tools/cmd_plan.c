/* cmd_plan.c - `memzone plan [BLOCK...] [--json]`: what `online` would do, and why, without writing
 *
 * Decisions are simulated in block order, each applied to the in-memory snapshot before the next,
 * so the plan for a 64-block DIMM shows where a cap would be hit. Listing every block is a scan:
 * fine here, never in `online`. */
#include "commands.h"
#include "config.h"
#include "iomem.h"
#include "json.h"
#include "log.h"
#include "memblock.h"
#include "policy.h"
#include "snapshot.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_JSON = MZ_OPT__FIRST_CMD };

struct row {
	unsigned long id;
	int node;
	enum mz_block_state state;
	enum mz_zone zone_before;
	enum mz_source source;
	char device[64];
	struct mz_decision d;
};

/* Devices seen so far, with the simulated state of their blocks. */
struct devcache {
	struct mz_device_snap *dev;
	size_t n, cap;
};

static struct mz_device_snap *dev_cached(struct devcache *dc, const struct mz_device_snap *dev)
{
	if (dev->n_blocks == 0)
		return NULL; /* no device range known: nothing to share between blocks */
	for (size_t i = 0; i < dc->n; i++)
		if (dc->dev[i].source == dev->source && dc->dev[i].start == dev->start && dc->dev[i].end == dev->end &&
		    strcmp(dc->dev[i].name, dev->name) == 0)
			return &dc->dev[i];
	if (dc->n == dc->cap) {
		dc->cap = dc->cap ? dc->cap * 2 : 16;
		dc->dev = mz_xrealloc(dc->dev, dc->cap * sizeof(*dc->dev));
	}
	dc->dev[dc->n] = *dev;
	return &dc->dev[dc->n++];
}

static void usage(void)
{
	printf("Usage: memzone plan [OPTIONS] [BLOCK...]\n\n"
	       "Show what 'memzone online' would do, and why, without writing anything: for the\n"
	       "given blocks, or for every offline block and every hot-added online block the\n"
	       "policy would move to another zone. Decisions are simulated in order, each one\n"
	       "counted before the next, so the plan shows where a ratio cap would be reached.\n\n"
	       "Options:\n"
	       "      --json           machine-readable output\n" MZ_COMMON_HELP
	       "\nExit status: 0 plan shown, 1 state unreadable, 2 bad command line,\n"
	       "3 configuration broken (the plan uses the built-in defaults).\n");
}

/* Cheap pre-filter for the scan: an online block of boot memory can never be rezoned. */
static bool online_boot_block(const struct mz_iomem *io, const struct mz_block *b)
{
	return mz_snapshot_source(io, b) == MZ_SOURCE_BOOT;
}

static void print_text(const struct row *rows, size_t n, const struct mz_snapshot *s, const unsigned *count)
{
	char mv[16], kn[16];

	if (n == 0)
		printf("Nothing to do: no offline block, and no hot-added block in the wrong zone.\n");
	else
		printf("%-13s %4s  %-8s %-10s %-12s %-15s %-8s %-20s %s\n", "BLOCK", "NODE", "STATE", "SOURCE",
		       "DEVICE", "ACTION", "ZONE", "REASON", "WHY");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char name[24];

		snprintf(name, sizeof(name), "memory%lu", r->id);
		printf("%-13s %4d  %-8s %-10s %-12s %-15s %-8s %-20s %s\n", name, r->node,
		       mz_block_state_name(r->state), mz_source_name(r->source), r->device[0] ? r->device : "-",
		       mz_action_name(r->d.action), r->d.action == MZ_ACTION_LEAVE ? "-" : mz_zone_name(r->d.zone),
		       mz_reason_name(r->d.reason), r->d.why);
	}
	printf("\n%zu block%s: %u online_movable, %u online_kernel, %u rezone_movable, %u rezone_kernel, %u leave\n",
	       n, n == 1 ? "" : "s", count[MZ_ACTION_ONLINE_MOVABLE], count[MZ_ACTION_ONLINE_KERNEL],
	       count[MZ_ACTION_REZONE_MOVABLE], count[MZ_ACTION_REZONE_KERNEL], count[MZ_ACTION_LEAVE]);
	printf("afterwards: movable %s, kernel %s system-wide", mz_format_size(s->total.movable_managed, mv, sizeof(mv)),
	       mz_format_size(s->total.kernel_managed, kn, sizeof(kn)));
	if (s->total.kernel_managed)
		printf(" (movable = %.0f%% of kernel)",
		       100.0 * (double)s->total.movable_managed / (double)s->total.kernel_managed);
	printf("\n");
}

static void print_json(const struct row *rows, size_t n, const struct mz_snapshot *s, const unsigned *count,
		       bool builtin)
{
	struct mz_json j;
	char name[24];

	mz_json_init(&j, stdout, true);
	mz_json_obj_begin(&j, NULL);
	mz_json_bool(&j, "builtin_defaults", builtin);
	mz_json_u64(&j, "block_size", s->block_size);
	mz_json_arr_begin(&j, "blocks");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		snprintf(name, sizeof(name), "memory%lu", r->id);
		mz_json_obj_begin(&j, NULL);
		mz_json_str(&j, "block", name);
		mz_json_i64(&j, "node", r->node);
		mz_json_str(&j, "state", mz_block_state_name(r->state));
		mz_json_str(&j, "zone", r->state == MZ_BLOCK_ONLINE ? mz_zone_name(r->zone_before) : NULL);
		mz_json_str(&j, "source", mz_source_name(r->source));
		mz_json_str(&j, "device", r->device[0] ? r->device : NULL);
		mz_json_str(&j, "action", mz_action_name(r->d.action));
		mz_json_str(&j, "target_zone", r->d.action == MZ_ACTION_LEAVE ? NULL : mz_zone_name(r->d.zone));
		mz_json_bool(&j, "has_fallback", r->d.has_fallback);
		mz_json_str(&j, "reason", mz_reason_name(r->d.reason));
		mz_json_str(&j, "why", r->d.why);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	mz_json_obj_begin(&j, "summary");
	for (int a = 0; a <= MZ_ACTION_REZONE_KERNEL; a++)
		mz_json_u64(&j, mz_action_name((enum mz_action)a), count[a]);
	mz_json_u64(&j, "movable_after", s->total.movable_managed);
	mz_json_u64(&j, "kernel_after", s->total.kernel_managed);
	mz_json_obj_end(&j);
	mz_json_obj_end(&j);
	mz_json_finish(&j);
}

int cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = { MZ_COMMON_LONGOPTS, { "json", no_argument, NULL, OPT_JSON },
						  { NULL, 0, NULL, 0 } };
	unsigned count[MZ_ACTION_REZONE_KERNEL + 1] = { 0 };
	/* a DIMM being added is shown as the DIMM, as its decision will see it: up to 1 s in all for
	 * ACPI to bind new blocks (mz_snapshot_block_wait) */
	unsigned bind_wait_ms = 1000;
	struct devcache dc = { NULL, 0, 0 };
	struct mz_config cfg;
	struct mz_snapshot s;
	struct mz_iomem io;
	const struct mz_iomem *iop = NULL;
	struct row *rows = NULL;
	unsigned long *ids = NULL;
	size_t nids = 0, nrows = 0;
	bool json = false, named, builtin;
	char err[512];
	int opt, r, ret = MZ_EXIT_OK;

	while ((opt = getopt_long(argc, argv, MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (opt == OPT_JSON) {
			json = true;
			continue;
		}
		r = mz_cli_common_opt(opt, optarg, usage);
		if (r == 2)
			return MZ_EXIT_OK;
		if (r <= 0)
			return MZ_EXIT_USAGE;
	}
	named = optind < argc;
	if (named) {
		ids = mz_xcalloc((size_t)(argc - optind), sizeof(*ids));
		for (int i = optind; i < argc; i++) {
			if (!mz_block_name_valid(argv[i], &ids[nids])) {
				fprintf(stderr, "memzone plan: '%s' is not a memory block name (memoryN)\n", argv[i]);
				free(ids);
				return MZ_EXIT_USAGE;
			}
			nids++;
		}
	}
	mz_cli_finish_opts();
	builtin = mz_cli_load_config(&cfg) < 0;
	if (builtin) {
		mz_config_defaults(&cfg);
		mz_warn("the configuration is broken (see above): planning with the built-in defaults");
	}

	memset(&s, 0, sizeof(s));
	r = mz_snapshot_read(&s, err, sizeof(err));
	if (r < 0) {
		mz_err("%s", err);
		free(ids);
		return MZ_EXIT_FAILURE;
	}
	memset(&io, 0, sizeof(io));
	if (mz_iomem_read(&io, err, sizeof(err)) == 0)
		iop = &io;
	else
		mz_warn("%s: sources and devices of blocks unknown", err);
	if ((r = mz_snapshot_boot_baseline(&s, iop, cfg.ratio_basis == MZ_BASIS_CURRENT)) < 0)
		mz_warn("boot-time kernel memory unknown (%s): using the present kernel memory", strerror(-r));

	if (!named) {
		r = mz_memblock_list(&ids, &nids);
		if (r < 0) {
			mz_err("cannot list memory blocks: %s", strerror(-r));
			ret = MZ_EXIT_FAILURE;
			goto out;
		}
	}
	rows = mz_xcalloc(nids ? nids : 1, sizeof(*rows));
	for (size_t i = 0; i < nids; i++) {
		struct mz_block b;
		struct mz_device_snap dev, *devp;
		struct row *row = &rows[nrows];

		r = s.block_size ? mz_memblock_read(ids[i], s.block_size, &b) : -ENOENT;
		if (!named) {
			if (r < 0)
				continue; /* vanished while we looked */
			if (b.state != MZ_BLOCK_OFFLINE &&
			    (cfg.already_online == MZ_ALREADY_LEAVE || online_boot_block(iop, &b)))
				continue;
		}
		/* the block as read above, its device added */
		if (r == 0)
			r = mz_snapshot_device(&s, iop, &b, &dev, &bind_wait_ms);
		if (r < 0) {
			if (named)
				mz_warn("memory%lu: %s", ids[i], r == -ENOENT ? "no such block" : strerror(-r));
			continue;
		}
		devp = dev_cached(&dc, &dev);
		if (!devp)
			devp = &dev;
		mz_policy_decide(&cfg, &s, &b, devp, &row->d);
		if (!named && b.state != MZ_BLOCK_OFFLINE && row->d.action == MZ_ACTION_LEAVE)
			continue; /* online and already right: not part of the plan */
		row->id = ids[i];
		row->node = b.node;
		row->state = b.state;
		row->zone_before = b.zone;
		row->source = devp->source;
		snprintf(row->device, sizeof(row->device), "%s", devp->name);
		count[row->d.action]++;
		nrows++;
		mz_policy_apply(&s, &b, devp, &row->d);
	}
	if (json)
		print_json(rows, nrows, &s, count, builtin);
	else
		print_text(rows, nrows, &s, count);
	if (builtin)
		ret = MZ_EXIT_CONFIG;
out:
	free(rows);
	free(dc.dev);
	free(ids);
	if (iop)
		mz_iomem_free(&io);
	mz_snapshot_free(&s);
	return ret;
}
