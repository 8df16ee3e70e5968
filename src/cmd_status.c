/* cmd_status.c - placeholder until the subcommand lands (owned by the engineer implementing it) */
#include "commands.h"

#include <stdio.h>

int cmd_status(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "memzone: this command is not built yet\n");
	return MZ_EXIT_FAILURE;
}
