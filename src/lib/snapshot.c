/* snapshot.c - what a decision needs to know, read once: per-node zone sums, one block and its device
 *
 * Everything here is read per udev event on machines with up to 131072 blocks, so nothing scans
 * all blocks: node sums come from zoneinfo, a block's device from iomem, and only the blocks of
 * that one device are read (openat on the memory directory, no allocation per block).
 */
#include "snapshot.h"
#include "daemon_state.h"
#include "procstat.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEMORY_DIR "/sys/devices/system/memory"
#define NODE_DIR "/sys/devices/system/node"
/* Node ids above this are not real (MAX_NUMNODES is at most 1024); refuse them as garbage. */
#define NODE_ID_MAX 65535
/* A device range this many blocks long is not a device but a corrupt iomem line: stop there. */
#define DEVICE_SCAN_MAX (1ul << 20)

/* ---------------------------------------------------------------- pure helpers */

uint64_t mz_page_size_guess(uint64_t memtotal_bytes, uint64_t managed_pages)
{
	if (memtotal_bytes == 0 || managed_pages == 0)
		return 0;
	for (uint64_t p = 4096; p <= (1u << 20); p <<= 1) {
		unsigned __int128 expect = (unsigned __int128)managed_pages * p;
		unsigned __int128 diff = expect > memtotal_bytes ? expect - memtotal_bytes : memtotal_bytes - expect;

		if (diff * 50 <= memtotal_bytes) /* within 2% */
			return p;
	}
	return 0;
}

int mz_nodelist_has(const char *list, int node, bool *has)
{
	const char *p = list;

	*has = false;
	while (isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p)) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > NODE_ID_MAX || b > NODE_ID_MAX || b < a)
			return -EINVAL;
		if (node >= 0 && (unsigned long)node >= a && (unsigned long)node <= b)
			*has = true;
		if (*p == ',')
			p++;
		else if (*p && !isspace((unsigned char)*p))
			return -EINVAL;
	}
	while (isspace((unsigned char)*p))
		p++;
	return *p ? -EINVAL : 0;
}

enum mz_source mz_block_source(bool have_owner, enum mz_source owner, bool acpi_dimm, enum mz_block_state state)
{
	if (have_owner && owner != MZ_SOURCE_BOOT)
		return owner;
	if (acpi_dimm)
		return MZ_SOURCE_DIMM;
	if (state == MZ_BLOCK_OFFLINE)
		return MZ_SOURCE_OTHER;
	return MZ_SOURCE_BOOT;
}

/* ---------------------------------------------------------------- the snapshot */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Node ids from the zoneinfo sections and the nodeN directories (CPU-less or memory-less nodes
 * have a directory but maybe no zone with memory). Sorted, unique. */
static int collect_node_ids(const struct mz_zoneinfo *zi, int **ids_out, size_t *n_out)
{
	size_t n = 0, cap = zi->nzones + 8;
	int *ids = mz_xmalloc(cap * sizeof(*ids));
	char path[MZ_PATH_MAX];
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < zi->nzones; i++)
		ids[n++] = zi->zones[i].node;
	if (mz_path(path, sizeof(path), NODE_DIR) == 0 && (d = opendir(path))) {
		while ((de = readdir(d))) {
			int id;

			if (!mz_startswith(de->d_name, "node") || !isdigit((unsigned char)de->d_name[4]) ||
			    mz_parse_int(de->d_name + 4, &id) < 0 || id < 0 || id > NODE_ID_MAX)
				continue;
			if (n == cap) {
				cap *= 2;
				ids = mz_xrealloc(ids, cap * sizeof(*ids));
			}
			ids[n++] = id;
		}
		closedir(d);
	}
	qsort(ids, n, sizeof(*ids), cmp_int);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || ids[u - 1] != ids[i])
			ids[u++] = ids[i];
	*ids_out = ids;
	*n_out = u;
	return 0;
}

static void add_zone(struct mz_node_snap *n, const struct mz_zone_info *z, uint64_t page)
{
	if (z->type == MZ_ZONE_MOVABLE) {
		n->movable_managed += z->managed * page;
		n->movable_present += z->present * page;
		n->movable_free += z->free * page;
	} else if (mz_zone_is_kernel(z->type)) {
		n->kernel_managed += z->managed * page;
		n->kernel_present += z->present * page;
		n->kernel_free += z->free * page;
		n->kernel_min += z->min * page;
		n->kernel_low += z->low * page;
		n->kernel_high += z->high * page;
		n->kernel_cma += z->cma * page;
	}
	/* ZONE_DEVICE (pmem/dax pages) is neither kernel nor movable memory */
}

