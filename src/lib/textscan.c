/* textscan.c - spans of text and the word/number scanning the readers share (textscan.h) */
#include "textscan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct span skip_blanks(struct span s)
{
	while (s.n > 0 && is_blank(*s.p)) {
		s.p++;
		s.n--;
	}
	return s;
}

struct span next_word(struct span *s)
{
	struct span w;

	*s = skip_blanks(*s);
	w.p = s->p;
	w.n = 0;
	while (w.n < s->n && !is_blank(w.p[w.n]))
		w.n++;
	s->p += w.n;
	s->n -= w.n;
	return w;
}

bool span_is(struct span s, const char *word)
{
	size_t n = strlen(word);

	return s.n == n && memcmp(s.p, word, n) == 0;
}

bool span_all_digits(struct span s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_digit(s.p[i]))
			return false;
	return true;
}

int span_u64(struct span s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d;

		if (!is_digit(s.p[i]))
			return -EINVAL;
		d = (unsigned)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int span_u64_digits(struct span s, uint64_t *out)
{
	return span_all_digits(s) ? span_u64(s, out) : -EINVAL;
}

int scan_vfail(char *err, size_t errlen, size_t line, const char *fmt, va_list ap)
{
	char what[160];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (err && errlen)
		snprintf(err, errlen, "line %zu: %s", line, what);
	return -EINVAL;
}

int scan_fail(char *err, size_t errlen, size_t line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = scan_vfail(err, errlen, line, fmt, ap);
	va_end(ap);
	return r;
}
