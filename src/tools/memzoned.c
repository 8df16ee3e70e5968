/* memzoned.c - the rebalancer daemon: a timer and a uevent monitor on sd-event drive rebalance.c
 *
 * Each timer tick (and, coalesced, each memory-block uevent) runs one decision cycle. SIGTERM/SIGINT
 * stop, SIGHUP reloads the config (a bad one is refused and the old one kept). systemd hears READY,
 * STATUS, RELOADING, STOPPING and the watchdog, petted at every turn of the loop and after each
 * move of a tick (a tick's moves can take moves_per_tick x offline_timeout plus a lock wait:
 * clamped under WATCHDOG_USEC, watchdog.h); the signals sd-event blocks for its signalfd never
 * interrupt an offline write, the actuator's own timer signal does (unless the write sleeps
 * uninterruptibly in the kernel: no signal cuts that).
 */
#include "commands.h"
#include "config.h"
#include "daemon_state.h"
#include "lock.h"
#include "log.h"
#include "memblock.h"
#include "online.h"
#include "rebalance.h"
#include "snapshot.h"
#include "udevdb.h"
#include "units.h"
#include "util.h"
#include "watchdog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

/* uevents come in bursts (a DIMM: one add and one online per block): one cycle this long after the first */
#define EVENT_COALESCE_US (200 * 1000ull)

struct daemon {
	sd_event *ev;
	sd_event_source *timer;
	struct udev *udev;
	struct udev_monitor *mon; /* the kernel's uevents of memory blocks */
	struct mz_rebalancer rb;
	char status[256];
	struct mz_lock life;     /* MZ_DS_LOCK_PATH, held for the whole run (daemon_state.h) */
	/* onlining new memory (see "new memory" below) */
	bool online;             /* this process decides new memory (the monitor listens) */
	struct mz_lock decides;  /* MZ_DS_DECIDES_PATH, held while it does, not during a move */
	void *mark;              /* a page of MZ_DS_LOCK_PATH mapped here: the rule's shortcut (see shortcut()) */
	int memfd;               /* <root>/sys/devices/system/memory while online, or -1 */
	unsigned long *added;    /* blocks whose "add" came in the last read of the monitor */
	size_t nadded, added_cap;
	bool rescan;             /* the kernel dropped events: look at every block */
	struct kmem_wait { unsigned long id; uint64_t due_ms; } *kmem; /* left for another agent (online.h) */
	size_t nkmem;
	unsigned long *removed;  /* blocks removed since start and not offlined again (see collect_add) */
	size_t nremoved, removed_cap;
};

enum { OPT_ROOT = 0x1000, OPT_CONFIG, OPT_LOG, OPT_INSECURE, OPT_NO_UDEV, OPT_FOREGROUND };

static void usage(FILE *f)
{
	fprintf(f, "Usage: memzoned [OPTIONS]\n\n"
		   "Move memory blocks between ZONE_MOVABLE and the kernel zones as kernel-memory pressure\n"
		   "changes: harvest a Movable block before the kernel runs short, give it back when the\n"
		   "pressure is gone. Runs in the foreground (systemd: Type=notify); SIGHUP reloads the\n"
		   "configuration, SIGTERM stops.\n\n"
		   "  --root DIR           read and write everything under DIR (a fixture tree) instead of /\n"
		   "  --config FILE        policy file (default " MZ_SYSCONFDIR "/memzone.conf and memzone.conf.d/)\n"
		   "  --log TARGET         auto, stderr, journal or kmsg (default auto)\n"
		   "  --allow-insecure-config  accept config files not owned by root (only with --root)\n"
		   "  --no-udev            no uevent monitor: react on the timer only, and leave new memory\n"
		   "                       to udev's memzone online (implied by --root)\n"
		   "  --foreground         accepted for compatibility; memzoned never daemonizes\n"
		   "  -v, --verbose        more detail (debug messages, journal fields)\n"
		   "  -q, --quiet          warnings and errors only\n"
		   "  -h, --help           show this help and exit\n"
		   "  -V, --version        show the version and exit\n"
		   "\nExit status: 0 stopped by a signal (or disabled by the config), 1 failure, 2 usage,\n"
		   "3 configuration error.\n");
}

