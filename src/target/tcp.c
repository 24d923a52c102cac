/*
 * NVMe/TCP transport, target side: listening ports, one connection per queue, the IC
 * exchange, command capsules with in-capsule data, R2T + H2CData for larger writes,
 * C2HData for reads (SUCCESS without a CapsuleResp when the host disabled SQ flow control),
 * digests, and a C2HTermReq with the right FES on any protocol error.
 *
 * Each connection lives on one reactor and is a struct nvmf_conn (src/conn: socket ops,
 * output queue, receive loop, TermReq).  Input: a multishot poll tells the socket is
 * readable, then nvmf_conn_receive() drains it; large payloads land straight in the
 * request's buffers.  Output: PDUs are queued on the connection and flushed once per loop
 * iteration (a deferred work item) with one sendmsg().
 *
 * Request states (the core's, target.h; one place changes them: set_state, which checks
 * the move against the core's table and keeps the queue's per-state counts):
 *   FREE -> CAPSULE (header seen, in-capsule data arriving)
 *        [-> NEED_BUFFER (the reactor's buffer pool is exhausted: waits its turn)]
 *        -> NEED_H2C (R2T queued, H2CData arriving) -> EXECUTING -> RESPONDING -> FREE
 */
#include <arpa/inet.h>
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn.h"
#include "conn/tls.h"
#include "proto/term.h"
#include "target/target.h"
#include "target/tcp.h"
#include "util/log.h"

/*
 * Requests are allocated in blocks of this many, as commands come: an idle queue holds one
 * block (its Connect, an AER), not the 2 x queue size it may grow to (the Linux host's I/O
 * queues have 128 entries: ~400 KiB of requests per idle association when allocated at
 * Connect).
 */
#define REQ_BLOCK 4
/*
 * A queue that took no command for this long gives back the requests above its first
 * block (those whose blocks are all free): a burst does not leave an idle association
 * holding 2 x queue size requests for the rest of its life.
 */
#define REQ_IDLE_NS (5ull * 1000000000ull)
#define RX_BUDGET 64              /* reads per readiness event before others get a turn */
/*
 * Back-pressure: a connection stops taking commands while the data of its reads, from the
 * command until its C2HData is sent, passes this, and takes them again below half of it.
 * A host that sends reads and never reads its socket then holds at most this (plus one
 * command's transfer) of the target's memory, not 2 x queue size x MDTS (file backend:
 * 256 MiB per 128-entry queue), and its commands wait in its own socket (TCP flow
 * control).  8 MiB keeps a fast host's pipeline full (128 KiB reads at QD16: 2 MiB).
 */
#define TX_BACKLOG_MAX (8u << 20)
#define TX_IOV (NVMF_REQ_IOV + NVMF_PDU_OUT_EXTRA_IOV)
#define MAXH2CDATA NVMF_MAX_XFER  /* one H2CData can carry a whole command */
/* the Linux host and target's tls_handshake_timeout */
/*
 * Each stage of a new connection's setup -- the TLS handshake, then ICReq and Connect --
 * must end within this, or the connection is dropped: half-open connections must not pile
 * up until the descriptors run out.
 */
#define SETUP_NS (10ull * 1000000000ull)

/* The core's request states by their names in this transport. */
#define REQ_FREE NVMF_REQ_FREE
#define REQ_CAPSULE NVMF_REQ_NEW
#define REQ_NEED_BUFFER NVMF_REQ_NEED_BUFFER
#define REQ_NEED_H2C NVMF_REQ_TRANSFER_H2C
#define REQ_EXECUTING NVMF_REQ_EXECUTING
#define REQ_RESPONDING NVMF_REQ_RESPONDING

struct tcp_req {
	struct nvmf_req req;
	struct tcp_queue *q;
	enum nvmf_req_state state; /* set_state() only */
	uint16_t ttag;
	uint16_t init_status;    /* parse failed: complete with it once the capsule is in */
	bool ddgst_err;
	uint32_t h2c_done;       /* bytes of H2C data received */
	uint32_t resp_bytes;     /* read data counted in the queue's resp_bytes */
	struct iovec h2c_iov[NVMF_REQ_IOV];
	struct nvmf_pdu_out out_a; /* R2T or C2HData */
	struct nvmf_pdu_out out_b; /* CapsuleResp */
	struct nvmf_conn_tx tx_a, tx_b;
	struct iovec iov_a[TX_IOV], iov_b[TX_IOV];
	struct tcp_req *next_free;
};

enum tcp_queue_state {
	Q_TLS_PEEK,   /* TLS port: ICReq (plaintext) or ClientHello (TLS)? */
	Q_TLS_HANDSHAKE,
	Q_WAIT_IC,
	Q_LIVE,
	Q_DRAINING,   /* no new commands: finish what is in flight, then close */
	Q_CLOSING,    /* socket shut: waiting for io_uring and backends to let go */
};

struct tcp_queue {
	struct nvmf_sq sq;
	struct nvmf_conn conn;
	enum tcp_queue_state state;

	struct nvmf_event poll_in_ev;
	struct nvmf_event poll_out_ev;
	bool poll_in_armed, poll_out_armed;
	bool tls_optional;     /* the TLS port's treq is "not required": plaintext may stay */
	struct nvmf_deferred flush_work;
	struct nvmf_deferred reap_work;
	struct nvmf_spin_rx spin_rx;   /* the reactor reads this queue itself while it spins */
	struct nvmf_timer setup_timer; /* the current setup stage's deadline (SETUP_NS) */
	struct nvmf_pdu_out ctl_out; /* ICResp */
	struct iovec ctl_iov[NVMF_PDU_OUT_EXTRA_IOV + 1];
	struct nvmf_conn_tx ctl_tx;

	struct tcp_req **blocks;
	unsigned nblocks, nreqs;
	unsigned max_reqs;        /* nreqs may grow to this: 2 x the queue size once connected */
	uint64_t last_cmd_ns;     /* when the last command came (REQ_IDLE_NS) */
	struct nvmf_timer idle_timer; /* gives back requests after REQ_IDLE_NS */
	struct tcp_req *free_reqs;
	unsigned busy_reqs;
	struct tcp_req *cur;      /* the command whose capsule is being received */
	size_t resp_bytes;        /* data of reads not yet sent (TX_BACKLOG_MAX) */
	bool rx_held;             /* over TX_BACKLOG_MAX: no commands are read */

	struct tcp_queue *next;   /* the reactor's list of queues */
};

static __thread struct tcp_queue *reactor_queues;
/*
 * The receive staging buffer of every connection on this reactor (conn.h): a connection
 * parses all it received before the reactor moves on, so one buffer serves them all.  It
 * lives while the reactor has connections.
 */
