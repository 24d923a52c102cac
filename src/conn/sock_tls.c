/*
 * Socket ops for TLS records made in user space by OpenSSL, once the handshake is done
 * (tls.h says what owners must do besides watching the fd).
 *
 * Reads fill the caller's buffers record after record until OpenSSL wants the socket, so
 * a short read still means "the socket is empty", as the receive loop assumes.  Writes
 * make one record per SSL_write (partial-write mode): a large iovec goes to OpenSSL in
 * place, small ones are gathered into one record first (a 24-byte header per record
 * would cost 22 bytes of TLS each).  OpenSSL hands each record to its write BIO, a buffer
 * (BIO_f_buffer, TLS_OUT_BUF) in front of the socket, written when it is full and at the
 * end of the writev: on its own OpenSSL makes a write() per 16 KiB record, and on
 * loopback each costs a syscall and an skb through the receive path, more than copying
 * the record once.  What the socket had no room for stays in the buffer
 * (c->sock_tx_held) until tls_flush.
 * A write that blocked must be repeated with the same bytes and at least the same
 * length: the bytes are still at the head of the caller's iovecs (nothing of them was
 * reported sent), or in our bounce buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conn/tls_int.h"

/* A record operation failed for good: -errno, with the reason kept for nvmf_tls_error(). */
static int record_failed(struct tls_state *st, int e, bool reading)
{
	int sys = errno;
	unsigned long err = ERR_peek_error();
	int reason = err ? ERR_GET_REASON(err) : 0;
	int rc;

	st->fatal = true;
	if (e == SSL_ERROR_ZERO_RETURN) {
		rc = reading ? 0 : -EPIPE; /* close_notify */
	} else if (e == SSL_ERROR_SYSCALL && !err && sys && sys != EAGAIN) {
		snprintf(st->err, sizeof(st->err), "socket: %s", strerror(sys));
		rc = -sys;
	} else if (e == SSL_ERROR_SYSCALL || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		/* the Linux host and target close without close_notify: a plain end */
		rc = reading ? 0 : -EPIPE;
	} else if (reason > SSL_AD_REASON_OFFSET) {
		tls_set_error(st, "the peer sent an alert");
		rc = -ECONNRESET;
	} else {
		tls_set_error(st, "TLS record failure");
		rc = -EPROTO;
	}
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------------------------------ input */

/* Read into buf until it is full (1) or OpenSSL stops: -EAGAIN, 0 (end), -errno. */
static int fill(struct nvmf_conn *c, struct tls_state *st, uint8_t *buf, size_t len,
		size_t *got)
{
	while (*got < len) {
		size_t n;
		int e;

		ERR_clear_error();
		if (SSL_read_ex(st->ssl, buf + *got, len - *got, &n)) {
			*got += n;
			continue;
		}
		e = SSL_get_error(st->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			return -EAGAIN;
		if (e == SSL_ERROR_WANT_WRITE) {
			/* OpenSSL answers a KeyUpdate and the socket is full: see tls_flush() */
			c->sock_tx_held = true;
			st->rd_cut = true;
			return -EAGAIN;
		}
		return record_failed(st, e, true);
	}
	return 1;
}

static ssize_t tls_readv(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct tls_state *st = tls_of(c);
	size_t got = 0;
	int rc = 1;

	if (!st->done)
		return -ENOTCONN;
	if (st->rd_ended)
		return st->rd_end;
	st->rd_kick = false;
	for (int i = 0; i < cnt && rc == 1; i++) {
		size_t g = 0;

		rc = fill(c, st, iov[i].iov_base, iov[i].iov_len, &g);
		got += g;
	}
	/* filled up: OpenSSL may hold more, decrypted or read ahead (see tls_buffered) */
	st->rd_full = rc == 1;
	if (rc == 1)
		return (ssize_t)got;
	if (rc == -EAGAIN)
		return got ? (ssize_t)got : -EAGAIN;
	/* the end comes after the data read before it */
	st->rd_ended = true;
	st->rd_end = rc;
	return got ? (ssize_t)got : rc;
}

static ssize_t tls_recv(struct nvmf_conn *c, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	return tls_readv(c, &iov, 1);
}

/*
 * Bytes the fd will not announce: decrypted or read ahead, or a read that was cut short.
 * Read-ahead bytes count only after a read that filled its buffer: after one that ran dry
 * (WANT_READ) they are the start of a record whose rest is still to come, and reading
 * them now would give nothing.
 */
static bool tls_buffered(struct nvmf_conn *c)
{
	struct tls_state *st = tls_of(c);

	if (!st || !st->done || !st->ssl)
		return false;
	return st->rd_kick || st->rd_ended || SSL_pending(st->ssl) > 0 ||
	       (st->rd_full && SSL_has_pending(st->ssl));
}

/* ------------------------------------------------------------------ output */

/* Copy up to max bytes from iov[i] + off on into buf. */
static size_t gather(const struct iovec *iov, int cnt, int i, size_t off, uint8_t *buf,
		     size_t max)
{
	size_t n = 0;

	for (; i < cnt && n < max; i++, off = 0) {
		size_t take = iov[i].iov_len - off;

		if (take > max - n)
			take = max - n;
		memcpy(buf + n, (const uint8_t *)iov[i].iov_base + off, take);
		n += take;
	}
	return n;
}

static void advance(const struct iovec *iov, int cnt, int *i, size_t *off, size_t n)
{
	while (n && *i < cnt) {
		size_t rest = iov[*i].iov_len - *off;

		if (n < rest) {
			*off += n;
			return;
		}
		n -= rest;
		(*i)++;
		*off = 0;
	}
}

/*
 * Write the records waiting in the buffer BIO: 0 when none are left, -EAGAIN when the
 * socket is full (they are held: c->sock_tx_held), or -errno.
 */
static int out_flush(struct nvmf_conn *c, struct tls_state *st)
{
	int sys;

	if (!st->out || BIO_wpending(st->out) == 0)
		return 0;
	ERR_clear_error();
	errno = 0;
	if (BIO_flush(st->out) > 0)
		return 0;
	if (BIO_should_retry(st->out)) {
		c->sock_tx_held = true;
		return -EAGAIN;
	}
	sys = errno ? errno : EIO;
	st->fatal = true;
	snprintf(st->err, sizeof(st->err), "socket: %s", strerror(sys));
	ERR_clear_error();
	return -sys;
}

static ssize_t tls_writev(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct tls_state *st = tls_of(c);
	size_t sent = 0, off = 0;
	int i = 0;

	if (!st->done)
		return -ENOTCONN;
	if (st->fatal)
		return -EPIPE;
	for (;;) {
		const uint8_t *p;
		size_t len, n;
		bool bounced;
		int e;

		while (i < cnt && iov[i].iov_len == off) {
			i++;
			off = 0;
		}
		if (st->pend_len) {
			/* repeat the write that blocked: its bytes head the iovecs (i, off are 0) */
			len = st->pend_len;
			bounced = true;
			if (st->pend_bounce) {
				p = st->bounce;
			} else if (i < cnt && iov[i].iov_len - off >= len) {
				p = (const uint8_t *)iov[i].iov_base + off;
				bounced = false;
			} else if (gather(iov, cnt, i, off, st->bounce, len) < len) {
				return -EIO; /* the caller broke the contract: not the same bytes */
			} else {
				p = st->bounce;
			}
		} else if (i == cnt) {
			break;
		} else if (iov[i].iov_len - off >= TLS_RECORD_MAX) {
			p = (const uint8_t *)iov[i].iov_base + off;
			len = TLS_RECORD_MAX;
			bounced = false;
		} else {
			len = gather(iov, cnt, i, off, st->bounce, TLS_RECORD_MAX);
			p = st->bounce;
			bounced = true;
		}
		ERR_clear_error();
		if (SSL_write_ex(st->ssl, p, len, &n)) {
			st->pend_len = 0;
			advance(iov, cnt, &i, &off, n);
			sent += n;
			continue;
		}
		e = SSL_get_error(st->ssl, 0);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			/*
			 * WANT_READ: OpenSSL must read before it writes (renegotiation, not in
			 * TLS 1.3); the owner's next receive unblocks it, then its flush goes on.
			 */
			st->pend_len = len;
			st->pend_bounce = bounced;
			return sent ? (ssize_t)sent : -EAGAIN;
		}
		e = record_failed(st, e, false);
		return sent ? (ssize_t)sent : e;
	}
	/* what the socket has no room for is held: nvmf_conn_flush() says BLOCKED */
	if (sent) {
		int rc = out_flush(c, st);

		if (rc < 0 && rc != -EAGAIN)
			return rc;
	}
	return (ssize_t)sent;
}

/*
 * Held output: records in the buffer BIO the socket had no room for, or the answer to a
 * KeyUpdate that a read left in OpenSSL (the state machine pushes it on).  Then a read
 * cut short by that answer goes on without waiting for the fd, which announced its data
 * already.
 */
static int tls_flush(struct nvmf_conn *c)
{
	struct tls_state *st = tls_of(c);
	int r, e;

	if (st->fatal)
		return -EPIPE;
	ERR_clear_error();
	r = SSL_do_handshake(st->ssl);
	e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(st->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ)
		return record_failed(st, e, false);
	r = out_flush(c, st);
	if (r < 0)
		return r;
	c->sock_tx_held = false;
	if (st->rd_cut)
		st->rd_kick = true;
	st->rd_cut = false;
	return 0;
}

/* ------------------------------------------------------------------ end */

/* close_notify, best effort: not after a failure, nor into a record half written. */
static void tls_shutdown(struct nvmf_conn *c)
{
	struct tls_state *st = tls_of(c);

	if (st && st->ssl && st->done && !st->fatal && !st->pend_len && !c->sock_tx_held) {
		ERR_clear_error();
		SSL_shutdown(st->ssl);
		if (st->out)
			(void)BIO_flush(st->out); /* the alert waits in the buffer otherwise */
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_RDWR);
}

static void tls_close(struct nvmf_conn *c)
{
	tls_state_free(tls_of(c));
	c->sock_priv = NULL;
	close(c->fd);
}

int tls_user_ready(struct nvmf_conn *c)
{
	struct tls_state *st = tls_of(c);
	BIO *buf, *sock;

	st->bounce = malloc(TLS_RECORD_MAX);
	if (!st->bounce)
		return -ENOMEM;
	/*
	 * The kernel is out of the picture now: reading ahead lets one recv() bring the
	 * header and body of a record (and more) instead of two recv() per record.
	 */
	SSL_set_read_ahead(st->ssl, 1);
	/* the records of a writev leave in few write()s: see the top of this file */
	buf = BIO_new(BIO_f_buffer());
	if (!buf || BIO_set_write_buffer_size(buf, TLS_OUT_BUF) <= 0) {
		BIO_free(buf);
		return -ENOMEM;
	}
	/* the SSL's one socket BIO reads and writes: the buffer takes a reference of its own */
	sock = SSL_get_wbio(st->ssl);
	if (!BIO_up_ref(sock)) {
		BIO_free(buf);
		return -ENOMEM;
	}
	SSL_set0_wbio(st->ssl, BIO_push(buf, sock));
	st->out = buf;
	return 0;
}

const struct nvmf_sock_ops nvmf_sock_tls_user = {
	.name = "tls",
	.recv = tls_recv,
	.readv = tls_readv,
	.writev = tls_writev,
	.shutdown = tls_shutdown,
	.close = tls_close,
	.buffered = tls_buffered,
	.flush = tls_flush,
};
