/* config.c - memzone.conf + memzone.conf.d/NAME.conf: inih fed by a line-counting reader, one key table
 * that drives parsing, validation, the effective-policy dump and the list of known keys.
 *
 * inih is used for what it is good at (splitting "key = value" and calling us per key), but every line
 * goes through read_line() first: inih's handler gets no line number, its fixed line buffer silently
 * splits long lines, and an indented line silently appends to the previous value. The reader counts
 * lines, hands inih one whole physical line per call (or an empty one after reporting a problem),
 * strips indentation and comments itself, and validates section headers, so inih's own quirks
 * (multi-line values, BOM, inline-comment and line-length settings) never decide anything. */
#include "config.h"
#include "json.h"
#include "log.h"
#include "units.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A policy file is a few KiB; anything this large is not one. */
#define CONFIG_FILE_MAX (1u << 20)
#define MAX_DROPINS (MZ_ARRAY_SIZE(((struct mz_config *)0)->files) - 1)
#define PERCENT_DECIMALS 3
/* Errors kept as text; past this a file is not a memzone config at all, just count them. */
#define MAX_ERROR_TEXTS 100

/* ---- the key table ---------------------------------------------------------------------------- */

enum section_kind { SEC_NONE, SEC_BAD, SEC_ONLINE, SEC_SOURCE, SEC_REBALANCE };

enum value_type {
	V_CHOICE,   /* enum, stored as unsigned; `choices` lists the names by value */
	V_RATIO,    /* unsigned, whole percent ("301" or "301%") */
	V_UINT,     /* unsigned count */
	V_U64,      /* uint64_t count */
	V_SIZE,     /* uint64_t bytes */
	V_DURATION, /* uint64_t milliseconds */
	V_PERCENT,  /* double, 0..max, at most PERCENT_DECIMALS decimals (so the dump reads back exactly) */
	V_BOOL,
	V_PATH,     /* char[256] absolute path, "" = off */
};

struct key_def {
	enum section_kind section;
	const char *name;
	enum value_type type;
	size_t offset;               /* in struct mz_config, or in struct mz_source_rule for SEC_SOURCE */
	const char *const *choices;  /* V_CHOICE: NULL-terminated, index = enum value */
	uint64_t min, max;           /* inclusive; ms for durations; percent for V_PERCENT; unused for sizes */
	bool above_min;              /* V_PERCENT: strictly greater than min */
	const char *obsolete;        /* parsed (old configs keep loading) but without effect: why, for the
				      * warning; left out of the dump */
};

/* Enums are stored through an unsigned (memcpy), which only works if they are that size. */
_Static_assert(sizeof(enum mz_default_zone) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_ratio_scope) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_ratio_basis) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_memonly_rule) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_already_online) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_kernel_auto_online) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_source_zone) == sizeof(unsigned), "enum size");
_Static_assert(sizeof(enum mz_harvest_order) == sizeof(unsigned), "enum size");

static const char *const default_zone_names[] = { "auto", "movable", "kernel", NULL };
static const char *const ratio_scope_names[] = { "node", "system", "both", NULL };
static const char *const ratio_basis_names[] = { "current", "boot", NULL };
static const char *const memonly_names[] = { "movable", "kernel", "policy", NULL };
static const char *const already_online_names[] = { "fix", "leave", NULL };
static const char *const kao_names[] = { "disable", "keep", "policy", NULL };
static const char *const source_zone_names[] = { "policy", "movable", "kernel", "ignore", NULL };
static const char *const harvest_order_names[] = { "devices", "pages", NULL };

#define SEC_MS 1000ull
#define MIN_MS (60 * SEC_MS)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define RATIO_MAX 100000
#define ON(n, f) .section = SEC_ONLINE, .name = n, .offset = offsetof(struct mz_config, f)
#define SRC(n, f) .section = SEC_SOURCE, .name = n, .offset = offsetof(struct mz_source_rule, f)
#define RB(n, f) .section = SEC_REBALANCE, .name = n, .offset = offsetof(struct mz_config, rebalance.f)

/* Order = order of the dump, of the JSON and of mz_config_known_keys. */
static const struct key_def keys[] = {
	{ ON("default_zone", default_zone), .type = V_CHOICE, .choices = default_zone_names },
	{ ON("ratio", ratio), .type = V_RATIO, .max = RATIO_MAX },
	{ ON("ratio_scope", ratio_scope), .type = V_CHOICE, .choices = ratio_scope_names },
	{ ON("ratio_basis", ratio_basis), .type = V_CHOICE, .choices = ratio_basis_names },
	{ ON("ratio_with_rebalancer", ratio_with_rebalancer), .type = V_RATIO, .max = RATIO_MAX,
	  .obsolete = "the cap is 'ratio' whether or not memzoned runs: memzoned may stop at any moment, and "
		      "the zones chosen must be safe without it (memzone.conf(5))" },
	{ ON("min_kernel", min_kernel), .type = V_SIZE },
	{ ON("min_kernel_percent", min_kernel_percent), .type = V_PERCENT, .max = 100 },
	{ ON("memory_only_nodes", memory_only_nodes), .type = V_CHOICE, .choices = memonly_names },
	{ ON("already_online", already_online), .type = V_CHOICE, .choices = already_online_names },
	{ ON("kernel_auto_online", kernel_auto_online), .type = V_CHOICE, .choices = kao_names },
	/* udev kills a worker after 180 s: the wait must end well before that, and the block still be onlined */
	{ ON("lock_timeout", lock_timeout_ms), .type = V_DURATION, .max = 60 * SEC_MS },
	/* the helper waits this long in its udev worker: well under udev's 180 s */
	{ ON("kmem_wait", kmem_wait_ms), .type = V_DURATION, .max = 120 * SEC_MS },
	{ SRC("zone", zone), .type = V_CHOICE, .choices = source_zone_names },
	{ SRC("whole_device", whole_device), .type = V_BOOL },
	{ RB("enabled", enabled), .type = V_BOOL },
	{ RB("interval", interval_ms), .type = V_DURATION, .min = 10, .max = HOUR_MS },
	{ RB("headroom", headroom), .type = V_SIZE },
	{ RB("headroom_percent", headroom_percent), .type = V_PERCENT, .max = 100 },
	{ RB("release_headroom", release_headroom), .type = V_SIZE },
	{ RB("release_delay", release_delay_ms), .type = V_DURATION, .max = DAY_MS },
	{ RB("trend_window", trend_window_ms), .type = V_DURATION, .min = 10, .max = DAY_MS },
	{ RB("psi_some_avg10", psi_some_avg10), .type = V_PERCENT, .max = 100, .above_min = true },
	{ RB("stall_rate", stall_rate), .type = V_U64, .min = 1, .max = 1000000000 },
	{ RB("grow_kernel", grow_kernel), .type = V_BOOL },
	{ RB("grow_movable", grow_movable), .type = V_BOOL },
	{ RB("offline_timeout", offline_timeout_ms), .type = V_DURATION, .min = 10, .max = HOUR_MS },
	{ RB("cooldown", cooldown_ms), .type = V_DURATION, .max = DAY_MS },
	{ RB("moves_per_tick", moves_per_tick), .type = V_UINT, .min = 1, .max = 1024 },
	{ RB("moves_per_minute", moves_per_minute), .type = V_UINT, .min = 1, .max = 100000 },
	{ RB("backoff_initial", backoff_initial_ms), .type = V_DURATION, .min = 10, .max = DAY_MS },
	{ RB("backoff_max", backoff_max_ms), .type = V_DURATION, .min = 10, .max = 7 * DAY_MS },
	{ RB("harvest_order", harvest_order), .type = V_CHOICE, .choices = harvest_order_names },
	{ RB("boot_memory", boot_memory), .type = V_BOOL },
	{ RB("observe_only", observe_only), .type = V_BOOL },
	{ RB("metrics_file", metrics_file), .type = V_PATH },
};
#define NKEYS MZ_ARRAY_SIZE(keys)

