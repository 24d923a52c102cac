/*
 * Target core: the shared types of subsystems, namespaces, ports, controllers, queues and
 * requests, and the calls between the core and a transport.  The split follows nvmet:
 *
 *   transport: receives a command capsule into a request, calls nvmf_req_init() (parse,
 *              decide data direction and length, pick the handler), moves the data, calls
 *              req->execute(req);
 *   core:      runs the command (fabrics.c, admin.c, io.c, discovery.c) and calls
 *              nvmf_req_complete(), which hands the request back through
 *              sq->ops->queue_response().
 *
 * Threads: every queue lives on one reactor for its whole life.  A controller's queues may
 * sit on different reactors; what they share (CC/CSTS, keep-alive stamp, counters) is
 * atomic, and controller life-cycle changes are serialised by tgt->lock (connect and
 * teardown only, never per I/O).
 */
#ifndef NVMF_TARGET_TARGET_H
#define NVMF_TARGET_TARGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "auth/dhchap.h"
#include "backend/bdev.h"
#include "conn/tls.h"
#include "event/reactor.h"
#include "proto/nvme_spec.h"
#include "target/config.h"
#include "target/resv.h"
#include "target/stats.h"
#include "target/tls_keys.h"

#define NVMF_NQN_BUF (NVMF_NQN_MAX_LEN + 1)

/* Largest transfer of one command: MDTS = 8 (2^8 pages of 4 KiB = 1 MiB). */
#define NVMF_MDTS 8
#define NVMF_MAX_XFER (4096u << NVMF_MDTS)
/* Data buffers are chunks of at most this size; a request holds up to NVMF_REQ_IOV. */
#define NVMF_BUF_CHUNK (128u * 1024)
#define NVMF_REQ_IOV (NVMF_MAX_XFER / NVMF_BUF_CHUNK)

#define NVMF_AERL 4            /* outstanding Async Event Requests (AERL = 3) */
#define NVMF_ERR_LOG_SLOTS 64  /* error log entries kept */
#define NVMF_KAS_MS 1000       /* keep-alive granularity: KAS = 10 (x 100 ms) */
#define NVMF_DISC_KATO_MS 120000 /* KATO a discovery controller gets when the host asks 0 */
#define NVMF_CAP_TO 15         /* CAP.TO: 7.5 s */
#define NVMF_MAX_NS_PER_SUBSYS 1024
#define NVMF_IO_ICD_DEFAULT 16384 /* I/O queue in-capsule data default (nvmet-tcp) */

struct nvmf_tgt;
struct nvmf_tgt_ctrl;
struct nvmf_sq;
struct nvmf_req;
struct nvmf_sq_auth;
struct nvmf_passthru;

/* ------------------------------------------------------------------ namespaces */

struct nvmf_ns {
	uint32_t nsid;
	struct nvmf_bdev *bdev;
	uint64_t nblocks;        /* capacity in logical blocks: nvmf_ns_nblocks() (an RBD
				  * image's resize stores it from librbd's thread) */
	struct nvmf_tgt *tgt;
	uint8_t lba_shift;       /* log2 of the logical block size */
	uint8_t uuid[16];
	uint8_t nguid[16];
	bool has_nguid;
	uint32_t anagrpid;       /* 1..128; a reload may move it: nvmf_ns_anagrpid() */
	const struct nvmf_cfg_ns *cfg;
	/*
	 * Commands that hold the namespace (parsed, not yet back in their queue's pool), one
	 * counter per reactor, each written by its reactor only: a reload that retires the
	 * namespace closes it once every reactor has passed a grace point with its counter at
	 * 0 (grace.c).  NULL: not counted (a namespace built by hand in a unit test).
	 */
	struct nvmf_ns_inflight *inflight;
	unsigned nr_inflight;
	struct nvmf_io_stats *stats; /* [tgt->nr_reactors]: each reactor writes its own */
	/* reservations (resv.enable): shared by every controller of the subsystem; NULL: off */
	struct nvmf_resv *resv;
	/* RBD: the state lives in the image, its commands run here (resv_store.c); NULL: not */
	struct nvmf_resv_worker *resv_worker;
	_Atomic uint64_t resv_saves;    /* records written to the image (a log line, tests) */
	_Atomic bool resv_resaving;     /* the worker puts the record right (resv_store.c) */
};

/* One reactor's count, alone on its cache line: I/O on two reactors shares no line. */
struct nvmf_ns_inflight {
	uint32_t n;
	uint8_t pad[60];
};

static inline uint64_t nvmf_ns_nblocks(const struct nvmf_ns *ns)
{
	return __atomic_load_n(&ns->nblocks, __ATOMIC_RELAXED);
}