static __thread uint8_t *reactor_staging;
/*
 * This reactor drained for shutdown: a connection handed to it afterwards (accepted by
 * another reactor just before that one stopped accepting) is closed, not set up: no drain
 * would come for it.
 */
static __thread bool reactor_draining;

static const struct nvmf_transport_ops tcp_ops;

static struct tcp_queue *sq_queue(struct nvmf_sq *sq)
{
	return (struct tcp_queue *)((char *)sq - offsetof(struct tcp_queue, sq));
}

static struct tcp_req *to_tcp_req(struct nvmf_req *req)
{
	return (struct tcp_req *)((char *)req - offsetof(struct tcp_req, req));
}

static void queue_close(struct tcp_queue *q, const char *why);
static void queue_maybe_free(struct tcp_queue *q);
static void flush_tx(struct nvmf_deferred *d);
static void tls_step(struct tcp_queue *q);

/* ------------------------------------------------------------------ requests */

static int grow_reqs(struct tcp_queue *q, unsigned want)
{
	while (q->nreqs < want) {
		struct tcp_req **nb = realloc(q->blocks, (q->nblocks + 1) * sizeof(*nb));
		struct tcp_req *blk;

		if (!nb)
			return -ENOMEM;
		q->blocks = nb;
		blk = calloc(REQ_BLOCK, sizeof(*blk));
		if (!blk)
			return -ENOMEM;
		q->blocks[q->nblocks++] = blk;
		for (unsigned i = 0; i < REQ_BLOCK; i++) {
			blk[i].q = q;
			blk[i].ttag = (uint16_t)(q->nreqs + i);
			blk[i].state = REQ_FREE;
			blk[i].tx_a.iov = blk[i].iov_a;
			blk[i].tx_b.iov = blk[i].iov_b;
			blk[i].next_free = q->free_reqs;
			q->free_reqs = &blk[i];
		}
		q->nreqs += REQ_BLOCK;
		__atomic_store_n(&q->sq.req_states.n[REQ_FREE],
				 q->sq.req_states.n[REQ_FREE] + REQ_BLOCK, __ATOMIC_RELAXED);
	}
	return 0;
}

static struct tcp_req *req_by_ttag(struct tcp_queue *q, uint16_t ttag)
{
	if (ttag >= q->nreqs)
		return NULL;
	return &q->blocks[ttag / REQ_BLOCK][ttag % REQ_BLOCK];
}

/* Free, and no PDU of it waits on the connection (a C2HData before its response). */
static bool block_idle(const struct tcp_req *blk)
{
	for (unsigned i = 0; i < REQ_BLOCK; i++)
		if (blk[i].state != REQ_FREE || blk[i].tx_a.queued || blk[i].tx_b.queued)
			return false;
	return true;
}

/* Free the trailing blocks whose requests are all idle; the first block always stays. */
static void shrink_reqs(struct tcp_queue *q)
{
	unsigned keep = q->nblocks, before = q->nreqs;
	struct tcp_req **nb;

	while (keep > 1 && block_idle(q->blocks[keep - 1]))
		keep--;
	if (keep == q->nblocks)
		return;
	for (unsigned b = keep; b < q->nblocks; b++)
		free(q->blocks[b]);
	q->sq.req_states.n[REQ_FREE] -= (q->nblocks - keep) * REQ_BLOCK;
	q->nblocks = keep;
	q->nreqs = keep * REQ_BLOCK;
	nb = realloc(q->blocks, keep * sizeof(*nb));
	if (nb)
		q->blocks = nb;
	/* the free list threaded through the freed blocks too: build it from what is left */
	q->free_reqs = NULL;
	for (unsigned i = q->nreqs; i-- > 0;) {
		struct tcp_req *r = req_by_ttag(q, (uint16_t)i);

		if (r->state == REQ_FREE) {
			r->next_free = q->free_reqs;
			q->free_reqs = r;
		}
	}
	log_debug("%s: qid %u: idle: %u of %u requests given back", q->conn.peer, q->sq.qid,
		  before - q->nreqs, before);
}

static void reqs_idle(struct nvmf_timer *t)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)t - offsetof(struct tcp_queue,
									idle_timer));
	uint64_t idle = q->sq.reactor->now_ns - q->last_cmd_ns;

	if (q->state != Q_LIVE)
		return; /* closing: everything goes soon */
	if (idle < REQ_IDLE_NS) {
		nvmf_timer_arm(q->sq.reactor, &q->idle_timer, REQ_IDLE_NS - idle);
		return;
	}
	shrink_reqs(q);
	/* some are still busy (an AER parked in the controller, a read not yet sent) */
	if (q->nblocks > 1)
		nvmf_timer_arm(q->sq.reactor, &q->idle_timer, REQ_IDLE_NS);
}

/* Every state change of a request goes through here (checked, counted per queue). */
static void set_state(struct tcp_req *r, enum nvmf_req_state s)
{
	nvmf_req_set_state(&r->q->sq.req_states, &r->state, s);
}

/* A free request, allocating a block when all are in use; NULL: none (errno says why). */
static struct tcp_req *req_get(struct tcp_queue *q)
{
	struct tcp_req *r;

	if (!q->free_reqs) {
		if (q->nreqs >= q->max_reqs) {
			errno = ENOSPC;
			return NULL;
		}
		if (grow_reqs(q, q->nreqs + REQ_BLOCK)) {
			errno = ENOMEM;
			return NULL;
		}
		if (!q->idle_timer.armed)
			nvmf_timer_arm(q->sq.reactor, &q->idle_timer, REQ_IDLE_NS);
	}
	r = q->free_reqs;
	q->last_cmd_ns = q->sq.reactor->now_ns;
	q->free_reqs = r->next_free;
	set_state(r, REQ_CAPSULE);
	r->init_status = 0;
	r->ddgst_err = false;
	r->h2c_done = 0;
	q->busy_reqs++;
	return r;
}

static void req_put(struct tcp_req *r)
{
	struct tcp_queue *q = r->q;

	if (r->state == REQ_NEED_BUFFER)
		nvmf_req_cancel_wait_data(&r->req);
	nvmf_req_free_data(&r->req);
	nvmf_req_release(&r->req); /* after the data: RAM reads sent from the namespace */
	set_state(r, REQ_FREE);
	r->next_free = q->free_reqs;
	q->free_reqs = r;
	q->busy_reqs--;
	if (r->resp_bytes) {
		q->resp_bytes -= r->resp_bytes;
		r->resp_bytes = 0;
		if (q->rx_held && q->resp_bytes <= TX_BACKLOG_MAX / 2) {
			/* the host reads again: take its commands (reap_work reads) */
			q->rx_held = false;
			log_debug("%s: qid %u: backlog down to %zu bytes: reading commands again",
				  q->conn.peer, q->sq.qid, q->resp_bytes);
			if (q->state == Q_LIVE)
				nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
		}
	}
	if (q->state == Q_DRAINING || q->state == Q_CLOSING)
		nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
}

