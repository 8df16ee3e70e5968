/* cli.c - options shared by every memzone subcommand */
#include "commands.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mz_cli mz_cli;
static enum mz_log_target log_target = MZ_LOG_AUTO;
static int verbosity;

int mz_cli_common_opt(int opt, const char *arg, void (*usage)(void))
{
	switch (opt) {
	case MZ_OPT_ROOT:
		if (!arg || !*arg) {
			fprintf(stderr, "memzone %s: --root needs a directory\n", mz_cli.cmd);
			return -1;
		}
		mz_root_set(arg);
		return 1;
	case MZ_OPT_CONFIG:
		mz_cli.config_path = arg;
		return 1;
	case MZ_OPT_LOG:
		if (mz_log_target_parse(arg, &log_target) < 0) {
			fprintf(stderr, "memzone %s: --log: '%s' is not one of auto, stderr, journal, kmsg\n",
				mz_cli.cmd, arg);
			return -1;
		}
		mz_cli.log_set = true;
		return 1;
	case MZ_OPT_INSECURE_CONFIG:
		mz_cli.allow_insecure_config = true;
		return 1;
	case 'v':
		verbosity++;
		return 1;
	case 'q':
		verbosity--;
		return 1;
	case 'h':
		usage();
		return 2;
	case 'V':
		printf("memzone %s\n", PACKAGE_VERSION);
		return 2;
	case '?':
		fprintf(stderr, "Try 'memzone %s --help' for more information.\n", mz_cli.cmd);
		return -1;
	default:
		return 0;
	}
}

void mz_cli_finish_opts(void)
{
	mz_log_init("memzone", log_target);
	mz_log_set_max_priority(verbosity > 0 ? LOG_DEBUG : verbosity < 0 ? LOG_WARNING : LOG_INFO);
}

int mz_cli_load_config(struct mz_config *c)
{
	char err[1024];
	int r;

	if (mz_cli.allow_insecure_config && mz_root_is_real()) {
		mz_err("--allow-insecure-config is only accepted with --root");
		mz_config_defaults(c);
		return -1;
	}
	r = mz_config_load(c, mz_cli.config_path, mz_cli.allow_insecure_config, err, sizeof(err));
	if (r < 0)
		mz_err("%s", err);
	return r;
}
