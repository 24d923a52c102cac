/*
 * Compile-time checks of the wire formats: the per-struct size/offset assertions live
 * next to each struct in nvme_spec.h / nvme_tcp.h; this file adds the cross-cutting
 * ones (encoders against known wire values, views agreeing with the generic SQE, PDU
 * headers embedding the queue entries).  It produces no code.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto/nvme_spec.h"
#include "proto/nvme_tcp.h"

/* ---- SGL identifiers used by NVMe/TCP ---------------------------------------- */
_Static_assert(NVME_SGL_ID_ICD == 0x01, "in-capsule data SGL id must be 01h");
_Static_assert(NVME_SGL_ID_TRANSPORT == 0x5A, "transport data block SGL id must be 5Ah");
_Static_assert(NVME_SGL_ID_TYPE(0x5A) == NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, "sgl type");
_Static_assert(NVME_SGL_ID_SUBTYPE(0x5A) == NVME_SGL_SUBTYPE_TRANSPORT, "sgl subtype");
_Static_assert(NVME_CMD_FLAGS_SGL == 0x40, "PSDT 01b is flags bit 6");

/* ---- status word encoding --------------------------------------------------- */
_Static_assert(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) == 0x0004, "status");
_Static_assert(NVME_STATUS(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_PARAM) == 0x0304,
	       "SCT 1 / SC 82h");
_Static_assert(NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE) == 0x0604, "path");
_Static_assert(NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) == 0x8002,
	       "DNR is bit 15");
_Static_assert((NVME_STATUS_SCT_SC_MASK & (NVME_STATUS_P | NVME_STATUS_M | NVME_STATUS_DNR |
					   (NVME_STATUS_CRD_MASK << NVME_STATUS_CRD_SHIFT))) == 0,
	       "SCT/SC mask overlaps other status bits");

/* ---- asynchronous event dw0 ------------------------------------------------- */
_Static_assert(NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
			    NVME_LID_DISCOVERY) == 0x0070F002u,
	       "discovery log change AEN dw0");
_Static_assert(NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			    NVME_LID_CHANGED_NS) == 0x00040002u,
	       "namespace attribute change AEN dw0");
_Static_assert(NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA_CHANGE,
			    NVME_LID_ANA) == 0x000C0302u,
	       "ANA change AEN dw0");
_Static_assert(NVME_OAES_NS_ATTR == NVME_AEC_NS_ATTR && NVME_OAES_ANA_CHANGE == NVME_AEC_ANA_CHANGE &&
		       NVME_OAES_FW_ACTIVATION == NVME_AEC_FW_ACTIVATION &&
		       NVME_OAES_DISC_LOG_CHANGE == NVME_AEC_DISC_LOG_CHANGE,
	       "OAES and async event config share bit positions");

/* ---- properties ------------------------------------------------------------- */
_Static_assert(NVME_VS(1, 3, 0) == 0x00010300u, "VS encoding");
_Static_assert(NVME_VS(2, 0, 0) == 0x00020000u, "VS encoding");
_Static_assert(NVME_SET(NVME_CAP_CSS, NVME_CAP_CSS_NVM) == NVME_CAP_BIT_CSS_NVM, "CAP.CSS.NVM");
_Static_assert(NVME_SET(NVME_CAP_CSS, NVME_CAP_CSS_IOCS) == NVME_CAP_BIT_CSS_IOCS, "CAP.CSS.IOCS");
_Static_assert(NVME_SET(NVME_CAP_CSS, NVME_CAP_CSS_NOIO) == NVME_CAP_BIT_CSS_NOIO, "CAP.CSS.NOIO");
_Static_assert(NVME_SET(NVME_CAP_CRMS, 1) == NVME_CAP_BIT_CRWMS, "CAP.CRMS.CRWMS");
_Static_assert(NVME_SET(NVME_CAP_CRMS, 2) == NVME_CAP_BIT_CRIMS, "CAP.CRMS.CRIMS");
_Static_assert(NVME_SET(NVME_CC_IOSQES, NVME_SQES_LOG2) == 0x00060000u, "CC.IOSQES = 6");
_Static_assert(NVME_SET(NVME_CC_IOCQES, NVME_CQES_LOG2) == 0x00400000u, "CC.IOCQES = 4");
_Static_assert(NVME_SET(NVME_CC_SHN, NVME_CC_SHN_NORMAL) == 0x4000u, "CC.SHN normal");
_Static_assert(NVME_SET(NVME_CC_CRIME, 1) == NVME_CC_CRIME, "CC.CRIME");
_Static_assert(NVME_SET(NVME_CSTS_SHST, NVME_CSTS_SHST_COMPLETE) == 0x8u, "CSTS.SHST complete");
_Static_assert(NVME_QES(6, 6) == 0x66 && NVME_QES(4, 4) == 0x44, "SQES/CQES nibbles");

