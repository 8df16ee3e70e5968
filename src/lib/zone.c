/* zone.c - zone names as the kernel prints them */
#include "zone.h"

#include <string.h>

static const char *const zone_names[MZ_ZONE__COUNT] = {
	[MZ_ZONE_NONE] = "none",       [MZ_ZONE_DMA] = "DMA",         [MZ_ZONE_DMA32] = "DMA32",
	[MZ_ZONE_NORMAL] = "Normal",   [MZ_ZONE_HIGHMEM] = "HighMem", [MZ_ZONE_MOVABLE] = "Movable",
	[MZ_ZONE_DEVICE] = "Device",   [MZ_ZONE_OTHER] = "other",
};

enum mz_zone mz_zone_from_name(const char *name)
{
	for (int z = 0; z < MZ_ZONE_OTHER; z++)
		if (strcmp(name, zone_names[z]) == 0)
			return (enum mz_zone)z;
	return MZ_ZONE_OTHER;
}

const char *mz_zone_name(enum mz_zone z)
{
	return (unsigned)z < MZ_ZONE__COUNT ? zone_names[z] : "other";
}

bool mz_zone_is_kernel(enum mz_zone z)
{
	return z != MZ_ZONE_NONE && z != MZ_ZONE_MOVABLE && z != MZ_ZONE_DEVICE && z < MZ_ZONE__COUNT;
}
