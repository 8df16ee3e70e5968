/* zoneinfo.c - /proc/zoneinfo, every layout from 2.6.16 to 6.18
 *
 * The file is a list of "Node N, zone NAME" sections. What a section holds changed over the years:
 *  - 2.6.x: "pages free", min/low/high, active/inactive, "scanned", spanned, present, protection,
 *    per-cpu pagesets ("cpu: 0 pcp: 0"), trailers (all_unreclaimable, prev_priority, start_pfn);
 *  - 2.6.3x-4.7: vm stats ("    nr_free_pages 38277") under every zone, protection after them;
 *  - 3.8+: "managed"; 4.8+: a "per-node stats" block under the node's first populated zone
 *    (4.8-4.12 indent one of its lines with 3 spaces); 4.13+: protection right after managed;
 *  - RHEL 8 (4.18): a per-node stat line whose name is suppressed ("                   176096");
 *  - 5.0+: "boost", 5.x "cma", 6.x "promo"; empty zones stop after protection.
 * The parser therefore knows only the lines memzone needs, accepts them in any order and at any
 * indent, and skips every other line of a section. The lines it knows must be well formed: a bad
 * number is an error naming the line, never a zero.
 */
#include "zoneinfo.h"
#include "textscan.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Node ids above this are garbage (MAX_NUMNODES is at most 1024); same bound as snapshot.c. */
#define NODE_ID_MAX 65535

/* The lines every kernel since 2.6.16 prints for a zone; a section without one is truncated. */
enum {
	SEEN_FREE = 1 << 0,
	SEEN_MIN = 1 << 1,
	SEEN_LOW = 1 << 2,
	SEEN_HIGH = 1 << 3,
	SEEN_SPANNED = 1 << 4,
	SEEN_PRESENT = 1 << 5,
	SEEN_MANAGED = 1 << 6,
	SEEN_CMA = 1 << 7,
	SEEN_PROTECTION = 1 << 8,
	SEEN_FREE_CMA = 1 << 9,
	SEEN_INACTIVE_FILE = 1 << 10,
	SEEN_ACTIVE_FILE = 1 << 11,
	SEEN_REQUIRED = SEEN_FREE | SEEN_MIN | SEEN_LOW | SEEN_HIGH | SEEN_SPANNED | SEEN_PRESENT,
};

struct parser {
	struct mz_zoneinfo *zi;
	size_t cap;
	size_t *header_line; /* line of each zone's header, for messages */
	unsigned seen;       /* SEEN_* of the current zone */
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, size_t line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = scan_vfail(ps->err, ps->errlen, line, fmt, ap);
	va_end(ap);
	return r;
}

static struct mz_zone_info *cur_zone(struct parser *ps)
{
	return ps->zi->nzones ? &ps->zi->zones[ps->zi->nzones - 1] : NULL;
}

/* "Node 0, zone   Normal" -> a new zone; *rest = what follows the name (TAB-joined excerpts). */
static int parse_header(struct parser *ps, size_t line, struct span s, struct span *rest)
{
	struct mz_zone_info *z;
	struct span w;
	uint64_t node;

	w = next_word(&s); /* "Node" */
	w = next_word(&s); /* "0," */
	if (w.n < 2 || w.p[w.n - 1] != ',' || span_u64((struct span){ w.p, w.n - 1 }, &node) < 0)
		return fail(ps, line, "expected 'Node N, zone NAME', got a bad node number");
	if (node > NODE_ID_MAX)
		return fail(ps, line, "node %" PRIu64 " is out of range (max %d)", node, NODE_ID_MAX);
	w = next_word(&s);
	if (!span_is(w, "zone"))
		return fail(ps, line, "expected 'Node N, zone NAME', 'zone' is missing");
	w = next_word(&s);
	if (w.n == 0)
		return fail(ps, line, "zone name is missing");
	if (w.n >= sizeof(z->name))
		return fail(ps, line, "zone name '%.*s' is longer than %zu characters", (int)(w.n > 32 ? 32 : w.n),
			    w.p, sizeof(z->name) - 1);
	if (ps->zi->nzones == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->zi->zones = mz_xrealloc(ps->zi->zones, ps->cap * sizeof(*ps->zi->zones));
		ps->header_line = mz_xrealloc(ps->header_line, ps->cap * sizeof(*ps->header_line));
	}
	ps->header_line[ps->zi->nzones] = line;
	z = &ps->zi->zones[ps->zi->nzones++];
	memset(z, 0, sizeof(*z));
	z->node = (int)node;
	memcpy(z->name, w.p, w.n);
	z->name[w.n] = '\0';
	z->type = mz_zone_from_name(z->name);
	ps->seen = 0;
	*rest = skip_blanks(s);
	return 0;
}

