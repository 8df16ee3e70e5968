/* procstat.c - /proc/meminfo, /proc/vmstat, node meminfo/vmstat, /proc/pressure/memory
 *
 *   meminfo        "MemTotal:       24684084 kB"      (values with "kB" are stored in bytes)
 *   node meminfo   "Node 0 MemTotal:        5466316 kB" (stored as "MemTotal"; old ppc kernels
 *                  start the file with an empty line; sysfs copies may be padded with NULs)
 *   vmstat         "nr_free_pages 5906043"
 *   PSI            "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and, since 5.2 for memory
 *                  on every kernel that has it, "full ..."
 * RHEL 8 prints one node stat without its name (" 176096"): such a line is skipped. Any other
 * line must parse; a bad number is an error with its line number, never a zero.
 */
#include "procstat.h"
#include "textscan.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Short excerpt length for messages. */
static int ex(struct span s) { return (int)(s.n > 40 ? 40 : s.n); }

/* Line iterator over NUL-terminated text. */
struct lines {
	const char *p;
	size_t no;
};

static bool next_line(struct lines *it, struct span *s)
{
	const char *nl;

	if (!*it->p)
		return false;
	nl = strchr(it->p, '\n');
	s->p = it->p;
	s->n = nl ? (size_t)(nl - it->p) : strlen(it->p);
	it->p = nl ? nl + 1 : it->p + s->n;
	it->no++;
	return true;
}

/* ---------------------------------------------------------------- key/value tables */

struct kvbuild {
	struct mz_kvtab *t;
	size_t cap;
	size_t *lines; /* line of each entry, for the duplicate message */
};

static int kv_add(struct kvbuild *b, size_t line, struct span key, uint64_t val, char *err, size_t errlen)
{
	struct mz_kv *kv;

	if (key.n >= sizeof(kv->key))
		return scan_fail(err, errlen, line, "name '%.*s' is longer than %zu characters", ex(key), key.p,
			    sizeof(kv->key) - 1);
	if (b->t->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->t->kv = mz_xrealloc(b->t->kv, b->cap * sizeof(*b->t->kv));
		b->lines = mz_xrealloc(b->lines, b->cap * sizeof(*b->lines));
	}
	b->lines[b->t->n] = line;
	kv = &b->t->kv[b->t->n++];
	memcpy(kv->key, key.p, key.n);
	kv->key[key.n] = '\0';
	kv->val = val;
	return 0;
}

static int cmp_kv_idx(const void *a, const void *b, void *arg)
{
	const struct mz_kv *kv = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(kv[x].key, kv[y].key);

	return c ? c : (x < y ? -1 : 1);
}

/* Two values for one name cannot both be right: refuse rather than pick one. O(n log n). */
static int kv_finish(struct kvbuild *b, char *err, size_t errlen)
{
	struct mz_kvtab *t = b->t;
	size_t *idx = mz_xmalloc((t->n ? t->n : 1) * sizeof(*idx));
	int r = 0;

	for (size_t i = 0; i < t->n; i++)
		idx[i] = i;
	qsort_r(idx, t->n, sizeof(*idx), cmp_kv_idx, t->kv);
	for (size_t i = 1; i < t->n; i++)
		if (strcmp(t->kv[idx[i - 1]].key, t->kv[idx[i]].key) == 0) {
			r = scan_fail(err, errlen, b->lines[idx[i]], "'%s' appears twice (first at line %zu)", t->kv[idx[i]].key,
				 b->lines[idx[i - 1]]);
			break;
		}
	free(idx);
	free(b->lines);
	if (r == 0 && t->n == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no values (empty file?)");
		r = -ENODATA;
	}
	if (r < 0)
		mz_kvtab_free(t);
	return r;
}

