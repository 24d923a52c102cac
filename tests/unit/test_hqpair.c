/*
 * libnvmf's queue pair (src/host/qpair.c) against a controller played by the test itself on
 * a real loopback connection, one step at a time: the non-blocking connect (TCP, ICReq /
 * ICResp, Connect) advanced by hq_progress, and a broken controller that answers a command
 * while its capsule is still being sent: the slot is not handed out again until the
 * capsule has left, and what leaves is intact; a write queued while connecting goes
 * out in capsule once the connection allows it; and one malformed PDU of each class of the
 * H2CTermReq figure, answered with the spec's FES, FEI and echoed header before the
 * connection is dropped as a lost one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

#define ICD (256u * 1024)

struct stub {
	int lfd, fd;
	bool hd;        /* header digests asked for and granted */
	struct nvmf_ctrl *c;
	struct nvmf_qpair q;
};

/* Read exactly len bytes (blocking, bounded by poll). */
static void take(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&pf, 1, 10000), 1);
		n = recv(fd, p, len, MSG_DONTWAIT);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Read exactly len bytes that the queue pair is still sending: its progress and our reads
 * take turns, so neither waits for the other (bounded by the number of turns).
 */
static void take_sent(struct nvmf_qpair *q, int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (int turns = 0; len; turns++) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_true(turns < 100000);
		assert_true(hq_progress(q, 0) >= 0);
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
	for (int i = 0; i < cnt; i++)
		assert_int_equal(send(fd, iov[i].iov_base, iov[i].iov_len, 0),
				 (ssize_t)iov[i].iov_len);
}

static void give_rsp(int fd, uint16_t cid, uint16_t sqid)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec iov[4];
	struct nvme_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = htole16(cid);
	cqe.sqid = htole16(sqid);
	give_iov(fd, iov, nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4));
}

/*
 * Open q (qid 1) towards the stub, driving both ends from this thread, up to its ICReq
 * received (the queue pair is QP_IC).  hd: the host asks for header digests.
 */
static void stub_open(struct stub *s, bool hd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int small = 4096;
	uint8_t buf[128];

	memset(s, 0, sizeof(*s));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	/* small buffers on the controller side: a large capsule cannot leave at once */
	assert_int_equal(setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);

	s->c = calloc(1, sizeof(*s->c));
	nvmf_ctrl_opts_init(&s->c->opts);
	s->c->opts.hdgst = hd;
	s->c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(s->c->wake_fd >= 0);
	strcpy(s->c->subnqn, "nqn.2024-01.test:stub");
	strcpy(s->c->hostnqn, "nqn.2024-01.test:host");
	strcpy(s->c->traddr, "127.0.0.1");
	memcpy(&s->c->addr, &sa, sizeof(sa));
	s->c->addr_len = sizeof(sa);
	s->c->io_icd = ICD;
	assert_int_equal(hq_init(&s->q, s->c, 1, 32), 0);

	assert_int_equal(hq_connect_start(&s->q, 1, 0, 10000), 0);
	assert_int_equal(s->q.state, QP_SOCKET);
	assert_int_equal(setsockopt(s->q.conn.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
			 0);
	s->fd = accept(s->lfd, NULL, NULL);
	assert_true(s->fd >= 0);
	/* progress never waits: each call takes the next step as far as the peer allows */
	while (s->q.state == QP_SOCKET)
		assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_IC);
	take(s->fd, buf, sizeof(struct nvme_tcp_icreq));
	assert_int_equal(buf[0], NVME_TCP_ICREQ);
	assert_int_equal(buf[11], hd ? NVME_TCP_HDGST_ENABLE : 0);
	assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_IC); /* no ICResp yet: still waiting, not blocked */
}

/*
 * Connect q (qid 1) to the stub, up to the Connect sent and not answered yet (the queue
 * pair is QP_CONNECTING); hd: with header digests.
 */