/* "(0, 3019, 5323, 5323, 5323)" */
static int parse_protection(struct parser *ps, size_t line, struct span s, struct mz_zone_info *z)
{
	s = skip_blanks(s);
	while (s.n > 0 && is_blank(s.p[s.n - 1]))
		s.n--;
	if (s.n < 2 || s.p[0] != '(' || s.p[s.n - 1] != ')')
		return fail(ps, line, "protection: expected '(N, N, ...)'");
	s.p++;
	s.n -= 2;
	z->nprotection = 0;
	while (s.n > 0) {
		struct span num;
		size_t i = 0;

		s = skip_blanks(s);
		while (i < s.n && s.p[i] != ',')
			i++;
		num = (struct span){ s.p, i };
		while (num.n > 0 && is_blank(num.p[num.n - 1]))
			num.n--;
		if (z->nprotection == MZ_ZONE_MAX_PROTECTION)
			return fail(ps, line, "protection: more than %d entries", MZ_ZONE_MAX_PROTECTION);
		if (span_u64(num, &z->protection[z->nprotection]) < 0)
			return fail(ps, line, "protection: '%.*s' is not a number", (int)(num.n > 32 ? 32 : num.n),
				    num.p);
		z->nprotection++;
		s.p += i;
		s.n -= i;
		if (s.n > 0) { /* the comma */
			s.p++;
			s.n--;
			if (skip_blanks(s).n == 0)
				return fail(ps, line, "protection: nothing after the last ','");
		}
	}
	return 0;
}

/* One line inside a section. Only the lines memzone uses are looked at; they must hold exactly one
 * number. Everything else (vm stats, pagesets, trailers, unnamed values) is skipped. */
static int parse_stat(struct parser *ps, size_t line, struct span s)
{
	static const struct {
		const char *key;
		unsigned bit;
		size_t off;
	} fields[] = {
		{ "min", SEEN_MIN, offsetof(struct mz_zone_info, min) },
		{ "low", SEEN_LOW, offsetof(struct mz_zone_info, low) },
		{ "high", SEEN_HIGH, offsetof(struct mz_zone_info, high) },
		{ "spanned", SEEN_SPANNED, offsetof(struct mz_zone_info, spanned) },
		{ "present", SEEN_PRESENT, offsetof(struct mz_zone_info, present) },
		{ "managed", SEEN_MANAGED, offsetof(struct mz_zone_info, managed) },
		{ "cma", SEEN_CMA, offsetof(struct mz_zone_info, cma) },
		/* zone vm stats (per-node stats such as nr_inactive_file are not per zone: not read) */
		{ "nr_free_cma", SEEN_FREE_CMA, offsetof(struct mz_zone_info, free_cma) },
		{ "nr_zone_inactive_file", SEEN_INACTIVE_FILE, offsetof(struct mz_zone_info, inactive_file) },
		{ "nr_zone_active_file", SEEN_ACTIVE_FILE, offsetof(struct mz_zone_info, active_file) },
	};
	struct mz_zone_info *z = cur_zone(ps);
	struct span key = next_word(&s), num;
	const char *name = NULL;
	unsigned bit = 0;
	uint64_t *dst = NULL;
	int r;

	if (span_is(key, "protection:")) {
		if (ps->seen & SEEN_PROTECTION)
			return fail(ps, line, "second 'protection' line in node %d zone %s", z->node, z->name);
		ps->seen |= SEEN_PROTECTION;
		return parse_protection(ps, line, s, z);
	}
	if (span_is(key, "pages")) {
		struct span w = next_word(&s);

		if (!span_is(w, "free"))
			return 0;
		name = "pages free";
		bit = SEEN_FREE;
		dst = &z->free;
	}
	for (size_t i = 0; !dst && i < MZ_ARRAY_SIZE(fields); i++)
		if (span_is(key, fields[i].key)) {
			name = fields[i].key;
			bit = fields[i].bit;
			dst = (uint64_t *)((char *)z + fields[i].off);
		}
	if (!dst)
		return 0;
	if (ps->seen & bit)
		return fail(ps, line, "second '%s' line in node %d zone %s", name, z->node, z->name);
	num = next_word(&s);
	if (num.n == 0)
		return fail(ps, line, "'%s' has no value", name);
	r = span_u64(num, dst);
	if (r == -ERANGE)
		return fail(ps, line, "'%s' value '%.*s' does not fit in 64 bits", name, (int)(num.n > 32 ? 32 : num.n),
			    num.p);
	if (r < 0 || skip_blanks(s).n > 0)
		return fail(ps, line, "'%s' value '%.*s' is not a number", name,
			    (int)(num.n + s.n > 32 ? 32 : num.n + s.n), num.p);
	ps->seen |= bit;
	return 0;
}

