/* intent.h - crash-safe record of the move in flight: <root>/run/memzone/intent
 *
 * memzoned writes it (atomically) before it offlines a block and removes it once the block is online
 * again, in whichever zone. If the daemon dies in between (SIGKILL, OOM, crash, power cut of the
 * daemon only), the next start finds the record and completes or rolls back the move, so no block
 * that was online stays offline. /run/memzone survives a restart of the service (tmpfiles.d, not
 * RuntimeDirectory=). Format, one "key=value" per line, '#' comments:
 *   version=1
 *   block=37
 *   from=Movable        zone before the move (as valid_zones prints it)
 *   to=Normal           zone wanted ("Movable" -> online_movable, any kernel zone -> online_kernel)
 *   started=1764111000  epoch s
 *   pid=1234
 * A record that cannot be read or parsed (cut short, garbage, empty, another version) names no block
 * we can trust: memzoned logs an error naming the file, renames it to intent.corrupt (replacing an
 * older one; removes it if the rename fails) for inspection, and touches no block. A valid record
 * naming a block that is gone is removed. memzoned writes the record atomically (rename), so a
 * corrupt one comes from elsewhere (a hand edit, another version).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "zone.h"

#define MZ_INTENT_PATH "/run/memzone/intent"
#define MZ_INTENT_CORRUPT_PATH "/run/memzone/intent.corrupt"
#define MZ_INTENT_VERSION 1

struct mz_intent {
	unsigned long block;
	enum mz_zone from, to;
	int64_t started;
	pid_t pid;
};

/* Text of the record (pure). Returns the length, or -ENOSPC when len is too small. */
int mz_intent_format(const struct mz_intent *in, char *buf, size_t len);
/* Parse a record (pure); name is used in errors ("NAME:LINE: why"). -EINVAL when malformed or
 * incomplete, -EPROTO for another version. */
int mz_intent_parse(const char *text, const char *name, struct mz_intent *in, char *err, size_t errlen);

/* Write <root>/run/memzone/intent atomically, creating /run/memzone (0755) when missing. */
int mz_intent_write(const struct mz_intent *in, char *err, size_t errlen);
/* 0 and *in filled; -ENOENT when there is none; else -errno / -EINVAL with err naming the file. */
int mz_intent_read(struct mz_intent *in, char *err, size_t errlen);
/* Remove the record; 0 also when there was none. */
int mz_intent_clear(void);
/* An unusable record: rename it to <root>/run/memzone/intent.corrupt, else remove it. 0 and kept
 * set to the new path (or "" when it was removed), or -errno when it is still there. */
int mz_intent_set_aside(char *kept, size_t len);
