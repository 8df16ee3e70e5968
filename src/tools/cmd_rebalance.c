/* cmd_rebalance.c - `memzone rebalance --once [--dry-run]`: one decision cycle of memzoned, by hand */
#include "commands.h"
#include "config.h"
#include "daemon_state.h"
#include "json.h"
#include "log.h"
#include "rebalance.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { OPT_ONCE = MZ_OPT__FIRST_CMD, OPT_DRY_RUN, OPT_JSON };

static void usage(void)
{
	printf("Usage: memzone rebalance --once [--dry-run] [--json] [OPTIONS]\n\n"
	       "Run one decision cycle of memzoned: sample the kernel zones twice, one interval apart, decide\n"
	       "for every node (grow-kernel, hold, grow-movable, with the reason), and move at most\n"
	       "moves_per_tick blocks the way memzoned would (lock, bounded offline, rollback).\n"
	       "A release (grow-movable) needs release_delay of calm, which one cycle cannot observe.\n\n"
	       "  --once               run one cycle (required: the long-running rebalancer is memzoned)\n"
	       "  --dry-run            decide and show the block that would move; write nothing\n"
	       "  --json               print the samples, the decisions and the moves as JSON\n"
	       MZ_COMMON_HELP
	       "\nExit status: 0 done (or nothing to do), 1 a move failed or was rolled back, 2 usage,\n"
	       "3 configuration error.\n");
}

static void print_verdicts(const struct mz_rebalancer *r)
{
	for (size_t i = 0; i < r->last.n; i++) {
		const struct mz_node_verdict *v = &r->last.v[i];

		if (v->blocked != MZ_PR_NONE)
			printf("node %d: hold (%s wanted, %s): %s\n", v->node, mz_verdict_name(v->want),
			       mz_pressure_reason_name(v->blocked), v->why);
		else
			printf("node %d: %s (%s): %s\n", v->node, mz_verdict_name(v->verdict),
			       mz_pressure_reason_name(v->reason), v->why);
	}
}

/* Prints the picks; returns true when every move that was tried worked. */
static bool print_picks(const struct mz_rebalancer *r)
{
	const struct mz_rebalance_pick *p;
	bool all_ok = true;
	size_t n;

	p = mz_rebalance_last_picks(r, &n);
	for (size_t i = 0; i < n; i++) {
		const struct mz_pick_stats *st = &p[i].stats;

		if (p[i].no_candidate) {
			printf("node %d: no block to move %s: %u online in the source zone, %u boot memory, %u pinned by a "
			       "[source] rule, %u on a device being unplugged, %u backing off\n",
			       p[i].node, mz_move_dir_name(p[i].dir), st->considered, st->boot, st->source_rule,
			       st->unplugging, st->backoff);
			continue;
		}
		if (p[i].outcome.result == MZ_MOVE_OBSERVED) {
			printf("node %d: %s\n", p[i].node, p[i].outcome.why);
			continue;
		}
		printf("node %d: %s: %s\n", p[i].node, mz_move_result_name(p[i].outcome.result), p[i].outcome.why);
		if (p[i].outcome.result != MZ_MOVE_OK)
			all_ok = false;
	}
	return all_ok;
}

