/* status.c - `memzone status`: zones, blocks, hot-added devices, who onlines memory, the rebalancer
 *
 * Read-only: nothing here writes a file. Collection is separate from the printers, so each printer
 * (text, --blocks, --json, --prometheus) is tested on one collected snapshot.
 * Who decides new memory comes from the memzone udev rule and memzoned's flock on
 * run/memzone/memzoned.decides (find_new_memory_by: the helper exits at once while it is held).
 *
 * Cost on a 131072-block machine: one readdir of /sys/devices/system/memory, one readdir per node
 * directory (its memoryN links give node membership), and per block one openat+read of `state`
 * (+ `valid_zones` when online) relative to the memory directory fd. No allocation per block.
 *
 * JSON (`--json`), version 1. Keys are stable; new keys may be added, none renamed or removed.
 * Sizes are always bytes. null means "unknown / not applicable".
 *   version                  1
 *   page_size                bytes; page_size_from: "system" (sysconf), "meminfo" (a --root tree:
 *                            MemTotal = managed pages x page size) or "assumed" (4096: no match)
 *   block_size               memory block size, null without memory hotplug (no sysfs memory dir)
 *   iomem                    "ok" | "zeroed" (read without CAP_SYS_ADMIN) | "missing"
 *   nodes[]                  one object per NUMA node, ascending:
 *     node, has_cpu
 *     kernel_managed, kernel_present, kernel_boot     kernel = every zone but Movable and Device;
 *                                                     kernel_boot = present minus hot-added kernel blocks
 *     movable_managed, movable_present
 *     kernel_free, kernel_min, kernel_low, kernel_high, movable_free
 *     movable_kernel_ratio_percent  floor(movable_managed * 100 / kernel_managed); null when kernel is 0
 *     blocks {online_kernel, online_movable, online_unknown, offline, other}
 *                              online_unknown: online without valid_zones (kernel < 3.18);
 *                              other: going-offline
 *     hot_removable            bytes of hot-added devices whose every block is offline or Movable
 *   total                    the same keys for the whole system (no node, has_cpu)
 *   devices[]                hot-added devices: source ("dimm"|"virtio_mem"|"kmem"|"other"), device
 *                            (name or null), start, end, node, blocks, offline, kernel, movable,
 *                            unknown, hot_removable (bytes)
 *   policy                   memzone's cap (null when not loaded): ratio_cap_percent, ratio_cap_key
 *                            ("ratio": the cap in force with and without memzoned), ratio_scope
 *                            ("node" | "system" | "both"), ratio_basis ("current" | "boot")
 *   hotplug                  auto_online_blocks (null: unknown), online_policy, auto_movable_ratio,
 *                            memmap_on_memory (null when not visible), memzone_rule (path or null),
 *                            memzone_rule_masked, distro_rules[] (paths of rules that online memory),
 *                            new_memory_by: who decides a new block now, "memzoned" (a memzoned
 *                            holds the flock on run/memzone/memzoned.decides: the helper exits at
 *                            once) | "udev_helper" (the rule is in effect and no memzoned decides)
 *                            | "nobody" (neither)
 *   rebalancer               running (a memzoned holds the flock on run/memzone/memzoned.lock),
 *                            pid (written in that file; null), state (null without /run/memzone/state, else:
 *                            pid, updated, observe_only, moves_to_kernel, moves_to_movable, failures,
 *                            rollbacks, nodes[] {node, verdict, reason}, backoff[] {block, until},
 *                            moves[] {when, block, direction, result, duration_ms, error})
 *   warnings[]               {code, message}; codes: kernel-auto-online, no-memzone-rule,
 *                            memzone-rule-masked, distro-rule, iomem-zeroed, iomem-missing,
 *                            daemon-not-running, ratio-above-cap, config-error
 *   blocks[]                 (--blocks only) ranges of equal attributes (one per block with --split):
 *                            start, end, size, first_block, last_block, state, zones[] (null when
 *                            unknown), node (null), source, device (null); left_offline (only
 *                            on a range offlined during this boot by someone else: why memzone
 *                            leaves it offline)
 */
#include "status.h"
#include "kmode.h"
#include "policy.h"
#include "units.h"
#include "util.h"
#include "json.h"
#include "udevdb.h"
#include "daxctl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NODE_DIR "/sys/devices/system/node"
#define MEMZONE_RULE "60-memzone.rules"

/* udev's order: a file in an earlier directory overrides one of the same name in a later one. */
static const char *const rule_dirs[] = {
	"/etc/udev/rules.d", "/run/udev/rules.d", "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
};
/* Distribution rules known to online hot-added memory themselves. */
static const char *const distro_rules[] = { "40-redhat.rules", "40-vm-hotadd.rules", "80-hotplug-cpu-mem.rules" };

