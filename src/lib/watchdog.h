/* watchdog.h - memzoned's longest stretch without petting systemd's watchdog, kept under WatchdogSec=
 *
 * memzoned pets the watchdog at every turn of its event loop, after each move of a tick and after
 * each chunk of new memory it onlines. A tick's moves and the lock waits between them run without a
 * turn of the loop: moves_per_tick x (offline_timeout + MZ_WATCHDOG_MARGIN_MS) + lock_timeout must
 * stay under the watchdog, or systemd kills memzoned (SIGABRT) in the middle of a move. An offline
 * write in uninterruptible sleep is not cut by any signal: this bound assumes the kernel returns
 * from it when memzone's timer signal comes. */
#ifndef MZ_WATCHDOG_H
#define MZ_WATCHDOG_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* per move, beyond offline_timeout: reading the block, the online back or on, a rollback */
#define MZ_WATCHDOG_MARGIN_MS 5000ull

/* Pure: moves_per_tick x (offline_timeout + margin) + lock_timeout, in ms. */
uint64_t mz_watchdog_worst_ms(const struct mz_config *c);

/* Pure: when mz_watchdog_worst_ms(c) is not below watchdog_ms, clamp c until it is, as far as the
 * config's minimums allow: lock_timeout to a quarter of the watchdog, then moves_per_tick, then
 * offline_timeout. msg (when clamped) names the old and new values and the watchdog's, whose origin
 * `what` gives (e.g. "WatchdogSec=60s of memzoned.service"). Returns true when c was changed. */
bool mz_watchdog_fit(struct mz_config *c, uint64_t watchdog_ms, const char *what, char *msg, size_t len);

#endif
