/*
 * NVMe wire formats shared by the target and the host: submission and completion
 * queue entries, admin / NVM / Fabrics commands, status codes, controller properties,
 * Identify data, log pages, features, asynchronous events, the Discovery log and the
 * DH-HMAC-CHAP in-band authentication messages.
 *
 * Sources: NVM Express Base Specification 2.x, NVM Command Set Specification 1.x,
 * NVMe over Fabrics 1.1 (now merged into Base 2.x) and TP 8006 (in-band auth).
 *
 * Conventions
 *  - Every multi-byte field is little-endian on the wire.  The structs declare plain
 *    uint16_t / uint32_t / uint64_t; code converts with le16toh() / htole32() etc. from
 *    <endian.h>.  Byte-wide fields and byte arrays need no conversion.
 *  - Bit-field macros (..._SHIFT / ..._MASK, single-bit flags) describe the value in
 *    host order, i.e. after le32toh().
 *  - Fields are laid out naturally; every size and every offset a peer reads is pinned
 *    down by a static assertion right after its struct.  ASCII strings (serial number,
 *    NQNs, transport addresses) are fixed-size char arrays padded with spaces or NULs
 *    as the spec says, and are NOT necessarily NUL-terminated.
 *  - Only pure encoders / decoders live here (no I/O, no state).
 */
#ifndef NVMF_PROTO_NVME_SPEC_H
#define NVMF_PROTO_NVME_SPEC_H

#include <stddef.h>
#include <stdint.h>

/* SQE, CQE and SGL descriptors: public (libnvmf's API takes them), defined there once. */
#include "nvmf/nvme_types.h"

/* Compile-time layout checks used throughout this file. */
#define NVME_CHECK_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " must be " #size " bytes")
#define NVME_CHECK_OFFSET(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " must be at " #off)

/* Generic accessors for the ..._SHIFT / ..._MASK pairs below (host-order values). */
#define NVME_GET(val, F) (((val) >> F##_SHIFT) & F##_MASK)
#define NVME_SET(F, v) (((uint64_t)(v) & F##_MASK) << F##_SHIFT)

/* ============================================================================
 * Miscellaneous constants
 * ========================================================================== */

#define NVME_NSID_NONE 0x00000000u
#define NVME_NSID_ALL 0xFFFFFFFFu            /* "all namespaces" / broadcast */

#define NVME_SQE_SIZE 64
#define NVME_CQE_SIZE 16
#define NVME_SQES_LOG2 6                     /* 2^6 = 64: value for CC.IOSQES / SQES */
#define NVME_CQES_LOG2 4                     /* 2^4 = 16: value for CC.IOCQES / CQES */
#define NVME_IDENTIFY_DATA_SIZE 4096
#define NVME_DSM_MAX_RANGES 256
#define NVME_MAX_CHANGED_NS 1024             /* entries in the Changed Namespace List */

/* Names and addresses (NVMe-oF). */
#define NVMF_NQN_FIELD_LEN 256               /* NQN fields in commands / log pages */
#define NVMF_NQN_MAX_LEN 223                 /* longest legal NQN, bytes, excluding NUL */
#define NVMF_NQN_MIN_LEN 11
#define NVMF_TRSVCID_LEN 32
#define NVMF_TRADDR_LEN 256
#define NVMF_TSAS_LEN 256
#define NVMF_HOSTID_LEN 16
#define NVMF_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVMF_NQN_UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

/* Controller IDs. */
#define NVMF_CNTLID_MIN 0x0001
#define NVMF_CNTLID_MAX 0xFFEF               /* FFF0h..FFFFh are reserved / special */
#define NVMF_CNTLID_STATIC_ANY 0xFFFE        /* Connect, static model: any controller */
#define NVMF_CNTLID_DYNAMIC 0xFFFF           /* Connect, dynamic model: allocate one */

#define NVMF_MIN_ADMIN_QUEUE_ENTRIES 32      /* admin SQ must hold >= 32 entries */

/* Version encoding (VS property, Identify Controller VER). */
#define NVME_VS(major, minor, ter) \
	((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(ter)))
#define NVME_VS_MAJOR(vs) (((vs) >> 16) & 0xFFFFu)
#define NVME_VS_MINOR(vs) (((vs) >> 8) & 0xFFu)
#define NVME_VS_TER(vs) ((vs) & 0xFFu)
#define NVME_VS_1_3 NVME_VS(1, 3, 0)
#define NVME_VS_1_4 NVME_VS(1, 4, 0)
#define NVME_VS_2_0 NVME_VS(2, 0, 0)

/* ============================================================================
 * SGL descriptors (Base 2.x "Scatter Gather List")
 * ========================================================================== */

/*
 * Byte 15 of every SGL descriptor is its identifier: descriptor type in bits 7:4,
 * descriptor sub type in bits 3:0.
 */
enum nvme_sgl_desc_type {
	NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	NVME_SGL_TYPE_SEGMENT = 0x2,
	NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,  /* RDMA */
	NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
	NVME_SGL_TYPE_VENDOR = 0xF,
};

enum nvme_sgl_desc_subtype {
	NVME_SGL_SUBTYPE_ADDRESS = 0x0,        /* addr is a memory address */
	NVME_SGL_SUBTYPE_OFFSET = 0x1,         /* addr is an offset into in-capsule data */
	NVME_SGL_SUBTYPE_TRANSPORT = 0xA,      /* transport specific (NVMe/TCP: 0xA) */
	NVME_SGL_SUBTYPE_INVALIDATE_KEY = 0xF, /* RDMA: remote invalidate */
};

#define NVME_SGL_ID(type, subtype) ((uint8_t)((((type) & 0xFu) << 4) | ((subtype) & 0xFu)))
#define NVME_SGL_ID_TYPE(id) (((id) >> 4) & 0xFu)
#define NVME_SGL_ID_SUBTYPE(id) ((id) & 0xFu)

/*
 * The two SGL identifiers NVMe/TCP uses in SGL1 of a command capsule:
 *  - 0x01: data block, offset sub type: the data is in the capsule, addr is the offset
 *          from the start of the in-capsule data (ICDOFF), length its size;
 *  - 0x5A: transport data block, transport sub type: the data moves in separate
 *          H2CData (after R2T) or C2HData PDUs; addr is 0, length the transfer size.
 */
#define NVME_SGL_ID_ICD NVME_SGL_ID(NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET)
#define NVME_SGL_ID_TRANSPORT \
	NVME_SGL_ID(NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, NVME_SGL_SUBTYPE_TRANSPORT)

/* The SGL descriptors and the data pointer are defined in nvmf/nvme_types.h. */
NVME_CHECK_SIZE(struct nvme_sgl_desc, 16);
NVME_CHECK_OFFSET(struct nvme_sgl_desc, addr, 0);
NVME_CHECK_OFFSET(struct nvme_sgl_desc, length, 8);
NVME_CHECK_OFFSET(struct nvme_sgl_desc, id, 15);

NVME_CHECK_SIZE(struct nvme_keyed_sgl_desc, 16);
NVME_CHECK_OFFSET(struct nvme_keyed_sgl_desc, length, 8);
NVME_CHECK_OFFSET(struct nvme_keyed_sgl_desc, key, 11);
NVME_CHECK_OFFSET(struct nvme_keyed_sgl_desc, id, 15);

NVME_CHECK_SIZE(union nvme_dptr, 16);

/* ============================================================================
 * Submission queue entry
 * ========================================================================== */

/*
 * SQE byte 1 (flags):
 *   bits 1:0  FUSE  00b normal, 01b first of a fused pair, 10b second of the pair
 *   bits 5:2  reserved
 *   bits 7:6  PSDT  00b PRPs; 01b SGLs, MPTR is the address of a contiguous metadata
 *                   buffer; 10b SGLs, MPTR is the address of an SGL segment.
 * NVMe over Fabrics uses SGLs only: every capsule (Fabrics commands included) carries
 * PSDT = 01b, so a fabrics target rejects anything else with Invalid Field.
 */
#define NVME_CMD_FUSE_MASK 0x03u
#define NVME_CMD_FUSE_NONE 0x00u
#define NVME_CMD_FUSE_FIRST 0x01u
#define NVME_CMD_FUSE_SECOND 0x02u
#define NVME_CMD_PSDT_SHIFT 6
#define NVME_CMD_PSDT_MASK 0x3u
#define NVME_CMD_PSDT_PRP 0x0u
#define NVME_CMD_PSDT_SGL_MPTR_BUF 0x1u
#define NVME_CMD_PSDT_SGL_MPTR_SGL 0x2u
#define NVME_CMD_FLAGS_PSDT_MASK (NVME_CMD_PSDT_MASK << NVME_CMD_PSDT_SHIFT)
#define NVME_CMD_FLAGS_SGL (NVME_CMD_PSDT_SGL_MPTR_BUF << NVME_CMD_PSDT_SHIFT) /* 0x40 */

/*
 * Opcode bits 1:0 (and, for Fabrics commands, FCTYPE bits 1:0) give the data
 * direction of the command.
 */
enum nvme_xfer_dir {
	NVME_XFER_NONE = 0,
	NVME_XFER_HOST_TO_CTRL = 1,  /* write-like */
	NVME_XFER_CTRL_TO_HOST = 2,  /* read-like */
	NVME_XFER_BIDIR = 3,
};
#define NVME_OPC_XFER(opc) ((enum nvme_xfer_dir)((opc) & 0x3u))

/* Generic 64-byte submission queue entry: struct nvme_sqe in nvmf/nvme_types.h. */
NVME_CHECK_SIZE(struct nvme_sqe, 64);
NVME_CHECK_OFFSET(struct nvme_sqe, opcode, 0);
NVME_CHECK_OFFSET(struct nvme_sqe, flags, 1);
NVME_CHECK_OFFSET(struct nvme_sqe, cid, 2);
NVME_CHECK_OFFSET(struct nvme_sqe, nsid, 4);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw2, 8);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw3, 12);
NVME_CHECK_OFFSET(struct nvme_sqe, mptr, 16);
NVME_CHECK_OFFSET(struct nvme_sqe, dptr, 24);
NVME_CHECK_OFFSET(struct nvme_sqe, dptr.sgl.addr, 24);
NVME_CHECK_OFFSET(struct nvme_sqe, dptr.sgl.length, 32);
NVME_CHECK_OFFSET(struct nvme_sqe, dptr.sgl.id, 39);
NVME_CHECK_OFFSET(struct nvme_sqe, dptr.prp.prp2, 32);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw10, 40);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw11, 44);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw12, 48);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw13, 52);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw14, 56);
NVME_CHECK_OFFSET(struct nvme_sqe, cdw15, 60);

/* ============================================================================
 * Opcodes
 * ========================================================================== */

enum nvme_admin_opcode {
	NVME_ADM_DELETE_IO_SQ = 0x00,
	NVME_ADM_CREATE_IO_SQ = 0x01,
	NVME_ADM_GET_LOG_PAGE = 0x02,
	NVME_ADM_DELETE_IO_CQ = 0x04,
	NVME_ADM_CREATE_IO_CQ = 0x05,
	NVME_ADM_IDENTIFY = 0x06,
	NVME_ADM_ABORT = 0x08,
	NVME_ADM_SET_FEATURES = 0x09,
	NVME_ADM_GET_FEATURES = 0x0A,
	NVME_ADM_ASYNC_EVENT = 0x0C,
	NVME_ADM_NS_MGMT = 0x0D,
	NVME_ADM_FW_COMMIT = 0x10,
	NVME_ADM_FW_DOWNLOAD = 0x11,
	NVME_ADM_DEV_SELF_TEST = 0x14,
	NVME_ADM_NS_ATTACH = 0x15,
	NVME_ADM_KEEP_ALIVE = 0x18,
	NVME_ADM_DIRECTIVE_SEND = 0x19,
	NVME_ADM_DIRECTIVE_RECV = 0x1A,
	NVME_ADM_VIRT_MGMT = 0x1C,
	NVME_ADM_MI_SEND = 0x1D,
	NVME_ADM_MI_RECV = 0x1E,
	NVME_ADM_CAPACITY_MGMT = 0x20,
	NVME_ADM_LOCKDOWN = 0x24,
	NVME_ADM_DBBUF_CONFIG = 0x7C,
	NVME_ADM_FABRICS = 0x7F,             /* same opcode on admin and I/O queues */
	NVME_ADM_FORMAT_NVM = 0x80,
	NVME_ADM_SECURITY_SEND = 0x81,
	NVME_ADM_SECURITY_RECV = 0x82,
	NVME_ADM_SANITIZE = 0x84,
	NVME_ADM_GET_LBA_STATUS = 0x86,
	NVME_ADM_VENDOR_FIRST = 0xC0,
};

/* The Fabrics opcode, valid on any queue; the command is selected by FCTYPE. */
#define NVME_OPC_FABRICS 0x7F

enum nvme_nvm_opcode {
	NVME_NVM_FLUSH = 0x00,
	NVME_NVM_WRITE = 0x01,
	NVME_NVM_READ = 0x02,
	NVME_NVM_WRITE_UNCOR = 0x04,
	NVME_NVM_COMPARE = 0x05,
	NVME_NVM_WRITE_ZEROES = 0x08,
	NVME_NVM_DSM = 0x09,
	NVME_NVM_VERIFY = 0x0C,
	NVME_NVM_RESV_REGISTER = 0x0D,
	NVME_NVM_RESV_REPORT = 0x0E,
	NVME_NVM_RESV_ACQUIRE = 0x11,
	NVME_NVM_IO_MGMT_RECV = 0x12,
	NVME_NVM_RESV_RELEASE = 0x15,
	NVME_NVM_COPY = 0x19,
	NVME_NVM_IO_MGMT_SEND = 0x1D,
	NVME_NVM_VENDOR_FIRST = 0x80,
};

/* Fabrics command types (SQE byte 4 of an opcode 7Fh command). */
enum nvmf_fctype {
	NVMF_FCTYPE_PROPERTY_SET = 0x00,
	NVMF_FCTYPE_CONNECT = 0x01,
	NVMF_FCTYPE_PROPERTY_GET = 0x04,
	NVMF_FCTYPE_AUTH_SEND = 0x05,
	NVMF_FCTYPE_AUTH_RECV = 0x06,
	NVMF_FCTYPE_DISCONNECT = 0x08,
	NVMF_FCTYPE_VENDOR_FIRST = 0xC0,
};

/* ============================================================================
 * Command-specific views of the SQE (all 64 bytes, same header as nvme_sqe)
 * ========================================================================== */

/*
 * Read (02h), Write (01h), Compare (05h), Write Uncorrectable (04h), Verify (0Ch) and
 * Write Zeroes (08h) of the NVM command set.
 *   CDW10-11 SLBA (64-bit)
 *   CDW12    bits 15:0 NLB (0's based), 23:20 DTYPE, 24 STC, 25 DEAC (Write Zeroes),
 *            29:26 PRINFO, 30 FUA, 31 LR
 *   CDW13    bits 7:0 DSM, 31:16 DSPEC
 *   CDW14    reference tag / storage tag; CDW15 bits 15:0 LBAT, 31:16 LBATM
 */
struct nvme_rw_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint64_t slba;
	uint16_t nlb;       /* 0's based number of logical blocks */
	uint16_t control;   /* CDW12 bits 31:16, NVME_RW_CTRL_* */
	uint8_t dsm;        /* CDW13 bits 7:0 */
	uint8_t rsvd53;
	uint16_t dspec;     /* directive specific */
	uint32_t reftag;    /* CDW14 */
	uint16_t lbat;      /* CDW15 bits 15:0 */
	uint16_t lbatm;     /* CDW15 bits 31:16 */
};
NVME_CHECK_SIZE(struct nvme_rw_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, nsid, 4);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, dptr, 24);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, slba, 40);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, nlb, 48);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, control, 50);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, dsm, 52);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, dspec, 54);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, reftag, 56);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, lbat, 60);
NVME_CHECK_OFFSET(struct nvme_rw_cmd, lbatm, 62);

