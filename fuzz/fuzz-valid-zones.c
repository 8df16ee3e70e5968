/* fuzz-valid-zones.c - mz_valid_zones_parse (memoryN/valid_zones) on arbitrary text */
#include "fuzz.h"
#include "memblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	enum mz_zone first = MZ_ZONE__COUNT;
	unsigned mask = ~0u;
	int r;

	fuzz_quiet();
	r = mz_valid_zones_parse(text, &mask, &first);
	FUZZ_CHECK(r <= 0, "returned %d, want 0 or -errno", r);
	if (r == 0) {
		FUZZ_CHECK((mask >> MZ_ZONE__COUNT) == 0, "mask %#x has bits beyond the known zones", mask);
		FUZZ_CHECK((unsigned)first < MZ_ZONE__COUNT, "first zone %d out of range", (int)first);
		/* "none" -> 0 / MZ_ZONE_NONE; otherwise the first zone is one of the valid ones. */
		if (mask == 0)
			FUZZ_CHECK(first == MZ_ZONE_NONE, "empty mask but first zone %s", mz_zone_name(first));
		else
			FUZZ_CHECK(mask & MZ_ZONE_BIT(first), "first zone %s not in mask %#x", mz_zone_name(first),
				   mask);
	}
	free(text);
	return 0;
}
