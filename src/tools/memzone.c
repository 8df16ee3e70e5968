/* memzone.c - CLI front-end: git-style subcommands, each in its own cmd_*.c */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "status", cmd_status, "show zones, ratios, hot-removable memory and blocks" },
	{ "online", cmd_online, "online hot-added blocks per the policy (run by the udev rule)" },
	{ "plan", cmd_plan, "show what 'online' would do for offline blocks, without writing" },
	{ "check-config", cmd_check_config, "validate the configuration and print the effective policy" },
	{ "init", cmd_init, "apply the boot-time settings (kernel auto-online) from the policy" },
	{ "rebalance", cmd_rebalance, "run one rebalancing cycle of memzoned (--once [--dry-run])" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: memzone COMMAND [OPTIONS]\n\n"
		   "Decide which zone hot-added memory goes to, and move the boundary with the load.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'memzone COMMAND --help' for the options of a command.\n"
		   "  -h, --help     show this help and exit\n"
		   "  -V, --version  show the version and exit\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return MZ_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return MZ_EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("memzone %s\n", PACKAGE_VERSION);
		return MZ_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			mz_cli.cmd = commands[i].name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "memzone: '%s' is not a memzone command. See 'memzone --help'.\n", argv[1]);
	return MZ_EXIT_USAGE;
}
