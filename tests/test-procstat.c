/* test-procstat.c - meminfo, vmstat, node meminfo/vmstat and PSI parsers: real captures and edge cases */
#include "procstat.h"
#include "tap.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixtures[1024];

typedef int kv_parser(const char *text, struct mz_kvtab *t, char *err, size_t errlen);

static bool parse_file(const char *dir, const char *file, kv_parser *parse, struct mz_kvtab *t)
{
	char path[MZ_PATH_MAX], err[256] = "";
	char *text = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s/%s", fixtures, dir, file);
	r = mz_read_file(path, &text, NULL);
	if (r == 0)
		r = parse(text, t, err, sizeof(err));
	free(text);
	if (!ok(r == 0, "%s/%s parses", dir, file))
		diag("%d: %s", r, err);
	return r == 0;
}

static uint64_t get(const struct mz_kvtab *t, const char *key)
{
	uint64_t v = UINT64_MAX;

	if (!mz_kvtab_get(t, key, &v))
		diag("'%s' not found", key);
	return v;
}

/* meminfo*, nodeN-meminfo: MemTotal present; vmstat*, nodeN-vmstat: a counter present */
static bool is_meminfo(const char *f)
{
	return mz_startswith(f, "meminfo") || (mz_startswith(f, "node") && strstr(f, "-meminfo"));
}

static bool is_vmstat(const char *f)
{
	return mz_startswith(f, "vmstat") || (mz_startswith(f, "node") && strstr(f, "-vmstat"));
}

static void test_every_capture(void)
{
	struct dirent **dirs;
	int n, meminfos = 0, vmstats = 0;

	n = scandir(fixtures, &dirs, NULL, alphasort);
	ok(n > 0, "fixture directory readable");
	for (int i = 0; i < n; i++) {
		char path[MZ_PATH_MAX];
		struct dirent **files;
		int m;

		snprintf(path, sizeof(path), "%s/%s", fixtures, dirs[i]->d_name);
		m = dirs[i]->d_name[0] == '.' ? -1 : scandir(path, &files, NULL, alphasort);
		for (int j = 0; j < m; j++) {
			struct mz_kvtab t = { 0 };
			const char *f = files[j]->d_name;
			uint64_t v;

			if (is_meminfo(f)) {
				meminfos++;
				if (parse_file(dirs[i]->d_name, f, mz_meminfo_parse, &t))
					ok(mz_kvtab_get(&t, "MemTotal", &v) && v > 0 && v % 1024 == 0,
					   "%s/%s: MemTotal in bytes", dirs[i]->d_name, f);
			} else if (is_vmstat(f)) {
				vmstats++;
				/* 2.6.16 has no nr_free_pages yet (nr_dirty is as old as vmstat) */
				if (parse_file(dirs[i]->d_name, f, mz_vmstat_parse, &t))
					ok(mz_kvtab_get(&t, "nr_free_pages", &v) || mz_kvtab_get(&t, "nr_dirty", &v),
					   "%s/%s: a counter found", dirs[i]->d_name, f);
			}
			mz_kvtab_free(&t);
			free(files[j]);
		}
		if (m >= 0)
			free(files);
		free(dirs[i]);
	}
	free(dirs);
	is_int(meminfos, 64, "all 64 meminfo captures parsed (/proc and node files)");
	is_int(vmstats, 45, "all 45 vmstat captures parsed");
}

