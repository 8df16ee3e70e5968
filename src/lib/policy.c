/* policy.c - PURE onlining decision: (config, snapshot, block, device) -> zone + reason. No I/O.
 *
 * Order of the rules for an offline block:
 *   1. [source X] zone = ignore         -> leave it to another agent (daxctl, a balloon driver)
 *   2. whole_device and the device already has online blocks -> follow them
 *   3. [source X] zone = movable|kernel -> that zone
 *   4. CPU-less node: memory_only_nodes = kernel -> kernel; = movable -> movable while min_kernel and
 *      the MOVABLE:KERNEL cap allow it, else kernel (the kernel's auto-movable onlines it Normal)
 *   5. default_zone = movable|kernel    -> that zone
 *   6. default_zone = auto: movable while min_kernel and the MOVABLE:KERNEL cap allow it
 *   7. valid_zones: the preferred zone not offered -> the other one; none -> leave
 * The cap is `ratio` whether or not memzoned runs: the zones chosen must be safe after memzoned
 * stops (it may be killed at any moment, and nothing then harvests kernel memory on demand). A node
 * without kernel memory in the basis has no cap of its own (any movable memory is over it, and the
 * kernel's NUMA-aware auto-movable onlines its memory Normal): its blocks are checked against the
 * system-wide cap, whatever ratio_scope says.
 * An online hot-added block is judged as if it were offline (its own share subtracted from the
 * sums, or its whole device's with whole_device) and rezoned when the answer differs, unless
 * memzoned is running: then it is memzoned's to move.
 */
#include "policy.h"
#include "units.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KERNEL_ZONES                                                                        \
	(MZ_ZONE_BIT(MZ_ZONE_DMA) | MZ_ZONE_BIT(MZ_ZONE_DMA32) | MZ_ZONE_BIT(MZ_ZONE_NORMAL) | \
	 MZ_ZONE_BIT(MZ_ZONE_HIGHMEM) | MZ_ZONE_BIT(MZ_ZONE_OTHER))
#define MOVABLE_ZONE MZ_ZONE_BIT(MZ_ZONE_MOVABLE)

static const char *const action_names[] = {
	[MZ_ACTION_ONLINE_MOVABLE] = "online_movable", [MZ_ACTION_ONLINE_KERNEL] = "online_kernel",
	[MZ_ACTION_LEAVE] = "leave",                   [MZ_ACTION_REZONE_MOVABLE] = "rezone_movable",
	[MZ_ACTION_REZONE_KERNEL] = "rezone_kernel",
};

static const char *const reason_names[MZ_REASON__COUNT] = {
	[MZ_REASON_DEFAULT_MOVABLE] = "default_movable",
	[MZ_REASON_DEFAULT_KERNEL] = "default_kernel",
	[MZ_REASON_AUTO_WITHIN_RATIO] = "auto_within_ratio",
	[MZ_REASON_RATIO_CAP_NODE] = "ratio_cap_node",
	[MZ_REASON_RATIO_CAP_SYSTEM] = "ratio_cap_system",
	[MZ_REASON_MIN_KERNEL] = "min_kernel",
	[MZ_REASON_MEMORY_ONLY_NODE] = "memory_only_node",
	[MZ_REASON_SOURCE_RULE] = "source_rule",
	[MZ_REASON_SOURCE_IGNORED] = "source_ignored",
	[MZ_REASON_WHOLE_DEVICE] = "whole_device",
	[MZ_REASON_ONLY_ZONE_ALLOWED] = "only_zone_allowed",
	[MZ_REASON_NO_ZONE_ALLOWED] = "no_zone_allowed",
	[MZ_REASON_ALREADY_RIGHT] = "already_right",
	[MZ_REASON_ALREADY_ONLINE_LEAVE] = "already_online_leave",
	[MZ_REASON_BOOT_MEMORY] = "boot_memory",
	[MZ_REASON_NOT_SAFE_TO_FIX] = "not_safe_to_fix",
	[MZ_REASON_BUILTIN_DEFAULTS] = "builtin_defaults",
	[MZ_REASON_REBALANCER_MANAGES] = "rebalancer_manages",
	[MZ_REASON_KERNEL_MODE] = "kernel_mode",
};

