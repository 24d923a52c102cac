/*
 * The connection layer: everything between the protocol layer and the socket, written once
 * for the target and the host.  A connection owns
 *
 *   - the socket, behind a small ops table (struct nvmf_sock_ops: plain TCP now; TLS and
 *     MPTCP plug in here without touching the target or the host),
 *   - the output queue: PDUs described as iovecs (struct nvmf_conn_tx), sent in as few
 *     sendmsg() calls as possible, with partial-send bookkeeping,
 *   - the receive loop: recv() into a staging buffer that the PDU state machine parses
 *     (many small PDUs per syscall), or readv() straight into the owner's buffers for large
 *     payloads (pdu_rx pull mode).  The staging buffer may be the owner's, shared by all
 *     the connections of one thread (nvmf_conn_init_shared: the target's reactors, where
 *     10,000 idle connections must not hold 64 KiB each); a connection then has a buffer of
 *     its own only while input it could not parse yet waits (after a pause),
 *   - the TermReq sent when the peer broke the protocol.
 *
 * It knows nothing of event loops: the owner watches the fd (io_uring poll on the target's
 * reactor, epoll in the host) and calls nvmf_conn_receive() / nvmf_conn_flush().  One
 * thread uses a connection at a time.
 */
#ifndef NVMF_CONN_CONN_H
#define NVMF_CONN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto/pdu_rx.h"
#include "proto/pdu_tx.h"

struct nvmf_conn;

/*
 * How bytes move.  Each call is non-blocking: bytes moved (> 0), 0 for end of stream (recv
 * and readv only), or a negative errno (-EAGAIN: try again when the fd is ready).
 */
struct nvmf_sock_ops {
	const char *name;
	ssize_t (*recv)(struct nvmf_conn *c, void *buf, size_t len);
	ssize_t (*readv)(struct nvmf_conn *c, const struct iovec *iov, int cnt);
	ssize_t (*writev)(struct nvmf_conn *c, const struct iovec *iov, int cnt);
	/* Stop both directions (the peer sees the end of the stream); the fd stays open. */
	void (*shutdown)(struct nvmf_conn *c);
	/* Release the socket and whatever the ops keep for it. */
	void (*close)(struct nvmf_conn *c);
	/*
	 * Optional (NULL for plain TCP).  True when recv/readv can return data although the
	 * fd may not turn readable again: TLS in user space decrypts a whole record and may
	 * hold the part the reader had no room for.
	 */
	bool (*buffered)(struct nvmf_conn *c);
	/*
	 * Optional: push output the ops hold themselves (c->sock_tx_held is set: TLS records
	 * made from bytes writev took, for which the socket had no room, or the answer to a
	 * KeyUpdate that arrived in a read while the socket was full).  0 done, -EAGAIN when
	 * the socket is full, or -errno.
	 */
	int (*flush)(struct nvmf_conn *c);
};

/* Plain TCP (TCP_NODELAY on).  MPTCP sockets use them too: the same calls move the bytes. */
extern const struct nvmf_sock_ops nvmf_sock_tcp;

/*
 * Multipath TCP (mptcp.c).  nvmf_sock_open: a stream socket of family, IPPROTO_MPTCP when
 * mptcp (flags: SOCK_CLOEXEC, SOCK_NONBLOCK); the fd, or -EPROTONOSUPPORT when the kernel
 * has no MPTCP (nvmf_sock_mptcp_unavailable() says so in words), or another -errno.
 */
int nvmf_sock_open(int family, bool mptcp, int flags);
const char *nvmf_sock_mptcp_unavailable(void);
/* An MPTCP socket, whether MPTCP is in use or fell back to TCP (kTLS cannot run on it). */
bool nvmf_sock_is_mptcp(int fd);
/*
 * A connected socket's paths: -1 plain TCP, 0 an MPTCP socket that fell back to TCP (the
 * peer does not speak MPTCP), n >= 1 MPTCP with n subflows now.
 */
int nvmf_sock_mptcp_subflows(int fd);

