/* cmd_online.c - `memzone online BLOCK...`: what the udev rule runs for every new memory block */
#include "commands.h"
#include "config.h"
#include "daemon_state.h"
#include "log.h"
#include "online.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

static void usage(void)
{
	printf("Usage: memzone online [OPTIONS] BLOCK...\n\n"
	       "Online hot-added memory blocks (memoryN) in the zone the policy picks, under\n"
	       "/run/memzone/lock: movable (hot-removable) while the MOVABLE:KERNEL caps allow it,\n"
	       "kernel memory otherwise. Run by the udev rule for every new block; usable by hand.\n"
	       "A hot-added block that is already online is moved to the policy's zone when\n"
	       "already_online = fix. A block it onlines is followed by the other offline blocks of\n"
	       "its device, each decided on its own; their own events then find them done.\n"
	       "Started by udev while memzoned decides new memory, it exits at once: memzoned\n"
	       "decides the block. 'memzone plan' shows the same decisions without writing.\n\n"
	       "Options:\n" MZ_COMMON_HELP
	       "\nExit status:\n"
	       "  0  every block was onlined, rezoned or left as the policy says\n"
	       "  1  a write was refused or a block unreadable (for every block given)\n"
	       "  2  bad command line, e.g. a name that is not memoryN (nothing was touched)\n"
	       "  3  the configuration is broken: the blocks were onlined with built-in defaults\n"
	       "  4  some blocks done, some failed\n");
}

int cmd_online(int argc, char **argv)
{
	static const struct option longopts[] = { MZ_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct mz_online_stats st;
	struct mz_config cfg;
	unsigned long *ids;
	size_t n = 0;
	bool builtin;
	int opt, r;

	while ((opt = getopt_long(argc, argv, MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		r = mz_cli_common_opt(opt, optarg, usage);
		if (r == 2)
			return MZ_EXIT_OK;
		if (r <= 0)
			return MZ_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "memzone online: no block given (e.g. 'memzone online memory42')\n");
		return MZ_EXIT_USAGE;
	}
	/* Every name is checked before anything is opened: the udev rule passes $kernel, but a name
	 * like "../../etc/passwd" must never become a path. */
	ids = mz_xcalloc((size_t)(argc - optind), sizeof(*ids));
	for (int i = optind; i < argc; i++) {
		if (!mz_block_name_valid(argv[i], &ids[n])) {
			fprintf(stderr, "memzone online: '%s' is not a memory block name (memoryN)\n", argv[i]);
			free(ids);
			return MZ_EXIT_USAGE;
		}
		n++;
	}
	mz_cli_finish_opts();

	/* Started by udev (its event's ACTION and DEVPATH in the environment) while memzoned decides
	 * new memory: memzoned heard the same event and decides the block (memzoned(8), NEW MEMORY).
	 * The kernel vouches for that flock, so a killed memzoned never makes a block wait here. */
	if (getenv("ACTION") && getenv("DEVPATH") && mz_daemon_decides()) {
		mz_debug("%s: memzoned decides new memory", argv[optind]);
		free(ids);
		return MZ_EXIT_OK;
	}

	/* The helper of another block of the same device onlined these already, after udev had started
	 * this helper (the rule skips the events that come later): nothing to decide, no config, lock
	 * or snapshot needed. */
	while (n > 0 && mz_online_take_mark(ids[n - 1])) {
		mz_debug("memory%lu: already onlined with another block of its device", ids[n - 1]);
		n--;
	}
	if (n == 0) {
		free(ids);
		return MZ_EXIT_OK;
	}

	/* A broken config must not leave new memory offline: online with the defaults, say so loudly. */
	builtin = mz_cli_load_config(&cfg) < 0;
	if (builtin) {
		mz_config_defaults(&cfg);
		mz_err("the configuration is broken (see above): onlining with the built-in defaults");
	}
	mz_online_blocks(&cfg, builtin, ids, n, MZ_ONLINE_BY_HELPER, &st);
	free(ids);
	/* dax/kmem blocks no daxctl config names: another agent gets kmem_wait, then the policy decides */
	mz_online_wait_kmem(&cfg, &st);

	if (st.failed && st.failed == n)
		return MZ_EXIT_FAILURE;
	if (st.failed)
		return MZ_EXIT_PARTIAL;
	return builtin ? MZ_EXIT_CONFIG : MZ_EXIT_OK;
}