static void stub_connect_start_hd(struct stub *s, bool hd)
{
	uint8_t buf[2048];
	struct nvmf_pdu_out out;
	struct iovec iov[4];

	stub_open(s, hd);
	s->hd = hd;
	give_iov(s->fd, iov, nvmf_pdu_icresp(&out, 0, hd ? NVME_TCP_HDGST_ENABLE : 0, 131072,
					     iov, 4));
	while (s->q.state == QP_IC)
		assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_CONNECTING);
	assert_int_equal(s->q.connect_rc, -EINPROGRESS);
	take(s->fd, buf, 72 + (hd ? 4u : 0u) + sizeof(struct nvmf_connect_data));
	assert_int_equal(buf[0], NVME_TCP_CMD);
	assert_int_equal(buf[8], NVME_OPC_FABRICS);
}

static void stub_connect_start(struct stub *s)
{
	stub_connect_start_hd(s, false);
}

/* The Connect answered: the queue pair is live. */
static void stub_connect_finish(struct stub *s)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { .hdgst = s->hd };
	struct iovec iov[4];
	struct nvme_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = htole16((uint16_t)s->q.depth);
	cqe.sqid = htole16(1);
	give_iov(s->fd, iov, nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4));
	while (s->q.state == QP_CONNECTING)
		assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_LIVE);
	assert_int_equal(s->q.connect_rc, 0);
	assert_int_equal(s->q.icd_max, ICD);
}

static void stub_connect(struct stub *s)
{
	stub_connect_start(s);
	stub_connect_finish(s);
}

static void stub_close(struct stub *s)
{
	hq_fini(&s->q);
	close(s->fd);
	close(s->lfd);
	close(s->c->wake_fd);
	free(s->c);
}

static void connect_steps(void **state)
{
	struct stub s;

	(void)state;
	stub_connect(&s);
	stub_close(&s);
}

static int early_calls;

static void early_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)arg;
	(void)cqe;
	assert_int_equal(status, 0);
	early_calls++;
}

static void early_response_keeps_slot(void **state)
{
	struct stub s;
	static uint8_t data[ICD], got[ICD];
	struct iovec iov = { data, sizeof(data) };
	struct nvme_sqe sqe;
	struct hreq *early, *next;
	uint8_t hdr[72];

	(void)state;
	stub_connect(&s);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_WRITE;
	sqe.nsid = htole32(1);
	assert_int_equal(hq_submit(&s.q, &sqe, &iov, 1, sizeof(data), true, early_cb, NULL,
				   &early), 0);
	assert_true(early->in_capsule);
	assert_int_equal(hq_progress(&s.q, 0), 0);
	assert_true(early->cmd_tx.tx.queued); /* the capsule is only partly out */

	/* the controller answers it anyway */
	give_rsp(s.fd, early->cid, 1);
	while (!early_calls)
		assert_true(hq_progress(&s.q, 0) >= 0);
	assert_int_equal(early->state, HREQ_RETIRING);
	assert_true(early->cmd_tx.tx.queued);

	/* the next command gets another slot, not the one whose capsule is still queued */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_FLUSH;
	sqe.nsid = htole32(1);
	assert_int_equal(hq_submit(&s.q, &sqe, NULL, 0, 0, false, NULL, NULL, &next), 0);
	assert_ptr_not_equal(next, early);

	/* everything leaves intact and in order; then the slot is free again */
	take_sent(&s.q, s.fd, hdr, sizeof(hdr));
	take_sent(&s.q, s.fd, got, sizeof(got));
	assert_int_equal(hdr[0], NVME_TCP_CMD);
	assert_int_equal(le16toh(*(uint16_t *)(hdr + 8 + 2)), early->cid);
	assert_memory_equal(got, data, sizeof(data));
	take_sent(&s.q, s.fd, hdr, sizeof(hdr));
	assert_int_equal(early->state, HREQ_FREE);
	assert_int_equal(le16toh(*(uint16_t *)(hdr + 8 + 2)), next->cid);
	assert_int_equal(early_calls, 1);
	stub_close(&s);
}

/* The controller answers command cid with success; the host takes the response. */
static void complete(struct stub *s, uint16_t cid)
{
	give_rsp(s->fd, cid, 1);
	while (s->q.busy)
		assert_true(hq_progress(&s->q, 0) >= 0);
}

