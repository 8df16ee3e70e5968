/* online.c - the `memzone online` action: lock, fresh snapshot, decide, write, confirm, fall back
 *
 * Everything here is about carrying out one decision safely; the decision itself is policy.c's.
 * Two promises: new memory is never left offline (a refused zone falls back to the other, a lock
 * that cannot be had is skipped), and a block that was online is never left offline (a rezone is
 * memzoned's move, actuator.h: a failed offline leaves it where it was, a refused online goes back,
 * and a block every zone refuses keeps its intent record for recovery). */
#include "online.h"
#include "actuator.h"
#include "daemon_state.h"
#include "intent.h"
#include "iomem.h"
#include "kmode.h"
#include "lock.h"
#include "log.h"
#include "memblock.h"
#include "policy.h"
#include "snapshot.h"
#include "udevdb.h"
#include "daxctl.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Devices decided movable as a whole whose other blocks are still arriving (/run/memzone/reserve,
 * one first-block id per line). Their remaining blocks were counted against the cap when the
 * device was decided, so every other device's decision counts them too: otherwise a device
 * arriving in between (virtio-mem next to a DIMM) takes the room and the DIMM ends half movable. */
struct reservations {
	unsigned long *first; /* first block of each device */
	size_t n;
	bool dirty;
};

/* A sweep's zone totals (see sweep_device): read for real once, then carried forward by memzone's
 * own confirmed movable onlines. */
struct sweep_snap {
	struct mz_snapshot s;
	bool valid;                /* s may stand for a fresh read */
	unsigned uses;             /* decisions taken on s since it was read */
	int memfd;                 /* <root>/sys/devices/system/memory */
	struct mz_block_brief confirmed; /* the last confirm's read of the block (for its marker) */
	bool have_confirmed;
};

struct job {
	const struct mz_config *c;
	bool builtin_defaults;
	const struct mz_iomem *io; /* NULL: /proc/iomem unreadable */
	struct mz_online_stats *st;
	struct reservations res;
	bool locked;               /* holds /run/memzone/lock (rezoning needs it: see do_rezone) */
	struct sweep_snap *sweep;  /* inside sweep_device, else NULL */
	bool clean;                /* do_online: the decided write went in and was confirmed as decided */
	unsigned bind_wait_ms;     /* what is left of the wait for ACPI bindings (mz_snapshot_block_wait) */
	bool kernel_mode;          /* the kernel onlines new memory with this policy (kmode.h) */
};

/* What one log line says about the block (journal fields). */
struct fields {
	char block[48], node[32], zone[48], source[48], device[96], reason[64], action[48];
	const char *kv[8];
};

static void fields_fill(struct fields *f, const struct mz_block *b, const struct mz_device_snap *dev,
			const struct mz_decision *d, enum mz_zone zone)
{
	snprintf(f->block, sizeof(f->block), "MEMZONE_BLOCK=memory%lu", b->id);
	snprintf(f->node, sizeof(f->node), "MEMZONE_NODE=%d", b->node);
	snprintf(f->zone, sizeof(f->zone), "MEMZONE_ZONE=%s", mz_zone_name(zone));
	snprintf(f->source, sizeof(f->source), "MEMZONE_SOURCE=%s", mz_source_name(dev->source));
	snprintf(f->device, sizeof(f->device), "MEMZONE_DEVICE=%s", dev->name);
	snprintf(f->reason, sizeof(f->reason), "MEMZONE_REASON=%s", mz_reason_name(d->reason));
	snprintf(f->action, sizeof(f->action), "MEMZONE_ACTION=%s", mz_action_name(d->action));
	f->kv[0] = f->block;
	f->kv[1] = f->node;
	f->kv[2] = f->zone;
	f->kv[3] = f->source;
	f->kv[4] = f->device;
	f->kv[5] = f->reason;
	f->kv[6] = f->action;
	f->kv[7] = NULL;
}

static const char *online_word(bool movable)
{
	return movable ? "online_movable" : "online_kernel";
}

static const char *zone_class(bool movable)
{
	return movable ? "Movable" : "a kernel zone";
}

/* An online write the kernel interrupted is retried a few times; anything else is final. */
static int write_online(unsigned long id, const char *word)
{
	int r = 0;

	for (int i = 0; i <= MZ_ONLINE_EINTR_RETRIES; i++) {
		r = mz_memblock_write_state(id, word);
		if (r != -EINTR)
			break;
	}
	return r;
}

/* Read the block again after a write. 0 with *now filled, or -errno. */
static int reread(unsigned long id, uint64_t block_size, struct mz_block *now)
{
	memset(now, 0, sizeof(*now));
	return mz_memblock_read(id, block_size, now);
}

/* After a successful write: does valid_zones show the zone we wrote? True when it does. In a sweep
 * only state and valid_zones are read (all a confirmation looks at), and kept for the marker. */
static bool confirm(struct job *j, const struct mz_snapshot *s, unsigned long id, bool movable, const struct fields *f)
{
	struct mz_block now;
	int r;

	if (j->sweep) {
		struct mz_block_brief *bb = &j->sweep->confirmed;

		r = mz_block_brief_at(j->sweep->memfd, id, MZ_BRIEF_ZONES_IF_ONLINE, bb, NULL, 0);
		j->sweep->have_confirmed = r == 0;
		memset(&now, 0, sizeof(now));
		now.state = bb->state;
		now.zone = bb->zones_known ? bb->zone : MZ_ZONE_NONE;
	} else {
		r = reread(id, s->block_size, &now);
	}
	if (r < 0) {
		mz_log_kv(LOG_WARNING, f->kv, "memory%lu: cannot read it back to confirm the zone: %s", id, strerror(-r));
		return false;
	}
	if (now.state != MZ_BLOCK_ONLINE)
		mz_log_kv(LOG_WARNING, f->kv, "memory%lu: %s after the write: another agent changed it", id,
			  mz_block_state_name(now.state));
	else if ((now.zone == MZ_ZONE_MOVABLE) != movable)
		mz_log_kv(LOG_WARNING, f->kv, "memory%lu: online in %s, not %s: another agent raced memzone", id,
			  mz_zone_name(now.zone), zone_class(movable));
	else
		return true;
	return false;
}

