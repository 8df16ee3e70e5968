/* commands.h - memzone subcommands (one file each) and their shared option handling */
#pragma once
#include <getopt.h>
#include <stdbool.h>

/* Exit codes (documented in memzone(8)) */
enum {
	MZ_EXIT_OK = 0,
	MZ_EXIT_FAILURE = 1,     /* the operation failed (a write was refused, a file unreadable) */
	MZ_EXIT_USAGE = 2,       /* bad command line */
	MZ_EXIT_CONFIG = 3,      /* configuration error (check-config; online still onlines with defaults) */
	MZ_EXIT_PARTIAL = 4,     /* some blocks done, some failed */
};

/* Options every subcommand accepts; long-only ones use these codes. */
enum {
	MZ_OPT_ROOT = 0x1000,
	MZ_OPT_CONFIG,
	MZ_OPT_LOG,
	MZ_OPT_INSECURE_CONFIG,
	MZ_OPT_HELP,
	MZ_OPT_VERSION,
	MZ_OPT__FIRST_CMD,       /* subcommand-specific long-only options start here */
};

#define MZ_COMMON_LONGOPTS                                                  \
	{ "root", required_argument, NULL, MZ_OPT_ROOT },                   \
	{ "config", required_argument, NULL, MZ_OPT_CONFIG },               \
	{ "log", required_argument, NULL, MZ_OPT_LOG },                     \
	{ "allow-insecure-config", no_argument, NULL, MZ_OPT_INSECURE_CONFIG }, \
	{ "verbose", no_argument, NULL, 'v' },                              \
	{ "quiet", no_argument, NULL, 'q' },                                \
	{ "help", no_argument, NULL, 'h' },                                 \
	{ "version", no_argument, NULL, 'V' }

#define MZ_COMMON_SHORTOPTS "vqhV"

#define MZ_COMMON_HELP                                                                          \
	"  --root DIR           read and write everything under DIR (a fixture tree) instead of /\n" \
	"  --config FILE        policy file (default " MZ_SYSCONFDIR "/memzone.conf and memzone.conf.d/)\n" \
	"  --log TARGET         auto, stderr, journal or kmsg (default auto)\n"                   \
	"  --allow-insecure-config  accept config files not owned by root (only with --root)\n"   \
	"  -v, --verbose        more detail (debug messages, journal fields)\n"                   \
	"  -q, --quiet          warnings and errors only\n"                                       \
	"  -h, --help           show this help and exit\n"                                        \
	"  -V, --version        show the version and exit\n"

struct mz_cli {
	const char *cmd;            /* "status", "online", ... */
	const char *config_path;    /* NULL: default */
	bool allow_insecure_config;
	bool log_set;
};
extern struct mz_cli mz_cli;

/* Handle one common option; returns 1 when handled, 0 when not a common option, or -1 after printing
 * an error (exit MZ_EXIT_USAGE). For 'h' and 'V' it prints and returns 2 (exit MZ_EXIT_OK). */
int mz_cli_common_opt(int opt, const char *arg, void (*usage)(void));
/* After option parsing: sets up logging (if --log was not given, auto). */
void mz_cli_finish_opts(void);
/* Load the config honoring --config/--root/--allow-insecure-config; on error logs it and returns <0. */
struct mz_config;
int mz_cli_load_config(struct mz_config *c);

int cmd_status(int argc, char **argv);
int cmd_online(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_rebalance(int argc, char **argv);