/* Write Zeroes carries both its flags: FUA and DEAC. */
static void io_flags_in_sqe(void **state)
{
	struct stub s;
	uint8_t hdr[72];
	const struct nvme_sqe *sqe = (const void *)(hdr + 8);

	(void)state;
	stub_connect(&s);
	assert_int_equal(nvmf_write_zeroes(&s.q, 1, 7, 8, NVMF_IO_FUA | NVMF_IO_DEAC, NULL,
					   NULL), 0);
	assert_int_equal(hq_progress(&s.q, 0), 0);
	take_sent(&s.q, s.fd, hdr, sizeof(hdr));
	assert_int_equal(sqe->opcode, NVME_NVM_WRITE_ZEROES);
	assert_int_equal(le32toh(sqe->cdw10), 7);
	assert_int_equal(le32toh(sqe->cdw12), 7u | 1u << 30 | 1u << 25);
	complete(&s, le16toh(sqe->cid));
	assert_int_equal(nvmf_write_zeroes(&s.q, 1, 7, 8, 0, NULL, NULL), 0);
	assert_int_equal(hq_progress(&s.q, 0), 0);
	take_sent(&s.q, s.fd, hdr, sizeof(hdr));
	assert_int_equal(le32toh(sqe->cdw12), 7u);
	complete(&s, le16toh(sqe->cid));
	stub_close(&s);
}

static int queued_calls;

static void queued_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)arg;
	(void)cqe;
	assert_int_equal(status, 0);
	queued_calls++;
}

/*
 * A write submitted while the queue pair connects (or reconnects) waits, built while the
 * Connect's 8 KiB in-capsule limit was in force.  Once live, the connection takes the
 * controller's in-capsule size, and the write must go out with its data in the capsule:
 * the Linux target sends no R2T for a write within its inline data size (16 KiB) that
 * comes without data, so that write would never complete (seen as fio hanging after a
 * reconnect in test-nvmf-host step 7).
 */
static void queued_write_goes_in_capsule(void **state)
{
	struct stub s;
	static uint8_t data[16384], got[16384];
	struct iovec iov = { data, sizeof(data) };
	struct nvme_sqe sqe;
	struct hreq *r;
	uint8_t hdr[72];

	(void)state;
	stub_connect_start(&s);
	assert_true(sizeof(data) > s.q.icd_max); /* the Connect's limit, while connecting */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_WRITE;
	sqe.nsid = htole32(1);
	assert_int_equal(hq_submit(&s.q, &sqe, &iov, 1, sizeof(data), true, queued_cb, NULL,
				   &r), 0);
	assert_int_equal(r->state, HREQ_QUEUED);
	stub_connect_finish(&s);
	assert_true(sizeof(data) <= s.q.icd_max);

	take_sent(&s.q, s.fd, hdr, sizeof(hdr));
	assert_int_equal(hdr[0], NVME_TCP_CMD);
	assert_int_equal(le16toh(*(uint16_t *)(hdr + 8 + 2)), r->cid);
	/* the SGL says "data in the capsule", and the PDU carries it */
	assert_int_equal(hdr[8 + offsetof(struct nvme_sqe, dptr) + 15], NVME_SGL_ID_ICD);
	assert_int_equal(le32toh(*(uint32_t *)(hdr + 4)), sizeof(hdr) + sizeof(data));
	take_sent(&s.q, s.fd, got, sizeof(got));
	assert_memory_equal(got, data, sizeof(data));
	give_rsp(s.fd, r->cid, 1);
	while (!queued_calls)
		assert_true(hq_progress(&s.q, 0) >= 0);
	stub_close(&s);
}

/* ------------------------------------------------------------------ H2CTermReq */

/*
 * Every class of the H2CTermReq figure, from a controller that breaks the protocol: the
 * queue pair answers with the spec's FES and FEI (proto/term.c) and echoes the header, then
 * drops the connection as for a lost one (the commands wait for the reconnect, which the
 * controller is asked for).
 */

enum h_where {
	H_IC,      /* the bad PDU comes instead of the ICResp */
	H_LIVE,    /* a read and a write (through R2T) in flight */
	H_LIVE_HD, /* the same with header digests */
};

struct h_ctx {
	struct stub s;
	struct hreq *rd, *wr;
};

#define H_LEN 8192u
#define FEI_CARRIED 0xFFFFFFFFu /* the expected FEI is the header digest the PDU carried */

