/* daemon_state.h - /run/memzone/state: what memzoned did lately, rewritten each tick, read by `memzone status`
 *
 * The daemon owns one struct mz_daemon_state for its whole life: each tick it calls
 * mz_daemon_state_begin_tick() (forgets the per-tick verdicts and backoffs), fills them with
 * mz_daemon_state_set_node() / mz_daemon_state_add_backoff(), records every move attempt with
 * mz_daemon_state_record_move() (keeps the last MZ_DS_MOVES and bumps the counters), and writes
 * the file with mz_daemon_state_write(). `memzone status` reads it back with mz_daemon_state_read().
 *
 * File format (version 1), one "key=value" per line, '#' comments, unknown keys ignored so a newer
 * daemon can add keys without breaking an older status; a different version is refused:
 *   version=1
 *   pid=1234
 *   updated=1764111000                      wall clock, seconds since the epoch
 *   observe_only=0
 *   moves_to_kernel=3 moves_to_movable=1 failures=1 rollbacks=0 (one key per line)
 *   node=0 grow-kernel kernel free 120M below high watermark 130M + headroom 64M
 *   backoff=37 1764111300                   block id, until (epoch s)
 *   pinned=38 1764110000 12 3 0 5 -         a kernel-zone block memzoned wants back in Movable but the
 *                                           kernel cannot take: block, since (epoch s), its slab,
 *                                           page-table, reserved and other unmovable pages (kpageflags),
 *                                           and the kernel's refusal of its offline ("-": none tried)
 *   move=1764110990 37 to-kernel ok 420 -   when, block, direction, result, duration ms, error ("-": none)
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MZ_DS_VERSION 1
#define MZ_DS_MOVES 16              /* moves kept (the newest) */
#define MZ_DS_REASON_MAX 200

enum mz_verdict {
	MZ_VERDICT_HOLD = 0,
	MZ_VERDICT_GROW_KERNEL,
	MZ_VERDICT_GROW_MOVABLE,
	MZ_VERDICT__COUNT,
};
const char *mz_verdict_name(enum mz_verdict v);             /* "hold" "grow-kernel" "grow-movable" */
int mz_verdict_from_name(const char *name, enum mz_verdict *v); /* 0 or -EINVAL */

enum mz_move_dir {
	MZ_MOVE_TO_KERNEL = 0,      /* Movable -> kernel zone */
	MZ_MOVE_TO_MOVABLE,         /* kernel zone -> Movable */
	MZ_MOVE_DIR__COUNT,
};
const char *mz_move_dir_name(enum mz_move_dir d);           /* "to-kernel" "to-movable" */

enum mz_move_result {
	MZ_MOVE_OK = 0,             /* offlined and re-onlined in the other zone */
	MZ_MOVE_FAILED,             /* offline refused (EBUSY...): the block never left its zone */
	MZ_MOVE_TIMEOUT,            /* offline did not finish within offline_timeout and was interrupted */
	MZ_MOVE_ROLLED_BACK,        /* offlined, the other zone refused it, re-onlined where it was */
	MZ_MOVE_OBSERVED,           /* observe_only: this move would have been made */
	MZ_MOVE_RESULT__COUNT,
};
const char *mz_move_result_name(enum mz_move_result r);     /* "ok" "failed" "timeout" "rolled-back" "observed" */

struct mz_ds_move {
	int64_t when;               /* epoch s when the move started */
	unsigned long block;
	enum mz_move_dir dir;
	enum mz_move_result result;
	uint64_t duration_ms;
	char error[32];             /* "EBUSY", "timeout after 10s"...; "" when none. No blanks kept. */
};

struct mz_ds_node {
	int node;
	enum mz_verdict verdict;
	char reason[MZ_DS_REASON_MAX]; /* one line; newlines are written as blanks */
};

struct mz_ds_backoff {
	unsigned long block;
	int64_t until;              /* epoch s */
};

/* A block memzoned wants back in Movable (a give-back) that stays in a kernel zone: its pages say why. */
struct mz_ds_pinned {
	unsigned long block;
	int64_t since;              /* epoch s: pinned without a break since */
	uint64_t slab, pgtable, reserved, other; /* pages; other: unmovable without those flags */
	char refused[16];           /* the kernel's error for its offline ("EBUSY"); "" when page flags
				     * alone told (no offline tried) */
};

