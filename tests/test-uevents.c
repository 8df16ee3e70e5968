/* test-uevents.c - mz_uevent_parse on kernel uevent datagrams ("ACTION@DEVPATH\0KEY=VALUE\0..."):
 * memory-block events as the kernel sends them, other events, and malformed or foreign datagrams */
#include "tap.h"
#include "uevents.h"
#include "util.h"

#include <errno.h>

/* A datagram from a string literal: its bytes up to, not including, the literal's own final NUL, so
 * "a\0b\0" is 4 bytes. Embedded NULs are why every length is explicit. */
#define DG(lit) (lit), (sizeof(lit) - 1)

#define MEM32 "/devices/system/memory/memory32"
/* A memory block's add as a 6.1 kernel sends it: header, then ACTION, DEVPATH, SUBSYSTEM, SEQNUM. */
#define ADD32 "add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2041\0"

/* The parser sees exactly len heap bytes (ASan catches a read past them) and writes into a heap
 * struct of exactly its size (and a write past it); the input must come back unchanged. */
static int parse(const char *buf, size_t len, struct mz_uevent *out)
{
	char *copy = malloc(len ? len : 1);
	struct mz_uevent *ev = malloc(sizeof(*ev));
	int r;

	if (!copy || !ev)
		abort();
	memcpy(copy, buf, len);
	memset(ev, 'X', sizeof(*ev));
	r = mz_uevent_parse(copy, len, ev);
	if (memcmp(copy, buf, len) != 0)
		ok(false, "the parser changed its input");
	*out = *ev;
	free(ev);
	free(copy);
	return r;
}

/* A memory block's event: 0 and every field as wanted. */
static void want_block(const char *what, const char *buf, size_t len, const char *action, unsigned long block,
		       bool synthetic)
{
	struct mz_uevent ev;
	int r = parse(buf, len, &ev);

	is_int(r, 0, "%s: parsed as a memory block's event", what);
	if (r != 0)
		return;
	ok(memchr(ev.action, '\0', sizeof(ev.action)) != NULL, "%s: action NUL-terminated", what);
	is_str(ev.action, action, "%s: action", what);
	is_u64(ev.block, block, "%s: block", what);
	is_int(ev.synthetic, synthetic, "%s: synthetic", what);
}

static void want_err(const char *what, const char *buf, size_t len, int want)
{
	struct mz_uevent ev;

	is_int(parse(buf, len, &ev), want, "%s: %s", what, want == -ENOENT ? "-ENOENT" : "-EINVAL");
}

static void test_memory_events(void)
{
	want_block("6.1 memory add", DG(ADD32), "add", 32, false);
	/* `udevadm trigger` or `echo add > uevent`: the kernel adds SYNTH_UUID=0 */
	want_block("synthetic add", DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SYNTH_UUID=0\0SEQNUM=2042\0"),
		   "add", 32, true);
	/* `echo "add 1b4e28ba-2fa1-11d2-883f-0016d3cca427 A=1" > uevent` */
	want_block("synthetic add with uuid and args",
		   DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SYNTH_UUID=1b4e28ba-2fa1-11d2-883f-0016d3cca427\0SYNTH_ARG_A=1\0SEQNUM=2043\0"),
		   "add", 32, true);
	/* memory_block_change_state() sends KOBJ_ONLINE / KOBJ_OFFLINE; hot-remove sends remove */
	want_block("online", DG("online@" MEM32 "\0ACTION=online\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2044\0"),
		   "online", 32, false);
	want_block("offline", DG("offline@" MEM32 "\0ACTION=offline\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2045\0"),
		   "offline", 32, false);
	want_block("remove", DG("remove@" MEM32 "\0ACTION=remove\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2046\0"),
		   "remove", 32, false);
	want_block("change", DG("change@" MEM32 "\0ACTION=change\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2047\0"),
		   "change", 32, false);
	want_block("block 0", DG("add@/devices/system/memory/memory0\0ACTION=add\0DEVPATH=/devices/system/memory/memory0\0SUBSYSTEM=memory\0SEQNUM=1\0"),
		   "add", 0, false);
	want_block("largest block (2^32-1)",
		   DG("add@/devices/system/memory/memory4294967295\0ACTION=add\0DEVPATH=/devices/system/memory/memory4294967295\0SUBSYSTEM=memory\0"),
		   "add", 4294967295UL, false);
	want_block("fields in another order",
		   DG("add@" MEM32 "\0SEQNUM=2041\0SUBSYSTEM=memory\0SYNTH_UUID=0\0DEVPATH=" MEM32 "\0ACTION=add\0"),
		   "add", 32, true);
	want_block("no SEQNUM, only the three fields", DG("add@" MEM32 "\0SUBSYSTEM=memory\0DEVPATH=" MEM32 "\0ACTION=add\0"),
		   "add", 32, false);
	/* keys that only begin like the ones read are other keys */
	want_block("DEVPATH_OLD and look-alike keys ignored",
		   DG("add@" MEM32 "\0ACTION=add\0XACTION=remove\0DEVPATH=" MEM32 "\0DEVPATH_OLD=/devices/system/memory/memory7\0SUBSYSTEM=memory\0SUBSYSTEMX=cpu\0SYNTH_UUIDX=0\0"),
		   "add", 32, false);
	/* the longest action that fits (15 characters + NUL) */
	want_block("15-character action",
		   DG("abcdefghijklmno@" MEM32 "\0ACTION=abcdefghijklmno\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"),
		   "abcdefghijklmno", 32, false);
}

