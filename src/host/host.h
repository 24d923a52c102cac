/*
 * libnvmf internals: queue pairs (one TCP connection each), host requests and the
 * controller they belong to.  The public API is include/nvmf/nvmf.h.
 *
 * Request states (hreq_set_state is the one place they change):
 *   FREE -> QUEUED (built, waiting to go out, or waiting for a reconnect)
 *        -> SENT (capsule on the wire; data moves by R2T/H2CData or C2HData)
 *        -> FREE when its response arrives and the callback ran,
 *           or RETIRING when the response came while one of its PDUs was still queued
 *           to send (a broken controller): the slot is reused only once they are out.
 *
 * Queue pair states (a connection is set up without blocking, advanced by hq_progress):
 *   DOWN -> SOCKET (TCP connect in progress) [-> TLS (handshake, when the controller is
 *   reached over TLS: tls.c)] -> IC (ICReq sent) -> CONNECTING (Fabrics Connect sent)
 *   [-> AUTH (DH-HMAC-CHAP, when the Connect response asks for it: auth.c)]
 *   -> LIVE;  any failure -> DOWN;  DEAD once the controller is given up.
 */
#ifndef NVMF_HOST_HOST_H
#define NVMF_HOST_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "auth/dhchap.h"
#include "auth/tls_psk.h"
#include "conn/conn.h"
#include "nvmf/nvmf.h"
#include "proto/nvme_spec.h"

#define HREQ_IOV 32                /* scatter list entries of one command */
#define HTX_IOV (HREQ_IOV + NVMF_PDU_OUT_EXTRA_IOV)

enum hreq_state {
	HREQ_FREE,
	HREQ_QUEUED,
	HREQ_SENT,
	HREQ_RETIRING,
};

struct hreq;

/* An outgoing PDU: header storage + the iovecs that describe it. */
struct htx {
	struct nvmf_conn_tx tx;
	struct hreq *owner;
	struct nvmf_pdu_out out;
	struct iovec iov[HTX_IOV];
};

struct hreq {
	struct nvmf_qpair *q;
	uint16_t cid;
	enum hreq_state state;
	struct nvme_sqe sqe;
	struct iovec iov[HREQ_IOV];
	int iovcnt;
	uint32_t len;
	bool write;
	bool in_capsule;
	bool ddgst_err;
	uint32_t c2h_bytes;
	nvmf_io_cb cb;
	void *arg;
	uint64_t sent_ns;
	struct htx cmd_tx;           /* the command capsule */
	struct htx data_tx;          /* the H2CData being sent for the current R2T */
	uint32_t r2t_off, r2t_left;  /* what the current R2T still asks for */
	uint32_t r2t_next;           /* where the next R2T must start: data is asked in order */
	uint16_t r2t_ttag;
	struct iovec chunk[HREQ_IOV];
	struct nvme_dsm_range dsm_range; /* nvmf_deallocate()'s data */
	struct hreq *next;           /* free list / queued list */
	bool no_timeout;             /* AER: outstanding for as long as it likes */
	/* synchronous waiters */
	int *sync_status;
	struct nvme_cqe *sync_cqe;
};

enum qpair_state {
	QP_DOWN,        /* no connection: commands wait for the (re)connect */
	QP_SOCKET,      /* TCP connect in progress */
	QP_TLS,         /* TLS handshake in progress (tls.c) */
	QP_IC,          /* ICReq sent, waiting for the ICResp */
	QP_CONNECTING,  /* Connect on the wire: nothing else may go out yet */
	QP_AUTH,        /* Connect answered with AUTHREQ: authenticating (auth.c), ditto */
	QP_LIVE,
	QP_DEAD,        /* controller given up */
};

