/* cmd_status.c - `memzone status`: options only; src/status.c does the work */
#include "commands.h"
#include "config.h"
#include "util.h"
#include "status.h"

#include <stdio.h>
#include <string.h>

enum {
	OPT_SPLIT = MZ_OPT__FIRST_CMD,
	OPT_BYTES,
	OPT_PROMETHEUS,
};

static void usage(void)
{
	printf("Usage: memzone status [OPTIONS]\n\n"
	       "Show kernel and movable memory per NUMA node against the watermarks, the MOVABLE:KERNEL\n"
	       "ratio, memory blocks per zone, how much memory is hot-removable now, who onlines\n"
	       "hot-added memory, and what memzoned did lately. Reads only; never writes.\n\n"
	       "Options:\n"
	       "  -b, --blocks         list the memory blocks (like lsmem -o +ZONES,NODE, with SOURCE and\n"
	       "                       DEVICE); ranges of equal attributes are merged\n"
	       "  -s, --split, --no-merge  with --blocks: one line per block\n"
	       "  -j, --json           JSON (the same data, sizes in bytes, keys stable across versions)\n"
	       "      --prometheus     Prometheus text exposition format\n"
	       "      --bytes          exact sizes in bytes instead of 128M, 1.5G\n"
	       MZ_COMMON_HELP
	       "\nExit status: 0 shown (warnings included), 1 a file was unreadable or malformed,\n"
	       "2 bad command line.\n");
}

/* The policy's ratio cap is shown next to the ratios. A broken config is something to warn about
 * here, not a reason to show nothing: the numbers are the kernel's. */
static void load_policy(struct mz_status *st)
{
	struct mz_config c;
	char err[1024];

	if (mz_config_load(&c, mz_cli.config_path, mz_cli.allow_insecure_config && !mz_root_is_real(), err,
			   sizeof(err)) < 0)
		mz_status_warn(st, "config-error", "%s (the cap shown is memzone's built-in default)", err);
	mz_status_set_policy(st, &c);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "blocks", no_argument, NULL, 'b' },
		{ "split", no_argument, NULL, 's' },
		{ "no-merge", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "bytes", no_argument, NULL, OPT_BYTES },
		{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
		MZ_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct mz_status_opts o = { 0 };
	bool blocks = false, json = false, prometheus = false;
	struct mz_status st;
	char err[1024];
	int opt;

	while ((opt = getopt_long(argc, argv, "bsj" MZ_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		switch (opt) {
		case 'b':
			blocks = true;
			continue;
		case 's':
			o.split = true;
			continue;
		case 'j':
			json = true;
			continue;
		case OPT_BYTES:
			o.bytes = true;
			continue;
		case OPT_PROMETHEUS:
			prometheus = true;
			continue;
		}
		r = mz_cli_common_opt(opt, optarg, usage);
		if (r == 2)
			return MZ_EXIT_OK;
		if (r <= 0)
			return MZ_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "memzone status: unexpected argument '%s'\n", argv[optind]);
		return MZ_EXIT_USAGE;
	}
	if (json && prometheus) {
		fprintf(stderr, "memzone status: --json and --prometheus are alternatives\n");
		return MZ_EXIT_USAGE;
	}
	if (o.split && !blocks) {
		fprintf(stderr, "memzone status: --split needs --blocks\n");
		return MZ_EXIT_USAGE;
	}
	mz_cli_finish_opts();

	if (mz_status_collect(&st, blocks ? MZ_STATUS_ALL_ZONES : 0, err, sizeof(err)) < 0) {
		/* an interactive command: the error goes where the operator looks, not only to the journal */
		fprintf(stderr, "memzone status: error: %s\n", err);
		return MZ_EXIT_FAILURE;
	}
	load_policy(&st);
	if (json)
		mz_status_print_json(&st, &o, blocks, stdout);
	else if (prometheus)
		mz_status_print_prometheus(&st, stdout);
	else if (blocks)
		mz_status_print_blocks(&st, &o, stdout);
	else
		mz_status_print_text(&st, &o, stdout);
	mz_status_free(&st);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "memzone status: error: writing the output failed\n");
		return MZ_EXIT_FAILURE;
	}
	return MZ_EXIT_OK;
}
