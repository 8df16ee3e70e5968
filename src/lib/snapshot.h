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
	uint64_t kernel_boot;      /* kernel-zone memory present at boot (ratio_basis=boot), CMA included */
	uint64_t kernel_cma;       /* CMA pages of the kernel zones: the kernel's auto-movable counts them as
				    * movable and out of its kernel basis (never on hot-added memory) */
	uint64_t kernel_hot_policy; /* hot-added memory online in kernel zones whose device has no Movable block:
				     * what an onlining decision put there, not a memzoned harvest (a harvest
				     * takes a block out of a Movable device). Filled by the baseline. */
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
	unsigned bind_wait_ms;     /* time mz_snapshot_block_wait waited for ACPI to bind the block */
	bool bind_timed_out;       /* ... in vain: a new range of another agent (or ACPI too slow) */
};

struct mz_snapshot {
	uint64_t page_size, block_size;
	struct mz_node_snap *nodes;
	size_t nnodes;
	struct mz_node_snap total;
	bool rebalancer_running;   /* a memzoned holds run/memzone/memzoned.lock and moves blocks (its state
				    * file does not say observe_only=1) */
	enum mz_page_size_from {
		MZ_PAGE_SIZE_SYSCONF,      /* the running system */
		MZ_PAGE_SIZE_MEMTOTAL,     /* a --root tree: inferred from MemTotal and zoneinfo */
		MZ_PAGE_SIZE_ASSUMED,      /* a --root tree whose meminfo is missing or disagrees: 4096 */
	} page_size_from;
	char auto_online[32];      /* auto_online_blocks, "" when unknown */
	struct mz_hotplug_params hotplug;
	bool kernel_mode;           /* the kernel onlines new memory with this policy (kmode.h); set by the caller */
	bool iomem_zeroed;         /* set by mz_snapshot_boot_baseline (and status) from the iomem given */
	bool baseline_read;        /* mz_snapshot_boot_baseline ran with iomem: kernel_boot and
				    * kernel_hot_policy are known */
};

/* zoneinfo (+ node has_cpu, page size, auto_online_blocks, rebalancer liveness). Cost independent of
 * the number of blocks. err names the file that was wrong. */
int mz_snapshot_read(struct mz_snapshot *s, char *err, size_t errlen);
void mz_snapshot_free(struct mz_snapshot *s);
const struct mz_node_snap *mz_snapshot_node(const struct mz_snapshot *s, int node);
/* Fill nodes[].kernel_boot: kernel_present minus hot-added blocks (iomem ranges of dimm/virtio_mem/
 * kmem/other) online in a kernel zone; with full, also nodes[].kernel_hot_policy: those blocks of
 * ranges without a Movable block (ratio_basis = current). Without full, kernel_boot comes from the
 * per-boot record MZ_BOOT_RECORD_PATH when there is one (no block read; baseline_read stays false);
 * otherwise every hot-added block is read, and the record written. Without iomem (NULL or zeroed)
 * kernel_boot = kernel_present, kernel_hot_policy = 0 and baseline_read stays false. */
int mz_snapshot_boot_baseline(struct mz_snapshot *s, const struct mz_iomem *io, bool full);
/* Boot memory changed zone (memzoned moved a boot block): the next baseline scans again. */
void mz_snapshot_boot_record_forget(void);
#define MZ_BOOT_RECORD_PATH "/run/memzone/boot-kernel"
/* Read block id and its device. io may be NULL (iomem unreadable). -ENOENT when the block vanished.
 * An offline block of a top-level "System RAM" range is known by its range (snapshot.c): the DIMM
 * whose ACPI device the range's first block is bound to; boot memory's range (the block alone);
 * or, a new range no block of which is bound or online yet, the range itself, as a DIMM being added
 * or another agent's memory. Per-event cost: the device's blocks, never the machine's. */
int mz_snapshot_block(const struct mz_snapshot *s, const struct mz_iomem *io, unsigned long id,
		      struct mz_block *b, struct mz_device_snap *dev);
/* The same for a decision about new memory: a block of a new range first waits for ACPI to bind it
 * to its memory device (on a machine with ACPI), polling every few ms for at most *bind_wait_ms,
 * which is decreased by the time spent (a budget the caller shares across its blocks). NULL or 0:
 * no wait. dev->bind_wait_ms / bind_timed_out say what happened. */
int mz_snapshot_block_wait(const struct mz_snapshot *s, const struct mz_iomem *io, unsigned long id,
			   struct mz_block *b, struct mz_device_snap *dev, unsigned *bind_wait_ms);

/* mz_snapshot_block_wait of a block the caller read already (mz_memblock_read): its device, without
 * reading it again. b->acpi_dimm / firmware_node are completed for a DIMM's range being bound. */
int mz_snapshot_device(const struct mz_snapshot *s, const struct mz_iomem *io, struct mz_block *b,
		       struct mz_device_snap *dev, unsigned *bind_wait_ms);
/* Where block b came from by iomem's owner of its range and its ACPI link (mz_block_source; io may
 * be NULL): the classification of an online block, without the range rules of an offline one. */
enum mz_source mz_snapshot_source(const struct mz_iomem *io, const struct mz_block *b);

/* ---- helpers shared with `memzone status` (and unit-tested on their own) ---- */

/* Page size of a captured tree: the power of two P >= 4096 with MemTotal = managed pages x P within
 * 2% (the kernel's own identity: MemTotal counts the managed pages). 0 when none fits: the files
 * disagree (captured at different times, during deferred page init, or from different machines)
 * and the caller assumes 4096. Pure. */
uint64_t mz_page_size_guess(uint64_t memtotal_bytes, uint64_t managed_pages);
/* Is node in a kernel node list ("0-3,8", "" = none)? -EINVAL when the list is malformed. Pure. */
int mz_nodelist_has(const char *list, int node, bool *has);
/* Where a block's memory came from, given iomem's owner of its range (have_owner false when iomem
 * is zeroed/unreadable or no System RAM covers it). Pure:
 *  - a non-boot owner (virtio_mem, kmem, dimm, other) wins;
 *  - a block whose firmware_node is an ACPI memory device (PNP0C80) is a hot-added DIMM;
 *  - an offline block is hot-added memory of an unknown agent ("other"): the kernel onlines all
 *    boot memory before userspace runs, so an offline block was added later (s390 standby memory,
 *    hv_balloon, xen, probe);
 *  - anything else is boot memory. */
enum mz_source mz_block_source(bool have_owner, enum mz_source owner, bool acpi_dimm, enum mz_block_state state);
/* Is the top-level "System RAM" range [start, end] a hot-added DIMM? Its first existing block says:
 * true with name = its ACPI memory device ("PNP0C80:03"), else false with name "". */
bool mz_range_dimm_name(int memfd, uint64_t block_size, uint64_t start, uint64_t end, char *name, size_t len);
