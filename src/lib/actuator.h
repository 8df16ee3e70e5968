/* actuator.h - moving one memory block between ZONE_MOVABLE and a kernel zone, safely
 *
 * The one move protocol: memzoned's moves (rebalance.c) and the udev helper's rezone of a block
 * already online in the wrong zone (online.c) both go through mz_actuator_move. A move is: write the intent record, offline the block bounded by offline_timeout (a thread-directed
 * timer signal interrupts the kernel's migration loop, which then puts the block back online), online
 * it in the other zone, clear the record. Every failure rolls back: a block that was online is online
 * again, in its old zone when the new one is refused. Picking the block is separate: candidates are
 * gathered (I/O) and ranked by pure comparison functions that tests call directly.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "daemon_state.h" /* enum mz_move_dir, enum mz_move_result */
#include "intent.h"
#include "iomem.h"
#include "memblock.h"

/* ------------------------------------------------------------------ one move */

struct mz_move_outcome {
	enum mz_move_result result;  /* MZ_MOVE_OK, _FAILED, _TIMEOUT, _ROLLED_BACK */
	int err;                     /* errno of the step that failed (positive), 0 when none */
	const char *step;            /* "intent", "offline", "online_kernel", ...: the step that failed */
	enum mz_block_state state;   /* block state at the end */
	enum mz_zone zone;           /* zone at the end (MZ_ZONE_NONE when offline) */
	bool stranded;               /* the block is offline and every online was refused: the intent
				      * record stays, so the next tick (or start) retries */
	uint64_t offline_ms, duration_ms;
	char why[256];               /* one sentence for the log */
};

/* Move block id (online in zone `from`) to the other side. block_size is needed to re-read the block.
 * The caller holds /run/memzone/lock. Never leaves an online block offline unless the kernel refuses
 * every online (then out->stranded). Returns 0 when the block changed zone, else -errno of the step
 * that failed (out says which and what happened). While an intent record is there (a move not
 * recovered yet) it touches nothing and returns -EBUSY (step "intent"): ours would replace it. */
int mz_actuator_move(unsigned long id, enum mz_zone from, enum mz_move_dir dir, uint64_t block_size,
		     uint64_t offline_timeout_ms, struct mz_move_outcome *out);

/* Complete or roll back a move an earlier run left in the intent record: an offline block goes
 * online in the zone the move wanted, else in its old one, else wherever the kernel puts it; an
 * online block only needs the record cleared. The record is removed once the block is online (or
 * gone). Returns 0 when nothing is left to do, else -errno (the record stays for the next try). */
int mz_actuator_recover(const struct mz_intent *in, uint64_t block_size, struct mz_move_outcome *out);

/* An intent record that cannot be trusted names no block to touch: set it aside for inspection
 * (mz_intent_set_aside) and log why (the reader's error) and where it went. */
void mz_actuator_set_aside_record(const char *why);

/* "online_kernel" / "online_movable": the state word that onlines a block in zone z's side. */
const char *mz_online_word(enum mz_zone z);

/* ------------------------------------------------------------------ per-block backoff */

struct mz_backoff {
	unsigned long block;
	uint64_t until_ms;   /* CLOCK_MONOTONIC */
	uint64_t delay_ms;   /* the last delay; doubles on each failure up to the max */
};
struct mz_backoffs {
	struct mz_backoff *v;
	size_t n;
};

bool mz_backoff_active(const struct mz_backoffs *b, unsigned long block, uint64_t now_ms);
/* Another failure of block: wait initial_ms, or twice the last delay (at most max_ms). Returns the delay. */
uint64_t mz_backoff_fail(struct mz_backoffs *b, unsigned long block, uint64_t now_ms, uint64_t initial_ms,
			 uint64_t max_ms);
void mz_backoff_clear(struct mz_backoffs *b, unsigned long block);
/* Forget entries that expired more than keep_ms ago (a block that stays healthy starts over). */
void mz_backoff_prune(struct mz_backoffs *b, uint64_t now_ms, uint64_t keep_ms);
void mz_backoffs_free(struct mz_backoffs *b);

/* ------------------------------------------------------------------ picking a block */

