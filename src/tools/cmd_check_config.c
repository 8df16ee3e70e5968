/* cmd_check_config.c - `memzone check-config`: validate the policy files, print the effective policy */
#include "commands.h"
#include "config.h"
#include "kmode.h"
#include "log.h"
#include "util.h"
#include "watchdog.h"

#include <stdio.h>

enum { OPT_JSON = MZ_OPT__FIRST_CMD };

static void usage(void)
{
	printf("Usage: memzone check-config [--json] [OPTIONS]\n\n"
	       "Read the policy (memzone.conf, then memzone.conf.d/*.conf in C-locale order, later files\n"
	       "override earlier ones), report every mistake with its file and line, and print the\n"
	       "effective policy: every key with the value memzone will use.\n\n"
	       "Options:\n"
	       "      --json           print the policy as JSON (sizes in bytes, durations in milliseconds)\n"
	       MZ_COMMON_HELP
	       "\nDefault files: " MZ_SYSCONFDIR "/memzone.conf, " MZ_SYSCONFDIR "/memzone.conf.d/*.conf\n"
	       "(under DIR with --root DIR; a --config FILE is used as given, with FILE.d/ for drop-ins).\n"
	       "\nExit status: 0 the configuration is valid, 2 bad command line, 3 the configuration has\n"
	       "errors or cannot be read (the errors are printed on stderr).\n");
}

int cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		MZ_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct mz_config c;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		if (opt == OPT_JSON) {
			json = true;
			continue;
		}
		r = mz_cli_common_opt(opt, optarg, usage);
		if (r == 2)
			return MZ_EXIT_OK;
		if (r == 0) {
			fprintf(stderr, "memzone check-config: unexpected option\n");
			return MZ_EXIT_USAGE;
		}
		if (r < 0)
			return MZ_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "memzone check-config: unexpected argument '%s'\n"
				"Try 'memzone check-config --help' for more information.\n", argv[optind]);
		return MZ_EXIT_USAGE;
	}
	mz_cli_finish_opts();
	/* The errors are the answer to the person or script that asked: keep them on stderr even when
	 * stderr is not a terminal (auto would send them to the journal only). */
	if (!mz_cli.log_set)
		mz_log_init("memzone", MZ_LOG_STDERR);

	if (mz_cli_load_config(&c) < 0)
		/* the only non-config failure there is --allow-insecure-config on the real root */
		return mz_cli.allow_insecure_config && mz_root_is_real() ? MZ_EXIT_USAGE : MZ_EXIT_CONFIG;
	/* memzoned clamps these for itself at start (from WATCHDOG_USEC): say so now. The policy printed
	 * stays the configured one, which the udev helper uses as it is (no watchdog there). */
	if (c.rebalance.enabled) {
		struct mz_config fit = c;
		char msg[512];

		if (mz_watchdog_fit(&fit, MZ_WATCHDOG_SEC * 1000ull, "WatchdogSec of memzoned.service", msg, sizeof(msg)))
			mz_warn("%s in memzoned (it does so at start)", msg);
	}
	if (json) {
		mz_config_print_json(&c, stdout);
	} else {
		char why[320];

		mz_config_print(&c, stdout);
		/* derived from this configuration and the kernel's settings now (kmode.h) */
		mz_kmode_in_force(&c, why, sizeof(why));
		printf("# new memory: %s\n", why);
	}
	return fflush(stdout) == 0 ? MZ_EXIT_OK : MZ_EXIT_FAILURE;
}
