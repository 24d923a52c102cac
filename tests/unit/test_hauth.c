/*
 * libnvmf's DH-HMAC-CHAP exchange (src/host/auth.c) against a controller the test plays
 * itself on a real loopback connection: the Connect is answered with AUTHREQ.ATR, then
 * every Authentication Send / Receive is read off the wire, checked field by field, and
 * answered - the responses checked and made with src/auth's maths from the controller's
 * side, as nvmet computes them.  Covered: NULL group with SHA-256, an FFDHE group,
 * bidirectional with the right and a wrong R2 (Failure2 sent, connect fails), a Failure1
 * from the controller, ATR without a key, ASCR, a Challenge with an unusable hash, an
 * Authentication Send whose data goes by R2T, and the key options of nvmf_ctrl_connect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define SUBNQN "nqn.2024-01.io.example:sub1"
/* bytes 00..1f, transformed with SHA-256 */
#define HOST_KEY "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
#define ICD (16u * 1024)
#define RECV_LEN 4096

struct stub {
	int lfd, fd;
	struct nvmf_ctrl *c;
	struct nvmf_qpair q;
	uint16_t cid;                /* of the last command read */
	uint16_t tid;                /* the host's transaction */
	/* the controller's side of the exchange */
	unsigned hash, group;
	size_t hl;
	uint32_t s1;
	uint8_t c1[NVMF_DHCHAP_MAX_HASH];
	struct nvmf_dhchap_dh *dh;
	uint8_t z[NVMF_DHCHAP_MAX_DH];
	size_t zlen;
	uint32_t s2;
	uint8_t c2[NVMF_DHCHAP_MAX_HASH];
	bool cvalid;
};

static char ctrl_key[NVMF_DHCHAP_SECRET_STR_MAX];

/* Read exactly len bytes the queue pair sends, taking turns with its progress. */
static void take_sent(struct nvmf_qpair *q, int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (int turns = 0; len; turns++) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_true(turns < 100000);
		hq_progress(q, 0);
		if (poll(&pf, 1, 10) != 1)
			continue;
		n = recv(fd, p, len, MSG_DONTWAIT);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void give_iov(int fd, const struct iovec *iov, int cnt)
{
	assert_true(cnt > 0);
	for (int i = 0; i < cnt; i++)
		assert_int_equal(send(fd, iov[i].iov_base, iov[i].iov_len, 0),
				 (ssize_t)iov[i].iov_len);
}

static void give_rsp(struct stub *s, uint32_t dw0, uint16_t status)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec iov[4];
	struct nvme_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = htole16(s->cid);
	cqe.sqid = htole16(s->q.qid);
	cqe.dw0 = htole32(dw0);
	cqe.status = htole16(status);
	give_iov(s->fd, iov, nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4));
}

/* An Authentication Receive's answer: all 4096 bytes, as nvmet sends them. */
static void give_data(struct stub *s, const void *msg, size_t len)
{
	static uint8_t buf[RECV_LEN];
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec data = { buf, sizeof(buf) }, iov[4];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, msg, len);
	give_iov(s->fd, iov, nvmf_pdu_c2h_data(&out, &cfg, s->cid, 0,
					       NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS,
					       &data, 1, iov, 4));
}

/*
 * Read the next command capsule: its SQE and in-capsule data.  A command whose data did not
 * fit in the capsule gets an R2T for all of it, and the data comes as H2CData.
 */
