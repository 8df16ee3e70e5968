/* util.c - root-prefixed paths, bounded file I/O, strict number parsing, name validation */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root_prefix[MZ_PATH_MAX];

void mz_root_set(const char *root)
{
	size_t n;

	root_prefix[0] = '\0';
	if (!root || !*root)
		return;
	n = strlen(root);
	if (n >= sizeof(root_prefix))
		n = sizeof(root_prefix) - 1;
	memcpy(root_prefix, root, n);
	root_prefix[n] = '\0';
	while (n > 0 && root_prefix[n - 1] == '/')
		root_prefix[--n] = '\0';
}

const char *mz_root(void) { return root_prefix; }
bool mz_root_is_real(void) { return root_prefix[0] == '\0'; }

int mz_path(char *buf, size_t len, const char *fmt, ...)
{
	char rel[MZ_PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	/* Paths are built from validated names only; refuse anything that could climb out of the root. */
	if (rel[0] != '/' || strstr(rel, "/../") || (n >= 3 && strcmp(rel + n - 3, "/..") == 0))
		return -EINVAL;
	n = snprintf(buf, len, "%s%s", root_prefix, rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int mz_read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd, err;

	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = mz_xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (cap >= MZ_READ_MAX) {
				err = -EFBIG;
				goto fail;
			}
			cap *= 2;
			buf = mz_xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	n = strlen(buf); /* sysfs copies padded with NULs end at the first one */
	*out = buf;
	if (len)
		*len = n;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

int mz_read_text(const char *path, char **text, char *err, size_t errlen)
{
	int r = mz_read_file(path, text, NULL);

	if (r < 0 && err)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

int mz_read_proc_file(const char *rel, char *path, char **text, char *err, size_t errlen)
{
	int r = mz_path(path, MZ_PATH_MAX, "%s", rel);

	if (r < 0) {
		if (err)
			snprintf(err, errlen, "%s%s: %s", mz_root(), rel, strerror(-r));
		return r;
	}
	return mz_read_text(path, text, err, errlen);
}

int mz_read_attr_at(int dirfd, const char *rel, char *buf, size_t len)
{
	ssize_t got;
	size_t n;
	int fd, r = 0;

	if (len == 0)
		return -EINVAL;
	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		got = read(fd, buf, len - 1);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		r = -errno;
	/* Filled: whatever follows must be blank (a newline, NUL padding) or the content is cut. */
	while (r == 0 && got == (ssize_t)(len - 1)) {
		char more[64];
		ssize_t m = read(fd, more, sizeof(more));

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			r = -errno;
		if (m <= 0)
			break;
		for (ssize_t i = 0; i < m && r == 0; i++)
			if (more[i] && !isspace((unsigned char)more[i]))
				r = -ENOSPC;
	}
	close(fd);
	if (r < 0)
		return r;
	buf[got] = '\0';
	n = strlen(buf); /* sysfs copies padded with NULs end at the first one */
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

int mz_read_line(const char *path, char *buf, size_t len)
{
	int r = mz_read_attr_at(AT_FDCWD, path, buf, len);
	char *nl;

	if (r == 0 && (nl = strchr(buf, '\n'))) {
		*nl = '\0';
		mz_strstrip(buf);
	}
	return r;
}

int mz_write_string(const char *path, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, s, n);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != n)
		err = -EIO;
	if (close(fd) < 0 && err == 0 && errno != EINTR)
		err = -errno;
	return err;
}

int mz_write_file_atomic(const char *path, const char *content, size_t len, unsigned mode)
{
	char tmp[MZ_PATH_MAX];
	size_t off = 0;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, content + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int mz_mkdir_p(const char *path, unsigned mode)
{
	char buf[MZ_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int mz_parse_u64(const char *s, int base, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!isxdigit((unsigned char)*s)) /* no sign, no empty string */
		return -EINVAL;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int mz_parse_int(const char *s, int *out)
{
	long v;
	char *end;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

bool mz_block_name_valid(const char *name, unsigned long *id)
{
	unsigned long v = 0;
	const char *p;
	size_t digits = 0;

	if (!name || strncmp(name, "memory", 6) != 0)
		return false;
	/* the kernel names blocks without leading zeros: "memory032" is not memory32's name */
	if (name[6] == '0' && name[7] != '\0')
		return false;
	for (p = name + 6; *p; p++) {
		if (*p < '0' || *p > '9' || ++digits > 10)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (digits == 0 || v > UINT32_MAX)
		return false;
	if (id)
		*id = v;
	return true;
}

char *mz_strstrip(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool mz_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void oom(void)
{
	static const char msg[] = "memzone: out of memory\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	abort();
}

void *mz_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *mz_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom();
	return p;
}

void *mz_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *mz_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

uint64_t mz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mz_now_ms(void) { return mz_now_ns() / 1000000ull; }

void mz_sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int64_t mz_wall_s(void) { return (int64_t)time(NULL); }
