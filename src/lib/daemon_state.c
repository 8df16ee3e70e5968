/* daemon_state.c - /run/memzone/state: what memzoned did lately (format in daemon_state.h) */
#include "daemon_state.h"
#include "lock.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[MZ_VERDICT__COUNT] = {
	[MZ_VERDICT_HOLD] = "hold",
	[MZ_VERDICT_GROW_KERNEL] = "grow-kernel",
	[MZ_VERDICT_GROW_MOVABLE] = "grow-movable",
};
static const char *const dir_names[MZ_MOVE_DIR__COUNT] = {
	[MZ_MOVE_TO_KERNEL] = "to-kernel",
	[MZ_MOVE_TO_MOVABLE] = "to-movable",
};
static const char *const result_names[MZ_MOVE_RESULT__COUNT] = {
	[MZ_MOVE_OK] = "ok",
	[MZ_MOVE_FAILED] = "failed",
	[MZ_MOVE_TIMEOUT] = "timeout",
	[MZ_MOVE_ROLLED_BACK] = "rolled-back",
	[MZ_MOVE_OBSERVED] = "observed",
};

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *mz_verdict_name(enum mz_verdict v)
{
	return (unsigned)v < MZ_VERDICT__COUNT ? verdict_names[v] : "unknown";
}

int mz_verdict_from_name(const char *name, enum mz_verdict *v)
{
	int i = name_index(verdict_names, MZ_VERDICT__COUNT, name);

	if (i < 0)
		return -EINVAL;
	*v = (enum mz_verdict)i;
	return 0;
}

const char *mz_move_dir_name(enum mz_move_dir d)
{
	return (unsigned)d < MZ_MOVE_DIR__COUNT ? dir_names[d] : "unknown";
}

const char *mz_move_result_name(enum mz_move_result r)
{
	return (unsigned)r < MZ_MOVE_RESULT__COUNT ? result_names[r] : "unknown";
}

void mz_daemon_state_init(struct mz_daemon_state *st)
{
	memset(st, 0, sizeof(*st));
	st->version = MZ_DS_VERSION;
}

void mz_daemon_state_free(struct mz_daemon_state *st)
{
	free(st->nodes);
	free(st->backoffs);
	free(st->pinned);
	mz_daemon_state_init(st);
}

void mz_daemon_state_begin_tick(struct mz_daemon_state *st)
{
	st->nnodes = 0;
	st->nbackoffs = 0;
	st->npinned = 0;
}

/* One line of text: the file is line-oriented, so line breaks inside a reason become blanks. */
static void copy_one_line(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r' || src[i] == '\t') ? ' ' : src[i];
	dst[i] = '\0';
}

/* The error is one token at the end of its line: no blank of any kind in it, or the reader would split
 * it or (cut to the field's size, at the end of the line) strip it. */
static void one_token(char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			*s = '_';
}

static struct mz_ds_node *node_slot(struct mz_daemon_state *st, int node)
{
	size_t i;

	for (i = 0; i < st->nnodes && st->nodes[i].node < node; i++)
		;
	if (i < st->nnodes && st->nodes[i].node == node)
		return &st->nodes[i];
	if (st->nnodes == st->nodes_cap) {
		st->nodes_cap = st->nodes_cap ? 2 * st->nodes_cap : 8;
		st->nodes = mz_xrealloc(st->nodes, st->nodes_cap * sizeof(*st->nodes));
	}
	memmove(&st->nodes[i + 1], &st->nodes[i], (st->nnodes - i) * sizeof(*st->nodes));
	st->nnodes++;
	memset(&st->nodes[i], 0, sizeof(st->nodes[i]));
	st->nodes[i].node = node;
	return &st->nodes[i];
}