static size_t read_cmd(struct stub *s, struct nvme_sqe *sqe, uint8_t *data, size_t max)
{
	uint8_t pdu[72 + 2048];
	const struct nvme_tcp_ch *ch = (const struct nvme_tcp_ch *)pdu;
	uint32_t plen, sgl_len;

	take_sent(&s->q, s->fd, pdu, 8);
	assert_int_equal(ch->type, NVME_TCP_CMD);
	plen = le32toh(ch->plen);
	assert_true(plen >= 72 && plen <= sizeof(pdu));
	take_sent(&s->q, s->fd, pdu + 8, plen - 8);
	memcpy(sqe, pdu + 8, sizeof(*sqe));
	s->cid = le16toh(sqe->cid);
	sgl_len = le32toh(sqe->dptr.sgl.length);
	assert_true(sgl_len <= max);
	if (plen > 72) {
		assert_int_equal(sqe->dptr.sgl.id, NVME_SGL_ID_ICD);
		assert_int_equal(plen - 72, sgl_len);
		memcpy(data, pdu + 72, sgl_len);
		return sgl_len;
	}
	if (sgl_len && sqe->opcode == NVME_OPC_FABRICS &&
	    ((struct nvmf_auth_cmd *)sqe)->fctype == NVMF_FCTYPE_AUTH_SEND) {
		struct nvmf_pdu_out out;
		struct nvmf_pdu_tx_cfg cfg = { 0 };
		struct iovec iov[4];
		struct nvme_tcp_data h2c;

		assert_int_equal(sqe->dptr.sgl.id, NVME_SGL_ID_TRANSPORT);
		give_iov(s->fd, iov, nvmf_pdu_r2t(&out, &cfg, s->cid, 7, 0, sgl_len, iov, 4));
		take_sent(&s->q, s->fd, &h2c, sizeof(h2c));
		assert_int_equal(h2c.ch.type, NVME_TCP_H2C_DATA);
		assert_int_equal(le32toh(h2c.datal), sgl_len);
		take_sent(&s->q, s->fd, data, sgl_len);
	}
	return sgl_len;
}

/* Read an Authentication command of the given kind; returns its TL / AL. */
static size_t read_auth(struct stub *s, uint8_t fctype, uint8_t *data, size_t max)
{
	struct nvme_sqe sqe;
	const struct nvmf_auth_cmd *a = (const struct nvmf_auth_cmd *)&sqe;
	size_t n = read_cmd(s, &sqe, data, max);

	assert_int_equal(a->opcode, NVME_OPC_FABRICS);
	assert_int_equal(a->fctype, fctype);
	assert_int_equal(a->secp, NVMF_AUTH_SECP);
	assert_int_equal(a->spsp0, NVMF_AUTH_SPSP0_DHCHAP);
	assert_int_equal(a->spsp1, NVMF_AUTH_SPSP1_DHCHAP);
	if (fctype == NVMF_FCTYPE_AUTH_SEND)
		assert_int_equal(le32toh(a->tl_al), n);
	else
		assert_int_equal(le32toh(a->tl_al), RECV_LEN);
	return le32toh(a->tl_al);
}

/*
 * Connect qid 1 to the stub with the given keys; the Connect is answered with dw0.
 * icd: the I/O queue's in-capsule data size.
 */
static void stub_start(struct stub *s, const char *host_key, const char *ckey, uint32_t dw0,
		       uint32_t icd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	uint8_t buf[2048];
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_sqe sqe;

	memset(s, 0, sizeof(*s));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);

	s->c = calloc(1, sizeof(*s->c));
	nvmf_ctrl_opts_init(&s->c->opts);
	strcpy(s->c->subnqn, SUBNQN);
	strcpy(s->c->hostnqn, HOSTNQN);
	strcpy(s->c->traddr, "127.0.0.1");
	strcpy(s->c->trsvcid, "4420");
	memcpy(&s->c->addr, &sa, sizeof(sa));
	s->c->addr_len = sizeof(sa);
	s->c->io_icd = icd;
	s->c->auth_tid = 41;
	assert_int_equal(hauth_keys_init(s->c, host_key, ckey), 0);
	assert_int_equal(hq_init(&s->q, s->c, 1, 32), 0);

	assert_int_equal(hq_connect_start(&s->q, 1, 0, 10000), 0);
	s->fd = accept(s->lfd, NULL, NULL);
	assert_true(s->fd >= 0);
	take_sent(&s->q, s->fd, buf, sizeof(struct nvme_tcp_icreq));
	assert_int_equal(buf[0], NVME_TCP_ICREQ);
	give_iov(s->fd, iov, nvmf_pdu_icresp(&out, 0, 0, 131072, iov, 4));
	read_cmd(s, &sqe, buf, sizeof(buf));
	assert_int_equal(((struct nvmf_connect_cmd *)&sqe)->fctype, NVMF_FCTYPE_CONNECT);
	give_rsp(s, dw0, 0);
}

