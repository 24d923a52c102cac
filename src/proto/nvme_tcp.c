/* Names of NVMe/TCP PDU types, for log lines (FES names: term.c). */
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
