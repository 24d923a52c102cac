/*
 * libnvmf queue pair: one NVMe/TCP connection to the controller (a struct nvmf_conn from
 * src/conn).  Connecting is a state machine advanced by hq_progress() and the socket's
 * readiness (TCP connect, the TLS handshake when TLS is on (tls.c), ICReq/ICResp, Fabrics
 * Connect, DH-HMAC-CHAP when the controller asks for it (auth.c), each step with its
 * deadline), so polling never blocks.  Then:
 * command capsules (in-capsule data up to IOCCSZ, else R2T + H2CData in chunks of at most
 * MAXH2CDATA), C2HData into the caller's buffers (SUCCESS completes without a response
 * capsule), digests, and an H2CTermReq when the controller sends a bad PDU.
 *
 * Single-threaded: the thread that polls a queue pair owns it.
 */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/tls.h"
#include "proto/term.h"
#include "host/host.h"
#include "host/log.h"

#define TIMEOUT_SCAN_NS 100000000ull
#define RX_BUDGET 64              /* reads per poll: then the caller gets its turn back */

static struct hreq *req_by_cid(struct nvmf_qpair *q, uint16_t cid)
{
	return cid <= q->depth ? &q->reqs[cid] : NULL;
}

static void hreq_set_state(struct hreq *r, enum hreq_state s)
{
	r->state = s;
}

static void cmd_tx_done(struct nvmf_conn_tx *t, int err);
static void data_tx_done(struct nvmf_conn_tx *t, int err);

/* ------------------------------------------------------------------ setup */

int hq_init(struct nvmf_qpair *q, struct nvmf_ctrl *c, uint16_t qid, unsigned size)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(q, 0, sizeof(*q));
	q->ctrl = c;
	q->qid = qid;
	q->size = size;
	/* with SQ flow control, a full queue is one entry short of its size */
	q->depth = size - 1;
	q->conn.fd = -1;
	q->state = QP_DOWN;
	q->connect_rc = -ENOTCONN;
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* one more than the depth: the Connect's own slot, free even when every other
	 * command waits for a reconnect */
	q->reqs = calloc(q->depth + 1, sizeof(*q->reqs));
	ev.data.ptr = &q->kick_fd;
	if (q->epfd < 0 || q->kick_fd < 0 || !q->reqs ||
	    epoll_ctl(q->epfd, EPOLL_CTL_ADD, q->kick_fd, &ev) < 0) {
		hq_fini(q);
		return -ENOMEM;
	}
	q->ctl_tx.tx.iov = q->ctl_tx.iov;
	for (unsigned i = q->depth + 1; i-- > 0;) {
		struct hreq *r = &q->reqs[i];

		r->q = q;
		r->cid = (uint16_t)i;
		r->cmd_tx.owner = r;
		r->cmd_tx.tx.iov = r->cmd_tx.iov;
		r->cmd_tx.tx.done = cmd_tx_done;
		r->data_tx.owner = r;
		r->data_tx.tx.iov = r->data_tx.iov;
		r->data_tx.tx.done = data_tx_done;
		if (i == q->depth)
			continue; /* the Connect slot */
		r->next = q->free_reqs;
		q->free_reqs = r;
	}
	return 0;
}

void hq_fini(struct nvmf_qpair *q)
{
	hauth_free(q);
	if (q->conn.fd >= 0 || q->conn.staging)
		nvmf_conn_close(&q->conn);
	if (q->epfd >= 0)
		close(q->epfd);
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	free(q->reqs);
	q->reqs = NULL;
	q->conn.fd = q->epfd = q->kick_fd = -1;
}

/* ------------------------------------------------------------------ requests */

static void req_release(struct nvmf_qpair *q, struct hreq *r)
{
	hreq_set_state(r, HREQ_FREE);
	if (r->cid != q->depth) {
		r->next = q->free_reqs;
		q->free_reqs = r;
	}
}

/* A RETIRING request's last queued PDU is gone: its slot may be reused now. */
static void maybe_release(struct hreq *r)
{
	if (r->state == HREQ_RETIRING && !r->cmd_tx.tx.queued && !r->data_tx.tx.queued)
		req_release(r->q, r);
}

