/* kmodel.c - LD_PRELOAD model of the kernel's memory-block state machine for fixture trees.
 *
 *   KMODEL_ROOT=/tmp/tree LD_PRELOAD=tests/shim/kmodel.so memzone online --root /tmp/tree memory42
 *
 * A write to KMODEL_ROOT/sys/devices/system/memory/memoryN/state is applied the way the kernel
 * would, under an flock of KMODEL_ROOT/proc/.kmodel.lock so concurrent processes serialise:
 *   - "online", "online_kernel", "online_movable" on an offline block: the zone must be offered by
 *     valid_zones (else EINVAL); state becomes "online", valid_zones the zone, and the zone's
 *     pages free/present/managed (and spanned, nr_free_pages) in proc/zoneinfo grow by the block;
 *   - "offline" on an online block: the reverse; valid_zones gets its offline value back;
 *   - online_* on an online block, offline on an offline block, any other word: EINVAL.
 * Every transition is appended to KMODEL_ROOT/proc/.kmodel.log with the totals after it:
 *   memory42 online_movable Movable node=1 kernel=K movable=M node_kernel=NK node_movable=NM by=memzone pid=P
 *     kernel_free=F node_kernel_free=NF memmap=C migrated=U kernel_present=KP node_kernel_present=NKP
 * (managed pages, free pages; kernel = every zone but Movable and Device; by = the writing program's
 * name; memmap = pages this write charged for struct pages, migrated = user pages it moved), so a
 * test can check that no intermediate state crossed a cap or left the kernel short, whoever wrote it,
 * and tell the udev helper's writes from memzoned's. auto_online_blocks writes replace the file's content.
 *
 * NUMA: a block's node is its nodeN link. The first memory of a node (a CPU-less CXL node without
 * boot memory) makes the kernel print the node's zones in zoneinfo; the node masks has_memory and
 * has_normal_memory (when the tree has them) follow the node's online memory, as N_MEMORY and
 * N_NORMAL_MEMORY do.
 * Memory map (KMODEL_MEMMAP=BYTES, off by default): each block's struct pages, BYTES per page (64 on
 * x86-64: 2 MiB per 128 MiB block), come out of free kernel memory the first time the block is
 * onlined (the kernel allocates them when the memory is added, without memmap_on_memory; fixture
 * trees add nothing for offline blocks, so the model charges the first online): from the block's
 * node's kernel zones, Normal first, else from the other nodes' (a node without kernel memory has
 * nowhere of its own to put them), each zone down to its min watermark; none with room: ENOMEM.
 * Free pages drop, managed stays (the allocation is an ordinary one); the charge is never given back
 * (the memmap lives until the memory is removed).
 * User pages: writing "kmodel_user_pages=N" to an online block's state (test set-up, through the
 * model like any write) says N of its pages hold user data (its zone's free drops by them). Offlining
 * it then migrates them: they need free room outside the block (its node first, Movable before the
 * kernel zones, then the other nodes; each zone down to its min watermark), where free drops by them;
 * no room: EBUSY and the block stays online (the kernel's offline_pages retries until it gives up).
 *
 * Faults (environment): KMODEL_REFUSE=word[,word] -> EINVAL for those words (a kernel refusing a
 * zone valid_zones offered); KMODEL_OFFLINE=busy -> EBUSY for offline; KMODEL_OFFLINE=hang ->
 * offline blocks until a signal and fails with EINTR, leaving the block online (like
 * offline_pages()); KMODEL_EINTR=N -> the first N online writes of the process fail with EINTR;
 * KMODEL_RACE=word -> just before the process's first online write, "another agent" writes word
 * to the same block (so that write meets an already-online block).
 * Timing (environment): KMODEL_DELAY_MS=N -> each state write of the process takes N ms more, inside
 * the model's lock (the kernel serialises hotplug under device_hotplug_lock; onlining a real block
 * takes milliseconds), so concurrent writers really overlap.
 *
 * Safety: a write-open of the real /sys/devices/system/memory fails with EACCES, so a test that
 * forgot --root cannot hotplug the machine. Everything else is passed on to the next definition
 * (RTLD_NEXT), so another shim (tests/shim/faults.c) can be preloaded with this one.
 * Not thread-safe (memzone's writers are single-threaded). Built without sanitizers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEMDIR "/sys/devices/system/memory/"
#define MAX_TRACKED 4096
#define PAGE_SIZE_MODEL 4096ull

enum kind { K_NONE, K_STATE, K_AUTO_ONLINE };

struct tracked {
	enum kind kind;
	unsigned long id;
};

static struct tracked fds[MAX_TRACKED];

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

static void init_real(void)
{
	if (real_write)
		return;
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_dup = (int (*)(int))dlsym(RTLD_NEXT, "dup");
	real_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
	real_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

/* ---- small file helpers on the real functions (never re-enter the model) ---- */

