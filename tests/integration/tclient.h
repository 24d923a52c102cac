/*
 * A small blocking NVMe/TCP host for the target's integration tests, built on the protocol
 * library: one connection = one queue, one command at a time (plus raw byte access for
 * malformed-PDU tests).  Not the product host (that is libnvmf): it favours being easy to
 * reason about over speed.
 */
#ifndef NVMF_TEST_TCLIENT_H
#define NVMF_TEST_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/pdu_rx.h"
#include "proto/pdu_tx.h"

#define TC_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:5a1c0e6e-0000-4000-8000-00000000c0de"

struct tclient;

/*
 * What carries the PDU bytes when it is not the socket itself (TLS, tclient_tls.c).
 * Non-blocking: bytes moved, 0 at end of stream (recv), or -errno (-EAGAIN: wait for fd).
 */
struct tc_io {
	ssize_t (*send)(struct tclient *c, const void *buf, size_t len);
	ssize_t (*recv)(struct tclient *c, void *buf, size_t len);
	bool (*buffered)(struct tclient *c);  /* bytes held that the fd does not announce */
	void (*close)(struct tclient *c);     /* also closes c->fd */
};

struct tclient {
	int fd;
	const struct tc_io *io;   /* NULL: plain TCP */
	void *io_ctx;
	struct nvmf_pdu_rx rx;
	struct nvmf_pdu_tx_cfg tx;
	uint32_t maxh2cdata;
	uint16_t next_cid;
	uint16_t cntlid;
	uint16_t qid;
	uint32_t icd_max;       /* in-capsule data we may send on this queue */
	bool sqflow_disabled;
	uint8_t hostid_byte;    /* the host ID tc_connect() sends: 16 times this byte (0: 0x5a) */
	/* what the last tc_recv_pdu() saw */
	struct {
		uint8_t type;
		union nvme_tcp_hdr hdr;
		uint32_t data_len;
		bool ddgst_err;
	} last;
	/* read data lands here (set by tc_cmd) */
	uint8_t *rd_buf;
	uint32_t rd_len;
	uint8_t term_data[128];
	struct iovec dest;      /* where the PDU being received puts its data */
	uint8_t staging[65536];
	size_t stg_len, stg_off;
};

/* TCP connect + ICReq/ICResp.  Returns 0 or -errno. */
int tc_open(struct tclient *c, const char *addr, uint16_t port, bool hdgst, bool ddgst);
/* The parts of tc_open(): a TCP connection (c cleared first), then the IC exchange on it. */
int tc_tcp_connect(struct tclient *c, const char *addr, uint16_t port);
int tc_ic(struct tclient *c, bool hdgst, bool ddgst);
void tc_close(struct tclient *c);

/* Receive one PDU (blocking, timeout_ms): 0, -ETIMEDOUT, -ECONNRESET (EOF), -EPROTO. */
int tc_recv_pdu(struct tclient *c, int timeout_ms);

/* Send raw bytes. */
int tc_send(struct tclient *c, const void *buf, size_t len);

/*
 * One command, synchronously: data (len bytes) goes in capsule when it fits, else through
 * R2T/H2CData; read data comes back into data.  cqe gets the completion (synthesised for
 * C2HData with SUCCESS).  Returns 0 (see cqe status) or -errno on a transport failure.
 */
int tc_cmd(struct tclient *c, struct nvme_sqe *sqe, void *data, uint32_t len, bool write,
	   struct nvme_cqe *cqe);

/* Send a command without data and return at once (for AERs); its cid in *cid. */
int tc_submit(struct tclient *c, struct nvme_sqe *sqe, uint16_t *cid);
/*
 * Send a command whose len bytes of data go through R2T/H2CData (a transport SGL), and
 * return at once; answer its R2Ts with tc_send_h2c().
 */
int tc_submit_len(struct tclient *c, struct nvme_sqe *sqe, uint32_t len, uint16_t *cid);
/* Answer the R2T tc_recv_pdu() just received with data[r2to .. r2to + r2tl). */
int tc_send_h2c(struct tclient *c, const void *data, uint32_t len);
/* Send a command with len bytes of in-capsule data and return at once (-EMSGSIZE: more
 * than the queue takes in a capsule). */
int tc_submit_icd(struct tclient *c, struct nvme_sqe *sqe, const void *data, uint32_t len,
		  uint16_t *cid);
/* Answer the R2T just received with only its first len bytes (fewer than it asks). */
int tc_send_h2c_part(struct tclient *c, const void *data, uint32_t len);
/* Wait for the response capsule of cid (other PDUs are an error). */
int tc_wait_rsp(struct tclient *c, uint16_t cid, int timeout_ms, struct nvme_cqe *cqe);

/* Fabrics Connect; returns the CQE status (host order) or -errno. */
int tc_connect(struct tclient *c, uint16_t qid, uint16_t sqsize, const char *subnqn,
	       const char *hostnqn, uint16_t cntlid, uint32_t kato_ms, uint8_t cattr,
	       struct nvme_cqe *cqe);
int tc_prop_get(struct tclient *c, uint32_t off, bool eight, uint64_t *val);
int tc_prop_set(struct tclient *c, uint32_t off, uint32_t val);
/* Property Set CC (EN=1, IOSQES 6, IOCQES 4) and wait for CSTS.RDY. */
int tc_enable(struct tclient *c);
/* Admin connect + enable in one go; returns 0 or a status / -errno. */
int tc_admin_setup(struct tclient *c, const char *addr, uint16_t port, const char *subnqn,
		   bool hdgst, bool ddgst);
int tc_io_setup(struct tclient *c, const char *addr, uint16_t port, const char *subnqn,
		uint16_t cntlid, uint16_t qid, bool hdgst, bool ddgst);
/*
 * One host's admin queue (connected, enabled) and I/O queue 1, as hostnqn with host ID
 * 16 x hostid_byte (tests with several hosts: reservations); 0 or a status / -errno.
 */
int tc_host_setup(struct tclient *admin, struct tclient *io, const char *addr, uint16_t port,
		  const char *subnqn, const char *hostnqn, uint8_t hostid_byte);

/* Commands built for tests. */
void tc_sqe(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid);
int tc_rw(struct tclient *c, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb,
	  void *buf, uint32_t len, bool fua, uint16_t *status);
int tc_identify(struct tclient *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf,
		uint16_t *status);

#endif