/* Returns 1 when onlined movable, 0 when onlined in a kernel zone, -1 when not onlined by us. */
static int do_online(struct job *j, const struct mz_snapshot *s, const struct mz_block *b,
		     const struct mz_decision *d, const struct fields *f)
{
	bool movable = d->action == MZ_ACTION_ONLINE_MOVABLE;
	int r;

	j->clean = false;
	r = write_online(b->id, online_word(movable));

	if (r == -EINVAL) {
		struct mz_block now;

		/* The kernel says EINVAL for "already online" too: someone (the kernel's own auto-online,
		 * another tool) got there first. */
		if (reread(b->id, s->block_size, &now) == 0 && now.state == MZ_BLOCK_ONLINE) {
			mz_log_kv(LOG_WARNING, f->kv, "memory%lu: already online in %s: another agent onlined it first",
				  b->id, mz_zone_name(now.zone));
			j->st->left++;
			return -1;
		}
		if (d->has_fallback) {
			int r2 = write_online(b->id, online_word(!movable));

			mz_log_kv(r2 < 0 ? LOG_ERR : LOG_WARNING, f->kv,
				  "memory%lu: the kernel refused %s (%s); %s %s instead%s%s", b->id,
				  online_word(movable), strerror(-r), r2 < 0 ? "could not online it in" : "onlined it in",
				  zone_class(!movable), r2 < 0 ? ": " : "", r2 < 0 ? strerror(-r2) : "");
			if (r2 == 0) {
				confirm(j, s, b->id, !movable, f);
				j->st->onlined++;
				return !movable;
			}
			r = r2;
		}
	}
	if (r == -ENOENT) {
		mz_log_kv(LOG_INFO, f->kv, "memory%lu: removed before it could be onlined; skipped", b->id);
		j->st->vanished++;
		return -1;
	}
	if (r < 0) {
		mz_log_kv(LOG_ERR, f->kv, "memory%lu: writing %s failed: %s; the block stays offline", b->id,
			  online_word(movable), strerror(-r));
		j->st->failed++;
		return -1;
	}
	j->clean = confirm(j, s, b->id, movable, f);
	j->st->onlined++;
	return movable;
}

/* The block is online in the other zone than the policy's: move it with memzoned's protocol
 * (actuator.h: intent record, bounded offline, rollback, stranded record kept for recovery). */
static void do_rezone(struct job *j, const struct mz_snapshot *s, const struct mz_block *b,
		      const struct mz_decision *d, const struct fields *f)
{
	bool to_movable = d->action == MZ_ACTION_REZONE_MOVABLE;
	struct mz_move_outcome out;
	int r;

	if (!j->locked) {
		mz_log_kv(LOG_INFO, f->kv, "memory%lu: left online in %s: rezoning needs /run/memzone/lock", b->id,
			  mz_zone_name(b->zone));
		j->st->left++;
		return;
	}
	r = mz_actuator_move(b->id, b->zone, to_movable ? MZ_MOVE_TO_MOVABLE : MZ_MOVE_TO_KERNEL, s->block_size,
			     j->c->rebalance.offline_timeout_ms, &out);
	if (r == 0) {
		confirm(j, s, b->id, to_movable, f);
		j->st->rezoned++;
		return;
	}
	if (out.step && strcmp(out.step, "intent") == 0) {
		/* one record at a time: ours would replace the one of a move not recovered yet */
		if (r == -EBUSY)
			mz_log_kv(LOG_INFO, f->kv, "memory%lu: left online in %s: an interrupted move is still pending "
				  "(/run/memzone/intent): %s", b->id, mz_zone_name(b->zone), out.why);
		else
			mz_log_kv(LOG_WARNING, f->kv, "memory%lu: not rezoned, it stays online in %s: %s", b->id,
				  mz_zone_name(b->zone), out.why);
		if (r == -EBUSY)
			j->st->left++;
		else
			j->st->failed++;
		return;
	}
	if (out.stranded) {
		mz_log_kv(LOG_ERR, f->kv, "memory%lu: LEFT %s: %s", b->id,
			  out.state == MZ_BLOCK_UNKNOWN ? "UNREADABLE" : out.state == MZ_BLOCK_OFFLINE ? "OFFLINE" :
			  mz_block_state_name(out.state), out.why);
		j->st->failed++;
		return;
	}
	if (out.result == MZ_MOVE_ROLLED_BACK) {
		mz_log_kv(LOG_WARNING, f->kv, "memory%lu: the kernel refused %s (%s); back online in %s", b->id,
			  out.step ? out.step : online_word(to_movable), strerror(out.err), mz_zone_name(out.zone));
		j->st->failed++;
		return;
	}
	/* gone, or ENOENT from the kernel: being removed (udev's "remove" follows), as for a new block */
	if (out.state == MZ_BLOCK_UNKNOWN || out.err == ENOENT) {
		mz_log_kv(LOG_INFO, f->kv, "memory%lu: removed before it could be rezoned; skipped", b->id);
		j->st->vanished++;
		return;
	}
	mz_log_kv(LOG_WARNING, f->kv, "memory%lu: not rezoned, it stays online in %s: %s", b->id,
		  mz_zone_name(out.state == MZ_BLOCK_ONLINE ? out.zone : b->zone), out.why);
	j->st->failed++;
}

/* A kernel too old to have valid_zones says nothing about the zones: let it decide (a refusal is
 * handled like any other). A present file reading "none" is the kernel saying no. */