/* Close the current section: required lines present, managed defaulted for pre-3.8 kernels. */
static int finish_zone(struct parser *ps)
{
	static const struct {
		unsigned bit;
		const char *name;
	} required[] = {
		{ SEEN_FREE, "pages free" }, { SEEN_MIN, "min" },         { SEEN_LOW, "low" },
		{ SEEN_HIGH, "high" },       { SEEN_SPANNED, "spanned" }, { SEEN_PRESENT, "present" },
	};
	struct mz_zone_info *z = cur_zone(ps);
	size_t line;

	if (!z)
		return 0;
	line = ps->header_line[ps->zi->nzones - 1];
	for (size_t i = 0; i < MZ_ARRAY_SIZE(required); i++)
		if (!(ps->seen & required[i].bit))
			return fail(ps, line, "node %d zone %s has no '%s' line (truncated file?)", z->node, z->name,
				    required[i].name);
	z->has_managed = ps->seen & SEEN_MANAGED;
	z->has_cma = ps->seen & SEEN_CMA;
	if (!z->has_managed)
		z->managed = z->present; /* before 3.8 the kernel did not tell; present is the best bound */
	return 0;
}

static int cmp_zone_idx(const void *a, const void *b, void *arg)
{
	const struct mz_zone_info *zones = arg;
	const struct mz_zone_info *x = &zones[*(const size_t *)a], *y = &zones[*(const size_t *)b];
	int c;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* A node listing the same zone twice is not a zoneinfo file (concatenated captures?): refuse it
 * rather than guess which copy is current. Sorting keeps this O(n log n) for fuzzed input. */
static int check_duplicates(struct parser *ps)
{
	size_t n = ps->zi->nzones;
	size_t *idx = mz_xmalloc(n * sizeof(*idx));
	int r = 0;

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_zone_idx, ps->zi->zones);
	for (size_t i = 1; i < n; i++) {
		const struct mz_zone_info *a = &ps->zi->zones[idx[i - 1]], *b = &ps->zi->zones[idx[i]];

		if (a->node == b->node && strcmp(a->name, b->name) == 0) {
			r = fail(ps, ps->header_line[idx[i]], "node %d zone %s is listed twice (first at line %zu)",
				 b->node, b->name, ps->header_line[idx[i - 1]]);
			break;
		}
	}
	free(idx);
	return r;
}

int mz_zoneinfo_parse(const char *text, struct mz_zoneinfo *zi, char *err, size_t errlen)
{
	struct parser ps = { .zi = zi, .err = err, .errlen = errlen };
	const char *p = text;
	size_t line = 0;
	int r = 0;

	zi->zones = NULL;
	zi->nzones = 0;
	if (err && errlen)
		err[0] = '\0';
	while (*p && r == 0) {
		const char *nl = strchr(p, '\n');
		struct span s = { p, nl ? (size_t)(nl - p) : strlen(p) };

		line++;
		p = nl ? nl + 1 : p + s.n;
		if (skip_blanks(s).n == 0)
			continue;
		if (s.n >= 5 && memcmp(s.p, "Node ", 5) == 0) {
			struct span rest;

			r = finish_zone(&ps);
			if (r == 0)
				r = parse_header(&ps, line, s, &rest);
			/* `grep -E "Node|spanned" | paste - -` joins a stat line to the header with a TAB */
			if (r == 0 && rest.n > 0)
				r = parse_stat(&ps, line, rest);
		} else if (!cur_zone(&ps)) {
			r = fail(&ps, line, "expected 'Node N, zone NAME' before '%.*s'", (int)(s.n > 40 ? 40 : s.n), s.p);
		} else {
			r = parse_stat(&ps, line, s);
		}
	}
	if (r == 0)
		r = finish_zone(&ps);
	if (r == 0 && zi->nzones == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no 'Node N, zone NAME' section (empty file?)");
		r = -ENODATA;
	}
	if (r == 0)
		r = check_duplicates(&ps);
	free(ps.header_line);
	if (r < 0)
		mz_zoneinfo_free(zi);
	return r;
}

int mz_zoneinfo_read(struct mz_zoneinfo *zi, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], why[200];
	char *text;
	int r;

	zi->zones = NULL;
	zi->nzones = 0;
	r = mz_read_proc_file("/proc/zoneinfo", path, &text, err, errlen);
	if (r < 0)
		return r;
	r = mz_zoneinfo_parse(text, zi, why, sizeof(why));
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

void mz_zoneinfo_free(struct mz_zoneinfo *zi)
{
	free(zi->zones);
	zi->zones = NULL;
	zi->nzones = 0;
}

const struct mz_zone_info *mz_zoneinfo_find(const struct mz_zoneinfo *zi, int node, enum mz_zone type)
{
	for (size_t i = 0; i < zi->nzones; i++)
		if (zi->zones[i].node == node && zi->zones[i].type == type)
			return &zi->zones[i];
	return NULL;
}
