/* iomem.c - /proc/iomem: which hot-added ranges belong to which source and device
 *
 * Each line is "START-END : NAME" (hex, inclusive), indented two spaces per nesting level:
 *
 *   100000000-13fffffff : System RAM                  boot memory (or a hot-added ACPI DIMM)
 *   140000000-33fffffff : virtio0
 *     140000000-1bfffffff : System RAM (virtio_mem)   virtio-mem, device virtio0
 *   490000000-50fffffff : CXL Window 0
 *     490000000-50fffffff : region0
 *       490000000-50fffffff : dax0.0
 *         490000000-50fffffff : System RAM (kmem)     dax/kmem, device dax0.0
 *
 * Without CAP_SYS_ADMIN every address reads as 0 (5.x+): `zeroed` says so and no owner is guessed.
 */
#include "iomem.h"
#include "textscan.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's resource tree is a handful of levels deep; far deeper is garbage, and the bound
 * keeps owner lookups (a walk up the parents) cheap on any input. */
#define IOMEM_DEPTH_MAX 32

static const char *const source_names[MZ_SOURCE__COUNT] = {
	[MZ_SOURCE_BOOT] = "boot",
	[MZ_SOURCE_DIMM] = "dimm",
	[MZ_SOURCE_VIRTIO_MEM] = "virtio_mem",
	[MZ_SOURCE_KMEM] = "kmem",
	[MZ_SOURCE_OTHER] = "other",
};

const char *mz_source_name(enum mz_source s)
{
	return (unsigned)s < MZ_SOURCE__COUNT ? source_names[s] : "other";
}

int mz_source_from_name(const char *name, enum mz_source *s)
{
	for (int i = 0; i < MZ_SOURCE__COUNT; i++)
		if (strcmp(name, source_names[i]) == 0) {
			*s = (enum mz_source)i;
			return 0;
		}
	return -EINVAL;
}

/* Hex digits up to the first non-hex character; leading zeros are fine, 65 bits are not. */
static int hex_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int digits = 0;

	for (; p < end; p++) {
		char c = *p;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (v >> 60)
			return -ERANGE;
		v = v << 4 | d;
		digits++;
	}
	if (digits == 0)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int parse_line(const char *p, const char *end, size_t line, int prev_depth, struct mz_iomem_res *res,
		      char *err, size_t errlen)
{
	const char *name;
	size_t indent = 0, n;
	int r;

	while (p + indent < end && p[indent] == ' ')
		indent++;
	if (p + indent < end && p[indent] == '\t')
		return scan_fail(err, errlen, line, "indented with a TAB (expected 2 spaces per level)");
	if (indent % 2)
		return scan_fail(err, errlen, line, "indented by %zu spaces (expected 2 per level)", indent);
	res->depth = (int)(indent / 2);
	if (prev_depth < 0 && res->depth > 0)
		return scan_fail(err, errlen, line, "the first resource is indented (a top-level line is expected)");
	if (res->depth > prev_depth + 1)
		return scan_fail(err, errlen, line, "nested %d levels below the line before (expected at most 1)",
			    res->depth - prev_depth);
	if (res->depth > IOMEM_DEPTH_MAX)
		return scan_fail(err, errlen, line, "nested deeper than %d levels", IOMEM_DEPTH_MAX);
	p += indent;
	r = hex_u64(&p, end, &res->start);
	if (r == 0 && (p == end || *p != '-'))
		r = -EINVAL;
	if (r == 0) {
		p++;
		r = hex_u64(&p, end, &res->end);
	}
	if (r == -ERANGE)
		return scan_fail(err, errlen, line, "address does not fit in 64 bits");
	if (r < 0)
		return scan_fail(err, errlen, line, "expected 'START-END : NAME' with hex addresses");
	if (res->end < res->start)
		return scan_fail(err, errlen, line, "range %" PRIx64 "-%" PRIx64 " ends before it starts", res->start, res->end);
	/* " : NAME"; a resource without a name prints an empty one */
	if (end - p < 2 || memcmp(p, " :", 2) != 0)
		return scan_fail(err, errlen, line, "expected ' : ' after the range");
	p += 2;
	if (p < end && *p == ' ')
		p++;
	name = p;
	n = (size_t)(end - name);
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\r'))
		n--;
	if (n >= sizeof(res->name))
		n = sizeof(res->name) - 1; /* a label only: long names are driver strings, not ones we match */
	memcpy(res->name, name, n);
	res->name[n] = '\0';
	return 0;
}

