/*
 * TLS 1.3 PSK socket ops of the connection layer (src/conn/tls.c, sock_tls.c, ktls.c) over
 * loopback TCP, both ends non-blocking and driven by this one thread: handshakes with
 * SHA-256 and SHA-384 PSKs and v0/v1 identities, refusals (unknown identity, wrong PSK,
 * TLS 1.2, plain NVMe/TCP, a peer that goes away mid-handshake), PDUs both ways through
 * nvmf_conn (a 1 MiB payload in odd-sized iovecs with partial writes, thousands of small
 * PDUs, the records of a flush in one write and held while the socket is full), bytes
 * OpenSSL holds that the fd does not announce, no NewSessionTicket, a KeyUpdate,
 * close_notify; the kTLS key schedule against RFC 8448 and the choice of record path.
 * The kernel record path is test_ktls.
 *
 * The peers that must not be our own code (a TLS 1.2 client, a client that watches every
 * message) are plain OpenSSL with its TLS 1.2-style PSK callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn/tls_int.h"
#include "tls_test_util.h"

static void handshake_ok(unsigned hmac, unsigned version, const char *suite)
{
	struct pair p;
	struct key k;
	int rc, rs;

	make_key(&k, hmac, version);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_string_equal(nvmf_tls_cipher(&p.cli.conn), suite);
	assert_string_equal(nvmf_tls_cipher(&p.srv.conn), suite);
	/* the identity reached the lookup whole, and is what the server reports */
	assert_int_equal(p.tab.seen_len, strlen(k.identity));
	assert_string_equal(p.tab.seen, k.identity);
	assert_string_equal(nvmf_tls_identity(&p.srv.conn), k.identity);
	assert_string_equal(nvmf_tls_identity(&p.cli.conn), k.identity);
	assert_int_equal(nvmf_tls_record_mode(&p.cli.conn), NVMF_TLS_RECORD_USER);
	assert_int_equal(nvmf_tls_record_mode(&p.srv.conn), NVMF_TLS_RECORD_USER);
	assert_string_equal(nvmf_tls_error(&p.srv.conn), "");
	/* done stays done */
	assert_int_equal(nvmf_tls_handshake(&p.cli.conn), 0);
	pair_close(&p);
}

static void handshake_sha256_v0(void **state)
{
	(void)state;
	handshake_ok(1, 0, "TLS_AES_128_GCM_SHA256");
}

static void handshake_sha384_v1(void **state)
{
	(void)state;
	handshake_ok(2, 1, "TLS_AES_256_GCM_SHA384");
}

static void handshake_sha256_v1_sha384_v0(void **state)
{
	(void)state;
	handshake_ok(1, 1, "TLS_AES_128_GCM_SHA256");
	handshake_ok(2, 0, "TLS_AES_256_GCM_SHA384");
}

static void unknown_identity(void **state)
{
	struct pair p;
	struct key k, other;
	int rc, rs;

	(void)state;
	make_key(&k, 1, 1);
	make_key(&other, 1, 1);
	other.identity[9] ^= 1; /* a different host */
	pair_handshake(&p, &k, &other, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rs, -EACCES);
	assert_true(rc < 0);
	assert_int_equal(rc, -EACCES);
	assert_string_equal(p.tab.seen, k.identity);
	assert_non_null(strstr(nvmf_tls_error(&p.srv.conn), "no PSK"));
	print_message("# server: %s; client: %s\n", nvmf_tls_error(&p.srv.conn),
		      nvmf_tls_error(&p.cli.conn));
	/* the data ops refuse an unfinished connection; the result repeats */
	assert_int_equal(nvmf_tls_handshake(&p.srv.conn), -EACCES);
	pair_close(&p);
}

static void wrong_psk(void **state)
{
	struct pair p;
	struct key k, bad;
	int rc, rs;

	(void)state;
	make_key(&k, 2, 0);
	bad = k;
	bad.psk[0] ^= 0x80;
	pair_handshake(&p, &bad, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rs, -EACCES);
	assert_true(rc < 0);
	print_message("# server: %s; client: %s (%d)\n", nvmf_tls_error(&p.srv.conn),
		      nvmf_tls_error(&p.cli.conn), rc);
	assert_string_not_equal(nvmf_tls_error(&p.cli.conn), "");
	pair_close(&p);
}

