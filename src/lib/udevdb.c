/* udevdb.c - MEMZONE_OFFLINED in udev's database entry of a memory block (see udevdb.h)
 *
 * The format is udevd's own (src/libsystemd/sd-device/device-private.c: one "X:value" per line,
 * E: for properties). Only that one line is looked for: no other field is interpreted. */
#include "udevdb.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

bool mz_udevdb_text_offlined(const char *text, size_t len)
{
	static const char want[] = "E:" MZ_UDEVDB_OFFLINED_KEY "=1";
	const size_t wl = sizeof(want) - 1;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;

		if (ll == wl && memcmp(text + i, want, wl) == 0)
			return true;
		i += ll + 1;
	}
	return false;
}

bool mz_block_offlined_this_boot(unsigned long id)
{
	char path[MZ_PATH_MAX], *text = NULL;
	size_t len = 0;
	bool r;

	if (mz_path(path, sizeof(path), "/run/udev/data/+memory:memory%lu", id) < 0 ||
	    mz_read_file(path, &text, &len) < 0)
		return false;
	r = mz_udevdb_text_offlined(text, len);
	free(text);
	return r;
}
