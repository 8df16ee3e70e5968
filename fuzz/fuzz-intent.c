/* fuzz-intent.c - mz_intent_parse on arbitrary text: no crash, no leak, a record that parsed is one
 * memzoned could act on, and writing it out (mz_intent_format) and reading that back gives the same record */
#include "fuzz.h"
#include "intent.h"

#include <errno.h>

#define NAME "intent"

static void check_record(const struct mz_intent *in)
{
	/* parse_zone: only zones a block can be onlined to */
	FUZZ_CHECK(in->from != MZ_ZONE_NONE && in->from != MZ_ZONE_OTHER && in->from != MZ_ZONE_DEVICE &&
			   (unsigned)in->from < MZ_ZONE__COUNT,
		   "from %d", (int)in->from);
	FUZZ_CHECK(in->to != MZ_ZONE_NONE && in->to != MZ_ZONE_OTHER && in->to != MZ_ZONE_DEVICE &&
			   (unsigned)in->to < MZ_ZONE__COUNT,
		   "to %d", (int)in->to);
	FUZZ_CHECK(in->block <= UINT32_MAX, "block %lu", in->block);
	FUZZ_CHECK(in->started >= 0, "started %lld", (long long)in->started);
}

static void check_round_trip(const struct mz_intent *in)
{
	struct mz_intent again;
	char buf[512], *err = fuzz_errbuf();
	int n, r;

	n = mz_intent_format(in, buf, sizeof(buf));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf), "format returned %d", n);
	/* the 512-byte buffer of mz_intent_write is enough for any record */
	r = mz_intent_parse(buf, "again", &again, err, FUZZ_ERRLEN);
	FUZZ_CHECK(r == 0, "the formatted record does not parse (%d: %.*s):\n%s", r, FUZZ_ERRLEN, err, buf);
	FUZZ_CHECK(again.block == in->block && again.from == in->from && again.to == in->to &&
			   again.started == in->started && again.pid == in->pid,
		   "read back differs: block %lu/%lu from %d/%d to %d/%d started %lld/%lld pid %ld/%ld\n%s", in->block,
		   again.block, (int)in->from, (int)again.from, (int)in->to, (int)again.to, (long long)in->started,
		   (long long)again.started, (long)in->pid, (long)again.pid, buf);
	/* a too small buffer is refused, never overrun */
	FUZZ_CHECK(mz_intent_format(in, buf, (size_t)n) == -ENOSPC, "format into %d bytes did not say -ENOSPC", n);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	struct mz_intent in;
	int r;

	fuzz_quiet();
	r = mz_intent_parse(text, NAME, &in, err, FUZZ_ERRLEN);
	fuzz_check_result("mz_intent_parse", r, err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EPROTO, "mz_intent_parse returned %d", r);
	if (r < 0) {
		FUZZ_CHECK(strncmp(err, NAME, strlen(NAME)) == 0, "error does not name the file: %s", err);
	} else {
		check_record(&in);
		check_round_trip(&in);
	}
	free(err);
	free(text);
	return 0;
}
