/* status_render.h - what status.c's collecting shares with its printers (status_render.c) only */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* "-> /proc/N" for messages, or "(not a symlink)" for something else at that path */
const char *online_link_shown(const struct mz_status *st, char *buf, size_t len);
/* MOVABLE:KERNEL in percent, floored like the kernel's auto_movable_ratio check; -1 when kernel is 0. */
int64_t ratio_of(uint64_t movable, uint64_t kernel);
