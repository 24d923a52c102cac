/* The base64(key || CRC-32) payload of the key interchange forms. */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/interchange.h"

#define RAW_MAX (64 + 4)

/* zlib's CRC-32 (ISA-L's gzip CRC), as nvme-cli, libnvme and the kernel compute it. */
static uint32_t key_crc(const uint8_t *key, size_t len)
{
	return crc32_gzip_refl(0, key, len);
}

int auth_interchange_decode(const char *b64, uint8_t *key, size_t max, size_t *len)
{
	uint8_t raw[RAW_MAX + 3];
	const char *end = strchr(b64, ':');
	size_t b64_len, pad = 0, n;
	uint32_t crc;
	int rc = -EINVAL, got;

	*len = 0;
	/* the trailing ':' is optional (the kernel stops at it); nothing may follow it */
	if (end && end[1])
		return -EINVAL;
	b64_len = end ? (size_t)(end - b64) : strlen(b64);
	if (b64_len < 8 || b64_len % 4 || b64_len / 4 * 3 > sizeof(raw))
		return -EINVAL;
	if (b64[b64_len - 1] == '=')
		pad = b64[b64_len - 2] == '=' ? 2 : 1;
	got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
	if (got < 0 || (size_t)got < pad + 4)
		goto out;
	n = (size_t)got - pad - 4;
	if (n > max)
		goto out;
	crc = (uint32_t)raw[n] | (uint32_t)raw[n + 1] << 8 | (uint32_t)raw[n + 2] << 16 |
	      (uint32_t)raw[n + 3] << 24;
	if (crc != key_crc(raw, n)) {
		rc = -EBADMSG;
		goto out;
	}
	memcpy(key, raw, n);
	*len = n;
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int auth_interchange_encode(const uint8_t *key, size_t len, char *buf, size_t size)
{
	uint8_t raw[RAW_MAX];
	uint32_t crc;
	int n;

	if (len > RAW_MAX - 4 || size < (len + 4 + 2) / 3 * 4 + 1)
		return -ENOSPC;
	memcpy(raw, key, len);
	crc = key_crc(key, len);
	for (int i = 0; i < 4; i++)
		raw[len + (size_t)i] = (uint8_t)(crc >> (8 * i));
	n = EVP_EncodeBlock((unsigned char *)buf, raw, (int)len + 4);
	OPENSSL_cleanse(raw, sizeof(raw));
	return n < 0 ? -EIO : 0;
}
