/* memzoned.c - placeholder until the rebalancer daemon lands */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "memzoned: not built yet\n");
	return 1;
}
