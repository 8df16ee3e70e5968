/* log.c - one log call, three sinks: journal (structured), stderr (by hand), /dev/kmsg (no journal)
 *
 * The journal is spoken to directly in its native protocol (systemd's JOURNAL_NATIVE_PROTOCOL):
 * one AF_UNIX datagram per entry. That keeps libsystemd, and the libraries it pulls in, out of the
 * `memzone` binary udev starts once per hot-added block. */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FIELDS 16
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *log_ident = "memzone";
static bool to_stderr = true, to_journal, to_kmsg;
static int max_prio = LOG_INFO;

void mz_log_init(const char *ident, enum mz_log_target target)
{
	log_ident = ident;
	to_stderr = to_journal = to_kmsg = false;
	switch (target) {
	case MZ_LOG_STDERR:
		to_stderr = true;
		break;
	case MZ_LOG_JOURNAL:
		to_journal = true;
		break;
	case MZ_LOG_KMSG:
		to_kmsg = true;
		break;
	case MZ_LOG_AUTO:
		/* A test tree must never log into the real machine's kernel log. */
		if (!mz_root_is_real()) {
			to_stderr = true;
			break;
		}
		if (access(JOURNAL_SOCKET, W_OK) == 0)
			to_journal = true;
		if (isatty(STDERR_FILENO))
			to_stderr = true;
		else if (!to_journal)
			to_kmsg = access("/dev/kmsg", W_OK) == 0;
		if (!to_journal && !to_kmsg)
			to_stderr = true;
		break;
	}
}

int mz_log_target_parse(const char *s, enum mz_log_target *t)
{
	static const char *const names[] = { "auto", "stderr", "journal", "kmsg" };

	for (size_t i = 0; i < MZ_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum mz_log_target)i;
			return 0;
		}
	return -EINVAL;
}

void mz_log_set_max_priority(int prio) { max_prio = prio; }
int mz_log_max_priority(void) { return max_prio; }

static void log_kmsg(int prio, const char *msg)
{
	char line[1024];
	int fd, n;

	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "<%d>%s[%d]: %s\n", LOG_DAEMON | prio, log_ident, (int)getpid(), msg);
	if (n > 0) {
		if (n >= (int)sizeof(line))
			n = sizeof(line) - 1;
		if (write(fd, line, (size_t)n) < 0) {
			/* the kernel log is best effort */
		}
	}
	close(fd);
}

/* Append one "KEY=value" field in the journal's native format. A value with a newline goes in the
 * binary form: KEY '\n' <value length, 64-bit little endian> value '\n'. */
static size_t journal_field(char *buf, size_t cap, size_t len, const char *field)
{
	const char *eq = strchr(field, '=');
	size_t fl = strlen(field), kl, vl;

	if (!eq || eq == field)
		return len; /* not a field: the journal would drop the whole entry */
	kl = (size_t)(eq - field);
	vl = fl - kl - 1;
	if (!memchr(eq + 1, '\n', vl)) {
		if (cap - len < fl + 1)
			return len;
		memcpy(buf + len, field, fl);
		buf[len + fl] = '\n';
		return len + fl + 1;
	}
	if (cap - len < kl + 1 + 8 + vl + 1)
		return len;
	memcpy(buf + len, field, kl);
	len += kl;
	buf[len++] = '\n';
	for (int i = 0; i < 8; i++)
		buf[len++] = (char)(((uint64_t)vl >> (8 * i)) & 0xff);
	memcpy(buf + len, eq + 1, vl);
	len += vl;
	buf[len++] = '\n';
	return len;
}

int mz_journal_send(const char *socket_path, int prio, const char *ident, const char *const *kv, const char *msg)
{
	/* An entry is bounded by construction: the message is at most 1023 bytes (mz_log_kv), the
	 * identifier and the fields are short. A field that does not fit is left out; a datagram the
	 * socket still refuses as too big (EMSGSIZE) is sent again with the message alone. */
	static int shared_fd = -1; /* one unbound socket for the process, like sd_journal's */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[8192], p[32], id[80], m[1100];
	size_t len = 0, base;
	int fd = __atomic_load_n(&shared_fd, __ATOMIC_ACQUIRE);

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	if (fd < 0) {
		int expected = -1;

		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!__atomic_compare_exchange_n(&shared_fd, &expected, fd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			close(fd); /* another thread was first */
			fd = expected;
		}
	}
	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", ident);
	len = journal_field(buf, sizeof(buf), len, m);
	len = journal_field(buf, sizeof(buf), len, p);
	len = journal_field(buf, sizeof(buf), len, id);
	base = len;
	for (size_t i = 0; kv && kv[i] && i < MAX_FIELDS; i++)
		len = journal_field(buf, sizeof(buf), len, kv[i]);
	for (;;) {
		if (sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EMSGSIZE || len == base)
			return -errno;
		len = base;
	}
}

static void log_journal(int prio, const char *const *kv, const char *msg)
{
	/* journald gone since mz_log_init: the line must still go somewhere */
	if (mz_journal_send(JOURNAL_SOCKET, prio, log_ident, kv, msg) < 0 && !to_stderr && !to_kmsg)
		fprintf(stderr, "%s: %s\n", log_ident, msg);
}

void mz_log_kv(int prio, const char *const *kv, const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	if (prio > max_prio)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages quote file contents (a garbage intent record, a sysfs value): a control byte must not
	 * drive the terminal of whoever reads stderr. Newlines and tabs stay: a message may list several
	 * config errors, one per line, and the readers quote single lines, never a newline. */
	for (char *p = msg; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			*p = '?';
	if (to_journal)
		log_journal(prio, kv, msg);
	if (to_kmsg)
		log_kmsg(prio, msg);
	if (to_stderr) {
		fprintf(stderr, "%s: %s%s\n", log_ident,
			prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "", msg);
		if (max_prio >= LOG_DEBUG)
			for (size_t i = 0; kv && kv[i]; i++)
				fprintf(stderr, "  %s\n", kv[i]);
	}
	errno = saved;
}
