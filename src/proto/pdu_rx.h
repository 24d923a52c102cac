/*
 * NVMe/TCP PDU receive path: a pure state machine over the byte stream of one connection.
 *
 *   common header -> rest of header (+ header digest) -> padding (PDO) -> data -> data digest
 *
 * It takes input split at any byte boundary, validates every header field as soon as it is
 * complete, and hands each PDU to its owner exactly once.  A protocol violation stops the
 * stream with the TermReq fatal error status (FES) the spec defines, the FEI made by the
 * spec's rule for it (proto/term.h), and the PDU's header kept to be echoed.
 * No sockets, no threads, no allocation.
 *
 * Two ways to drive it:
 *  - push: nvmf_pdu_rx_feed() copies bytes from a buffer the transport filled (one recv()
 *    for many small PDUs);
 *  - pull: nvmf_pdu_rx_next() says where the next bytes belong (the header buffer, or the
 *    owner's own data buffers), the transport reads straight there (readv), then calls
 *    nvmf_pdu_rx_done().  Large payloads so land in place without a copy.
 * Both may be mixed freely.
 */
#ifndef NVMF_PROTO_PDU_RX_H
#define NVMF_PROTO_PDU_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto/nvme_tcp.h"

struct nvmf_pdu_rx;

/* Which end of the connection we are: it decides which PDU types may arrive. */
enum nvmf_pdu_role {
	NVMF_PDU_ROLE_CONTROLLER, /* receives ICReq, H2CTermReq, CapsuleCmd, H2CData */
	NVMF_PDU_ROLE_HOST,       /* receives ICResp, C2HTermReq, CapsuleResp, C2HData, R2T */
};

/* Returned by on_pdu to make nvmf_pdu_rx_feed() stop after this PDU. */
#define NVMF_PDU_RX_PAUSE 1

struct nvmf_pdu_rx_ops {
	/*
	 * The header (and its digest) arrived and is valid.  For a PDU with data the owner
	 * may point the data at its own buffers with nvmf_pdu_rx_set_dest(); data with no
	 * destination is received and dropped (its digest is still checked).
	 * Return 0, or a negative errno to stop the stream; to stop it with a TermReq, call
	 * nvmf_pdu_rx_fail() and return its result.
	 */
	int (*on_header)(void *ctx, struct nvmf_pdu_rx *rx);
	/*
	 * The whole PDU arrived.  rx->ddgst_err tells a data digest mismatch (the data is in
	 * place but must not be trusted).  Return 0 to go on, NVMF_PDU_RX_PAUSE to make
	 * nvmf_pdu_rx_feed() return after this PDU, or a negative errno / nvmf_pdu_rx_fail().
	 */
	int (*on_pdu)(void *ctx, struct nvmf_pdu_rx *rx);
};

struct nvmf_pdu_rx_cfg {
	enum nvmf_pdu_role role;
	/* Largest data in one H2CData/C2HData PDU we accept (MAXH2CDATA); 0 = no limit. */
	uint32_t max_data;
	/* Largest in-capsule data in a CapsuleCmd (IOCCSZ*16 - 64); controller role only. */
	uint32_t max_icd;
	/* PDU data alignment we asked the peer for (CPDA or HPDA, 0's based dwords). */
	uint8_t pda;
};

enum nvmf_pdu_rx_state {
	NVMF_RX_CH,    /* common header */
	NVMF_RX_PSH,   /* PDU-specific header and header digest */
	NVMF_RX_PAD,   /* bytes between header and PDO */
	NVMF_RX_DATA,
	NVMF_RX_DDGST,
	NVMF_RX_ERROR, /* sticky: the connection must be terminated */
};

struct nvmf_pdu_rx {
	/* set up by nvmf_pdu_rx_init() and nvmf_pdu_rx_set_digests() */
	struct nvmf_pdu_rx_cfg cfg;
	const struct nvmf_pdu_rx_ops *ops;
	void *ctx;
	bool hdgst;      /* header digests negotiated */
	bool ddgst;      /* data digests negotiated */

	/* the stream */
	enum nvmf_pdu_rx_state state;
	bool ic_done;    /* ICReq/ICResp seen: only then may other PDUs come */
	uint32_t pos;    /* bytes of the current section received */
	uint32_t need;   /* bytes of the current section */
	uint64_t stream_off; /* stream offset of the current PDU, for logs */
	uint64_t pdus;   /* PDUs delivered */
	/* an on_pdu returned NVMF_PDU_RX_PAUSE (also when that PDU ended the input given);
	 * set by the state machine, cleared by the owner */
	bool paused;