int mz_iomem_parse(const char *text, struct mz_iomem *io, char *err, size_t errlen)
{
	int parents[IOMEM_DEPTH_MAX + 1];
	size_t cap = 0, line = 0;
	const char *p = text;
	bool all_zero = true;
	int prev_depth = -1, r = 0;

	memset(io, 0, sizeof(*io));
	if (err && errlen)
		err[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		struct mz_iomem_res res;
		const char *q = p;

		line++;
		while (q < end && (*q == ' ' || *q == '\r'))
			q++;
		if (q == end) { /* blank line */
			p = nl ? nl + 1 : end;
			continue;
		}
		memset(&res, 0, sizeof(res));
		r = parse_line(p, end, line, prev_depth, &res, err, errlen);
		if (r < 0)
			break;
		res.parent = res.depth ? parents[res.depth - 1] : -1;
		parents[res.depth] = (int)io->n;
		prev_depth = res.depth;
		if (res.start || res.end)
			all_zero = false;
		if (io->n == cap) {
			cap = cap ? cap * 2 : 64;
			io->res = mz_xrealloc(io->res, cap * sizeof(*io->res));
		}
		io->res[io->n++] = res;
		if (io->n > INT32_MAX) {
			r = scan_fail(err, errlen, line, "more than %d resources", INT32_MAX);
			break;
		}
		p = nl ? nl + 1 : end;
	}
	if (r == 0 && io->n == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no resources (empty file?)");
		r = -ENODATA;
	}
	if (r < 0) {
		mz_iomem_free(io);
		return r;
	}
	io->zeroed = all_zero;
	return 0;
}

int mz_iomem_read(struct mz_iomem *io, char *err, size_t errlen)
{
	char path[MZ_PATH_MAX], why[200];
	char *text;
	int r;

	memset(io, 0, sizeof(*io));
	r = mz_read_proc_file("/proc/iomem", path, &text, err, errlen);
	if (r < 0)
		return r;
	r = mz_iomem_parse(text, io, why, sizeof(why));
	free(text);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return r;
}

void mz_iomem_free(struct mz_iomem *io)
{
	free(io->res);
	memset(io, 0, sizeof(*io));
}

/* "virtio12" */
static bool is_virtio_name(const char *s)
{
	if (strncmp(s, "virtio", 6) != 0 || !s[6])
		return false;
	for (s += 6; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "dax0.0", "dax12.3" */
static bool is_dax_name(const char *s)
{
	bool dot = false;
	int digits = 0;

	if (strncmp(s, "dax", 3) != 0)
		return false;
	for (s += 3; *s; s++) {
		if (*s == '.' && !dot && digits) {
			dot = true;
			digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			digits++;
		} else {
			return false;
		}
	}
	return dot && digits;
}

static bool is_device_name(const char *s) { return is_virtio_name(s) || is_dax_name(s); }

/* The nearest ancestor of res i whose name matches, or -1. */
static int find_ancestor(const struct mz_iomem *io, int i, bool (*match)(const char *))
{
	for (int a = io->res[i].parent; a >= 0; a = io->res[a].parent)
		if (match(io->res[a].name))
			return a;
	return -1;
}

/* Source and device from the RAM resource's own name first ("System RAM (kmem)" belongs to its
 * daxX.Y), else from the nearest virtioN / daxX.Y above it. */
static void set_owner(struct mz_iomem_owner *owner, const struct mz_iomem *io, int ram)
{
	const struct mz_iomem_res *r = &io->res[ram];
	int dev = -1;

	if (strcmp(r->name, "System RAM (virtio_mem)") == 0) {
		owner->source = MZ_SOURCE_VIRTIO_MEM;
		dev = find_ancestor(io, ram, is_virtio_name);
	} else if (strcmp(r->name, "System RAM (kmem)") == 0) {
		owner->source = MZ_SOURCE_KMEM;
		dev = find_ancestor(io, ram, is_dax_name);
	} else if ((dev = find_ancestor(io, ram, is_device_name)) >= 0) {
		owner->source = is_virtio_name(io->res[dev].name) ? MZ_SOURCE_VIRTIO_MEM : MZ_SOURCE_KMEM;
	} else if (strcmp(r->name, "System RAM") == 0 && r->depth == 0) {
		owner->source = MZ_SOURCE_BOOT;
	} else { /* "System RAM (something else)", or RAM nested under an unknown parent */
		owner->source = MZ_SOURCE_OTHER;
	}
	if (dev >= 0)
		r = &io->res[dev];
	snprintf(owner->device, sizeof(owner->device), "%s", dev >= 0 ? r->name : "");
	owner->dev_start = r->start;
	owner->dev_end = r->end;
}

int mz_iomem_owner(const struct mz_iomem *io, uint64_t start, struct mz_iomem_owner *owner)
{
	int best = -1;

	if (io->zeroed)
		return -ENODATA;
	/* The innermost "System RAM..." resource covering start. Ranges of one level never overlap, so
	 * there is one per level at most. A linear pass costs ~0.1 ms for 131072 lines, once per event. */
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *r = &io->res[i];

		if (start < r->start || start > r->end || strncmp(r->name, "System RAM", 10) != 0)
			continue;
		if (best < 0 || r->depth > io->res[best].depth)
			best = (int)i;
	}
	if (best < 0)
		return -ENOENT;
	set_owner(owner, io, best);
	return 0;
}