struct h_case {
	const char *what;
	enum h_where where;
	size_t (*build)(struct h_ctx *x, uint8_t *b);
	uint16_t fes;
	uint32_t fei;
	uint32_t echo;      /* header bytes the H2CTermReq carries */
	uint32_t echo_from; /* where in the bytes sent the bad header starts */
};

static size_t flat(uint8_t *b, const struct iovec *iov, int cnt)
{
	size_t n = 0;

	assert_true(cnt > 0);
	for (int i = 0; i < cnt; i++) {
		memcpy(b + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	return n;
}

static void put_le32(uint8_t *b, uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, 4);
}

static uint32_t get_le32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return le32toh(v);
}

static uint16_t get_le16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return le16toh(v);
}

static size_t mk_rsp(struct h_ctx *x, uint8_t *b, uint16_t cid)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { .hdgst = x->s.hd };
	struct iovec iov[4];
	struct nvme_cqe cqe;

	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = htole16(cid);
	cqe.sqid = htole16(1);
	return flat(b, iov, nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4));
}

/* A C2HData header (its data is never needed: the header fails). */
static size_t mk_c2h(uint8_t *b, uint16_t cid, uint8_t flags, uint32_t datao, uint32_t datal)
{
	struct nvme_tcp_data *d = (struct nvme_tcp_data *)b;

	memset(b, 0, 24);
	d->ch.type = NVME_TCP_C2H_DATA;
	d->ch.flags = flags;
	d->ch.hlen = 24;
	d->ch.pdo = 24;
	d->ch.plen = htole32(24 + datal);
	d->cccid = htole16(cid);
	d->datao = htole32(datao);
	d->datal = htole32(datal);
	return 24;
}

static size_t mk_r2t(uint8_t *b, uint16_t cid, uint32_t r2to, uint32_t r2tl)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec iov[4];

	return flat(b, iov, nvmf_pdu_r2t(&out, &cfg, cid, 3, r2to, r2tl, iov, 4));
}

static size_t mk_icresp(uint8_t *b, uint8_t cpda, uint8_t dgst, uint32_t maxh2cdata)
{
	struct nvmf_pdu_out out;
	struct iovec iov[4];

	return flat(b, iov, nvmf_pdu_icresp(&out, cpda, dgst, maxh2cdata, iov, 4));
}

static size_t h_unknown_type(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	b[0] = 0x0B;
	return n;
}

static size_t h_cmd_to_host(struct h_ctx *x, uint8_t *b)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec iov[4];
	struct nvme_sqe sqe;

	(void)x;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_FLUSH;
	return flat(b, iov, nvmf_pdu_cmd(&out, &cfg, &sqe, NULL, 0, iov, 4));
}

static size_t h_wrong_hlen(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	b[2] = 20;
	return n;
}

static size_t h_bad_flag(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	b[1] |= NVME_TCP_F_DATA_LAST;
	return n;
}

static size_t h_hdgst_unasked(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	b[1] |= NVME_TCP_F_HDGST;
	put_le32(b + 4, 28);
	memset(b + n, 0, 4);
	return n + 4;
}

static size_t h_pdo_in_header(struct h_ctx *x, uint8_t *b)
{
	mk_c2h(b, x->rd->cid, NVME_TCP_F_DATA_LAST, 0, 4096);
	b[3] = 16;
	put_le32(b + 4, 16 + 4096);
	return 24;
}

static size_t h_rsp_plen(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	put_le32(b + 4, 28);
	memset(b + n, 0, 4);
	return n + 4;
}

static size_t h_datal_mismatch(struct h_ctx *x, uint8_t *b)
{
	mk_c2h(b, x->rd->cid, 0, 0, 4096);
	put_le32(b + 16, 4000);
	return 24;
}

static size_t h_c2h_unknown_cid(struct h_ctx *x, uint8_t *b)
{
	(void)x;
	return mk_c2h(b, 30, 0, 0, 4096);
}

static size_t h_c2h_for_write(struct h_ctx *x, uint8_t *b)
{
	return mk_c2h(b, x->wr->cid, 0, 0, 4096);
}

