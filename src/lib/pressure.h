/* pressure.h - PURE pressure model: per-node samples -> grow-kernel / hold / grow-movable + reason. No I/O.
 *
 * Each tick the caller builds a struct mz_pressure_sample from text the readers parsed (zoneinfo, node
 * meminfo, vmstat, PSI) and asks mz_pressure_decide() what each node needs. The model keeps the little
 * history the signals need (unmovable-memory trend, stall counter, how long a node has been calm,
 * recent moves for the caps and cooldowns); it never opens a file, so the replay tests feed recorded
 * traces through it tick by tick.
 *
 * Signals, per node. Kernel free is what a kernel allocation may take: the free pages of every zone
 * but Movable and Device, less ZONE_DMA when the node has other kernel zones (x86's 16 MiB, held for
 * devices by lowmem_reserve), less free CMA pages (nr_free_cma: movable allocations only) and less
 * each zone's protection (lowmem_reserve) against allocations up to ZONE_NORMAL, the kernel's own
 * watermark check for GFP_KERNEL. The watermarks are summed over the same zones.
 *   available = kernel free + half the file pages on those zones' LRUs (nr_zone_{in,}active_file):
 *              reclaim, not a conversion, frees them; half because dirty, mapped and active pages
 *              do not all go at once
 *   floor    = kernel high watermark + headroom (the larger of headroom and headroom_percent)
 *   release  = kernel high watermark + release_headroom (never below the floor)
 *   room     : Movable free exceeds its high watermark by one block, so a harvested block's pages
 *              have somewhere to go and user allocations (which prefer Movable) are not what fills
 *              the kernel zones. Without room a harvest cannot help: hold (node-full)
 *   free     : available < floor, with room
 *   trend    : unmovable kernel memory (slab unreclaimable, page tables, kernel stacks) grows; its
 *              least-squares slope over trend_window, projected as far ahead, takes available below
 *              the floor, with room. Counted only when the points follow the line (t >= 3) and the
 *              projected loss is at least half the headroom: bursts and noise move nothing
 *   psi, stalls: PSI memory "some avg10" >= psi_some_avg10, or kernel-zone direct-reclaim +
 *              compaction stalls/s >= stall_rate, raise the trend's bar from the floor to the
 *              release level: a real unmovable trend is acted on sooner while the system stalls.
 *              They never ask for a move on their own: PSI counts every memory stall (a cgroup's
 *              memory.high, user-page reclaim, THP compaction) and compaction stalls count user
 *              allocations too; a hold then says so (user-pressure). System-wide; they count for
 *              the node closest to its floor.
 * grow-movable needs kernel free (now and projected, without the file pages) >= release + one block,
 * no stall/PSI pressure, for release_delay, and must keep min_kernel and the ratio cap
 * (`ratio`, the same cap with or without memzoned; current kernel memory as the basis, Movable
 * counted as max(present, managed): the onlining policy's arithmetic, mz_policy_within_ratio). ratio_basis = boot is not
 * modelled here (the sample has no boot kernel figure): memzoned's check under the lock,
 * mz_policy_giveback_fits, applies it.
 * Cooldown blocks the opposite move, except a grow-kernel while kernel free is below the low
 * watermark (the kernel is reclaiming already). Every reason names the figures it used.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon_state.h" /* enum mz_verdict, enum mz_move_dir */
#include "procstat.h"
#include "zoneinfo.h"

/* What one tick saw on one node; bytes. */
struct mz_pressure_node {
	int node;
	uint64_t kernel_managed;     /* every kernel zone, DMA too (the ratio cap's and min_kernel's basis) */
	uint64_t kernel_free;        /* what a kernel allocation may take (see above) */
	uint64_t kernel_file;        /* file pages on the LRUs of the zones kernel_free counts */
	uint64_t kernel_min, kernel_low, kernel_high; /* watermarks of those zones */
	uint64_t movable_managed, movable_free, movable_high;
	uint64_t movable_present;    /* the ratio cap counts max(present, managed), like the policy */
	uint64_t unmovable;          /* SUnreclaim + PageTables + SecPageTables + KernelStack */
	bool has_unmovable;
};

struct mz_pressure_sample {
	uint64_t t_ms;               /* CLOCK_MONOTONIC (or the trace's clock) */
	uint64_t block_size;         /* bytes; one move changes a zone by this much */
	struct mz_pressure_node *nodes; /* ascending node ids */
	size_t nnodes;
	uint64_t stalls;             /* cumulative kernel-zone allocstall + compactstall */
	bool has_stalls;
	double psi_some_avg10;       /* percent */
	bool has_psi;
};

/* Building a sample from parsed text (pure). Sizes in zoneinfo are pages of page_size bytes. */
void mz_pressure_sample_init(struct mz_pressure_sample *s, uint64_t t_ms, uint64_t block_size);
void mz_pressure_sample_free(struct mz_pressure_sample *s);
/* One node entry per node in zoneinfo, with its kernel and Movable zone sums. -ENODATA without zones. */
int mz_pressure_sample_add_zoneinfo(struct mz_pressure_sample *s, const struct mz_zoneinfo *zi,
				    uint64_t page_size);
