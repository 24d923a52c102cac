/* CRC32C (Castagnoli) for NVMe/TCP header and data digests, computed by ISA-L. */
#ifndef NVMF_PROTO_CRC32C_H
#define NVMF_PROTO_CRC32C_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * Digest convention of NVMe/TCP (and iSCSI, RFC 3720): seed 0xFFFFFFFF, final XOR
 * 0xFFFFFFFF, stored on the wire little-endian.  A running digest over several
 * buffers is kept in the "raw" (not yet inverted) form:
 *     uint32_t s = NVMF_CRC32C_SEED;
 *     s = nvmf_crc32c_update(s, a, alen);
 *     s = nvmf_crc32c_update(s, b, blen);
 *     digest = nvmf_crc32c_final(s);
 */
#define NVMF_CRC32C_SEED 0xFFFFFFFFu

uint32_t nvmf_crc32c_update(uint32_t raw, const void *buf, size_t len);

static inline uint32_t nvmf_crc32c_final(uint32_t raw)
{
	return raw ^ 0xFFFFFFFFu;
}

/* One-shot digest of a contiguous buffer. */
static inline uint32_t nvmf_crc32c(const void *buf, size_t len)
{
	return nvmf_crc32c_final(nvmf_crc32c_update(NVMF_CRC32C_SEED, buf, len));
}

/* Digest over a scatter list (the data of one PDU may sit in several buffers). */
uint32_t nvmf_crc32c_iov(const struct iovec *iov, int iovcnt);

#endif
