/*
 * hq_net: sockets. HQ listens on loopback only: 127.0.0.1 and, when the
 * host has IPv6, ::1 on the same port, because "localhost" may resolve to
 * either (curl tries both).
 */
#include "tests/hq/hq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 1024

/* listen_on: a listening socket on the loopback address of family at
 * port. Returns the fd, or -1 with errno. */
static int listen_on(int family, int port)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int fd, one = 1, saved;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		memset(&a4, 0, sizeof(a4));
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)port);
		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0)
			goto fail;
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		a6.sin6_addr = in6addr_loopback;
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0)
			goto fail;
	}
	if (listen(fd, BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t n = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* net_listen: see hq.h. With port 0 it tries a few free ports until one
 * is free on both addresses. */
int net_listen(int port, int fds[2])
{
	for (int attempt = 0; attempt < 20; attempt++) {
		int p;

		fds[0] = listen_on(AF_INET, port);
		if (fds[0] < 0)
			return -1;
		p = port ? port : port_of(fds[0]);
		fds[1] = listen_on(AF_INET6, p);
		if (fds[1] >= 0)
			return p;
		if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
			fds[1] = -1;
			return p;
		}
		close(fds[0]);
		fds[0] = -1;
		if (port || errno != EADDRINUSE)
			return -1;
	}
	errno = EADDRINUSE;
	return -1;
}

/* net_peer_gone: the client half-closed or reset the connection. */
bool net_peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return true;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* net_set_reset: resets the connection now. SO_LINGER 0 makes a close
 * send RST instead of FIN; connect(AF_UNSPEC) makes Linux drop the
 * connection at once with a RST, before libmicrohttpd's own shutdown
 * could send a FIN that a client would read as an empty reply. */
void net_set_reset(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	struct sockaddr sa = {.sa_family = AF_UNSPEC};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	connect(fd, &sa, sizeof(sa));
}