static void complete(struct nvmf_qpair *q, struct hreq *r, int status,
		     const struct nvme_cqe *cqe)
{
	nvmf_io_cb cb = r->cb;
	void *arg = r->arg;

	if (r->sync_status)
		*r->sync_status = status;
	if (r->sync_cqe && cqe)
		*r->sync_cqe = *cqe;
	if (r->state == HREQ_SENT)
		q->inflight--;
	q->busy--;
	/* the Connect (its own slot) is no completion of the caller's */
	if (r->cid != q->depth) {
		q->completed++;
		if (q->poll_max > 1)
			q->poll_max--;
	}
	/*
	 * A response for a command whose PDUs are still queued (only a broken controller
	 * answers before it got the command): the queue still links them, so the slot must
	 * not be handed out again until they have left.
	 */
	if (r->cmd_tx.tx.queued || r->data_tx.tx.queued)
		hreq_set_state(r, HREQ_RETIRING);
	else
		req_release(q, r);
	if (cb)
		cb(arg, status, cqe);
}

void hq_fail_all(struct nvmf_qpair *q, int status)
{
	struct hreq *r;

	while ((r = q->queued_head)) {
		q->queued_head = r->next;
		if (!q->queued_head)
			q->queued_tail = NULL;
		complete(q, r, status, NULL);
	}
	for (unsigned i = 0; i < q->depth; i++)
		if (q->reqs[i].state == HREQ_SENT)
			complete(q, &q->reqs[i], status, NULL);
}

/* ------------------------------------------------------------------ output */

static void send_next_chunk(struct nvmf_qpair *q, struct hreq *r);

static void cmd_tx_done(struct nvmf_conn_tx *t, int err)
{
	(void)err;
	maybe_release(((struct htx *)t)->owner);
}

/* An H2CData went out: the next chunk of the R2T, if any. */
static void data_tx_done(struct nvmf_conn_tx *t, int err)
{
	struct hreq *r = ((struct htx *)t)->owner;

	if (!err && r->state == HREQ_SENT && r->r2t_left)
		send_next_chunk(r->q, r);
	maybe_release(r);
}

/*
 * Put a command on the wire; -errno when its capsule cannot be built (r stays unsent).
 *
 * Whether write data travels in the capsule is decided here, by what this connection
 * accepts, not when the command was built: a command queued while the queue pair
 * reconnected was built under the Connect's 8 KiB, and goes out on a connection that takes
 * the controller's full in-capsule size.  That matters: the Linux target sends no R2T for
 * a write that fits its inline data size yet comes without data (nvmet_tcp_queue_response()
 * holds the response back, waiting for inline data that never arrives), so such a write
 * would never complete.
 */
static int issue(struct nvmf_qpair *q, struct hreq *r)
{
	int cnt, rc;

	r->in_capsule = r->write && r->len <= q->icd_max;
	r->sqe.dptr.sgl.id = r->in_capsule ? NVME_SGL_ID_ICD : NVME_SGL_ID_TRANSPORT;
	cnt = nvmf_pdu_cmd(&r->cmd_tx.out, &q->conn.txcfg, &r->sqe, r->iov,
			   r->in_capsule ? r->iovcnt : 0, r->cmd_tx.iov, HTX_IOV);
	rc = nvmf_conn_queue(&q->conn, &r->cmd_tx.tx, cnt);
	if (rc) {
		snprintf(q->err, sizeof(q->err), "qid %u cid %u: cannot build the command capsule",
			 q->qid, r->cid);
		return rc;
	}
	r->c2h_bytes = 0;
	r->r2t_left = 0;
	r->r2t_next = 0;
	r->ddgst_err = false;
	r->sent_ns = host_coarse_ns();
	hreq_set_state(r, HREQ_SENT);
	q->inflight++;
	return 0;
}

static void issue_queued(struct nvmf_qpair *q)
{
	while (q->queued_head && q->state == QP_LIVE && !q->conn.shut) {
		struct hreq *r = q->queued_head;
		int rc;

		q->queued_head = r->next;
		if (!q->queued_head)
			q->queued_tail = NULL;
		rc = issue(q, r);
		if (rc)
			complete(q, r, rc, NULL);
	}
}

/* Fill r with the command; it goes out when the queue pair is live. */
static void prepare(struct nvmf_qpair *q, struct hreq *r, const struct nvme_sqe *sqe,
		    const struct iovec *iov, int iovcnt, uint32_t len, bool write,
		    nvmf_io_cb cb, void *arg)
{
	q->busy++;
	r->sqe = *sqe;
	r->sqe.cid = htole16(r->cid);
	r->sqe.flags = NVME_CMD_FLAGS_SGL;
	r->write = write && len;
	r->sqe.dptr.sgl.addr = 0;
	r->sqe.dptr.sgl.length = htole32(len);
	/* in capsule or not: decided by issue(), on the connection it goes out on */
	if (iovcnt)
		memcpy(r->iov, iov, (size_t)iovcnt * sizeof(*iov));
	r->iovcnt = iovcnt;
	r->len = len;
	r->cb = cb;
	r->arg = arg;
	r->sync_status = NULL;
	r->sync_cqe = NULL;
	r->no_timeout = false;
	r->next = NULL;
	hreq_set_state(r, HREQ_QUEUED);
}

