/* test-config.c - memzone.conf: every key type, every kind of mistake with its message and line,
 * drop-ins, insecure files, odd files, the dump reading back, and the shipped file = the defaults */
#include "../src/lib/config.h" /* not "config.h": -I. (automake) finds autoconf's config.h first */
#include "tap.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRLEN 4096

static char err[ERRLEN];

static int parse(struct mz_config *c, const char *text)
{
	return mz_config_parse_string(c, "t.conf", text, err, sizeof(err));
}

/* The text must fail with exactly this message (all errors, one per line). */
static void is_error(const char *text, int want_rc, const char *want, const char *what)
{
	struct mz_config c;
	int r = parse(&c, text);

	is_int(r, want_rc, "%s: fails", what);
	is_str(err, want, "%s: message", what);
	is_int(c.ratio, 301, "%s: the config is left at the defaults", what);
}

static char *dump(const struct mz_config *c, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json)
		mz_config_print_json(c, f);
	else
		mz_config_print(c, f);
	fclose(f);
	return buf;
}

/* The dump without its '#' header (which lists the files): what two configs must share to be equal. */
static char *body(const struct mz_config *c)
{
	char *text = dump(c, false), *out = mz_xcalloc(1, strlen(text) + 1), *o = out;

	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);

		if (line[0] != '#') {
			memcpy(o, line, n);
			o += n;
		}
		line += n;
	}
	free(text);
	return out;
}

static char *read_text(const char *path)
{
	char *text = NULL;
	int r = mz_read_file(path, &text, NULL);

	if (r < 0) {
		diag("cannot read %s: %s", path, strerror(-r));
		return mz_xstrdup("");
	}
	return text;
}

static char *srcfile(const char *rel)
{
	static char path[MZ_PATH_MAX];
	const char *top = getenv("top_srcdir");

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	return read_text(path);
}

static void test_defaults(void)
{
	struct mz_config c, d;

	is_int(parse(&c, ""), 0, "an empty file is valid");
	is_str(err, "", "no message on success");
	mz_config_defaults(&d);
	ok(c.default_zone == MZ_DEFAULT_AUTO && c.ratio == 301 && c.ratio_scope == MZ_SCOPE_BOTH &&
	   c.ratio_basis == MZ_BASIS_BOOT && c.ratio_with_rebalancer == 800 && c.min_kernel == 0 &&
	   c.min_kernel_percent == 0 && c.memory_only_nodes == MZ_MEMONLY_MOVABLE &&
	   c.already_online == MZ_ALREADY_FIX && c.kernel_auto_online == MZ_KAO_POLICY &&
	   c.lock_timeout_ms == 5000, "[online] defaults as doc/DESIGN.md says");
	/* obsolete: still parsed (old files keep loading), without effect, and the load says so */
	is_int(parse(&c, "[online]\nratio = 200\nratio_with_rebalancer = 800\n"), 0, "ratio_with_rebalancer still parses");
	is_str(c.warnings,
	       "t.conf:3: key 'ratio_with_rebalancer' is ignored: the cap is 'ratio' whether or not memzoned runs: "
	       "memzoned may stop at any moment, and the zones chosen must be safe without it (memzone.conf(5))\n",
	       "ratio_with_rebalancer: a warning naming file:line and why");
	is_int(parse(&c, ""), 0, "no obsolete key");
	is_str(c.warnings, "", "no warning");
	ok(c.source[MZ_SOURCE_DIMM].zone == MZ_SRCZONE_POLICY && c.source[MZ_SOURCE_DIMM].whole_device,
	   "dimm: policy, whole device");
	ok(c.source[MZ_SOURCE_VIRTIO_MEM].zone == MZ_SRCZONE_POLICY && !c.source[MZ_SOURCE_VIRTIO_MEM].whole_device,
	   "virtio_mem: policy, block by block");
	ok(c.source[MZ_SOURCE_KMEM].zone == MZ_SRCZONE_IGNORE && c.source[MZ_SOURCE_KMEM].whole_device,
	   "kmem: left to daxctl");
	ok(c.source[MZ_SOURCE_OTHER].zone == MZ_SRCZONE_POLICY && c.source[MZ_SOURCE_OTHER].whole_device,
	   "other: policy, whole device");
	const struct mz_rebalance_config *r = &c.rebalance;
	ok(r->enabled && r->interval_ms == 1000 && r->headroom == 64ull << 20 && r->headroom_percent == 0 &&
	   r->release_headroom == 256ull << 20 && r->release_delay_ms == 60000 && r->trend_window_ms == 10000 &&
	   r->psi_some_avg10 == 5.0 && r->stall_rate == 100 && r->grow_kernel && r->grow_movable &&
	   r->offline_timeout_ms == 10000 && r->cooldown_ms == 10000 && r->moves_per_tick == 1 &&
	   r->moves_per_minute == 30 && r->backoff_initial_ms == 30000 && r->backoff_max_ms == 1800000 &&
	   r->harvest_order == MZ_HARVEST_DEVICES && !r->boot_memory && !r->observe_only && r->metrics_file[0] == '\0',
	   "[rebalance] defaults as doc/DESIGN.md says");
	is_int(c.nfiles, 0, "a string is not a file read");
	char *a = body(&c), *b = body(&d);
	is_str(a, b, "parsing nothing gives mz_config_defaults()");
	free(a);
	free(b);
}

/* One "[section]\nkey = value\n" must parse and give this field value. */
#define VALUE_OK(section, kv, expr)                                                         \
	do {                                                                                \
		struct mz_config c;                                                          \
		int r_ = parse(&c, "[" section "]\n" kv "\n");                               \
		if (!ok(r_ == 0 && (expr), "[%s] %s", section, kv))                          \
			diag("rc %d, err '%s'", r_, err);                                    \
	} while (0)