/* A SHA-256 identity whose key the server holds as SHA-384: the suites cannot agree. */
static void hash_mismatch(void **state)
{
	struct pair p;
	struct key k, k384;
	int rc, rs;

	(void)state;
	make_key(&k, 1, 0);
	make_key(&k384, 2, 0);
	memcpy(k384.identity, k.identity, sizeof(k.identity));
	pair_handshake(&p, &k, &k384, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rs, -EACCES);
	assert_true(rc < 0);
	print_message("# server: %s\n", nvmf_tls_error(&p.srv.conn));
	pair_close(&p);
}

static void bad_starts(void **state)
{
	struct end e;
	int fc, fs;
	struct key k;
	struct nvmf_tls_client_cfg ccfg;
	struct nvmf_tls_server_cfg scfg = { 0 };
	uint8_t buf[8];

	(void)state;
	make_key(&k, 1, 0);
	tcp_pair(&fc, &fs, 0);
	end_init(&e, fc, false);
	ccfg = (struct nvmf_tls_client_cfg){ .identity = k.identity, .psk = k.psk,
					     .psk_len = 48, .hash = 1 };
	assert_int_equal(nvmf_tls_client_start(&e.conn, &ccfg), -EINVAL); /* length != hash */
	ccfg.psk_len = 32;
	ccfg.identity = "";
	assert_int_equal(nvmf_tls_client_start(&e.conn, &ccfg), -EINVAL);
	assert_int_equal(nvmf_tls_server_start(&e.conn, &scfg), -EINVAL); /* no lookup */
	assert_false(nvmf_conn_is_tls(&e.conn));
	assert_int_equal(nvmf_tls_handshake(&e.conn), -EINVAL);
	ccfg.identity = k.identity;
	assert_int_equal(nvmf_tls_client_start(&e.conn, &ccfg), 0);
	assert_true(nvmf_conn_is_tls(&e.conn));
	/* started twice, or data before the handshake */
	assert_int_equal(nvmf_tls_client_start(&e.conn, &ccfg), -EINVAL);
	assert_int_equal(e.conn.sock->recv(&e.conn, buf, sizeof(buf)), -ENOTCONN);
	assert_null(nvmf_tls_cipher(&e.conn));
	nvmf_conn_close(&e.conn);
	/* a closed conn answers queries without its state */
	assert_null(nvmf_tls_cipher(&e.conn));
	assert_string_equal(nvmf_tls_error(&e.conn), "");
	close(fs);
}

static void tls12_client_refused(void **state)
{
	struct end srv;
	struct keytab tab = { 0 };
	struct key k;
	int fc, fs, rc, rs;
	SSL *ssl;
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &tab };

	(void)state;
	make_key(&k, 1, 0);
	tab.key = &k;
	tcp_pair(&fc, &fs, 0);
	end_init(&srv, fs, true);
	assert_int_equal(nvmf_tls_server_start(&srv.conn, &scfg), 0);
	ssl = raw_client(fc, &k, TLS1_2_VERSION, NULL);
	drive_raw(ssl, &srv, &rc, &rs);
	assert_int_equal(rs, -EPROTO);
	assert_true(rc != 1);
	assert_int_equal(tab.calls, 0);
	print_message("# server: %s\n", nvmf_tls_error(&srv.conn));
	SSL_free(ssl);
	close(fc);
	nvmf_conn_close(&srv.conn);
}

/*
 * After the handshake the first record the client gets is the server's data: no
 * NewSessionTicket (the Linux host takes anything else for an error).
 */
