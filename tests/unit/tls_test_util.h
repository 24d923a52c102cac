/*
 * Test helpers shared by the TLS unit tests (test_tls, test_ktls): a loopback TCP pair,
 * connection ends with a PDU-counting owner, PSKs from src/auth, both handshakes driven
 * in one thread, a raw OpenSSL client (a peer that is not our code), and PDU pumping.
 * Include after cmocka.h.
 */
#ifndef NVMF_TEST_TLS_TEST_UTIL_H
#define NVMF_TEST_TLS_TEST_UTIL_H

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth/tls_psk.h"
#include "conn/conn.h"
#include "conn/tls.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:5b7a3e1c-0000-4000-8000-00000000a11c"
#define SUBNQN "nqn.2024-01.io.example:tls-target"

/* ------------------------------------------------------------------ sockets */

/* A connected loopback TCP pair, both non-blocking (kTLS needs TCP, not AF_UNIX). */
static inline void tcp_pair(int *cli, int *srv, int bufsz)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*cli >= 0);
	if (bufsz) {
		/* small buffers: writes go out in pieces and block */
		assert_int_equal(setsockopt(*cli, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)), 0);
		assert_int_equal(setsockopt(*cli, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)), 0);
	}
	assert_int_equal(connect(*cli, (struct sockaddr *)&a, sizeof(a)), 0);
	*srv = accept(l, NULL, NULL);
	assert_true(*srv >= 0);
	close(l);
	if (bufsz) {
		assert_int_equal(setsockopt(*srv, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)), 0);
		assert_int_equal(setsockopt(*srv, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)), 0);
	}
	for (int i = 0; i < 2; i++) {
		int fd = i ? *srv : *cli;

		assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

/* Wait (a little) until one of the fds is ready as asked; false on a timeout. */
static inline bool wait2(int fd1, short ev1, int fd2, short ev2)
{
	struct pollfd p[2] = { { fd1, ev1, 0 }, { fd2, ev2, 0 } };

	return poll(p, 2, 2000) > 0;
}

/* ------------------------------------------------------------------ owners */

struct end {
	struct nvmf_conn conn;
	int pdus;
	uint8_t last_type;
	uint8_t *dest;              /* C2HData / H2CData payloads land here */
	struct iovec dest_iov;
	int pause_after;
};

static inline int on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct end *e = ctx;
	uint8_t t = rx->hdr.h.ch.type;

	if ((t == NVME_TCP_C2H_DATA || t == NVME_TCP_H2C_DATA) && e->dest) {
		e->dest_iov.iov_base = e->dest + le32toh(rx->hdr.h.data.datao);
		e->dest_iov.iov_len = rx->data_len;
		nvmf_pdu_rx_set_dest(rx, &e->dest_iov, 1);
	}
	return 0;
}

static inline int on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct end *e = ctx;

	e->pdus++;
	e->last_type = rx->hdr.h.ch.type;
	return e->pause_after && e->pdus % e->pause_after == 0 ? NVMF_PDU_RX_PAUSE : 0;
}

static const struct nvmf_pdu_rx_ops ops = { .on_header = on_header, .on_pdu = on_pdu };

static inline void end_init(struct end *e, int fd, bool controller)
{
	struct nvmf_pdu_rx_cfg cfg = {
		.role = controller ? NVMF_PDU_ROLE_CONTROLLER : NVMF_PDU_ROLE_HOST,
		.max_data = 2u << 20,
		.max_icd = 8192,
	};

	memset(e, 0, sizeof(*e));
	assert_int_equal(nvmf_conn_init(&e->conn, fd, &nvmf_sock_tcp, &cfg, &ops, e), 0);
	e->conn.rx.ic_done = true; /* as after the IC exchange: any PDU may come */
}

/* ------------------------------------------------------------------ keys */

struct key {
	char identity[NVMF_TLS_IDENTITY_MAX];
	uint8_t psk[NVMF_TLS_PSK_MAX];
	size_t len;
	unsigned hash;
};