/* Drive the queue pair until its connect is decided. */
static int stub_outcome(struct stub *s)
{
	for (int i = 0; i < 100000 && s->q.connect_rc == -EINPROGRESS; i++) {
		hq_progress(&s->q, 0);
		if (s->q.connect_rc == -EINPROGRESS)
			hq_wait_readable(&s->q, 10);
	}
	return s->q.connect_rc;
}

/* After a failed connect: the host closed the connection without another word. */
static void assert_closed(struct stub *s)
{
	uint8_t b;
	struct pollfd pf = { .fd = s->fd, .events = POLLIN };

	assert_int_equal(poll(&pf, 1, 5000), 1);
	assert_int_equal(recv(s->fd, &b, 1, 0), 0);
}

static void stub_close(struct stub *s)
{
	nvmf_dhchap_dh_free(s->dh);
	hq_fini(&s->q);
	close(s->fd);
	close(s->lfd);
	free(s->c);
}

/* ------------------------------------------------------------------ the controller's side */

static void expect_negotiate(struct stub *s)
{
	uint8_t buf[256];
	const struct nvmf_auth_negotiate *n = (const struct nvmf_auth_negotiate *)buf;
	const struct nvmf_auth_dhchap_desc *d = &n->descs[0];

	assert_int_equal(read_auth(s, NVMF_FCTYPE_AUTH_SEND, buf, sizeof(buf)), 72);
	assert_int_equal(n->auth_type, NVMF_AUTH_TYPE_COMMON);
	assert_int_equal(n->auth_id, NVMF_AUTH_ID_NEGOTIATE);
	assert_int_equal(n->sc_c, 0);
	assert_int_equal(n->napd, 1);
	assert_int_equal(d->authid, NVMF_AUTH_PROTO_DHCHAP);
	assert_int_equal(d->halen, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(d->hash_ids[i], i + 1);
	assert_int_equal(d->dhlen, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(d->dhg_ids[i], i);
	s->tid = le16toh(n->t_id);
	give_rsp(s, 0, 0);
}

/* Answer the next Authentication Receive with a Challenge in hash / group. */
static void send_challenge(struct stub *s, unsigned hash, unsigned group, uint8_t hl)
{
	uint8_t buf[RECV_LEN];
	struct nvmf_auth_challenge *ch = (struct nvmf_auth_challenge *)buf;
	size_t dhlen = nvmf_dhchap_dh_len(group);

	read_auth(s, NVMF_FCTYPE_AUTH_RECV, buf, sizeof(buf));
	s->hash = hash;
	s->group = group;
	s->hl = nvmf_dhchap_hash_len(hash);
	s->s1 = 0x01020304;
	assert_int_equal(nvmf_dhchap_random(s->c1, s->hl), 0);
	memset(buf, 0, sizeof(buf));
	ch->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	ch->auth_id = NVMF_AUTH_ID_CHALLENGE;
	ch->t_id = htole16(s->tid);
	ch->hl = hl;
	ch->hashid = (uint8_t)hash;
	ch->dhgid = (uint8_t)group;
	ch->dhvlen = htole16((uint16_t)dhlen);
	ch->seqnum = htole32(s->s1);
	memcpy(ch->cval, s->c1, s->hl);
	if (group) {
		s->dh = nvmf_dhchap_dh_new(group);
		assert_non_null(s->dh);
		assert_int_equal(nvmf_dhchap_dh_public(s->dh, ch->cval + s->hl, dhlen), 0);
	}
	give_data(s, buf, sizeof(*ch) + s->hl + dhlen);
}

/* Read the Reply and check R1 as the controller does (nvmet's nvmet_auth_host_hash). */
static void expect_reply(struct stub *s)
{
	uint8_t buf[2048], k[NVMF_DHCHAP_MAX_HASH], ca[NVMF_DHCHAP_MAX_HASH];
	uint8_t r1[NVMF_DHCHAP_MAX_HASH];
	const struct nvmf_auth_reply *rp = (const struct nvmf_auth_reply *)buf;
	size_t dhlen = nvmf_dhchap_dh_len(s->group);
	struct nvmf_dhchap_secret sec;
	int klen;

	assert_int_equal(read_auth(s, NVMF_FCTYPE_AUTH_SEND, buf, sizeof(buf)),
			 16 + 2 * s->hl + dhlen);
	assert_int_equal(rp->auth_type, NVMF_AUTH_TYPE_DHCHAP);
	assert_int_equal(rp->auth_id, NVMF_AUTH_ID_REPLY);
	assert_int_equal(le16toh(rp->t_id), s->tid);
	assert_int_equal(rp->hl, s->hl);
	assert_int_equal(le16toh(rp->dhvlen), dhlen);
	s->zlen = 0;
	if (s->group) {
		assert_int_equal(nvmf_dhchap_dh_shared(s->dh, rp->rval + 2 * s->hl, dhlen, s->z,
						       dhlen), 0);
		s->zlen = dhlen;
	}
	assert_int_equal(nvmf_dhchap_secret_parse(HOST_KEY, &sec), 0);
	klen = nvmf_dhchap_secret_transform(&sec, HOSTNQN, k);
	assert_true(klen > 0);
	assert_true(nvmf_dhchap_augment(s->hash, s->c1, s->z, s->zlen, ca) > 0);
	assert_int_equal(nvmf_dhchap_host_response(s->hash, k, (size_t)klen, ca, s->s1, s->tid, 0,
						   HOSTNQN, SUBNQN, r1), 0);
	assert_memory_equal(rp->rval, r1, s->hl);
	s->cvalid = rp->cvalid;
	s->s2 = le32toh(rp->seqnum);
	memcpy(s->c2, rp->rval + s->hl, s->hl);
	if (!s->cvalid) {
		uint8_t zero[NVMF_DHCHAP_MAX_HASH] = { 0 };

		assert_int_equal(s->s2, 0);
		assert_memory_equal(s->c2, zero, s->hl);
	}
	give_rsp(s, 0, 0);
}

/* Answer the next Authentication Receive with Success1 (R2 when asked; wrong: corrupted). */
static void send_success1(struct stub *s, bool wrong)
{
	uint8_t buf[RECV_LEN], k[NVMF_DHCHAP_MAX_HASH], cb[NVMF_DHCHAP_MAX_HASH];
	struct nvmf_auth_success1 *s1 = (struct nvmf_auth_success1 *)buf;
	struct nvmf_dhchap_secret sec;
	int klen;

	read_auth(s, NVMF_FCTYPE_AUTH_RECV, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	s1->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	s1->auth_id = NVMF_AUTH_ID_SUCCESS1;
	s1->t_id = htole16(s->tid);
	s1->hl = (uint8_t)s->hl;
	if (s->cvalid) {
		assert_int_equal(nvmf_dhchap_secret_parse(ctrl_key, &sec), 0);
		klen = nvmf_dhchap_secret_transform(&sec, SUBNQN, k);
		assert_true(klen > 0);
		assert_true(nvmf_dhchap_augment(s->hash, s->c2, s->z, s->zlen, cb) > 0);
		assert_int_equal(nvmf_dhchap_ctrl_response(s->hash, k, (size_t)klen, cb, s->s2, s->tid,
							   SUBNQN, HOSTNQN, s1->rval), 0);
		if (wrong)
			s1->rval[3] ^= 0x40;
		s1->rvalid = 1;
	}
	give_data(s, buf, sizeof(*s1) + s->hl);
}

static void expect_success2(struct stub *s)
{
	uint8_t buf[64];
	const struct nvmf_auth_success2 *m = (const struct nvmf_auth_success2 *)buf;

	assert_int_equal(read_auth(s, NVMF_FCTYPE_AUTH_SEND, buf, sizeof(buf)), 16);
	assert_int_equal(m->auth_type, NVMF_AUTH_TYPE_DHCHAP);
	assert_int_equal(m->auth_id, NVMF_AUTH_ID_SUCCESS2);
	assert_int_equal(le16toh(m->t_id), s->tid);
	give_rsp(s, 0, 0);
}

static void expect_failure2(struct stub *s, uint8_t rce)
{
	uint8_t buf[64];
	const struct nvmf_auth_failure *f = (const struct nvmf_auth_failure *)buf;

	assert_int_equal(read_auth(s, NVMF_FCTYPE_AUTH_SEND, buf, sizeof(buf)), 8);
	assert_int_equal(f->auth_type, NVMF_AUTH_TYPE_COMMON);
	assert_int_equal(f->auth_id, NVMF_AUTH_ID_FAILURE2);
	assert_int_equal(le16toh(f->t_id), s->tid);
	assert_int_equal(f->rc, NVMF_AUTH_RC_FAILED);
	assert_int_equal(f->rce, rce);
	give_rsp(s, 0, 0);
}

static void assert_live(struct stub *s)
{
	assert_int_equal(stub_outcome(s), 0);
	assert_int_equal(s->q.state, QP_LIVE);
	assert_null(s->q.auth);
}

static void assert_failed(struct stub *s, int rc, const char *text)
{
	assert_int_equal(stub_outcome(s), rc);
	assert_int_equal(s->q.state, QP_DOWN);
	assert_null(s->q.auth);
	if (!strstr(s->q.err, text))
		fail_msg("error '%s' does not say '%s'", s->q.err, text);
	/* no key material in the text */
	assert_null(strstr(s->q.err, "DHHC"));
}

/* ------------------------------------------------------------------ cases */

static void null_group_sha256(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	assert_int_equal(s.q.state, QP_AUTH);  /* nothing else goes out meanwhile */
	/* the controller's counter of transactions: the next exchange gets the next one */
	assert_int_equal(s.tid, 41);
	assert_int_equal(s.c->auth_tid, 42);
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 32);
	expect_reply(&s);
	assert_false(s.cvalid);
	send_success1(&s, false);
	assert_live(&s);
	stub_close(&s);
}

static void ffdhe_group(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA384, NVMF_DHCHAP_FFDHE2048, 48);
	expect_reply(&s);
	send_success1(&s, false);
	assert_live(&s);
	stub_close(&s);
}

/* nvmet with inline_data_size 0: the Authentication Send's data goes by R2T + H2CData */
static void send_data_by_r2t(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR, 0);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_FFDHE2048, 32);
	expect_reply(&s);
	send_success1(&s, false);
	assert_live(&s);
	stub_close(&s);
}