static void test_values(void)
{
	VALUE_OK("online", "default_zone = movable", c.default_zone == MZ_DEFAULT_MOVABLE);
	VALUE_OK("online", "default_zone = Kernel", c.default_zone == MZ_DEFAULT_KERNEL);
	VALUE_OK("online", "ratio_scope = system", c.ratio_scope == MZ_SCOPE_SYSTEM);
	VALUE_OK("online", "ratio_basis = boot", c.ratio_basis == MZ_BASIS_BOOT);
	VALUE_OK("online", "memory_only_nodes = kernel", c.memory_only_nodes == MZ_MEMONLY_KERNEL);
	VALUE_OK("online", "already_online = leave", c.already_online == MZ_ALREADY_LEAVE);
	VALUE_OK("online", "kernel_auto_online = keep", c.kernel_auto_online == MZ_KAO_KEEP);
	VALUE_OK("online", "ratio = 0", c.ratio == 0);
	VALUE_OK("online", "ratio = 100000", c.ratio == 100000);
	VALUE_OK("online", "ratio = 301%", c.ratio == 301);
	VALUE_OK("online", "ratio_with_rebalancer = 1000", c.ratio_with_rebalancer == 1000);
	VALUE_OK("online", "min_kernel = 512M", c.min_kernel == 512ull << 20);
	VALUE_OK("online", "min_kernel = 4G", c.min_kernel == 4ull << 30);
	VALUE_OK("online", "min_kernel = 1.5G", c.min_kernel == 3ull << 29);
	VALUE_OK("online", "min_kernel = 4096", c.min_kernel == 4096);
	VALUE_OK("online", "min_kernel = 64MiB", c.min_kernel == 64ull << 20);
	VALUE_OK("online", "min_kernel_percent = 12.5%", c.min_kernel_percent == 12.5);
	VALUE_OK("online", "min_kernel_percent = 100", c.min_kernel_percent == 100);
	VALUE_OK("online", "min_kernel_percent = 0.125", c.min_kernel_percent == 0.125);
	VALUE_OK("online", "lock_timeout = 0", c.lock_timeout_ms == 0);
	VALUE_OK("online", "lock_timeout = 500ms", c.lock_timeout_ms == 500);
	VALUE_OK("online", "lock_timeout = 1m", c.lock_timeout_ms == 60000);
	VALUE_OK("online", "lock_timeout = 1.5s", c.lock_timeout_ms == 1500);
	VALUE_OK("online", "kmem_wait = 0", c.kmem_wait_ms == 0);
	VALUE_OK("online", "kmem_wait = 2m", c.kmem_wait_ms == 120000);
	VALUE_OK("source dimm", "zone = kernel", c.source[MZ_SOURCE_DIMM].zone == MZ_SRCZONE_KERNEL);
	VALUE_OK("source virtio_mem", "zone = movable", c.source[MZ_SOURCE_VIRTIO_MEM].zone == MZ_SRCZONE_MOVABLE);
	VALUE_OK("source kmem", "zone = policy", c.source[MZ_SOURCE_KMEM].zone == MZ_SRCZONE_POLICY);
	VALUE_OK("source other", "zone = ignore", c.source[MZ_SOURCE_OTHER].zone == MZ_SRCZONE_IGNORE);
	VALUE_OK("source  dimm ", "whole_device = no", !c.source[MZ_SOURCE_DIMM].whole_device);
	VALUE_OK("rebalance", "enabled = no", !c.rebalance.enabled);
	VALUE_OK("rebalance", "enabled = FALSE", !c.rebalance.enabled);
	VALUE_OK("rebalance", "harvest_order = pages", c.rebalance.harvest_order == MZ_HARVEST_PAGES);
	VALUE_OK("rebalance", "harvest_order = devices", c.rebalance.harvest_order == MZ_HARVEST_DEVICES);
	VALUE_OK("rebalance", "boot_memory = yes", c.rebalance.boot_memory);
	VALUE_OK("rebalance", "boot_memory = on", c.rebalance.boot_memory);
	VALUE_OK("rebalance", "boot_memory = 1", c.rebalance.boot_memory);
	VALUE_OK("rebalance", "observe_only = true", c.rebalance.observe_only);
	VALUE_OK("rebalance", "grow_kernel = off", !c.rebalance.grow_kernel);
	VALUE_OK("rebalance", "grow_movable = 0", !c.rebalance.grow_movable);
	VALUE_OK("rebalance", "interval = 10ms", c.rebalance.interval_ms == 10);
	VALUE_OK("rebalance", "interval = 5s", c.rebalance.interval_ms == 5000);
	VALUE_OK("rebalance", "headroom = 128M", c.rebalance.headroom == 128ull << 20);
	VALUE_OK("rebalance", "headroom_percent = 2.5", c.rebalance.headroom_percent == 2.5);
	VALUE_OK("rebalance", "release_delay = 0", c.rebalance.release_delay_ms == 0);
	VALUE_OK("rebalance", "psi_some_avg10 = 0.01", c.rebalance.psi_some_avg10 == 0.01);
	VALUE_OK("rebalance", "psi_some_avg10 = 100%", c.rebalance.psi_some_avg10 == 100);
	VALUE_OK("rebalance", "stall_rate = 1", c.rebalance.stall_rate == 1);
	VALUE_OK("rebalance", "offline_timeout = 2m", c.rebalance.offline_timeout_ms == 120000);
	VALUE_OK("rebalance", "cooldown = 0", c.rebalance.cooldown_ms == 0);
	VALUE_OK("rebalance", "moves_per_tick = 8", c.rebalance.moves_per_tick == 8);
	VALUE_OK("rebalance", "moves_per_minute = 100000", c.rebalance.moves_per_minute == 100000);
	VALUE_OK("rebalance", "backoff_max = 168h", c.rebalance.backoff_max_ms == 168ull * 3600000);
	VALUE_OK("rebalance", "metrics_file = /var/lib/memzone.prom",
		 strcmp(c.rebalance.metrics_file, "/var/lib/memzone.prom") == 0);
	VALUE_OK("rebalance", "metrics_file = /a b;c#d", strcmp(c.rebalance.metrics_file, "/a b;c#d") == 0);
	VALUE_OK("rebalance", "metrics_file =", c.rebalance.metrics_file[0] == '\0');
	VALUE_OK("rebalance", "metrics_file: /x", strcmp(c.rebalance.metrics_file, "/x") == 0);
}

