/* TLS under the test client's PDUs (see tclient_tls.h). */
#include "tclient_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "conn/tls.h"

static struct nvmf_conn *conn_of(struct tclient *c)
{
	return c->io_ctx;
}

static ssize_t tls_send(struct tclient *c, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	struct nvmf_conn *conn = conn_of(c);

	return conn->sock->writev(conn, &iov, 1);
}

static ssize_t tls_recv(struct tclient *c, void *buf, size_t len)
{
	struct nvmf_conn *conn = conn_of(c);

	return conn->sock->recv(conn, buf, len);
}

static bool tls_buffered(struct tclient *c)
{
	return nvmf_conn_has_buffered(conn_of(c));
}

static void tls_close(struct tclient *c)
{
	nvmf_conn_close(conn_of(c));
	free(c->io_ctx);
	c->io_ctx = NULL;
}

static const struct tc_io tls_io = {
	.send = tls_send,
	.recv = tls_recv,
	.buffered = tls_buffered,
	.close = tls_close,
};

/* The connection layer wants receive callbacks; the test client parses PDUs itself. */
static const struct nvmf_pdu_rx_ops no_rx_ops;

int tc_tls_handshake(struct tclient *c, const char *addr, uint16_t port,
		     const struct tc_tls *t)
{
	struct nvmf_pdu_rx_cfg rxcfg = { .role = NVMF_PDU_ROLE_HOST };
	char identity[NVMF_TLS_IDENTITY_MAX];
	uint8_t psk[NVMF_TLS_PSK_MAX];
	struct nvmf_tls_key key;
	struct nvmf_conn *conn;
	int rc, len;

	if (nvmf_tls_key_parse(t->key, &key))
		return -EINVAL;
	len = nvmf_tls_psk(&key, t->hostnqn ? t->hostnqn : TC_HOSTNQN, t->subnqn, t->version,
			   t->how, identity, psk);
	if (len < 0)
		return len;
	rc = tc_tcp_connect(c, addr, port);
	if (rc)
		return rc;
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		tc_close(c);
		return -ENOMEM;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	/* from here the conn owns the fd */
	c->io = &tls_io;
	c->io_ctx = conn;
	rc = nvmf_conn_init(conn, c->fd, &nvmf_sock_tcp, &rxcfg, &no_rx_ops, c);
	if (!rc) {
		struct nvmf_tls_client_cfg cfg = {
			.identity = identity,
			.psk = psk,
			.psk_len = (size_t)len,
			.hash = nvmf_tls_key_hash(&key),
			.record = NVMF_TLS_RECORD_USER,
		};

		rc = nvmf_tls_client_start(conn, &cfg);
	}
	while (rc == 0 || rc == NVMF_TLS_WANT_READ || rc == NVMF_TLS_WANT_WRITE) {
		struct pollfd pfd = { .fd = c->fd };

		rc = nvmf_tls_handshake(conn);
		if (rc == 0)
			return 0;
		pfd.events = rc == NVMF_TLS_WANT_WRITE ? POLLOUT : POLLIN;
		if (rc > 0 && poll(&pfd, 1, 5000) == 0)
			rc = -ETIMEDOUT;
	}
	tc_close(c);
	return rc;
}

int tc_open_tls(struct tclient *c, const char *addr, uint16_t port, const struct tc_tls *t)
{
	int rc = tc_tls_handshake(c, addr, port, t);

	if (rc)
		return rc;
	rc = tc_ic(c, false, false);
	if (rc)
		tc_close(c);
	return rc;
}
