/* lock.c - /run/memzone/lock (one decision + write at a time, helper and daemon) and bounded waits */
#include "lock.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static void on_deadline(int sig)
{
	(void)sig; /* only there to interrupt the blocked system call */
}

int mz_deadline_arm(struct mz_deadline *dl, uint64_t ms)
{
	struct sigevent sev;
	struct itimerspec its;
	struct sigaction sa;
	sigset_t unblock;

	memset(dl, 0, sizeof(*dl));
	if (ms == 0)
		ms = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_deadline; /* no SA_RESTART: the interrupted call returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &dl->old_action) < 0)
		return -errno;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID; /* this thread, not whichever the kernel picks */
	sev.sigev_signo = SIGALRM;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &dl->timer) < 0) {
		int err = -errno;

		sigaction(SIGALRM, &dl->old_action, NULL);
		return err;
	}
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &unblock, &dl->old_mask);

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* Repeat after expiry: a signal that lands just before the blocking call starts would otherwise
	 * be lost and the call (flock, an offline the kernel retries forever) would never return. */
	its.it_interval.tv_nsec = 100 * 1000000L;
	dl->expires_ms = mz_now_ms() + ms;
	dl->armed = true;
	if (timer_settime(dl->timer, 0, &its, NULL) < 0) {
		int err = -errno;

		mz_deadline_disarm(dl);
		return err;
	}
	return 0;
}

bool mz_deadline_expired(const struct mz_deadline *dl)
{
	return dl->armed && mz_now_ms() >= dl->expires_ms;
}

void mz_deadline_disarm(struct mz_deadline *dl)
{
	if (!dl->armed)
		return;
	/* After timer_delete no new signal can come; one already sent was delivered to our handler on
	 * the way out of the interrupted call, so restoring the old action is safe. */
	timer_delete(dl->timer);
	pthread_sigmask(SIG_SETMASK, &dl->old_mask, NULL);
	sigaction(SIGALRM, &dl->old_action, NULL);
	dl->armed = false;
}

int mz_flock_take(struct mz_lock *l, const char *name, uint64_t timeout_ms)
{
	char dir[MZ_PATH_MAX], path[MZ_PATH_MAX];
	struct mz_deadline dl;
	int fd, r;

	l->fd = -1;
	r = mz_path(dir, sizeof(dir), "/run/memzone");
	if (r < 0)
		return r;
	r = mz_path(path, sizeof(path), "%s", name);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == ENOENT) {
		r = mz_mkdir_p(dir, 0755);
		if (r < 0)
			return r;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	if (fd < 0)
		return -errno;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		l->fd = fd;
		return 0;
	}
	if (errno != EWOULDBLOCK || timeout_ms == 0) {
		r = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		close(fd);
		return r;
	}

	/* A blocking flock bounded by a timer wakes us as soon as the holder lets go (no polling). */
	r = mz_deadline_arm(&dl, timeout_ms);
	if (r < 0) {
		close(fd);
		return r;
	}
	for (;;) {
		if (flock(fd, LOCK_EX) == 0) {
			r = 0;
			break;
		}
		if (errno != EINTR) {
			r = -errno;
			break;
		}
		if (mz_deadline_expired(&dl)) {
			r = -ETIMEDOUT;
			break;
		}
		/* another signal: keep waiting, the timer is still armed */
	}
	mz_deadline_disarm(&dl);
	if (r < 0) {
		close(fd);
		return r;
	}
	l->fd = fd;
	return 0;
}

int mz_lock_take(struct mz_lock *l, uint64_t timeout_ms)
{
	return mz_flock_take(l, "/run/memzone/lock", timeout_ms);
}

int mz_flock_held_by_other(const char *name)
{
	char path[MZ_PATH_MAX];
	int fd, r;

	r = mz_path(path, sizeof(path), "%s", name);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* shared: testers never exclude one another; the holder's own bounded take waits out a test */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		r = 0;
	else
		r = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd);
	return r;
}

void mz_lock_release(struct mz_lock *l)
{
	if (l->fd < 0)
		return;
	close(l->fd); /* closing the only descriptor releases the flock */
	l->fd = -1;
}

bool mz_lock_held(const struct mz_lock *l)
{
	return l->fd >= 0;
}
