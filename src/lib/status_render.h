/* status_render.h - what status.c's collecting shares with its printers (status_render.c) only */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* MOVABLE:KERNEL in percent, floored like the kernel's auto_movable_ratio check; -1 when kernel is 0. */
int64_t mz_status_ratio_of(uint64_t movable, uint64_t kernel);
