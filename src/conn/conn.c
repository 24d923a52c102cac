/* The connection layer's output queue, receive loop and TermReq: see conn.h. */
#include "conn/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


int nvmf_conn_init(struct nvmf_conn *c, int fd, const struct nvmf_sock_ops *sock,
		   const struct nvmf_pdu_rx_cfg *rxcfg, const struct nvmf_pdu_rx_ops *rx_ops,
		   void *ctx)
{
	return nvmf_conn_init_shared(c, fd, sock, rxcfg, rx_ops, ctx, NULL);
}

int nvmf_conn_init_shared(struct nvmf_conn *c, int fd, const struct nvmf_sock_ops *sock,
			  const struct nvmf_pdu_rx_cfg *rxcfg,
			  const struct nvmf_pdu_rx_ops *rx_ops, void *ctx, uint8_t *shared)
{
	memset(c, 0, sizeof(*c));
	/* set first: a failed init is still closed by nvmf_conn_close() */
	c->fd = fd;
	c->sock = sock;
	c->shared_staging = shared;
	if (!shared) {
		c->staging = malloc(NVMF_CONN_STAGING);
		if (!c->staging)
			return -ENOMEM;
	}
	nvmf_pdu_rx_init(&c->rx, rxcfg, rx_ops, ctx);
	nvmf_sock_describe(fd, false, c->peer, sizeof(c->peer));
	return 0;
}

void nvmf_conn_shutdown(struct nvmf_conn *c)
{
	if (c->shut)
		return;
	c->shut = true;
	if (c->fd >= 0)
		c->sock->shutdown(c);
}

void nvmf_conn_close(struct nvmf_conn *c)
{
	nvmf_conn_shutdown(c);
	nvmf_conn_drop_tx(c);
	if (c->fd >= 0)
		c->sock->close(c);
	c->fd = -1;
	free(c->staging);
	c->staging = NULL;
	c->stage_buf = NULL;
	c->stage_len = 0;
}

/* ------------------------------------------------------------------ output */

int nvmf_conn_queue(struct nvmf_conn *c, struct nvmf_conn_tx *tx, int cnt)
{
	/* more iovecs than one sendmsg gathers could never leave */
	if (cnt < 1 || cnt > NVMF_CONN_TX_BATCH_IOV)
		return -EINVAL;
	/* nothing goes out any more: a done callback would run from a closing owner */
	if (c->shut)
		return -EPIPE;
	/* a PDU still on the queue would be linked twice: the list would lose the rest */
	if (tx->queued)
		return -EBUSY;
	tx->cnt = cnt;
	tx->next = NULL;
	tx->idx = 0;
	tx->off = 0;
	tx->queued = true;
	if (c->tx_tail)
		c->tx_tail->next = tx;
	else
		c->tx_head = tx;
	c->tx_tail = tx;
	return 0;
}

/* Unlink the head; its done may queue more output (the next H2CData of an R2T). */
static void retire_head(struct nvmf_conn *c, int err)
{
	struct nvmf_conn_tx *t = c->tx_head;

	c->tx_head = t->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	t->queued = false;
	if (t->done)
		t->done(t, err);
}