static void no_session_ticket(void **state)
{
	struct end srv;
	struct keytab tab = { 0 };
	struct key k;
	struct seen seen = { 0 };
	int fc, fs, rc, rs, nhs, ninner;
	SSL *ssl;
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &tab };
	struct nvmf_conn_tx tx = { 0 };
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	uint8_t got[128];
	size_t n = 0;

	(void)state;
	make_key(&k, 1, 0); /* SHA-256: what the raw client's callback can do */
	tab.key = &k;
	tcp_pair(&fc, &fs, 0);
	end_init(&srv, fs, true);
	assert_int_equal(nvmf_tls_server_start(&srv.conn, &scfg), 0);
	ssl = raw_client(fc, &k, TLS1_3_VERSION, &seen);
	drive_raw(ssl, &srv, &rc, &rs);
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 0);
	nhs = seen.nhs;
	ninner = seen.ninner;
	/* the server answers as to an ICReq */
	tx.iov = iov;
	assert_int_equal(nvmf_conn_queue(&srv.conn, &tx, nvmf_pdu_icresp(&out, 0, 0, 131072,
									iov, 4)), 0);
	assert_int_equal(nvmf_conn_flush(&srv.conn), 0);
	while (n < 128) {
		size_t r = 0;

		if (SSL_read_ex(ssl, got + n, sizeof(got) - n, &r))
			n += r;
		else
			assert_true(wait2(fc, POLLIN, -1, 0));
	}
	assert_int_equal(got[0], NVME_TCP_ICRESP);
	/* nothing but the data came after the handshake */
	for (int i = 0; i < seen.nhs; i++)
		assert_int_not_equal(seen.hs[i], SSL3_MT_NEWSESSION_TICKET);
	assert_int_equal(seen.nhs, nhs);
	assert_true(seen.ninner > ninner);
	assert_int_equal(seen.inner[ninner], SSL3_RT_APPLICATION_DATA);
	SSL_free(ssl);
	close(fc);
	nvmf_conn_close(&srv.conn);
}

/* A peer that speaks plain NVMe/TCP to a TLS port gets refused, not waited for. */
static void plain_icreq_to_tls_server(void **state)
{
	struct end srv;
	struct keytab tab = { 0 };
	struct key k;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	int fc, fs, rs = 1;
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &tab };

	(void)state;
	make_key(&k, 1, 0);
	tab.key = &k;
	tcp_pair(&fc, &fs, 0);
	end_init(&srv, fs, true);
	assert_int_equal(nvmf_tls_server_start(&srv.conn, &scfg), 0);
	assert_int_equal(nvmf_pdu_icreq(&out, 0, 0, 0, iov, 4), 1);
	assert_int_equal(write(fc, iov[0].iov_base, iov[0].iov_len), 128);
	for (int i = 0; i < 100 && rs > 0; i++) {
		rs = nvmf_tls_handshake(&srv.conn);
		if (rs > 0)
			assert_true(wait2(fs, want_events(rs), -1, 0));
	}
	assert_int_equal(rs, -EPROTO);
	print_message("# server: %s\n", nvmf_tls_error(&srv.conn));
	close(fc);
	nvmf_conn_close(&srv.conn);
}

/* Each side's peer goes away mid-handshake: an error, not a hang. */
static void peer_closes_mid_handshake(void **state)
{
	struct end e;
	struct keytab tab = { 0 };
	struct key k;
	int fc, fs, r = 1;
	uint8_t buf[512];
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &tab };
	struct nvmf_tls_client_cfg ccfg;

	(void)state;
	make_key(&k, 2, 1);
	tab.key = &k;
	/* the client sent its ClientHello, the server reads it and is gone */
	tcp_pair(&fc, &fs, 0);
	end_init(&e, fc, false);
	ccfg = (struct nvmf_tls_client_cfg){ .identity = k.identity, .psk = k.psk,
					     .psk_len = k.len, .hash = k.hash };
	assert_int_equal(nvmf_tls_client_start(&e.conn, &ccfg), 0);
	assert_int_equal(nvmf_tls_handshake(&e.conn), NVMF_TLS_WANT_READ);
	assert_true(wait2(fs, POLLIN, -1, 0));
	assert_true(read(fs, buf, sizeof(buf)) > 0);
	close(fs);
	for (int i = 0; i < 100 && r > 0; i++) {
		r = nvmf_tls_handshake(&e.conn);
		if (r > 0)
			assert_true(wait2(fc, want_events(r), -1, 0));
	}
	assert_true(r == -ECONNRESET || r == -EPIPE);
	print_message("# client: %s\n", nvmf_tls_error(&e.conn));
	nvmf_conn_close(&e.conn);

	/* the server got half a ClientHello, then the client closed */
	tcp_pair(&fc, &fs, 0);
	end_init(&e, fs, true);
	assert_int_equal(nvmf_tls_server_start(&e.conn, &scfg), 0);
	assert_int_equal(write(fc, "\x16\x03\x01\x01\x00\x01", 6), 6);
	assert_int_equal(nvmf_tls_handshake(&e.conn), NVMF_TLS_WANT_READ);
	close(fc);
	r = 1;
	for (int i = 0; i < 100 && r > 0; i++) {
		r = nvmf_tls_handshake(&e.conn);
		if (r > 0)
			assert_true(wait2(fs, want_events(r), -1, 0));
	}
	assert_int_equal(r, -ECONNRESET);
	print_message("# server: %s\n", nvmf_tls_error(&e.conn));
	nvmf_conn_close(&e.conn);
}