static void test_bad_values(void)
{
	is_error("[online]\ndefault_zone = sometimes\n", -EINVAL,
		 "t.conf:2: key 'default_zone': 'sometimes' is not one of auto, movable or kernel", "bad choice");
	is_error("[rebalance]\nharvest_order = dimms\n", -EINVAL,
		 "t.conf:2: key 'harvest_order': 'dimms' is not one of devices or pages", "bad harvest_order");
	is_error("[online]\nratio = 12.5\n", -EINVAL, "t.conf:2: key 'ratio': '12.5' is not a whole number of percent",
		 "fractional ratio");
	is_error("[online]\nratio = -1\n", -EINVAL, "t.conf:2: key 'ratio': '-1' is not a whole number of percent",
		 "negative ratio");
	is_error("[online]\nratio = 100001\n", -ERANGE, "t.conf:2: key 'ratio': '100001' is more than 100000%",
		 "ratio too large");
	is_error("[online]\nmin_kernel = 12Q\n", -EINVAL,
		 "t.conf:2: key 'min_kernel': '12Q' is not a size (bytes, or a number with K, M, G, T or P)", "bad size");
	is_error("[online]\nmin_kernel = 0.1K\n", -EINVAL,
		 "t.conf:2: key 'min_kernel': '0.1K' is not a size (bytes, or a number with K, M, G, T or P)",
		 "fraction of a byte");
	is_error("[online]\nmin_kernel = 99999999P\n", -ERANGE, "t.conf:2: key 'min_kernel': '99999999P' is too large",
		 "size overflows");
	is_error("[online]\nmin_kernel_percent = 100.5\n", -ERANGE,
		 "t.conf:2: key 'min_kernel_percent': '100.5' is out of range (from 0% to 100%)", "percent above 100");
	is_error("[online]\nmin_kernel_percent = lots\n", -EINVAL,
		 "t.conf:2: key 'min_kernel_percent': 'lots' is not a percentage", "not a percent");
	is_error("[online]\nmin_kernel_percent = 0.0001\n", -EINVAL,
		 "t.conf:2: key 'min_kernel_percent': '0.0001' has more than 3 decimals", "too precise a percent");
	is_error("[rebalance]\npsi_some_avg10 = 0\n", -ERANGE,
		 "t.conf:2: key 'psi_some_avg10': '0' is out of range (above 0% to 100%)", "PSI threshold 0");
	is_error("[online]\nlock_timeout = 10x\n", -EINVAL,
		 "t.conf:2: key 'lock_timeout': '10x' is not a duration (a number with ms, s, m or h)", "bad duration");
	is_error("[online]\nkmem_wait = 121s\n", -ERANGE,
		 "t.conf:2: key 'kmem_wait': '121s' is out of range (from 0s to 2m)", "kmem_wait past udev's worker timeout");
	is_error("[online]\nlock_timeout = 61s\n", -ERANGE,
		 "t.conf:2: key 'lock_timeout': '61s' is out of range (from 0s to 1m)", "lock timeout too long");
	is_error("[rebalance]\ninterval = 0\n", -ERANGE, "t.conf:2: key 'interval': '0' is out of range (from 10ms to 1h)",
		 "interval 0");
	is_error("[rebalance]\ninterval = 5ms\n", -ERANGE,
		 "t.conf:2: key 'interval': '5ms' is out of range (from 10ms to 1h)", "interval too short");
	is_error("[rebalance]\noffline_timeout = 2h\n", -ERANGE,
		 "t.conf:2: key 'offline_timeout': '2h' is out of range (from 10ms to 1h)", "offline timeout too long");
	is_error("[rebalance]\nbackoff_max = 7d\n", -EINVAL,
		 "t.conf:2: key 'backoff_max': '7d' is not a duration (a number with ms, s, m or h)", "days are not a unit");
	is_error("[rebalance]\nenabled = maybe\n", -EINVAL,
		 "t.conf:2: key 'enabled': 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)", "bad boolean");
	is_error("[rebalance]\nmoves_per_tick = 0\n", -ERANGE,
		 "t.conf:2: key 'moves_per_tick': '0' is out of range (from 1 to 1024)", "no moves per tick");
	is_error("[rebalance]\nmoves_per_tick = 1025\n", -ERANGE,
		 "t.conf:2: key 'moves_per_tick': '1025' is out of range (from 1 to 1024)", "too many moves per tick");
	is_error("[rebalance]\nmoves_per_tick = 2.5\n", -EINVAL,
		 "t.conf:2: key 'moves_per_tick': '2.5' is not a whole number", "fractional count");
	is_error("[rebalance]\nstall_rate = 0\n", -ERANGE,
		 "t.conf:2: key 'stall_rate': '0' is out of range (from 1 to 1000000000)", "stall rate 0");
	is_error("[rebalance]\nstall_rate = 99999999999999999999999\n", -ERANGE,
		 "t.conf:2: key 'stall_rate': '99999999999999999999999' is out of range (from 1 to 1000000000)",
		 "count overflows");
	is_error("[rebalance]\nmetrics_file = memzone.prom\n", -EINVAL,
		 "t.conf:2: key 'metrics_file': 'memzone.prom' is not an absolute path", "relative metrics path");
	is_error("[rebalance]\nmetrics_file = /var/../etc/x\n", -EINVAL,
		 "t.conf:2: key 'metrics_file': '/var/../etc/x' contains a '..' component", "'..' in metrics path");
	is_error("[rebalance]\nmetrics_file = /a\x01z\n", -EINVAL,
		 "t.conf:2: key 'metrics_file': '/a?z' contains a control character", "control character in a path");
	is_error("[online]\nratio =\n", -EINVAL, "t.conf:2: key 'ratio': no value given", "empty value");
	is_error("[source dimm]\nzone = maybe\n", -EINVAL,
		 "t.conf:2: key 'zone': 'maybe' is not one of policy, movable, kernel or ignore", "bad source zone");
}

