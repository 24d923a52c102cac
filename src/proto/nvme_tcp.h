/*
 * NVMe/TCP transport PDUs (NVMe/TCP Transport Specification 1.0): the common header,
 * every PDU-specific header, flags, limits and the fatal error status codes of TermReq.
 * All multi-byte fields are little-endian on the wire (convert with <endian.h>).
 */
#ifndef NVMF_PROTO_NVME_TCP_H
#define NVMF_PROTO_NVME_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/nvme_spec.h"

/* PDU types. */
enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};
#define NVME_TCP_PDU_TYPE_MAX 0x09

/* Common header flags. */
#define NVME_TCP_F_HDGST 0x01   /* a header digest follows the header */
#define NVME_TCP_F_DDGST 0x02   /* a data digest follows the data */
#define NVME_TCP_F_DATA_LAST 0x04 /* last data PDU of the command (H2CData, C2HData) */
#define NVME_TCP_F_DATA_SUCCESS 0x08 /* C2HData: command done, no CapsuleResp follows */

/* ICReq / ICResp DGST field. */
#define NVME_TCP_HDGST_ENABLE 0x01
#define NVME_TCP_DDGST_ENABLE 0x02

/*
 * Fatal error status (FES) of H2CTermReq / C2HTermReq.  The FEI that goes with each, the
 * echoed header and the names are in proto/term.h: one place for both ends.
 */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_HEADER = 0x01,
	NVME_TCP_FES_PDU_SEQUENCE = 0x02,      /* PDU not allowed in this state */
	NVME_TCP_FES_HDR_DIGEST = 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	NVME_TCP_FES_DATA_LIMIT = 0x05,        /* C2HTermReq: data transfer limit exceeded */
	NVME_TCP_FES_R2T_LIMIT = 0x05,         /* H2CTermReq: R2T limit exceeded (MAXR2T) */
	NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};

/* Protocol constants. */
#define NVME_TCP_PFV_1_0 0
#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_MAX_PDA 31                    /* HPDA / CPDA: 0's based dwords */
#define NVME_TCP_MIN_MAXH2CDATA 4096           /* smallest MAXH2CDATA a host accepts */
#define NVME_TCP_TERM_MAX_DATA 128             /* offending header bytes in a TermReq */
#define NVME_TCP_ADMIN_ICD_DEFAULT 8192        /* admin queue in-capsule data size */
#define NVME_TCP_IO_PORT 4420
#define NVME_TCP_DISC_PORT 8009

/* Common header: every PDU starts with these 8 bytes. */
struct nvme_tcp_ch {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;  /* PDU header length, without the header digest */
	uint8_t pdo;   /* offset of the data from the PDU start; 0 when no data */
	uint32_t plen; /* whole PDU: header, digests, padding and data */
};
_Static_assert(sizeof(struct nvme_tcp_ch) == 8, "common header");
_Static_assert(offsetof(struct nvme_tcp_ch, flags) == 1, "ch.flags");
_Static_assert(offsetof(struct nvme_tcp_ch, hlen) == 2, "ch.hlen");
_Static_assert(offsetof(struct nvme_tcp_ch, pdo) == 3, "ch.pdo");
_Static_assert(offsetof(struct nvme_tcp_ch, plen) == 4, "ch.plen");

struct nvme_tcp_icreq {
	struct nvme_tcp_ch ch;
	uint16_t pfv;
	uint8_t hpda;   /* data alignment the host wants in C2H data PDUs */
	uint8_t dgst;   /* NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE */
	uint32_t maxr2t; /* 0's based number of outstanding R2Ts per command */
	uint8_t rsvd[112];
};
_Static_assert(sizeof(struct nvme_tcp_icreq) == 128, "icreq");
_Static_assert(offsetof(struct nvme_tcp_icreq, pfv) == 8, "icreq.pfv");
_Static_assert(offsetof(struct nvme_tcp_icreq, hpda) == 10, "icreq.hpda");
_Static_assert(offsetof(struct nvme_tcp_icreq, dgst) == 11, "icreq.dgst");
_Static_assert(offsetof(struct nvme_tcp_icreq, maxr2t) == 12, "icreq.maxr2t");

