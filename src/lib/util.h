/* util.h - root-prefixed paths, bounded file I/O, strict number parsing, name validation */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MZ_PATH_MAX 4096
/* Largest file memzone reads whole (a 131072-block iomem is a few MiB; zoneinfo of 1024 nodes ~10 MiB). */
#define MZ_READ_MAX (64u << 20)

#define MZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Root prefix: NULL, "" and "/" all mean the real root. Returns "" for those, else the prefix
 * without a trailing slash (the string is stored in a static buffer by mz_root_set). */
void mz_root_set(const char *root);
const char *mz_root(void);
bool mz_root_is_real(void);

/* Build "<root><abs>" where abs = printf(fmt, ...), abs must start with '/'.
 * Returns 0 or -ENAMETOOLONG / -EINVAL (abs not absolute or contains "/../"). */
int mz_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a whole file (bounded by MZ_READ_MAX) into a malloc'ed NUL-terminated buffer.
 * Embedded NUL bytes (sysfs files copied at their stat size) end the text. Returns 0 or -errno. */
int mz_read_file(const char *path, char **out, size_t *len);
/* mz_read_file of path; on failure err (when not NULL) says "<path>: <strerror>". */
int mz_read_text(const char *path, char **text, char *err, size_t errlen);
/* Build path (MZ_PATH_MAX bytes) = "<root><rel>" for an absolute rel such as "/proc/iomem" and read it
 * with mz_read_text. When the path cannot be built, err says "<root><rel>: <strerror>". */
int mz_read_proc_file(const char *rel, char *path, char **text, char *err, size_t errlen);
/* The one reader of a small file (a sysfs attribute, a one-line file of /run): rel relative to
 * dirfd (AT_FDCWD: a path), NUL padding and trailing whitespace removed. Content that does not fit
 * in len (trailing whitespace aside) is -ENOSPC, never cut. One read() when it fits: a read that
 * returns less than it asked for is the end of a sysfs attribute or a regular file. */
int mz_read_attr_at(int dirfd, const char *rel, char *buf, size_t len);
/* mz_read_attr_at of a path, cut at its first newline (trailing whitespace stripped). */
int mz_read_line(const char *path, char *buf, size_t len);
/* One write(2) of s to an existing file (O_WRONLY, no O_CREAT, no O_TRUNC: sysfs semantics).
 * Returns 0, -errno of the open/write, or -EIO on a short write. */
int mz_write_string(const char *path, const char *s);
/* Atomically replace path with content (write temp in the same dir, fsync, rename). */
int mz_write_file_atomic(const char *path, const char *content, size_t len, unsigned mode);
/* mkdir -p, mode for new components. */
int mz_mkdir_p(const char *path, unsigned mode);

/* Strict unsigned parse: whole string (leading/trailing blanks allowed) must be a number.
 * base 0 = auto (0x hex), 16 = hex with or without 0x. Returns 0 or -EINVAL / -ERANGE. */
int mz_parse_u64(const char *s, int base, uint64_t *out);
int mz_parse_int(const char *s, int *out);

/* "memory123" -> 123. Only "memory" followed by 1..10 decimal digits (< 2^32); nothing else. */
bool mz_block_name_valid(const char *name, unsigned long *id);

/* Trim leading and trailing whitespace in place; returns s advanced past leading blanks. */
char *mz_strstrip(char *s);
bool mz_startswith(const char *s, const char *prefix);

void *mz_xmalloc(size_t n);
void *mz_xcalloc(size_t n, size_t m);
void *mz_xrealloc(void *p, size_t n);
char *mz_xstrdup(const char *s);

/* Monotonic clock in nanoseconds / milliseconds. */
uint64_t mz_now_ns(void);
uint64_t mz_now_ms(void);
/* Sleep ms milliseconds, resumed after a signal. */
void mz_sleep_ms(uint64_t ms);
/* Wall clock, seconds since the epoch. */
int64_t mz_wall_s(void);
