/*
 * The NVMe wire types that libnvmf's public functions take: the 64-byte submission queue
 * entry (nvmf_admin_cmd, nvmf_io_raw) and the 16-byte completion queue entry (completion
 * callbacks).  Defined once, here: the project's own protocol layer (src/proto/nvme_spec.h)
 * includes this file and pins every size and offset down with static assertions.
 *
 * Every multi-byte field is little-endian on the wire: fill and read them with htole32() /
 * le32toh() and friends from <endian.h>.
 */
#ifndef NVMF_NVME_TYPES_H
#define NVMF_NVME_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Unkeyed SGL descriptor (data block, bit bucket, segment, transport data block). */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd12[3];
	uint8_t id;         /* descriptor type in bits 7:4, sub type in bits 3:0 */
};

/* Keyed data block descriptor (RDMA): 3-byte length, 4-byte key. */
struct nvme_keyed_sgl_desc {
	uint64_t addr;
	uint8_t length[3];  /* little-endian 24-bit */
	uint8_t key[4];     /* little-endian 32-bit */
	uint8_t id;
};

/* Data pointer (SQE bytes 24..39): a PRP pair or one SGL descriptor (SGL1). */
union nvme_dptr {
	struct {
		uint64_t prp1;
		uint64_t prp2;
	} prp;
	struct nvme_sgl_desc sgl;
	struct nvme_keyed_sgl_desc ksgl;
};

/* Generic 64-byte submission queue entry.  libnvmf fills cid, flags and dptr itself. */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;      /* bits 1:0 FUSE, bits 7:6 PSDT */
	uint16_t cid;       /* command identifier */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;      /* metadata pointer */
	union nvme_dptr dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

/* 16-byte completion queue entry. */
struct nvme_cqe {
	union {
		struct {
			uint32_t dw0;   /* command specific result */
			uint32_t dw1;
		};
		uint64_t result64;  /* dw0..dw1 as one value (Property Get of 8 bytes) */
	};
	uint16_t sqhd;      /* SQ head pointer (0 / reserved when SQ flow control is off) */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;    /* bit 0 phase tag, bits 15:1 the status field */
};

#ifdef __cplusplus
}
#endif

#endif