static void unknown_valid_zones(struct mz_block *b)
{
	char path[MZ_PATH_MAX];

	if (b->state != MZ_BLOCK_OFFLINE || b->zones)
		return;
	if (mz_path(path, sizeof(path), "/sys/devices/system/memory/memory%lu/valid_zones", b->id) < 0)
		return;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		b->zones = MZ_ZONE_BIT(MZ_ZONE_NORMAL) | MZ_ZONE_BIT(MZ_ZONE_MOVABLE);
}

static void reserve_load(struct reservations *r)
{
	char path[MZ_PATH_MAX], *text, *line, *save = NULL;

	memset(r, 0, sizeof(*r));
	if (mz_path(path, sizeof(path), "/run/memzone/reserve") < 0 || mz_read_file(path, &text, NULL) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t id;

		if (mz_parse_u64(line, 10, &id) < 0 || id > UINT32_MAX) {
			r->dirty = true; /* not ours: rewrite without it */
			continue;
		}
		r->first = mz_xrealloc(r->first, (r->n + 1) * sizeof(*r->first));
		r->first[r->n++] = (unsigned long)id;
	}
	free(text);
}

static void reserve_save(struct reservations *r)
{
	char path[MZ_PATH_MAX], *text;
	size_t len = 0;
	int err;

	if (!r->dirty || mz_path(path, sizeof(path), "/run/memzone/reserve") < 0)
		return;
	if (r->n == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			mz_warn("cannot remove %s: %s", path, strerror(errno));
		return;
	}
	text = mz_xmalloc(r->n * 24 + 1);
	for (size_t i = 0; i < r->n; i++)
		len += (size_t)snprintf(text + len, 24, "%lu\n", r->first[i]);
	err = mz_write_file_atomic(path, text, len, 0644);
	if (err < 0)
		mz_warn("cannot write %s: %s", path, strerror(-err));
	free(text);
}

static void reserve_drop(struct reservations *r, size_t i)
{
	r->first[i] = r->first[--r->n];
	r->dirty = true;
}

/* Count the devices still arriving (except the block's own) as movable memory in s. Devices that
 * are complete, gone or no longer all movable are dropped. Returns the bytes added. */
static uint64_t reserve_apply(struct reservations *r, struct mz_snapshot *s, const struct mz_iomem *io,
			      const struct mz_device_snap *own)
{
	uint64_t total = 0;

	for (size_t i = 0; i < r->n;) {
		struct mz_device_snap dev;
		struct mz_block b;
		const struct mz_node_snap *node;
		uint64_t bytes;

		if (r->first[i] == own->first_block && own->n_blocks) {
			i++; /* the device's own rest is what its next block checks against the cap (and
			      * reserve_update keeps or drops it): no need to read the device again */
			continue;
		}
		memset(&dev, 0, sizeof(dev));
		if (mz_snapshot_block(s, io, r->first[i], &b, &dev) < 0 || dev.n_kernel || !dev.n_movable ||
		    !dev.n_offline) {
			reserve_drop(r, i);
			continue;
		}
		i++;
		bytes = (uint64_t)dev.n_offline * s->block_size;
		node = mz_policy_node(s, b.node);
		if (node) {
			s->nodes[node - s->nodes].movable_present += bytes;
			s->nodes[node - s->nodes].movable_managed += bytes;
		}
		s->total.movable_present += bytes;
		s->total.movable_managed += bytes;
		total += bytes;
	}
	return total;
}

/* After a block of dev went online (movable or not): keep the reservation while the device is all
 * movable and has blocks to come. */
static void reserve_update(struct reservations *r, const struct mz_config *c, const struct mz_device_snap *dev,
			   int onlined)
{
	bool want = onlined == 1 && c->source[dev->source].whole_device && dev->n_blocks > 1 && dev->n_kernel == 0 &&
		    dev->n_offline > 1; /* counts from before this block went online */
	size_t i;

	if (onlined < 0 || dev->n_blocks == 0)
		return;
	for (i = 0; i < r->n && r->first[i] != dev->first_block; i++)
		;
	if (want && i == r->n) {
		r->first = mz_xrealloc(r->first, (r->n + 1) * sizeof(*r->first));
		r->first[r->n++] = dev->first_block;
		r->dirty = true;
	} else if (!want && i < r->n) {
		reserve_drop(r, i);
	}
}

/* Without zone totals the caps cannot be checked: the policy sees no memory at all, which keeps
 * "auto" in kernel zones (safe for the kernel), while fixed rules still apply. */
static void snapshot_fallback(struct mz_snapshot *s)
{
	uint64_t bs = 0;

	memset(s, 0, sizeof(*s));
	s->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	s->total.id = -1;
	s->total.has_cpu = true;
	if (mz_memblock_size(&bs) == 0)
		s->block_size = bs;
}

/* Put prefix in front of the decision's sentence (truncating its end if need be). */
static void why_prefix(struct mz_decision *d, const char *prefix)
{
	size_t pl = strlen(prefix), wl = strlen(d->why);

	if (pl >= sizeof(d->why))
		pl = sizeof(d->why) - 1;
	if (wl > sizeof(d->why) - 1 - pl)
		wl = sizeof(d->why) - 1 - pl;
	memmove(d->why + pl, d->why, wl);
	memcpy(d->why, prefix, pl);
	d->why[pl + wl] = '\0';
}

/* The device after memzone onlined one of its offline blocks (movable or not). */
static void device_count_onlined(struct mz_device_snap *dev, bool movable)
{
	enum mz_zone z = movable ? MZ_ZONE_MOVABLE : MZ_ZONE_NORMAL;

	if (dev->n_offline)
		dev->n_offline--;
	if (dev->n_kernel + dev->n_movable == 0)
		dev->zone = z;
	if (movable)
		dev->n_movable++;
	else
		dev->n_kernel++;
	dev->mixed = dev->n_kernel && dev->n_movable;
	if (dev->mixed)
		dev->zone = MZ_ZONE_NONE;
}