static char *slurp(const char *path)
{
	size_t cap = 1 << 16, n = 0;
	char *buf;
	int fd;

	fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (!buf)
			break;
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	real_close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int put_fd(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = real_write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace path's content atomically (readers in other processes see old or new, never half). */
static int replace_file(const char *path, const char *content)
{
	char tmp[PATH_MAX];
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.kmodel.%d", path, (int)getpid());
	fd = real_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	r = put_fd(fd, content, strlen(content));
	real_close(fd);
	if (r == 0)
		r = rename(tmp, path);
	if (r < 0)
		unlink(tmp);
	return r;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* ---- paths ---- */

static const char *model_root(void)
{
	const char *r = getenv("KMODEL_ROOT");

	return r && *r ? r : NULL;
}

/* Absolute form of (dirfd, path) in buf. */
static const char *absolute(int dirfd, const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX], link[64];
	ssize_t n;

	if (path[0] == '/')
		return path;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof(dir)))
			return path;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, dir, sizeof(dir) - 1);
		if (n < 0)
			return path;
		dir[n] = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s/%s", dir, path) >= len)
		return path; /* too long to be one of ours */
	return buf;
}

/* Which modelled file (if any) path is. */
static enum kind classify(const char *path, unsigned long *id)
{
	const char *root = model_root(), *rest;
	size_t rl;
	char *end;

	if (!root)
		return K_NONE;
	rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (strncmp(path, root, rl) != 0 || strncmp(path + rl, MEMDIR, strlen(MEMDIR)) != 0)
		return K_NONE;
	rest = path + rl + strlen(MEMDIR);
	if (strcmp(rest, "auto_online_blocks") == 0)
		return K_AUTO_ONLINE;
	if (strncmp(rest, "memory", 6) != 0 || !isdigit((unsigned char)rest[6]))
		return K_NONE;
	*id = strtoul(rest + 6, &end, 10);
	return strcmp(end, "/state") == 0 ? K_STATE : K_NONE;
}

static bool real_sysfs_write(const char *path, int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY && strncmp(path, MEMDIR, strlen(MEMDIR)) == 0;
}

static void track(int fd, enum kind k, unsigned long id)
{
	if (fd >= 0 && fd < MAX_TRACKED) {
		fds[fd].kind = k;
		fds[fd].id = id;
	}
}

/* ---- zoneinfo ---- */

struct totals {
	uint64_t kernel, movable, node_kernel, node_movable;
	uint64_t kernel_present, node_kernel_present; /* what ratio_basis counts (present pages) */
};

static bool is_kernel_zone(const char *z)
{
	return strcmp(z, "Movable") != 0 && strcmp(z, "Device") != 0;
}

/* Rewrite "KEY   N" keeping the indentation and spacing; delta is added (clamped at 0). */
static void bump(char *out, size_t len, const char *line, const char *key, int64_t delta, uint64_t *result)
{
	const char *p = strstr(line, key);
	const char *num = p + strlen(key);
	unsigned long long v;
	int64_t nv;

	while (*num == ' ' || *num == '\t')
		num++;
	v = strtoull(num, NULL, 10);
	nv = (int64_t)v + delta;
	if (nv < 0)
		nv = 0;
	if (result)
		*result = (uint64_t)nv;
	snprintf(out, len, "%.*s%lld\n", (int)(num - line), line, (long long)nv);
}

static bool line_is(const char *line, const char *key)
{
	while (*line == ' ')
		line++;
	return strncmp(line, key, strlen(key)) == 0 &&
	       (line[strlen(key)] == ' ' || line[strlen(key)] == '\t');
}

/* The node of text's first zone header (-1 when none). */
static int first_node_of(const char *text)
{
	const char *q = strstr(text, "Node ");
	int nd = -1;

	if (q && sscanf(q, "Node %d,", &nd) != 1)
		nd = -1;
	return nd;
}