/* A generated configured key (hmac 1 or 2) and the identity/TLS PSK it gives. */
static inline void make_key(struct key *k, unsigned hmac, unsigned version)
{
	struct nvmf_tls_key cfg;
	int n;

	assert_int_equal(nvmf_tls_key_generate(&cfg, hmac, NULL), 0);
	n = nvmf_tls_psk(&cfg, HOSTNQN, SUBNQN, version, NVMF_TLS_DERIVE_RFC, k->identity, k->psk);
	assert_true(n > 0);
	k->len = (size_t)n;
	k->hash = nvmf_tls_key_hash(&cfg);
}

/* The server's key table: one entry; what find_psk was asked is kept. */
struct keytab {
	const struct key *key;
	char seen[NVMF_TLS_IDENTITY_MAX + 1];
	size_t seen_len;
	int calls;
};

static inline int find_psk(void *arg, const char *identity, size_t len, uint8_t *psk,
			   size_t *psk_len, unsigned *hash)
{
	struct keytab *t = arg;

	t->calls++;
	memcpy(t->seen, identity, len);
	t->seen[len] = '\0';
	t->seen_len = len;
	if (len != strlen(t->key->identity) || memcmp(identity, t->key->identity, len))
		return -ENOKEY;
	memcpy(psk, t->key->psk, t->key->len);
	*psk_len = t->key->len;
	*hash = t->key->hash;
	return 0;
}

/* ------------------------------------------------------------------ handshakes */

static inline short want_events(int rc)
{
	return rc == NVMF_TLS_WANT_WRITE ? POLLOUT : POLLIN;
}

/* Drive both handshakes until neither waits; their results in *rc_cli, *rc_srv. */
static inline void drive(struct end *cli, struct end *srv, int *rc_cli, int *rc_srv)
{
	int rc = 1, rs = 1;

	for (int i = 0; i < 1000; i++) {
		if (rc > 0)
			rc = nvmf_tls_handshake(&cli->conn);
		if (rs > 0)
			rs = nvmf_tls_handshake(&srv->conn);
		if (rc <= 0 && rs <= 0)
			break;
		if (!wait2(rc > 0 ? cli->conn.fd : -1, want_events(rc),
			   rs > 0 ? srv->conn.fd : -1, want_events(rs)))
			fail_msg("handshake hangs: client %d, server %d", rc, rs);
	}
	*rc_cli = rc;
	*rc_srv = rs;
}

struct pair {
	struct end cli, srv;
	struct keytab tab;
};

/* Start both ends (client with ck, server knowing sk) and drive the handshake. */
static inline void pair_handshake(struct pair *p, const struct key *ck,
				  const struct key *sk, enum nvmf_tls_record rec, int bufsz,
				  int *rc_cli, int *rc_srv)
{
	int fc, fs;
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &p->tab, .record = rec };
	struct nvmf_tls_client_cfg ccfg = {
		.identity = ck->identity, .psk = ck->psk, .psk_len = ck->len, .hash = ck->hash,
		.record = rec,
	};

	memset(&p->tab, 0, sizeof(p->tab));
	p->tab.key = sk;
	tcp_pair(&fc, &fs, bufsz);
	end_init(&p->cli, fc, false);
	end_init(&p->srv, fs, true);
	assert_int_equal(nvmf_tls_client_start(&p->cli.conn, &ccfg), 0);
	assert_int_equal(nvmf_tls_server_start(&p->srv.conn, &scfg), 0);
	drive(&p->cli, &p->srv, rc_cli, rc_srv);
}

static inline void pair_close(struct pair *p)
{
	nvmf_conn_close(&p->cli.conn);
	nvmf_conn_close(&p->srv.conn);
}

/* ------------------------------------------------------------------ raw peers */

/*
 * The server side of a raw OpenSSL client: our server conn driven until it stops waiting
 * while the client does its own steps in step().
 */
