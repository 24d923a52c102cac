/*
 * The kernel record path of the TLS socket ops (src/conn/ktls.c), on a kernel with the
 * `tls` module (the project's qemu guest; this test skips itself elsewhere): both ends in
 * the kernel with either suite and 1 MiB both ways, a kernel end against a user-space
 * end (close_notify becomes the end of the stream), and a kernel client that skips the
 * NewSessionTickets a plain OpenSSL server sends before its data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tls_test_util.h"

/* The kernel's record path: both ends in the kernel, data both ways, the suites. */
static void ktls_both_ends(void **state)
{
	struct pair p;
	struct key k;
	int rc, rs;

	(void)state;
	for (unsigned hmac = 1; hmac <= 2; hmac++) {
		make_key(&k, hmac, 1);
		pair_handshake(&p, &k, &k, NVMF_TLS_RECORD_KERNEL, 0, &rc, &rs);
		assert_int_equal(rc, 0);
		assert_int_equal(rs, 0);
		assert_int_equal(nvmf_tls_record_mode(&p.cli.conn), NVMF_TLS_RECORD_KERNEL);
		assert_int_equal(nvmf_tls_record_mode(&p.srv.conn), NVMF_TLS_RECORD_KERNEL);
		pair_close(&p);
	}
	data_large_both_ways(NVMF_TLS_RECORD_KERNEL);
}

/* A kernel end against a user-space end (what our target meets in a Linux host). */
static void ktls_against_user(void **state)
{
	struct pair p;
	struct key k;
	int rc, rs, r = 0, want = 1;
	struct txrec t = { 0 };
	struct nvme_cqe cqe = { 0 };
	struct nvme_sqe sqe = { 0 };
	struct nvmf_tls_server_cfg scfg;
	struct nvmf_tls_client_cfg ccfg;
	int fc, fs;

	(void)state;
	make_key(&k, 2, 0);
	memset(&p.tab, 0, sizeof(p.tab));
	p.tab.key = &k;
	scfg = (struct nvmf_tls_server_cfg){ .find_psk = find_psk, .arg = &p.tab,
					     .record = NVMF_TLS_RECORD_KERNEL };
	ccfg = (struct nvmf_tls_client_cfg){ .identity = k.identity, .psk = k.psk,
					     .psk_len = k.len, .hash = k.hash,
					     .record = NVMF_TLS_RECORD_USER };
	tcp_pair(&fc, &fs, 0);
	end_init(&p.cli, fc, false);
	end_init(&p.srv, fs, true);
	assert_int_equal(nvmf_tls_client_start(&p.cli.conn, &ccfg), 0);
	assert_int_equal(nvmf_tls_server_start(&p.srv.conn, &scfg), 0);
	drive(&p.cli, &p.srv, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_int_equal(nvmf_tls_record_mode(&p.srv.conn), NVMF_TLS_RECORD_KERNEL);
	t.tx.iov = t.iov;
	assert_int_equal(nvmf_conn_queue(&p.srv.conn, &t.tx,
					 nvmf_pdu_rsp(&t.out, &p.srv.conn.txcfg, &cqe, t.iov, 4)),
			 0);
	pump(&p.srv, &p.cli, have_pdus, &want);
	memset(&t, 0, sizeof(t));
	t.tx.iov = t.iov;
	assert_int_equal(nvmf_conn_queue(&p.cli.conn, &t.tx,
					 nvmf_pdu_cmd(&t.out, &p.cli.conn.txcfg, &sqe, NULL, 0, t.iov,
						      4)),
			 0);
	pump(&p.cli, &p.srv, have_pdus, &want);
	/* the user-space end closes with close_notify: the kernel end sees the end */
	nvmf_conn_close(&p.cli.conn);
	for (int i = 0; i < 100; i++) {
		r = nvmf_conn_receive(&p.srv.conn, 4);
		if (r != NVMF_CONN_DRAINED)
			break;
		assert_true(wait2(p.srv.conn.fd, POLLIN, -1, 0));
	}
	assert_int_equal(r, -ENOTCONN);
	nvmf_conn_close(&p.srv.conn);
}

/* A plain OpenSSL server (tickets on, as by default) for our kernel client. */
static unsigned int raw_server_psk(SSL *ssl, const char *identity, unsigned char *psk,
				   unsigned int max_psk_len)
{
	const struct key *k = SSL_get_app_data(ssl);

	if (strcmp(identity, k->identity) || k->len > max_psk_len)
		return 0;
	memcpy(psk, k->psk, k->len);
	return (unsigned)k->len;
}

static void ktls_client_skips_tickets(void **state)
{
	struct end cli;
	struct key k;
	int fc, fs, rc = 1, rs = -1, want = 1;
	bool srv_wait = true;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvmf_tls_client_cfg ccfg;

	(void)state;
	make_key(&k, 1, 0);
	assert_non_null(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set_num_tickets(ctx, 2);
	SSL_CTX_set_psk_server_callback(ctx, raw_server_psk);
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	tcp_pair(&fc, &fs, 0);
	SSL_set_app_data(ssl, &k);
	SSL_set_fd(ssl, fs);
	SSL_set_accept_state(ssl);
	end_init(&cli, fc, false);
	ccfg = (struct nvmf_tls_client_cfg){ .identity = k.identity, .psk = k.psk,
					     .psk_len = k.len, .hash = k.hash,
					     .record = NVMF_TLS_RECORD_KERNEL };
	assert_int_equal(nvmf_tls_client_start(&cli.conn, &ccfg), 0);
	for (int i = 0; i < 1000 && (srv_wait || rc > 0); i++) {
		if (rc > 0)
			rc = nvmf_tls_handshake(&cli.conn);
		if (srv_wait) {
			rs = SSL_do_handshake(ssl);
			srv_wait = rs != 1 && SSL_get_error(ssl, rs) == SSL_ERROR_WANT_READ;
		}
		if (!srv_wait && rc <= 0)
			break;
		assert_true(wait2(rc > 0 ? fc : -1, want_events(rc), srv_wait ? fs : -1, POLLIN));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 1);
	assert_int_equal(nvmf_tls_record_mode(&cli.conn), NVMF_TLS_RECORD_KERNEL);
	/* the tickets went out with the handshake; then the ICResp */
	assert_int_equal(nvmf_pdu_icresp(&out, 0, 0, 131072, iov, 4), 1);
	assert_int_equal(SSL_write(ssl, iov[0].iov_base, (int)iov[0].iov_len), 128);
	cli.conn.rx.ic_done = false;
	for (int i = 0; i < 100 && cli.pdus < want; i++) {
		assert_true(nvmf_conn_receive(&cli.conn, 4) >= 0);
		if (cli.pdus < want)
			assert_true(wait2(fc, POLLIN, -1, 0));
	}
	assert_int_equal(cli.pdus, 1);
	assert_int_equal(cli.last_type, NVME_TCP_ICRESP);
	SSL_free(ssl);
	close(fs);
	nvmf_conn_close(&cli.conn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ktls_both_ends),
		cmocka_unit_test(ktls_against_user),
		cmocka_unit_test(ktls_client_skips_tickets),
	};

	if (!kernel_tls()) {
		/* TAP: the whole test is skipped (meson counts it so) */
		printf("1..0 # SKIP no kernel TLS here (setsockopt TCP_ULP \"tls\" fails)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
