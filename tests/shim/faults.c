/* faults.c - LD_PRELOAD fault injection for memory-block state writes (memzoned's tests).
 *
 *   MZ_FAULTS=ctl LD_PRELOAD="tests/shim/faults.so tests/shim/kmodel.so" memzoned --root TREE ...
 *
 * Every write(2) to .../sys/devices/system/memory/memoryN/state is checked against the rules of the
 * control file named by MZ_FAULTS, re-read at each write so a test can change them while the
 * program runs. So are unlink(2)/unlinkat(2) and rename(2)/renameat(2)/renameat2(2) of a file in a
 * .../run/memzone/ directory (the daemon's files: intent, state, ...; for a rename the new path is
 * looked at first, then the old one). A rule is one line (blank lines and '#' comments are ignored):
 *     TARGET  WORD  ACTION  [COUNT]
 *   TARGET  memoryN, N, or * (any block): a state write
 *           NAME: a file NAME in run/memzone/ ("intent" matches .../run/memzone/intent only)
 *   WORD    a state write: offline, online, online_kernel, online_movable, or * (any word)
 *           a file: unlink, rename, or * (either)
 *   ACTION  an errno name: EBUSY EINVAL EINTR EAGAIN ENOENT ENOMEM EIO EPERM -> the call fails with it
 *           short     -> the write returns count - 1 and changes nothing (a file call: pass)
 *           then:ERR  -> the call goes through, then fails with the errno name ERR (the kernel did
 *                        what was asked and reported an error anyway; a file call: pass)
 *           hang      -> wait for a signal the program has not blocked (like offline_pages(): a
 *                        signal blocked for a signalfd does not end it), then fail with EINTR
 *           delay:MS  -> wait MS milliseconds (a signal ends the wait with EINTR), then pass
 *           stop      -> raise(SIGSTOP) before the call, then (after SIGCONT) pass: a test sees the
 *                        process stopped (state T in /proc/PID/stat) at exactly this point and can
 *                        SIGKILL it there
 *           pass      -> no fault
 *   COUNT   how many calls the rule (the same line of text) applies to in this process (default:
 *           every one)
 * The first matching rule wins. Calls that pass go to the next definition (kmodel.so's kernel model
 * when it is preloaded after this shim). MZ_FAULTS_LOG=FILE appends "memoryN WORD ACTION" per state
 * write and "NAME WORD ACTION" per file call in run/memzone/, before the action (so a "stop" or a
 * "hang" is logged by the time the process waits).
 * Not thread-safe; built without sanitizers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRACKED 4096
#define MAX_RULES 64
#define STATE_SUFFIX "/state"
#define MEMDIR "/sys/devices/system/memory/memory"
#define RUNDIR "/run/memzone/"

static long tracked[MAX_TRACKED]; /* block id + 1 of a state file opened for writing; 0: not one */
/* how often each rule applied, by its text (a test rewrites the file between cases) */
static struct {
	char text[128];
	unsigned n;
} used[MAX_RULES];
static unsigned nused;

static unsigned *use_count(const char *rule)
{
	for (unsigned i = 0; i < nused; i++)
		if (strcmp(used[i].text, rule) == 0)
			return &used[i].n;
	if (nused == MAX_RULES)
		return &used[MAX_RULES - 1].n;
	snprintf(used[nused].text, sizeof(used[nused].text), "%s", rule);
	used[nused].n = 0;
	return &used[nused++].n;
}

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);