static void test_other_events(void)
{
	want_err("loop block device add",
		 DG("add@/devices/virtual/block/loop0\0ACTION=add\0DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0DEVTYPE=disk\0DISKSEQ=9\0SEQNUM=3001\0"),
		 -ENOENT);
	want_err("cpu1 online",
		 DG("online@/devices/system/cpu/cpu1\0ACTION=online\0DEVPATH=/devices/system/cpu/cpu1\0SUBSYSTEM=cpu\0SEQNUM=3002\0"),
		 -ENOENT);
	want_err("memory subsystem root",
		 DG("change@/devices/system/memory\0ACTION=change\0DEVPATH=/devices/system/memory\0SUBSYSTEM=memory\0SEQNUM=3003\0"),
		 -ENOENT);
	want_err("memory subsystem root with slash",
		 DG("change@/devices/system/memory/\0ACTION=change\0DEVPATH=/devices/system/memory/\0SUBSYSTEM=memory\0"), -ENOENT);
	want_err("block name 'memory'",
		 DG("add@/devices/system/memory/memory\0ACTION=add\0DEVPATH=/devices/system/memory/memory\0SUBSYSTEM=memory\0"), -ENOENT);
	want_err("block name 'memory-1'",
		 DG("add@/devices/system/memory/memory-1\0ACTION=add\0DEVPATH=/devices/system/memory/memory-1\0SUBSYSTEM=memory\0"),
		 -ENOENT);
	want_err("block name 'memory1x'",
		 DG("add@/devices/system/memory/memory1x\0ACTION=add\0DEVPATH=/devices/system/memory/memory1x\0SUBSYSTEM=memory\0"),
		 -ENOENT);
	want_err("block name 'memory99999999999' (11 digits)",
		 DG("add@/devices/system/memory/memory99999999999\0ACTION=add\0DEVPATH=/devices/system/memory/memory99999999999\0SUBSYSTEM=memory\0"),
		 -ENOENT);
	want_err("block name 'memory4294967296' (2^32)",
		 DG("add@/devices/system/memory/memory4294967296\0ACTION=add\0DEVPATH=/devices/system/memory/memory4294967296\0SUBSYSTEM=memory\0"),
		 -ENOENT);
	want_err("a file below a block",
		 DG("change@" MEM32 "/power\0ACTION=change\0DEVPATH=" MEM32 "/power\0SUBSYSTEM=memory\0"), -ENOENT);
	want_err("memory block path, other subsystem",
		 DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=cpu\0"), -ENOENT);
	want_err("memory block path, no SUBSYSTEM", DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SEQNUM=1\0"), -ENOENT);
	want_err("memory subsystem, block name elsewhere",
		 DG("add@/devices/platform/memory32\0ACTION=add\0DEVPATH=/devices/platform/memory32\0SUBSYSTEM=memory\0"), -ENOENT);
	want_err("SUBSYSTEM=memoryx",
		 DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memoryx\0"), -ENOENT);
	want_err("synthetic non-memory event",
		 DG("add@/devices/system/cpu/cpu1\0ACTION=add\0DEVPATH=/devices/system/cpu/cpu1\0SUBSYSTEM=cpu\0SYNTH_UUID=0\0"),
		 -ENOENT);
}

static void test_malformed(void)
{
	struct mz_uevent ev;
	const char nonul[] = { 'a', 'd', 'd', '@', '/', 'x' };
	int r;

	want_err("header action differs from ACTION=",
		 DG("add@" MEM32 "\0ACTION=remove\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("ACTION= a prefix of the header's action",
		 DG("online@" MEM32 "\0ACTION=on\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("header action a prefix of ACTION=",
		 DG("on@" MEM32 "\0ACTION=online\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("header devpath differs from DEVPATH=",
		 DG("add@/devices/system/memory/memory33\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("DEVPATH= longer than the header's",
		 DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "0\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("no '@' in the header",
		 DG("add" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("empty action in the header", DG("@" MEM32 "\0ACTION=\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("empty header", DG("\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	want_err("a single NUL", DG("\0"), -EINVAL);
	want_err("length 0", "add@" MEM32, 0, -EINVAL);
	want_err("no NUL at all", nonul, sizeof(nonul), -EINVAL);
	want_err("header only", DG("add@" MEM32 "\0"), -EINVAL);
	want_err("header without its NUL", DG("add@" MEM32), -EINVAL);
	want_err("last field without its NUL", DG("add@" MEM32 "\0ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory"), -EINVAL);
	want_err("bytes after the last NUL", DG(ADD32 "garbage"), -EINVAL);
	want_err("missing ACTION", DG("add@" MEM32 "\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=1\0"), -EINVAL);
	want_err("missing DEVPATH", DG("add@" MEM32 "\0ACTION=add\0SUBSYSTEM=memory\0SEQNUM=1\0"), -EINVAL);
	want_err("missing ACTION and DEVPATH", DG("add@" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	/* the length says where the datagram ends, not a NUL: the same bytes cut short are malformed */
	want_err("datagram cut inside the last field", ADD32, sizeof(ADD32) - 1 - 3, -EINVAL);
	want_err("datagram cut inside DEVPATH", ADD32, strlen(ADD32) + 1 + strlen("ACTION=add") + 1 + 12, -EINVAL);

	/* udevd's re-broadcast (libudev's monitor_netlink_header, then the properties): "libudev\0",
	 * magic 0xfeedcafe big-endian, header size 40, properties at 40, their length, filter hashes */
	{
		static const char props[] = "ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SEQNUM=2041\0USEC_INITIALIZED=123456\0";
		unsigned char dg[40 + sizeof(props)];
		const unsigned char hdr[40] = { 'l', 'i', 'b', 'u', 'd', 'e', 'v', 0, 0xfe, 0xed, 0xca, 0xfe,
						40, 0, 0, 0, 40, 0, 0, 0, sizeof(props) - 1, 0, 0, 0,
						0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

		memcpy(dg, hdr, sizeof(hdr));
		memcpy(dg + sizeof(hdr), props, sizeof(props) - 1);
		r = parse((const char *)dg, sizeof(hdr) + sizeof(props) - 1, &ev);
		ok(r < 0, "libudev-format message of a memory add: not an event (%d)", r);
		/* even with an '@' where the kernel header would have it (the header size byte) */
		dg[12] = '@';
		r = parse((const char *)dg, sizeof(hdr) + sizeof(props) - 1, &ev);
		ok(r < 0, "libudev-format message with an '@' in its binary header: not an event (%d)", r);
		/* the magic alone, no properties */
		r = parse((const char *)hdr, sizeof(hdr), &ev);
		ok(r < 0, "libudev header alone: not an event (%d)", r);
	}

	/* actions longer than ev.action holds are no event of interest, and nothing is written past it */
	{
		static const char a16[] = "abcdefghijklmnop@" MEM32 "\0ACTION=abcdefghijklmnop\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0";
		static const char along[] = "add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add@" MEM32
					    "\0ACTION=add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add-add\0DEVPATH=" MEM32
					    "\0SUBSYSTEM=memory\0";

		r = parse(DG(a16), &ev);
		ok(r != 0 && r < 0, "16-character action: not 0 (%d)", r);
		r = parse(DG(along), &ev);
		ok(r != 0 && r < 0, "71-character action: not 0 (%d)", r);
		/* the same long action disagreeing with a short header is still malformed */
		want_err("long ACTION=, short header action",
			 DG("add@" MEM32 "\0ACTION=add-add-add-add-add-add-add-add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0"), -EINVAL);
	}
}

/* Far more than a kernel uevent holds (UEVENT_BUFFER_SIZE, 2048): the fields it needs after a
 * megabyte of others, all walked without reading past the end. */
static void test_big(void)
{
	size_t cap = 1u << 20, len = 0;
	char *buf = malloc(cap + 256);

	if (!buf)
		abort();
	memcpy(buf, DG("add@" MEM32 "\0"));
	len = sizeof("add@" MEM32);
	while (len + 16 < cap) {
		memcpy(buf + len, "FILLER=xxxxxxx", 15); /* 14 bytes + its NUL */
		len += 15;
	}
	memcpy(buf + len, DG("ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SYNTH_UUID=0\0"));
	len += sizeof("ACTION=add\0DEVPATH=" MEM32 "\0SUBSYSTEM=memory\0SYNTH_UUID=0\0") - 1;
	want_block("fields after 1 MiB of others", buf, len, "add", 32, true);
	free(buf);
}

int main(void)
{
	test_memory_events();
	test_other_events();
	test_malformed();
	test_big();
	return tap_done();
}
