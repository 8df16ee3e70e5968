/* json.c - tiny streaming JSON writer */
#include "json.h"

#include <math.h>
#include <string.h>

void mz_json_init(struct mz_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

void mz_json_escape(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void indent(struct mz_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void prefix(struct mz_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth > 0)
		indent(j);
	if (key) {
		mz_json_escape(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_scope(struct mz_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < MZ_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_scope(struct mz_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void mz_json_obj_begin(struct mz_json *j, const char *key) { open_scope(j, key, '{'); }
void mz_json_obj_end(struct mz_json *j) { close_scope(j, '}'); }
void mz_json_arr_begin(struct mz_json *j, const char *key) { open_scope(j, key, '['); }
void mz_json_arr_end(struct mz_json *j) { close_scope(j, ']'); }

void mz_json_str(struct mz_json *j, const char *key, const char *val)
{
	prefix(j, key);
	if (val)
		mz_json_escape(j->f, val);
	else
		fputs("null", j->f);
}

void mz_json_u64(struct mz_json *j, const char *key, uint64_t val)
{
	prefix(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void mz_json_i64(struct mz_json *j, const char *key, int64_t val)
{
	prefix(j, key);
	fprintf(j->f, "%lld", (long long)val);
}

void mz_json_double(struct mz_json *j, const char *key, double val)
{
	prefix(j, key);
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void mz_json_bool(struct mz_json *j, const char *key, bool val)
{
	prefix(j, key);
	fputs(val ? "true" : "false", j->f);
}

void mz_json_null(struct mz_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void mz_json_finish(struct mz_json *j) { fputc('\n', j->f); }