/* Unmovable kernel memory of a node from its meminfo (/sys/devices/system/node/nodeN/meminfo).
 * node < 0: /proc/meminfo, used only when the sample has exactly one node. */
void mz_pressure_sample_add_meminfo(struct mz_pressure_sample *s, int node, const struct mz_kvtab *meminfo);
/* Stall counters from /proc/vmstat: allocstall (before 4.9) or allocstall_{dma,dma32,normal,highmem}
 * (kernel allocations; allocstall_movable is user memory), plus compactstall. */
void mz_pressure_sample_add_vmstat(struct mz_pressure_sample *s, const struct mz_kvtab *vmstat);
void mz_pressure_sample_add_psi(struct mz_pressure_sample *s, const struct mz_psi *psi);
struct mz_pressure_node *mz_pressure_sample_node(struct mz_pressure_sample *s, int node);

/* Why a node wants what it wants, or why it may not have it now. Stable names (logs, state file). */
enum mz_pressure_reason {
	MZ_PR_NONE = 0,
	MZ_PR_BALANCED,          /* hold: kernel free between the floor and the release level */
	MZ_PR_NO_KERNEL_ZONE,    /* hold: the node has only Movable memory (allocations fall back to others) */
	MZ_PR_WARMUP,            /* hold: not enough history for the trend yet */
	MZ_PR_NODE_FULL,         /* hold: kernel free is low but so is Movable free */
	MZ_PR_USER_PRESSURE,     /* hold: PSI or stalls, but the kernel zones are not short */
	MZ_PR_FREE_LOW,          /* grow-kernel: kernel free below the floor */
	MZ_PR_TREND,             /* grow-kernel: the unmovable trend takes kernel free below the floor */
	MZ_PR_STALLS,            /* grow-kernel: allocation stalls with an unmovable trend */
	MZ_PR_PSI,               /* grow-kernel: PSI memory pressure with an unmovable trend */
	MZ_PR_RELEASE,           /* grow-movable: kernel free above the release level long enough */
	MZ_PR_RELEASE_PENDING,   /* hold: above the release level, not for release_delay yet */
	/* what can block a wanted move */
	MZ_PR_DISABLED,          /* grow_kernel / grow_movable = no */
	MZ_PR_NO_MOVABLE,        /* no Movable memory on the node to harvest */
	MZ_PR_MIN_KERNEL,        /* one block less would go below min_kernel */
	MZ_PR_RATIO_CAP,         /* one block more Movable would exceed the ratio cap */
	MZ_PR_COOLDOWN,          /* the opposite move was made less than cooldown ago */
	MZ_PR_RATE_LIMIT,        /* moves_per_tick / moves_per_minute used up */
	MZ_PR__COUNT,
};
const char *mz_pressure_reason_name(enum mz_pressure_reason r);

struct mz_node_verdict {
	int node;
	enum mz_verdict want;            /* what the signals ask for */
	enum mz_verdict verdict;         /* what may be done now: want, or hold when something blocks it */
	enum mz_pressure_reason reason;  /* why want */
	enum mz_pressure_reason blocked; /* MZ_PR_NONE, or why verdict is hold although want is not */
	int64_t margin;                  /* available - floor, bytes (negative: below the floor) */
	double trend;                    /* unmovable bytes/s over the window; NAN when unknown */
	char why[MZ_DS_REASON_MAX];      /* one line with the numbers that decided */
};

struct mz_pressure_result {
	struct mz_node_verdict *v;       /* one per node: grow-kernel first (lowest margin first), then
					  * grow-movable, then hold */
	size_t n;
	unsigned budget;                 /* moves allowed this tick by moves_per_tick / moves_per_minute */
	double stall_rate;               /* stalls/s since the previous sample; NAN when unknown */
};

struct mz_pressure;
struct mz_pressure *mz_pressure_new(void);
void mz_pressure_free(struct mz_pressure *p);

/* Decide for every node of s. Updates the history (call once per sample, t_ms increasing).
 * c->rebalance holds the thresholds; c->ratio, min_kernel(_percent) and ratio_scope
 * bound grow-movable. r is (re)filled; free it with mz_pressure_result_free. */
void mz_pressure_decide(struct mz_pressure *p, const struct mz_config *c, const struct mz_pressure_sample *s,
			struct mz_pressure_result *r);
void mz_pressure_result_free(struct mz_pressure_result *r);

/* A move was attempted at t_ms (counts against the rate caps); done: the block changed zone
 * (starts the cooldown of the opposite direction on that node). */
void mz_pressure_record_move(struct mz_pressure *p, int node, enum mz_move_dir dir, bool done, uint64_t t_ms);