static void bidirectional(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, ctrl_key, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA512, NVMF_DHCHAP_DH_NULL, 64);
	expect_reply(&s);
	assert_true(s.cvalid);
	assert_int_not_equal(s.s2, 0);
	send_success1(&s, false);
	expect_success2(&s);
	assert_live(&s);
	stub_close(&s);
}

static void bidirectional_wrong_r2(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, ctrl_key, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_FFDHE2048, 32);
	expect_reply(&s);
	assert_true(s.cvalid);
	send_success1(&s, true);
	expect_failure2(&s, NVMF_AUTH_RCE_FAILED);
	assert_failed(&s, -EKEYREJECTED, "controller " SUBNQN " failed bidirectional authentication");
	assert_true(hauth_fatal(s.q.connect_rc));
	assert_closed(&s);
	stub_close(&s);
}

/* Stricter than the Linux host: we challenged the controller, it did not answer. */
static void bidirectional_no_r2(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, ctrl_key, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 32);
	expect_reply(&s);
	s.cvalid = false;          /* the controller "forgets" to answer */
	send_success1(&s, false);
	expect_failure2(&s, NVMF_AUTH_RCE_FAILED);
	assert_failed(&s, -EKEYREJECTED, "failed bidirectional authentication");
	stub_close(&s);
}