static void print_json(const struct mz_rebalancer *r)
{
	const struct mz_rebalance_pick *p;
	struct mz_json j;
	size_t n;

	mz_json_init(&j, stdout, true);
	mz_json_obj_begin(&j, NULL);
	mz_json_u64(&j, "block_size", r->block_size);
	mz_json_u64(&j, "budget", r->last.budget);
	mz_json_double(&j, "stall_rate", r->last.stall_rate);
	if (r->sample.has_psi)
		mz_json_double(&j, "psi_some_avg10", r->sample.psi_some_avg10);
	else
		mz_json_null(&j, "psi_some_avg10");
	mz_json_arr_begin(&j, "nodes");
	for (size_t i = 0; i < r->last.n; i++) {
		const struct mz_node_verdict *v = &r->last.v[i];
		const struct mz_pressure_node *s = NULL;

		for (size_t k = 0; k < r->sample.nnodes; k++)
			if (r->sample.nodes[k].node == v->node)
				s = &r->sample.nodes[k];
		mz_json_obj_begin(&j, NULL);
		mz_json_i64(&j, "node", v->node);
		if (s) {
			mz_json_u64(&j, "kernel_managed", s->kernel_managed);
			mz_json_u64(&j, "kernel_free", s->kernel_free);
			mz_json_u64(&j, "kernel_high", s->kernel_high);
			mz_json_u64(&j, "movable_managed", s->movable_managed);
			mz_json_u64(&j, "movable_free", s->movable_free);
			if (s->has_unmovable)
				mz_json_u64(&j, "unmovable", s->unmovable);
			else
				mz_json_null(&j, "unmovable");
		}
		mz_json_i64(&j, "margin", v->margin);
		mz_json_double(&j, "unmovable_trend", v->trend);
		mz_json_str(&j, "want", mz_verdict_name(v->want));
		mz_json_str(&j, "verdict", mz_verdict_name(v->verdict));
		mz_json_str(&j, "reason", mz_pressure_reason_name(v->reason));
		mz_json_str(&j, "blocked", v->blocked != MZ_PR_NONE ? mz_pressure_reason_name(v->blocked) : NULL);
		mz_json_str(&j, "why", v->why);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	mz_json_arr_begin(&j, "moves");
	p = mz_rebalance_last_picks(r, &n);
	for (size_t i = 0; i < n; i++) {
		mz_json_obj_begin(&j, NULL);
		mz_json_i64(&j, "node", p[i].node);
		mz_json_str(&j, "direction", mz_move_dir_name(p[i].dir));
		if (p[i].any) {
			mz_json_u64(&j, "block", p[i].block);
			mz_json_str(&j, "from", mz_zone_name(p[i].from));
			if (p[i].tallied) {
				mz_json_u64(&j, "pages", p[i].pages.pages);
				mz_json_u64(&j, "pages_used", p[i].pages.used);
				mz_json_u64(&j, "pages_unmovable", p[i].pages.unmovable);
			} else {
				mz_json_null(&j, "pages_used");
			}
			mz_json_str(&j, "result", mz_move_result_name(p[i].outcome.result));
			mz_json_str(&j, "error", p[i].outcome.err ? strerrorname_np(p[i].outcome.err) : NULL);
			mz_json_str(&j, "why", p[i].outcome.why);
		} else {
			mz_json_null(&j, "block");
			mz_json_str(&j, "result", "no-candidate");
		}
		mz_json_obj_begin(&j, "skipped");
		mz_json_u64(&j, "boot", p[i].stats.boot);
		mz_json_u64(&j, "source_rule", p[i].stats.source_rule);
		mz_json_u64(&j, "unplugging", p[i].stats.unplugging);
		mz_json_u64(&j, "backoff", p[i].stats.backoff);
		mz_json_obj_end(&j);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	mz_json_obj_end(&j);
	mz_json_finish(&j);
}

static bool picks_ok(const struct mz_rebalancer *r)
{
	const struct mz_rebalance_pick *p;
	size_t n;

	p = mz_rebalance_last_picks(r, &n);
	for (size_t i = 0; i < n; i++)
		if (p[i].any && p[i].outcome.result != MZ_MOVE_OK && p[i].outcome.result != MZ_MOVE_OBSERVED)
			return false;
	return true;
}

int cmd_rebalance(int argc, char **argv)
{
	static const struct option longopts[] = {
		MZ_COMMON_LONGOPTS,
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct mz_rebalancer r;
	struct mz_config c;
	bool once = false, dry_run = false, json = false, ok_all;
	char err[512];
	pid_t pid;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ONCE:
			once = true;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			rc = mz_cli_common_opt(opt, optarg, usage);
			if (rc == 2)
				return MZ_EXIT_OK;
			if (rc <= 0)
				return MZ_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memzone rebalance: unexpected argument '%s'\n", argv[optind]);
		return MZ_EXIT_USAGE;
	}
	if (!once) {
		fprintf(stderr, "memzone rebalance: --once is required (the long-running rebalancer is memzoned)\n");
		return MZ_EXIT_USAGE;
	}
	mz_cli_finish_opts();
	if (mz_cli_load_config(&c) < 0)
		return MZ_EXIT_CONFIG;
	if (!c.rebalance.enabled && !dry_run) {
		mz_warn("rebalancing is disabled ([rebalance] enabled = no); nothing done");
		return MZ_EXIT_OK;
	}
	if (!dry_run && mz_daemon_alive(&pid)) {
		mz_err("memzoned (pid %ld) is running and rebalances already; use --dry-run to see its view",
		       (long)pid);
		return MZ_EXIT_FAILURE;
	}
	rc = mz_rebalance_init(&r, &c, dry_run ? MZ_REBALANCE_DRY_RUN : MZ_REBALANCE_ACT, false, err, sizeof(err));
	if (rc < 0) {
		mz_err("%s", err);
		return MZ_EXIT_FAILURE;
	}
	/* the summary below says it all; the cycle's own notices only with -v */
	if (mz_log_max_priority() == LOG_INFO)
		mz_log_set_max_priority(LOG_WARNING);

	if (mz_rebalance_prime(&r, mz_now_ms()) < 0) {
		mz_rebalance_free(&r);
		return MZ_EXIT_FAILURE;
	}
	/* rates (stalls) need two samples; one interval is what the daemon would see */
	mz_sleep_ms(c.rebalance.interval_ms);
	rc = mz_rebalance_cycle(&r, mz_now_ms());
	if (rc < 0) {
		mz_rebalance_free(&r);
		return MZ_EXIT_FAILURE;
	}
	if (json) {
		print_json(&r);
		ok_all = picks_ok(&r);
	} else {
		print_verdicts(&r);
		ok_all = print_picks(&r);
		if (rc == 0)
			printf("no move%s\n", r.last.budget == 0 ? " (rate limit)" : "");
	}
	mz_rebalance_free(&r);
	return ok_all ? MZ_EXIT_OK : MZ_EXIT_FAILURE;
}
