/* test-log.c - log.c's journal client: the exact datagram of journald's native protocol */
#include "log.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[] = "/tmp/test-log.XXXXXX", sock_path[64];
static int srv = -1;

/* The next datagram on the test socket, or -1 when none is waiting. */
static ssize_t receive(char *buf, size_t cap)
{
	return recv(srv, buf, cap, MSG_DONTWAIT);
}

static void hexdiag(const char *what, const char *b, size_t n)
{
	printf("# %s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		printf(b[i] >= 0x20 && b[i] < 0x7f ? "%c" : "\\x%02x", (unsigned char)b[i]);
	printf("\n");
}

static void expect(const char *name, const char *got, ssize_t n, const char *want, size_t wn)
{
	if (!ok(n == (ssize_t)wn && memcmp(got, want, wn) == 0, "%s", name)) {
		hexdiag("got", got, n < 0 ? 0 : (size_t)n);
		hexdiag("want", want, wn);
	}
}

static void test_fields(void)
{
	static const char want[] = "MESSAGE=memory42: online_movable\n"
				   "PRIORITY=6\n"
				   "SYSLOG_IDENTIFIER=memzone\n"
				   "MEMZONE_BLOCK=memory42\n"
				   "MEMZONE_WHY\n\x0c\0\0\0\0\0\0\0two\nlines\nok\n"
				   "MEMZONE_EMPTY=\n";
	const char *kv[] = { "MEMZONE_BLOCK=memory42", "MEMZONE_WHY=two\nlines\nok", "not a field", "=nokey",
			     "MEMZONE_EMPTY=", NULL };
	char buf[4096];

	is_int(mz_journal_send(sock_path, LOG_INFO, "memzone", kv, "memory42: online_movable"), 0, "entry sent");
	expect("simple fields as KEY=value lines, a multi-line value in the binary form with its le64 length, "
	       "strings without '=' or without a key left out",
	       buf, receive(buf, sizeof(buf)), want, sizeof(want) - 1);
	ok(receive(buf, sizeof(buf)) < 0, "one entry is one datagram");
}

static void test_message(void)
{
	static const char want[] = "MESSAGE\n\x05\0\0\0\0\0\0\0a\nb c\n"
				   "PRIORITY=3\n"
				   "SYSLOG_IDENTIFIER=memzoned\n";
	char buf[4096];

	is_int(mz_journal_send(sock_path, LOG_ERR, "memzoned", NULL, "a\nb c"), 0, "entry without fields sent");
	expect("a message with a newline in the binary form, no fields", buf, receive(buf, sizeof(buf)), want,
	       sizeof(want) - 1);
}

static void test_long(void)
{
	char msg[1024], buf[8192], want[2048];
	int n;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	is_int(mz_journal_send(sock_path, LOG_WARNING, "memzone", NULL, msg), 0, "longest message sent");
	n = snprintf(want, sizeof(want), "MESSAGE=%s\nPRIORITY=4\nSYSLOG_IDENTIFIER=memzone\n", msg);
	expect("a 1023-byte message whole", buf, receive(buf, sizeof(buf)), want, (size_t)n);
}

static void test_errors(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/absent", dir);
	is_int(mz_journal_send(path, LOG_INFO, "memzone", NULL, "m"), -ENOENT, "no socket: -ENOENT");
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	is_int(mz_journal_send(path, LOG_INFO, "memzone", NULL, "m"), -ENAMETOOLONG, "path too long for AF_UNIX");
}

/* mz_log_kv on stderr: a control byte quoted from a file becomes '?', so one call is one line. */
static void test_control_bytes(void)
{
	char path[80], got[256];
	FILE *f;
	int saved = dup(STDERR_FILENO), fd;
	size_t n;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!ok(fd >= 0 && saved >= 0, "stderr redirected to a file"))
		return;
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	mz_log_init("memzoned", MZ_LOG_STDERR);
	mz_err("%s: expected key=value, got '%s'", "intent", "a\rb\x1b[2J\x7f\x01\tc\nd");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(path, "r");
	n = f ? fread(got, 1, sizeof(got) - 1, f) : 0;
	got[n] = '\0';
	if (f)
		fclose(f);
	static const char want[] = "memzoned: error: intent: expected key=value, got 'a?b?[2J??\tc\nd'\n";
	if (!ok(strcmp(got, want) == 0, "control bytes in a message are replaced, except newline and tab"))
		hexdiag("got", got, n);
	unlink(path);
}

int main(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!ok(mkdtemp(dir) != NULL, "temporary directory"))
		return tap_done();
	snprintf(sock_path, sizeof(sock_path), "%s/socket", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ok(srv >= 0 && bind(srv, (struct sockaddr *)&sa, sizeof(sa)) == 0, "test socket bound")) {
		test_fields();
		test_message();
		test_long();
		test_errors();
	}
	test_control_bytes();
	if (srv >= 0)
		close(srv);
	unlink(sock_path);
	rmdir(dir);
	return tap_done();
}
