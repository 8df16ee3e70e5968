/* intent.c - crash-safe record of the move in flight: <root>/run/memzone/intent */
#include "intent.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mz_intent_format(const struct mz_intent *in, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "# memzoned: a move in flight; at start memzoned completes it or rolls it back\n"
			 "version=%d\nblock=%lu\nfrom=%s\nto=%s\nstarted=%" PRId64 "\npid=%ld\n",
			 MZ_INTENT_VERSION, in->block, mz_zone_name(in->from), mz_zone_name(in->to), in->started,
			 (long)in->pid);

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static int parse_zone(const char *v, enum mz_zone *z)
{
	*z = mz_zone_from_name(v);
	/* only zones a block can be onlined to make sense here */
	return *z == MZ_ZONE_NONE || *z == MZ_ZONE_OTHER || *z == MZ_ZONE_DEVICE ? -EINVAL : 0;
}

int mz_intent_parse(const char *text, const char *name, struct mz_intent *in, char *err, size_t errlen)
{
	enum { F_VERSION = 1, F_BLOCK = 2, F_FROM = 4, F_TO = 8, F_ALL = 15 };
	const char *p = text;
	unsigned seen = 0, lineno = 0;

	memset(in, 0, sizeof(*in));
	while (*p) {
		char line[256], *key, *val, *eq;
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		uint64_t u;
		int r = 0;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long", name, lineno);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		key = mz_strstrip(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected key=value, got '%s'", name, lineno, key);
			return -EINVAL;
		}
		*eq = '\0';
		val = mz_strstrip(eq + 1);
		key = mz_strstrip(key);
		if (strcmp(key, "version") == 0) {
			if (mz_parse_u64(val, 10, &u) < 0) {
				r = -EINVAL;
			} else if (u != MZ_INTENT_VERSION) {
				snprintf(err, errlen, "%s:%u: version %s, this memzoned reads version %d", name, lineno,
					 val, MZ_INTENT_VERSION);
				return -EPROTO;
			}
			seen |= F_VERSION;
		} else if (strcmp(key, "block") == 0) {
			r = mz_parse_u64(val, 10, &u);
			if (r == 0 && u > UINT32_MAX)
				r = -ERANGE;
			in->block = (unsigned long)u;
			seen |= F_BLOCK;
		} else if (strcmp(key, "from") == 0) {
			r = parse_zone(val, &in->from);
			seen |= F_FROM;
		} else if (strcmp(key, "to") == 0) {
			r = parse_zone(val, &in->to);
			seen |= F_TO;
		} else if (strcmp(key, "started") == 0) {
			r = mz_parse_u64(val, 10, &u);
			in->started = (int64_t)(u > INT64_MAX ? INT64_MAX : u);
		} else if (strcmp(key, "pid") == 0) {
			int pid;

			r = mz_parse_int(val, &pid);
			in->pid = (pid_t)pid;
		} /* unknown keys: a newer memzoned may add some */
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s: '%s' is not valid", name, lineno, key, val);
			return -EINVAL;
		}
	}
	if ((seen & F_ALL) != F_ALL) {
		snprintf(err, errlen, "%s: incomplete record (needs version, block, from and to)", name);
		return -EINVAL;
	}
	return 0;
}

static int intent_path(char *path, size_t len)
{
	return mz_path(path, len, MZ_INTENT_PATH);
}

int mz_intent_write(const struct mz_intent *in, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], dir[MZ_PATH_MAX], text[512];
	int n, r;

	r = intent_path(path, sizeof(path));
	if (r == 0)
		r = mz_path(dir, sizeof(dir), "/run/memzone");
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", MZ_INTENT_PATH, strerror(-r));
		return r;
	}
	n = mz_intent_format(in, text, sizeof(text));
	if (n < 0) {
		snprintf(err, errlen, "%s: record too long", path);
		return n;
	}
	r = mz_mkdir_p(dir, 0755);
	if (r == 0)
		r = mz_write_file_atomic(path, text, (size_t)n, 0644);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

int mz_intent_read(struct mz_intent *in, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], *text;
	int r;

	memset(in, 0, sizeof(*in));
	r = intent_path(path, sizeof(path));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", MZ_INTENT_PATH, strerror(-r));
		return r;
	}
	r = mz_read_file(path, &text, NULL);
	if (r == -ENOENT)
		return r;
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	r = mz_intent_parse(text, path, in, err, errlen);
	free(text);
	return r;
}

int mz_intent_set_aside(char *kept, size_t len)
{
	char path[MZ_PATH_MAX];
	int r = intent_path(path, sizeof(path));

	if (r == 0)
		r = mz_path(kept, len, MZ_INTENT_CORRUPT_PATH);
	if (r < 0)
		return r;
	if (rename(path, kept) == 0 || errno == ENOENT)
		return 0;
	kept[0] = '\0';
	return mz_intent_clear();
}

int mz_intent_clear(void)
{
	char path[MZ_PATH_MAX];
	int r = intent_path(path, sizeof(path));

	if (r < 0)
		return r;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