/* What the page frames of a block look like (/proc/kpagecount + /proc/kpageflags). */
struct mz_page_tally {
	uint64_t pages, used, unmovable; /* used: mapped or flagged; unmovable: slab, page tables, reserved,
					  * or used without any flag migration can handle */
	uint64_t pinned;                 /* of unmovable: slab, page tables, reserved. The kernel refuses
					  * the offline of a kernel-zone block holding one at once (EBUSY) */
	uint64_t slab, pgtable, reserved; /* pinned, by cause (a reserved page counts only as reserved) */
	uint64_t first_pinned;           /* offset of the first pinned page (when pinned > 0) */
};
/* Pure: tally n pages from their kpagecount and kpageflags words. */
void mz_page_tally_add(struct mz_page_tally *t, const uint64_t *counts, const uint64_t *flags, size_t n);
/* Read the words of [start_pfn, start_pfn + n) from <root>/proc/kpagecount and kpageflags.
 * -EACCES/-EPERM without CAP_SYS_ADMIN, -ENOENT without CONFIG_PROC_PAGE_MONITOR. */
int mz_page_tally_read(uint64_t start_pfn, uint64_t n, struct mz_page_tally *t);

/* Is the page at pfn pinned (slab, page table, reserved)? 1 yes, 0 no, <0 -errno: one word of
 * <root>/proc/kpageflags, for a block already known to be pinned (its first pinned page again). */
int mz_page_pinned_read(uint64_t pfn);

/* What harvesting a block (to-kernel) costs the machine's unplug units, best first. */
enum mz_harvest_class {
	MZ_HARVEST_NO_LOSS,      /* its device is already partly in a kernel zone (or boot memory, never
				  * hot-removable): nothing removable is lost */
	MZ_HARVEST_VIRTIO_MEM,   /* a wholly Movable virtio-mem device: in sub-block mode its driver still
				  * unplugs the free parts of a kernel-zone block, and unplugs those last */
	MZ_HARVEST_DEVICE,       /* a wholly Movable DIMM (or other whole-device memory): one pinned page
				  * keeps all of it. The smallest goes first, so a node's last one is taken only
				  * when nothing else on the node is left (harvests are per node) */
};

struct mz_candidate {
	unsigned long block;
	int node;
	enum mz_zone zone;               /* current zone */
	enum mz_source source;
	char device[64];                 /* "" for boot memory */
	unsigned dev_blocks, dev_kernel, dev_movable, dev_offline; /* blocks of its device by state */
	enum mz_harvest_class harvest;   /* to-kernel: set by mz_candidates_classify */
	bool tallied;                    /* pages below are known */
	struct mz_page_tally pages;
};

/* Pure: set every to-kernel candidate's harvest class. MZ_HARVEST_PAGES puts every candidate in one class. */
void mz_candidates_classify(struct mz_candidate *v, size_t n, enum mz_harvest_order order);

/* Pure rankings (qsort comparators): the best candidate sorts first.
 * to-kernel: the harvest class, then (DIMM classes) the smaller device, then the fewest used pages
 *   (least to migrate), then the highest block id.
 * to-movable: the fewest unmovable pages (those make the offline fail), then the device with the fewest
 *   kernel blocks (closest to wholly removable), then the fewest used pages, then the highest id. */
int mz_candidate_cmp_to_kernel(const void *a, const void *b);
int mz_candidate_cmp_to_movable(const void *a, const void *b);

/* Why blocks were passed over (for the log and `memzone rebalance --once`). */
struct mz_pick_stats {
	unsigned considered;   /* online blocks in the source zone on the node */
	unsigned boot;         /* boot memory (boot_memory = no) */
	unsigned source_rule;  /* [source X] zone = ignore, or pins the block's side */
	unsigned unplugging;   /* its device has blocks offline or going offline (unplug/resize in progress) */
	unsigned backoff;      /* in backoff after a failure */
	unsigned pinned;       /* known to hold pages the kernel cannot migrate (the skip list) */
	unsigned tallied;      /* candidates whose pages were counted */
};

/* Gather the candidates for a move in dir on node, ranked best first. io may be NULL or zeroed
 * (then every block counts as boot memory unless its firmware_node is an ACPI DIMM). Blocks backing
 * off (bo) and those of skip (nskip ids, ascending: known to be pinned, so the page frames counted go
 * to blocks not known yet) are left out. Reads every block's state (cost grows with the number of
 * blocks: only called when a move is wanted) and the page frames of the best max_tally candidates. */
int mz_actuator_candidates(const struct mz_config *c, const struct mz_iomem *io, uint64_t block_size,
			   uint64_t page_size, int node, enum mz_move_dir dir, const struct mz_backoffs *bo,
			   uint64_t now_ms, const unsigned long *skip, size_t nskip, size_t max_tally,
			   struct mz_candidate **out, size_t *n, struct mz_pick_stats *stats);