static size_t h_success_without_last(struct h_ctx *x, uint8_t *b)
{
	return mk_c2h(b, x->rd->cid, NVME_TCP_F_DATA_SUCCESS, 0, H_LEN);
}

static size_t h_r2t_empty(struct h_ctx *x, uint8_t *b)
{
	return mk_r2t(b, x->wr->cid, 0, 0);
}

static size_t h_r2t_for_read(struct h_ctx *x, uint8_t *b)
{
	return mk_r2t(b, x->rd->cid, 0, 4096);
}

static size_t h_rsp_unknown_cid(struct h_ctx *x, uint8_t *b)
{
	return mk_rsp(x, b, 30);
}

static size_t h_icresp_maxh2cdata(struct h_ctx *x, uint8_t *b)
{
	(void)x;
	return mk_icresp(b, 0, 0, 1024);
}

static size_t h_icresp_dgst(struct h_ctx *x, uint8_t *b)
{
	(void)x;
	return mk_icresp(b, 0, NVME_TCP_HDGST_ENABLE, 131072);
}

static size_t h_second_icresp(struct h_ctx *x, uint8_t *b)
{
	(void)x;
	return mk_icresp(b, 0, 0, 131072);
}

static size_t h_bad_hdgst(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_rsp(x, b, x->rd->cid);

	b[24] ^= 0xA5;
	return n;
}

static size_t h_c2h_wrong_offset(struct h_ctx *x, uint8_t *b)
{
	return mk_c2h(b, x->rd->cid, 0, 4096, 4096);
}

static size_t h_c2h_beyond(struct h_ctx *x, uint8_t *b)
{
	return mk_c2h(b, x->rd->cid, 0, 0, H_LEN + 4096);
}

static size_t h_r2t_beyond(struct h_ctx *x, uint8_t *b)
{
	return mk_r2t(b, x->wr->cid, 0, H_LEN + 4096);
}

static size_t h_r2t_wrong_offset(struct h_ctx *x, uint8_t *b)
{
	return mk_r2t(b, x->wr->cid, 4096, 4096);
}

/* two R2Ts at once, where MAXR2T 0 allows one: the second is the bad PDU */
static size_t h_r2t_over_maxr2t(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_r2t(b, x->wr->cid, 0, 4096);

	return n + mk_r2t(b + n, x->wr->cid, 4096, 4096);
}

static size_t h_icresp_pfv(struct h_ctx *x, uint8_t *b)
{
	size_t n = mk_icresp(b, 0, 0, 131072);

	(void)x;
	b[8] = 1;
	return n;
}

static size_t h_icresp_cpda(struct h_ctx *x, uint8_t *b)
{
	(void)x;
	return mk_icresp(b, 32, 0, 131072);
}

