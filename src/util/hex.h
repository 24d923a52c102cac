/*
 * Hexadecimal text for binary identifiers and keys (host IDs, NGUIDs, reservation keys in
 * the PTPL file, the RBD reservation record and SPDK's RPC parameters).
 */
#ifndef NVMF_UTIL_HEX_H
#define NVMF_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2 * len lowercase hex digits and a NUL to out (2 * len + 1 bytes). */
void nvmf_hex_encode(char *out, const uint8_t *p, size_t len);

/*
 * Exactly 2 * len hex digits (either case, nothing else: no sign, no space, no "0x") into
 * len bytes.  0, or -1 with out unspecified.
 */
int nvmf_hex_decode(const char *s, uint8_t *out, size_t len);

#endif