/* Bits of nvme_rw_cmd.control (upper half of CDW12). */
#define NVME_RW_CTRL_DTYPE_SHIFT 4
#define NVME_RW_CTRL_DTYPE_MASK 0xFu
#define NVME_RW_CTRL_STC (1u << 8)        /* storage tag check */
#define NVME_RW_CTRL_DEAC (1u << 9)       /* Write Zeroes: deallocate */
#define NVME_RW_CTRL_PRINFO_SHIFT 10
#define NVME_RW_CTRL_PRINFO_MASK 0xFu
#define NVME_RW_CTRL_FUA (1u << 14)       /* force unit access */
#define NVME_RW_CTRL_LR (1u << 15)        /* limited retry */

/* The same bits expressed in the whole CDW12. */
#define NVME_RW_CDW12_NLB_MASK 0xFFFFu
#define NVME_RW_CDW12_DEAC (1u << 25)
#define NVME_RW_CDW12_FUA (1u << 30)
#define NVME_RW_CDW12_LR (1u << 31)

/* PRINFO bits (inside the 4-bit PRINFO field). */
#define NVME_PRINFO_PRCHK_REF 0x1u
#define NVME_PRINFO_PRCHK_APP 0x2u
#define NVME_PRINFO_PRCHK_GUARD 0x4u
#define NVME_PRINFO_PRACT 0x8u

/*
 * Flush (00h) has no command-specific fields: use struct nvme_sqe; only NSID matters
 * (FFFFFFFFh = all namespaces, when Identify Controller VWC allows it).
 */

/*
 * Dataset Management (09h).  CDW10 bits 7:0 NR (0's based number of ranges);
 * CDW11 attributes: bit 0 IDR, bit 1 IDW, bit 2 AD (deallocate).
 * The data buffer holds NR+1 struct nvme_dsm_range.
 */
struct nvme_dsm_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint32_t nr;        /* bits 7:0: 0's based number of ranges */
	uint32_t attr;      /* NVME_DSM_ATTR_* */
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_dsm_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_dsm_cmd, nr, 40);
NVME_CHECK_OFFSET(struct nvme_dsm_cmd, attr, 44);

#define NVME_DSM_NR_MASK 0xFFu
#define NVME_DSM_ATTR_IDR (1u << 0)       /* integral dataset for read */
#define NVME_DSM_ATTR_IDW (1u << 1)       /* integral dataset for write */
#define NVME_DSM_ATTR_AD (1u << 2)        /* deallocate */

struct nvme_dsm_range {
	uint32_t cattr;     /* context attributes */
	uint32_t nlb;       /* number of logical blocks (NOT 0's based) */
	uint64_t slba;
};
NVME_CHECK_SIZE(struct nvme_dsm_range, 16);
NVME_CHECK_OFFSET(struct nvme_dsm_range, cattr, 0);
NVME_CHECK_OFFSET(struct nvme_dsm_range, nlb, 4);
NVME_CHECK_OFFSET(struct nvme_dsm_range, slba, 8);

/* ------------------------------------------------------------------ reservations */

/* Reservation types (Acquire / Release CDW10 bits 15:08, Report RTYPE). */
enum nvme_resv_type {
	NVME_RTYPE_NONE = 0,
	NVME_RTYPE_WE = 1,              /* Write Exclusive */
	NVME_RTYPE_EA = 2,              /* Exclusive Access */
	NVME_RTYPE_WE_RO = 3,           /* Write Exclusive - Registrants Only */
	NVME_RTYPE_EA_RO = 4,           /* Exclusive Access - Registrants Only */
	NVME_RTYPE_WE_AR = 5,           /* Write Exclusive - All Registrants */
	NVME_RTYPE_EA_AR = 6,           /* Exclusive Access - All Registrants */
};

/* CDW10 of Register / Acquire / Release. */
#define NVME_RESV_CDW10_ACTION_MASK 0x7u   /* RREGA / RACQA / RRELA */
#define NVME_RESV_CDW10_IEKEY (1u << 3)
#define NVME_RESV_CDW10_RTYPE_SHIFT 8      /* Acquire / Release */
#define NVME_RESV_CDW10_CPTPL_SHIFT 30     /* Register: change PTPL state */

enum nvme_resv_register_action {
	NVME_RREGA_REGISTER = 0,
	NVME_RREGA_UNREGISTER = 1,
	NVME_RREGA_REPLACE = 2,
};

enum nvme_resv_acquire_action {
	NVME_RACQA_ACQUIRE = 0,
	NVME_RACQA_PREEMPT = 1,
	NVME_RACQA_PREEMPT_ABORT = 2,
};

enum nvme_resv_release_action {
	NVME_RRELA_RELEASE = 0,
	NVME_RRELA_CLEAR = 1,
};

enum nvme_resv_cptpl {
	NVME_CPTPL_NO_CHANGE = 0,
	NVME_CPTPL_CLEAR = 2,           /* reservations released, registrants cleared on power loss */
	NVME_CPTPL_SET = 3,             /* they persist through power loss */
};

#define NVME_RESV_REPORT_CDW11_EDS (1u << 0) /* extended data structure (128-bit host IDs) */

/* Identify Namespace RESCAP. */
#define NVME_RESCAP_PTPL (1u << 0)
#define NVME_RESCAP_WE (1u << 1)
#define NVME_RESCAP_EA (1u << 2)
#define NVME_RESCAP_WE_RO (1u << 3)
#define NVME_RESCAP_EA_RO (1u << 4)
#define NVME_RESCAP_WE_AR (1u << 5)
#define NVME_RESCAP_EA_AR (1u << 6)
#define NVME_RESCAP_IEKEY13 (1u << 7)   /* IEKEY as NVMe 1.3 defines it */

struct nvme_resv_register_data {
	uint64_t crkey;
	uint64_t nrkey;
};
NVME_CHECK_SIZE(struct nvme_resv_register_data, 16);

struct nvme_resv_acquire_data {
	uint64_t crkey;
	uint64_t prkey;
};
NVME_CHECK_SIZE(struct nvme_resv_acquire_data, 16);

struct nvme_resv_release_data {
	uint64_t crkey;
};
NVME_CHECK_SIZE(struct nvme_resv_release_data, 8);

/* Reservation Status data structure header (Report). */
struct nvme_resv_status {
	uint32_t gen;
	uint8_t rtype;
	uint8_t regctl[2];      /* number of registrants (unaligned) */
	uint8_t rsvd7[2];
	uint8_t ptpls;
	uint8_t rsvd10[14];
};
NVME_CHECK_SIZE(struct nvme_resv_status, 24);
NVME_CHECK_OFFSET(struct nvme_resv_status, rtype, 4);
NVME_CHECK_OFFSET(struct nvme_resv_status, regctl, 5);
NVME_CHECK_OFFSET(struct nvme_resv_status, ptpls, 9);

/* Registered Controller data structure (64-bit host ID). */
struct nvme_resv_regctl {
	uint16_t cntlid;
	uint8_t rcsts;          /* bit 0: holds the reservation */
	uint8_t rsvd3[5];
	uint8_t hostid[8];
	uint64_t rkey;
};
NVME_CHECK_SIZE(struct nvme_resv_regctl, 24);

/* The extended header is 64 bytes: the 24 above and 40 reserved. */
#define NVME_RESV_STATUS_EXT_SIZE 64

/* Registered Controller extended data structure (128-bit host ID). */
struct nvme_resv_regctl_ext {
	uint16_t cntlid;
	uint8_t rcsts;
	uint8_t rsvd3[5];
	uint64_t rkey;
	uint8_t hostid[16];
	uint8_t rsvd32[32];
};
NVME_CHECK_SIZE(struct nvme_resv_regctl_ext, 64);
NVME_CHECK_OFFSET(struct nvme_resv_regctl_ext, rkey, 8);
NVME_CHECK_OFFSET(struct nvme_resv_regctl_ext, hostid, 16);

/* Reservation Notification log page (LID 80h) and its types. */
enum nvme_resv_notif_type {
	NVME_RNLPT_EMPTY = 0,
	NVME_RNLPT_REG_PREEMPTED = 1,
	NVME_RNLPT_RESV_RELEASED = 2,
	NVME_RNLPT_RESV_PREEMPTED = 3,
};

struct nvme_resv_notif_log {
	uint64_t count;         /* log page count: 0 = empty, wraps to 1 */
	uint8_t type;           /* NVME_RNLPT_* */
	uint8_t nr_avail;       /* number of available log pages after this one */
	uint8_t rsvd10[2];
	uint32_t nsid;
	uint8_t rsvd16[48];
};
NVME_CHECK_SIZE(struct nvme_resv_notif_log, 64);
NVME_CHECK_OFFSET(struct nvme_resv_notif_log, nsid, 12);

/* Reservation Notification Mask feature (82h): a set bit masks that notification type. */
#define NVME_RESV_MASK_REGPRE (1u << 1)
#define NVME_RESV_MASK_RESREL (1u << 2)
#define NVME_RESV_MASK_RESPRE (1u << 3)
#define NVME_RESV_MASK_ALL (NVME_RESV_MASK_REGPRE | NVME_RESV_MASK_RESREL | NVME_RESV_MASK_RESPRE)

/*
 * Identify (06h).  CDW10 bits 7:0 CNS, 31:16 CNTID; CDW11 bits 15:0 CNS specific
 * identifier (e.g. NVM Set / domain id), 31:24 CSI; CDW14 bits 6:0 UUID index.
 */
struct nvme_identify_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint8_t cns;
	uint8_t rsvd41;
	uint16_t cntid;
	uint16_t cnssid;
	uint8_t rsvd46;
	uint8_t csi;
	uint32_t cdw12;
	uint32_t cdw13;
	uint8_t uuid_idx;   /* bits 6:0 */
	uint8_t rsvd57[3];
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_identify_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_identify_cmd, cns, 40);
NVME_CHECK_OFFSET(struct nvme_identify_cmd, cntid, 42);
NVME_CHECK_OFFSET(struct nvme_identify_cmd, cnssid, 44);
NVME_CHECK_OFFSET(struct nvme_identify_cmd, csi, 47);
NVME_CHECK_OFFSET(struct nvme_identify_cmd, uuid_idx, 56);

/*
 * Get Log Page (02h).
 *   CDW10 bits 7:0 LID, 14:8 LSP, 15 RAE, 31:16 NUMDL
 *   CDW11 bits 15:0 NUMDU, 31:16 LSI (log specific identifier)
 *   CDW12/13 LPOL/LPOU (byte offset, dword aligned)
 *   CDW14 bits 6:0 UUID index, 23 OT (offset is an index), 31:24 CSI
 * NUMD = NUMDU:NUMDL is the 0's based number of dwords to return.
 */
struct nvme_get_log_page_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint8_t lid;
	uint8_t lsp_rae;    /* bits 6:0 LSP, bit 7 RAE */
	uint16_t numdl;
	uint16_t numdu;
	uint16_t lsi;
	uint32_t lpol;
	uint32_t lpou;
	uint8_t uuid_idx;   /* bits 6:0 */
	uint8_t rsvd57;
	uint8_t ot;         /* bit 7: OT (CDW14 bit 23) */
	uint8_t csi;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_get_log_page_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, lid, 40);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, lsp_rae, 41);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, numdl, 42);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, numdu, 44);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, lsi, 46);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, lpol, 48);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, lpou, 52);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, uuid_idx, 56);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, ot, 58);
NVME_CHECK_OFFSET(struct nvme_get_log_page_cmd, csi, 59);

#define NVME_GLP_LSP_MASK 0x7Fu           /* in lsp_rae */
#define NVME_GLP_RAE 0x80u                /* in lsp_rae: retain asynchronous event */
#define NVME_GLP_OT 0x80u                 /* in ot */
/* The same fields in the whole CDW10. */
#define NVME_GLP_CDW10_LID_MASK 0xFFu
#define NVME_GLP_CDW10_LSP_SHIFT 8
#define NVME_GLP_CDW10_LSP_MASK 0x7Fu
#define NVME_GLP_CDW10_RAE (1u << 15)
#define NVME_GLP_CDW10_NUMDL_SHIFT 16
#define NVME_GLP_CDW10_NUMDL_MASK 0xFFFFu

/* Bytes requested by a Get Log Page, from host-order NUMDL / NUMDU. */
static inline uint64_t nvme_glp_bytes(uint16_t numdl, uint16_t numdu)
{
	return ((((uint64_t)numdu << 16) | numdl) + 1) * 4;
}

/*
 * Set Features (09h) / Get Features (0Ah).
 *   CDW10 bits 7:0 FID; Get: bits 10:8 SEL; Set: bit 31 SV (save)
 *   CDW11.. feature specific; CDW14 bits 6:0 UUID index
 */
struct nvme_features_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint8_t fid;
	uint8_t sel;        /* Get Features: bits 2:0 SEL (CDW10 bits 10:8) */
	uint8_t rsvd42;
	uint8_t sv;         /* Set Features: bit 7 SV (CDW10 bit 31) */
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint8_t uuid_idx;
	uint8_t rsvd57[3];
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_features_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_features_cmd, fid, 40);
NVME_CHECK_OFFSET(struct nvme_features_cmd, sel, 41);
NVME_CHECK_OFFSET(struct nvme_features_cmd, sv, 43);
NVME_CHECK_OFFSET(struct nvme_features_cmd, cdw11, 44);
NVME_CHECK_OFFSET(struct nvme_features_cmd, cdw12, 48);
NVME_CHECK_OFFSET(struct nvme_features_cmd, uuid_idx, 56);

#define NVME_FEAT_SEL_MASK 0x7u           /* in sel */
#define NVME_FEAT_SV 0x80u                /* in sv */
#define NVME_FEAT_CDW10_FID_MASK 0xFFu
#define NVME_FEAT_CDW10_SEL_SHIFT 8
#define NVME_FEAT_CDW10_SEL_MASK 0x7u
#define NVME_FEAT_CDW10_SV (1u << 31)

enum nvme_feat_sel {
	NVME_FEAT_SEL_CURRENT = 0,
	NVME_FEAT_SEL_DEFAULT = 1,
	NVME_FEAT_SEL_SAVED = 2,
	NVME_FEAT_SEL_SUPPORTED_CAPS = 3,
};
/* Get Features with SEL=011b returns these capability bits in dw0. */
#define NVME_FEAT_CAP_SAVEABLE (1u << 0)
#define NVME_FEAT_CAP_NS_SPECIFIC (1u << 1)
#define NVME_FEAT_CAP_CHANGEABLE (1u << 2)

/* Abort (08h): CDW10 bits 15:0 SQID, 31:16 CID.  dw0 bit 0 = 1: NOT aborted. */
struct nvme_abort_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint16_t sqid;
	uint16_t abort_cid;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_abort_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_abort_cmd, sqid, 40);
NVME_CHECK_OFFSET(struct nvme_abort_cmd, abort_cid, 42);
#define NVME_ABORT_DW0_NOT_ABORTED (1u << 0)

/*
 * Asynchronous Event Request (0Ch) and Keep Alive (18h) have no command-specific
 * fields: use struct nvme_sqe.  The AER completes only when an event occurs; see
 * NVME_AER_DW0() for its dw0.
 */

/* Create I/O Completion Queue (05h).  Not used over fabrics; for completeness. */
struct nvme_create_cq_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint16_t qid;
	uint16_t qsize;     /* 0's based */
	uint16_t cq_flags;  /* bit 0 PC, bit 1 IEN */
	uint16_t iv;        /* interrupt vector */
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_create_cq_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_create_cq_cmd, qid, 40);
NVME_CHECK_OFFSET(struct nvme_create_cq_cmd, qsize, 42);
NVME_CHECK_OFFSET(struct nvme_create_cq_cmd, cq_flags, 44);
NVME_CHECK_OFFSET(struct nvme_create_cq_cmd, iv, 46);
#define NVME_QUEUE_PC (1u << 0)           /* physically contiguous */
#define NVME_CQ_IEN (1u << 1)             /* interrupts enabled */
#define NVME_SQ_QPRIO_SHIFT 1
#define NVME_SQ_QPRIO_MASK 0x3u

/* Create I/O Submission Queue (01h).  Not used over fabrics; for completeness. */
struct nvme_create_sq_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint16_t qid;
	uint16_t qsize;     /* 0's based */
	uint16_t sq_flags;  /* bit 0 PC, bits 2:1 QPRIO */
	uint16_t cqid;
	uint16_t nvmsetid;
	uint16_t rsvd50;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_create_sq_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_create_sq_cmd, qid, 40);
