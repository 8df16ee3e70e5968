/* textscan.h - spans of text (not NUL-terminated) and the word/number scanning the readers share */
#ifndef MEMZONE_TEXTSCAN_H
#define MEMZONE_TEXTSCAN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the input: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

bool is_blank(char c);
bool is_digit(char c);
struct span skip_blanks(struct span s);
/* Split off the first whitespace-separated word of *s. */
struct span next_word(struct span *s);
bool span_is(struct span s, const char *word);
/* Non-empty and decimal digits only. */
bool span_all_digits(struct span s);
/* Decimal digits only, no sign, no overflow: 0, -EINVAL at the first non-digit (or when empty), or
 * -ERANGE when the digits before it overflow. */
int span_u64(struct span s, uint64_t *out);
/* The same, but any non-digit anywhere is -EINVAL (before an overflow is looked at). */
int span_u64_digits(struct span s, uint64_t *out);

/* Write "line LINE: <printf(fmt, ...)>" (the message part cut at 159 bytes) to err when err and
 * errlen are set; returns -EINVAL. */
int scan_fail(char *err, size_t errlen, size_t line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int scan_vfail(char *err, size_t errlen, size_t line, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif
