/* replay.c - run a fuzz target's LLVMFuzzerTestOneInput on saved inputs, without libFuzzer.
 *
 *   fuzz-replay-TARGET [FILE|DIR]...
 *
 * TARGET comes from the program's name (tests/fuzz-replay-zoneinfo: "zoneinfo"). Without arguments
 * it replays $top_srcdir/fuzz/corpus/TARGET and $top_srcdir/fuzz/crashers/TARGET,
 * which is how `make check` keeps every seed and every crash ever found passing, in the normal and in
 * the sanitizer build. Each input runs in a child process, so one crash is reported as one failed TAP
 * point and the rest still run. Crashers named "open-*" are known and not yet fixed: they are TAP TODO
 * points, and turn into a failure (XPASS) once the parser is fixed, as a reminder to drop the prefix.
 */
#include "fuzz.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INPUT_MAX (1u << 20)
#define PROG_PREFIX "fuzz-replay-"

static int npoints, nfailed;
static const char *shown_from; /* report paths from here on: "fuzz/corpus/..." rather than the whole path */

/* One TAP point; a known open crasher carries the TODO directive on the same line. */
static void report(bool pass, const char *path, bool known_open, const char *why)
{
	if (shown_from && mz_startswith(path, shown_from))
		path += strlen(shown_from);
	printf("%sok %d - %s", pass ? "" : "not ", ++npoints, path);
	if (why)
		printf(" (%s)", why);
	if (known_open)
		printf(" # TODO known crasher, not fixed yet");
	printf("\n");
	fflush(stdout);
	if (!pass && !known_open)
		nfailed++;
}

/* The whole file, embedded NULs included (libFuzzer saw every byte). NULL when unreadable or too big. */
static uint8_t *slurp(const char *path, size_t *len, const char **why)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;

	*why = "cannot open";
	if (!f)
		return NULL;
	data = malloc(INPUT_MAX + 1);
	if (!data)
		abort();
	*len = fread(data, 1, INPUT_MAX + 1, f);
	*why = ferror(f) ? "read error" : *len > INPUT_MAX ? "larger than 1 MiB: not a fuzz input" : NULL;
	fclose(f);
	if (*why) {
		free(data);
		return NULL;
	}
	return data;
}

static void replay_file(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool known_open = mz_startswith(base, "open-");
	const char *why;
	char buf[64];
	uint8_t *data;
	size_t len;
	pid_t pid;
	int status;

	data = slurp(path, &len, &why);
	if (!data) {
		report(false, path, false, why);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		report(false, path, false, "fork failed");
		free(data);
		return;
	}
	if (pid == 0) {
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0); /* exit, not _exit: LeakSanitizer checks at exit */
	}
	free(data);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			report(false, path, known_open, "waitpid failed");
			return;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		report(true, path, known_open, NULL);
		return;
	}
	if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "exit status %d", WEXITSTATUS(status));
	report(false, path, known_open, buf);
}

static int skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "README") != 0 && strcmp(d->d_name, "SOURCE.txt") != 0;
}

static void replay_path(const char *path, bool missing_ok)
{
	struct dirent **names;
	struct stat st;
	int n;

	if (stat(path, &st) < 0) {
		if (!(missing_ok && errno == ENOENT))
			report(false, path, false, "missing");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	n = scandir(path, &names, skip_dots, alphasort);
	if (n < 0) {
		report(false, path, false, "cannot list");
		return;
	}
	for (int i = 0; i < n; i++) {
		char child[MZ_PATH_MAX];

		snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
		replay_path(child, false);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *target = mz_startswith(prog, PROG_PREFIX) ? prog + strlen(PROG_PREFIX) : NULL;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i], false);
	} else {
		const char *top = getenv("top_srcdir");
		char dir[MZ_PATH_MAX], shown[MZ_PATH_MAX];

		if (!top || !target || !*target) {
			fprintf(stderr, "%s: set top_srcdir and run me as %sTARGET, or name the inputs\n", prog,
				PROG_PREFIX);
			return 2;
		}
		snprintf(shown, sizeof(shown), "%s/", top);
		shown_from = shown;
		snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top, target);
		replay_path(dir, false);
		snprintf(dir, sizeof(dir), "%s/fuzz/crashers/%s", top, target);
		replay_path(dir, true);
	}
	printf("1..%d\n", npoints);
	return nfailed ? 1 : 0;
}
