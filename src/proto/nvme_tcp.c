/* Names of NVMe/TCP PDU types and TermReq status codes, for log lines. */
#include "proto/nvme_tcp.h"

const char *nvme_tcp_pdu_name(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ: return "ICReq";
	case NVME_TCP_ICRESP: return "ICResp";
	case NVME_TCP_H2C_TERM: return "H2CTermReq";
	case NVME_TCP_C2H_TERM: return "C2HTermReq";
	case NVME_TCP_CMD: return "CapsuleCmd";
	case NVME_TCP_RSP: return "CapsuleResp";
	case NVME_TCP_H2C_DATA: return "H2CData";
	case NVME_TCP_C2H_DATA: return "C2HData";
	case NVME_TCP_R2T: return "R2T";
	default: return "unknown PDU";
	}
}

const char *nvme_tcp_fes_name(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_HEADER: return "invalid PDU header field";
	case NVME_TCP_FES_PDU_SEQUENCE: return "PDU sequence error";
	case NVME_TCP_FES_HDR_DIGEST: return "header digest error";
	case NVME_TCP_FES_DATA_OUT_OF_RANGE: return "data transfer out of range";
	case NVME_TCP_FES_DATA_LIMIT: return "data transfer limit exceeded";
	case NVME_TCP_FES_UNSUPPORTED_PARAM: return "unsupported parameter";
	default: return "unknown FES";
	}
}
