/* config.c - placeholder: built-in defaults only, until the config parser lands */
#include "config.h"

#include <errno.h>
#include <string.h>

const char *const mz_config_known_keys[] = { NULL };

void mz_config_defaults(struct mz_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ratio = 301;
}

int mz_config_load(struct mz_config *c, const char *path, bool allow_insecure, char *err, size_t errlen)
{
	(void)path;
	(void)allow_insecure;
	(void)err;
	(void)errlen;
	mz_config_defaults(c);
	return 0;
}

int mz_config_parse_string(struct mz_config *c, const char *name, const char *text, char *err, size_t errlen)
{
	(void)name;
	(void)text;
	(void)err;
	(void)errlen;
	mz_config_defaults(c);
	return -ENOSYS;
}

void mz_config_print(const struct mz_config *c, FILE *f) { (void)c; (void)f; }
void mz_config_print_json(const struct mz_config *c, FILE *f) { (void)c; (void)f; }