NVME_CHECK_OFFSET(struct nvme_create_sq_cmd, qsize, 42);
NVME_CHECK_OFFSET(struct nvme_create_sq_cmd, sq_flags, 44);
NVME_CHECK_OFFSET(struct nvme_create_sq_cmd, cqid, 46);
NVME_CHECK_OFFSET(struct nvme_create_sq_cmd, nvmsetid, 48);

/* Delete I/O Submission / Completion Queue (00h / 04h): CDW10 bits 15:0 QID. */
struct nvme_delete_queue_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union nvme_dptr dptr;
	uint16_t qid;
	uint16_t rsvd42;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVME_CHECK_SIZE(struct nvme_delete_queue_cmd, 64);
NVME_CHECK_OFFSET(struct nvme_delete_queue_cmd, qid, 40);

/* ---- Fabrics commands (opcode 7Fh) --------------------------------------- */

/*
 * Common layout: byte 4 is FCTYPE (where other commands have NSID); bytes 40..63 are
 * fabrics-command specific.  Byte 1 still carries PSDT = 01b (NVME_CMD_FLAGS_SGL).
 */
struct nvmf_capsule_cmd {
	uint8_t opcode;     /* NVME_OPC_FABRICS */
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* enum nvmf_fctype */
	uint8_t rsvd5[19];
	union nvme_dptr dptr;
	uint8_t specific[24];
};
NVME_CHECK_SIZE(struct nvmf_capsule_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_capsule_cmd, cid, 2);
NVME_CHECK_OFFSET(struct nvmf_capsule_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_capsule_cmd, dptr, 24);
NVME_CHECK_OFFSET(struct nvmf_capsule_cmd, specific, 40);

/*
 * Connect.  The data (SGL1) is a struct nvmf_connect_data (1024 bytes), in-capsule on
 * NVMe/TCP.  QID 0 creates the admin queue (and the controller); QID > 0 an I/O queue
 * of an existing controller named by connect_data.cntlid.
 */
struct nvmf_connect_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_CONNECT */
	uint8_t rsvd5[19];
	union nvme_dptr dptr;
	uint16_t recfmt;    /* record format: NVMF_CONNECT_RECFMT */
	uint16_t qid;
	uint16_t sqsize;    /* 0's based submission queue size */
	uint8_t cattr;      /* NVMF_CONNECT_CATTR_* */
	uint8_t rsvd47;
	uint32_t kato;      /* keep alive timeout, ms (admin queue only; 0 = disabled) */
	uint8_t rsvd52[12];
};
NVME_CHECK_SIZE(struct nvmf_connect_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, dptr, 24);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, recfmt, 40);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, qid, 42);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, sqsize, 44);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, cattr, 46);
NVME_CHECK_OFFSET(struct nvmf_connect_cmd, kato, 48);

#define NVMF_CONNECT_RECFMT 0
#define NVMF_CONNECT_CATTR_PRIO_MASK 0x3u        /* I/O queue priority class (WRR) */
#define NVMF_CONNECT_CATTR_DISABLE_SQFLOW (1u << 2) /* host does not use SQHD flow ctl */

struct nvmf_connect_data {
	uint8_t hostid[NVMF_HOSTID_LEN];  /* 128-bit host identifier (a UUID) */
	uint16_t cntlid;                   /* QID 0: FFFFh dynamic / FFFEh static any */
	uint8_t rsvd18[238];
	char subnqn[NVMF_NQN_FIELD_LEN];
	char hostnqn[NVMF_NQN_FIELD_LEN];
	uint8_t rsvd768[256];
};
NVME_CHECK_SIZE(struct nvmf_connect_data, 1024);
NVME_CHECK_OFFSET(struct nvmf_connect_data, hostid, 0);
NVME_CHECK_OFFSET(struct nvmf_connect_data, cntlid, 16);
NVME_CHECK_OFFSET(struct nvmf_connect_data, subnqn, 256);
NVME_CHECK_OFFSET(struct nvmf_connect_data, hostnqn, 512);

/* Property Set: ATTRIB bits 2:0 give the size; VALUE is 4 or 8 bytes at byte 48. */
struct nvmf_property_set_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_PROPERTY_SET */
	uint8_t rsvd5[35];
	uint8_t attrib;     /* NVMF_PROP_SIZE_4 / NVMF_PROP_SIZE_8 in bits 2:0 */
	uint8_t rsvd41[3];
	uint32_t offset;    /* property offset, NVME_REG_* */
	uint64_t value;
	uint8_t rsvd56[8];
};
NVME_CHECK_SIZE(struct nvmf_property_set_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_property_set_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_property_set_cmd, attrib, 40);
NVME_CHECK_OFFSET(struct nvmf_property_set_cmd, offset, 44);
NVME_CHECK_OFFSET(struct nvmf_property_set_cmd, value, 48);

/* Property Get: the value comes back in CQE dw0 (4 bytes) or dw0..dw1 (8 bytes). */
struct nvmf_property_get_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_PROPERTY_GET */
	uint8_t rsvd5[35];
	uint8_t attrib;
	uint8_t rsvd41[3];
	uint32_t offset;
	uint8_t rsvd48[16];
};
NVME_CHECK_SIZE(struct nvmf_property_get_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_property_get_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_property_get_cmd, attrib, 40);
NVME_CHECK_OFFSET(struct nvmf_property_get_cmd, offset, 44);

#define NVMF_PROP_ATTRIB_SIZE_MASK 0x7u
#define NVMF_PROP_SIZE_4 0
#define NVMF_PROP_SIZE_8 1

/*
 * Authentication Send / Receive.  SECP = E9h (NVMe in-band authentication), SPSP0 =
 * SPSP1 = 01h for DH-HMAC-CHAP.  Send: TL = bytes of the message in the data buffer;
 * Receive: AL = bytes the host has allocated for the controller's message.
 */
struct nvmf_auth_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_AUTH_SEND / NVMF_FCTYPE_AUTH_RECV */
	uint8_t rsvd5[19];
	union nvme_dptr dptr;
	uint8_t rsvd40;
	uint8_t spsp0;
	uint8_t spsp1;
	uint8_t secp;
	uint32_t tl_al;     /* Send: transfer length; Receive: allocation length */
	uint8_t rsvd48[16];
};
NVME_CHECK_SIZE(struct nvmf_auth_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, dptr, 24);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, spsp0, 41);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, spsp1, 42);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, secp, 43);
NVME_CHECK_OFFSET(struct nvmf_auth_cmd, tl_al, 44);

#define NVMF_AUTH_SECP 0xE9
#define NVMF_AUTH_SPSP0_DHCHAP 0x01
#define NVMF_AUTH_SPSP1_DHCHAP 0x01

/* Disconnect: deletes the I/O queue it is submitted on (optional, see OFCS bit 0). */
struct nvmf_disconnect_cmd {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;     /* NVMF_FCTYPE_DISCONNECT */
	uint8_t rsvd5[35];
	uint16_t recfmt;    /* 0 */
	uint8_t rsvd42[22];
};
NVME_CHECK_SIZE(struct nvmf_disconnect_cmd, 64);
NVME_CHECK_OFFSET(struct nvmf_disconnect_cmd, fctype, 4);
NVME_CHECK_OFFSET(struct nvmf_disconnect_cmd, recfmt, 40);

/* Every view of a 64-byte command. */
union nvme_cmd {
	struct nvme_sqe sqe;
	struct nvme_rw_cmd rw;
	struct nvme_dsm_cmd dsm;
	struct nvme_identify_cmd identify;
	struct nvme_get_log_page_cmd glp;
	struct nvme_features_cmd features;
	struct nvme_abort_cmd abort;
	struct nvme_create_cq_cmd create_cq;
	struct nvme_create_sq_cmd create_sq;
	struct nvme_delete_queue_cmd delete_queue;
	struct nvmf_capsule_cmd fabrics;
	struct nvmf_connect_cmd connect;
	struct nvmf_property_set_cmd prop_set;
	struct nvmf_property_get_cmd prop_get;
	struct nvmf_auth_cmd auth;
	struct nvmf_disconnect_cmd disconnect;
	uint8_t raw[64];
};
NVME_CHECK_SIZE(union nvme_cmd, 64);

/* ============================================================================
 * Completion queue entry and status
 * ========================================================================== */

/* struct nvme_cqe: in nvmf/nvme_types.h; status is NVME_STATUS_* below. */
NVME_CHECK_SIZE(struct nvme_cqe, 16);
NVME_CHECK_OFFSET(struct nvme_cqe, dw0, 0);
NVME_CHECK_OFFSET(struct nvme_cqe, dw1, 4);
NVME_CHECK_OFFSET(struct nvme_cqe, result64, 0);
NVME_CHECK_OFFSET(struct nvme_cqe, sqhd, 8);
NVME_CHECK_OFFSET(struct nvme_cqe, sqid, 10);
NVME_CHECK_OFFSET(struct nvme_cqe, cid, 12);
NVME_CHECK_OFFSET(struct nvme_cqe, status, 14);

/*
 * CQE status word (bytes 14..15, host order after le16toh):
 *   bit 0      P    phase tag (always 0 over fabrics)
 *   bits 8:1   SC   status code
 *   bits 11:9  SCT  status code type
 *   bits 13:12 CRD  command retry delay (index into CRDT1..3)
 *   bit 14     M    more (information in the Error log)
 *   bit 15     DNR  do not retry
 */
#define NVME_STATUS_P (1u << 0)
#define NVME_STATUS_SC_SHIFT 1
#define NVME_STATUS_SC_MASK 0xFFu
#define NVME_STATUS_SCT_SHIFT 9
#define NVME_STATUS_SCT_MASK 0x7u
#define NVME_STATUS_CRD_SHIFT 12
#define NVME_STATUS_CRD_MASK 0x3u
#define NVME_STATUS_M (1u << 14)
#define NVME_STATUS_DNR (1u << 15)
#define NVME_STATUS_SCT_SC_MASK 0x0FFEu   /* SCT and SC together; 0 means success */

/* Status word for (SCT, SC), retry allowed / with Do Not Retry. */
#define NVME_STATUS(sct, sc) \
	((uint16_t)((((unsigned)(sct) & 0x7u) << 9) | (((unsigned)(sc) & 0xFFu) << 1)))
#define NVME_STATUS_NORETRY(sct, sc) ((uint16_t)(NVME_STATUS(sct, sc) | NVME_STATUS_DNR))

static inline uint8_t nvme_status_sc(uint16_t st)
{
	return (uint8_t)((st >> NVME_STATUS_SC_SHIFT) & NVME_STATUS_SC_MASK);
}

static inline uint8_t nvme_status_sct(uint16_t st)
{
	return (uint8_t)((st >> NVME_STATUS_SCT_SHIFT) & NVME_STATUS_SCT_MASK);
}

static inline uint8_t nvme_status_crd(uint16_t st)
{
	return (uint8_t)((st >> NVME_STATUS_CRD_SHIFT) & NVME_STATUS_CRD_MASK);
}

static inline int nvme_status_dnr(uint16_t st)
{
	return (st & NVME_STATUS_DNR) != 0;
}

static inline int nvme_status_is_success(uint16_t st)
{
	return (st & NVME_STATUS_SCT_SC_MASK) == 0;
}

/* Status code types. */
enum nvme_sct {
	NVME_SCT_GENERIC = 0x0,
	NVME_SCT_CMD_SPECIFIC = 0x1,
	NVME_SCT_MEDIA = 0x2,
	NVME_SCT_PATH = 0x3,
	NVME_SCT_VENDOR = 0x7,
};

