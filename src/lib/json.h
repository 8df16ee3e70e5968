/* json.h - tiny streaming JSON writer: stable key order is the caller's order */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MZ_JSON_MAX_DEPTH 32

struct mz_json {
	FILE *f;
	int depth;
	bool pretty;
	bool first[MZ_JSON_MAX_DEPTH];
};

void mz_json_init(struct mz_json *j, FILE *f, bool pretty);
/* key is NULL inside arrays and for the top-level value */
void mz_json_obj_begin(struct mz_json *j, const char *key);
void mz_json_obj_end(struct mz_json *j);
void mz_json_arr_begin(struct mz_json *j, const char *key);
void mz_json_arr_end(struct mz_json *j);
void mz_json_str(struct mz_json *j, const char *key, const char *val); /* val NULL -> null */
void mz_json_u64(struct mz_json *j, const char *key, uint64_t val);
void mz_json_i64(struct mz_json *j, const char *key, int64_t val);
void mz_json_double(struct mz_json *j, const char *key, double val); /* non-finite -> null */
void mz_json_bool(struct mz_json *j, const char *key, bool val);
void mz_json_null(struct mz_json *j, const char *key);
/* Ends the document with a newline. */
void mz_json_finish(struct mz_json *j);
void mz_json_escape(FILE *f, const char *s);