static void add_node(struct mz_node_snap *t, const struct mz_node_snap *n)
{
	t->kernel_managed += n->kernel_managed;
	t->kernel_present += n->kernel_present;
	t->movable_managed += n->movable_managed;
	t->movable_present += n->movable_present;
	t->kernel_boot += n->kernel_boot;
	t->kernel_cma += n->kernel_cma;
	t->kernel_hot_policy += n->kernel_hot_policy;
	t->kernel_free += n->kernel_free;
	t->kernel_min += n->kernel_min;
	t->kernel_low += n->kernel_low;
	t->kernel_high += n->kernel_high;
	t->movable_free += n->movable_free;
}

static void sum_total(struct mz_snapshot *s)
{
	memset(&s->total, 0, sizeof(s->total));
	s->total.id = -1;
	s->total.has_cpu = true;
	for (size_t i = 0; i < s->nnodes; i++)
		add_node(&s->total, &s->nodes[i]);
}

static uint64_t page_size_of_tree(const struct mz_zoneinfo *zi, enum mz_page_size_from *from)
{
	struct mz_kvtab mi = { 0 };
	uint64_t memtotal = 0, managed = 0, p;
	char err[256];
	long sz;

	if (mz_root_is_real()) {
		*from = MZ_PAGE_SIZE_SYSCONF;
		sz = sysconf(_SC_PAGESIZE);
		return sz > 0 ? (uint64_t)sz : 4096;
	}
	/* A captured tree says nothing about its page size; MemTotal counts the managed pages. */
	if (mz_meminfo_read(-1, &mi, err, sizeof(err)) == 0)
		mz_kvtab_get(&mi, "MemTotal", &memtotal);
	mz_kvtab_free(&mi);
	for (size_t i = 0; i < zi->nzones; i++)
		managed += zi->zones[i].managed;
	p = mz_page_size_guess(memtotal, managed);
	*from = p ? MZ_PAGE_SIZE_MEMTOTAL : MZ_PAGE_SIZE_ASSUMED;
	return p ? p : 4096;
}

static int read_has_cpu(struct mz_snapshot *s, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], list[4096];
	int r;

	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].has_cpu = true;
	r = mz_path(path, sizeof(path), NODE_DIR "/has_cpu");
	if (r == 0)
		r = mz_read_line(path, list, sizeof(list));
	if (r == -ENOENT)
		return 0; /* kernels before 3.x or without NUMA: assume every node has CPUs */
	if (r < 0) {
		snprintf(err, errlen, "%s%s: %s", mz_root(), NODE_DIR "/has_cpu", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		if (mz_nodelist_has(list, s->nodes[i].id, &s->nodes[i].has_cpu) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a node list (like 0-3,8)", path, list);
			return -EINVAL;
		}
	}
	return 0;
}

/* A node's entry (not the total), for filling it in; NULL when unknown. */
static struct mz_node_snap *node_of(struct mz_snapshot *s, int node)
{
	const struct mz_node_snap *n = node >= 0 ? mz_snapshot_node(s, node) : NULL;

	return n ? &s->nodes[n - s->nodes] : NULL;
}

/* A memzoned with observe_only = yes moves nothing: it harvests no kernel memory on demand, so the
 * onlining policy keeps ratio and rezones online blocks as without it. Read only when one runs. */
static bool daemon_observes_only(void)
{
	struct mz_daemon_state st;
	char err[128];
	bool obs;

	mz_daemon_state_init(&st);
	obs = mz_daemon_state_read(&st, err, sizeof(err)) == 0 && st.observe_only;
	mz_daemon_state_free(&st);
	return obs;
}