struct nvmf_qpair {
	struct nvmf_ctrl *ctrl;
	uint16_t qid;
	unsigned size;               /* queue entries (sqsize + 1) */
	unsigned depth;              /* commands we keep in flight at most */
	struct nvmf_conn conn;       /* conn.fd is -1 when down */
	int epfd;                    /* stable fd for event loops: the socket + kick_fd */
	uint32_t epfd_events;        /* what the socket is registered for in epfd */
	int kick_fd;                 /* eventfd: parsed input is waiting (poll's max) */
	bool kicked;
	enum qpair_state state;
	uint64_t generation;         /* controller association this connection belongs to */
	/* connecting (SOCKET, IC, CONNECTING) */
	int connect_rc;              /* -EINPROGRESS while connecting, then 0 or -errno */
	uint64_t step_deadline_ns;   /* the current connect step must finish by then */
	unsigned connect_timeout_ms;
	uint16_t connect_cntlid;
	uint32_t connect_kato_ms;
	struct nvmf_connect_data connect_data;
	struct hauth *auth;          /* the DH-HMAC-CHAP exchange under way (QP_AUTH) */
	int tls_want;                /* QP_TLS: NVMF_TLS_WANT_READ or _WRITE (the fd to wait for) */
	unsigned poll_max;           /* completions this poll may still run (0: no limit) */
	uint32_t maxh2cdata;
	uint32_t icd_max;            /* in-capsule data we may send */
	bool sqflow_disabled;
	struct hreq *reqs;
	struct hreq *free_reqs;
	struct hreq *queued_head, *queued_tail; /* built, not yet on the wire */
	unsigned inflight;            /* on the wire */
	unsigned busy;                /* submitted, not completed */
	uint64_t completed;          /* commands completed, ever */
	struct htx ctl_tx;           /* ICReq */
	uint64_t last_timeout_scan_ns;
	char err[640];
};

struct admin_call;
struct hauth;

/* One namespace's ANA group and state, as its controller's ANA log lists it. */
#define HANA_MAX_NS 256
struct hana_ns {
	uint32_t nsid;
	uint32_t grpid;
	uint8_t state;               /* enum nvme_ana_state */
};

/*
 * DH-HMAC-CHAP keys, transformed once at connect (the host key with the host NQN, the
 * controller key with the subsystem NQN) and read by every queue's exchange; wiped when
 * the controller is freed.  A zero length: no such key.
 */
struct hauth_keys {
	uint8_t host[NVMF_DHCHAP_MAX_HASH];
	size_t host_len;
	uint8_t ctrl[NVMF_DHCHAP_MAX_HASH];  /* bidirectional: the controller must prove it */
	size_t ctrl_len;
};

/*
 * TLS: the PSK identity and TLS PSK, derived once at connect from the configured key (the
 * host and subsystem NQNs fixed) and offered by every queue's handshake; wiped when the
 * controller is freed.  on false: plain TCP.
 */
struct htls_keys {
	bool on;
	char identity[NVMF_TLS_IDENTITY_MAX];
	uint8_t psk[NVMF_TLS_PSK_MAX];
	size_t psk_len;
	unsigned hash;               /* NVMF_TLS_HASH_* */
};

struct nvmf_ctrl {
	struct nvmf_ctrl_opts opts;
	char traddr[257], trsvcid[33], subnqn[257], hostnqn[257], host_traddr[257];
	/* resolved once at connect, so that reconnecting never waits for a name lookup */
	struct sockaddr_storage addr, local_addr;
	socklen_t addr_len, local_addr_len;
	uint8_t hostid[16];
	struct nvmf_qpair admin;     /* owned by the admin thread */
	struct nvmf_qpair *io;       /* nr_io queue pairs */
	unsigned nr_io;
	uint16_t cntlid;
	uint64_t cap;
	uint8_t id[4096];            /* Identify Controller */
	uint32_t max_xfer;
	_Atomic uint32_t io_icd;     /* in-capsule data an I/O queue takes (IOCCSZ) */
	_Atomic int state;           /* enum nvmf_ctrl_state */
	_Atomic uint64_t generation; /* bumped by each successful (re)connect */
	atomic_uint reconnects;
	atomic_bool need_reconnect;  /* a queue lost its connection */
	uint64_t lost_ns;            /* when the current outage began */
	struct hauth_keys keys;
	struct htls_keys tls;
	atomic_uint auth_tid;        /* T_ID of the next exchange (low 16 bits), any queue */
	atomic_bool mptcp_warned;    /* said once that the kernel has no MPTCP */
	atomic_bool auth_rejected;   /* an exchange failed for good: reconnecting gives up */

	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;
	int wake_fd;                 /* eventfd: admin calls, reconnect requests, stop */
	int admin_ep;                /* the admin thread's epoll set: wake_fd, admin.epfd */
	pthread_mutex_t lock;        /* admin_calls */
	struct admin_call *calls;
	/* admin-thread state */
	bool aer_outstanding;
	bool aer_resubmit;           /* an event arrived: ask for the next one */
	uint8_t aen_log;             /* log page to read after an event (0: none) */
	uint64_t next_ka_ns;
	uint16_t ka_cid;
	bool ka_outstanding;
	uint64_t ka_sent_ns;
	/*
	 * Namespace block sizes for the flat-buffer I/O calls, filled at connect and on a
	 * miss; entries are written once per slot (atomics, no lock on the I/O path).
	 */
	_Atomic uint64_t ns_cache[16];   /* nsid << 32 | block size */
	/*
	 * ANA (controllers with CMIC.ANA): each namespace's state from the last ANA log read
	 * (at connect, after a reconnect, on an ANA change event, after an I/O came back with
	 * an ANA status).  Read under ana_lock; ana_gen says when to read again.
	 */
	bool ana_reporting;
	pthread_mutex_t ana_lock;
	struct hana_ns ana[HANA_MAX_NS];
	unsigned ana_n;
	bool ana_valid;              /* a log was read since the last (re)connect */
	atomic_uint ana_gen;         /* bumped each time ana[] changes */
	atomic_bool ana_stale;       /* an I/O saw an ANA status: read the log again */
};

