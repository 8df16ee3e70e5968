/* lock.h - /run/memzone/lock (one decision + write at a time, helper and daemon) and bounded waits */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct mz_lock {
	int fd; /* -1 when not held */
};
#define MZ_LOCK_INIT { .fd = -1 }

/* Take <root>/run/memzone/lock (creating /run/memzone 0755 and the file 0644), waiting at most
 * timeout_ms (0: do not wait). Returns 0 with the lock held, -ETIMEDOUT when another process kept
 * it that long, or -errno when the lock file cannot be opened. */
int mz_lock_take(struct mz_lock *l, uint64_t timeout_ms);
/* The same for another lock file, name relative to the root ("/run/memzone/NAME"). */
int mz_flock_take(struct mz_lock *l, const char *name, uint64_t timeout_ms);
/* Whether another process holds an exclusive flock on <root>NAME, tested without blocking (a shared
 * lock taken and let go at once): 1 held, 0 free or no such file, -errno when it cannot be opened.
 * The kernel drops a flock when its holder dies, so "held" means a live holder, whatever pid a file
 * may name. */
int mz_flock_held_by_other(const char *name);
void mz_lock_release(struct mz_lock *l);
bool mz_lock_held(const struct mz_lock *l);

/* A bound for one blocking system call (flock, a sysfs offline write): a timer sends
 * SIGALRM to the calling thread only, through a handler installed without SA_RESTART, so the call
 * returns EINTR once ms have passed, and again every 100 ms after that (a signal landing just
 * before the call starts is not lost). arm() saves and disarm() restores the previous SIGALRM action
 * and the thread's signal mask. ms = 0 is treated as 1 ms (never "no bound"). */
struct mz_deadline {
	timer_t timer;
	bool armed;
	uint64_t expires_ms;  /* CLOCK_MONOTONIC, as mz_now_ms() */
	struct sigaction old_action;
	sigset_t old_mask;
};
int mz_deadline_arm(struct mz_deadline *dl, uint64_t ms);
/* true once the deadline has passed (tells our EINTR from another signal's) */
bool mz_deadline_expired(const struct mz_deadline *dl);
void mz_deadline_disarm(struct mz_deadline *dl);
