/* kmode.c - handing the onlining policy to the kernel (kmode.h) */
#include "kmode.h"
#include "daxctl.h"
#include "log.h"
#include "memblock.h"
#include "snapshot.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD "/run/memzone/kernel-policy.found"

bool mz_kmode_plan(const struct mz_config *c, const struct mz_kmode_env *env, struct mz_kmode_params *want,
		   char *why, size_t len)
{
	const struct mz_source_rule *s = c->source;

	memset(want, 0, sizeof(*want));
	want->ratio = -1;
	want->numa_aware = -1;
#define NO(...) return snprintf(why, len, __VA_ARGS__), false
	if (c->kernel_auto_online != MZ_KAO_POLICY)
		NO("kernel_auto_online = %s", c->kernel_auto_online == MZ_KAO_KEEP ? "keep" : "disable");
	if (!env->auto_online)
		NO("the kernel has no auto_online_blocks");
	if (!env->online_policy)
		NO("the kernel has no memory_hotplug.online_policy (added in 5.15)");
	if (c->default_zone != MZ_DEFAULT_AUTO)
		NO("default_zone is not auto: the kernel's policy caps every block");
	if (c->ratio_basis != MZ_BASIS_BOOT)
		NO("ratio_basis = current: the kernel measures against boot memory");
	if (c->ratio_scope == MZ_SCOPE_NODE)
		NO("ratio_scope = node: the kernel always applies the system-wide cap");
	if (c->min_kernel || c->min_kernel_percent > 0)
		NO("min_kernel is set: the kernel has no such floor");
	if (env->memory_only_node >= 0 && c->memory_only_nodes != MZ_MEMONLY_POLICY)
		NO("node %d has no CPUs and memory_only_nodes is not policy: the kernel caps such a node by its own "
		   "kernel memory", env->memory_only_node);
	for (int i = MZ_SOURCE_BOOT + 1; i < MZ_SOURCE__COUNT; i++) {
		const char *name = mz_source_name((enum mz_source)i);

		if (i == MZ_SOURCE_KMEM && s[i].zone == MZ_SRCZONE_IGNORE) {
			if (env->daxctl_configured)
				NO("[source kmem] zone = ignore and %s: daxctl needs auto_online_blocks = offline",
				   env->daxctl_why);
			continue; /* no agent is configured: the kernel's onlining is what kmem_wait leads to */
		}
		if (s[i].zone != MZ_SRCZONE_POLICY)
			NO("[source %s] zone is not policy", name);
		/* ACPI memory devices are one static memory group in the kernel (onlined as a whole);
		 * virtio-mem, hv_balloon, xen and probe memory are judged block by block (unit by unit) */
		if (i == MZ_SOURCE_DIMM && !s[i].whole_device)
			NO("[source dimm] whole_device = no: the kernel onlines a DIMM as a whole");
		if (i == MZ_SOURCE_VIRTIO_MEM && s[i].whole_device)
			NO("[source virtio_mem] whole_device = yes: the kernel keeps only virtio-mem's units together");
		/* [source other] whole_device keeps a range together that memzone could not attribute when
		 * it decided (a DIMM that ACPI had not bound yet, hv_balloon, xen, probe memory). The kernel
		 * knows its ACPI groups inside the add, and the rest cannot be unplugged as a device: the
		 * kernel's per-block judgement of them loses nothing, either way. */
	}
#undef NO
	snprintf(want->auto_online, sizeof(want->auto_online), "online");
	snprintf(want->online_policy, sizeof(want->online_policy), "auto-movable");
	want->ratio = (int)c->ratio;
	want->numa_aware = c->ratio_scope == MZ_SCOPE_BOTH;
	snprintf(why, len, "online_policy = auto-movable, auto_movable_ratio = %u, auto_movable_numa_aware = %s",
		 c->ratio, want->numa_aware ? "Y" : "N");
	return true;
}

void mz_kmode_params_read(struct mz_kmode_params *p)
{
	struct mz_hotplug_params hp;

	memset(p, 0, sizeof(*p));
	if (mz_auto_online_read(p->auto_online, sizeof(p->auto_online)) < 0)
		p->auto_online[0] = '\0';
	mz_hotplug_params_read(&hp);
	snprintf(p->online_policy, sizeof(p->online_policy), "%s", hp.online_policy);
	p->ratio = hp.auto_movable_ratio;
	p->numa_aware = hp.auto_movable_numa_aware;
}

bool mz_kmode_params_equal(const struct mz_kmode_params *a, const struct mz_kmode_params *b)
{
	return strcmp(a->auto_online, b->auto_online) == 0 && strcmp(a->online_policy, b->online_policy) == 0 &&
	       a->ratio == b->ratio && a->numa_aware == b->numa_aware;
}