static void test_mistakes(void)
{
	is_error("ratio = 200\n", -EINVAL, "t.conf:1: key 'ratio': outside of any section (it belongs in [online])",
		 "key before any section");
	is_error("\n\nfoo = 1\n", -EINVAL, "t.conf:3: key 'foo': outside of any section", "unknown key before any section");
	is_error("[online]\nration = 200\n", -EINVAL,
		 "t.conf:2: key 'ration': unknown key in [online] (did you mean 'ratio'?)", "typo in a key");
	is_error("[rebalance]\nratoi = 200\n", -EINVAL,
		 "t.conf:2: key 'ratoi': unknown key in [rebalance] (did you mean 'ratio' in [online]?)",
		 "typo of a key of another section");
	is_error("[online]\nfrobnicate = 1\n", -EINVAL, "t.conf:2: key 'frobnicate': unknown key in [online]",
		 "unknown key");
	is_error("[online]\nRatio = 1\n", -EINVAL, "t.conf:2: key 'Ratio': unknown key in [online] (did you mean 'ratio'?)",
		 "keys are case-sensitive");
	is_error("[online]\ninterval = 1s\n", -EINVAL,
		 "t.conf:2: key 'interval': not a key of [online] (it belongs in [rebalance])", "key in the wrong section");
	is_error("[rebalance]\nzone = kernel\n", -EINVAL,
		 "t.conf:2: key 'zone': not a key of [rebalance] (it belongs in a [source NAME] section)",
		 "source key outside a source section");
	is_error("[online]\nratio = 200\n\n# again\nratio = 300\n", -EINVAL,
		 "t.conf:5: key 'ratio': set twice in [online] (first on line 2)", "duplicate key");
	is_error("[online]\nratio = 200\n[rebalance]\n[online]\nratio = 300\n", -EINVAL,
		 "t.conf:5: key 'ratio': set twice in [online] (first on line 2)", "duplicate key in a repeated section");
	is_error("[online]\n= 5\n", -EINVAL, "t.conf:2: a value without a key name", "no key name");
	is_error("[daemon]\nratio = 1\nfoo = 2\n", -EINVAL,
		 "t.conf:1: section [daemon]: unknown section (expected [online], [rebalance] or [source NAME])",
		 "unknown section (its keys are not reported again)");
	is_error("[source boot]\nzone = kernel\n", -EINVAL,
		 "t.conf:1: section [source boot]: boot memory is never hot-added, it has no source rule "
		 "(sources: dimm, virtio_mem, kmem, other)", "boot is not a source section");
	is_error("[source nvdimm]\n", -EINVAL,
		 "t.conf:1: section [source nvdimm]: unknown source (expected dimm, virtio_mem, kmem or other)",
		 "unknown source");
	is_error("[source]\n", -EINVAL,
		 "t.conf:1: section [source]: unknown source (expected dimm, virtio_mem, kmem or other)",
		 "source without a name");
	is_error("[Online]\n", -EINVAL,
		 "t.conf:1: section [Online]: unknown section (expected [online], [rebalance] or [source NAME])",
		 "sections are case-sensitive");
	is_error("[online\nratio = 1\n", -EINVAL, "t.conf:1: '[online' has no closing ']'", "unclosed section");
	is_error("[online] ratio = 1\n", -EINVAL, "t.conf:1: section [online]: text after ']'", "text after a section");
	is_error("[online]\nratio 250\n", -EINVAL, "t.conf:2: 'ratio 250' is not 'key = value', a [section] or a comment",
		 "no '='");
	is_error("[online]\nratio = 250 // percent\n", -EINVAL,
		 "t.conf:2: key 'ratio': '250 // percent' is not a whole number of percent", "'//' is not a comment");

	/* every error is reported, in order, and the first one's code is returned */
	is_error("[online]\nratio = x\n[rebalance]\ninterval = 0\nbogus = 1\n", -EINVAL,
		 "t.conf:2: key 'ratio': 'x' is not a whole number of percent\n"
		 "t.conf:4: key 'interval': '0' is out of range (from 10ms to 1h)\n"
		 "t.conf:5: key 'bogus': unknown key in [rebalance]", "several errors, all reported");

	/* the shipped list of mistakes, message by message */
	char *text = srcfile("tests/config/mistakes.conf"), *want = srcfile("tests/config/mistakes.expected");
	struct mz_config c;
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '\n')
		want[n - 1] = '\0';
	is_int(mz_config_parse_string(&c, "mistakes.conf", text, err, sizeof(err)), -EINVAL, "mistakes.conf fails");
	is_str(err, want, "mistakes.conf: every message as in mistakes.expected");
	free(text);
	free(want);
}

static void test_syntax(void)
{
	struct mz_config c;

	is_int(parse(&c, "# only a comment\n; and another\n\n   \n\t\n"), 0, "comments and blank lines only");
	is_int(parse(&c, "[online]\nratio = 250 # why\nratio_scope = node ; why\n[rebalance] # the daemon\n"), 0,
	       "inline '#' and ';' comments after a blank");
	ok(c.ratio == 250 && c.ratio_scope == MZ_SCOPE_NODE, "inline comments are not part of the value");
	is_int(parse(&c, "[online]\r\nratio = 250\r\nratio_scope = node\r\n"), 0, "CRLF line endings");
	ok(c.ratio == 250 && c.ratio_scope == MZ_SCOPE_NODE, "CRLF: values without the CR");
	is_error("[online]\r\n\r\nratio = x\r\n", -EINVAL, "t.conf:3: key 'ratio': 'x' is not a whole number of percent",
		 "CRLF: line numbers");
	is_int(parse(&c, "\xEF\xBB\xBF[online]\nratio = 250\n"), 0, "UTF-8 BOM before the first section");
	is_int(c.ratio, 250, "BOM: value read");
	is_error("\xEF\xBB\xBF[online]\nratio = x\n", -EINVAL, "t.conf:2: key 'ratio': 'x' is not a whole number of percent",
		 "BOM: line numbers");
	is_error("[online]\n\xEF\xBB\xBFratio = 1\n", -EINVAL, "t.conf:2: key '???ratio': unknown key in [online]",
		 "a BOM elsewhere is not skipped");
	is_int(parse(&c, "[online]\nratio = 250"), 0, "no newline at the end");
	is_int(c.ratio, 250, "last line without newline read");
	is_int(parse(&c, "  [online]\n\tratio = 250\n    ratio_scope = node\n"), 0, "indented keys and sections");
	ok(c.ratio == 250 && c.ratio_scope == MZ_SCOPE_NODE, "indented key after a key is a key, not a continuation");
	is_int(parse(&c, "[online]\nratio: 250\n"), 0, "'key: value' as inih allows");

	/* inih would silently append an indented line to the previous value: refused instead */
	is_error("[rebalance]\nmetrics_file = /var/lib/\n    memzone.prom\n", -EINVAL,
		 "t.conf:3: key 'metrics_file': indented line 'memzone.prom' would continue its value; "
		 "multi-line values are not supported", "continuation line");
	is_error("[online]\nratio = 250\n\n\t300\n", -EINVAL,
		 "t.conf:4: key 'ratio': indented line '300' would continue its value; multi-line values are not supported",
		 "continuation after a blank line");
	is_error("[online]\n  300\n", -EINVAL, "t.conf:2: '300' is not 'key = value', a [section] or a comment",
		 "indented line with no key before it");
}

static void test_long_lines(void)
{
	struct mz_config c;
	char text[2000], want[300];
	/* inih's line buffer is 200 bytes: 198 characters are accepted, a longer line would be split */
	snprintf(text, sizeof(text), "[rebalance]\nmetrics_file = /%0182d\n", 0);
	is_int(parse(&c, text), 0, "a 198-byte line");
	is_int(strlen(c.rebalance.metrics_file), 183, "its value is whole");
	snprintf(text, sizeof(text), "[rebalance]\nmetrics_file = /%0183d\nratio = x\n", 0);
	is_error(text, -EINVAL,
		 "t.conf:2: line too long (199 bytes without indentation and comments; at most 198)\n"
		 "t.conf:3: key 'ratio': not a key of [rebalance] (it belongs in [online])",
		 "a 199-byte line is reported, and the next line keeps its number");
	snprintf(text, sizeof(text), "[online]\n# %0900d\nratio = 250    # %0500d\nratio_scope = x\n", 0, 0);
	snprintf(want, sizeof(want), "t.conf:4: key 'ratio_scope': 'x' is not one of node, system or both");
	is_error(text, -EINVAL, want, "long comments are fine and do not shift line numbers");
	snprintf(text, sizeof(text), "[online]\nratio = 250    # %0500d\n", 0);
	is_int(parse(&c, text), 0, "a long trailing comment is fine");
	is_int(c.ratio, 250, "value before a long comment");
	snprintf(text, sizeof(text), "[online]\n%0300d = 1\n", 0);
	is_error(text, -EINVAL, "t.conf:2: line too long (304 bytes without indentation and comments; at most 198)",
		 "an over-long key");
}