/* A deep copy of the sweep's zone totals, to decide on (reserve_apply adds to its copy). */
static void snapshot_copy(struct mz_snapshot *dst, const struct mz_snapshot *src)
{
	*dst = *src;
	dst->nodes = src->nnodes ? mz_xcalloc(src->nnodes, sizeof(*dst->nodes)) : NULL;
	if (src->nnodes)
		memcpy(dst->nodes, src->nodes, src->nnodes * sizeof(*dst->nodes));
}

/* Read the zone totals for block id's decision: fresh, with the boot baseline when it is used.
 * Returns whether the totals could be read (else s holds the fallback). */
static bool snapshot_fresh(struct job *j, unsigned long id, struct mz_snapshot *s)
{
	char err[512];
	int r;

	memset(s, 0, sizeof(*s));
	r = mz_snapshot_read(s, err, sizeof(err));
	if (r < 0) {
		mz_err("memory%lu: %s; deciding without zone totals", id, err);
		snapshot_fallback(s);
		return false;
	}
	r = mz_snapshot_boot_baseline(s, j->io, j->c->ratio_basis == MZ_BASIS_CURRENT);
	if (r < 0)
		mz_warn("memory%lu: boot-time kernel memory unknown (%s): using the present kernel memory", id,
			strerror(-r));
	return true;
}

/* The zone totals of a sweep's next decision. Within one lock hold (memzone-init disabled the
 * kernel's auto-onlining; helpers and memzoned take the lock) the totals change only through
 * memzone's own writes: the sweep reads them for real once and then counts its own confirmed
 * movable onlines into them (sweep_account), as a fresh read would show them: a movable block adds
 * block_size to Movable's present pages (managed less with memmap_on_memory, and the policy counts
 * present: movable_of), and nothing to the kernel zones. Read for real again every
 * MZ_SWEEP_FRESH_EVERY decisions (anything else: a balloon, memzoned's pid) and after anything
 * else happened: a kernel online (its managed pages depend on memmap_on_memory), a refusal, a
 * fallback, an unconfirmed zone, a block that is not offline, a node the totals do not know. */
#define MZ_SWEEP_FRESH_EVERY 16

static bool snapshot_for_sweep(struct job *j, unsigned long id, struct mz_snapshot *s)
{
	struct sweep_snap *sw = j->sweep;
	bool have;

	if (sw->valid && sw->uses < MZ_SWEEP_FRESH_EVERY) {
		snapshot_copy(s, &sw->s);
		sw->uses++;
		return true;
	}
	have = snapshot_fresh(j, id, s);
	mz_snapshot_free(&sw->s);
	sw->valid = false;
	if (have && !j->builtin_defaults) {
		snapshot_copy(&sw->s, s);
		sw->valid = true;
		sw->uses = 1;
	}
	return have;
}

/* After block b's decision d (taken on sweep totals) was carried out: the totals as a fresh read
 * would show them now, or invalid. */
static void sweep_account(struct job *j, const struct mz_block *b, const struct mz_decision *d, int onlined)
{
	struct sweep_snap *sw = j->sweep;
	struct mz_block scratch = *b;

	if (!sw || !sw->valid)
		return;
	if (onlined == 1 && j->clean && d->action == MZ_ACTION_ONLINE_MOVABLE && mz_policy_node(&sw->s, b->node)) {
		mz_policy_apply(&sw->s, &scratch, NULL, d);
		return;
	}
	mz_snapshot_free(&sw->s);
	sw->valid = false;
}

bool (*mz_online_offlined_this_boot)(unsigned long id) = mz_block_offlined_this_boot;

/* how long the block of an event may take to be linked to its node (in practice microseconds
 * to milliseconds after the kernel sent its add) */
#define MZ_ONLINE_READY_WAIT_MS 2000u
/* how long one run (a helper, one chunk of memzoned's events) waits in all for ACPI to bind new
 * blocks to their memory device before deciding them as another agent's memory: the binding
 * follows the add of the DIMM's last block by milliseconds; hv_balloon, xen and probe memory are
 * never bound and cost this once per run, and only for a range none of whose blocks is online */
#define MZ_ONLINE_BIND_WAIT_MS 1000u
/* kernel mode: how long a helper waits for the kernel to online the blocks of its event (the add
 * path onlines a DIMM's blocks once all are added: well under a second per GiB, more in a
 * loaded VM) before it decides a block the kernel left offline itself */
#define MZ_ONLINE_KERNEL_WAIT_MS 5000u
/* ... polled this seldom: a DIMM's helpers wait side by side while the kernel onlines it, and must
 * not take the CPU it needs for that */
#define MZ_ONLINE_KERNEL_POLL_MS 250u

/* [source kmem] zone = ignore: a dax device a daxctl config names is daxctl's for good; any other
 * kmem block is given kmem_wait for another agent, then decided by the policy (the caller's
 * mz_online_decide_waited). */
static void kmem_left(struct job *j, unsigned long id, const struct mz_device_snap *dev)
{
	char why[MZ_PATH_MAX + 160];
	struct mz_online_stats *st = j->st;

	if (mz_daxctl_claims(dev->name, why, sizeof(why))) {
		mz_info("memory%lu: left to daxctl: %s names %s", id, why, dev->name);
		return;
	}
	if (j->c->kmem_wait_ms == 0) {
		mz_info("memory%lu: no daxctl configuration names %s and kmem_wait = 0: decided by the policy now", id,
			dev->name[0] ? dev->name : "its dax device");
	} else {
		mz_info("memory%lu: no daxctl configuration names %s: left to another agent for kmem_wait, then "
			"decided by the policy if still offline", id, dev->name[0] ? dev->name : "its dax device");
	}
	st->waiting = mz_xrealloc(st->waiting, (st->nwaiting + 1) * sizeof(*st->waiting));
	st->waiting[st->nwaiting++] = id;
}

/* Read block id (and with dev_known false its device), decide on a fresh snapshot and carry the
 * decision out. Returns 1 when memzone onlined the (offline) block movable, 0 when in a kernel zone,
 * -1 otherwise. *dev: the block's device afterwards (with this block counted online when memzone
 * onlined it); with dev_known it is the caller's up-to-date device of the block, not read again. */
