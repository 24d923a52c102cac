/*
 * libnvmf — a user-space NVMe/TCP host.
 *
 * Connect to any NVMe/TCP controller (nvmf-target, the Linux kernel's nvmet-tcp, SPDK),
 * discover subsystems, and do I/O with an asynchronous submit + callback API:
 *
 *   struct nvmf_ctrl_opts o;
 *   nvmf_ctrl_opts_init(&o);
 *   o.traddr = "127.0.0.1"; o.subnqn = "nqn...";
 *   nvmf_ctrl_connect(&o, &ctrl);                 // admin queue, enable, identify, I/O queues
 *   struct nvmf_qpair *q = nvmf_ctrl_qpair(ctrl, 0);
 *   nvmf_read(q, 1, lba, nlb, buf, done_cb, arg);  // returns at once
 *   while (...) nvmf_qpair_poll(q, 0);             // callbacks run from here
 *
 * Threads: each I/O queue pair (one TCP connection) belongs to the thread that polls it;
 * no locks on the I/O path.  Different queue pairs may be used from different threads.
 * The admin queue (keep-alive, async events, reconnects) runs on a thread of the library.
 *
 * Connection loss: every reconnect_delay seconds the library tries to reconnect until
 * ctrl_loss_tmo; commands in flight are resubmitted on the new association, never
 * dropped; callers see an error only when the controller is given up.
 */
#ifndef NVMF_NVMF_H
#define NVMF_NVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "nvme_types.h"   /* struct nvme_sqe, struct nvme_cqe */