/* Add (or with delta < 0 take away) pages of node/zone; fills the totals after the change. */
static int zoneinfo_apply(const char *root, int node, const char *zone, int64_t delta, struct totals *t)
{
	char path[PATH_MAX], hdr_zone[32] = "", line[512], *text, *p, *out;
	int hdr_node = -1, hits = 0;
	size_t cap, n = 0;
	bool in_target = false;

	snprintf(path, sizeof(path), "%s/proc/zoneinfo", root);
	text = slurp(path);
	if (!text)
		return -1;
	cap = strlen(text) + 1024;
	out = malloc(cap);
	if (!out) {
		free(text);
		return -1;
	}
	memset(t, 0, sizeof(*t));
	for (p = text; *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
		char rewritten[512];
		const char *emit = line;

		snprintf(line, sizeof(line), "%.*s", (int)(l < sizeof(line) - 1 ? l : sizeof(line) - 1), p);
		p += l;
		if (sscanf(line, "Node %d, zone %31s", &hdr_node, hdr_zone) == 2) {
			in_target = hdr_node == node && strcmp(hdr_zone, zone) == 0;
			if (in_target)
				hits++;
		} else if (line_is(line, "managed")) {
			uint64_t v = strtoull(strstr(line, "managed") + 7, NULL, 10);

			if (in_target) {
				bump(rewritten, sizeof(rewritten), line, "managed", delta, &v);
				emit = rewritten;
			}
			if (is_kernel_zone(hdr_zone)) {
				t->kernel += v;
				t->node_kernel += hdr_node == node ? v : 0;
			} else if (strcmp(hdr_zone, "Movable") == 0) {
				t->movable += v;
				t->node_movable += hdr_node == node ? v : 0;
			}
		} else if (line_is(line, "present")) {
			uint64_t v = strtoull(strstr(line, "present") + 7, NULL, 10);

			if (in_target) {
				bump(rewritten, sizeof(rewritten), line, "present", delta, &v);
				emit = rewritten;
			}
			if (is_kernel_zone(hdr_zone)) {
				t->kernel_present += v;
				t->node_kernel_present += hdr_node == node ? v : 0;
			}
		} else if (in_target && line_is(line, "nr_free_pages")) {
			bump(rewritten, sizeof(rewritten), line, "nr_free_pages", delta, NULL);
			emit = rewritten;
		} else if (in_target && strncmp(line, "  pages free", 12) == 0) {
			bump(rewritten, sizeof(rewritten), line, "pages free", delta, NULL);
			emit = rewritten;
		} else if (in_target && line_is(line, "spanned") && delta > 0) {
			bump(rewritten, sizeof(rewritten), line, "spanned", delta, NULL);
			emit = rewritten;
		}
		if (n + strlen(emit) + 1 >= cap) {
			char *no = realloc(out, cap = cap * 2 + strlen(emit));

			if (!no) {
				free(out);
				free(text);
				return -1;
			}
			out = no;
		}
		memcpy(out + n, emit, strlen(emit));
		n += strlen(emit);
	}
	if (!hits && delta > 0) {
		/* a node that had no memory yet (memory-only CXL node): the kernel starts printing it,
		 * every zone of it (the same list as the other nodes'), the empty ones cut short */
		char names[8][32], sect[4096];
		size_t nn = 0, sl = 0;
		bool have_target = false;

		for (const char *q = text; q && *q && nn < 8;) {
			int nd;
			char zn[32];

			if (sscanf(q, "Node %d, zone %31s", &nd, zn) == 2) {
				if (nn > 0 && nd != first_node_of(text))
					break;
				snprintf(names[nn++], sizeof(names[0]), "%s", zn);
				have_target |= strcmp(zn, zone) == 0;
			}
			q = strchr(q, '\n');
			q = q ? q + 1 : NULL;
		}
		if (!have_target && nn < 8)
			snprintf(names[nn++], sizeof(names[0]), "%s", zone);
		for (size_t k = 0; k < nn; k++) {
			long long v = strcmp(names[k], zone) == 0 ? (long long)delta : 0;

			sl += (size_t)snprintf(sect + sl, sizeof(sect) - sl,
					       "Node %d, zone %8s\n  pages free     %lld\n        boost    0\n"
					       "        min      0\n        low      0\n        high     0\n"
					       "        spanned  %lld\n        present  %lld\n        managed  %lld\n"
					       "        cma      0\n        protection: (0, 0, 0, 0, 0)\n",
					       node, names[k], v, v, v, v);
			if (v)
				sl += (size_t)snprintf(sect + sl, sizeof(sect) - sl, "      nr_free_pages %lld\n", v);
			if (sl >= sizeof(sect))
				sl = sizeof(sect) - 1;
		}
		out = realloc(out, n + sl + 1);
		if (!out) {
			free(text);
			return -1;
		}
		memcpy(out + n, sect, sl);
		n += sl;
		if (is_kernel_zone(zone)) {
			t->kernel += (uint64_t)delta;
			t->node_kernel += (uint64_t)delta;
		} else {
			t->movable += (uint64_t)delta;
			t->node_movable += (uint64_t)delta;
		}
	}
	out[n] = '\0';
	free(text);
	hits = replace_file(path, out);
	free(out);
	return hits;
}

/* ---- free pages: the memory map, user pages and where they go ---- */

/* What a transition did besides the zone sizes (the log's last fields). */
struct extra {
	uint64_t kernel_free, node_kernel_free, memmap, migrated;
};

#define MAX_ZONES 256

/* proc/zoneinfo as lines, with where each zone's free pages and min watermark are */
struct zi {
	char **lines;
	size_t n;
	struct zrec {
		int node;
		char name[32];
		long free_ln, nrfree_ln; /* line numbers, -1 when absent */
		uint64_t free, min;
	} z[MAX_ZONES];
	size_t nz;
};