static void enqueue(struct nvmf_qpair *q, struct hreq *r)
{
	if (q->queued_tail)
		q->queued_tail->next = r;
	else
		q->queued_head = r;
	q->queued_tail = r;
}

int hq_submit(struct nvmf_qpair *q, const struct nvme_sqe *sqe, const struct iovec *iov,
	      int iovcnt, uint32_t len, bool write, nvmf_io_cb cb, void *arg,
	      struct hreq **out)
{
	struct hreq *r = q->free_reqs;

	if (q->state == QP_DEAD)
		return -ENODEV;
	if (iovcnt > HREQ_IOV || iovcnt < 0)
		return -EINVAL;
	if (!r)
		return -EAGAIN;
	q->free_reqs = r->next;
	prepare(q, r, sqe, iov, iovcnt, len, write, cb, arg);
	if (q->state == QP_LIVE && !q->conn.shut) {
		int rc = issue(q, r);

		if (rc) {
			q->busy--;
			req_release(q, r);
			return rc;
		}
	} else {
		enqueue(q, r);
	}
	if (out)
		*out = r;
	return 0;
}

/* ------------------------------------------------------------------ input */

static void send_next_chunk(struct nvmf_qpair *q, struct hreq *r)
{
	uint32_t n = r->r2t_left < q->maxh2cdata ? r->r2t_left : q->maxh2cdata;
	int cnt = nvmf_iov_slice(r->iov, r->iovcnt, r->r2t_off, n, r->chunk, HREQ_IOV);

	if (cnt >= 0)
		cnt = nvmf_pdu_h2c_data(&r->data_tx.out, &q->conn.txcfg, r->cid, r->r2t_ttag,
					r->r2t_off, n == r->r2t_left, r->chunk, cnt,
					r->data_tx.iov, HTX_IOV);
	r->r2t_off += n;
	r->r2t_left -= n;
	if (nvmf_conn_queue(&q->conn, &r->data_tx.tx, cnt)) {
		/* the command will never get its data: the connection is of no more use */
		snprintf(q->err, sizeof(q->err), "qid %u cid %u: cannot build H2CData", q->qid,
			 r->cid);
		nvmf_conn_shutdown(&q->conn);
	}
}

static int on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct nvmf_qpair *q = ctx;
	const union nvme_tcp_hdr *h = &rx->hdr.h;

	if (h->ch.type == NVME_TCP_C2H_DATA) {
		struct hreq *r = req_by_cid(q, le16toh(h->data.cccid));
		uint32_t off = le32toh(h->data.datao);
		int n;

		if (!r || r->state != HREQ_SENT || r->write)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_data, cccid));
		if (off != r->c2h_bytes)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
						offsetof(struct nvme_tcp_data, datao));
		n = nvmf_iov_slice(r->iov, r->iovcnt, off, rx->data_len, r->chunk, HREQ_IOV);
		if (n < 0)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
						offsetof(struct nvme_tcp_data, datal));
		nvmf_pdu_rx_set_dest(rx, r->chunk, n);
	}
	return 0;
}

static int on_r2t(struct nvmf_qpair *q, struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_r2t *t = &rx->hdr.h.r2t;
	struct hreq *r = req_by_cid(q, le16toh(t->cccid));
	uint32_t off = le32toh(t->r2to), len = le32toh(t->r2tl);

	if (!r || r->state != HREQ_SENT || !r->write || r->in_capsule)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
					offsetof(struct nvme_tcp_r2t, cccid));
	/*
	 * We offer MAXR2T 0: one R2T outstanding per command, until its last H2CData has
	 * left.  (SPDK's host holds a second one back until then instead; the Linux and our
	 * targets send one R2T for all the data, so neither ever sees this.)
	 */
	if (r->r2t_left || r->data_tx.tx.queued)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_R2T_LIMIT,
					offsetof(struct nvme_tcp_r2t, cccid));
	/* data is asked for in order, as the Linux and SPDK hosts require too */
	if (off != r->r2t_next)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
					offsetof(struct nvme_tcp_r2t, r2to));
	if ((uint64_t)off + len > r->len)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
					offsetof(struct nvme_tcp_r2t, r2tl));
	r->r2t_off = off;
	r->r2t_left = len;
	r->r2t_next = off + len;
	r->r2t_ttag = le16toh(t->ttag);
	send_next_chunk(q, r);
	return 0;
}

static void send_connect(struct nvmf_qpair *q);
static void connect_cb(void *arg, int status, const struct nvme_cqe *cqe);

