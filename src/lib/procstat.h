/* procstat.h - /proc/meminfo, /proc/vmstat, node meminfo/vmstat, /proc/pressure/memory */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A flat key -> value table. meminfo values are converted to bytes (the "kB" unit is applied);
 * vmstat values are raw counters. Node meminfo lines ("Node 0 MemTotal:   123 kB") are stored
 * under the bare key ("MemTotal"). Values without a name (RHEL quirks) are skipped. */
struct mz_kv {
	char key[48];
	uint64_t val;
};
struct mz_kvtab {
	struct mz_kv *kv;
	size_t n;
};

/* Pure. 0, or -EINVAL with err = "line N: ..." (bad number, unknown unit, a name twice, a name
 * longer than 47 characters), -ENODATA when there is no value at all. */
int mz_meminfo_parse(const char *text, struct mz_kvtab *t, char *err, size_t errlen);
int mz_vmstat_parse(const char *text, struct mz_kvtab *t, char *err, size_t errlen);
/* node < 0: /proc/meminfo and /proc/vmstat; else /sys/devices/system/node/nodeN/{meminfo,vmstat} */
int mz_meminfo_read(int node, struct mz_kvtab *t, char *err, size_t errlen);
int mz_vmstat_read(int node, struct mz_kvtab *t, char *err, size_t errlen);
void mz_kvtab_free(struct mz_kvtab *t);
/* true and *val set when present */
bool mz_kvtab_get(const struct mz_kvtab *t, const char *key, uint64_t *val);

/* /proc/pressure/memory ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0" + "full ..."). */
struct mz_psi {
	bool available;
	double some_avg10, some_avg60, some_avg300;
	double full_avg10, full_avg60, full_avg300;
	uint64_t some_total_us, full_total_us;
	bool has_full;
};
int mz_psi_parse(const char *text, struct mz_psi *psi, char *err, size_t errlen);
/* -ENOENT (kernel without PSI / psi=0) leaves psi->available false and returns 0. */
int mz_psi_read(struct mz_psi *psi, char *err, size_t errlen);