static void zi_free(struct zi *zi)
{
	for (size_t i = 0; i < zi->n; i++)
		free(zi->lines[i]);
	free(zi->lines);
	zi->lines = NULL;
	zi->n = zi->nz = 0;
}

static int zi_load(const char *root, struct zi *zi)
{
	char path[PATH_MAX], *text, *p;
	size_t cap = 256;
	struct zrec *cur = NULL;
	bool cut;

	memset(zi, 0, sizeof(*zi));
	snprintf(path, sizeof(path), "%s/proc/zoneinfo", root);
	text = slurp(path);
	if (!text)
		return -1;
	zi->lines = malloc(cap * sizeof(*zi->lines));
	for (p = text; zi->lines && *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
		char *line = strndup(p, l);
		int nd;
		char zn[32];

		p += l;
		if (!line)
			break;
		if (zi->n == cap) {
			char **nlines = realloc(zi->lines, (cap *= 2) * sizeof(*zi->lines));

			if (!nlines) {
				free(line);
				break;
			}
			zi->lines = nlines;
		}
		zi->lines[zi->n] = line;
		if (sscanf(line, "Node %d, zone %31s", &nd, zn) == 2) {
			cur = zi->nz < MAX_ZONES ? &zi->z[zi->nz++] : NULL;
			if (cur) {
				cur->node = nd;
				snprintf(cur->name, sizeof(cur->name), "%s", zn);
				cur->free_ln = cur->nrfree_ln = -1;
				cur->free = cur->min = 0;
			}
		} else if (cur && strncmp(line, "  pages free", 12) == 0) {
			cur->free_ln = (long)zi->n;
			cur->free = strtoull(line + 12, NULL, 10);
		} else if (cur && line_is(line, "nr_free_pages")) {
			cur->nrfree_ln = (long)zi->n;
		} else if (cur && line_is(line, "min")) {
			cur->min = strtoull(strstr(line, "min") + 3, NULL, 10);
		}
		zi->n++;
	}
	cut = !zi->lines || *p; /* out of memory on the way */
	free(text);
	if (cut) {
		zi_free(zi);
		return -1;
	}
	return 0;
}

static int zi_save(const char *root, const struct zi *zi)
{
	char path[PATH_MAX], *out;
	size_t len = 1, n = 0;
	int r;

	for (size_t i = 0; i < zi->n; i++)
		len += strlen(zi->lines[i]);
	out = malloc(len);
	if (!out)
		return -1;
	for (size_t i = 0; i < zi->n; i++) {
		memcpy(out + n, zi->lines[i], strlen(zi->lines[i]));
		n += strlen(zi->lines[i]);
	}
	out[n] = '\0';
	snprintf(path, sizeof(path), "%s/proc/zoneinfo", root);
	r = replace_file(path, out);
	free(out);
	return r;
}

/* Add delta to a zone's free pages ("pages free" and nr_free_pages). */
static void zi_add_free(struct zi *zi, struct zrec *z, int64_t delta)
{
	long lns[2] = { z->free_ln, z->nrfree_ln };
	const char *keys[2] = { "pages free", "nr_free_pages" };

	for (int k = 0; k < 2; k++) {
		char buf[512];
		char *nl;

		if (lns[k] < 0)
			continue;
		bump(buf, sizeof(buf), zi->lines[lns[k]], keys[k], delta, NULL);
		nl = strdup(buf);
		if (nl) {
			free(zi->lines[lns[k]]);
			zi->lines[lns[k]] = nl;
		}
	}
	z->free = (int64_t)z->free + delta < 0 ? 0 : (uint64_t)((int64_t)z->free + delta);
}

static struct zrec *zi_zone(struct zi *zi, int node, const char *zone)
{
	for (size_t i = 0; i < zi->nz; i++)
		if (zi->z[i].node == node && strcmp(zi->z[i].name, zone) == 0)
			return &zi->z[i];
	return NULL;
}

/* Where an allocation for node looks, in order: the node's zones, then the other nodes' by id;
 * within a node from the highest zone down (Movable first when allowed, then Normal, DMA32, DMA:
 * the zonelist order). The kernel prints a node's zones lowest first. */
static size_t zi_order(const struct zi *zi, int node, bool movable_ok, size_t *idx)
{
	size_t n = 0;
	int next = node;

	while (next >= 0) {
		int cur = next;

		next = -1;
		for (size_t i = zi->nz; i-- > 0;) {
			const struct zrec *z = &zi->z[i];

			if (z->node != cur) {
				/* the next node to visit: the smallest id above cur, else (after the own
				 * node) the smallest id other than node */
				if (z->node != node && (z->node > cur || cur == node) &&
				    (next < 0 || z->node < next))
					next = z->node;
				continue;
			}
			if (strcmp(z->name, "Device") == 0 || (strcmp(z->name, "Movable") == 0 && !movable_ok))
				continue;
			idx[n++] = i;
		}
	}
	return n;
}