static void failure1_from_controller(void **state)
{
	struct stub s;
	uint8_t buf[RECV_LEN];
	struct nvmf_auth_failure *f = (struct nvmf_auth_failure *)buf;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 32);
	expect_reply(&s);
	/* nvmet: R1 did not match its copy of our key */
	read_auth(&s, NVMF_FCTYPE_AUTH_RECV, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	f->auth_type = NVMF_AUTH_TYPE_COMMON;
	f->auth_id = NVMF_AUTH_ID_FAILURE1;
	f->t_id = htole16(s.tid);
	f->rc = NVMF_AUTH_RC_FAILED;
	f->rce = NVMF_AUTH_RCE_FAILED;
	give_data(&s, buf, sizeof(*f));
	assert_failed(&s, -EKEYREJECTED,
		      "authentication failed: controller " SUBNQN " rejected the host key "
		      "(authentication failed)");
	/* the controller ended the transaction: no Failure2 */
	assert_closed(&s);
	stub_close(&s);
}

static void unusable_hash(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	expect_negotiate(&s);
	/* SHA-256 with a 48-byte hash length */
	send_challenge(&s, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 48);
	expect_failure2(&s, NVMF_AUTH_RCE_HASH_UNUSABLE);
	assert_failed(&s, -EPROTO, "is not usable");
	assert_false(hauth_fatal(s.q.connect_rc));
	stub_close(&s);
}

