/* snapshot.h - what a decision needs to know, read once (per-node aggregates + one block + its device) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iomem.h"
#include "memblock.h"
#include "zoneinfo.h"

/* All sizes in bytes. "kernel" = every zone but Movable and Device. */
struct mz_node_snap {
	int id;                    /* -1 for the system-wide total */
	bool has_cpu;              /* from /sys/devices/system/node/has_cpu; true when unknown */
	uint64_t kernel_managed, kernel_present;
	uint64_t movable_managed, movable_present;
	uint64_t kernel_boot;      /* kernel-zone memory present at boot (ratio_basis=boot) */
	uint64_t kernel_free, kernel_min, kernel_low, kernel_high;
	uint64_t movable_free;
};

/* The device a block belongs to and the states of its blocks (read only for that device's range). */
struct mz_device_snap {
	enum mz_source source;
	char name[64];             /* "PNP0C80:03", "virtio5", "dax0.0"; "" for boot memory */
	uint64_t start, end;       /* inclusive physical range; 0/0 when unknown */
	unsigned long first_block, last_block;
	unsigned n_blocks, n_offline, n_kernel, n_movable;
	enum mz_zone zone;         /* zone of the device's online blocks when they agree, MZ_ZONE_NONE otherwise */
	bool mixed;                /* online blocks of the device are in different zones */
};

struct mz_snapshot {
	uint64_t page_size, block_size;
	struct mz_node_snap *nodes;
	size_t nnodes;
	struct mz_node_snap total;
	bool rebalancer_running;   /* memzoned's pid file names a live process */
	char auto_online[32];      /* auto_online_blocks, "" when unknown */
	struct mz_hotplug_params hotplug;
	bool iomem_zeroed;
};

/* zoneinfo (+ node has_cpu, page size, auto_online_blocks, rebalancer liveness). Cost independent of
 * the number of blocks. err names the file that was wrong. */
int mz_snapshot_read(struct mz_snapshot *s, char *err, size_t errlen);
void mz_snapshot_free(struct mz_snapshot *s);
const struct mz_node_snap *mz_snapshot_node(const struct mz_snapshot *s, int node);
/* Fill nodes[].kernel_boot (ratio_basis=boot): kernel_present minus hot-added blocks (iomem ranges of
 * dimm/virtio_mem/kmem/other) online in a kernel zone. Reads only hot-added blocks. Without iomem
 * (NULL or zeroed) kernel_boot = kernel_present. */
int mz_snapshot_boot_baseline(struct mz_snapshot *s, const struct mz_iomem *io);
/* Read block id and its device. io may be NULL (iomem unreadable). -ENOENT when the block vanished. */
int mz_snapshot_block(const struct mz_snapshot *s, const struct mz_iomem *io, unsigned long id,
		      struct mz_block *b, struct mz_device_snap *dev);
