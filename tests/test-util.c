/* test-util.c - paths under a root, strict parsing, block names, units, JSON escaping */
#include "json.h"
#include "tap.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_paths(void)
{
	char buf[256];

	mz_root_set(NULL);
	ok(mz_root_is_real(), "no root prefix means the real root");
	mz_root_set("/");
	ok(mz_root_is_real(), "\"/\" means the real root");
	is_int(mz_path(buf, sizeof(buf), "/proc/%s", "zoneinfo"), 0, "path under real root");
	is_str(buf, "/proc/zoneinfo", "real root path unchanged");
	mz_root_set("/tmp/tree///");
	is_int(mz_path(buf, sizeof(buf), "/sys/devices/system/memory/memory%d/state", 5), 0, "path under a root");
	is_str(buf, "/tmp/tree/sys/devices/system/memory/memory5/state", "root prefix applied, trailing slashes dropped");
	is_int(mz_path(buf, sizeof(buf), "/sys/%s/state", "../../etc"), -EINVAL, "'..' component refused");
	is_int(mz_path(buf, sizeof(buf), "/sys/%s", ".."), -EINVAL, "trailing '..' refused");
	is_int(mz_path(buf, sizeof(buf), "%s", "relative"), -EINVAL, "relative path refused");
	is_int(mz_path(buf, 10, "/proc/zoneinfo"), -ENAMETOOLONG, "too long for the buffer");
	mz_root_set(NULL);
}

static void test_numbers(void)
{
	uint64_t v;
	int i;

	is_int(mz_parse_u64("8000000", 16, &v), 0, "hex block size");
	is_u64(v, 0x8000000, "hex value 128 MiB");
	is_int(mz_parse_u64("0x80000000\n", 16, &v), 0, "hex with 0x and newline");
	is_u64(v, 0x80000000ull, "hex value 2 GiB");
	is_int(mz_parse_u64("  42 ", 10, &v), 0, "blanks around a decimal");
	is_int(mz_parse_u64("-1", 10, &v), -EINVAL, "negative refused");
	is_int(mz_parse_u64("", 10, &v), -EINVAL, "empty refused");
	is_int(mz_parse_u64("12x", 10, &v), -EINVAL, "trailing garbage refused");
	is_int(mz_parse_u64("99999999999999999999999", 10, &v), -ERANGE, "overflow refused");
	is_int(mz_parse_int("-3", &i), 0, "signed int");
	is_int(i, -3, "signed value");
}

static void test_block_names(void)
{
	unsigned long id = 0;

	ok(mz_block_name_valid("memory0", &id) && id == 0, "memory0 valid");
	ok(mz_block_name_valid("memory131071", &id) && id == 131071, "memory131071 valid");
	ok(!mz_block_name_valid("memory", NULL), "no digits refused");
	ok(!mz_block_name_valid("memory-1", NULL), "sign refused");
	ok(!mz_block_name_valid("memory032", NULL), "leading zero refused (not the kernel's name of memory32)");
	ok(!mz_block_name_valid("memory00", NULL), "memory00 refused");
	ok(!mz_block_name_valid("memory1/../../etc", NULL), "path refused");
	ok(!mz_block_name_valid("../../etc/passwd", NULL), "traversal refused");
	ok(!mz_block_name_valid("memory 1", NULL), "blank refused");
	ok(!mz_block_name_valid("memory99999999999", NULL), "more than 10 digits refused");
	ok(!mz_block_name_valid("memory4294967296", NULL), "above 32 bits refused");
	ok(!mz_block_name_valid("node0", NULL), "other device refused");
	ok(!mz_block_name_valid(NULL, NULL), "NULL refused");
}

