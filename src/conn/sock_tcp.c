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

void nvmf_sock_describe(int fd, bool local, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int rc = local ? getsockname(fd, (struct sockaddr *)&ss, &sl)
		       : getpeername(fd, (struct sockaddr *)&ss, &sl);

	if (rc == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
			port = ntohs(s->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
			port = ntohs(s->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%u", host, port);
}
