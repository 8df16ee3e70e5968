/* units.c - sizes, percents and durations as written in memzone.conf, and human output */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parse a non-negative decimal with an optional fraction; *end points after it. */
static int parse_decimal(const char *s, double *v, const char **end)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &e);
	if (errno == ERANGE || !isfinite(*v))
		return -ERANGE;
	/* strtod also takes hex, exponents, "inf": only plain digits with one optional '.' are allowed */
	for (const char *p = s; p < e; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	*end = e;
	return 0;
}

static bool only_blanks(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* A decimal, an optional unit touching it ("512M"; "1.5 s" is refused) and nothing after but
 * blanks. The unit goes to suffix as written; the caller looks it up. */
static int parse_with_suffix(const char *s, double *v, char *suffix, size_t len)
{
	const char *end;
	size_t n = 0;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_decimal(s, v, &end);
	if (r < 0)
		return r;
	while (*end && !isspace((unsigned char)*end)) {
		if (n + 1 >= len)
			return -EINVAL;
		suffix[n++] = *end++;
	}
	suffix[n] = '\0';
	return only_blanks(end) ? 0 : -EINVAL;
}

int mz_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
		{ "p", 50 }, { "pb", 50 }, { "pib", 50 },
	};
	char suffix[8];
	double v;
	int r = parse_with_suffix(s, &v, suffix, sizeof(suffix));

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(suffix, units[i].suffix) != 0)
			continue;
		v = v * (double)(1ull << units[i].shift);
		if (v >= 18446744073709551615.0)
			return -ERANGE;
		if (v != floor(v))
			return -EINVAL; /* fractions of a byte */
		*bytes = (uint64_t)v;
		return 0;
	}
	return -EINVAL;
}

int mz_parse_percent(const char *s, double max, double *pct)
{
	const char *end;
	double v;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_decimal(s, &v, &end);
	if (r < 0)
		return r;
	while (isspace((unsigned char)*end))
		end++;
	if (*end == '%')
		end++;
	if (!only_blanks(end))
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*pct = v;
	return 0;
}

int mz_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{ "", 1000 }, { "s", 1000 }, { "sec", 1000 }, { "ms", 1 }, { "msec", 1 },
		{ "m", 60000 }, { "min", 60000 }, { "h", 3600000 },
	};
	char suffix[8];
	double v;
	int r = parse_with_suffix(s, &v, suffix, sizeof(suffix));

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(suffix, units[i].suffix) != 0)
			continue;
		v *= units[i].mult;
		if (v > 1e15)
			return -ERANGE;
		if (v != floor(v))
			return -EINVAL; /* below a millisecond */
		*ms = (uint64_t)v;
		return 0;
	}
	return -EINVAL;
}

int mz_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

const char *mz_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024.0 && u < sizeof(units) - 2) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (bytes % (1ull << (10 * u)) == 0)
		snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> (10 * u)), units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

const char *mz_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}