static int on_icresp(struct nvmf_qpair *q, struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_icresp *ic = &rx->hdr.h.icresp;
	struct nvmf_ctrl *c = q->ctrl;
	uint8_t dgst = (c->opts.hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
		       (c->opts.ddgst ? NVME_TCP_DDGST_ENABLE : 0);

	/* a controller may decline a digest we asked for, never add one we did not */
	if (ic->dgst & ~dgst)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
					offsetof(struct nvme_tcp_icresp, dgst));
	q->conn.txcfg.hdgst = ic->dgst & NVME_TCP_HDGST_ENABLE;
	q->conn.txcfg.ddgst = ic->dgst & NVME_TCP_DDGST_ENABLE;
	q->conn.txcfg.pda = ic->cpda;
	q->maxh2cdata = le32toh(ic->maxh2cdata);
	nvmf_pdu_rx_set_digests(rx, q->conn.txcfg.hdgst, q->conn.txcfg.ddgst);
	send_connect(q);
	return 0;
}

static int on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct nvmf_qpair *q = ctx;
	const union nvme_tcp_hdr *h = &rx->hdr.h;
	struct hreq *r;

	switch (h->ch.type) {
	case NVME_TCP_ICRESP:
		return on_icresp(q, rx);
	case NVME_TCP_RSP:
		r = req_by_cid(q, le16toh(h->rsp.cqe.cid));
		if (!r || r->state != HREQ_SENT)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_rsp, cqe.cid));
		{
			/* the status field without the phase tag */
			int status = le16toh(h->rsp.cqe.status) & (uint16_t)~NVME_STATUS_P;

			if (!status && r->ddgst_err)
				status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR);
			complete(q, r, status, &h->rsp.cqe);
		}
		break;
	case NVME_TCP_C2H_DATA:
		r = req_by_cid(q, le16toh(h->data.cccid));
		r->c2h_bytes += rx->data_len;
		if (rx->ddgst_err)
			r->ddgst_err = true;
		if (h->ch.flags & NVME_TCP_F_DATA_SUCCESS) {
			struct nvme_cqe cqe;

			if (r->c2h_bytes != r->len)
				return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
							offsetof(struct nvme_tcp_ch, flags));
			memset(&cqe, 0, sizeof(cqe));
			cqe.cid = htole16(r->cid);
			cqe.sqid = htole16(q->qid);
			complete(q, r, r->ddgst_err ? NVME_STATUS(NVME_SCT_GENERIC,
								  NVME_SC_DATA_XFER_ERROR) : 0,
				 &cqe);
		} else {
			return 0;
		}
		break;
	case NVME_TCP_R2T:
		return on_r2t(q, rx);
	case NVME_TCP_C2H_TERM:
		snprintf(q->err, sizeof(q->err),
			 "controller terminated the connection: %s (FEI %#x)",
			 nvme_tcp_fes_name(NVME_TCP_C2H_TERM, le16toh(h->term.fes)),
			 le32toh(h->term.fei));
		return -ECONNRESET;
	default:
		return 0;
	}
	/* nvmf_qpair_poll's max: stop after this completion, the rest stays parsed-later */
	return q->poll_max == 1 ? NVMF_PDU_RX_PAUSE : 0;
}

static const struct nvmf_pdu_rx_ops rx_ops = { .on_header = on_header, .on_pdu = on_pdu };

/* ------------------------------------------------------------------ event registration */

/*
 * nvmf_qpair_fd() must wake its owner for everything hq_progress can do: input, output
 * that waits for room in the socket (EPOLLOUT exactly while something is left to send, or
 * while the TCP connect is in progress), what the TLS handshake waits for, and input
 * already read but not yet parsed because a poll's max was reached, or held decrypted by
 * OpenSSL where the fd does not announce it (kick_fd).
 */
static void watch(struct nvmf_qpair *q)
{
	uint32_t want = q->state == QP_SOCKET ? EPOLLOUT
			: q->state == QP_TLS ? (q->tls_want == NVMF_TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN)
			: EPOLLIN | (nvmf_conn_tx_pending(&q->conn) ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = q };
	bool kick = q->conn.stage_len > 0 ||
		    (q->conn.fd >= 0 && q->conn.sock && q->state > QP_TLS &&
		     nvmf_conn_has_buffered(&q->conn));

	if (q->conn.fd >= 0 && want != q->epfd_events &&
	    epoll_ctl(q->epfd, q->epfd_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, q->conn.fd,
		      &ev) == 0)
		q->epfd_events = want;
	if (kick != q->kicked) {
		uint64_t v = 1;

		if (kick ? write(q->kick_fd, &v, sizeof(v)) == sizeof(v)
			 : read(q->kick_fd, &v, sizeof(v)) == sizeof(v))
			q->kicked = kick;
	}
}

