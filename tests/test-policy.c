/* test-policy.c - the pure onlining policy against hand-built snapshots: every rule and its edges */
#include "config.h"
#include "kmode.h"
#include "policy.h"
#include "tap.h"
#include "util.h"

#include <string.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define BS (128 * MiB)

static struct mz_config cfg;
static struct mz_node_snap nodes[4];
static struct mz_snapshot snap;
static struct mz_block blk;
static struct mz_device_snap dev;
static struct mz_decision d;

/* Every [online] key set explicitly: the test does not depend on the shipped defaults. */
static void reset_config(void)
{
	mz_config_defaults(&cfg);
	cfg.default_zone = MZ_DEFAULT_AUTO;
	cfg.ratio = 301;
	cfg.ratio_scope = MZ_SCOPE_BOTH;
	cfg.ratio_basis = MZ_BASIS_CURRENT;
	cfg.ratio_with_rebalancer = 301;
	cfg.min_kernel = 0;
	cfg.min_kernel_percent = 0;
	cfg.memory_only_nodes = MZ_MEMONLY_MOVABLE;
	cfg.already_online = MZ_ALREADY_FIX;
	cfg.kernel_auto_online = MZ_KAO_DISABLE;
	for (int i = 0; i < MZ_SOURCE__COUNT; i++)
		cfg.source[i] = (struct mz_source_rule){ MZ_SRCZONE_POLICY, true };
}

static void set_node(int i, uint64_t kernel, uint64_t movable)
{
	struct mz_node_snap *n = &nodes[i];

	memset(n, 0, sizeof(*n));
	n->id = i;
	n->has_cpu = true;
	n->kernel_managed = n->kernel_present = n->kernel_boot = kernel;
	n->movable_managed = n->movable_present = movable;
	n->kernel_free = kernel / 2;
	n->kernel_high = kernel / 100;
	n->movable_free = movable / 2;
}

/* Recompute the system total from the nodes (as the snapshot reader does). */
static void sum_total(void)
{
	memset(&snap.total, 0, sizeof(snap.total));
	snap.total.id = -1;
	snap.total.has_cpu = true;
	for (size_t i = 0; i < snap.nnodes; i++) {
		snap.total.kernel_managed += nodes[i].kernel_managed;
		snap.total.kernel_present += nodes[i].kernel_present;
		snap.total.kernel_boot += nodes[i].kernel_boot;
		snap.total.movable_managed += nodes[i].movable_managed;
		snap.total.movable_present += nodes[i].movable_present;
		snap.total.kernel_free += nodes[i].kernel_free;
		snap.total.kernel_high += nodes[i].kernel_high;
		snap.total.movable_free += nodes[i].movable_free;
	}
}

/* One node with `kernel` and `movable` bytes, one offline DIMM block of a 1-block device. */
static void setup(uint64_t kernel, uint64_t movable)
{
	reset_config();
	memset(&snap, 0, sizeof(snap));
	snap.page_size = 4096;
	snap.block_size = BS;
	snap.nodes = nodes;
	snap.nnodes = 1;
	set_node(0, kernel, movable);
	sum_total();

	memset(&blk, 0, sizeof(blk));
	blk.id = 100;
	blk.start = 100 * BS;
	blk.state = MZ_BLOCK_OFFLINE;
	blk.zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
	blk.zone = MZ_ZONE_NORMAL;
	blk.node = 0;
	blk.phys_device = 0;

	memset(&dev, 0, sizeof(dev));
	dev.source = MZ_SOURCE_DIMM;
	snprintf(dev.name, sizeof(dev.name), "PNP0C80:00");
	dev.start = blk.start;
	dev.end = blk.start + BS - 1;
	dev.first_block = dev.last_block = 100;
	dev.n_blocks = dev.n_offline = 1;
}

/* A device of n blocks, `movable`/`kernel` of them online, the rest offline. */
static void set_device(unsigned n, unsigned movable, unsigned kernel)
{
	dev.n_blocks = n;
	dev.n_movable = movable;
	dev.n_kernel = kernel;
	dev.n_offline = n - movable - kernel;
	dev.last_block = dev.first_block + n - 1;
	dev.end = dev.start + (uint64_t)n * BS - 1;
	dev.mixed = movable && kernel;
	dev.zone = dev.mixed ? MZ_ZONE_NONE : movable ? MZ_ZONE_MOVABLE : kernel ? MZ_ZONE_NORMAL : MZ_ZONE_NONE;
}

/* Make blk an online block in zone z (its pages are already in the node sums). */
static void make_online(enum mz_zone z)
{
	blk.state = MZ_BLOCK_ONLINE;
	blk.zone = z;
	blk.zones = MZ_ZONE_BIT(z);
}

static void decide(void)
{
	mz_policy_decide(&cfg, &snap, &blk, &dev, &d);
}

#define expect(act, rsn, what)                                                                       \
	do {                                                                                         \
		decide();                                                                            \
		is_str(mz_action_name(d.action), mz_action_name(act), "%s: action", what);           \
		is_str(mz_reason_name(d.reason), mz_reason_name(rsn), "%s: reason", what);           \
		if (d.action != (act) || d.reason != (rsn))                                          \
			diag("why: %s", d.why);                                                      \
	} while (0)

