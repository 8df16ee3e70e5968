/* log.h - one log call, three sinks: journal (structured), stderr (by hand), /dev/kmsg (no journal) */
#pragma once
#include <stdbool.h>
#include <syslog.h>

enum mz_log_target {
	MZ_LOG_AUTO,    /* tty: stderr (+journal); journal socket: journal; else /dev/kmsg; --root: stderr */
	MZ_LOG_STDERR,
	MZ_LOG_JOURNAL,
	MZ_LOG_KMSG,
};

void mz_log_init(const char *ident, enum mz_log_target target);
/* "auto", "stderr", "journal", "kmsg" -> 0, or -EINVAL */
int mz_log_target_parse(const char *s, enum mz_log_target *t);
/* Messages with priority > max are dropped (default LOG_INFO; --verbose: LOG_DEBUG; --quiet: LOG_WARNING). */
void mz_log_set_max_priority(int prio);
int mz_log_max_priority(void);

/* kv: NULL or a NULL-terminated list of "MEMZONE_KEY=value" journal fields (shown on stderr too
 * when verbose). The message itself never ends in a newline. */
void mz_log_kv(int prio, const char *const *kv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define mz_log(prio, ...) mz_log_kv((prio), NULL, __VA_ARGS__)
#define mz_err(...) mz_log_kv(LOG_ERR, NULL, __VA_ARGS__)
#define mz_warn(...) mz_log_kv(LOG_WARNING, NULL, __VA_ARGS__)
#define mz_info(...) mz_log_kv(LOG_INFO, NULL, __VA_ARGS__)
#define mz_debug(...) mz_log_kv(LOG_DEBUG, NULL, __VA_ARGS__)

/* Send one entry to the journal socket at socket_path in journald's native protocol: MESSAGE=,
 * PRIORITY=, SYSLOG_IDENTIFIER= and the kv fields, one datagram. 0 or -errno. The path is a
 * parameter for the unit test; mz_log_kv uses /run/systemd/journal/socket. */
int mz_journal_send(const char *socket_path, int prio, const char *ident, const char *const *kv, const char *msg);
