/*
 * libnvmf's TLS (src/host/tls.c and the QP_TLS step of qpair.c) against a controller the
 * test plays itself on a real loopback connection, with src/conn's TLS server: the
 * handshake is driven by hq_progress, then ICReq / ICResp and the Connect go inside TLS.
 * Covered: SHA-256 and SHA-384 keys, v0 and v1 identities (the server sees the identity
 * the spec derives), the compat derivation, responses completed one per poll with the fd
 * announcing the rest, a PSK the controller refuses (a quick
 * -EKEYREJECTED that reconnecting gives up on), a controller that never answers the
 * ClientHello (-ETIMEDOUT after the step deadline, every poll returning at once), and the
 * TLS options of nvmf_ctrl_connect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "host/host.h"
#include "tls_test_util.h"

/* libnvme's test vector (test/psk.c) */
#define VEC_KEY "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"

struct stub {
	int lfd;                     /* non-blocking: accepted once the host connects */
	struct nvmf_ctrl *c;
	struct nvmf_qpair q;
	struct end srv;
	bool accepted;
	int srv_rc;                  /* the server's handshake: > 0 waiting, 0 done, < 0 failed */
	bool silent;                 /* never answer: the server does not start TLS */
	struct key skey;             /* what the server knows */
	struct keytab tab;
	struct smallrec icresp, rsp;
	int sent_icresp, sent_rsp;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A controller for qid 0 of the key in interchange form; the host starts connecting. */
static void stub_start(struct stub *s, const char *key, unsigned version, bool compat,
		       unsigned timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->srv_rc = 1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(fcntl(s->lfd, F_SETFL, O_NONBLOCK), 0);

	s->c = calloc(1, sizeof(*s->c));
	nvmf_ctrl_opts_init(&s->c->opts);
	strcpy(s->c->subnqn, SUBNQN);
	strcpy(s->c->hostnqn, HOSTNQN);
	strcpy(s->c->traddr, "127.0.0.1");
	snprintf(s->c->trsvcid, sizeof(s->c->trsvcid), "%u", ntohs(sa.sin_port));
	memcpy(&s->c->addr, &sa, sizeof(sa));
	s->c->addr_len = sizeof(sa);
	s->c->opts.tls_key = key;
	s->c->opts.tls_identity_version = version;
	s->c->opts.tls_compat = compat;
	assert_int_equal(htls_keys_init(s->c, &s->c->opts), 0);
	assert_true(s->c->tls.on);
	assert_int_equal(hq_init(&s->q, s->c, 0, 32), 0);
	assert_int_equal(hq_connect_start(&s->q, NVMF_CNTLID_DYNAMIC, 0, timeout_ms), 0);
}

/* The server knows the key the spec derives from key for this host (or compat). */
static void server_knows(struct stub *s, const char *key, unsigned version,
			 enum nvmf_tls_derive how)
{
	struct nvmf_tls_key k;
	int n;