static void test_names(void)
{
	is_str(mz_action_name(MZ_ACTION_ONLINE_MOVABLE), "online_movable", "action name");
	is_str(mz_action_name(MZ_ACTION_REZONE_KERNEL), "rezone_kernel", "action name");
	is_str(mz_action_name((enum mz_action)99), "unknown", "out-of-range action");
	for (int r = 0; r < MZ_REASON__COUNT; r++)
		ok(strcmp(mz_reason_name((enum mz_reason)r), "unknown") != 0, "reason %d has a name (%s)", r,
		   mz_reason_name((enum mz_reason)r));
	is_str(mz_reason_name(MZ_REASON_BUILTIN_DEFAULTS), "builtin_defaults", "reason name");
	is_str(mz_reason_name(MZ_REASON__COUNT), "unknown", "out-of-range reason");
}

static void test_ratio_edges(void)
{
	/* kernel 1G, ratio 300: the cap is 3G of movable. */
	setup(1 * GiB, 3 * GiB - BS);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "exactly at the cap");
	is_int(d.zone, MZ_ZONE_MOVABLE, "exactly at the cap: zone Movable");
	ok(d.has_fallback, "movable falls back to kernel when refused");
	is_str(d.why, "node 0: movable 2.9G + 128M stays within 300% of kernel 1G", "why names the numbers");

	setup(1 * GiB, 3 * GiB - BS + 4096);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "one page over the cap");
	is_int(d.zone, MZ_ZONE_NORMAL, "over the cap: zone Normal");
	is_str(d.why, "node 0: movable 2.9G + 128M would exceed 300% of kernel 1G", "why of the cap");

	setup(1 * GiB, 3 * GiB);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "cap full, one block over");

	setup(0, 0);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM,
	       "node without kernel memory: no cap of its own, the system's (no kernel anywhere here)");

	setup(64 * GiB, 0);
	cfg.ratio = 0;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "ratio 0: never movable");
	ok(strstr(d.why, "ratio is 0") != NULL, "why says ratio is 0 (%s)", d.why);

	/* huge numbers must not overflow the comparison */
	setup(UINT64_MAX / 2, UINT64_MAX / 4);
	cfg.ratio = 1000000;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "no overflow with exabyte sizes");
}

static void test_valid_zones(void)
{
	setup(1 * GiB, 8 * GiB); /* the cap wants kernel */
	blk.zones = MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
	blk.zone = MZ_ZONE_MOVABLE;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_ONLY_ZONE_ALLOWED, "only Movable offered, policy wants kernel");
	ok(!d.has_fallback, "no fallback when the other zone is not offered");
	ok(strstr(d.why, "offers only Movable") && strstr(d.why, "would exceed"), "why keeps the policy's reason (%s)",
	   d.why);

	setup(1 * GiB, 0); /* the cap allows movable */
	blk.zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_ONLY_ZONE_ALLOWED, "only Normal offered, policy wants movable");
	is_int(d.zone, MZ_ZONE_NORMAL, "kernel zone named by valid_zones");

	setup(1 * GiB, 8 * GiB);
	blk.zones = MZ_ZONE_BIT(MZ_ZONE_DMA32) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
	blk.zone = MZ_ZONE_DMA32;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "DMA32 offered as the kernel zone");
	is_int(d.zone, MZ_ZONE_DMA32, "target zone DMA32");
	ok(d.has_fallback, "kernel falls back to movable when Movable is offered");

	setup(1 * GiB, 0);
	blk.zones = 0;
	blk.zone = MZ_ZONE_NONE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_NO_ZONE_ALLOWED, "valid_zones none");
	ok(!d.has_fallback, "none: no fallback");

	setup(1 * GiB, 0);
	cfg.source[MZ_SOURCE_DIMM].zone = MZ_SRCZONE_MOVABLE;
	blk.zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_ONLY_ZONE_ALLOWED, "source rule movable, only Normal offered");
}