int mz_snapshot_read(struct mz_snapshot *s, char *err, size_t errlen)
{
	struct mz_zoneinfo zi = { 0 };
	char path[MZ_PATH_MAX];
	size_t nids = 0;
	int *ids = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	s->total.id = -1;
	r = mz_zoneinfo_read(&zi, err, errlen);
	if (r < 0)
		return r;
	if (zi.nzones == 0) {
		snprintf(err, errlen, "%s/proc/zoneinfo: no zones in it", mz_root());
		mz_zoneinfo_free(&zi);
		return -ENODATA;
	}
	s->page_size = page_size_of_tree(&zi, &s->page_size_from);

	r = mz_memblock_size(&s->block_size);
	if (r == -ENOENT) {
		s->block_size = 0; /* no memory hotplug in this kernel */
	} else if (r < 0 || s->block_size == 0) {
		mz_path(path, sizeof(path), MEMORY_DIR "/block_size_bytes");
		snprintf(err, errlen, "%s: %s", path,
			 r < 0 && r != -EINVAL ? strerror(-r) : "not a block size in hex");
		mz_zoneinfo_free(&zi);
		return r < 0 ? r : -EINVAL;
	}

	collect_node_ids(&zi, &ids, &nids);
	s->nodes = mz_xcalloc(nids, sizeof(*s->nodes));
	s->nnodes = nids;
	for (size_t i = 0; i < nids; i++)
		s->nodes[i].id = ids[i];
	free(ids);
	for (size_t i = 0; i < zi.nzones; i++) {
		struct mz_node_snap *n = node_of(s, zi.zones[i].node);

		if (n)
			add_zone(n, &zi.zones[i], s->page_size);
	}
	mz_zoneinfo_free(&zi);
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].kernel_boot = s->nodes[i].kernel_present;
	sum_total(s);

	r = read_has_cpu(s, err, errlen);
	if (r < 0) {
		mz_snapshot_free(s);
		return r;
	}
	if (mz_auto_online_read(s->auto_online, sizeof(s->auto_online)) < 0)
		s->auto_online[0] = '\0';
	mz_hotplug_params_read(&s->hotplug);
	s->rebalancer_running = mz_daemon_alive(NULL) && !daemon_observes_only();
	return 0;
}

void mz_snapshot_free(struct mz_snapshot *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->nnodes = 0;
}

