/* CRC32C known answers (RFC 3720 B.4) and the running / scatter-list forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/crc32c.h"

static void rfc3720_zeros(void **state)
{
	uint8_t buf[32] = {0};

	(void)state;
	assert_int_equal(nvmf_crc32c(buf, sizeof(buf)), 0x8A9136AA);
}

static void rfc3720_ones(void **state)
{
	uint8_t buf[32];

	(void)state;
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(nvmf_crc32c(buf, sizeof(buf)), 0x62A8AB43);
}

static void rfc3720_incrementing(void **state)
{
	uint8_t up[32], down[32];

	(void)state;
	for (int i = 0; i < 32; i++) {
		up[i] = (uint8_t)i;
		down[i] = (uint8_t)(31 - i);
	}
	assert_int_equal(nvmf_crc32c(up, sizeof(up)), 0x46DD794E);
	assert_int_equal(nvmf_crc32c(down, sizeof(down)), 0x113FDB5C);
}

static void check_string(void **state)
{
	(void)state;
	assert_int_equal(nvmf_crc32c("123456789", 9), 0xE3069283);
	assert_int_equal(nvmf_crc32c("", 0), 0x00000000);
}

/* Any split of the input, running or as a scatter list, gives the one-shot result. */
static void running_and_iov_match_oneshot(void **state)
{
	static uint8_t buf[4099];
	uint32_t want;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	want = nvmf_crc32c(buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 97) {
		uint32_t raw = nvmf_crc32c_update(NVMF_CRC32C_SEED, buf, cut);
		struct iovec iov[3] = {
			{ buf, cut / 2 },
			{ buf + cut / 2, cut - cut / 2 },
			{ buf + cut, sizeof(buf) - cut },
		};

		raw = nvmf_crc32c_update(raw, buf + cut, sizeof(buf) - cut);
		assert_int_equal(nvmf_crc32c_final(raw), want);
		assert_int_equal(nvmf_crc32c_iov(iov, 3), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc3720_zeros),
		cmocka_unit_test(rfc3720_ones),
		cmocka_unit_test(rfc3720_incrementing),
		cmocka_unit_test(check_string),
		cmocka_unit_test(running_and_iov_match_oneshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
