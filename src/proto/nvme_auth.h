/*
 * NVMe in-band authentication on the wire (NVMe Base 2.x 5.27 / TP 8006): the
 * Authentication Send / Receive capsules and the DH-HMAC-CHAP messages they carry.
 * All multi-byte fields little-endian.
 */
#ifndef NVMF_PROTO_NVME_AUTH_H
#define NVMF_PROTO_NVME_AUTH_H

#include <stdint.h>

#include "proto/nvme_spec.h"

/* Connect response DW0: authentication required before the queue may be used. */
#define NVMF_CONNECT_AUTHREQ_ATR (1u << 17)
/* ... with a secure channel (TLS) to be set up by it: secure concatenation, not served. */
#define NVMF_CONNECT_AUTHREQ_ASCR (1u << 18)

/* Security protocol of the capsules: DH-HMAC-CHAP over NVMe in-band authentication. */
#define NVMF_AUTH_SECP 0xE9
#define NVMF_AUTH_SPSP0 0x01
#define NVMF_AUTH_SPSP1 0x01

/* Authentication Send (fctype 05h, data host to controller) and Receive (06h). */
struct nvmf_auth_cmd {
	uint8_t opcode;     /* NVME_OPC_FABRICS */
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_AUTH_SEND / _RECV */
	uint8_t rsvd5[19];
	union nvme_dptr dptr;
	uint8_t rsvd40;
	uint8_t spsp0;
	uint8_t spsp1;
	uint8_t secp;
	uint32_t len;       /* Send: transfer length (TL); Receive: allocation length (AL) */
	uint8_t rsvd48[16];
};
NVME_CHECK_SIZE(struct nvmf_auth_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, dptr, 24);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, spsp0, 41);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, secp, 43);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, len, 44);

/* Message type (byte 0) and id (byte 1). */
enum nvmf_auth_type {
	NVMF_AUTH_COMMON_MSG = 0x00,   /* Negotiate, Failure1, Failure2 */
	NVMF_AUTH_DHCHAP_MSG = 0x01,
};

enum nvmf_auth_id {
	NVMF_AUTH_NEGOTIATE = 0x00,
	NVMF_AUTH_CHALLENGE = 0x01,
	NVMF_AUTH_REPLY = 0x02,
	NVMF_AUTH_SUCCESS1 = 0x03,
	NVMF_AUTH_SUCCESS2 = 0x04,
	NVMF_AUTH_FAILURE2 = 0xF0,
	NVMF_AUTH_FAILURE1 = 0xF1,
};

/* Authentication protocol identifier in a Negotiate descriptor. */
#define NVMF_AUTH_PROTO_DHCHAP 0x01
/* A descriptor's id list: hash ids in [0, 30), DH group ids in [30, 60). */
#define NVMF_AUTH_MAX_IDS 30

/* Secure channel concatenation requested in Negotiate (SC_C); only "none" is served. */
#define NVMF_AUTH_SC_NONE 0x00

/* Failure reason (rescode) and its explanation (rescode_exp). */
#define NVMF_AUTH_RESCODE_FAILED 0x01
enum nvmf_auth_rescode_exp {
	NVMF_AUTH_EXP_FAILED = 0x01,
	NVMF_AUTH_EXP_NOT_USABLE = 0x02,
	NVMF_AUTH_EXP_CONCAT_MISMATCH = 0x03,
	NVMF_AUTH_EXP_HASH_UNUSABLE = 0x04,
	NVMF_AUTH_EXP_DHGROUP_UNUSABLE = 0x05,
	NVMF_AUTH_EXP_INCORRECT_PAYLOAD = 0x06,
	NVMF_AUTH_EXP_INCORRECT_MESSAGE = 0x07,
};

struct nvmf_auth_protocol {
	uint8_t authid;     /* NVMF_AUTH_PROTO_DHCHAP */
	uint8_t rsvd1;
	uint8_t halen;      /* hash ids in idlist[0..halen) */
	uint8_t dhlen;      /* DH group ids in idlist[30..30+dhlen) */
	uint8_t idlist[2 * NVMF_AUTH_MAX_IDS];
};
NVME_CHECK_SIZE(struct nvmf_auth_protocol, 64);

struct nvmf_auth_negotiate {
	uint8_t auth_type;  /* COMMON */
	uint8_t auth_id;    /* NEGOTIATE */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t sc_c;
	uint8_t napd;       /* protocol descriptors that follow */
	struct nvmf_auth_protocol proto[1];
};
NVME_CHECK_SIZE(struct nvmf_auth_negotiate, 72);

/* Challenge: then hl bytes of C1, then dhvlen bytes of the controller's public value. */
struct nvmf_auth_challenge {
	uint8_t auth_type;  /* DHCHAP */
	uint8_t auth_id;    /* CHALLENGE */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t hashid;
	uint8_t dhgid;
	uint16_t dhvlen;
	uint32_t seqnum;
	uint8_t data[];
};
NVME_CHECK_SIZE(struct nvmf_auth_challenge, 16);

/* Reply: then R1 (hl), C2 (hl, zeros unless cvalid), the host's public value (dhvlen). */
struct nvmf_auth_reply {
	uint8_t auth_type;  /* DHCHAP */
	uint8_t auth_id;    /* REPLY */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t cvalid;     /* C2 is a challenge: the host authenticates the controller */
	uint8_t rsvd9;
	uint16_t dhvlen;
	uint32_t seqnum;    /* S2; 0 when there is no controller challenge */
	uint8_t data[];
};
NVME_CHECK_SIZE(struct nvmf_auth_reply, 16);

/* Success1: then R2 (hl) when rvalid. */
struct nvmf_auth_success1 {
	uint8_t auth_type;  /* DHCHAP */
	uint8_t auth_id;    /* SUCCESS1 */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t rvalid;     /* bit 0: R2 follows */
	uint8_t rsvd9[7];
	uint8_t data[];
};
NVME_CHECK_SIZE(struct nvmf_auth_success1, 16);
#define NVMF_AUTH_RVALID 0x01

struct nvmf_auth_success2 {
	uint8_t auth_type;  /* DHCHAP */
	uint8_t auth_id;    /* SUCCESS2 */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t rsvd6[10];
};
NVME_CHECK_SIZE(struct nvmf_auth_success2, 16);

/* Failure1 (controller to host) and Failure2 (host to controller). */
struct nvmf_auth_failure {
	uint8_t auth_type;  /* COMMON */
	uint8_t auth_id;    /* FAILURE1 / FAILURE2 */
	uint16_t rsvd2;
	uint16_t t_id;
	uint8_t rescode;    /* NVMF_AUTH_RESCODE_FAILED */
	uint8_t rescode_exp;
};
NVME_CHECK_SIZE(struct nvmf_auth_failure, 8);

/* What a Challenge may need at most: header, SHA-512 C1, an ffdhe8192 value. */
#define NVMF_AUTH_CHALLENGE_MAX (16 + 64 + 1024)
/* The Linux host asks for 4096 bytes in every Authentication Receive. */
#define NVMF_AUTH_RECV_LEN 4096

#endif