static void test_hand_checked(void)
{
	struct mz_kvtab t = { 0 };

	if (parse_file("firecracker-6.18-x86_64", "meminfo", mz_meminfo_parse, &t)) {
		/* "MemTotal: 24684084 kB" -> 24684084 * 1024 = 25276502016 bytes */
		is_u64(get(&t, "MemTotal"), 25276502016ull, "6.18 MemTotal = 24684084 kB in bytes");
		/* "HugePages_Total: 0" has no unit; "Hugepagesize: 2048 kB" = 2 MiB */
		is_u64(get(&t, "HugePages_Total"), 0, "unit-less value kept raw");
		is_u64(get(&t, "Hugepagesize"), 2u << 20, "Hugepagesize 2048 kB = 2 MiB");
		/* "VmallocTotal: 34359738367 kB" (32 TiB - 1 KiB): 34359738367 * 1024 = 35184372087808 */
		is_u64(get(&t, "VmallocTotal"), 35184372087808ull, "VmallocTotal, 11 digits of kB");
		is_u64(get(&t, "Active(anon)"), 3572ull * 1024, "parenthesised name 'Active(anon)'");
	}
	mz_kvtab_free(&t);

	if (parse_file("firecracker-6.18-x86_64", "node0-meminfo", mz_meminfo_parse, &t)) {
		/* "Node 0 MemTotal: 5466316 kB" stored as MemTotal: 5466316 * 1024 = 5597507584 */
		is_u64(get(&t, "MemTotal"), 5597507584ull, "node 0 prefix stripped, MemTotal in bytes");
		ok(!mz_kvtab_get(&t, "Node", &(uint64_t){ 0 }), "no 'Node' key");
	}
	mz_kvtab_free(&t);

	/* pcp-002, 2 sockets: node 0 67077488 kB, node 1 67108864 kB = exactly 64 GiB */
	if (parse_file("pcp-meminfo-root-002", "node1-meminfo", mz_meminfo_parse, &t))
		is_u64(get(&t, "MemTotal"), 64ull << 30, "pcp-002 node 1 MemTotal = 67108864 kB = 64 GiB");
	mz_kvtab_free(&t);
	if (parse_file("pcp-meminfo-root-002", "node0-meminfo", mz_meminfo_parse, &t))
		is_u64(get(&t, "MemTotal"), 67077488ull * 1024, "pcp-002 node 0 MemTotal");
	mz_kvtab_free(&t);

	/* old ppc node files begin with an empty line */
	if (parse_file("hwloc-256ppc-8n8s4t", "node0-meminfo", mz_meminfo_parse, &t))
		is_u64(get(&t, "MemTotal"), 58458112ull * 1024, "ppc node 0: leading empty line, MemTotal");
	mz_kvtab_free(&t);

	/* sparse node 250 (POWER9 GPU memory, 15 GiB) */
	if (parse_file("hwloc-nvidiagpunumanodes", "node250-meminfo", mz_meminfo_parse, &t))
		is_u64(get(&t, "MemTotal"), 15ull << 30, "node 250: 15728640 kB = 15 GiB");
	mz_kvtab_free(&t);

	if (parse_file("firecracker-6.18-x86_64", "vmstat", mz_vmstat_parse, &t)) {
		is_u64(get(&t, "nr_free_pages"), 1101091, "6.18 vmstat nr_free_pages (raw pages)");
		is_u64(get(&t, "nr_free_pages_blocks"), 973312, "a longer name with the same prefix is its own key");
	}
	mz_kvtab_free(&t);

	/* RHEL 8 node vmstat: 47 lines, line 47 is " 176096" without a name -> 46 entries */
	if (parse_file("pcp-meminfo-root-006", "node0-vmstat", mz_vmstat_parse, &t)) {
		is_int(t.n, 46, "EL8 node vmstat: 47 lines, the nameless one skipped");
		is_u64(get(&t, "nr_free_pages"), 629535, "EL8 node vmstat nr_free_pages");
	}
	mz_kvtab_free(&t);
}