/* ------------------------------------------------------------------ output */

/* Queue a PDU (cnt: its builder's result) and flush at the end of this loop iteration. */
static int tx_queue(struct tcp_queue *q, struct nvmf_conn_tx *t, int cnt)
{
	int rc = nvmf_conn_queue(&q->conn, t, cnt);

	if (rc == 0)
		nvmf_reactor_defer(q->sq.reactor, &q->flush_work);
	return rc;
}

/* A response (or a C2HData with SUCCESS) is out, or dropped with the connection. */
static void tx_a_release(struct nvmf_conn_tx *t, int err)
{
	(void)err;
	req_put((struct tcp_req *)((char *)t - offsetof(struct tcp_req, tx_a)));
}

static void tx_b_release(struct nvmf_conn_tx *t, int err)
{
	(void)err;
	req_put((struct tcp_req *)((char *)t - offsetof(struct tcp_req, tx_b)));
}

static void on_poll_out(struct nvmf_event *ev, int res, uint32_t flags)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)ev -
						   offsetof(struct tcp_queue, poll_out_ev));

	(void)flags;
	q->poll_out_armed = false;
	if (q->state == Q_CLOSING) {
		queue_maybe_free(q);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		queue_close(q, strerror(-res));
		return;
	}
	if (q->state == Q_TLS_HANDSHAKE) {
		tls_step(q);
		return;
	}
	flush_tx(&q->flush_work);
}

static void arm_poll_out(struct tcp_queue *q)
{
	struct io_uring_sqe *sqe;

	if (q->poll_out_armed)
		return;
	sqe = nvmf_reactor_sqe(q->sq.reactor, &q->poll_out_ev);
	io_uring_prep_poll_add(sqe, q->conn.fd, POLLOUT);
	q->poll_out_armed = true;
}

/* Deferred: one sendmsg for as much of the queued output as fits. */
static void flush_tx(struct nvmf_deferred *d)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)d - offsetof(struct tcp_queue,
									flush_work));
	int rc;

	if (q->state == Q_CLOSING)
		return;
	rc = nvmf_conn_flush(&q->conn);
	if (rc == NVMF_CONN_BLOCKED) {
		arm_poll_out(q);
		return;
	}
	if (rc < 0) {
		queue_close(q, strerror(-rc));
		return;
	}
	if (q->conn.close_after_tx) {
		queue_close(q, "protocol error");
		return;
	}
	/* a flush may have followed a read OpenSSL cut short: its bytes do not wake the fd */
	if ((q->state == Q_WAIT_IC || q->state == Q_LIVE) && nvmf_conn_has_buffered(&q->conn))
		nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
}

/* Terminate the connection: C2HTermReq with the receive path's FES, then close. */
static void send_term(struct tcp_queue *q)
{
	const struct nvmf_pdu_rx *rx = &q->conn.rx;

	log_err("%s: qid %u: protocol error: %s (FES %u, FEI %#x) in %s at stream offset %llu",
		q->conn.peer, q->sq.qid, nvme_tcp_fes_name(NVME_TCP_C2H_TERM, rx->fes), rx->fes,
		rx->fei, nvme_tcp_pdu_name(rx->hdr.h.ch.type), (unsigned long long)rx->stream_off);
	if (rx->fes == NVME_TCP_FES_HDR_DIGEST)
		nvmf_stat_add(&q->sq.conn_stats.hdgst_err, 1);
	if (nvmf_conn_queue_term(&q->conn)) {
		queue_close(q, "cannot build C2HTermReq");
		return;
	}
	nvmf_stat_add(&q->sq.conn_stats.termreq_sent, 1);
	nvmf_reactor_defer(q->sq.reactor, &q->flush_work);
}

/* ------------------------------------------------------------------ commands */

static void req_execute(struct tcp_req *r)
{
	set_state(r, REQ_EXECUTING);
	r->req.execute(&r->req);
}