struct nvmf_conn_tx;
/* A queued PDU is out (err 0), or was dropped unsent because the connection closed. */
typedef void (*nvmf_conn_tx_done_fn)(struct nvmf_conn_tx *tx, int err);

/*
 * One outgoing PDU.  The owner keeps the header (struct nvmf_pdu_out) and the iovec array
 * beside it and points iov there; nothing is copied.
 */
struct nvmf_conn_tx {
	struct nvmf_conn_tx *next;
	struct iovec *iov;
	int cnt;                     /* iovecs, as the nvmf_pdu_* builder returned */
	int idx;                     /* first iovec not fully sent */
	size_t off;                  /* bytes of iov[idx] already sent */
	bool queued;                 /* on a connection's output queue */
	nvmf_conn_tx_done_fn done;   /* NULL: nothing to do */
};

/* Receive staging: many small PDUs per recv(). */
#define NVMF_CONN_STAGING 65536
/* Payload still to come of at least this size is read straight into place (readv). */
#define NVMF_CONN_DIRECT_READ 8192
/* iovecs gathered into one sendmsg / one readv. */
#define NVMF_CONN_TX_BATCH_IOV 512
#define NVMF_CONN_RX_IOV 64

/* nvmf_conn_receive() results besides negative errnos. */
enum {
	NVMF_CONN_DRAINED = 0,  /* the socket is empty */
	NVMF_CONN_MORE = 1,     /* budget used up: data may be left, call again later */
	NVMF_CONN_PAUSED = 2,   /* an on_pdu returned NVMF_PDU_RX_PAUSE; parsed input is kept */
};
/* nvmf_conn_flush() result besides 0 (all sent) and negative errnos. */
#define NVMF_CONN_BLOCKED 1     /* the socket is full: flush again once it is writable */

struct nvmf_conn {
	int fd;
	const struct nvmf_sock_ops *sock;
	void *sock_priv;             /* the socket ops' own state (TLS session, ...) */
	char peer[64];               /* "addr:port" of the other end, for logs */
	bool shut;                   /* shut down: nothing more is read */
	bool sock_tx_held;           /* the socket ops hold output of their own: see ops->flush */

	struct nvmf_pdu_rx rx;
	struct nvmf_pdu_tx_cfg txcfg; /* what the IC exchange settled for PDUs we send */

	uint8_t *staging;            /* our own: always (no shared one), or after a pause */
	uint8_t *shared_staging;     /* the owner's, used by every connection of a thread */
	uint8_t *stage_buf;          /* where the received, not yet parsed bytes are */
	uint32_t stage_off, stage_len; /* received, not yet parsed (after a pause) */

	struct nvmf_conn_tx *tx_head, *tx_tail;
	bool close_after_tx;         /* a TermReq is queued: the owner closes once it is out */
	struct nvmf_conn_tx term_tx;
	struct nvmf_pdu_out term_out;
	struct iovec term_iov[NVMF_PDU_OUT_EXTRA_IOV + 1];

	uint64_t tx_bytes, rx_bytes; /* counters (stats) */
};

/*
 * Set up c on a connected socket fd (taken over: nvmf_conn_close() closes it) with the PDU
 * receive state machine for our role and the owner's callbacks.  Returns 0 or -ENOMEM.
 */
int nvmf_conn_init(struct nvmf_conn *c, int fd, const struct nvmf_sock_ops *sock,
		   const struct nvmf_pdu_rx_cfg *rxcfg, const struct nvmf_pdu_rx_ops *rx_ops,
		   void *ctx);
/*
 * The same, receiving into shared (NVMF_CONN_STAGING bytes, the owner's; every connection
 * that uses it is on one thread, and it outlives them): bytes a receive does not parse
 * (it paused) are copied to a buffer of the connection's own, so shared is free again
 * when nvmf_conn_receive() returns.  shared NULL: a buffer of its own, as nvmf_conn_init.
 */
