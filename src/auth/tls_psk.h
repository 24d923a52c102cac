/*
 * NVMe/TCP TLS pre-shared keys (NVMe TCP transport 3.6, TP 8011 / TP 8018): the PSK
 * interchange form "NVMeTLSkey-1:<xx>:<base64(key || CRC-32)>:", the retained PSK bound to
 * the host NQN, the PSK identity ("NVMe0R<hh> <hostnqn> <subnqn>", or version 1 with a
 * digest) and the TLS PSK handed to the TLS 1.3 handshake as the external PSK.
 *
 * Two derivations exist in the field: the one the spec and SPDK (and libnvme >= 1.16)
 * compute, whose HKDF labels are RFC 8446 HkdfLabel structures, and the one of libnvme
 * <= 1.15 (nvme-cli 2.13 of Debian 13), whose labels are raw concatenations.  A key is
 * derived one way or the other; both sides must agree.
 */
#ifndef NVMF_AUTH_TLS_PSK_H
#define NVMF_AUTH_TLS_PSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVMF_TLS_PSK_MAX 48            /* SHA-384 keys */
/* "NVMeTLSkey-1:02:" + base64 of 52 bytes (72) + ":" + NUL */
#define NVMF_TLS_KEY_STR_MAX 96
/* "NVMe1R02 " + two NQNs of up to 223 + 2 spaces + a SHA-384 digest in base64 (64) */
#define NVMF_TLS_IDENTITY_MAX 528

/* A configured PSK as the interchange form carries it. */
struct nvmf_tls_key {
	uint8_t key[NVMF_TLS_PSK_MAX];
	size_t len;      /* 32 or 48 */
	unsigned hmac;   /* xx: 0 = the key is the retained PSK, 1 = SHA-256, 2 = SHA-384 */
};

enum nvmf_tls_derive {
	NVMF_TLS_DERIVE_RFC,     /* the spec, SPDK, libnvme >= 1.16 */
	NVMF_TLS_DERIVE_COMPAT,  /* libnvme <= 1.15 (nvme-cli 2.13) */
};

/* 0, -EINVAL (not the form, bad length for xx), -EBADMSG (CRC mismatch). */
int nvmf_tls_key_parse(const char *s, struct nvmf_tls_key *out);
int nvmf_tls_key_format(const struct nvmf_tls_key *k, char *buf, size_t size);
/* A new key as nvme-cli's gen-tls-key makes it (hmac 1: 32 bytes, 2: 48); given may be NULL. */
int nvmf_tls_key_generate(struct nvmf_tls_key *k, unsigned hmac, const uint8_t *given);

/* The PSK's hash and so its cipher suite: 1 = SHA-256 (AES-128-GCM), 2 = SHA-384. */
unsigned nvmf_tls_key_hash(const struct nvmf_tls_key *k);

/* The retained PSK: HKDF(key, "HostNQN", hostnqn) unless xx is 0.  Length or -errno. */
int nvmf_tls_retained(const struct nvmf_tls_key *k, const char *hostnqn,
		      enum nvmf_tls_derive how, uint8_t out[NVMF_TLS_PSK_MAX]);

/*
 * The identity (version 0 or 1) and the TLS PSK of a configured key for one host and
 * subsystem.  Returns the TLS PSK's length or -errno.
 */
int nvmf_tls_psk(const struct nvmf_tls_key *k, const char *hostnqn, const char *subnqn,
		 unsigned version, enum nvmf_tls_derive how, char identity[NVMF_TLS_IDENTITY_MAX],
		 uint8_t psk[NVMF_TLS_PSK_MAX]);

/*
 * HKDF-Expand-Label (RFC 8446 7.1) with hash 1 (SHA-256) or 2 (SHA-384), in the given
 * label layout; extract: the secret first goes through HKDF-Extract with a zero salt (the
 * PSK derivations), else it is a PRK already (a TLS traffic secret, for kTLS keys).
 * 0 or -errno.
 */
int nvmf_tls_expand_label(unsigned hash, const uint8_t *secret, size_t secret_len, bool extract,
			  const char *label, const void *ctx, size_t ctx_len,
			  enum nvmf_tls_derive how, uint8_t *out, size_t out_len);

#endif