const char *const mz_config_known_keys[] = {
	"online.default_zone", "online.ratio", "online.ratio_scope", "online.ratio_basis",
	"online.ratio_with_rebalancer", "online.min_kernel", "online.min_kernel_percent",
	"online.memory_only_nodes", "online.already_online", "online.kernel_auto_online",
	"online.lock_timeout", "online.kmem_wait",
	"source.zone", "source.whole_device",
	"rebalance.enabled", "rebalance.interval", "rebalance.headroom", "rebalance.headroom_percent",
	"rebalance.release_headroom", "rebalance.release_delay", "rebalance.trend_window",
	"rebalance.psi_some_avg10", "rebalance.stall_rate", "rebalance.grow_kernel", "rebalance.grow_movable",
	"rebalance.offline_timeout", "rebalance.cooldown", "rebalance.moves_per_tick",
	"rebalance.moves_per_minute", "rebalance.backoff_initial", "rebalance.backoff_max",
	"rebalance.harvest_order", "rebalance.boot_memory", "rebalance.observe_only", "rebalance.metrics_file",
	NULL,
};
_Static_assert(MZ_ARRAY_SIZE(mz_config_known_keys) == NKEYS + 1, "mz_config_known_keys matches keys[]");

/* [source NAME] sections: every source but boot memory, which is never hot-added. */
#define FOR_EACH_SOURCE_SECTION(s) for (enum mz_source s = MZ_SOURCE_DIMM; s < MZ_SOURCE__COUNT; s++)

void mz_config_defaults(struct mz_config *c)
{
	memset(c, 0, sizeof(*c));
	c->default_zone = MZ_DEFAULT_AUTO;
	c->ratio = 301; /* the kernel's auto_movable_ratio default */
	c->ratio_scope = MZ_SCOPE_BOTH;
	c->ratio_basis = MZ_BASIS_BOOT; /* the kernel's auto-movable basis */
	c->ratio_with_rebalancer = 800;
	c->min_kernel = 0;
	c->min_kernel_percent = 0;
	c->memory_only_nodes = MZ_MEMONLY_MOVABLE;
	c->already_online = MZ_ALREADY_FIX;
	c->kernel_auto_online = MZ_KAO_POLICY; /* the kernel onlines in the add path where it can (kmode.h) */
	c->lock_timeout_ms = 5 * SEC_MS;
	c->kmem_wait_ms = 10 * SEC_MS;

	for (size_t i = 0; i < MZ_SOURCE__COUNT; i++)
		c->source[i] = (struct mz_source_rule){ .zone = MZ_SRCZONE_POLICY, .whole_device = true };
	/* virtio-mem unplugs block by block and its devices grow far past any ratio cap: judge every
	 * block on its own, as the kernel's auto-movable policy does for such "dynamic" groups */
	c->source[MZ_SOURCE_VIRTIO_MEM].whole_device = false;
	/* dax/kmem memory is daxctl's business (daxctl reconfigure-device picks its zone) */
	c->source[MZ_SOURCE_KMEM].zone = MZ_SRCZONE_IGNORE;

	struct mz_rebalance_config *r = &c->rebalance;
	r->enabled = true;
	r->interval_ms = 1 * SEC_MS;
	r->headroom = 64ull << 20;
	r->headroom_percent = 0;
	r->release_headroom = 256ull << 20;
	r->release_delay_ms = 60 * SEC_MS;
	r->trend_window_ms = 10 * SEC_MS;
	r->psi_some_avg10 = 5.0;
	r->stall_rate = 100;
	r->grow_kernel = true;
	r->grow_movable = true;
	r->offline_timeout_ms = 10 * SEC_MS;
	r->cooldown_ms = 10 * SEC_MS;
	r->moves_per_tick = 1;
	r->moves_per_minute = 30;
	r->backoff_initial_ms = 30 * SEC_MS;
	r->backoff_max_ms = 30 * MIN_MS;
	r->harvest_order = MZ_HARVEST_DEVICES;
	r->boot_memory = false;
	r->observe_only = false;
	r->metrics_file[0] = '\0';
}