/* Gather queued PDUs into iov (whole PDUs, the first one from where it stopped). */
static int gather(const struct nvmf_conn *c, struct iovec *iov, int max)
{
	int n = 0;

	for (const struct nvmf_conn_tx *t = c->tx_head; t; t = t->next) {
		if (n + (t->cnt - t->idx) > max)
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
	return n;
}

int nvmf_conn_flush(struct nvmf_conn *c)
{
	if (c->sock_tx_held) {
		int rc;

		if (c->shut)
			return -EPIPE;
		rc = c->sock->flush(c);
		if (rc == -EAGAIN)
			return NVMF_CONN_BLOCKED;
		if (rc < 0)
			return rc;
	}
	while (c->tx_head) {
		struct iovec iov[NVMF_CONN_TX_BATCH_IOV];
		int n = gather(c, iov, NVMF_CONN_TX_BATCH_IOV);
		ssize_t sent;

		if (c->shut)
			return -EPIPE;
		sent = c->sock->writev(c, iov, n);
		if (sent == -EAGAIN)
			return NVMF_CONN_BLOCKED;
		if (sent == -EINTR)
			continue;
		if (sent < 0)
			return (int)sent;
		c->tx_bytes += (uint64_t)sent;
		/* retire what went out */
		while (sent > 0 && c->tx_head) {
			struct nvmf_conn_tx *t = c->tx_head;
			size_t left = t->iov[t->idx].iov_len - t->off;

			if ((size_t)sent < left) {
				t->off += (size_t)sent;
				break;
			}
			sent -= (ssize_t)left;
			t->off = 0;
			if (++t->idx == t->cnt)
				retire_head(c, 0);
		}
	}
	/* the socket ops took it all but hold some of it for want of room (TLS records) */
	return c->sock_tx_held ? NVMF_CONN_BLOCKED : 0;
}

void nvmf_conn_drop_tx(struct nvmf_conn *c)
{
	while (c->tx_head)
		retire_head(c, -ECANCELED);
}

/* ------------------------------------------------------------------ input */

/* The socket ops hold readable bytes (TLS): a short read does not mean "empty". */
static bool sock_buffered(struct nvmf_conn *c)
{
	return c->sock->buffered && c->sock->buffered(c);
}

bool nvmf_conn_has_buffered(struct nvmf_conn *c)
{
	if (c->close_after_tx || c->shut)
		return false;
	return c->stage_len > 0 || sock_buffered(c);
}

/*
 * Parse staged bytes.  NVMF_CONN_PAUSED when an on_pdu paused, even on the PDU that ended
 * the staged bytes: the caller then must not read more.
 */
static int feed_staged(struct nvmf_conn *c)
{
	ssize_t used;

	c->rx.paused = false;
	used = nvmf_pdu_rx_feed(&c->rx, c->stage_buf + c->stage_off, c->stage_len);

	if (used < 0) {
		c->stage_len = 0; /* the stream is over: nothing after the error is parsed */
		return (int)used;
	}
	c->stage_off += (uint32_t)used;
	c->stage_len -= (uint32_t)used;
	if (!c->stage_len && c->shared_staging && c->staging) {
		/* what a pause left is parsed: the shared buffer serves us again */
		free(c->staging);
		c->staging = NULL;
		c->stage_buf = NULL;
	} else if (c->stage_len && c->stage_buf == c->shared_staging) {
		/* the shared buffer is the next connection's: keep what is left in our own */
		if (!c->staging)
			c->staging = malloc(NVMF_CONN_STAGING);
		if (!c->staging) {
			c->stage_len = 0;
			return -ENOMEM;
		}
		memcpy(c->staging, c->stage_buf + c->stage_off, c->stage_len);
		c->stage_buf = c->staging;
		c->stage_off = 0;
	}
	return c->rx.paused ? NVMF_CONN_PAUSED : 0;
}

int nvmf_conn_receive(struct nvmf_conn *c, int budget)
{
	/* a TermReq is on its way out: what the peer sends now is not read */
	if (c->close_after_tx)
		return NVMF_CONN_DRAINED;
	if (c->stage_len) {
		int rc = feed_staged(c);

		if (rc)
			return rc;
	}
	for (; budget > 0 && !c->shut; budget--) {
		bool drained = false;
		ssize_t n;
		int rc = 0;

		if (nvmf_pdu_rx_data_left(&c->rx) >= NVMF_CONN_DIRECT_READ) {
			/* a large payload: read it where it belongs */
			struct iovec iov[NVMF_CONN_RX_IOV];
			int cnt = nvmf_pdu_rx_next(&c->rx, iov, NVMF_CONN_RX_IOV);

			if (cnt < 0)
				return cnt;
			n = c->sock->readv(c, iov, cnt);
			if (n > 0) {
				drained = (size_t)n < nvmf_iov_len(iov, cnt) && !sock_buffered(c);
				c->rx_bytes += (uint64_t)n;
				rc = nvmf_pdu_rx_done(&c->rx, (size_t)n);
				if (rc == NVMF_PDU_RX_PAUSE)
					return NVMF_CONN_PAUSED;
			}
		} else {
			uint8_t *buf = c->shared_staging ? c->shared_staging : c->staging;

			n = c->sock->recv(c, buf, NVMF_CONN_STAGING);
			if (n > 0) {
				drained = n < NVMF_CONN_STAGING && !sock_buffered(c);
				c->rx_bytes += (uint64_t)n;
				c->stage_buf = buf;
				c->stage_off = 0;
				c->stage_len = (uint32_t)n;
				rc = feed_staged(c);
				if (rc == NVMF_CONN_PAUSED)
					return rc;
			}
		}
		if (n == 0)
			return -ENOTCONN;
		if (n == -EAGAIN)
			return NVMF_CONN_DRAINED;
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (rc < 0)
			return rc;
		/*
		 * A short read emptied the socket: skip the recv() that would only say EAGAIN
		 * (a syscall per batch); data that arrives later makes the fd readable again.
		 */
		if (drained)
			return NVMF_CONN_DRAINED;
	}
	return c->shut ? NVMF_CONN_DRAINED : NVMF_CONN_MORE;
}

int nvmf_conn_queue_term(struct nvmf_conn *c)
{
	bool controller = c->rx.cfg.role == NVMF_PDU_ROLE_CONTROLLER;
	uint32_t len;
	const void *bad = nvmf_pdu_rx_err_hdr(&c->rx, &len);
	int cnt, rc;

	cnt = nvmf_pdu_term(&c->term_out, controller ? NVME_TCP_C2H_TERM : NVME_TCP_H2C_TERM,
			    c->rx.fes, c->rx.fei, bad, len, c->term_iov,
			    NVMF_PDU_OUT_EXTRA_IOV + 1);
	c->term_tx.iov = c->term_iov;
	c->term_tx.done = NULL;
	rc = nvmf_conn_queue(c, &c->term_tx, cnt);
	if (rc)
		return rc;
	c->close_after_tx = true;
	return 0;
}

/* ------------------------------------------------------------------ iovecs */

int nvmf_iov_slice(const struct iovec *src, int cnt, size_t off, size_t len,
		   struct iovec *out, int max)
{
	int n = 0;

	for (int i = 0; i < cnt && len > 0; i++) {
		size_t l = src[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (n == max)
			return -EINVAL;
		out[n].iov_base = (uint8_t *)src[i].iov_base + off;
		out[n].iov_len = l - off < len ? l - off : len;
		len -= out[n].iov_len;
		off = 0;
		n++;
	}
	return len ? -EINVAL : n;
}
