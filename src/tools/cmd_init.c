/* cmd_init.c - `memzone init`: boot-time settings, and memory hot-added before udev ran
 *
 * Run once at boot by memzone-init.service, before udev's coldplug. The one owner of the kernel's
 * onlining settings: with kernel_auto_online = policy and a policy the kernel can express
 * (kmode.h) it hands the policy to the kernel, which then onlines new memory in the add path;
 * otherwise (or with disable) it sets auto_online_blocks to "offline" so that memzone picks the
 * zone. Then it onlines the blocks that are offline already (hot-added before userspace was up),
 * exactly as `memzone online` would. `memzone init --restore` (memzone-init.service's ExecStop=,
 * the packages' removal) puts back every value memzone found first this boot, and touches no block. */
#include "commands.h"
#include "config.h"
#include "kmode.h"
#include "log.h"
#include "memblock.h"
#include "online.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	printf("Usage: memzone init [--restore] [OPTIONS]\n\n"
	       "Apply the boot-time settings of the policy: with kernel_auto_online = policy and a policy\n"
	       "the kernel can apply itself, set memory_hotplug's online_policy, auto_movable_ratio,\n"
	       "auto_movable_numa_aware and auto_online_blocks = online (the kernel onlines new memory);\n"
	       "otherwise, or with disable, set auto_online_blocks to 'offline' (memzone decides); with\n"
	       "'keep' leave them alone. Then online every offline block per the policy, as\n"
	       "'memzone online' would. Run by memzone-init.service before udev's coldplug.\n"
	       "The values found are recorded once per boot in /run/memzone/auto_online_blocks.found\n"
	       "and /run/memzone/kernel-policy.found.\n\n"
	       "Options:\n"
	       "      --restore        only put back the recorded values (each when the kernel still has\n"
	       "                       the value memzone set) and forget the records;\n"
	       "                       no block is touched (memzone-init.service's ExecStop=)\n"
	       MZ_COMMON_HELP
	       "\nExit status: as 'memzone online' (0 ok, 1 failed, 3 configuration broken but\n"
	       "blocks onlined with the built-in defaults, 4 some blocks failed).\n");
}

enum { OPT_RESTORE = MZ_OPT__FIRST_CMD };

/* Put back what memzone found: only over memzone's own "offline" (a value an admin or another
 * program set since is theirs). */
static int restore_auto_online(void)
{
	char found[32], cur[32];
	int r = mz_auto_online_recorded(found, sizeof(found));

	if (r == -ENOENT) {
		mz_info("no recorded auto_online_blocks value: nothing to restore");
		return MZ_EXIT_OK;
	}
	if (r < 0) {
		mz_err("recorded auto_online_blocks value unreadable: %s; left as it is", strerror(-r));
		mz_auto_online_forget();
		return MZ_EXIT_FAILURE;
	}
	r = mz_auto_online_read(cur, sizeof(cur));
	if (r < 0) {
		mz_warn("cannot read auto_online_blocks: %s; nothing restored", strerror(-r));
		mz_auto_online_forget();
		return r == -ENOENT ? MZ_EXIT_OK : MZ_EXIT_FAILURE;
	}
	if (strcmp(cur, found) == 0) {
		mz_info("auto_online_blocks is '%s', as memzone found it", cur);
	} else if (strcmp(cur, "offline") != 0) {
		mz_info("auto_online_blocks is '%s' (set by someone else since memzone found '%s'): left alone", cur,
			found);
	} else if ((r = mz_auto_online_write(found)) < 0) {
		mz_err("cannot restore auto_online_blocks to '%s': %s", found, strerror(-r));
		return MZ_EXIT_FAILURE;
	} else {
		mz_log(LOG_NOTICE, "auto_online_blocks restored to '%s' (memzone had set it to 'offline')", found);
	}
	mz_auto_online_forget();
	return MZ_EXIT_OK;
}

/* Userspace mode after a kernel mode this boot (the policy changed): the kernel's own settings
 * back first, then auto_online_blocks goes offline as usual. */