/* SCT 0: generic command status. */
enum nvme_sc_generic {
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_CID_CONFLICT = 0x03,
	NVME_SC_DATA_XFER_ERROR = 0x04,
	NVME_SC_ABORTED_POWER_LOSS = 0x05,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_ABORT_REQUESTED = 0x07,
	NVME_SC_ABORTED_SQ_DELETION = 0x08,
	NVME_SC_ABORTED_FUSED_FAIL = 0x09,
	NVME_SC_ABORTED_FUSED_MISSING = 0x0A,
	NVME_SC_INVALID_NS_OR_FORMAT = 0x0B,
	NVME_SC_CMD_SEQ_ERROR = 0x0C,
	NVME_SC_INVALID_SGL_SEG_DESC = 0x0D,
	NVME_SC_INVALID_SGL_DESC_COUNT = 0x0E,
	NVME_SC_DATA_SGL_LEN_INVALID = 0x0F,
	NVME_SC_MD_SGL_LEN_INVALID = 0x10,
	NVME_SC_SGL_DESC_TYPE_INVALID = 0x11,
	NVME_SC_INVALID_CMB_USE = 0x12,
	NVME_SC_INVALID_PRP_OFFSET = 0x13,
	NVME_SC_ATOMIC_WU_EXCEEDED = 0x14,
	NVME_SC_OPERATION_DENIED = 0x15,
	NVME_SC_SGL_OFFSET_INVALID = 0x16,
	NVME_SC_HOSTID_INCONSISTENT = 0x18,
	NVME_SC_KA_TIMEOUT_EXPIRED = 0x19,
	NVME_SC_KA_TIMEOUT_INVALID = 0x1A,
	NVME_SC_ABORTED_PREEMPT = 0x1B,
	NVME_SC_SANITIZE_FAILED = 0x1C,
	NVME_SC_SANITIZE_IN_PROGRESS = 0x1D,
	NVME_SC_SGL_DATA_BLOCK_GRAN_INVALID = 0x1E,
	NVME_SC_CMD_NOT_SUPP_IN_CMB_QUEUE = 0x1F,
	NVME_SC_NS_WRITE_PROTECTED = 0x20,
	NVME_SC_CMD_INTERRUPTED = 0x21,
	NVME_SC_TRANSIENT_TRANSPORT = 0x22,
	NVME_SC_PROHIBITED_BY_LOCKDOWN = 0x23,
	NVME_SC_ADMIN_MEDIA_NOT_READY = 0x24,
	/* NVM command set, generic SCT */
	NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	NVME_SC_CAPACITY_EXCEEDED = 0x81,
	NVME_SC_NS_NOT_READY = 0x82,
	NVME_SC_RESERVATION_CONFLICT = 0x83,
	NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

/* SCT 1: command specific status (admin commands). */
enum nvme_sc_cmd {
	NVME_SC_CQ_INVALID = 0x00,
	NVME_SC_QID_INVALID = 0x01,
	NVME_SC_QUEUE_SIZE_INVALID = 0x02,
	NVME_SC_ABORT_LIMIT_EXCEEDED = 0x03,
	NVME_SC_AER_LIMIT_EXCEEDED = 0x05,
	NVME_SC_FW_SLOT_INVALID = 0x06,
	NVME_SC_FW_IMAGE_INVALID = 0x07,
	NVME_SC_INTERRUPT_VECTOR_INVALID = 0x08,
	NVME_SC_LOG_PAGE_INVALID = 0x09,
	NVME_SC_FORMAT_INVALID = 0x0A,
	NVME_SC_FW_NEEDS_CONV_RESET = 0x0B,
	NVME_SC_QUEUE_DELETION_INVALID = 0x0C,
	NVME_SC_FEATURE_NOT_SAVEABLE = 0x0D,
	NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0E,
	NVME_SC_FEATURE_NOT_NS_SPECIFIC = 0x0F,
	NVME_SC_FW_NEEDS_SUBSYS_RESET = 0x10,
	NVME_SC_FW_NEEDS_RESET = 0x11,
	NVME_SC_FW_NEEDS_MAX_TIME = 0x12,
	NVME_SC_FW_ACTIVATE_PROHIBITED = 0x13,
	NVME_SC_OVERLAPPING_RANGE = 0x14,
	NVME_SC_NS_INSUFFICIENT_CAP = 0x15,
	NVME_SC_NSID_UNAVAILABLE = 0x16,
	NVME_SC_NS_ALREADY_ATTACHED = 0x18,
	NVME_SC_NS_IS_PRIVATE = 0x19,
	NVME_SC_NS_NOT_ATTACHED = 0x1A,
	NVME_SC_THIN_PROV_NOT_SUPP = 0x1B,
	NVME_SC_CTRL_LIST_INVALID = 0x1C,
	NVME_SC_SELF_TEST_IN_PROGRESS = 0x1D,
	NVME_SC_BP_WRITE_PROHIBITED = 0x1E,
	NVME_SC_CTRL_ID_INVALID = 0x1F,
	NVME_SC_SEC_CTRL_STATE_INVALID = 0x20,
	NVME_SC_CTRL_RESOURCES_INVALID = 0x21,
	NVME_SC_RESOURCE_ID_INVALID = 0x22,
	NVME_SC_SANITIZE_PROHIBITED_PMR = 0x23,
	NVME_SC_ANA_GROUP_ID_INVALID = 0x24,
	NVME_SC_ANA_ATTACH_FAILED = 0x25,
	NVME_SC_INSUFFICIENT_CAPACITY = 0x26,
	NVME_SC_NS_ATTACH_LIMIT_EXCEEDED = 0x27,
	NVME_SC_PROHIBIT_EXEC_NOT_SUPP = 0x28,
	NVME_SC_IOCS_NOT_SUPPORTED = 0x29,
	NVME_SC_IOCS_NOT_ENABLED = 0x2A,
	NVME_SC_IOCS_COMBINATION_REJECTED = 0x2B,
	NVME_SC_IOCS_INVALID = 0x2C,
	NVME_SC_ID_UNAVAILABLE = 0x2D,
};

/* SCT 1, NVM I/O commands. */
enum nvme_sc_nvm {
	NVME_SC_CONFLICTING_ATTRS = 0x80,
	NVME_SC_INVALID_PI = 0x81,
	NVME_SC_WRITE_TO_RO_RANGE = 0x82,
	NVME_SC_CMD_SIZE_LIMIT_EXCEEDED = 0x83,
};

/* SCT 1, Fabrics commands (Connect, Get Log Page of the Discovery log, auth). */
enum nvmf_sc {
	NVMF_SC_CONNECT_INCOMPATIBLE_FORMAT = 0x80, /* RECFMT not supported */
	NVMF_SC_CONNECT_CTRL_BUSY = 0x81,
	NVMF_SC_CONNECT_INVALID_PARAM = 0x82,       /* dw0: IATTR / IPO, see below */
	NVMF_SC_CONNECT_RESTART_DISCOVERY = 0x83,
	NVMF_SC_CONNECT_INVALID_HOST = 0x84,        /* host not allowed on subsystem */
	NVMF_SC_CONNECT_INVALID_QUEUE_TYPE = 0x85,
	NVMF_SC_DISCOVERY_RESTART = 0x90,           /* log changed while being read */
	NVMF_SC_AUTH_REQUIRED = 0x91,
};

/* SCT 2: media and data integrity errors. */
enum nvme_sc_media {
	NVME_SC_WRITE_FAULT = 0x80,
	NVME_SC_UNRECOVERED_READ = 0x81,
	NVME_SC_GUARD_CHECK = 0x82,
	NVME_SC_APPTAG_CHECK = 0x83,
	NVME_SC_REFTAG_CHECK = 0x84,
	NVME_SC_COMPARE_FAILURE = 0x85,
	NVME_SC_ACCESS_DENIED = 0x86,
	NVME_SC_DEALLOCATED_BLOCK = 0x87,
	NVME_SC_STORAGE_TAG_CHECK = 0x88,
};

/* SCT 3: path related status. */
enum nvme_sc_path {
	NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	NVME_SC_ANA_PERSISTENT_LOSS = 0x01,
	NVME_SC_ANA_INACCESSIBLE = 0x02,
	NVME_SC_ANA_TRANSITION = 0x03,
	NVME_SC_CTRL_PATH_ERROR = 0x60,
	NVME_SC_HOST_PATH_ERROR = 0x70,
	NVME_SC_HOST_ABORTED_CMD = 0x71,
};

/*
 * Connect response view.  On success dw0 bits 15:0 = CNTLID, bits 31:16 = AUTHREQ.
 * On NVMF_SC_CONNECT_INVALID_PARAM dw0 bits 15:0 = IPO (byte offset of the bad
 * parameter), bits 23:16 = IATTR (bit 0: 0 = in the SQE, 1 = in the Connect data).
 */
struct nvmf_connect_cqe {
	union {
		uint32_t dw0;
		struct {
			uint16_t cntlid;
			uint16_t authreq;   /* NVMF_AUTHREQ_* */
		} ok;
		struct {
			uint16_t ipo;
			uint8_t iattr;
			uint8_t rsvd3;
		} inval;
	};
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;
};
NVME_CHECK_SIZE(struct nvmf_connect_cqe, 16);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, ok.cntlid, 0);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, ok.authreq, 2);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, inval.ipo, 0);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, inval.iattr, 2);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, sqhd, 8);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, cid, 12);
NVME_CHECK_OFFSET(struct nvmf_connect_cqe, status, 14);

#define NVMF_AUTHREQ_ATR (1u << 1)   /* authentication transaction required */
#define NVMF_AUTHREQ_ASCR (1u << 2)  /* secure channel concatenation required */
#define NVMF_CONNECT_DW0_ATR (1u << 17)
#define NVMF_CONNECT_DW0_ASCR (1u << 18)
#define NVMF_IATTR_IN_DATA (1u << 0) /* invalid parameter lies in the Connect data */

/* dw0 of a failed Connect with Invalid Parameters. */
#define NVMF_CONNECT_INVALID_DW0(in_data, offset) \
	((uint32_t)(((in_data) ? (NVMF_IATTR_IN_DATA << 16) : 0u) | ((uint32_t)(offset) & 0xFFFFu)))

/* ============================================================================
 * Controller properties (registers)
 * ========================================================================== */

enum nvme_reg {
	NVME_REG_CAP = 0x00,    /* 8 bytes */
	NVME_REG_VS = 0x08,     /* 4 */
	NVME_REG_INTMS = 0x0C,  /* PCIe only */
	NVME_REG_INTMC = 0x10,  /* PCIe only */
	NVME_REG_CC = 0x14,     /* 4 */
	NVME_REG_CSTS = 0x1C,   /* 4 */
	NVME_REG_NSSR = 0x20,   /* 4 */
	NVME_REG_AQA = 0x24,    /* PCIe only */
	NVME_REG_ASQ = 0x28,    /* PCIe only */
	NVME_REG_ACQ = 0x30,    /* PCIe only */
	NVME_REG_CMBLOC = 0x38,
	NVME_REG_CMBSZ = 0x3C,
	NVME_REG_BPINFO = 0x40,
	NVME_REG_BPRSEL = 0x44,
	NVME_REG_BPMBL = 0x48,
	NVME_REG_CMBMSC = 0x50,
	NVME_REG_CMBSTS = 0x58,
	NVME_REG_CRTO = 0x68,   /* 4 */
	NVME_REG_PMRCAP = 0xE00,
};

#define NVME_NSSR_RESET_VALUE 0x4E564D65u /* "NVMe": write to NSSR to reset subsystem */

/* CAP (64-bit). */
#define NVME_CAP_MQES_SHIFT 0       /* max queue entries supported, 0's based */
#define NVME_CAP_MQES_MASK 0xFFFFull
#define NVME_CAP_CQR_SHIFT 16       /* contiguous queues required */
#define NVME_CAP_CQR_MASK 0x1ull
#define NVME_CAP_AMS_SHIFT 17       /* arbitration mechanisms: bit0 WRR, bit1 VS */
#define NVME_CAP_AMS_MASK 0x3ull
#define NVME_CAP_TO_SHIFT 24        /* ready timeout, 500 ms units */
#define NVME_CAP_TO_MASK 0xFFull
#define NVME_CAP_DSTRD_SHIFT 32     /* doorbell stride */
#define NVME_CAP_DSTRD_MASK 0xFull
#define NVME_CAP_NSSRS_SHIFT 36     /* NVM subsystem reset supported */
#define NVME_CAP_NSSRS_MASK 0x1ull
#define NVME_CAP_CSS_SHIFT 37       /* command sets supported, NVME_CAP_CSS_* */
#define NVME_CAP_CSS_MASK 0xFFull
#define NVME_CAP_BPS_SHIFT 45       /* boot partition support */
#define NVME_CAP_BPS_MASK 0x1ull
#define NVME_CAP_CPS_SHIFT 46       /* controller power scope */
#define NVME_CAP_CPS_MASK 0x3ull
#define NVME_CAP_MPSMIN_SHIFT 48    /* min memory page size = 2^(12 + MPSMIN) */
#define NVME_CAP_MPSMIN_MASK 0xFull
#define NVME_CAP_MPSMAX_SHIFT 52
#define NVME_CAP_MPSMAX_MASK 0xFull
#define NVME_CAP_PMRS_SHIFT 56
#define NVME_CAP_PMRS_MASK 0x1ull
#define NVME_CAP_CMBS_SHIFT 57
#define NVME_CAP_CMBS_MASK 0x1ull
#define NVME_CAP_NSSS_SHIFT 58      /* NVM subsystem shutdown supported */
#define NVME_CAP_NSSS_MASK 0x1ull
#define NVME_CAP_CRMS_SHIFT 59      /* controller ready modes: bit0 CRWMS, bit1 CRIMS */
#define NVME_CAP_CRMS_MASK 0x3ull

/* Bits inside CAP.CSS (shifted by NVME_CAP_CSS_SHIFT they are CAP bits 37, 43, 44). */
#define NVME_CAP_CSS_NVM (1u << 0)
#define NVME_CAP_CSS_IOCS (1u << 6)   /* one or more I/O command sets (use CC.CSS=110b) */
#define NVME_CAP_CSS_NOIO (1u << 7)   /* no I/O command set (admin only) */
/* The same bits in the whole 64-bit CAP value. */
#define NVME_CAP_BIT_CSS_NVM (1ull << 37)
#define NVME_CAP_BIT_CSS_IOCS (1ull << 43)
#define NVME_CAP_BIT_CSS_NOIO (1ull << 44)
#define NVME_CAP_BIT_NSSRS (1ull << 36)
#define NVME_CAP_BIT_CQR (1ull << 16)
#define NVME_CAP_BIT_CRWMS (1ull << 59)
#define NVME_CAP_BIT_CRIMS (1ull << 60)

/* CC (32-bit). */
#define NVME_CC_EN_SHIFT 0
#define NVME_CC_EN_MASK 0x1u
#define NVME_CC_CSS_SHIFT 4         /* I/O command set selected */
#define NVME_CC_CSS_MASK 0x7u
#define NVME_CC_MPS_SHIFT 7         /* memory page size = 2^(12 + MPS) */
#define NVME_CC_MPS_MASK 0xFu
#define NVME_CC_AMS_SHIFT 11        /* arbitration mechanism selected */
#define NVME_CC_AMS_MASK 0x7u
#define NVME_CC_SHN_SHIFT 14        /* shutdown notification */
#define NVME_CC_SHN_MASK 0x3u
#define NVME_CC_IOSQES_SHIFT 16     /* I/O SQ entry size, log2 */
#define NVME_CC_IOSQES_MASK 0xFu
#define NVME_CC_IOCQES_SHIFT 20     /* I/O CQ entry size, log2 */
#define NVME_CC_IOCQES_MASK 0xFu
#define NVME_CC_CRIME_SHIFT 24      /* controller ready independent of media enable */
#define NVME_CC_CRIME_MASK 0x1u

#define NVME_CC_EN (1u << 0)
#define NVME_CC_CRIME (1u << 24)

enum nvme_cc_css {
	NVME_CC_CSS_NVM = 0x0,
	NVME_CC_CSS_ALL_IOCS = 0x6,   /* all supported I/O command sets */
	NVME_CC_CSS_ADMIN_ONLY = 0x7,
};
enum nvme_cc_ams {
	NVME_CC_AMS_RR = 0x0,
	NVME_CC_AMS_WRR_URGENT = 0x1,
	NVME_CC_AMS_VENDOR = 0x7,
};
enum nvme_cc_shn {
	NVME_CC_SHN_NONE = 0x0,
	NVME_CC_SHN_NORMAL = 0x1,
	NVME_CC_SHN_ABRUPT = 0x2,
};

/* CSTS (32-bit). */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)       /* controller fatal status */
#define NVME_CSTS_SHST_SHIFT 2
#define NVME_CSTS_SHST_MASK 0x3u
#define NVME_CSTS_NSSRO (1u << 4)     /* NVM subsystem reset occurred */
#define NVME_CSTS_PP (1u << 5)        /* processing paused */
#define NVME_CSTS_ST (1u << 6)        /* shutdown type: 1 = subsystem shutdown */

enum nvme_csts_shst {
	NVME_CSTS_SHST_NORMAL = 0x0,  /* normal operation */
	NVME_CSTS_SHST_OCCURRING = 0x1,
	NVME_CSTS_SHST_COMPLETE = 0x2,
};

/* CRTO (32-bit): timeouts in 500 ms units. */
#define NVME_CRTO_CRWMT_SHIFT 0     /* ready with media timeout */
#define NVME_CRTO_CRWMT_MASK 0xFFFFu
#define NVME_CRTO_CRIMT_SHIFT 16    /* ready independent of media timeout */
#define NVME_CRTO_CRIMT_MASK 0xFFFFu

/* ============================================================================
 * Identify
 * ========================================================================== */

enum nvme_cns {
	NVME_CNS_NS = 0x00,                 /* Identify Namespace (NVM), NSID */
	NVME_CNS_CTRL = 0x01,               /* Identify Controller */
	NVME_CNS_ACTIVE_NS_LIST = 0x02,     /* active NSIDs > NSID, 1024 entries */
	NVME_CNS_NS_DESC_LIST = 0x03,       /* namespace identification descriptors */
	NVME_CNS_NVMSET_LIST = 0x04,
	NVME_CNS_CSI_NS = 0x05,             /* I/O command set specific namespace */
	NVME_CNS_CSI_CTRL = 0x06,           /* I/O command set specific controller */
	NVME_CNS_CSI_ACTIVE_NS_LIST = 0x07,
	NVME_CNS_CS_INDEP_NS = 0x08,        /* I/O command set independent namespace */
	NVME_CNS_ALLOC_NS_LIST = 0x10,
	NVME_CNS_ALLOC_NS = 0x11,
	NVME_CNS_NS_CTRL_LIST = 0x12,
	NVME_CNS_CTRL_LIST = 0x13,
	NVME_CNS_PRIMARY_CTRL_CAP = 0x14,
	NVME_CNS_SECONDARY_CTRL_LIST = 0x15,
	NVME_CNS_NS_GRANULARITY = 0x16,
	NVME_CNS_UUID_LIST = 0x17,
	NVME_CNS_DOMAIN_LIST = 0x18,
	NVME_CNS_ENDGRP_LIST = 0x19,
	NVME_CNS_CSI_ALLOC_NS_LIST = 0x1A,
	NVME_CNS_CSI_ALLOC_NS = 0x1B,
	NVME_CNS_IOCS = 0x1C,               /* I/O command set data structure */
};

/* Command set identifiers. */
enum nvme_csi {
	NVME_CSI_NVM = 0x0,
	NVME_CSI_KV = 0x1,
	NVME_CSI_ZNS = 0x2,
};