/* Take pages of free memory for node, each zone down to its min watermark: 0, or -1 (nothing taken)
 * when there is not that much. skip/skip_pages: free pages of that zone not available (a block
 * being offlined). */
static int zi_take(struct zi *zi, int node, bool movable_ok, uint64_t pages, const struct zrec *skip,
		   uint64_t skip_pages)
{
	size_t idx[MAX_ZONES], n = zi_order(zi, node, movable_ok, idx);
	uint64_t avail = 0, left = pages;

	for (size_t k = 0; k < n; k++) {
		const struct zrec *z = &zi->z[idx[k]];
		uint64_t f = z == skip ? (z->free > skip_pages ? z->free - skip_pages : 0) : z->free;

		avail += f > z->min ? f - z->min : 0;
	}
	if (avail < pages)
		return -1;
	for (size_t k = 0; k < n && left > 0; k++) {
		struct zrec *z = &zi->z[idx[k]];
		uint64_t f = z == skip ? (z->free > skip_pages ? z->free - skip_pages : 0) : z->free;
		uint64_t a = f > z->min ? f - z->min : 0, t = a < left ? a : left;

		zi_add_free(zi, z, -(int64_t)t);
		left -= t;
	}
	return 0;
}

static void zi_kernel_free(const struct zi *zi, int node, struct extra *x)
{
	x->kernel_free = x->node_kernel_free = 0;
	for (size_t i = 0; i < zi->nz; i++) {
		if (!is_kernel_zone(zi->z[i].name))
			continue;
		x->kernel_free += zi->z[i].free;
		x->node_kernel_free += zi->z[i].node == node ? zi->z[i].free : 0;
	}
}

/* A block's model-only attribute (a hidden file in its directory): a number, 0 when absent. */
static uint64_t block_num(const char *root, unsigned long id, const char *attr)
{
	char path[PATH_MAX], *v;
	uint64_t n;

	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu/%s", root, id, attr);
	v = slurp(path);
	n = v ? strtoull(v, NULL, 10) : 0;
	free(v);
	return n;
}

static void set_block_num(const char *root, unsigned long id, const char *attr, uint64_t n)
{
	char path[PATH_MAX], val[32];

	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu/%s", root, id, attr);
	if (n == 0) {
		unlink(path);
		return;
	}
	snprintf(val, sizeof(val), "%llu\n", (unsigned long long)n);
	replace_file(path, val);
}

/* KMODEL_MEMMAP: the struct pages of a block's first online, out of free kernel memory. */
static int charge_memmap(const char *root, unsigned long id, int node, uint64_t pages, struct extra *x)
{
	const char *v = getenv("KMODEL_MEMMAP");
	uint64_t per_page = v ? strtoull(v, NULL, 10) : 0, cost;
	struct zi zi;
	int r;

	if (per_page == 0 || block_num(root, id, ".kmodel_memmap") > 0)
		return 0;
	cost = (pages * per_page + PAGE_SIZE_MODEL - 1) / PAGE_SIZE_MODEL;
	if (zi_load(root, &zi) < 0)
		return EIO;
	r = zi_take(&zi, node, false, cost, NULL, 0) < 0 ? ENOMEM : zi_save(root, &zi) < 0 ? EIO : 0;
	zi_free(&zi);
	if (r == 0) {
		set_block_num(root, id, ".kmodel_memmap", cost);
		x->memmap = cost;
	}
	return r;
}

/* Offlining a block with user pages: migrate them out of it (see the header). Leaves the zone's
 * free as if the block had none, so that taking the whole block away afterwards is right. */
static int migrate_user_pages(const char *root, unsigned long id, int node, const char *zone, uint64_t pages,
			      struct extra *x)
{
	uint64_t used = block_num(root, id, ".kmodel_user_pages");
	struct zrec *z;
	struct zi zi;
	int r;

	if (used == 0)
		return 0;
	if (used > pages)
		used = pages;
	if (zi_load(root, &zi) < 0)
		return EIO;
	z = zi_zone(&zi, node, zone);
	if (!z) {
		zi_free(&zi);
		return EIO;
	}
	/* the block's free pages are isolated: no target; its used pages come back free once moved */
	r = zi_take(&zi, node, true, used, z, pages - used) < 0 ? EBUSY : 0;
	if (r == 0) {
		zi_add_free(&zi, z, (int64_t)used);
		r = zi_save(root, &zi) < 0 ? EIO : 0;
	}
	zi_free(&zi);
	if (r == 0)
		x->migrated = used;
	return r;
}

