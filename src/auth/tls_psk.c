/*
 * NVMe/TCP TLS PSKs: the interchange form, the retained PSK, identities and the TLS PSK.
 * HKDF is OpenSSL's; the HKDF-Expand-Label info is built here in one buffer, in the RFC
 * 8446 layout or in libnvme <= 1.15's concatenated one (tls_psk.h says why both exist).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "auth/dhchap.h"
#include "auth/hmac.h"
#include "auth/interchange.h"
#include "auth/tls_psk.h"

#define PREFIX "NVMeTLSkey-1:"
#define PREFIX_LEN 13
#define SEED " NVMe-over-Fabrics"

/* The key's transform hash must fit its length: 01 = 32 bytes, 02 = 48; 00 either. */
static bool len_fits(unsigned hmac, size_t len)
{
	if (hmac == 0)
		return len == 32 || len == 48;
	return (hmac == 1 && len == 32) || (hmac == 2 && len == 48);
}

int nvmf_tls_key_parse(const char *s, struct nvmf_tls_key *out)
{
	unsigned hmac;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(s, PREFIX, PREFIX_LEN) != 0)
		return -EINVAL;
	s += PREFIX_LEN;
	if (s[0] != '0' || (s[1] < '0' || s[1] > '2') || s[2] != ':')
		return -EINVAL;
	hmac = (unsigned)(s[1] - '0');
	rc = auth_interchange_decode(s + 3, out->key, sizeof(out->key), &out->len);
	if (!rc && !len_fits(hmac, out->len))
		rc = -EINVAL;
	if (rc) {
		OPENSSL_cleanse(out, sizeof(*out));
		return rc;
	}
	out->hmac = hmac;
	return 0;
}

int nvmf_tls_key_format(const struct nvmf_tls_key *k, char *buf, size_t size)
{
	char b64[(NVMF_TLS_PSK_MAX + 4 + 2) / 3 * 4 + 1];

	if (!len_fits(k->hmac, k->len))
		return -EINVAL;
	if (auth_interchange_encode(k->key, k->len, b64, sizeof(b64)))
		return -EIO;
	if (strlen(b64) + PREFIX_LEN + 5 > size) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return -ENOSPC;
	}
	snprintf(buf, size, PREFIX "%02u:%s:", k->hmac, b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	return 0;
}

int nvmf_tls_key_generate(struct nvmf_tls_key *k, unsigned hmac, const uint8_t *given)
{
	memset(k, 0, sizeof(*k));
	if (hmac != 1 && hmac != 2)
		return -EINVAL;
	k->len = hmac == 1 ? 32 : 48;
	k->hmac = hmac;
	if (given)
		memcpy(k->key, given, k->len);
	else if (nvmf_dhchap_random(k->key, k->len))
		return -EIO;
	return 0;
}

unsigned nvmf_tls_key_hash(const struct nvmf_tls_key *k)
{
	if (k->hmac)
		return k->hmac;
	return k->len == 48 ? 2 : 1;
}

static const char *md_name(unsigned hash)
{
	return hash == 2 ? "SHA384" : "SHA256";
}

