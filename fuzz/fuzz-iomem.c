/* fuzz-iomem.c - mz_iomem_parse + mz_iomem_owner on arbitrary text: no crash, no leak, a consistent tree */
#include "fuzz.h"
#include "iomem.h"

#include <errno.h>

static void check_owner(const struct mz_iomem *io, uint64_t addr)
{
	struct mz_iomem_owner owner;
	int r;

	memset(&owner, 0xa5, sizeof(owner));
	r = mz_iomem_owner(io, addr, &owner);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENODATA, "mz_iomem_owner(%#llx) returned %d", (unsigned long long)addr,
		   r);
	if (io->zeroed)
		FUZZ_CHECK(r == -ENODATA, "zeroed iomem but owner(%#llx) returned %d", (unsigned long long)addr, r);
	if (r != 0)
		return;
	FUZZ_CHECK((unsigned)owner.source < MZ_SOURCE__COUNT, "owner source %d out of range", (int)owner.source);
	FUZZ_CHECK(mz_source_name(owner.source) != NULL, "source %d has no name", (int)owner.source);
	FUZZ_CHECK(fuzz_terminated(owner.device, sizeof(owner.device)), "owner device not NUL-terminated");
	/* iomem.h: the device is a virtioN for virtio_mem, a daxX.Y for kmem, none for boot memory. */
	if (owner.source == MZ_SOURCE_VIRTIO_MEM && owner.device[0])
		FUZZ_CHECK(strncmp(owner.device, "virtio", 6) == 0, "virtio_mem owned by '%s'", owner.device);
	if (owner.source == MZ_SOURCE_KMEM && owner.device[0])
		FUZZ_CHECK(strncmp(owner.device, "dax", 3) == 0, "kmem owned by '%s'", owner.device);
	if (owner.source == MZ_SOURCE_BOOT)
		FUZZ_CHECK(owner.device[0] == '\0', "boot memory owned by '%s'", owner.device);
}

static void check_tree(const struct mz_iomem *io)
{
	bool all_zero = true;

	FUZZ_CHECK(io->n == 0 || io->res != NULL, "%zu resources but no array", io->n);
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *res = &io->res[i];

		FUZZ_CHECK(fuzz_terminated(res->name, sizeof(res->name)), "res %zu: name not NUL-terminated", i);
		FUZZ_CHECK(res->depth >= 0, "res %zu: depth %d", i, res->depth);
		if (res->depth == 0) {
			FUZZ_CHECK(res->parent == -1, "res %zu: top level with parent %d", i, res->parent);
		} else {
			/* The parent comes earlier in the file and is exactly one level up. */
			FUZZ_CHECK(res->parent >= 0 && (size_t)res->parent < i, "res %zu: depth %d, parent %d", i,
				   res->depth, res->parent);
			FUZZ_CHECK(io->res[res->parent].depth == res->depth - 1, "res %zu: depth %d, parent depth %d", i,
				   res->depth, io->res[res->parent].depth);
		}
		if (res->start || res->end)
			all_zero = false;
	}
	if (io->zeroed)
		FUZZ_CHECK(all_zero, "zeroed set but some address is not 0");
}

/* The parser is pure: a second parse of the same text gives the same tree. */
static void check_pure(const char *text, int r, const struct mz_iomem *io)
{
	struct mz_iomem again = { 0 };
	char *err = fuzz_errbuf();
	int r2 = mz_iomem_parse(text, &again, err, FUZZ_ERRLEN);

	FUZZ_CHECK(r2 == r, "second parse returned %d, first %d", r2, r);
	FUZZ_CHECK(again.n == io->n && again.zeroed == io->zeroed, "second parse: %zu resources, first %zu", again.n,
		   io->n);
	for (size_t i = 0; i < io->n; i++) {
		const struct mz_iomem_res *a = &io->res[i], *b = &again.res[i];

		FUZZ_CHECK(a->start == b->start && a->end == b->end && a->depth == b->depth && a->parent == b->parent &&
				   strcmp(a->name, b->name) == 0,
			   "second parse differs in resource %zu", i);
	}
	mz_iomem_free(&again);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mz_iomem io = { 0 };
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	int r;

	fuzz_quiet();
	r = mz_iomem_parse(text, &io, err, FUZZ_ERRLEN);
	fuzz_check_result("mz_iomem_parse", r, err);
	if (r == 0) {
		FUZZ_CHECK(io.n <= fuzz_count_lines(text, NULL), "%zu resources from %zu lines", io.n,
			   fuzz_count_lines(text, NULL));
		check_tree(&io);
		/* Every range's ends and neighbours: the lookups memzone does for each hot-added block. */
		for (size_t i = 0; i < io.n; i++) {
			check_owner(&io, io.res[i].start);
			check_owner(&io, io.res[i].end);
			check_owner(&io, io.res[i].end + 1);
			check_owner(&io, io.res[i].start - 1);
		}
		check_owner(&io, 0);
		check_owner(&io, UINT64_MAX);
	}
	check_pure(text, r, &io);
	mz_iomem_free(&io);
	free(err);
	free(text);
	return 0;
}