/* "kmodel_user_pages=N" on an online block: N of its pages hold user data from now on. */
static int set_user_pages(const char *root, unsigned long id, int node, const char *zone, uint64_t pages,
			  uint64_t n)
{
	uint64_t old = block_num(root, id, ".kmodel_user_pages");
	struct zrec *z;
	struct zi zi;
	int r = 0;

	if (n > pages)
		return EINVAL;
	if (zi_load(root, &zi) < 0)
		return EIO;
	z = zi_zone(&zi, node, zone);
	if (!z || (n > old && z->free < n - old))
		r = !z ? EIO : ENOMEM;
	else
		zi_add_free(&zi, z, (int64_t)old - (int64_t)n);
	if (r == 0)
		r = zi_save(root, &zi) < 0 ? EIO : 0;
	zi_free(&zi);
	if (r == 0)
		set_block_num(root, id, ".kmodel_user_pages", n);
	return r;
}

/* ---- node masks ---- */

#define MAX_NODES 1024

/* nodelist (like "0-2,5") in/out of a bitmap */
static void mask_parse(const char *s, bool *bits)
{
	memset(bits, 0, MAX_NODES * sizeof(*bits));
	while (s && *s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long i = a; i <= b && i >= 0 && i < MAX_NODES; i++)
			bits[i] = true;
		s = *end == ',' ? end + 1 : NULL;
	}
}

static void mask_format(const bool *bits, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < MAX_NODES; i++) {
		int j = i;

		if (!bits[i])
			continue;
		while (j + 1 < MAX_NODES && bits[j + 1])
			j++;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%d", n ? "," : "", i);
		if (j > i)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "-%d", j);
		i = j;
	}
	snprintf(out + (n < len ? n : len - 1), n < len ? len - n : 1, "\n");
}

/* N_MEMORY / N_NORMAL_MEMORY of node after a transition (files the tree has only). */
static void update_node_masks(const char *root, int node, const struct totals *t)
{
	static const char *const files[2] = { "has_memory", "has_normal_memory" };
	bool in[2] = { t->node_kernel + t->node_movable > 0, t->node_kernel > 0 };

	if (node < 0 || node >= MAX_NODES)
		return;
	for (int k = 0; k < 2; k++) {
		char path[PATH_MAX], out[4096], *cur;
		static bool bits[MAX_NODES];

		snprintf(path, sizeof(path), "%s/sys/devices/system/node/%s", root, files[k]);
		cur = slurp(path);
		if (!cur)
			continue;
		mask_parse(cur, bits);
		free(cur);
		if (bits[node] == in[k])
			continue;
		bits[node] = in[k];
		mask_format(bits, out, sizeof(out));
		replace_file(path, out);
	}
}

/* ---- one block ---- */

static int block_node(const char *root, unsigned long id)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int node = 0;

	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu", root, id);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "node", 4) == 0 && isdigit((unsigned char)de->d_name[4])) {
			node = atoi(de->d_name + 4);
			break;
		}
	}
	closedir(d);
	return node;
}

static bool listed(const char *list, const char *word)
{
	char buf[256], *save = NULL;

	if (!list)
		return false;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if (strcmp(tok, word) == 0)
			return true;
	return false;
}

/* The zone an online write would use, or "" when valid_zones does not offer one. */
static void pick_zone(const char *word, const char *valid, char *zone, size_t len)
{
	char buf[256], *save = NULL;

	zone[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", valid);
	for (char *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (strcmp(tok, "none") == 0)
			return;
		if ((strcmp(word, "online") == 0) || (strcmp(word, "online_movable") == 0 && strcmp(tok, "Movable") == 0) ||
		    (strcmp(word, "online_kernel") == 0 && is_kernel_zone(tok))) {
			snprintf(zone, len, "%s", tok);
			return;
		}
	}
}

static void log_transition(const char *root, unsigned long id, const char *word, const char *zone, int node,
			   const struct totals *t, const struct extra *x)
{
	char path[PATH_MAX], line[480];
	int fd;

	snprintf(path, sizeof(path), "%s/proc/.kmodel.log", root);
	fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line),
		 "memory%lu %s %s node=%d kernel=%llu movable=%llu node_kernel=%llu node_movable=%llu by=%s pid=%ld"
		 " kernel_free=%llu node_kernel_free=%llu memmap=%llu migrated=%llu kernel_present=%llu"
		 " node_kernel_present=%llu\n",
		 id, word, zone, node, (unsigned long long)t->kernel, (unsigned long long)t->movable,
		 (unsigned long long)t->node_kernel, (unsigned long long)t->node_movable, program_invocation_short_name,
		 (long)getpid(), (unsigned long long)x->kernel_free, (unsigned long long)x->node_kernel_free,
		 (unsigned long long)x->memmap, (unsigned long long)x->migrated, (unsigned long long)t->kernel_present,
		 (unsigned long long)t->node_kernel_present);
	put_fd(fd, line, strlen(line));
	real_close(fd);
}

static void set_attr(const char *root, unsigned long id, const char *attr, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu/%s", root, id, attr);
	if (strcmp(attr, "online") == 0 && access(path, F_OK) != 0)
		return;
	replace_file(path, val);
}

/* Wait for a signal like offline_pages() does while migration keeps failing. */
static int hang_until_signal(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigsuspend(&none);
	return EINTR;
}