static void send_r2t(struct tcp_req *r)
{
	struct tcp_queue *q = r->q;
	int cnt = nvmf_pdu_r2t(&r->out_a, &q->conn.txcfg, le16toh(r->req.cmd.cid), r->ttag, 0,
			       r->req.xfer_len, r->tx_a.iov, TX_IOV);

	if (cnt < 0) {
		/* a negative count queued would wedge the tx list: fail the command instead */
		log_err("%s: qid %u cid %u: cannot build R2T: %s", q->conn.peer, q->sq.qid,
			le16toh(r->req.cmd.cid), strerror(-cnt));
		nvmf_req_complete(&r->req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	set_state(r, REQ_NEED_H2C);
	r->tx_a.done = NULL;
	if (tx_queue(q, &r->tx_a, cnt)) {
		log_err("%s: qid %u cid %u: cannot build R2T", q->conn.peer, q->sq.qid,
			le16toh(r->req.cmd.cid));
		queue_close(q, "cannot build R2T");
	}
}

/* The transport's half of completion: data (reads), then the response capsule. */
static void tcp_queue_response(struct nvmf_req *req)
{
	struct tcp_req *r = to_tcp_req(req);
	struct tcp_queue *q = r->q;
	bool data = req->dir == NVME_XFER_CTRL_TO_HOST && req->xfer_len &&
		    nvme_status_is_success(le16toh(req->cqe.status));
	int cnt;

	set_state(r, REQ_RESPONDING);
	if (q->state == Q_CLOSING) {
		req_put(r);
		return;
	}
	if (data) {
		/*
		 * With SQ flow control off the host needs no SQHD: a clean read ends with
		 * C2HData SUCCESS and no response capsule (one PDU instead of two).
		 */
		bool success = q->sq.sqflow_disabled && req->cqe.dw0 == 0 && req->cqe.dw1 == 0;

		cnt = nvmf_pdu_c2h_data(&r->out_a, &q->conn.txcfg, le16toh(req->cmd.cid), 0,
					NVME_TCP_F_DATA_LAST |
						(success ? NVME_TCP_F_DATA_SUCCESS : 0),
					req->iov, req->iovcnt, r->tx_a.iov, TX_IOV);
		r->tx_a.done = success ? tx_a_release : NULL;
		if (tx_queue(q, &r->tx_a, cnt)) {
			log_err("%s: qid %u cid %u: cannot build C2HData", q->conn.peer,
				q->sq.qid, le16toh(req->cmd.cid));
			req->cqe.status = htole16(NVMF_SC(NVME_SC_INTERNAL));
		} else if (success) {
			return;
		}
	}
	cnt = nvmf_pdu_rsp(&r->out_b, &q->conn.txcfg, &req->cqe, r->tx_b.iov, TX_IOV);
	r->tx_b.done = tx_b_release;
	if (tx_queue(q, &r->tx_b, cnt)) {
		log_err("%s: qid %u cid %u: cannot build CapsuleResp", q->conn.peer, q->sq.qid,
			le16toh(req->cmd.cid));
		req_put(r);
		queue_close(q, "cannot build CapsuleResp");
	}
}

/*
 * Write data goes where the request wants it; into a RAM namespace (borrowed buffers) it is
 * stored past the caches: nobody reads it soon, and copying into cold memory otherwise
 * first reads every line (4k randwrite QD32: ~30 % of the target in that copy).
 */
static void set_data_dest(struct nvmf_pdu_rx *rx, const struct nvmf_req *req,
			  const struct iovec *iov, int cnt)
{
	if (req->iov_borrowed)
		nvmf_pdu_rx_set_dest_nt(rx, iov, cnt);
	else
		nvmf_pdu_rx_set_dest(rx, iov, cnt);
}

/* ------------------------------------------------------------------ PDU callbacks */

static int on_cmd_header(struct tcp_queue *q, struct nvmf_pdu_rx *rx)
{
	struct tcp_req *r;
	uint16_t status;

	/*
	 * Past its controller's keep-alive timeout (the timer has not run yet: the target was
	 * stalled) a command is neither run nor answered: the connection closes, as the timer
	 * would have closed it, and the host resubmits the command on its new association.
	 */
	if (q->sq.ctrl && !nvmf_tgt_ctrl_alive(q->sq.ctrl, q->sq.reactor->now_ns))
		return -ESTALE;
	r = req_get(q);
	if (!r && errno == ENOMEM) {
		log_err("%s: qid %u cid %u: out of memory for a request", q->conn.peer,
			q->sq.qid, le16toh(rx->hdr.h.cmd.sqe.cid));
		return -ENOMEM;
	}
	if (!r) {
		/* more commands in flight than the queue has entries: the host is broken */
		log_err("%s: qid %u: command beyond queue size %u", q->conn.peer, q->sq.qid,
			q->sq.size);
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_PDU_SEQUENCE, 0);
	}
	r->req.cmd = rx->hdr.h.cmd.sqe;
	q->cur = r;
	status = nvmf_req_init(&r->req, &q->sq, rx->data_len);
	if (status) {
		r->init_status = status;
		return 0; /* any in-capsule data is dropped */
	}
	if (r->req.dir == NVME_XFER_CTRL_TO_HOST) {
		r->resp_bytes = r->req.xfer_len;
		q->resp_bytes += r->resp_bytes;
	}
	if (r->req.in_capsule) {
		/* the handler may already have pointed the data at its final place (RAM) */
		if (!r->req.iovcnt && nvmf_req_alloc_data(&r->req)) {
			r->init_status = NVMF_SC(NVME_SC_INTERNAL);
			return 0;
		}
		set_data_dest(rx, &r->req, r->req.iov, r->req.iovcnt);
	}
	return 0;
}

/* Point the H2CData payload at [datao, datao + datal) of the request's buffers. */
static void h2c_dest(struct tcp_req *r, uint32_t datao, uint32_t datal)
{
	int n = nvmf_iov_slice(r->req.iov, r->req.iovcnt, datao, datal, r->h2c_iov,
			       NVMF_REQ_IOV);

	/* on_h2c_header checked the range against xfer_len, which the buffers hold */
	set_data_dest(&r->q->conn.rx, &r->req, r->h2c_iov, n < 0 ? 0 : n);
}

static int on_h2c_header(struct tcp_queue *q, struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_data *h = &rx->hdr.h.data;
	struct tcp_req *r = req_by_ttag(q, le16toh(h->ttag));
	uint32_t datao = le32toh(h->datao), datal = le32toh(h->datal);

	if (!r || r->state != REQ_NEED_H2C)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
					offsetof(struct nvme_tcp_data, ttag));
	if (le16toh(h->cccid) != le16toh(r->req.cmd.cid))
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
					offsetof(struct nvme_tcp_data, cccid));
	if (datao != r->h2c_done)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
					offsetof(struct nvme_tcp_data, datao));
	if ((uint64_t)datao + datal > r->req.xfer_len)
		return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE,
					offsetof(struct nvme_tcp_data, datal));
	h2c_dest(r, datao, datal);
	return 0;
}

static int rx_on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct tcp_queue *q = ctx;

	switch (rx->hdr.h.ch.type) {
	case NVME_TCP_CMD:
		return on_cmd_header(q, rx);
	case NVME_TCP_H2C_DATA:
		return on_h2c_header(q, rx);
	default:
		return 0;
	}
}

static void on_icreq(struct tcp_queue *q, struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_icreq *ic = &rx->hdr.h.icreq;
	bool hd = ic->dgst & NVME_TCP_HDGST_ENABLE, dd = ic->dgst & NVME_TCP_DDGST_ENABLE;
	int cnt;

	q->conn.txcfg.hdgst = hd;
	q->conn.txcfg.ddgst = dd;
	q->conn.txcfg.pda = ic->hpda;
	nvmf_pdu_rx_set_digests(rx, hd, dd);
	cnt = nvmf_pdu_icresp(&q->ctl_out, 0, ic->dgst, MAXH2CDATA, q->ctl_tx.iov,
			      NVMF_PDU_OUT_EXTRA_IOV + 1);
	if (tx_queue(q, &q->ctl_tx, cnt)) {
		log_err("%s: qid %u: cannot build ICResp: %s", q->conn.peer, q->sq.qid,
			strerror(-cnt));
		queue_close(q, "cannot build ICResp");
		return;
	}
	q->state = Q_LIVE;
	log_debug("%s: ICReq: hpda %u, digests %s%s", q->conn.peer, ic->hpda,
		  hd ? "header " : "", dd ? "data" : "");
}

/* The buffers a write waited for are there (deferred, on the queue's reactor). */
static void on_buffer(struct nvmf_req *req)
{
	send_r2t(to_tcp_req(req));
}