/* ---- command field encodings ------------------------------------------------ */
_Static_assert((NVME_RW_CTRL_FUA << 16) == NVME_RW_CDW12_FUA, "FUA is CDW12 bit 30");
_Static_assert((NVME_RW_CTRL_LR << 16) == NVME_RW_CDW12_LR, "LR is CDW12 bit 31");
_Static_assert((NVME_RW_CTRL_DEAC << 16) == NVME_RW_CDW12_DEAC, "DEAC is CDW12 bit 25");
_Static_assert(NVME_GLP_RAE << 8 == NVME_GLP_CDW10_RAE, "RAE is CDW10 bit 15");
_Static_assert((uint32_t)NVME_FEAT_SV << 24 == NVME_FEAT_CDW10_SV, "SV is CDW10 bit 31");
_Static_assert(NVMF_AUTHREQ_ATR << 16 == NVMF_CONNECT_DW0_ATR, "AUTHREQ.ATR in dw0");
_Static_assert(NVMF_AUTHREQ_ASCR << 16 == NVMF_CONNECT_DW0_ASCR, "AUTHREQ.ASCR in dw0");
_Static_assert(NVMF_CONNECT_INVALID_DW0(1, 256) == 0x00010100u, "IATTR/IPO in dw0");
_Static_assert(NVME_OPC_XFER(NVME_NVM_WRITE) == NVME_XFER_HOST_TO_CTRL, "write direction");
_Static_assert(NVME_OPC_XFER(NVME_NVM_READ) == NVME_XFER_CTRL_TO_HOST, "read direction");
_Static_assert(NVME_OPC_XFER(NVMF_FCTYPE_CONNECT) == NVME_XFER_HOST_TO_CTRL, "connect dir");
_Static_assert(NVME_OPC_XFER(NVMF_FCTYPE_AUTH_SEND) == NVME_XFER_HOST_TO_CTRL, "auth send");
_Static_assert(NVME_OPC_XFER(NVMF_FCTYPE_AUTH_RECV) == NVME_XFER_CTRL_TO_HOST, "auth recv");
_Static_assert(NVME_OPC_FABRICS == NVME_ADM_FABRICS, "fabrics opcode");