/* qpair.c */
int hq_init(struct nvmf_qpair *q, struct nvmf_ctrl *c, uint16_t qid, unsigned size);
void hq_fini(struct nvmf_qpair *q);
/*
 * Start connecting (TCP, IC exchange, Fabrics Connect), each step within timeout_ms:
 * hq_progress() advances it; q->connect_rc tells the outcome.  Returns 0 or -errno when it
 * could not even start.
 */
int hq_connect_start(struct nvmf_qpair *q, uint16_t cntlid, unsigned kato_ms,
		     unsigned timeout_ms);
/* The same, waiting for the outcome (for nvmf_ctrl_connect and the admin thread). */
int hq_connect(struct nvmf_qpair *q, uint16_t cntlid, unsigned kato_ms, unsigned timeout_ms);
void hq_close(struct nvmf_qpair *q, const char *why);
/* Queue a command (sqe without CID/SGL) with data; -EAGAIN when full. */
/* io.c: a Read / Write / Write Zeroes command; flags NVMF_IO_FUA, NVMF_IO_DEAC (Write Zeroes) */
void hio_rw_sqe(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba, uint32_t nlb,
		unsigned flags);

int hq_submit(struct nvmf_qpair *q, const struct nvme_sqe *sqe, const struct iovec *iov,
	      int iovcnt, uint32_t len, bool write, nvmf_io_cb cb, void *arg,
	      struct hreq **out);
/*
 * Send, receive, complete (at most max callbacks; 0: no limit), advance a connect in
 * progress: like nvmf_qpair_poll() but without reconnect handling.  Returns completions or
 * -errno when the connection failed (it is closed then).
 */
int hq_progress(struct nvmf_qpair *q, unsigned max);
/* Fail every queued and sent command with status (controller given up). */
void hq_fail_all(struct nvmf_qpair *q, int status);
/*
 * Take every command off q and fail it with status (multipath sends them on another path):
 * the connection, if up, is closed first so that no reply or data can reach them any more.
 * Unlike a lost connection this does not ask the controller to reconnect.
 */
void hq_abort_all(struct nvmf_qpair *q, int status);
/* Wait until hq_progress has something to do (or timeout). */
int hq_wait_readable(struct nvmf_qpair *q, int timeout_ms);
/*
 * A command of the connect itself (Connect, Authentication Send / Receive): it goes alone,
 * in the queue's own slot, within a fresh step deadline; cb gets q as its argument.
 * buf (len bytes) goes to the controller (write) or comes from it.  0 or -errno (-EBUSY:
 * the slot still holds a capsule the controller answered before it was sent).
 */
int hq_submit_connect_cmd(struct nvmf_qpair *q, const struct nvme_sqe *sqe, void *buf,
			  uint32_t len, bool write, nvmf_io_cb cb);