static void notify_status(struct daemon *d)
{
	char buf[256], status[256];
	size_t n = 0;

	status[0] = '\0';
	for (size_t i = 0; i < d->rb.last.n && n < sizeof(status); i++) {
		const struct mz_node_verdict *v = &d->rb.last.v[i];
		int k = snprintf(status + n, sizeof(status) - n, "%snode %d %s (%s)", i ? "; " : "", v->node,
				 mz_verdict_name(v->verdict),
				 mz_pressure_reason_name(v->blocked != MZ_PR_NONE ? v->blocked : v->reason));

		if (k < 0)
			break;
		n += (size_t)k;
	}
	snprintf(buf, sizeof(buf), "%s%s; moves %llu to kernel, %llu to movable, %llu failed",
		 d->rb.cfg.rebalance.observe_only ? "observe-only; " : "", status,
		 (unsigned long long)d->rb.state.moves_to_kernel, (unsigned long long)d->rb.state.moves_to_movable,
		 (unsigned long long)d->rb.state.failures);
	if (strcmp(buf, d->status) == 0)
		return; /* only changes: a STATUS= message per tick would cost the idle loop */
	snprintf(d->status, sizeof(d->status), "%s", buf);
	sd_notifyf(0, "STATUS=%s", buf);
}

/* Settings whose worst tick outlasts systemd's watchdog (WATCHDOG_USEC= of this process) are
 * clamped for this run, with a warning naming both (watchdog.h): refusing them would stop a
 * daemon that ran before the check existed. */
static void fit_watchdog(struct mz_config *c)
{
	char msg[512];
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && mz_watchdog_fit(c, usec / 1000, "WATCHDOG_USEC", msg, sizeof(msg)))
		mz_warn("%s", msg);
}

static void pet_watchdog(void *ctx)
{
	(void)ctx;
	sd_notify(0, "WATCHDOG=1"); /* a no-op without WatchdogSec= */
}

/* How late a tick may fire, so the kernel can batch wakeups: sd-event's default is 250 ms, longer
 * than a short interval (100 ms ticked every ~250 ms, and trend_window lost its history); a tenth
 * of the interval keeps ticks honest and the idle wakeups coalescable. */
static uint64_t tick_accuracy_us(uint64_t interval_ms)
{
	uint64_t us = interval_ms * 100ull;

	return us < 1000 ? 1000 : us > 250000 ? 250000 : us;
}

static void decide_waited_kmem(struct daemon *d);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t next;

	if (d->nkmem)
		decide_waited_kmem(d);
	mz_rebalance_cycle(&d->rb, mz_now_ms());
	notify_status(d);
	/* the next tick one interval after this one ends: a slow move never queues ticks */
	if (sd_event_now(d->ev, CLOCK_MONOTONIC, &next) < 0)
		next = usec;
	next += d->rb.cfg.rebalance.interval_ms * 1000ull;
	sd_event_source_set_time(s, next);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	mz_info("signal %s: stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->ev, 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct mz_config c;
	uint64_t now;

	(void)s;
	(void)si;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(mz_now_ns() / 1000));
	if (mz_cli_load_config(&c) < 0) {
		mz_err("SIGHUP: the new configuration is refused; keeping the old one");
	} else {
		fit_watchdog(&c);
		if (!c.rebalance.enabled)
			mz_warn("SIGHUP: [rebalance] enabled = no takes effect at the next start; keeping the old configuration");
		else {
			mz_rebalance_set_config(&d->rb, &c);
			mz_info("SIGHUP: configuration reloaded (interval %llums%s)",
				(unsigned long long)c.rebalance.interval_ms,
				c.rebalance.observe_only ? ", observe-only" : "");
			if (sd_event_now(d->ev, CLOCK_MONOTONIC, &now) == 0) {
				sd_event_source_set_time(d->timer, now + c.rebalance.interval_ms * 1000ull);
				sd_event_source_set_time_accuracy(d->timer, tick_accuracy_us(c.rebalance.interval_ms));
				sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
			}
		}
	}
	d->status[0] = '\0';
	sd_notify(0, "READY=1");
	notify_status(d);
	return 0;
}