/* ---- every SQE view shares the generic header ------------------------------ */
#define CHECK_SQE_HEADER(type)                                                              \
	_Static_assert(sizeof(type) == sizeof(struct nvme_sqe), #type " size");             \
	_Static_assert(offsetof(type, opcode) == offsetof(struct nvme_sqe, opcode), #type); \
	_Static_assert(offsetof(type, flags) == offsetof(struct nvme_sqe, flags), #type);   \
	_Static_assert(offsetof(type, cid) == offsetof(struct nvme_sqe, cid), #type)

#define CHECK_SQE_NVME(type)                                                               \
	CHECK_SQE_HEADER(type);                                                            \
	_Static_assert(offsetof(type, nsid) == offsetof(struct nvme_sqe, nsid), #type);    \
	_Static_assert(offsetof(type, mptr) == offsetof(struct nvme_sqe, mptr), #type);    \
	_Static_assert(offsetof(type, dptr) == offsetof(struct nvme_sqe, dptr), #type)

CHECK_SQE_NVME(struct nvme_rw_cmd);
CHECK_SQE_NVME(struct nvme_dsm_cmd);
CHECK_SQE_NVME(struct nvme_identify_cmd);
CHECK_SQE_NVME(struct nvme_get_log_page_cmd);
CHECK_SQE_NVME(struct nvme_features_cmd);
CHECK_SQE_NVME(struct nvme_abort_cmd);
CHECK_SQE_NVME(struct nvme_create_cq_cmd);
CHECK_SQE_NVME(struct nvme_create_sq_cmd);
CHECK_SQE_NVME(struct nvme_delete_queue_cmd);
CHECK_SQE_HEADER(struct nvmf_capsule_cmd);
CHECK_SQE_HEADER(struct nvmf_connect_cmd);
CHECK_SQE_HEADER(struct nvmf_property_set_cmd);
CHECK_SQE_HEADER(struct nvmf_property_get_cmd);
CHECK_SQE_HEADER(struct nvmf_auth_cmd);
CHECK_SQE_HEADER(struct nvmf_disconnect_cmd);

/* Fabrics commands that carry data keep SGL1 where every command has it. */
_Static_assert(offsetof(struct nvmf_connect_cmd, dptr) == offsetof(struct nvme_sqe, dptr), "");
_Static_assert(offsetof(struct nvmf_auth_cmd, dptr) == offsetof(struct nvme_sqe, dptr), "");
_Static_assert(offsetof(struct nvmf_capsule_cmd, dptr) == offsetof(struct nvme_sqe, dptr), "");
/* FCTYPE overlays the low byte of NSID. */
_Static_assert(offsetof(struct nvmf_capsule_cmd, fctype) == offsetof(struct nvme_sqe, nsid), "");
/* Command-specific fields land on the right CDWs. */
_Static_assert(offsetof(struct nvme_rw_cmd, slba) == offsetof(struct nvme_sqe, cdw10), "");
_Static_assert(offsetof(struct nvme_rw_cmd, nlb) == offsetof(struct nvme_sqe, cdw12), "");
_Static_assert(offsetof(struct nvme_rw_cmd, dsm) == offsetof(struct nvme_sqe, cdw13), "");
_Static_assert(offsetof(struct nvme_rw_cmd, reftag) == offsetof(struct nvme_sqe, cdw14), "");
_Static_assert(offsetof(struct nvme_rw_cmd, lbat) == offsetof(struct nvme_sqe, cdw15), "");
_Static_assert(offsetof(struct nvme_get_log_page_cmd, numdu) == offsetof(struct nvme_sqe, cdw11), "");
_Static_assert(offsetof(struct nvme_get_log_page_cmd, lpol) == offsetof(struct nvme_sqe, cdw12), "");
_Static_assert(offsetof(struct nvme_get_log_page_cmd, uuid_idx) == offsetof(struct nvme_sqe, cdw14), "");
_Static_assert(offsetof(struct nvme_identify_cmd, cnssid) == offsetof(struct nvme_sqe, cdw11), "");
_Static_assert(offsetof(struct nvmf_connect_cmd, kato) == offsetof(struct nvme_sqe, cdw12), "");
_Static_assert(offsetof(struct nvmf_property_set_cmd, value) == offsetof(struct nvme_sqe, cdw12), "");
_Static_assert(offsetof(struct nvmf_auth_cmd, tl_al) == offsetof(struct nvme_sqe, cdw11), "");

/* The Connect CQE view matches the generic CQE. */
_Static_assert(sizeof(struct nvmf_connect_cqe) == sizeof(struct nvme_cqe), "");
_Static_assert(offsetof(struct nvmf_connect_cqe, dw0) == offsetof(struct nvme_cqe, dw0), "");
_Static_assert(offsetof(struct nvmf_connect_cqe, sqhd) == offsetof(struct nvme_cqe, sqhd), "");
_Static_assert(offsetof(struct nvmf_connect_cqe, sqid) == offsetof(struct nvme_cqe, sqid), "");
_Static_assert(offsetof(struct nvmf_connect_cqe, cid) == offsetof(struct nvme_cqe, cid), "");
_Static_assert(offsetof(struct nvmf_connect_cqe, status) == offsetof(struct nvme_cqe, status), "");

/* ---- authentication messages share the common header ----------------------- */
#define CHECK_AUTH_HDR(type)                                                                \
	_Static_assert(offsetof(type, auth_type) == offsetof(struct nvmf_auth_hdr, auth_type), \
		       #type);                                                              \
	_Static_assert(offsetof(type, auth_id) == offsetof(struct nvmf_auth_hdr, auth_id),   \
		       #type);                                                              \
	_Static_assert(offsetof(type, t_id) == offsetof(struct nvmf_auth_hdr, t_id), #type)

CHECK_AUTH_HDR(struct nvmf_auth_negotiate);
CHECK_AUTH_HDR(struct nvmf_auth_challenge);
CHECK_AUTH_HDR(struct nvmf_auth_reply);
CHECK_AUTH_HDR(struct nvmf_auth_success1);
CHECK_AUTH_HDR(struct nvmf_auth_success2);
CHECK_AUTH_HDR(struct nvmf_auth_failure);

/* ---- sizes that other layers rely on ---------------------------------------- */
_Static_assert(sizeof(struct nvme_sqe) == NVME_SQE_SIZE, "SQE");
_Static_assert(sizeof(struct nvme_cqe) == NVME_CQE_SIZE, "CQE");
_Static_assert((1u << NVME_SQES_LOG2) == NVME_SQE_SIZE, "SQES");
_Static_assert((1u << NVME_CQES_LOG2) == NVME_CQE_SIZE, "CQES");
_Static_assert(sizeof(struct nvme_id_ctrl) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_id_ns) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_id_ns_nvm) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_id_ctrl_nvm) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_id_ns_indep) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_ns_list) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(struct nvme_id_iocs) == NVME_IDENTIFY_DATA_SIZE, "");
_Static_assert(sizeof(((struct nvme_id_ctrl *)0)->subnqn) == NVMF_NQN_FIELD_LEN, "");
_Static_assert(sizeof(((struct nvmf_connect_data *)0)->hostnqn) == NVMF_NQN_FIELD_LEN, "");
_Static_assert(sizeof(((struct nvmf_disc_log_entry *)0)->traddr) == NVMF_TRADDR_LEN, "");
_Static_assert(sizeof(NVMF_DISCOVERY_NQN) - 1 <= NVMF_NQN_MAX_LEN, "");
_Static_assert(NVME_DSM_MAX_RANGES * sizeof(struct nvme_dsm_range) == 4096, "DSM ranges");
_Static_assert(sizeof(struct nvmf_disc_log_entry) == sizeof(struct nvmf_disc_log_hdr),
	       "discovery header and entries are both 1 KiB");

/* ---- NVMe/TCP PDUs embed the queue entries unpadded ------------------------ */
_Static_assert(sizeof(struct nvme_tcp_cmd) == sizeof(struct nvme_tcp_ch) + NVME_SQE_SIZE,
	       "CapsuleCmd header = CH + SQE");
_Static_assert(sizeof(struct nvme_tcp_rsp) == sizeof(struct nvme_tcp_ch) + NVME_CQE_SIZE,
	       "CapsuleResp header = CH + CQE");
_Static_assert(offsetof(struct nvme_tcp_cmd, sqe) + offsetof(struct nvme_sqe, dptr) == 32,
	       "SGL1 at byte 32 of the CapsuleCmd PDU");