void mz_status_warn(struct mz_status *st, const char *code, const char *fmt, ...)
{
	struct mz_status_warning *w;
	va_list ap;

	if (st->nwarnings == MZ_STATUS_MAX_WARNINGS)
		return;
	w = &st->warnings[st->nwarnings++];
	snprintf(w->code, sizeof(w->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- blocks */

static int cmp_block(const void *a, const void *b)
{
	uint32_t x = ((const struct mz_status_block *)a)->id, y = ((const struct mz_status_block *)b)->id;

	return (x > y) - (x < y);
}

static struct mz_status_block *find_block(const struct mz_status *st, unsigned long id)
{
	size_t lo = 0, hi = st->nblocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->blocks[mid].id == id)
			return &st->blocks[mid];
		if (st->blocks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int list_blocks(struct mz_status *st, int memfd, char *err, size_t errlen)
{
	size_t cap = 256;
	struct dirent *de;
	int fd = dup(memfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		int e = -errno;

		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s/sys/devices/system/memory: %s", mz_root(), strerror(-e));
		return e;
	}
	st->blocks = mz_xmalloc(cap * sizeof(*st->blocks));
	while ((de = readdir(d))) {
		unsigned long id;

		if (!mz_block_name_valid(de->d_name, &id))
			continue;
		if (st->nblocks == cap) {
			cap *= 2;
			st->blocks = mz_xrealloc(st->blocks, cap * sizeof(*st->blocks));
		}
		st->blocks[st->nblocks++] = (struct mz_status_block){
			.id = (uint32_t)id, .node = -1, .dev = MZ_STATUS_NO_DEV,
		};
	}
	closedir(d);
	qsort(st->blocks, st->nblocks, sizeof(*st->blocks), cmp_block);
	return 0;
}

/* Node membership from nodeN/memoryM links: one readdir per node instead of one per block. */
static void assign_nodes(struct mz_status *st, int memfd)
{
	size_t links = 0;

	for (size_t i = 0; i < st->snap.nnodes; i++) {
		char path[MZ_PATH_MAX];
		struct dirent *de;
		DIR *d;

		if (mz_path(path, sizeof(path), NODE_DIR "/node%d", st->snap.nodes[i].id) < 0 || !(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			struct mz_status_block *b;
			unsigned long id;

			if (mz_block_name_valid(de->d_name, &id) && (b = find_block(st, id))) {
				b->node = st->snap.nodes[i].id;
				links++;
			}
		}
		closedir(d);
	}
	/* A tree without node directories (or a kernel without NUMA sysfs): ask each block instead,
	 * which stays cheap only for a few nodes. */
	if (links == 0 && st->snap.nnodes > 1 && st->snap.nnodes <= 64) {
		for (size_t b = 0; b < st->nblocks; b++) {
			for (size_t i = 0; i < st->snap.nnodes; i++) {
				char rel[64];

				snprintf(rel, sizeof(rel), "memory%" PRIu32 "/node%d", st->blocks[b].id,
					 st->snap.nodes[i].id);
				if (faccessat(memfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
					st->blocks[b].node = st->snap.nodes[i].id;
					break;
				}
			}
		}
	}
	if (st->snap.nnodes == 1)
		for (size_t b = 0; b < st->nblocks; b++)
			if (st->blocks[b].node < 0)
				st->blocks[b].node = st->snap.nodes[0].id;
}

/* The per-block reads are independent syscalls (openat + read + close of state and valid_zones):
 * a few threads, each on its own slice, divide the wall time on a big machine. */
#define SCAN_THREADS_MAX 4
#define SCAN_BLOCKS_PER_THREAD 8192

struct scan_slice {
	struct mz_status *st;
	int memfd;
	enum mz_brief_zones zones;
	size_t from, to;
	int r;                      /* first error of the slice */
	char why[256];
};

static void *scan_slice(void *arg)
{
	struct scan_slice *sl = arg;

	for (size_t i = sl->from; i < sl->to; i++) {
		struct mz_status_block *b = &sl->st->blocks[i];
		struct mz_block_brief bb;
		int r = mz_block_brief_at(sl->memfd, b->id, sl->zones, &bb, sl->why, sizeof(sl->why));

		if (r == -ENOENT) {
			b->gone = true; /* unplugged while we looked: not an error */
			continue;
		}
		if (r < 0) {
			sl->r = r;
			return NULL;
		}
		b->state = (uint8_t)bb.state;
		b->zone = (uint8_t)bb.zone;
		b->zones = (uint16_t)bb.zones;
		b->zones_known = bb.zones_known;
		b->offlined_this_boot = bb.state == MZ_BLOCK_OFFLINE && mz_block_offlined_this_boot(b->id);
	}
	return NULL;
}

static int read_block_states(struct mz_status *st, int memfd, unsigned flags, char *err, size_t errlen)
{
	struct scan_slice sl[SCAN_THREADS_MAX];
	pthread_t tid[SCAN_THREADS_MAX];
	bool started[SCAN_THREADS_MAX] = { false };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = st->nblocks / SCAN_BLOCKS_PER_THREAD + 1;

	if (cpus > 0 && n > (size_t)cpus)
		n = (size_t)cpus;
	if (n > SCAN_THREADS_MAX)
		n = SCAN_THREADS_MAX;
	for (size_t t = 0; t < n; t++) {
		sl[t] = (struct scan_slice){
			.st = st, .memfd = memfd,
			.zones = (flags & MZ_STATUS_ALL_ZONES) ? MZ_BRIEF_ZONES : MZ_BRIEF_ZONES_IF_ONLINE,
			.from = st->nblocks * t / n, .to = st->nblocks * (t + 1) / n,
		};
		/* slice 0 runs here; if a thread cannot start, its slice runs here too */
		if (t > 0)
			started[t] = pthread_create(&tid[t], NULL, scan_slice, &sl[t]) == 0;
	}
	for (size_t t = 0; t < n; t++)
		if (!started[t])
			scan_slice(&sl[t]);
	for (size_t t = 0; t < n; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
	for (size_t t = 0; t < n; t++) {
		if (sl[t].r < 0) {
			snprintf(err, errlen, "%s/sys/devices/system/memory/%s", mz_root(), sl[t].why);
			return sl[t].r;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- sources and devices */

struct ram_range {
	uint64_t start, end;
	enum mz_source source;
	char device[64];
	uint64_t dev_start, dev_end;
};

static int cmp_range(const void *a, const void *b)
{
	uint64_t x = ((const struct ram_range *)a)->start, y = ((const struct ram_range *)b)->start;

	return (x > y) - (x < y);
}

/* Every "System RAM" resource with its owner, ascending. Ranges under one parent (virtio_mem
 * before the kernel merged them: one per block) share that parent's owner: asked once. */
static struct ram_range *build_ranges(const struct mz_iomem *io, int memfd, uint64_t block_size, size_t *n)
{
	struct ram_range *rr = mz_xcalloc(io->n + 1, sizeof(*rr));
	int last_parent = -2;
	struct mz_iomem_owner own = { 0 };
	bool own_ok = false;

	*n = 0;
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *res = &io->res[i];
		struct ram_range *r;

		if (!mz_startswith(res->name, "System RAM") || res->end < res->start)
			continue;
		if (res->parent < 0 || res->parent != last_parent || !own_ok)
			own_ok = mz_iomem_owner(io, res->start, &own) == 0;
		last_parent = res->parent;
		if (!own_ok)
			continue;
		r = &rr[(*n)++];
		r->start = res->start;
		r->end = res->end;
		r->source = own.source;
		snprintf(r->device, sizeof(r->device), "%s", own.device);
		r->dev_start = own.dev_start;
		r->dev_end = own.dev_end;
		if (own.source == MZ_SOURCE_BOOT && res->depth == 0 &&
		    mz_range_dimm_name(memfd, block_size, res->start, res->end, r->device, sizeof(r->device))) {
			r->source = MZ_SOURCE_DIMM; /* its own top-level range is the DIMM's extent */
			r->dev_start = res->start;
			r->dev_end = res->end;
		} else if (own.source == MZ_SOURCE_BOOT) {
			r->device[0] = '\0';
		}
	}
	qsort(rr, *n, sizeof(*rr), cmp_range);
	return rr;
}

/* The device of a hot-added block: by name (virtioN, daxX.Y, PNP0C80:NN), else by the iomem range
 * it lies in, else - an unknown agent, no iomem - the run of neighbouring blocks it belongs to. */
static uint32_t device_for(struct mz_status *st, size_t *cap, const struct mz_status_block *prev,
			   enum mz_source src, const char *name, uint64_t start, uint64_t end)
{
	struct mz_status_device *d;
	bool ranged = start != 0 || end != 0;

	if (name[0]) {
		for (size_t i = st->ndevices; i-- > 0;)
			if (st->devices[i].source == src && strcmp(st->devices[i].name, name) == 0)
				return (uint32_t)i;
	} else if (prev && prev->dev != MZ_STATUS_NO_DEV) {
		d = &st->devices[prev->dev];
		if (d->source == src && !d->name[0] && d->range_from_iomem == ranged &&
		    (!ranged || (d->start == start && d->end == end)))
			return prev->dev;
	}
	if (st->ndevices == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		st->devices = mz_xrealloc(st->devices, *cap * sizeof(*st->devices));
	}
	d = &st->devices[st->ndevices];
	memset(d, 0, sizeof(*d));
	d->source = src;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->start = start;
	d->end = end;
	d->range_from_iomem = ranged;
	d->node = -1;
	if (src == MZ_SOURCE_KMEM && name[0] && !mz_daxctl_claims(name, d->daxctl, sizeof(d->daxctl)))
		d->daxctl[0] = '\0';
	return (uint32_t)st->ndevices++;
}

static void classify_blocks(struct mz_status *st, int memfd, const struct mz_iomem *io)
{
	uint64_t bs = st->snap.block_size;
	struct ram_range *rr = NULL;
	const struct mz_status_block *prev = NULL;
	size_t nr = 0, r = 0, cap = 0;

	if (st->iomem == MZ_IOMEM_OK)
		rr = build_ranges(io, memfd, bs, &nr);
	for (size_t i = 0; i < st->nblocks; i++) {
		struct mz_status_block *b = &st->blocks[i];
		uint64_t start = (uint64_t)b->id * bs, end = start + bs - 1;
		const struct ram_range *own = NULL;
		const struct mz_status_block *run;
		char fw[64] = "";
		enum mz_source src;

		if (b->gone)
			continue;
		while (r < nr && rr[r].end < start)
			r++;
		if (r < nr && rr[r].start <= end)
			own = &rr[r];
		/* without an owner the block's firmware node is the only clue for a DIMM */
		if (!own)
			mz_firmware_node_at(memfd, b->id, fw, sizeof(fw));
		src = mz_block_source(own != NULL, own ? own->source : MZ_SOURCE_BOOT,
				      own ? own->source == MZ_SOURCE_DIMM : mz_startswith(fw, "PNP0C80:"),
				      (enum mz_block_state)b->state);
		b->source = (uint8_t)src;
		if (src == MZ_SOURCE_BOOT) {
			prev = NULL;
			continue;
		}
		run = prev && prev->id + 1 == b->id ? prev : NULL;
		if (own && own->source == src)
			b->dev = device_for(st, &cap, run, src, own->device, own->dev_start, own->dev_end);
		else if (src == MZ_SOURCE_DIMM)
			b->dev = device_for(st, &cap, run, src, fw, 0, 0);
		else
			b->dev = device_for(st, &cap, run, src, "", 0, 0);
		prev = b;
	}
	free(rr);
}

/* A device iomem or firmware names is unpluggable as a whole; a run of blocks of an unknown agent
 * (offline blocks without iomem) one block at a time. */
static bool device_is_whole(const struct mz_status_device *d)
{
	return d->name[0] || d->range_from_iomem;
}

static struct mz_status_counts *counts_of(struct mz_status *st, int node)
{
	const struct mz_node_snap *n = node >= 0 ? mz_snapshot_node(&st->snap, node) : NULL;

	return n ? &st->counts[n - st->snap.nodes] : NULL;
}

static void count_blocks(struct mz_status *st)
{
	uint64_t bs = st->snap.block_size;

	for (size_t i = 0; i < st->nblocks; i++) {
		struct mz_status_block *b = &st->blocks[i];
		struct mz_status_counts *c = counts_of(st, b->node), *t = &st->total;
		struct mz_status_device *d = b->dev != MZ_STATUS_NO_DEV ? &st->devices[b->dev] : NULL;
		struct mz_block_brief bb = { .state = b->state, .zone = b->zone, .zones_known = b->zones_known };
		unsigned *slot_c = NULL, *slot_t;

		if (b->gone)
			continue;
		if (b->state == MZ_BLOCK_OFFLINE) {
			slot_t = &t->offline;
			if (c)
				slot_c = &c->offline;
			if (d)
				d->n_offline++;
		} else if (b->state != MZ_BLOCK_ONLINE) {
			slot_t = &t->other;
			if (c)
				slot_c = &c->other;
			if (d)
				d->n_unknown++;
		} else {
			switch (mz_block_zone_class(&bb)) {
			case MZ_CLASS_KERNEL:
				slot_t = &t->online_kernel;
				if (c)
					slot_c = &c->online_kernel;
				if (d)
					d->n_kernel++;
				break;
			case MZ_CLASS_MOVABLE:
				slot_t = &t->online_movable;
				if (c)
					slot_c = &c->online_movable;
				if (d)
					d->n_movable++;
				break;
			default:
				slot_t = &t->online_unknown;
				if (c)
					slot_c = &c->online_unknown;
				if (d)
					d->n_unknown++;
				break;
			}
		}
		(*slot_t)++;
		if (slot_c)
			(*slot_c)++;
		if (d) {
			if (d->n_blocks++ == 0)
				d->node = b->node;
			if (!d->range_from_iomem) {
				/* no iomem extent: the blocks seen are the device (ascending ids) */
				if (d->n_blocks == 1)
					d->start = (uint64_t)b->id * bs;
				d->end = (uint64_t)b->id * bs + bs - 1;
			}
		}
	}
	for (size_t i = 0; i < st->ndevices; i++) {
		struct mz_status_device *d = &st->devices[i];

		if (device_is_whole(d) && d->n_kernel == 0 && d->n_unknown == 0)
			d->hot_removable = (uint64_t)d->n_blocks * bs;
	}
	for (size_t i = 0; i < st->nblocks; i++) {
		const struct mz_status_block *b = &st->blocks[i];
		struct mz_status_device *d;
		struct mz_status_counts *c;
		bool removable;

		if (b->gone || b->dev == MZ_STATUS_NO_DEV)
			continue;
		d = &st->devices[b->dev];
		if (device_is_whole(d))
			removable = d->hot_removable > 0;
		else
			removable = b->state == MZ_BLOCK_OFFLINE || (b->state == MZ_BLOCK_ONLINE && b->zones_known &&
								       b->zone == MZ_ZONE_MOVABLE);
		if (!removable)
			continue;
		if (!device_is_whole(d))
			d->hot_removable += bs;
		st->total.hot_removable += bs;
		if ((c = counts_of(st, b->node)))
			c->hot_removable += bs;
	}
}

/* ---------------------------------------------------------------- who onlines memory */

/* The file udev would use for name: the first of rule_dirs that has it. Sets masked when it is
 * a link to /dev/null or empty. Returns false when no directory has it. */
static bool effective_rule(const char *name, char *found, size_t len, bool *masked)
{
	for (size_t i = 0; i < MZ_ARRAY_SIZE(rule_dirs); i++) {
		char path[MZ_PATH_MAX], target[64];
		struct stat sb;
		ssize_t n;

		if (mz_path(path, sizeof(path), "%s/%s", rule_dirs[i], name) < 0 || lstat(path, &sb) < 0)
			continue;
		snprintf(found, len, "%s/%s", rule_dirs[i], name);
		*masked = false;
		if (S_ISLNK(sb.st_mode)) {
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				*masked = strcmp(target, "/dev/null") == 0;
			}
			if (!*masked && stat(path, &sb) == 0)
				*masked = S_ISREG(sb.st_mode) && sb.st_size == 0;
		} else {
			*masked = S_ISCHR(sb.st_mode) || (S_ISREG(sb.st_mode) && sb.st_size == 0);
		}
		return true;
	}
	found[0] = '\0';
	return false;
}

/* Does a rules file have an active (uncommented) rule for the memory subsystem? Unreadable: assume so. */
static bool rule_onlines_memory(const char *rel)
{
	char path[MZ_PATH_MAX], *text, *line, *next;
	bool yes = false;

	if (mz_path(path, sizeof(path), "%s", rel) < 0 || mz_read_file(path, &text, NULL) < 0)
		return true;
	for (line = text; line && !yes; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = mz_strstrip(line);
		if (*line == '#')
			continue;
		yes = strstr(line, "SUBSYSTEM") && strstr(line, "\"memory\"");
	}
	free(text);
	return yes;
}

static void find_rules(struct mz_status *st)
{
	bool masked;

	if (!effective_rule(MEMZONE_RULE, st->memzone_rule, sizeof(st->memzone_rule), &st->memzone_rule_masked))
		st->memzone_rule_masked = false;
	for (size_t i = 0; i < MZ_ARRAY_SIZE(distro_rules); i++) {
		char *slot = st->distro_rules[st->ndistro_rules];

		if (effective_rule(distro_rules[i], slot, sizeof(st->distro_rules[0]), &masked) && !masked &&
		    rule_onlines_memory(slot))
			st->ndistro_rules++;
	}
}

/* Who decides a new block: memzoned while it holds its flock (the kernel drops it when memzoned
 * dies; memzoned lets it go for the time of a move), else the helper where the rule is in effect. */
static void find_new_memory_by(struct mz_status *st)
{
	st->daemon_alive = mz_daemon_alive(&st->daemon_pid);
	st->daemon_decides = st->daemon_alive && mz_daemon_decides();
	if (st->daemon_decides)
		st->new_memory_by = MZ_NEW_MEMORY_MEMZONED;
	else if (st->memzone_rule[0] && !st->memzone_rule_masked)
		st->new_memory_by = MZ_NEW_MEMORY_UDEV_HELPER;
	else
		st->new_memory_by = MZ_NEW_MEMORY_NOBODY;
}

static const char *new_memory_by_name(enum mz_new_memory_by b)
{
	return b == MZ_NEW_MEMORY_MEMZONED ? "memzoned" : b == MZ_NEW_MEMORY_UDEV_HELPER ? "udev_helper" : "nobody";
}

static void add_warnings(struct mz_status *st)
{
	const char *ao = st->snap.auto_online;

	if (ao[0] && strcmp(ao, "offline") != 0)
		mz_status_warn(st, "kernel-auto-online",
		     "the kernel onlines hot-added memory itself (auto_online_blocks=%s), before memzone's rule "
		     "runs: set kernel_auto_online = disable in memzone.conf and run 'memzone init' "
		     "(or boot with memhp_default_state=offline)", ao);
	if (!st->memzone_rule[0])
		mz_status_warn(st, "no-memzone-rule",
		     "no memzone udev rule (" MEMZONE_RULE " in /etc/udev/rules.d, /run/udev/rules.d, "
		     "/usr/lib/udev/rules.d or /lib/udev/rules.d): hot-added memory is not onlined per the policy");
	else if (st->memzone_rule_masked)
		mz_status_warn(st, "memzone-rule-masked", "%s masks memzone's udev rule: hot-added memory is not onlined per the policy",
		     st->memzone_rule);
	for (size_t i = 0; i < st->ndistro_rules; i++)
		mz_status_warn(st, "distro-rule",
		     "%s onlines hot-added memory too and races with memzone: replace it with the copy "
		     "without its memory rule from /usr/share/memzone/udev-masks/ (see memzone(8), "
		     "DISTRIBUTION UDEV RULES); an empty mask would also stop hot-added CPUs from onlining",
		     st->distro_rules[i]);
	if (st->have_blocks && st->iomem == MZ_IOMEM_ZEROED)
		mz_status_warn(st, "iomem-zeroed",
		     "/proc/iomem shows every address as 0 (read without CAP_SYS_ADMIN): hot-added DIMMs are "
		     "found by their ACPI firmware node and other offline blocks counted as 'other'; "
		     "run as root to see virtio-mem and dax/kmem devices");
	else if (st->have_blocks && st->iomem == MZ_IOMEM_MISSING)
		mz_status_warn(st, "iomem-missing",
		     "/proc/iomem is missing: hot-added DIMMs are found by their ACPI firmware node and other "
		     "offline blocks counted as 'other'");
	if (st->daemon && !st->daemon_alive)
		mz_status_warn(st, "daemon-not-running",
		     "memzoned is not running: the rebalancer state shown was written by pid %ld", (long)st->daemon->pid);
}

/* ---------------------------------------------------------------- collect */

int mz_status_collect(struct mz_status *st, unsigned flags, char *err, size_t errlen)
{
	struct mz_iomem io = { 0 };
	char ierr[512];
	int memfd = -1, r;

	memset(st, 0, sizeof(*st));
	mz_daemon_state_init(&st->daemon_file);
	r = mz_snapshot_read(&st->snap, err, errlen);
	if (r < 0)
		return r;
	st->counts = mz_xcalloc(st->snap.nnodes, sizeof(*st->counts));

	r = mz_iomem_read(&io, ierr, sizeof(ierr));
	if (r == -ENOENT) {
		st->iomem = MZ_IOMEM_MISSING;
	} else if (r < 0) {
		snprintf(err, errlen, "%s", ierr);
		goto fail;
	} else {
		st->iomem = io.zeroed ? MZ_IOMEM_ZEROED : MZ_IOMEM_OK;
	}
	mz_snapshot_boot_baseline(&st->snap, st->iomem == MZ_IOMEM_MISSING ? NULL : &io, true);

	if (st->snap.block_size > 0 && (memfd = mz_memory_dir_open()) >= 0) {
		st->have_blocks = true;
		r = list_blocks(st, memfd, err, errlen);
		if (r == 0)
			r = read_block_states(st, memfd, flags, err, errlen);
		if (r < 0)
			goto fail;
		assign_nodes(st, memfd);
		classify_blocks(st, memfd, &io);
		count_blocks(st);
	}

	find_rules(st);
	find_new_memory_by(st);
	r = mz_daemon_state_read(&st->daemon_file, err, errlen);
	if (r == 0)
		st->daemon = &st->daemon_file;
	else if (r != -ENOENT)
		goto fail;
	add_warnings(st);
	if (memfd >= 0)
		close(memfd);
	mz_iomem_free(&io);
	return 0;
fail:
	if (memfd >= 0)
		close(memfd);
	mz_iomem_free(&io);
	mz_status_free(st);
	return r < 0 ? r : -EINVAL;
}

void mz_status_free(struct mz_status *st)
{
	mz_snapshot_free(&st->snap);
	mz_daemon_state_free(&st->daemon_file);
	free(st->counts);
	free(st->blocks);
	free(st->devices);
	st->counts = NULL;
	st->blocks = NULL;
	st->devices = NULL;
	st->nblocks = st->ndevices = 0;
	st->daemon = NULL;
}

/* ---------------------------------------------------------------- the policy's cap */

/* MOVABLE:KERNEL in percent, floored like the kernel's auto_movable_ratio check; -1 when kernel is 0. */
static int64_t ratio_of(uint64_t movable, uint64_t kernel)
{
	if (kernel == 0)
		return -1;
	return (int64_t)((unsigned __int128)movable * 100 / kernel);
}

static int64_t ratio_percent(const struct mz_node_snap *n)
{
	return ratio_of(n->movable_managed, n->kernel_managed);
}

static const char *scope_name(enum mz_ratio_scope s)
{
	return s == MZ_SCOPE_NODE ? "node" : s == MZ_SCOPE_SYSTEM ? "system" : "both";
}

void mz_status_set_policy(struct mz_status *st, const struct mz_config *c)
{
	st->policy_known = true;
	/* `ratio` whether or not memzoned runs (ratio_with_rebalancer is obsolete, ignored) */
	st->ratio_cap = c->ratio;
	st->ratio_scope = c->ratio_scope;
	st->ratio_basis = c->ratio_basis;
	st->kernel_mode = mz_kmode_in_force(c, st->mode_why, sizeof(st->mode_why));
	/* Over the cap means something else onlined movable memory (the kernel, a distribution rule),
	 * or the policy was tightened since. Measured as the policy measures (CMA as movable, the
	 * basis of ratio_basis); a node without kernel memory in the basis has no cap of its own (its
	 * memory counts in the system's). */
	for (size_t i = 0; i <= st->snap.nnodes; i++) {
		const struct mz_node_snap *n = i < st->snap.nnodes ? &st->snap.nodes[i] : &st->snap.total;
		uint64_t kernel = mz_policy_kernel_basis(c, &st->snap, n);
		int64_t r = ratio_of(mz_policy_movable_of(n), kernel);

		if (n->id >= 0 && (c->ratio_scope == MZ_SCOPE_SYSTEM || kernel == 0))
			continue;
		if (n->id < 0 && c->ratio_scope == MZ_SCOPE_NODE)
			continue;
		if (r < 0 || r <= (int64_t)st->ratio_cap)
			continue;
		if (n->id >= 0)
			mz_status_warn(st, "ratio-above-cap",
				       "node %d: MOVABLE:KERNEL %" PRId64 "%% is above memzone's cap of %u%% (ratio): more "
				       "movable memory than the policy allows", n->id, r, st->ratio_cap);
		else
			mz_status_warn(st, "ratio-above-cap",
				       "system: MOVABLE:KERNEL %" PRId64 "%% is above memzone's cap of %u%% (ratio): more "
				       "movable memory than the policy allows", r, st->ratio_cap);
	}
}

/* ---------------------------------------------------------------- formatting helpers */

#define CELL 64
#define MAX_COLS 12

typedef void (*row_fn)(const void *ctx, size_t row, char cells[][CELL]);

/* Columns two blanks apart, widths from the widest cell; align: 'l' or 'r' per column; every line
 * starts with indent. */
static void print_table(FILE *f, const char *indent, size_t ncols, const char *const *hdr, const char *align,
			size_t nrows, row_fn fn, const void *ctx)
{
	char cells[MAX_COLS][CELL];
	size_t w[MAX_COLS] = { 0 };

	for (size_t c = 0; c < ncols; c++)
		w[c] = strlen(hdr[c]);
	for (size_t r = 0; r < nrows; r++) {
		fn(ctx, r, cells);
		for (size_t c = 0; c < ncols; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (size_t r = 0; r <= nrows; r++) {
		if (r > 0)
			fn(ctx, r - 1, cells);
		fputs(indent, f);
		for (size_t c = 0; c < ncols; c++) {
			const char *s = r == 0 ? hdr[c] : cells[c];
			bool last = c + 1 == ncols;

			if (align[c] == 'r')
				fprintf(f, "%*s%s", (int)w[c], s, last ? "" : "  ");
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
		fputc('\n', f);
	}
}

static const char *size_str(const struct mz_status_opts *o, uint64_t bytes, char *buf, size_t len)
{
	if (o->bytes) {
		snprintf(buf, len, "%" PRIu64, bytes);
		return buf;
	}
	return mz_format_size(bytes, buf, len);
}

static void zones_text(const struct mz_status_block *b, const char *sep, char *buf, size_t len)
{
	size_t off;

	if (!b->zones_known) {
		snprintf(buf, len, "-");
		return;
	}
	if (b->zones == 0) {
		snprintf(buf, len, "none");
		return;
	}
	off = (size_t)snprintf(buf, len, "%s", mz_zone_name((enum mz_zone)b->zone));
	for (int z = 1; z < MZ_ZONE__COUNT && off < len; z++)
		if ((b->zones & MZ_ZONE_BIT(z)) && z != b->zone)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", sep, mz_zone_name((enum mz_zone)z));
}

static const char *page_size_from_name(enum mz_page_size_from f)
{
	return f == MZ_PAGE_SIZE_SYSCONF ? "system" : f == MZ_PAGE_SIZE_MEMTOTAL ? "meminfo" : "assumed";
}

static const char *iomem_name(enum mz_iomem_state s)
{
	return s == MZ_IOMEM_OK ? "ok" : s == MZ_IOMEM_ZEROED ? "zeroed" : "missing";
}

static void when_text(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/* ---------------------------------------------------------------- text */

struct text_ctx {
	const struct mz_status *st;
	const struct mz_status_opts *o;
};

static const struct mz_node_snap *row_node(const struct mz_status *st, size_t row)
{
	return row < st->snap.nnodes ? &st->snap.nodes[row] : &st->snap.total;
}

static void zones_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_node_snap *n = row_node(t->st, row);
	int64_t ratio = ratio_percent(n);

	if (n->id < 0)
		snprintf(c[0], CELL, "total");
	else
		snprintf(c[0], CELL, "%d", n->id);
	snprintf(c[1], CELL, "%s", n->id < 0 ? "" : n->has_cpu ? "yes" : "no");
	size_str(t->o, n->kernel_managed, c[2], CELL);
	size_str(t->o, n->movable_managed, c[3], CELL);
	if (ratio >= 0)
		snprintf(c[4], CELL, "%" PRId64 "%%", ratio);
	else
		snprintf(c[4], CELL, "%s", n->movable_managed ? "inf" : "-");
	size_str(t->o, n->kernel_free, c[5], CELL);
	size_str(t->o, n->kernel_min, c[6], CELL);
	size_str(t->o, n->kernel_low, c[7], CELL);
	size_str(t->o, n->kernel_high, c[8], CELL);
	size_str(t->o, n->movable_free, c[9], CELL);
}

static void blocks_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_status_counts *k = row < t->st->snap.nnodes ? &t->st->counts[row] : &t->st->total;

	if (row < t->st->snap.nnodes)
		snprintf(c[0], CELL, "%d", t->st->snap.nodes[row].id);
	else
		snprintf(c[0], CELL, "total");
	snprintf(c[1], CELL, "%u", k->online_kernel);
	snprintf(c[2], CELL, "%u", k->online_movable);
	snprintf(c[3], CELL, "%u", k->online_unknown);
	snprintf(c[4], CELL, "%u", k->offline);
	snprintf(c[5], CELL, "%u", k->other);
	size_str(t->o, k->hot_removable, c[6], CELL);
}

static void device_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_status_device *d = &t->st->devices[row];

	snprintf(c[0], CELL, "%s", mz_source_name(d->source));
	snprintf(c[1], CELL, "%s", d->name[0] ? d->name : "-");
	if (d->node >= 0)
		snprintf(c[2], CELL, "%d", d->node);
	else
		snprintf(c[2], CELL, "-");
	snprintf(c[3], CELL, "0x%016" PRIx64 "-0x%016" PRIx64, d->start, d->end);
	snprintf(c[4], CELL, "%u", d->n_blocks);
	snprintf(c[5], CELL, "%u", d->n_kernel);
	snprintf(c[6], CELL, "%u", d->n_movable);
	snprintf(c[7], CELL, "%u", d->n_offline);
	size_str(t->o, d->hot_removable, c[8], CELL);
}

static void move_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct text_ctx *t = ctx;
	const struct mz_ds_move *m = &t->st->daemon->moves[t->st->daemon->nmoves - 1 - row]; /* newest first */

	when_text(m->when, c[0], CELL);
	snprintf(c[1], CELL, "memory%lu", m->block);
	snprintf(c[2], CELL, "%s", mz_move_dir_name(m->dir));
	snprintf(c[3], CELL, "%s", mz_move_result_name(m->result));
	mz_format_duration(m->duration_ms, c[4], CELL);
	snprintf(c[5], CELL, "%s", m->error[0] ? m->error : "-");
}

static void print_daemon(const struct mz_status *st, FILE *f)
{
	const struct mz_daemon_state *ds = st->daemon;
	char when[64];

	fprintf(f, "\nRebalancer (memzoned):\n");
	if (st->daemon_alive)
		fprintf(f, "  running, pid %ld\n", (long)st->daemon_pid);
	else
		fprintf(f, "  not running\n");
	if (!ds) {
		fprintf(f, "  no state written (%s)\n", MZ_DS_STATE_PATH);
		return;
	}
	when_text(ds->updated, when, sizeof(when));
	fprintf(f, "  state of pid %ld, updated %s%s\n", (long)ds->pid, when,
		ds->observe_only ? " (observe only: nothing is moved)" : "");
	for (size_t i = 0; i < ds->nnodes; i++)
		fprintf(f, "  node %d: %s%s%s\n", ds->nodes[i].node, mz_verdict_name(ds->nodes[i].verdict),
			ds->nodes[i].reason[0] ? " - " : "", ds->nodes[i].reason);
	fprintf(f, "  moves: %" PRIu64 " to kernel, %" PRIu64 " to movable; %" PRIu64 " failed, %" PRIu64
		   " rolled back\n", ds->moves_to_kernel, ds->moves_to_movable, ds->failures, ds->rollbacks);
	for (size_t i = 0; i < ds->nbackoffs; i++) {
		when_text(ds->backoffs[i].until, when, sizeof(when));
		fprintf(f, "  backoff: memory%lu until %s\n", ds->backoffs[i].block, when);
	}
	if (ds->nmoves) {
		static const char *const hdr[] = { "WHEN", "BLOCK", "DIRECTION", "RESULT", "TOOK", "ERROR" };
		struct text_ctx t = { st, NULL };

		fprintf(f, "  last moves (newest first):\n");
		print_table(f, "    ", 6, hdr, "lllrrl", ds->nmoves, move_row, &t);
	}
}

static void print_new_memory_by(const struct mz_status *st, FILE *f)
{
	fprintf(f, "  new memory decided by: ");
	switch (st->new_memory_by) {
	case MZ_NEW_MEMORY_MEMZONED:
		fprintf(f, "memzoned (pid %ld; the udev helper exits at once)\n", (long)st->daemon_pid);
		return;
	case MZ_NEW_MEMORY_UDEV_HELPER:
		fprintf(f, "udev helper (memzone online, one process per block)");
		if (st->daemon_alive)
			fprintf(f, "; memzoned runs but does not decide new memory now: a move in progress, or it "
				   "cannot hear the kernel's uevents");
		fputc('\n', f);
		return;
	case MZ_NEW_MEMORY_NOBODY:
		fprintf(f, "nobody in memzone (the memzone udev rule is %s and no memzoned decides new memory)\n",
			st->memzone_rule[0] ? "masked" : "not installed");
		return;
	}
}

void mz_status_print_text(const struct mz_status *st, const struct mz_status_opts *o, FILE *f)
{
	static const char *const zhdr[] = { "NODE", "CPUS", "KERNEL", "MOVABLE", "MOVABLE:KERNEL",
					    "KERNEL-FREE", "MIN", "LOW", "HIGH", "MOVABLE-FREE" };
	static const char *const bhdr[] = { "NODE", "ONLINE-KERNEL", "ONLINE-MOVABLE", "ONLINE-UNKNOWN",
					    "OFFLINE", "OTHER", "HOT-REMOVABLE" };
	static const char *const dhdr[] = { "SOURCE", "DEVICE", "NODE", "RANGE", "BLOCKS", "KERNEL",
					    "MOVABLE", "OFFLINE", "HOT-REMOVABLE" };
	struct text_ctx t = { st, o };
	const struct mz_snapshot *s = &st->snap;
	char a[32], b[32];

	fprintf(f, "Page size %s%s; ", size_str(o, s->page_size, a, sizeof(a)),
		s->page_size_from == MZ_PAGE_SIZE_MEMTOTAL ? " (inferred from MemTotal)"
		: s->page_size_from == MZ_PAGE_SIZE_ASSUMED ? " (assumed: no MemTotal that matches zoneinfo)" : "");
	if (st->have_blocks)
		fprintf(f, "memory blocks of %s; ", size_str(o, s->block_size, b, sizeof(b)));
	else
		fprintf(f, "no /sys/devices/system/memory (no memory hotplug); ");
	fprintf(f, "iomem %s\n\n", iomem_name(st->iomem));

	fprintf(f, "Zones (managed memory; kernel = every zone but Movable and Device; free vs kernel watermarks):\n");
	print_table(f, "", 10, zhdr, "llrrrrrrrr", s->nnodes + 1, zones_row, &t);
	if (st->policy_known)
		fprintf(f, "memzone's cap: MOVABLE:KERNEL at most %u%% (ratio; %s; against %s kernel memory)\n",
			st->ratio_cap,
			st->ratio_scope == MZ_SCOPE_NODE ? "per node" : st->ratio_scope == MZ_SCOPE_SYSTEM ? "system-wide"
			: "per node and system-wide",
			st->ratio_basis == MZ_BASIS_BOOT ? "boot-time" : "current");

	if (st->have_blocks) {
		fprintf(f, "\nBlocks (hot-removable = hot-added devices whose every block is offline or Movable):\n");
		print_table(f, "", 7, bhdr, "lrrrrrr", s->nnodes + 1, blocks_row, &t);
		if (st->ndevices) {
			fprintf(f, "\nHot-added devices:\n");
			print_table(f, "", 9, dhdr, "lllrrrrrr", st->ndevices, device_row, &t);
		} else {
			fprintf(f, "\nHot-added devices: none\n");
		}
	}

	fprintf(f, "\nWho onlines hot-added memory:\n");
	fprintf(f, "  kernel auto_online_blocks: %s\n", s->auto_online[0] ? s->auto_online : "unknown (not visible)");
	if (st->policy_known)
		fprintf(f, "  onlining mode: %s\n", st->mode_why);
	if (s->hotplug.online_policy[0] || s->hotplug.auto_movable_ratio >= 0) {
		fprintf(f, "  kernel memory_hotplug: online_policy=%s", s->hotplug.online_policy[0] ? s->hotplug.online_policy : "?");
		if (s->hotplug.auto_movable_ratio >= 0)
			fprintf(f, " auto_movable_ratio=%d%%", s->hotplug.auto_movable_ratio);
		if (s->hotplug.memmap_on_memory[0])
			fprintf(f, " memmap_on_memory=%s", s->hotplug.memmap_on_memory);
		fputc('\n', f);
	} else {
		fprintf(f, "  kernel memory_hotplug: parameters not visible\n");
	}
	if (st->memzone_rule[0])
		fprintf(f, "  memzone udev rule: %s%s\n", st->memzone_rule, st->memzone_rule_masked ? " (masked)" : "");
	else
		fprintf(f, "  memzone udev rule: not installed\n");
	for (size_t i = 0; i < st->ndistro_rules; i++)
		fprintf(f, "  distribution rule: %s\n", st->distro_rules[i]);
	print_new_memory_by(st, f);

	if (st->daemon || st->daemon_alive)
		print_daemon(st, f);
	else
		fprintf(f, "  memzoned: not running\n");

	if (st->nwarnings) {
		fputc('\n', f);
		for (size_t i = 0; i < st->nwarnings; i++)
			fprintf(f, "warning: %s\n", st->warnings[i].message);
	}
}

/* ---------------------------------------------------------------- --blocks */

/* Same attributes, next id: one row unless split. */
static bool same_range(const struct mz_status_block *a, const struct mz_status_block *b)
{
	return b->id == a->id + 1 && a->state == b->state && a->zones_known == b->zones_known &&
	       a->zones == b->zones && a->zone == b->zone && a->node == b->node && a->source == b->source &&
	       a->dev == b->dev && a->offlined_this_boot == b->offlined_this_boot;
}

#define OFFLINED_THIS_BOOT "offlined during this boot; memzone leaves it"
#define LEFT_TO_DAXCTL "left to daxctl"

/* offline kmem whose dax device a daxctl config names (the device's daxctl says which) */
static bool left_to_daxctl(const struct mz_status *st, const struct mz_status_block *b)
{
	return b->state == MZ_BLOCK_OFFLINE && b->dev != MZ_STATUS_NO_DEV && st->devices[b->dev].daxctl[0];
}

/* Rows of --blocks as [first, last] indices into st->blocks (gone blocks skipped). */
static size_t block_rows(const struct mz_status *st, bool split, size_t **rows_out)
{
	size_t *rows = mz_xmalloc((2 * st->nblocks + 2) * sizeof(*rows)), n = 0;
	size_t i = 0;

	while (i < st->nblocks) {
		size_t j = i;

		if (st->blocks[i].gone) {
			i++;
			continue;
		}
		while (!split && j + 1 < st->nblocks && !st->blocks[j + 1].gone && same_range(&st->blocks[j], &st->blocks[j + 1]))
			j++;
		rows[2 * n] = i;
		rows[2 * n + 1] = j;
		n++;
		i = j + 1;
	}
	*rows_out = rows;
	return n;
}

struct blocks_ctx {
	const struct mz_status *st;
	const struct mz_status_opts *o;
	const size_t *rows;
};

static void range_row(const void *ctx, size_t row, char c[][CELL])
{
	const struct blocks_ctx *t = ctx;
	const struct mz_status_block *a = &t->st->blocks[t->rows[2 * row]], *z = &t->st->blocks[t->rows[2 * row + 1]];
	uint64_t bs = t->st->snap.block_size;

	snprintf(c[0], CELL, "0x%016" PRIx64 "-0x%016" PRIx64, (uint64_t)a->id * bs, (uint64_t)z->id * bs + bs - 1);
	size_str(t->o, (uint64_t)(z->id - a->id + 1) * bs, c[1], CELL);
	snprintf(c[2], CELL, "%s%s", mz_block_state_name((enum mz_block_state)a->state),
		 a->offlined_this_boot ? " (" OFFLINED_THIS_BOOT ")" : left_to_daxctl(t->st, a) ? " (" LEFT_TO_DAXCTL ")" : "");
	if (a->id == z->id)
		snprintf(c[3], CELL, "%" PRIu32, a->id);
	else
		snprintf(c[3], CELL, "%" PRIu32 "-%" PRIu32, a->id, z->id);
	zones_text(a, "/", c[4], CELL);
	if (a->node >= 0)
		snprintf(c[5], CELL, "%d", a->node);
	else
		snprintf(c[5], CELL, "-");
	snprintf(c[6], CELL, "%s", mz_source_name((enum mz_source)a->source));
	snprintf(c[7], CELL, "%s", a->dev != MZ_STATUS_NO_DEV && t->st->devices[a->dev].name[0] ?
					   t->st->devices[a->dev].name : "-");
}

void mz_status_print_blocks(const struct mz_status *st, const struct mz_status_opts *o, FILE *f)
{
	static const char *const hdr[] = { "RANGE", "SIZE", "STATE", "BLOCK", "ZONES", "NODE", "SOURCE", "DEVICE" };
	uint64_t on = 0, off = 0, bs = st->snap.block_size;
	struct blocks_ctx t = { st, o, NULL };
	size_t *rows, n;
	char a[32];

	if (!st->have_blocks) {
		fprintf(f, "No memory blocks: %s/sys/devices/system/memory is missing (no memory hotplug)\n", mz_root());
		return;
	}
	n = block_rows(st, o->split, &rows);
	t.rows = rows;
	print_table(f, "", 8, hdr, "lrrrrrll", n, range_row, &t);
	free(rows);
	for (size_t i = 0; i < st->nblocks; i++) {
		if (st->blocks[i].gone)
			continue;
		if (st->blocks[i].state == MZ_BLOCK_OFFLINE)
			off += bs;
		else
			on += bs;
	}
	fprintf(f, "\nMemory block size:    %s\n", size_str(o, bs, a, sizeof(a)));
	fprintf(f, "Total online memory:  %s\n", size_str(o, on, a, sizeof(a)));
	fprintf(f, "Total offline memory: %s\n", size_str(o, off, a, sizeof(a)));
}

/* ---------------------------------------------------------------- JSON */

static void json_node(struct mz_json *j, const char *key, const struct mz_node_snap *n,
		      const struct mz_status_counts *c)
{
	int64_t ratio = ratio_percent(n);

	mz_json_obj_begin(j, key);
	if (n->id >= 0) {
		mz_json_i64(j, "node", n->id);
		mz_json_bool(j, "has_cpu", n->has_cpu);
	}
	mz_json_u64(j, "kernel_managed", n->kernel_managed);
	mz_json_u64(j, "kernel_present", n->kernel_present);
	mz_json_u64(j, "kernel_boot", n->kernel_boot);
	mz_json_u64(j, "movable_managed", n->movable_managed);
	mz_json_u64(j, "movable_present", n->movable_present);
	mz_json_u64(j, "kernel_free", n->kernel_free);
	mz_json_u64(j, "kernel_min", n->kernel_min);
	mz_json_u64(j, "kernel_low", n->kernel_low);
	mz_json_u64(j, "kernel_high", n->kernel_high);
	mz_json_u64(j, "movable_free", n->movable_free);
	if (ratio >= 0)
		mz_json_i64(j, "movable_kernel_ratio_percent", ratio);
	else
		mz_json_null(j, "movable_kernel_ratio_percent");
	mz_json_obj_begin(j, "blocks");
	mz_json_u64(j, "online_kernel", c->online_kernel);
	mz_json_u64(j, "online_movable", c->online_movable);
	mz_json_u64(j, "online_unknown", c->online_unknown);
	mz_json_u64(j, "offline", c->offline);
	mz_json_u64(j, "other", c->other);
	mz_json_obj_end(j);
	mz_json_u64(j, "hot_removable", c->hot_removable);
	mz_json_obj_end(j);
}

static void json_str_or_null(struct mz_json *j, const char *key, const char *s)
{
	mz_json_str(j, key, s && s[0] ? s : NULL);
}

static void json_daemon(struct mz_json *j, const struct mz_status *st)
{
	const struct mz_daemon_state *ds = st->daemon;

	mz_json_obj_begin(j, "rebalancer");
	mz_json_bool(j, "running", st->daemon_alive);
	if (st->daemon_pid > 0)
		mz_json_i64(j, "pid", st->daemon_pid);
	else
		mz_json_null(j, "pid");
	if (!ds) {
		mz_json_null(j, "state");
		mz_json_obj_end(j);
		return;
	}
	mz_json_obj_begin(j, "state");
	mz_json_i64(j, "pid", ds->pid);
	mz_json_i64(j, "updated", ds->updated);
	mz_json_bool(j, "observe_only", ds->observe_only);
	mz_json_u64(j, "moves_to_kernel", ds->moves_to_kernel);
	mz_json_u64(j, "moves_to_movable", ds->moves_to_movable);
	mz_json_u64(j, "failures", ds->failures);
	mz_json_u64(j, "rollbacks", ds->rollbacks);
	mz_json_arr_begin(j, "nodes");
	for (size_t i = 0; i < ds->nnodes; i++) {
		mz_json_obj_begin(j, NULL);
		mz_json_i64(j, "node", ds->nodes[i].node);
		mz_json_str(j, "verdict", mz_verdict_name(ds->nodes[i].verdict));
		mz_json_str(j, "reason", ds->nodes[i].reason);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_arr_begin(j, "backoff");
	for (size_t i = 0; i < ds->nbackoffs; i++) {
		mz_json_obj_begin(j, NULL);
		mz_json_u64(j, "block", ds->backoffs[i].block);
		mz_json_i64(j, "until", ds->backoffs[i].until);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_arr_begin(j, "moves");
	for (size_t i = 0; i < ds->nmoves; i++) {
		const struct mz_ds_move *m = &ds->moves[i];

		mz_json_obj_begin(j, NULL);
		mz_json_i64(j, "when", m->when);
		mz_json_u64(j, "block", m->block);
		mz_json_str(j, "direction", mz_move_dir_name(m->dir));
		mz_json_str(j, "result", mz_move_result_name(m->result));
		mz_json_u64(j, "duration_ms", m->duration_ms);
		json_str_or_null(j, "error", m->error);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	mz_json_obj_end(j);
	mz_json_obj_end(j);
}

static void json_blocks(struct mz_json *j, const struct mz_status *st, const struct mz_status_opts *o)
{
	uint64_t bs = st->snap.block_size;
	size_t *rows, n = block_rows(st, o->split, &rows);

	mz_json_arr_begin(j, "blocks");
	for (size_t r = 0; r < n; r++) {
		const struct mz_status_block *a = &st->blocks[rows[2 * r]], *z = &st->blocks[rows[2 * r + 1]];

		mz_json_obj_begin(j, NULL);
		mz_json_u64(j, "start", (uint64_t)a->id * bs);
		mz_json_u64(j, "end", (uint64_t)z->id * bs + bs - 1);
		mz_json_u64(j, "size", (uint64_t)(z->id - a->id + 1) * bs);
		mz_json_u64(j, "first_block", a->id);
		mz_json_u64(j, "last_block", z->id);
		mz_json_str(j, "state", mz_block_state_name((enum mz_block_state)a->state));
		if (a->offlined_this_boot)
			mz_json_str(j, "left_offline", OFFLINED_THIS_BOOT);
		else if (left_to_daxctl(st, a))
			mz_json_str(j, "left_offline", LEFT_TO_DAXCTL);
		if (a->zones_known) {
			mz_json_arr_begin(j, "zones");
			if (a->zones) {
				mz_json_str(j, NULL, mz_zone_name((enum mz_zone)a->zone));
				for (int zz = 1; zz < MZ_ZONE__COUNT; zz++)
					if ((a->zones & MZ_ZONE_BIT(zz)) && zz != a->zone)
						mz_json_str(j, NULL, mz_zone_name((enum mz_zone)zz));
			}
			mz_json_arr_end(j);
		} else {
			mz_json_null(j, "zones");
		}
		if (a->node >= 0)
			mz_json_i64(j, "node", a->node);
		else
			mz_json_null(j, "node");
		mz_json_str(j, "source", mz_source_name((enum mz_source)a->source));
		json_str_or_null(j, "device", a->dev != MZ_STATUS_NO_DEV ? st->devices[a->dev].name : NULL);
		mz_json_obj_end(j);
	}
	mz_json_arr_end(j);
	free(rows);
}

void mz_status_print_json(const struct mz_status *st, const struct mz_status_opts *o, bool with_blocks, FILE *f)
{
	const struct mz_snapshot *s = &st->snap;
	struct mz_json j;

	mz_json_init(&j, f, true);
	mz_json_obj_begin(&j, NULL);
	mz_json_i64(&j, "version", 1);
	mz_json_u64(&j, "page_size", s->page_size);
	mz_json_str(&j, "page_size_from", page_size_from_name(s->page_size_from));
	if (st->have_blocks)
		mz_json_u64(&j, "block_size", s->block_size);
	else
		mz_json_null(&j, "block_size");
	mz_json_str(&j, "iomem", iomem_name(st->iomem));
	mz_json_arr_begin(&j, "nodes");
	for (size_t i = 0; i < s->nnodes; i++)
		json_node(&j, NULL, &s->nodes[i], &st->counts[i]);
	mz_json_arr_end(&j);
	json_node(&j, "total", &s->total, &st->total);
	mz_json_arr_begin(&j, "devices");
	for (size_t i = 0; i < st->ndevices; i++) {
		const struct mz_status_device *d = &st->devices[i];

		mz_json_obj_begin(&j, NULL);
		mz_json_str(&j, "source", mz_source_name(d->source));
		json_str_or_null(&j, "device", d->name);
		mz_json_u64(&j, "start", d->start);
		mz_json_u64(&j, "end", d->end);
		if (d->node >= 0)
			mz_json_i64(&j, "node", d->node);
		else
			mz_json_null(&j, "node");
		mz_json_u64(&j, "blocks", d->n_blocks);
		mz_json_u64(&j, "offline", d->n_offline);
		mz_json_u64(&j, "kernel", d->n_kernel);
		mz_json_u64(&j, "movable", d->n_movable);
		mz_json_u64(&j, "unknown", d->n_unknown);
		mz_json_u64(&j, "hot_removable", d->hot_removable);
		if (d->daxctl[0])
			mz_json_str(&j, "daxctl", d->daxctl);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	mz_json_obj_begin(&j, "hotplug");
	json_str_or_null(&j, "auto_online_blocks", s->auto_online);
	if (st->policy_known) {
		mz_json_str(&j, "mode", st->kernel_mode ? "kernel" : "userspace");
		mz_json_str(&j, "mode_why", strchr(st->mode_why, ':') ? strchr(st->mode_why, ':') + 2 : st->mode_why);
	}
	json_str_or_null(&j, "online_policy", s->hotplug.online_policy);
	if (s->hotplug.auto_movable_ratio >= 0)
		mz_json_i64(&j, "auto_movable_ratio", s->hotplug.auto_movable_ratio);
	else
		mz_json_null(&j, "auto_movable_ratio");
	json_str_or_null(&j, "memmap_on_memory", s->hotplug.memmap_on_memory);
	json_str_or_null(&j, "memzone_rule", st->memzone_rule);
	mz_json_bool(&j, "memzone_rule_masked", st->memzone_rule_masked);
	mz_json_arr_begin(&j, "distro_rules");
	for (size_t i = 0; i < st->ndistro_rules; i++)
		mz_json_str(&j, NULL, st->distro_rules[i]);
	mz_json_arr_end(&j);
	mz_json_str(&j, "new_memory_by", new_memory_by_name(st->new_memory_by));
	mz_json_obj_end(&j);
	if (st->policy_known) {
		mz_json_obj_begin(&j, "policy");
		mz_json_u64(&j, "ratio_cap_percent", st->ratio_cap);
		mz_json_str(&j, "ratio_cap_key", "ratio");
		mz_json_str(&j, "ratio_scope", scope_name(st->ratio_scope));
		mz_json_str(&j, "ratio_basis", st->ratio_basis == MZ_BASIS_BOOT ? "boot" : "current");
		mz_json_obj_end(&j);
	} else {
		mz_json_null(&j, "policy");
	}
	json_daemon(&j, st);
	mz_json_arr_begin(&j, "warnings");
	for (size_t i = 0; i < st->nwarnings; i++) {
		mz_json_obj_begin(&j, NULL);
		mz_json_str(&j, "code", st->warnings[i].code);
		mz_json_str(&j, "message", st->warnings[i].message);
		mz_json_obj_end(&j);
	}
	mz_json_arr_end(&j);
	if (with_blocks && st->have_blocks)
		json_blocks(&j, st, o);
	mz_json_obj_end(&j);
	mz_json_finish(&j);
}

/* ---------------------------------------------------------------- Prometheus */

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void mz_status_print_prometheus(const struct mz_status *st, FILE *f)
{
	static const struct { const char *state, *zone; size_t off; } block_series[] = {
		{ "online", "kernel", offsetof(struct mz_status_counts, online_kernel) },
		{ "online", "movable", offsetof(struct mz_status_counts, online_movable) },
		{ "online", "unknown", offsetof(struct mz_status_counts, online_unknown) },
		{ "offline", "none", offsetof(struct mz_status_counts, offline) },
		{ "going-offline", "none", offsetof(struct mz_status_counts, other) },
	};
	const struct mz_snapshot *s = &st->snap;
	const struct mz_daemon_state *ds = st->daemon;

	prom_head(f, "memzone_zone_managed_bytes", "gauge",
		  "Managed memory per node; zone=kernel is every zone but Movable and Device.");
	for (size_t i = 0; i < s->nnodes; i++) {
		fprintf(f, "memzone_zone_managed_bytes{node=\"%d\",zone=\"kernel\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].kernel_managed);
		fprintf(f, "memzone_zone_managed_bytes{node=\"%d\",zone=\"movable\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].movable_managed);
	}
	prom_head(f, "memzone_zone_free_bytes", "gauge", "Free memory per node and zone class.");
	for (size_t i = 0; i < s->nnodes; i++) {
		fprintf(f, "memzone_zone_free_bytes{node=\"%d\",zone=\"kernel\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].kernel_free);
		fprintf(f, "memzone_zone_free_bytes{node=\"%d\",zone=\"movable\"} %" PRIu64 "\n", s->nodes[i].id,
			s->nodes[i].movable_free);
	}
	prom_head(f, "memzone_kernel_watermark_bytes", "gauge", "Sum of the kernel zones' min/low/high watermarks per node.");
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct mz_node_snap *n = &s->nodes[i];

		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"min\"} %" PRIu64 "\n", n->id, n->kernel_min);
		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"low\"} %" PRIu64 "\n", n->id, n->kernel_low);
		fprintf(f, "memzone_kernel_watermark_bytes{node=\"%d\",watermark=\"high\"} %" PRIu64 "\n", n->id, n->kernel_high);
	}
	prom_head(f, "memzone_movable_kernel_ratio_percent", "gauge",
		  "Movable managed memory as a percentage of kernel managed memory (like auto_movable_ratio).");
	for (size_t i = 0; i < s->nnodes; i++) {
		int64_t r = ratio_percent(&s->nodes[i]);

		if (r >= 0)
			fprintf(f, "memzone_movable_kernel_ratio_percent{node=\"%d\"} %" PRId64 "\n", s->nodes[i].id, r);
		else
			fprintf(f, "memzone_movable_kernel_ratio_percent{node=\"%d\"} %s\n", s->nodes[i].id,
				s->nodes[i].movable_managed ? "+Inf" : "0");
	}
	if (st->policy_known) {
		prom_head(f, "memzone_movable_kernel_ratio_cap_percent", "gauge",
			  "The largest MOVABLE:KERNEL ratio memzone's policy allows (ratio, with or without memzoned).");
		fprintf(f, "memzone_movable_kernel_ratio_cap_percent %u\n", st->ratio_cap);
	}
	if (st->have_blocks) {
		prom_head(f, "memzone_block_size_bytes", "gauge", "Size of one memory block.");
		fprintf(f, "memzone_block_size_bytes %" PRIu64 "\n", s->block_size);
		prom_head(f, "memzone_blocks", "gauge", "Memory blocks per node, state and zone class.");
		for (size_t i = 0; i < s->nnodes; i++)
			for (size_t k = 0; k < MZ_ARRAY_SIZE(block_series); k++)
				fprintf(f, "memzone_blocks{node=\"%d\",state=\"%s\",zone=\"%s\"} %u\n", s->nodes[i].id,
					block_series[k].state, block_series[k].zone,
					*(const unsigned *)((const char *)&st->counts[i] + block_series[k].off));
		prom_head(f, "memzone_hot_removable_bytes", "gauge",
			  "Memory of hot-added devices whose every block is offline or Movable (unpluggable now).");
		fprintf(f, "memzone_hot_removable_bytes %" PRIu64 "\n", st->total.hot_removable);
		prom_head(f, "memzone_node_hot_removable_bytes", "gauge", "memzone_hot_removable_bytes per node.");
		for (size_t i = 0; i < s->nnodes; i++)
			fprintf(f, "memzone_node_hot_removable_bytes{node=\"%d\"} %" PRIu64 "\n", s->nodes[i].id,
				st->counts[i].hot_removable);
	}
	if (s->auto_online[0]) {
		prom_head(f, "memzone_kernel_auto_online_info", "gauge", "The kernel's auto_online_blocks setting.");
		fprintf(f, "memzone_kernel_auto_online_info{auto_online_blocks=\"%s\"} 1\n", s->auto_online);
	}
	prom_head(f, "memzone_warning", "gauge", "1 for each problem 'memzone status' warns about.");
	for (size_t i = 0; i < st->nwarnings; i++)
		fprintf(f, "memzone_warning{code=\"%s\"} 1\n", st->warnings[i].code);
	prom_head(f, "memzone_rebalancer_running", "gauge", "1 while a memzoned holds run/memzone/memzoned.lock.");
	fprintf(f, "memzone_rebalancer_running %d\n", st->daemon_alive ? 1 : 0);
	prom_head(f, "memzone_new_memory_by_memzoned", "gauge",
		  "1 while memzoned holds run/memzone/memzoned.decides: it decides new memory, the udev helper exits at once.");
	fprintf(f, "memzone_new_memory_by_memzoned %d\n", st->new_memory_by == MZ_NEW_MEMORY_MEMZONED ? 1 : 0);
	if (!ds)
		return;
	prom_head(f, "memzone_moves_total", "counter", "Blocks moved between zones by memzoned.");
	fprintf(f, "memzone_moves_total{direction=\"to_kernel\"} %" PRIu64 "\n", ds->moves_to_kernel);
	fprintf(f, "memzone_moves_total{direction=\"to_movable\"} %" PRIu64 "\n", ds->moves_to_movable);
	prom_head(f, "memzone_move_failures_total", "counter", "Moves that failed (refused, timed out or rolled back).");
	fprintf(f, "memzone_move_failures_total %" PRIu64 "\n", ds->failures);
	prom_head(f, "memzone_move_rollbacks_total", "counter", "Failed moves whose block was re-onlined in its old zone.");
	fprintf(f, "memzone_move_rollbacks_total %" PRIu64 "\n", ds->rollbacks);
	prom_head(f, "memzone_pressure", "gauge", "1 for the rebalancer's current verdict per node.");
	for (size_t i = 0; i < ds->nnodes; i++)
		for (int v = 0; v < MZ_VERDICT__COUNT; v++)
			fprintf(f, "memzone_pressure{node=\"%d\",verdict=\"%s\"} %d\n", ds->nodes[i].node,
				mz_verdict_name((enum mz_verdict)v), ds->nodes[i].verdict == (enum mz_verdict)v);
	prom_head(f, "memzone_blocks_in_backoff", "gauge", "Blocks memzoned will not try to move for a while.");
	fprintf(f, "memzone_blocks_in_backoff %zu\n", ds->nbackoffs);
	prom_head(f, "memzone_observe_only", "gauge", "1 when memzoned only logs what it would do.");
	fprintf(f, "memzone_observe_only %d\n", ds->observe_only ? 1 : 0);
	prom_head(f, "memzone_state_updated_timestamp_seconds", "gauge", "When memzoned last wrote its state.");
	fprintf(f, "memzone_state_updated_timestamp_seconds %" PRId64 "\n", ds->updated);
}