/* Power state descriptor (Identify Controller bytes 2048 + 32 * n). */
struct nvme_psd {
	uint16_t mp;        /* maximum power (units per MXPS) */
	uint8_t rsvd2;
	uint8_t flags;      /* bit 0 MXPS (0.0001 W scale), bit 1 NOPS (non-operational) */
	uint32_t enlat;     /* entry latency, us */
	uint32_t exlat;     /* exit latency, us */
	uint8_t rrt;        /* relative read throughput (bits 4:0) */
	uint8_t rrl;        /* relative read latency */
	uint8_t rwt;        /* relative write throughput */
	uint8_t rwl;        /* relative write latency */
	uint16_t idlp;      /* idle power */
	uint8_t ips;        /* bits 7:6 idle power scale */
	uint8_t rsvd19;
	uint16_t actp;      /* active power */
	uint8_t apw_aps;    /* bits 2:0 active power workload, 7:6 active power scale */
	uint8_t rsvd23[9];
};
NVME_CHECK_SIZE(struct nvme_psd, 32);
NVME_CHECK_OFFSET(struct nvme_psd, mp, 0);
NVME_CHECK_OFFSET(struct nvme_psd, flags, 3);
NVME_CHECK_OFFSET(struct nvme_psd, enlat, 4);
NVME_CHECK_OFFSET(struct nvme_psd, exlat, 8);
NVME_CHECK_OFFSET(struct nvme_psd, rrt, 12);
NVME_CHECK_OFFSET(struct nvme_psd, rrl, 13);
NVME_CHECK_OFFSET(struct nvme_psd, rwt, 14);
NVME_CHECK_OFFSET(struct nvme_psd, rwl, 15);
NVME_CHECK_OFFSET(struct nvme_psd, idlp, 16);
NVME_CHECK_OFFSET(struct nvme_psd, ips, 18);
NVME_CHECK_OFFSET(struct nvme_psd, actp, 20);
NVME_CHECK_OFFSET(struct nvme_psd, apw_aps, 22);

#define NVME_PSD_FLAG_MXPS (1u << 0)
#define NVME_PSD_FLAG_NOPS (1u << 1)

/* Identify Controller data structure (CNS 01h). */
struct nvme_id_ctrl {
	/* Controller capabilities and features */
	uint16_t vid;           /* PCI vendor id */
	uint16_t ssvid;         /* PCI subsystem vendor id */
	char sn[20];            /* serial number, ASCII, space padded */
	char mn[40];            /* model number */
	char fr[8];             /* firmware revision */
	uint8_t rab;            /* recommended arbitration burst */
	uint8_t ieee[3];        /* IEEE OUI */
	uint8_t cmic;           /* multi-path I/O and namespace sharing, NVME_CMIC_* */
	uint8_t mdts;           /* max data transfer size, 2^n * CAP.MPSMIN; 0 = none */
	uint16_t cntlid;
	uint32_t ver;           /* NVME_VS() */
	uint32_t rtd3r;         /* RTD3 resume latency, us */
	uint32_t rtd3e;         /* RTD3 entry latency, us */
	uint32_t oaes;          /* optional async events supported, NVME_OAES_* */
	uint32_t ctratt;        /* controller attributes, NVME_CTRATT_* */
	uint16_t rrls;          /* read recovery levels supported */
	uint8_t rsvd102[9];
	uint8_t cntrltype;      /* enum nvme_cntrltype */
	uint8_t fguid[16];      /* FRU globally unique id */
	uint16_t crdt1;         /* command retry delay times, 100 ms units */
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	/* NVMe-MI region (240..255) */
	uint8_t nvmsr;          /* NVM subsystem report */
	uint8_t vwci;           /* VPD write cycle information */
	uint8_t mec;            /* management endpoint capabilities */
	/* Admin command set attributes and optional controller capabilities */
	uint16_t oacs;          /* optional admin command support, NVME_OACS_* */
	uint8_t acl;            /* abort command limit, 0's based */
	uint8_t aerl;           /* async event request limit, 0's based */
	uint8_t frmw;           /* firmware updates */
	uint8_t lpa;            /* log page attributes, NVME_LPA_* */
	uint8_t elpe;           /* error log page entries, 0's based */
	uint8_t npss;           /* number of power states supported, 0's based */
	uint8_t avscc;          /* admin vendor specific command configuration */
	uint8_t apsta;          /* autonomous power state transition attributes */
	uint16_t wctemp;        /* warning composite temperature threshold, K */
	uint16_t cctemp;        /* critical composite temperature threshold, K */
	uint16_t mtfa;          /* max time for firmware activation, 100 ms units */
	uint32_t hmpre;         /* host memory buffer preferred size */
	uint32_t hmmin;         /* host memory buffer minimum size */
	uint8_t tnvmcap[16];    /* total NVM capacity, bytes (128-bit LE) */
	uint8_t unvmcap[16];    /* unallocated NVM capacity */
	uint32_t rpmbs;         /* replay protected memory block support */
	uint16_t edstt;         /* extended device self-test time, minutes */
	uint8_t dsto;           /* device self-test options */
	uint8_t fwug;           /* firmware update granularity */
	uint16_t kas;           /* keep alive support: granularity in 100 ms; 0 = none */
	uint16_t hctma;         /* host controlled thermal management attributes */
	uint16_t mntmt;         /* minimum thermal management temperature */
	uint16_t mxtmt;         /* maximum thermal management temperature */
	uint32_t sanicap;       /* sanitize capabilities */
	uint32_t hmminds;       /* host memory buffer min descriptor entry size */
	uint16_t hmmaxd;        /* host memory max descriptors entries */
	uint16_t nsetidmax;     /* NVM set identifier maximum */
	uint16_t endgidmax;     /* endurance group identifier maximum */
	uint8_t anatt;          /* ANA transition time, seconds */
	uint8_t anacap;         /* ANA capabilities, NVME_ANACAP_* */
	uint32_t anagrpmax;     /* ANA group identifier maximum */
	uint32_t nanagrpid;     /* number of ANA group identifiers */
	uint32_t pels;          /* persistent event log size, 64 KiB units */
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];     /* max endurance group capacity */
	uint8_t rsvd384[128];
	/* NVM command set attributes */
	uint8_t sqes;           /* bits 3:0 required, 7:4 max SQ entry size (log2) */
	uint8_t cqes;           /* bits 3:0 required, 7:4 max CQ entry size (log2) */
	uint16_t maxcmd;        /* max outstanding commands (fabrics: per queue) */
	uint32_t nn;            /* number of namespaces (highest valid NSID) */
	uint16_t oncs;          /* optional NVM command support, NVME_ONCS_* */
	uint16_t fuses;         /* fused operation support, bit 0 compare and write */
	uint8_t fna;            /* format NVM attributes */
	uint8_t vwc;            /* volatile write cache, NVME_VWC_* */
	uint16_t awun;          /* atomic write unit normal, 0's based blocks */
	uint16_t awupf;         /* atomic write unit power fail, 0's based blocks */
	uint8_t icsvscc;        /* I/O command set vendor specific command config */
	uint8_t nwpc;           /* namespace write protection capabilities */
	uint16_t acwu;          /* atomic compare & write unit, 0's based */
	uint16_t ocfs;          /* optional copy formats supported */
	uint32_t sgls;          /* SGL support, NVME_SGLS_* */
	uint32_t mnan;          /* maximum number of allowed namespaces */
	uint8_t maxdna[16];     /* maximum domain namespace attachments */
	uint32_t maxcna;        /* maximum I/O controller namespace attachments */
	uint32_t oaqd;          /* optimal aggregated queue depth */
	uint8_t rsvd568[200];
	char subnqn[NVMF_NQN_FIELD_LEN]; /* NVM subsystem NQN, NUL padded */
	uint8_t rsvd1024[768];
	/* NVMe over Fabrics attributes */
	uint32_t ioccsz;        /* I/O queue command capsule size, 16-byte units */
	uint32_t iorcsz;        /* I/O queue response capsule size, 16-byte units */
	uint16_t icdoff;        /* in-capsule data offset, 16-byte units */
	uint8_t fcatt;          /* fabrics controller attributes, NVME_FCATT_* */
	uint8_t msdbd;          /* max SGL data block descriptors (0 = no limit) */
	uint16_t ofcs;          /* optional fabric commands supported, NVME_OFCS_* */
	uint8_t dctype;         /* discovery controller type, enum nvme_dctype */
	uint8_t rsvd1807[241];
	/* Power state descriptors */
	struct nvme_psd psd[32];
	/* Vendor specific */
	uint8_t vs[1024];
};
NVME_CHECK_SIZE(struct nvme_id_ctrl, 4096);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, vid, 0);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ssvid, 2);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, sn, 4);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mn, 24);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fr, 64);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, rab, 72);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ieee, 73);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, cmic, 76);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mdts, 77);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, cntlid, 78);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ver, 80);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, rtd3r, 84);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, rtd3e, 88);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, oaes, 92);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ctratt, 96);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, rrls, 100);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, cntrltype, 111);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fguid, 112);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, crdt1, 128);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, crdt2, 130);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, crdt3, 132);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, nvmsr, 253);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, vwci, 254);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mec, 255);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, oacs, 256);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, acl, 258);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, aerl, 259);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, frmw, 260);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, lpa, 261);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, elpe, 262);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, npss, 263);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, avscc, 264);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, apsta, 265);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, wctemp, 266);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, cctemp, 268);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mtfa, 270);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, hmpre, 272);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, hmmin, 276);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, tnvmcap, 280);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, unvmcap, 296);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, rpmbs, 312);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, edstt, 316);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, dsto, 318);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fwug, 319);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, kas, 320);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, hctma, 322);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mntmt, 324);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mxtmt, 326);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, sanicap, 328);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, hmminds, 332);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, hmmaxd, 336);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, nsetidmax, 338);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, endgidmax, 340);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, anatt, 342);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, anacap, 343);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, anagrpmax, 344);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, nanagrpid, 348);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, pels, 352);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, domainid, 356);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, megcap, 368);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, sqes, 512);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, cqes, 513);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, maxcmd, 514);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, nn, 516);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, oncs, 520);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fuses, 522);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fna, 524);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, vwc, 525);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, awun, 526);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, awupf, 528);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, icsvscc, 530);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, nwpc, 531);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, acwu, 532);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ocfs, 534);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, sgls, 536);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, mnan, 540);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, maxdna, 544);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, maxcna, 560);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, oaqd, 564);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, subnqn, 768);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ioccsz, 1792);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, iorcsz, 1796);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, icdoff, 1800);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, fcatt, 1802);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, msdbd, 1803);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, ofcs, 1804);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, dctype, 1806);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, psd, 2048);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, psd[1], 2080);
NVME_CHECK_OFFSET(struct nvme_id_ctrl, vs, 3072);

enum nvme_cntrltype {
	NVME_CNTRLTYPE_NOT_REPORTED = 0,
	NVME_CNTRLTYPE_IO = 1,
	NVME_CNTRLTYPE_DISCOVERY = 2,
	NVME_CNTRLTYPE_ADMIN = 3,
};

enum nvme_dctype {
	NVME_DCTYPE_NOT_REPORTED = 0,
	NVME_DCTYPE_DDC = 1,    /* direct discovery controller */
	NVME_DCTYPE_CDC = 2,    /* central discovery controller */
};

/* CMIC */
#define NVME_CMIC_MULTI_PORT (1u << 0)
#define NVME_CMIC_MULTI_CTRL (1u << 1)
#define NVME_CMIC_SRIOV (1u << 2)
#define NVME_CMIC_ANA (1u << 3)

/* OAES: same bit positions as the Asynchronous Event Configuration feature. */
#define NVME_OAES_NS_ATTR (1u << 8)
#define NVME_OAES_FW_ACTIVATION (1u << 9)
#define NVME_OAES_ANA_CHANGE (1u << 11)
#define NVME_OAES_DISC_LOG_CHANGE (1u << 31)

/* CTRATT */
#define NVME_CTRATT_HOSTID_128 (1u << 0)      /* 128-bit host identifier */
#define NVME_CTRATT_NOPSPM (1u << 1)
#define NVME_CTRATT_NVM_SETS (1u << 2)
#define NVME_CTRATT_READ_RECOVERY (1u << 3)
#define NVME_CTRATT_ENDURANCE_GROUPS (1u << 4)
#define NVME_CTRATT_PREDICTABLE_LAT (1u << 5)
#define NVME_CTRATT_TBKAS (1u << 6)           /* traffic based keep alive */
#define NVME_CTRATT_NS_GRANULARITY (1u << 7)
#define NVME_CTRATT_SQ_ASSOC (1u << 8)
#define NVME_CTRATT_UUID_LIST (1u << 9)
#define NVME_CTRATT_ELBAS (1u << 15)          /* extended LBA formats */

/* OACS */
#define NVME_OACS_SECURITY (1u << 0)
#define NVME_OACS_FORMAT (1u << 1)
#define NVME_OACS_FW (1u << 2)
#define NVME_OACS_NS_MGMT (1u << 3)
#define NVME_OACS_SELF_TEST (1u << 4)
#define NVME_OACS_DIRECTIVES (1u << 5)
#define NVME_OACS_MI (1u << 6)
#define NVME_OACS_VIRT_MGMT (1u << 7)
#define NVME_OACS_DBBUF (1u << 8)
#define NVME_OACS_LBA_STATUS (1u << 9)
#define NVME_OACS_LOCKDOWN (1u << 10)

/* LPA */
#define NVME_LPA_SMART_PER_NS (1u << 0)
#define NVME_LPA_CMD_EFFECTS (1u << 1)        /* Commands Supported and Effects log */
#define NVME_LPA_EXT_DATA (1u << 2)           /* NUMDU / LPOL / LPOU supported */
#define NVME_LPA_TELEMETRY (1u << 3)
#define NVME_LPA_PERSISTENT_EVENT (1u << 4)

/* ANACAP */
#define NVME_ANACAP_OPTIMIZED (1u << 0)
#define NVME_ANACAP_NON_OPTIMIZED (1u << 1)
#define NVME_ANACAP_INACCESSIBLE (1u << 2)
#define NVME_ANACAP_PERSISTENT_LOSS (1u << 3)
#define NVME_ANACAP_CHANGE (1u << 4)
#define NVME_ANACAP_GRPID_STATIC (1u << 6)    /* ANAGRPID does not change while attached */
#define NVME_ANACAP_GRPID_MGMT (1u << 7)      /* non-zero ANAGRPID in NS Management */

/* ONCS */
#define NVME_ONCS_COMPARE (1u << 0)
#define NVME_ONCS_WRITE_UNCOR (1u << 1)
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
#define NVME_ONCS_SAVE_SELECT (1u << 4)       /* Set Features SV / Get Features SEL */
#define NVME_ONCS_RESERVATIONS (1u << 5)
#define NVME_ONCS_TIMESTAMP (1u << 6)
#define NVME_ONCS_VERIFY (1u << 7)
#define NVME_ONCS_COPY (1u << 8)

#define NVME_FUSES_COMPARE_WRITE (1u << 0)

/* VWC */
#define NVME_VWC_PRESENT (1u << 0)
#define NVME_VWC_FLUSH_BCAST_SHIFT 1          /* bits 2:1 */
#define NVME_VWC_FLUSH_BCAST_MASK 0x3u
#define NVME_VWC_FLUSH_BCAST_NOT_SUPP 0x2u    /* FFFFFFFFh in Flush NSID not supported */
#define NVME_VWC_FLUSH_BCAST_SUPP 0x3u

/* SGLS */
#define NVME_SGLS_SUPPORT_MASK 0x3u           /* 01b no alignment, 10b dword aligned */
#define NVME_SGLS_SUPPORTED 0x1u
#define NVME_SGLS_SUPPORTED_DWORD 0x2u
#define NVME_SGLS_KEYED (1u << 2)
#define NVME_SGLS_BIT_BUCKET (1u << 16)
#define NVME_SGLS_MPTR_BYTE_ALIGNED (1u << 17)
#define NVME_SGLS_OVERSIZE (1u << 18)         /* SGL longer than the data is allowed */
#define NVME_SGLS_MPTR_SGL (1u << 19)
#define NVME_SGLS_OFFSET (1u << 20)           /* address as offset (in-capsule data) */
#define NVME_SGLS_TRANSPORT (1u << 21)        /* transport SGL data block descriptor */

/* FCATT */
#define NVME_FCATT_STATIC_MODEL (1u << 0)     /* 0 = dynamic controller model */

/* OFCS */
#define NVME_OFCS_DISCONNECT (1u << 0)

/* SQES / CQES nibbles. */
#define NVME_QES(required_log2, max_log2) ((uint8_t)(((max_log2) << 4) | (required_log2)))

/* KAS granularity unit. */
#define NVME_KAS_UNIT_MS 100

