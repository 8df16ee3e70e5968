/* log.c - one log call, three sinks: journal (structured), stderr (by hand), /dev/kmsg (no journal) */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#define MAX_FIELDS 16

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
		if (access("/run/systemd/journal/socket", W_OK) == 0)
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

static void log_journal(int prio, const char *const *kv, const char *msg)
{
	char m[1200], p[32], id[64];
	struct iovec iov[MAX_FIELDS + 3];
	size_t n = 0;

	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n++] = (struct iovec){ m, strlen(m) };
	iov[n++] = (struct iovec){ p, strlen(p) };
	iov[n++] = (struct iovec){ id, strlen(id) };
	for (size_t i = 0; kv && kv[i] && i < MAX_FIELDS; i++)
		iov[n++] = (struct iovec){ (void *)kv[i], strlen(kv[i]) };
	sd_journal_sendv(iov, (int)n);
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
