/*
 * DH-HMAC-CHAP secrets in the interchange form "DHHC-1:<hh>:<base64(key || CRC-32)>:":
 * parse (with the CRC checked), format, generate as nvme-cli does, and transform into the
 * key the responses are keyed with.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/evp.h>

#include "auth/dhchap.h"
#include "auth/hmac.h"

#define PREFIX "DHHC-1:"
#define PREFIX_LEN 7
#define SEED "NVMe-over-Fabrics"

/* zlib's CRC-32 (ISA-L's gzip CRC): stored little-endian after the key. */
static uint32_t secret_crc(const uint8_t *key, size_t len)
{
	return crc32_gzip_refl(0, key, len);
}

static bool key_len_ok(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

int nvmf_dhchap_secret_parse(const char *s, struct nvmf_dhchap_secret *out)
{
	uint8_t raw[NVMF_DHCHAP_MAX_KEY + 4 + 3];
	const char *b64, *end;
	size_t b64_len, pad = 0;
	uint32_t crc;
	int n, hh;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, PREFIX, PREFIX_LEN) != 0)
		return -EINVAL;
	/* two decimal digits, as the kernel reads them (it skips exactly 10 characters) */
	if (s[7] < '0' || s[7] > '9' || s[8] < '0' || s[8] > '9' || s[9] != ':')
		return -EINVAL;
	hh = (s[7] - '0') * 10 + (s[8] - '0');
	if (hh > NVMF_DHCHAP_SHA512)
		return -EINVAL;
	b64 = s + 10;
	end = strchr(b64, ':');
	/* the trailing ':' is optional (the kernel stops at it), nothing may follow it */
	if (end && end[1])
		return -EINVAL;
	b64_len = end ? (size_t)(end - b64) : strlen(b64);
	if (b64_len == 0 || b64_len % 4 || b64_len / 4 * 3 > sizeof(raw))
		return -EINVAL;
	if (b64[b64_len - 1] == '=')
		pad = b64[b64_len - 2] == '=' ? 2 : 1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
	if (n < 0 || (size_t)n < pad)
		return -EINVAL;
	n -= (int)pad;
	if (!key_len_ok((size_t)n - 4)) {
		nvmf_dhchap_wipe(raw, sizeof(raw));
		return -EINVAL;
	}
	out->len = (size_t)n - 4;
	crc = (uint32_t)raw[out->len] | (uint32_t)raw[out->len + 1] << 8 |
	      (uint32_t)raw[out->len + 2] << 16 | (uint32_t)raw[out->len + 3] << 24;
	if (crc != secret_crc(raw, out->len)) {
		nvmf_dhchap_wipe(raw, sizeof(raw));
		out->len = 0;
		return -EBADMSG;
	}
	memcpy(out->key, raw, out->len);
	out->transform = (enum nvmf_dhchap_hash)hh;
	nvmf_dhchap_wipe(raw, sizeof(raw));
	return 0;
}

int nvmf_dhchap_secret_format(const struct nvmf_dhchap_secret *s, char *buf, size_t size)
{
	uint8_t raw[NVMF_DHCHAP_MAX_KEY + 4];
	char b64[(sizeof(raw) + 2) / 3 * 4 + 1];
	uint32_t crc;
	int n;

	if (!key_len_ok(s->len) || s->transform > NVMF_DHCHAP_SHA512)
		return -EINVAL;
	memcpy(raw, s->key, s->len);
	crc = secret_crc(s->key, s->len);
	for (int i = 0; i < 4; i++)
		raw[s->len + (size_t)i] = (uint8_t)(crc >> (8 * i));
	n = EVP_EncodeBlock((unsigned char *)b64, raw, (int)s->len + 4);
	nvmf_dhchap_wipe(raw, sizeof(raw));
	if (n < 0 || (size_t)n + PREFIX_LEN + 5 > size) {
		nvmf_dhchap_wipe(b64, sizeof(b64));
		return -ENOSPC;
	}
	snprintf(buf, size, PREFIX "%02u:%s:", (unsigned)s->transform, b64);
	nvmf_dhchap_wipe(b64, sizeof(b64));
	return 0;
}

/* HMAC-H(key, nqn || "NVMe-over-Fabrics"): the transform, at generation and at use. */
static int seed_hmac(unsigned hash, const uint8_t *key, size_t key_len, const char *nqn,
		     uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	struct auth_part parts[] = {
		{ nqn, strlen(nqn) },
		{ SEED, sizeof(SEED) - 1 },
	};

	return auth_hmac(hash, key, key_len, parts, 2, out);
}

int nvmf_dhchap_secret_transform(const struct nvmf_dhchap_secret *s, const char *nqn,
				 uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	if (!key_len_ok(s->len))
		return -EINVAL;
	if (s->transform == NVMF_DHCHAP_HASH_NONE) {
		memcpy(out, s->key, s->len);
		return (int)s->len;
	}
	return seed_hmac(s->transform, s->key, s->len, nqn, out);
}

int nvmf_dhchap_secret_generate(struct nvmf_dhchap_secret *s, enum nvmf_dhchap_hash transform,
				size_t len, const uint8_t *given, const char *nqn)
{
	uint8_t tmp[NVMF_DHCHAP_MAX_HASH];
	int n;

	memset(s, 0, sizeof(*s));
	if (!key_len_ok(len) || transform > NVMF_DHCHAP_SHA512)
		return -EINVAL;
	/* a transformed key is the transform hash's length (nvme-cli enforces the same) */
	if (transform != NVMF_DHCHAP_HASH_NONE && nvmf_dhchap_hash_len(transform) != len)
		return -EINVAL;
	if (transform != NVMF_DHCHAP_HASH_NONE && (!nqn || !*nqn))
		return -EINVAL;
	if (given)
		memcpy(s->key, given, len);
	else if (nvmf_dhchap_random(s->key, len))
		return -EIO;
	s->len = len;
	s->transform = transform;
	if (transform == NVMF_DHCHAP_HASH_NONE)
		return 0;
	n = seed_hmac(transform, s->key, len, nqn, tmp);
	if (n < 0) {
		nvmf_dhchap_wipe(s, sizeof(*s));
		return n;
	}
	memcpy(s->key, tmp, len);
	nvmf_dhchap_wipe(tmp, sizeof(tmp));
	return 0;
}