/* LBA format (Identify Namespace bytes 128 + 4 * n). */
struct nvme_lbaf {
	uint16_t ms;        /* metadata bytes per LBA */
	uint8_t lbads;      /* LBA data size, log2 (>= 9) */
	uint8_t rp;         /* bits 1:0 relative performance */
};
NVME_CHECK_SIZE(struct nvme_lbaf, 4);
NVME_CHECK_OFFSET(struct nvme_lbaf, ms, 0);
NVME_CHECK_OFFSET(struct nvme_lbaf, lbads, 2);
NVME_CHECK_OFFSET(struct nvme_lbaf, rp, 3);

static inline uint32_t nvme_lba_data_size(const struct nvme_lbaf *f)
{
	return (uint32_t)1 << f->lbads;
}

/* Identify Namespace, NVM command set (CNS 00h). */
struct nvme_id_ns {
	uint64_t nsze;          /* namespace size, blocks */
	uint64_t ncap;          /* namespace capacity, blocks */
	uint64_t nuse;          /* namespace utilization, blocks */
	uint8_t nsfeat;         /* NVME_NSFEAT_* */
	uint8_t nlbaf;          /* number of LBA formats, 0's based */
	uint8_t flbas;          /* formatted LBA size, see nvme_flbas_index() */
	uint8_t mc;             /* metadata capabilities */
	uint8_t dpc;            /* end-to-end data protection capabilities */
	uint8_t dps;            /* end-to-end data protection type settings */
	uint8_t nmic;           /* bit 0: may be attached to several controllers */
	uint8_t rescap;         /* reservation capabilities */
	uint8_t fpi;            /* format progress indicator */
	uint8_t dlfeat;         /* deallocate logical block features, NVME_DLFEAT_* */
	uint16_t nawun;         /* namespace atomic write unit normal, 0's based */
	uint16_t nawupf;        /* ... power fail */
	uint16_t nacwu;         /* ... compare & write */
	uint16_t nabsn;         /* atomic boundary size normal */
	uint16_t nabo;          /* atomic boundary offset */
	uint16_t nabspf;        /* atomic boundary size power fail */
	uint16_t noiob;         /* optimal I/O boundary, blocks */
	uint8_t nvmcap[16];     /* NVM capacity, bytes (128-bit LE) */
	uint16_t npwg;          /* preferred write granularity, 0's based */
	uint16_t npwa;          /* preferred write alignment */
	uint16_t npdg;          /* preferred deallocate granularity */
	uint16_t npda;          /* preferred deallocate alignment */
	uint16_t nows;          /* optimal write size */
	uint16_t mssrl;         /* max single source range length (Copy) */
	uint32_t mcl;           /* max copy length */
	uint8_t msrc;           /* max source range count, 0's based */
	uint8_t kpios;          /* key per I/O status */
	uint8_t nulbaf;         /* number of unique attribute LBA formats */
	uint8_t rsvd83;
	uint32_t kpiodaag;      /* key per I/O data access alignment and granularity */
	uint8_t rsvd88[4];
	uint32_t anagrpid;      /* ANA group identifier */
	uint8_t rsvd96[3];
	uint8_t nsattr;         /* bit 0: write protected */
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];      /* namespace globally unique identifier */
	uint8_t eui64[8];       /* IEEE extended unique identifier */
	struct nvme_lbaf lbaf[64];
	uint8_t vs[3712];
};
NVME_CHECK_SIZE(struct nvme_id_ns, 4096);
NVME_CHECK_OFFSET(struct nvme_id_ns, nsze, 0);
NVME_CHECK_OFFSET(struct nvme_id_ns, ncap, 8);
NVME_CHECK_OFFSET(struct nvme_id_ns, nuse, 16);
NVME_CHECK_OFFSET(struct nvme_id_ns, nsfeat, 24);
NVME_CHECK_OFFSET(struct nvme_id_ns, nlbaf, 25);
NVME_CHECK_OFFSET(struct nvme_id_ns, flbas, 26);
NVME_CHECK_OFFSET(struct nvme_id_ns, mc, 27);
NVME_CHECK_OFFSET(struct nvme_id_ns, dpc, 28);
NVME_CHECK_OFFSET(struct nvme_id_ns, dps, 29);
NVME_CHECK_OFFSET(struct nvme_id_ns, nmic, 30);
NVME_CHECK_OFFSET(struct nvme_id_ns, rescap, 31);
NVME_CHECK_OFFSET(struct nvme_id_ns, fpi, 32);
NVME_CHECK_OFFSET(struct nvme_id_ns, dlfeat, 33);
NVME_CHECK_OFFSET(struct nvme_id_ns, nawun, 34);
NVME_CHECK_OFFSET(struct nvme_id_ns, nawupf, 36);
NVME_CHECK_OFFSET(struct nvme_id_ns, nacwu, 38);
NVME_CHECK_OFFSET(struct nvme_id_ns, nabsn, 40);
NVME_CHECK_OFFSET(struct nvme_id_ns, nabo, 42);
NVME_CHECK_OFFSET(struct nvme_id_ns, nabspf, 44);
NVME_CHECK_OFFSET(struct nvme_id_ns, noiob, 46);
NVME_CHECK_OFFSET(struct nvme_id_ns, nvmcap, 48);
NVME_CHECK_OFFSET(struct nvme_id_ns, npwg, 64);
NVME_CHECK_OFFSET(struct nvme_id_ns, npwa, 66);
NVME_CHECK_OFFSET(struct nvme_id_ns, npdg, 68);
NVME_CHECK_OFFSET(struct nvme_id_ns, npda, 70);
NVME_CHECK_OFFSET(struct nvme_id_ns, nows, 72);
NVME_CHECK_OFFSET(struct nvme_id_ns, mssrl, 74);
NVME_CHECK_OFFSET(struct nvme_id_ns, mcl, 76);
NVME_CHECK_OFFSET(struct nvme_id_ns, msrc, 80);
NVME_CHECK_OFFSET(struct nvme_id_ns, kpios, 81);
NVME_CHECK_OFFSET(struct nvme_id_ns, nulbaf, 82);
NVME_CHECK_OFFSET(struct nvme_id_ns, kpiodaag, 84);
NVME_CHECK_OFFSET(struct nvme_id_ns, anagrpid, 92);
NVME_CHECK_OFFSET(struct nvme_id_ns, nsattr, 99);
NVME_CHECK_OFFSET(struct nvme_id_ns, nvmsetid, 100);
NVME_CHECK_OFFSET(struct nvme_id_ns, endgid, 102);
NVME_CHECK_OFFSET(struct nvme_id_ns, nguid, 104);
NVME_CHECK_OFFSET(struct nvme_id_ns, eui64, 120);
NVME_CHECK_OFFSET(struct nvme_id_ns, lbaf, 128);
NVME_CHECK_OFFSET(struct nvme_id_ns, lbaf[63], 380);
NVME_CHECK_OFFSET(struct nvme_id_ns, vs, 384);

/* NSFEAT */
#define NVME_NSFEAT_THIN (1u << 0)
#define NVME_NSFEAT_NSABP (1u << 1)     /* NAWUN/NAWUPF/NACWU valid */
#define NVME_NSFEAT_DAE (1u << 2)       /* deallocated or unwritten block error */
#define NVME_NSFEAT_UIDREUSE (1u << 3)
#define NVME_NSFEAT_OPTPERF (1u << 4)   /* NPWG..NOWS valid */

/* FLBAS: bits 3:0 low part of the format index, bit 4 extended metadata, 6:5 high. */
#define NVME_FLBAS_LOW_MASK 0x0Fu
#define NVME_FLBAS_META_EXT (1u << 4)
#define NVME_FLBAS_HIGH_SHIFT 5
#define NVME_FLBAS_HIGH_MASK 0x3u

static inline uint8_t nvme_flbas_index(uint8_t flbas)
{
	return (uint8_t)((flbas & NVME_FLBAS_LOW_MASK) |
			 (((flbas >> NVME_FLBAS_HIGH_SHIFT) & NVME_FLBAS_HIGH_MASK) << 4));
}

/* MC */
#define NVME_MC_EXTENDED_LBA (1u << 0)
#define NVME_MC_SEPARATE_BUF (1u << 1)

/* DLFEAT */
#define NVME_DLFEAT_READ_MASK 0x7u      /* 0 not reported, 1 reads zeroes, 2 reads ones */
#define NVME_DLFEAT_READ_ZEROES 0x1u
#define NVME_DLFEAT_READ_ONES 0x2u
#define NVME_DLFEAT_WZ_DEAC (1u << 3)   /* Write Zeroes DEAC supported */
#define NVME_DLFEAT_GUARD_CRC (1u << 4)

#define NVME_NMIC_SHARED (1u << 0)
#define NVME_NSATTR_WRITE_PROTECTED (1u << 0)

/* I/O command set specific Identify Namespace for the NVM set (CNS 05h, CSI 00h). */
struct nvme_id_ns_nvm {
	uint64_t lbstm;         /* logical block storage tag mask */
	uint8_t pic;            /* protection information capabilities */
	uint8_t pifa;           /* protection information format attribute */
	uint8_t rsvd10[2];
	uint32_t elbaf[64];     /* extended LBA formats, NVME_ELBAF_* */
	uint32_t npdgl;         /* preferred deallocate granularity large */
	uint32_t nprg;          /* preferred read granularity */
	uint32_t npra;          /* preferred read alignment */
	uint32_t nors;          /* optimal read size */
	uint32_t npdal;         /* preferred deallocate alignment large */
	uint8_t rsvd288[3808];
};
NVME_CHECK_SIZE(struct nvme_id_ns_nvm, 4096);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, lbstm, 0);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, pic, 8);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, pifa, 9);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, elbaf, 12);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, npdgl, 268);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, nprg, 272);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, npra, 276);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, nors, 280);
NVME_CHECK_OFFSET(struct nvme_id_ns_nvm, npdal, 284);

#define NVME_ELBAF_STS_MASK 0x7Fu       /* storage tag size */
#define NVME_ELBAF_PIF_SHIFT 7          /* protection information format (guard) */
#define NVME_ELBAF_PIF_MASK 0x3u

/* I/O command set specific Identify Controller for the NVM set (CNS 06h, CSI 00h). */
struct nvme_id_ctrl_nvm {
	uint8_t vsl;            /* Verify size limit, 2^n * MPSMIN; 0 = none */
	uint8_t wzsl;           /* Write Zeroes size limit */
	uint8_t wusl;           /* Write Uncorrectable size limit */
	uint8_t dmrl;           /* DSM ranges limit */
	uint32_t dmrsl;         /* DSM range size limit, blocks */
	uint64_t dmsl;          /* DSM size limit, blocks */
	uint8_t rsvd16[4080];
};
NVME_CHECK_SIZE(struct nvme_id_ctrl_nvm, 4096);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, vsl, 0);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, wzsl, 1);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, wusl, 2);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, dmrl, 3);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, dmrsl, 4);
NVME_CHECK_OFFSET(struct nvme_id_ctrl_nvm, dmsl, 8);

/* I/O command set independent Identify Namespace (CNS 08h). */
struct nvme_id_ns_indep {
	uint8_t nsfeat;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint32_t anagrpid;
	uint8_t nsattr;
	uint8_t rsvd9;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nstat;          /* bit 0: namespace ready */
	uint8_t rsvd15[4081];
};
NVME_CHECK_SIZE(struct nvme_id_ns_indep, 4096);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, nsfeat, 0);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, nmic, 1);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, rescap, 2);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, fpi, 3);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, anagrpid, 4);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, nsattr, 8);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, nvmsetid, 10);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, endgid, 12);
NVME_CHECK_OFFSET(struct nvme_id_ns_indep, nstat, 14);

#define NVME_NSTAT_NRDY (1u << 0)

/* Active namespace ID list (CNS 02h / 07h): ascending NSIDs, 0-terminated. */
struct nvme_ns_list {
	uint32_t nsid[1024];
};
NVME_CHECK_SIZE(struct nvme_ns_list, 4096);

/* Identify I/O Command Set data structure (CNS 1Ch): command set combinations. */
struct nvme_id_iocs {
	uint64_t iocsc[512];
};
NVME_CHECK_SIZE(struct nvme_id_iocs, 4096);
#define NVME_IOCS_NVM (1ull << 0)
#define NVME_IOCS_KV (1ull << 1)
#define NVME_IOCS_ZNS (1ull << 2)

/* Namespace identification descriptor (CNS 03h list, 4 KiB, ends at NIDT 0). */
struct nvme_ns_id_desc {
	uint8_t nidt;           /* enum nvme_nidt */
	uint8_t nidl;           /* length of nid[] */
	uint8_t rsvd2[2];
	uint8_t nid[];
};
NVME_CHECK_SIZE(struct nvme_ns_id_desc, 4);
NVME_CHECK_OFFSET(struct nvme_ns_id_desc, nidt, 0);
NVME_CHECK_OFFSET(struct nvme_ns_id_desc, nidl, 1);
NVME_CHECK_OFFSET(struct nvme_ns_id_desc, nid, 4);

enum nvme_nidt {
	NVME_NIDT_EUI64 = 0x1,
	NVME_NIDT_NGUID = 0x2,
	NVME_NIDT_UUID = 0x3,
	NVME_NIDT_CSI = 0x4,
};
#define NVME_NIDT_EUI64_LEN 8
#define NVME_NIDT_NGUID_LEN 16
#define NVME_NIDT_UUID_LEN 16
#define NVME_NIDT_CSI_LEN 1

/* ============================================================================
 * Log pages
 * ========================================================================== */

enum nvme_lid {
	NVME_LID_SUPPORTED_LOGS = 0x00,
	NVME_LID_ERROR = 0x01,
	NVME_LID_SMART = 0x02,
	NVME_LID_FW_SLOT = 0x03,
	NVME_LID_CHANGED_NS = 0x04,
	NVME_LID_CMD_EFFECTS = 0x05,
	NVME_LID_SELF_TEST = 0x06,
	NVME_LID_TELEMETRY_HOST = 0x07,
	NVME_LID_TELEMETRY_CTRL = 0x08,
	NVME_LID_ENDURANCE_GROUP = 0x09,
	NVME_LID_PRED_LAT_NVMSET = 0x0A,
	NVME_LID_PRED_LAT_AGG = 0x0B,
	NVME_LID_ANA = 0x0C,
	NVME_LID_PERSISTENT_EVENT = 0x0D,
	NVME_LID_LBA_STATUS = 0x0E,
	NVME_LID_ENDURANCE_GRP_AGG = 0x0F,
	NVME_LID_MEDIA_UNIT_STATUS = 0x10,
	NVME_LID_CAPACITY_CONFIG = 0x11,
	NVME_LID_FEATURES_SUPPORTED = 0x12,
	NVME_LID_MI_CMDS_SUPPORTED = 0x13,
	NVME_LID_LOCKDOWN = 0x14,
	NVME_LID_BOOT_PARTITION = 0x15,
	NVME_LID_ROTATIONAL_MEDIA = 0x16,
	NVME_LID_DISCOVERY = 0x70,
	NVME_LID_RESV_NOTIFICATION = 0x80,
	NVME_LID_SANITIZE_STATUS = 0x81,
};

/* Supported Log Pages (LID 00h): one dword per LID. */
struct nvme_supported_logs_log {
	uint32_t lids[256];
};
NVME_CHECK_SIZE(struct nvme_supported_logs_log, 1024);
#define NVME_LIDS_LSUPP (1u << 0)       /* log page supported */
#define NVME_LIDS_IOS (1u << 1)         /* index offset supported */

/* Error Information log entry (LID 01h): ELPE+1 entries, newest first. */
struct nvme_error_log_entry {
	uint64_t error_count;   /* unique, incrementing; 0 = empty entry */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;        /* status field of the CQE (bit 0 = phase tag) */
	uint16_t pel;           /* parameter error location: bits 7:0 byte, 10:8 bit;
				 * NVME_ERR_PEL_NONE when not specific to a field */
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;             /* vendor specific info available (log page id) */
	uint8_t trtype;         /* transport type, enum nvmf_trtype; 0 if not transport */
	uint8_t rsvd30[2];
	uint64_t csi;           /* command specific information */
	uint16_t ttsi;          /* transport type specific information */
	uint8_t rsvd42[22];
};
#define NVME_ERR_PEL_NONE 0xFFFFu
NVME_CHECK_SIZE(struct nvme_error_log_entry, 64);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, error_count, 0);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, sqid, 8);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, cid, 10);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, status, 12);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, pel, 14);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, lba, 16);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, nsid, 24);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, vs, 28);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, trtype, 29);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, csi, 32);
NVME_CHECK_OFFSET(struct nvme_error_log_entry, ttsi, 40);