static void unwatch(struct nvmf_qpair *q)
{
	if (q->conn.fd >= 0 && q->epfd_events)
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->conn.fd, NULL);
	q->epfd_events = 0;
}

/* ------------------------------------------------------------------ connect / close */

/* Commands that were on the wire go back to the queue, ahead of those never sent. */
static void requeue_sent(struct nvmf_qpair *q)
{
	struct hreq *head = NULL, *tail = NULL;

	for (unsigned i = 0; i < q->depth; i++) {
		struct hreq *r = &q->reqs[i];

		if (r->state == HREQ_RETIRING) {
			/* its PDUs are dropped with the connection: the slot is free */
			req_release(q, r);
			continue;
		}
		if (r->state != HREQ_SENT)
			continue;
		hreq_set_state(r, HREQ_QUEUED);
		r->next = NULL;
		if (tail)
			tail->next = r;
		else
			head = r;
		tail = r;
	}
	if (head) {
		tail->next = q->queued_head;
		if (!q->queued_head)
			q->queued_tail = tail;
		q->queued_head = head;
	}
	q->inflight = 0;
}

static void drop_connection(struct nvmf_qpair *q)
{
	/*
	 * Abort, do not close: the commands still in the kernel's send queue are requeued and
	 * go out again (maybe on another path).  A graceful close would let the kernel deliver
	 * the old copies once the link is back -- stale writes landing after newer ones.  As
	 * the kernel host (sock_no_linger), drop them and reset the connection.  Not after an
	 * H2CTermReq: a reset would throw it away unsent, and the spec wants the controller
	 * told; the link works then (the controller broke the protocol, it did not vanish).
	 */
	if (q->conn.fd >= 0 && !q->conn.close_after_tx) {
		struct linger abort_now = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(q->conn.fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
	}
	unwatch(q);
	nvmf_conn_close(&q->conn);
	q->conn.stage_len = 0;
	watch(q); /* clears the kick */
}

/* A connect step failed: the Connect itself is not retried, the commands wait. */
static void connect_failed(struct nvmf_qpair *q, int rc, const char *why)
{
	struct hreq *r = &q->reqs[q->depth];

	if (!q->err[0] || why)
		snprintf(q->err, sizeof(q->err), "qid %u: %s", q->qid, why ? why : strerror(-rc));
	hauth_free(q);
	drop_connection(q);
	q->state = QP_DOWN;
	q->connect_rc = rc ? rc : -EIO;
	if (r->state != HREQ_FREE) {
		r->sync_status = NULL;
		r->sync_cqe = NULL;
		if (r->state == HREQ_SENT)
			q->inflight--;
		q->busy--;
		req_release(q, r);
	}
	requeue_sent(q);
}

void hq_close(struct nvmf_qpair *q, const char *why)
{
	if (q->state == QP_SOCKET || q->state == QP_TLS || q->state == QP_IC ||
	    q->state == QP_CONNECTING || q->state == QP_AUTH) {
		connect_failed(q, -ECONNABORTED, why == q->err ? NULL : why);
		return;
	}
	drop_connection(q);
	/*
	 * An I/O connection lost: the controller reconnects as a whole.  Not when it belonged
	 * to an association the controller already left (it reconnected meanwhile): that
	 * would start a second, needless reconnect.
	 */
	if (q->state == QP_LIVE && q->qid &&
	    q->generation == atomic_load(&q->ctrl->generation))
		hctrl_connection_lost(q->ctrl, q, why);
	if (q->state == QP_LIVE)
		q->state = QP_DOWN;
	requeue_sent(q);
}

void hq_abort_all(struct nvmf_qpair *q, int status)
{
	if (q->state == QP_SOCKET || q->state == QP_TLS || q->state == QP_IC ||
	    q->state == QP_CONNECTING || q->state == QP_AUTH) {
		connect_failed(q, -ECONNABORTED, "commands moved to another path");
	} else if (q->state == QP_LIVE) {
		drop_connection(q);
		q->state = QP_DOWN;
		requeue_sent(q);
	}
	hq_fail_all(q, status);
}

static void step_deadline(struct nvmf_qpair *q)
{
	q->step_deadline_ns = host_now_ns() + (uint64_t)q->connect_timeout_ms * 1000000ull;
}

int hq_connect_start(struct nvmf_qpair *q, uint16_t cntlid, unsigned kato_ms,
		     unsigned timeout_ms)
{
	struct nvmf_ctrl *c = q->ctrl;
	int fd, one = 1, rc;

	q->err[0] = 0;
	if (q->state != QP_DOWN)
		return -EBUSY;
	q->connect_cntlid = cntlid;
	q->connect_kato_ms = kato_ms;
	q->connect_timeout_ms = timeout_ms;
	fd = nvmf_sock_open(c->addr.ss_family, c->opts.mptcp, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -EPROTONOSUPPORT) {
		/* MPTCP falls back to TCP with a peer that lacks it: so here, said once */
		if (!atomic_exchange(&c->mptcp_warned, true))
			host_log(LOG_WARNING, "%s: MPTCP asked but %s: connecting over plain TCP",
				 c->subnqn, nvmf_sock_mptcp_unavailable());
		fd = nvmf_sock_open(c->addr.ss_family, false, SOCK_CLOEXEC | SOCK_NONBLOCK);
	}
	if (fd < 0) {
		snprintf(q->err, sizeof(q->err), "socket: %s", strerror(-fd));
		return fd;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->local_addr_len && bind(fd, (struct sockaddr *)&c->local_addr,
				      c->local_addr_len) < 0) {
		rc = -errno;
		snprintf(q->err, sizeof(q->err), "bind %s: %s", c->host_traddr, strerror(errno));
		close(fd);
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&c->addr, c->addr_len) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		snprintf(q->err, sizeof(q->err), "connect to %s:%s: %s", c->traddr, c->trsvcid,
			 strerror(errno));
		close(fd);
		return rc;
	}
	q->conn.fd = fd;
	q->conn.sock = &nvmf_sock_tcp;
	q->conn.shut = false;
	q->state = QP_SOCKET;
	q->connect_rc = -EINPROGRESS;
	step_deadline(q);
	watch(q);
	return 0;
}