/* Source names as in memzone.conf; kept here so the policy needs nothing but headers. */
static const char *const source_names[MZ_SOURCE__COUNT] = {
	[MZ_SOURCE_BOOT] = "boot", [MZ_SOURCE_DIMM] = "dimm", [MZ_SOURCE_VIRTIO_MEM] = "virtio_mem",
	[MZ_SOURCE_KMEM] = "kmem", [MZ_SOURCE_OTHER] = "other",
};

const char *mz_action_name(enum mz_action a)
{
	return (unsigned)a < MZ_ARRAY_SIZE(action_names) ? action_names[a] : "unknown";
}

const char *mz_reason_name(enum mz_reason r)
{
	return (unsigned)r < MZ_REASON__COUNT ? reason_names[r] : "unknown";
}

bool mz_action_is_movable(enum mz_action a)
{
	return a == MZ_ACTION_ONLINE_MOVABLE || a == MZ_ACTION_REZONE_MOVABLE;
}

static void set_why(struct mz_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(struct mz_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

static void leave(struct mz_decision *d, enum mz_reason r)
{
	d->action = MZ_ACTION_LEAVE;
	d->zone = MZ_ZONE_NONE;
	d->has_fallback = false;
	d->reason = r;
}

static uint64_t sub_clamp(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

/* Hot-removable memory already counted against the cap. The kernel's auto-movable policy counts
 * present pages of ZONE_MOVABLE; managed is smaller only by memmap_on_memory's vmemmap. */
uint64_t mz_policy_movable(uint64_t present, uint64_t managed)
{
	return present > managed ? present : managed;
}

/* CMA in kernel zones counts as movable, as the kernel's auto-movable counts it */
uint64_t mz_policy_movable_of(const struct mz_node_snap *n)
{
	return mz_policy_movable(n->movable_present, n->movable_managed) + n->kernel_cma;
}

uint64_t mz_policy_kernel_basis(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_node_snap *n)
{
	uint64_t k;

	if (c->ratio_basis == MZ_BASIS_BOOT)
		k = n->kernel_boot;
	else if (s->baseline_read)
		k = n->kernel_boot + n->kernel_hot_policy;
	else
		k = n->kernel_managed; /* no iomem: hot-added memory cannot be told from boot memory */
	return sub_clamp(k, n->kernel_cma);
}

/* memzoned runs and moves blocks: with observe_only (its state file's, or this configuration's)
 * it harvests nothing. It owns the zone of online blocks then; it never changes the cap. */
static bool rebalancer_acts(const struct mz_config *c, const struct mz_snapshot *s)
{
	return s->rebalancer_running && !c->rebalance.observe_only;
}

static const char *scope_label(const struct mz_node_snap *n, char *buf, size_t len)
{
	if (n->id < 0)
		snprintf(buf, len, "system");
	else
		snprintf(buf, len, "node %d", n->id);
	return buf;
}

bool mz_policy_within_ratio(uint64_t movable, uint64_t add, uint64_t kernel, unsigned ratio)
{
	unsigned __int128 lhs = ((unsigned __int128)movable + add) * 100;

	return lhs <= (unsigned __int128)kernel * ratio;
}

/* Where the caps are checked: the block's node (if known) and/or the system. */
struct scope {
	const struct mz_node_snap *node;  /* NULL: the block's node is unknown */
	const struct mz_node_snap *total;
};

/* Check one level of the cap; on failure fill d with reason/why. */
static bool cap_level(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_node_snap *n,
		      uint64_t size, enum mz_reason fail_reason, struct mz_decision *d)
{
	unsigned ratio = c->ratio;
	char mv[16], sz[16], kn[16], lbl[16];
	uint64_t k = mz_policy_kernel_basis(c, s, n);

	if (mz_policy_within_ratio(mz_policy_movable_of(n), size, k, ratio))
		return true;
	d->reason = fail_reason;
	if (ratio == 0)
		set_why(d, "%s: ratio is 0, so no memory goes movable", scope_label(n, lbl, sizeof(lbl)));
	else
		set_why(d, "%s: movable %s + %s would exceed %u%% of %skernel %s", scope_label(n, lbl, sizeof(lbl)),
			mz_format_size(mz_policy_movable_of(n), mv, sizeof(mv)), mz_format_size(size, sz, sizeof(sz)), ratio,
			c->ratio_basis == MZ_BASIS_BOOT ? "boot " : "", mz_format_size(k, kn, sizeof(kn)));
	return false;
}

/* The levels of the cap for a node (n may be the system total standing in for it): the node's own
 * when ratio_scope has it and the node has kernel memory in the basis; the system's when
 * ratio_scope has it or the node has none. */
static bool caps_allow(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_node_snap *n,
		       const struct mz_node_snap *total, uint64_t size, struct mz_decision *d)
{
	bool node_has_kernel = mz_policy_kernel_basis(c, s, n) > 0;

	if (c->ratio_scope != MZ_SCOPE_SYSTEM && node_has_kernel &&
	    !cap_level(c, s, n, size, MZ_REASON_RATIO_CAP_NODE, d))
		return false;
	if ((c->ratio_scope != MZ_SCOPE_NODE || !node_has_kernel) &&
	    !cap_level(c, s, total, size, MZ_REASON_RATIO_CAP_SYSTEM, d))
		return false;
	return true;
}

/* default_zone = auto: may `size` bytes more go movable? On false, d->reason/why say why not;
 * on true, d->why says how much room was left. */
static bool movable_fits(const struct mz_config *c, const struct mz_snapshot *s, const struct scope *sc,
			 uint64_t size, struct mz_decision *d)
{
	/* Without a known node the system total stands in for it (a one-node machine is both). */
	const struct mz_node_snap *node = sc->node ? sc->node : sc->total;
	char a[16], b[16], lbl[16], mv[16], sz[16], kn[16];
	uint64_t node_total, min_k, pct_k;

	node_total = node->kernel_managed + mz_policy_movable_of(node) + size;
	pct_k = (uint64_t)((long double)node_total * c->min_kernel_percent / 100.0L);
	min_k = c->min_kernel > pct_k ? c->min_kernel : pct_k;
	if (node->kernel_managed < min_k) {
		d->reason = MZ_REASON_MIN_KERNEL;
		set_why(d, "%s: kernel %s is below the %s kept for kernel allocations (min_kernel%s)",
			scope_label(node, lbl, sizeof(lbl)), mz_format_size(node->kernel_managed, a, sizeof(a)),
			mz_format_size(min_k, b, sizeof(b)), pct_k > c->min_kernel ? "_percent" : "");
		return false;
	}
	if (!caps_allow(c, s, node, sc->total, size, d))
		return false;
	{
		const struct mz_node_snap *shown =
			c->ratio_scope == MZ_SCOPE_SYSTEM || mz_policy_kernel_basis(c, s, node) == 0 ? sc->total : node;

		d->reason = MZ_REASON_AUTO_WITHIN_RATIO;
		set_why(d, "%s: movable %s + %s stays within %u%% of %skernel %s",
			scope_label(shown, lbl, sizeof(lbl)), mz_format_size(mz_policy_movable_of(shown), mv, sizeof(mv)),
			mz_format_size(size, sz, sizeof(sz)), c->ratio, c->ratio_basis == MZ_BASIS_BOOT ? "boot " : "",
			mz_format_size(mz_policy_kernel_basis(c, s, shown), kn, sizeof(kn)));
	}
	return true;
}

/* Memory the helper cannot attribute to a hot-added device (hv_balloon, xen and ppc/s390 probe add
 * plain top-level "System RAM") is handled by the [source other] rule when it shows up offline. */
static enum mz_source rule_source(const struct mz_device_snap *dev)
{
	if (!dev || dev->source <= MZ_SOURCE_BOOT || dev->source >= MZ_SOURCE__COUNT)
		return MZ_SOURCE_OTHER;
	return dev->source;
}

static bool device_known(const struct mz_device_snap *dev)
{
	return dev && dev->n_blocks > 0;
}

/* What a capped decision weighs: with whole_device, every offline block of the device (its first
 * block decides for all of it, so a DIMM never ends half movable); else the block alone. */
static uint64_t capped_size(const struct mz_source_rule *rule, const struct mz_device_snap *dev, uint64_t bs)
{
	return rule->whole_device && device_known(dev) && dev->n_offline > 1 ? (uint64_t)dev->n_offline * bs : bs;
}

/* Would this source's blocks go through the capped auto policy (rules 3-6)? */
static bool source_is_auto(const struct mz_config *c, const struct mz_source_rule *rule, const struct scope *sc)
{
	if (rule->zone != MZ_SRCZONE_POLICY)
		return false;
	if (sc->node && !sc->node->has_cpu && c->memory_only_nodes != MZ_MEMONLY_POLICY)
		return c->memory_only_nodes == MZ_MEMONLY_MOVABLE;
	return c->default_zone == MZ_DEFAULT_AUTO;
}

static enum mz_zone kernel_zone_of(const struct mz_block *b)
{
	if (mz_zone_is_kernel(b->zone) && (b->zones & MZ_ZONE_BIT(b->zone)))
		return b->zone;
	if (b->zones & MZ_ZONE_BIT(MZ_ZONE_NORMAL) || !(b->zones & KERNEL_ZONES))
		return MZ_ZONE_NORMAL;
	for (int z = MZ_ZONE_DMA; z < MZ_ZONE__COUNT; z++)
		if ((b->zones & MZ_ZONE_BIT(z)) && mz_zone_is_kernel((enum mz_zone)z))
			return (enum mz_zone)z;
	return MZ_ZONE_NORMAL;
}

/* Preferred zone chosen: apply valid_zones and set the fallback. */
static void finish_offline(const struct mz_block *b, bool movable, struct mz_decision *d)
{
	bool m_ok = b->zones & MOVABLE_ZONE, k_ok = b->zones & KERNEL_ZONES;
	char prev[sizeof(d->why)];

	if (!m_ok && !k_ok) {
		leave(d, MZ_REASON_NO_ZONE_ALLOWED);
		set_why(d, "valid_zones is 'none': the kernel cannot online this block in any zone");
		return;
	}
	if (movable ? !m_ok : !k_ok) {
		memcpy(prev, d->why, sizeof(prev));
		d->reason = MZ_REASON_ONLY_ZONE_ALLOWED;
		set_why(d, "valid_zones offers only %s, not the %s zone the policy chose (%s)",
			movable ? mz_zone_name(kernel_zone_of(b)) : "Movable", movable ? "Movable" : "kernel", prev);
		movable = !movable;
	}
	d->action = movable ? MZ_ACTION_ONLINE_MOVABLE : MZ_ACTION_ONLINE_KERNEL;
	d->zone = movable ? MZ_ZONE_MOVABLE : kernel_zone_of(b);
	/* New memory is never left offline: if the kernel refuses the preferred zone after all
	 * (valid_zones changed under us), the other one is better than nothing. */
	d->has_fallback = movable ? k_ok : m_ok;
}

static void decide_offline(const struct mz_config *c, const struct mz_snapshot *s, const struct scope *sc,
			   const struct mz_block *b, const struct mz_device_snap *dev, struct mz_decision *d)
{
	enum mz_source src = rule_source(dev);
	const struct mz_source_rule *rule = &c->source[src];
	uint64_t bs = s->block_size;
	char sz[16];

	if (rule->zone == MZ_SRCZONE_IGNORE) {
		leave(d, MZ_REASON_SOURCE_IGNORED);
		set_why(d, "[source %s] zone = ignore: the block is left to another agent", source_names[src]);
		return;
	}

	if (rule->whole_device && device_known(dev) && dev->n_kernel + dev->n_movable > 0) {
		unsigned online = dev->n_kernel + dev->n_movable;

		/* Like the kernel's auto-movable policy for memory groups: anything kernel keeps the rest
		 * kernel (the device cannot be unplugged anyway); all-movable goes on while the rest of the
		 * device still fits the caps. */
		if (dev->n_kernel > 0) {
			d->reason = MZ_REASON_WHOLE_DEVICE;
			set_why(d, "device %s already has %u of %u blocks online in kernel zones", dev->name,
				dev->n_kernel, dev->n_blocks);
			finish_offline(b, false, d);
			return;
		}
		if (source_is_auto(c, rule, sc)) {
			uint64_t rest = (uint64_t)(dev->n_offline ? dev->n_offline : 1) * bs;

			if (!movable_fits(c, s, sc, rest, d)) {
				char prev[sizeof(d->why)];

				memcpy(prev, d->why, sizeof(prev));
				set_why(d, "device %s has %u blocks in Movable but its remaining %s no longer fit: %s",
					dev->name, online, mz_format_size(rest, sz, sizeof(sz)), prev);
				finish_offline(b, false, d);
				return;
			}
		}
		d->reason = MZ_REASON_WHOLE_DEVICE;
		set_why(d, "device %s already has %u of %u blocks online in Movable", dev->name, online, dev->n_blocks);
		finish_offline(b, true, d);
		return;
	}

	if (rule->zone == MZ_SRCZONE_MOVABLE || rule->zone == MZ_SRCZONE_KERNEL) {
		d->reason = MZ_REASON_SOURCE_RULE;
		set_why(d, "[source %s] zone = %s", source_names[src],
			rule->zone == MZ_SRCZONE_MOVABLE ? "movable" : "kernel");
		finish_offline(b, rule->zone == MZ_SRCZONE_MOVABLE, d);
		return;
	}

	if (sc->node && !sc->node->has_cpu && c->memory_only_nodes == MZ_MEMONLY_KERNEL) {
		d->reason = MZ_REASON_MEMORY_ONLY_NODE;
		set_why(d, "node %d has no CPUs and memory_only_nodes = kernel", sc->node->id);
		finish_offline(b, false, d);
		return;
	}
	if (sc->node && !sc->node->has_cpu && c->memory_only_nodes == MZ_MEMONLY_MOVABLE) {
		/* movable while the caps allow (a CXL-like node has no kernel memory of its own: the
		 * system-wide cap), else kernel: never more Movable than the kernel memory can serve */
		uint64_t size = capped_size(rule, dev, bs);
		bool fits = movable_fits(c, s, sc, size, d);
		char prev[sizeof(d->why)];

		memcpy(prev, d->why, sizeof(prev));
		if (fits)
			d->reason = MZ_REASON_MEMORY_ONLY_NODE;
		set_why(d, "node %d has no CPUs and memory_only_nodes = movable%s: %s%s", sc->node->id,
			fits ? "" : ", but the caps hold it in a kernel zone", size > bs ? "whole device: " : "", prev);
		finish_offline(b, fits, d);
		return;
	}

	if (c->default_zone != MZ_DEFAULT_AUTO) {
		bool mov = c->default_zone == MZ_DEFAULT_MOVABLE;

		d->reason = mov ? MZ_REASON_DEFAULT_MOVABLE : MZ_REASON_DEFAULT_KERNEL;
		set_why(d, "default_zone = %s", mov ? "movable" : "kernel");
		finish_offline(b, mov, d);
		return;
	}

	/* auto: movable while the caps allow it */
	{
		uint64_t size = capped_size(rule, dev, bs);
		bool fits = movable_fits(c, s, sc, size, d);

		if (size > bs) {
			char prev[sizeof(d->why)];

			memcpy(prev, d->why, sizeof(prev));
			set_why(d, "whole device %s (%u blocks): %s", dev->name, dev->n_offline, prev);
		}
		finish_offline(b, fits, d);
	}
}

static void scope_of(const struct mz_snapshot *s, const struct mz_block *b, struct scope *sc)
{
	sc->total = &s->total;
	sc->node = mz_policy_node(s, b->node);
}

/* Index of the node a block of `node` is judged against, or -1 */
static long node_index(const struct mz_snapshot *s, int node)
{
	for (size_t i = 0; s->nodes && i < s->nnodes; i++)
		if (s->nodes[i].id == node)
			return (long)i;
	/* No node link (kernel without NUMA): a single node is the block's node. */
	if (node < 0 && s->nodes && s->nnodes == 1)
		return 0;
	return -1;
}

const struct mz_node_snap *mz_policy_node(const struct mz_snapshot *s, int node)
{
	long i = node_index(s, node);

	return i < 0 ? NULL : &s->nodes[i];
}

static void node_sub(struct mz_node_snap *n, uint64_t kernel, uint64_t movable)
{
	n->kernel_managed = sub_clamp(n->kernel_managed, kernel);
	n->kernel_present = sub_clamp(n->kernel_present, kernel);
	n->kernel_free = sub_clamp(n->kernel_free, kernel);
	n->movable_managed = sub_clamp(n->movable_managed, movable);
	n->movable_present = sub_clamp(n->movable_present, movable);
	n->movable_free = sub_clamp(n->movable_free, movable);
	/* kernel_boot never contains hot-added blocks: nothing to take away. A hot-added kernel block
	 * taken away may have counted in kernel_hot_policy (ratio_basis = current): take it from there
	 * too, which can only lower the basis */
	n->kernel_hot_policy = sub_clamp(n->kernel_hot_policy, kernel);
}

/* Offlining needs somewhere to migrate the block's pages to: the rest of the node must have that
 * much free memory above the kernel's high watermark. */
static bool safe_to_offline(const struct mz_snapshot *s, const struct scope *sc, bool from_kernel,
			    struct mz_decision *d)
{
	const struct mz_node_snap *n = sc->node ? sc->node : sc->total;
	uint64_t bs = s->block_size;
	uint64_t room = from_kernel ? n->kernel_free : n->kernel_free + n->movable_free;
	char fr[16], need[16], lbl[16];

	if (room >= bs + n->kernel_high)
		return true;
	leave(d, MZ_REASON_NOT_SAFE_TO_FIX);
	set_why(d, "%s: only %s free %s, too little to migrate a %s block off it (needs block + high watermark)",
		scope_label(n, lbl, sizeof(lbl)), mz_format_size(room, fr, sizeof(fr)),
		from_kernel ? "in kernel zones" : "in total", mz_format_size(bs, need, sizeof(need)));
	return false;
}

static void decide_online(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_block *b,
			  const struct mz_device_snap *dev, struct mz_decision *d)
{
	bool cur_movable = b->zone == MZ_ZONE_MOVABLE, whole;
	struct mz_node_snap node_copy, total_copy;
	struct mz_device_snap dev_copy;
	struct mz_block b_copy;
	struct mz_decision want;
	struct scope sc;
	uint64_t sub_k = 0, sub_m = 0, bs = s->block_size;

	if (b->state != MZ_BLOCK_ONLINE) {
		leave(d, MZ_REASON_NOT_SAFE_TO_FIX);
		set_why(d, "block is %s: another agent is changing it",
			b->state == MZ_BLOCK_GOING_OFFLINE ? "going-offline" : "in an unknown state");
		return;
	}
	if (!dev || dev->source == MZ_SOURCE_BOOT || dev->source >= MZ_SOURCE__COUNT) {
		leave(d, MZ_REASON_BOOT_MEMORY);
		set_why(d, "online boot memory is never rezoned by the onlining policy");
		return;
	}
	if (c->source[dev->source].zone == MZ_SRCZONE_IGNORE) {
		leave(d, MZ_REASON_SOURCE_IGNORED);
		set_why(d, "[source %s] zone = ignore: the block is left to another agent", source_names[dev->source]);
		return;
	}
	if (b->zone == MZ_ZONE_NONE || b->zone == MZ_ZONE_DEVICE) {
		leave(d, MZ_REASON_NOT_SAFE_TO_FIX);
		set_why(d, "online in zone '%s', which memzone cannot move", mz_zone_name(b->zone));
		return;
	}
	if (c->already_online == MZ_ALREADY_LEAVE) {
		leave(d, MZ_REASON_ALREADY_ONLINE_LEAVE);
		set_why(d, "already online in %s and already_online = leave", mz_zone_name(b->zone));
		return;
	}
	/* memzoned owns the zone of online memory: it may have put this block where it is for kernel
	 * pressure the helper cannot see (a replayed add event, or a sibling's helper, would undo the
	 * harvest, and memzoned would harvest again); it gives kernel blocks back when pressure allows */
	if (rebalancer_acts(c, s)) {
		leave(d, MZ_REASON_REBALANCER_MANAGES);
		set_why(d, "already online in %s and memzoned is running: it moves online blocks between the zones "
			"as kernel-memory pressure changes", mz_zone_name(b->zone));
		return;
	}

	/* Judge it as if it were offline. With whole_device, the whole device is taken out, so every
	 * block of an auto-onlined DIMM reaches the same answer whichever is judged first. */
	whole = c->source[dev->source].whole_device && device_known(dev);
	if (whole) {
		sub_k = (uint64_t)dev->n_kernel * bs;
		sub_m = (uint64_t)dev->n_movable * bs;
	}
	if (cur_movable && sub_m < bs)
		sub_m = bs;
	if (!cur_movable && sub_k < bs)
		sub_k = bs;

	scope_of(s, b, &sc);
	total_copy = s->total;
	node_sub(&total_copy, sub_k, sub_m);
	if (sc.node) {
		node_copy = *sc.node;
		node_sub(&node_copy, sub_k, sub_m);
	}
	{
		struct scope as_offline = { sc.node ? &node_copy : NULL, &total_copy };

		dev_copy = *dev;
		if (whole) {
			dev_copy.n_offline = dev->n_blocks;
			dev_copy.n_kernel = dev_copy.n_movable = 0;
		} else {
			dev_copy.n_offline++;
			if (cur_movable && dev_copy.n_movable)
				dev_copy.n_movable--;
			else if (!cur_movable && dev_copy.n_kernel)
				dev_copy.n_kernel--;
		}
		dev_copy.zone = MZ_ZONE_NONE;
		dev_copy.mixed = dev_copy.n_kernel && dev_copy.n_movable;
		if (!dev_copy.mixed && dev_copy.n_kernel + dev_copy.n_movable > 0)
			dev_copy.zone = dev_copy.n_movable ? MZ_ZONE_MOVABLE : MZ_ZONE_NORMAL;

		b_copy = *b;
		b_copy.state = MZ_BLOCK_OFFLINE;
		/* valid_zones of an online block lists its own zone only; once offline both are offered */
		b_copy.zones = MOVABLE_ZONE | MZ_ZONE_BIT(cur_movable ? MZ_ZONE_NORMAL : b->zone);
		memset(&want, 0, sizeof(want));
		decide_offline(c, s, &as_offline, &b_copy, &dev_copy, &want);
	}

	if (want.action == MZ_ACTION_LEAVE) {
		*d = want;
		return;
	}
	if (mz_action_is_movable(want.action) == cur_movable) {
		leave(d, MZ_REASON_ALREADY_RIGHT);
		set_why(d, "already online in %s, as the policy wants: %s", mz_zone_name(b->zone), want.why);
		return;
	}
	/* Kernel mode (kmode.h): the kernel applied this policy in its own terms, and its memory groups'
	 * accounting (kernel memory of a virtio-mem device lets more of that device be movable) is
	 * finer than the judgement of one block: the audit reports the difference and leaves the
	 * block, instead of undoing the kernel's choice on every event. */
	if (s->kernel_mode) {
		leave(d, MZ_REASON_KERNEL_MODE);
		set_why(d, "onlined in %s by the kernel's auto-movable policy (kernel mode); judged alone this block "
			"would go %s: %s", mz_zone_name(b->zone), cur_movable ? "to a kernel zone" : "Movable", want.why);
		return;
	}
	if (!safe_to_offline(s, &sc, !cur_movable, d))
		return;
	d->action = cur_movable ? MZ_ACTION_REZONE_KERNEL : MZ_ACTION_REZONE_MOVABLE;
	d->zone = cur_movable ? MZ_ZONE_NORMAL : MZ_ZONE_MOVABLE;
	d->reason = want.reason;
	d->has_fallback = true; /* refused in the new zone: back online in the old one */
	set_why(d, "online in %s but the policy wants %s: %s", mz_zone_name(b->zone),
		cur_movable ? "a kernel zone" : "Movable", want.why);
}

bool mz_policy_giveback_fits(const struct mz_config *c, const struct mz_snapshot *s, int node, uint64_t size,
			     char *why, size_t whylen)
{
	const struct mz_node_snap *n = mz_policy_node(s, node);
	struct mz_node_snap node_after, total_after = s->total;
	struct mz_decision d;
	bool ok = true;

	memset(&d, 0, sizeof(d));
	/* after the move: the block out of kernel (kernel_boot never held it), then checked as `size`
	 * more movable, like a new block; without a known node the system stands in for it */
	node_sub(&total_after, size, 0);
	if (n) {
		node_after = *n;
		node_sub(&node_after, size, 0);
	}
	ok = caps_allow(c, s, n ? &node_after : &total_after, &total_after, size, &d);
	if (!ok && why)
		snprintf(why, whylen, "%s", d.why);
	return ok;
}

void mz_policy_decide(const struct mz_config *c, const struct mz_snapshot *s, const struct mz_block *b,
		      const struct mz_device_snap *dev, struct mz_decision *d)
{
	struct scope sc;

	memset(d, 0, sizeof(*d));
	if (b->state != MZ_BLOCK_OFFLINE) {
		decide_online(c, s, b, dev, d);
		return;
	}
	scope_of(s, b, &sc);
	decide_offline(c, s, &sc, b, dev, d);
}

static void node_add(struct mz_node_snap *n, enum mz_action a, uint64_t bs)
{
	switch (a) {
	case MZ_ACTION_ONLINE_MOVABLE:
		n->movable_managed += bs;
		n->movable_present += bs;
		n->movable_free += bs;
		break;
	case MZ_ACTION_ONLINE_KERNEL:
		n->kernel_managed += bs;
		n->kernel_present += bs;
		n->kernel_free += bs;
		break;
	case MZ_ACTION_REZONE_MOVABLE: {
		uint64_t hot = n->kernel_hot_policy; /* mz_policy_apply accounts for it */

		node_sub(n, bs, 0);
		n->kernel_hot_policy = hot;
		node_add(n, MZ_ACTION_ONLINE_MOVABLE, bs);
		break;
	}
	case MZ_ACTION_REZONE_KERNEL:
		node_sub(n, 0, bs);
		node_add(n, MZ_ACTION_ONLINE_KERNEL, bs);
		break;
	case MZ_ACTION_LEAVE:
		break;
	}
}

/* What a device adds to kernel_hot_policy (ratio_basis = current), as mz_snapshot_boot_baseline
 * counts it: its kernel blocks while it has no Movable block. A block without a known device is
 * its own device. */
static uint64_t hot_policy_of(const struct mz_device_snap *dev, bool kernel, uint64_t bs)
{
	if (!dev)
		return kernel ? bs : 0;
	return dev->n_movable ? 0 : (uint64_t)dev->n_kernel * bs;
}

static void hot_policy_shift(struct mz_node_snap *n, uint64_t before, uint64_t after)
{
	n->kernel_hot_policy = sub_clamp(n->kernel_hot_policy + after, before);
}

void mz_policy_apply(struct mz_snapshot *s, struct mz_block *b, struct mz_device_snap *dev,
		     const struct mz_decision *d)
{
	long ni = node_index(s, b->node);
	bool movable = mz_action_is_movable(d->action);
	uint64_t hot_before, hot_after;

	if (d->action == MZ_ACTION_LEAVE)
		return;
	hot_before = hot_policy_of(dev, b->state == MZ_BLOCK_ONLINE && mz_zone_is_kernel(b->zone), s->block_size);
	if (ni >= 0)
		node_add(&s->nodes[ni], d->action, s->block_size);
	node_add(&s->total, d->action, s->block_size);
	if (dev) {
		if (d->action == MZ_ACTION_ONLINE_MOVABLE || d->action == MZ_ACTION_ONLINE_KERNEL) {
			if (dev->n_offline)
				dev->n_offline--;
		} else if (movable && dev->n_kernel) {
			dev->n_kernel--;
		} else if (!movable && dev->n_movable) {
			dev->n_movable--;
		}
		if (movable)
			dev->n_movable++;
		else
			dev->n_kernel++;
		dev->mixed = dev->n_kernel && dev->n_movable;
		dev->zone = dev->mixed ? MZ_ZONE_NONE : movable ? MZ_ZONE_MOVABLE : d->zone;
	}
	hot_after = hot_policy_of(dev, !movable, s->block_size);
	if (ni >= 0)
		hot_policy_shift(&s->nodes[ni], hot_before, hot_after);
	hot_policy_shift(&s->total, hot_before, hot_after);
	b->state = MZ_BLOCK_ONLINE;
	b->zone = d->zone;
	b->zones = MZ_ZONE_BIT(d->zone);
}
