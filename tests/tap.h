/* tap.h - minimal TAP producer for C unit tests (automake's tap-driver counts every point) */
#pragma once
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)
#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, __VA_ARGS__))                                                    \
			printf("#   got %lld, want %lld (%s:%d)\n", g_, w_, __FILE__, __LINE__);     \
	} while (0)
#define is_u64(got, want, ...)                                                                     \
	do {                                                                                       \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                              \
		if (!ok(g_ == w_, __VA_ARGS__))                                                    \
			printf("#   got %" PRIu64 ", want %" PRIu64 " (%s:%d)\n", g_, w_, __FILE__, __LINE__); \
	} while (0)
#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                             \
			printf("#   got '%s', want '%s' (%s:%d)\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)", \
			       __FILE__, __LINE__);                                                \
	} while (0)
#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

/* Print the plan at the end (TAP allows it) and return the exit code. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