	/* the current PDU */
	union {
		union nvme_tcp_hdr h;
		uint8_t raw[NVME_TCP_MAX_HLEN + NVME_TCP_DIGEST_LEN];
	} hdr;
	uint32_t hdr_len;    /* hlen + header digest */
	uint32_t data_len;   /* payload bytes (0 = none) */
	bool has_ddgst;      /* this PDU carries a data digest */
	bool ddgst_err;      /* set before on_pdu when the data digest mismatched */
	uint32_t data_crc;   /* running CRC32C of the data (raw form) */
	uint8_t ddgst_buf[NVME_TCP_DIGEST_LEN];

	/* where the data goes */
	const struct iovec *dst;
	int dst_cnt;
	int dst_idx;
	size_t dst_off;
	bool dst_nt;          /* copy into dst bypassing the caches (set_dest_nt) */
	uint8_t scratch[256]; /* padding and dropped data land here */

	/* an error in the common header, raised once the rest of the header is in (echo) */
	uint16_t pend_fes;
	uint32_t pend_field;

	/* set when the stream failed with a protocol error (FEI per proto/term.c) */
	uint16_t fes;
	uint32_t fei;
	uint32_t err_hdr_len; /* bytes of hdr.raw to echo in the TermReq */
};

void nvmf_pdu_rx_init(struct nvmf_pdu_rx *rx, const struct nvmf_pdu_rx_cfg *cfg,
		      const struct nvmf_pdu_rx_ops *ops, void *ctx);

/* Switch digests on after the IC exchange (call from on_pdu of ICReq/ICResp). */
void nvmf_pdu_rx_set_digests(struct nvmf_pdu_rx *rx, bool hdgst, bool ddgst);

/* From on_header: receive this PDU's data into iov (kept by pointer until on_pdu). */
void nvmf_pdu_rx_set_dest(struct nvmf_pdu_rx *rx, const struct iovec *iov, int iovcnt);
/*
 * The same for data that will not be read soon (write data landing in a RAM namespace):
 * what nvmf_pdu_rx_feed() copies goes with non-temporal stores (memcpy_nt.h), unless a
 * data digest is to be computed - that reads the destination back, best from the cache.
 */
void nvmf_pdu_rx_set_dest_nt(struct nvmf_pdu_rx *rx, const struct iovec *iov, int iovcnt);

/*
 * Stop the stream with a TermReq status; returns -EPROTO for the caller to return.  field:
 * byte offset of the offending field in the PDU header.  The FEI is made from it by the
 * spec's rule for fes (proto/term.h): an offset for some classes, reserved or the header
 * digest for others - callers always say where, the rule decides what goes on the wire.
 */
int nvmf_pdu_rx_fail(struct nvmf_pdu_rx *rx, uint16_t fes, uint32_t field);

/*
 * Push mode: consume up to len bytes.  Returns the bytes consumed (== len unless an on_pdu
 * paused), or a negative errno: -EPROTO with rx->fes/fei set, -ECONNRESET for a malformed
 * TermReq (the peer is ending the connection: it is not answered), or what a callback
 * returned.
 */
ssize_t nvmf_pdu_rx_feed(struct nvmf_pdu_rx *rx, const void *buf, size_t len);

/*
 * Pull mode: fill iov (up to max entries) with where the next bytes of the stream belong;
 * returns the number of entries (>= 1), or -EPROTO in the error state.  The entries never
 * reach past the end of the current PDU.
 */
int nvmf_pdu_rx_next(struct nvmf_pdu_rx *rx, struct iovec *iov, int max);

/* Pull mode: n bytes were written where nvmf_pdu_rx_next() said.  Returns 0,
 * NVMF_PDU_RX_PAUSE or a negative errno like nvmf_pdu_rx_feed(). */
int nvmf_pdu_rx_done(struct nvmf_pdu_rx *rx, size_t n);

/* Bytes still to come of the current PDU's data and digest (0 outside the data). */
size_t nvmf_pdu_rx_data_left(const struct nvmf_pdu_rx *rx);

/* The header of the PDU in error, to echo in a TermReq (at most 128 bytes). */
const void *nvmf_pdu_rx_err_hdr(const struct nvmf_pdu_rx *rx, uint32_t *len);

#endif
