/* policy.h - PURE onlining decision: (config, snapshot, block, device) -> zone + reason. No I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "memblock.h"
#include "snapshot.h"

enum mz_action {
	MZ_ACTION_ONLINE_MOVABLE,   /* offline block -> write online_movable */
	MZ_ACTION_ONLINE_KERNEL,    /* offline block -> write online_kernel */
	MZ_ACTION_LEAVE,            /* nothing to do (already right, boot memory, ignored source, ...) */
	MZ_ACTION_REZONE_MOVABLE,   /* online in a kernel zone, policy wants movable: offline + online_movable */
	MZ_ACTION_REZONE_KERNEL,    /* online movable, policy wants kernel: offline + online_kernel */
};
const char *mz_action_name(enum mz_action a);

/* Machine-readable reason codes (stable strings via mz_reason_name, used in logs and JSON). */
enum mz_reason {
	MZ_REASON_DEFAULT_MOVABLE,
	MZ_REASON_DEFAULT_KERNEL,
	MZ_REASON_AUTO_WITHIN_RATIO,
	MZ_REASON_RATIO_CAP_NODE,
	MZ_REASON_RATIO_CAP_SYSTEM,
	MZ_REASON_MIN_KERNEL,
	MZ_REASON_MEMORY_ONLY_NODE,
	MZ_REASON_SOURCE_RULE,
	MZ_REASON_SOURCE_IGNORED,
	MZ_REASON_WHOLE_DEVICE,
	MZ_REASON_ONLY_ZONE_ALLOWED,
	MZ_REASON_NO_ZONE_ALLOWED,
	MZ_REASON_ALREADY_RIGHT,
	MZ_REASON_ALREADY_ONLINE_LEAVE,
	MZ_REASON_BOOT_MEMORY,
	MZ_REASON_NOT_SAFE_TO_FIX,
	MZ_REASON_BUILTIN_DEFAULTS,
	MZ_REASON_REBALANCER_MANAGES,
	MZ_REASON_KERNEL_MODE,
	MZ_REASON__COUNT,
};
const char *mz_reason_name(enum mz_reason r);

struct mz_decision {
	enum mz_action action;
	enum mz_zone zone;        /* target zone (MZ_ZONE_MOVABLE or MZ_ZONE_NORMAL-class kernel) */
	bool has_fallback;        /* when the preferred write is refused (EINVAL), try the other zone */
	enum mz_reason reason;
	char why[256];            /* one human sentence with the numbers that decided */
};

/* Decide for one block. dev may be NULL (device unknown: treated as [source other], no whole-device
 * rule). Offline blocks get ONLINE_*, or LEAVE (ignored source, valid_zones "none"); online blocks
 * get LEAVE or, for hot-added memory with already_online = fix while memzoned is not running,
 * REZONE_* when the policy judging them as if offline picks the other zone. */
void mz_policy_decide(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_block *b,
		      const struct mz_device_snap *dev, struct mz_decision *d);

/* Update the snapshot, block and device as if d had been carried out (for `memzone plan`, which
 * simulates a sequence of decisions, and for tests). */
void mz_policy_apply(struct mz_snapshot *s, struct mz_block *b, struct mz_device_snap *dev,
		     const struct mz_decision *d);

/* The node snapshot a block of `node` is judged against: that node, or the only node when the
 * block has no node link (kernels without NUMA); NULL when unknown. */
const struct mz_node_snap *mz_policy_node(const struct mz_snapshot *s, int node);

/* The cap arithmetic, shared with memzoned's pressure model so a give-back it decides is one the
 * check under the lock (mz_policy_giveback_fits) accepts. Movable counted against the cap: the kernel's
 * auto-movable policy counts present pages, managed is smaller only by memmap_on_memory's vmemmap. */
uint64_t mz_policy_movable(uint64_t present, uint64_t managed);
/* movable + add <= ratio% of kernel, without overflow for any 64-bit sizes */
bool mz_policy_within_ratio(uint64_t movable, uint64_t add, uint64_t kernel, unsigned ratio);

/* Movable memory counted against the cap: ZONE_MOVABLE (mz_policy_movable) plus the kernel zones'
 * CMA, which the kernel's auto-movable counts as movable. */
uint64_t mz_policy_movable_of(const struct mz_node_snap *n);
/* Kernel memory the cap is measured against (ratio_basis), CMA left out as the kernel does:
 *   boot:    kernel-zone memory present at boot (kernel_boot: present minus hot-added kernel blocks);
 *   current: kernel_boot plus hot-added memory the onlining policy put in kernel zones (blocks of
 *            devices with no Movable block, kernel_hot_policy): blocks memzoned harvested from Movable
 *            never raise the cap. Without the baseline (s->baseline_read false: no iomem) the
 *            managed kernel memory now. */
uint64_t mz_policy_kernel_basis(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_node_snap *n);

/* Would a give-back of `size` bytes (a hot-added block of `node` moved from a kernel zone to Movable)
 * keep movable within the cap onlining applies (ratio, whether or not memzoned runs; ratio_scope;
 * ratio_basis; a node without kernel memory against the system)? The same arithmetic as the onlining policy's, with
 * the block taken from kernel and added to movable. On false, why (may be NULL) names the cap and the
 * numbers. For memzoned's second look under /run/memzone/lock. */
bool mz_policy_giveback_fits(const struct mz_config *c, const struct mz_snapshot *s, int node, uint64_t size,
			     char *why, size_t whylen);

/* ONLINE_MOVABLE and REZONE_MOVABLE */
bool mz_action_is_movable(enum mz_action a);
