/* memblock.c - /sys/devices/system/memory: block size, blocks, state writes
 *
 * A block directory can disappear at any moment (hot-remove of its DIMM, virtio-mem unplug):
 * one block is read through a directory fd, and an attribute that is missing is checked against
 * the directory itself, so "the block vanished" comes back as -ENOENT instead of a half-read block.
 * Listing 131072 blocks is one readdir with no stat per entry.
 */
#include "memblock.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEMORY_DIR "/sys/devices/system/memory"
#define HOTPLUG_PARAMS "/sys/module/memory_hotplug/parameters"

const char *mz_block_state_name(enum mz_block_state s)
{
	switch (s) {
	case MZ_BLOCK_ONLINE:
		return "online";
	case MZ_BLOCK_OFFLINE:
		return "offline";
	case MZ_BLOCK_GOING_OFFLINE:
		return "going-offline";
	case MZ_BLOCK_UNKNOWN:
		break;
	}
	return "unknown";
}

enum mz_block_state mz_block_state_from_text(const char *text)
{
	if (strcmp(text, "online") == 0)
		return MZ_BLOCK_ONLINE;
	if (strcmp(text, "offline") == 0)
		return MZ_BLOCK_OFFLINE;
	if (strcmp(text, "going-offline") == 0)
		return MZ_BLOCK_GOING_OFFLINE;
	return MZ_BLOCK_UNKNOWN;
}

int mz_memory_dir_open(void)
{
	char path[MZ_PATH_MAX];
	int fd;

	if (mz_path(path, sizeof(path), MEMORY_DIR) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

#define BLOCK_REL_MAX 48 /* "memory" + 20 digits + "/" + the longest attribute name + NUL */

/* rel = "memoryN" or "memoryN/ATTR" (attr NULL or ""): built by hand, not by snprintf, as it is
 * built for every attribute of every block a 131072-block scan reads. */
static const char *block_rel(char rel[BLOCK_REL_MAX], unsigned long id, const char *attr)
{
	char digits[24];
	size_t n = 0, k = sizeof("memory") - 1, a = attr ? strlen(attr) : 0;

	do
		digits[n++] = (char)('0' + id % 10);
	while ((id /= 10) && n < sizeof(digits));
	if (k + n + 1 + a >= BLOCK_REL_MAX)
		a = 0; /* no attribute name is that long */
	memcpy(rel, "memory", k);
	while (n)
		rel[k++] = digits[--n];
	if (a) {
		rel[k++] = '/';
		memcpy(rel + k, attr, a);
		k += a;
	}
	rel[k] = '\0';
	return rel;
}

/* memoryN/ATTR relative to the memory directory fd: the one read of a block's attribute. */
static int block_attr(int memfd, unsigned long id, const char *attr, char *buf, size_t len)
{
	char rel[BLOCK_REL_MAX];

	return mz_read_attr_at(memfd, block_rel(rel, id, attr), buf, len);
}

int mz_memblock_size(uint64_t *bytes)
{
	char path[MZ_PATH_MAX], line[64];
	uint64_t v;
	int r;

	r = mz_path(path, sizeof(path), MEMORY_DIR "/block_size_bytes");
	if (r == 0)
		r = mz_read_line(path, line, sizeof(line));
	if (r < 0)
		return r;
	r = mz_parse_u64(line, 16, &v);
	if (r < 0)
		return r;
	/* The kernel's block size is a power of two of at least one section (>= 1 MiB on every arch). */
	if (v == 0 || (v & (v - 1)))
		return -EINVAL;
	*bytes = v;
	return 0;
}

int mz_valid_zones_parse(const char *text, unsigned *mask, enum mz_zone *first)
{
	char word[32];
	unsigned m = 0;
	enum mz_zone f = MZ_ZONE_NONE;
	bool none = false;
	int words = 0;

	for (const char *p = text;;) {
		enum mz_zone z;
		size_t n = 0;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		while (p[n] && !isspace((unsigned char)p[n]))
			n++;
		if (n >= sizeof(word))
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '_')
				return -EINVAL;
		memcpy(word, p, n);
		word[n] = '\0';
		p += n;
		words++;
		if (strcmp(word, "none") == 0) {
			none = true;
			continue;
		}
		z = mz_zone_from_name(word);
		if (words == 1)
			f = z;
		m |= MZ_ZONE_BIT(z);
	}
	/* "none" (a block spanning two zones, or not onlineable) stands alone */
	if (words == 0 || (none && words > 1))
		return -EINVAL;
	*mask = m;
	*first = f;
	return 0;
}

/* The node of a block: its "nodeN" link (one per block; the lowest if a tree has several). */
static int block_node(int memfd, unsigned long id)
{
	struct dirent *de;
	char rel[BLOCK_REL_MAX];
	int fd, node = -1;
	DIR *d;

	fd = openat(memfd, block_rel(rel, id, NULL), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		int v;

		if (strncmp(de->d_name, "node", 4) != 0 || !isdigit((unsigned char)de->d_name[4]))
			continue;
		if (mz_parse_int(de->d_name + 4, &v) == 0 && v >= 0 && (node < 0 || v < node))
			node = v;
	}
	closedir(d);
	return node;
}

/* firmware_node -> ../../../LNXSYSTM:00/LNXSYBUS:00/PNP0A06:00/PNP0C80:03 : "PNP0C80:03". */
void mz_firmware_node_at(int memfd, unsigned long id, char *name, size_t len)
{
	char rel[BLOCK_REL_MAX], target[MZ_PATH_MAX];
	const char *base;
	ssize_t n;

	name[0] = '\0';
	n = readlinkat(memfd, block_rel(rel, id, "firmware_node"), target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) < len)
		snprintf(name, len, "%s", base);
}

