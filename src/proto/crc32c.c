/* CRC32C through ISA-L's hardware-accelerated (SSE4.2/PCLMUL/AVX-512) implementation. */
#include "proto/crc32c.h"

#include <isa-l/crc.h>

uint32_t nvmf_crc32c_update(uint32_t raw, const void *buf, size_t len)
{
	/*
	 * ISA-L's crc32_iscsi() takes and returns the raw register (no final
	 * inversion), which is exactly the running form we keep.
	 */
	const unsigned char *p = buf;

	/* crc32_iscsi() takes an int length: feed huge buffers in slices. */
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		raw = crc32_iscsi((unsigned char *)(uintptr_t)p, (int)n, raw);
		p += n;
		len -= n;
	}
	return raw;
}

uint32_t nvmf_crc32c_iov(const struct iovec *iov, int iovcnt)
{
	uint32_t raw = NVMF_CRC32C_SEED;

	for (int i = 0; i < iovcnt; i++)
		raw = nvmf_crc32c_update(raw, iov[i].iov_base, iov[i].iov_len);
	return nvmf_crc32c_final(raw);
}
