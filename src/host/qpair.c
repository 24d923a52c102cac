/*
 * libnvmf queue pair: one TCP connection to the controller.  IC exchange, Fabrics
 * Connect, command capsules (in-capsule data up to IOCCSZ, else R2T + H2CData in chunks of
 * at most MAXH2CDATA), C2HData into the caller's buffers (SUCCESS completes without a
 * response capsule), digests, and an H2CTermReq when the controller sends a bad PDU.
 *
 * Single-threaded: the thread that polls a queue pair owns it.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"

#define NVMF_ADMIN_ICD 8192
#define TIMEOUT_SCAN_NS 100000000ull

static struct hreq *req_by_cid(struct nvmf_qpair *q, uint16_t cid)
{
	return cid <= q->depth ? &q->reqs[cid] : NULL;
}

static void hreq_set_state(struct hreq *r, enum hreq_state s)
{
	r->state = s;
}

/* ------------------------------------------------------------------ setup */

int hq_init(struct nvmf_qpair *q, struct nvmf_ctrl *c, uint16_t qid, unsigned size)
{
	memset(q, 0, sizeof(*q));
	q->ctrl = c;
	q->qid = qid;
	q->size = size;
	/* with SQ flow control, a full queue is one entry short of its size */
	q->depth = size - 1;
	q->fd = -1;
	q->state = QP_DOWN;
	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	/* one more than the depth: the Connect's own slot, free even when every other
	 * command waits for a reconnect */
	q->reqs = calloc(q->depth + 1, sizeof(*q->reqs));
	q->staging = malloc(HOST_STAGING);
	if (q->epfd < 0 || !q->reqs || !q->staging) {
		hq_fini(q);
		return -ENOMEM;
	}
	for (unsigned i = q->depth + 1; i-- > 0;) {
		struct hreq *r = &q->reqs[i];

		r->q = q;
		r->cid = (uint16_t)i;
		r->data_tx.owner = r;
		if (i == q->depth)
			continue; /* the Connect slot */
		r->next = q->free_reqs;
		q->free_reqs = r;
	}
	return 0;
}

void hq_fini(struct nvmf_qpair *q)
{
	if (q->fd >= 0)
		close(q->fd);
	if (q->epfd >= 0)
		close(q->epfd);
	free(q->reqs);
	free(q->staging);
	q->reqs = NULL;
	q->staging = NULL;
	q->fd = q->epfd = -1;
}

/* ------------------------------------------------------------------ output */

static void tx_append(struct nvmf_qpair *q, struct htx *t)
{
	t->next = NULL;
	t->idx = 0;
	t->off = 0;
	if (q->tx_tail)
		q->tx_tail->next = t;
	else
		q->tx_head = t;
	q->tx_tail = t;
}

static void send_next_chunk(struct nvmf_qpair *q, struct hreq *r);

/* An H2CData went out: the next chunk of the R2T, if any. */
static void tx_retired(struct nvmf_qpair *q, struct htx *t)
{
	struct hreq *r = t->owner;

	if (r && r->state == HREQ_SENT && r->r2t_left)
		send_next_chunk(q, r);
}