static const struct h_case h_cases[] = {
	/* 01h invalid PDU header field: FEI = offset of the field */
	{ "unknown PDU type", H_LIVE, h_unknown_type, 1, 0, 8, 0 },
	{ "a PDU type the host never receives", H_LIVE, h_cmd_to_host, 1, 0, 72, 0 },
	{ "hlen not the type's", H_LIVE, h_wrong_hlen, 1, 2, 8, 0 },
	{ "a flag the type does not carry", H_LIVE, h_bad_flag, 1, 1, 24, 0 },
	{ "HDGST flag without header digests", H_LIVE, h_hdgst_unasked, 1, 1, 24, 0 },
	{ "PDO inside the header", H_LIVE, h_pdo_in_header, 1, 3, 24, 0 },
	{ "CapsuleResp longer than its header", H_LIVE, h_rsp_plen, 1, 4, 24, 0 },
	{ "C2HData DATAL disagrees with PLEN", H_LIVE, h_datal_mismatch, 1, 16, 24, 0 },
	{ "C2HData for a command never sent", H_LIVE, h_c2h_unknown_cid, 1, 8, 24, 0 },
	{ "C2HData for a write", H_LIVE, h_c2h_for_write, 1, 8, 24, 0 },
	{ "C2HData SUCCESS without LAST", H_LIVE, h_success_without_last, 1, 1, 24, 0 },
	{ "R2T asking for nothing", H_LIVE, h_r2t_empty, 1, 16, 24, 0 },
	{ "R2T for a read", H_LIVE, h_r2t_for_read, 1, 8, 24, 0 },
	{ "CapsuleResp for a command never sent", H_LIVE, h_rsp_unknown_cid, 1, 20, 24, 0 },
	{ "ICResp MAXH2CDATA under 4096", H_IC, h_icresp_maxh2cdata, 1, 12, 128, 0 },
	{ "ICResp granting a digest not asked for", H_IC, h_icresp_dgst, 1, 11, 128, 0 },
	/* 02h PDU sequence error: FEI reserved */
	{ "a second ICResp", H_LIVE, h_second_icresp, 2, 0, 128, 0 },
	/* 03h header digest error: FEI = the digest the PDU carried */
	{ "header digest mismatch", H_LIVE_HD, h_bad_hdgst, 3, FEI_CARRIED, 24, 0 },
	/* 04h data transfer out of range: FEI reserved */
	{ "C2HData not at the offset reached", H_LIVE, h_c2h_wrong_offset, 4, 0, 24, 0 },
	{ "C2HData beyond the command's data", H_LIVE, h_c2h_beyond, 4, 0, 24, 0 },
	{ "R2T beyond the command's data", H_LIVE, h_r2t_beyond, 4, 0, 24, 0 },
	{ "R2T not at the offset reached", H_LIVE, h_r2t_wrong_offset, 4, 0, 24, 0 },
	/* 05h R2T limit exceeded (in an H2CTermReq): FEI reserved */
	{ "a second R2T while one is outstanding", H_LIVE, h_r2t_over_maxr2t, 5, 0, 24, 24 },
	/* 06h unsupported parameter: FEI = offset of the field */
	{ "ICResp PFV not 0", H_IC, h_icresp_pfv, 6, 8, 128, 0 },
	{ "ICResp CPDA over 31", H_IC, h_icresp_cpda, 6, 10, 128, 0 },
};

/* Connect, then put a read and a write (data through R2T) on the wire. */
static void h_live(struct h_ctx *x, bool hd)
{
	static uint8_t rbuf[H_LEN], wbuf[H_LEN];
	struct iovec riov = { rbuf, sizeof(rbuf) }, wiov = { wbuf, sizeof(wbuf) };
	struct nvme_sqe sqe;
	uint8_t hdr[76];

	stub_connect_start_hd(&x->s, hd);
	stub_connect_finish(&x->s);
	x->s.q.icd_max = 0; /* writes wait for an R2T */
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_READ;
	sqe.nsid = htole32(1);
	assert_int_equal(hq_submit(&x->s.q, &sqe, &riov, 1, H_LEN, false, NULL, NULL, &x->rd),
			 0);
	sqe.opcode = NVME_NVM_WRITE;
	assert_int_equal(hq_submit(&x->s.q, &sqe, &wiov, 1, H_LEN, true, NULL, NULL, &x->wr),
			 0);
	assert_false(x->wr->in_capsule);
	take_sent(&x->s.q, x->s.fd, hdr, 72 + (hd ? 4u : 0u));
	take_sent(&x->s.q, x->s.fd, hdr, 72 + (hd ? 4u : 0u));
}

/* The next H2CTermReq from the queue pair (H2CData it queued before is skipped). */
static void take_term(int fd, uint8_t *t)
{
	for (;;) {
		uint32_t plen;
		uint8_t skip[4096];

		take(fd, t, 8);
		plen = get_le32(t + 4);
		if (t[0] == NVME_TCP_H2C_TERM) {
			assert_true(plen >= 24 && plen <= 24 + 128);
			take(fd, t + 8, plen - 8);
			return;
		}
		assert_int_equal(t[0], NVME_TCP_H2C_DATA);
		for (plen -= 8; plen;) {
			uint32_t n = plen < sizeof(skip) ? plen : (uint32_t)sizeof(skip);

			take(fd, skip, n);
			plen -= n;
		}
	}
}