	assert_int_equal(nvmf_tls_key_parse(key, &k), 0);
	n = nvmf_tls_psk(&k, HOSTNQN, SUBNQN, version, how, s->skey.identity, s->skey.psk);
	assert_true(n > 0);
	s->skey.len = (size_t)n;
	s->skey.hash = nvmf_tls_key_hash(&k);
	s->tab.key = &s->skey;
}

static void server_accept(struct stub *s)
{
	struct nvmf_tls_server_cfg cfg = {
		.find_psk = find_psk, .arg = &s->tab, .record = NVMF_TLS_RECORD_USER,
	};
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return;
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	end_init(&s->srv, fd, true);
	s->srv.conn.rx.ic_done = false; /* the ICReq comes first */
	s->accepted = true;
	if (!s->silent)
		assert_int_equal(nvmf_tls_server_start(&s->srv.conn, &cfg), 0);
}

/* The controller's turn: handshake, then answer the ICReq and the Connect. */
static void server_step(struct stub *s)
{
	int rb;

	if (!s->accepted) {
		server_accept(s);
		return;
	}
	if (s->silent || s->srv_rc < 0)
		return;
	if (s->srv_rc > 0) {
		s->srv_rc = nvmf_tls_handshake(&s->srv.conn);
		if (s->srv_rc > 0)
			return;
	}
	if (s->srv_rc < 0)
		return;
	do
		rb = nvmf_conn_receive(&s->srv.conn, 4);
	while (rb == NVMF_CONN_MORE || (rb >= 0 && nvmf_conn_has_buffered(&s->srv.conn)));
	if (s->srv.pdus >= 1 && !s->sent_icresp) {
		assert_int_equal(s->srv.last_type, NVME_TCP_ICREQ);
		s->icresp.tx.iov = s->icresp.iov;
		assert_int_equal(nvmf_conn_queue(&s->srv.conn, &s->icresp.tx,
						 nvmf_pdu_icresp(&s->icresp.out, 0, 0, 131072,
								 s->icresp.iov, 4)), 0);
		s->sent_icresp = 1;
	}
	if (s->srv.pdus >= 2 && !s->sent_rsp) {
		struct nvme_cqe cqe = { 0 };

		assert_int_equal(s->srv.last_type, NVME_TCP_CMD);
		cqe.cid = htole16((uint16_t)s->q.depth);
		cqe.dw0 = htole32(7); /* the controller ID */
		s->rsp.tx.iov = s->rsp.iov;
		assert_int_equal(nvmf_conn_queue(&s->srv.conn, &s->rsp.tx,
						 nvmf_pdu_rsp(&s->rsp.out, &s->srv.conn.txcfg, &cqe,
							      s->rsp.iov, 4)), 0);
		s->sent_rsp = 1;
	}
	nvmf_conn_flush(&s->srv.conn);
}

/*
 * Both ends take turns until the host's connect ends; every hq_progress must return at
 * once (it never waits for the controller).  The host's result.
 */
static int run(struct stub *s, unsigned limit_ms)
{
	uint64_t start = now_ms();

	while (s->q.connect_rc == -EINPROGRESS) {
		struct pollfd p[2] = { { s->q.epfd, POLLIN, 0 },
				       { s->accepted ? s->srv.conn.fd : s->lfd, POLLIN, 0 } };
		uint64_t t0 = now_ms();

		hq_progress(&s->q, 0);
		assert_true(now_ms() - t0 < 500);
		server_step(s);
		poll(p, 2, 5);
		assert_true(now_ms() - start < limit_ms);
	}
	return s->q.connect_rc;
}

static void stub_close(struct stub *s)
{
	hq_fini(&s->q);
	if (s->accepted)
		nvmf_conn_close(&s->srv.conn);
	close(s->lfd);
	nvmf_dhchap_wipe(&s->c->tls, sizeof(s->c->tls));
	free(s->c);
}

static void connect_ok(const char *key, unsigned version, bool compat, const char *prefix,
		       const char *cipher)
{
	struct stub s;

	stub_start(&s, key, version, compat, 10000);
	server_knows(&s, key, version, compat ? NVMF_TLS_DERIVE_COMPAT : NVMF_TLS_DERIVE_RFC);
	assert_int_equal(run(&s, 10000), 0);
	assert_int_equal(s.q.state, QP_LIVE);
	assert_int_equal(s.c->cntlid, 7);
	/* the identity the controller looked up is the one the spec derives */
	assert_int_equal(s.tab.calls, 1);
	assert_string_equal(s.tab.seen, s.skey.identity);
	assert_memory_equal(s.tab.seen, prefix, strlen(prefix));
	assert_string_equal(nvmf_tls_cipher(&s.srv.conn), cipher);
	assert_string_equal(nvmf_tls_cipher(&s.q.conn), cipher);
	stub_close(&s);
}

static void sha256_v1(void **state)
{
	(void)state;
	connect_ok(VEC_KEY, 1, false, "NVMe1R01 " HOSTNQN " " SUBNQN " ", "TLS_AES_128_GCM_SHA256");
}

static void sha256_v0(void **state)
{
	(void)state;
	connect_ok(VEC_KEY, 0, false, "NVMe0R01 " HOSTNQN " " SUBNQN, "TLS_AES_128_GCM_SHA256");
}

static void sha256_v1_compat(void **state)
{
	(void)state;
	connect_ok(VEC_KEY, 1, true, "NVMe1R01 " HOSTNQN " " SUBNQN " ", "TLS_AES_128_GCM_SHA256");
}

static void sha384_v1_and_v0(void **state)
{
	struct nvmf_tls_key k;
	char key[NVMF_TLS_KEY_STR_MAX];

	(void)state;
	assert_int_equal(nvmf_tls_key_generate(&k, 2, NULL), 0);
	assert_int_equal(nvmf_tls_key_format(&k, key, sizeof(key)), 0);
	connect_ok(key, 1, false, "NVMe1R02 " HOSTNQN " " SUBNQN " ", "TLS_AES_256_GCM_SHA384");
	connect_ok(key, 0, false, "NVMe0R02 " HOSTNQN " " SUBNQN, "TLS_AES_256_GCM_SHA384");
}

static int done_calls;

static void done_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)arg;
	(void)cqe;
	assert_int_equal(status, 0);
	done_calls++;
}

/*
 * Responses that arrive together over TLS while the host completes one per poll: input
 * already decrypted (staged, or held by OpenSSL) is announced by the queue pair's fd (the
 * kick), so an event loop that sleeps on nvmf_qpair_fd() until it is readable completes
 * them all.  (Here the three small responses fit the staging buffer, so this does not
 * isolate the OpenSSL-held case.)
 */