const struct mz_node_snap *mz_snapshot_node(const struct mz_snapshot *s, int node)
{
	size_t lo = 0, hi = s->nnodes;

	if (node < 0)
		return &s->total;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->nodes[mid].id == node)
			return &s->nodes[mid];
		if (s->nodes[mid].id < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---------------------------------------------------------------- devices */

static void count_block(struct mz_device_snap *dev, const struct mz_block_brief *bb, bool *seen_online)
{
	enum mz_zone_class c;

	dev->n_blocks++;
	if (bb->state == MZ_BLOCK_OFFLINE) {
		dev->n_offline++;
		return;
	}
	if (bb->state != MZ_BLOCK_ONLINE)
		return;
	c = mz_block_zone_class(bb);
	if (c == MZ_CLASS_KERNEL)
		dev->n_kernel++;
	else if (c == MZ_CLASS_MOVABLE)
		dev->n_movable++;
	if (!*seen_online) {
		dev->zone = bb->zone;
		*seen_online = true;
	}
	dev->mixed = dev->n_kernel > 0 && dev->n_movable > 0;
	if (dev->mixed)
		dev->zone = MZ_ZONE_NONE;
}

/* Count the states of blocks first..last (missing ids skipped: holes, or blocks unplugged since).
 * The block b the caller read is counted as read, not read again. */
static void scan_range(int memfd, struct mz_device_snap *dev, const struct mz_block *b, unsigned long first,
		       unsigned long last)
{
	bool seen_online = false;

	dev->first_block = first;
	dev->last_block = last;
	for (unsigned long id = first;; id++) {
		struct mz_block_brief bb = {
			.state = b->state, .zones = b->zones, .zone = b->zone, .zones_known = b->zones_known,
		};
		int r = id == b->id ? 0 : mz_block_brief_at(memfd, id, MZ_BRIEF_ZONES_IF_ONLINE, &bb, NULL, 0);

		if (r == 0)
			count_block(dev, &bb, &seen_online);
		else if (r != -ENOENT)
			dev->n_blocks++; /* unreadable or garbage: the block exists, its state is unknown */
		if (id == last)
			break;
	}
}

/* Without iomem a DIMM's extent is the run of neighbours bound to the same ACPI memory device. */
static void dimm_extent(int memfd, unsigned long id, const char *fw, unsigned long *first, unsigned long *last)
{
	char other[64];
	unsigned long n;

	for (n = 0, *first = id; *first > 0 && n < DEVICE_SCAN_MAX; n++) {
		mz_firmware_node_at(memfd, *first - 1, other, sizeof(other));
		if (strcmp(other, fw) != 0)
			break;
		(*first)--;
	}
	for (n = 0, *last = id; *last < UINT32_MAX && n < DEVICE_SCAN_MAX; n++) {
		mz_firmware_node_at(memfd, *last + 1, other, sizeof(other));
		if (strcmp(other, fw) != 0)
			break;
		(*last)++;
	}
}

/* ---------------------------------------------------------------- new blocks of ACPI memory devices
 *
 * ACPI memory hotplug (drivers/acpi/acpi_memhotplug.c) adds each range of a memory device with
 * add_memory() -- a top-level "System RAM" resource, then one memory block device per block, each
 * sending its "add" uevent -- and only when the whole range is added binds its blocks to the
 * device (acpi_bind_memory_blocks: memoryN/firmware_node -> PNP0C80:xx, first block first). A
 * decision taken on such a block in between would see memory of an unknown agent ("other"), alone:
 * a DIMM split across zones. So an offline block of a top-level System RAM range is known by its
 * range, never by itself alone:
 *  - the range's first block bound to a PNP0C80 device: that DIMM (the binding is in progress);
 *  - the range's first block online and not bound: the range holds boot memory (the kernel onlines
 *    all of it before userspace runs; a hv_balloon/xen range merged into it) or was decided before:
 *    the block alone, as ever (a boot range can span the machine: never scanned per event);
 *  - else the range is new and not bound yet: a decision waits (bounded) for ACPI to bind it, on a
 *    machine with ACPI; then it is a DIMM, or memory of another agent (hv_balloon, xen and probe
 *    memory never get a firmware_node) whose device is the range, so that every block of it is
 *    decided with the same extent whichever way one of them was classified. */

/* poll period while waiting for the binding: acpi_bind_memory_blocks follows the range's last
 * block by microseconds to milliseconds */
#define BIND_POLL_MS 3

enum range_kind { RANGE_BOOT, RANGE_NEW, RANGE_DIMM };

/* The range's first block (the range may start inside a block with no sysfs entry: two tries),
 * or false when neither exists. */
static bool range_first_block(int memfd, uint64_t block_size, uint64_t start, uint64_t end, unsigned long *first)
{
	unsigned long id = (unsigned long)(start / block_size), last = (unsigned long)(end / block_size);

	for (int tries = 0; tries < 2 && id <= last; tries++, id++) {
		char rel[48];

		snprintf(rel, sizeof(rel), "memory%lu", id);
		if (faccessat(memfd, rel, F_OK, 0) == 0) {
			*first = id;
			return true;
		}
	}
	return false;
}

/* The range's first block (false: it has none) and, in name, the ACPI memory device it is bound to
 * ("" when none). */
static bool range_first_dimm(int memfd, uint64_t block_size, uint64_t start, uint64_t end, unsigned long *first,
			     char *name, size_t len)
{
	name[0] = '\0';
	if (!range_first_block(memfd, block_size, start, end, first))
		return false;
	mz_firmware_node_at(memfd, *first, name, len);
	if (!mz_startswith(name, "PNP0C80:"))
		name[0] = '\0';
	return true;
}

bool mz_range_dimm_name(int memfd, uint64_t block_size, uint64_t start, uint64_t end, char *name, size_t len)
{
	unsigned long first;

	return range_first_dimm(memfd, block_size, start, end, &first, name, len) && name[0];
}

/* What the top-level System RAM range of offline block id is (see above); fw: the DIMM's name. */
static enum range_kind range_kind(int memfd, uint64_t block_size, const struct mz_iomem_owner *own, unsigned long id,
				  char *fw, size_t len)
{
	struct mz_block_brief bb;
	unsigned long first;

	if (!range_first_dimm(memfd, block_size, own->dev_start, own->dev_end, &first, fw, len))
		return RANGE_NEW;
	if (fw[0])
		return RANGE_DIMM;
	if (first != id && mz_block_brief_at(memfd, first, MZ_BRIEF_NO_ZONES, &bb, NULL, 0) == 0 &&
	    bb.state != MZ_BLOCK_OFFLINE)
		return RANGE_BOOT;
	return RANGE_NEW;
}

/* Only ACPI binds blocks to memory devices: without it there is nothing to wait for (s390, Xen PV). */
static bool have_acpi(void)
{
	char path[MZ_PATH_MAX];

	return mz_path(path, sizeof(path), "/sys/firmware/acpi") == 0 && access(path, F_OK) == 0;
}

/* Wait up to *budget_ms for ACPI to bind block id (or the range's first block) to a PNP0C80 device;
 * the time spent is taken off the budget. True with fw set when it did. Stops early when the block
 * is no longer offline (another agent onlined it, or it went away). */
static bool wait_bound(int memfd, uint64_t block_size, const struct mz_iomem_owner *own, unsigned long id, char *fw,
		       size_t len, unsigned *budget_ms, unsigned *waited_ms)
{
	const struct timespec poll = { .tv_sec = 0, .tv_nsec = BIND_POLL_MS * 1000000L };
	uint64_t t0 = mz_now_ms(), spent = 0;
	bool bound = false;

	while (spent < *budget_ms) {
		struct mz_block_brief bb;

		nanosleep(&poll, NULL);
		spent = mz_now_ms() - t0;
		mz_firmware_node_at(memfd, id, fw, len);
		if (mz_startswith(fw, "PNP0C80:") ||
		    range_kind(memfd, block_size, own, id, fw, len) == RANGE_DIMM) {
			bound = true;
			break;
		}
		if (mz_block_brief_at(memfd, id, MZ_BRIEF_NO_ZONES, &bb, NULL, 0) < 0 || bb.state != MZ_BLOCK_OFFLINE)
			break;
	}
	if (!bound)
		fw[0] = '\0';
	*waited_ms = spent > UINT32_MAX ? UINT32_MAX : (unsigned)spent;
	*budget_ms -= spent < *budget_ms ? (unsigned)spent : *budget_ms;
	return bound;
}

/* The device of block b (read by the caller), the one classification of a block (see above and
 * mz_block_source); b's ACPI link is completed when its range is a DIMM's being bound. */
static int device_of(const struct mz_snapshot *s, const struct mz_iomem *io, int memfd, struct mz_block *b,
		     struct mz_device_snap *dev, unsigned *bind_wait_ms)
{
	struct mz_iomem_owner own;
	bool have_owner = false, whole_range = false;
	unsigned long id = b->id, first = id, last = id;
	char fw[64] = "";

	if (io && !io->zeroed && mz_iomem_owner(io, b->start, &own) == 0)
		have_owner = true;
	/* an offline block of a top-level System RAM range not (yet) bound to an ACPI memory device */
	if (have_owner && own.source == MZ_SOURCE_BOOT && !b->acpi_dimm && b->state == MZ_BLOCK_OFFLINE) {
		enum range_kind k = range_kind(memfd, s->block_size, &own, id, fw, sizeof(fw));

		if (k == RANGE_NEW && bind_wait_ms && *bind_wait_ms && have_acpi() &&
		    wait_bound(memfd, s->block_size, &own, id, fw, sizeof(fw), bind_wait_ms, &dev->bind_wait_ms))
			k = RANGE_DIMM;
		if (k == RANGE_DIMM) {
			/* the range is the DIMM's: this block is bound, or about to be */
			b->acpi_dimm = true;
			if (!b->firmware_node[0])
				snprintf(b->firmware_node, sizeof(b->firmware_node), "%s", fw);
		}
		whole_range = k != RANGE_BOOT;
		dev->bind_timed_out = k == RANGE_NEW && dev->bind_wait_ms > 0;
	}
	dev->source = mz_block_source(have_owner, have_owner ? own.source : MZ_SOURCE_BOOT, b->acpi_dimm, b->state);

	if (have_owner && (own.source != MZ_SOURCE_BOOT || dev->source == MZ_SOURCE_DIMM || whole_range)) {
		/* iomem knows the device's extent (for a DIMM, or a new range of another agent: its own
		 * top-level System RAM) */
		if (own.source != MZ_SOURCE_BOOT)
			snprintf(dev->name, sizeof(dev->name), "%s", own.device);
		else if (dev->source == MZ_SOURCE_DIMM)
			snprintf(dev->name, sizeof(dev->name), "%s", b->firmware_node);
		dev->start = own.dev_start;
		dev->end = own.dev_end;
		first = (unsigned long)(own.dev_start / s->block_size);
		last = (unsigned long)(own.dev_end / s->block_size);
		if (last < first || last - first >= DEVICE_SCAN_MAX || last > UINT32_MAX)
			first = last = id; /* nonsense extent: this block alone */
	} else if (dev->source == MZ_SOURCE_DIMM && b->firmware_node[0]) {
		snprintf(dev->name, sizeof(dev->name), "%s", b->firmware_node);
		dimm_extent(memfd, id, b->firmware_node, &first, &last);
		dev->start = (uint64_t)first * s->block_size;
		dev->end = ((uint64_t)last + 1) * s->block_size - 1;
	} else {
		/* boot memory is not a device, and an unknown agent's block in a range that holds
		 * online memory is not known to be one: this block alone. (A boot range can span
		 * every block of the machine: never scan it per event.) */
		dev->start = b->start;
		dev->end = b->start + s->block_size - 1;
	}
	scan_range(memfd, dev, b, first, last);
	return 0;
}

int mz_snapshot_block(const struct mz_snapshot *s, const struct mz_iomem *io, unsigned long id,
		      struct mz_block *b, struct mz_device_snap *dev)
{
	return mz_snapshot_block_wait(s, io, id, b, dev, NULL);
}

int mz_snapshot_block_wait(const struct mz_snapshot *s, const struct mz_iomem *io, unsigned long id,
			   struct mz_block *b, struct mz_device_snap *dev, unsigned *bind_wait_ms)
{
	int memfd, r;

	memset(dev, 0, sizeof(*dev));
	if (s->block_size == 0)
		return -ENOENT; /* no memory blocks at all */
	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return memfd == -ENOENT ? -ENOENT : memfd;
	r = mz_memblock_read_at(memfd, id, s->block_size, b);
	if (r == 0)
		r = device_of(s, io, memfd, b, dev, bind_wait_ms);
	close(memfd);
	return r;
}

int mz_snapshot_device(const struct mz_snapshot *s, const struct mz_iomem *io, struct mz_block *b,
		       struct mz_device_snap *dev, unsigned *bind_wait_ms)
{
	int memfd, r;

	memset(dev, 0, sizeof(*dev));
	if (s->block_size == 0)
		return -ENOENT;
	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return memfd == -ENOENT ? -ENOENT : memfd;
	r = device_of(s, io, memfd, b, dev, bind_wait_ms);
	close(memfd);
	return r;
}

enum mz_source mz_snapshot_source(const struct mz_iomem *io, const struct mz_block *b)
{
	struct mz_iomem_owner own;
	bool have_owner = io && !io->zeroed && mz_iomem_owner(io, b->start, &own) == 0;

	return mz_block_source(have_owner, have_owner ? own.source : MZ_SOURCE_BOOT, b->acpi_dimm, b->state);
}
/* ---------------------------------------------------------------- boot baseline */

/* The boot baseline per node is fixed for a boot (hot-added memory never becomes boot memory), so
 * the first scan records it and later decisions read that instead of every hot-added block's
 * zone: a helper's cost stays independent of how much memory was hot-added. One "N BYTES" line a
 * node; a node not listed had no kernel memory when the record was made. */
#define BOOT_RECORD_VERSION "memzone-boot-kernel 1"

static bool boot_record_read(struct mz_snapshot *s)
{
	char path[MZ_PATH_MAX], *text = NULL, *line, *save = NULL;
	uint64_t *val = mz_xcalloc(s->nnodes ? s->nnodes : 1, sizeof(*val));
	bool ok = false, head = false;

	if (mz_path(path, sizeof(path), "%s", MZ_BOOT_RECORD_PATH) < 0 || mz_read_file(path, &text, NULL) < 0)
		goto out;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp;
		int node;
		uint64_t v;

		if (!head) {
			uint64_t bs;

			if (!mz_startswith(line, BOOT_RECORD_VERSION " ") ||
			    mz_parse_u64(line + sizeof(BOOT_RECORD_VERSION), 10, &bs) < 0 || bs != s->block_size)
				goto out;
			head = true;
			continue;
		}
		if (!(sp = strchr(line, ' ')))
			goto out;
		*sp = '\0';
		if (mz_parse_int(line, &node) < 0 || mz_parse_u64(sp + 1, 10, &v) < 0)
			goto out;
		for (size_t i = 0; i < s->nnodes; i++)
			if (s->nodes[i].id == node)
				val[i] = v;
	}
	if (!head)
		goto out;
	/* boot memory offlined since (by hand) is gone from the kernel's count too: never above present */
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].kernel_boot = val[i] < s->nodes[i].kernel_present ? val[i] : s->nodes[i].kernel_present;
	ok = true;