static const char *section_name(enum section_kind s)
{
	switch (s) {
	case SEC_ONLINE: return "online";
	case SEC_SOURCE: return "source";
	case SEC_REBALANCE: return "rebalance";
	default: return "";
	}
}

static void *key_field(struct mz_config *c, const struct key_def *k, enum mz_source src)
{
	char *base = k->section == SEC_SOURCE ? (char *)&c->source[src] : (char *)c;

	return base + k->offset;
}

static const void *key_field_const(const struct mz_config *c, const struct key_def *k, enum mz_source src)
{
	return key_field((struct mz_config *)c, k, src);
}

static const struct key_def *find_key(enum section_kind sec, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == sec && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---- values: parse and format (pure) ---------------------------------------------------------- */

/* Copy s for a message: control bytes as '?', at most max characters (then "..."). Paths keep
 * UTF-8; in keys and values (plain ASCII when right) other bytes show as '?' too, so a stray BOM or
 * non-breaking space is visible in "unknown key '??ratio'". */
static const char *show(const char *s, char *buf, size_t len, size_t max, bool ascii)
{
	size_t n = 0;

	for (; *s && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n >= max) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] = (ch < 0x20 || ch == 0x7f || (ascii && ch >= 0x80)) ? '?' : *s;
	}
	buf[n] = '\0';
	return buf;
}

static const char *printable(const char *s, char *buf, size_t len, size_t max)
{
	return show(s, buf, len, max, true);
}

static const char *printable_path(const char *s, char *buf, size_t len)
{
	return show(s, buf, len, 256, false);
}