static void test_already_online(void)
{
	/* boot memory is never touched */
	setup(4 * GiB, 0);
	dev.source = MZ_SOURCE_BOOT;
	dev.name[0] = '\0';
	make_online(MZ_ZONE_NORMAL);
	expect(MZ_ACTION_LEAVE, MZ_REASON_BOOT_MEMORY, "online boot block, fix");
	cfg.already_online = MZ_ALREADY_LEAVE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_BOOT_MEMORY, "online boot block, leave");
	mz_policy_decide(&cfg, &snap, &blk, NULL, &d);
	is_int(d.action, MZ_ACTION_LEAVE, "online block of an unknown device: left alone");

	/* hot-added, online in Normal (kernel auto-online), policy wants movable */
	setup(4 * GiB, 0);
	set_node(0, 4 * GiB + BS, 0); /* the block's own 128M is in the kernel sums */
	sum_total();
	make_online(MZ_ZONE_NORMAL);
	set_device(1, 0, 1);
	expect(MZ_ACTION_REZONE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "hot-added in Normal, fix");
	is_int(d.zone, MZ_ZONE_MOVABLE, "rezone target Movable");
	ok(d.has_fallback, "rezone falls back to the old zone");
	ok(strstr(d.why, "node 0: movable 0B + 128M stays within 301% of kernel 4G") != NULL,
	   "own contribution subtracted from the kernel sum (%s)", d.why);
	cfg.already_online = MZ_ALREADY_LEAVE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_ONLINE_LEAVE, "hot-added in Normal, leave");
	/* kernel mode: the kernel's choice stands, the audit says how the block alone would be judged */
	cfg.already_online = MZ_ALREADY_FIX;
	snap.kernel_mode = true;
	expect(MZ_ACTION_LEAVE, MZ_REASON_KERNEL_MODE, "hot-added in Normal by the kernel in kernel mode: left");
	ok(strstr(d.why, "judged alone this block would go Movable") != NULL, "kernel mode: the audit says it (%s)", d.why);
	snap.kernel_mode = false;

	/* memzoned running: it owns the zone of online blocks (a block it harvested to Normal, the rest
	 * of its DIMM in Movable, must not be rezoned back by a replayed add event) */
	setup(4 * GiB, 0);
	set_node(0, 4 * GiB + BS, 7 * BS);
	sum_total();
	make_online(MZ_ZONE_NORMAL);
	set_device(8, 7, 1);
	expect(MZ_ACTION_REZONE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "harvested block, memzoned not running: rezoned as before");
	snap.rebalancer_running = true;
	expect(MZ_ACTION_LEAVE, MZ_REASON_REBALANCER_MANAGES, "harvested block, memzoned running: left where it is");
	ok(strstr(d.why, "memzoned is running") != NULL && strstr(d.why, "Normal") != NULL, "why says so (%s)", d.why);
	/* an observing memzoned moves nothing: the block is judged as without it */
	cfg.rebalance.observe_only = true;
	expect(MZ_ACTION_REZONE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO,
	       "harvested block, memzoned running with observe_only: rezoned as without it");
	cfg.rebalance.observe_only = false;
	cfg.already_online = MZ_ALREADY_LEAVE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_ONLINE_LEAVE, "memzoned running, already_online = leave: that reason");
	cfg.already_online = MZ_ALREADY_FIX;
	blk.state = MZ_BLOCK_GOING_OFFLINE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_NOT_SAFE_TO_FIX, "memzoned running, block going offline: another agent's");
	/* a movable block over the cap is memzoned's too (it harvests under pressure) */
	setup(1 * GiB, 3 * GiB + 4096);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	make_online(MZ_ZONE_MOVABLE);
	set_device(1, 1, 0);
	snap.rebalancer_running = true;
	expect(MZ_ACTION_LEAVE, MZ_REASON_REBALANCER_MANAGES, "movable block over the cap, memzoned running: left");
	snap.rebalancer_running = false;
	expect(MZ_ACTION_REZONE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "movable block over the cap, memzoned not running: rezoned");
	/* boot memory keeps its own reason */
	setup(4 * GiB, 0);
	dev.source = MZ_SOURCE_BOOT;
	make_online(MZ_ZONE_NORMAL);
	snap.rebalancer_running = true;
	expect(MZ_ACTION_LEAVE, MZ_REASON_BOOT_MEMORY, "online boot block, memzoned running");

	/* online Movable at exactly the cap counting itself: already right (not rezoned to kernel) */
	setup(1 * GiB, 3 * GiB);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	make_online(MZ_ZONE_MOVABLE);
	set_device(1, 1, 0);
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_RIGHT, "movable block that is within the cap with itself");
	/* ... one page more and it is over: rezone to kernel */
	set_node(0, 1 * GiB, 3 * GiB + 4096);
	sum_total();
	expect(MZ_ACTION_REZONE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "movable block over the cap");
	is_int(d.zone, MZ_ZONE_NORMAL, "rezone target a kernel zone");

	/* kernel block that the policy wants in kernel */
	setup(1 * GiB, 3 * GiB);
	make_online(MZ_ZONE_NORMAL);
	set_device(1, 0, 1);
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_RIGHT, "kernel block, cap full: already right");

	/* rezoning needs free memory to migrate to */
	setup(4 * GiB, 0);
	make_online(MZ_ZONE_NORMAL);
	set_device(1, 0, 1);
	nodes[0].kernel_free = BS;
	sum_total();
	expect(MZ_ACTION_LEAVE, MZ_REASON_NOT_SAFE_TO_FIX, "kernel free below block + high watermark");

	setup(4 * GiB, 0);
	blk.state = MZ_BLOCK_GOING_OFFLINE;
	blk.zone = MZ_ZONE_MOVABLE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_NOT_SAFE_TO_FIX, "going-offline block is someone else's");

	setup(4 * GiB, 0);
	make_online(MZ_ZONE_NORMAL);
	cfg.source[MZ_SOURCE_DIMM].zone = MZ_SRCZONE_IGNORE;
	expect(MZ_ACTION_LEAVE, MZ_REASON_SOURCE_IGNORED, "online block of an ignored source");

	setup(4 * GiB, 0);
	make_online(MZ_ZONE_NORMAL);
	set_device(1, 0, 1);
	cfg.source[MZ_SOURCE_DIMM].zone = MZ_SRCZONE_KERNEL;
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_RIGHT, "online kernel, source rule kernel");
	cfg.source[MZ_SOURCE_DIMM].zone = MZ_SRCZONE_MOVABLE;
	expect(MZ_ACTION_REZONE_MOVABLE, MZ_REASON_SOURCE_RULE, "online kernel, source rule movable");
}

