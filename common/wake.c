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

#include "common/util.h"

#define WAKE_CHECKPOINT_PAGES 1000 /* SQLite's default wal_autocheckpoint */

struct wake {
	int fd;                 /* the bound datagram socket */
	struct sockaddr_un addr; /* its address (for wake_post) */
	dev_t dev;              /* the socket file's identity, to remove only ours */
	ino_t ino;
};

int wake_path(const char *db_path, char *out, size_t n)
{
	struct sockaddr_un a;
	int w = snprintf(out, n, "%s-wake", db_path);

	if (w < 0 || (size_t)w >= n || (size_t)w >= sizeof(a.sun_path))
		return -1;
	return 0;
}

/* Fills a with the socket address of db_path. Returns 0 or -1 (too long). */
static int address(const char *db_path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	return wake_path(db_path, a->sun_path, sizeof(a->sun_path));
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

	if (db_path && address(db_path, &a) == 0)
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

/* Whether a service is bound at a: a connect() to a stale socket file is
 * refused. */
static bool someone_listens(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0;
	close(fd);
	return live;
}

/* Mode 0660 and the database's group on the bound socket file, so that the
 * POS user (in the group) may send and others may not. */
static int set_access(const char *db_path, const char *sock, char *msg, size_t n)
{
	struct stat db;

	if (chmod(sock, 0660) != 0) {
		snprintf(msg, n, "cannot set the mode of %s: %s", sock, strerror(errno));
		return -1;
	}
	if (stat(db_path, &db) == 0 && chown(sock, (uid_t)-1, db.st_gid) != 0 && errno != EPERM) {
		snprintf(msg, n, "cannot give %s the database's group: %s", sock, strerror(errno));
		return -1;
	}
	return 0;
}

int wake_open(const char *db_path, struct wake **out, char *msg, size_t n)
{
	struct wake *w = calloc(1, sizeof(*w));
	struct stat sb;
	int rc = -1;

	*out = NULL;
	if (!w) {
		snprintf(msg, n, "out of memory");
		return -1;
	}
	w->fd = -1;
	if (address(db_path, &w->addr) != 0) {
		snprintf(msg, n, "the database path is too long for a wake-up socket beside it (%zu bytes at most)",
		         sizeof(w->addr.sun_path) - 6);
		goto cleanup;
	}
	if (someone_listens(&w->addr))
		snprintf(msg, n, "another service was listening on %s: taking it over", w->addr.sun_path);
	else
		msg[0] = '\0';
	if (unlink(w->addr.sun_path) != 0 && errno != ENOENT) {
		snprintf(msg, n, "cannot replace %s: %s", w->addr.sun_path, strerror(errno));
		goto cleanup;
	}
	w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0 || bind(w->fd, (const struct sockaddr *)&w->addr, sizeof(w->addr)) != 0) {
		snprintf(msg, n, "cannot bind %s: %s", w->addr.sun_path, strerror(errno));
		goto cleanup;
	}
	if (set_access(db_path, w->addr.sun_path, msg, n) != 0 || stat(w->addr.sun_path, &sb) != 0)
		goto cleanup;
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;
	*out = w;
	w = NULL;
	rc = 0;
cleanup:
	if (w && w->fd >= 0) {
		close(w->fd);
		unlink(w->addr.sun_path);
	}
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

	if (!w) {
		util_sleep(secs, stop);
		return false;
	}
	while (!(stop && *stop)) {
		struct pollfd p = {.fd = w->fd, .events = POLLIN};
		double left = until - util_mono();
		if (left <= 0)
			return false;
		if (left > UTIL_STOP_CHECK)
			left = UTIL_STOP_CHECK;
		if (poll(&p, 1, (int)(left * 1000) + 1) > 0 && drain(w, any))
			return true;
	}
	return false;
}

void wake_post(struct wake *w, char why)
{
	if (w)
		send_to(&w->addr, why);
}

void wake_close(struct wake *w)
{
	struct stat sb;

	if (!w)
		return;
	if (stat(w->addr.sun_path, &sb) == 0 && sb.st_dev == w->dev && sb.st_ino == w->ino)
		unlink(w->addr.sun_path);
	close(w->fd);
	free(w);
}