void mz_daemon_state_set_node(struct mz_daemon_state *st, int node, enum mz_verdict v, const char *fmt, ...)
{
	struct mz_ds_node *n = node_slot(st, node);
	char reason[MZ_DS_REASON_MAX], line[MZ_DS_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	n->verdict = v;
	/* trimmed as the reader trims a line, so the file reads back as written: a reason cut at
	 * MZ_DS_REASON_MAX can end in a blank */
	copy_one_line(line, sizeof(line), reason);
	snprintf(n->reason, sizeof(n->reason), "%s", mz_strstrip(line));
}

void mz_daemon_state_add_backoff(struct mz_daemon_state *st, unsigned long block, int64_t until)
{
	if (st->nbackoffs == st->backoffs_cap) {
		st->backoffs_cap = st->backoffs_cap ? 2 * st->backoffs_cap : 8;
		st->backoffs = mz_xrealloc(st->backoffs, st->backoffs_cap * sizeof(*st->backoffs));
	}
	st->backoffs[st->nbackoffs++] = (struct mz_ds_backoff){ .block = block, .until = until };
}

void mz_daemon_state_add_pinned(struct mz_daemon_state *st, const struct mz_ds_pinned *p)
{
	if (st->npinned == st->pinned_cap) {
		st->pinned_cap = st->pinned_cap ? 2 * st->pinned_cap : 8;
		st->pinned = mz_xrealloc(st->pinned, st->pinned_cap * sizeof(*st->pinned));
	}
	st->pinned[st->npinned] = *p;
	one_token(st->pinned[st->npinned].refused);
	st->npinned++;
}

const char *mz_ds_pinned_causes(const struct mz_ds_pinned *p, char *buf, size_t len)
{
	const struct { uint64_t n; const char *what; } c[] = {
		{ p->slab, "slab" }, { p->pgtable, "page-table" }, { p->reserved, "reserved" },
		{ p->other, "other unmovable" },
	};
	uint64_t total = p->slab + p->pgtable + p->reserved + p->other;
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < MZ_ARRAY_SIZE(c); i++)
		if (c[i].n && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%" PRIu64 " %s", o ? ", " : "", c[i].n, c[i].what);
	if (o < len)
		o += (size_t)snprintf(buf + o, len - o, "%s", !o ? "no slab, page-table, reserved or other unmovable page" : total == 1 ? " page" : " pages");
	if (p->refused[0] && o < len)
		snprintf(buf + o, len - o, "; offline refused (%s)", p->refused);
	return buf;
}

const struct mz_ds_pinned *mz_daemon_state_pinned(const struct mz_daemon_state *st, unsigned long block)
{
	for (size_t i = 0; i < st->npinned; i++)
		if (st->pinned[i].block == block)
			return &st->pinned[i];
	return NULL;
}

void mz_daemon_state_record_move(struct mz_daemon_state *st, const struct mz_ds_move *m)
{
	struct mz_ds_move *slot;

	if (st->nmoves == MZ_DS_MOVES) {
		memmove(&st->moves[0], &st->moves[1], (MZ_DS_MOVES - 1) * sizeof(st->moves[0]));
		st->nmoves--;
	}
	slot = &st->moves[st->nmoves++];
	*slot = *m;
	one_token(slot->error);
	switch (m->result) {
	case MZ_MOVE_OK:
		if (m->dir == MZ_MOVE_TO_KERNEL)
			st->moves_to_kernel++;
		else
			st->moves_to_movable++;
		break;
	case MZ_MOVE_ROLLED_BACK: /* a rollback is also a failed move */
		st->rollbacks++;
		st->failures++;
		break;
	case MZ_MOVE_FAILED:
	case MZ_MOVE_TIMEOUT:
		st->failures++;
		break;
	default:
		break;
	}
}

char *mz_daemon_state_format(const struct mz_daemon_state *st, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		abort(); /* only fails without memory, like mz_xmalloc */
	fprintf(f, "# memzoned state, rewritten every tick; read by 'memzone status'\n");
	fprintf(f, "version=%d\n", MZ_DS_VERSION);
	fprintf(f, "pid=%ld\n", (long)st->pid);
	fprintf(f, "updated=%lld\n", (long long)st->updated);
	fprintf(f, "observe_only=%d\n", st->observe_only ? 1 : 0);
	fprintf(f, "moves_to_kernel=%llu\n", (unsigned long long)st->moves_to_kernel);
	fprintf(f, "moves_to_movable=%llu\n", (unsigned long long)st->moves_to_movable);
	fprintf(f, "failures=%llu\n", (unsigned long long)st->failures);
	fprintf(f, "rollbacks=%llu\n", (unsigned long long)st->rollbacks);
	for (size_t i = 0; i < st->nnodes; i++) {
		char reason[MZ_DS_REASON_MAX];

		copy_one_line(reason, sizeof(reason), st->nodes[i].reason);
		fprintf(f, "node=%d %s%s%s\n", st->nodes[i].node, mz_verdict_name(st->nodes[i].verdict),
			reason[0] ? " " : "", reason);
	}
	for (size_t i = 0; i < st->nbackoffs; i++)
		fprintf(f, "backoff=%lu %lld\n", st->backoffs[i].block, (long long)st->backoffs[i].until);
	for (size_t i = 0; i < st->npinned; i++) {
		const struct mz_ds_pinned *p = &st->pinned[i];

		fprintf(f, "pinned=%lu %lld %llu %llu %llu %llu %s\n", p->block, (long long)p->since,
			(unsigned long long)p->slab, (unsigned long long)p->pgtable, (unsigned long long)p->reserved,
			(unsigned long long)p->other, p->refused[0] ? p->refused : "-");
	}
	for (size_t i = 0; i < st->nmoves && i < MZ_DS_MOVES; i++) {
		const struct mz_ds_move *m = &st->moves[i];

		fprintf(f, "move=%lld %lu %s %s %llu %s\n", (long long)m->when, m->block, mz_move_dir_name(m->dir),
			mz_move_result_name(m->result), (unsigned long long)m->duration_ms,
			m->error[0] ? m->error : "-");
	}
	if (fclose(f) != 0)
		abort();
	if (len)
		*len = n;
	return buf;
}

/* Next blank-separated token of *p, NUL-terminated in place; NULL when there is none. */
static char *next_token(char **p)
{
	char *s = *p, *t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	t = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return t;
}

static int parse_i64(const char *s, int64_t *out)
{
	uint64_t v;

	if (!s || mz_parse_u64(s, 10, &v) < 0 || v > INT64_MAX)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	uint64_t v;

	if (!s || mz_parse_u64(s, 10, &v) < 0 || v > UINT32_MAX) /* block ids are < 2^32 */
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

/* One "key=value" line. Returns 0, or -EINVAL with why set. */
static int parse_line(struct mz_daemon_state *st, const char *key, char *val, const char **why)
{
	static const struct { const char *key; size_t off; } counters[] = {
		{ "moves_to_kernel", offsetof(struct mz_daemon_state, moves_to_kernel) },
		{ "moves_to_movable", offsetof(struct mz_daemon_state, moves_to_movable) },
		{ "failures", offsetof(struct mz_daemon_state, failures) },
		{ "rollbacks", offsetof(struct mz_daemon_state, rollbacks) },
	};
	int64_t v;

	for (size_t i = 0; i < MZ_ARRAY_SIZE(counters); i++) {
		if (strcmp(key, counters[i].key) != 0)
			continue;
		if (mz_parse_u64(val, 10, (uint64_t *)((char *)st + counters[i].off)) < 0) {
			*why = "not a counter";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "pid") == 0) {
		if (parse_i64(val, &v) < 0 || v > INT32_MAX) {
			*why = "not a process id";
			return -EINVAL;
		}
		st->pid = (pid_t)v;
	} else if (strcmp(key, "updated") == 0) {
		if (parse_i64(val, &st->updated) < 0) {
			*why = "not a time in seconds since the epoch";
			return -EINVAL;
		}
	} else if (strcmp(key, "observe_only") == 0) {
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0) {
			*why = "not 0 or 1";
			return -EINVAL;
		}
		st->observe_only = val[0] == '1';
	} else if (strcmp(key, "node") == 0) {
		char *p = val, *id = next_token(&p), *verdict = next_token(&p);
		enum mz_verdict vd;
		int node;

		if (!id || mz_parse_int(id, &node) < 0 || node < 0) {
			*why = "expected 'node=ID VERDICT REASON'";
			return -EINVAL;
		}
		if (!verdict || mz_verdict_from_name(verdict, &vd) < 0) {
			*why = "verdict is not hold, grow-kernel or grow-movable";
			return -EINVAL;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		mz_daemon_state_set_node(st, node, vd, "%s", p);
	} else if (strcmp(key, "backoff") == 0) {
		char *p = val, *id = next_token(&p), *until = next_token(&p);
		unsigned long block;

		if (parse_ulong(id, &block) < 0 || parse_i64(until, &v) < 0 || next_token(&p)) {
			*why = "expected 'backoff=BLOCK UNTIL'";
			return -EINVAL;
		}
		mz_daemon_state_add_backoff(st, block, v);
	} else if (strcmp(key, "pinned") == 0) {
		char *p = val, *tok[7];
		struct mz_ds_pinned pn = { 0 };

		for (size_t i = 0; i < 7; i++)
			tok[i] = next_token(&p);
		if (parse_ulong(tok[0], &pn.block) < 0 || parse_i64(tok[1], &pn.since) < 0 || !tok[2] ||
		    mz_parse_u64(tok[2], 10, &pn.slab) < 0 || !tok[3] || mz_parse_u64(tok[3], 10, &pn.pgtable) < 0 ||
		    !tok[4] || mz_parse_u64(tok[4], 10, &pn.reserved) < 0 || !tok[5] ||
		    mz_parse_u64(tok[5], 10, &pn.other) < 0 || !tok[6] || next_token(&p)) {
			*why = "expected 'pinned=BLOCK SINCE SLAB PGTABLE RESERVED OTHER REFUSED'";
			return -EINVAL;
		}
		if (strcmp(tok[6], "-") != 0)
			snprintf(pn.refused, sizeof(pn.refused), "%s", tok[6]);
		mz_daemon_state_add_pinned(st, &pn);
	} else if (strcmp(key, "move") == 0) {
		char *p = val, *tok[6];
		struct mz_ds_move m = { 0 };
		int dir, res;

		for (size_t i = 0; i < 6; i++)
			tok[i] = next_token(&p);
		dir = tok[2] ? name_index(dir_names, MZ_MOVE_DIR__COUNT, tok[2]) : -1;
		res = tok[3] ? name_index(result_names, MZ_MOVE_RESULT__COUNT, tok[3]) : -1;
		if (parse_i64(tok[0], &m.when) < 0 || parse_ulong(tok[1], &m.block) < 0 || dir < 0 || res < 0 ||
		    !tok[4] || mz_parse_u64(tok[4], 10, &m.duration_ms) < 0 || !tok[5] || next_token(&p)) {
			*why = "expected 'move=WHEN BLOCK to-kernel|to-movable RESULT MS ERROR'";
			return -EINVAL;
		}
		m.dir = (enum mz_move_dir)dir;
		m.result = (enum mz_move_result)res;
		if (strcmp(tok[5], "-") != 0)
			snprintf(m.error, sizeof(m.error), "%s", tok[5]);
		one_token(m.error);
		/* keep the newest MZ_DS_MOVES, without counting them again */
		if (st->nmoves == MZ_DS_MOVES) {
			memmove(&st->moves[0], &st->moves[1], (MZ_DS_MOVES - 1) * sizeof(st->moves[0]));
			st->nmoves--;
		}
		st->moves[st->nmoves++] = m;
	}
	/* other keys: written by a newer daemon of the same version, ignored */
	return 0;
}

int mz_daemon_state_parse(struct mz_daemon_state *st, const char *name, const char *text, char *err, size_t errlen)
{
	char *copy = mz_xstrdup(text), *line, *next;
	unsigned lineno = 0;
	bool have_version = false;
	int r = 0;

	mz_daemon_state_init(st);
	for (line = copy; line; line = next) {
		const char *why = NULL;
		char *s, *eq, *key, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		s = mz_strstrip(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: not a 'key=value' line", name, lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		key = mz_strstrip(s);
		val = mz_strstrip(eq + 1);
		if (!have_version) {
			uint64_t v;

			if (strcmp(key, "version") != 0 || mz_parse_u64(val, 10, &v) < 0) {
				snprintf(err, errlen, "%s:%u: the first line must be 'version=N'", name, lineno);
				r = -EINVAL;
				break;
			}
			if (v != MZ_DS_VERSION) {
				snprintf(err, errlen, "%s:%u: version %llu is not supported (this memzone reads %d)",
					 name, lineno, (unsigned long long)v, MZ_DS_VERSION);
				r = -EPROTO;
				break;
			}
			have_version = true;
			continue;
		}
		r = parse_line(st, key, val, &why);
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s: %s", name, lineno, key, why);
			break;
		}
	}
	if (r == 0 && !have_version) {
		snprintf(err, errlen, "%s: empty (no 'version=' line)", name);
		r = -EINVAL;
	}
	free(copy);
	if (r < 0)
		mz_daemon_state_free(st);
	return r;
}

int mz_daemon_state_write(const struct mz_daemon_state *st, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], dir[MZ_PATH_MAX];
	size_t len;
	char *text;
	int r;

	r = mz_path(path, sizeof(path), MZ_DS_STATE_PATH);
	if (r == 0)
		r = mz_path(dir, sizeof(dir), "/run/memzone");
	if (r < 0) {
		snprintf(err, errlen, "%s%s: %s", mz_root(), MZ_DS_STATE_PATH, strerror(-r));
		return r;
	}
	r = mz_mkdir_p(dir, 0755);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(-r));
		return r;
	}
	text = mz_daemon_state_format(st, &len);
	r = mz_write_file_atomic(path, text, len, 0644);
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

int mz_daemon_state_read(struct mz_daemon_state *st, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX];
	char *text;
	int r;

	mz_daemon_state_init(st);
	r = mz_path(path, sizeof(path), MZ_DS_STATE_PATH);
	if (r < 0) {
		snprintf(err, errlen, "%s%s: %s", mz_root(), MZ_DS_STATE_PATH, strerror(-r));
		return r;
	}
	r = mz_read_file(path, &text, NULL);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = mz_daemon_state_parse(st, path, text, err, errlen);
	free(text);
	return r;
}

bool mz_daemon_alive(pid_t *pid)
{
	char path[MZ_PATH_MAX], line[32];
	int v;

	if (pid)
		*pid = 0;
	if (mz_flock_held_by_other(MZ_DS_LOCK_PATH) != 1)
		return false;
	if (pid && mz_path(path, sizeof(path), MZ_DS_LOCK_PATH) == 0 && mz_read_line(path, line, sizeof(line)) == 0 &&
	    mz_parse_int(line, &v) == 0 && v > 0)
		*pid = (pid_t)v;
	return true;
}

bool mz_daemon_decides(void)
{
	return mz_flock_held_by_other(MZ_DS_DECIDES_PATH) == 1;
}