static void init_real(void)
{
	if (real_write)
		return;
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
	real_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
	real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
	real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	real_renameat = (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
	real_renameat2 = (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

/* ".../sys/devices/system/memory/memoryN/state" -> N */
static bool state_path(const char *path, long *id)
{
	const char *p = path ? strstr(path, MEMDIR) : NULL;
	char *end;
	long v;

	if (!p)
		return false;
	p += strlen(MEMDIR);
	if (*p < '0' || *p > '9')
		return false;
	v = strtol(p, &end, 10);
	if (strcmp(end, STATE_SUFFIX) != 0)
		return false;
	*id = v;
	return true;
}

/* ".../run/memzone/NAME" -> NAME (a file directly in the last run/memzone/ of the path); else NULL */
static const char *run_file(const char *path)
{
	const char *p = path, *last = NULL;

	while (p && (p = strstr(p, RUNDIR)) != NULL)
		last = p++;
	if (!last)
		return NULL;
	last += strlen(RUNDIR);
	return *last && !strchr(last, '/') ? last : NULL;
}

static void track(int fd, const char *path, int flags)
{
	long id;

	if (fd < 0 || fd >= MAX_TRACKED)
		return;
	tracked[fd] = (flags & O_ACCMODE) != O_RDONLY && state_path(path, &id) ? id + 1 : 0;
}

/* ---- rules */

struct rule {
	long block; /* -1: any */
	char word[32];
	char action[32];
	unsigned count; /* 0: unlimited */
};

static int errno_of(const char *name)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EBUSY", EBUSY }, { "EINVAL", EINVAL }, { "EINTR", EINTR }, { "EAGAIN", EAGAIN },
		{ "ENOENT", ENOENT }, { "ENOMEM", ENOMEM }, { "EIO", EIO }, { "EPERM", EPERM },
		{ "ENOSPC", ENOSPC }, { "ETIMEDOUT", ETIMEDOUT },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].err;
	return 0;
}

/* A rule's TARGET: true and *block (-1: any) for a block, false for a file name. */
static bool block_target(const char *t, long *block)
{
	const char *d = strncmp(t, "memory", 6) == 0 ? t + 6 : t;

	*block = -1;
	if (strcmp(t, "*") == 0)
		return true;
	if (*d < '0' || *d > '9')
		return false;
	*block = strtol(d, NULL, 10);
	return true;
}

/* The first rule of the control file that matches a state write of block (file NULL) or a call on
 * run/memzone/file; *count points at its use counter. */
static bool find_rule(long block, const char *file, const char *word, struct rule *out, unsigned **count)
{
	const char *ctl = getenv("MZ_FAULTS");
	char buf[8192];
	ssize_t n;
	int fd;
	char *save = NULL, *l;

	if (!ctl || !*ctl)
		return false;
	fd = real_open(ctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	real_close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char b[32], w[32], a[32];
		unsigned cnt = 0;
		int k = sscanf(l, "%31s %31s %31s %u", b, w, a, &cnt);
		long rb = -1;

		if (k < 3 || b[0] == '#')
			continue;
		if (block_target(b, &rb) ? file || (rb >= 0 && rb != block) : !file || strcmp(b, file) != 0)
			continue;
		if (strcmp(w, "*") != 0 && strcmp(w, word) != 0)
			continue;
		if (k == 4 && cnt > 0 && *use_count(l) >= cnt)
			continue;
		out->block = rb;
		snprintf(out->word, sizeof(out->word), "%s", w);
		snprintf(out->action, sizeof(out->action), "%s", a);
		out->count = k == 4 ? cnt : 0;
		*count = use_count(l);
		return true;
	}
	return false;
}

/* target: "memoryN" or a file name */
static void log_call(const char *target, const char *word, const char *action)
{
	const char *path = getenv("MZ_FAULTS_LOG");
	char line[160];
	int fd, n;

	if (!path || !*path)
		return;
	fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s %s\n", target, word, action);
	if (n > 0 && real_write(fd, line, (size_t)n) < 0) {
		/* the log is best effort */
	}
	real_close(fd);
}

static void log_write(long block, const char *word, const char *action)
{
	char target[32];

	snprintf(target, sizeof(target), "memory%ld", block);
	log_call(target, word, action);
}

/* Wait for a signal the program has not blocked, as the kernel's migration loop does. */
static void wait_for_signal(void)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	sigsuspend(&cur);
}

/* Wait ms, or less when a signal handler ran: true when a signal cut it short. */
static bool wait_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	return nanosleep(&ts, &ts) < 0 && errno == EINTR;
}

/* The action of a rule that is not "pass" or "short": 0 -> go on with the call, -1 -> fail with errno. */
static int act(const char *action)
{
	int err;

	if (strcmp(action, "hang") == 0) {
		wait_for_signal();
		errno = EINTR;
		return -1;
	}
	if (strncmp(action, "delay:", 6) == 0) {
		if (wait_ms(strtoul(action + 6, NULL, 10))) {
			errno = EINTR;
			return -1;
		}
		return 0;
	}
	if (strcmp(action, "stop") == 0) {
		raise(SIGSTOP); /* cannot be blocked or caught: the process stops here */
		return 0;
	}
	err = errno_of(action);
	errno = err ? err : EIO;
	return -1;
}