/* The ICReq opens the NVMe/TCP connection (inside TLS when it is on). */
static int send_icreq(struct nvmf_qpair *q)
{
	struct nvmf_ctrl *c = q->ctrl;
	uint8_t dgst = (c->opts.hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
		       (c->opts.ddgst ? NVME_TCP_DDGST_ENABLE : 0);
	int cnt = nvmf_pdu_icreq(&q->ctl_tx.out, 0, dgst, 0, q->ctl_tx.iov, HTX_IOV);

	if (nvmf_conn_queue(&q->conn, &q->ctl_tx.tx, cnt)) {
		snprintf(q->err, sizeof(q->err), "cannot build the ICReq");
		return -EINVAL;
	}
	q->state = QP_IC;
	step_deadline(q);
	return 0;
}

/* The TCP connect finished: set up the connection, then the TLS handshake or the ICReq. */
static int socket_connected(struct nvmf_qpair *q)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct nvmf_pdu_rx_cfg rxcfg = { .role = NVMF_PDU_ROLE_HOST };
	int fd = q->conn.fd, err = 0, rc;
	socklen_t el = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		snprintf(q->err, sizeof(q->err), "connect to %s:%s: %s", c->traddr, c->trsvcid,
			 strerror(err));
		return -err;
	}
	unwatch(q);
	if (nvmf_conn_init(&q->conn, fd, &nvmf_sock_tcp, &rxcfg, &rx_ops, q))
		return -ENOMEM;
	/* the admin queue says what the controller's port made of MPTCP (the I/O queues
	 * go the same way) */
	if (c->opts.mptcp && !q->qid && nvmf_sock_mptcp_subflows(fd) == 0)
		host_log(LOG_NOTICE, "%s: %s:%s does not speak MPTCP: plain TCP (fallback)",
			 c->subnqn, c->traddr, c->trsvcid);
	if (!c->tls.on)
		return send_icreq(q);
	rc = htls_start(q);
	if (rc)
		return rc;
	q->state = QP_TLS;
	/* the Linux host and target give the handshake 10 s: the step timeout */
	step_deadline(q);
	return 0;
}

/* Advance the TLS handshake; once done, the ICReq.  0, or -errno: it failed. */
static int tls_step(struct nvmf_qpair *q)
{
	int rc = htls_step(q);

	if (rc == 0)
		return send_icreq(q);
	if (rc == 1 && host_now_ns() > q->step_deadline_ns) {
		snprintf(q->err, sizeof(q->err),
			 "TLS handshake with %s:%s (qid %u) not done in time (%u ms)",
			 q->ctrl->traddr, q->ctrl->trsvcid, q->qid, q->connect_timeout_ms);
		return -ETIMEDOUT;
	}
	return rc == 1 ? 0 : rc;
}