static void on_cmd_pdu(struct tcp_queue *q, struct nvmf_pdu_rx *rx)
{
	struct tcp_req *r = q->cur;

	q->cur = NULL;
	if (r->init_status) {
		nvmf_req_complete(&r->req, r->init_status);
		return;
	}
	if (rx->ddgst_err) {
		log_err("%s: qid %u cid %u: data digest error in command capsule", q->conn.peer,
			q->sq.qid, le16toh(r->req.cmd.cid));
		nvmf_stat_add(&q->sq.conn_stats.ddgst_err, 1);
		nvmf_req_complete(&r->req, NVMF_SC(NVME_SC_TRANSIENT_TRANSPORT));
		return;
	}
	if (r->req.dir == NVME_XFER_HOST_TO_CTRL && !r->req.in_capsule && r->req.xfer_len) {
		if (!r->req.iovcnt && nvmf_req_alloc_data(&r->req)) {
			/* the reactor's buffers are all in use: wait for one (as SPDK's) */
			set_state(r, REQ_NEED_BUFFER);
			nvmf_req_wait_data(&r->req, on_buffer);
			return;
		}
		send_r2t(r);
		return;
	}
	req_execute(r);
}

static void on_h2c_pdu(struct tcp_queue *q, struct nvmf_pdu_rx *rx)
{
	struct tcp_req *r = req_by_ttag(q, le16toh(rx->hdr.h.data.ttag));

	r->h2c_done += rx->data_len;
	if (rx->ddgst_err) {
		log_err("%s: qid %u cid %u: data digest error in H2CData", q->conn.peer, q->sq.qid,
			le16toh(r->req.cmd.cid));
		nvmf_stat_add(&q->sq.conn_stats.ddgst_err, 1);
		r->ddgst_err = true;
	}
	if (r->h2c_done < r->req.xfer_len)
		return;
	if (r->ddgst_err) {
		set_state(r, REQ_EXECUTING);
		nvmf_req_complete(&r->req, NVMF_SC(NVME_SC_TRANSIENT_TRANSPORT));
		return;
	}
	req_execute(r);
}

static int rx_on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct tcp_queue *q = ctx;

	switch (rx->hdr.h.ch.type) {
	case NVME_TCP_ICREQ:
		on_icreq(q, rx);
		break;
	case NVME_TCP_CMD:
		on_cmd_pdu(q, rx);
		if (q->resp_bytes >= TX_BACKLOG_MAX && q->state == Q_LIVE) {
			/* the host does not read fast enough: leave its commands in the socket */
			q->rx_held = true;
			log_debug("%s: qid %u: %zu bytes of reads not sent: not reading commands",
				  q->conn.peer, q->sq.qid, q->resp_bytes);
			return NVMF_PDU_RX_PAUSE;
		}
		break;
	case NVME_TCP_H2C_DATA:
		on_h2c_pdu(q, rx);
		break;
	case NVME_TCP_H2C_TERM:
		log_warn("%s: qid %u: host terminated the connection: %s (FES %u, FEI %#x)",
			 q->conn.peer, q->sq.qid,
			 nvme_tcp_fes_name(NVME_TCP_H2C_TERM, le16toh(rx->hdr.h.term.fes)),
			 le16toh(rx->hdr.h.term.fes), le32toh(rx->hdr.h.term.fei));
		nvmf_stat_add(&q->sq.conn_stats.termreq_recv, 1);
		return -ECONNRESET;
	}
	return 0;
}

static const struct nvmf_pdu_rx_ops rx_ops = {
	.on_header = rx_on_header,
	.on_pdu = rx_on_pdu,
};

/* ------------------------------------------------------------------ input */

static void arm_poll_in(struct tcp_queue *q);
static void tls_peek(struct tcp_queue *q);

/* Read and parse until the socket is empty. */
static void read_input(struct tcp_queue *q)
{
	int rc;

	if (q->rx_held)
		return; /* req_put() reads again when the backlog is down */
	rc = nvmf_conn_receive(&q->conn, RX_BUDGET);

	if (rc == -EPROTO && q->conn.rx.fes) {
		send_term(q);
		return;
	}
	if (rc < 0) {
		queue_close(q, rc == -ENOTCONN ? "connection closed by host"
			       : rc == -ECONNRESET ? "H2CTermReq"
			       : rc == -ESTALE ? "a command for a controller torn down or past its "
						 "keep-alive timeout (not run)"
			       : strerror(-rc));
		return;
	}
	/*
	 * budget used up with data possibly left, or TLS in user space holding decrypted
	 * bytes the fd does not announce: come back after others had their turn
	 */
	if ((rc == NVMF_CONN_MORE ||
	     (rc == NVMF_CONN_PAUSED && nvmf_conn_has_buffered(&q->conn))) &&
	    (q->state == Q_LIVE || q->state == Q_WAIT_IC))
		nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
}

static void on_poll_in(struct nvmf_event *ev, int res, uint32_t flags)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)ev - offsetof(struct tcp_queue,
									 poll_in_ev));

	if (!(flags & IORING_CQE_F_MORE))
		q->poll_in_armed = false;
	if (q->state == Q_CLOSING) {
		queue_maybe_free(q);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		queue_close(q, strerror(-res));
		return;
	}
	if (q->state == Q_TLS_PEEK)
		tls_peek(q);
	else if (q->state == Q_TLS_HANDSHAKE)
		tls_step(q);
	if (q->state == Q_WAIT_IC || q->state == Q_LIVE)
		read_input(q);
	if (q->state == Q_LIVE)
		nvmf_reactor_spin_rx(q->sq.reactor, &q->spin_rx);
	if (!q->poll_in_armed && (q->state == Q_WAIT_IC || q->state == Q_LIVE ||
				  q->state == Q_TLS_PEEK || q->state == Q_TLS_HANDSHAKE))
		arm_poll_in(q);
}

/* The reactor's own read while it spins: whether input came. */
static bool spin_read(struct nvmf_spin_rx *s)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)s - offsetof(struct tcp_queue,
									spin_rx));
	uint64_t before = q->conn.rx_bytes;

	if (q->state != Q_LIVE || q->reap_work.queued)
		return false;
	read_input(q);
	return q->conn.rx_bytes != before;
}

static void arm_poll_in(struct tcp_queue *q)
{
	struct io_uring_sqe *sqe = nvmf_reactor_sqe(q->sq.reactor, &q->poll_in_ev);

	io_uring_prep_poll_multishot(sqe, q->conn.fd, POLLIN | POLLRDHUP);
	q->poll_in_armed = true;
}

/* ------------------------------------------------------------------ TLS */

/*
 * TLS comes before the ICReq (the Linux host's order): the handshake runs on the reactor,
 * the multishot poll bringing ClientHello and Finished, a one-shot POLLOUT when OpenSSL
 * could not write.  Done, the connection's socket ops are TLS and the PDU path above sees
 * plaintext only.
 */