int nvmf_conn_init_shared(struct nvmf_conn *c, int fd, const struct nvmf_sock_ops *sock,
			  const struct nvmf_pdu_rx_cfg *rxcfg,
			  const struct nvmf_pdu_rx_ops *rx_ops, void *ctx, uint8_t *shared);
/* Shut the socket down (if not yet), drop queued output, close the fd, free buffers. */
void nvmf_conn_close(struct nvmf_conn *c);
/* Stop reading and writing: the peer sees the end of the stream.  The fd stays open. */
void nvmf_conn_shutdown(struct nvmf_conn *c);

/*
 * Queue a PDU that an nvmf_pdu_* builder described in tx->iov; cnt is the builder's
 * result.  Returns 0, -EINVAL when the build failed (cnt < 1, or more iovecs than
 * NVMF_CONN_TX_BATCH_IOV), -EBUSY when tx is still queued, or -EPIPE once the connection
 * is shut down: nothing is queued then.  Call nvmf_conn_flush() to send.
 */
int nvmf_conn_queue(struct nvmf_conn *c, struct nvmf_conn_tx *tx, int cnt);
/*
 * Send what is queued: 0 all sent, NVMF_CONN_BLOCKED (also when the socket ops took every
 * PDU but hold part of it: sock_tx_held), or -errno (the connection failed).
 */
int nvmf_conn_flush(struct nvmf_conn *c);
/* Drop queued output (connection closing): each PDU's done runs with -ECANCELED. */
void nvmf_conn_drop_tx(struct nvmf_conn *c);

/* Output waits: watch for the fd to turn writable, then nvmf_conn_flush(). */
static inline bool nvmf_conn_tx_pending(const struct nvmf_conn *c)
{
	return c->tx_head != NULL || c->sock_tx_held;
}

/*
 * Read and parse until the socket is empty or budget reads were made.  Returns
 * NVMF_CONN_DRAINED, NVMF_CONN_MORE or NVMF_CONN_PAUSED, or a negative errno: -ENOTCONN
 * when the peer closed the stream, -EPROTO with c->rx.fes set for a protocol error (answer
 * it with nvmf_conn_queue_term()), or what a callback returned.
 */
int nvmf_conn_receive(struct nvmf_conn *c, int budget);

/*
 * Input is waiting that the fd's readiness does not announce: call nvmf_conn_receive()
 * again without waiting for the fd.  With plain TCP only staged input after a pause.
 * With TLS in user space a receive that returned NVMF_CONN_MORE or NVMF_CONN_PAUSED may
 * leave decrypted bytes in OpenSSL with nothing left on the socket, and a flush that
 * pushed output the socket ops held (sock_tx_held) may have cut a read short; an owner
 * that waits only for readiness (an edge-like multishot poll) checks this after those.
 * NVMF_CONN_DRAINED means nothing is held.  False once a TermReq is queued or the
 * connection is shut.
 */
bool nvmf_conn_has_buffered(struct nvmf_conn *c);

/*
 * The peer broke the protocol (receive returned -EPROTO): queue a TermReq (C2H for
 * the controller role, H2C for the host) that echoes the bad header with the state
 * machine's FES and FEI, and set close_after_tx: the owner logs the error (c->rx says what
 * it was) and closes once the output queue is empty.  Returns 0 or -errno when no TermReq could be built.
 */
int nvmf_conn_queue_term(struct nvmf_conn *c);

/*
 * The part [off, off + len) of the buffers src[0..cnt) as iovecs in out (at most max).
 * For the data of one H2CData, C2HData or R2T window.  Returns the number of entries, or
 * -EINVAL when more than max are needed or the range runs past the buffers.
 */
int nvmf_iov_slice(const struct iovec *src, int cnt, size_t off, size_t len,
		   struct iovec *out, int max);

/* The numeric address (no port, no brackets) and port of fd's peer or local end. */
int nvmf_sock_addr(int fd, bool local, char *host, size_t len, unsigned *port);
/* "addr:port" of fd's peer (or its local end), for logs. */
void nvmf_sock_describe(int fd, bool local, char *buf, size_t len);

#endif