static int kv_start(struct mz_kvtab *t, char *err, size_t errlen)
{
	t->kv = NULL;
	t->n = 0;
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

/* After the lines: r < 0 drops what was built, else kv_finish. */
static int kv_end(struct kvbuild *b, int r, char *err, size_t errlen)
{
	if (r < 0) {
		free(b->lines);
		mz_kvtab_free(b->t);
		return r;
	}
	return kv_finish(b, err, errlen);
}

/* "Node 12 " prefix of node meminfo lines */
static struct span strip_node_prefix(struct span s)
{
	struct span rest = s, w = next_word(&rest);

	if (!span_is(w, "Node"))
		return s;
	w = next_word(&rest);
	return span_all_digits(w) ? skip_blanks(rest) : s;
}

int mz_meminfo_parse(const char *text, struct mz_kvtab *t, char *err, size_t errlen)
{
	struct kvbuild b = { .t = t };
	struct lines it = { .p = text };
	struct span s;
	int r = kv_start(t, err, errlen);

	while (r == 0 && next_line(&it, &s)) {
		struct span key, num, unit;
		const char *colon;
		uint64_t val;

		s = skip_blanks(strip_node_prefix(skip_blanks(s)));
		if (s.n == 0)
			continue; /* old ppc node files begin with an empty line */
		colon = memchr(s.p, ':', s.n);
		if (!colon) {
			struct span rest = s;

			if (span_all_digits(next_word(&rest)) && skip_blanks(rest).n == 0)
				continue; /* a value whose name the kernel did not print */
			r = scan_fail(err, errlen, it.no, "expected 'Name: value [kB]', got '%.*s'", ex(s), s.p);
			break;
		}
		key = (struct span){ s.p, (size_t)(colon - s.p) };
		s = (struct span){ colon + 1, s.n - key.n - 1 };
		num = next_word(&s);
		unit = next_word(&s);
		if (key.n == 0 && span_all_digits(num) && skip_blanks(s).n == 0)
			continue;
		if (key.n == 0 || memchr(key.p, ' ', key.n) || memchr(key.p, '\t', key.n)) {
			r = scan_fail(err, errlen, it.no, "'%.*s' is not a meminfo name", ex(key), key.p);
			break;
		}
		r = span_u64_digits(num, &val);
		if (r == -ERANGE || (r == 0 && span_is(unit, "kB") && val > UINT64_MAX / 1024)) {
			r = scan_fail(err, errlen, it.no, "%.*s: '%.*s' does not fit in 64 bits", ex(key), key.p, ex(num),
				 num.p);
			break;
		}
		if (r < 0) {
			r = scan_fail(err, errlen, it.no, "%.*s: '%.*s' is not a number", ex(key), key.p, ex(num), num.p);
			break;
		}
		if (unit.n && !span_is(unit, "kB")) {
			r = scan_fail(err, errlen, it.no, "%.*s: unknown unit '%.*s' (only kB is known)", ex(key), key.p,
				 ex(unit), unit.p);
			break;
		}
		if (skip_blanks(s).n > 0) {
			r = scan_fail(err, errlen, it.no, "%.*s: unexpected '%.*s' after the value", ex(key), key.p,
				 ex(skip_blanks(s)), skip_blanks(s).p);
			break;
		}
		r = kv_add(&b, it.no, key, unit.n ? val * 1024 : val, err, errlen);
	}
	return kv_end(&b, r, err, errlen);
}

int mz_vmstat_parse(const char *text, struct mz_kvtab *t, char *err, size_t errlen)
{
	struct kvbuild b = { .t = t };
	struct lines it = { .p = text };
	struct span s;
	int r = kv_start(t, err, errlen);

	while (r == 0 && next_line(&it, &s)) {
		struct span key = next_word(&s), num = next_word(&s);
		uint64_t val;

		if (key.n == 0)
			continue;
		if (num.n == 0 && span_all_digits(key))
			continue; /* RHEL 8: a node stat printed without its name */
		if (num.n == 0 || skip_blanks(s).n > 0) {
			r = scan_fail(err, errlen, it.no, "expected 'name value', got '%.*s'", ex(key), key.p);
			break;
		}
		r = span_u64_digits(num, &val);
		if (r < 0) {
			r = scan_fail(err, errlen, it.no, "%.*s: '%.*s' is %s", ex(key), key.p, ex(num), num.p,
				 r == -ERANGE ? "larger than 64 bits" : "not a number");
			break;
		}
		r = kv_add(&b, it.no, key, val, err, errlen);
	}
	return kv_end(&b, r, err, errlen);
}

typedef int kv_parser(const char *text, struct mz_kvtab *t, char *err, size_t errlen);

static int kv_read(const char *file, int node, kv_parser *parse, struct mz_kvtab *t, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], why[200];
	char *text;
	int r;

	t->kv = NULL;
	t->n = 0;
	if (node < 0)
		r = mz_path(path, sizeof(path), "/proc/%s", file);
	else
		r = mz_path(path, sizeof(path), "/sys/devices/system/node/node%d/%s", node, file);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s: %s", mz_root()[0] ? mz_root() : "/", file, strerror(-r));
		return r;
	}
	r = mz_read_text(path, &text, err, errlen);
	if (r < 0)
		return r;
	r = parse(text, t, why, sizeof(why));
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

int mz_meminfo_read(int node, struct mz_kvtab *t, char *err, size_t errlen)
{
	return kv_read("meminfo", node, mz_meminfo_parse, t, err, errlen);
}

int mz_vmstat_read(int node, struct mz_kvtab *t, char *err, size_t errlen)
{
	return kv_read("vmstat", node, mz_vmstat_parse, t, err, errlen);
}

void mz_kvtab_free(struct mz_kvtab *t)
{
	free(t->kv);
	t->kv = NULL;
	t->n = 0;
}

bool mz_kvtab_get(const struct mz_kvtab *t, const char *key, uint64_t *val)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->kv[i].key, key) == 0) {
			*val = t->kv[i].val;
			return true;
		}
	return false;
}