static void test_whole_device(void)
{
	/* kernel 4G, ratio 301: 12.04G of room; a single block fits, a 64-block (8G) DIMM does not */
	setup(4 * GiB, 4 * GiB + 512 * MiB);
	set_device(64, 0, 0);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "first block tests the whole device");
	ok(strstr(d.why, "whole device PNP0C80:00 (64 blocks)") && strstr(d.why, "+ 8G"), "why names the device (%s)",
	   d.why);
	cfg.source[MZ_SOURCE_DIMM].whole_device = false;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "whole_device = no: one block fits");

	/* half-onlined device: follow its zone */
	setup(4 * GiB, 2 * GiB);
	set_device(8, 4, 0);
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_WHOLE_DEVICE, "device half movable: follow");
	set_device(8, 0, 4);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_WHOLE_DEVICE, "device half kernel: follow");
	set_device(8, 3, 1);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_WHOLE_DEVICE, "device mixed: kernel (cannot be unplugged anyway)");
	cfg.default_zone = MZ_DEFAULT_MOVABLE;
	set_device(8, 0, 4);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_WHOLE_DEVICE, "whole device beats default_zone");

	/* movable device whose rest no longer fits (another device took the room): kernel */
	setup(1 * GiB, 3 * GiB - BS);
	cfg.ratio = cfg.ratio_with_rebalancer = 300;
	set_device(4, 2, 0);
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "movable device, remaining 2 blocks do not fit");
	ok(strstr(d.why, "remaining 256M no longer fit") != NULL, "why (%s)", d.why);
	set_device(4, 3, 0);
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_WHOLE_DEVICE, "movable device, last block fits exactly");
	/* fixed rules do not re-check the cap */
	cfg.source[MZ_SOURCE_DIMM].zone = MZ_SRCZONE_MOVABLE;
	set_device(4, 2, 0);
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_WHOLE_DEVICE, "source rule movable: follow without the cap");

	/* an auto-onlined DIMM all in Normal: every block, judged in any order, wants Movable */
	setup(8 * GiB, 0);
	set_node(0, 8 * GiB + 4 * BS, 0);
	sum_total();
	set_device(4, 0, 4);
	make_online(MZ_ZONE_NORMAL);
	for (int i = 0; i < 4; i++) {
		char what[64];

		snprintf(what, sizeof(what), "auto-onlined DIMM, block %d", i);
		expect(MZ_ACTION_REZONE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, what);
		mz_policy_apply(&snap, &blk, &dev, &d);
		make_online(MZ_ZONE_NORMAL); /* the next block of the device */
	}
	is_int(dev.n_movable, 4, "all 4 rezoned in the simulation");
	is_u64(nodes[0].movable_managed, 4 * BS, "movable grew by the device");
	is_u64(nodes[0].kernel_managed, 8 * GiB, "kernel back to its own");

	/* whole device too big as a whole but judged per block when whole_device = no */
	setup(8 * GiB, 0);
	set_node(0, 8 * GiB + 4 * BS, 0);
	sum_total();
	cfg.ratio = cfg.ratio_with_rebalancer = 5; /* 409.6M of movable */
	set_device(4, 0, 4);
	make_online(MZ_ZONE_NORMAL);
	expect(MZ_ACTION_LEAVE, MZ_REASON_ALREADY_RIGHT, "auto-onlined DIMM too big for the cap: stays kernel");
}

static void test_sources(void)
{
	static const struct {
		enum mz_source src;
		enum mz_source_zone zone;
		enum mz_action act;
		enum mz_reason rsn;
	} cases[] = {
		{ MZ_SOURCE_DIMM, MZ_SRCZONE_MOVABLE, MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_DIMM, MZ_SRCZONE_KERNEL, MZ_ACTION_ONLINE_KERNEL, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_DIMM, MZ_SRCZONE_IGNORE, MZ_ACTION_LEAVE, MZ_REASON_SOURCE_IGNORED },
		{ MZ_SOURCE_DIMM, MZ_SRCZONE_POLICY, MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE },
		{ MZ_SOURCE_VIRTIO_MEM, MZ_SRCZONE_MOVABLE, MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_VIRTIO_MEM, MZ_SRCZONE_KERNEL, MZ_ACTION_ONLINE_KERNEL, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_VIRTIO_MEM, MZ_SRCZONE_IGNORE, MZ_ACTION_LEAVE, MZ_REASON_SOURCE_IGNORED },
		{ MZ_SOURCE_KMEM, MZ_SRCZONE_MOVABLE, MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_KMEM, MZ_SRCZONE_IGNORE, MZ_ACTION_LEAVE, MZ_REASON_SOURCE_IGNORED },
		{ MZ_SOURCE_OTHER, MZ_SRCZONE_KERNEL, MZ_ACTION_ONLINE_KERNEL, MZ_REASON_SOURCE_RULE },
		{ MZ_SOURCE_OTHER, MZ_SRCZONE_POLICY, MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE },
		/* an offline block in a plain "System RAM" range (hv_balloon, xen, probe) follows [source other] */
		{ MZ_SOURCE_BOOT, MZ_SRCZONE_MOVABLE, MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_SOURCE_RULE },
	};

	for (size_t i = 0; i < MZ_ARRAY_SIZE(cases); i++) {
		char what[80];
		enum mz_source rule_of = cases[i].src == MZ_SOURCE_BOOT ? MZ_SOURCE_OTHER : cases[i].src;

		setup(1 * GiB, 8 * GiB); /* over the cap, so rules that bypass it are visible */
		dev.source = cases[i].src;
		cfg.source[rule_of].zone = cases[i].zone;
		snprintf(what, sizeof(what), "source %d rule %d", cases[i].src, cases[i].zone);
		expect(cases[i].act, cases[i].rsn, what);
	}
	setup(1 * GiB, 8 * GiB);
	cfg.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_IGNORE;
	dev.source = MZ_SOURCE_KMEM;
	decide();
	is_str(d.why, "[source kmem] zone = ignore: the block is left to another agent", "why of ignore");
	setup(1 * GiB, 0);
	cfg.source[MZ_SOURCE_OTHER].zone = MZ_SRCZONE_KERNEL;
	mz_policy_decide(&cfg, &snap, &blk, NULL, &d);
	is_int(d.reason, MZ_REASON_SOURCE_RULE, "unknown device follows [source other]");
}