static int do_block(struct job *j, unsigned long id, struct mz_device_snap *dev_io, bool dev_known)
{
	struct mz_snapshot s;
	struct mz_block b;
	struct mz_device_snap dev;
	struct mz_decision d;
	struct fields f;
	bool have_snapshot, carried = false;
	uint64_t reserved;
	char sz[16];
	int r, onlined = -1;

	/* a block whose add the kernel has not finished must not be read or written (memblock.h) */
	if (!mz_memblock_ready(id)) {
		if (j->sweep && dev_known) {
			mz_debug("memory%lu: not linked to its node yet; left to its own event", id);
			return -1;
		}
		if (!mz_memblock_wait_ready(id, MZ_ONLINE_READY_WAIT_MS))
			mz_warn("memory%lu: still not linked to its node after %ums; going on", id,
				MZ_ONLINE_READY_WAIT_MS);
	}
	if (j->sweep && dev_known) {
		carried = j->sweep->valid && j->sweep->uses < MZ_SWEEP_FRESH_EVERY;
		have_snapshot = snapshot_for_sweep(j, id, &s);
	} else {
		have_snapshot = snapshot_fresh(j, id, &s);
	}

	memset(&b, 0, sizeof(b));
	memset(&dev, 0, sizeof(dev));
	if (dev_known) {
		dev = *dev_io;
		r = s.block_size ? mz_memblock_read(id, s.block_size, &b) : -ENOENT;
	} else {
		r = mz_snapshot_block_wait(&s, j->io, id, &b, &dev, &j->bind_wait_ms);
		if (r == 0 && dev.bind_timed_out)
			mz_info("memory%lu: no ACPI memory device bound it within %ums: memory of another agent, "
				"decided with its whole range", id, dev.bind_wait_ms);
		else if (r == 0 && dev.bind_wait_ms)
			mz_debug("memory%lu: bound to %s after %ums", id, dev.name, dev.bind_wait_ms);
	}
	if (r == -ENOENT) {
		mz_info("memory%lu: no such block (removed already?); skipped", id);
		j->st->vanished++;
		goto out;
	}
	if (r < 0) {
		mz_err("memory%lu: cannot read the block: %s", id, strerror(-r));
		j->st->failed++;
		goto out;
	}
	unknown_valid_zones(&b);
	if (carried && b.state != MZ_BLOCK_OFFLINE) {
		/* not what a sweep expects (someone else was here): decide on a real read */
		mz_snapshot_free(&s);
		mz_snapshot_free(&j->sweep->s);
		j->sweep->valid = false;
		have_snapshot = snapshot_for_sweep(j, id, &s);
	}

	/* offlined during this boot by an administrator or another program (udevdb.h): not new memory */
	if (b.state == MZ_BLOCK_OFFLINE && mz_online_offlined_this_boot(id)) {
		mz_info("memory%lu: left offline: it was offlined during this boot (%s=1 in udev's database), "
			"not hot-added", id, MZ_UDEVDB_OFFLINED_KEY);
		j->st->left++;
		goto out;
	}
	reserved = have_snapshot ? reserve_apply(&j->res, &s, j->io, &dev) : 0;
	s.kernel_mode = j->kernel_mode;
	mz_policy_decide(j->c, &s, &b, &dev, &d);
	if (reserved && d.action != MZ_ACTION_LEAVE) {
		size_t len = strlen(d.why);

		snprintf(d.why + len, sizeof(d.why) - len, " (movable includes %s of devices still being added)",
			 mz_format_size(reserved, sz, sizeof(sz)));
	}
	if (!have_snapshot || j->builtin_defaults) {
		why_prefix(&d, j->builtin_defaults ? "config unusable, built-in defaults: " : "zone totals unreadable: ");
		if (j->builtin_defaults)
			d.reason = MZ_REASON_BUILTIN_DEFAULTS;
	}
	fields_fill(&f, &b, &dev, &d,
		    d.action != MZ_ACTION_LEAVE ? d.zone : b.state == MZ_BLOCK_ONLINE ? b.zone : MZ_ZONE_NONE);
	mz_log_kv(d.action == MZ_ACTION_LEAVE && d.reason == MZ_REASON_NO_ZONE_ALLOWED ? LOG_WARNING : LOG_INFO, f.kv,
		  "memory%lu: %s (node %d, %s%s%s, %s): %s", id, mz_action_name(d.action), b.node,
		  mz_source_name(dev.source), dev.name[0] ? " " : "", dev.name,
		  mz_format_size(s.block_size, sz, sizeof(sz)), d.why);

	switch (d.action) {
	case MZ_ACTION_ONLINE_MOVABLE:
	case MZ_ACTION_ONLINE_KERNEL:
		onlined = do_online(j, &s, &b, &d, &f);
		reserve_update(&j->res, j->c, &dev, onlined);
		if (onlined >= 0)
			device_count_onlined(&dev, onlined == 1);
		break;
	case MZ_ACTION_REZONE_MOVABLE:
	case MZ_ACTION_REZONE_KERNEL:
		do_rezone(j, &s, &b, &d, &f);
		break;
	case MZ_ACTION_LEAVE:
		/* an offline block the kernel cannot online in any zone is new memory left offline */
		if (b.state == MZ_BLOCK_OFFLINE && d.reason == MZ_REASON_NO_ZONE_ALLOWED)
			j->st->failed++;
		else
			j->st->left++;
		if (b.state == MZ_BLOCK_OFFLINE && d.reason == MZ_REASON_SOURCE_IGNORED && dev.source == MZ_SOURCE_KMEM)
			kmem_left(j, id, &dev);
		break;
	}
	if (j->sweep && dev_known)
		sweep_account(j, &b, &d, onlined);
out:
	*dev_io = dev;
	if (have_snapshot)
		mz_snapshot_free(&s);
	return onlined;
}

