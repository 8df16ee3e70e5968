/* fuzz-procstat.c - meminfo, vmstat and PSI parsers on the same arbitrary text: no crash, no leak,
 * every stored key is a real, findable name */
#include "fuzz.h"
#include "procstat.h"

static void check_kvtab(const char *what, const struct mz_kvtab *t, const char *text)
{
	FUZZ_CHECK(t->n == 0 || t->kv != NULL, "%s: %zu entries but no array", what, t->n);
	FUZZ_CHECK(t->n <= fuzz_count_lines(text, NULL), "%s: %zu entries from %zu lines", what, t->n,
		   fuzz_count_lines(text, NULL));
	for (size_t i = 0; i < t->n; i++) {
		uint64_t val;

		FUZZ_CHECK(fuzz_terminated(t->kv[i].key, sizeof(t->kv[i].key)), "%s: key %zu not NUL-terminated", what,
			   i);
		/* "Values without a name are skipped": no entry has an empty key. */
		FUZZ_CHECK(t->kv[i].key[0] != '\0', "%s: entry %zu has an empty key", what, i);
		FUZZ_CHECK(mz_kvtab_get(t, t->kv[i].key, &val), "%s: key '%s' stored but not found", what,
			   t->kv[i].key);
		/* A name twice is an error, so the lookup finds this very entry. */
		FUZZ_CHECK(val == t->kv[i].val, "%s: key '%s' stored as %llu, found as %llu", what, t->kv[i].key,
			   (unsigned long long)t->kv[i].val, (unsigned long long)val);
	}
}

typedef int kv_parser(const char *text, struct mz_kvtab *t, char *err, size_t errlen);

static void run_kv(const char *what, kv_parser *parse, const char *text)
{
	struct mz_kvtab t = { 0 };
	char *err = fuzz_errbuf();
	uint64_t val;
	int r;

	r = parse(text, &t, err, FUZZ_ERRLEN);
	fuzz_check_result(what, r, err);
	if (r == 0)
		check_kvtab(what, &t, text);
	(void)mz_kvtab_get(&t, "", &val);
	(void)mz_kvtab_get(&t, "MemTotal", &val);
	mz_kvtab_free(&t);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	struct mz_psi psi;
	int r;

	fuzz_quiet();
	run_kv("mz_meminfo_parse", mz_meminfo_parse, text);
	run_kv("mz_vmstat_parse", mz_vmstat_parse, text);

	memset(&psi, 0, sizeof(psi));
	r = mz_psi_parse(text, &psi, err, FUZZ_ERRLEN);
	fuzz_check_result("mz_psi_parse", r, err);
	if (r == 0 && !psi.has_full)
		FUZZ_CHECK(psi.full_total_us == 0, "no full line but full total %llu",
			   (unsigned long long)psi.full_total_us);
	free(err);
	free(text);
	return 0;
}
