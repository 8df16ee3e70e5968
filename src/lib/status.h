/* status.h - `memzone status`: collect zones, blocks, devices and who onlines memory; print them
 *
 * mz_status_collect() reads everything once (read-only); the printers never touch a file.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "daemon_state.h"
#include "iomem.h"
#include "snapshot.h"

/* One memory block, packed: a 131072-block machine costs 2 MiB, allocated once. */
struct mz_status_block {
	uint32_t id;
	int32_t node;               /* -1: no node link */
	uint32_t dev;               /* index in st->devices, MZ_STATUS_NO_DEV for boot memory */
	uint16_t zones;             /* valid_zones mask */
	uint8_t state;              /* enum mz_block_state */
	uint8_t zone;               /* enum mz_zone: first of valid_zones */
	uint8_t source;             /* enum mz_source */
	bool zones_known;
	bool gone;                  /* vanished while scanned: skipped everywhere */
	bool offlined_this_boot;    /* offline, offlined during this boot by someone else (udevdb.h) */
};
#define MZ_STATUS_NO_DEV UINT32_MAX

/* Block counts per node (and for the system). "Online kernel" includes blocks whose valid_zones is
 * "none" (spanning several kernel zones); "online unknown" are online blocks without valid_zones. */
struct mz_status_counts {
	unsigned online_kernel, online_movable, online_unknown, offline, other;
	uint64_t hot_removable;     /* bytes: blocks of hot-added devices whose every block is offline or Movable */
};

/* A hot-added device: a virtio-mem device, a dax/kmem device, an ACPI DIMM, or a run of blocks of
 * an unknown agent ("other", no name: each block is unpluggable on its own). */
struct mz_status_device {
	enum mz_source source;
	char name[64];
	uint64_t start, end;        /* inclusive; from iomem, else from its blocks */
	bool range_from_iomem;
	int node;                   /* node of its first block */
	unsigned n_blocks, n_offline, n_kernel, n_movable, n_unknown;
	uint64_t hot_removable;     /* bytes */
	char daxctl[160];           /* kmem: the daxctl config that names it ("" none; daxctl.h) */
};

enum mz_iomem_state { MZ_IOMEM_OK, MZ_IOMEM_ZEROED, MZ_IOMEM_MISSING };

/* Who decides a new block now: memzoned (it holds run/memzone/memzoned.decides), the udev helper
 * (the rule is in effect and no memzoned decides) or nobody in memzone. */
enum mz_new_memory_by { MZ_NEW_MEMORY_NOBODY, MZ_NEW_MEMORY_UDEV_HELPER, MZ_NEW_MEMORY_MEMZONED };

struct mz_status_warning {
	char code[32];              /* stable: "kernel-auto-online", "no-memzone-rule", ... */
	char message[480];
};
#define MZ_STATUS_MAX_WARNINGS 16

struct mz_status {
	struct mz_snapshot snap;
	struct mz_status_counts *counts; /* parallel to snap.nodes */
	struct mz_status_counts total;
	bool have_blocks;           /* the kernel has /sys/devices/system/memory and it was scanned */
	struct mz_status_block *blocks;  /* ascending ids */
	size_t nblocks;             /* including gone ones */
	struct mz_status_device *devices;
	size_t ndevices;
	enum mz_iomem_state iomem;
	/* who onlines memory */
	char memzone_rule[256];     /* effective 60-memzone.rules ("" when none) */
	bool memzone_rule_masked;
	char distro_rules[4][256];  /* effective distro rules that online memory */
	size_t ndistro_rules;
	enum mz_new_memory_by new_memory_by;
	pid_t daemon_pid;           /* written in run/memzone/memzoned.lock, 0 when not running */
	bool daemon_alive;          /* a memzoned holds run/memzone/memzoned.lock (daemon_state.h) */
	bool daemon_decides;        /* ... and run/memzone/memzoned.decides */
	/* run/memzone/memzoned.online, the rule's shortcut: resolves (while memzoned decides), dangling
	 * (left by a memzoned that is gone: the rule starts helpers again) or absent; the pid in its
	 * /proc/<pid>/... target (0: none) */
	enum mz_online_link { MZ_ONLINE_LINK_ABSENT, MZ_ONLINE_LINK_OK, MZ_ONLINE_LINK_DANGLING } online_link;
	pid_t online_link_pid;
	const struct mz_daemon_state *daemon; /* NULL: no state file */
	struct mz_daemon_state daemon_file;
	/* memzone's own policy, from mz_status_set_policy() (false: not loaded, e.g. in memzoned) */
	bool policy_known;
	unsigned ratio_cap;         /* percent: `ratio`, with or without memzoned */
	enum mz_ratio_scope ratio_scope;
	enum mz_ratio_basis ratio_basis;
	bool kernel_mode;           /* the kernel onlines new memory with this policy (kmode.h) */
	char mode_why[320];         /* "kernel: ..." or "userspace: ..." */
	struct mz_status_warning warnings[MZ_STATUS_MAX_WARNINGS];
	size_t nwarnings;
};

enum {
	MZ_STATUS_ALL_ZONES = 1 << 0, /* read valid_zones of offline blocks too (--blocks) */
};

/* Read everything. Returns 0, or -errno with err naming the file and what was wrong. */
int mz_status_collect(struct mz_status *st, unsigned flags, char *err, size_t errlen);
void mz_status_free(struct mz_status *st);
/* Compare the ratios with the policy's cap (a "ratio-above-cap" warning per node / system over it). */
void mz_status_set_policy(struct mz_status *st, const struct mz_config *c);
void mz_status_warn(struct mz_status *st, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct mz_status_opts {
	bool bytes;                 /* exact bytes instead of 128M */
	bool split;                 /* --blocks: one row per block */
};
void mz_status_print_text(const struct mz_status *st, const struct mz_status_opts *o, FILE *f);
void mz_status_print_blocks(const struct mz_status *st, const struct mz_status_opts *o, FILE *f);
/* with_blocks adds the "blocks" array (merged per opts->split). */
void mz_status_print_json(const struct mz_status *st, const struct mz_status_opts *o, bool with_blocks, FILE *f);
void mz_status_print_prometheus(const struct mz_status *st, FILE *f);
