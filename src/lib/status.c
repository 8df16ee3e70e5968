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
 * The printers (text, --blocks, --json, --prometheus) are in status_render.c.
 */
#include "status.h"
#include "status_render.h"
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
static void read_online_link(struct mz_status *st)
{
	char path[MZ_PATH_MAX], target[256];
	struct stat sb;
	ssize_t n;
	long pid;

	st->online_link = MZ_ONLINE_LINK_ABSENT;
	st->online_link_pid = 0;
	if (mz_path(path, sizeof(path), MZ_DS_ONLINE_LINK_PATH) < 0 ||
	    (n = readlink(path, target, sizeof(target) - 1)) < 0)
		return;
	target[n] = '\0';
	st->online_link = stat(path, &sb) == 0 ? MZ_ONLINE_LINK_OK : MZ_ONLINE_LINK_DANGLING;
	if (sscanf(target, "/proc/%ld/", &pid) == 1 && pid > 0 && pid <= INT32_MAX)
		st->online_link_pid = (pid_t)pid;
}

static void find_new_memory_by(struct mz_status *st)
{
	read_online_link(st);
	st->daemon_alive = mz_daemon_alive(&st->daemon_pid);
	st->daemon_decides = st->daemon_alive && mz_daemon_decides();
	if (st->daemon_decides)
		st->new_memory_by = MZ_NEW_MEMORY_MEMZONED;
	else if (st->memzone_rule[0] && !st->memzone_rule_masked)
		st->new_memory_by = MZ_NEW_MEMORY_UDEV_HELPER;
	else
		st->new_memory_by = MZ_NEW_MEMORY_NOBODY;
}

static void add_warnings(struct mz_status *st)
{
	const char *ao = st->snap.auto_online;

	if (ao[0] && strcmp(ao, "offline") != 0)
		mz_status_warn(st, "kernel-auto-online",
		     "the kernel onlines hot-added memory itself (auto_online_blocks=%s), and not with memzone's "
		     "policy: run 'memzone init' (kernel_auto_online = policy hands the policy to the kernel where it "
		     "can apply it, disable leaves new memory to memzone)", ao);
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
int64_t mz_status_ratio_of(uint64_t movable, uint64_t kernel)
{
	if (kernel == 0)
		return -1;
	return (int64_t)((unsigned __int128)movable * 100 / kernel);
}


static void drop_warning(struct mz_status *st, const char *code)
{
	size_t k = 0;

	for (size_t i = 0; i < st->nwarnings; i++)
		if (strcmp(st->warnings[i].code, code) != 0)
			st->warnings[k++] = st->warnings[i];
	st->nwarnings = k;
}

void mz_status_set_policy(struct mz_status *st, const struct mz_config *c)
{
	st->policy_known = true;
	/* `ratio` whether or not memzoned runs (ratio_with_rebalancer is obsolete, ignored) */
	st->ratio_cap = c->ratio;
	st->ratio_scope = c->ratio_scope;
	st->ratio_basis = c->ratio_basis;
	st->kernel_mode = mz_kmode_in_force(c, st->mode_why, sizeof(st->mode_why));
	if (st->kernel_mode) /* the kernel onlines new memory with this policy: as it should */
		drop_warning(st, "kernel-auto-online");
	/* Over the cap means something else onlined movable memory (the kernel, a distribution rule),
	 * or the policy was tightened since. Measured as the policy measures (CMA as movable, the
	 * basis of ratio_basis); a node without kernel memory in the basis has no cap of its own (its
	 * memory counts in the system's). */
	for (size_t i = 0; i <= st->snap.nnodes; i++) {
		const struct mz_node_snap *n = i < st->snap.nnodes ? &st->snap.nodes[i] : &st->snap.total;
		uint64_t kernel = mz_policy_kernel_basis(c, &st->snap, n);
		int64_t r = mz_status_ratio_of(mz_policy_movable_of(n), kernel);

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