bool mz_memblock_ready(unsigned long id)
{
	char path[MZ_PATH_MAX];
	struct stat st;
	int memfd;
	bool ready;

	if (mz_path(path, sizeof(path), "/sys/devices/system/node") < 0 || stat(path, &st) < 0)
		return true; /* not NUMA: every block is on node 0 from the start */
	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return true;
	snprintf(path, sizeof(path), "memory%lu", id);
	/* a vanished block counts as ready */
	ready = block_node(memfd, id) >= 0 || faccessat(memfd, path, F_OK, 0) < 0;
	close(memfd);
	return ready;
}

bool mz_memblock_wait_ready(unsigned long id, unsigned timeout_ms)
{
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };
	uint64_t t0 = mz_now_ms();

	while (!mz_memblock_ready(id)) {
		if (mz_now_ms() - t0 >= timeout_ms)
			return false;
		nanosleep(&ms, NULL);
	}
	return true;
}

int mz_block_brief_at(int memfd, unsigned long id, enum mz_brief_zones zones, struct mz_block_brief *bb,
		      char *why, size_t whylen)
{
	char text[128];
	const char *attr = "state";
	int r;

	memset(bb, 0, sizeof(*bb));
	r = block_attr(memfd, id, attr, text, sizeof(text));
	if (r == -ENOENT || r == -ENOTDIR)
		return -ENOENT;
	if (r < 0)
		goto fail;
	bb->state = mz_block_state_from_text(text);
	if (bb->state == MZ_BLOCK_UNKNOWN) {
		if (why)
			snprintf(why, whylen, "memory%lu/%s: '%.60s' is not online, offline or going-offline", id, attr, text);
		return -EINVAL;
	}
	if (zones == MZ_BRIEF_NO_ZONES || (zones == MZ_BRIEF_ZONES_IF_ONLINE && bb->state == MZ_BLOCK_OFFLINE))
		return 0;
	attr = "valid_zones";
	r = block_attr(memfd, id, attr, text, sizeof(text));
	if (r == -ENOENT) {
		/* no valid_zones before 3.18; or the block vanished between the two reads */
		char rel[BLOCK_REL_MAX];

		return faccessat(memfd, block_rel(rel, id, NULL), F_OK, 0) == 0 ? 0 : -ENOENT;
	}
	if (r < 0)
		goto fail;
	if (mz_valid_zones_parse(text, &bb->zones, &bb->zone) < 0) {
		if (why)
			snprintf(why, whylen, "memory%lu/%s: '%.60s' is not a list of zones", id, attr, text);
		return -EINVAL;
	}
	bb->zones_known = true;
	return 0;
fail:
	if (why)
		snprintf(why, whylen, "memory%lu/%s: %s", id, attr, strerror(-r));
	return r;
}

enum mz_zone_class mz_block_zone_class(const struct mz_block_brief *bb)
{
	if (!bb->zones_known)
		return MZ_CLASS_UNKNOWN;
	if (bb->zone == MZ_ZONE_MOVABLE)
		return MZ_CLASS_MOVABLE;
	return MZ_CLASS_KERNEL;
}