static inline unsigned int raw_psk_cb(SSL *ssl, const char *hint, char *identity,
				      unsigned int max_identity_len, unsigned char *psk,
				      unsigned int max_psk_len)
{
	const struct key *k = SSL_get_app_data(ssl);

	(void)hint;
	if (strlen(k->identity) + 1 > max_identity_len || k->len > max_psk_len)
		return 0;
	strcpy(identity, k->identity);
	memcpy(psk, k->psk, k->len);
	return (unsigned)k->len;
}

/* Handshake messages and inner content types the raw client received, in order. */
struct seen {
	uint8_t hs[64];
	int nhs;
	uint8_t inner[64];
	int ninner;
};

static inline void raw_msg_cb(int write_p, int version, int content_type, const void *buf,
			      size_t len, SSL *ssl, void *arg)
{
	struct seen *s = arg;

	(void)version;
	(void)ssl;
	if (write_p || !len)
		return;
	if (content_type == SSL3_RT_HANDSHAKE && s->nhs < 64)
		s->hs[s->nhs++] = ((const uint8_t *)buf)[0];
	if (content_type == SSL3_RT_INNER_CONTENT_TYPE && s->ninner < 64)
		s->inner[s->ninner++] = ((const uint8_t *)buf)[0];
}

static inline SSL *raw_client(int fd, const struct key *k, int max_version, struct seen *seen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	assert_non_null(ctx);
	SSL_CTX_set_max_proto_version(ctx, max_version);
	if (max_version == TLS1_2_VERSION)
		SSL_CTX_set_cipher_list(ctx, "PSK-AES128-GCM-SHA256");
	/* OpenSSL prefers AES-256 first; a SHA-256 PSK needs the SHA-256 suite chosen */
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	/* the TLS 1.2-style callback: SHA-256 only, but a PSK API ours does not use */
	SSL_CTX_set_psk_client_callback(ctx, raw_psk_cb);
	if (seen) {
		SSL_CTX_set_msg_callback(ctx, raw_msg_cb);
		SSL_CTX_set_msg_callback_arg(ctx, seen);
	}
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	assert_non_null(ssl);
	SSL_set_app_data(ssl, (void *)k);
	SSL_set_fd(ssl, fd);
	SSL_set_connect_state(ssl);
	return ssl;
}

/* Drive a raw client and our server; results as SSL_do_handshake / nvmf_tls_handshake. */
static inline void drive_raw(SSL *ssl, struct end *srv, int *rc_cli, int *rc_srv)
{
	int rc = -1, rs = 1;
	bool cli_wait = true;

	for (int i = 0; i < 1000 && (cli_wait || rs > 0); i++) {
		short ce = POLLIN;

		if (cli_wait) {
			rc = SSL_do_handshake(ssl);
			if (rc == 1) {
				cli_wait = false;
			} else {
				int e = SSL_get_error(ssl, rc);

				cli_wait = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
				ce = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
			}
		}
		if (rs > 0)
			rs = nvmf_tls_handshake(&srv->conn);
		if (!cli_wait && rs <= 0)
			break;
		if (!wait2(cli_wait ? SSL_get_fd(ssl) : -1, ce, rs > 0 ? srv->conn.fd : -1,
			   want_events(rs)))
			fail_msg("handshake hangs");
	}
	ERR_clear_error();
	*rc_cli = rc;
	*rc_srv = rs;
}

/* ------------------------------------------------------------------ data */

struct txrec {
	struct nvmf_conn_tx tx;
	struct nvmf_pdu_out out;
	struct iovec iov[NVMF_CONN_TX_BATCH_IOV];
};

struct smallrec {
	struct nvmf_conn_tx tx;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
};

/* Queue n CapsuleResps from t[0..n). */
static inline void queue_rsps(struct end *e, struct smallrec *t, int n)
{
	struct nvme_cqe cqe = { 0 };

	for (int i = 0; i < n; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].tx.iov = t[i].iov;
		assert_int_equal(nvmf_conn_queue(&e->conn, &t[i].tx,
						 nvmf_pdu_rsp(&t[i].out, &e->conn.txcfg, &cqe,
							      t[i].iov, 4)), 0);
	}
}