static void large_writev_user(void **state)
{
	(void)state;
	data_large_both_ways(NVMF_TLS_RECORD_USER);
}

/* Thousands of small PDUs each way, queued at once: gathered into few records. */
static void many_small_pdus(void **state)
{
	enum { N = 3000 };
	struct pair p;
	struct key k;
	int rc, rs, want = N;
	struct smallrec *t = calloc(N, sizeof(*t));
	struct nvme_sqe sqe = { 0 };

	(void)state;
	make_key(&k, 1, 0);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	for (int i = 0; i < N; i++) {
		sqe.cid = htole16((uint16_t)i);
		t[i].tx.iov = t[i].iov;
		assert_int_equal(nvmf_conn_queue(&p.cli.conn, &t[i].tx,
						 nvmf_pdu_cmd(&t[i].out, &p.cli.conn.txcfg, &sqe, NULL,
							      0, t[i].iov, 4)), 0);
	}
	pump(&p.cli, &p.srv, have_pdus, &want);
	assert_int_equal(p.srv.pdus, N);
	assert_int_equal(p.srv.last_type, NVME_TCP_CMD);
	assert_int_equal(p.srv.conn.rx_bytes, (uint64_t)N * 72);
	queue_rsps(&p.srv, t, N);
	pump(&p.srv, &p.cli, have_pdus, &want);
	assert_int_equal(p.cli.pdus, N);
	assert_int_equal(p.cli.last_type, NVME_TCP_RSP);
	pair_close(&p);
	free(t);
}

/* BIO callback: count the writes that reach the socket BIO (each one a write()). */
static long count_writes(BIO *b, int oper, const char *argp, size_t len, int argi,
			 long argl, int ret, size_t *processed)
{
	(void)argp;
	(void)len;
	(void)argi;
	(void)argl;
	(void)processed;
	if (oper == (BIO_CB_WRITE | BIO_CB_RETURN))
		++*(int *)BIO_get_callback_arg(b);
	return ret;
}

/* Queue one C2HData of len bytes of src on e. */
static void queue_c2h(struct end *e, struct txrec *t, uint8_t *src, size_t len)
{
	struct iovec data = { src, len };

	memset(t, 0, sizeof(*t));
	t->tx.iov = t->iov;
	assert_int_equal(nvmf_conn_queue(&e->conn, &t->tx,
					 nvmf_pdu_c2h_data(&t->out, &e->conn.txcfg, 1, 0,
							   NVME_TCP_F_DATA_LAST, &data, 1, t->iov,
							   NVMF_CONN_TX_BATCH_IOV)), 0);
}

/*
 * The records of one writev leave in one write(): a 48 KiB C2HData, four records, is one
 * write on the socket, not four.  Where the socket has no room, the records wait: the
 * PDU is retired (its bytes are in records), the flush says BLOCKED, output is pending
 * with an empty queue, and every byte arrives once the peer reads.
 */