static void tls_step(struct tcp_queue *q)
{
	int rc = nvmf_tls_handshake(&q->conn);

	if (rc == NVMF_TLS_WANT_READ)
		return;
	if (rc == NVMF_TLS_WANT_WRITE) {
		arm_poll_out(q);
		return;
	}
	if (rc < 0) {
		const char *why = nvmf_tls_error(&q->conn);

		log_warn("%s: TLS handshake failed: %s", q->conn.peer, *why ? why : strerror(-rc));
		queue_close(q, "TLS handshake failed");
		return;
	}
	nvmf_timer_arm(q->sq.reactor, &q->setup_timer, SETUP_NS); /* now ICReq and Connect */
	q->sq.tls = true;
	q->state = Q_WAIT_IC;
	log_info("%s: TLS 1.3 %s, identity '%s', records in %s", q->conn.peer,
		 nvmf_tls_cipher(&q->conn), nvmf_tls_identity(&q->conn),
		 nvmf_tls_record_name(nvmf_tls_record_mode(&q->conn)));
	/* the ICReq may have come with the Finished, or be held by OpenSSL */
	nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
}

static void tls_start(struct tcp_queue *q)
{
	struct nvmf_tls_server_cfg cfg = {
		.find_psk = nvmf_tgt_tls_find_psk,
		.arg = &q->sq,
		.record = q->sq.tgt->tls_record,
	};
	int fl = fcntl(q->conn.fd, F_GETFL);
	int rc;

	/*
	 * OpenSSL reads and writes the fd with plain read() / write(): a blocking socket
	 * would stall the reactor (accepted sockets are; the plain path uses MSG_DONTWAIT).
	 */
	if (fl < 0 || fcntl(q->conn.fd, F_SETFL, fl | O_NONBLOCK) < 0)
		rc = -errno;
	else
		rc = nvmf_tls_server_start(&q->conn, &cfg);
	if (rc) {
		log_err("%s: cannot start TLS: %s", q->conn.peer,
			rc == -EPROTO ? nvmf_tls_error(&q->conn) : strerror(-rc));
		queue_close(q, "TLS setup failed");
		return;
	}
	q->state = Q_TLS_HANDSHAKE;
	tls_step(q);
}

/*
 * A TLS port's first bytes (nvmet_tcp_try_peek_pdu): an ICReq's common header goes on in
 * plaintext where treq is "not required", and is refused by name where TLS is required
 * (OpenSSL would only say "wrong version number"); anything else is taken for a
 * ClientHello.  Fewer than 8 bytes: wait for more.
 */
static void tls_peek(struct tcp_queue *q)
{
	struct nvme_tcp_ch ch;
	ssize_t n = recv(q->conn.fd, &ch, sizeof(ch), MSG_PEEK | MSG_DONTWAIT);

	if (n == 0) {
		queue_close(q, "connection closed by host");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			queue_close(q, strerror(errno));
		return;
	}
	if ((size_t)n < sizeof(ch))
		return;
	if (ch.type == NVME_TCP_ICREQ && ch.hlen == sizeof(struct nvme_tcp_icreq) &&
	    le32toh(ch.plen) == sizeof(struct nvme_tcp_icreq)) {
		if (!q->tls_optional) {
			log_warn("%s: plaintext ICReq on a port that requires TLS (treq required): "
				 "refused", q->conn.peer);
			queue_close(q, "TLS required");
			return;
		}
		q->state = Q_WAIT_IC; /* the setup deadline runs on, for ICReq and Connect */
		log_debug("%s: plaintext connection to a TLS port (treq not required)",
			  q->conn.peer);
		return;
	}
	tls_start(q);
}

/* A setup stage ran out of time: say which, and let the descriptor go. */
static void setup_timeout(struct nvmf_timer *t)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)t - offsetof(struct tcp_queue,
									setup_timer));
	const char *what = q->state == Q_TLS_PEEK || q->state == Q_TLS_HANDSHAKE ? "TLS handshake"
			   : q->state == Q_WAIT_IC ? "ICReq" : "Connect";

	if (q->state == Q_CLOSING || q->state == Q_DRAINING)
		return;
	log_warn("%s: no %s within %llu s", q->conn.peer, what, SETUP_NS / 1000000000ull);
	queue_close(q, "setup timeout");
}

/* ------------------------------------------------------------------ life cycle */

/* Deferred: continue reading after a budget ran out, or finish a drain / close. */
static void reap_work(struct nvmf_deferred *d)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)d - offsetof(struct tcp_queue,
									reap_work));

	switch (q->state) {
	case Q_WAIT_IC:
	case Q_LIVE:
		read_input(q);
		break;
	case Q_TLS_PEEK:
	case Q_TLS_HANDSHAKE:
		break;
	case Q_DRAINING:
		if (q->busy_reqs == 0 && !nvmf_conn_tx_pending(&q->conn))
			queue_close(q, "target shutting down");
		break;
	case Q_CLOSING:
		queue_maybe_free(q);
		break;
	}
}

