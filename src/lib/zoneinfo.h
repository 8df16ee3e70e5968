/* zoneinfo.h - /proc/zoneinfo, every layout from 2.6.16 to 6.18 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone.h"

#define MZ_ZONE_MAX_PROTECTION 8

/* One "Node N, zone NAME" section. Page counts are in pages of the machine's page size. */
struct mz_zone_info {
	int node;
	char name[16];           /* as printed: "DMA32", "Normal", ... */
	enum mz_zone type;
	uint64_t free;           /* "pages free" */
	uint64_t min, low, high; /* watermarks ("boost" is ignored) */
	uint64_t spanned, present;
	uint64_t managed;        /* == present when the kernel (pre-3.8) has no managed line */
	uint64_t cma;            /* 0 when absent */
	/* zone vm stats, 0 when absent: nr_free_cma (3.7+, free pages only a movable allocation may
	 * use), nr_zone_inactive_file / nr_zone_active_file (4.8+; page cache on the zone's LRU) */
	uint64_t free_cma, inactive_file, active_file;
	bool has_managed, has_cma;
	int nprotection;
	uint64_t protection[MZ_ZONE_MAX_PROTECTION];
};

struct mz_zoneinfo {
	struct mz_zone_info *zones;
	size_t nzones;
};

/* Parse text (NUL-terminated). Returns 0, or -EINVAL with err = "line N: what was wrong".
 * Unknown stat lines are skipped (new kernels add them); a zone without "pages free", min, low,
 * high, spanned or present is an error (every kernel since 2.6.16 prints them), as are a bad or
 * repeated value and a node listing one zone twice. A stat TAB-joined to its header
 * (`grep | paste - -`) is read as its own line. Empty input yields 0 zones and -ENODATA.
 * Pure: no I/O, no global state. */
int mz_zoneinfo_parse(const char *text, struct mz_zoneinfo *zi, char *err, size_t errlen);
/* Read <root>/proc/zoneinfo and parse it; err names the file. */
int mz_zoneinfo_read(struct mz_zoneinfo *zi, char *err, size_t errlen);
void mz_zoneinfo_free(struct mz_zoneinfo *zi);
/* Lookup; NULL when the node has no such zone. */
const struct mz_zone_info *mz_zoneinfo_find(const struct mz_zoneinfo *zi, int node, enum mz_zone type);