static void records_in_one_write(void **state)
{
	enum { LEN = 48 << 10 };
	struct pair p;
	struct key k;
	int rc, rs, writes = 0, want = 1;
	uint8_t *src = malloc(LEN), *dst = calloc(1, LEN);
	struct txrec *t = calloc(1, sizeof(*t));
	BIO *sock;

	(void)state;
	assert_true(24 + LEN + 4 * 22 <= TLS_OUT_BUF);
	for (size_t i = 0; i < LEN; i++)
		src[i] = (uint8_t)(i * 13 + (i >> 10));
	make_key(&k, 1, 0);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	sock = BIO_next(tls_of(&p.srv.conn)->out);
	assert_non_null(sock);
	BIO_set_callback_arg(sock, (char *)&writes);
	BIO_set_callback_ex(sock, count_writes);
	p.cli.dest = dst;
	queue_c2h(&p.srv, t, src, LEN);
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), 0);
	assert_int_equal(writes, 1);
	assert_false(nvmf_conn_tx_pending(&p.srv.conn));
	pump(&p.srv, &p.cli, have_pdus, &want);
	assert_memory_equal(dst, src, LEN);
	BIO_set_callback_ex(sock, NULL);
	pair_close(&p);

	/* the smallest socket buffers: 48 KiB of records do not fit */
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 4096, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	memset(dst, 0, LEN);
	p.cli.dest = dst;
	queue_c2h(&p.srv, t, src, LEN);
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), NVMF_CONN_BLOCKED);
	assert_null(p.srv.conn.tx_head);
	assert_true(nvmf_conn_tx_pending(&p.srv.conn));
	/* held output goes first: a flush before the socket has room sends nothing new */
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), NVMF_CONN_BLOCKED);
	pump(&p.srv, &p.cli, have_pdus, &want);
	assert_memory_equal(dst, src, LEN);
	assert_false(nvmf_conn_tx_pending(&p.srv.conn));
	pair_close(&p);
	free(src);
	free(dst);
	free(t);
}

/* Wait until fd's receive queue holds n bytes. */
static void wait_queued(int fd, int n)
{
	int q = 0;

	for (int i = 0; i < 2000; i++) {
		assert_int_equal(ioctl(fd, FIONREAD, &q), 0);
		if (q >= n)
			break;
		usleep(1000);
	}
	assert_int_equal(q, n);
}

/*
 * A receive whose staging buffer fills in the middle of the last record: OpenSSL holds
 * the record's rest, decrypted, and the socket is empty, so the fd will not say so.
 * has_buffered does, and receiving on it (without waiting for the fd) gets every PDU.
 * The writer makes one record of each writev, NVMF_CONN_TX_BATCH_IOV responses (12 KiB):
 * six of them, and the sixth crosses the end of the 64 KiB staging buffer.
 */
static void buffered_bytes_not_stranded(void **state)
{
	enum { REC = NVMF_CONN_TX_BATCH_IOV, N = 6 * REC, OVERHEAD = 5 + 1 + 16 };
	struct pair p;
	struct key k;
	int rc, rs;
	struct smallrec *t = calloc(N, sizeof(*t));
	int q = -1;

	(void)state;
	assert_true(5 * REC * 24 < NVMF_CONN_STAGING && N * 24 > NVMF_CONN_STAGING);
	make_key(&k, 1, 0);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	queue_rsps(&p.srv, t, N);
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), 0);
	wait_queued(p.cli.conn.fd, N * 24 + 6 * OVERHEAD);
	assert_int_equal(nvmf_conn_receive(&p.cli.conn, 1), NVMF_CONN_MORE);
	assert_int_equal(p.cli.conn.rx_bytes, NVMF_CONN_STAGING);
	assert_int_equal(ioctl(p.cli.conn.fd, FIONREAD, &q), 0);
	assert_int_equal(q, 0);
	assert_true(nvmf_conn_has_buffered(&p.cli.conn));
	while (nvmf_conn_has_buffered(&p.cli.conn))
		assert_true(nvmf_conn_receive(&p.cli.conn, 1) >= 0);
	assert_int_equal(p.cli.pdus, N);
	assert_int_equal(nvmf_conn_receive(&p.cli.conn, 4), NVMF_CONN_DRAINED);
	assert_false(nvmf_conn_has_buffered(&p.cli.conn));

	/* a pause keeps the rest: has_buffered says so too */
	p.cli.pause_after = 1;
	queue_rsps(&p.srv, t, 2);
	assert_int_equal(nvmf_conn_flush(&p.srv.conn), 0);
	wait_queued(p.cli.conn.fd, 2 * 24 + OVERHEAD);
	assert_int_equal(nvmf_conn_receive(&p.cli.conn, 4), NVMF_CONN_PAUSED);
	assert_true(nvmf_conn_has_buffered(&p.cli.conn));
	assert_int_equal(nvmf_conn_receive(&p.cli.conn, 4), NVMF_CONN_PAUSED);
	assert_int_equal(p.cli.pdus, N + 2);
	pair_close(&p);
	free(t);
}