int mz_kmode_env_read(struct mz_kmode_env *env)
{
	char path[MZ_PATH_MAX], possible[4096], cpus[4096];

	memset(env, 0, sizeof(*env));
	env->memory_only_node = -1;
	if (mz_path(path, sizeof(path), "/sys/devices/system/memory/auto_online_blocks") == 0)
		env->auto_online = access(path, F_OK) == 0;
	{
		struct mz_hotplug_params hp;

		mz_hotplug_params_read(&hp);
		env->online_policy = hp.online_policy[0] != '\0';
	}
	/* A possible node that has no CPU can receive memory that no CPU is local to. */
	if (mz_path(path, sizeof(path), "/sys/devices/system/node/possible") == 0 &&
	    mz_read_line(path, possible, sizeof(possible)) == 0 &&
	    mz_path(path, sizeof(path), "/sys/devices/system/node/has_cpu") == 0 &&
	    mz_read_line(path, cpus, sizeof(cpus)) == 0) {
		/* node lists are ascending ranges ("0-3,8"): the last number is the highest node */
		const char *last = possible + strlen(possible);
		int max;

		while (last > possible && (last[-1] < '0' || last[-1] > '9'))
			last--;
		while (last > possible && last[-1] >= '0' && last[-1] <= '9')
			last--;
		max = atoi(last);
		for (int node = 0; node <= max && node < 4096 && env->memory_only_node < 0; node++) {
			bool p = false, c = false;

			if (mz_nodelist_has(possible, node, &p) < 0 || mz_nodelist_has(cpus, node, &c) < 0)
				break;
			if (p && !c)
				env->memory_only_node = node;
		}
	}
	env->daxctl_configured = mz_daxctl_configured(env->daxctl_why, sizeof(env->daxctl_why));
	return 0;
}

static bool set_by_memzone(const struct mz_kmode_params *cur);

bool mz_kmode_in_force(const struct mz_config *c, char *why, size_t len)
{
	struct mz_kmode_env env;
	struct mz_kmode_params want, cur;
	char plan[256];

	mz_kmode_env_read(&env);
	if (!mz_kmode_plan(c, &env, &want, plan, sizeof(plan))) {
		snprintf(why, len, "userspace: %s", plan);
		return false;
	}
	mz_kmode_params_read(&cur);
	if (mz_kmode_params_equal(&want, &cur)) {
		snprintf(why, len, "kernel: %s", plan);
		return true;
	}
	if (set_by_memzone(&cur)) {
		snprintf(why, len,
			 "userspace: the kernel has the settings memzone init set for another configuration "
			 "(auto_movable_ratio = %d, NUMA-aware %s): run 'memzone init' to hand over this one",
			 cur.ratio, cur.numa_aware > 0 ? "yes" : "no");
		return false;
	}
	snprintf(why, len,
		 "userspace: the kernel's settings are not memzone's (auto_online_blocks = %s, online_policy = %s, "
		 "auto_movable_ratio = %d; memzone init sets %s, %s, %d)",
		 cur.auto_online[0] ? cur.auto_online : "?", cur.online_policy[0] ? cur.online_policy : "?", cur.ratio,
		 want.auto_online, want.online_policy, want.ratio);
	return false;
}

/* ------------------------------------------------------------------ record and restore
 * One line per setting: "NAME FOUND SET". FOUND is what the kernel had before memzone's first
 * write this boot (kept by later writes), SET what memzone wrote last. */

struct setting {
	const char *name;
	char found[32], set[32];
	bool have;
};

static const char *const names[] = { "online_policy", "auto_movable_ratio", "auto_movable_numa_aware",
				       "auto_online_blocks" };
#define NSET (sizeof(names) / sizeof(names[0]))

static void record_read(struct setting *s)
{
	char path[MZ_PATH_MAX], *text = NULL, *line, *save = NULL;
	size_t tl;

	for (size_t i = 0; i < NSET; i++)
		s[i] = (struct setting){ .name = names[i] };
	if (mz_path(path, sizeof(path), RECORD) < 0 || mz_read_file(path, &text, &tl) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char n[40], f[32], v[32];

		if (sscanf(line, "%39s %31s %31s", n, f, v) != 3)
			continue;
		for (size_t i = 0; i < NSET; i++)
			if (strcmp(n, names[i]) == 0) {
				snprintf(s[i].found, sizeof(s[i].found), "%s", f);
				snprintf(s[i].set, sizeof(s[i].set), "%s", v);
				s[i].have = true;
			}
	}
	free(text);
}