static void test_units(void)
{
	uint64_t v;
	double p;
	char buf[32];

	is_int(mz_parse_size("512M", &v), 0, "512M");
	is_u64(v, 512ull << 20, "512M in bytes");
	is_int(mz_parse_size("4G", &v), 0, "4G");
	is_u64(v, 4ull << 30, "4G in bytes");
	is_int(mz_parse_size("1.5G", &v), 0, "1.5G");
	is_u64(v, 3ull << 29, "1.5G in bytes");
	is_int(mz_parse_size("64MiB", &v), 0, "64MiB");
	is_int(mz_parse_size("4096", &v), 0, "bare bytes");
	is_u64(v, 4096, "4096 bytes");
	is_int(mz_parse_size("4X", &v), -EINVAL, "unknown unit refused");
	is_int(mz_parse_size("-4G", &v), -EINVAL, "negative size refused");
	is_int(mz_parse_size("0x10", &v), -EINVAL, "hex size refused");
	is_int(mz_parse_size("1e3", &v), -EINVAL, "exponent refused");
	is_int(mz_parse_size("0.3", &v), -EINVAL, "fraction of a byte refused");
	is_int(mz_parse_size("99999999P", &v), -ERANGE, "overflowing size refused");
	is_int(mz_parse_percent("12.5%", 100, &p), 0, "12.5%% parses");
	ok(p == 12.5, "12.5 percent value");
	is_int(mz_parse_percent("301", 100000, &p), 0, "bare percent");
	is_int(mz_parse_percent("101%", 100, &p), -ERANGE, "percent above max refused");
	is_int(mz_parse_percent("5%%", 100, &p), -EINVAL, "double %% refused");
	is_int(mz_parse_duration("10s", &v), 0, "10s");
	is_u64(v, 10000, "10s in ms");
	is_int(mz_parse_duration("500ms", &v), 0, "500ms");
	is_u64(v, 500, "500ms in ms");
	is_int(mz_parse_duration("2m", &v), 0, "2m");
	is_u64(v, 120000, "2m in ms");
	is_int(mz_parse_duration("3", &v), 0, "bare seconds");
	is_u64(v, 3000, "3 = 3 s");
	is_int(mz_parse_duration("1.5s", &v), 0, "1.5s");
	is_u64(v, 1500, "1.5 s in ms");
	is_int(mz_parse_duration("10 parsecs", &v), -EINVAL, "unknown unit refused");
	is_int(mz_parse_duration("0.0001s", &v), -EINVAL, "below a millisecond refused");
	is_str(mz_format_size(128ull << 20, buf, sizeof(buf)), "128M", "format 128M");
	is_str(mz_format_size(3ull << 29, buf, sizeof(buf)), "1.5G", "format 1.5G");
	is_str(mz_format_size(512, buf, sizeof(buf)), "512B", "format bytes");
	is_str(mz_format_duration(500, buf, sizeof(buf)), "500ms", "format 500ms");
	is_str(mz_format_duration(30000, buf, sizeof(buf)), "30s", "format 30s");
	is_str(mz_format_duration(1800000, buf, sizeof(buf)), "30m", "format 30m");
}

static void test_json(void)
{
	struct mz_json j;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	mz_json_init(&j, f, false);
	mz_json_obj_begin(&j, NULL);
	mz_json_str(&j, "a", "q\"\\\n\x01");
	mz_json_arr_begin(&j, "b");
	mz_json_u64(&j, NULL, 1);
	mz_json_i64(&j, NULL, -2);
	mz_json_arr_end(&j);
	mz_json_obj_begin(&j, "c");
	mz_json_obj_end(&j);
	mz_json_bool(&j, "d", true);
	mz_json_double(&j, "e", 0.0 / 0.0);
	mz_json_obj_end(&j);
	fclose(f);
	is_str(text, "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"b\":[1,-2],\"c\":{},\"d\":true,\"e\":null}",
	       "compact JSON with escapes, nesting, NaN as null");
	free(text);
}

/* The one reader of small files: padding and whitespace go, content that does not fit is an error. */
static void test_read_attr(void)
{
	char dir[] = "/tmp/memzone-test-util-XXXXXX", path[MZ_PATH_MAX], buf[8];
	static const struct { const char *name, *data; size_t size; int r; const char *want; } cases[] = {
		{ "word", "online\n", 7, 0, "online" },
		{ "exact", "1234567\n\n", 9, 0, "1234567" },      /* fills buf, the rest is blank */
		{ "padded", "Normal\0\0\0\0\0\0\0\0\0", 15, 0, "Normal" }, /* sysfs copy at stat size */
		{ "long", "12345678\n", 9, -ENOSPC, NULL },       /* one byte too long: never cut */
		{ "longer", "online_movable Normal DMA32\n", 28, -ENOSPC, NULL },
		{ "lines", "a\nb\n", 4, 0, "a\nb" },
		{ "empty", "", 0, 0, "" },
	};
	int dfd;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	for (size_t i = 0; i < MZ_ARRAY_SIZE(cases); i++) {
		FILE *f;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].name);
		f = fopen(path, "w");
		if (f) {
			fwrite(cases[i].data, 1, cases[i].size, f);
			fclose(f);
		}
		memset(buf, 'x', sizeof(buf));
		r = mz_read_attr_at(dfd, cases[i].name, buf, sizeof(buf));
		is_int(r, cases[i].r, "mz_read_attr_at %s: %d", cases[i].name, cases[i].r);
		if (cases[i].want)
			is_str(buf, cases[i].want, "... reads '%s'", cases[i].want);
	}
	snprintf(path, sizeof(path), "%s/lines", dir);
	ok(mz_read_line(path, buf, sizeof(buf)) == 0 && strcmp(buf, "a") == 0, "mz_read_line: the first line");
	snprintf(path, sizeof(path), "%s/long", dir);
	is_int(mz_read_line(path, buf, sizeof(buf)), -ENOSPC, "mz_read_line: too long is -ENOSPC");
	is_int(mz_read_attr_at(dfd, "absent", buf, sizeof(buf)), -ENOENT, "absent file: -ENOENT");
	for (size_t i = 0; i < MZ_ARRAY_SIZE(cases); i++)
		unlinkat(dfd, cases[i].name, 0);
	close(dfd);
	rmdir(dir);
}

int main(void)
{
	test_paths();
	test_numbers();
	test_block_names();
	test_units();
	test_json();
	test_read_attr();
	return tap_done();
}