/* ------------------------------------------------------------------ new memory
 *
 * udevd starts `memzone online` for each new block (rules/60-memzone.rules), a process per event:
 * the dynamic loader alone is most of a helper run, and udevd starts as many at once as it has
 * workers, all before the first has decided anything (bench/RESULTS.md, section 3). memzoned is
 * already running, so it hears the kernel's "add" itself (libudev's monitor on the kernel's group:
 * the datagram udevd reads, not udevd's re-broadcast, which stays in udevd's network namespace and
 * never reaches this unit's PrivateNetwork) and decides the block in its own process, with the same
 * code and the same lock as the helper (mz_online_blocks: the block, then the rest of its device).
 * It says so by holding a flock on MZ_DS_DECIDES_PATH once the monitor listens; the helper tests
 * it without blocking and exits at once while it is held. The kernel drops the flock when this
 * process dies, so no pid or link left behind can make a helper skip its block.
 *  - Start: the monitor listens, the flock is taken, then every offline block is decided: a block
 *    whose event came before the monitor listened may have a helper that tests the flock after it
 *    was taken, and exits.
 *  - A move lets the flock go (helpers decide meanwhile); the events of that time are read after.
 *  - A clean stop lets it go first, then reads what is still queued.
 *  - A kill loses the queue, and its helpers had exited: the next start decides every offline
 *    block, as above (and so does a start that fails on the configuration: main).
 *  - A full queue (ENOBUFS: the kernel dropped events) makes it decide every offline block at once.
 */

#define ONLINE_CHUNK 64

static void add_block(struct daemon *d, unsigned long id)
{
	if (d->nadded == d->added_cap) {
		d->added_cap = d->added_cap ? d->added_cap * 2 : 64;
		d->added = mz_xrealloc(d->added, d->added_cap * sizeof(*d->added));
	}
	d->added[d->nadded++] = id;
}

/* A block offlined during this boot is left offline (udevdb.h): udevd records that when it handles
 * the block's "offline" event and forgets it on "remove". This process reads the same events
 * straight from the kernel, possibly before udevd handled a "remove": the entry of a block seen
 * removed here stands for the old block until a new "offline" of it comes. */
static struct daemon *the_daemon;

static ssize_t removed_index(const struct daemon *d, unsigned long id)
{
	for (size_t i = 0; i < d->nremoved; i++)
		if (d->removed[i] == id)
			return (ssize_t)i;
	return -1;
}

static bool offlined_this_boot(unsigned long id)
{
	return !(the_daemon && removed_index(the_daemon, id) >= 0) && mz_block_offlined_this_boot(id);
}

static void note_removed(struct daemon *d, const char *action, unsigned long id)
{
	ssize_t i = removed_index(d, id);

	if (strcmp(action, "remove") == 0 && i < 0) {
		if (d->nremoved == d->removed_cap) {
			d->removed_cap = d->removed_cap ? d->removed_cap * 2 : 16;
			d->removed = mz_xrealloc(d->removed, d->removed_cap * sizeof(*d->removed));
		}
		d->removed[d->nremoved++] = id;
	} else if (strcmp(action, "offline") == 0 && i >= 0) {
		d->removed[i] = d->removed[--d->nremoved];
	}
}

static void collect_add(struct daemon *d, const char *action, unsigned long id, bool synthetic)
{
	note_removed(d, action, id);
	if (strcmp(action, "add") != 0)
		return;
	/* a replay of a block that is online already is boot memory or was decided before: the rule
	 * skips it too (131072 of them at a 16 TiB machine's coldplug) */
	if (synthetic && !mz_memblock_offline_at(d->memfd, id))
		return;
	add_block(d, id);
}