struct nvme_tcp_icresp {
	struct nvme_tcp_ch ch;
	uint16_t pfv;
	uint8_t cpda;   /* data alignment the controller wants in H2C data PDUs */
	uint8_t dgst;
	uint32_t maxh2cdata; /* largest H2CData payload the controller accepts */
	uint8_t rsvd[112];
};
_Static_assert(sizeof(struct nvme_tcp_icresp) == 128, "icresp");
_Static_assert(offsetof(struct nvme_tcp_icresp, pfv) == 8, "icresp.pfv");
_Static_assert(offsetof(struct nvme_tcp_icresp, cpda) == 10, "icresp.cpda");
_Static_assert(offsetof(struct nvme_tcp_icresp, dgst) == 11, "icresp.dgst");
_Static_assert(offsetof(struct nvme_tcp_icresp, maxh2cdata) == 12, "icresp.maxh2cdata");

/* H2CTermReq and C2HTermReq; the data is the header of the PDU in error. */
struct nvme_tcp_term {
	struct nvme_tcp_ch ch;
	uint16_t fes;
	uint32_t fei; /* unaligned on the wire: offset 10 */
	uint8_t rsvd[10];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_term) == 24, "termreq");
_Static_assert(offsetof(struct nvme_tcp_term, fes) == 8, "term.fes");
_Static_assert(offsetof(struct nvme_tcp_term, fei) == 10, "term.fei");

struct nvme_tcp_cmd {
	struct nvme_tcp_ch ch;
	struct nvme_sqe sqe;
};
_Static_assert(sizeof(struct nvme_tcp_cmd) == 72, "capsule cmd");
_Static_assert(offsetof(struct nvme_tcp_cmd, sqe) == 8, "cmd.sqe");

struct nvme_tcp_rsp {
	struct nvme_tcp_ch ch;
	struct nvme_cqe cqe;
};
_Static_assert(sizeof(struct nvme_tcp_rsp) == 24, "capsule resp");
_Static_assert(offsetof(struct nvme_tcp_rsp, cqe) == 8, "rsp.cqe");

/* H2CData and C2HData share one layout; C2HData has no transfer tag. */
struct nvme_tcp_data {
	struct nvme_tcp_ch ch;
	uint16_t cccid; /* command capsule CID */
	uint16_t ttag;  /* H2C: the R2T's transfer tag; C2H: reserved */
	uint32_t datao; /* offset of this data within the command's transfer */
	uint32_t datal; /* bytes of data in this PDU */
	uint32_t rsvd;
};
_Static_assert(sizeof(struct nvme_tcp_data) == 24, "data pdu");
_Static_assert(offsetof(struct nvme_tcp_data, cccid) == 8, "data.cccid");
_Static_assert(offsetof(struct nvme_tcp_data, ttag) == 10, "data.ttag");
_Static_assert(offsetof(struct nvme_tcp_data, datao) == 12, "data.datao");
_Static_assert(offsetof(struct nvme_tcp_data, datal) == 16, "data.datal");

struct nvme_tcp_r2t {
	struct nvme_tcp_ch ch;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to; /* offset of the requested data */
	uint32_t r2tl; /* bytes requested */
	uint32_t rsvd;
};
_Static_assert(sizeof(struct nvme_tcp_r2t) == 24, "r2t");
_Static_assert(offsetof(struct nvme_tcp_r2t, cccid) == 8, "r2t.cccid");
_Static_assert(offsetof(struct nvme_tcp_r2t, ttag) == 10, "r2t.ttag");
_Static_assert(offsetof(struct nvme_tcp_r2t, r2to) == 12, "r2t.r2to");
_Static_assert(offsetof(struct nvme_tcp_r2t, r2tl) == 16, "r2t.r2tl");

/* Any PDU header; the largest is ICReq/ICResp. */
union nvme_tcp_hdr {
	struct nvme_tcp_ch ch;
	struct nvme_tcp_icreq icreq;
	struct nvme_tcp_icresp icresp;
	struct nvme_tcp_term term;
	struct nvme_tcp_cmd cmd;
	struct nvme_tcp_rsp rsp;
	struct nvme_tcp_data data;
	struct nvme_tcp_r2t r2t;
	uint8_t raw[128];
};
_Static_assert(sizeof(union nvme_tcp_hdr) == 128, "largest header");

#define NVME_TCP_MAX_HLEN 128

/* The header length (hlen) each PDU type must carry; 0 for unknown types. */
static inline uint8_t nvme_tcp_hlen(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
		return 128;
	case NVME_TCP_CMD:
		return 72;
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
	case NVME_TCP_RSP:
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
	case NVME_TCP_R2T:
		return 24;
	default:
		return 0;
	}
}

/* Human-readable PDU type, for logs. */
const char *nvme_tcp_pdu_name(uint8_t type);

#endif