static void test_memory_only_nodes(void)
{
	setup(4 * GiB, 0);
	snap.nnodes = 2;
	set_node(1, 0, 16 * GiB); /* a CXL node, already full of movable memory */
	nodes[1].has_cpu = false;
	sum_total();
	blk.node = 1;
	dev.source = MZ_SOURCE_KMEM;
	/* issue 13: no per-node cap of its own (no kernel memory), but the system-wide cap holds */
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM,
	       "CPU-less node full of movable, memory_only_nodes = movable: the system cap holds it in kernel");
	is_str(d.why, "node 1 has no CPUs and memory_only_nodes = movable, but the caps hold it in a kernel zone: "
		      "system: movable 16G + 128M would exceed 301% of kernel 4G", "why");
	cfg.ratio_scope = MZ_SCOPE_NODE;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM,
	       "ratio_scope = node: a node without kernel memory is still checked system-wide");
	cfg.ratio_scope = MZ_SCOPE_BOTH;
	nodes[1].movable_managed = nodes[1].movable_present = 8 * GiB;
	sum_total();
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_MEMORY_ONLY_NODE,
	       "CPU-less node with room in the system cap: movable");
	is_str(d.why, "node 1 has no CPUs and memory_only_nodes = movable: system: movable 8G + 128M stays within "
		      "301% of kernel 4G", "why names the system cap");
	cfg.min_kernel = 1 * GiB;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_MIN_KERNEL, "min_kernel counts for a node without kernel memory");
	cfg.min_kernel = 0;
	/* the layout: 895M kernel, an 8G DIMM (64 blocks) on a CPU-less node -> Normal, as the kernel's */
	setup(895 * MiB, 0);
	snap.nnodes = 2;
	set_node(1, 0, 0);
	nodes[1].has_cpu = false;
	sum_total();
	blk.node = 1;
	dev.source = MZ_SOURCE_DIMM;
	dev.n_blocks = dev.n_offline = 64;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM, "8G DIMM on a memory-only node, 895M kernel");
	dev.n_blocks = dev.n_offline = 16;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_MEMORY_ONLY_NODE, "2G DIMM there fits 301% of 895M");
	setup(4 * GiB, 0);
	snap.nnodes = 2;
	set_node(1, 0, 16 * GiB);
	nodes[1].has_cpu = false;
	sum_total();
	blk.node = 1;
	dev.source = MZ_SOURCE_KMEM;
	cfg.memory_only_nodes = MZ_MEMONLY_KERNEL;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_MEMORY_ONLY_NODE, "memory_only_nodes = kernel");
	cfg.memory_only_nodes = MZ_MEMONLY_POLICY;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM, "memory_only_nodes = policy: the system cap");
	cfg.ratio_scope = MZ_SCOPE_SYSTEM;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM, "memory_only_nodes = policy, system scope");
	cfg.memory_only_nodes = MZ_MEMONLY_MOVABLE;
	cfg.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_KERNEL;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_SOURCE_RULE, "[source] zone = kernel wins over the node rule");
	cfg.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_POLICY;
	nodes[1].movable_managed = nodes[1].movable_present = 0;
	sum_total();
	blk.node = -1;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "no node link, two nodes: system total");
	blk.node = 7;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "node missing from zoneinfo: system total");
}

static void test_min_kernel(void)
{
	setup(1 * GiB, 0);
	cfg.min_kernel = 2 * GiB;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_MIN_KERNEL, "min_kernel 2G, kernel 1G");
	is_str(d.why, "node 0: kernel 1G is below the 2G kept for kernel allocations (min_kernel)", "why");
	cfg.min_kernel = 1 * GiB;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "min_kernel exactly met");

	/* 50% of the node's total (kernel + movable + the new block) */
	setup(1 * GiB, 512 * MiB);
	cfg.min_kernel_percent = 50;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "50%% of 1.6G is below kernel 1G");
	setup(1 * GiB, 1 * GiB - BS);
	cfg.min_kernel_percent = 50;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "50%% of 2G is exactly kernel 1G");
	setup(1 * GiB, 1 * GiB);
	cfg.min_kernel_percent = 50;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_MIN_KERNEL, "50%% of 2.1G is above kernel 1G");
	ok(strstr(d.why, "min_kernel_percent") != NULL, "why names min_kernel_percent (%s)", d.why);
	cfg.min_kernel = 4 * GiB;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_MIN_KERNEL, "larger of absolute and percent");
	ok(strstr(d.why, "below the 4G") != NULL, "absolute wins when larger (%s)", d.why);
}

static void test_scope(void)
{
	/* node 1 is over its own cap, the system is not */
	setup(4 * GiB, 0);
	snap.nnodes = 2;
	set_node(1, 1 * GiB, 3 * GiB);
	sum_total();
	blk.node = 1;
	cfg.ratio_scope = MZ_SCOPE_NODE;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "scope node: node 1 full");
	ok(strstr(d.why, "node 1:") != NULL, "why names node 1 (%s)", d.why);
	cfg.ratio_scope = MZ_SCOPE_SYSTEM;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "scope system: room system-wide");
	ok(strstr(d.why, "system:") != NULL, "why names the system (%s)", d.why);
	cfg.ratio_scope = MZ_SCOPE_BOTH;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "scope both: node 1 full");

	/* the system is over its cap, node 1 is not */
	setup(1 * GiB, 6 * GiB);
	snap.nnodes = 2;
	set_node(1, 1 * GiB, 0);
	sum_total();
	blk.node = 1;
	cfg.ratio_scope = MZ_SCOPE_NODE;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "scope node: node 1 empty");
	cfg.ratio_scope = MZ_SCOPE_SYSTEM;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM, "scope system: system full");
	cfg.ratio_scope = MZ_SCOPE_BOTH;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_SYSTEM, "scope both: system full");

	/* block without a node link: a single node stands in; with two nodes only the system counts */
	setup(1 * GiB, 3 * GiB);
	blk.node = -1;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "no node link, one node");
	ok(mz_policy_node(&snap, -1) == &nodes[0], "the only node stands in for a missing link");
	setup(4 * GiB, 0);
	snap.nnodes = 2;
	set_node(1, 1 * GiB, 3 * GiB);
	sum_total();
	blk.node = -1;
	ok(mz_policy_node(&snap, -1) == NULL, "no node with two nodes");
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "no node link, two nodes: system total");
	blk.node = 7;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "node missing from zoneinfo: system total");
}

