/*
 * DH-HMAC-CHAP secrets in the interchange form "DHHC-1:<hh>:<base64(key || CRC-32)>:":
 * parse (with the CRC checked), format, generate as nvme-cli does, and transform into the
 * key the responses are keyed with.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/dhchap.h"
#include "auth/hmac.h"
#include "auth/interchange.h"

#define PREFIX "DHHC-1:"
#define PREFIX_LEN 7
#define SEED "NVMe-over-Fabrics"

static bool key_len_ok(size_t len)
{
	return len == 32 || len == 48 || len == 64;
}

int nvmf_dhchap_secret_parse(const char *s, struct nvmf_dhchap_secret *out)
{
	int hh, rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, PREFIX, PREFIX_LEN) != 0)
		return -EINVAL;
	/* two decimal digits, as the kernel reads them (it skips exactly 10 characters) */
	if (s[7] < '0' || s[7] > '9' || s[8] < '0' || s[8] > '9' || s[9] != ':')
		return -EINVAL;
	hh = (s[7] - '0') * 10 + (s[8] - '0');
	if (hh > NVMF_DHCHAP_SHA512)
		return -EINVAL;
	rc = auth_interchange_decode(s + 10, out->key, sizeof(out->key), &out->len);
	if (!rc && !key_len_ok(out->len))
		rc = -EINVAL;
	if (rc) {
		nvmf_dhchap_wipe(out, sizeof(*out));
		return rc;
	}
	out->transform = (enum nvmf_dhchap_hash)hh;
	return 0;
}

int nvmf_dhchap_secret_format(const struct nvmf_dhchap_secret *s, char *buf, size_t size)
{
	char b64[(NVMF_DHCHAP_MAX_KEY + 4 + 2) / 3 * 4 + 1];

	if (!key_len_ok(s->len) || s->transform > NVMF_DHCHAP_SHA512)
		return -EINVAL;
	if (auth_interchange_encode(s->key, s->len, b64, sizeof(b64)))
		return -EIO;
	if (strlen(b64) + PREFIX_LEN + 5 > size) {
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