/* One sendmsg for as much queued output as fits; 0, or -errno when the socket failed. */
static int flush_tx(struct nvmf_qpair *q)
{
	while (q->tx_head) {
		struct iovec iov[HOST_TX_IOV];
		struct msghdr msg = { .msg_iov = iov };
		int n = 0;
		ssize_t sent;

		for (struct htx *t = q->tx_head; t; t = t->next) {
			if (n + (t->cnt - t->idx) > HOST_TX_IOV)
				break;
			for (int i = t->idx; i < t->cnt; i++) {
				iov[n] = t->iov[i];
				if (i == t->idx) {
					iov[n].iov_base = (uint8_t *)iov[n].iov_base + t->off;
					iov[n].iov_len -= t->off;
				}
				n++;
			}
		}
		msg.msg_iovlen = (size_t)n;
		sent = sendmsg(q->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (sent > 0 && q->tx_head) {
			struct htx *t = q->tx_head;
			size_t left = t->iov[t->idx].iov_len - t->off;

			if ((size_t)sent < left) {
				t->off += (size_t)sent;
				break;
			}
			sent -= (ssize_t)left;
			t->off = 0;
			if (++t->idx == t->cnt) {
				q->tx_head = t->next;
				if (!q->tx_head)
					q->tx_tail = NULL;
				tx_retired(q, t);
			}
		}
	}
	return 0;
}

/* Put a queued command on the wire. */
static void issue(struct nvmf_qpair *q, struct hreq *r)
{
	int cnt = nvmf_pdu_cmd(&r->cmd_tx.out, &q->tx, &r->sqe, r->iov,
			       r->in_capsule ? r->iovcnt : 0, r->cmd_tx.iov,
			       HREQ_IOV + NVMF_PDU_OUT_EXTRA_IOV);

	r->cmd_tx.cnt = cnt;
	r->c2h_bytes = 0;
	r->r2t_left = 0;
	r->ddgst_err = false;
	r->sent_ns = host_coarse_ns();
	hreq_set_state(r, HREQ_SENT);
	q->inflight++;
	tx_append(q, &r->cmd_tx);
}

/* The head of the queue goes out whatever the state (the Connect). */
static void issue_queued_one(struct nvmf_qpair *q)
{
	struct hreq *r = q->queued_head;

	q->queued_head = r->next;
	if (!q->queued_head)
		q->queued_tail = NULL;
	issue(q, r);
}

static void issue_queued(struct nvmf_qpair *q)
{
	while (q->queued_head && q->state == QP_LIVE) {
		struct hreq *r = q->queued_head;

		q->queued_head = r->next;
		if (!q->queued_head)
			q->queued_tail = NULL;
		issue(q, r);
	}
}

/* Fill r with the command and queue it (or put it on the wire). */
static void prepare(struct nvmf_qpair *q, struct hreq *r, const struct nvme_sqe *sqe,
		    const struct iovec *iov, int iovcnt, uint32_t len, bool write,
		    nvmf_io_cb cb, void *arg)
{
	q->busy++;
	r->sqe = *sqe;
	r->sqe.cid = htole16(r->cid);
	r->sqe.flags = NVME_CMD_FLAGS_SGL;
	r->write = write && len;
	r->in_capsule = r->write && len <= q->icd_max;
	r->sqe.dptr.sgl.addr = 0;
	r->sqe.dptr.sgl.length = htole32(len);
	r->sqe.dptr.sgl.id = r->in_capsule ? NVME_SGL_ID_ICD : NVME_SGL_ID_TRANSPORT;
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
	if (q->state == QP_LIVE) {
		issue(q, r);
	} else {
		if (q->queued_tail)
			q->queued_tail->next = r;
		else
			q->queued_head = r;
		q->queued_tail = r;
	}
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
	if (out)
		*out = r;
	return 0;
}

/* ------------------------------------------------------------------ completion */

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
	q->completed++;
	q->busy--;
	hreq_set_state(r, HREQ_FREE);
	if (r->cid != q->depth) {
		r->next = q->free_reqs;
		q->free_reqs = r;
	}
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

/* ------------------------------------------------------------------ input */

/* The caller's buffers from off for len bytes, as iovecs. */
static int sub_iov(const struct hreq *r, uint32_t off, uint32_t len, struct iovec *out)
{
	int n = 0;

	for (int i = 0; i < r->iovcnt && len > 0; i++) {
		size_t l = r->iov[i].iov_len;

		if (off >= l) {
			off -= (uint32_t)l;
			continue;
		}
		out[n].iov_base = (uint8_t *)r->iov[i].iov_base + off;
		out[n].iov_len = l - off < len ? l - off : len;
		len -= (uint32_t)out[n].iov_len;
		off = 0;
		n++;
	}
	return n;
}

static void send_next_chunk(struct nvmf_qpair *q, struct hreq *r)
{
	uint32_t n = r->r2t_left < q->maxh2cdata ? r->r2t_left : q->maxh2cdata;
	int cnt = sub_iov(r, r->r2t_off, n, r->chunk);

	cnt = nvmf_pdu_h2c_data(&r->data_tx.out, &q->tx, r->cid, r->r2t_ttag, r->r2t_off,
				n == r->r2t_left, r->chunk, cnt, r->data_tx.iov,
				HREQ_IOV + NVMF_PDU_OUT_EXTRA_IOV);
	r->data_tx.cnt = cnt;
	r->r2t_off += n;
	r->r2t_left -= n;
	tx_append(q, &r->data_tx);
}

static int on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct nvmf_qpair *q = ctx;
	const union nvme_tcp_hdr *h = &rx->hdr.h;

	if (h->ch.type == NVME_TCP_C2H_DATA) {
		struct hreq *r = req_by_cid(q, le16toh(h->data.cccid));
		uint32_t off = le32toh(h->data.datao);

		if (!r || r->state != HREQ_SENT || r->write)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_data, cccid));
		if (off != r->c2h_bytes)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
						offsetof(struct nvme_tcp_data, datao));
		if ((uint64_t)off + rx->data_len > r->len)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
						offsetof(struct nvme_tcp_data, datal));
		nvmf_pdu_rx_set_dest(rx, r->chunk, sub_iov(r, off, rx->data_len, r->chunk));
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
	/* one R2T at a time (MAXR2T 0): the previous one must be done */
	if (r->r2t_left)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_LIMIT,
					offsetof(struct nvme_tcp_r2t, cccid));
	if ((uint64_t)off + len > r->len)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
					offsetof(struct nvme_tcp_r2t, r2tl));
	r->r2t_off = off;
	r->r2t_left = len;
	r->r2t_ttag = le16toh(t->ttag);
	send_next_chunk(q, r);
	return 0;
}