static void test_basis_and_rebalancer(void)
{
	/* 4G kernel now, of which 3G hot-added kernel: boot basis is 1G */
	setup(4 * GiB, 3 * GiB);
	nodes[0].kernel_boot = 1 * GiB;
	sum_total();
	cfg.ratio_basis = MZ_BASIS_CURRENT;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "basis current: 4G of kernel");
	cfg.ratio_basis = MZ_BASIS_BOOT;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "basis boot: 1G of kernel");
	ok(strstr(d.why, "of boot kernel 1G") != NULL, "why names the boot basis (%s)", d.why);

	/* basis current: boot kernel plus what the onlining policy put in kernel zones; memzoned's
	 * harvests (kernel blocks of devices with Movable blocks) are not in kernel_hot_policy */
	snap.baseline_read = true;
	nodes[0].kernel_hot_policy = 1 * GiB;
	sum_total();
	snap.total.kernel_hot_policy = 1 * GiB;
	cfg.ratio_basis = MZ_BASIS_CURRENT;
	cfg.ratio = 150;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "basis current, baseline read: 1G + 1G, not 4G");
	ok(strstr(d.why, "of kernel 2G") != NULL, "why names the 2G (%s)", d.why);
	snap.baseline_read = false;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "basis current without iomem: managed 4G");

	/* CMA counts as movable and out of the kernel basis (the kernel's auto-movable) */
	setup(2 * GiB, 0);
	nodes[0].kernel_cma = 1 * GiB;
	sum_total();
	snap.total.kernel_cma = 1 * GiB;
	cfg.ratio = 100;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "CMA 1G of 2G kernel: 1G + 128M over 100% of 1G");
	is_str(d.why, "node 0: movable 1G + 128M would exceed 100% of kernel 1G", "why counts CMA as movable");

	/* the cap is ratio with or without memzoned; ratio_with_rebalancer is obsolete */
	setup(1 * GiB, 2 * GiB);
	cfg.ratio = 100;
	cfg.ratio_with_rebalancer = 400;
	snap.rebalancer_running = false;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "rebalancer stopped: ratio 100");
	snap.rebalancer_running = true;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "rebalancer running: still ratio 100");
	ok(strstr(d.why, "ratio_with_rebalancer") == NULL, "why does not name ratio_with_rebalancer (%s)", d.why);
	cfg.rebalance.grow_kernel = false;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "grow_kernel = no: ratio 100");
	cfg.rebalance.grow_kernel = true;
	cfg.rebalance.observe_only = true;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_RATIO_CAP_NODE, "observe_only: ratio 100");
	cfg.rebalance.observe_only = false;
	cfg.ratio = 400;
	cfg.ratio_with_rebalancer = 50;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_AUTO_WITHIN_RATIO, "ratio_with_rebalancer 50 has no effect either");
}

/* memzoned's second look at a give-back: the block leaves kernel and joins movable, checked against the
 * cap onlining applies */
static void test_giveback_fits(void)
{
	char why[256];

	/* after the move: kernel 1920M, cap 800% = 15360M of movable, the block's 128M included */
	setup(2 * GiB, 15232 * MiB);
	cfg.ratio = 800;
	cfg.ratio_with_rebalancer = 100; /* obsolete: no effect */
	snap.rebalancer_running = true;
	ok(mz_policy_giveback_fits(&cfg, &snap, 0, BS, NULL, 0), "give-back that ends exactly at the cap fits");
	setup(2 * GiB, 15232 * MiB + 4096);
	cfg.ratio = 800;
	snap.rebalancer_running = true;
	why[0] = '\0';
	ok(!mz_policy_giveback_fits(&cfg, &snap, 0, BS, why, sizeof(why)), "one page more: the give-back crosses it");
	is_str(why, "node 0: movable 14.9G + 128M would exceed 800% of kernel 1.9G",
	       "why: the kernel left after the move");
	cfg.ratio = 100;
	cfg.ratio_with_rebalancer = 800;
	ok(!mz_policy_giveback_fits(&cfg, &snap, 0, BS, NULL, 0),
	   "memzoned running: ratio (100) applies, never ratio_with_rebalancer");
	setup(2 * GiB, 1 * GiB);
	cfg.ratio = 100;
	ok(mz_policy_giveback_fits(&cfg, &snap, 0, BS, NULL, 0), "ratio 100: 1G + 128M within 1920M");
	ok(!mz_policy_giveback_fits(&cfg, &snap, 0, 8 * BS, NULL, 0), "ratio 100: 1G + 1G over 1G");

	/* scope: node 1 full, the system not */
	setup(2 * GiB, 0);
	snap.nnodes = 2;
	set_node(1, 1 * GiB, 3 * GiB);
	sum_total();
	cfg.ratio = 301;
	snap.rebalancer_running = true;
	cfg.ratio_scope = MZ_SCOPE_SYSTEM;
	ok(mz_policy_giveback_fits(&cfg, &snap, 1, BS, NULL, 0), "scope system: the system has room");
	cfg.ratio_scope = MZ_SCOPE_NODE;
	ok(!mz_policy_giveback_fits(&cfg, &snap, 1, BS, why, sizeof(why)), "scope node: node 1 is full");
	ok(strncmp(why, "node 1:", 7) == 0, "why names node 1 (%s)", why);
	ok(mz_policy_giveback_fits(&cfg, &snap, 0, BS, NULL, 0), "scope node: node 0 has room");
	ok(mz_policy_giveback_fits(&cfg, &snap, -1, BS, NULL, 0), "unknown node: the system stands in");

	/* basis boot: the block was never boot memory, the basis stays */
	setup(4 * GiB, 3 * GiB);
	nodes[0].kernel_boot = 1 * GiB;
	sum_total();
	cfg.ratio = 400;
	snap.rebalancer_running = true;
	cfg.ratio_basis = MZ_BASIS_BOOT;
	ok(mz_policy_giveback_fits(&cfg, &snap, 0, 7 * BS, NULL, 0), "basis boot: 3G + 896M within 400%% of 1G");
	ok(!mz_policy_giveback_fits(&cfg, &snap, 0, 9 * BS, NULL, 0), "basis boot: 3G + 1152M over 400%% of 1G");
}

