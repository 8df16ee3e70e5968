/* loadgen - build unmovable kernel memory inside the test VM at a controlled rate.
 *
 * Built by the VM harness with the host compiler (gcc -O2 -static) and put into the guest
 * initramfs as /usr/bin/loadgen.  It is a test tool, not part of memzone.
 *
 *   loadgen pt    --target SIZE [--rate MIB_PER_S] [--hold SECONDS]
 *       Page tables: one read fault per 2 MiB of a huge PROT_READ, MAP_NORESERVE anonymous
 *       mapping with THP disabled.  Each fault in a fresh 2 MiB region allocates one page-table
 *       page (4 KiB, unmovable, from a kernel zone) and maps the shared zero page, so no user
 *       memory is used.  SIZE is bytes of page tables (512 GiB of address space per GiB).
 *   loadgen files --count N | --target SIZE [--rate FILES_PER_S] [--hold SECONDS] [--dir DIR]
 *       Empty files on a tmpfs: shmem inodes + dentries (unreclaimable slab while they exist).
 *       --target assumes ~1 KiB of slab per file.  DIR defaults to /tmp/loadgen.
 *   loadgen anon  --target SIZE [--rate MIB_PER_S] [--hold SECONDS]
 *       Ordinary anonymous memory, written (movable user pages), for contrast.
 *
 * --rate 0 (default) means as fast as possible.  --hold -1 holds until SIGTERM/SIGINT.
 * After the hold, everything is released (munmap / unlink) and loadgen exits 0.
 * Progress lines go to stdout, one per --progress seconds (default 1):
 *   loadgen: pt built=64.0MiB target=256.0MiB VmPTE=65600kB elapsed=1.00s
 * and the final lines are "loadgen: holding ...", "loadgen: released ..." and "loadgen: done".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define REGION (2UL << 20) /* one page-table page maps 2 MiB */
#define PTPAGE 4096UL

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
	nanosleep(&ts, NULL); /* EINTR: caller re-checks stop */
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	uint64_t m = 1;
	switch (*end) {
	case 'k': case 'K': m = 1ULL << 10; end++; break;
	case 'm': case 'M': m = 1ULL << 20; end++; break;
	case 'g': case 'G': m = 1ULL << 30; end++; break;
	case 't': case 'T': m = 1ULL << 40; end++; break;
	}
	if (m > 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * m);
	return 0;
}

static long vm_pte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmPTE: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void usage(void)
{
	fputs("usage: loadgen pt    --target SIZE [--rate MiB/s] [--hold S] [--progress S]\n"
	      "       loadgen files --count N|--target SIZE [--rate files/s] [--hold S] [--dir DIR]\n"
	      "       loadgen anon  --target SIZE [--rate MiB/s] [--hold S]\n",
	      stderr);
	exit(2);
}

struct opts {
	const char *mode;
	uint64_t target; /* bytes */
	uint64_t count;  /* files */
	double rate;     /* MiB/s (pt, anon) or files/s (files); 0 = unlimited */
	double hold;     /* seconds; <0 = until signal */
	double progress;
	const char *dir;
};

static void hold_phase(const struct opts *o)
{
	if (o->hold < 0)
		printf("loadgen: holding until signal\n");
	else
		printf("loadgen: holding for %.1fs\n", o->hold);
	fflush(stdout);
	double end = now() + o->hold;
	while (!stop && (o->hold < 0 || now() < end))
		sleep_until(o->hold < 0 ? now() + 1 : (end < now() + 1 ? end : now() + 1));
}

/* Paced loop: do `units` steps, each of `unit_bytes` (for the rate), calling step(i). */
typedef int (*step_fn)(uint64_t i, void *ctx);
static uint64_t paced(const struct opts *o, uint64_t units, double unit_amount, step_fn step, void *ctx,
		      void (*report)(uint64_t done, double elapsed, void *ctx))
{
	double t0 = now(), next_report = t0 + o->progress;
	uint64_t i;
	for (i = 0; i < units && !stop; i++) {
		if (step(i, ctx) < 0)
			break;
		if (o->rate > 0 && (i & 63) == 63)
			sleep_until(t0 + (double)(i + 1) * unit_amount / o->rate);
		if ((i & 255) == 255 && now() >= next_report) {
			report(i + 1, now() - t0, ctx);
			next_report += o->progress;
		}
	}
	report(i, now() - t0, ctx);
	return i;
}

/* ---- pt */
struct pt_ctx { volatile char *base; uint64_t target; };
static int pt_step(uint64_t i, void *c)
{
	struct pt_ctx *p = c;
	(void)p->base[i * REGION]; /* read fault: zero page + one new page-table page */
	return 0;
}
static void pt_report(uint64_t done, double el, void *c)
{
	struct pt_ctx *p = c;
	printf("loadgen: pt built=%.1fMiB target=%.1fMiB VmPTE=%ldkB elapsed=%.2fs\n",
	       done * PTPAGE / MIB, p->target / MIB, vm_pte_kb(), el);
	fflush(stdout);
}