static int apply_state(const char *root, unsigned long id, const char *word)
{
	char path[PATH_MAX], zone[32], saved[PATH_MAX], vzpath[PATH_MAX], *state, *valid, *bsz;
	uint64_t pages;
	struct totals t;
	const char *mode = getenv("KMODEL_OFFLINE");
	struct extra x = { 0 };
	bool online_now, user_pages = strncmp(word, "kmodel_user_pages=", 18) == 0;
	int node, err;

	if (strcmp(word, "online") && strcmp(word, "online_kernel") && strcmp(word, "online_movable") &&
	    strcmp(word, "offline") && !user_pages)
		return EINVAL;
	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu/state", root, id);
	state = slurp(path);
	if (!state)
		return ENOENT;
	rstrip(state);
	online_now = strcmp(state, "online") == 0;
	free(state);
	if (strcmp(word, "offline") == 0 || user_pages ? !online_now : online_now)
		return EINVAL;
	if (listed(getenv("KMODEL_REFUSE"), word))
		return EINVAL;
	if (strcmp(word, "offline") == 0 && mode && strcmp(mode, "busy") == 0)
		return EBUSY;
	if (strcmp(word, "offline") == 0 && mode && strcmp(mode, "hang") == 0)
		return hang_until_signal();

	snprintf(vzpath, sizeof(vzpath), "%s" MEMDIR "memory%lu/valid_zones", root, id);
	valid = slurp(vzpath);
	if (!valid && errno == ENOENT)
		valid = strdup("Normal Movable\n"); /* kernels before valid_zones took either */
	snprintf(path, sizeof(path), "%s" MEMDIR "block_size_bytes", root);
	bsz = slurp(path);
	if (!valid || !bsz) {
		free(valid);
		free(bsz);
		return EIO;
	}
	pages = strtoull(bsz, NULL, 16) / PAGE_SIZE_MODEL;
	free(bsz);
	node = block_node(root, id);
	snprintf(saved, sizeof(saved), "%s" MEMDIR "memory%lu/.kmodel_valid_zones", root, id);

	if (user_pages) {
		char *end;
		unsigned long long n = strtoull(word + 18, &end, 10);

		pick_zone("online", valid, zone, sizeof(zone)); /* an online block lists its zone first */
		free(valid);
		if (end == word + 18 || *end)
			return EINVAL;
		err = set_user_pages(root, id, node, zone, pages, n);
		if (err)
			return err;
		if (zoneinfo_apply(root, node, zone, 0, &t) < 0) /* the totals, for the log */
			return EIO;
		valid = NULL;
	} else if (strcmp(word, "offline") != 0) {
		pick_zone(word, valid, zone, sizeof(zone));
		if (!zone[0]) {
			free(valid);
			return EINVAL;
		}
		err = charge_memmap(root, id, node, pages, &x);
		if (err) {
			free(valid);
			return err;
		}
		if (access(saved, F_OK) != 0)
			replace_file(saved, valid);
		set_block_num(root, id, ".kmodel_user_pages", 0); /* a block comes online empty */
		if (zoneinfo_apply(root, node, zone, (int64_t)pages, &t) < 0) {
			free(valid);
			return EIO;
		}
		snprintf(path, sizeof(path), "%s\n", zone);
		if (access(vzpath, F_OK) == 0)
			set_attr(root, id, "valid_zones", path);
		set_attr(root, id, "online", "1\n");
		set_attr(root, id, "state", "online\n");
	} else {
		char *old = slurp(saved);

		pick_zone("online", valid, zone, sizeof(zone)); /* an online block lists its zone first */
		err = migrate_user_pages(root, id, node, zone, pages, &x);
		if (err) {
			free(old);
			free(valid);
			return err;
		}
		set_block_num(root, id, ".kmodel_user_pages", 0);
		if (zoneinfo_apply(root, node, zone, -(int64_t)pages, &t) < 0) {
			free(old);
			free(valid);
			return EIO;
		}
		if (access(vzpath, F_OK) == 0)
			set_attr(root, id, "valid_zones", old ? old : "Normal Movable\n");
		set_attr(root, id, "online", "0\n");
		set_attr(root, id, "state", "offline\n");
		free(old);
	}
	free(valid);
	update_node_masks(root, node, &t);
	{
		struct zi zi;

		if (zi_load(root, &zi) == 0) {
			zi_kernel_free(&zi, node, &x);
			zi_free(&zi);
		}
	}
	log_transition(root, id, word, zone, node, &t, &x);
	return 0;
}