int mz_memblock_read_at(int memfd, unsigned long id, uint64_t block_size, struct mz_block *b)
{
	char text[128];
	bool missing = false;
	int r;

	memset(b, 0, sizeof(*b));
	b->id = id;
	b->start = block_size && id <= UINT64_MAX / block_size ? (uint64_t)id * block_size : 0;
	b->state = MZ_BLOCK_UNKNOWN;
	b->zone = MZ_ZONE_NONE;
	b->node = -1;
	b->phys_device = -1;

	r = block_attr(memfd, id, "state", text, sizeof(text));
	if (r < 0)
		return r == -ENOTDIR ? -ENOENT : r;
	b->state = mz_block_state_from_text(text);

	r = block_attr(memfd, id, "valid_zones", text, sizeof(text));
	if (r == 0) {
		if (mz_valid_zones_parse(text, &b->zones, &b->zone) < 0) {
			b->zones = 0;
			b->zone = MZ_ZONE_NONE;
		} else {
			b->zones_known = true;
		}
	} else if (r == -ENOENT) {
		missing = true; /* before 3.18 there is no valid_zones; or the block is going away */
	}

	r = block_attr(memfd, id, "phys_device", text, sizeof(text));
	if (r == 0) {
		long v;
		char *end;

		errno = 0;
		v = strtol(text, &end, 10);
		if (errno == 0 && end != text && *end == '\0' && v >= 0)
			b->phys_device = v;
	} else if (r == -ENOENT) {
		missing = true;
	}

	b->node = block_node(memfd, id);
	mz_firmware_node_at(memfd, id, b->firmware_node, sizeof(b->firmware_node));
	b->acpi_dimm = mz_startswith(b->firmware_node, "PNP0C80:");

	/* A missing attribute is normal on old kernels, but not when the whole block went away. */
	if (missing || b->node < 0) {
		char rel[BLOCK_REL_MAX];

		if (faccessat(memfd, block_rel(rel, id, "state"), F_OK, 0) < 0 && errno == ENOENT)
			return -ENOENT;
	}
	return 0;
}

int mz_memblock_read(unsigned long id, uint64_t block_size, struct mz_block *b)
{
	int memfd = mz_memory_dir_open(), r;

	if (memfd < 0) {
		memset(b, 0, sizeof(*b));
		b->id = id;
		b->node = -1;
		b->phys_device = -1;
		return memfd;
	}
	r = mz_memblock_read_at(memfd, id, block_size, b);
	close(memfd);
	return r;
}

int mz_block_id_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

int mz_memblock_list(unsigned long **ids, size_t *n)
{
	char path[MZ_PATH_MAX];
	size_t cap = 256, cnt = 0;
	unsigned long *v;
	struct dirent *de;
	DIR *d;
	int r;

	*ids = NULL;
	*n = 0;
	r = mz_path(path, sizeof(path), MEMORY_DIR);
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return -errno;
	v = mz_xmalloc(cap * sizeof(*v));
	/* readdir order is the kernel's (creation order), not numeric: sort afterwards */
	while ((errno = 0, de = readdir(d))) {
		unsigned long id;

		if (!mz_block_name_valid(de->d_name, &id))
			continue;
		if (cnt == cap) {
			cap *= 2;
			v = mz_xrealloc(v, cap * sizeof(*v));
		}
		v[cnt++] = id;
	}
	r = errno ? -errno : 0;
	closedir(d);
	if (r < 0) {
		free(v);
		return r;
	}
	qsort(v, cnt, sizeof(*v), mz_block_id_cmp);
	*ids = v;
	*n = cnt;
	return 0;
}

bool mz_memblock_offline_at(int memfd, unsigned long id)
{
	struct mz_block_brief bb;

	return mz_block_brief_at(memfd, id, MZ_BRIEF_NO_ZONES, &bb, NULL, 0) == 0 && bb.state == MZ_BLOCK_OFFLINE;
}

int mz_memblock_list_offline(unsigned long **out, size_t *nout)
{
	unsigned long *ids;
	size_t n, k = 0;
	int memfd, r;

	*out = NULL;
	*nout = 0;
	r = mz_memblock_list(&ids, &n);
	if (r < 0)
		return r;
	memfd = mz_memory_dir_open();
	if (memfd < 0) {
		free(ids);
		return memfd;
	}
	for (size_t i = 0; i < n; i++)
		if (mz_memblock_offline_at(memfd, ids[i]))
			ids[k++] = ids[i];
	close(memfd);
	*out = ids;
	*nout = k;
	return 0;
}