static int record_write(const struct setting *s)
{
	char path[MZ_PATH_MAX], dir[MZ_PATH_MAX], buf[512];
	size_t off = 0;
	int r;

	for (size_t i = 0; i < NSET; i++)
		if (s[i].have)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %s %s\n", s[i].name, s[i].found,
						 s[i].set);
	if ((r = mz_path(dir, sizeof(dir), "/run/memzone")) < 0 || (r = mz_mkdir_p(dir, 0755)) < 0 ||
	    (r = mz_path(path, sizeof(path), RECORD)) < 0)
		return r;
	return mz_write_file_atomic(path, buf, off, 0644);
}

/* p's values as the kernel spells them, in names[] order ("" for an unknown one) */
static void params_text(const struct mz_kmode_params *p, char out[NSET][32])
{
	snprintf(out[0], 32, "%s", p->online_policy);
	snprintf(out[1], 32, "%d", p->ratio);
	snprintf(out[2], 32, "%s", p->numa_aware < 0 ? "" : p->numa_aware ? "Y" : "N");
	snprintf(out[3], 32, "%s", p->auto_online);
}

static void current_values(char cur[NSET][32])
{
	struct mz_kmode_params p;

	mz_kmode_params_read(&p);
	params_text(&p, cur);
}

static int write_value(size_t i, const char *v)
{
	return i == NSET - 1 ? mz_auto_online_write(v) : mz_hotplug_param_write(names[i], v);
}

int mz_kmode_apply(const struct mz_kmode_params *want)
{
	struct setting s[NSET];
	char cur[NSET][32], w[NSET][32];
	int r = 0;
	size_t i;

	params_text(want, w);
	record_read(s);
	current_values(cur);
	for (i = 0; i < NSET; i++) {
		if (!cur[i][0])
			return -ENOENT; /* planned on a kernel that has it: it went away */
		if (!s[i].have) /* the first finder this boot keeps its value */
			snprintf(s[i].found, sizeof(s[i].found), "%s", cur[i]);
		snprintf(s[i].set, sizeof(s[i].set), "%s", w[i]);
		s[i].have = true;
	}
	r = record_write(s);
	if (r < 0)
		return r; /* without a record nothing could be put back: write nothing */
	/* auto_online_blocks last: the kernel onlines in the add path only once the policy is set */
	for (i = 0; i < NSET; i++) {
		if (strcmp(cur[i], w[i]) == 0)
			continue;
		r = write_value(i, w[i]);
		if (r < 0)
			break;
		mz_info("%s was '%s', now '%s' (kernel_auto_online = policy)", names[i], cur[i], w[i]);
	}
	if (r < 0) {
		int e = r;

		mz_err("cannot set %s to '%s': %s; putting back what was set", names[i], w[i], strerror(-e));
		while (i-- > 0)
			if (strcmp(cur[i], w[i]) != 0)
				write_value(i, cur[i]);
		return e;
	}
	return 0;
}

int mz_kmode_restore(void)
{
	struct setting s[NSET];
	char cur[NSET][32], path[MZ_PATH_MAX];
	bool any = false;
	int r, ret = 0;

	record_read(s);
	for (size_t i = 0; i < NSET; i++)
		any |= s[i].have;
	if (!any)
		return -ENOENT;
	current_values(cur);
	/* auto_online_blocks first: the kernel stops onlining in the add path before its policy changes */
	for (size_t k = NSET; k-- > 0;) {
		if (!s[k].have || strcmp(cur[k], s[k].found) == 0)
			continue;
		if (strcmp(cur[k], s[k].set) != 0) {
			mz_info("%s is '%s' (set by someone else since memzone set '%s'): left alone", names[k], cur[k],
				s[k].set);
			continue;
		}
		r = write_value(k, s[k].found);
		if (r < 0) {
			mz_err("cannot restore %s to '%s': %s", names[k], s[k].found, strerror(-r));
			ret = r;
		} else {
			mz_log(LOG_NOTICE, "%s restored to '%s' (memzone had set '%s')", names[k], s[k].found, s[k].set);
		}
	}
	if (ret == 0 && mz_path(path, sizeof(path), RECORD) == 0 && unlink(path) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

/* The kernel has exactly the values memzone init set last (its record), for whatever policy. */
static bool set_by_memzone(const struct mz_kmode_params *cur)
{
	struct setting s[NSET];
	char now[NSET][32];

	record_read(s);
	params_text(cur, now);
	for (size_t i = 0; i < NSET; i++)
		if (!s[i].have || strcmp(s[i].set, now[i]) != 0)
			return false;
	return true;
}