/* SMART / Health Information (LID 02h).  16-byte counters are 128-bit LE. */
struct nvme_smart_log {
	uint8_t critical_warning;       /* NVME_SMART_CRIT_* */
	uint8_t composite_temp[2];      /* kelvin, LE16 at an odd offset */
	uint8_t avail_spare;            /* percent */
	uint8_t avail_spare_thresh;     /* percent */
	uint8_t percent_used;
	uint8_t endgrp_crit_warning;    /* endurance group critical warning summary */
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];    /* 1000 * 512 bytes units */
	uint8_t data_units_written[16];
	uint8_t host_reads[16];         /* read commands */
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];     /* minutes */
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;     /* minutes */
	uint32_t critical_temp_time;    /* minutes */
	uint16_t temp_sensor[8];        /* kelvin, 0 = not implemented */
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
};
NVME_CHECK_SIZE(struct nvme_smart_log, 512);
NVME_CHECK_OFFSET(struct nvme_smart_log, critical_warning, 0);
NVME_CHECK_OFFSET(struct nvme_smart_log, composite_temp, 1);
NVME_CHECK_OFFSET(struct nvme_smart_log, avail_spare, 3);
NVME_CHECK_OFFSET(struct nvme_smart_log, avail_spare_thresh, 4);
NVME_CHECK_OFFSET(struct nvme_smart_log, percent_used, 5);
NVME_CHECK_OFFSET(struct nvme_smart_log, endgrp_crit_warning, 6);
NVME_CHECK_OFFSET(struct nvme_smart_log, data_units_read, 32);
NVME_CHECK_OFFSET(struct nvme_smart_log, data_units_written, 48);
NVME_CHECK_OFFSET(struct nvme_smart_log, host_reads, 64);
NVME_CHECK_OFFSET(struct nvme_smart_log, host_writes, 80);
NVME_CHECK_OFFSET(struct nvme_smart_log, ctrl_busy_time, 96);
NVME_CHECK_OFFSET(struct nvme_smart_log, power_cycles, 112);
NVME_CHECK_OFFSET(struct nvme_smart_log, power_on_hours, 128);
NVME_CHECK_OFFSET(struct nvme_smart_log, unsafe_shutdowns, 144);
NVME_CHECK_OFFSET(struct nvme_smart_log, media_errors, 160);
NVME_CHECK_OFFSET(struct nvme_smart_log, num_err_log_entries, 176);
NVME_CHECK_OFFSET(struct nvme_smart_log, warning_temp_time, 192);
NVME_CHECK_OFFSET(struct nvme_smart_log, critical_temp_time, 196);
NVME_CHECK_OFFSET(struct nvme_smart_log, temp_sensor, 200);
NVME_CHECK_OFFSET(struct nvme_smart_log, thm_temp1_trans_count, 216);
NVME_CHECK_OFFSET(struct nvme_smart_log, thm_temp2_trans_count, 220);
NVME_CHECK_OFFSET(struct nvme_smart_log, thm_temp1_total_time, 224);
NVME_CHECK_OFFSET(struct nvme_smart_log, thm_temp2_total_time, 228);

#define NVME_SMART_CRIT_SPARE (1u << 0)
#define NVME_SMART_CRIT_TEMPERATURE (1u << 1)
#define NVME_SMART_CRIT_RELIABILITY (1u << 2)
#define NVME_SMART_CRIT_READ_ONLY (1u << 3)
#define NVME_SMART_CRIT_VOLATILE_BACKUP (1u << 4)
#define NVME_SMART_CRIT_PMR_RO (1u << 5)

/* Firmware Slot Information (LID 03h). */
struct nvme_fw_slot_log {
	uint8_t afi;            /* bits 2:0 active slot, 6:4 slot at next reset */
	uint8_t rsvd1[7];
	char frs[7][8];         /* firmware revision per slot 1..7, ASCII */
	uint8_t rsvd64[448];
};
NVME_CHECK_SIZE(struct nvme_fw_slot_log, 512);
NVME_CHECK_OFFSET(struct nvme_fw_slot_log, afi, 0);
NVME_CHECK_OFFSET(struct nvme_fw_slot_log, frs, 8);
NVME_CHECK_OFFSET(struct nvme_fw_slot_log, frs[6], 56);

/* Changed Namespace List (LID 04h): up to 1024 NSIDs; nsid[0] = FFFFFFFFh overflow. */
struct nvme_changed_ns_log {
	uint32_t nsid[NVME_MAX_CHANGED_NS];
};
NVME_CHECK_SIZE(struct nvme_changed_ns_log, 4096);

/* Commands Supported and Effects (LID 05h). */
struct nvme_cmd_effects_log {
	uint32_t acs[256];      /* admin commands, indexed by opcode */
	uint32_t iocs[256];     /* I/O commands, indexed by opcode */
	uint8_t rsvd2048[2048];
};
NVME_CHECK_SIZE(struct nvme_cmd_effects_log, 4096);
NVME_CHECK_OFFSET(struct nvme_cmd_effects_log, acs, 0);
NVME_CHECK_OFFSET(struct nvme_cmd_effects_log, iocs, 1024);

#define NVME_CE_CSUPP (1u << 0)         /* command supported */
#define NVME_CE_LBCC (1u << 1)          /* logical block content change */
#define NVME_CE_NCC (1u << 2)           /* namespace capability change */
#define NVME_CE_NIC (1u << 3)           /* namespace inventory change */
#define NVME_CE_CCC (1u << 4)           /* controller capability change */
#define NVME_CE_CSER_SHIFT 14           /* command submission and execution relaxations */
#define NVME_CE_CSER_MASK 0x3u
#define NVME_CE_CSE_SHIFT 16            /* command submission and execution */
#define NVME_CE_CSE_MASK 0x7u
#define NVME_CE_CSE_NS_EXCL 0x1u        /* no other command to the same namespace */
#define NVME_CE_CSE_ALL_EXCL 0x2u       /* no other command to any namespace */
#define NVME_CE_UUID_SEL (1u << 19)
#define NVME_CE_CSP_SHIFT 20            /* command scope */
#define NVME_CE_CSP_MASK 0xFFFu

/* Asymmetric Namespace Access (LID 0Ch): header, then NGRPS group descriptors. */
struct nvme_ana_log_hdr {
	uint64_t chgcnt;        /* change count */
	uint16_t ngrps;         /* number of group descriptors that follow */
	uint8_t rsvd10[6];
};
NVME_CHECK_SIZE(struct nvme_ana_log_hdr, 16);
NVME_CHECK_OFFSET(struct nvme_ana_log_hdr, chgcnt, 0);
NVME_CHECK_OFFSET(struct nvme_ana_log_hdr, ngrps, 8);

struct nvme_ana_group_desc {
	uint32_t grpid;
	uint32_t nnsids;        /* number of NSIDs that follow */
	uint64_t chgcnt;
	uint8_t state;          /* bits 3:0 enum nvme_ana_state */
	uint8_t rsvd17[15];
	uint32_t nsids[];
};
NVME_CHECK_SIZE(struct nvme_ana_group_desc, 32);
NVME_CHECK_OFFSET(struct nvme_ana_group_desc, grpid, 0);
NVME_CHECK_OFFSET(struct nvme_ana_group_desc, nnsids, 4);
NVME_CHECK_OFFSET(struct nvme_ana_group_desc, chgcnt, 8);
NVME_CHECK_OFFSET(struct nvme_ana_group_desc, state, 16);
NVME_CHECK_OFFSET(struct nvme_ana_group_desc, nsids, 32);

enum nvme_ana_state {
	NVME_ANA_OPTIMIZED = 0x1,
	NVME_ANA_NON_OPTIMIZED = 0x2,
	NVME_ANA_INACCESSIBLE = 0x3,
	NVME_ANA_PERSISTENT_LOSS = 0x4,
	NVME_ANA_CHANGE = 0xF,
};
#define NVME_ANA_LSP_RGO (1u << 0)      /* return groups only (no NSID lists) */

/* ============================================================================
 * Discovery log page (LID 70h) and NVMe-oF addressing
 * ========================================================================== */

enum nvmf_trtype {
	NVMF_TRTYPE_PCIE = 0,
	NVMF_TRTYPE_RDMA = 1,
	NVMF_TRTYPE_FC = 2,
	NVMF_TRTYPE_TCP = 3,
	NVMF_TRTYPE_LOOP = 254,         /* intra-host */
};

enum nvmf_adrfam {
	NVMF_ADRFAM_PCI = 0,
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
	NVMF_ADRFAM_IB = 3,
	NVMF_ADRFAM_FC = 4,
	NVMF_ADRFAM_LOOP = 254,         /* intra-host */
};

enum nvmf_subtype {
	NVMF_SUBTYPE_DISCOVERY_REFERRAL = 1, /* another discovery subsystem */
	NVMF_SUBTYPE_NVME = 2,               /* NVM subsystem with I/O controllers */
	NVMF_SUBTYPE_DISCOVERY_CURRENT = 3,  /* the discovery subsystem being queried */
};

/* TREQ: bits 1:0 secure channel requirement, bit 2 SQ flow control disable. */
#define NVMF_TREQ_SECURE_MASK 0x3u
#define NVMF_TREQ_SECURE_NOT_SPECIFIED 0x0u
#define NVMF_TREQ_SECURE_REQUIRED 0x1u
#define NVMF_TREQ_SECURE_NOT_REQUIRED 0x2u
#define NVMF_TREQ_DISABLE_SQFLOW (1u << 2)  /* controller supports SQ flow ctl disable */

/* EFLAGS */
#define NVMF_EFLAGS_DUPRETINFO (1u << 0)    /* duplicate returned information */
#define NVMF_EFLAGS_EPCSD (1u << 1)         /* explicit persistent connection support */
#define NVMF_EFLAGS_NCC (1u << 2)           /* no CDC connectivity */

/* TSAS of TCP: SECTYPE in byte 0. */
enum nvmf_tcp_sectype {
	NVMF_TCP_SECTYPE_NONE = 0,
	NVMF_TCP_SECTYPE_TLS12 = 1,
	NVMF_TCP_SECTYPE_TLS13 = 2,
};

union nvmf_tsas {
	uint8_t raw[NVMF_TSAS_LEN];
	struct {
		uint8_t sectype;        /* enum nvmf_tcp_sectype */
		uint8_t rsvd1[255];
	} tcp;
	struct {
		uint8_t qptype;
		uint8_t prtype;
		uint8_t cms;
		uint8_t rsvd3[5];
		uint16_t pkey;
		uint8_t rsvd10[246];
	} rdma;
};
NVME_CHECK_SIZE(union nvmf_tsas, 256);
NVME_CHECK_OFFSET(union nvmf_tsas, tcp.sectype, 0);
NVME_CHECK_OFFSET(union nvmf_tsas, rdma.pkey, 8);

struct nvmf_disc_log_entry {
	uint8_t trtype;         /* enum nvmf_trtype */
	uint8_t adrfam;         /* enum nvmf_adrfam */
	uint8_t subtype;        /* enum nvmf_subtype */
	uint8_t treq;           /* NVMF_TREQ_* */
	uint16_t portid;
	uint16_t cntlid;        /* FFFFh dynamic model, FFFEh static any */
	uint16_t asqsz;         /* max admin SQ size (entries), >= 32 */
	uint16_t eflags;        /* NVMF_EFLAGS_* */
	uint8_t rsvd12[20];
	char trsvcid[NVMF_TRSVCID_LEN];   /* e.g. "4420", space padded */
	uint8_t rsvd64[192];
	char subnqn[NVMF_NQN_FIELD_LEN];  /* NUL terminated */
	char traddr[NVMF_TRADDR_LEN];     /* e.g. "192.0.2.1", space padded */
	union nvmf_tsas tsas;
};
NVME_CHECK_SIZE(struct nvmf_disc_log_entry, 1024);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, trtype, 0);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, adrfam, 1);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, subtype, 2);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, treq, 3);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, portid, 4);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, cntlid, 6);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, asqsz, 8);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, eflags, 10);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, trsvcid, 32);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, subnqn, 256);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, traddr, 512);
NVME_CHECK_OFFSET(struct nvmf_disc_log_entry, tsas, 768);

/* Header of the Discovery log; NUMREC entries follow (page is 1024 + n * 1024). */
struct nvmf_disc_log_hdr {
	uint64_t genctr;        /* generation counter, bumped on every change */
	uint64_t numrec;        /* number of records */
	uint16_t recfmt;        /* 0 */
	uint8_t rsvd18[1006];
	struct nvmf_disc_log_entry entries[];
};
NVME_CHECK_SIZE(struct nvmf_disc_log_hdr, 1024);
NVME_CHECK_OFFSET(struct nvmf_disc_log_hdr, genctr, 0);
NVME_CHECK_OFFSET(struct nvmf_disc_log_hdr, numrec, 8);
NVME_CHECK_OFFSET(struct nvmf_disc_log_hdr, recfmt, 16);
NVME_CHECK_OFFSET(struct nvmf_disc_log_hdr, entries, 1024);

#define NVMF_DISC_RECFMT 0

/* ============================================================================
 * Features
 * ========================================================================== */

enum nvme_fid {
	NVME_FID_ARBITRATION = 0x01,
	NVME_FID_POWER_MGMT = 0x02,
	NVME_FID_LBA_RANGE = 0x03,
	NVME_FID_TEMP_THRESH = 0x04,
	NVME_FID_ERR_RECOVERY = 0x05,
	NVME_FID_VOLATILE_WC = 0x06,
	NVME_FID_NUM_QUEUES = 0x07,
	NVME_FID_IRQ_COALESCE = 0x08,
	NVME_FID_IRQ_CONFIG = 0x09,
	NVME_FID_WRITE_ATOMICITY = 0x0A,
	NVME_FID_ASYNC_EVENT = 0x0B,
	NVME_FID_AUTO_PST = 0x0C,
	NVME_FID_HOST_MEM_BUF = 0x0D,
	NVME_FID_TIMESTAMP = 0x0E,
	NVME_FID_KATO = 0x0F,
	NVME_FID_HCTM = 0x10,
	NVME_FID_NOPSC = 0x11,
	NVME_FID_RRL = 0x12,
	NVME_FID_PLM_CONFIG = 0x13,
	NVME_FID_PLM_WINDOW = 0x14,
	NVME_FID_LBA_STATUS_ATTR = 0x15,
	NVME_FID_HOST_BEHAVIOR = 0x16,
	NVME_FID_SANITIZE_CONFIG = 0x17,
	NVME_FID_ENDGRP_EVENT = 0x18,
	NVME_FID_IOCS_PROFILE = 0x19,
	NVME_FID_SPINUP_CONTROL = 0x1A,
	NVME_FID_ENH_CTRL_METADATA = 0x7D,
	NVME_FID_CTRL_METADATA = 0x7E,
	NVME_FID_NS_METADATA = 0x7F,
	NVME_FID_SW_PROGRESS = 0x80,
	NVME_FID_HOST_ID = 0x81,
	NVME_FID_RESV_MASK = 0x82,
	NVME_FID_RESV_PERSIST = 0x83,
	NVME_FID_NS_WRITE_PROTECT = 0x84,
	NVME_FID_VENDOR_FIRST = 0xC0,
};

/* Number of Queues (07h): CDW11 and dw0, both 0's based. */
#define NVME_FEAT_NQ_NSQ_SHIFT 0
#define NVME_FEAT_NQ_NSQ_MASK 0xFFFFu
#define NVME_FEAT_NQ_NCQ_SHIFT 16
#define NVME_FEAT_NQ_NCQ_MASK 0xFFFFu
#define NVME_FEAT_NQ_INVALID 0xFFFFu  /* NSQR / NCQR 65535 (0's based): not allowed */
#define NVME_FEAT_NQ(nsq0, ncq0) \
	((uint32_t)(((uint32_t)(ncq0) << 16) | ((uint32_t)(nsq0) & 0xFFFFu)))