static void one_h_case(const struct h_case *k)
{
	struct h_ctx x;
	static uint8_t bad[512];
	uint8_t t[24 + 128];
	uint32_t fei = k->fei;
	int rc = 0;
	size_t n;

	print_message("# H2CTermReq FES %u for %s\n", k->fes, k->what);
	memset(&x, 0, sizeof(x));
	if (k->where == H_IC)
		stub_open(&x.s, false);
	else
		h_live(&x, k->where == H_LIVE_HD);
	n = k->build(&x, bad);
	if (fei == FEI_CARRIED)
		fei = get_le32(bad + k->echo_from + bad[k->echo_from + 2]);
	assert_int_equal(send(x.s.fd, bad, n, 0), (ssize_t)n);
	for (int turns = 0; rc >= 0; turns++) {
		struct pollfd pf = { .fd = x.s.q.conn.fd, .events = POLLIN };

		assert_true(turns < 1000);
		poll(&pf, 1, 10);
		rc = hq_progress(&x.s.q, 0);
	}
	assert_non_null(strstr(x.s.q.err, "bad "));

	take_term(x.s.fd, t);
	assert_int_equal(t[2], 24);                          /* hlen */
	assert_int_equal(get_le32(t + 4), 24 + k->echo);
	assert_int_equal(get_le16(t + 8), k->fes);
	assert_int_equal(get_le32(t + 10), fei);
	assert_memory_equal(t + 24, bad + k->echo_from, k->echo);
	/* then the connection is gone, at once */
	{
		struct pollfd pf = { .fd = x.s.fd, .events = POLLIN };
		uint8_t more;

		assert_int_equal(poll(&pf, 1, 5000), 1);
		assert_int_equal(recv(x.s.fd, &more, 1, 0), 0);
	}
	assert_int_equal(x.s.q.state, QP_DOWN);
	if (k->where == H_IC) {
		assert_true(x.s.q.connect_rc < 0);
	} else {
		/* as for a lost connection: the controller reconnects, the commands wait */
		assert_true(atomic_load(&x.s.c->need_reconnect));
		assert_int_equal(x.rd->state, HREQ_QUEUED);
		assert_int_equal(x.wr->state, HREQ_QUEUED);
	}
	stub_close(&x.s);
}

static void h2c_term_every_class(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(h_cases) / sizeof(h_cases[0]); i++)
		one_h_case(&h_cases[i]);
}

/*
 * A C2HTermReq ends the connection, well-formed or not, and is never answered with an
 * H2CTermReq: the stub sees the connection end with nothing on it.
 */
static void c2h_term_not_answered(void **state)
{
	for (int malformed = 0; malformed < 2; malformed++) {
		struct h_ctx x;
		uint8_t t[24 + 200];
		struct nvme_tcp_term *h = (struct nvme_tcp_term *)t;
		size_t n = malformed ? sizeof(t) : 24 + 24;
		int rc = 0;

		(void)state;
		memset(&x, 0, sizeof(x));
		h_live(&x, false);
		memset(t, 0, sizeof(t));
		h->ch.type = NVME_TCP_C2H_TERM;
		h->ch.hlen = 24;
		h->ch.plen = htole32((uint32_t)n); /* malformed: more than 128 header bytes */
		h->fes = htole16(NVME_TCP_FES_DATA_OUT_OF_RANGE);
		assert_int_equal(send(x.s.fd, t, n, 0), (ssize_t)n);
		for (int turns = 0; rc >= 0; turns++) {
			struct pollfd pf = { .fd = x.s.q.conn.fd, .events = POLLIN };

			assert_true(turns < 1000);
			poll(&pf, 1, 10);
			rc = hq_progress(&x.s.q, 0);
		}
		assert_non_null(strstr(x.s.q.err, malformed ? "malformed C2HTermReq"
							    : "data transfer out of range"));
		{
			struct pollfd pf = { .fd = x.s.fd, .events = POLLIN };
			uint8_t more;

			assert_int_equal(poll(&pf, 1, 5000), 1);
			assert_true(recv(x.s.fd, &more, 1, 0) <= 0);
		}
		assert_int_equal(x.s.q.state, QP_DOWN);
		assert_true(atomic_load(&x.s.c->need_reconnect));
		stub_close(&x.s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_steps),
		cmocka_unit_test(early_response_keeps_slot),
		cmocka_unit_test(io_flags_in_sqe),
		cmocka_unit_test(queued_write_goes_in_capsule),
		cmocka_unit_test(h2c_term_every_class),
		cmocka_unit_test(c2h_term_not_answered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