static ssize_t faulty_write(int fd, const void *buf, size_t count)
{
	long block = tracked[fd] - 1;
	char word[32];
	size_t n = count < sizeof(word) - 1 ? count : sizeof(word) - 1;
	struct rule r;
	unsigned *uses;

	memcpy(word, buf, n);
	word[n] = '\0';
	while (n > 0 && (word[n - 1] == '\n' || word[n - 1] == ' '))
		word[--n] = '\0';
	if (!find_rule(block, NULL, word, &r, &uses) || strcmp(r.action, "pass") == 0) {
		log_write(block, word, "pass");
		return real_write(fd, buf, count);
	}
	(*uses)++;
	log_write(block, word, r.action);
	if (strcmp(r.action, "short") == 0)
		return count > 0 ? (ssize_t)count - 1 : 0;
	if (strncmp(r.action, "then:", 5) == 0) {
		int err = errno_of(r.action + 5);

		real_write(fd, buf, count);
		errno = err ? err : EIO;
		return -1;
	}
	if (act(r.action) < 0)
		return -1;
	return real_write(fd, buf, count);
}

/* A call (word: "unlink" or "rename") on path and path2 (NULL for unlink): the first of them that is
 * a run/memzone file with a rule decides. 0 -> go on with the call, -1 -> fail with errno. */
static int file_fault(const char *word, const char *path, const char *path2)
{
	const char *name = run_file(path), *name2 = run_file(path2);
	struct rule r;
	bool found = false;
	unsigned *uses;

	if (name)
		found = find_rule(-1, name, word, &r, &uses);
	if (!found && name2) {
		found = find_rule(-1, name2, word, &r, &uses);
		if (found || !name)
			name = name2;
	}
	if (!name)
		return 0;
	if (!found || strcmp(r.action, "pass") == 0 || strcmp(r.action, "short") == 0 ||
	    strncmp(r.action, "then:", 5) == 0) {
		log_call(name, word, "pass");
		return 0;
	}
	(*uses)++;
	log_call(name, word, r.action);
	return act(r.action);
}

/* ---- the intercepted calls */

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
	int fd;

	MODE_ARG(flags, mode);
	init_real();
	fd = real_open(path, flags, mode);
	track(fd, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	MODE_ARG(flags, mode);
	init_real();
	fd = (real_open64 ? real_open64 : real_open)(path, flags, mode);
	track(fd, path, flags);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	MODE_ARG(flags, mode);
	init_real();
	fd = real_openat(dirfd, path, flags, mode);
	track(fd, path, flags); /* relative paths of a state file never reach here: memzone opens them whole */
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	int fd;

	MODE_ARG(flags, mode);
	init_real();
	fd = (real_openat64 ? real_openat64 : real_openat)(dirfd, path, flags, mode);
	track(fd, path, flags);
	return fd;
}

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags) { return open64(path, flags); }
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }

ssize_t write(int fd, const void *buf, size_t count)
{
	init_real();
	if (fd >= 0 && fd < MAX_TRACKED && tracked[fd])
		return faulty_write(fd, buf, count);
	return real_write(fd, buf, count);
}

int close(int fd)
{
	init_real();
	if (fd >= 0 && fd < MAX_TRACKED)
		tracked[fd] = 0;
	return real_close(fd);
}

int dup2(int fd, int fd2)
{
	int r;

	init_real();
	r = real_dup2(fd, fd2);
	if (r >= 0 && fd != fd2 && r < MAX_TRACKED)
		tracked[r] = fd >= 0 && fd < MAX_TRACKED ? tracked[fd] : 0;
	return r;
}

int dup3(int fd, int fd2, int flags)
{
	int r;

	init_real();
	r = real_dup3(fd, fd2, flags);
	if (r >= 0 && r < MAX_TRACKED)
		tracked[r] = fd >= 0 && fd < MAX_TRACKED ? tracked[fd] : 0;
	return r;
}

int unlink(const char *path)
{
	init_real();
	return file_fault("unlink", path, NULL) < 0 ? -1 : real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	init_real();
	return file_fault("unlink", path, NULL) < 0 ? -1 : real_unlinkat(dirfd, path, flags);
}

/* the new path first: rename(tmp, .../intent) writes the record, rename(.../intent, x) moves it away */
int rename(const char *old, const char *new)
{
	init_real();
	return file_fault("rename", new, old) < 0 ? -1 : real_rename(old, new);
}

int renameat(int olddirfd, const char *old, int newdirfd, const char *new)
{
	init_real();
	return file_fault("rename", new, old) < 0 ? -1 : real_renameat(olddirfd, old, newdirfd, new);
}

int renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned flags)
{
	init_real();
	if (file_fault("rename", new, old) < 0)
		return -1;
	if (!real_renameat2) {
		errno = ENOSYS;
		return -1;
	}
	return real_renameat2(olddirfd, old, newdirfd, new, flags);
}
