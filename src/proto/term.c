/*
 * TermReq rules (NVMe/TCP Transport 1.0, the H2CTermReq and C2HTermReq PDU figures): the
 * FEI of each FES, the echoed header, the FES names.  One table for both ends.
 *
 *  FES  class                              FEI (what the spec's FEI column names)
 *  01h  invalid PDU header field           byte offset of the invalid field in the header
 *  02h  PDU sequence error                 reserved (0)
 *  03h  header digest error                the PDU header digest: the HDGST value the PDU
 *                                          in error carried (its echo holds the header
 *                                          only, so the peer can compare both digests)
 *  04h  data transfer out of range         reserved (0)
 *  05h  C2HTermReq: data transfer limit    reserved (0)
 *       exceeded; H2CTermReq: R2T limit
 *       exceeded
 *  06h  unsupported parameter              byte offset of the unsupported field
 *
 * The peers differ (read from their sources; see PEERS.md for the commits):
 *  - Linux nvmet-tcp never sends a C2HTermReq and nvme-tcp never an H2CTermReq: both shut
 *    the socket down; nvme-tcp only logs a received C2HTermReq's FES (kernels of 2025 on,
 *    with the 0x05 name fixed to "Data Transfer Limit Exceeded" in a follow-up).
 *  - SPDK (lib/nvmf/tcp.c, lib/nvme/nvme_tcp.c) fills FEI only for 01h and 06h and sends 0
 *    for everything else, header digest errors included; it reports an unknown PDU type at
 *    offset 0 from one path and 1 from another, an unsupported PFV/HPDA/CPDA as 01h (not
 *    06h), and echoes hlen bytes of its receive buffer even when only the 8-byte common
 *    header arrived.
 *  - Before this table we put a field offset into 04h and 05h too, and 0 into 03h.
 */
#include "proto/term.h"

/* Where the FEI comes from, per FES. */
enum fei_kind {
	FEI_RESERVED,
	FEI_FIELD,   /* byte offset of the field from the start of the PDU header */
	FEI_HDGST,   /* the header digest the PDU in error carried */
};

static enum fei_kind fei_kind(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_HEADER:
	case NVME_TCP_FES_UNSUPPORTED_PARAM:
		return FEI_FIELD;
	case NVME_TCP_FES_HDR_DIGEST:
		return FEI_HDGST;
	case NVME_TCP_FES_PDU_SEQUENCE:
	case NVME_TCP_FES_DATA_OUT_OF_RANGE:
	case NVME_TCP_FES_DATA_LIMIT: /* == NVME_TCP_FES_R2T_LIMIT */
	default:
		return FEI_RESERVED;
	}
}

uint32_t nvme_tcp_term_fei(uint16_t fes, uint32_t field, uint32_t hdgst)
{
	switch (fei_kind(fes)) {
	case FEI_FIELD:
		return field;
	case FEI_HDGST:
		return hdgst;
	default:
		return 0;
	}
}

bool nvme_tcp_term_fei_is_offset(uint16_t fes)
{
	return fei_kind(fes) == FEI_FIELD;
}

uint32_t nvme_tcp_term_echo_len(uint32_t have, uint8_t hlen, bool hlen_ok)
{
	/*
	 * A header length the type does not have says nothing about where the header ends:
	 * then only the common header is certain.
	 */
	uint32_t n = have;

	if (!hlen_ok && n > sizeof(struct nvme_tcp_ch))
		n = sizeof(struct nvme_tcp_ch);
	if (hlen_ok && n > hlen)
		n = hlen;
	return n > NVME_TCP_TERM_MAX_DATA ? NVME_TCP_TERM_MAX_DATA : n;
}

const char *nvme_tcp_fes_name(uint8_t term_type, uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_HEADER: return "invalid PDU header field";
	case NVME_TCP_FES_PDU_SEQUENCE: return "PDU sequence error";
	case NVME_TCP_FES_HDR_DIGEST: return "header digest error";
	case NVME_TCP_FES_DATA_OUT_OF_RANGE: return "data transfer out of range";
	case NVME_TCP_FES_DATA_LIMIT:
		return term_type == NVME_TCP_H2C_TERM ? "R2T limit exceeded"
						      : "data transfer limit exceeded";
	case NVME_TCP_FES_UNSUPPORTED_PARAM: return "unsupported parameter";
	default: return "unknown FES";
	}
}
