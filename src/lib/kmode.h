/* kmode.h - the kernel mode: handing the onlining policy to the kernel's own auto-movable policy
 *
 * Since 5.15 the kernel can apply a MOVABLE:KERNEL cap itself when it onlines a block with plain
 * "online" (memory_hotplug.online_policy=auto-movable, auto_movable_ratio, auto_movable_numa_aware),
 * and auto_online_blocks=online makes it do so inside the add, before any uevent. When memzone's
 * policy says exactly what those parameters say (mz_kmode_plan), `memzone init` sets them and the
 * kernel decides new memory at full speed; memzone then only checks that the parameters are still
 * its own (mz_kmode_in_force) and otherwise decides in userspace as before. Nothing is stored to
 * say which mode is in force: it is derived from the configuration and the kernel's values. */
#ifndef MZ_KMODE_H
#define MZ_KMODE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* What the plan depends on besides the configuration (read by mz_kmode_env_read). */
struct mz_kmode_env {
	bool online_policy;     /* the kernel has memory_hotplug.online_policy (5.15+) and friends */
	bool auto_online;       /* the kernel has auto_online_blocks */
	int memory_only_node;   /* a possible NUMA node without CPUs (CXL, PMEM as RAM), or -1 */
	bool daxctl_configured; /* /etc/daxctl.conf.d has a [reconfigure-device] section */
	char daxctl_why[160];
};

/* The kernel's settings, as memzone wants them or as they are. */
struct mz_kmode_params {
	char auto_online[16];   /* auto_online_blocks */
	char online_policy[32]; /* "" when the kernel has no such parameter */
	int ratio;              /* auto_movable_ratio, -1 unknown */
	int numa_aware;         /* auto_movable_numa_aware: 1, 0, -1 unknown */
};

/* Pure: can c be handed to the kernel in env? true with the parameters in *want; false with why. */
bool mz_kmode_plan(const struct mz_config *c, const struct mz_kmode_env *env, struct mz_kmode_params *want,
		   char *why, size_t len);

int mz_kmode_env_read(struct mz_kmode_env *env);
void mz_kmode_params_read(struct mz_kmode_params *p);
bool mz_kmode_params_equal(const struct mz_kmode_params *a, const struct mz_kmode_params *b);

/* The mode in force: planned, and the kernel's values are the plan's. why says which and why. */
bool mz_kmode_in_force(const struct mz_config *c, char *why, size_t len);

/* `memzone init` with kernel_auto_online = policy and a plan: record what the kernel had (once per
 * boot, in <root>/run/memzone/kernel-policy.found) and set *want. 0 or -errno (nothing half set:
 * on a failed write the values written so far are put back). */
int mz_kmode_apply(const struct mz_kmode_params *want);

/* `memzone init --restore`: put back each recorded value the kernel still has as memzone set it
 * (a value someone else set since is theirs), then forget the record. 0, -ENOENT (no record) or
 * -errno. */
int mz_kmode_restore(void);

#endif
