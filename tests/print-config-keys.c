/* print-config-keys.c - print mz_config_known_keys[], one "section.key" a line, for test-docs.sh
 * (the man-page test compares them with memzone.conf(5)). */
#include "config.h"

#include <stdio.h>

int main(void)
{
	for (size_t i = 0; mz_config_known_keys[i]; i++)
		puts(mz_config_known_keys[i]);
	return ferror(stdout) ? 1 : 0;
}
