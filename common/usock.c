#include "common/usock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int usock_addr(const char *db_path, const char *suffix, struct sockaddr_un *a)
{
	int w;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	w = snprintf(a->sun_path, sizeof(a->sun_path), "%s%s", db_path, suffix);
	return w < 0 || (size_t)w >= sizeof(a->sun_path) ? -1 : 0;
}

/* Whether a service is bound at a: a connect() to a stale socket file is
 * refused. */
static bool someone_listens(const struct sockaddr_un *a, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

/* Mode 0660 and the database's group on the bound socket file, so that the
 * POS user (in the group) may use it and others may not. */
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

int usock_bind(const char *db_path, const struct sockaddr_un *a, int type, bool *taken_over, struct usock_id *id,
               char *msg, size_t n)
{
	struct stat sb;
	int fd = -1, rc = -1;
	bool bound = false; /* the file at a is ours */

	msg[0] = '\0';
	*taken_over = someone_listens(a, type);
	if (unlink(a->sun_path) != 0 && errno != ENOENT) {
		snprintf(msg, n, "cannot replace %s: %s", a->sun_path, strerror(errno));
		goto cleanup;
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
		snprintf(msg, n, "cannot bind %s: %s", a->sun_path, strerror(errno));
		goto cleanup;
	}
	bound = true;
	if (set_access(db_path, a->sun_path, msg, n) != 0)
		goto cleanup;
	if (stat(a->sun_path, &sb) != 0) {
		snprintf(msg, n, "cannot stat %s: %s", a->sun_path, strerror(errno));
		goto cleanup;
	}
	if (type == SOCK_STREAM && listen(fd, 16) != 0) {
		snprintf(msg, n, "cannot listen on %s: %s", a->sun_path, strerror(errno));
		goto cleanup;
	}
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	rc = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && bound) /* never another service's file (a bind that failed) */
		unlink(a->sun_path);
	return rc;
}

void usock_unlink(const struct sockaddr_un *a, const struct usock_id *id)
{
	struct stat sb;

	if (stat(a->sun_path, &sb) == 0 && sb.st_dev == id->dev && sb.st_ino == id->ino)
		unlink(a->sun_path);
}