/* KMODEL_DELAY_MS: the time a write takes (a signal does not cut it short) */
static void delay(void)
{
	const char *v = getenv("KMODEL_DELAY_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Serialise with every other process writing to the same tree. */
static int with_model_lock(const char *root, unsigned long id, const char *word)
{
	char path[PATH_MAX];
	int fd, err;

	snprintf(path, sizeof(path), "%s/proc/.kmodel.lock", root);
	fd = real_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return EIO;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			real_close(fd);
			return EIO;
		}
	}
	if (strncmp(word, "online", 6) == 0 && getenv("KMODEL_RACE")) {
		static bool raced;

		if (!raced) {
			raced = true;
			apply_state(root, id, getenv("KMODEL_RACE"));
		}
	}
	err = apply_state(root, id, word);
	delay();
	real_close(fd);
	return err;
}

/* KMODEL_EINTR=N: N interrupted online writes, counted per process */
static bool interrupt_online(const char *word)
{
	static long left = -1;

	if (strncmp(word, "online", 6) != 0)
		return false;
	if (left < 0)
		left = getenv("KMODEL_EINTR") ? strtol(getenv("KMODEL_EINTR"), NULL, 10) : 0;
	if (left <= 0)
		return false;
	left--;
	return true;
}

static ssize_t model_write(int fd, const void *buf, size_t count)
{
	struct tracked *tr = &fds[fd];
	const char *root = model_root();
	char word[64], path[PATH_MAX];
	size_t n = count < sizeof(word) - 1 ? count : sizeof(word) - 1;
	int err;

	memcpy(word, buf, n);
	word[n] = '\0';
	rstrip(word);
	if (tr->kind == K_AUTO_ONLINE) {
		if (strcmp(word, "offline") && strcmp(word, "online") && strcmp(word, "online_kernel") &&
		    strcmp(word, "online_movable")) {
			errno = EINVAL;
			return -1;
		}
		snprintf(path, sizeof(path), "%s" MEMDIR "auto_online_blocks", root);
		strcat(word, "\n");
		if (replace_file(path, word) < 0)
			return -1;
		return (ssize_t)count;
	}
	err = interrupt_online(word) ? EINTR : with_model_lock(root, tr->id, word);
	if (err) {
		errno = err;
		return -1;
	}
	return (ssize_t)count;
}

/* ---- the intercepted calls ---- */

static int do_open(int (*fn)(int, const char *, int, ...), int (*fn_noat)(const char *, int, ...), int dirfd,
		   const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	const char *abs;
	unsigned long id = 0;
	enum kind k = K_NONE;
	int fd;

	init_real();
	if (path && (flags & O_ACCMODE) != O_RDONLY) {
		abs = absolute(dirfd, path, buf, sizeof(buf));
		if (real_sysfs_write(abs, flags)) {
			fprintf(stderr, "kmodel: refusing to open the real %s for writing (missing --root?)\n", abs);
			errno = EACCES;
			return -1;
		}
		k = classify(abs, &id);
		if (k != K_NONE)
			flags &= ~(O_TRUNC | O_CREAT); /* sysfs attributes are never truncated or created */
	}
	fd = fn_noat ? fn_noat(path, flags, mode) : fn(dirfd, path, flags, mode);
	if (fd >= 0)
		track(fd, k, id);
	return fd;
}

#define MODE_ARG(flags, mode)                                  \
	do {                                                   \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {       \
			va_list ap;                            \
			va_start(ap, flags);                   \
			mode = (mode_t)va_arg(ap, unsigned);   \
			va_end(ap);                            \
		}                                              \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	init_real();
	return do_open(NULL, real_open, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	init_real();
	return do_open(NULL, real_open64 ? real_open64 : real_open, AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	init_real();
	return do_open(real_openat, NULL, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	init_real();
	return do_open(real_openat64 ? real_openat64 : real_openat, NULL, dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE builds call these for open(path, flags) without a mode */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	init_real();
	if (fd >= 0 && fd < MAX_TRACKED && fds[fd].kind != K_NONE)
		return model_write(fd, buf, count);
	return real_write(fd, buf, count);
}

int close(int fd)
{
	init_real();
	if (fd >= 0 && fd < MAX_TRACKED)
		fds[fd].kind = K_NONE;
	return real_close(fd);
}

/* A shell's "echo online > state" opens, dup2()s onto 1 and closes the original: follow the copy. */
static void track_copy(int from, int to)
{
	if (to < 0 || to >= MAX_TRACKED)
		return;
	fds[to] = from >= 0 && from < MAX_TRACKED ? fds[from] : (struct tracked){ K_NONE, 0 };
}

int dup(int fd)
{
	int r;

	init_real();
	r = real_dup(fd);
	if (r >= 0)
		track_copy(fd, r);
	return r;
}

int dup2(int fd, int fd2)
{
	int r;

	init_real();
	r = real_dup2(fd, fd2);
	if (r >= 0 && fd != fd2)
		track_copy(fd, r);
	return r;
}

int dup3(int fd, int fd2, int flags)
{
	int r;

	init_real();
	r = real_dup3(fd, fd2, flags);
	if (r >= 0)
		track_copy(fd, r);
	return r;
}
