#include "common/wake.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/usock.h"
#include "common/util.h"

#define WAKE_CHECKPOINT_PAGES 1000 /* SQLite's default wal_autocheckpoint */

struct wake {
	int fd;                  /* the bound datagram socket */
	struct sockaddr_un addr; /* its address (for wake_post) */
	struct usock_id id;      /* the socket file's identity, to remove only ours */
};

int wake_path(const char *db_path, char *out, size_t n)
{
	struct sockaddr_un a;

	if (usock_addr(db_path, "-wake", &a) != 0 || util_copy(out, n, a.sun_path) != 0)
		return -1;
	return 0;
}

/* One datagram to a, from a fresh non-blocking socket; errors ignored. */
static void send_to(const struct sockaddr_un *a, char why)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	(void)!sendto(fd, &why, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)a, sizeof(*a));
	close(fd);
}

void wake_send(const char *db_path, char why)
{
	struct sockaddr_un a;

	if (db_path && usock_addr(db_path, "-wake", &a) == 0)
		send_to(&a, why);
}

/* The wal hook: the commit is in the WAL and the write lock is released.
 * Wakes the service, then does what SQLite's default hook does. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *schema, int pages)
{
	wake_send(arg, WAKE_COMMIT);
	if (pages >= WAKE_CHECKPOINT_PAGES)
		sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

void wake_on_commit(sqlite3 *db, const char *db_path)
{
	if (db && db_path)
		sqlite3_wal_hook(db, on_wal_commit, (void *)db_path);
}

int wake_open(const char *db_path, struct wake **out, char *msg, size_t n)
{
	struct wake *w = calloc(1, sizeof(*w));
	bool taken_over = false;
	int rc = -1;

	*out = NULL;
	if (!w) {
		snprintf(msg, n, "out of memory");
		goto cleanup;
	}
	if (usock_addr(db_path, "-wake", &w->addr) != 0) {
		snprintf(msg, n, "the database path is too long for a wake-up socket beside it (%zu bytes at most)",
		         sizeof(w->addr.sun_path) - 6);
		goto cleanup;
	}
	w->fd = usock_bind(db_path, &w->addr, SOCK_DGRAM, &taken_over, &w->id, msg, n);
	if (w->fd < 0)
		goto cleanup;
	if (taken_over)
		snprintf(msg, n, "another service was listening on %s: taking it over", w->addr.sun_path);
	*out = w;
	w = NULL;
	rc = 0;
cleanup:
	free(w);
	return rc;
}

/* Reads every datagram waiting. Returns whether one ends a wait (any:
 * every kind; else WAKE_HQ only). */
static bool drain(struct wake *w, bool any)
{
	char buf[16];
	bool hit = false;
	ssize_t got;

	while ((got = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 || errno == EINTR)
		if (got > 0 && (any || buf[0] == WAKE_HQ))
			hit = true;
	return hit;
}

bool wake_wait(struct wake *w, double secs, bool any, volatile sig_atomic_t *stop)
{
	double until = util_mono() + secs;

	while (util_wait_fd(w ? w->fd : -1, until - util_mono(), stop))
		if (drain(w, any))
			return true;
	return false;
}

void wake_post(struct wake *w, char why)
{
	if (w)
		send_to(&w->addr, why);
}

void wake_close(struct wake *w)
{
	if (!w)
		return;
	usock_unlink(&w->addr, &w->id);
	close(w->fd);
	free(w);
}
