/* udevdb.h - the one thing memzone reads from udev's database: a memory block offlined this boot
 *
 * rules/60-memzone.rules sets MEMZONE_OFFLINED=1 on a block's "offline" event and clears it on its
 * "online" event; udevd keeps it in /run/udev/data/+memory:memoryN (tmpfs: per boot; deleted on the
 * block's "remove", so real new memory has none). A block that carries it was offlined by someone
 * (an administrator, another program) after it had been online this boot: memzone leaves it
 * offline. memzone's own moves end with an online event, which clears it. */
#ifndef MZ_UDEVDB_H
#define MZ_UDEVDB_H

#include <stdbool.h>
#include <stddef.h>

#define MZ_UDEVDB_OFFLINED_KEY "MEMZONE_OFFLINED"

/* Pure: does the text of a udev db file carry "E:MEMZONE_OFFLINED=1" on a line of its own? */
bool mz_udevdb_text_offlined(const char *text, size_t len);
/* <root>/run/udev/data/+memory:memory<id> carries it (false when unreadable or absent). */
bool mz_block_offlined_this_boot(unsigned long id);

#endif
