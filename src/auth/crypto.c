/*
 * DH-HMAC-CHAP maths on OpenSSL: hashes and HMAC by the wire's ids, FFDHE key pairs and
 * shared secrets (RFC 7919 groups, values padded to the prime's length), the augmented
 * challenge and the two responses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <endian.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "auth/dhchap.h"
#include "auth/hmac.h"

struct nvmf_dhchap_dh {
	EVP_PKEY *pkey;
	unsigned group;
};

static const struct {
	const char *md;      /* OpenSSL digest name */
	const char *name;    /* nvmet's dhchap_hash */
	size_t len;
} hashes[] = {
	[NVMF_DHCHAP_SHA256] = { "SHA256", "hmac(sha256)", 32 },
	[NVMF_DHCHAP_SHA384] = { "SHA384", "hmac(sha384)", 48 },
	[NVMF_DHCHAP_SHA512] = { "SHA512", "hmac(sha512)", 64 },
};

static const struct {
	const char *name;    /* nvmet's dhchap_dhgroup, and OpenSSL's group name */
	size_t len;
} groups[] = {
	[NVMF_DHCHAP_DH_NULL] = { "null", 0 },
	[NVMF_DHCHAP_FFDHE2048] = { "ffdhe2048", 256 },
	[NVMF_DHCHAP_FFDHE3072] = { "ffdhe3072", 384 },
	[NVMF_DHCHAP_FFDHE4096] = { "ffdhe4096", 512 },
	[NVMF_DHCHAP_FFDHE6144] = { "ffdhe6144", 768 },
	[NVMF_DHCHAP_FFDHE8192] = { "ffdhe8192", 1024 },
};

static bool hash_known(unsigned hash)
{
	return hash >= NVMF_DHCHAP_SHA256 && hash <= NVMF_DHCHAP_SHA512;
}

size_t nvmf_dhchap_hash_len(unsigned hash)
{
	return hash_known(hash) ? hashes[hash].len : 0;
}

const char *nvmf_dhchap_hash_name(unsigned hash)
{
	return hash_known(hash) ? hashes[hash].name : NULL;
}

const char *nvmf_dhchap_dhgroup_name(unsigned group)
{
	return group < NVMF_DHCHAP_DH_COUNT ? groups[group].name : NULL;
}

size_t nvmf_dhchap_dh_len(unsigned group)
{
	return group < NVMF_DHCHAP_DH_COUNT ? groups[group].len : 0;
}

int nvmf_dhchap_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

void nvmf_dhchap_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

bool nvmf_dhchap_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int nvmf_dhchap_hash(unsigned hash, const void *data, size_t len,
		     uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	EVP_MD *md;
	unsigned n = 0;
	int ok;

	if (!hash_known(hash))
		return -EINVAL;
	md = EVP_MD_fetch(NULL, hashes[hash].md, NULL);
	if (!md)
		return -ENOSYS;
	ok = EVP_Digest(data, len, out, &n, md, NULL);
	EVP_MD_free(md);
	return ok == 1 ? (int)n : -EIO;
}

int auth_hmac(unsigned hash, const uint8_t *key, size_t key_len, const struct auth_part *parts,
	      int nparts, uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	size_t n = 0;
	int rc = -EIO;

	if (!hash_known(hash))
		return -EINVAL;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return -ENOSYS;
	ctx = EVP_MAC_CTX_new(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)hashes[hash].md, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	for (int i = 0; i < nparts; i++)
		if (parts[i].len && EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1)
			goto out;
	if (EVP_MAC_final(ctx, out, &n, NVMF_DHCHAP_MAX_HASH) == 1)
		rc = (int)n;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

/* ------------------------------------------------------------------ Diffie-Hellman */

struct nvmf_dhchap_dh *nvmf_dhchap_dh_new(unsigned group)
{
	struct nvmf_dhchap_dh *dh;
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM params[2];

	if (group == NVMF_DHCHAP_DH_NULL || group >= NVMF_DHCHAP_DH_COUNT) {
		errno = EINVAL;
		return NULL;
	}
	dh = calloc(1, sizeof(*dh));
	if (!dh)
		return NULL;
	dh->group = group;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)groups[group].name, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_params(ctx, params) != 1 ||
	    EVP_PKEY_generate(ctx, &dh->pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		free(dh);
		errno = EIO;
		return NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return dh;
}

void nvmf_dhchap_dh_free(struct nvmf_dhchap_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->pkey);
	free(dh);
}

