/* online.h - the `memzone online` action: lock, fresh snapshot, decide, write, confirm, fall back */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Retries of an online write the kernel interrupted (EINTR) before giving up. */
#define MZ_ONLINE_EINTR_RETRIES 3

struct mz_online_stats {
	unsigned onlined;   /* offline -> online (any zone) */
	unsigned rezoned;   /* moved to the zone the policy wants */
	unsigned left;      /* nothing to do, or left on purpose (ignored source, already right...) */
	unsigned vanished;  /* removed before we got to it (ENOENT) */
	unsigned failed;    /* a write was refused, or a block could not be read */
	/* dax/kmem blocks left for daxctl or another agent for kmem_wait ([source kmem] zone = ignore,
	 * no daxctl config names their device): the caller decides them with mz_online_decide_waited
	 * once kmem_wait has passed. malloc'ed; the caller frees waiting. */
	unsigned long *waiting;
	size_t nwaiting;
};

/* For each block id, in order and under /run/memzone/lock: read a fresh snapshot, decide with the
 * policy, write the zone (falling back to the other zone when the kernel refuses and the decision
 * allows it), confirm through valid_zones, and log one line. REZONE decisions offline the block
 * (bounded by rebalance.offline_timeout) and online it in the new zone, or back in the old one.
 * builtin_defaults: c holds the built-in defaults because the config was broken (logged, and the
 * decisions carry reason builtin_defaults). The kernel's onlining settings are `memzone init`'s
 * alone (kmode.h, mz_online_disable_kernel_auto_online): nothing here writes them. When the lock
 * cannot be had within lock_timeout the blocks are still onlined (decided on a fresh snapshot) and
 * a warning says so: new memory is never left offline.
 * by the helper or memzoned (the blocks of add events): in kernel mode (kmode.h) the
 * kernel's own onlining of them is waited for first (bounded, without the lock); in userspace mode a
 * block onlined here is followed, under the same lock hold, by every other offline block of its device (each with its own decision, on zone totals
 * read once and carried forward by memzone's own movable onlines: see snapshot_for_sweep), and each of them gets a marker <root>/run/memzone/onlined/memoryN.ZONE that the udev
 * rule tests to skip the block's own event (see online.c for the markers' lifecycle: each such run
 * first drops the ones that can no longer stand for a decision). */
enum mz_online_by {
	MZ_ONLINE_BY_INIT,   /* memzone init: blocks that were offline already */
	MZ_ONLINE_BY_HELPER, /* the udev helper: its event's block; takes the block's marker */
	MZ_ONLINE_BY_DAEMON, /* memzoned: the blocks of the adds it read; leaves the markers to the rule,
			      * whose helpers they spare */
};
void mz_online_blocks(const struct mz_config *c, bool builtin_defaults, const unsigned long *ids, size_t n,
		      enum mz_online_by by, struct mz_online_stats *st);

/* The blocks of st->waiting that are still offline kmem_wait after they were left: decided by the
 * policy as if [source kmem] zone = policy (no agent onlined them). */
void mz_online_decide_waited(const struct mz_config *c, const unsigned long *ids, size_t n,
			     struct mz_online_stats *st);
/* The udev helper's way: poll st->waiting for up to kmem_wait (no lock held), then decide what is
 * still offline (mz_online_decide_waited); frees st->waiting. Counts go into *st. */
void mz_online_wait_kmem(const struct mz_config *c, struct mz_online_stats *st);

/* How long a marker of a block onlined ahead of its own udev event stays good. */
#define MZ_ONLINE_MARK_TTL_S 300

/* The udev event of a block that another block's helper already onlined (the device sweep above) whose
 * helper was started anyway (its event passed the rule before the marker existed): true, and the
 * marker gone, when the block is online and <root>/run/memzone/onlined/memoryN.ZONE names its zone
 * and is at most MZ_ONLINE_MARK_TTL_S old (a stale one is removed too). Cheap: no config, no lock,
 * no snapshot. */
bool mz_online_take_mark(unsigned long id);
/* The same test without taking the marker (memzoned: the rule still skips that block's event). */
bool mz_online_marked(unsigned long id);

/* Was offline block id offlined during this boot by someone else (udevdb.h)? Then mz_online_blocks
 * leaves it offline. memzoned, which reads the kernel's events ahead of udevd, puts its own check
 * here: a block it saw removed may still have its old database entry for a moment. */
extern bool (*mz_online_offlined_this_boot)(unsigned long id);

/* memzone init in userspace mode: set auto_online_blocks to "offline" if it is not, logging the old
 * value. 0, or -errno of the write (a kernel without the knob: 0, nothing to do). */
int mz_online_disable_kernel_auto_online(void);