static int on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct nvmf_qpair *q = ctx;
	const union nvme_tcp_hdr *h = &rx->hdr.h;
	struct hreq *r;

	switch (h->ch.type) {
	case NVME_TCP_RSP:
		r = req_by_cid(q, le16toh(h->rsp.cqe.cid));
		if (!r || r->state != HREQ_SENT)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_rsp, cqe.cid));
		{
			int status = le16toh(h->rsp.cqe.status) & 0xFFFE;

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
		snprintf(q->err, sizeof(q->err), "controller terminated the connection: %s",
			 nvme_tcp_fes_name(le16toh(h->term.fes)));
		return -ECONNRESET;
	default:
		return 0;
	}
	return 0;
}

static const struct nvmf_pdu_rx_ops rx_ops = { .on_header = on_header, .on_pdu = on_pdu };

/* A bad PDU from the controller: tell it with an H2CTermReq, then the connection is done. */
static void send_term(struct nvmf_qpair *q)
{
	uint32_t len;
	const void *bad = nvmf_pdu_rx_err_hdr(&q->rx, &len);
	int cnt = nvmf_pdu_term(&q->ctl_tx.out, NVME_TCP_H2C_TERM, q->rx.fes, q->rx.fei, bad,
				len, q->ctl_tx.iov, NVMF_PDU_OUT_EXTRA_IOV + 1);

	snprintf(q->err, sizeof(q->err), "bad %s from the controller: %s (offset %u)",
		 nvme_tcp_pdu_name(q->rx.hdr.h.ch.type), nvme_tcp_fes_name(q->rx.fes), q->rx.fei);
	if (cnt > 0) {
		struct msghdr msg = { .msg_iov = q->ctl_tx.iov, .msg_iovlen = (size_t)cnt };

		/* best effort: the connection is closed right after */
		if (sendmsg(q->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* nothing more to do */
		}
	}
}

/* Receive until the socket is empty.  Returns completions, or -errno if the link is gone. */
static int receive(struct nvmf_qpair *q)
{
	uint64_t before = q->rx.pdus;

	for (int budget = 64; budget > 0; budget--) {
		bool drained = false;
		ssize_t n;
		int rc;

		if (nvmf_pdu_rx_data_left(&q->rx) >= HOST_DIRECT_READ) {
			struct iovec iov[HREQ_IOV + 2];
			int cnt = nvmf_pdu_rx_next(&q->rx, iov, HREQ_IOV + 2);

			if (cnt < 0)
				return cnt;
			n = readv(q->fd, iov, cnt);
			if (n > 0) {
				drained = (size_t)n < nvmf_iov_len(iov, cnt);
				rc = nvmf_pdu_rx_done(&q->rx, (size_t)n);
				goto parsed;
			}
		} else {
			n = recv(q->fd, q->staging, HOST_STAGING, MSG_DONTWAIT);
			if (n > 0) {
				ssize_t used = nvmf_pdu_rx_feed(&q->rx, q->staging, (size_t)n);

				drained = n < HOST_STAGING;
				rc = used < 0 ? (int)used : 0;
				goto parsed;
			}
		}
		if (n == 0) {
			snprintf(q->err, sizeof(q->err), "connection closed by the controller");
			return -ECONNRESET;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EINTR)
			continue;
		snprintf(q->err, sizeof(q->err), "receive: %s", strerror(errno));
		return -errno;
parsed:
		if (rc == -EPROTO && q->rx.fes) {
			send_term(q);
			return -EPROTO;
		}
		if (rc < 0)
			return rc;
		/*
		 * A short read emptied the socket: the recv() after it would only say EAGAIN.
		 * Returning now also lets the caller send the commands its completions
		 * submitted a syscall sooner.
		 */
		if (drained)
			break;
	}
	return (int)(q->rx.pdus - before);
}

/*
 * nvmf_qpair_fd() must wake its owner for output that waits for room in the socket, not
 * only for input: with EPOLLOUT registered exactly while something is left to send.
 */
static void watch_output(struct nvmf_qpair *q)
{
	bool want = q->tx_head != NULL;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = q };

	if (q->fd < 0 || want == q->epfd_out)
		return;
	if (epoll_ctl(q->epfd, EPOLL_CTL_MOD, q->fd, &ev) == 0)
		q->epfd_out = want;
}