int nvmf_dhchap_dh_public(const struct nvmf_dhchap_dh *dh, uint8_t *out, size_t len)
{
	BIGNUM *pub = NULL;
	int rc = -EIO;

	if (len != groups[dh->group].len)
		return -EINVAL;
	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &pub) == 1 &&
	    BN_bn2binpad(pub, out, (int)len) == (int)len)
		rc = 0;
	BN_free(pub);
	return rc;
}

/* The peer's public value as a key of the same group (OpenSSL checks it when deriving). */
static EVP_PKEY *peer_key(unsigned group, const uint8_t *peer, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	OSSL_PARAM *params = NULL;
	BIGNUM *pub = BN_bin2bn(peer, (int)len, NULL);
	EVP_PKEY *key = NULL;

	if (!bld || !ctx || !pub ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, groups[group].name,
					    0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(pub);
	return key;
}

int nvmf_dhchap_dh_shared(const struct nvmf_dhchap_dh *dh, const uint8_t *peer, size_t peer_len,
			  uint8_t *z, size_t z_len)
{
	size_t plen = groups[dh->group].len;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk;
	size_t n = z_len;
	int rc = -EINVAL;

	if (peer_len != plen || z_len != plen)
		return -EINVAL;
	pk = peer_key(dh->group, peer, peer_len);
	if (!pk)
		return -EINVAL;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	/* set_peer validates the value (1 < y < p-1, and in the group's subgroup) */
	if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_dh_pad(ctx, 1) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, pk) == 1 && EVP_PKEY_derive(ctx, z, &n) == 1 &&
	    n == plen)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

int nvmf_dhchap_augment(unsigned hash, const uint8_t *challenge, const uint8_t *z, size_t z_len,
			uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	uint8_t hz[NVMF_DHCHAP_MAX_HASH];
	size_t hl = nvmf_dhchap_hash_len(hash);
	struct auth_part part = { challenge, hl };
	int n;

	if (!hl)
		return -EINVAL;
	if (!z_len) {
		memcpy(out, challenge, hl);
		return (int)hl;
	}
	n = nvmf_dhchap_hash(hash, z, z_len, hz);
	if (n < 0)
		return n;
	n = auth_hmac(hash, hz, (size_t)n, &part, 1, out);
	nvmf_dhchap_wipe(hz, sizeof(hz));
	return n;
}

static int response(unsigned hash, const uint8_t *key, size_t key_len, const uint8_t *challenge,
		    uint32_t seq, uint16_t tid, uint8_t sc_c, const char *label, size_t label_len,
		    const char *nqn1, const char *nqn2, uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	uint32_t seq_le = htole32(seq);
	uint16_t tid_le = htole16(tid);
	static const uint8_t zero;
	struct auth_part parts[] = {
		{ challenge, nvmf_dhchap_hash_len(hash) },
		{ &seq_le, 4 },
		{ &tid_le, 2 },
		{ &sc_c, 1 },
		{ label, label_len },
		{ nqn1, strlen(nqn1) },
		{ &zero, 1 },
		{ nqn2, strlen(nqn2) },
	};
	int n;

	if (!hash_known(hash))
		return -EINVAL;
	n = auth_hmac(hash, key, key_len, parts, (int)(sizeof(parts) / sizeof(parts[0])), out);
	return n < 0 ? n : 0;
}

int nvmf_dhchap_host_response(unsigned hash, const uint8_t *key, size_t key_len,
			      const uint8_t *challenge, uint32_t seq, uint16_t tid, uint8_t sc_c,
			      const char *hostnqn, const char *subnqn,
			      uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	return response(hash, key, key_len, challenge, seq, tid, sc_c, "HostHost", 8, hostnqn,
			subnqn, out);
}

int nvmf_dhchap_ctrl_response(unsigned hash, const uint8_t *key, size_t key_len,
			      const uint8_t *challenge, uint32_t seq, uint16_t tid,
			      const char *subnqn, const char *hostnqn,
			      uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	/* the controller's response hashes 0 where the host's has SC_C */
	return response(hash, key, key_len, challenge, seq, tid, 0, "Controller", 10, subnqn,
			hostnqn, out);
}
