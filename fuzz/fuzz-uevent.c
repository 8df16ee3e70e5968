/* fuzz-uevent.c - mz_uevent_parse on an arbitrary datagram (raw bytes, NULs included, no terminator
 * added): no crash, no read past the datagram, and a memory-block event only when it names one */
#include "fuzz.h"
#include "uevents.h"
#include "util.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size heap copy of the datagram, as recvmsg leaves it in memzoned's buffer, and an
	 * exact-size heap result (ASan sees a read or a write past either) */
	char *buf = malloc(size ? size : 1);
	struct mz_uevent *ev = malloc(sizeof(*ev));
	const char *devpath;
	char name[32];
	unsigned long block;
	int r;

	if (!buf || !ev)
		abort();
	if (size)
		memcpy(buf, data, size);
	memset(ev, 'X', sizeof(*ev));
	fuzz_quiet();
	r = mz_uevent_parse(buf, size, ev);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL, "returned %d, want 0, -ENOENT or -EINVAL", r);
	FUZZ_CHECK(size == 0 || memcmp(buf, data, size) == 0, "the parser changed its input");
	/* a datagram without a NUL cannot have a terminated header, so it is malformed */
	if (size == 0 || !memchr(data, '\0', size))
		FUZZ_CHECK(r == -EINVAL, "datagram of %zu bytes without a NUL returned %d", size, r);
	if (r == 0) {
		FUZZ_CHECK(fuzz_terminated(ev->action, sizeof(ev->action)), "action not NUL-terminated");
		FUZZ_CHECK(ev->action[0] != '\0', "empty action");
		/* the header ("ACTION@...") says the same action */
		FUZZ_CHECK(size > strlen(ev->action) && memcmp(data, ev->action, strlen(ev->action)) == 0 &&
				   data[strlen(ev->action)] == '@',
			   "action '%s' is not the header's", ev->action);
		snprintf(name, sizeof(name), "memory%lu", ev->block);
		FUZZ_CHECK(mz_block_name_valid(name, &block) && block == ev->block, "block %lu: '%s' is no valid name",
			   ev->block, name);
		/* ...and the header's devpath is that block's (the header is NUL-terminated, or r != 0) */
		devpath = buf + strlen(ev->action) + 1;
		FUZZ_CHECK(mz_startswith(devpath, "/devices/system/memory/") &&
				   mz_block_name_valid(devpath + strlen("/devices/system/memory/"), &block) &&
				   block == ev->block,
			   "header devpath '%s' is not block %lu's", devpath, ev->block);
		/* 0 only with SUBSYSTEM=memory among the fields */
		FUZZ_CHECK(memmem(data, size, "\0SUBSYSTEM=memory\0", 18) != NULL, "no SUBSYSTEM=memory field");
	}
	free(ev);
	free(buf);
	return 0;
}