/* The connect succeeded (after authentication, if any): commands may go out. */
void hq_set_live(struct nvmf_qpair *q);

/* auth.c: DH-HMAC-CHAP (NVMe in-band authentication) on a queue that was just connected */
/*
 * Parse the DHHC-1 secrets (either may be NULL) and keep their transformed keys in c
 * (c->hostnqn and c->subnqn set).  0, or -EINVAL with host_set_error naming the option.
 */
int hauth_keys_init(struct nvmf_ctrl *c, const char *host_secret, const char *ctrl_secret);
/*
 * The Connect of q succeeded with dw0: 0 when no authentication is asked (the queue may go
 * live), 1 when the exchange started (q is in QP_AUTH, hq_progress advances it), or -errno
 * with q->err saying why the queue cannot be used.
 */
int hauth_connected(struct nvmf_qpair *q, uint32_t dw0);
/*
 * The exchange failed and is telling the controller so (Failure2): the error to report when
 * the connect ends, its text put back in q->err; 0 when it has not failed.
 */
int hauth_failed(struct nvmf_qpair *q);
/* Wipe and free the exchange of q, if any (the connection is closed or live). */
void hauth_free(struct nvmf_qpair *q);
/* Errors after which reconnecting is pointless: the keys are wrong or missing. */
bool hauth_fatal(int rc);

/* tls.c: TLS 1.3 with a PSK (NVMe/TCP TP 8011) under every queue */
/*
 * Parse the configured key of o (o->tls_key, interchange form) and derive c->tls for
 * c->hostnqn and c->subnqn.  0 (also when TLS is off), or -errno with host_set_error
 * saying why (never with key material): -ENOKEY (TLS without a key), -EINVAL.
 */
int htls_keys_init(struct nvmf_ctrl *c, const struct nvmf_ctrl_opts *o);
/* Begin the client handshake on q->conn (just initialised, nothing sent).  0 or -errno. */
int htls_start(struct nvmf_qpair *q);
/*
 * Advance the handshake: 0 done (q->conn now carries TLS records), 1 waiting (q->tls_want
 * says for what), or -errno with q->err saying why (-EKEYREJECTED: the PSK was refused).
 */
int htls_step(struct nvmf_qpair *q);

/* ctrl.c */
/* Logical block size of a namespace (cached from Identify), 0 if it does not exist. */
uint32_t hctrl_block_size(struct nvmf_ctrl *c, uint32_t nsid);
void hctrl_connection_lost(struct nvmf_ctrl *c, struct nvmf_qpair *q, const char *why);
uint64_t host_now_ns(void);
/* Ask the admin thread to read the ANA log again (an I/O got an ANA path status). */
void hctrl_ana_refresh(struct nvmf_ctrl *c);
/*
 * Parse an ANA log (len bytes, RGO clear) into out[max]; returns the number of namespaces,
 * or -EPROTO when a descriptor runs past len.  Pure: tested on its own.
 */
int hana_parse(const void *log, size_t len, struct hana_ns *out, unsigned max);
/*
 * The same clock at tick resolution (1-4 ms), without reading the TSC: for per-command
 * timeout stamps, which are compared in milliseconds.  Never mix the two clocks in one
 * comparison: the coarse one lags.
 */
uint64_t host_coarse_ns(void);
void host_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mpath.c: the path selector, pure logic over what each path looks like now */
struct hmpath_cand {
	bool usable;                 /* controller live, path not being removed */
	uint8_t ana;                 /* enum nvme_ana_state of the namespace on it */
	unsigned inflight;           /* commands this queue has on it */
};
/*
 * The path (index into cand[n]) policy pol sends the next command to: optimized paths
 * first, non-optimized only when no optimized path is usable, never other ANA states;
 * -1 when none.  *cursor is round-robin's memory (the last path it chose).
 */
int hmpath_select(const struct hmpath_cand *cand, unsigned n, enum nvmf_iopolicy pol,
		  unsigned *cursor);
/* A completion status that another path may not get (negative errno or NVMe status). */
bool hmpath_is_path_error(int status);

/* hostid.c */
int host_parse_uuid(const char *s, uint8_t out[16]);

#endif
