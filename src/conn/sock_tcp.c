/* Socket ops for plain TCP: the kernel's stack, non-blocking calls on the fd. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn.h"

static ssize_t tcp_recv(struct nvmf_conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);

	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : n;
}

static ssize_t tcp_readv(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt };
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT);

	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : n;
}

static ssize_t tcp_writev(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt };
	ssize_t n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : n;
}

static void tcp_shutdown(struct nvmf_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
}

static void tcp_close(struct nvmf_conn *c)
{
	close(c->fd);
}

const struct nvmf_sock_ops nvmf_sock_tcp = {
	.name = "tcp",
	.recv = tcp_recv,
	.readv = tcp_readv,
	.writev = tcp_writev,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
};

int nvmf_sock_addr(int fd, bool local, char *host, size_t len, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *a;

	if ((local ? getsockname(fd, (struct sockaddr *)&ss, &sl)
		   : getpeername(fd, (struct sockaddr *)&ss, &sl)) < 0)
		return -errno;
	if (ss.ss_family == AF_INET) {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	return inet_ntop(ss.ss_family, a, host, (socklen_t)len) ? 0 : -errno;
}

void nvmf_sock_describe(int fd, bool local, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (nvmf_sock_addr(fd, local, host, sizeof(host), &port))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s:%u", host, port);
}
