/*
 * Internal to src/auth: the payload both key interchange forms share (DH-HMAC-CHAP's
 * "DHHC-1:" and TLS's "NVMeTLSkey-1:"): base64 of the key followed by its CRC-32 (zlib's),
 * little-endian.
 */
#ifndef NVMF_AUTH_INTERCHANGE_H
#define NVMF_AUTH_INTERCHANGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode "<base64>[:]" (nothing after the ':'), check the CRC; the key's length into *len.
 * 0, -EINVAL (not base64, too long) or -EBADMSG (CRC mismatch).
 */
int auth_interchange_decode(const char *b64, uint8_t *key, size_t max, size_t *len);
/* base64(key || crc) into buf; 0 or -ENOSPC. */
int auth_interchange_encode(const uint8_t *key, size_t len, char *buf, size_t size);

#endif