/* Volatile Write Cache (06h). */
#define NVME_FEAT_VWC_WCE (1u << 0)

/* Error Recovery (05h). */
#define NVME_FEAT_ERR_TLER_MASK 0xFFFFu  /* time limited error recovery, 100 ms */
#define NVME_FEAT_ERR_DULBE (1u << 16)   /* deallocated/unwritten block error enable */

/* Write Atomicity Normal (0Ah). */
#define NVME_FEAT_WA_DN (1u << 0)        /* disable normal (use AWUPF only) */

/* Temperature Threshold (04h). */
#define NVME_FEAT_TT_TMPTH_MASK 0xFFFFu  /* kelvin */
#define NVME_FEAT_TT_TMPSEL_SHIFT 16
#define NVME_FEAT_TT_TMPSEL_MASK 0xFu
#define NVME_FEAT_TT_THSEL_SHIFT 20      /* 0 over, 1 under */
#define NVME_FEAT_TT_THSEL_MASK 0x3u

/* Keep Alive Timer (0Fh): CDW11 = KATO in milliseconds. */

/* Host Identifier (81h): CDW11 bit 0 EXHID = 128-bit identifier. */
#define NVME_FEAT_HOSTID_EXHID (1u << 0)

/* Asynchronous Event Configuration (0Bh), CDW11. */
#define NVME_AEC_SMART_MASK 0xFFu        /* critical warnings that raise an event */
#define NVME_AEC_NS_ATTR (1u << 8)
#define NVME_AEC_FW_ACTIVATION (1u << 9)
#define NVME_AEC_TELEMETRY (1u << 10)
#define NVME_AEC_ANA_CHANGE (1u << 11)
#define NVME_AEC_PLEA (1u << 12)         /* predictable latency event aggregate */
#define NVME_AEC_LBA_STATUS (1u << 13)
#define NVME_AEC_EGEA (1u << 14)         /* endurance group event aggregate */
#define NVME_AEC_NORMAL_SHUTDOWN (1u << 15)
#define NVME_AEC_ZONE_DESC_CHANGE (1u << 27)
#define NVME_AEC_DISC_LOG_CHANGE (1u << 31)

/* Timestamp (0Eh) data: 8 bytes. */
struct nvme_timestamp {
	uint8_t timestamp[6];   /* ms since 1970-01-01 UTC, 48-bit LE */
	uint8_t attr;           /* bit 0 synch, bits 3:1 origin */
	uint8_t rsvd7;
};
NVME_CHECK_SIZE(struct nvme_timestamp, 8);
NVME_CHECK_OFFSET(struct nvme_timestamp, attr, 6);

/* Host Behavior Support (16h) data: 512 bytes. */
struct nvme_host_behavior {
	uint8_t acre;           /* advanced command retry enable (use CRD) */
	uint8_t etdas;          /* extended telemetry data area 4 supported */
	uint8_t lbafee;         /* LBA format extension enable */
	uint8_t rsvd3[509];
};
NVME_CHECK_SIZE(struct nvme_host_behavior, 512);
NVME_CHECK_OFFSET(struct nvme_host_behavior, lbafee, 2);

/* ============================================================================
 * Asynchronous events
 * ========================================================================== */

/*
 * dw0 of an Asynchronous Event Request completion:
 *   bits 2:0 event type, bits 15:8 event information, bits 23:16 log page to read.
 */
enum nvme_aer_type {
	NVME_AER_TYPE_ERROR = 0,
	NVME_AER_TYPE_SMART = 1,
	NVME_AER_TYPE_NOTICE = 2,
	NVME_AER_TYPE_IOCS = 6,             /* I/O command set specific */
	NVME_AER_TYPE_VENDOR = 7,
};

/* Event information for NVME_AER_TYPE_ERROR. */
enum nvme_aer_error_info {
	NVME_AER_ERROR_INVALID_DB = 0x00,
	NVME_AER_ERROR_INVALID_DB_VALUE = 0x01,
	NVME_AER_ERROR_DIAG_FAILURE = 0x02,
	NVME_AER_ERROR_PERSISTENT_INTERNAL = 0x03,
	NVME_AER_ERROR_TRANSIENT_INTERNAL = 0x04,
	NVME_AER_ERROR_FW_IMAGE_LOAD = 0x05,
};

/* Event information for NVME_AER_TYPE_SMART. */
enum nvme_aer_smart_info {
	NVME_AER_SMART_RELIABILITY = 0x00,
	NVME_AER_SMART_TEMP_THRESH = 0x01,
	NVME_AER_SMART_SPARE_THRESH = 0x02,
};

/* Event information for NVME_AER_TYPE_NOTICE. */
enum nvme_aer_notice_info {
	NVME_AER_NOTICE_NS_CHANGED = 0x00,      /* log 04h */
	NVME_AER_NOTICE_FW_ACTIVATION = 0x01,   /* log 03h */
	NVME_AER_NOTICE_TELEMETRY = 0x02,       /* log 08h */
	NVME_AER_NOTICE_ANA_CHANGE = 0x03,      /* log 0Ch */
	NVME_AER_NOTICE_PLEA = 0x04,
	NVME_AER_NOTICE_LBA_STATUS = 0x05,
	NVME_AER_NOTICE_EGEA = 0x06,
	NVME_AER_NOTICE_NORMAL_SHUTDOWN = 0x07,
	NVME_AER_NOTICE_DISC_CHANGED = 0xF0,    /* log 70h */
};

/* Event information for NVME_AER_TYPE_IOCS (NVM command set). */
enum nvme_aer_iocs_info {
	NVME_AER_IOCS_RESV_LOG = 0x00,          /* log 80h */
	NVME_AER_IOCS_SANITIZE_DONE = 0x01,     /* log 81h */
	NVME_AER_IOCS_SANITIZE_DEALLOC = 0x02,
};

#define NVME_AER_DW0(type, info, lid) \
	((uint32_t)(((uint32_t)(type) & 0x7u) | (((uint32_t)(info) & 0xFFu) << 8) | \
		    (((uint32_t)(lid) & 0xFFu) << 16)))
#define NVME_AER_DW0_TYPE(dw0) ((dw0) & 0x7u)
#define NVME_AER_DW0_INFO(dw0) (((dw0) >> 8) & 0xFFu)
#define NVME_AER_DW0_LID(dw0) (((dw0) >> 16) & 0xFFu)

/* ============================================================================
 * In-band authentication: DH-HMAC-CHAP (Base 2.x "Authentication", TP 8006)
 * ========================================================================== */

/*
 * Messages travel in the data of Authentication Send (host -> controller) and
 * Authentication Receive (controller -> host).  Sequence:
 *   host  AUTH_Negotiate          (send)
 *   ctrl  DH-HMAC-CHAP_Challenge  (receive)
 *   host  DH-HMAC-CHAP_Reply      (send)
 *   ctrl  DH-HMAC-CHAP_Success1   (receive)
 *   host  DH-HMAC-CHAP_Success2   (send, only if bidirectional)
 * A controller aborts with AUTH_Failure1, a host with AUTH_Failure2.  Negotiate and
 * the Failure messages use AUTH_Type 00h (common); the others 01h (DH-HMAC-CHAP).
 */
enum nvmf_auth_type {
	NVMF_AUTH_TYPE_COMMON = 0x00,
	NVMF_AUTH_TYPE_DHCHAP = 0x01,
};

enum nvmf_auth_id {
	NVMF_AUTH_ID_NEGOTIATE = 0x00,
	NVMF_AUTH_ID_CHALLENGE = 0x01,
	NVMF_AUTH_ID_REPLY = 0x02,
	NVMF_AUTH_ID_SUCCESS1 = 0x03,
	NVMF_AUTH_ID_SUCCESS2 = 0x04,
	NVMF_AUTH_ID_FAILURE2 = 0xF0,
	NVMF_AUTH_ID_FAILURE1 = 0xF1,
};

/* Authentication protocol identifier in a Negotiate descriptor. */
#define NVMF_AUTH_PROTO_DHCHAP 0x01

/* Hash functions. */
enum nvmf_auth_hash {
	NVMF_AUTH_HASH_SHA256 = 0x01,
	NVMF_AUTH_HASH_SHA384 = 0x02,
	NVMF_AUTH_HASH_SHA512 = 0x03,
};

/* Finite field Diffie-Hellman groups (RFC 7919). */
enum nvmf_auth_dhgroup {
	NVMF_AUTH_DHGROUP_NULL = 0x00,
	NVMF_AUTH_DHGROUP_2048 = 0x01,
	NVMF_AUTH_DHGROUP_3072 = 0x02,
	NVMF_AUTH_DHGROUP_4096 = 0x03,
	NVMF_AUTH_DHGROUP_6144 = 0x04,
	NVMF_AUTH_DHGROUP_8192 = 0x05,
};

/* SC_C (secure channel concatenation) of AUTH_Negotiate, as Linux encodes it. */
enum nvmf_auth_scc {
	NVMF_AUTH_SCC_NONE = 0x00,
	NVMF_AUTH_SCC_NEWTLSPSK = 0x02,
	NVMF_AUTH_SCC_REPLACETLSPSK = 0x03,
};

/* AUTH_Failure reason code and explanations. */
#define NVMF_AUTH_RC_FAILED 0x01
enum nvmf_auth_rce {
	NVMF_AUTH_RCE_FAILED = 0x01,
	NVMF_AUTH_RCE_PROTOCOL_UNUSABLE = 0x02,
	NVMF_AUTH_RCE_SCC_MISMATCH = 0x03,
	NVMF_AUTH_RCE_HASH_UNUSABLE = 0x04,
	NVMF_AUTH_RCE_DHGROUP_UNUSABLE = 0x05,
	NVMF_AUTH_RCE_INCORRECT_PAYLOAD = 0x06,
	NVMF_AUTH_RCE_INCORRECT_MESSAGE = 0x07,
};

/* The first six bytes shared by every message. */
struct nvmf_auth_hdr {
	uint8_t auth_type;
	uint8_t auth_id;
	uint8_t rsvd2[2];
	uint16_t t_id;          /* transaction identifier, chosen by the host */
};
NVME_CHECK_SIZE(struct nvmf_auth_hdr, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_hdr, auth_id, 1);
NVME_CHECK_OFFSET(struct nvmf_auth_hdr, t_id, 4);

/* DH-HMAC-CHAP protocol descriptor of AUTH_Negotiate (64 bytes). */
struct nvmf_auth_dhchap_desc {
	uint8_t authid;         /* NVMF_AUTH_PROTO_DHCHAP */
	uint8_t rsvd1;
	uint8_t halen;          /* valid entries in hash_ids */
	uint8_t dhlen;          /* valid entries in dhg_ids */
	uint8_t hash_ids[30];
	uint8_t dhg_ids[30];
};
NVME_CHECK_SIZE(struct nvmf_auth_dhchap_desc, 64);
NVME_CHECK_OFFSET(struct nvmf_auth_dhchap_desc, halen, 2);
NVME_CHECK_OFFSET(struct nvmf_auth_dhchap_desc, dhlen, 3);
NVME_CHECK_OFFSET(struct nvmf_auth_dhchap_desc, hash_ids, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_dhchap_desc, dhg_ids, 34);

/* AUTH_Negotiate: 8 bytes + NAPD descriptors. */
struct nvmf_auth_negotiate {
	uint8_t auth_type;      /* NVMF_AUTH_TYPE_COMMON */
	uint8_t auth_id;        /* NVMF_AUTH_ID_NEGOTIATE */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t sc_c;           /* enum nvmf_auth_scc */
	uint8_t napd;           /* number of protocol descriptors */
	struct nvmf_auth_dhchap_desc descs[];
};
NVME_CHECK_SIZE(struct nvmf_auth_negotiate, 8);
NVME_CHECK_OFFSET(struct nvmf_auth_negotiate, t_id, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_negotiate, sc_c, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_negotiate, napd, 7);
NVME_CHECK_OFFSET(struct nvmf_auth_negotiate, descs, 8);

/* DH-HMAC-CHAP_Challenge: 16 bytes + HL bytes challenge + DHVLEN bytes DH value. */
struct nvmf_auth_challenge {
	uint8_t auth_type;      /* NVMF_AUTH_TYPE_DHCHAP */
	uint8_t auth_id;        /* NVMF_AUTH_ID_CHALLENGE */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t hl;             /* hash length */
	uint8_t rsvd7;
	uint8_t hashid;         /* enum nvmf_auth_hash */
	uint8_t dhgid;          /* enum nvmf_auth_dhgroup */
	uint16_t dhvlen;        /* DH value length (0 for the NULL group) */
	uint32_t seqnum;        /* S1 */
	uint8_t cval[];         /* C1 (HL bytes), then the controller's DH value */
};
NVME_CHECK_SIZE(struct nvmf_auth_challenge, 16);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, t_id, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, hl, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, hashid, 8);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, dhgid, 9);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, dhvlen, 10);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, seqnum, 12);
NVME_CHECK_OFFSET(struct nvmf_auth_challenge, cval, 16);

/*
 * DH-HMAC-CHAP_Reply: 16 bytes + HL bytes response R1 + HL bytes challenge C2 (valid
 * when CVALID, i.e. bidirectional) + DHVLEN bytes host DH value.
 */
struct nvmf_auth_reply {
	uint8_t auth_type;
	uint8_t auth_id;        /* NVMF_AUTH_ID_REPLY */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t cvalid;         /* bit 0: C2 present, controller must authenticate */
	uint8_t rsvd9;
	uint16_t dhvlen;
	uint32_t seqnum;        /* S2 (0 when not bidirectional) */
	uint8_t rval[];
};
NVME_CHECK_SIZE(struct nvmf_auth_reply, 16);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, t_id, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, hl, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, cvalid, 8);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, dhvlen, 10);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, seqnum, 12);
NVME_CHECK_OFFSET(struct nvmf_auth_reply, rval, 16);
#define NVMF_AUTH_CVALID 0x01   /* cvalid: C2 is a challenge to the controller */

/* DH-HMAC-CHAP_Success1: 16 bytes + HL bytes R2 (valid when RVALID). */
struct nvmf_auth_success1 {
	uint8_t auth_type;
	uint8_t auth_id;        /* NVMF_AUTH_ID_SUCCESS1 */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t hl;
	uint8_t rsvd7;
	uint8_t rvalid;         /* bit 0: R2 present */
	uint8_t rsvd9[7];
	uint8_t rval[];
};
NVME_CHECK_SIZE(struct nvmf_auth_success1, 16);
NVME_CHECK_OFFSET(struct nvmf_auth_success1, hl, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_success1, rvalid, 8);
NVME_CHECK_OFFSET(struct nvmf_auth_success1, rval, 16);
#define NVMF_AUTH_RVALID 0x01   /* rvalid: R2 follows */

/* DH-HMAC-CHAP_Success2: 16 bytes. */
struct nvmf_auth_success2 {
	uint8_t auth_type;
	uint8_t auth_id;        /* NVMF_AUTH_ID_SUCCESS2 */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t rsvd6[10];
};
NVME_CHECK_SIZE(struct nvmf_auth_success2, 16);
NVME_CHECK_OFFSET(struct nvmf_auth_success2, t_id, 4);

/* AUTH_Failure1 / AUTH_Failure2: 8 bytes. */
struct nvmf_auth_failure {
	uint8_t auth_type;      /* NVMF_AUTH_TYPE_COMMON */
	uint8_t auth_id;        /* NVMF_AUTH_ID_FAILURE1 / NVMF_AUTH_ID_FAILURE2 */
	uint8_t rsvd2[2];
	uint16_t t_id;
	uint8_t rc;             /* NVMF_AUTH_RC_FAILED */
	uint8_t rce;            /* enum nvmf_auth_rce */
};
NVME_CHECK_SIZE(struct nvmf_auth_failure, 8);
NVME_CHECK_OFFSET(struct nvmf_auth_failure, t_id, 4);
NVME_CHECK_OFFSET(struct nvmf_auth_failure, rc, 6);
NVME_CHECK_OFFSET(struct nvmf_auth_failure, rce, 7);

#endif /* NVMF_PROTO_NVME_SPEC_H */
