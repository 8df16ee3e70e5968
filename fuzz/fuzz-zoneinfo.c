/* fuzz-zoneinfo.c - mz_zoneinfo_parse on arbitrary text: no crash, no leak, the header's promises hold */
#include "fuzz.h"
#include "zoneinfo.h"

#include <errno.h>

static void check_zone(const struct mz_zoneinfo *zi, size_t i)
{
	const struct mz_zone_info *z = &zi->zones[i];
	const struct mz_zone_info *found;

	FUZZ_CHECK(fuzz_terminated(z->name, sizeof(z->name)), "zone %zu: name not NUL-terminated", i);
	FUZZ_CHECK((unsigned)z->type < MZ_ZONE__COUNT, "zone %zu: type %d out of range", i, (int)z->type);
	FUZZ_CHECK(z->type == mz_zone_from_name(z->name), "zone %zu: type %s does not match name '%s'", i,
		   mz_zone_name(z->type), z->name);
	FUZZ_CHECK(z->nprotection >= 0 && z->nprotection <= MZ_ZONE_MAX_PROTECTION, "zone %zu: nprotection %d", i,
		   z->nprotection);
	/* Promised by the header: pre-3.8 kernels print no managed line, and managed then equals present. */
	FUZZ_CHECK(z->has_managed || z->managed == z->present, "zone %zu: no managed line but managed != present", i);
	FUZZ_CHECK(z->has_cma || z->cma == 0, "zone %zu: no cma line but cma != 0", i);
	/* Lookup finds a zone with this node and type (the first one when a node repeats a zone). */
	found = mz_zoneinfo_find(zi, z->node, z->type);
	FUZZ_CHECK(found != NULL, "zone %zu (node %d %s) not found by mz_zoneinfo_find", i, z->node, z->name);
	FUZZ_CHECK(found->node == z->node && found->type == z->type, "zone %zu: find returned another zone", i);
}

static bool same_zone(const struct mz_zone_info *a, const struct mz_zone_info *b)
{
	if (a->node != b->node || strcmp(a->name, b->name) != 0 || a->type != b->type || a->free != b->free ||
	    a->min != b->min || a->low != b->low || a->high != b->high || a->spanned != b->spanned ||
	    a->present != b->present || a->managed != b->managed || a->cma != b->cma ||
	    a->has_managed != b->has_managed || a->has_cma != b->has_cma || a->nprotection != b->nprotection)
		return false;
	for (int i = 0; i < a->nprotection; i++)
		if (a->protection[i] != b->protection[i])
			return false;
	return true;
}

/* "Pure: no I/O, no global state": a second parse of the same text gives the same zones. Also
 * catches values that come from uninitialised memory, which rarely repeat. */
static void check_pure(const char *text, int r, const struct mz_zoneinfo *zi)
{
	struct mz_zoneinfo again = { 0 };
	char *err = fuzz_errbuf();
	int r2 = mz_zoneinfo_parse(text, &again, err, FUZZ_ERRLEN);

	FUZZ_CHECK(r2 == r, "second parse returned %d, first %d", r2, r);
	FUZZ_CHECK(again.nzones == zi->nzones, "second parse: %zu zones, first %zu", again.nzones, zi->nzones);
	for (size_t i = 0; i < zi->nzones; i++)
		FUZZ_CHECK(same_zone(&zi->zones[i], &again.zones[i]), "second parse differs in zone %zu", i);
	mz_zoneinfo_free(&again);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mz_zoneinfo zi = { 0 };
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	int r;

	fuzz_quiet();
	r = mz_zoneinfo_parse(text, &zi, err, FUZZ_ERRLEN);
	fuzz_check_result("mz_zoneinfo_parse", r, err);
	if (r == 0) {
		FUZZ_CHECK(zi.nzones > 0, "success with 0 zones (the header promises -ENODATA)");
		FUZZ_CHECK(zi.zones != NULL, "%zu zones but no array", zi.nzones);
		/* Each zone comes from its own "Node N, zone NAME" line. */
		FUZZ_CHECK(zi.nzones <= fuzz_count_lines(text, "Node"), "%zu zones from %zu 'Node' lines", zi.nzones,
			   fuzz_count_lines(text, "Node"));
		for (size_t i = 0; i < zi.nzones; i++)
			check_zone(&zi, i);
	}
	check_pure(text, r, &zi);
	/* Lookups of absent zones must be harmless too. */
	(void)mz_zoneinfo_find(&zi, -1, MZ_ZONE_NORMAL);
	mz_zoneinfo_free(&zi);
	free(err);
	free(text);
	return 0;
}
