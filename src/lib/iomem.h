/* iomem.h - /proc/iomem: which hot-added ranges belong to which source and device */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mz_source {
	MZ_SOURCE_BOOT = 0,     /* memory present at boot */
	MZ_SOURCE_DIMM,         /* ACPI memory device (PNP0C80), hot-added DIMM */
	MZ_SOURCE_VIRTIO_MEM,   /* "System RAM (virtio_mem)" */
	MZ_SOURCE_KMEM,         /* "System RAM (kmem)": dax/kmem, CXL */
	MZ_SOURCE_OTHER,        /* hot-added by something else (hv_balloon, xen, ppc/s390 probe...) */
	MZ_SOURCE__COUNT,
};
const char *mz_source_name(enum mz_source s);              /* "boot" "dimm" "virtio_mem" "kmem" "other" */
int mz_source_from_name(const char *name, enum mz_source *s); /* 0 or -EINVAL */

struct mz_iomem_res {
	uint64_t start, end; /* inclusive, as printed */
	int depth;           /* 0 = top level; each 2 spaces of indent is one level */
	int parent;          /* index of the parent resource, -1 at top level */
	char name[64];
};

struct mz_iomem {
	struct mz_iomem_res *res;
	size_t n;
	bool zeroed; /* every address printed as 0: read without CAP_SYS_ADMIN, ranges are unknown */
};

/* Pure. 0, or -EINVAL with err = "line N: ..." (bad range, odd indent, nesting jumps or > 32 levels),
 * -ENODATA for an empty file. Names longer than 63 characters are cut (labels only). */
int mz_iomem_parse(const char *text, struct mz_iomem *io, char *err, size_t errlen);
int mz_iomem_read(struct mz_iomem *io, char *err, size_t errlen);
void mz_iomem_free(struct mz_iomem *io);

/* The device a physical range belongs to, as far as iomem tells:
 *  - "System RAM (virtio_mem)" under "virtioN": source virtio_mem, device "virtioN", range = the virtioN resource;
 *  - "System RAM (kmem)" under "daxX.Y" (at any depth): source kmem, device "daxX.Y", range = the dax resource;
 *  - top-level "System RAM": boot memory (source boot, device "", range = that resource) — the caller
 *    upgrades it to dimm when the block has an ACPI PNP0C80 firmware_node (memblock.h);
 *  - plain "System RAM" nested under virtioN / daxX.Y: that device; "System RAM (virtio_mem)" or
 *    "(kmem)" without such a parent: that source, device "", range = the RAM resource;
 *  - any other "System RAM..." (other driver names, RAM under an unknown parent): source other.
 * Returns 0, or -ENOENT when no System RAM covers start, -ENODATA when io->zeroed. */
struct mz_iomem_owner {
	enum mz_source source;
	char device[64];
	uint64_t dev_start, dev_end; /* inclusive */
};
int mz_iomem_owner(const struct mz_iomem *io, uint64_t start, struct mz_iomem_owner *owner);