static void test_cross(void)
{
	is_error("[rebalance]\nbackoff_initial = 2h\n", -EINVAL,
		 "t.conf:2: key 'backoff_initial': 2h conflicts with backoff_max = 30m (the default): "
		 "the first backoff must not exceed the longest", "backoff_initial above the default backoff_max");
	is_error("[rebalance]\nbackoff_max = 1h\nbackoff_initial = 2h\n", -EINVAL,
		 "t.conf:3: key 'backoff_initial': 2h conflicts with backoff_max = 1h (set in t.conf:2): "
		 "the first backoff must not exceed the longest", "reported at the key set last");
	is_error("[rebalance]\nrelease_headroom = 64M\n", -EINVAL,
		 "t.conf:2: key 'release_headroom': 64M conflicts with headroom = 64M (the default): "
		 "release_headroom must be larger, or memory given back is taken again at once",
		 "release_headroom not above headroom");
	struct mz_config c;
	is_int(parse(&c, "[rebalance]\nrelease_headroom = 0\ngrow_movable = no\n"), 0,
	       "release_headroom is not checked when nothing is given back");
	is_error("[rebalance]\ninterval = 10s\n", -EINVAL,
		 "t.conf:2: key 'interval': 10s conflicts with trend_window = 10s (the default): "
		 "a trend needs at least two samples in the window", "trend window shorter than two intervals");
	is_int(parse(&c, "[rebalance]\ninterval = 5s\n"), 0, "trend window of exactly two intervals");
	is_error("[rebalance]\nmoves_per_tick = 31\n", -EINVAL,
		 "t.conf:2: key 'moves_per_tick': 31 conflicts with moves_per_minute = 30 (the default): "
		 "one tick may not move more than a minute", "moves_per_tick above moves_per_minute");
}

/* every key set away from its default: the dump must read back to the same policy */
static void test_dump(void)
{
	char *text = srcfile("tests/config/every-key.conf"), *d1, *d2, *json;
	struct mz_config c, again, def;
	size_t i = 0;

	is_int(mz_config_parse_string(&c, "every-key.conf", text, err, sizeof(err)), 0, "every-key.conf is valid");
	if (err[0])
		diag("%s", err);
	mz_config_defaults(&def);
	d1 = body(&c);
	d2 = body(&def);
	ok(strcmp(d1, d2) != 0, "every-key.conf differs from the defaults");
	/* line by line: every key's value differs from its default */
	{
		char *a = d1, *b = d2;
		unsigned same = 0;

		while (*a && *b) {
			char *na = strchr(a, '\n'), *nb = strchr(b, '\n');

			if (!na || !nb)
				break;
			if (*a != '[' && *a != '\n' && na - a == nb - b && strncmp(a, b, (size_t)(na - a)) == 0) {
				diag("not changed by every-key.conf: %.*s", (int)(na - a), a);
				same++;
			}
			a = na + 1;
			b = nb + 1;
		}
		is_int(same, 0, "every key of every section is set to a non-default value");
	}
	free(d2);
	free(text);
	text = dump(&c, false);
	is_int(mz_config_parse_string(&again, "dump.conf", text, err, sizeof(err)), 0, "the dump parses");
	d2 = body(&again);
	is_str(d2, d1, "the dump reads back to the same policy");
	ok(c.min_kernel == 3ull << 29 && c.min_kernel_percent == 12.5 && c.rebalance.psi_some_avg10 == 12.25 &&
	   c.lock_timeout_ms == 2500 && c.source[MZ_SOURCE_VIRTIO_MEM].zone == MZ_SRCZONE_MOVABLE,
	   "values read from every-key.conf");
	free(d2);
	free(text);

	/* the dump's keys, in order, are mz_config_known_keys (the source keys from its first source section) */
	text = dump(&def, false);
	{
		char section[32] = "", want_list[4096] = "", got_list[4096] = "";
		size_t wn = 0, gn = 0;
		int source_sections = 0;

		for (i = 0; mz_config_known_keys[i]; i++)
			if (strcmp(mz_config_known_keys[i], "online.ratio_with_rebalancer") != 0) /* obsolete */
				wn += (size_t)snprintf(want_list + wn, sizeof(want_list) - wn, "%s ",
						       mz_config_known_keys[i]);
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			char key[64];

			if (sscanf(line, "[%31[a-z_]", section) == 1) {
				source_sections += strcmp(section, "source") == 0;
				continue;
			}
			if (sscanf(line, "%63[a-z_0-9] =", key) != 1 || (strcmp(section, "source") == 0 && source_sections > 1))
				continue;
			gn += (size_t)snprintf(got_list + gn, sizeof(got_list) - gn, "%s.%s ", section, key);
		}
		is_str(got_list, want_list, "the dump has every known key, in mz_config_known_keys order");
		is_int(source_sections, 4, "one source section per hot-add source");
	}
	free(text);

	json = dump(&c, true);
	for (i = 0; mz_config_known_keys[i]; i++) {
		char quoted[80];

		snprintf(quoted, sizeof(quoted), "\"%s\": ", strchr(mz_config_known_keys[i], '.') + 1);
		if (!strstr(json, quoted) && strcmp(mz_config_known_keys[i], "online.ratio_with_rebalancer") != 0) {
			ok(0, "JSON has key %s", mz_config_known_keys[i]);
			break;
		}
	}
	if (!mz_config_known_keys[i])
		ok(1, "JSON has every known key");
	ok(strstr(json, "\"min_kernel\": 1610612736,"), "JSON: sizes in bytes");
	ok(strstr(json, "\"lock_timeout\": 2500,") && strstr(json, "\"kmem_wait\": 3000\n"), "JSON: durations in milliseconds");
	ok(strstr(json, "\"psi_some_avg10\": 12.25,"), "JSON: percents as numbers");
	ok(strstr(json, "\"default_zone\": \"movable\","), "JSON: choices as strings");
	ok(strstr(json, "\"observe_only\": true,"), "JSON: booleans");
	ok(strstr(json, "\"virtio_mem\": {") && !strstr(json, "\"boot\": {"), "JSON: one object per source, no boot");
	ok(strstr(json, "\"files\": []"), "JSON: no files read");
	free(json);
	free(d1);
}

/* ---- files ---- */

static char tree[256];