static void queue_maybe_free(struct tcp_queue *q)
{
	struct tcp_queue **pp;
	struct nvmf_port *port;

	/* io_uring polls and backend I/O still point at the queue: wait for them */
	if (q->poll_in_armed || q->poll_out_armed)
		return;
	for (unsigned i = 0; i < q->nreqs; i++) {
		struct tcp_req *r = req_by_ttag(q, (uint16_t)i);

		if (r->state == REQ_EXECUTING)
			return;
	}
	if (q->flush_work.queued || q->reap_work.queued)
		return;
	port = q->sq.port;
	nvmf_timer_cancel(q->sq.reactor, &q->setup_timer);
	nvmf_timer_cancel(q->sq.reactor, &q->idle_timer);
	/* every request came back: a count that did not is a leaked request */
	assert(nvmf_sq_req_count(&q->sq, REQ_FREE) == q->nreqs);
	for (pp = &reactor_queues; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	if (!reactor_queues) {
		free(reactor_staging);
		reactor_staging = NULL;
	}
	for (unsigned i = 0; i < q->nreqs; i++)
		nvmf_req_free_data(&req_by_ttag(q, (uint16_t)i)->req);
	nvmf_sq_destroy(&q->sq);
	nvmf_conn_close(&q->conn);
	for (unsigned i = 0; i < q->nblocks; i++)
		free(q->blocks[i]);
	free(q->blocks);
	free(q);
	/* last: a removed port is freed once this reaches 0 */
	atomic_fetch_sub_explicit(&port->users, 1, memory_order_release);
}

/* Requests parked in the controller (AERs) never finish on their own: let them go. */
static void release_aers(struct tcp_queue *q)
{
	struct nvmf_req *aers[NVMF_AERL];
	unsigned n = nvmf_tgt_ctrl_take_aers(&q->sq, aers, NVMF_AERL);

	for (unsigned i = 0; i < n; i++)
		req_put(to_tcp_req(aers[i]));
}

static void queue_close(struct tcp_queue *q, const char *why)
{
	char paths[32] = "";
	int subflows;

	if (q->state == Q_CLOSING)
		return;
	subflows = q->sq.port->mptcp ? nvmf_sock_mptcp_subflows(q->conn.fd) : -1;
	/* how many paths the connection had at its end: what MPTCP gave it */
	if (subflows > 0)
		snprintf(paths, sizeof(paths), " (MPTCP, %d subflow%s)", subflows,
			 subflows > 1 ? "s" : "");
	if (q->sq.ctrl)
		log_info("%s: ctrl %u qid %u: closing%s: %s", q->conn.peer, q->sq.ctrl->cntlid,
			 q->sq.qid, paths, why);
	else
		log_info("%s: closing%s: %s", q->conn.peer, paths, why);
	q->state = Q_CLOSING;
	nvmf_reactor_spin_rx_drop(q->sq.reactor, &q->spin_rx);
	nvmf_timer_cancel(q->sq.reactor, &q->setup_timer);
	nvmf_timer_cancel(q->sq.reactor, &q->idle_timer);
	nvmf_conn_shutdown(&q->conn);
	release_aers(q);
	if (q->poll_in_armed)
		nvmf_reactor_cancel(q->sq.reactor, &q->poll_in_ev);
	if (q->poll_out_armed)
		nvmf_reactor_cancel(q->sq.reactor, &q->poll_out_ev);
	/* responses that were never sent: their requests are done */
	nvmf_conn_drop_tx(&q->conn);
	/* requests waiting for data will never get it */
	for (unsigned i = 0; i < q->nreqs; i++) {
		struct tcp_req *r = req_by_ttag(q, (uint16_t)i);

		if (r->state == REQ_CAPSULE || r->state == REQ_NEED_BUFFER ||
		    r->state == REQ_NEED_H2C)
			req_put(r);
	}
	nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
}

static int tcp_sq_connected(struct nvmf_sq *sq);

static void tcp_disconnect(struct nvmf_sq *sq)
{
	queue_close(sq_queue(sq), "controller torn down");
}

static const char *tcp_peer_name(struct nvmf_sq *sq)
{
	return sq_queue(sq)->conn.peer;
}

/* The local address the host reached us on (for wildcard ports in the discovery log). */
static int tcp_local_addr(struct nvmf_sq *sq, char *buf, size_t len)
{
	unsigned port;

	return nvmf_sock_addr(sq_queue(sq)->conn.fd, true, buf, len, &port);
}


struct new_conn {
	struct nvmf_port *port;
	int fd;
};

/* On the queue's reactor: set the connection up and start reading. */
static void queue_create(void *arg)
{
	struct new_conn *nc = arg;
	struct nvmf_port *port = nc->port;
	struct tcp_queue *q;
	uint8_t *staging;
	struct nvmf_pdu_rx_cfg rxcfg = {
		.role = NVMF_PDU_ROLE_CONTROLLER,
		.max_data = MAXH2CDATA,
		/* until Connect says which queue this is, accept the larger of the two */
		.max_icd = port->io_icd > NVME_TCP_ADMIN_ICD_DEFAULT ? port->io_icd
							       : NVME_TCP_ADMIN_ICD_DEFAULT,
		.pda = 0,
	};
	int one = 1;

	if (reactor_draining) {
		log_debug("port %u: connection accepted during shutdown: closed", port->portid);
		close(nc->fd);
		free(nc);
		atomic_fetch_sub_explicit(&port->users, 1, memory_order_release);
		atomic_fetch_sub(&port->tgt->live_queues, 1);
		return;
	}
	q = calloc(1, sizeof(*q));
	staging = reactor_staging ? reactor_staging : malloc(NVMF_CONN_STAGING);
	if (!q || !staging ||
	    nvmf_conn_init_shared(&q->conn, nc->fd, &nvmf_sock_tcp, &rxcfg, &rx_ops, q,
				  staging) ||
	    grow_reqs(q, REQ_BLOCK)) {
		log_err("out of memory for a new connection");
		if (q) {
			for (unsigned i = 0; i < q->nblocks; i++)
				free(q->blocks[i]);
			free(q->blocks);
		}
		if (staging != reactor_staging)
			free(staging);
		free(q);
		close(nc->fd);
		free(nc);
		atomic_fetch_sub_explicit(&port->users, 1, memory_order_release);
		atomic_fetch_sub(&port->tgt->live_queues, 1);
		return;
	}
	free(nc);
	reactor_staging = staging;
	/* until Connect says the queue's size: the Connect command itself */
	q->max_reqs = REQ_BLOCK;
	setsockopt(q->conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	q->ctl_tx.iov = q->ctl_iov;
	q->sq.tgt = port->tgt;
	q->sq.port = port;
	q->sq.reactor = nvmf_reactor_self();
	q->sq.ops = &tcp_ops;
	q->sq.icd_max = rxcfg.max_icd;
	q->state = Q_WAIT_IC;
	q->poll_in_ev.fn = on_poll_in;
	q->poll_out_ev.fn = on_poll_out;
	q->flush_work.fn = flush_tx;
	q->spin_rx.fn = spin_read;
	q->reap_work.fn = reap_work;
	q->setup_timer.fn = setup_timeout;
	q->idle_timer.fn = reqs_idle;
	q->next = reactor_queues;
	reactor_queues = q;
	if (port->mptcp)
		log_info("%s: connected to port %u over %s", q->conn.peer, port->portid,
			 nvmf_sock_mptcp_subflows(q->conn.fd) > 0 ? "MPTCP"
			 : "plain TCP (MPTCP fallback: the host does not speak MPTCP)");
	else
		log_debug("%s: connected to port %u", q->conn.peer, port->portid);
	arm_poll_in(q);
	nvmf_timer_arm(q->sq.reactor, &q->setup_timer, SETUP_NS);
	if (nvmf_port_cfg(port)->tsas != NVMF_CFG_TSAS_TLS13)
		return;
	/* "not specified" was made "required" when the configuration was loaded */
	q->tls_optional = nvmf_port_cfg(port)->treq == NVMF_CFG_TREQ_NOT_REQUIRED;
	q->state = Q_TLS_PEEK;
}

/* After Connect: the request pool may grow to the queue the host asked for. */
static int tcp_sq_connected(struct nvmf_sq *sq)
{
	struct tcp_queue *q = sq_queue(sq);

	nvmf_timer_cancel(q->sq.reactor, &q->setup_timer); /* set up: the controller's KATO now */
	q->conn.rx.cfg.max_icd = sq->icd_max;
	/*
	 * like nvmet: twice the queue size, for commands whose response is still going out;
	 * allocated as commands come (req_get), so an idle queue stays small
	 */
	q->max_reqs = 2u * sq->size;
	return 0;
}

/* ------------------------------------------------------------------ listening */

static void on_accept(struct nvmf_event *ev, int res, uint32_t flags)
{
	struct nvmf_port *port = (struct nvmf_port *)((char *)ev - offsetof(struct nvmf_port,
									    accept_ev));

	if (!(flags & IORING_CQE_F_MORE) && !port->closing) {
		/* the multishot accept ended (error or cancel): arm it again */
		struct io_uring_sqe *sqe = nvmf_reactor_sqe(port->reactor, &port->accept_ev);

		io_uring_prep_multishot_accept(sqe, port->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	}
	if (res < 0) {
		if (res != -ECANCELED && res != -EINTR && res != -EAGAIN)
			log_warn("port %u: accept: %s", port->portid, strerror(-res));
		if (port->closing && !(flags & IORING_CQE_F_MORE)) {
			close(port->listen_fd);
			port->listen_fd = -1;
			atomic_store_explicit(&port->listener_closed, true, memory_order_release);
		}
		return;
	}
	if (port->closing) {
		close(res);
		return;
	}
	struct new_conn *nc = malloc(sizeof(*nc));
	struct nvmf_reactor *r = nvmf_tgt_pick_reactor(port->tgt);

	if (!nc) {
		close(res);
		return;
	}
	nc->port = port;
	nc->fd = res;
	/*
	 * the connection uses the port from here: the queue lets go when it is freed; and it
	 * counts as a live queue from here, not from when its reactor creates it, so that a
	 * shutdown waits for a connection still on its way to another reactor
	 */
	atomic_fetch_add_explicit(&port->users, 1, memory_order_relaxed);
	atomic_fetch_add(&port->tgt->live_queues, 1);
	if (r == nvmf_reactor_self()) {
		queue_create(nc);
	} else if (nvmf_reactor_call(r, queue_create, nc)) {
		close(res);
		free(nc);
		atomic_fetch_sub_explicit(&port->users, 1, memory_order_release);
		atomic_fetch_sub(&port->tgt->live_queues, 1);
	}
}

/* Open the listening socket (any thread, before the reactors run the port). */
static int tcp_add_port(struct nvmf_port *port, char *err, size_t errlen)
{
	const struct nvmf_cfg_port *c = nvmf_port_cfg(port);
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;
	long svc = strtol(c->trsvcid, NULL, 10);

	memset(&ss, 0, sizeof(ss));
	if (c->adrfam == NVMF_CFG_ADRFAM_IPV6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)svc);
		if (inet_pton(AF_INET6, c->traddr, &s->sin6_addr) != 1) {
			snprintf(err, errlen, "port %u: bad IPv6 address '%s'", port->portid,
				 c->traddr);
			return -EINVAL;
		}
		sl = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)svc);
		if (inet_pton(AF_INET, c->traddr, &s->sin_addr) != 1) {
			snprintf(err, errlen, "port %u: bad IPv4 address '%s'", port->portid,
				 c->traddr);
			return -EINVAL;
		}
		sl = sizeof(*s);
	}
	/*
	 * MPTCP asked of a kernel without it: the port still serves NVMe/TCP (plain TCP is
	 * what an MPTCP listener gives hosts that do not speak it), so it listens on TCP and
	 * says why, rather than leaving the port down.
	 */
	port->mptcp = c->mptcp;
	fd = nvmf_sock_open(ss.ss_family, port->mptcp, SOCK_CLOEXEC);
	if (fd == -EPROTONOSUPPORT) {
		log_warn("port %u (%s:%s): param.mptcp: %s: the port takes plain TCP",
			 port->portid, c->traddr, c->trsvcid, nvmf_sock_mptcp_unavailable());
		port->mptcp = false;
		fd = nvmf_sock_open(ss.ss_family, false, SOCK_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errlen, "port %u: socket: %s", port->portid, strerror(-fd));
		return fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;

		snprintf(err, errlen, "port %u: cannot listen on %s:%s: %s", port->portid,
			 c->traddr, c->trsvcid, strerror(e));
		close(fd);
		return -e;
	}
	port->listen_fd = fd;
	port->accept_ev.fn = on_accept;
	return 0;
}

