/* Hexadecimal text <-> bytes, strict: see hex.h. */
#include <string.h>

#include "util/hex.h"

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void nvmf_hex_encode(char *out, const uint8_t *p, size_t len)
{
	static const char xd[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = xd[p[i] >> 4];
		out[2 * i + 1] = xd[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int nvmf_hex_decode(const char *s, uint8_t *out, size_t len)
{
	if (!s || strlen(s) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = digit(s[2 * i]), lo = digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
