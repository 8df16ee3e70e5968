/* mzprobe - measurements inside the benchmark VM guest (built static, put into the initramfs).
 *
 * Not part of memzone: a probe for the bench/vm scripts. Busybox shell loops are too slow under TCG to
 * time hot-add or to sample zones several times a second, so these loops are in C.
 *
 *   mzprobe uevents --new N [--timeout S]
 *       Listens to the kernel's uevents (netlink, no udev involved), prints "READY", then waits until
 *       N memory blocks were added and every added block has come online. Prints one line
 *         DONE added=64 online_events=64 first_add_ms=.. last_add_ms=.. all_online_ms=.. zones=Movable:64
 *       (milliseconds after READY, guest CLOCK_MONOTONIC), or "TIMEOUT ..." and exits 1.
 *   mzprobe sample [--interval-ms MS] [--duration S] [--until FILE] [--boot-blocks FILE]
 *       One tab-separated line per interval (header first): kernel-zone managed/free/min/low/high
 *       and Movable managed/free (KiB, summed over nodes), PageTables, SUnreclaim, KernelStack
 *       (KiB), oom_kill, allocstall (kernel zones), compactstall, PSI memory some/full avg10, hot-added
 *       blocks in Movable / kernel zones / offline, and zone changes of hot-added blocks so far
 *       (moves). Hot-added = not listed in --boot-blocks (default /run/mzvm/boot-blocks).
 *       Stops after --duration seconds or when FILE exists.
 *   mzprobe timewrite FILE VALUE
 *       One write(2) of VALUE to FILE (a sysfs attribute), timed: "WRITE us=N rc=0|errno name".
 *   mzprobe spawn N PROGRAM [ARG...]
 *       Runs PROGRAM N times, one after the other (fork + exec + wait, output to /dev/null, as udevd
 *       runs a RUN+= program), and prints "SPAWN n=N median_us=.. min_us=.. max_us=.. failed=..".
 *   mzprobe pageflags [--kpageflags FILE] [--block-size BYTES] BLOCK...
 *       What the pages of each memory block are, from /proc/kpageflags, one line per block:
 *         memoryN: free=.. lru=.. slab=.. pgtable=.. reserved=.. noflags=.. other=..
 *       (the first class that applies: buddy, reserved, slab, page table, LRU, no flag at all, other;
 *       classes with no page are left out). --block-size defaults to the guest's block_size_bytes.
 */
#ifndef _GNU_SOURCE /* the project build defines it in build-config.h */
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEMDIR "/sys/devices/system/memory"
#define MAX_BLOCKS 65536

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
	fprintf(stderr, "mzprobe: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fputs("usage: mzprobe uevents --new N [--timeout S]\n"
	      "       mzprobe sample [--interval-ms MS] [--duration S] [--until FILE] [--boot-blocks FILE]\n"
	      "       mzprobe timewrite FILE VALUE\n"
	      "       mzprobe spawn N PROGRAM [ARG...]\n"
	      "       mzprobe pageflags [--kpageflags FILE] [--block-size BYTES] BLOCK...\n",
	      stderr);
	exit(2);
}

/* First line of a small file into buf; false when unreadable. */
static bool read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

/* Zone of an online block ("Movable", "Normal", ...) or "offline"/"gone". */
static const char *block_zone(unsigned long id, char *buf, size_t len)
{
	char path[128];
	snprintf(path, sizeof path, MEMDIR "/memory%lu/state", id);
	if (!read_line(path, buf, len))
		return "gone";
	if (strcmp(buf, "online"))
		return "offline";
	snprintf(path, sizeof path, MEMDIR "/memory%lu/valid_zones", id);
	if (!read_line(path, buf, len))
		return "gone";
	buf[strcspn(buf, " ")] = 0; /* online: the current zone (older kernels list others after it) */
	return buf;
}

/* ------------------------------------------------------------------ uevents */

/* "ACTION@/devices/system/memory/memoryN" -> N, action copied; -1 for other devices */
static long memory_event(const char *msg, char *action, size_t alen)
{
	const char *at = strchr(msg, '@');
	const char *dev = "/devices/system/memory/memory";
	if (!at || (size_t)(at - msg) >= alen || strncmp(at + 1, dev, strlen(dev)))
		return -1;
	memcpy(action, msg, (size_t)(at - msg));
	action[at - msg] = 0;
	char *end;
	long id = strtol(at + 1 + strlen(dev), &end, 10);
	return *end ? -1 : id;
}

