/*
 * Writes the seed corpus of fuzz_pdu_rx into a directory: well-formed connections in both
 * directions under several receiver settings, so the fuzzer starts from deep states.
 */
#include <stdio.h>

#include "fuzz_input.h"
#include "pdu_test_util.h"

static int write_seed(const char *dir, int n, const uint8_t pre[FZ_PREAMBLE],
		      const struct stream *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	fwrite(pre, 1, FZ_PREAMBLE, f);
	fwrite(s->buf, 1, s->len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static const uint32_t scales[] = { 16, 512, 4096 };
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++) {
		struct conn c;
		uint8_t ctrl[FZ_PREAMBLE] = { FZ_NEGOTIATE, 0, (uint8_t)i, 0x0A };
		uint8_t host[FZ_PREAMBLE] = { FZ_HOST | FZ_NEGOTIATE | FZ_PULL, 0, (uint8_t)i, 0 };

		sample_conn(&c, scales[i]);
		if (write_seed(argv[1], n++, ctrl, &c.h2c) || write_seed(argv[1], n++, host, &c.c2h))
			return 1;
		ctrl[0] |= FZ_PULL | FZ_NO_DEST;
		if (write_seed(argv[1], n++, ctrl, &c.h2c))
			return 1;
		conn_free(&c);
	}
	return 0;
}