/* Flush a and receive on b (and the other way) until pred(b) or no progress. */
static inline void pump(struct end *a, struct end *b, bool (*done)(struct end *, void *),
			void *arg)
{
	for (int i = 0; i < 100000 && !done(b, arg); i++) {
		int fa = nvmf_conn_flush(&a->conn), rb;

		assert_true(fa >= 0);
		do {
			rb = nvmf_conn_receive(&b->conn, 4);
			assert_true(rb >= 0);
		} while (rb == NVMF_CONN_MORE || nvmf_conn_has_buffered(&b->conn));
		if (done(b, arg))
			break;
		if (!wait2(b->conn.fd, POLLIN, nvmf_conn_tx_pending(&a->conn) ? a->conn.fd : -1,
			   POLLOUT))
			fail_msg("no progress: %d PDUs", b->pdus);
	}
	assert_true(done(b, arg));
}

static inline bool have_pdus(struct end *e, void *arg)
{
	return e->pdus >= *(int *)arg;
}

/* 1 MiB of C2HData in odd-sized iovecs through small socket buffers, then back as H2CData. */
static inline void data_large_both_ways(enum nvmf_tls_record rec)
{
	static const size_t sizes[] = { 1, 7, 24, 100, 4096, 5000, 16383, 16384, 16385, 40000 };
	const size_t total = 1u << 20;
	struct pair p;
	struct key k;
	int rc, rs;
	uint8_t *src = malloc(total), *dst_cli = calloc(1, total), *dst_srv = calloc(1, total);
	struct iovec *data = calloc(NVMF_CONN_TX_BATCH_IOV, sizeof(*data));
	struct txrec *t = calloc(1, sizeof(*t));
	int cnt = 0, want = 1;
	size_t off = 0;

	make_key(&k, 2, 1);
	pair_handshake(&p, &k, &k, rec, 16384, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 12));
	while (off < total) {
		size_t l = sizes[cnt % 10];

		if (l > total - off)
			l = total - off;
		data[cnt].iov_base = src + off;
		data[cnt].iov_len = l;
		off += l;
		cnt++;
	}
	assert_true(cnt < NVMF_CONN_TX_BATCH_IOV - 4);
	/* server to host */
	p.cli.dest = dst_cli;
	t->tx.iov = t->iov;
	assert_int_equal(nvmf_conn_queue(&p.srv.conn, &t->tx,
					 nvmf_pdu_c2h_data(&t->out, &p.srv.conn.txcfg, 1, 0,
							   NVME_TCP_F_DATA_LAST, data, cnt, t->iov,
							   NVMF_CONN_TX_BATCH_IOV)), 0);
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), NVMF_CONN_BLOCKED);
	pump(&p.srv, &p.cli, have_pdus, &want);
	assert_int_equal(p.cli.last_type, NVME_TCP_C2H_DATA);
	assert_memory_equal(dst_cli, src, total);
	assert_false(nvmf_conn_tx_pending(&p.srv.conn));
	/* and back */
	p.srv.dest = dst_srv;
	memset(t, 0, sizeof(*t));
	t->tx.iov = t->iov;
	assert_int_equal(nvmf_conn_queue(&p.cli.conn, &t->tx,
					 nvmf_pdu_h2c_data(&t->out, &p.cli.conn.txcfg, 1, 1, 0, true,
							   data, cnt, t->iov,
							   NVMF_CONN_TX_BATCH_IOV)), 0);
	pump(&p.cli, &p.srv, have_pdus, &want);
	assert_memory_equal(dst_srv, src, total);
	assert_int_equal(p.srv.conn.rx_bytes, 24 + total);
	pair_close(&p);
	free(src);
	free(dst_cli);
	free(dst_srv);
	free(data);
	free(t);
}

/* Does this kernel have TLS?  (The ULP is set on a throw-away TCP pair.) */
static inline bool kernel_tls(void)
{
	int a, b;
	bool ok;

	tcp_pair(&a, &b, 0);
	ok = setsockopt(a, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) == 0;
	close(a);
	close(b);
	return ok;
}

#endif