static int cmd_uevents(int argc, char **argv)
{
	long want = -1;
	double timeout = 120;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--new") && i + 1 < argc)
			want = atol(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else
			usage();
	}
	if (want <= 0 || want > MAX_BLOCKS)
		usage();

	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (s < 0)
		die("netlink socket");
	int sz = 16 << 20; /* a burst of hundreds of events must not overflow the queue */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel events */ };
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("netlink bind");

	static uint64_t added_at[MAX_BLOCKS + 1], online_at[MAX_BLOCKS + 1];
	static long order[MAX_BLOCKS];
	long nadded = 0, online_events = 0, nonline = 0;
	bool overflow = false;
	uint64_t t0 = now_us(), first_add = 0, last_add = 0;
	printf("READY\n");
	fflush(stdout);

	char buf[8192], action[32];
	while (nadded < want || nonline < nadded) {
		int left = (int)(timeout * 1000 - (double)(now_us() - t0) / 1000);
		if (left <= 0) {
			printf("TIMEOUT added=%ld online=%ld online_events=%ld%s\n", nadded, nonline, online_events,
			       overflow ? " overflow=1" : "");
			return 1;
		}
		struct pollfd p = { .fd = s, .events = POLLIN };
		int r = poll(&p, 1, left < 200 ? left : 200);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r <= 0) {
			/* after a queue overflow events are lost: fall back to the blocks' state files */
			if (overflow)
				for (long i = 0; i < nadded; i++) {
					long id = order[i];
					char z[64];
					if (!online_at[id] && strcmp(block_zone((unsigned long)id, z, sizeof z), "offline")) {
						online_at[id] = now_us();
						nonline++;
					}
				}
			continue;
		}
		ssize_t n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)
				overflow = true;
			else if (errno != EAGAIN && errno != EINTR)
				die("recv");
			continue;
		}
		buf[n] = 0;
		uint64_t t = now_us();
		long id = memory_event(buf, action, sizeof action);
		if (id < 0 || id > MAX_BLOCKS)
			continue;
		if (!strcmp(action, "add") && !added_at[id]) {
			added_at[id] = t;
			order[nadded++] = id;
			if (!first_add)
				first_add = t;
			last_add = t;
		} else if (!strcmp(action, "online") && added_at[id]) {
			online_events++;
			if (!online_at[id]) {
				online_at[id] = t;
				nonline++;
			}
		}
	}
	/* the moment the last block came online, not when the loop noticed it */
	uint64_t last_online = 0;
	for (long i = 0; i < nadded; i++)
		if (online_at[order[i]] > last_online)
			last_online = online_at[order[i]];

	/* zones as the blocks are now (a rezoned block was onlined twice) */
	char zones[512] = "";
	struct { char name[32]; int n; } zc[8];
	int nz = 0;
	for (long i = 0; i < nadded; i++) {
		char z[64];
		const char *name = block_zone((unsigned long)order[i], z, sizeof z);
		int j;
		for (j = 0; j < nz && strcmp(zc[j].name, name); j++)
			;
		if (j == nz && nz < 8) {
			snprintf(zc[nz].name, sizeof zc[nz].name, "%s", name);
			zc[nz++].n = 0;
		}
		if (j < nz)
			zc[j].n++;
	}
	for (int j = 0; j < nz; j++) {
		size_t l = strlen(zones);
		snprintf(zones + l, sizeof zones - l, "%s%s:%d", j ? "," : "", zc[j].name, zc[j].n);
	}
	printf("DONE added=%ld online_events=%ld first_add_ms=%.1f last_add_ms=%.1f all_online_ms=%.1f zones=%s%s\n",
	       nadded, online_events, (double)(first_add - t0) / 1000, (double)(last_add - t0) / 1000,
	       (double)(last_online - t0) / 1000, zones, overflow ? " overflow=1" : "");
	return 0;
}

/* ------------------------------------------------------------------ sample */

struct zsum {
	uint64_t managed, free, min, low, high; /* pages */
};

static void read_zoneinfo(struct zsum *kern, struct zsum *mov)
{
	memset(kern, 0, sizeof *kern);
	memset(mov, 0, sizeof *mov);
	FILE *f = fopen("/proc/zoneinfo", "re");
	if (!f)
		return;
	char line[512], zone[64] = "";
	struct zsum *cur = NULL;
	while (fgets(line, sizeof line, f)) {
		char k1[64], k2[64];
		unsigned long long v;
		if (sscanf(line, "Node %*d, zone %63s", zone) == 1) {
			cur = !strcmp(zone, "Movable") ? mov : !strcmp(zone, "Device") ? NULL : kern;
			continue;
		}
		if (!cur)
			continue;
		if (sscanf(line, " %63s %63s %llu", k1, k2, &v) == 3 && !strcmp(k1, "pages") && !strcmp(k2, "free"))
			cur->free += v;
		else if (sscanf(line, " %63s %llu", k1, &v) == 2) {
			if (!strcmp(k1, "min"))
				cur->min += v;
			else if (!strcmp(k1, "low"))
				cur->low += v;
			else if (!strcmp(k1, "high"))
				cur->high += v;
			else if (!strcmp(k1, "managed"))
				cur->managed += v;
		}
	}
	fclose(f);
}