/* ---------------------------------------------------------------- the device's other blocks
 *
 * Userspace mode. udev runs one helper per block, and a device's helpers queue on the lock: so the
 * first one onlines every offline block of the device under the same lock hold, each with its own
 * decision; it counts its own confirmed writes instead of reading the device again per block
 * (snapshot_for_sweep). Each such block gets a marker <root>/run/memzone/onlined/memoryN.ZONE
 * (ZONE as valid_zones spells it): the rule skips the block's event while the block is online in
 * that zone. A helper whose event passed the rule first takes the marker and exits.
 * A marker can only wrongly skip a new incarnation of the same block (removed and hot-added
 * again) that something onlined in the very same zone; so markers are bounded: by the kernel
 * (block online in that zone), by time (MZ_ONLINE_MARK_TTL_S) and by every sweep, which first
 * drops those whose block is gone, offline or in another zone (cost: the markers present). */

static int mark_path(char *path, size_t len, unsigned long id, enum mz_zone zone)
{
	return mz_path(path, len, "/run/memzone/onlined/memory%lu.%s", id, mz_zone_name(zone));
}

/* The zone block id is online in, as its marker names it; MZ_ZONE_NONE when it is not online or its
 * valid_zones does not name exactly one zone (then no marker: udev's $attr{valid_zones} could not
 * match it, and the block's own helper decides). */
static enum mz_zone brief_marked_zone(const struct mz_block_brief *bb)
{
	if (bb->state != MZ_BLOCK_ONLINE || !bb->zones_known || bb->zones != MZ_ZONE_BIT(bb->zone) ||
	    bb->zone == MZ_ZONE_NONE || bb->zone >= MZ_ZONE_OTHER)
		return MZ_ZONE_NONE;
	return bb->zone;
}

static enum mz_zone marked_zone(int memfd, unsigned long id)
{
	struct mz_block_brief bb;

	if (mz_block_brief_at(memfd, id, MZ_BRIEF_ZONES_IF_ONLINE, &bb, NULL, 0) < 0)
		return MZ_ZONE_NONE;
	return brief_marked_zone(&bb);
}

/* bb: the block as the write's confirmation read it just now (NULL: read it) */
static void mark_onlined(int memfd, unsigned long id, const struct mz_block_brief *bb)
{
	char path[MZ_PATH_MAX];
	enum mz_zone zone = bb ? brief_marked_zone(bb) : marked_zone(memfd, id);
	int fd;

	if (zone == MZ_ZONE_NONE || mz_path(path, sizeof(path), "/run/memzone/onlined") < 0 ||
	    (mkdir(path, 0755) < 0 && errno != EEXIST) || mark_path(path, sizeof(path), id, zone) < 0)
		return;
	/* O_TRUNC and a fresh mtime: a stale marker of the same block and zone is renewed */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
}

static bool mark_fresh(const struct stat *st, time_t now)
{
	return S_ISREG(st->st_mode) && st->st_mtime <= now && now - st->st_mtime <= MZ_ONLINE_MARK_TTL_S;
}

static bool check_mark(unsigned long id, bool take)
{
	char path[MZ_PATH_MAX];
	struct stat st;
	enum mz_zone zone;
	int memfd;

	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return false;
	zone = marked_zone(memfd, id);
	close(memfd);
	if (zone == MZ_ZONE_NONE || mark_path(path, sizeof(path), id, zone) < 0 || lstat(path, &st) < 0)
		return false;
	if (take && unlink(path) < 0)
		return false; /* another helper took it */
	return mark_fresh(&st, time(NULL));
}

bool mz_online_take_mark(unsigned long id)
{
	return check_mark(id, true);
}

bool mz_online_marked(unsigned long id)
{
	return check_mark(id, false);
}

/* Drop the markers that can no longer stand for a decision (see above). Under the lock. */
static void prune_marks(void)
{
	char dirpath[MZ_PATH_MAX];
	time_t now = time(NULL);
	struct dirent *e;
	DIR *dir;
	int dfd, memfd;

	if (mz_path(dirpath, sizeof(dirpath), "/run/memzone/onlined") < 0)
		return;
	dir = opendir(dirpath);
	if (!dir)
		return;
	dfd = dirfd(dir);
	memfd = mz_memory_dir_open(); /* < 0: every marker goes, no block can be checked */
	while ((e = readdir(dir))) {
		char name[64];
		unsigned long id;
		struct stat st;
		enum mz_zone zone;
		bool keep = false;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (memfd >= 0 && sscanf(e->d_name, "memory%lu.", &id) == 1 &&
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && mark_fresh(&st, now)) {
			zone = marked_zone(memfd, id);
			keep = zone != MZ_ZONE_NONE &&
			       snprintf(name, sizeof(name), "memory%lu.%s", id, mz_zone_name(zone)) < (int)sizeof(name) &&
			       strcmp(name, e->d_name) == 0;
		}
		if (keep)
			continue;
		/* TEST matches a directory too: none stays (one with files in it is left, and said) */
		if (unlinkat(dfd, e->d_name, 0) < 0 && (errno != EISDIR || unlinkat(dfd, e->d_name, AT_REMOVEDIR) < 0) &&
		    errno != ENOENT)
			mz_debug("cannot remove %s/%s: %s", dirpath, e->d_name, strerror(errno));
	}
	if (memfd >= 0)
		close(memfd);
	closedir(dir);
}

/* After block done of dev was onlined (dev counts it online already): the device's other blocks
 * that exist and are offline now. The helpers of those blocks wait for the lock meanwhile, for at
 * most lock_timeout before they go ahead without it: after half of that the sweep stops and leaves
 * the rest to them (a huge device on a slow machine). */
