/*
 * NVMe/TCP PDU send path: builds a PDU's header (with header digest and PDO padding) into a
 * caller-owned struct nvmf_pdu_out and describes the whole PDU as iovecs that point at the
 * header, the caller's data buffers (never copied) and the data digest.  The iovecs of many
 * PDUs are meant to be gathered into one writev/sendmsg per batch.
 */
#ifndef NVMF_PROTO_PDU_TX_H
#define NVMF_PROTO_PDU_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proto/nvme_tcp.h"

/* What the IC exchange settled for PDUs we send. */
struct nvmf_pdu_tx_cfg {
	bool hdgst;
	bool ddgst;
	uint8_t pda; /* data alignment the peer asked for (its HPDA or CPDA), 0's based dwords */
};

/* Header, header digest and padding are contiguous: pdo is at most 255. */
#define NVMF_PDU_OUT_HDR_MAX 256

/* Storage for one outgoing PDU; must stay put until the PDU has been sent. */
struct nvmf_pdu_out {
	union {
		union nvme_tcp_hdr h;
		uint8_t raw[NVMF_PDU_OUT_HDR_MAX];
	} hdr;
	uint32_t hdr_bytes;  /* header + digest + padding = the first iovec */
	uint8_t ddgst[NVME_TCP_DIGEST_LEN];
};

/* Most iovecs one PDU needs beyond its data: header and data digest. */
#define NVMF_PDU_OUT_EXTRA_IOV 2

/*
 * Generic builder.  out->hdr.h holds the type-specific fields and ch.type / the type's own
 * flags (LAST, SUCCESS); this sets hlen, pdo, plen, the digest flags and digests, and fills
 * iov with header, data (data, datacnt: may be 0) and data digest.  Returns the number of
 * iovecs, or -EINVAL if more than max are needed or the PDU would be too large.
 */
int nvmf_pdu_build(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		   const struct iovec *data, int datacnt, struct iovec *iov, int max);

/* Typed builders: each fills out and iov as nvmf_pdu_build() does and returns its result. */
int nvmf_pdu_icreq(struct nvmf_pdu_out *out, uint8_t hpda, uint8_t dgst, uint32_t maxr2t,
		   struct iovec *iov, int max);
int nvmf_pdu_icresp(struct nvmf_pdu_out *out, uint8_t cpda, uint8_t dgst, uint32_t maxh2cdata,
		    struct iovec *iov, int max);
/* type is NVME_TCP_H2C_TERM or NVME_TCP_C2H_TERM; bad_hdr (len <= 128) is echoed. */
int nvmf_pdu_term(struct nvmf_pdu_out *out, uint8_t type, uint16_t fes, uint32_t fei,
		  const void *bad_hdr, uint32_t len, struct iovec *iov, int max);
int nvmf_pdu_cmd(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 const struct nvme_sqe *sqe, const struct iovec *icd, int icdcnt,
		 struct iovec *iov, int max);
int nvmf_pdu_rsp(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 const struct nvme_cqe *cqe, struct iovec *iov, int max);
int nvmf_pdu_h2c_data(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		      uint16_t cccid, uint16_t ttag, uint32_t datao, bool last,
		      const struct iovec *data, int datacnt, struct iovec *iov, int max);
/* flags: NVME_TCP_F_DATA_LAST and/or NVME_TCP_F_DATA_SUCCESS (SUCCESS needs LAST). */
int nvmf_pdu_c2h_data(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		      uint16_t cccid, uint32_t datao, uint8_t flags,
		      const struct iovec *data, int datacnt, struct iovec *iov, int max);
int nvmf_pdu_r2t(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
		 struct iovec *iov, int max);

/* Total bytes described by iov. */
size_t nvmf_iov_len(const struct iovec *iov, int cnt);

#endif