struct mz_daemon_state {
	int version;                /* MZ_DS_VERSION when read back */
	pid_t pid;
	int64_t updated;            /* epoch s of the write */
	bool observe_only;
	uint64_t moves_to_kernel, moves_to_movable, failures, rollbacks;
	struct mz_ds_node *nodes;   /* ascending node ids, grown by set_node */
	size_t nnodes;
	struct mz_ds_backoff *backoffs;
	size_t nbackoffs;
	struct mz_ds_pinned *pinned;
	size_t npinned;
	struct mz_ds_move moves[MZ_DS_MOVES]; /* oldest first */
	size_t nmoves;
	size_t nodes_cap, backoffs_cap, pinned_cap;
};

void mz_daemon_state_init(struct mz_daemon_state *st);
void mz_daemon_state_free(struct mz_daemon_state *st);
/* Forget the verdicts, backoffs and pinned blocks of the previous tick (counters and moves stay). */
void mz_daemon_state_begin_tick(struct mz_daemon_state *st);
/* Set (or replace) the verdict of a node; reason is a printf format. */
void mz_daemon_state_set_node(struct mz_daemon_state *st, int node, enum mz_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mz_daemon_state_add_backoff(struct mz_daemon_state *st, unsigned long block, int64_t until);
void mz_daemon_state_add_pinned(struct mz_daemon_state *st, const struct mz_ds_pinned *p);
/* "12 slab, 3 page-table pages; offline refused (EBUSY)": the nonzero causes, one line. */
const char *mz_ds_pinned_causes(const struct mz_ds_pinned *p, char *buf, size_t len);
/* The pinned record of block, NULL when it has none. */
const struct mz_ds_pinned *mz_daemon_state_pinned(const struct mz_daemon_state *st, unsigned long block);
/* Append a move (dropping the oldest beyond MZ_DS_MOVES) and count it: ok -> moves_to_<dir>;
 * failed/timeout -> failures; rolled-back -> failures and rollbacks; observed -> no counter. */
void mz_daemon_state_record_move(struct mz_daemon_state *st, const struct mz_ds_move *m);

/* The file's text (malloc'ed, caller frees). */
char *mz_daemon_state_format(const struct mz_daemon_state *st, size_t *len);
/* Parse text; name is used in errors ("NAME:LINE: why"). st is initialised first; on error it is
 * left empty. -EINVAL for a malformed line, -EPROTO for another version. */
int mz_daemon_state_parse(struct mz_daemon_state *st, const char *name, const char *text, char *err, size_t errlen);
/* Write <root>/run/memzone/state atomically (mode 0644), creating /run/memzone when missing. */
int mz_daemon_state_write(const struct mz_daemon_state *st, char *err, size_t errlen);
/* Read <root>/run/memzone/state: 0, -ENOENT when there is none (no daemon ever ran), else -errno /
 * -EINVAL / -EPROTO with err naming the file. */
int mz_daemon_state_read(struct mz_daemon_state *st, char *err, size_t errlen);

/* memzoned's liveness, vouched for by the kernel, which drops a flock when its holder dies (a pid
 * file and kill(pid, 0) would trust a pid a killed memzoned left and another process now has):
 *  - MZ_DS_LOCK_PATH: memzoned holds an exclusive flock on it for its whole life, its pid written
 *    in the file (for display only);
 *  - MZ_DS_DECIDES_PATH: held while memzoned decides new memory itself (from the kernel's uevents),
 *    let go for the time of a move and before it stops: the udev helper exits at once while it is
 *    held, and decides otherwise.
 * Both are tested without blocking (mz_flock_held_by_other). */
#define MZ_DS_LOCK_PATH "/run/memzone/memzoned.lock"
/* While memzoned decides new memory: a symlink to /proc/<pid>/map_files/<range> of a page of
 * MZ_DS_LOCK_PATH it maps, for the udev rule, which can test a path but not a lock (memzoned.c) */
#define MZ_DS_ONLINE_LINK_PATH "/run/memzone/memzoned.online"
#define MZ_DS_DECIDES_PATH "/run/memzone/memzoned.decides"

/* A memzoned holds MZ_DS_LOCK_PATH. pid (may be NULL) gets the pid written in the file when it is
 * held (0 when unreadable), 0 otherwise. */
bool mz_daemon_alive(pid_t *pid);
/* A memzoned holds MZ_DS_DECIDES_PATH: it decides new memory now. */
bool mz_daemon_decides(void);

#define MZ_DS_STATE_PATH "/run/memzone/state"
