/* Internal to src/auth: HMAC over a message given in parts (OpenSSL's EVP_MAC). */
#ifndef NVMF_AUTH_HMAC_H
#define NVMF_AUTH_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "auth/dhchap.h"

struct auth_part {
	const void *p;
	size_t len;
};

/* HMAC-H(key, parts...): returns the digest length or -errno. */
int auth_hmac(unsigned hash, const uint8_t *key, size_t key_len, const struct auth_part *parts,
	      int nparts, uint8_t out[NVMF_DHCHAP_MAX_HASH]);

#endif