/* NUL padding (sysfs copied at its stat size) reaches the parser as the end of the text. */
static void test_read(void)
{
	char dir[] = "/tmp/test-procstat.XXXXXX", path[MZ_PATH_MAX], src[MZ_PATH_MAX], err[512];
	struct mz_kvtab t = { 0 };
	struct mz_psi psi;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int fd;

	if (!ok(mkdtemp(dir) != NULL, "temporary root"))
		return;
	mz_root_set(dir);
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node0", dir);
	mz_mkdir_p(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/pressure", dir);
	mz_mkdir_p(path, 0755);

	/* copy the 4096-byte file with its NULs */
	snprintf(src, sizeof(src), "%s/pcp-meminfo-root-004/node0-meminfo", fixtures);
	f = fopen(src, "rb");
	if (f) {
		char buf[8192];
		size_t n = fread(buf, 1, sizeof(buf), f);

		fclose(f);
		ok(n == 4096 && memchr(buf, '\0', n), "pcp-004 node0-meminfo is 4096 bytes with NUL padding");
		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node0/meminfo", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ok(fd >= 0 && write(fd, buf, n) == (ssize_t)n, "copied into the root");
		if (fd >= 0)
			close(fd);
	}
	is_int(mz_meminfo_read(0, &t, err, sizeof(err)), 0, "node 0 meminfo read through the root");
	/* "Node 0 MemTotal: 4020980 kB" in the padded file: 4020980 * 1024 = 4117483520 */
	is_u64(get(&t, "MemTotal"), 4117483520ull, "... MemTotal = 4020980 kB * 1024");
	mz_kvtab_free(&t);

	is_int(mz_meminfo_read(-1, &t, err, sizeof(err)), -ENOENT, "no /proc/meminfo: -ENOENT");
	ok(strstr(err, "/proc/meminfo") != NULL, "... naming the file: %s", err);
	is_int(mz_vmstat_read(3, &t, err, sizeof(err)), -ENOENT, "no node3/vmstat: -ENOENT");
	ok(strstr(err, "node3/vmstat") != NULL, "... naming the file: %s", err);
	snprintf(path, sizeof(path), "%s/proc/vmstat", dir);
	f = fopen(path, "w");
	fputs("nr_free_pages 12\nnr_dirty x\n", f);
	fclose(f);
	is_int(mz_vmstat_read(-1, &t, err, sizeof(err)), -EINVAL, "broken /proc/vmstat: -EINVAL");
	ok(strstr(err, "/proc/vmstat: line 2:") != NULL, "... 'FILE: line 2: ...': %s", err);
	unlink(path);

	/* PSI */
	memset(&psi, 0xff, sizeof(psi));
	is_int(mz_psi_read(&psi, err, sizeof(err)), 0, "no /proc/pressure/memory: 0");
	ok(!psi.available && !psi.has_full && psi.some_total_us == 0, "... available = false, zeroed");
	snprintf(path, sizeof(path), "%s/proc/pressure/memory", dir);
	f = fopen(path, "w");
	fputs("some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.75 avg60=0.00 avg300=0.00 total=789\n",
	      f);
	fclose(f);
	is_int(mz_psi_read(&psi, err, sizeof(err)), 0, "PSI read");
	ok(psi.available && psi.has_full && psi.some_avg10 == 1.5 && psi.some_avg60 == 0.25 &&
		   psi.some_total_us == 123456 && psi.full_avg10 == 0.75 && psi.full_total_us == 789,
	   "... some 1.50/0.25/0.00 123456, full 0.75 789");
	f = fopen(path, "w");
	fputs("some avg10=x avg60=0.00 avg300=0.00 total=0\n", f);
	fclose(f);
	is_int(mz_psi_read(&psi, err, sizeof(err)), -EINVAL, "broken PSI file: -EINVAL");
	ok(strstr(err, "pressure/memory: line 1:") && !psi.available, "... naming file and line: %s", err);
	unlink(path);

	/* the mz_read_file result for the padded file, to be sure the NULs were there */
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node0/meminfo", dir);
	ok(mz_read_file(path, &text, &len) == 0 && len < 4096 && len == strlen(text), "padding ends the text");
	free(text);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node0", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/devices/system/node", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/devices/system", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys/devices", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sys", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc/pressure", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/proc", dir);
	rmdir(path);
	ok(rmdir(dir) == 0, "temporary root cleaned up");
	mz_root_set(NULL);
}

static void test_meminfo_edges(void)
{
	struct mz_kvtab t = { 0 };
	char err[256];

	is_int(mz_meminfo_parse("", &t, err, sizeof(err)), -ENODATA, "empty meminfo: -ENODATA");
	ok(err[0] != '\0', "... with a message");
	is_int(mz_meminfo_parse("MemTotal: 100 kB", &t, err, sizeof(err)), 0, "no trailing newline");
	is_u64(get(&t, "MemTotal"), 102400, "... 100 kB = 102400");
	mz_kvtab_free(&t);
	is_int(mz_meminfo_parse("MemTotal: 18014398509481983 kB\n", &t, err, sizeof(err)), 0,
	       "(2^54 - 1) kB fits in 64 bits");
	is_u64(get(&t, "MemTotal"), 18014398509481983ull * 1024, "... exactly");
	mz_kvtab_free(&t);
	is_int(mz_meminfo_parse("MemTotal: 18014398509481984 kB\n", &t, err, sizeof(err)), -EINVAL,
	       "2^54 kB = 2^64 bytes refused");
	ok(strstr(err, "line 1:") && strstr(err, "64 bits"), "... as too large: %s", err);
	is_int(mz_meminfo_parse("A: 1 kB\nMemFree: 12O kB\n", &t, err, sizeof(err)), -EINVAL, "letter O in a number");
	ok(strstr(err, "line 2:") && strstr(err, "MemFree"), "... 'line 2: MemFree: ...': %s", err);
	ok(t.n == 0 && t.kv == NULL, "a refused file leaves an empty table");
	is_int(mz_meminfo_parse("MemTotal: 1 MB\n", &t, err, sizeof(err)), -EINVAL, "unknown unit refused");
	is_int(mz_meminfo_parse("MemTotal: 1 kB extra\n", &t, err, sizeof(err)), -EINVAL, "trailing words refused");
	is_int(mz_meminfo_parse("MemTotal: -1 kB\n", &t, err, sizeof(err)), -EINVAL, "negative refused");
	is_int(mz_meminfo_parse("MemTotal:\n", &t, err, sizeof(err)), -EINVAL, "missing value refused");
	is_int(mz_meminfo_parse("MemTotal 1 kB\n", &t, err, sizeof(err)), -EINVAL, "missing colon refused");
	is_int(mz_meminfo_parse("Mem Total: 1 kB\n", &t, err, sizeof(err)), -EINVAL, "name with a space refused");
	is_int(mz_meminfo_parse("MemTotal: 1 kB\nMemTotal: 2 kB\n", &t, err, sizeof(err)), -EINVAL,
	       "duplicate name refused");
	ok(strstr(err, "line 2:") && strstr(err, "line 1"), "... naming both lines: %s", err);
	is_int(mz_meminfo_parse("ThisMeminfoNameIsMuchLongerThanFortySevenCharactersX: 1\n", &t, err, sizeof(err)),
	       -EINVAL, "name longer than 47 refused (no silent truncation)");
	is_int(mz_meminfo_parse("\n\nNode 3 MemTotal: 4 kB\n   176096\n: 5 kB\r\n", &t, err, sizeof(err)), 0,
	       "empty lines, node prefix, nameless values, CRLF");
	ok(t.n == 1 && get(&t, "MemTotal") == 4096, "... one entry: MemTotal 4096");
	mz_kvtab_free(&t);
	is_int(mz_meminfo_parse("Node x MemTotal: 4 kB\n", &t, err, sizeof(err)), -EINVAL,
	       "'Node x' is not a node prefix");
}

static void test_vmstat_edges(void)
{
	struct mz_kvtab t = { 0 };
	char err[256];
	uint64_t v;

	is_int(mz_vmstat_parse("", &t, err, sizeof(err)), -ENODATA, "empty vmstat: -ENODATA");
	is_int(mz_vmstat_parse("nr_free_pages 18446744073709551615", &t, err, sizeof(err)), 0,
	       "2^64 - 1, no newline");
	is_u64(get(&t, "nr_free_pages"), UINT64_MAX, "... exactly");
	mz_kvtab_free(&t);
	is_int(mz_vmstat_parse("a 1\nnr_free_pages 18446744073709551616\n", &t, err, sizeof(err)), -EINVAL,
	       "2^64 refused");
	ok(strstr(err, "line 2:") != NULL, "... at line 2");
	is_int(mz_vmstat_parse("a 1\nb\n", &t, err, sizeof(err)), -EINVAL, "name without value refused");
	is_int(mz_vmstat_parse("a 1 2\n", &t, err, sizeof(err)), -EINVAL, "two values refused");
	is_int(mz_vmstat_parse("a -1\n", &t, err, sizeof(err)), -EINVAL, "negative refused");
	is_int(mz_vmstat_parse("a 1\na 2\n", &t, err, sizeof(err)), -EINVAL, "duplicate refused");
	is_int(mz_vmstat_parse("a 1\n  176096\n\n", &t, err, sizeof(err)), 0, "nameless value skipped");
	ok(t.n == 1 && mz_kvtab_get(&t, "a", &v) && v == 1, "... one entry");
	ok(!mz_kvtab_get(&t, "", &v) && !mz_kvtab_get(&t, "b", &v), "absent keys not found");
	mz_kvtab_free(&t);
}

static void test_psi_edges(void)
{
	struct mz_psi psi;
	char err[256];

	is_int(mz_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)), 0,
	       "some only (no full line)");
	ok(psi.available && !psi.has_full && psi.full_total_us == 0, "... has_full false");
	is_int(mz_psi_parse("some avg10=100.00 avg60=99.99 avg300=7 total=18446744073709551615", &psi, err,
			    sizeof(err)),
	       0, "extremes, no newline");
	ok(psi.some_avg10 == 100.0 && psi.some_avg300 == 7.0 && psi.some_total_us == UINT64_MAX, "... parsed");
	is_int(mz_psi_parse("some avg10=1.00 avg60=0.00 avg300=0.00 total=0 future=3\n", &psi, err, sizeof(err)), 0,
	       "an unknown key=value is skipped");
	is_int(mz_psi_parse("", &psi, err, sizeof(err)), -ENODATA, "empty: -ENODATA");
	is_int(mz_psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)), -EINVAL,
	       "full without some refused");
	is_int(mz_psi_parse("some avg10=0.00 avg60=0.00 total=0\n", &psi, err, sizeof(err)), -EINVAL,
	       "missing avg300 refused");
	ok(strstr(err, "avg300") != NULL, "... naming it");
	is_int(mz_psi_parse("some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)),
	       -EINVAL, "repeated key refused");
	is_int(mz_psi_parse("some avg10=1,5 avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)), -EINVAL,
	       "decimal comma refused");
	is_int(mz_psi_parse("some avg10=.  avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)), -EINVAL,
	       "'.' alone refused");
	is_int(mz_psi_parse("some avg10 avg60=0.00 avg300=0.00 total=0\n", &psi, err, sizeof(err)), -EINVAL,
	       "key without '=' refused");
	is_int(mz_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nsome avg10=0.00 avg60=0.00 avg300=0.00 "
			    "total=0\n",
			    &psi, err, sizeof(err)),
	       -EINVAL, "two some lines refused");
	ok(!psi.available, "... not available");
	is_int(mz_psi_parse("cpu avg10=0.00\n", &psi, err, sizeof(err)), -EINVAL, "unknown line kind refused");
}

int main(void)
{
	const char *src = getenv("top_srcdir");

	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/real-world", src ? src : ".");
	test_every_capture();
	test_hand_checked();
	test_read();
	test_meminfo_edges();
	test_vmstat_edges();
	test_psi_edges();
	return tap_done();
}