static void choice_list(const char *const *choices, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; choices[i] && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i == 0 ? "" : !choices[i + 1] ? " or " : ", ",
				 choices[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static size_t decimals(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = 0;

	if (!dot)
		return 0;
	while (isdigit((unsigned char)dot[1 + n]))
		n++;
	return n;
}

static void range_why(const struct key_def *k, char *why, size_t len)
{
	char lo[32], hi[32];

	switch (k->type) {
	case V_DURATION:
		snprintf(why, len, "from %s to %s", mz_format_duration(k->min, lo, sizeof(lo)),
			 mz_format_duration(k->max, hi, sizeof(hi)));
		break;
	default:
		snprintf(why, len, "from %llu to %llu", (unsigned long long)k->min, (unsigned long long)k->max);
		break;
	}
}

/* Parse value for key k into field. On failure returns -EINVAL/-ERANGE and says why (the text after
 * "key 'x': "). */
static int parse_value(const struct key_def *k, const char *value, void *field, char *why, size_t len)
{
	char shown[80], range[64];
	uint64_t u = 0;
	double d = 0;
	bool b;
	int r;

	printable(value, shown, sizeof(shown), 64);
	if (*value == '\0' && k->type != V_PATH) {
		snprintf(why, len, "no value given");
		return -EINVAL;
	}
	switch (k->type) {
	case V_CHOICE: {
		char list[128];

		for (unsigned i = 0; k->choices[i]; i++)
			if (strcasecmp(value, k->choices[i]) == 0) {
				memcpy(field, &i, sizeof(i));
				return 0;
			}
		choice_list(k->choices, list, sizeof(list));
		snprintf(why, len, "'%s' is not one of %s", shown, list);
		return -EINVAL;
	}
	case V_RATIO:
		r = mz_parse_percent(value, (double)k->max, &d);
		if (r == -ERANGE) {
			snprintf(why, len, "'%s' is more than %llu%%", shown, (unsigned long long)k->max);
			return r;
		}
		if (r < 0 || d != (double)(unsigned)d) {
			snprintf(why, len, "'%s' is not a whole number of percent", shown);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)d;
		return 0;
	case V_UINT:
	case V_U64:
		r = mz_parse_u64(value, 10, &u);
		if (r == -EINVAL) {
			snprintf(why, len, "'%s' is not a whole number", shown);
			return r;
		}
		if (r < 0 || u < k->min || u > k->max) {
			range_why(k, range, sizeof(range));
			snprintf(why, len, "'%s' is out of range (%s)", shown, range);
			return -ERANGE;
		}
		if (k->type == V_UINT)
			*(unsigned *)field = (unsigned)u;
		else
			*(uint64_t *)field = u;
		return 0;
	case V_SIZE:
		r = mz_parse_size(value, &u);
		if (r == -ERANGE) {
			snprintf(why, len, "'%s' is too large", shown);
			return r;
		}
		if (r < 0) {
			snprintf(why, len, "'%s' is not a size (bytes, or a number with K, M, G, T or P)", shown);
			return r;
		}
		*(uint64_t *)field = u;
		return 0;
	case V_DURATION:
		r = mz_parse_duration(value, &u);
		if (r == -EINVAL) {
			snprintf(why, len, "'%s' is not a duration (a number with ms, s, m or h)", shown);
			return r;
		}
		if (r < 0 || u < k->min || u > k->max) {
			range_why(k, range, sizeof(range));
			snprintf(why, len, "'%s' is out of range (%s)", shown, range);
			return -ERANGE;
		}
		*(uint64_t *)field = u;
		return 0;
	case V_PERCENT:
		r = mz_parse_percent(value, (double)k->max, &d);
		if (r == -EINVAL) {
			snprintf(why, len, "'%s' is not a percentage", shown);
			return r;
		}
		if (r < 0 || (k->above_min && d <= (double)k->min)) {
			snprintf(why, len, "'%s' is out of range (%s %llu%% to %llu%%)", shown,
				 k->above_min ? "above" : "from", (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -ERANGE;
		}
		if (decimals(value) > PERCENT_DECIMALS) {
			snprintf(why, len, "'%s' has more than %d decimals", shown, PERCENT_DECIMALS);
			return -EINVAL;
		}
		*(double *)field = d;
		return 0;
	case V_BOOL:
		if (mz_parse_bool(value, &b) < 0) {
			snprintf(why, len, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", shown);
			return -EINVAL;
		}
		*(bool *)field = b;
		return 0;
	case V_PATH: {
		size_t n = strlen(value);

		if (n == 0) {
			((char *)field)[0] = '\0';
			return 0;
		}
		if (value[0] != '/') {
			snprintf(why, len, "'%s' is not an absolute path", shown);
			return -EINVAL;
		}
		if (n >= sizeof(((struct mz_rebalance_config *)0)->metrics_file)) {
			snprintf(why, len, "path is longer than %zu bytes",
				 sizeof(((struct mz_rebalance_config *)0)->metrics_file) - 1);
			return -ENAMETOOLONG;
		}
		for (const char *p = value; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				snprintf(why, len, "'%s' contains a control character", shown);
				return -EINVAL;
			}
		if (strstr(value, "/../") || (n >= 3 && strcmp(value + n - 3, "/..") == 0)) {
			snprintf(why, len, "'%s' contains a '..' component", shown);
			return -EINVAL;
		}
		memcpy(field, value, n + 1);
		return 0;
	}
	}
	snprintf(why, len, "internal error: unknown value type");
	return -EINVAL;
}

/* Sizes print in the largest unit that divides them exactly, so the dump reads back to the same bytes. */
static void format_size_exact(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "PTGMK";

	for (size_t i = 0; i < sizeof(units) - 1; i++) {
		unsigned shift = 10 * (unsigned)(sizeof(units) - 1 - i);

		if (bytes != 0 && bytes % (1ull << shift) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

static void format_percent(double v, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%.*f", PERCENT_DECIMALS, v);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

static void format_value(const struct key_def *k, const void *field, char *buf, size_t len)
{
	unsigned e;

	switch (k->type) {
	case V_CHOICE: {
		size_t count = 0;

		memcpy(&e, field, sizeof(e));
		while (k->choices[count])
			count++;
		snprintf(buf, len, "%s", e < count ? k->choices[e] : "?");
		return;
	}
	case V_RATIO:
	case V_UINT:
		snprintf(buf, len, "%u", *(const unsigned *)field);
		return;
	case V_U64:
		snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
		return;
	case V_SIZE:
		format_size_exact(*(const uint64_t *)field, buf, len);
		return;
	case V_DURATION:
		mz_format_duration(*(const uint64_t *)field, buf, len);
		return;
	case V_PERCENT:
		format_percent(*(const double *)field, buf, len);
		return;
	case V_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		return;
	case V_PATH:
		snprintf(buf, len, "%s", (const char *)field);
		return;
	}
	buf[0] = '\0';
}

/* ---- a load: the config being built, where each key was set, the errors ---------------------- */

struct origin {
	int order;        /* 0, 1, ... in the order texts were parsed; -1 = built-in default */
	const char *name; /* file name as in messages */
	unsigned line;
};

struct load {
	struct mz_config cfg;
	struct origin origin[NKEYS][MZ_SOURCE__COUNT];
	int ntexts;          /* texts parsed so far */
	char shown[MZ_ARRAY_SIZE(((struct mz_config *)0)->files)][300]; /* files[] as printed in messages */
	char *msgs;          /* every error, one per line */
	char warnings[sizeof(((struct mz_config *)0)->warnings)]; /* one per line, copied to the config */
	size_t msgs_len;
	unsigned nerr;
	int first_rc;
};

static void load_init(struct load *ld)
{
	memset(ld, 0, sizeof(*ld));
	mz_config_defaults(&ld->cfg);
	for (size_t i = 0; i < NKEYS; i++)
		for (size_t s = 0; s < MZ_SOURCE__COUNT; s++)
			ld->origin[i][s].order = -1;
}

static void add_error(struct load *ld, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_error(struct load *ld, int rc, const char *fmt, ...)
{
	char msg[512];
	size_t n;
	va_list ap;

	if (ld->nerr++ == 0)
		ld->first_rc = rc < 0 ? rc : -EINVAL;
	if (ld->nerr > MAX_ERROR_TEXTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	ld->msgs = mz_xrealloc(ld->msgs, ld->msgs_len + n + 2);
	memcpy(ld->msgs + ld->msgs_len, msg, n);
	ld->msgs_len += n;
	ld->msgs[ld->msgs_len++] = '\n';
	ld->msgs[ld->msgs_len] = '\0';
}

/* Copy the errors into err: all that fit, whole lines, and a last line counting the rest. The first
 * error is always there (cut short if err is tiny). */
static void report_errors(const struct load *ld, char *err, size_t errlen)
{
	const char *p = ld->msgs;
	size_t used = 0;
	unsigned shown = 0;

	if (!err || errlen == 0)
		return;
	err[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);
		size_t reserve = shown + 1 < ld->nerr ? 40 : 0; /* room for the "N more" line */

		if (shown > 0 && used + 1 + n + reserve >= errlen)
			break;
		if (shown > 0)
			err[used++] = '\n';
		if (used + n >= errlen)
			n = errlen - used - 1;
		memcpy(err + used, p, n);
		used += n;
		err[used] = '\0';
		shown++;
		p = nl + 1;
	}
	if (shown < ld->nerr && used + 1 < errlen)
		snprintf(err + used, errlen - used, "\n... and %u more error%s", ld->nerr - shown,
			 ld->nerr - shown == 1 ? "" : "s");
}

/* ---- one file's text: the reader inih pulls lines from, and the handler it calls ------------- */

struct parse {
	struct load *ld;
	const char *name;          /* for messages */
	int order;                 /* ld->ntexts when this text started */
	const char *text;
	size_t len, pos;
	unsigned line;             /* physical line last handed to inih */
	enum section_kind sec;
	enum mz_source src;
	char sec_label[96];        /* "online", "source dimm", ... for messages */
	bool key_seen;             /* a key since the section header: an indented line may be a continuation */
	char last_key[64];
	unsigned set_at[NKEYS][MZ_SOURCE__COUNT]; /* line a key was set on in this file, 0 = not yet */
};

static const char *section_hint(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, key) == 0)
			return keys[i].section == SEC_SOURCE ? "a [source NAME] section" :
			       keys[i].section == SEC_ONLINE ? "[online]" : "[rebalance]";
	return NULL;
}

/* Edit distance, capped (names are short): to suggest "ratio" for "ration". */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void unknown_key(struct parse *p, const char *name)
{
	const char *elsewhere = section_hint(name);
	const struct key_def *best = NULL;
	unsigned best_d = 3; /* at most two typos */
	char shown[80];

	printable(name, shown, sizeof(shown), 48);
	if (elsewhere) {
		add_error(p->ld, -EINVAL, "%s:%u: key '%s': not a key of [%s] (it belongs in %s)", p->name, p->line,
			  shown, p->sec_label, elsewhere);
		return;
	}
	/* same section first: "ration" in [online] is "ratio", not something of [rebalance] */
	for (int pass = 0; pass < 2 && !best; pass++)
		for (size_t i = 0; i < NKEYS; i++) {
			unsigned d;

			if ((keys[i].section == p->sec) != (pass == 0))
				continue;
			d = distance(name, keys[i].name);
			if (d < best_d) {
				best_d = d;
				best = &keys[i];
			}
		}
	if (best && best->section == p->sec)
		add_error(p->ld, -EINVAL, "%s:%u: key '%s': unknown key in [%s] (did you mean '%s'?)", p->name,
			  p->line, shown, p->sec_label, best->name);
	else if (best)
		add_error(p->ld, -EINVAL, "%s:%u: key '%s': unknown key in [%s] (did you mean '%s' in %s?)",
			  p->name, p->line, shown, p->sec_label, best->name, section_hint(best->name));
	else
		add_error(p->ld, -EINVAL, "%s:%u: key '%s': unknown key in [%s]", p->name, p->line, shown,
			  p->sec_label);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct key_def *k;
	char shown[80], why[256];
	size_t idx;
	enum mz_source src;

	(void)section; /* the reader tracks sections itself (validated, with line numbers) */
	printable(name, shown, sizeof(shown), 48);
	if (p->sec == SEC_BAD)
		return 1; /* the section header was reported; one error per bad section is enough */
	if (name[0] == '\0') {
		add_error(p->ld, -EINVAL, "%s:%u: a value without a key name", p->name, p->line);
		return 1;
	}
	if (p->sec == SEC_NONE) {
		const char *where = section_hint(name);

		if (where)
			add_error(p->ld, -EINVAL, "%s:%u: key '%s': outside of any section (it belongs in %s)",
				  p->name, p->line, shown, where);
		else
			add_error(p->ld, -EINVAL, "%s:%u: key '%s': outside of any section", p->name, p->line,
				  shown);
		return 1;
	}
	k = find_key(p->sec, name);
	if (!k) {
		unknown_key(p, name);
		return 1;
	}
	idx = (size_t)(k - keys);
	src = p->sec == SEC_SOURCE ? p->src : MZ_SOURCE_BOOT;
	if (p->set_at[idx][src]) {
		add_error(p->ld, -EINVAL, "%s:%u: key '%s': set twice in [%s] (first on line %u)", p->name, p->line,
			  shown, p->sec_label, p->set_at[idx][src]);
		return 1;
	}
	p->set_at[idx][src] = p->line;
	int r = parse_value(k, value, key_field(&p->ld->cfg, k, src), why, sizeof(why));
	if (r < 0) {
		add_error(p->ld, r, "%s:%u: key '%s': %s", p->name, p->line, shown, why);
		return 1;
	}
	p->ld->origin[idx][src] = (struct origin){ p->order, p->name, p->line };
	if (k->obsolete) {
		size_t used = strlen(p->ld->warnings);

		snprintf(p->ld->warnings + used, sizeof(p->ld->warnings) - used, "%s:%u: key '%s' is ignored: %s\n",
			 p->name, p->line, shown, k->obsolete);
	}
	return 1;
}

/* A section header's text between the brackets -> p->sec (or an error). */
static void enter_section(struct parse *p, char *inner)
{
	char *name = mz_strstrip(inner), shown[80];

	printable(name, shown, sizeof(shown), 48);
	p->sec = SEC_BAD;
	p->key_seen = false;
	snprintf(p->sec_label, sizeof(p->sec_label), "%s", shown);
	if (strcmp(name, "online") == 0) {
		p->sec = SEC_ONLINE;
		return;
	}
	if (strcmp(name, "rebalance") == 0) {
		p->sec = SEC_REBALANCE;
		return;
	}
	if (strncmp(name, "source", 6) == 0 && (name[6] == '\0' || isspace((unsigned char)name[6]))) {
		char *src = mz_strstrip(name + 6);
		enum mz_source source;

		if (mz_source_from_name(src, &source) == 0 && source != MZ_SOURCE_BOOT) {
			p->sec = SEC_SOURCE;
			p->src = source;
			snprintf(p->sec_label, sizeof(p->sec_label), "source %s", mz_source_name(source));
			return;
		}
		if (strcmp(src, "boot") == 0)
			add_error(p->ld, -EINVAL,
				  "%s:%u: section [%s]: boot memory is never hot-added, it has no source rule "
				  "(sources: dimm, virtio_mem, kmem, other)", p->name, p->line, shown);
		else
			add_error(p->ld, -EINVAL,
				  "%s:%u: section [%s]: unknown source (expected dimm, virtio_mem, kmem or other)",
				  p->name, p->line, shown);
		return;
	}
	add_error(p->ld, -EINVAL,
		  "%s:%u: section [%s]: unknown section (expected [online], [rebalance] or [source NAME])", p->name,
		  p->line, shown);
}

/* Cut an inline comment: '#' or ';' at the start or after a blank. */
static void cut_comment(char *s)
{
	for (char *c = s; *c; c++)
		if ((*c == '#' || *c == ';') && (c == s || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			return;
		}
}

/* Look at one physical line (NUL-terminated, no newline) and put what inih should see in out:
 * the "key = value" text for key lines, "" for everything else (handled or reported here). */
static void classify_line(struct parse *p, char *line, char *out, size_t outlen)
{
	bool indented = isspace((unsigned char)line[0]);
	char *s = mz_strstrip(line), shown[80];

	out[0] = '\0';
	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	cut_comment(s);
	s = mz_strstrip(s);
	printable(s, shown, sizeof(shown), 64);
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close) {
			add_error(p->ld, -EINVAL, "%s:%u: '%s' has no closing ']'", p->name, p->line, shown);
			p->sec = SEC_BAD;
			return;
		}
		*close = '\0';
		enter_section(p, s + 1);
		if (*mz_strstrip(close + 1) != '\0')
			add_error(p->ld, -EINVAL, "%s:%u: section [%s]: text after ']'", p->name, p->line,
				  p->sec_label);
		return;
	}
	if (!strpbrk(s, "=:")) {
		/* inih would append an indented line to the previous key's value: say so instead */
		if (indented && p->key_seen)
			add_error(p->ld, -EINVAL,
				  "%s:%u: key '%s': indented line '%s' would continue its value; multi-line "
				  "values are not supported", p->name, p->line, p->last_key, shown);
		else
			add_error(p->ld, -EINVAL, "%s:%u: '%s' is not 'key = value', a [section] or a comment",
				  p->name, p->line, shown);
		return;
	}
	/* at most outlen - 2 characters: one byte under what fills inih's buffer, so that builds with
	 * INI_ALLOW_REALLOC never take a full buffer for a split line and read on */
	size_t n = strlen(s);
	if (n + 2 > outlen) {
		add_error(p->ld, -EINVAL, "%s:%u: line too long (%zu bytes without indentation and comments; "
			  "at most %zu)", p->name, p->line, n, outlen - 2);
		return;
	}
	memcpy(out, s, n + 1);
	size_t klen = strcspn(s, "=:");
	while (klen > 0 && isspace((unsigned char)s[klen - 1]))
		klen--;
	char key[64];
	if (klen >= sizeof(key))
		klen = sizeof(key) - 1;
	memcpy(key, s, klen);
	key[klen] = '\0';
	printable(key, p->last_key, sizeof(p->last_key), 48);
	p->key_seen = true;
}

/* inih's reader callback: exactly one physical line per call, so inih's line count is ours. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *start, *nl;
	size_t n;
	char *line;

	if (p->pos >= p->len || num < 3)
		return NULL;
	start = p->text + p->pos;
	nl = memchr(start, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - start) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->line++;
	if (n > 0 && start[n - 1] == '\r') /* CRLF files from Windows editors */
		n--;
	if (p->line == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
		start += 3;
		n -= 3;
	}
	if (memchr(start, '\0', n)) {
		add_error(p->ld, -EINVAL, "%s:%u: contains a NUL byte", p->name, p->line);
		str[0] = '\0';
		return str;
	}
	line = mz_xmalloc(n + 1);
	memcpy(line, start, n);
	line[n] = '\0';
	classify_line(p, line, str, (size_t)num);
	free(line);
	return str;
}

/* Apply one file's text on top of ld->cfg. */
static void parse_text(struct load *ld, const char *name, const char *text, size_t len)
{
	struct parse *p = mz_xcalloc(1, sizeof(*p));
	unsigned before = ld->nerr;
	int r;

	p->ld = ld;
	p->name = name;
	p->order = ld->ntexts++;
	p->text = text;
	p->len = len;
	p->sec = SEC_NONE;
	r = ini_parse_stream(read_line, p, on_key, p);
	/* read_line hands inih only well-formed "key = value" lines and on_key never fails, so anything
	 * inih reports on its own is unexpected: still never silently ignore it */
	if (r != 0 && ld->nerr == before)
		add_error(ld, r == -2 ? -ENOMEM : -EINVAL, "%s:%d: cannot parse this line", name, r);
	free(p);
}

/* ---- checks across keys, on the merged result ------------------------------------------------- */

static size_t key_index(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	abort(); /* a typo in this file */
}

/* Report a conflict between keys a and b at whichever was set last (the one the user just wrote). */
static void cross_error(struct load *ld, const char *a, const char *b, const char *why)
{
	size_t ia = key_index(a), ib = key_index(b);
	struct origin oa = ld->origin[ia][0], ob = ld->origin[ib][0];
	bool a_last = oa.order > ob.order || (oa.order == ob.order && oa.line >= ob.line);
	struct origin at = a_last ? oa : ob;
	const struct key_def *here = a_last ? &keys[ia] : &keys[ib], *there = a_last ? &keys[ib] : &keys[ia];
	struct origin other = a_last ? ob : oa;
	char v_here[64], v_there[64], where[300];

	format_value(here, key_field_const(&ld->cfg, here, MZ_SOURCE_BOOT), v_here, sizeof(v_here));
	format_value(there, key_field_const(&ld->cfg, there, MZ_SOURCE_BOOT), v_there, sizeof(v_there));
	if (other.order >= 0)
		snprintf(where, sizeof(where), "set in %s:%u", other.name, other.line);
	else
		snprintf(where, sizeof(where), "the default");
	if (at.order >= 0)
		add_error(ld, -EINVAL, "%s:%u: key '%s': %s conflicts with %s = %s (%s): %s", at.name,
			  at.line, here->name, v_here, there->name, v_there, where, why);
	else
		add_error(ld, -EINVAL, "built-in defaults: key '%s': %s conflicts with %s = %s: %s", here->name,
			  v_here, there->name, v_there, why);
}

static void check_across(struct load *ld)
{
	const struct mz_rebalance_config *r = &ld->cfg.rebalance;

	if (r->backoff_initial_ms > r->backoff_max_ms)
		cross_error(ld, "backoff_initial", "backoff_max", "the first backoff must not exceed the longest");
	if (r->grow_kernel && r->grow_movable && r->release_headroom <= r->headroom)
		cross_error(ld, "release_headroom", "headroom",
			    "release_headroom must be larger, or memory given back is taken again at once");
	if (r->trend_window_ms < 2 * r->interval_ms)
		cross_error(ld, "trend_window", "interval", "a trend needs at least two samples in the window");
	if (r->moves_per_tick > r->moves_per_minute)
		cross_error(ld, "moves_per_tick", "moves_per_minute", "one tick may not move more than a minute");
}

/* ---- files ----------------------------------------------------------------------------------- */

static bool record_file(struct load *ld, const char *path)
{
	struct mz_config *c = &ld->cfg;
	char shown[300];

	if (c->nfiles >= MZ_ARRAY_SIZE(c->files)) {
		add_error(ld, -E2BIG, "%s: more than %zu config files; memzone reads at most that many",
			  printable_path(path, shown, sizeof(shown)), MZ_ARRAY_SIZE(c->files));
		return false;
	}
	if (strlen(path) >= sizeof(c->files[0])) {
		add_error(ld, -ENAMETOOLONG, "%s: path longer than %zu bytes",
			  printable_path(path, shown, sizeof(shown)), sizeof(c->files[0]) - 1);
		return false;
	}
	snprintf(c->files[c->nfiles++], sizeof(c->files[0]), "%s", path);
	return true;
}

/* Refuse what someone other than root could have written: memzone acts on it as root. */
static bool secure_enough(struct load *ld, const char *path, const struct stat *st, const char *what)
{
	char shown[300], why[128] = "";

	if (st->st_uid != 0)
		snprintf(why, sizeof(why), "owned by uid %u, not root", (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		size_t n = strlen(why);

		snprintf(why + n, sizeof(why) - n, "%smode %04o lets %s write it", n ? " and " : "",
			 (unsigned)(st->st_mode & 07777),
			 (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
			 (st->st_mode & S_IWGRP) ? "the group" : "others");
	}
	if (!why[0])
		return true;
	add_error(ld, -EPERM, "%s: refusing insecure %s: %s (--allow-insecure-config accepts it under --root)",
		  printable_path(path, shown, sizeof(shown)), what, why);
	return false;
}

/* Read an opened config file (regular, bounded) into a malloc'ed buffer. */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = mz_xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= CONFIG_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			buf = mz_xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Open, check and parse one file. Symlinks are followed on purpose (config management often links
 * /etc/memzone.conf): the checks are made with fstat on what was actually opened, so there is no
 * window between check and read. O_NONBLOCK: a FIFO named *.conf must not hang the udev helper. */
static void load_file(struct load *ld, int dirfd, const char *path, const char *openname, bool required,
		      bool allow_insecure)
{
	char shown[300], *text = NULL;
	struct stat st;
	size_t len = 0;
	int fd, r;

	printable_path(path, shown, sizeof(shown));
	fd = openat(dirfd, openname, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && !required && fstatat(dirfd, openname, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return; /* no main file: the defaults (and drop-ins) are the policy */
		if (r == -ENOENT && fstatat(dirfd, openname, &st, AT_SYMLINK_NOFOLLOW) == 0)
			add_error(ld, r, "%s: cannot open: symlink to a missing file", shown);
		else
			add_error(ld, r, "%s: cannot open: %s", shown, strerror(-r));
		return;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		add_error(ld, r, "%s: cannot stat: %s", shown, strerror(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		add_error(ld, -EISDIR, "%s: is a directory, not a config file", shown);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		add_error(ld, -EINVAL, "%s: not a regular file", shown);
		goto out;
	}
	if (!allow_insecure && !secure_enough(ld, path, &st, "config file"))
		goto out;
	r = read_all(fd, &text, &len);
	if (r == -EFBIG) {
		add_error(ld, r, "%s: larger than %u KiB, not a memzone config", shown, CONFIG_FILE_MAX >> 10);
		goto out;
	}
	if (r < 0) {
		add_error(ld, r, "%s: cannot read: %s", shown, strerror(-r));
		goto out;
	}
	if (record_file(ld, path)) {
		/* origins keep pointing at the name after this file is done: keep it in ld */
		char *name = ld->shown[ld->cfg.nfiles - 1];

		snprintf(name, sizeof(ld->shown[0]), "%s", shown);
		parse_text(ld, name, text, len);
	}
out:
	free(text);
	close(fd);
}

static bool is_dropin_name(const char *name)
{
	size_t n = strlen(name);

	/* hidden files are editor and package-manager leftovers, as in systemd's conf.d handling */
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dropins(struct load *ld, const char *dirpath, bool allow_insecure)
{
	char shown[300], **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd;

	printable_path(dirpath, shown, sizeof(shown));
	fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;

		if (r == -ENOENT)
			return;
		if (r == -ENOTDIR)
			add_error(ld, r, "%s: not a directory (drop-ins go in a directory of *.conf files)", shown);
		else
			add_error(ld, r, "%s: cannot open: %s", shown, strerror(-r));
		return;
	}
	if (fstat(fd, &st) < 0 || (!allow_insecure && !secure_enough(ld, dirpath, &st, "drop-in directory"))) {
		close(fd);
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		add_error(ld, -errno, "%s: cannot read: %s", shown, strerror(errno));
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		if (!is_dropin_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = mz_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = mz_xstrdup(de->d_name);
	}
	if (n > 1) /* strcmp: the C locale's order, whatever LANG says */
		qsort(names, n, sizeof(*names), cmp_names);
	if (n > MAX_DROPINS)
		add_error(ld, -E2BIG, "%s: %zu drop-in files, memzone reads at most %zu", shown, n, MAX_DROPINS);
	else
		for (size_t i = 0; i < n; i++) {
			char path[MZ_PATH_MAX];

			if (snprintf(path, sizeof(path), "%s/%s", dirpath, names[i]) >= (int)sizeof(path)) {
				add_error(ld, -ENAMETOOLONG, "%s: a drop-in's path is too long", shown);
				continue;
			}
			load_file(ld, dirfd(dir), path, names[i], true, allow_insecure);
		}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
}

static int finish(struct load *ld, struct mz_config *c, char *err, size_t errlen)
{
	int r = 0;

	if (ld->nerr == 0)
		check_across(ld);
	if (ld->nerr > 0) {
		report_errors(ld, err, errlen);
		mz_config_defaults(c);
		r = ld->first_rc;
	} else {
		*c = ld->cfg;
		snprintf(c->warnings, sizeof(c->warnings), "%s", ld->warnings);
		for (char *line = ld->warnings, *nl; *line; line = nl + 1) {
			if (!(nl = strchr(line, '\n')))
				break;
			*nl = '\0';
			mz_warn("%s", line);
		}
		if (err && errlen)
			err[0] = '\0';
	}
	free(ld->msgs);
	free(ld);
	return r;
}

int mz_config_load(struct mz_config *c, const char *path, bool allow_insecure, char *err, size_t errlen)
{
	struct load *ld = mz_xmalloc(sizeof(*ld));
	char main_path[MZ_PATH_MAX], dir_path[MZ_PATH_MAX + 2];
	int r;

	load_init(ld);
	if (path) /* --config FILE: a path on the host as given, never under --root */
		r = snprintf(main_path, sizeof(main_path), "%s", path) >= (int)sizeof(main_path) ? -ENAMETOOLONG : 0;
	else
		r = mz_path(main_path, sizeof(main_path), "%s/memzone.conf", MZ_SYSCONFDIR);
	if (r < 0 || !main_path[0]) {
		add_error(ld, r < 0 ? r : -EINVAL, "config path '%s': %s", path ? path : MZ_SYSCONFDIR "/memzone.conf",
			  r < 0 ? strerror(-r) : "empty");
		return finish(ld, c, err, errlen);
	}
	snprintf(dir_path, sizeof(dir_path), "%s.d", main_path);
	load_file(ld, AT_FDCWD, main_path, main_path, path != NULL, allow_insecure);
	load_dropins(ld, dir_path, allow_insecure);
	return finish(ld, c, err, errlen);
}

int mz_config_parse_string(struct mz_config *c, const char *name, const char *text, char *err, size_t errlen)
{
	struct load *ld = mz_xmalloc(sizeof(*ld));

	load_init(ld);
	parse_text(ld, name ? name : "(string)", text ? text : "", text ? strlen(text) : 0);
	return finish(ld, c, err, errlen);
}

/* ---- output ---------------------------------------------------------------------------------- */

static void print_section(const struct mz_config *c, FILE *f, enum section_kind sec, enum mz_source src)
{
	char value[300];

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].section != sec || keys[i].obsolete)
			continue;
		format_value(&keys[i], key_field_const(c, &keys[i], src), value, sizeof(value));
		if (value[0])
			fprintf(f, "%s = %s\n", keys[i].name, value);
		else
			fprintf(f, "%s =\n", keys[i].name); /* no trailing blank */
	}
}

void mz_config_print(const struct mz_config *c, FILE *f)
{
	char shown[300];

	fprintf(f, "# memzone effective policy\n");
	if (c->nfiles == 0)
		fprintf(f, "# files read: none (built-in defaults)\n");
	else
		fprintf(f, "# files read, later ones override earlier ones:\n");
	for (size_t i = 0; i < c->nfiles && i < MZ_ARRAY_SIZE(c->files); i++)
		fprintf(f, "#   %s\n", printable_path(c->files[i], shown, sizeof(shown)));
	fprintf(f, "\n[online]\n");
	print_section(c, f, SEC_ONLINE, MZ_SOURCE_BOOT);
	FOR_EACH_SOURCE_SECTION(s) {
		fprintf(f, "\n[source %s]\n", mz_source_name(s));
		print_section(c, f, SEC_SOURCE, s);
	}
	fprintf(f, "\n[rebalance]\n");
	print_section(c, f, SEC_REBALANCE, MZ_SOURCE_BOOT);
}

static void json_section(struct mz_json *j, const struct mz_config *c, enum section_kind sec, enum mz_source src)
{
	char value[300];

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key_def *k = &keys[i];
		const void *field;

		if (k->section != sec || k->obsolete)
			continue;
		field = key_field_const(c, k, src);
		switch (k->type) {
		case V_CHOICE:
		case V_PATH:
			format_value(k, field, value, sizeof(value));
			mz_json_str(j, k->name, value);
			break;
		case V_RATIO:
		case V_UINT:
			mz_json_u64(j, k->name, *(const unsigned *)field);
			break;
		case V_U64:
		case V_SIZE:     /* bytes */
		case V_DURATION: /* milliseconds */
			mz_json_u64(j, k->name, *(const uint64_t *)field);
			break;
		case V_PERCENT:
			mz_json_double(j, k->name, *(const double *)field);
			break;
		case V_BOOL:
			mz_json_bool(j, k->name, *(const bool *)field);
			break;
		}
	}
}

void mz_config_print_json(const struct mz_config *c, FILE *f)
{
	struct mz_json j;

	mz_json_init(&j, f, true);
	mz_json_obj_begin(&j, NULL);
	mz_json_obj_begin(&j, section_name(SEC_ONLINE));
	json_section(&j, c, SEC_ONLINE, MZ_SOURCE_BOOT);
	mz_json_obj_end(&j);
	mz_json_obj_begin(&j, section_name(SEC_SOURCE));
	FOR_EACH_SOURCE_SECTION(s) {
		mz_json_obj_begin(&j, mz_source_name(s));
		json_section(&j, c, SEC_SOURCE, s);
		mz_json_obj_end(&j);
	}
	mz_json_obj_end(&j);
	mz_json_obj_begin(&j, section_name(SEC_REBALANCE));
	json_section(&j, c, SEC_REBALANCE, MZ_SOURCE_BOOT);
	mz_json_obj_end(&j);
	mz_json_arr_begin(&j, "files");
	for (size_t i = 0; i < c->nfiles && i < MZ_ARRAY_SIZE(c->files); i++)
		mz_json_str(&j, NULL, c->files[i]);
	mz_json_arr_end(&j);
	mz_json_obj_end(&j);
	mz_json_finish(&j);
}
