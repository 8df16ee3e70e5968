/* fuzz-daxconf.c - the two parsers of files other programs write: a daxctl config file
 * (mz_daxctl_text_names) and udev's database entry of a block (mz_udevdb_text_offlined), on
 * arbitrary bytes: no crash, no read past the input, a section name only when the text has it */
#include "daxctl.h"
#include "fuzz.h"
#include "udevdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the config parser reads a NUL-terminated text (mz_read_file's), the db parser a length */
	char *text = malloc(size + 1), *raw = malloc(size ? size : 1);
	char name[128];
	bool r;

	if (!text || !raw)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (size)
		memcpy(raw, data, size);
	fuzz_quiet();
	memset(name, 'X', sizeof(name));
	if (mz_daxctl_text_names(text, "ed93e918-e165-49d8-921d-383d7b9660c5", name, sizeof(name))) {
		FUZZ_CHECK(fuzz_terminated(name, sizeof(name)), "section name not NUL-terminated");
		FUZZ_CHECK(strstr(text, name) != NULL, "section name '%s' is not in the text", name);
	}
	FUZZ_CHECK(!mz_daxctl_text_names(text, "", name, sizeof(name)), "an empty uuid matched");
	r = mz_udevdb_text_offlined(raw, size);
	FUZZ_CHECK(!r || memmem(raw, size, "E:MEMZONE_OFFLINED=1", 20) != NULL, "offlined without the line");
	free(raw);
	free(text);
	return 0;
}
