/*
 * usock: the unix sockets a running `posagent run` binds beside its
 * database, DATABASE-SUFFIX (common/wake: "-wake", common/lookup:
 * "-lookup"). One rule for all of them: the socket file gets mode 0660 and
 * the database's group, like the database's own files, so that the POS
 * user (in the group) may use it and others may not; a file left by a
 * crashed service is replaced; a service removes only its own file.
 */
#ifndef POSAGENT_USOCK_H
#define POSAGENT_USOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

/* A bound socket file's identity, so that closing removes only ours (a
 * newer service may have replaced it). */
struct usock_id {
	dev_t dev;
	ino_t ino;
};

/* Fills a with the address DATABASE-SUFFIX of db_path. Returns 0, or -1
 * when it does not fit a unix socket address (108 bytes). */
int usock_addr(const char *db_path, const char *suffix, struct sockaddr_un *a);

/* Binds a new socket of type (SOCK_DGRAM or SOCK_STREAM; made
 * non-blocking and close-on-exec) at a, the address of db_path's socket:
 * replaces a stale file, sets mode 0660 and the database's group, listens
 * when type is SOCK_STREAM. *taken_over is set when a live service was
 * bound there (it no longer gets anything). Returns the descriptor with
 * *id, or -1 with a message in msg. */
int usock_bind(const char *db_path, const struct sockaddr_un *a, int type, bool *taken_over, struct usock_id *id,
               char *msg, size_t n);

/* Removes the socket file at a if it is still the one id names. */
void usock_unlink(const struct sockaddr_un *a, const struct usock_id *id);

#endif