int mz_memblock_write_state(unsigned long id, const char *state)
{
	static const char *const words[] = { "online", "online_kernel", "online_movable", "offline" };
	char path[MZ_PATH_MAX];
	bool known = false;
	int r;

	for (size_t i = 0; i < MZ_ARRAY_SIZE(words); i++)
		known |= strcmp(state, words[i]) == 0;
	if (!known)
		return -EINVAL;
	r = mz_path(path, sizeof(path), MEMORY_DIR "/memory%lu/state", id);
	if (r < 0)
		return r;
	return mz_write_string(path, state);
}

static bool auto_online_value_valid(const char *v)
{
	return strcmp(v, "offline") == 0 || strcmp(v, "online") == 0 || strcmp(v, "online_kernel") == 0 ||
	       strcmp(v, "online_movable") == 0;
}

int mz_auto_online_read(char *buf, size_t len)
{
	char path[MZ_PATH_MAX];
	int r;

	r = mz_path(path, sizeof(path), MEMORY_DIR "/auto_online_blocks");
	if (r == 0)
		r = mz_read_line(path, buf, len);
	if (r < 0 && len)
		buf[0] = '\0';
	return r;
}

int mz_auto_online_write(const char *value)
{
	char path[MZ_PATH_MAX];
	int r;

	if (!auto_online_value_valid(value))
		return -EINVAL;
	r = mz_path(path, sizeof(path), MEMORY_DIR "/auto_online_blocks");
	if (r < 0)
		return r;
	return mz_write_string(path, value);
}

/* The value memzone found first this boot, kept in /run (tmpfs: gone at the next boot) so that
 * stopping memzone-init and removing the package can put it back. O_EXCL: the first finder wins
 * and memzone's own "offline" never replaces it. */
#define AUTO_ONLINE_RECORD "/run/memzone/auto_online_blocks.found"

int mz_auto_online_record(const char *found)
{
	char path[MZ_PATH_MAX], dir[MZ_PATH_MAX];
	size_t len = strlen(found);
	int fd, r;

	if (!auto_online_value_valid(found))
		return -EINVAL;
	if ((r = mz_path(dir, sizeof(dir), "/run/memzone")) < 0 || (r = mz_path(path, sizeof(path), AUTO_ONLINE_RECORD)) < 0)
		return r;
	if ((r = mz_mkdir_p(dir, 0755)) < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	r = write(fd, found, len) == (ssize_t)len && write(fd, "\n", 1) == 1 ? 1 : -EIO;
	if (close(fd) < 0 && r > 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int mz_auto_online_recorded(char *buf, size_t len)
{
	char path[MZ_PATH_MAX];
	int r = mz_path(path, sizeof(path), AUTO_ONLINE_RECORD);

	if (r == 0)
		r = mz_read_line(path, buf, len);
	if (r == 0 && !auto_online_value_valid(buf))
		r = -EINVAL;
	return r;
}

int mz_auto_online_forget(void)
{
	char path[MZ_PATH_MAX];
	int r = mz_path(path, sizeof(path), AUTO_ONLINE_RECORD);

	if (r == 0 && unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

static void param_read(const char *name, char *buf, size_t len)
{
	char path[MZ_PATH_MAX];

	if (mz_path(path, sizeof(path), HOTPLUG_PARAMS "/%s", name) < 0 || mz_read_line(path, buf, len) < 0)
		buf[0] = '\0';
}

void mz_hotplug_params_read(struct mz_hotplug_params *p)
{
	char ratio[32], numa[8];

	memset(p, 0, sizeof(*p));
	param_read("online_policy", p->online_policy, sizeof(p->online_policy));
	param_read("memmap_on_memory", p->memmap_on_memory, sizeof(p->memmap_on_memory));
	param_read("auto_movable_ratio", ratio, sizeof(ratio));
	if (!ratio[0] || mz_parse_int(ratio, &p->auto_movable_ratio) < 0 || p->auto_movable_ratio < 0)
		p->auto_movable_ratio = -1;
	param_read("auto_movable_numa_aware", numa, sizeof(numa));
	p->auto_movable_numa_aware = (numa[0] == 'Y' || numa[0] == '1') ? 1 : (numa[0] == 'N' || numa[0] == '0') ? 0 : -1;
}

int mz_hotplug_param_write(const char *name, const char *value)
{
	char path[MZ_PATH_MAX];
	int r = mz_path(path, sizeof(path), HOTPLUG_PARAMS "/%s", name);

	return r < 0 ? r : mz_write_string(path, value);
}