static inline uint32_t nvmf_ns_anagrpid(const struct nvmf_ns *ns)
{
	return __atomic_load_n(&ns->anagrpid, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ subsystems */

/*
 * What a configuration reload may change in a subsystem, as one immutable snapshot: a
 * reload builds a new view and swaps the pointer; the old view (and the namespaces only it
 * held) is freed after a grace period (grace.c), so a reactor that loaded the old pointer
 * keeps a valid (if stale) view while it uses it.
 */
struct nvmf_subsys_view {
	bool allow_any_host;
	char *const *allowed_hosts; /* host NQNs (borrowed from the config) */
	size_t nr_allowed_hosts;
	uint32_t nr_ns;
	struct nvmf_ns *ns[];    /* sorted by nsid */
};

struct nvmf_subsys {
	struct nvmf_tgt *tgt;
	char nqn[NVMF_NQN_BUF];
	bool is_discovery;       /* the discovery subsystem (well-known or unique NQN) */
	struct nvmf_subsys_view *view; /* nvmf_subsys_view() to read it */
	bool removed;            /* gone from the configuration: no new connections */
	char serial[NVMF_CFG_SERIAL_MAX + 1];
	char model[NVMF_CFG_MODEL_MAX + 1];
	char firmware[NVMF_CFG_FIRMWARE_MAX + 1];
	uint32_t ieee_oui;
	uint16_t vendor_id, subsys_vendor_id;
	uint32_t vs;
	uint16_t cntlid_min, cntlid_max, next_cntlid;
	uint16_t qid_max;
	bool tbkas;
	struct nvmf_tgt_ctrl *ctrls; /* live controllers, under tgt->lock */
	const struct nvmf_cfg_subsys *cfg;
	struct nvmf_io_stats retired; /* of controllers released (tgt->lock) */
	/* a passthrough subsystem: the local controller behind it (passthru.h), else NULL */
	struct nvmf_passthru *passthru;
};

static inline const struct nvmf_subsys_view *nvmf_subsys_view(const struct nvmf_subsys *s)
{
	return __atomic_load_n(&s->view, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ ports */

struct nvmf_port {
	struct nvmf_tgt *tgt;
	const struct nvmf_transport_ops *ops; /* the transport of cfg->trtype */
	const struct nvmf_cfg_port *cfg; /* swapped by a reload: read with nvmf_port_cfg() */
	uint16_t portid;
	uint32_t io_icd;         /* in-capsule data size for I/O queues */
	uint32_t max_queue_size; /* 16..1024 entries */
	int listen_fd;
	bool mptcp;              /* the listener is MPTCP (param.mptcp, and the kernel has it) */
	struct nvmf_event accept_ev;
	struct nvmf_reactor *reactor; /* the one that accepts */
	bool closing;            /* port->reactor: accept no more */
	/*
	 * A reload removed it (the reload thread's flag): it is freed, with any configuration
	 * only it still pointed into, once its listener is closed and nothing uses it
	 * (nvmf_tgt_reap_removed).
	 */
	bool removed;
	atomic_bool listener_closed;
	atomic_uint users;       /* its queues, and connections on their way to become one */
};

static inline const struct nvmf_cfg_port *nvmf_port_cfg(const struct nvmf_port *p)
{
	return __atomic_load_n(&p->cfg, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ transport ops */

/*
 * A transport (nvmet's nvmet_fabrics_ops): registered once by trtype, then the core reaches
 * it only through this table -- ports through the port calls, queues through sq->ops.
 */
struct nvmf_transport_ops {
	const char *name;
	enum nvmf_cfg_trtype trtype;

	/* Ports.  add_port: open the listener (any thread, before a reactor serves it). */
	int (*add_port)(struct nvmf_port *port, char *err, size_t errlen);
	/* On port->reactor: start accepting connections. */
	void (*port_start)(struct nvmf_port *port);
	/* On port->reactor: stop accepting; the listener closes once nothing uses it. */
	void (*remove_port)(struct nvmf_port *port);
	/* On each reactor at shutdown: queues finish the commands they have, then close. */
	void (*drain)(void);

	/* Queues. */
	/* The request is done (status and result in req->cqe): send its data, then its CQE. */
	void (*queue_response)(struct nvmf_req *req);
	/* Tear the queue down (controller gone): called on the queue's reactor. */
	void (*disconnect)(struct nvmf_sq *sq);
	/* Describe the peer for logs ("127.0.0.1:50312"). */
	const char *(*peer_name)(struct nvmf_sq *sq);
	/* Connect succeeded: qid, size and icd_max are set; size the queue's resources. */
	int (*sq_connected)(struct nvmf_sq *sq);
	/*
	 * Optional: the local IP address of the connection, numeric, without port or brackets.
	 * The discovery log reports it for a port that listens on a wildcard address (nvmet's
	 * disc_traddr).  Returns 0, or -errno (the configured address is used then).
	 */
	int (*local_addr)(struct nvmf_sq *sq, char *buf, size_t len);
};

/* Register a transport for its trtype (once, before a target is created): 0 or -EEXIST. */
int nvmf_transport_register(const struct nvmf_transport_ops *ops);
/* The transport serving trtype, or NULL. */
const struct nvmf_transport_ops *nvmf_transport_find(enum nvmf_cfg_trtype trtype);
/* Call fn for each registered transport. */
void nvmf_transport_for_each(void (*fn)(const struct nvmf_transport_ops *ops, void *arg),
			     void *arg);

/* ------------------------------------------------------------------ request states */

/*
 * Where a request is in its life (SPDK's per-request state machine, for any transport).
 * The transport moves its requests with nvmf_req_set_state(), which checks the move is one
 * of the allowed ones (req_state.c) and keeps per-queue counts.
 */
enum nvmf_req_state {
	NVMF_REQ_FREE,           /* in the queue's pool */
	NVMF_REQ_NEW,            /* command capsule arriving (with its in-capsule data) */
	NVMF_REQ_NEED_BUFFER,    /* waits for data buffers from the reactor's pool */
	NVMF_REQ_TRANSFER_H2C,   /* host-to-controller data arriving (R2T sent) */
	NVMF_REQ_EXECUTING,      /* the core runs it (backend I/O, parked AER, ...) */
	NVMF_REQ_RESPONDING,     /* data and response capsule going out */
	NVMF_REQ_NR_STATES
};

/*
 * How many of a queue's requests are in each state: written by the queue's reactor with
 * relaxed stores, so the statistics may read them from another thread (stats.h).
 */
struct nvmf_req_state_counts {
	uint32_t n[NVMF_REQ_NR_STATES];
};

/* Whether a request may move from one state to the other. */
bool nvmf_req_state_allowed(enum nvmf_req_state from, enum nvmf_req_state to);
/* Move *state to `to` (asserts the move is allowed in debug builds) and count it. */
void nvmf_req_set_state(struct nvmf_req_state_counts *c, enum nvmf_req_state *state,
			enum nvmf_req_state to);
const char *nvmf_req_state_name(enum nvmf_req_state s);

/* ------------------------------------------------------------------ queues */

struct nvmf_sq {
	struct nvmf_tgt *tgt;
	struct nvmf_port *port;
	struct nvmf_reactor *reactor;
	const struct nvmf_transport_ops *ops;
	struct nvmf_tgt_ctrl *ctrl;  /* NULL until Connect succeeded */
	uint16_t qid;
	uint16_t size;           /* entries (sqsize + 1) */
	uint16_t sqhd;
	bool sqflow_disabled;    /* host asked to disable SQ flow control */
	uint32_t icd_max;        /* in-capsule data this queue accepts */
	struct nvmf_io_stats stats;  /* written by the queue's reactor (stats.h) */
	struct nvmf_conn_stats conn_stats;
	struct nvmf_req_state_counts req_states; /* queue's reactor only: nvmf_sq_req_count() */
	struct nvmf_sq *ctrl_next; /* the controller's list of I/O queues (tgt->lock) */
	/* in-band authentication (auth.c; the queue's reactor only) */
	bool auth_pending;       /* not authenticated: only fabrics commands are served */
	struct nvmf_sq_auth *auth; /* the DH-HMAC-CHAP exchange, from the first Send on */
	/* TLS (the transport sets them when the handshake is done) */
	bool tls;
	struct nvmf_tls_peer tls_peer; /* what the PSK identity named: Connect must match */
};

/* ------------------------------------------------------------------ authentication */

/*
 * The DH-HMAC-CHAP keys a controller's host authenticates with, as nvmet's ctrl->host_key
 * / ctrl_key: taken from the configuration at admin Connect and again when the admin queue
 * re-authenticates (so a reload reaches live controllers there), already transformed.
 */
struct nvmf_auth_keys {
	uint8_t host_key[NVMF_DHCHAP_MAX_HASH]; /* K'h: host secret, transformed with the host NQN */
	uint8_t ctrl_key[NVMF_DHCHAP_MAX_HASH]; /* K'c: with the subsystem NQN (bidirectional) */
	uint8_t host_key_len;
	uint8_t ctrl_key_len;    /* 0: no controller key, the host cannot authenticate us */
	uint8_t hash;            /* configured hash (enum nvmf_dhchap_hash): preferred */
	uint8_t dhgroup;         /* configured DH group (enum nvmf_dhchap_dhgroup): used */
};

/* ------------------------------------------------------------------ controllers */

struct nvmf_aen {
	uint32_t dw0;            /* NVME_AER_DW0() */
};

struct nvmf_tgt_ctrl {
	struct nvmf_tgt *tgt;
	struct nvmf_subsys *subsys;
	struct nvmf_port *port;
	struct nvmf_tgt_ctrl *next;  /* in subsys->ctrls */
	uint16_t cntlid;
	char hostnqn[NVMF_NQN_BUF];
	uint8_t hostid[16];
	atomic_int refs;

	/* registers */
	uint64_t cap;
	_Atomic uint32_t cc;
	_Atomic uint32_t csts;

	/* queues: the admin queue and the I/O queues that connected (tgt->lock) */
	struct nvmf_sq *admin_sq;
	struct nvmf_sq *io_sqs;
	uint16_t nr_io_queues;   /* granted by Set Features Number of Queues (0's based + 1) */
	atomic_bool dying;

	/* keep-alive: runs on the admin queue's reactor */
	uint32_t kato_ms;
	_Atomic uint64_t last_ka_ns;
	struct nvmf_timer ka_timer;

	/* admin-queue state (admin reactor only) */
	struct nvmf_req *aer_reqs[NVMF_AERL];
	unsigned nr_aer_reqs;
	struct nvmf_aen pending_aen[8];
	unsigned nr_pending_aen;
	uint32_t aec;            /* Async Event Configuration feature */
	uint32_t changed_ns[1024]; /* changed namespace list log */
	unsigned nr_changed_ns;
	bool changed_ns_overflow;
	uint64_t err_count;
	struct nvme_error_log_entry *err_log; /* NVMF_ERR_LOG_SLOTS */
	unsigned err_head;
	uint64_t disc_genctr_seen;
	/* counters of queues that are gone (tgt->lock), kept for the SMART log and stats */
	struct nvmf_io_stats retired;
	pthread_mutex_t lock;    /* error log (any queue may add), auth keys */
	/* admin.c state (admin reactor only) */
	uint32_t aen_masked;     /* AEC bits of events reported, not yet re-armed by a log read */
	uint16_t temp_thresh[2]; /* Temperature Threshold feature, kelvin: [0] over, [1] under */
	bool temp_thresh_set[2]; /* false: the default applies */
	/* DH-HMAC-CHAP: every queue must authenticate (fixed at admin Connect); keys under lock */
	bool auth_required;
	struct nvmf_auth_keys auth;
	bool tls;                /* the admin queue is TLS: so must every I/O queue be */
	/* reservation notifications (resv_cmd.c): the log under lock, the flag admin reactor */
	struct nvmf_resv_log resv_log;
	bool resv_aen_masked;    /* the event was sent: no other until the log is read */
};

/* ------------------------------------------------------------------ requests */

struct nvmf_req {
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	struct nvmf_sq *sq;
	struct nvmf_ns *ns;
	uint32_t xfer_len;       /* bytes the command moves */
	enum nvme_xfer_dir dir;  /* NONE, HOST_TO_CTRL, CTRL_TO_HOST */
	bool in_capsule;         /* the H2C data came in the capsule */
	struct iovec iov[NVMF_REQ_IOV];
	int iovcnt;              /* data buffers: xfer_len bytes */
	bool iov_borrowed;       /* iov points into the backend (RAM reads): nothing to free */
	void (*execute)(struct nvmf_req *req);
	struct nvmf_bdev_io bio;
	uint64_t start_ticks;    /* capsule received (util/ticks.h), for the statistics */
	void *priv;              /* command-specific scratch (admin commands) */
	/* waiting for data buffers (nvmf_req_wait_data) */
	void (*data_ready)(struct nvmf_req *req);
	struct nvmf_req *data_wait_next;
	/* I/O on a namespace with reservations (resv_cmd.c): checked again at execution */
	void (*resv_execute)(struct nvmf_req *req);
	uint64_t resv_seq;       /* Preempt and Abort count when the command came in */
	int8_t resv_slot;        /* its in_backend count while with the backend, else -1 */
};

/* ------------------------------------------------------------------ the target */

/* Commands completed on a reactor's I/O queues (stats.h); a cache line each. */
struct nvmf_reactor_io {
	uint64_t completed;
	uint64_t pad[7];
};

/* The subsystems, swapped whole by a reload like the subsystem views. */
struct nvmf_subsys_list {
	size_t nr;
	struct nvmf_subsys *s[];
};

struct nvmf_tgt {
	struct nvmf_cfg *cfg;    /* the configuration in force (replaced by a reload) */
	struct nvmf_subsys_list *subsys; /* nvmf_tgt_subsys() to read it */
	struct nvmf_subsys *disc_subsys;
	struct nvmf_port **ports;
	size_t nr_ports;
	pthread_mutex_t lock;    /* controller life cycle, cntlid allocation */
	_Atomic uint64_t genctr; /* discovery log generation */
	_Atomic uint64_t ana_chgcnt; /* ANA log change count: a reload that changes ANA bumps it */
	struct nvmf_reactor *reactors;
	unsigned nr_reactors;
	unsigned nr_started;     /* reactors whose thread runs */
	atomic_uint next_reactor;
	uint32_t spin_us;        /* reactors' polling window (reactor.h) */
	bool no_spin_rx;         /* reactors never read a connection themselves (reactor.h) */
	atomic_int live_queues;
	atomic_int live_ctrls;   /* created and not yet released (shutdown waits for 0) */
	uint64_t start_ns;       /* nvmf_tgt_create() */
	struct nvmf_reactor_io *reactor_io; /* [nr_reactors]: each reactor writes its own */
	struct nvmf_conn_stats conn_retired; /* of connections closed (tgt->lock) */
	/* every namespace and subsystem ever built (reloads add to them), for teardown */
	struct nvmf_ns **all_ns;
	size_t nr_all_ns;
	struct nvmf_subsys **all_subsys;
	size_t nr_all_subsys;
	/* what reloads replaced, until every reactor passed a grace point (grace.c) */
	struct nvmf_retired *retiring;
	/* configurations a removed port still points into: kept until the port is reaped */
	struct nvmf_cfg **old_cfgs;
	size_t nr_old_cfgs;
	const char *config_path; /* --config FILE, for reloads (NULL: quick start) */
	/* TLS PSKs (tls.c): replaced by a reload under lock, read by handshakes under lock */
	struct nvmf_tls_keys *tls_keys;
	const char *tls_keys_path; /* --tls-keys FILE (NULL: none) */
	bool tls_compat;         /* --tls-compat: lines without a word derive as libnvme <= 1.15 */
	enum nvmf_tls_record tls_record;
};

static inline const struct nvmf_subsys_list *nvmf_tgt_subsys(const struct nvmf_tgt *t)
{
	return __atomic_load_n(&t->subsys, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ core API */

/* Status helpers. */
#define NVMF_SC(sc) NVME_STATUS(NVME_SCT_GENERIC, sc)
#define NVMF_SC_DNR(sc) NVME_STATUS_NORETRY(NVME_SCT_GENERIC, sc)
#define NVMF_CMD_SC_DNR(sc) NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, sc)

/*
 * Parse the command in req->cmd for queue sq: checks the SGL, sets dir / xfer_len /
 * execute and req->ns.  icd_len is the in-capsule data the PDU carried.  Returns 0, or an
 * NVMe status (the transport then drops any data and completes the request with it).
 */
uint16_t nvmf_req_init(struct nvmf_req *req, struct nvmf_sq *sq, uint32_t icd_len);

/* Finish a request with status (and whatever the handler put in req->cqe.dw0/dw1). */
void nvmf_req_complete(struct nvmf_req *req, uint16_t status);

/*
 * Data buffers: from the calling reactor's pool, xfer_len bytes as iovecs.  The transport
 * allocates them for host-to-controller data; for controller-to-host data the handler does
 * (nvmf_req_fill / nvmf_req_copy_to allocate on first use; RAM reads borrow the backend's
 * memory instead).  The transport frees them once the response is sent.
 */
int nvmf_req_alloc_data(struct nvmf_req *req);
void nvmf_req_free_data(struct nvmf_req *req);
/*
 * The pool is bounded (nvmf_req_data_set_limit): when nvmf_req_alloc_data() fails, a
 * request may wait.  Waiters are served first come first served on the calling reactor:
 * ready(req) runs, from a deferred work item, once req's buffers are allocated.  A request
 * that stops waiting (its queue closes) must be cancelled.
 */
void nvmf_req_wait_data(struct nvmf_req *req, void (*ready)(struct nvmf_req *req));
void nvmf_req_cancel_wait_data(struct nvmf_req *req);
/*
 * Most bytes of data buffers each reactor hands out (0: no limit, the default).  At least
 * one largest transfer is always allowed, so any single request can make progress.  Set
 * before the reactors run.
 */
void nvmf_req_data_set_limit(size_t bytes);
/* Copy between the request's data buffers and a flat buffer. */
size_t nvmf_req_copy_to(struct nvmf_req *req, size_t off, const void *src, size_t len);
size_t nvmf_req_copy_from(struct nvmf_req *req, size_t off, void *dst, size_t len);
/* Fill the whole transfer (zeroes past len), for admin commands that return a structure. */
void nvmf_req_fill(struct nvmf_req *req, const void *src, size_t len);

/* How many of the queue's requests are in state s (on the queue's reactor). */
static inline uint32_t nvmf_sq_req_count(const struct nvmf_sq *sq, enum nvmf_req_state s)
{
	return sq->req_states.n[s];
}

/*
 * The command in req uses namespace ns (taken on the queue's reactor, counted there) until
 * the transport gives the request back to its pool with nvmf_req_release().
 */
void nvmf_req_set_ns(struct nvmf_req *req, struct nvmf_ns *ns);
void nvmf_req_release(struct nvmf_req *req);
/* Whether no command of reactor id holds ns (on that reactor). */
bool nvmf_ns_idle_on(const struct nvmf_ns *ns, unsigned id);

/* The queue is gone (transport closed it): release the controller reference. */
void nvmf_sq_destroy(struct nvmf_sq *sq);

/* Per-command-set parsers (set execute / xfer_len / dir, or return a status). */
uint16_t nvmf_parse_fabrics(struct nvmf_req *req);
uint16_t nvmf_parse_admin(struct nvmf_req *req);
uint16_t nvmf_parse_io(struct nvmf_req *req);
uint16_t nvmf_parse_discovery(struct nvmf_req *req);

/*
 * Reservations (resv_cmd.c).  parse_resv: Register / Acquire / Release / Report on
 * req->ns (which has them).  resv_io: an I/O command of class cls on such a namespace:
 * the conflict check now, and again when it executes; 0 or the status to fail it with.
 * resv_done: the status a finished command completes with (Preempt and Abort ends the
 * commands of the hosts it preempted).
 */
uint16_t nvmf_parse_resv(struct nvmf_req *req);

/*
 * The reservations of an RBD namespace, kept in the image (resv_store.c).  store_open: after
 * ns->resv is made, reads the record (dropping it after a power loss without PTPL), keeps
 * every change there from now on, starts the worker; 0 or -errno with the reason in err.
 * store_queue: run j->run(j) on the namespace's worker (false: the namespace has none; run
 * it where you are).  store_close: before the backend closes, the namespace idle.
 */
#define NVMF_RESV_META_KEY "nvmf.resv"
struct nvmf_resv_job {
	struct nvmf_resv_job *next;
	void (*run)(struct nvmf_resv_job *j);
};
int nvmf_resv_store_open(struct nvmf_ns *ns, char *err, size_t errlen);
bool nvmf_resv_store_queue(struct nvmf_ns *ns, struct nvmf_resv_job *j);
void nvmf_resv_store_close(struct nvmf_ns *ns);
uint16_t nvmf_resv_io(struct nvmf_req *req, enum nvmf_resv_class cls);
uint16_t nvmf_resv_done(struct nvmf_req *req, uint16_t status);
/* Get Log Page 80h, features 82h / 83h (admin.c calls them). */
void nvmf_resv_log_page(struct nvmf_req *req);
uint16_t nvmf_resv_set_feature(struct nvmf_req *req, uint8_t fid, uint32_t v, uint32_t *dw0);
/*
 * Set Features 83h (value v) on one namespace whose state lives in the cluster: queued to
 * its worker, which completes req (true); false: not such a command, use set_feature.
 */
bool nvmf_resv_set_ptpl_queued(struct nvmf_req *req, uint32_t v);
uint16_t nvmf_resv_get_feature(struct nvmf_req *req, uint8_t fid, uint32_t *dw0);

/*
 * In-band authentication (auth.c).  load_keys: the keys host hostnqn must prove on subsys,
 * read from the configuration in force: 1 (keys in *k), 0 (no authentication: discovery,
 * allow_any_host, no key -- as nvmet), or -errno (host no longer allowed, key unusable).
 */
int nvmf_auth_load_keys(const struct nvmf_subsys *subsys, const char *hostnqn,
			struct nvmf_auth_keys *k);
/* Authentication Send / Receive: checks the capsule, sets the handler. */
uint16_t nvmf_parse_auth(struct nvmf_req *req);
/* The queue is going: stop its exchange, wipe what it held. */
void nvmf_auth_sq_free(struct nvmf_sq *sq);

/* Controllers (ctrl.c). */
struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_create(struct nvmf_subsys *subsys, struct nvmf_sq *admin_sq,
				   const struct nvmf_connect_data *d, uint32_t kato_ms,
				   uint16_t *status);
struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_find(struct nvmf_subsys *subsys, uint16_t cntlid,
				 const char *hostnqn);
void nvmf_tgt_ctrl_get(struct nvmf_tgt_ctrl *ctrl);
void nvmf_tgt_ctrl_put(struct nvmf_tgt_ctrl *ctrl);
/* Fatal error / keep-alive expiry / admin queue gone: CFS, then close every queue. */
void nvmf_tgt_ctrl_fatal(struct nvmf_tgt_ctrl *ctrl, const char *why);
bool nvmf_tgt_ctrl_ready(const struct nvmf_tgt_ctrl *ctrl);
/* May a command arriving at now still run (not torn down, keep-alive not overdue)? */
bool nvmf_tgt_ctrl_alive(struct nvmf_tgt_ctrl *ctrl, uint64_t now);
uint16_t nvmf_tgt_ctrl_set_cc(struct nvmf_tgt_ctrl *ctrl, uint32_t cc);
void nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl);
/* Queue an asynchronous event; completes an outstanding AER if there is one. */
void nvmf_tgt_ctrl_add_aen(struct nvmf_tgt_ctrl *ctrl, uint32_t dw0);
/*
 * The admin queue sq is closing: hand back the AERs the controller holds (they never
 * complete on their own) so the transport can free them.  Returns how many went to out.
 */
unsigned nvmf_tgt_ctrl_take_aers(struct nvmf_sq *sq, struct nvmf_req **out, unsigned max);
void nvmf_tgt_ctrl_add_error(struct nvmf_tgt_ctrl *ctrl, struct nvmf_req *req, uint16_t status);
/* Namespace nsid changed: add it to the Changed Namespace List, raise the AEN (admin reactor). */
void nvmf_tgt_ctrl_ns_changed(struct nvmf_tgt_ctrl *ctrl, uint32_t nsid);
/*
 * Any thread, tgt->lock held: a "namespace attribute changed" event for nsid to every live
 * controller of s (delivered on each controller's admin reactor).
 */
void nvmf_tgt_notify_ns_changed(struct nvmf_subsys *s, uint32_t nsid);
/* Any thread, tgt->lock held: an "ANA change" event to every live controller of s. */
void nvmf_tgt_notify_ana_changed(struct nvmf_subsys *s);

/*
 * The owner role of a gateway pair (owner.c).  claim: before cfg takes effect, the
 * gateway namespaces of view v (subsystem c of cfg) whose ANA group cfg makes optimized
 * here take ownership of their backend (blocking: a control thread); release: once cfg is
 * in force, those whose group no longer is give it up.  Failures are logged; such a
 * namespace stays unowned.  group_lost: a namespace of group grp in v is a gateway
 * namespace that is not owned, so the group is inaccessible here whatever the ports say.
 */
void nvmf_owner_claim(const struct nvmf_cfg *cfg, const struct nvmf_cfg_subsys *c,
		      const struct nvmf_subsys_view *v);
void nvmf_owner_release(const struct nvmf_cfg *cfg, const struct nvmf_cfg_subsys *c,
			const struct nvmf_subsys_view *v);
bool nvmf_owner_group_lost(const struct nvmf_subsys_view *v, uint32_t grp);
void nvmf_tgt_ctrl_fill_stats(struct nvmf_tgt_ctrl *ctrl, uint64_t *rd_cmds, uint64_t *wr_cmds,
			  uint64_t *rd_bytes, uint64_t *wr_bytes);

/* Subsystems. */
struct nvmf_subsys *nvmf_tgt_find_subsys(struct nvmf_tgt *tgt, const char *nqn);
struct nvmf_ns *nvmf_subsys_find_ns(struct nvmf_subsys *subsys, uint32_t nsid);
bool nvmf_subsys_host_allowed(const struct nvmf_subsys *subsys, const char *hostnqn);
bool nvmf_port_has_subsys(const struct nvmf_port *port, const struct nvmf_subsys *subsys);

/* Identify / log / discovery data builders (admin.c, discovery.c). */
void nvmf_build_id_ctrl(struct nvmf_tgt_ctrl *ctrl, struct nvme_id_ctrl *id);
/*
 * Complete a Get Log Page with the window LPO / NUMD select from page (size bytes): Invalid
 * Field for an unaligned offset or one past the end, zeroes past the end of the page.  On
 * success with RAE clear, re-arms the asynchronous events in aec_bits.  Returns the status
 * the request was completed with (admin.c; discovery.c uses it for the Discovery log).
 */
uint16_t nvmf_log_page_complete(struct nvmf_req *req, const void *page, size_t size,
				uint32_t aec_bits);

/* Building blocks shared by creation and reload (tgt.c). */
int nvmf_tgt_open_ns(struct nvmf_tgt *tgt, struct nvmf_subsys *s, const struct nvmf_cfg_ns *c,
		     struct nvmf_ns **out, char *err, size_t errlen);
/* Close the backend and free the namespace (nothing may use it any more). */
void nvmf_tgt_close_ns(struct nvmf_ns *ns);
struct nvmf_subsys_view *nvmf_subsys_view_new(const struct nvmf_cfg_subsys *c, uint32_t max_ns);
void nvmf_subsys_view_sort(struct nvmf_subsys_view *v);
int nvmf_tgt_build_subsys(struct nvmf_tgt *tgt, const struct nvmf_cfg_subsys *c,
			  struct nvmf_subsys **out, char *err, size_t errlen);
int nvmf_tgt_build_port(struct nvmf_tgt *tgt, const struct nvmf_cfg_port *c,
			struct nvmf_port **out);
bool nvmf_tgt_serves_port(const struct nvmf_cfg_port *c);
/* A port through its transport: open the listener; have reactor r accept; stop accepting. */
int nvmf_port_listen(struct nvmf_port *p, char *err, size_t errlen);
void nvmf_port_run(struct nvmf_port *p, struct nvmf_reactor *r);
void nvmf_port_remove(struct nvmf_port *p);
void nvmf_tgt_warn_unserved(const struct nvmf_cfg *cfg);

/* Target life cycle (tgt.c).  create takes ownership of cfg, also when it fails. */
int nvmf_tgt_create(struct nvmf_cfg *cfg, unsigned nr_reactors, uint32_t spin_us,
		    struct nvmf_tgt **out, char *err, size_t errlen);
/* Flags of nvmf_tgt_create_ext(). */
#define NVMF_TGT_MAY_START_EMPTY 0x1u /* no port yet is fine: JSON-RPC will add them */
int nvmf_tgt_create_ext(struct nvmf_cfg *cfg, unsigned nr_reactors, uint32_t spin_us,
			unsigned flags, struct nvmf_tgt **out, char *err, size_t errlen);
int nvmf_tgt_start(struct nvmf_tgt *tgt, char *err, size_t errlen);
void nvmf_tgt_stop(struct nvmf_tgt *tgt);
void nvmf_tgt_destroy(struct nvmf_tgt *tgt);
/*
 * Re-read the configuration file and apply what changed (reload.c): namespaces added or
 * removed, allowed hosts, port links, referrals, new subsystems and ports.  Controllers
 * hear of it by Async Events (namespace attribute changed, discovery log changed).
 * Returns 0, or -errno with the reason in err (the running configuration stays).
 */
int nvmf_tgt_reload(struct nvmf_tgt *tgt, char *err, size_t errlen);
/*
 * Apply a whole new configuration the way a reload does (the JSON-RPC interface builds one
 * per change); takes ownership of ncfg, also when it fails.  origin names the change in
 * the log ("reload of FILE", "rpc nvmf_subsystem_add_ns").
 */
int nvmf_tgt_apply(struct nvmf_tgt *tgt, struct nvmf_cfg *ncfg, const char *origin, char *err,
		   size_t errlen);

/* ------------------------------------------------------------------ TLS (tls.c) */

/*
 * Load tgt->tls_keys_path (set with tls_compat before): at start, and on SIGHUP, when a
 * file that fails (mode, syntax) leaves the keys in force.  0 or -errno with err.
 */
int nvmf_tgt_tls_load_keys(struct nvmf_tgt *tgt, char *err, size_t errlen);
/* The PSK lookup of a queue's TLS server handshake (nvmf_tls_find_psk_fn; arg: the sq). */
int nvmf_tgt_tls_find_psk(void *arg, const char *identity, size_t len, uint8_t *psk,
			  size_t *psk_len, unsigned *hash);
struct nvmf_reactor *nvmf_tgt_pick_reactor(struct nvmf_tgt *tgt);

/*
 * What a reload replaced, freed (free(), nvmf_cfg_free()) once every reactor has passed a
 * grace point (grace.c): by the next reload, or at destroy.  new: room for max pointers;
 * retire: frees earlier batches that are through, starts this one's grace period and owns
 * it from then on; free_retired: at destroy, the reactors gone.
 */
struct nvmf_retired;
struct nvmf_retired *nvmf_retired_new(size_t max);
int nvmf_retired_add(struct nvmf_retired *r, void *p); /* 0, -ENOSPC past max */
int nvmf_retired_add_cfg(struct nvmf_retired *r, struct nvmf_cfg *cfg); /* 0, -ENOMEM */
/*
 * Free what reloads removed and nothing uses any more (through a grace batch): ports whose
 * listener and queues are gone, with the configurations only they pointed into, and
 * subsystems whose last controller is released.  Returns whether a removed one still
 * waits.
 */
bool nvmf_tgt_reap_removed(struct nvmf_tgt *tgt);
/* Free a batch that was never retired (and what it holds). */
void nvmf_retired_free(struct nvmf_retired *r);
/* A namespace no view holds any more: flushed and closed once no command uses it. */
int nvmf_retired_add_ns(struct nvmf_retired *r, struct nvmf_ns *ns);
void nvmf_tgt_retire(struct nvmf_tgt *tgt, struct nvmf_retired *r);
/*
 * Free the batches whose grace period is over (the thread that reloads; the main loop
 * calls it while some are left).  Returns whether some are still waiting.
 */
bool nvmf_tgt_sweep_retired(struct nvmf_tgt *tgt);
void nvmf_tgt_free_retired(struct nvmf_tgt *tgt);

#endif