#ifdef __cplusplus
extern "C" {
#endif

struct nvmf_ctrl;
struct nvmf_qpair;

/* ------------------------------------------------------------------ options */

/* Where a TLS connection's records are made after the handshake. */
enum nvmf_tls_mode {
	NVMF_TLS_MODE_AUTO,    /* the kernel (kTLS) when it takes both directions, else OpenSSL */
	NVMF_TLS_MODE_USER,    /* OpenSSL, in this process */
	NVMF_TLS_MODE_KERNEL,  /* kTLS, or the connect fails (-EOPNOTSUPP) */
};

struct nvmf_ctrl_opts {
	const char *traddr;          /* address of the controller */
	const char *trsvcid;         /* port; NULL: "4420" ("8009" for discovery) */
	const char *subnqn;          /* NULL: the well-known discovery NQN */
	const char *hostnqn;         /* NULL: /etc/nvme/hostnqn, else generated */
	const char *hostid;          /* UUID text; NULL: /etc/nvme/hostid, else derived */
	const char *host_traddr;     /* local address to connect from (NULL: any) */
	unsigned nr_io_queues;       /* 0: none (discovery) ; default 1 */
	unsigned queue_size;         /* I/O queue entries, 16..1024; default 128 */
	unsigned admin_queue_size;   /* default 32 */
	unsigned kato_ms;            /* keep-alive timeout; default 5000, 0: none */
	int reconnect_delay_s;       /* default 10 */
	int ctrl_loss_tmo_s;         /* default 600; -1: retry forever; 0: never reconnect */
	bool hdgst;                  /* header digest (nvme connect -g) */
	bool ddgst;                  /* data digest (nvme connect -G) */
	bool disable_sqflow;         /* ask the controller to disable SQ flow control */
	unsigned io_timeout_ms;      /* a command older than this fails the connection
					(then reconnect + retry); default 30000, 0: none */
	/*
	 * DH-HMAC-CHAP (NVMe in-band authentication), in the DHHC-1 form nvme-cli uses
	 * ("DHHC-1:01:<base64>:", nvme gen-dhchap-key).  Used on every queue whose Connect
	 * response asks for authentication (nvmet: the admin and every I/O queue of a host
	 * with a dhchap_key).  Read and checked by nvmf_ctrl_connect (bad form or CRC:
	 * -EINVAL); the strings need not outlive the call.
	 */
	const char *dhchap_secret;      /* host key (nvme connect -S); NULL: none */
	const char *dhchap_ctrl_secret; /* controller key: the controller must prove it
					   too (bidirectional; nvme connect -C); needs
					   dhchap_secret */
	/*
	 * TLS 1.3 with a pre-shared key (NVMe/TCP TP 8011; nvme connect --tls --tls-key):
	 * every queue (admin and I/O) does its own handshake after the TCP connect, then
	 * the ICReq goes inside TLS.  The configured PSK is in the interchange form
	 * ("NVMeTLSkey-1:01:<base64>:", nvmf gen-tls-key / nvme gen-tls-key); the identity
	 * offered and the TLS PSK are derived from it with the host and subsystem NQNs.
	 * A tls_key turns TLS on by itself.  Read and checked by nvmf_ctrl_connect (bad
	 * form or CRC: -EINVAL; tls without tls_key: -ENOKEY); the string need not outlive
	 * the call.  DH-HMAC-CHAP still runs on a TLS queue when the controller asks for it.
	 */
	bool tls;
	const char *tls_key;
	/*
	 * The PSK identity's version: 1 (default, as nvme connect --tls-key and the Linux
	 * host's keyring search prefer: "NVMe1R01 <hostnqn> <subnqn> <digest>") or 0
	 * ("NVMe0R01 <hostnqn> <subnqn>": what SPDK targets look up).
	 */
	unsigned tls_identity_version;
	/*
	 * Derive as libnvme <= 1.15 (nvme-cli 2.13, Debian 13) does rather than as the spec,
	 * SPDK and libnvme >= 1.16: for a Linux target whose keys that nvme-cli inserted.
	 */
	bool tls_compat;
	enum nvmf_tls_mode tls_record; /* where TLS records are made; default AUTO */
	/*
	 * Multipath TCP (Linux's IPPROTO_MPTCP): every queue's connection is an MPTCP socket,
	 * whose subflows take the paths the kernel's path manager is given (`ip mptcp
	 * endpoint add ADDR dev IF subflow`, `ip mptcp limits set subflows N`); a path that
	 * fails leaves the connection going on the others.  A controller that does not speak
	 * MPTCP is reached over plain TCP (the kernel falls back), as is every controller when
	 * the kernel has no MPTCP (then a warning is logged).  TLS records are made in user
	 * space: the kernel's TLS does not run over MPTCP (tls_record KERNEL: -EOPNOTSUPP).
	 */
	bool mptcp;
};

void nvmf_ctrl_opts_init(struct nvmf_ctrl_opts *o);

/* ------------------------------------------------------------------ controllers */

/*
 * Connect: TCP + ICReq, Fabrics Connect of the admin queue (and DH-HMAC-CHAP when the
 * controller asks for it), CC.EN and wait for CSTS.RDY (within CAP.TO), Identify
 * controller, Set Features Number of Queues, then the I/O queues (each its own TCP
 * connection, authenticated the same way).  Returns 0 or a negative errno;
 * nvmf_strerror_last() then says what failed.  Authentication errors: -ENOKEY (the
 * controller asks for it, no dhchap_secret), -EKEYREJECTED (the controller rejected our
 * key, or failed to prove its own), -EOPNOTSUPP (secure channel concatenation asked),
 * -EPROTO (a malformed exchange).  TLS errors: -EKEYREJECTED (the controller refused
 * the PSK identity, or the PSKs differ), -EPROTO (the controller does not speak TLS 1.3),
 * -ETIMEDOUT (no handshake within 10 s).  As with the Linux host, a reconnect that fails
 * with -EKEYREJECTED or -ENOKEY is not retried: the controller is given up at once.
 */
int nvmf_ctrl_connect(const struct nvmf_ctrl_opts *o, struct nvmf_ctrl **out);
/* Last error text of this thread's failed nvmf_ctrl_connect(), for messages. */
const char *nvmf_strerror_last(void);

/* Shut down cleanly (CC.SHN, wait SHST), close every queue, free.  Queue pairs must not
 * be polled any more by then. */
void nvmf_ctrl_disconnect(struct nvmf_ctrl *c);

/* Identify Controller data (4096 bytes, struct nvme_id_ctrl), as read at connect. */
const void *nvmf_ctrl_id(const struct nvmf_ctrl *c);
uint16_t nvmf_ctrl_cntlid(const struct nvmf_ctrl *c);
const char *nvmf_ctrl_subnqn(const struct nvmf_ctrl *c);
const char *nvmf_ctrl_hostnqn(const struct nvmf_ctrl *c);

/* Active namespaces (ascending NSIDs) into nsids[max]; returns the count or -errno. */
int nvmf_ctrl_list_ns(struct nvmf_ctrl *c, uint32_t *nsids, unsigned max);

struct nvmf_ns_info {
	uint32_t nsid;
	uint64_t nblocks;
	uint32_t block_size;
	bool read_only;
	uint8_t nguid[16];
	uint8_t uuid[16];
	bool has_uuid;
	uint8_t eui64[8];            /* Identify Namespace's EUI64 (zero: none) */
};
int nvmf_ctrl_ns_info(struct nvmf_ctrl *c, uint32_t nsid, struct nvmf_ns_info *info);

unsigned nvmf_ctrl_nr_qpairs(const struct nvmf_ctrl *c);
struct nvmf_qpair *nvmf_ctrl_qpair(struct nvmf_ctrl *c, unsigned idx);
/* Largest transfer of one command (MDTS), in bytes. */
uint32_t nvmf_ctrl_max_xfer(const struct nvmf_ctrl *c);

enum nvmf_ctrl_state {
	NVMF_CTRL_LIVE,
	NVMF_CTRL_RECONNECTING,
	NVMF_CTRL_DEAD,            /* given up (ctrl_loss_tmo) or disconnected */
};
enum nvmf_ctrl_state nvmf_ctrl_state(const struct nvmf_ctrl *c);
unsigned nvmf_ctrl_reconnects(const struct nvmf_ctrl *c); /* successful reconnects so far */
const char *nvmf_ctrl_traddr(const struct nvmf_ctrl *c);
const char *nvmf_ctrl_trsvcid(const struct nvmf_ctrl *c);

/*
 * Asymmetric Namespace Access.  A controller that reports ANA (Identify CMIC bit 3) has
 * its ANA log read at connect, after each reconnect, on each ANA change event and after
 * an I/O completed with an ANA status; the values are the spec's.
 */
enum nvmf_ana_state {
	NVMF_ANA_OPTIMIZED = 0x1,
	NVMF_ANA_NON_OPTIMIZED = 0x2,
	NVMF_ANA_INACCESSIBLE = 0x3,
	NVMF_ANA_PERSISTENT_LOSS = 0x4,
	NVMF_ANA_CHANGE = 0xF,
};
bool nvmf_ctrl_ana_reporting(const struct nvmf_ctrl *c);
/*
 * nsid's state on c as last read: NVMF_ANA_OPTIMIZED when c does not report ANA (or no
 * log could be read yet), NVMF_ANA_INACCESSIBLE when the log does not list nsid.
 */
enum nvmf_ana_state nvmf_ctrl_ana_state(struct nvmf_ctrl *c, uint32_t nsid);
/* Changes whenever the states above may have changed (a log was read). */
unsigned nvmf_ctrl_ana_gen(const struct nvmf_ctrl *c);
/* "optimized", "non-optimized", "inaccessible", "persistent-loss", "change" (nvme-cli's) */
const char *nvmf_ana_state_name(enum nvmf_ana_state s);

/*
 * Admin command, synchronous (any thread): data (len bytes) to (write) or from the
 * controller.  cqe (may be NULL) gets the completion.  Returns the NVMe status field
 * (0 = success, bit 0 clear) or a negative errno.
 */
int nvmf_admin_cmd(struct nvmf_ctrl *c, struct nvme_sqe *sqe, void *data, uint32_t len,
		   bool write, struct nvme_cqe *cqe);
int nvmf_identify(struct nvmf_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf4k);
int nvmf_get_log_page(struct nvmf_ctrl *c, uint8_t lid, uint32_t nsid, uint64_t offset,
		      void *buf, uint32_t len);

/* ------------------------------------------------------------------ I/O */

/*
 * Completion callback: status is the NVMe status field of the CQE (0 = success) or a
 * negative errno when the command could not be carried out (controller given up).
 */
typedef void (*nvmf_io_cb)(void *arg, int status, const struct nvme_cqe *cqe);

#define NVMF_IO_FUA (1u << 0)        /* write: force unit access */
#define NVMF_IO_DEAC (1u << 1)       /* write zeroes: deallocate */

/*
 * Submit; returns 0, -EAGAIN when the queue is full (poll, then retry) or -errno.
 * Buffers must stay valid until the callback.  lba / nlb in logical blocks.
 */
int nvmf_read(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb, void *buf,
	      nvmf_io_cb cb, void *arg);
int nvmf_write(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
	       const void *buf, unsigned flags, nvmf_io_cb cb, void *arg);
int nvmf_readv(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
	       const struct iovec *iov, int iovcnt, nvmf_io_cb cb, void *arg);
int nvmf_writev(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		const struct iovec *iov, int iovcnt, unsigned flags, nvmf_io_cb cb, void *arg);
int nvmf_flush(struct nvmf_qpair *q, uint32_t nsid, nvmf_io_cb cb, void *arg);
int nvmf_write_zeroes(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		      unsigned flags, nvmf_io_cb cb, void *arg);
/* Dataset Management, deallocate one range. */
int nvmf_deallocate(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		    nvmf_io_cb cb, void *arg);
/* Any I/O command; the library fills CID and the SGL. */
int nvmf_io_raw(struct nvmf_qpair *q, const struct nvme_sqe *sqe, const struct iovec *iov,
		int iovcnt, bool write, nvmf_io_cb cb, void *arg);

/*
 * Progress: send what was submitted, receive completions, run callbacks (at most max;
 * 0 = no limit; completions already received wait for the next call, and the fd below
 * stays readable for them).  Never blocks: a queue pair that reconnects does so in steps
 * (TCP connect, ICReq/ICResp, Fabrics Connect), each taken by a poll once the socket is
 * ready.  Returns the number of completions, or -ENOTCONN while the queue pair or the
 * controller reconnects (commands stay queued), -ENODEV once it is given up.
 */
int nvmf_qpair_poll(struct nvmf_qpair *q, unsigned max);
/* Block until a completion arrives or timeout_ms passes (-1: forever), then poll. */
int nvmf_qpair_wait(struct nvmf_qpair *q, int timeout_ms);
/* A file descriptor that becomes readable when nvmf_qpair_poll() has work (event loops). */
int nvmf_qpair_fd(const struct nvmf_qpair *q);
unsigned nvmf_qpair_depth(const struct nvmf_qpair *q);    /* commands it can hold */
unsigned nvmf_qpair_inflight(const struct nvmf_qpair *q); /* submitted, not completed */
/*
 * The paths of the queue pair's connection now (from the thread that polls it): -1 plain
 * TCP, 0 an MPTCP socket that fell back to TCP (the controller does not speak MPTCP),
 * n >= 1 MPTCP with n subflows; -ENOTCONN while it is not connected.
 */
int nvmf_qpair_mptcp_subflows(const struct nvmf_qpair *q);

/* Synchronous helpers on top (they poll q until done). */
int nvmf_read_sync(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb, void *buf);
int nvmf_write_sync(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		    const void *buf, unsigned flags);
int nvmf_flush_sync(struct nvmf_qpair *q, uint32_t nsid);

/* ------------------------------------------------------------------ multipath */

/*
 * One namespace reached through several controllers of one subsystem (paths), as the
 * Linux host's native multipath: I/O goes to a path the iopolicy picks among the usable
 * ones (controller live, namespace ANA optimized; non-optimized only when no optimized
 * path is usable; never inaccessible, persistent loss or change).  A command that fails
 * with a path error (the connection lost, the controller reconnecting or given up, an ANA
 * path status: SCT 3) is sent again at once on another usable path; the failed controller
 * reconnects in the background, by its own reconnect_delay / ctrl_loss_tmo, and is used
 * again once live.  When no path is usable, commands wait for one - until every path's
 * controller is given up (or no_path_tmo_ms), then they fail with -ENODEV (-ETIMEDOUT).
 * An ANA status also has the path's ANA log read again.
 *
 *   struct nvmf_mpath_opts mo;
 *   nvmf_mpath_opts_init(&mo); mo.nsid = 1; mo.iopolicy = NVMF_IOPOLICY_ROUND_ROBIN;
 *   nvmf_mpath_create(&mo, &m);
 *   nvmf_mpath_add_path(m, ctrl_a); nvmf_mpath_add_path(m, ctrl_b);
 *   nvmf_mpath_queue_create(m, 0, &mq);          // I/O queue pair 0 of every path
 *   nvmf_mpath_readv(mq, lba, nlb, iov, 1, cb, arg);
 *   while (...) nvmf_mpath_queue_poll(mq, 0);
 *
 * Threads: a multipath queue is like a queue pair (one thread polls it, no locks on its
 * I/O path); it owns the queue pairs of its index on every path, which nobody else may
 * poll.  Paths may be added and removed from any thread while queues run.
 */
struct nvmf_mpath;
struct nvmf_mpath_queue;

enum nvmf_iopolicy {
	NVMF_IOPOLICY_NUMA,          /* the first usable path (in the order added) */
	NVMF_IOPOLICY_ROUND_ROBIN,   /* each command to the next usable path */
	NVMF_IOPOLICY_QUEUE_DEPTH,   /* the usable path with the fewest commands in flight */
};
/* "numa", "round-robin", "queue-depth" (the Linux host's iopolicy names) */
const char *nvmf_iopolicy_name(enum nvmf_iopolicy p);
int nvmf_iopolicy_parse(const char *s, enum nvmf_iopolicy *out);

struct nvmf_mpath_opts {
	uint32_t nsid;               /* the namespace (same NSID on every path); default 1 */
	enum nvmf_iopolicy iopolicy; /* default NUMA */
	/*
	 * A path whose queue pair has commands in flight and completes none for this long
	 * is declared failed while another path is usable: its commands go to that path
	 * and the controller reconnects.  What bounds failover on a silent link (a cable
	 * pulled: no RST, TCP retransmits for minutes, keep-alive needs KATO).  Default 500;
	 * 0: off (then keep-alive or io_timeout_ms notice).
	 */
	unsigned stall_ms;
	unsigned no_path_tmo_ms;     /* 0: wait while any path's controller is not given up */
};
void nvmf_mpath_opts_init(struct nvmf_mpath_opts *o);
int nvmf_mpath_create(const struct nvmf_mpath_opts *o, struct nvmf_mpath **out);
/*
 * Change the iopolicy while queues run (the Linux host's per-subsystem iopolicy file in
 * sysfs): each queue picks with the new one from its next command.
 */
void nvmf_mpath_set_iopolicy(struct nvmf_mpath *m, enum nvmf_iopolicy p);
enum nvmf_iopolicy nvmf_mpath_iopolicy(const struct nvmf_mpath *m);
/* Free m: every queue must have been freed; the controllers are not disconnected. */
void nvmf_mpath_destroy(struct nvmf_mpath *m);
/*
 * Add controller c as a path.  It must be of the subsystem of the paths already there,
 * and the namespace must be the same one on it (NGUID, EUI-64 and UUID equal where
 * either side reports one, same size and block size): else -EINVAL (-EEXIST: c is a path already; -ENOSPC: NVMF_MPATH_MAX_PATHS).
 * Running queues start using it at their next poll.
 */
#define NVMF_MPATH_MAX_PATHS 8
int nvmf_mpath_add_path(struct nvmf_mpath *m, struct nvmf_ctrl *c);
/*
 * Stop using c (its commands in flight complete on it, or move to another path if it is
 * down); returns once no queue uses it any more, so that c may then be disconnected.
 * Queues must keep being polled meanwhile (their fds are woken).  -ENOENT: not a path.
 */
int nvmf_mpath_remove_path(struct nvmf_mpath *m, struct nvmf_ctrl *c);
unsigned nvmf_mpath_nr_paths(struct nvmf_mpath *m);
/* The idx-th path (0..nr_paths-1), NULL past the end. */
struct nvmf_ctrl *nvmf_mpath_path(struct nvmf_mpath *m, unsigned idx);
uint32_t nvmf_mpath_nsid(const struct nvmf_mpath *m);
/* Commands completed through each path since creation, for tools that show the balance. */
uint64_t nvmf_mpath_path_ios(struct nvmf_mpath *m, unsigned idx);

/*
 * A queue over I/O queue pair qidx of every path (a path with fewer queue pairs is not
 * used by this queue).  depth: commands it accepts at once (0: the largest path depth).
 */
int nvmf_mpath_queue_create(struct nvmf_mpath *m, unsigned qidx, unsigned depth,
			    struct nvmf_mpath_queue **out);
/* Fails whatever is still waiting with -ENODEV (their callbacks run), then frees. */
void nvmf_mpath_queue_free(struct nvmf_mpath_queue *mq);

/* As nvmf_readv() etc. on the multipath namespace; -EAGAIN when the queue is full. */
int nvmf_mpath_readv(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
		     const struct iovec *iov, int iovcnt, nvmf_io_cb cb, void *arg);
int nvmf_mpath_writev(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
		      const struct iovec *iov, int iovcnt, unsigned flags, nvmf_io_cb cb,
		      void *arg);
int nvmf_mpath_flush(struct nvmf_mpath_queue *mq, nvmf_io_cb cb, void *arg);
int nvmf_mpath_write_zeroes(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
			    unsigned flags, nvmf_io_cb cb, void *arg);
int nvmf_mpath_deallocate(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
			  nvmf_io_cb cb, void *arg);
/*
 * Progress on every path (as nvmf_qpair_poll), failover, and commands waiting for a
 * path.  Returns the completions run, or when none: -ENOTCONN while no path is usable
 * (poll again within 100 ms), -ENODEV once every path is given up (or none is left).
 */
int nvmf_mpath_queue_poll(struct nvmf_mpath_queue *mq, unsigned max);
/* Block until something may be done or timeout_ms passes (-1: forever), then poll. */
int nvmf_mpath_queue_wait(struct nvmf_mpath_queue *mq, int timeout_ms);
/*
 * A file descriptor that becomes readable when nvmf_mpath_queue_poll() has work; while
 * commands wait for a path, also poll at least every 100 ms.
 */
int nvmf_mpath_queue_fd(const struct nvmf_mpath_queue *mq);
unsigned nvmf_mpath_queue_depth(const struct nvmf_mpath_queue *mq);
unsigned nvmf_mpath_queue_inflight(const struct nvmf_mpath_queue *mq);

/* ------------------------------------------------------------------ discovery */

struct nvmf_disc_entry {
	uint8_t trtype, adrfam, subtype, treq;
	uint16_t portid, cntlid, asqsz, eflags;
	char trsvcid[33];
	char traddr[257];
	char subnqn[257];
	uint8_t sectype;             /* TCP: 0 none, 1 TLS 1.2, 2 TLS 1.3 */
};

/*
 * Read the whole discovery log of the controller at o (o->subnqn NULL: well-known NQN;
 * o->trsvcid NULL: 8009), retrying while its generation counter changes under us.
 * *entries is malloc'ed; free() it.  With follow_referrals, referred discovery
 * controllers are read too (each once) and their entries appended.
 */
int nvmf_discover(const struct nvmf_ctrl_opts *o, bool follow_referrals,
		  struct nvmf_disc_entry **entries, unsigned *count, uint64_t *genctr);

/* ------------------------------------------------------------------ transport IDs */

/*
 * A controller's address as SPDK writes it (nvme perf -r, SPDK's fio plugin filename=):
 * whitespace-separated key:value or key=value pairs, keys in any case, e.g.
 *   trtype:tcp adrfam:ipv4 traddr:192.0.2.1 trsvcid:4420 subnqn:nqn.2014-08.org.example:s1 ns:1
 * Keys: trtype (tcp), adrfam (ipv4, ipv6), traddr (required), trsvcid, subnqn, hostnqn,
 * hostaddr (local address to connect from), ns or nsid (1..4294967294); SPDK's priority
 * and hostsvcid are accepted and ignored.  Key and value split at the first ':' or '=':
 * later colons belong to the value (NQNs, IPv6 addresses).  A backslash makes the next
 * character literal: "\:" (fio's filename= needs its colons escaped), "\ ", "\\".
 */
struct nvmf_trid {
	char trtype[8];              /* "tcp" */
	char adrfam[8];              /* "ipv4", "ipv6"; "" when not given */
	char traddr[257];
	char trsvcid[33];            /* "" when not given (the default port applies) */
	char subnqn[257];            /* "" when not given */
	char hostnqn[257];           /* "" when not given */
	char hostaddr[257];          /* "" when not given */
	uint32_t nsid;               /* 0 when not given */
};

/*
 * Parse s into *out.  Returns 0, or -EINVAL with one line in err (errlen bytes; err may
 * be NULL) naming the bad key or token, e.g. "unknown key 'tradr'".
 */
int nvmf_trid_parse(const char *s, struct nvmf_trid *out, char *err, size_t errlen);
/*
 * Point o->traddr, trsvcid, subnqn, hostnqn and host_traddr at t's strings (NULL where t
 * has none, so the defaults apply); the rest of o is left alone.  t must outlive o's use.
 */
void nvmf_trid_to_opts(const struct nvmf_trid *t, struct nvmf_ctrl_opts *o);

/* ------------------------------------------------------------------ messages */

/*
 * The library reports events (a queue lost and reconnecting, reconnected, a reconnect that
 * failed, a controller given up, a failed keep-alive, an async event) as one line each,
 * with a level: a syslog(3) priority from <syslog.h> (LOG_ERR, LOG_WARNING, LOG_NOTICE,
 * LOG_INFO, LOG_DEBUG).  By default a line goes to stderr as "nvmf: <msg>\n".
 */

/* msg has neither the "nvmf: " prefix nor a newline; it names the subsystem NQN. */
typedef void (*nvmf_log_fn)(void *arg, int level, const char *msg);

/*
 * Send the library's messages to fn (NULL: back to stderr).  fn may be called from the
 * library's admin thread and from any thread that uses a queue pair, concurrently: it must
 * be thread-safe, and must not connect or disconnect controllers.  Install it before
 * connecting; a message already on its way may still reach the previous function.
 */
void nvmf_set_log_fn(nvmf_log_fn fn, void *arg);
/* Drop messages less important (numerically greater) than level; default LOG_INFO. */
void nvmf_set_log_level(int level);

/* ------------------------------------------------------------------ host identity */

/* This host's NQN and ID: /etc/nvme/hostnqn and /etc/nvme/hostid when present, else the
 * form `nvme gen-hostnqn` makes (nqn.2014-08.org.nvmexpress:uuid:<uuid>). */
int nvmf_default_hostnqn(char *buf, size_t len);
int nvmf_default_hostid(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