int nvmf_tls_expand_label(unsigned hash, const uint8_t *secret, size_t secret_len, bool extract,
			  const char *label, const void *ctx, size_t ctx_len,
			  enum nvmf_tls_derive how, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 32 + 1 + NVMF_TLS_IDENTITY_MAX];
	size_t label_len = strlen(label), n = 0;
	int mode = extract ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int rc = -EIO;

	if (6 + label_len > 32 || ctx_len > NVMF_TLS_IDENTITY_MAX ||
	    (how == NVMF_TLS_DERIVE_RFC && ctx_len > 255))
		return -EINVAL;
	if (how == NVMF_TLS_DERIVE_RFC) {
		/* struct HkdfLabel: uint16 length (BE), opaque label<7..255>, opaque context<0..255> */
		info[n++] = (uint8_t)(out_len >> 8);
		info[n++] = (uint8_t)out_len;
		info[n++] = (uint8_t)(6 + label_len);
		memcpy(info + n, "tls13 ", 6);
		memcpy(info + n + 6, label, label_len);
		n += 6 + label_len;
		info[n++] = (uint8_t)ctx_len;
	} else {
		/* libnvme <= 1.15: the length in host order (LE), then the strings, no prefixes */
		info[n++] = (uint8_t)out_len;
		info[n++] = (uint8_t)(out_len >> 8);
		memcpy(info + n, "tls13 ", 6);
		memcpy(info + n + 6, label, label_len);
		n += 6 + label_len;
	}
	if (ctx_len)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -ENOSYS;
	kctx = EVP_KDF_CTX_new(kdf);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(hash), 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
						      secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	/* no salt: HKDF-Extract with HashLen zero bytes, as RFC 5869 defines the default */
	params[4] = OSSL_PARAM_construct_end();
	if (kctx && EVP_KDF_derive(kctx, out, out_len, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(info, sizeof(info));
	return rc;
}

/* HKDF-Expand-Label(HKDF-Extract(0, ikm), ...): the length of out, or -errno. */
static int derive(unsigned hash, const uint8_t *ikm, size_t ikm_len, const char *label,
		  const void *ctx, size_t ctx_len, enum nvmf_tls_derive how, uint8_t *out,
		  size_t out_len)
{
	int rc = nvmf_tls_expand_label(hash, ikm, ikm_len, true, label, ctx, ctx_len, how, out,
				       out_len);

	return rc < 0 ? rc : (int)out_len;
}

int nvmf_tls_retained(const struct nvmf_tls_key *k, const char *hostnqn,
		      enum nvmf_tls_derive how, uint8_t out[NVMF_TLS_PSK_MAX])
{
	if (!len_fits(k->hmac, k->len))
		return -EINVAL;
	if (k->hmac == 0) {
		memcpy(out, k->key, k->len);
		return (int)k->len;
	}
	return derive(k->hmac, k->key, k->len, "HostNQN", hostnqn, strlen(hostnqn), how,
			    out, k->len);
}

int nvmf_tls_psk(const struct nvmf_tls_key *k, const char *hostnqn, const char *subnqn,
		 unsigned version, enum nvmf_tls_derive how, char identity[NVMF_TLS_IDENTITY_MAX],
		 uint8_t psk[NVMF_TLS_PSK_MAX])
{
	uint8_t retained[NVMF_TLS_PSK_MAX], digest[NVMF_DHCHAP_MAX_HASH];
	char digest64[NVMF_DHCHAP_MAX_HASH * 2], ctx[NVMF_TLS_IDENTITY_MAX];
	unsigned hh = nvmf_tls_key_hash(k);
	size_t psk_len = hh == 2 ? 48 : 32;
	int n, rc;

	if (version > 1)
		return -EINVAL;
	n = nvmf_tls_retained(k, hostnqn, how, retained);
	if (n < 0)
		return n;
	if (version == 0) {
		n = snprintf(identity, NVMF_TLS_IDENTITY_MAX, "NVMe0R%02u %s %s", hh, hostnqn,
			     subnqn);
		/* version 0: the TLS PSK's context is the whole identity */
		snprintf(ctx, sizeof(ctx), "%s", identity);
	} else {
		struct auth_part parts[] = {
			{ hostnqn, strlen(hostnqn) },
			{ " ", 1 },
			{ subnqn, strlen(subnqn) },
			{ SEED, sizeof(SEED) - 1 },
		};

		rc = auth_hmac(hh, retained, (size_t)n, parts, 4, digest);
		if (rc < 0)
			goto out;
		EVP_EncodeBlock((unsigned char *)digest64, digest, rc);
		n = snprintf(identity, NVMF_TLS_IDENTITY_MAX, "NVMe1R%02u %s %s %s", hh, hostnqn,
			     subnqn, digest64);
		/* version 1: the context is "<hh> <digest>" only */
		snprintf(ctx, sizeof(ctx), "%02u %s", hh, digest64);
	}
	if (n < 0 || n >= NVMF_TLS_IDENTITY_MAX) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	rc = derive(hh, retained, k->len, "nvme-tls-psk", ctx, strlen(ctx), how, psk,
			  psk_len);
out:
	OPENSSL_cleanse(retained, sizeof(retained));
	OPENSSL_cleanse(digest, sizeof(digest));
	return rc;
}