static void put(const char *rel, const char *text, unsigned mode)
{
	char path[MZ_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s%s", tree, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		diag("cannot write %s", path);
	if (fd >= 0) {
		fchmod(fd, mode);
		close(fd);
	}
}

static const char *at(const char *rel)
{
	static char path[4][MZ_PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s%s", tree, rel);
	return path[i];
}

static void rm_tree(const char *dir)
{
	/* the temp tree is ours: remove it without a shell */
	char path[MZ_PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		unlink(dir);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

#define ETC MZ_SYSCONFDIR
#define MAIN ETC "/memzone.conf"
#define DROPIN ETC "/memzone.conf.d"

static int load(struct mz_config *c, bool insecure)
{
	return mz_config_load(c, NULL, insecure, err, sizeof(err));
}

static void fresh_tree(void)
{
	char path[MZ_PATH_MAX + 64];

	if (tree[0])
		rm_tree(tree);
	snprintf(tree, sizeof(tree), "%s/mz-test-config-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tree))
		diag("mkdtemp failed");
	chmod(tree, 0755);
	snprintf(path, sizeof(path), "%s%s", tree, DROPIN);
	mz_mkdir_p(path, 0755);
	mz_root_set(tree);
}

static void test_dropins(void)
{
	struct mz_config c;

	fresh_tree();
	is_int(load(&c, false), 0, "no files at all: the defaults");
	is_int(c.nfiles, 0, "no files read");
	is_int(c.ratio, 301, "default ratio");

	put(MAIN, "[online]\nratio = 100\nratio_scope = node\n", 0644);
	put(DROPIN "/50-site.conf", "[online]\nratio = 200\n", 0644);
	put(DROPIN "/9-late.conf", "[online]\nratio = 900\n[rebalance]\ninterval = 2s\ntrend_window = 4s\n", 0644);
	put(DROPIN "/10-early.conf", "[online]\nratio = 100\n[rebalance]\ninterval = 3s\n", 0644);
	put(DROPIN "/README", "not a config\n", 0644);
	put(DROPIN "/60-x.conf.bak", "garbage\n", 0644);
	put(DROPIN "/.70-hidden.conf", "garbage\n", 0644);
	put(DROPIN "/80-x.conf~", "garbage\n", 0644);
	is_int(load(&c, false), 0, "main file + drop-ins");
	if (err[0])
		diag("%s", err);
	is_int(c.nfiles, 4, "main file and the three *.conf drop-ins read");
	is_str(c.files[0], at(MAIN), "main file first");
	is_str(c.files[1], at(DROPIN "/10-early.conf"), "then drop-ins in strcmp order: 10-early");
	is_str(c.files[2], at(DROPIN "/50-site.conf"), "50-site");
	is_str(c.files[3], at(DROPIN "/9-late.conf"), "9-late sorts last ('9' > '5')");
	is_int(c.ratio, 900, "the last drop-in wins");
	is_int(c.rebalance.interval_ms, 2000, "a later drop-in overrides an earlier one");
	is_int(c.ratio_scope, MZ_SCOPE_NODE, "keys no drop-in sets keep the main file's value");

	/* the same key in two files is an override, not a duplicate; errors name the drop-in */
	put(DROPIN "/50-site.conf", "[online]\nratio = 200\n\nratio_basis = sometimes\n", 0644);
	is_int(load(&c, false), -EINVAL, "an error in a drop-in");
	char want[MZ_PATH_MAX + 200];
	snprintf(want, sizeof(want), "%s:4: key 'ratio_basis': 'sometimes' is not one of current or boot",
		 at(DROPIN "/50-site.conf"));
	is_str(err, want, "names the drop-in's path and line");
	is_int(c.ratio, 301, "and leaves the defaults");
	put(DROPIN "/50-site.conf", "[online]\nratio = 200\n", 0644);

	/* a cross-key conflict points at the file where the last of the two keys was set */
	put(DROPIN "/95-tick.conf", "[rebalance]\nmoves_per_tick = 31\n", 0644);
	is_int(load(&c, false), -EINVAL, "a conflict across files");
	snprintf(want, sizeof(want), "%s:2: key 'moves_per_tick': 31 conflicts with moves_per_minute = 30 (the default): "
		 "one tick may not move more than a minute", at(DROPIN "/95-tick.conf"));
	is_str(err, want, "reported where it was set");
	put(DROPIN "/96-minute.conf", "[rebalance]\n\nmoves_per_minute = 9\n", 0644);
	is_int(load(&c, false), -EINVAL, "conflict with a key set in a later file");
	snprintf(want, sizeof(want), "%s:3: key 'moves_per_minute': 9 conflicts with moves_per_tick = 31 (set in %s:2): "
		 "one tick may not move more than a minute", at(DROPIN "/96-minute.conf"), at(DROPIN "/95-tick.conf"));
	is_str(err, want, "reported at the later file, naming the earlier");
	unlink(at(DROPIN "/95-tick.conf"));
	unlink(at(DROPIN "/96-minute.conf"));

	/* without a main file the drop-ins still apply */
	unlink(at(MAIN));
	is_int(load(&c, false), 0, "drop-ins without a main file");
	is_int(c.nfiles, 3, "three drop-ins read");
	is_int(c.ratio, 900, "drop-in value");

	/* --config FILE: that file (required) and FILE.d, never under the root prefix */
	is_int(mz_config_load(&c, "/nonexistent/memzone-test.conf", false, err, sizeof(err)), -ENOENT,
	       "an explicit --config file must exist");
	is_str(err, "/nonexistent/memzone-test.conf: cannot open: No such file or directory", "and says so");
	put("/alt.conf", "[online]\nratio = 42\n", 0644);
	mz_mkdir_p(at("/alt.conf.d"), 0755);
	put("/alt.conf.d/1.conf", "[online]\nratio_scope = system\n", 0644);
	mz_root_set("/nonexistent-root");
	is_int(mz_config_load(&c, at("/alt.conf"), false, err, sizeof(err)), 0, "explicit path, not root-prefixed");
	ok(c.ratio == 42 && c.ratio_scope == MZ_SCOPE_SYSTEM && c.nfiles == 2, "explicit file and its .d read");
	mz_root_set(tree);

	/* more drop-ins than memzone records */
	fresh_tree();
	for (int i = 0; i < 16; i++) {
		char name[MZ_PATH_MAX];

		snprintf(name, sizeof(name), DROPIN "/%02d.conf", i);
		put(name, "", 0644);
	}
	is_int(load(&c, false), -E2BIG, "16 drop-ins");
	snprintf(want, sizeof(want), "%s: 16 drop-in files, memzone reads at most 15", at(DROPIN));
	is_str(err, want, "too many drop-ins");
}

static void test_security(void)
{
	struct mz_config c;
	char want[MZ_PATH_MAX + 200];
	bool root = geteuid() == 0;

	fresh_tree();
	put(MAIN, "[online]\nratio = 100\n", 0664);
	is_int(load(&c, false), -EPERM, "a group-writable config file is refused");
	snprintf(want, sizeof(want), "%s: refusing insecure config file: mode 0664 lets the group write it "
		 "(--allow-insecure-config accepts it under --root)", at(MAIN));
	if (root)
		is_str(err, want, "message names the file and the mode");
	else
		ok(strstr(err, "mode 0664 lets the group write it"), "message names the mode");
	is_int(c.ratio, 301, "refused: defaults");
	is_int(load(&c, true), 0, "accepted with allow_insecure");
	is_int(c.ratio, 100, "and read");
	chmod(at(MAIN), 0602);
	is_int(load(&c, false), -EPERM, "a world-writable config file is refused");
	ok(strstr(err, "mode 0602 lets others write it"), "message: others");
	chmod(at(MAIN), 0666);
	is_int(load(&c, false), -EPERM, "group- and world-writable");
	ok(strstr(err, "mode 0666 lets group and others write it"), "message: group and others");
	chmod(at(MAIN), 0600);
	if (root) {
		is_int(load(&c, false), 0, "root-owned 0600 is fine");
	} else {
		ok(1, "root-owned 0600 is fine # SKIP not running as root");
	}

	chmod(at(DROPIN), 0777);
	is_int(load(&c, false), -EPERM, "a world-writable drop-in directory is refused");
	snprintf(want, sizeof(want), "%s: refusing insecure drop-in directory: mode 0777 lets group and others write it "
		 "(--allow-insecure-config accepts it under --root)", at(DROPIN));
	if (root)
		is_str(err, want, "message names the directory");
	else
		ok(strstr(err, "mode 0777 lets group and others write it"), "message names the directory's mode");
	is_int(load(&c, true), 0, "accepted with allow_insecure");
	chmod(at(DROPIN), 01777);
	is_int(load(&c, false), -EPERM, "sticky does not make a world-writable directory safe");
	chmod(at(DROPIN), 0755);

	put(DROPIN "/50-x.conf", "[online]\nratio = 7\n", 0644);
	if (root) {
		is_int(chown(at(DROPIN "/50-x.conf"), 65534, 65534), 0, "chown a drop-in to nobody");
		is_int(load(&c, false), -EPERM, "a drop-in owned by another user is refused");
		snprintf(want, sizeof(want), "%s: refusing insecure config file: owned by uid 65534, not root "
			 "(--allow-insecure-config accepts it under --root)", at(DROPIN "/50-x.conf"));
		is_str(err, want, "message names the owner");
		chmod(at(DROPIN "/50-x.conf"), 0646);
		is_int(load(&c, false), -EPERM, "owned by another user and world-writable");
		snprintf(want, sizeof(want), "%s: refusing insecure config file: owned by uid 65534, not root and mode 0646 "
			 "lets others write it (--allow-insecure-config accepts it under --root)", at(DROPIN "/50-x.conf"));
		is_str(err, want, "both reasons");
		is_int(load(&c, true), 0, "accepted with allow_insecure");
		is_int(c.ratio, 7, "and read");
		is_int(chown(at(DROPIN), 65534, 65534), 0, "chown the drop-in directory to nobody");
		is_int(load(&c, false), -EPERM, "a drop-in directory owned by another user is refused");
		ok(strstr(err, "refusing insecure drop-in directory: owned by uid 65534, not root"), "message");
		chown(at(DROPIN), 0, 0);
	} else {
		for (int i = 0; i < 10; i++)
			ok(1, "ownership checks # SKIP not running as root");
	}

	/* a symlinked main file (config management) is followed; its target is what is checked */
	fresh_tree();
	put("/managed.conf", "[online]\nratio = 55\n", 0644);
	if (symlink(at("/managed.conf"), at(MAIN)) < 0)
		diag("symlink failed");
	is_int(load(&c, !root), 0, "a symlinked config file is followed");
	is_int(c.ratio, 55, "and read");
	chmod(at("/managed.conf"), 0666);
	is_int(load(&c, false), -EPERM, "the symlink's target is what is checked");
	unlink(at("/managed.conf"));
	is_int(load(&c, !root), -ENOENT, "a dangling symlink is an error, not a missing file");
	snprintf(want, sizeof(want), "%s: cannot open: symlink to a missing file", at(MAIN));
	is_str(err, want, "message");
}

static void test_odd_files(void)
{
	struct mz_config c;
	char want[MZ_PATH_MAX + 200];
	bool insecure = geteuid() != 0;

	fresh_tree();
	mz_mkdir_p(at(MAIN), 0755);
	is_int(load(&c, insecure), -EISDIR, "the config file is a directory");
	snprintf(want, sizeof(want), "%s: is a directory, not a config file", at(MAIN));
	is_str(err, want, "message");
	rmdir(at(MAIN));

	mz_mkdir_p(at(DROPIN "/sub.conf"), 0755);
	is_int(load(&c, insecure), -EISDIR, "a drop-in that is a directory");
	rmdir(at(DROPIN "/sub.conf"));

	if (mkfifo(at(DROPIN "/fifo.conf"), 0644) == 0) {
		is_int(load(&c, insecure), -EINVAL, "a FIFO drop-in is refused without blocking");
		snprintf(want, sizeof(want), "%s: not a regular file", at(DROPIN "/fifo.conf"));
		is_str(err, want, "message");
		unlink(at(DROPIN "/fifo.conf"));
	}

	rmdir(at(DROPIN));
	put(DROPIN, "[online]\n", 0644);
	is_int(load(&c, insecure), -ENOTDIR, "memzone.conf.d is a file");
	snprintf(want, sizeof(want), "%s: not a directory (drop-ins go in a directory of *.conf files)", at(DROPIN));
	is_str(err, want, "message");
	unlink(at(DROPIN));

	/* bytes no editor should produce still give a message, never a crash */
	{
		char path[MZ_PATH_MAX];
		static const char text[] = "[online]\nratio = 2\0\nratio_scope = x\n";
		int fd;

		snprintf(path, sizeof(path), "%s", at(MAIN));
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, text, sizeof(text) - 1) < 0)
				diag("write failed");
			close(fd);
		}
		is_int(load(&c, insecure), -EINVAL, "a NUL byte in the file");
		snprintf(want, sizeof(want), "%s:2: contains a NUL byte\n%s:3: key 'ratio_scope': 'x' is not one of node, "
			 "system or both", at(MAIN), at(MAIN));
		is_str(err, want, "reported on its line; the lines after it are still read");
	}
	{
		char *big = mz_xmalloc((1u << 20) + 2);

		memset(big, '#', (1u << 20) + 1);
		big[(1u << 20) + 1] = '\0';
		put(MAIN, big, 0644);
		free(big);
		is_int(load(&c, insecure), -EFBIG, "a file over 1 MiB");
		snprintf(want, sizeof(want), "%s: larger than 1024 KiB, not a memzone config", at(MAIN));
		is_str(err, want, "message");
	}
	put(MAIN, "", 0644);
	is_int(load(&c, insecure), 0, "an empty main file");
	is_int(c.nfiles, 1, "it counts as read");
}

static void test_err_buffer(void)
{
	static const char text[] = "[online]\nratio = a\nratio_scope = b\nratio_basis = c\nmin_kernel = d\n";
	struct mz_config c;
	char small[40], mid[160];

	memset(small, 'X', sizeof(small));
	is_int(mz_config_parse_string(&c, "t.conf", text, small, sizeof(small)), -EINVAL, "tiny error buffer");
	ok(memchr(small, '\0', sizeof(small)) && mz_startswith(small, "t.conf:2: key 'ratio': "),
	   "the first error, cut short and terminated: '%s'", small);
	memset(mid, 'X', sizeof(mid));
	mz_config_parse_string(&c, "t.conf", text, mid, sizeof(mid));
	is_str(mid, "t.conf:2: key 'ratio': 'a' is not a whole number of percent\n... and 3 more errors",
	       "whole lines that fit, then how many more");
	is_int(mz_config_parse_string(&c, "t.conf", "[online]\nratio = a\n", NULL, 0), -EINVAL, "no error buffer at all");

	/* a file that is all mistakes: the first 100 are kept, the rest counted */
	{
		char *junk = mz_xcalloc(150, 8), *big = mz_xmalloc(1 << 16);
		unsigned lines = 0;

		for (int i = 0; i < 150; i++)
			strcat(junk, "junk\n");
		is_int(mz_config_parse_string(&c, "t.conf", junk, big, 1 << 16), -EINVAL, "150 bad lines");
		for (const char *q = big; (q = strchr(q, '\n')); q++)
			lines++;
		is_int(lines, 100, "100 messages kept");
		ok(strstr(big, "t.conf:100: 'junk' is not") && strstr(big, "\n... and 50 more errors"),
		   "the first 100, then the count of the rest");
		free(junk);
		free(big);
	}
}

/* the shipped /etc/memzone.conf: every key, commented out at its default */
static void test_shipped(void)
{
	char *text = srcfile("conf/memzone.conf"), *uncommented, *o, *a, *b, *keys_only;
	struct mz_config c, def;
	unsigned key_lines = 0;

	mz_config_defaults(&def);
	is_int(parse(&c, text), 0, "conf/memzone.conf parses");
	a = body(&c);
	b = body(&def);
	is_str(a, b, "as shipped it changes nothing");
	free(a);

	/* uncomment every "#key = value" line (explanations are "# text") */
	uncommented = mz_xcalloc(1, strlen(text) + 1);
	keys_only = mz_xcalloc(1, strlen(text) + 1);
	o = uncommented;
	char *k = keys_only;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		bool key = line[0] == '#' && line[1] >= 'a' && line[1] <= 'z';

		memcpy(o, line + key, n - key);
		o += n - key;
		if (line[0] == '[') {
			memcpy(k, line, n);
			k += n;
		} else if (key) {
			size_t kn = strcspn(line + 1, " =");

			memcpy(k, line + 1, kn);
			k += kn;
			*k++ = '\n';
			key_lines++;
		}
		line += n;
	}
	is_int(parse(&c, uncommented), 0, "with every key uncommented it parses");
	if (err[0])
		diag("%s", err);
	a = body(&c);
	is_str(a, b, "and equals the built-in defaults");
	free(a);
	/* the dump's sections and key names (no values, no blank lines) are exactly the shipped file's */
	{
		char *d = body(&def), *q = d, *w = d;
		bool in_value = false;

		for (; *q; q++) {
			if (*q == '\n')
				in_value = false;
			else if (*q == ' ' && q[1] == '=')
				in_value = true;
			if (in_value || (*q == '\n' && (w == d || w[-1] == '\n')))
				continue;
			*w++ = *q;
		}
		*w = '\0';
		is_str(keys_only, d, "the shipped file lists every key of the dump, in the same order");
		free(d);
	}
	is_int(key_lines, 34 + 3 * 2, "34 keys (not the obsolete ratio_with_rebalancer), the two source keys in each of four sections");
	free(b);
	free(keys_only);
	free(uncommented);
	free(text);
}

/* Mutations of a valid file: any input gives 0 or an error naming the file, and a valid result dumps
 * to text that reads back the same. Deterministic (fixed seed): a failure reproduces. */
static void test_mutations(void)
{
	char *base = srcfile("tests/config/every-key.conf");
	size_t n = strlen(base);
	unsigned seed = 12345, bad = 0, valid = 0;
	static const char alphabet[] = "[]=:#; \t\r\n%.-0123456789abcdefghijklmnopqrstuvwxyzKMGTmsh/\x01\xEF\xBB\xBF";

	for (int iter = 0; iter < 3000; iter++) {
		char *text = mz_xmalloc(n + 64);
		size_t len = n;
		struct mz_config c;
		int r;

		memcpy(text, base, n + 1);
		for (int m = 0; m < 1 + iter % 6; m++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % (len + 1);
			char ch = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];

			switch ((seed >> 4) % 3) {
			case 0: /* replace */
				if (pos < len)
					text[pos] = ch;
				break;
			case 1: /* insert */
				if (len + 1 < n + 63) {
					memmove(text + pos + 1, text + pos, len - pos + 1);
					text[pos] = ch;
					len++;
				}
				break;
			default: /* cut */
				text[pos] = '\0';
				len = pos;
				break;
			}
		}
		text[len] = '\0';
		err[0] = 'X';
		r = mz_config_parse_string(&c, "m.conf", text, err, sizeof(err));
		if (r == 0) {
			char *d1 = dump(&c, false), *d2;
			struct mz_config again;

			valid++;
			if (mz_config_parse_string(&again, "m.conf", d1, err, sizeof(err)) != 0)
				bad++;
			d2 = dump(&again, false);
			if (strcmp(d1, d2) != 0)
				bad++;
			free(d1);
			free(d2);
		} else if (r > 0 || !mz_startswith(err, "m.conf:")) {
			diag("rc %d, err '%s'", r, err);
			bad++;
		}
		free(text);
	}
	is_int(bad, 0, "3000 mutated files: 0 or an error naming the file; valid ones dump and read back");
	ok(valid > 0 && valid < 3000, "some mutations stay valid, some do not (%u valid)", valid);
	free(base);
}

int main(void)
{
	test_defaults();
	test_values();
	test_bad_values();
	test_mistakes();
	test_syntax();
	test_long_lines();
	test_cross();
	test_dump();
	test_dropins();
	test_security();
	test_odd_files();
	test_err_buffer();
	test_shipped();
	test_mutations();
	if (tree[0])
		rm_tree(tree);
	return tap_done();
}