/* ---------------------------------------------------------------- PSI */

/* "12.34" -> 12.34, locale-independent (the daemon may run under any LC_NUMERIC). The digits are
 * gathered as an integer and divided once, so the result is the double nearest the text, as
 * strtod would give. */
static int span_decimal(struct span s, double *out)
{
	uint64_t mant = 0, scale = 1;
	size_t i = 0;
	int digits = 0;

	for (; i < s.n && is_digit(s.p[i]); i++, digits++)
		mant = mant * 10 + (uint64_t)(s.p[i] - '0');
	if (i < s.n && s.p[i] == '.')
		for (i++; i < s.n && is_digit(s.p[i]); i++, digits++) {
			mant = mant * 10 + (uint64_t)(s.p[i] - '0');
			scale *= 10;
		}
	/* the kernel prints "%lu.%02lu" of a percentage: a handful of digits */
	if (digits == 0 || digits > 15 || i != s.n)
		return -EINVAL;
	*out = (double)mant / (double)scale;
	return 0;
}

/* "avg10=0.00 avg60=0.00 avg300=0.00 total=0" */
static int parse_psi_line(struct span s, size_t line, double avg[3], uint64_t *total, char *err, size_t errlen)
{
	static const char *const keys[] = { "avg10", "avg60", "avg300", "total" };
	unsigned seen = 0;

	for (struct span w = next_word(&s); w.n; w = next_word(&s)) {
		const char *eq = memchr(w.p, '=', w.n);
		struct span key, val;
		size_t k;

		if (!eq)
			return scan_fail(err, errlen, line, "expected key=value, got '%.*s'", ex(w), w.p);
		key = (struct span){ w.p, (size_t)(eq - w.p) };
		val = (struct span){ eq + 1, w.n - key.n - 1 };
		for (k = 0; k < MZ_ARRAY_SIZE(keys) && !span_is(key, keys[k]); k++)
			;
		if (k == MZ_ARRAY_SIZE(keys))
			continue; /* a field added by a later kernel */
		if (seen & (1u << k))
			return scan_fail(err, errlen, line, "'%s' appears twice", keys[k]);
		seen |= 1u << k;
		if (k < 3 ? span_decimal(val, &avg[k]) < 0 : span_u64_digits(val, total) < 0)
			return scan_fail(err, errlen, line, "%s: '%.*s' is not a number", keys[k], ex(val), val.p);
	}
	for (size_t k = 0; k < MZ_ARRAY_SIZE(keys); k++)
		if (!(seen & (1u << k)))
			return scan_fail(err, errlen, line, "'%s' is missing", keys[k]);
	return 0;
}

int mz_psi_parse(const char *text, struct mz_psi *psi, char *err, size_t errlen)
{
	struct lines it = { .p = text };
	bool has_some = false;
	struct span s;

	memset(psi, 0, sizeof(*psi));
	if (err && errlen)
		err[0] = '\0';
	while (next_line(&it, &s)) {
		struct span kind = next_word(&s);
		double avg[3] = { 0, 0, 0 };
		uint64_t total = 0;
		bool *seen;
		int r;

		if (kind.n == 0)
			continue;
		if (span_is(kind, "some"))
			seen = &has_some;
		else if (span_is(kind, "full"))
			seen = &psi->has_full;
		else
			return scan_fail(err, errlen, it.no, "expected 'some' or 'full', got '%.*s'", ex(kind), kind.p);
		if (*seen) {
			memset(psi, 0, sizeof(*psi));
			return scan_fail(err, errlen, it.no, "second '%.*s' line", ex(kind), kind.p);
		}
		r = parse_psi_line(s, it.no, avg, &total, err, errlen);
		if (r < 0) {
			memset(psi, 0, sizeof(*psi));
			return r;
		}
		*seen = true;
		if (seen == &has_some) {
			psi->some_avg10 = avg[0], psi->some_avg60 = avg[1], psi->some_avg300 = avg[2];
			psi->some_total_us = total;
		} else {
			psi->full_avg10 = avg[0], psi->full_avg60 = avg[1], psi->full_avg300 = avg[2];
			psi->full_total_us = total;
		}
	}
	if (!has_some) {
		memset(psi, 0, sizeof(*psi));
		if (err && errlen)
			snprintf(err, errlen, "no 'some' line");
		return it.no ? -EINVAL : -ENODATA;
	}
	psi->available = true;
	return 0;
}

int mz_psi_read(struct mz_psi *psi, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], why[200], msg[MZ_PATH_MAX + 200];
	char *text;
	int r;

	memset(psi, 0, sizeof(*psi));
	r = mz_read_proc_file("/proc/pressure/memory", path, &text, msg, sizeof(msg));
	/* no PSI in the kernel (ENOENT), or booted with psi=0 (EOPNOTSUPP on read); err is left alone */
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	r = mz_psi_parse(text, psi, why, sizeof(why));
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}