/* On the port's reactor: start accepting. */
static void tcp_port_start(struct nvmf_port *port)
{
	struct io_uring_sqe *sqe = nvmf_reactor_sqe(port->reactor, &port->accept_ev);

	io_uring_prep_multishot_accept(sqe, port->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	log_info("listening on %s:%s (port %u%s)", nvmf_port_cfg(port)->traddr,
		 nvmf_port_cfg(port)->trsvcid, port->portid, port->mptcp ? ", MPTCP" : "");
}

/* On the port's reactor: stop accepting (on_accept closes the socket once cancelled). */
static void tcp_remove_port(struct nvmf_port *port)
{
	port->closing = true;
	nvmf_reactor_cancel(port->reactor, &port->accept_ev);
}

/* On each reactor: let every queue finish its commands, then close. */
static void tcp_drain(void)
{
	reactor_draining = true;
	for (struct tcp_queue *q = reactor_queues; q; q = q->next) {
		if (q->state == Q_TLS_PEEK || q->state == Q_TLS_HANDSHAKE) {
			queue_close(q, "target shutting down");
		} else if (q->state == Q_WAIT_IC || q->state == Q_LIVE) {
			q->state = Q_DRAINING;
			release_aers(q);
			if (q->poll_in_armed)
				nvmf_reactor_cancel(q->sq.reactor, &q->poll_in_ev);
			nvmf_reactor_defer(q->sq.reactor, &q->reap_work);
		}
	}
}

static const struct nvmf_transport_ops tcp_ops = {
	.name = "tcp",
	.trtype = NVMF_CFG_TRTYPE_TCP,
	.add_port = tcp_add_port,
	.port_start = tcp_port_start,
	.remove_port = tcp_remove_port,
	.drain = tcp_drain,
	.queue_response = tcp_queue_response,
	.disconnect = tcp_disconnect,
	.peer_name = tcp_peer_name,
	.sq_connected = tcp_sq_connected,
	.local_addr = tcp_local_addr,
};

int nvmf_tcp_register(void)
{
	return nvmf_transport_register(&tcp_ops);
}
