/*
 * DH-HMAC-CHAP (NVMe in-band authentication, TP 8006): the secrets, the key transform, the
 * Diffie-Hellman exchange and the response hashes, shared by the target and libnvmf.
 * OpenSSL does the maths (HMAC, SHA-2, RFC 7919 FFDHE groups); ISA-L the secret's CRC-32.
 *
 * The wire messages are in proto/nvme_spec.h; each side's state machine is its own
 * (target/auth.c, host/auth.c).  Nothing here logs: a key never reaches a log line.
 */
#ifndef NVMF_AUTH_DHCHAP_H
#define NVMF_AUTH_DHCHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVMF_DHCHAP_MAX_HASH 64     /* SHA-512 */
#define NVMF_DHCHAP_MAX_KEY 64      /* secrets are 32, 48 or 64 bytes */
#define NVMF_DHCHAP_MAX_DH 1024     /* ffdhe8192: public values and Z are 1024 bytes */
/* "DHHC-1:03:" + base64 of 68 bytes (92) + ":" + NUL */
#define NVMF_DHCHAP_SECRET_STR_MAX 104

/* Hash identifiers (the wire's HashID; also the secret's transform indicator 1..3). */
enum nvmf_dhchap_hash {
	NVMF_DHCHAP_HASH_NONE = 0,  /* only as a secret's transform: "use as is" */
	NVMF_DHCHAP_SHA256 = 1,
	NVMF_DHCHAP_SHA384 = 2,
	NVMF_DHCHAP_SHA512 = 3,
};

/* DH group identifiers (the wire's DHGID). */
enum nvmf_dhchap_dhgroup {
	NVMF_DHCHAP_DH_NULL = 0,
	NVMF_DHCHAP_FFDHE2048 = 1,
	NVMF_DHCHAP_FFDHE3072 = 2,
	NVMF_DHCHAP_FFDHE4096 = 3,
	NVMF_DHCHAP_FFDHE6144 = 4,
	NVMF_DHCHAP_FFDHE8192 = 5,
	NVMF_DHCHAP_DH_COUNT,
};

/* A secret as the interchange form "DHHC-1:<hh>:<base64(key || crc32)>:" carries it. */
struct nvmf_dhchap_secret {
	uint8_t key[NVMF_DHCHAP_MAX_KEY];
	size_t len;                  /* 32, 48 or 64 */
	enum nvmf_dhchap_hash transform; /* hh: how the key is transformed before use */
};

/* Digest length of a hash (0 for an unknown id). */
size_t nvmf_dhchap_hash_len(unsigned hash);
/* "hmac(sha256)" ... as nvmet's dhchap_hash spells them; NULL for an unknown id. */
const char *nvmf_dhchap_hash_name(unsigned hash);
/* "null", "ffdhe2048" ... as nvmet's dhchap_dhgroup; NULL for an unknown id. */
const char *nvmf_dhchap_dhgroup_name(unsigned group);
/* Public value (and shared secret) length of a group: the prime's bytes; 0 for null. */
size_t nvmf_dhchap_dh_len(unsigned group);

/*
 * Parse the interchange form.  0, -EINVAL (not the form: prefix, transform digits, base64,
 * length), or -EBADMSG (the CRC does not match: a mistyped or truncated key).
 */
int nvmf_dhchap_secret_parse(const char *s, struct nvmf_dhchap_secret *out);
/* Write the interchange form (with the trailing ':'); 0 or -ENOSPC / -EINVAL. */
int nvmf_dhchap_secret_format(const struct nvmf_dhchap_secret *s, char *buf, size_t size);
/*
 * The key the response hashes are keyed with: the secret as is (transform 0), or
 * HMAC-H(secret, nqn || "NVMe-over-Fabrics") with H the secret's transform hash.  The host
 * key is transformed with the host NQN, the controller key with the subsystem NQN.
 * Returns the key's length, or -errno.
 */
int nvmf_dhchap_secret_transform(const struct nvmf_dhchap_secret *s, const char *nqn,
				 uint8_t out[NVMF_DHCHAP_MAX_HASH]);
/*
 * A new secret as nvme-cli's gen-dhchap-key makes it: len random bytes (or the given
 * ones), with transform != 0 replaced by HMAC-H(key, nqn || "NVMe-over-Fabrics").
 * 0 or -EINVAL (length does not fit the transform, or no NQN for one).
 */
int nvmf_dhchap_secret_generate(struct nvmf_dhchap_secret *s, enum nvmf_dhchap_hash transform,
				size_t len, const uint8_t *given, const char *nqn);

/* Cryptographic random bytes; 0 or -EIO. */
int nvmf_dhchap_random(void *buf, size_t len);

/* H(data); returns the digest length or -errno. */
int nvmf_dhchap_hash(unsigned hash, const void *data, size_t len,
		     uint8_t out[NVMF_DHCHAP_MAX_HASH]);

/* One side's ephemeral DH key pair (OpenSSL's). */
struct nvmf_dhchap_dh;
/* A new key pair in an FFDHE group; NULL on failure (errno set). */
struct nvmf_dhchap_dh *nvmf_dhchap_dh_new(unsigned group);
void nvmf_dhchap_dh_free(struct nvmf_dhchap_dh *dh);
/* The public value, big-endian, padded to nvmf_dhchap_dh_len(); 0 or -errno. */
int nvmf_dhchap_dh_public(const struct nvmf_dhchap_dh *dh, uint8_t *out, size_t len);
/*
 * Z = peer^x mod p, padded to the prime's length.  -EINVAL when the peer's value has the
 * wrong length or is not a valid public value (1, p-1, out of range).
 */
int nvmf_dhchap_dh_shared(const struct nvmf_dhchap_dh *dh, const uint8_t *peer, size_t peer_len,
			  uint8_t *z, size_t z_len);

/* Ca = HMAC-H(H(Z), C) for a DH exchange; the challenge itself for the null group. */
int nvmf_dhchap_augment(unsigned hash, const uint8_t *challenge, const uint8_t *z, size_t z_len,
			uint8_t out[NVMF_DHCHAP_MAX_HASH]);

/*
 * The host's response R1 = HMAC-H(K'h, Ca || S1 || T_ID || SC_C || "HostHost" || hostnqn ||
 * 0 || subnqn), and the controller's R2 = HMAC-H(K'c, Cb || S2 || T_ID || 0 || "Controller"
 * || subnqn || 0 || hostnqn).  The challenge is hash-length bytes.  0 or -errno.
 */
int nvmf_dhchap_host_response(unsigned hash, const uint8_t *key, size_t key_len,
			      const uint8_t *challenge, uint32_t seq, uint16_t tid, uint8_t sc_c,
			      const char *hostnqn, const char *subnqn,
			      uint8_t out[NVMF_DHCHAP_MAX_HASH]);
int nvmf_dhchap_ctrl_response(unsigned hash, const uint8_t *key, size_t key_len,
			      const uint8_t *challenge, uint32_t seq, uint16_t tid,
			      const char *subnqn, const char *hostnqn,
			      uint8_t out[NVMF_DHCHAP_MAX_HASH]);

/* Constant-time comparison of two responses. */
bool nvmf_dhchap_equal(const uint8_t *a, const uint8_t *b, size_t len);

/* Wipe key material before the memory is freed or reused. */
void nvmf_dhchap_wipe(void *p, size_t len);

#endif