static int run_pt(const struct opts *o)
{
	uint64_t n = o->target / PTPAGE;
	if (!n)
		usage();
	size_t len = n * REGION;
	/* THP off: otherwise a read fault of an aligned 2 MiB region maps the huge zero page and
	 * allocates no page-table page at all. */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		perror("loadgen: prctl(PR_SET_THP_DISABLE)");
	void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "loadgen: mmap %zu bytes: %s\n", len, strerror(errno));
		return 1;
	}
	if (madvise(m, len, MADV_NOHUGEPAGE) < 0)
		perror("loadgen: madvise(MADV_NOHUGEPAGE)");
	struct pt_ctx c = { m, o->target };
	/* rate is MiB/s of page tables; one step = 4 KiB of page tables */
	paced(o, n, PTPAGE / MIB, pt_step, &c, pt_report);
	hold_phase(o);
	munmap(m, len);
	printf("loadgen: released pt VmPTE=%ldkB\n", vm_pte_kb());
	return 0;
}

/* ---- anon */
struct anon_ctx { char *base; uint64_t target; };
static int anon_step(uint64_t i, void *c)
{
	struct anon_ctx *a = c;
	memset(a->base + i * PTPAGE, 0x5a, PTPAGE);
	return 0;
}
static void anon_report(uint64_t done, double el, void *c)
{
	struct anon_ctx *a = c;
	printf("loadgen: anon built=%.1fMiB target=%.1fMiB elapsed=%.2fs\n", done * PTPAGE / MIB,
	       a->target / MIB, el);
	fflush(stdout);
}
static int run_anon(const struct opts *o)
{
	uint64_t n = o->target / PTPAGE;
	if (!n)
		usage();
	size_t len = n * PTPAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "loadgen: mmap %zu bytes: %s\n", len, strerror(errno));
		return 1;
	}
	struct anon_ctx c = { m, o->target };
	paced(o, n, PTPAGE / MIB, anon_step, &c, anon_report);
	hold_phase(o);
	munmap(m, len);
	printf("loadgen: released anon\n");
	return 0;
}

/* ---- files */
struct files_ctx { const char *dir; uint64_t count; uint64_t made; };
static int files_step(uint64_t i, void *c)
{
	struct files_ctx *f = c;
	char path[4096];
	snprintf(path, sizeof path, "%s/%" PRIu64, f->dir, i);
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	if (fd < 0) {
		fprintf(stderr, "loadgen: create %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	f->made = i + 1;
	return 0;
}
static void files_report(uint64_t done, double el, void *c)
{
	struct files_ctx *f = c;
	printf("loadgen: files built=%" PRIu64 " target=%" PRIu64 " elapsed=%.2fs\n", done, f->count, el);
	fflush(stdout);
}
static int run_files(const struct opts *o)
{
	uint64_t n = o->count ? o->count : o->target / 1024;
	if (!n)
		usage();
	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "loadgen: mkdir %s: %s\n", o->dir, strerror(errno));
		return 1;
	}
	struct files_ctx c = { o->dir, n, 0 };
	paced(o, n, 1.0, files_step, &c, files_report);
	hold_phase(o);
	char path[4096];
	for (uint64_t i = 0; i < c.made; i++) {
		snprintf(path, sizeof path, "%s/%" PRIu64, o->dir, i);
		unlink(path);
	}
	rmdir(o->dir);
	printf("loadgen: released %" PRIu64 " files\n", c.made);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .hold = 0, .progress = 1, .dir = "/tmp/loadgen" };
	if (argc < 2)
		usage();
	o.mode = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--target")) {
			if (parse_size(v, &o.target) < 0)
				usage();
		} else if (!strcmp(a, "--count")) {
			o.count = strtoull(v, NULL, 10);
		} else if (!strcmp(a, "--rate")) {
			o.rate = atof(v);
		} else if (!strcmp(a, "--hold")) {
			o.hold = atof(v);
		} else if (!strcmp(a, "--progress")) {
			o.progress = atof(v);
			if (o.progress <= 0)
				o.progress = 1;
		} else if (!strcmp(a, "--dir")) {
			o.dir = v;
		} else {
			usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int rc;
	if (!strcmp(o.mode, "pt"))
		rc = run_pt(&o);
	else if (!strcmp(o.mode, "files"))
		rc = run_files(&o);
	else if (!strcmp(o.mode, "anon"))
		rc = run_anon(&o);
	else
		usage();
	printf("loadgen: done\n");
	return rc;
}