static void collect_offline_blocks(struct daemon *d)
{
	unsigned long *ids;
	size_t n;

	if (mz_memblock_list_offline(&ids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		add_block(d, ids[i]);
	free(ids);
}

static void online_collected(struct daemon *d, const char *why)
{
	struct mz_online_stats st;

	if (d->rescan) {
		if (why)
			mz_warn("%s: every offline block is decided now", why);
		d->rescan = false;
		d->nadded = 0;
		collect_offline_blocks(d);
	}
	if (d->nadded == 0)
		return;
	/* a huge device (or a rescan) is many blocks: in chunks, with the watchdog petted between them
	 * (a chunk's sweeps stop at half of lock_timeout, at most 30 s; WatchdogSec is 60 s) */
	for (size_t i = 0; i < d->nadded; i += ONLINE_CHUNK) {
		size_t n = d->nadded - i < ONLINE_CHUNK ? d->nadded - i : ONLINE_CHUNK;

		mz_online_blocks(&d->rb.cfg, false, d->added + i, n, MZ_ONLINE_BY_DAEMON, &st);
		if (st.nwaiting) {
			uint64_t due = mz_now_ms() + d->rb.cfg.kmem_wait_ms;

			d->kmem = mz_xrealloc(d->kmem, (d->nkmem + st.nwaiting) * sizeof(*d->kmem));
			for (size_t k = 0; k < st.nwaiting; k++)
				d->kmem[d->nkmem++] = (struct kmem_wait){ st.waiting[k], due };
		}
		free(st.waiting);
		pet_watchdog(d);
	}
	d->nadded = 0;
	mz_rebalance_blocks_changed(&d->rb);
}

/* dax/kmem blocks whose kmem_wait is over: the policy decides those still offline (on the timer) */
static void decide_waited_kmem(struct daemon *d)
{
	struct mz_online_stats st;
	uint64_t now = mz_now_ms();
	unsigned long *due = NULL;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < d->nkmem; i++) {
		if (d->kmem[i].due_ms <= now) {
			due = mz_xrealloc(due, (n + 1) * sizeof(*due));
			due[n++] = d->kmem[i].id;
		} else {
			d->kmem[k++] = d->kmem[i];
		}
	}
	d->nkmem = k;
	if (n) {
		mz_online_decide_waited(&d->rb.cfg, due, n, &st);
		free(st.waiting);
		mz_rebalance_blocks_changed(&d->rb);
	}
	free(due);
}

/* Every event queued on the monitor: the memory blocks' adds are collected, and any event of a
 * block makes the rebalancer scan again. false when the queue held none. */
static bool read_uevents(struct daemon *d)
{
	bool any = false;

	for (;;) {
		struct udev_device *dev;
		const char *action, *name;
		unsigned long id;

		errno = 0;
		dev = udev_monitor_receive_device(d->mon);
		if (!dev) {
			if (errno == ENOBUFS) {
				d->rescan = true; /* the kernel dropped events; the queue goes on after it */
				any = true;
				continue;
			}
			if (errno != 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				mz_warn("uevents: %s", strerror(errno));
			break;
		}
		action = udev_device_get_action(dev);
		name = udev_device_get_sysname(dev);
		mz_debug("uevent %s %s", action ?: "?", name ?: "?");
		/* names from the kernel, still checked before one becomes a path */
		if (action && name && mz_block_name_valid(name, &id)) {
			any = true;
			if (d->online)
				collect_add(d, action, id, udev_device_get_property_value(dev, "SYNTH_UUID") != NULL);
		}
		udev_device_unref(dev);
	}
	return any;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now, due;

	(void)s;
	(void)fd;
	(void)revents;
	if (!read_uevents(d))
		return 0;
	if (d->online)
		online_collected(d, "the kernel dropped uevents (queue full)");
	mz_rebalance_blocks_changed(&d->rb); /* a block came, went or changed zone: worth a new scan */
	/* bring the next cycle forward (never later than it already is) */
	if (sd_event_now(d->ev, CLOCK_MONOTONIC, &now) == 0 && sd_event_source_get_time(d->timer, &due) == 0 &&
	    due > now + EVENT_COALESCE_US) {
		sd_event_source_set_time(d->timer, now + EVENT_COALESCE_US);
		sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* 2 MiB asked for; without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max (208 KiB by
 * default, about 150 queued events: two bursts of a 64-block DIMM). More is caught up on ENOBUFS. */
#define RCVBUF_BYTES (2 * 1024 * 1024)

static int setup_monitor(struct daemon *d)
{
	int r;

	d->udev = udev_new();
	if (!d->udev)
		return -ENOMEM;
	d->mon = udev_monitor_new_from_netlink(d->udev, "kernel");
	if (!d->mon)
		return errno ? -errno : -EIO;
	(void)udev_monitor_set_receive_buffer_size(d->mon, RCVBUF_BYTES);
	r = udev_monitor_filter_add_match_subsystem_devtype(d->mon, "memory", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(d->mon);
	if (r >= 0)
		r = sd_event_add_io(d->ev, NULL, udev_monitor_get_fd(d->mon), EPOLLIN, on_uevent, d);
	if (r < 0) {
		udev_monitor_unref(d->mon);
		d->mon = NULL;
	}
	return r;
}

/* The udev rule can test a path, not a lock: while memzoned holds MZ_DS_DECIDES_PATH it also keeps
 * <root>/run/memzone/memzoned.online (MZ_DS_ONLINE_LINK_PATH) -> /proc/<pid>/map_files/<range>, a page of
 * MZ_DS_LOCK_PATH mapped here, so the rule starts no helper (a process per block was most of a
 * hot-add's cost). The kernel removes that entry when this process dies: a link left behind
 * resolves again only for a process with the same pid and a file mapping at exactly the same
 * (randomised) addresses, and a helper the rule does start still tests the flock. The link goes
 * before the flock is let go (a move, a stop) and every start removes a stale one. */
static void shortcut(const struct daemon *d, bool on)
{
	char path[MZ_PATH_MAX], target[96];
	long page = sysconf(_SC_PAGESIZE);

	if (mz_path(path, sizeof(path), MZ_DS_ONLINE_LINK_PATH) < 0)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		mz_warn("%s: %s", path, strerror(errno));
	if (!on || !d->mark)
		return;
	snprintf(target, sizeof(target), "/proc/%ld/map_files/%lx-%lx", (long)getpid(), (unsigned long)d->mark,
		 (unsigned long)d->mark + (unsigned long)page);
	if (symlink(target, path) < 0)
		mz_warn("%s: %s (udev starts a helper per block, which exits at once)", path, strerror(errno));
}

/* A bound for taking MZ_DS_DECIDES_PATH or MZ_DS_LOCK_PATH: a tester holds it for a system call. */
#define LIVENESS_LOCK_WAIT_MS 1000

/* With the monitor listening: decide new memory here from now on, and every block offline now. */
static int setup_online(struct daemon *d)
{
	int r;

	the_daemon = d;
	mz_online_offlined_this_boot = offlined_this_boot;
	d->memfd = mz_memory_dir_open();
	if (d->memfd < 0)
		return d->memfd;
	r = mz_flock_take(&d->decides, MZ_DS_DECIDES_PATH, LIVENESS_LOCK_WAIT_MS);
	if (r < 0) {
		close(d->memfd);
		d->memfd = -1;
		return r;
	}
	d->online = true;
	shortcut(d, true);
	collect_offline_blocks(d);
	if (d->nadded)
		mz_info("%zu offline block(s) at start: deciding them", d->nadded);
	online_collected(d, NULL);
	return 0;
}

/* A move blocks this loop for up to offline_timeout: meanwhile the helper decides (hv_balloon
 * waits 5 s for its memory to come online). The events of that time are read after the move too,
 * and find their blocks decided. */
static void on_moving(void *ctx, bool moving)
{
	struct daemon *d = ctx;
	int r;

	if (!d->online)
		return;
	if (moving) {
		shortcut(d, false);
		mz_lock_release(&d->decides);
	} else if (!mz_lock_held(&d->decides)) {
		r = mz_flock_take(&d->decides, MZ_DS_DECIDES_PATH, LIVENESS_LOCK_WAIT_MS);
		if (r < 0)
			mz_warn("%s%s: %s; udev's memzone online decides new memory too", mz_root(), MZ_DS_DECIDES_PATH,
				strerror(-r));
		else
			shortcut(d, true);
	}
}

static void stop_online(struct daemon *d)
{
	shortcut(d, false);
	mz_lock_release(&d->decides); /* from here on the helper decides */
	if (d->online && d->mon) {
		read_uevents(d); /* what the helpers left to this process before the flock went */
		online_collected(d, "the kernel dropped uevents (queue full)");
	}
	d->online = false;
	if (d->memfd >= 0)
		close(d->memfd);
	d->memfd = -1;
	free(d->added);
	d->added = NULL;
	d->nadded = d->added_cap = 0;
	free(d->removed);
	d->removed = NULL;
	free(d->kmem);
	d->kmem = NULL;
	d->nkmem = 0;
	d->nremoved = d->removed_cap = 0;
}

/* The configuration is refused at start: new memory must not wait for an administrator. Every
 * offline block is decided with the built-in defaults, as the helper does with a broken config
 * (a killed memzoned's helpers had exited, and no memzoned will decide their blocks). */
static void online_with_defaults(void)
{
	struct mz_online_stats st;
	struct mz_config c;
	unsigned long *ids = NULL;
	size_t n = 0;

	if (mz_memblock_list_offline(&ids, &n) < 0)
		n = 0;
	if (n) {
		mz_config_defaults(&c);
		mz_err("%zu offline block(s): onlining them with the built-in defaults", n);
		mz_online_blocks(&c, true, ids, n, MZ_ONLINE_BY_DAEMON, &st);
		mz_online_wait_kmem(&c, &st);
	}
	free(ids);
}

/* MZ_DS_LOCK_PATH, held from here to the end of the process, gets this pid (for display). */
static int take_life_lock(struct daemon *d)
{
	char text[32];
	int n, r = mz_flock_take(&d->life, MZ_DS_LOCK_PATH, LIVENESS_LOCK_WAIT_MS);

	if (r < 0)
		return r;
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(d->life.fd, 0) < 0 || pwrite(d->life.fd, text, (size_t)n, 0) != n)
		mz_warn("%s%s: cannot write the pid: %s", mz_root(), MZ_DS_LOCK_PATH, strerror(errno));
	shortcut(d, false); /* a dead memzoned's */
	d->mark = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, d->life.fd, 0);
	if (d->mark == MAP_FAILED)
		d->mark = NULL;
	return 0;
}

/* The temporary file of an atomic write (NAME.tmpXXXXXX, mz_write_file_atomic) that a process killed
 * between creating and renaming it left in /run/memzone. Only old ones: a helper may be writing
 * its reservation right now. */
#define STALE_TEMP_S 60
static void remove_stale_temp_files(void)
{
	char dir[MZ_PATH_MAX];
	time_t now = time(NULL);
	struct dirent *e;
	DIR *d;

	if (mz_path(dir, sizeof(dir), "/run/memzone") < 0 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		const char *t = strstr(e->d_name, ".tmp");
		struct stat st;

		if (!t || t == e->d_name || strlen(t) != strlen(".tmpXXXXXX") ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    (now >= st.st_mtime && now - st.st_mtime < STALE_TEMP_S))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			mz_info("%s/%s: removed (left by a process killed while writing it)", dir, e->d_name);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "allow-insecure-config", no_argument, NULL, OPT_INSECURE },
		{ "no-udev", no_argument, NULL, OPT_NO_UDEV },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum mz_log_target target = MZ_LOG_AUTO;
	struct daemon d = { .life = MZ_LOCK_INIT, .decides = MZ_LOCK_INIT, .memfd = -1 };
	struct mz_config c;
	bool use_udev = true;
	int verbosity = 0, opt, r, ret = MZ_EXIT_FAILURE;
	char err[512];
	sigset_t mask;
	pid_t other;

	mz_cli.cmd = "memzoned";
	while ((opt = getopt_long(argc, argv, "vqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			if (!*optarg) {
				fprintf(stderr, "memzoned: --root needs a directory\n");
				return MZ_EXIT_USAGE;
			}
			mz_root_set(optarg);
			break;
		case OPT_CONFIG:
			mz_cli.config_path = optarg;
			break;
		case OPT_LOG:
			if (mz_log_target_parse(optarg, &target) < 0) {
				fprintf(stderr, "memzoned: --log: '%s' is not one of auto, stderr, journal, kmsg\n", optarg);
				return MZ_EXIT_USAGE;
			}
			break;
		case OPT_INSECURE:
			mz_cli.allow_insecure_config = true;
			break;
		case OPT_NO_UDEV:
			use_udev = false;
			break;
		case OPT_FOREGROUND:
			break;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity--;
			break;
		case 'h':
			usage(stdout);
			return MZ_EXIT_OK;
		case 'V':
			printf("memzoned %s\n", PACKAGE_VERSION);
			return MZ_EXIT_OK;
		default:
			fprintf(stderr, "Try 'memzoned --help' for more information.\n");
			return MZ_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memzoned: unexpected argument '%s'\n", argv[optind]);
		return MZ_EXIT_USAGE;
	}
	mz_log_init("memzoned", target);
	mz_log_set_max_priority(verbosity > 0 ? LOG_DEBUG : verbosity < 0 ? LOG_WARNING : LOG_INFO);
	if (!mz_root_is_real())
		use_udev = false; /* a fixture tree has no uevents */

	/* first, so that this process alone cleans up after a memzoned that died */
	r = take_life_lock(&d);
	if (r == -ETIMEDOUT) {
		mz_daemon_alive(&other);
		mz_err("memzoned is already running (pid %ld holds %s%s)", (long)other, mz_root(), MZ_DS_LOCK_PATH);
		return MZ_EXIT_FAILURE;
	}
	if (r < 0) {
		mz_err("%s%s: %s", mz_root(), MZ_DS_LOCK_PATH, strerror(-r));
		return MZ_EXIT_FAILURE;
	}
	if (mz_cli_load_config(&c) < 0) {
		if (use_udev)
			online_with_defaults();
		return MZ_EXIT_CONFIG;
	}
	fit_watchdog(&c);
	if (!c.rebalance.enabled) {
		mz_info("[rebalance] enabled = no: nothing to do");
		sd_notify(0, "READY=1\nSTATUS=disabled by [rebalance] enabled = no");
		return MZ_EXIT_OK;
	}
	r = mz_rebalance_init(&d.rb, &c, MZ_REBALANCE_ACT, true, err, sizeof(err));
	if (r < 0) {
		mz_err("%s", err);
		return MZ_EXIT_FAILURE;
	}
	d.rb.progress = pet_watchdog;
	d.rb.progress_ctx = &d;
	d.rb.moving = on_moving;
	if (d.rb.block_size == 0)
		mz_warn("no memory blocks (kernel without memory hotplug?): watching pressure only");
	/* a move the previous run left half done comes first */
	mz_rebalance_recover(&d.rb);
	remove_stale_temp_files();

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&d.ev);
	if (r >= 0)
		r = sd_event_add_signal(d.ev, NULL, SIGTERM, on_stop, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.ev, NULL, SIGINT, on_stop, &d);
	if (r >= 0)
		r = sd_event_add_signal(d.ev, NULL, SIGHUP, on_reload, &d);
	if (r >= 0)
		r = sd_event_add_time(d.ev, &d.timer, CLOCK_MONOTONIC, 0,
				      tick_accuracy_us(d.rb.cfg.rebalance.interval_ms), on_timer, &d); /* first tick now */
	if (r >= 0)
		r = sd_event_set_watchdog(d.ev, true);
	if (r < 0) {
		mz_err("sd-event setup: %s", strerror(-r));
		goto out;
	}
	if (use_udev) {
		r = setup_monitor(&d);
		if (r < 0)
			mz_warn("uevent monitor: %s; reacting on the timer only, udev starts memzone online for new memory",
				strerror(-r));
		else if ((r = setup_online(&d)) < 0)
			mz_warn("%s%s: %s; udev starts memzone online for new memory", mz_root(), MZ_DS_DECIDES_PATH,
				strerror(-r));
	}
	mz_info("started: interval %llums, offline_timeout %llums%s%s%s", (unsigned long long)c.rebalance.interval_ms,
		(unsigned long long)c.rebalance.offline_timeout_ms, c.rebalance.observe_only ? ", observe-only" : "",
		d.mon ? ", uevent monitor" : "", d.online ? ", onlining new memory" : "");
	sd_notify(0, "READY=1");
	r = sd_event_loop(d.ev);
	ret = r < 0 ? MZ_EXIT_FAILURE : MZ_EXIT_OK;
	if (r < 0)
		mz_err("event loop: %s", strerror(-r));
out:
	sd_notify(0, "STOPPING=1");
	stop_online(&d);
	if (ftruncate(d.life.fd, 0) < 0) /* a clean stop leaves no pid; the lock goes with the process */
		mz_debug("%s%s: %s", mz_root(), MZ_DS_LOCK_PATH, strerror(errno));
	if (d.mon)
		udev_monitor_unref(d.mon);
	if (d.udev)
		udev_unref(d.udev);
	sd_event_source_unref(d.timer);
	sd_event_unref(d.ev);
	mz_rebalance_free(&d.rb);
	return ret;
}
