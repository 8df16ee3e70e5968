/* watchdog.c - keep memzoned's longest stretch without a watchdog ping under WatchdogSec= (watchdog.h) */
#include "watchdog.h"
#include "units.h"

#include <stdio.h>

uint64_t mz_watchdog_worst_ms(const struct mz_config *c)
{
	return (uint64_t)c->rebalance.moves_per_tick * (c->rebalance.offline_timeout_ms + MZ_WATCHDOG_MARGIN_MS) +
	       c->lock_timeout_ms;
}

bool mz_watchdog_fit(struct mz_config *c, uint64_t watchdog_ms, const char *what, char *msg, size_t len)
{
	const struct mz_config old = *c;
	char a[16], b[16], w[16], ol[16], nl[16], worst[16];
	uint64_t room;

	if (len)
		msg[0] = '\0';
	if (watchdog_ms == 0 || mz_watchdog_worst_ms(c) < watchdog_ms)
		return false;
	/* a lock wait is a wait: a quarter of the watchdog is plenty */
	if (c->lock_timeout_ms > watchdog_ms / 4)
		c->lock_timeout_ms = watchdog_ms / 4;
	room = watchdog_ms - c->lock_timeout_ms;
	if (mz_watchdog_worst_ms(c) >= watchdog_ms) {
		/* fewer moves per tick keep each move's own offline_timeout */
		uint64_t fit = (room - 1) / (c->rebalance.offline_timeout_ms + MZ_WATCHDOG_MARGIN_MS);

		if (fit >= 1)
			c->rebalance.moves_per_tick = (unsigned)fit;
		else {
			c->rebalance.moves_per_tick = 1;
			c->rebalance.offline_timeout_ms = room > MZ_WATCHDOG_MARGIN_MS + 1000 ?
								  room - MZ_WATCHDOG_MARGIN_MS - 1000 : 1000;
		}
	}
	snprintf(msg, len,
		 "moves_per_tick = %u x (offline_timeout = %s + %llus) + lock_timeout = %s = %s can outlast the "
		 "watchdog (%s = %s): using moves_per_tick = %u, offline_timeout = %s, lock_timeout = %s",
		 old.rebalance.moves_per_tick, mz_format_duration(old.rebalance.offline_timeout_ms, a, sizeof(a)),
		 MZ_WATCHDOG_MARGIN_MS / 1000, mz_format_duration(old.lock_timeout_ms, ol, sizeof(ol)),
		 mz_format_duration(mz_watchdog_worst_ms(&old), worst, sizeof(worst)), what,
		 mz_format_duration(watchdog_ms, w, sizeof(w)), c->rebalance.moves_per_tick,
		 mz_format_duration(c->rebalance.offline_timeout_ms, b, sizeof(b)),
		 mz_format_duration(c->lock_timeout_ms, nl, sizeof(nl)));
	return true;
}