static void sweep_device(struct job *j, const struct mz_device_snap *dev, unsigned long done)
{
	struct mz_device_snap cur = *dev;
	/* the exit status is about the blocks named: a swept block that fails gets no marker, and its
	 * own helper tries again and reports it */
	struct mz_online_stats own_stats, *named = j->st;
	struct sweep_snap sw;
	uint64_t t0 = mz_now_ms();
	int memfd;

	if (dev->n_blocks < 2 || dev->last_block < dev->first_block)
		return; /* a block alone (boot memory, an unknown agent's block) */
	/* the device's scan for this block's decision found no other offline block: nothing to look
	 * for (virtio-mem adds its blocks one by one, each with its own event; a block added since the
	 * scan has its own event too). Saves a second pass over the device's range per event. */
	if (dev->n_offline == 0)
		return;
	memfd = mz_memory_dir_open();
	if (memfd < 0)
		return;
	memset(&own_stats, 0, sizeof(own_stats));
	j->st = &own_stats;
	memset(&sw, 0, sizeof(sw));
	sw.memfd = memfd;
	j->sweep = &sw;
	for (unsigned long id = dev->first_block;; id++) {
		struct mz_block_brief bb;

		if (mz_now_ms() - t0 > j->c->lock_timeout_ms / 2) {
			mz_debug("memory%lu..%lu: left to their own events (lock held for half of lock_timeout)", id,
				 dev->last_block);
			break;
		}
		if (id != done && mz_block_brief_at(memfd, id, MZ_BRIEF_NO_ZONES, &bb, NULL, 0) == 0 &&
		    bb.state == MZ_BLOCK_OFFLINE) {
			mz_debug("memory%lu: offline block of %s, handled with memory%lu's event", id,
				 dev->name[0] ? dev->name : "the same device", done);
			sw.have_confirmed = false;
			if (do_block(j, id, &cur, true) >= 0)
				mark_onlined(memfd, id, sw.have_confirmed ? &sw.confirmed : NULL);
		}
		if (id == dev->last_block)
			break;
	}
	mz_snapshot_free(&sw.s);
	j->sweep = NULL;
	close(memfd);
	j->st = named;
	if (own_stats.onlined + own_stats.failed + own_stats.vanished + own_stats.left)
		mz_debug("with memory%lu, %s: %u more onlined, %u left, %u gone, %u failed", done,
			 dev->name[0] ? dev->name : "its device", own_stats.onlined, own_stats.left, own_stats.vanished,
			 own_stats.failed);
}

int mz_online_disable_kernel_auto_online(void)
{
	char cur[32], field[64];
	const char *kv[2] = { field, NULL };
	int r;

	r = mz_auto_online_read(cur, sizeof(cur));
	if (r == -ENOENT)
		return 0; /* kernel without memory hotplug auto-online */
	if (r < 0) {
		mz_warn("cannot read auto_online_blocks: %s", strerror(-r));
		return r;
	}
	/* what memzone found, before it writes anything: `memzone init --restore` puts it back */
	r = mz_auto_online_record(cur);
	if (r < 0)
		mz_warn("cannot record auto_online_blocks '%s' in /run/memzone: %s (it is logged here only)", cur,
			strerror(-r));
	if (strcmp(cur, "offline") == 0)
		return 0;
	r = mz_auto_online_write("offline");
	snprintf(field, sizeof(field), "MEMZONE_AUTO_ONLINE_OLD=%s", cur);
	if (r < 0) {
		mz_log_kv(LOG_ERR, kv, "cannot set auto_online_blocks from '%s' to 'offline': %s", cur, strerror(-r));
		return r;
	}
	mz_log_kv(LOG_NOTICE, kv,
		  "auto_online_blocks was '%s', now 'offline' (kernel_auto_online = disable): memzone picks the zone "
		  "of new memory", cur);
	return 0;
}

/* A move whose process died between its offline and its online (a helper's rezone killed at udev's
 * event timeout, or a memzoned that is not running any more) left its intent record: under the lock,
 * the block comes back first. A live writer's record is its own business (memzoned retries its own
 * every tick). Without a record this costs one failed open(). */
static void recover_interrupted_move(void)
{
	struct mz_move_outcome out;
	struct mz_intent in;
	char err[256];
	pid_t daemon;
	uint64_t bs;
	int r = mz_intent_read(&in, err, sizeof(err));

	if (r == -ENOENT)
		return;
	if (r == -EINVAL || r == -EPROTO) {
		/* as memzoned does: an untrusted record names no block to touch; keep it for inspection */
		mz_actuator_set_aside_record(err);
		return;
	}
	if (r < 0) {
		mz_warn("%s", err);
		return;
	}
	/* Every move runs under /run/memzone/lock, which this process holds: no writer is in the middle
	 * of one. A record stays a writer's business only when that writer is the live memzoned (the
	 * kernel vouches with its flock, daemon_state.h): it left it on purpose and retries it. A pid
	 * alone proves nothing, a killed writer's may belong to any process now. */
	if (in.pid > 0 && in.pid != getpid() && mz_daemon_alive(&daemon) && daemon == in.pid)
		return;
	if (mz_memblock_size(&bs) < 0 || bs == 0)
		return;
	r = mz_actuator_recover(&in, bs, &out);
	if (r < 0)
		mz_err("%s", out.why);
	else
		mz_warn("%s", out.why);
}

/* Kernel mode: the kernel onlines every block it adds, but a block's "add" uevent can come before
 * that (6.1 adds all blocks of a DIMM, then onlines them): deciding it here would race the kernel
 * with a second decision. Wait for the kernel (bounded, outside the lock); a block still offline
 * after the bound (the kernel could not online it) is decided as in userspace mode. */
static void wait_kernel_onlines(const unsigned long *ids, size_t n)
{
	uint64_t t0 = mz_now_ms();
	int memfd = mz_memory_dir_open();

	if (memfd < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		while (mz_memblock_offline_at(memfd, ids[i]) && !mz_online_offlined_this_boot(ids[i])) {
			if (mz_now_ms() - t0 >= MZ_ONLINE_KERNEL_WAIT_MS) {
				mz_info("memory%lu: still offline %u ms after its add in kernel mode: deciding it here", ids[i],
					(unsigned)(mz_now_ms() - t0));
				goto out;
			}
			mz_sleep_ms(MZ_ONLINE_KERNEL_POLL_MS);
		}
	}
out:
	close(memfd);
}