out:
	free(val);
	free(text);
	return ok;
}

static void boot_record_write(const struct mz_snapshot *s)
{
	char path[MZ_PATH_MAX], *buf;
	size_t cap = 64 + s->nnodes * 48, len;

	if (mz_path(path, sizeof(path), "%s", MZ_BOOT_RECORD_PATH) < 0)
		return;
	buf = mz_xmalloc(cap);
	len = (size_t)snprintf(buf, cap, BOOT_RECORD_VERSION " %" PRIu64 "\n", s->block_size);
	for (size_t i = 0; i < s->nnodes && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%d %" PRIu64 "\n", s->nodes[i].id, s->nodes[i].kernel_boot);
	if (len < cap)
		mz_write_file_atomic(path, buf, len, 0644); /* best effort: without it the next one scans */
	free(buf);
}

void mz_snapshot_boot_record_forget(void)
{
	char path[MZ_PATH_MAX];

	if (mz_path(path, sizeof(path), "%s", MZ_BOOT_RECORD_PATH) == 0)
		unlink(path);
}

int mz_snapshot_boot_baseline(struct mz_snapshot *s, const struct mz_iomem *io, bool full)
{
	unsigned long done = 0;
	bool any_done = false;
	uint64_t *range_kernel;
	int memfd;

	for (size_t i = 0; i < s->nnodes; i++) {
		s->nodes[i].kernel_boot = s->nodes[i].kernel_present;
		s->nodes[i].kernel_hot_policy = 0;
	}
	s->iomem_zeroed = io && io->zeroed;
	s->baseline_read = false;
	if (!io || io->zeroed || s->block_size == 0) {
		sum_total(s);
		return 0;
	}
	if (!full && boot_record_read(s)) {
		sum_total(s);
		return 0;
	}
	memfd = mz_memory_dir_open();
	if (memfd < 0) {
		sum_total(s);
		return memfd == -ENOENT ? 0 : memfd;
	}
	/* one range's kernel blocks per node, added to kernel_hot_policy when the range has no Movable block */
	range_kernel = mz_xcalloc(s->nnodes ? s->nnodes : 1, sizeof(*range_kernel));
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *res = &io->res[i];
		struct mz_iomem_owner own;
		unsigned long first, last;
		bool range_movable = false;
		char fw[64];

		if (!mz_startswith(res->name, "System RAM") || mz_iomem_owner(io, res->start, &own) < 0)
			continue;
		if (own.source == MZ_SOURCE_BOOT &&
		    (res->depth != 0 || !mz_range_dimm_name(memfd, s->block_size, res->start, res->end, fw, sizeof(fw))))
			continue;
		first = (unsigned long)(res->start / s->block_size);
		last = (unsigned long)(res->end / s->block_size);
		if (last < first || last - first >= DEVICE_SCAN_MAX || last > UINT32_MAX)
			continue; /* nonsense extent (block ids are below 2^32) */
		if (any_done && first <= done)
			first = done + 1; /* a block shared by two ranges counts once */
		memset(range_kernel, 0, (s->nnodes ? s->nnodes : 1) * sizeof(*range_kernel));
		for (unsigned long id = first; id <= last; id++) {
			struct mz_block_brief bb;
			struct mz_block b;
			struct mz_node_snap *n;

			if (mz_block_brief_at(memfd, id, MZ_BRIEF_ZONES_IF_ONLINE, &bb, NULL, 0) < 0 || bb.state != MZ_BLOCK_ONLINE)
				continue;
			if (mz_block_zone_class(&bb) == MZ_CLASS_MOVABLE)
				range_movable = true;
			if (mz_block_zone_class(&bb) != MZ_CLASS_KERNEL)
				continue;
			if (mz_memblock_read(id, s->block_size, &b) < 0)
				continue;
			n = b.node >= 0 ? node_of(s, b.node) : s->nnodes == 1 ? &s->nodes[0] : NULL;
			if (!n)
				continue;
			n->kernel_boot -= n->kernel_boot > s->block_size ? s->block_size : n->kernel_boot;
			range_kernel[n - s->nodes] += s->block_size;
		}
		for (size_t k = 0; !range_movable && k < s->nnodes; k++)
			s->nodes[k].kernel_hot_policy += range_kernel[k];
		if (last >= first) {
			done = last;
			any_done = true;
		}
	}
	free(range_kernel);
	close(memfd);
	s->baseline_read = true;
	boot_record_write(s);
	sum_total(s);
	return 0;
}
