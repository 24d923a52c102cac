/*
 * libnvmf's queue pair (src/host/qpair.c) against a controller played by the test itself on
 * a real loopback connection, one step at a time: the non-blocking connect (TCP, ICReq /
 * ICResp, Connect) advanced by hq_progress, and a broken controller that answers a command
 * while its capsule is still being sent: the slot is not handed out again until the
 * capsule has left, and what leaves is intact; and a write queued while connecting goes
 * out in capsule once the connection allows it.
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

#define ICD (256u * 1024)

struct stub {
	int lfd, fd;
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
 * Connect q (qid 1) to the stub, driving both ends from this thread, up to the Connect
 * sent and not answered yet (the queue pair is QP_CONNECTING).
 */
static void stub_connect_start(struct stub *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int small = 4096;
	uint8_t buf[2048];
	struct nvmf_pdu_out out;
	struct iovec iov[4];

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
	assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_IC); /* no ICResp yet: still waiting, not blocked */
	give_iov(s->fd, iov, nvmf_pdu_icresp(&out, 0, 0, 131072, iov, 4));
	while (s->q.state == QP_IC)
		assert_true(hq_progress(&s->q, 0) >= 0);
	assert_int_equal(s->q.state, QP_CONNECTING);
	assert_int_equal(s->q.connect_rc, -EINPROGRESS);
	take(s->fd, buf, 72 + sizeof(struct nvmf_connect_data));
	assert_int_equal(buf[0], NVME_TCP_CMD);
	assert_int_equal(buf[8], NVME_OPC_FABRICS);
}

/* The Connect answered: the queue pair is live. */
static void stub_connect_finish(struct stub *s)
{
	give_rsp(s->fd, (uint16_t)s->q.depth, 1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_steps),
		cmocka_unit_test(early_response_keeps_slot),
		cmocka_unit_test(io_flags_in_sqe),
		cmocka_unit_test(queued_write_goes_in_capsule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
