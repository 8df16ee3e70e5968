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
 * (managed pages; kernel = every zone but Movable and Device; by = the writing program's name), so a
 * test can check that no intermediate state crossed a cap, whoever wrote it, and tell the udev
 * helper's writes from memzoned's. auto_online_blocks writes replace the file's content.
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
		} else if (in_target && (line_is(line, "present") || line_is(line, "nr_free_pages"))) {
			bump(rewritten, sizeof(rewritten), line, line_is(line, "present") ? "present" : "nr_free_pages",
			     delta, NULL);
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
		/* a node that had no memory yet (memory-only CXL node): the kernel starts printing it */
		char sect[512];

		snprintf(sect, sizeof(sect),
			 "Node %d, zone %8s\n  pages free     %lld\n        boost    0\n        min      0\n"
			 "        low      0\n        high     0\n        spanned  %lld\n        present  %lld\n"
			 "        managed  %lld\n        cma      0\n        protection: (0, 0, 0, 0, 0)\n",
			 node, zone, (long long)delta, (long long)delta, (long long)delta, (long long)delta);
		out = realloc(out, n + strlen(sect) + 1);
		if (!out) {
			free(text);
			return -1;
		}
		memcpy(out + n, sect, strlen(sect));
		n += strlen(sect);
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
			   const struct totals *t)
{
	char path[PATH_MAX], line[320];
	int fd;

	snprintf(path, sizeof(path), "%s/proc/.kmodel.log", root);
	fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line),
		 "memory%lu %s %s node=%d kernel=%llu movable=%llu node_kernel=%llu node_movable=%llu by=%s pid=%ld\n",
		 id, word, zone, node, (unsigned long long)t->kernel, (unsigned long long)t->movable,
		 (unsigned long long)t->node_kernel, (unsigned long long)t->node_movable, program_invocation_short_name,
		 (long)getpid());
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
	bool online_now;
	int node;

	if (strcmp(word, "online") && strcmp(word, "online_kernel") && strcmp(word, "online_movable") &&
	    strcmp(word, "offline"))
		return EINVAL;
	snprintf(path, sizeof(path), "%s" MEMDIR "memory%lu/state", root, id);
	state = slurp(path);
	if (!state)
		return ENOENT;
	rstrip(state);
	online_now = strcmp(state, "online") == 0;
	free(state);
	if (strcmp(word, "offline") == 0 ? !online_now : online_now)
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

	if (strcmp(word, "offline") != 0) {
		pick_zone(word, valid, zone, sizeof(zone));
		if (!zone[0]) {
			free(valid);
			return EINVAL;
		}
		if (access(saved, F_OK) != 0)
			replace_file(saved, valid);
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
	log_transition(root, id, word, zone, node, &t);
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
