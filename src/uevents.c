/* uevents.c - memory-block events read from the kernel's uevent netlink group (see uevents.h) */
#include "uevents.h"
#include "util.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MEMORY_DEVPATH "/devices/system/memory/"
/* 2 MiB asked for; without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max (208 KiB by
 * default, about 150 queued events: two bursts of a 64-block DIMM). More is caught up on -ENOBUFS. */
#define RCVBUF_BYTES (2 * 1024 * 1024)

int mz_uevent_parse(const char *buf, size_t len, struct mz_uevent *ev)
{
	const char *p = buf, *end = buf + len, *at, *devpath = NULL, *action = NULL, *subsystem = NULL;
	size_t hlen;

	memset(ev, 0, sizeof(*ev));
	if (len == 0 || !memchr(buf, '\0', len))
		return -EINVAL; /* the header must end in a NUL within the datagram */
	hlen = strlen(buf);
	at = memchr(buf, '@', hlen);
	if (!at || at == buf)
		return -EINVAL;
	for (p = buf + hlen + 1; p < end;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return -EINVAL;
		if (mz_startswith(p, "ACTION="))
			action = p + 7;
		else if (mz_startswith(p, "DEVPATH="))
			devpath = p + 8;
		else if (mz_startswith(p, "SUBSYSTEM="))
			subsystem = p + 10;
		else if (mz_startswith(p, "SYNTH_UUID="))
			ev->synthetic = true;
		p = nul + 1;
	}
	if (!action || !devpath)
		return -EINVAL;
	/* the header says the same as the fields, or the datagram is not what it seems */
	if ((size_t)(at - buf) != strlen(action) || strncmp(buf, action, (size_t)(at - buf)) != 0 ||
	    strcmp(at + 1, devpath) != 0)
		return -EINVAL;
	if (!subsystem || strcmp(subsystem, "memory") != 0 || !mz_startswith(devpath, MEMORY_DEVPATH) ||
	    !mz_block_name_valid(devpath + strlen(MEMORY_DEVPATH), &ev->block))
		return -ENOENT;
	if (strlen(action) >= sizeof(ev->action))
		return -ENOENT; /* no action of interest is that long */
	snprintf(ev->action, sizeof(ev->action), "%s", action);
	return 0;
}

int mz_uevent_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 /* the kernel's group */ };
	int fd, sz = RCVBUF_BYTES;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int mz_uevent_drain(int fd, void (*fn)(const struct mz_uevent *ev, void *ctx), void *ctx)
{
	/* a uevent is at most UEVENT_BUFFER_SIZE (2048) bytes; more room shows a cut one as MSG_TRUNC */
	char buf[8192];
	int overflow = 0;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
		struct mz_uevent ev;
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				overflow = -ENOBUFS; /* events were lost; the queue goes on after it */
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return overflow;
			return -errno;
		}
		/* only the kernel sends with port id 0; udevd's own re-broadcasts go to another group */
		if (msg.msg_namelen != sizeof(from) || from.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC))
			continue;
		if (mz_uevent_parse(buf, (size_t)n, &ev) == 0)
			fn(&ev, ctx);
	}
}