void mz_online_blocks(const struct mz_config *c, bool builtin_defaults, const unsigned long *ids, size_t n,
		      enum mz_online_by by, struct mz_online_stats *st)
{
	bool from_events = by != MZ_ONLINE_BY_INIT;

	struct mz_lock lock = MZ_LOCK_INIT;
	struct mz_iomem io;
	struct job j = { .c = c, .builtin_defaults = builtin_defaults, .st = st, .bind_wait_ms = MZ_ONLINE_BIND_WAIT_MS };
	char err[512], tbuf[16];
	unsigned long *todo = NULL;
	bool locked;
	int r;

	memset(st, 0, sizeof(*st));
	{
		char why[320];

		j.kernel_mode = mz_kmode_in_force(c, why, sizeof(why));
		mz_debug("onlining mode: %s", why);
	}
	if (j.kernel_mode && from_events)
		wait_kernel_onlines(ids, n);
	r = mz_lock_take(&lock, c->lock_timeout_ms);
	if (r == -ETIMEDOUT)
		mz_warn("another memzone held /run/memzone/lock for more than %s (lock_timeout); going ahead without "
			"it: new memory is never left offline",
			mz_format_duration(c->lock_timeout_ms, tbuf, sizeof(tbuf)));
	else if (r < 0)
		mz_warn("cannot take /run/memzone/lock: %s; going ahead without it", strerror(-r));
	locked = r >= 0;
	j.locked = locked;

	/* Blocks onlined by the helper this one waited for: nothing else to do, and the lock is let go
	 * at once for the next device's first helper (a burst of DIMMs queues all of them on it). */
	if (from_events) {
		size_t left = 0;

		todo = mz_xcalloc(n, sizeof(*todo));
		for (size_t i = 0; i < n; i++) {
			if (by == MZ_ONLINE_BY_HELPER ? mz_online_take_mark(ids[i]) : mz_online_marked(ids[i])) {
				mz_debug("memory%lu: already onlined with another block of its device", ids[i]);
				st->left++;
			} else {
				todo[left++] = ids[i];
			}
		}
		ids = todo;
		n = left;
		if (n == 0) {
			free(todo);
			mz_lock_release(&lock);
			return;
		}
	}

	if (locked)
		recover_interrupted_move();
	memset(&io, 0, sizeof(io));
	if (mz_iomem_read(&io, err, sizeof(err)) == 0)
		j.io = &io;
	else
		mz_debug("%s: devices of blocks unknown", err);

	/* the sweeps below write markers: the ones that cannot stand for a decision any more go first */
	if (from_events && locked)
		prune_marks();
	reserve_load(&j.res);
	for (size_t i = 0; i < n; i++) {
		struct mz_device_snap dev;

		/* memzoned passes every block whose event it read: the sweep of an earlier one may have
		 * onlined this one already (its marker is its event's, taken here) */
		if (from_events && i > 0 &&
		    (by == MZ_ONLINE_BY_HELPER ? mz_online_take_mark(ids[i]) : mz_online_marked(ids[i]))) {
			mz_debug("memory%lu: already onlined with another block of its device", ids[i]);
			st->left++;
			continue;
		}
		/* without the lock another helper may be sweeping the same device: this block only */
		if (do_block(&j, ids[i], &dev, false) >= 0 && from_events && locked && !j.kernel_mode)
			sweep_device(&j, &dev, ids[i]);
	}
	reserve_save(&j.res);
	free(j.res.first);

	if (j.io)
		mz_iomem_free(&io);
	free(todo);
	mz_lock_release(&lock);
}

/* The blocks of ids that are still offline, copied to out when it is not NULL; their number. */
static size_t still_offline(const unsigned long *ids, size_t n, unsigned long *out)
{
	int memfd = mz_memory_dir_open();
	size_t k = 0;

	for (size_t i = 0; i < n && memfd >= 0; i++) {
		struct mz_block_brief bb;

		if (mz_block_brief_at(memfd, ids[i], MZ_BRIEF_NO_ZONES, &bb, NULL, 0) == 0 && bb.state == MZ_BLOCK_OFFLINE) {
			if (out)
				out[k] = ids[i];
			k++;
		}
	}
	if (memfd >= 0)
		close(memfd);
	return k;
}

void mz_online_decide_waited(const struct mz_config *c, const unsigned long *ids, size_t n,
			     struct mz_online_stats *st)
{
	struct mz_config pc = *c;
	unsigned long *todo = mz_xcalloc(n ? n : 1, sizeof(*todo));
	size_t k = still_offline(ids, n, todo);

	memset(st, 0, sizeof(*st));
	if (k) {
		mz_info("%zu dax/kmem block%s still offline after kmem_wait: no other agent onlined them, the policy "
			"decides", k, k == 1 ? "" : "s");
		pc.source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_POLICY;
		mz_online_blocks(&pc, false, todo, k, MZ_ONLINE_BY_HELPER, st);
	}
	free(todo);
}

void mz_online_wait_kmem(const struct mz_config *c, struct mz_online_stats *st)
{
	struct mz_online_stats w;
	uint64_t end = mz_now_ms() + c->kmem_wait_ms;
	unsigned long *ids = st->waiting;
	size_t n = st->nwaiting;

	st->waiting = NULL;
	st->nwaiting = 0;
	if (n == 0) {
		free(ids);
		return;
	}
	while (still_offline(ids, n, NULL) && mz_now_ms() < end)
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
	mz_online_decide_waited(c, ids, n, &w);
	free(w.waiting);
	st->onlined += w.onlined;
	st->rezoned += w.rezoned;
	st->failed += w.failed;
	st->vanished += w.vanished;
	free(ids);
}
