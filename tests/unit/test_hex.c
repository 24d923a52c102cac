/*
 * nvmf_hex_encode / nvmf_hex_decode: host IDs, NGUIDs and reservation keys as text.  The
 * decoder must refuse what sscanf("%2x") let through before (a sign, a space, "0x").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/hex.h"

static void round_trip(void **state)
{
	uint8_t in[16], out[16];
	char text[33];

	(void)state;
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 17 + 3);
	nvmf_hex_encode(text, in, sizeof(in));
	assert_string_equal(text, "031425364758697a8b9cadbecfe0f102");
	assert_int_equal(nvmf_hex_decode(text, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
}

static void either_case(void **state)
{
	uint8_t out[4];
	const uint8_t want[4] = { 0xde, 0xad, 0xbe, 0xef };

	(void)state;
	assert_int_equal(nvmf_hex_decode("DEADbeef", out, 4), 0);
	assert_memory_equal(out, want, 4);
}

static void refuses_other_text(void **state)
{
	uint8_t out[2];
	const char *bad[] = { "", "abc", "abcde", "+abc", " abc", "0xab", "ab c", "abcg",
			      "g0ab", "-1ab" };

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nvmf_hex_decode(bad[i], out, 2), -1);
	assert_int_equal(nvmf_hex_decode(NULL, out, 2), -1);
}

static void empty(void **state)
{
	char text[1] = { 'x' };

	(void)state;
	nvmf_hex_encode(text, NULL, 0);
	assert_string_equal(text, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(either_case),
		cmocka_unit_test(refuses_other_text),
		cmocka_unit_test(empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