static void restore_kernel_policy(void)
{
	int r = mz_kmode_restore();

	if (r < 0 && r != -ENOENT)
		mz_err("cannot restore all of the kernel's onlining policy: %s", strerror(-r));
}

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "restore", no_argument, NULL, OPT_RESTORE },
		MZ_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool restore = false;
	struct mz_online_stats st;
	struct mz_config cfg;
	unsigned long *ids = NULL;
	size_t n = 0;
	bool builtin;
	int opt, r;

	while ((opt = getopt_long(argc, argv, MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (opt == OPT_RESTORE) {
			restore = true;
			continue;
		}
		r = mz_cli_common_opt(opt, optarg, usage);
		if (r == 2)
			return MZ_EXIT_OK;
		if (r <= 0)
			return MZ_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "memzone init: unexpected argument '%s'\n", argv[optind]);
		return MZ_EXIT_USAGE;
	}
	mz_cli_finish_opts();
	if (restore) {
		/* the kernel's policy first: it may have set auto_online_blocks over memzone's "offline" */
		r = mz_kmode_restore();
		if (r < 0 && r != -ENOENT)
			mz_err("cannot restore all of the kernel's onlining policy: %s", strerror(-r));
		return restore_auto_online() == MZ_EXIT_OK && (r == 0 || r == -ENOENT) ? MZ_EXIT_OK : MZ_EXIT_FAILURE;
	}
	builtin = mz_cli_load_config(&cfg) < 0;
	if (builtin) {
		mz_config_defaults(&cfg);
		mz_err("the configuration is broken (see above): applying the built-in defaults");
	}
	if (cfg.kernel_auto_online == MZ_KAO_POLICY) {
		struct mz_kmode_env env;
		struct mz_kmode_params want;
		char why[320];

		mz_kmode_env_read(&env);
		if (!mz_kmode_plan(&cfg, &env, &want, why, sizeof(why))) {
			mz_info("new memory is decided in userspace: %s", why);
			restore_kernel_policy();
			mz_online_disable_kernel_auto_online();
		} else if ((r = mz_kmode_apply(&want)) < 0) {
			mz_err("cannot hand the policy to the kernel (%s): deciding new memory in userspace", strerror(-r));
			mz_online_disable_kernel_auto_online();
		} else {
			mz_log(LOG_NOTICE, "the kernel onlines new memory with this policy: %s", why);
		}
	}
	if (cfg.kernel_auto_online == MZ_KAO_DISABLE) {
		restore_kernel_policy();
		mz_online_disable_kernel_auto_online();
	}
	if (cfg.kernel_auto_online == MZ_KAO_KEEP) {
		char cur[32];

		if (mz_auto_online_read(cur, sizeof(cur)) == 0)
			mz_info("kernel_auto_online = keep: auto_online_blocks stays '%s'", cur);
	}

	r = mz_memblock_list_offline(&ids, &n);
	if (r == -ENOENT) {
		mz_info("no /sys/devices/system/memory: kernel without memory hotplug, nothing to do");
		return builtin ? MZ_EXIT_CONFIG : MZ_EXIT_OK;
	}
	if (r < 0) {
		mz_err("cannot list memory blocks: %s", strerror(-r));
		return MZ_EXIT_FAILURE;
	}
	mz_online_blocks(&cfg, builtin, ids, n, MZ_ONLINE_BY_INIT, &st);
	free(ids);
	/* not waited for here (before udev: daxctl's rule has not run yet): the coldplug's replay
	 * of these offline blocks, by the helper or memzoned, gives them kmem_wait */
	if (st.nwaiting)
		mz_info("init: %zu dax/kmem block%s left for daxctl or another agent until udev's replay", st.nwaiting,
			st.nwaiting == 1 ? "" : "s");
	free(st.waiting);
	if (n)
		mz_info("init: %zu offline block%s: %u onlined, %u left, %u gone, %u failed", n, n == 1 ? "" : "s",
			st.onlined, st.left, st.vanished, st.failed);

	if (st.failed && st.failed == n)
		return MZ_EXIT_FAILURE;
	if (st.failed)
		return MZ_EXIT_PARTIAL;
	return builtin ? MZ_EXIT_CONFIG : MZ_EXIT_OK;
}