static void atr_without_key(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, NULL, NULL, 1 | NVMF_CONNECT_DW0_ATR, ICD);
	assert_failed(&s, -ENOKEY, "controller " SUBNQN
		      " requires authentication but no --dhchap-secret given");
	assert_true(hauth_fatal(s.q.connect_rc));
	assert_closed(&s);
	stub_close(&s);
}

static void ascr_refused(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1 | NVMF_CONNECT_DW0_ATR | NVMF_CONNECT_DW0_ASCR, ICD);
	assert_failed(&s, -EOPNOTSUPP, "secure channel concatenation");
	assert_closed(&s);
	stub_close(&s);
}

/* A controller that asks for nothing: the keys are not used, the queue goes live. */
static void no_atr(void **state)
{
	struct stub s;

	(void)state;
	stub_start(&s, HOST_KEY, NULL, 1, ICD);
	assert_live(&s);
	assert_int_equal(s.c->auth_tid, 41);
	stub_close(&s);
}

/* nvmf_ctrl_connect checks the keys before it connects, and never repeats them. */
static void bad_key_options(void **state)
{
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	char bad[NVMF_DHCHAP_SECRET_STR_MAX];

	(void)state;
	nvmf_ctrl_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = "9";                 /* never reached */
	o.subnqn = SUBNQN;
	snprintf(bad, sizeof(bad), "%s", HOST_KEY);
	bad[12] = bad[12] == 'A' ? 'B' : 'A';
	o.dhchap_secret = bad;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -EINVAL);
	assert_non_null(strstr(nvmf_strerror_last(), "dhchap_secret: the key's CRC does not match"));
	assert_null(strstr(nvmf_strerror_last(), bad + 10));

	o.dhchap_secret = HOST_KEY;
	o.dhchap_ctrl_secret = "DHHC-1:01:notbase64:";
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -EINVAL);
	assert_non_null(strstr(nvmf_strerror_last(), "dhchap_ctrl_secret: not a DH-HMAC-CHAP"));
	assert_null(strstr(nvmf_strerror_last(), "notbase64"));

	o.dhchap_secret = NULL;
	o.dhchap_ctrl_secret = HOST_KEY;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), -EINVAL);
	assert_non_null(strstr(nvmf_strerror_last(), "needs the host key"));
}

static int setup(void **state)
{
	struct nvmf_dhchap_secret sec;

	(void)state;
	/* the controller key: 64 random bytes, transformed with SHA-512 at generation */
	if (nvmf_dhchap_secret_generate(&sec, NVMF_DHCHAP_SHA512, 64, NULL, SUBNQN) ||
	    nvmf_dhchap_secret_format(&sec, ctrl_key, sizeof(ctrl_key)))
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_group_sha256),
		cmocka_unit_test(ffdhe_group),
		cmocka_unit_test(send_data_by_r2t),
		cmocka_unit_test(bidirectional),
		cmocka_unit_test(bidirectional_wrong_r2),
		cmocka_unit_test(bidirectional_no_r2),
		cmocka_unit_test(failure1_from_controller),
		cmocka_unit_test(unusable_hash),
		cmocka_unit_test(atr_without_key),
		cmocka_unit_test(ascr_refused),
		cmocka_unit_test(no_atr),
		cmocka_unit_test(bad_key_options),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
