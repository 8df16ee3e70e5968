/* daxctl.c - dax devices configured for daxctl in /etc/daxctl.conf.d (daxctl.h) */
#include "daxctl.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECTION "reconfigure-device"

/* [start, end) without leading and trailing blanks */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

bool mz_daxctl_text_names(const char *text, const char *uuid, char *section, size_t len)
{
	const char *p = text;
	char name[128] = "";
	bool in = false;
	size_t ulen = strlen(uuid);

	while (*p) {
		const char *nl = strchr(p, '\n'), *e = nl ? nl : p + strlen(p), *s = p, *eq;

		p = nl ? nl + 1 : e;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *k = s + 1, *ke = e;

			in = false;
			if (ke[-1] != ']' || ke - 1 <= k)
				continue;
			ke--;
			trim(&k, &ke);
			if ((size_t)(ke - k) > strlen(SECTION) && strncmp(k, SECTION, strlen(SECTION)) == 0 &&
			    isspace((unsigned char)k[strlen(SECTION)])) {
				const char *n = k + strlen(SECTION), *ne = ke;

				trim(&n, &ne);
				if (n < ne && (size_t)(ne - n) < sizeof(name)) {
					memcpy(name, n, (size_t)(ne - n));
					name[ne - n] = '\0';
					in = true;
				}
			}
			continue;
		}
		eq = memchr(s, '=', (size_t)(e - s));
		if (!in || !eq)
			continue;
		{
			const char *k = s, *ke = eq, *v = eq + 1, *ve = e;

			trim(&k, &ke);
			trim(&v, &ve);
			if ((size_t)(ke - k) == strlen("nvdimm.uuid") && strncasecmp(k, "nvdimm.uuid", (size_t)(ke - k)) == 0 &&
			    ulen && (size_t)(ve - v) == ulen && strncasecmp(v, uuid, ulen) == 0) {
				snprintf(section, len, "%s", name);
				return true;
			}
		}
	}
	return false;
}

static bool uuid_valid(const char *u)
{
	size_t n = strlen(u);

	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	return true;
}

int mz_daxctl_device_uuid(const char *dev, char *uuid, size_t len)
{
	char path[MZ_PATH_MAX], real[PATH_MAX], attr[PATH_MAX + 128], ns[64];
	char *slash;
	int r;

	if (!dev[0] || strchr(dev, '/') || strcmp(dev, ".") == 0 || strcmp(dev, "..") == 0)
		return -ENOENT;
	if ((r = mz_path(path, sizeof(path), "/sys/bus/dax/devices/%s", dev)) < 0)
		return r;
	if (!realpath(path, real))
		return -errno;
	slash = strrchr(real, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0'; /* the nd dax device (region's daxX.Y) the dax device sits under */
	snprintf(attr, sizeof(attr), "%s/uuid", real);
	if (mz_read_line(attr, uuid, len) == 0 && uuid_valid(uuid))
		return 0;
	snprintf(attr, sizeof(attr), "%s/namespace", real);
	if (mz_read_line(attr, ns, sizeof(ns)) == 0 && ns[0] && !strchr(ns, '/') && (slash = strrchr(real, '/'))) {
		*slash = '\0';
		int k = snprintf(attr, sizeof(attr), "%s/%.63s/uuid", real, ns);

		if (k > 0 && (size_t)k < sizeof(attr) && mz_read_line(attr, uuid, len) == 0 && uuid_valid(uuid))
			return 0;
	}
	return -ENOENT;
}

static int conf_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

/* The first <root>/etc/daxctl.conf.d/ *.conf (in C-locale order) with a [reconfigure-device NAME]
 * section naming uuid (NAME in name), or with any such section when uuid is NULL: true, with the
 * file's path in path. */
static bool first_conf(const char *uuid, char *path, size_t plen, char *name, size_t nlen)
{
	char dir[MZ_PATH_MAX];
	struct dirent **list = NULL;
	bool found = false;
	int n;

	if (mz_path(dir, sizeof(dir), "/etc/daxctl.conf.d") < 0)
		return false;
	n = scandir(dir, &list, conf_filter, alphasort);
	for (int i = 0; i < n; i++) {
		char *text = NULL;
		size_t tl;

		if (!found) {
			snprintf(path, plen, "%s/%s", dir, list[i]->d_name);
			found = mz_read_file(path, &text, &tl) == 0 &&
				(uuid ? mz_daxctl_text_names(text, uuid, name, nlen) : strstr(text, "[" SECTION) != NULL);
		}
		free(text);
		free(list[i]);
	}
	free(list);
	return found;
}

bool mz_daxctl_claims(const char *dev, char *why, size_t len)
{
	char path[MZ_PATH_MAX + 256], uuid[64], name[128];

	if (mz_daxctl_device_uuid(dev, uuid, sizeof(uuid)) < 0 || !first_conf(uuid, path, sizeof(path), name, sizeof(name)))
		return false;
	snprintf(why, len, "%s [" SECTION " %s]", path, name);
	return true;
}

bool mz_daxctl_configured(char *why, size_t len)
{
	char path[MZ_PATH_MAX + 256];

	if (!first_conf(NULL, path, sizeof(path), NULL, 0))
		return false;
	snprintf(why, len, "%s configures daxctl", path);
	return true;
}