/* ICResp in: the Connect goes alone, in its own slot, ahead of the waiting commands. */
static void send_connect(struct nvmf_qpair *q)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data *d = &q->connect_data;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_CONNECT;
	cmd.qid = htole16(q->qid);
	cmd.sqsize = htole16((uint16_t)(q->size - 1));
	cmd.kato = htole32(q->qid ? 0 : q->connect_kato_ms);
	if (q->qid && c->opts.disable_sqflow)
		cmd.cattr = NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	memset(d, 0, sizeof(*d));
	memcpy(d->hostid, c->hostid, sizeof(d->hostid));
	d->cntlid = htole16(q->connect_cntlid);
	/* NQN fields are 256 bytes, NUL padded (the NQN is at most 223) */
	memcpy(d->subnqn, c->subnqn, strnlen(c->subnqn, sizeof(d->subnqn) - 1));
	memcpy(d->hostnqn, c->hostnqn, strnlen(c->hostnqn, sizeof(d->hostnqn) - 1));
	/* the Connect goes in capsule: every controller takes 8 KiB on any queue's Connect */
	q->icd_max = NVME_TCP_ADMIN_ICD_DEFAULT;
	q->sqflow_disabled = cmd.cattr & NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	q->state = QP_CONNECTING;
	if (hq_submit_connect_cmd(q, (struct nvme_sqe *)&cmd, d, sizeof(*d), true, connect_cb))
		q->connect_rc = -EINVAL;
}

int hq_submit_connect_cmd(struct nvmf_qpair *q, const struct nvme_sqe *sqe, void *buf,
			  uint32_t len, bool write, nvmf_io_cb cb)
{
	struct hreq *r = &q->reqs[q->depth];
	struct iovec iov = { buf, len };
	int rc;

	/* RETIRING: answered while its capsule was still queued, which still links the slot */
	if (r->state != HREQ_FREE)
		return -EBUSY;
	step_deadline(q);
	prepare(q, r, sqe, &iov, len ? 1 : 0, len, write, cb, q);
	r->no_timeout = true; /* the step deadline covers it */
	rc = issue(q, r);
	if (rc) {
		q->busy--;
		req_release(q, r);
	}
	return rc;
}

void hq_set_live(struct nvmf_qpair *q)
{
	q->state = QP_LIVE;
	q->connect_rc = 0;
}

/* The Connect's response (from complete(), inside the receive path). */
static void connect_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_qpair *q = arg;
	struct nvmf_ctrl *c = q->ctrl;
	int rc;

	if (status) {
		bool bad_host = nvme_status_sct((uint16_t)status) == NVME_SCT_CMD_SPECIFIC &&
				nvme_status_sc((uint16_t)status) == NVMF_SC_CONNECT_INVALID_HOST;

		snprintf(q->err, sizeof(q->err), "Connect qid %u refused: status 0x%x%s", q->qid,
			 status, bad_host ? " (host not allowed)" : "");
		q->connect_rc = -ECONNREFUSED;
		return;
	}
	if (q->qid == 0)
		c->cntlid = (uint16_t)le32toh(cqe->dw0);
	/* before authenticating: an I/O queue's Authentication Send takes its in-capsule size */
	if (q->qid)
		q->icd_max = atomic_load(&c->io_icd);
	rc = hauth_connected(q, le32toh(cqe->dw0));
	if (rc < 0)
		q->connect_rc = rc;
	else if (rc == 0)
		hq_set_live(q);
}

/* Advance a connect in progress past the TCP step.  0, or -errno: it failed. */
static int socket_step(struct nvmf_qpair *q)
{
	struct pollfd p = { .fd = q->conn.fd, .events = POLLOUT };

	if (poll(&p, 1, 0) == 1)
		return socket_connected(q);
	return 0;
}

/* ------------------------------------------------------------------ progress */