static void test_default_zone(void)
{
	setup(1 * GiB, 64 * GiB);
	cfg.default_zone = MZ_DEFAULT_MOVABLE;
	expect(MZ_ACTION_ONLINE_MOVABLE, MZ_REASON_DEFAULT_MOVABLE, "default_zone movable ignores the cap");
	cfg.default_zone = MZ_DEFAULT_KERNEL;
	setup(64 * GiB, 0);
	cfg.default_zone = MZ_DEFAULT_KERNEL;
	expect(MZ_ACTION_ONLINE_KERNEL, MZ_REASON_DEFAULT_KERNEL, "default_zone kernel");
	ok(d.has_fallback, "kernel falls back to movable if refused");
}

/* Simulated sequence: a 64-block DIMM judged per block (whole_device = no) fills the cap and never
 * crosses it; with whole_device = yes it goes all one way. */
static void test_sequence(void)
{
	unsigned movable = 0, kernel = 0;
	bool crossed = false;

	setup(1 * GiB, 0);
	/* in 128M units: kernel 8 + k after k kernel blocks, movable m fits while m <= 3.01 (8 + k) */
	cfg.ratio = cfg.ratio_with_rebalancer = 301;
	cfg.source[MZ_SOURCE_DIMM].whole_device = false;
	set_device(64, 0, 0);
	for (int i = 0; i < 64; i++) {
		blk.state = MZ_BLOCK_OFFLINE;
		blk.zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
		decide();
		mz_policy_apply(&snap, &blk, &dev, &d);
		if (mz_action_is_movable(d.action))
			movable++;
		else
			kernel++;
		if (nodes[0].movable_present * 100 > (uint64_t)301 * nodes[0].kernel_managed)
			crossed = true;
	}
	is_int(movable, 54, "per block: 54 movable (54 <= 3.01 * 18)");
	is_int(kernel, 10, "per block: 10 kernel, each making room for 3 movable");
	ok(!crossed, "the cap was never crossed");
	is_int(dev.n_offline, 0, "device fully online");
	ok(dev.mixed, "device split (whole_device = no)");

	setup(64 * GiB, 0);
	set_device(64, 0, 0);
	for (int i = 0; i < 64; i++) {
		blk.state = MZ_BLOCK_OFFLINE;
		blk.zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
		decide();
		if (i > 0 && d.reason != MZ_REASON_WHOLE_DEVICE)
			diag("block %d reason %s", i, mz_reason_name(d.reason));
		mz_policy_apply(&snap, &blk, &dev, &d);
	}
	is_int(dev.n_movable, 64, "whole device: all 64 movable");
	ok(!dev.mixed, "whole device: not split");
	is_u64(snap.total.movable_present, 64 * 8 * GiB / 64, "system total updated by apply");
}

