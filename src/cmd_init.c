/* cmd_init.c - `memzone init`: boot-time settings, and memory hot-added before udev ran
 *
 * Run once at boot by memzone-init.service, before udev's coldplug: with kernel_auto_online =
 * disable it sets auto_online_blocks to "offline" (logging the old value) so that the kernel
 * leaves the zone of new memory to memzone, then onlines the blocks that are offline already
 * (hot-added before userspace was up), exactly as `memzone online` would.
 * `memzone init --restore` (memzone-init.service's ExecStop=, the packages' removal) puts back the
 * auto_online_blocks value memzone found first this boot, and touches no block. */
#include "commands.h"
#include "config.h"
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
	       "Apply the boot-time settings of the policy: with kernel_auto_online = disable, set\n"
	       "/sys/devices/system/memory/auto_online_blocks to 'offline' (the old value is logged;\n"
	       "with 'keep' it is left alone), then online every offline block per the policy, as\n"
	       "'memzone online' would. Run by memzone-init.service before udev's coldplug.\n"
	       "The value found is recorded once per boot in /run/memzone/auto_online_blocks.found.\n\n"
	       "Options:\n"
	       "      --restore        only put back the recorded auto_online_blocks value (when it is\n"
	       "                       still 'offline', as memzone left it) and forget the record;\n"
	       "                       no block is touched (memzone-init.service's ExecStop=)\n"
	       MZ_COMMON_HELP
	       "\nExit status: as 'memzone online' (0 ok, 1 failed, 3 configuration broken but\n"
	       "blocks onlined with the built-in defaults, 4 some blocks failed).\n");
}

/* Offline block ids: one small read per block (this runs once per boot, not per event). */
static int offline_blocks(unsigned long **out, size_t *nout)
{
	unsigned long *ids;
	size_t n, k = 0;
	int memfd, r;

	*out = NULL;
	*nout = 0;
	r = mz_memblock_list(&ids, &n);
	if (r < 0)
		return r;
	memfd = mz_memory_dir_open();
	if (memfd < 0) {
		free(ids);
		return memfd;
	}
	for (size_t i = 0; i < n; i++) {
		struct mz_block_brief bb;

		if (mz_block_brief_at(memfd, ids[i], MZ_BRIEF_NO_ZONES, &bb, NULL, 0) == 0 && bb.state == MZ_BLOCK_OFFLINE)
			ids[k++] = ids[i];
	}
	close(memfd);
	*out = ids;
	*nout = k;
	return 0;
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
	if (restore)
		return restore_auto_online();
	builtin = mz_cli_load_config(&cfg) < 0;
	if (builtin) {
		mz_config_defaults(&cfg);
		mz_err("the configuration is broken (see above): applying the built-in defaults");
	}
	if (cfg.kernel_auto_online == MZ_KAO_KEEP) {
		char cur[32];

		if (mz_auto_online_read(cur, sizeof(cur)) == 0)
			mz_info("kernel_auto_online = keep: auto_online_blocks stays '%s'", cur);
	}

	r = offline_blocks(&ids, &n);
	if (r == -ENOENT) {
		mz_info("no /sys/devices/system/memory: kernel without memory hotplug, nothing to do");
		return builtin ? MZ_EXIT_CONFIG : MZ_EXIT_OK;
	}
	if (r < 0) {
		mz_err("cannot list memory blocks: %s", strerror(-r));
		return MZ_EXIT_FAILURE;
	}
	/* also applies kernel_auto_online = disable, under the lock */
	mz_online_blocks(&cfg, builtin, ids, n, false, &st);
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
