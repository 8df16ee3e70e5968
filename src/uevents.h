/* uevents.h - the kernel's own uevents (NETLINK_KOBJECT_UEVENT, the datagrams udevd reads too):
 * memzoned hears a memory block's "add" as the kernel sends it, and decides the block in its own
 * process instead of udev starting `memzone online` for it (see memzoned(8)). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct mz_uevent {
	char action[16];     /* "add", "remove", "online", "offline", "change", ... */
	unsigned long block; /* N of /devices/system/memory/memoryN */
	bool synthetic;      /* SYNTH_UUID= present: a replay (`udevadm trigger`, a write to uevent) */
};

/* Pure. One datagram as the kernel sends it: "ACTION@DEVPATH\0KEY=VALUE\0...". 0 with *ev filled
 * for a memory block's event (SUBSYSTEM=memory, DEVPATH=/devices/system/memory/memoryN with a valid
 * block name, ACTION agreeing with the header); -ENOENT for any other well-formed event; -EINVAL
 * for a malformed one (no '@' header, no DEVPATH or ACTION, an unterminated field). */
int mz_uevent_parse(const char *buf, size_t len, struct mz_uevent *ev);

/* A non-blocking socket bound to the kernel's uevent group, with as large a receive buffer as the
 * unit's capabilities allow. The fd, or -errno. */
int mz_uevent_open(void);

/* Read every datagram queued on fd, calling fn for each memory-block event sent by the kernel
 * (datagrams from any other sender are dropped). 0 when the queue is empty; -ENOBUFS when the
 * kernel dropped events because the queue was full (the caller must look at every block again);
 * another -errno on a read error. */
int mz_uevent_drain(int fd, void (*fn)(const struct mz_uevent *ev, void *ctx), void *ctx);