/* value of "Key:" in /proc/meminfo (kB), or of "key" in /proc/vmstat */
static uint64_t kv(const char *path, const char *key, bool colon)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char line[256];
	size_t kl = strlen(key);
	uint64_t v = 0;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && (colon ? line[kl] == ':' : line[kl] == ' ')) {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static uint64_t vmstat_allocstall(void)
{
	/* kernel-zone direct reclaim: allocstall_{dma,dma32,normal} (allocstall_movable is user memory) */
	return kv("/proc/vmstat", "allocstall_dma", false) + kv("/proc/vmstat", "allocstall_dma32", false) +
	       kv("/proc/vmstat", "allocstall_normal", false);
}

static void psi(double *some, double *full)
{
	*some = *full = -1;
	FILE *f = fopen("/proc/pressure/memory", "re");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		double v;
		if (sscanf(line, "some avg10=%lf", &v) == 1)
			*some = v;
		else if (sscanf(line, "full avg10=%lf", &v) == 1)
			*full = v;
	}
	fclose(f);
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

static bool is_boot_block(const unsigned long *boot, size_t n, unsigned long id)
{
	return bsearch(&id, boot, n, sizeof *boot, cmp_ul) != NULL;
}

static int cmd_sample(int argc, char **argv)
{
	long interval_ms = 500;
	double duration = -1;
	const char *until = NULL, *boot_file = "/run/mzvm/boot-blocks";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--duration") && i + 1 < argc)
			duration = atof(argv[++i]);
		else if (!strcmp(argv[i], "--until") && i + 1 < argc)
			until = argv[++i];
		else if (!strcmp(argv[i], "--boot-blocks") && i + 1 < argc)
			boot_file = argv[++i];
		else
			usage();
	}
	if (interval_ms <= 0)
		usage();

	static unsigned long boot[MAX_BLOCKS];
	size_t nboot = 0;
	FILE *bf = fopen(boot_file, "re");
	if (bf) {
		while (nboot < MAX_BLOCKS && fscanf(bf, "%lu", &boot[nboot]) == 1)
			nboot++;
		fclose(bf);
	}
	qsort(boot, nboot, sizeof *boot, cmp_ul);
	static char last_zone[MAX_BLOCKS + 1][12];
	unsigned moves = 0;

	printf("t_ms\tkern_managed_kb\tkern_free_kb\tkern_min_kb\tkern_low_kb\tkern_high_kb\tmov_managed_kb\t"
	       "mov_free_kb\tpagetables_kb\tsunreclaim_kb\tkstack_kb\toom_kill\tallocstall\tcompactstall\t"
	       "psi_some10\tpsi_full10\thot_movable\thot_kernel\thot_offline\tmoves\n");
	fflush(stdout);
	uint64_t t0 = now_us();
	for (uint64_t tick = 0;; tick++) {
		uint64_t t = now_us();
		struct zsum k, m;
		read_zoneinfo(&k, &m);
		double some, full;
		psi(&some, &full);
		unsigned hot_mov = 0, hot_kern = 0, hot_off = 0;
		DIR *d = opendir(MEMDIR);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			unsigned long id;
			char *end;
			if (strncmp(de->d_name, "memory", 6) || !de->d_name[6])
				continue;
			id = strtoul(de->d_name + 6, &end, 10);
			if (*end || id > MAX_BLOCKS || is_boot_block(boot, nboot, id))
				continue;
			char z[64];
			const char *zone = block_zone(id, z, sizeof z);
			if (!strcmp(zone, "gone"))
				continue;
			if (!strcmp(zone, "offline"))
				hot_off++;
			else if (!strcmp(zone, "Movable"))
				hot_mov++;
			else
				hot_kern++;
			/* a zone change of an online block is a move (offline in between is not one yet) */
			if (strcmp(zone, "offline")) {
				if (last_zone[id][0] && strcmp(last_zone[id], zone))
					moves++;
				snprintf(last_zone[id], sizeof last_zone[id], "%s", zone);
			}
		}
		if (d)
			closedir(d);
		printf("%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%.2f\t%.2f\t%u\t%u\t%u\t%u\n",
		       (unsigned long long)((t - t0) / 1000), (unsigned long long)k.managed * 4,
		       (unsigned long long)k.free * 4, (unsigned long long)k.min * 4, (unsigned long long)k.low * 4,
		       (unsigned long long)k.high * 4, (unsigned long long)m.managed * 4, (unsigned long long)m.free * 4,
		       (unsigned long long)kv("/proc/meminfo", "PageTables", true),
		       (unsigned long long)kv("/proc/meminfo", "SUnreclaim", true),
		       (unsigned long long)kv("/proc/meminfo", "KernelStack", true),
		       (unsigned long long)kv("/proc/vmstat", "oom_kill", false), (unsigned long long)vmstat_allocstall(),
		       (unsigned long long)kv("/proc/vmstat", "compactstall", false), some, full, hot_mov, hot_kern,
		       hot_off, moves);
		fflush(stdout);
		if (duration >= 0 && (double)(now_us() - t0) / 1e6 >= duration)
			break;
		if (until && access(until, F_OK) == 0)
			break;
		uint64_t next = t0 + (tick + 1) * (uint64_t)interval_ms * 1000u;
		uint64_t cur = now_us();
		if (next > cur) {
			struct timespec ts = { (time_t)((next - cur) / 1000000u), (long)((next - cur) % 1000000u) * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ timewrite */

static int cmd_timewrite(int argc, char **argv)
{
	if (argc != 2)
		usage();
	size_t len = strlen(argv[1]);
	int fd = open(argv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(argv[0]);
	uint64_t t = now_us();
	ssize_t n = write(fd, argv[1], len);
	int err = n < 0 ? errno : 0;
	t = now_us() - t;
	close(fd);
	printf("WRITE us=%llu rc=%s\n", (unsigned long long)t, err ? strerrorname_np(err) : "0");
	return err ? 1 : 0;
}

/* ------------------------------------------------------------------ spawn */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_spawn(int argc, char **argv)
{
	if (argc < 2)
		usage();
	long n = atol(argv[0]);
	if (n <= 0 || n > 100000)
		usage();
	uint64_t *t = calloc((size_t)n, sizeof *t);
	if (!t)
		die("calloc");
	long failed = 0;
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_us();
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execvp(argv[1], argv + 1);
			_exit(127);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		t[i] = now_us() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	qsort(t, (size_t)n, sizeof *t, cmp_u64);
	uint64_t med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	printf("SPAWN n=%ld median_us=%llu min_us=%llu max_us=%llu failed=%ld\n", n, (unsigned long long)med,
	       (unsigned long long)t[0], (unsigned long long)t[n - 1], failed);
	free(t);
	return 0;
}

/* ------------------------------------------------------------------ pageflags */

/* Why an offline is refused: slab, page-table and reserved pages cannot be migrated away. The
 * shell version of this loop (dd | od | awk over 32768 words a block) takes minutes under TCG. */
static int cmd_pageflags(int argc, char **argv)
{
	static const char *const names[] = { "free", "reserved", "slab", "pgtable", "lru", "noflags", "other" };
	const char *path = "/proc/kpageflags";
	uint64_t bs = 0;
	int i = 0;

	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--kpageflags"))
			path = argv[i + 1];
		else if (!strcmp(argv[i], "--block-size"))
			bs = strtoull(argv[i + 1], NULL, 0);
		else
			usage();
	}
	if (i >= argc)
		usage();
	if (!bs) {
		char buf[64];
		if (!read_line(MEMDIR "/block_size_bytes", buf, sizeof buf))
			die(MEMDIR "/block_size_bytes");
		bs = strtoull(buf, NULL, 16);
	}
	uint64_t n = bs / 4096;
	if (!n)
		usage();
	uint64_t *w = malloc(n * sizeof *w);
	if (!w)
		die("malloc");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	int rc = 0;
	for (; i < argc; i++) {
		unsigned long id = strtoul(argv[i], NULL, 10);
		ssize_t got = pread(fd, w, n * sizeof *w, (off_t)(id * n * sizeof *w));
		if (got != (ssize_t)(n * sizeof *w)) {
			fprintf(stderr, "mzprobe: %s: block %lu: short read\n", path, id);
			rc = 1;
			continue;
		}
		uint64_t c[7] = { 0 };
		for (uint64_t k = 0; k < n; k++) {
			uint64_t f = w[k];
			c[f >> 10 & 1 ? 0 : f >> 32 & 1 ? 1 : f >> 7 & 1 ? 2 : f >> 26 & 1 ? 3 : f >> 5 & 1 ? 4 : !f ? 5 : 6]++;
		}
		printf("memory%lu:", id);
		for (size_t k = 0; k < 7; k++)
			if (c[k])
				printf(" %s=%llu", names[k], (unsigned long long)c[k]);
		putchar('\n');
	}
	close(fd);
	free(w);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "uevents"))
		return cmd_uevents(argc - 2, argv + 2);
	if (!strcmp(argv[1], "sample"))
		return cmd_sample(argc - 2, argv + 2);
	if (!strcmp(argv[1], "timewrite"))
		return cmd_timewrite(argc - 2, argv + 2);
	if (!strcmp(argv[1], "spawn"))
		return cmd_spawn(argc - 2, argv + 2);
	if (!strcmp(argv[1], "pageflags"))
		return cmd_pageflags(argc - 2, argv + 2);
	usage();
}