static bool within(uint64_t movable, uint64_t kernel, unsigned ratio)
{
	return (unsigned __int128)movable * 100 <= (unsigned __int128)kernel * ratio;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64: reproducible */
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random inputs: no crash, and invariants that hold for any snapshot. */
static void test_random(void)
{
	unsigned bad_why = 0, bad_cap = 0, bad_zone = 0, offline_left = 0, rezoned_under_memzoned = 0;

	for (int i = 0; i < 20000; i++) {
		setup((rnd() % 64) * GiB / 4, (rnd() % 64) * GiB / 4);
		cfg.ratio = cfg.ratio_with_rebalancer = (unsigned)(rnd() % 500);
		cfg.ratio_scope = (enum mz_ratio_scope)(rnd() % 3);
		cfg.min_kernel = (rnd() % 8) * GiB;
		cfg.min_kernel_percent = (double)(rnd() % 100);
		cfg.source[MZ_SOURCE_DIMM].whole_device = rnd() & 1;
		nodes[0].has_cpu = rnd() & 1;
		nodes[0].kernel_free = rnd() % (4 * GiB);
		sum_total();
		blk.zones = (unsigned)(rnd() % (1u << MZ_ZONE__COUNT));
		set_device(1 + (unsigned)(rnd() % 64), 0, 0);
		if (rnd() & 1)
			make_online(rnd() & 1 ? MZ_ZONE_MOVABLE : MZ_ZONE_NORMAL);
		snap.rebalancer_running = (i & 3) == 3;
		decide();
		if (snap.rebalancer_running && (d.action == MZ_ACTION_REZONE_MOVABLE || d.action == MZ_ACTION_REZONE_KERNEL))
			rezoned_under_memzoned++;
		if (!d.why[0])
			bad_why++;
		if (d.action == MZ_ACTION_ONLINE_MOVABLE && d.reason == MZ_REASON_AUTO_WITHIN_RATIO &&
		    !within(nodes[0].movable_present + BS, nodes[0].kernel_managed, cfg.ratio))
			bad_cap++;
		if ((d.action == MZ_ACTION_ONLINE_MOVABLE && !(blk.zones & MZ_ZONE_BIT(MZ_ZONE_MOVABLE))) ||
		    (d.action == MZ_ACTION_ONLINE_KERNEL && !mz_zone_is_kernel(d.zone)))
			bad_zone++;
		if (blk.state == MZ_BLOCK_OFFLINE && d.action == MZ_ACTION_LEAVE && blk.zones &&
		    (blk.zones & ~(MZ_ZONE_BIT(MZ_ZONE_NONE) | MZ_ZONE_BIT(MZ_ZONE_DEVICE))))
			offline_left++;
	}
	is_int(bad_why, 0, "random: every decision has a why");
	is_int(bad_cap, 0, "random: auto movable never crosses the node cap");
	is_int(bad_zone, 0, "random: the chosen zone is one valid_zones offers");
	is_int(offline_left, 0, "random: an offline block with an onlinable zone is never left offline");
	is_int(rezoned_under_memzoned, 0, "random: no online block is rezoned while memzoned runs");
}

static void test_kernel_mode_plan(void)
{
	struct mz_kmode_env env = { .online_policy = true, .auto_online = true, .memory_only_node = -1 };
	struct mz_kmode_params w;
	char why[256];

	reset_config();
	cfg.ratio_basis = MZ_BASIS_BOOT;
	cfg.source[MZ_SOURCE_VIRTIO_MEM].whole_device = false;
	cfg.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_IGNORE;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "kernel_auto_online = disable"),
	   "kernel mode needs kernel_auto_online = policy (%s)", why);
	cfg.kernel_auto_online = MZ_KAO_POLICY;
	cfg.memory_only_nodes = MZ_MEMONLY_POLICY;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)), "the shipped kind of policy can be handed over (%s)", why);
	ok(!strcmp(w.auto_online, "online") && !strcmp(w.online_policy, "auto-movable") && w.ratio == 301 &&
	   w.numa_aware == 1, "auto-movable, 301, NUMA-aware, auto_online_blocks = online");
	cfg.ratio_scope = MZ_SCOPE_SYSTEM;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && w.numa_aware == 0, "ratio_scope = system: not NUMA-aware");
	cfg.ratio_scope = MZ_SCOPE_NODE;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "ratio_scope = node"), "node only: %s", why);
	cfg.ratio_scope = MZ_SCOPE_BOTH;
	cfg.ratio = 0;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && w.ratio == 0, "ratio 0 is the kernel's too");
	cfg.ratio = 301;
	cfg.ratio_basis = MZ_BASIS_CURRENT;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "ratio_basis = current"), "%s", why);
	cfg.ratio_basis = MZ_BASIS_BOOT;
	cfg.min_kernel = BS;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "min_kernel"), "%s", why);
	cfg.min_kernel = 0;
	cfg.default_zone = MZ_DEFAULT_MOVABLE;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "default_zone"), "%s", why);
	cfg.default_zone = MZ_DEFAULT_AUTO;
	env.memory_only_node = 2;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)), "memory-only node with memory_only_nodes = policy");
	cfg.memory_only_nodes = MZ_MEMONLY_MOVABLE;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "node 2 has no CPUs"), "%s", why);
	env.memory_only_node = -1;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)), "memory_only_nodes = movable without such a node");
	env.daxctl_configured = true;
	snprintf(env.daxctl_why, sizeof(env.daxctl_why), "/etc/daxctl.conf.d/x.conf configures daxctl");
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "x.conf"), "daxctl configured: %s", why);
	cfg.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_POLICY;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)), "daxctl configured but kmem follows the policy");
	env.daxctl_configured = false;
	cfg.source[MZ_SOURCE_DIMM].whole_device = false;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "[source dimm] whole_device = no"), "%s", why);
	cfg.source[MZ_SOURCE_DIMM].whole_device = true;
	cfg.source[MZ_SOURCE_OTHER].whole_device = true;
	ok(mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)), "[source other] whole_device = yes can be handed over");
	cfg.source[MZ_SOURCE_VIRTIO_MEM].whole_device = true;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "[source virtio_mem] whole_device = yes"),
	   "%s", why);
	cfg.source[MZ_SOURCE_VIRTIO_MEM].whole_device = false;
	cfg.source[MZ_SOURCE_VIRTIO_MEM].zone = MZ_SRCZONE_MOVABLE;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "[source virtio_mem] zone"), "%s", why);
	cfg.source[MZ_SOURCE_VIRTIO_MEM].zone = MZ_SRCZONE_POLICY;
	env.online_policy = false;
	ok(!mz_kmode_plan(&cfg, &env, &w, why, sizeof(why)) && strstr(why, "5.15"), "old kernel: %s", why);
	reset_config();
}

int main(void)
{
	test_kernel_mode_plan();
	test_names();
	test_ratio_edges();
	test_valid_zones();
	test_already_online();
	test_whole_device();
	test_sources();
	test_memory_only_nodes();
	test_min_kernel();
	test_scope();
	test_basis_and_rebalancer();
	test_giveback_fits();
	test_default_zone();
	test_sequence();
	test_random();
	return tap_done();
}