/* close_notify ends the peer's stream as a TCP FIN would. */
static void close_notify_is_eof(void **state)
{
	struct pair p;
	struct key k;
	int rc, rs, r = 0;

	(void)state;
	make_key(&k, 1, 0);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_USER, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	nvmf_conn_close(&p.cli.conn);
	for (int i = 0; i < 100; i++) {
		r = nvmf_conn_receive(&p.srv.conn, 4);
		if (r != NVMF_CONN_DRAINED)
			break;
		assert_true(wait2(p.srv.conn.fd, POLLIN, -1, 0));
	}
	assert_int_equal(r, -ENOTCONN);
	/* a write to a closed peer fails, it does not hang */
	nvmf_conn_close(&p.srv.conn);
}

/*
 * The peer updates its keys and asks for ours (RFC 8446 4.6.3): OpenSSL answers inside
 * the read; data goes on both ways.
 */
static void key_update(void **state)
{
	struct end srv;
	struct keytab tab = { 0 };
	struct key k;
	int fc, fs, rc, rs, want = 1;
	SSL *ssl;
	struct nvmf_tls_server_cfg scfg = { .find_psk = find_psk, .arg = &tab };
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_sqe sqe = { 0 };
	struct nvme_cqe cqe = { 0 };
	struct nvmf_conn_tx tx = { 0 };
	uint8_t got[24];
	size_t n = 0;
	int cnt;

	(void)state;
	make_key(&k, 1, 0);
	tab.key = &k;
	tcp_pair(&fc, &fs, 0);
	end_init(&srv, fs, true);
	assert_int_equal(nvmf_tls_server_start(&srv.conn, &scfg), 0);
	ssl = raw_client(fc, &k, TLS1_3_VERSION, NULL);
	drive_raw(ssl, &srv, &rc, &rs);
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 0);
	assert_int_equal(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), 1);
	cnt = nvmf_pdu_cmd(&out, &srv.conn.txcfg, &sqe, NULL, 0, iov, 4);
	assert_int_equal(cnt, 1);
	assert_int_equal(SSL_write(ssl, iov[0].iov_base, (int)iov[0].iov_len), 72);
	for (int i = 0; i < 100 && srv.pdus < want; i++) {
		assert_true(nvmf_conn_receive(&srv.conn, 4) >= 0);
		assert_true(nvmf_conn_flush(&srv.conn) >= 0);
		if (srv.pdus < want)
			assert_true(wait2(fs, POLLIN, -1, 0));
	}
	assert_int_equal(srv.pdus, 1);
	tx.iov = iov;
	assert_int_equal(nvmf_conn_queue(&srv.conn, &tx, nvmf_pdu_rsp(&out, &srv.conn.txcfg, &cqe,
								     iov, 4)), 0);
	assert_int_equal(nvmf_conn_flush(&srv.conn), 0);
	while (n < sizeof(got)) {
		size_t r = 0;

		if (SSL_read_ex(ssl, got + n, sizeof(got) - n, &r))
			n += r;
		else
			assert_true(wait2(fc, POLLIN, -1, 0));
	}
	assert_int_equal(got[0], NVME_TCP_RSP);
	SSL_free(ssl);
	close(fc);
	nvmf_conn_close(&srv.conn);
}

/* ------------------------------------------------------------------ kTLS */