int hq_progress(struct nvmf_qpair *q, unsigned max)
{
	uint64_t before = q->completed;
	bool connecting;
	int rc = 0;

	if (q->state == QP_DOWN || q->state == QP_DEAD)
		return 0;
	if (q->state == QP_SOCKET) {
		rc = socket_step(q);
		if (q->state == QP_SOCKET && !rc) {
			if (host_now_ns() > q->step_deadline_ns)
				rc = -ETIMEDOUT;
			else
				return 0;
		}
		if (rc) {
			connect_failed(q, rc, NULL);
			return rc;
		}
	}
	if (q->state == QP_TLS) {
		rc = tls_step(q);
		if (rc) {
			connect_failed(q, rc, NULL);
			return rc;
		}
		if (q->state == QP_TLS) {
			watch(q);
			return 0;
		}
	}
	connecting = q->state != QP_LIVE;
	q->poll_max = max ? max + 1 : 0;
	issue_queued(q);
	rc = nvmf_conn_flush(&q->conn);
	if (rc >= 0) {
		rc = nvmf_conn_receive(&q->conn, RX_BUDGET);
		if (rc >= 0) {
			issue_queued(q); /* a Connect that just succeeded lets the others go */
			rc = nvmf_conn_flush(&q->conn); /* H2CData answering R2Ts */
		}
	}
	q->poll_max = 0;
	if (rc == -EPROTO && q->conn.rx.fes) {
		snprintf(q->err, sizeof(q->err), "bad %s from the controller: %s (FEI %#x)",
			 nvme_tcp_pdu_name(q->conn.rx.hdr.h.ch.type),
			 nvme_tcp_fes_name(NVME_TCP_H2C_TERM, q->conn.rx.fes), q->conn.rx.fei);
		/* tell the controller, best effort: the connection is closed right after */
		if (nvmf_conn_queue_term(&q->conn) == 0)
			nvmf_conn_flush(&q->conn);
	}
	if (rc == -ENOTCONN && !q->err[0])
		snprintf(q->err, sizeof(q->err), "connection closed by the controller");
	/* a C2HTermReq too malformed to read still ends the connection (not answered) */
	if (rc == -ECONNRESET && !q->err[0] && q->conn.rx.state == NVMF_RX_ERROR &&
	    !q->conn.rx.fes && q->conn.rx.hdr.h.ch.type == NVME_TCP_C2H_TERM)
		snprintf(q->err, sizeof(q->err), "controller terminated the connection: "
			 "malformed C2HTermReq");
	if (rc < 0 && !q->err[0])
		snprintf(q->err, sizeof(q->err), "%s", strerror(-rc));
	if (connecting) {
		const char *why = NULL;

		if (rc >= 0 && q->connect_rc != -EINPROGRESS && q->connect_rc != 0) {
			rc = q->connect_rc;
		} else if (rc >= 0 && q->state != QP_LIVE && host_now_ns() > q->step_deadline_ns) {
			rc = -ETIMEDOUT;
			why = q->state == QP_IC ? "no ICResp in time"
			      : q->state == QP_AUTH ? "authentication step not answered in time"
						    : "Connect not answered in time";
		}
		/*
		 * Whatever ended a failed authentication (the Failure2 answered, the controller
		 * closing, no answer), the authentication failure is what the caller learns.
		 */
		if (rc < 0 && q->state == QP_AUTH) {
			int arc = hauth_failed(q);

			if (arc) {
				rc = arc;
				why = NULL;
			}
		}
		if (rc < 0) {
			connect_failed(q, rc, why);
			return rc;
		}
	}
	if (rc < 0) {
		hq_close(q, q->err);
		return rc;
	}
	watch(q);
	/* the controller stopped answering: treat the connection as broken (then retry) */
	if (q->ctrl->opts.io_timeout_ms && q->inflight && q->state == QP_LIVE) {
		uint64_t now = host_coarse_ns();

		if (now - q->last_timeout_scan_ns > TIMEOUT_SCAN_NS) {
			uint64_t limit = (uint64_t)q->ctrl->opts.io_timeout_ms * 1000000ull;

			q->last_timeout_scan_ns = now;
			for (unsigned i = 0; i < q->depth; i++) {
				if (q->reqs[i].state == HREQ_SENT && !q->reqs[i].no_timeout &&
				    now - q->reqs[i].sent_ns > limit) {
					snprintf(q->err, sizeof(q->err),
						 "command %u timed out after %u ms", i,
						 q->ctrl->opts.io_timeout_ms);
					hq_close(q, q->err);
					return -ETIMEDOUT;
				}
			}
		}
	}
	return (int)(q->completed - before);
}

int hq_wait_readable(struct nvmf_qpair *q, int timeout_ms)
{
	struct epoll_event ev;
	int rc;

	/*
	 * Output submitted but not tried yet: the caller should poll.  Output the socket had
	 * no room for is waited for (EPOLLOUT is registered then).
	 */
	if (nvmf_conn_tx_pending(&q->conn) && q->conn.fd >= 0 && q->state != QP_SOCKET &&
	    q->state != QP_TLS && !(q->epfd_events & EPOLLOUT))
		return 0;
	do
		rc = epoll_wait(q->epfd, &ev, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : rc;
}

int hq_connect(struct nvmf_qpair *q, uint16_t cntlid, unsigned kato_ms, unsigned timeout_ms)
{
	int rc = hq_connect_start(q, cntlid, kato_ms, timeout_ms);

	while (!rc && q->connect_rc == -EINPROGRESS) {
		rc = hq_progress(q, 0);
		if (rc >= 0 && q->connect_rc == -EINPROGRESS)
			rc = hq_wait_readable(q, 100);
		if (rc > 0)
			rc = 0;
	}
	return rc < 0 ? rc : q->connect_rc;
}