static void buffered_input_wakes(void **state)
{
	struct stub s;
	struct smallrec rsp[3];
	struct hreq *r[3];
	struct nvme_sqe sqe;

	(void)state;
	stub_start(&s, VEC_KEY, 1, false, 10000);
	s.c->opts.tls_record = NVMF_TLS_MODE_USER;
	server_knows(&s, VEC_KEY, 1, NVMF_TLS_DERIVE_RFC);
	assert_int_equal(run(&s, 10000), 0);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_ADM_KEEP_ALIVE;
	for (int i = 0; i < 3; i++)
		assert_int_equal(hq_submit(&s.q, &sqe, NULL, 0, 0, false, done_cb, NULL, &r[i]), 0);
	for (int turns = 0; s.srv.pdus < 5; turns++) {
		int rb;

		assert_true(turns < 1000);
		hq_progress(&s.q, 0);
		poll(&(struct pollfd){ s.srv.conn.fd, POLLIN, 0 }, 1, 10);
		do
			rb = nvmf_conn_receive(&s.srv.conn, 4);
		while (rb == NVMF_CONN_MORE || (rb >= 0 && nvmf_conn_has_buffered(&s.srv.conn)));
	}
	for (int i = 0; i < 3; i++) {
		struct nvme_cqe cqe = { 0 };

		memset(&rsp[i], 0, sizeof(rsp[i]));
		rsp[i].tx.iov = rsp[i].iov;
		cqe.cid = htole16(r[i]->cid);
		assert_int_equal(nvmf_conn_queue(&s.srv.conn, &rsp[i].tx,
						 nvmf_pdu_rsp(&rsp[i].out, &s.srv.conn.txcfg, &cqe,
							      rsp[i].iov, 4)), 0);
	}
	while (nvmf_conn_tx_pending(&s.srv.conn))
		assert_true(nvmf_conn_flush(&s.srv.conn) >= 0);
	done_calls = 0;
	for (int turns = 0; done_calls < 3; turns++) {
		struct pollfd p = { s.q.epfd, POLLIN, 0 };

		assert_true(turns < 10);
		/* as an event loop: sleep until the fd says there is work */
		assert_int_equal(poll(&p, 1, 2000), 1);
		assert_true(hq_progress(&s.q, 1) >= 0);
	}
	stub_close(&s);
}

/* The controller has a key for our identity, but another one: refused fast, for good. */
static void wrong_psk_rejected(void **state)
{
	struct stub s;
	uint64_t t0 = now_ms();
	int rc;

	(void)state;
	stub_start(&s, VEC_KEY, 1, false, 10000);
	/* same identity, the other derivation's PSK: the binder does not verify */
	server_knows(&s, VEC_KEY, 1, NVMF_TLS_DERIVE_COMPAT);
	strcpy(s.skey.identity, s.c->tls.identity);
	rc = run(&s, 5000);
	assert_int_equal(rc, -EKEYREJECTED);
	assert_true(hauth_fatal(rc)); /* what makes the reconnect give up at once */
	assert_true(now_ms() - t0 < 3000);
	assert_int_equal(s.q.state, QP_DOWN);
	assert_non_null(strstr(s.q.err, "TLS handshake with 127.0.0.1:"));
	assert_non_null(strstr(s.q.err, "failed: "));
	assert_null(strstr(s.q.err, "NVMeTLSkey"));
	stub_close(&s);
}

/* The controller knows no PSK of that identity (an SPDK target asked for v1). */
static void unknown_identity_rejected(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, VEC_KEY, 1, false, 10000);
	server_knows(&s, VEC_KEY, 0, NVMF_TLS_DERIVE_RFC);
	assert_int_equal(run(&s, 5000), -EKEYREJECTED);
	assert_int_equal(s.tab.calls, 1);
	assert_memory_equal(s.tab.seen, "NVMe1R01 ", 9);
	assert_non_null(strstr(s.q.err, "(qid 0) failed: "));
	stub_close(&s);
}

/* A controller that accepts the connection and never answers: the step deadline ends it. */
static void handshake_timeout(void **state)
{
	struct stub s;
	uint64_t t0;

	(void)state;
	stub_start(&s, VEC_KEY, 1, false, 400);
	s.silent = true;
	t0 = now_ms();
	assert_int_equal(run(&s, 5000), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 390);
	assert_int_equal(s.q.state, QP_DOWN);
	assert_non_null(strstr(s.q.err, "not done in time"));
	stub_close(&s);
}

static void ctrl_connect_options(void **state)
{
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;

	(void)state;
	nvmf_ctrl_opts_init(&o);
	assert_int_equal(o.tls_identity_version, 1);
	o.traddr = "127.0.0.1";
	o.subnqn = SUBNQN;
	o.hostnqn = HOSTNQN;
	o.tls = true;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -ENOKEY);
	assert_non_null(strstr(nvmf_strerror_last(), "TLS"));
	o.tls_key = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrX:";
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -EINVAL);
	assert_non_null(strstr(nvmf_strerror_last(), "CRC"));
	assert_null(strstr(nvmf_strerror_last(), "VRLbtn"));
	o.tls_key = VEC_KEY;
	o.tls_identity_version = 2;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_v1),
		cmocka_unit_test(sha256_v0),
		cmocka_unit_test(sha256_v1_compat),
		cmocka_unit_test(sha384_v1_and_v0),
		cmocka_unit_test(buffered_input_wakes),
		cmocka_unit_test(wrong_psk_rejected),
		cmocka_unit_test(unknown_identity_rejected),
		cmocka_unit_test(handshake_timeout),
		cmocka_unit_test(ctrl_connect_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