/* The record keys of RFC 8448 section 3 (server application traffic, AES-128-GCM). */
static void ktls_key_schedule(void **state)
{
	static const uint8_t secret[32] = {
		0xa1, 0x1a, 0xf9, 0xf0, 0x55, 0x31, 0xf8, 0x56, 0xad, 0x47, 0x11,
		0x6b, 0x45, 0xa9, 0x50, 0x32, 0x82, 0x04, 0xb4, 0xf4, 0x4b, 0xfb,
		0x6b, 0x3a, 0x4b, 0x4f, 0x1f, 0x3f, 0xcb, 0x63, 0x16, 0x43,
	};
	static const uint8_t key[16] = { 0x9f, 0x02, 0x28, 0x3b, 0x6c, 0x9c, 0x07, 0xef,
					 0xc2, 0x6b, 0xb9, 0xf2, 0xac, 0x92, 0xe3, 0x56 };
	static const uint8_t salt[4] = { 0xcf, 0x78, 0x2b, 0x88 };
	static const uint8_t iv[8] = { 0xdd, 0x83, 0x54, 0x9a, 0xad, 0xf1, 0xe9, 0x84 };
	static const uint8_t zero[8];
	union ktls_crypto_info info;
	socklen_t len = 0;
	struct tls_state st = { 0 };
	char line[300];

	(void)state;
	assert_int_equal(ktls_crypto_info(0x1301, secret, 32, &info, &len), 0);
	assert_int_equal(len, sizeof(info.gcm128));
	assert_int_equal(info.gcm128.info.version, TLS_1_3_VERSION);
	assert_int_equal(info.gcm128.info.cipher_type, TLS_CIPHER_AES_GCM_128);
	assert_memory_equal(info.gcm128.key, key, 16);
	assert_memory_equal(info.gcm128.salt, salt, 4);
	assert_memory_equal(info.gcm128.iv, iv, 8);
	assert_memory_equal(info.gcm128.rec_seq, zero, 8);
	/* the keylog line carries the secret in hex */
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %064d ", 0);
	for (int i = 0; i < 32; i++)
		snprintf(line + strlen(line), 3, "%02x", secret[i]);
	ktls_keylog(&st, line);
	assert_int_equal(st.secret_server_len, 32);
	assert_memory_equal(st.secret_server, secret, 32);
	assert_int_equal(st.secret_client_len, 0);
	/* SHA-384: a 48-byte secret gives an AES-256 key; lengths must match the suite */
	assert_int_equal(ktls_crypto_info(0x1302, secret, 32, &info, &len), -EINVAL);
	assert_int_equal(ktls_crypto_info(0x1303, secret, 32, &info, &len), -EOPNOTSUPP);
}

/* Without the kernel's tls module AUTO falls back to user space and KERNEL fails; with it
 * AUTO takes the kernel (test_ktls covers that path). */
static void record_choice(void **state)
{
	struct pair p;
	struct key k;
	int rc, rs;
	bool kernel = kernel_tls();

	(void)state;
	make_key(&k, 1, 0);
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_AUTO, 0, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_int_equal(nvmf_tls_record_mode(&p.cli.conn),
			 kernel ? NVMF_TLS_RECORD_KERNEL : NVMF_TLS_RECORD_USER);
	assert_int_equal(nvmf_tls_record_mode(&p.srv.conn),
			 kernel ? NVMF_TLS_RECORD_KERNEL : NVMF_TLS_RECORD_USER);
	pair_close(&p);
	if (kernel)
		return;
	pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_KERNEL, 0, &rc, &rs);
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_int_equal(rs, -EOPNOTSUPP);
	assert_non_null(strstr(nvmf_tls_error(&p.srv.conn), "TCP_ULP"));
	print_message("# %s\n", nvmf_tls_error(&p.srv.conn));
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_sha256_v0),
		cmocka_unit_test(handshake_sha384_v1),
		cmocka_unit_test(handshake_sha256_v1_sha384_v0),
		cmocka_unit_test(unknown_identity),
		cmocka_unit_test(wrong_psk),
		cmocka_unit_test(hash_mismatch),
		cmocka_unit_test(bad_starts),
		cmocka_unit_test(tls12_client_refused),
		cmocka_unit_test(no_session_ticket),
		cmocka_unit_test(plain_icreq_to_tls_server),
		cmocka_unit_test(peer_closes_mid_handshake),
		cmocka_unit_test(large_writev_user),
		cmocka_unit_test(many_small_pdus),
		cmocka_unit_test(records_in_one_write),
		cmocka_unit_test(buffered_bytes_not_stranded),
		cmocka_unit_test(close_notify_is_eof),
		cmocka_unit_test(key_update),
		cmocka_unit_test(ktls_key_schedule),
		cmocka_unit_test(record_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
