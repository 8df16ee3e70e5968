/* zone.h - zone names as the kernel prints them (zoneinfo, valid_zones) */
#pragma once
#include <stdbool.h>

enum mz_zone {
	MZ_ZONE_NONE = 0, /* valid_zones "none" / unknown */
	MZ_ZONE_DMA,
	MZ_ZONE_DMA32,
	MZ_ZONE_NORMAL,
	MZ_ZONE_HIGHMEM,
	MZ_ZONE_MOVABLE,
	MZ_ZONE_DEVICE,
	MZ_ZONE_OTHER, /* a name this memzone does not know; counted as kernel memory */
	MZ_ZONE__COUNT,
};

#define MZ_ZONE_BIT(z) (1u << (z))

/* "Normal" -> MZ_ZONE_NORMAL; unknown names -> MZ_ZONE_OTHER; "none" -> MZ_ZONE_NONE */
enum mz_zone mz_zone_from_name(const char *name);
const char *mz_zone_name(enum mz_zone z);
/* Kernel memory: every zone except Movable and Device (and NONE). */
bool mz_zone_is_kernel(enum mz_zone z);
