/* rebalance.h - one decision cycle of the rebalancer: samples -> pressure -> pick a block -> move
 *
 * Shared by memzoned (one cycle per timer tick or udev event) and `memzone rebalance --once`.
 * A cycle reads only per-node aggregates (zoneinfo, node meminfo, vmstat, PSI); the blocks are read
 * only when a move is wanted. Every move holds /run/memzone/lock (shared with the udev helper).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actuator.h"
#include "config.h"
#include "daemon_state.h"
#include "pressure.h"

enum mz_rebalance_mode {
	MZ_REBALANCE_ACT,      /* move blocks (observe_only in the config still only logs) */
	MZ_REBALANCE_DRY_RUN,  /* decide and pick, never write anything (state file included) */
};

/* The move the cycle made or would make, for `memzone rebalance --once`. Filled by each cycle. */
struct mz_rebalance_pick {
	bool any;
	int node;
	enum mz_move_dir dir;
	unsigned long block;
	enum mz_zone from;
	bool tallied;                   /* pages is known (kpageflags readable) */
	struct mz_page_tally pages;     /* of the chosen block */
	struct mz_pick_stats stats;
	bool no_candidate;
	struct mz_move_outcome outcome; /* result MZ_MOVE_OBSERVED when nothing was written */
};
struct mz_rebalancer {
	struct mz_config cfg;
	enum mz_rebalance_mode mode;
	bool write_state;               /* keep <root>/run/memzone/state (the daemon) */
	uint64_t page_size, block_size; /* 0 block_size: no memory hotplug in this kernel */
	struct mz_pressure *model;
	struct mz_pressure_sample sample; /* the latest sample */
	struct mz_pressure_result last;  /* the latest decision */
	struct mz_backoffs backoffs;
	/* give-back candidates the kernel cannot take (their pages, or a refused offline): listed in the
	 * state file with their causes, their page flags read again each tick */
	struct mz_rb_pinned {
		struct mz_ds_pinned ds;
		int node;
		uint64_t hint_pfn;      /* a pinned page of it (valid when ds counts one) */
		uint64_t counted_ms;    /* when its pages were last counted */
	} *pinned;
	size_t npinned;
	struct mz_daemon_state state;    /* counters, last moves, verdicts (also when not written) */
	/* what was logged last per node, to log changes rather than every tick */
	struct { int node; enum mz_verdict verdict; enum mz_pressure_reason reason, blocked; } *logged;
	size_t nlogged;
	/* nodes and directions where the last scan found no block to move: not rescanned (every block
	 * read) until the node's zone sizes change, a uevent says so, or a while has passed */
	struct { int node; enum mz_move_dir dir; uint64_t kernel_managed, movable_managed, until_ms; } *nothing;
	size_t nnothing;
	struct mz_rebalance_pick *picks; /* of the latest cycle */
	size_t npicks;
	unsigned ticks;
	/* called after each move (a move can block for offline_timeout): the daemon pets its watchdog */
	void (*progress)(void *ctx);
	void *progress_ctx;
	/* called with true right before a move's writes and false after them (same ctx): memzoned
	 * hands new memory back to udev's helper meanwhile */
	void (*moving)(void *ctx, bool moving);
};

/* Pure: which of the ranked give-back (to-movable) candidates to offline: the first whose pages are
 * unknown or hold no pinned page (slab, page tables, reserved: the kernel refuses the offline of a
 * kernel-zone block holding one at once). n when every candidate holds some: then none is offlined,
 * they back off as after a refused offline. */
size_t mz_rebalance_giveback_pick(const struct mz_candidate *c, size_t n);

/* Read the page and block sizes; mode and write_state as above. err names what was unreadable. */
int mz_rebalance_init(struct mz_rebalancer *r, const struct mz_config *c, enum mz_rebalance_mode mode,
		      bool write_state, char *err, size_t errlen);
void mz_rebalance_free(struct mz_rebalancer *r);
/* A reloaded config; the history (trend, cooldowns, backoffs) is kept. */
void mz_rebalance_set_config(struct mz_rebalancer *r, const struct mz_config *c);

/* Finish a move an earlier run left in /run/memzone/intent (under the lock). 0 when there was none
 * or it is resolved; <0 when the block is still offline (the record stays, the next cycle retries). */
int mz_rebalance_recover(struct mz_rebalancer *r);

/* Read one sample: zoneinfo, each node's meminfo (/proc/meminfo when there are no node files),
 * /proc/vmstat, /proc/pressure/memory. Only a missing zoneinfo is an error. */
int mz_rebalance_read_sample(struct mz_pressure_sample *s, uint64_t t_ms, uint64_t page_size,
			     uint64_t block_size, char *err, size_t errlen);

/* Something changed in the blocks (a uevent): scan again even where nothing qualified. */
void mz_rebalance_blocks_changed(struct mz_rebalancer *r);

/* Sample and decide without acting or logging (a first sample for rates and trends). */
int mz_rebalance_prime(struct mz_rebalancer *r, uint64_t now_ms);

/* One cycle at now_ms (CLOCK_MONOTONIC): recover, sample, decide, move (at most the budget), record in
 * r->state and write it when write_state. Returns the number of moves attempted (observed ones in
 * observe_only/dry-run included), or <0 when the sample could not be read. */
int mz_rebalance_cycle(struct mz_rebalancer *r, uint64_t now_ms);

const struct mz_rebalance_pick *mz_rebalance_last_picks(const struct mz_rebalancer *r, size_t *n);
