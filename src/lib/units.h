/* units.h - sizes, percents and durations as written in memzone.conf, and human output */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "4096", "512K", "512M", "4G", "1T", "1.5G", "64MiB", "64MB" (all binary: K=1024).
 * Returns 0 or -EINVAL / -ERANGE. */
int mz_parse_size(const char *s, uint64_t *bytes);
/* "10", "10%", "12.5%" -> value in percent (double, 0..max). */
int mz_parse_percent(const char *s, double max, double *pct);
/* "10s", "500ms", "2m", "1h", "250us"? no: s, ms, m, h; bare number = seconds. -> milliseconds */
int mz_parse_duration(const char *s, uint64_t *ms);
/* yes/no/true/false/on/off/1/0 */
int mz_parse_bool(const char *s, bool *out);

/* "128M", "1.5G", "0B"; exact multiples print without decimals. buf >= 16 bytes. */
const char *mz_format_size(uint64_t bytes, char *buf, size_t len);
/* "500ms", "10s", "2m", "1h" (exact when possible). */
const char *mz_format_duration(uint64_t ms, char *buf, size_t len);
