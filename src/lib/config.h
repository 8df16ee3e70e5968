/* config.h - memzone.conf + memzone.conf.d/NAME.conf (inih, with real line numbers in every error) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iomem.h"

enum mz_default_zone { MZ_DEFAULT_AUTO, MZ_DEFAULT_MOVABLE, MZ_DEFAULT_KERNEL };
enum mz_ratio_scope { MZ_SCOPE_NODE, MZ_SCOPE_SYSTEM, MZ_SCOPE_BOTH };
enum mz_ratio_basis { MZ_BASIS_CURRENT, MZ_BASIS_BOOT };
enum mz_memonly_rule { MZ_MEMONLY_MOVABLE, MZ_MEMONLY_KERNEL, MZ_MEMONLY_POLICY };
enum mz_already_online { MZ_ALREADY_FIX, MZ_ALREADY_LEAVE };
enum mz_kernel_auto_online { MZ_KAO_DISABLE, MZ_KAO_KEEP, MZ_KAO_POLICY };
enum mz_source_zone { MZ_SRCZONE_POLICY, MZ_SRCZONE_MOVABLE, MZ_SRCZONE_KERNEL, MZ_SRCZONE_IGNORE };
/* [rebalance] harvest_order: which Movable block memzoned turns into kernel memory first.
 * devices: keep unplug units whole (devices already partly kernel first, then virtio-mem, then the
 *   smallest DIMM);
 * pages: the fewest used pages (the cheapest offline), whatever device the block belongs to. */
enum mz_harvest_order { MZ_HARVEST_DEVICES, MZ_HARVEST_PAGES };

struct mz_source_rule {
	enum mz_source_zone zone;
	bool whole_device;
};

struct mz_rebalance_config {
	bool enabled;
	uint64_t interval_ms;
	uint64_t headroom;           /* bytes */
	double headroom_percent;     /* of the node's kernel memory; the larger wins */
	uint64_t release_headroom;   /* bytes */
	uint64_t release_delay_ms;
	uint64_t trend_window_ms;
	double psi_some_avg10;       /* percent */
	uint64_t stall_rate;         /* allocstall + compactstall per second */
	bool grow_kernel, grow_movable;
	uint64_t offline_timeout_ms;
	uint64_t cooldown_ms;
	unsigned moves_per_tick, moves_per_minute;
	uint64_t backoff_initial_ms, backoff_max_ms;
	enum mz_harvest_order harvest_order;
	bool boot_memory;
	bool observe_only;
	char metrics_file[256];      /* "" = off */
};

struct mz_config {
	/* [online] */
	enum mz_default_zone default_zone;
	unsigned ratio;                   /* percent */
	enum mz_ratio_scope ratio_scope;
	enum mz_ratio_basis ratio_basis;
	unsigned ratio_with_rebalancer;   /* percent; obsolete, parsed and ignored: the cap is `ratio` */
	uint64_t min_kernel;              /* bytes */
	double min_kernel_percent;
	enum mz_memonly_rule memory_only_nodes;
	enum mz_already_online already_online;
	enum mz_kernel_auto_online kernel_auto_online;
	uint64_t lock_timeout_ms;
	uint64_t kmem_wait_ms;            /* [source kmem] zone = ignore: how long daxctl or another agent gets */
	/* [source NAME], indexed by enum mz_source (boot is never hot-added; its rule is unused) */
	struct mz_source_rule source[MZ_SOURCE__COUNT];
	/* [rebalance] */
	struct mz_rebalance_config rebalance;
	/* files actually read, for check-config */
	char files[16][256];
	size_t nfiles;
	/* "FILE:LINE: key 'x' is ignored: why" lines (obsolete keys), "" when none; each was also logged
	 * with mz_warn by the load */
	char warnings[512];
};

/* Built-in defaults (the values documented in memzone.conf(5) and shipped, commented out, in
 * conf/memzone.conf). Sources: dimm and other: policy, whole_device = yes; virtio_mem: policy,
 * whole_device = no (unplugged block by block, grows past any cap); kmem: ignore (daxctl's), yes. */
void mz_config_defaults(struct mz_config *c);

/* Load <root>/etc/memzone.conf (SYSCONFDIR) then <root>/etc/memzone.conf.d/NAME.conf in lexical order,
 * later wins. A missing main file is fine (defaults). path: NULL for the default, else that one file
 * (and its ".d" directory), used as given: an explicit path is never put under the --root prefix.
 * Drop-ins: names ending in ".conf", not starting with '.', sorted by strcmp; at most 15.
 * On error returns -EINVAL (or -errno) with err = "FILE:LINE: key 'x': why" and c holds the defaults.
 * Every error found is reported, one per line in err (the first line is the first error; when err is
 * too small the last line says how many more there were). Files/dirs writable by group/others or not
 * owned by root are refused (-EPERM) unless allow_insecure (only for --root test trees). Symlinks are
 * followed; the checks apply to the file actually opened. */
int mz_config_load(struct mz_config *c, const char *path, bool allow_insecure, char *err, size_t errlen);
/* Parse one file's text (for tests/fuzzing): name is used in messages. c is reset to the defaults
 * first (so c need not be initialised) and the text applied on top; no file is recorded in c->files.
 * Errors as for mz_config_load. */
int mz_config_parse_string(struct mz_config *c, const char *name, const char *text, char *err, size_t errlen);

/* Print the effective policy as an ini file (every key but the obsolete ones, a '#' header listing the files read), which
 * reads back to the same policy; or as JSON: {"online":{...},"source":{"dimm":{...},...},
 * "rebalance":{...},"files":[...]}, keys named as in the ini file, sizes in bytes, durations in
 * milliseconds, percents as numbers, choices as strings, booleans as true/false. */
void mz_config_print(const struct mz_config *c, FILE *f);
void mz_config_print_json(const struct mz_config *c, FILE *f);

/* Names of every known "section.key" (for the man-page test); NULL-terminated. The keys of the
 * [source NAME] sections are "source.zone" and "source.whole_device". */
extern const char *const mz_config_known_keys[];