int hq_progress(struct nvmf_qpair *q)
{
	uint64_t before = q->completed;
	int rc;

	if (q->state != QP_LIVE && q->state != QP_CONNECTING)
		return 0;
	issue_queued(q);
	rc = flush_tx(q);
	if (!rc) {
		rc = receive(q);
		if (rc >= 0)
			rc = flush_tx(q); /* H2CData answering R2Ts */
	}
	if (rc < 0) {
		hq_close(q, q->err[0] ? q->err : strerror(-rc));
		return rc;
	}
	watch_output(q);
	/* the controller stopped answering: treat the connection as broken (then retry) */
	if (q->ctrl->opts.io_timeout_ms && q->inflight) {
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

/* ------------------------------------------------------------------ connect / close */

void hq_close(struct nvmf_qpair *q, const char *why)
{
	struct hreq *head = NULL, *tail = NULL;

	if (q->fd >= 0) {
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->fd, NULL);
		close(q->fd);
		q->fd = -1;
	}
	if (q->state == QP_LIVE && q->qid)
		hctrl_connection_lost(q->ctrl, q, why);
	if (q->state == QP_LIVE || q->state == QP_CONNECTING)
		q->state = QP_DOWN;
	q->tx_head = q->tx_tail = NULL;
	/* commands on the wire go back to the queue, ahead of those never sent */
	for (unsigned i = 0; i < q->depth; i++) {
		struct hreq *r = &q->reqs[i];

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

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -ETIMEDOUT;
	return rc < 0 ? -errno : 0;
}

int hq_wait_readable(struct nvmf_qpair *q, int timeout_ms)
{
	struct epoll_event ev;
	int rc;

	if (q->tx_head && q->fd >= 0)
		return 0; /* output pending: the caller should poll again */
	do
		rc = epoll_wait(q->epfd, &ev, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : rc;
}

static int tcp_connect(struct nvmf_qpair *q, int timeout_ms)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int fd = -1, rc, one = 1, err = 0;
	socklen_t el = sizeof(err);

	rc = getaddrinfo(c->traddr, c->trsvcid, &hints, &res);
	if (rc) {
		snprintf(q->err, sizeof(q->err), "%s:%s: %s", c->traddr, c->trsvcid,
			 gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->host_traddr[0]) {
		struct addrinfo *local = NULL;

		if (getaddrinfo(c->host_traddr, NULL, &hints, &local) == 0) {
			rc = bind(fd, local->ai_addr, local->ai_addrlen);
			freeaddrinfo(local);
			if (rc < 0) {
				rc = -errno;
				snprintf(q->err, sizeof(q->err), "bind %s: %s", c->host_traddr,
					 strerror(errno));
				goto out;
			}
		}
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	rc = wait_fd(fd, POLLOUT, timeout_ms);
	if (!rc && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
		rc = -err;
out:
	freeaddrinfo(res);
	if (rc) {
		if (!q->err[0])
			snprintf(q->err, sizeof(q->err), "connect to %s:%s: %s", c->traddr,
				 c->trsvcid, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	q->fd = fd;
	return 0;
}

/* Blocking: send everything queued, within timeout. */
static int flush_all(struct nvmf_qpair *q, int timeout_ms)
{
	while (q->tx_head) {
		int rc = flush_tx(q);

		if (rc)
			return rc;
		if (q->tx_head && (rc = wait_fd(q->fd, POLLOUT, timeout_ms)))
			return rc;
	}
	return 0;
}

/* The IC exchange, blocking. */
static int ic_exchange(struct nvmf_qpair *q, int timeout_ms)
{
	struct nvmf_ctrl *c = q->ctrl;
	uint8_t dgst = (c->opts.hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
		       (c->opts.ddgst ? NVME_TCP_DDGST_ENABLE : 0);
	const struct nvme_tcp_icresp *ic;
	int cnt, rc;

	cnt = nvmf_pdu_icreq(&q->ctl_tx.out, 0, dgst, 0, q->ctl_tx.iov,
			     NVMF_PDU_OUT_EXTRA_IOV + 1);
	q->ctl_tx.cnt = cnt;
	tx_append(q, &q->ctl_tx);
	rc = flush_all(q, timeout_ms);
	while (!rc && !q->rx.ic_done) {
		rc = wait_fd(q->fd, POLLIN, timeout_ms);
		if (!rc) {
			ssize_t n = recv(q->fd, q->staging, sizeof(struct nvme_tcp_icresp),
					 MSG_DONTWAIT);

			if (n == 0)
				rc = -ECONNRESET;
			else if (n < 0)
				rc = errno == EAGAIN ? 0 : -errno;
			else if (nvmf_pdu_rx_feed(&q->rx, q->staging, (size_t)n) < 0)
				rc = -EPROTO;
		}
	}
	if (rc) {
		snprintf(q->err, sizeof(q->err), "ICReq: %s%s", strerror(-rc),
			 rc == -EPROTO ? " (bad ICResp)" : "");
		return rc;
	}
	ic = &q->rx.hdr.h.icresp;
	/* a controller may decline a digest we asked for, never add one we did not */
	if (ic->dgst & ~dgst) {
		snprintf(q->err, sizeof(q->err), "ICResp enables digests we did not ask for");
		return -EPROTO;
	}
	q->tx.hdgst = ic->dgst & NVME_TCP_HDGST_ENABLE;
	q->tx.ddgst = ic->dgst & NVME_TCP_DDGST_ENABLE;
	q->tx.pda = ic->cpda;
	q->maxh2cdata = le32toh(ic->maxh2cdata);
	nvmf_pdu_rx_set_digests(&q->rx, q->tx.hdgst, q->tx.ddgst);
	return 0;
}

int hq_connect(struct nvmf_qpair *q, uint16_t cntlid, unsigned kato_ms, int timeout_ms)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct nvmf_pdu_rx_cfg rxcfg = { .role = NVMF_PDU_ROLE_HOST };
	struct epoll_event ev = { .events = EPOLLIN };
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data d;
	struct nvme_cqe cqe;
	struct iovec iov = { &d, sizeof(d) };
	struct hreq *r;
	uint64_t deadline;
	int status = -EINPROGRESS, rc;

	q->err[0] = 0;
	rc = tcp_connect(q, timeout_ms);
	if (rc)
		return rc;
	nvmf_pdu_rx_init(&q->rx, &rxcfg, &rx_ops, q);
	q->tx_head = q->tx_tail = NULL;
	rc = ic_exchange(q, timeout_ms);
	if (rc)
		goto fail;
	ev.data.ptr = q;
	epoll_ctl(q->epfd, EPOLL_CTL_ADD, q->fd, &ev);
	q->epfd_out = false;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_CONNECT;
	cmd.qid = htole16(q->qid);
	cmd.sqsize = htole16((uint16_t)(q->size - 1));
	cmd.kato = htole32(q->qid ? 0 : kato_ms);
	if (q->qid && c->opts.disable_sqflow)
		cmd.cattr = NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	memset(&d, 0, sizeof(d));
	memcpy(d.hostid, c->hostid, sizeof(d.hostid));
	d.cntlid = htole16(cntlid);
	/* NQN fields are 256 bytes, NUL padded (the NQN is at most 223) */
	memcpy(d.subnqn, c->subnqn, strnlen(c->subnqn, sizeof(d.subnqn) - 1));
	memcpy(d.hostnqn, c->hostnqn, strnlen(c->hostnqn, sizeof(d.hostnqn) - 1));

	/* the Connect goes in capsule: every controller takes 8 KiB on any queue's Connect */
	q->icd_max = NVMF_ADMIN_ICD;
	/*
	 * The Connect goes alone, in its own slot, ahead of the commands that wait for
	 * this connection: they follow once it succeeded (QP_CONNECTING holds them).
	 */
	q->state = QP_CONNECTING;
	r = &q->reqs[q->depth];
	{
		struct hreq *waiting = q->queued_head, *waiting_tail = q->queued_tail;

		q->queued_head = q->queued_tail = NULL;
		prepare(q, r, (struct nvme_sqe *)&cmd, &iov, 1, sizeof(d), true, NULL, NULL);
		issue_queued_one(q);
		q->queued_head = waiting;
		q->queued_tail = waiting_tail;
	}
	r->sync_status = &status;
	r->sync_cqe = &cqe;
	deadline = host_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	while (status == -EINPROGRESS) {
		rc = hq_progress(q);
		if (rc < 0)
			goto fail;
		if (status != -EINPROGRESS)
			break;
		if (host_now_ns() > deadline) {
			rc = -ETIMEDOUT;
			goto fail;
		}
		hq_wait_readable(q, 100);
	}
	if (status) {
		snprintf(q->err, sizeof(q->err), "Connect qid %u refused: status 0x%x%s", q->qid,
			 status, nvme_status_sc((uint16_t)status) == NVMF_SC_CONNECT_INVALID_HOST &&
			 nvme_status_sct((uint16_t)status) == NVME_SCT_CMD_SPECIFIC
				 ? " (host not allowed)" : "");
		rc = -ECONNREFUSED;
		goto fail;
	}
	if (q->qid == 0)
		c->cntlid = (uint16_t)le32toh(cqe.dw0);
	q->state = QP_LIVE;
	q->sqflow_disabled = cmd.cattr & NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	if (q->qid) {
		const struct nvme_id_ctrl *id = (const struct nvme_id_ctrl *)c->id;
		uint32_t ioccsz = le32toh(id->ioccsz);

		q->icd_max = ioccsz >= 4 ? ioccsz * 16 - 64 : 0;
	}
	return 0;
fail:
	if (!q->err[0])
		snprintf(q->err, sizeof(q->err), "qid %u: %s", q->qid, strerror(-rc));
	if (q->fd >= 0) {
		epoll_ctl(q->epfd, EPOLL_CTL_DEL, q->fd, NULL);
		close(q->fd);
		q->fd = -1;
	}
	/* the Connect itself is not retried: drop it */
	r = &q->reqs[q->depth];
	if (r->state != HREQ_FREE) {
		r->sync_status = NULL;
		r->sync_cqe = NULL;
		complete(q, r, -ECONNABORTED, NULL);
	}
	q->inflight = 0;
	q->state = QP_DOWN;
	/* commands that were on the wire wait for the next try */
	for (unsigned i = 0; i < q->depth; i++)
		if (q->reqs[i].state == HREQ_SENT) {
			struct hreq *x = &q->reqs[i];

			hreq_set_state(x, HREQ_QUEUED);
			x->next = q->queued_head;
			q->queued_head = x;
			if (!q->queued_tail)
				q->queued_tail = x;
		}
	return rc ? rc : -EIO;
}
