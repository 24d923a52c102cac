/*
 * Writes the seed corpus of fuzz_host into a directory: scripts of a sane controller
 * (every op answers as a controller should) for discovery and for an I/O controller, with
 * the data split, completed by DATA_SUCCESS, or patched, so the fuzzer starts connected.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "host_input.h"

#define OPS 96

static int save(const char *dir, int n, uint8_t mode, uint8_t op, const uint8_t *tail,
		size_t tail_len)
{
	uint8_t buf[1 + OPS + 64];
	char path[4096];
	FILE *f;

	buf[0] = mode;
	memset(buf + 1, op, OPS);
	if (tail_len)
		memcpy(buf + 1 + OPS, tail, tail_len);
	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	fwrite(buf, 1, 1 + OPS + tail_len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	/* a patch: one entry at offset 8 (numrec of a discovery log), 1 byte: 0x40 */
	static const uint8_t numrec[] = { HI_PATCH, 0, 8, 0, 1, 0x40 };
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (save(argv[1], n++, HM_DISCOVER, HI_SANE, NULL, 0) ||
	    save(argv[1], n++, 1, HI_SANE, NULL, 0) ||
	    save(argv[1], n++, 1 | HM_BIG_WRITE, HI_SPLIT, NULL, 0) ||
	    save(argv[1], n++, 1 | HM_NO_SQFLOW, HI_SUCCESS, NULL, 0) ||
	    save(argv[1], n++, 1, HI_AEN, NULL, 0) ||
	    save(argv[1], n++, HM_DISCOVER, HI_SPLIT | HI_SUCCESS, NULL, 0))
		return 1;
	/* discovery whose log changes size between reads */
	{
		uint8_t f[1 + 8 + sizeof(numrec)];
		char path[4096];
		FILE *fp;

		f[0] = HM_DISCOVER;
		memset(f + 1, 0, 8);
		memcpy(f + 9, numrec, sizeof(numrec));
		snprintf(path, sizeof(path), "%s/seed-%02d", argv[1], n++);
		fp = fopen(path, "wb");
		if (!fp)
			return 1;
		fwrite(f, 1, sizeof(f), fp);
		if (fclose(fp))
			return 1;
	}
	return 0;
}
