/* memblock.h - /sys/devices/system/memory: block size, blocks, state writes */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone.h"

enum mz_block_state {
	MZ_BLOCK_UNKNOWN = 0,
	MZ_BLOCK_ONLINE,
	MZ_BLOCK_OFFLINE,
	MZ_BLOCK_GOING_OFFLINE,
};
const char *mz_block_state_name(enum mz_block_state s);

struct mz_block {
	unsigned long id;
	uint64_t start;            /* id * block size */
	enum mz_block_state state;
	unsigned zones;            /* MZ_ZONE_BIT mask of valid_zones; 0 for "none" or unreadable */
	enum mz_zone zone;         /* first name in valid_zones: current zone when online, default when offline */
	bool zones_known;          /* valid_zones was read and parsed ("none" included) */
	int node;                  /* from the memoryN/nodeX link; -1 when there is none */
	long phys_device;          /* -1 when absent */
	bool acpi_dimm;            /* firmware_node resolves to an ACPI memory device (PNP0C80:xx) */
	char firmware_node[64];    /* basename of the firmware_node link target, "" when none */
};

/* "online" / "offline" / "going-offline" -> state; anything else MZ_BLOCK_UNKNOWN. The one parser of
 * a block's state word. */
enum mz_block_state mz_block_state_from_text(const char *text);
/* open(<root>/sys/devices/system/memory, O_DIRECTORY): fd or -errno. Every block reader below reads
 * memoryN/ATTR relative to it with mz_read_attr_at (util.h): a value longer than fits is an error. */
int mz_memory_dir_open(void);

/* Fast read of one block's state (and valid_zones) through an fd of <root>/sys/devices/system/memory
 * (openat, no allocation): the per-block path of range scans and of `memzone status`.
 * zones_known is false when valid_zones is absent (kernels before 3.18) or was not asked for.
 * Returns -ENOENT when the block does not exist (or vanished mid-read); any other error fills why
 * with "memoryN/ATTR: what was wrong" (garbage state -> -EINVAL). why may be NULL. */
struct mz_block_brief {
	enum mz_block_state state;
	unsigned zones;             /* MZ_ZONE_BIT mask of valid_zones */
	enum mz_zone zone;          /* first zone of valid_zones (the current one when online) */
	bool zones_known;
};
enum mz_brief_zones {
	MZ_BRIEF_NO_ZONES,          /* state only */
	MZ_BRIEF_ZONES,             /* valid_zones of every block (lsmem ZONES column) */
	MZ_BRIEF_ZONES_IF_ONLINE,   /* valid_zones only when not offline (the current zone) */
};
int mz_block_brief_at(int memfd, unsigned long id, enum mz_brief_zones zones, struct mz_block_brief *bb,
		      char *why, size_t whylen);
/* Class of an online block for counting: kernel, movable, or unknown (valid_zones unreadable).
 * valid_zones "none" on an online block means it spans several kernel zones (boot memory at a
 * DMA/DMA32 boundary): kernel. */
enum mz_zone_class { MZ_CLASS_KERNEL, MZ_CLASS_MOVABLE, MZ_CLASS_UNKNOWN };
enum mz_zone_class mz_block_zone_class(const struct mz_block_brief *bb);

/* <root>/sys/devices/system/memory/block_size_bytes (hex without 0x). -ENOENT without hotplug support. */
int mz_memblock_size(uint64_t *bytes);
/* Read one block. -ENOENT when the block does not exist (or vanished while read). Fields that
 * cannot be read are left at their "unknown" value; only a missing state file is an error (-ENOENT,
 * like a vanished block). An unknown state word gives MZ_BLOCK_UNKNOWN, not an error. */
int mz_memblock_read(unsigned long id, uint64_t block_size, struct mz_block *b);
/* The same through an fd of <root>/sys/devices/system/memory (mz_memory_dir_open). */
int mz_memblock_read_at(int memfd, unsigned long id, uint64_t block_size, struct mz_block *b);
/* Basename of <memfd>/memoryN/firmware_node's link target ("PNP0C80:03"), "" when there is none
 * (or a name longer than len). memfd: an fd of <root>/sys/devices/system/memory. */
void mz_firmware_node_at(int memfd, unsigned long id, char *name, size_t len);
/* Whether the kernel has finished adding block id: on a NUMA kernel (<root>/sys/devices/system/node
 * exists) the block's nodeN link is there. The kernel sends a new block's "add" uevent before it
 * links the block to its node, and until then the block's node is NUMA_NO_NODE: Debian's 6.1 oopses
 * (zone_for_pfn_range, a NULL node) on a read of its valid_zones or a write of its state in that
 * window, which a process that reads the kernel's own uevent (memzoned) can hit. A vanished block
 * counts as ready (its read says so). */
bool mz_memblock_ready(unsigned long id);
/* mz_memblock_ready, polled every millisecond for at most timeout_ms; its last answer. */
bool mz_memblock_wait_ready(unsigned long id, unsigned timeout_ms);
/* All block ids, ascending (gaps allowed, need not start at 0). Caller frees *ids. */
int mz_memblock_list(unsigned long **ids, size_t *n);
/* qsort/bsearch comparator of block ids (unsigned long), ascending. */
int mz_block_id_cmp(const void *a, const void *b);
/* Is block id offline (memfd: mz_memory_dir_open)? An unreadable or vanished block is not. */
bool mz_memblock_offline_at(int memfd, unsigned long id);
/* The ids of the offline blocks, ascending (malloc'ed; one small read per block: for a start or a
 * rescan, never per event). 0 or -errno. */
int mz_memblock_list_offline(unsigned long **ids, size_t *n);
/* Write "online", "online_kernel", "online_movable" or "offline" to memoryN/state (one write()).
 * Returns 0 or the kernel's -errno (EBUSY, EINVAL, EINTR, ENOENT...). */
int mz_memblock_write_state(unsigned long id, const char *state);
/* valid_zones "DMA32 Normal Movable" -> mask + first zone. "none" -> 0 / MZ_ZONE_NONE. */
int mz_valid_zones_parse(const char *text, unsigned *mask, enum mz_zone *first);

/* /sys/devices/system/memory/auto_online_blocks: "offline", "online", "online_kernel", "online_movable". */
int mz_auto_online_read(char *buf, size_t len);
int mz_auto_online_write(const char *value);
/* The value found first this boot, in <root>/run/memzone/auto_online_blocks.found: record it
 * (1 recorded now, 0 one was there already: it is kept, -errno), read it back (-ENOENT: none), forget it. */
int mz_auto_online_record(const char *found);
int mz_auto_online_recorded(char *buf, size_t len);
int mz_auto_online_forget(void);

/* /sys/module/memory_hotplug/parameters: online_policy ("contig-zones"/"auto-movable"),
 * auto_movable_ratio, auto_movable_numa_aware, memmap_on_memory. Missing files leave the fields
 * empty / -1. */
struct mz_hotplug_params {
	char online_policy[32];
	int auto_movable_ratio;
	int auto_movable_numa_aware; /* 1, 0 */
	char memmap_on_memory[16];
};
void mz_hotplug_params_read(struct mz_hotplug_params *p);
/* Write one of those parameters (memzone init's kernel mode, kmode.h). 0 or -errno. */
int mz_hotplug_param_write(const char *name, const char *value);
