/* fuzz-config.c - mz_config_parse_string on arbitrary text: no crash, no leak, values in range,
 * and the effective-policy dump is itself a config that reproduces the same dump */
#include "config.h"
#include "fuzz.h"
#include "util.h"

#include <errno.h>

#define NAME "fuzz.conf"

static void check_ranges(const struct mz_config *c)
{
	FUZZ_CHECK(c->default_zone <= MZ_DEFAULT_KERNEL, "default_zone %d", (int)c->default_zone);
	FUZZ_CHECK(c->ratio_scope <= MZ_SCOPE_BOTH, "ratio_scope %d", (int)c->ratio_scope);
	FUZZ_CHECK(c->ratio_basis <= MZ_BASIS_BOOT, "ratio_basis %d", (int)c->ratio_basis);
	FUZZ_CHECK(c->memory_only_nodes <= MZ_MEMONLY_POLICY, "memory_only_nodes %d", (int)c->memory_only_nodes);
	FUZZ_CHECK(c->already_online <= MZ_ALREADY_LEAVE, "already_online %d", (int)c->already_online);
	FUZZ_CHECK(c->kernel_auto_online <= MZ_KAO_POLICY, "kernel_auto_online %d", (int)c->kernel_auto_online);
	for (int s = 0; s < MZ_SOURCE__COUNT; s++)
		FUZZ_CHECK(c->source[s].zone <= MZ_SRCZONE_IGNORE, "source %d zone %d", s, (int)c->source[s].zone);
	FUZZ_CHECK(fuzz_terminated(c->rebalance.metrics_file, sizeof(c->rebalance.metrics_file)),
		   "metrics_file not NUL-terminated");
	FUZZ_CHECK(c->nfiles <= MZ_ARRAY_SIZE(c->files), "nfiles %zu", c->nfiles);
}

/* The dump as a malloc'ed string (caller frees). */
static char *dump(const struct mz_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	mz_config_print(c, f);
	fclose(f);
	return buf;
}

/* check-config prints the effective policy "as an ini file": reading that file back must work and
 * give the same policy (compared through the dump, so float formatting cannot cause false alarms). */
static void check_dump_round_trip(const struct mz_config *c)
{
	struct mz_config again;
	char *text1 = dump(c), *text2;
	char *err = fuzz_errbuf();
	int r;

	mz_config_defaults(&again);
	r = mz_config_parse_string(&again, "dump.conf", text1, err, FUZZ_ERRLEN);
	FUZZ_CHECK(r == 0, "the dump does not parse (%d: %.*s):\n%s", r, FUZZ_ERRLEN, err, text1);
	text2 = dump(&again);
	FUZZ_CHECK(strcmp(text1, text2) == 0, "dump changes when read back:\n--- first\n%s--- second\n%s", text1, text2);
	free(text2);
	free(text1);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	struct mz_config c;
	int r;

	fuzz_quiet();
	mz_config_defaults(&c);
	r = mz_config_parse_string(&c, NAME, text, err, FUZZ_ERRLEN);
	if (r == -ENOSYS)
		goto out; /* the placeholder config.c: nothing to fuzz yet */
	fuzz_check_result("mz_config_parse_string", r, err);
	if (r == -EINVAL)
		FUZZ_CHECK(strstr(err, NAME) != NULL, "error does not name the file: %s", err);
	if (r == 0) {
		FILE *devnull = fopen("/dev/null", "w");

		check_ranges(&c);
		if (devnull) {
			mz_config_print_json(&c, devnull);
			fclose(devnull);
		}
		check_dump_round_trip(&c);
	}
out:
	free(err);
	free(text);
	return 0;
}
