/* fuzz.h - shared helpers of the libFuzzer targets (fuzz-*.c) and their replay driver */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a bug in the parser: report it and abort, so libFuzzer saves the input and
 * the replay driver sees a signal. Not assert(): it must also fire in NDEBUG builds. */
#define FUZZ_CHECK(cond, ...)                                                                  \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: invariant '%s' broken: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* The input as the parsers get it from mz_read_file: a NUL-terminated heap string of exactly
 * size + 1 bytes, so ASan catches a read past the terminator. Embedded NULs end the text early,
 * as they do for a sysfs file read at its stat size. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

/* Error buffers are heap blocks of exactly their advertised length (an overflow is an ASan report),
 * pre-filled with non-NUL bytes so a message that is not terminated is noticed. */
#define FUZZ_ERRLEN 160

static inline char *fuzz_errbuf(void)
{
	char *err = malloc(FUZZ_ERRLEN);

	if (!err)
		abort();
	memset(err, 'X', FUZZ_ERRLEN);
	return err;
}

/* Contract of every parser (doc/DESIGN.md): 0 or a negative errno, and on failure a message. */
static inline void fuzz_check_result(const char *what, int r, const char *err)
{
	FUZZ_CHECK(r <= 0, "%s returned %d, want 0 or -errno", what, r);
	if (r == 0)
		return;
	FUZZ_CHECK(memchr(err, '\0', FUZZ_ERRLEN) != NULL, "%s failed (%d) without a NUL-terminated message", what, r);
	FUZZ_CHECK(err[0] != '\0', "%s failed (%d) with an empty message", what, r);
}

/* true when s has a NUL within its first len bytes (fixed-size name fields) */
static inline bool fuzz_terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/* Lines of text containing needle (NULL: lines with anything but blanks): an upper bound for the
 * entries a line-oriented parser can return. */
static inline size_t fuzz_count_lines(const char *text, const char *needle)
{
	size_t count = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		bool hit = false;

		if (needle) {
			for (size_t i = 0; !hit && i + strlen(needle) <= len; i++)
				hit = memcmp(text + i, needle, strlen(needle)) == 0;
		} else {
			for (size_t i = 0; !hit && i < len; i++)
				hit = !strchr(" \t\r\v\f", text[i]);
		}
		count += hit;
		text += len + (nl != NULL);
	}
	return count;
}

/* Parsers may log (config warnings); the fuzzer's output is for sanitizer reports only. */
static inline void fuzz_quiet(void)
{
	mz_log_set_max_priority(-1);
}
