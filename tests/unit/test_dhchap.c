/*
 * DH-HMAC-CHAP building blocks: the DHHC-1 secret form (CRC, lengths, transforms), the key
 * transform and both responses against answers computed independently (Python's hmac and
 * zlib over the formulas in the spec), and the FFDHE exchange in every group.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/dhchap.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define SUBNQN "nqn.2024-01.io.example:sub1"
/* bytes 00..1f, transform 01 */
#define KEY01 "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"

static void hex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		assert_int_equal(sscanf(s + 2 * i, "%2hhx", &out[i]), 1);
}

static void parse_known_secret(void **state)
{
	struct nvmf_dhchap_secret s;
	char buf[NVMF_DHCHAP_SECRET_STR_MAX];

	(void)state;
	assert_int_equal(nvmf_dhchap_secret_parse(KEY01, &s), 0);
	assert_int_equal(s.len, 32);
	assert_int_equal(s.transform, NVMF_DHCHAP_SHA256);
	for (int i = 0; i < 32; i++)
		assert_int_equal(s.key[i], i);
	assert_int_equal(nvmf_dhchap_secret_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, KEY01);
	/* the kernel takes the form without its trailing ':' too */
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(KEY01) - 1, KEY01);
	assert_int_equal(nvmf_dhchap_secret_parse(buf, &s), 0);
	assert_int_equal(s.len, 32);
}

static void refuse_bad_secrets(void **state)
{
	struct nvmf_dhchap_secret s;
	char buf[NVMF_DHCHAP_SECRET_STR_MAX];

	(void)state;
	/* one base64 character changed: the CRC no longer matches */
	snprintf(buf, sizeof(buf), "%s", KEY01);
	buf[12] = buf[12] == 'A' ? 'B' : 'A';
	assert_int_equal(nvmf_dhchap_secret_parse(buf, &s), -EBADMSG);
	assert_int_equal(s.len, 0);
	assert_int_equal(nvmf_dhchap_secret_parse("DHHC-2:01:AAAA:", &s), -EINVAL);
	assert_int_equal(nvmf_dhchap_secret_parse("DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", &s), -EINVAL);
	assert_int_equal(nvmf_dhchap_secret_parse("DHHC-1:1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", &s), -EINVAL);
	/* 16 bytes of key with a good CRC: too short for any hash */
	assert_int_equal(nvmf_dhchap_secret_parse("DHHC-1:00:AAECAwQFBgcICQoLDA0OD4jizs4=:", &s), -EINVAL);
	assert_int_equal(nvmf_dhchap_secret_parse("DHHC-1:01:AAEC*wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", &s), -EINVAL);
	assert_int_equal(nvmf_dhchap_secret_parse(KEY01 "x", &s), -EINVAL);
	assert_int_equal(nvmf_dhchap_secret_parse("", &s), -EINVAL);
}

static void generate_roundtrips(void **state)
{
	static const size_t lens[] = { 32, 48, 64 };
	struct nvmf_dhchap_secret s, back;
	char buf[NVMF_DHCHAP_SECRET_STR_MAX];

	(void)state;
	for (unsigned t = 0; t <= 3; t++) {
		for (int i = 0; i < 3; i++) {
			int rc = nvmf_dhchap_secret_generate(&s, t, lens[i], NULL, HOSTNQN);

			if (t && lens[i] != nvmf_dhchap_hash_len(t)) {
				assert_int_equal(rc, -EINVAL);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(nvmf_dhchap_secret_format(&s, buf, sizeof(buf)), 0);
			/* nvme-cli's check-dhchap-key lengths: 59 / 83 / 103 characters */
			assert_int_equal(strlen(buf), lens[i] == 32 ? 59 : lens[i] == 48 ? 83 : 103);
			assert_int_equal(nvmf_dhchap_secret_parse(buf, &back), 0);
			assert_int_equal(back.len, s.len);
			assert_memory_equal(back.key, s.key, s.len);
		}
	}
	/* a transformed key needs the NQN it is bound to */
	assert_int_equal(nvmf_dhchap_secret_generate(&s, NVMF_DHCHAP_SHA256, 32, NULL, NULL), -EINVAL);
}

/* A given key with transform 01 becomes HMAC-SHA256(key, hostnqn || "NVMe-over-Fabrics"). */
static void generate_from_given_key(void **state)
{
	uint8_t key[32], want[32];
	struct nvmf_dhchap_secret s;

	(void)state;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	hex("6c7b81cb2a746f74454b1d7140f3153b51ca99459fcef7a86a17f27695b87cd8", want, 32);
	assert_int_equal(nvmf_dhchap_secret_generate(&s, NVMF_DHCHAP_SHA256, 32, key, HOSTNQN), 0);
	assert_memory_equal(s.key, want, 32);
	assert_int_equal(nvmf_dhchap_secret_generate(&s, NVMF_DHCHAP_HASH_NONE, 32, key, NULL), 0);
	assert_memory_equal(s.key, key, 32);
}

static void transform_and_host_response(void **state)
{
	struct nvmf_dhchap_secret s;
	uint8_t kp[NVMF_DHCHAP_MAX_HASH], want[32], c1[32], r1[NVMF_DHCHAP_MAX_HASH];

	(void)state;
	assert_int_equal(nvmf_dhchap_secret_parse(KEY01, &s), 0);
	assert_int_equal(nvmf_dhchap_secret_transform(&s, HOSTNQN, kp), 32);
	hex("6c7b81cb2a746f74454b1d7140f3153b51ca99459fcef7a86a17f27695b87cd8", want, 32);
	assert_memory_equal(kp, want, 32);
	memset(c1, 0xAA, sizeof(c1));
	assert_int_equal(nvmf_dhchap_host_response(NVMF_DHCHAP_SHA256, kp, 32, c1, 0x01020304, 5,
						   0, HOSTNQN, SUBNQN, r1), 0);
	hex("4941918341ac1821bef5bab9c98e240e10236d339ab4a6f4baec11c52f09e93d", want, 32);
	assert_memory_equal(r1, want, 32);
	/* transform 00: the secret is the key */
	s.transform = NVMF_DHCHAP_HASH_NONE;
	assert_int_equal(nvmf_dhchap_secret_transform(&s, HOSTNQN, kp), 32);
	assert_memory_equal(kp, s.key, 32);
}

/* R2 with SHA-384 keyed by a SHA-256-transformed key: the two hashes are independent. */
static void ctrl_response(void **state)
{
	struct nvmf_dhchap_secret s;
	uint8_t kc[NVMF_DHCHAP_MAX_HASH], c2[48], r2[NVMF_DHCHAP_MAX_HASH], want[48];

	(void)state;
	assert_int_equal(nvmf_dhchap_secret_parse(KEY01, &s), 0);
	assert_int_equal(nvmf_dhchap_secret_transform(&s, SUBNQN, kc), 32);
	memset(c2, 0xBB, sizeof(c2));
	assert_int_equal(nvmf_dhchap_ctrl_response(NVMF_DHCHAP_SHA384, kc, 32, c2, 7, 5, SUBNQN,
						   HOSTNQN, r2), 0);
	hex("9a8bf041ca7fe97ec4605060d8daf90de4ab4fa78a2cd92fd3efff48d3d2fa27"
	    "ca48d5b926b3e241448fc634a46f13a1", want, 48);
	assert_memory_equal(r2, want, 48);
	assert_true(nvmf_dhchap_equal(r2, want, 48));
	want[47] ^= 1;
	assert_false(nvmf_dhchap_equal(r2, want, 48));
}

static void augmented_challenge(void **state)
{
	uint8_t z[256], c[32], out[NVMF_DHCHAP_MAX_HASH], want[32];

	(void)state;
	for (int i = 0; i < 256; i++)
		z[i] = (uint8_t)(i * 7);
	memset(c, 0xAA, sizeof(c));
	assert_int_equal(nvmf_dhchap_augment(NVMF_DHCHAP_SHA256, c, z, sizeof(z), out), 32);
	hex("c5c650c1f22b39f8a3ee153e980f55878cbd4c593617cc85b9b44fcfa1eaf261", want, 32);
	assert_memory_equal(out, want, 32);
	/* the null group: the challenge as is */
	assert_int_equal(nvmf_dhchap_augment(NVMF_DHCHAP_SHA256, c, NULL, 0, out), 32);
	assert_memory_equal(out, c, 32);
}

/* Both sides of every FFDHE group agree on Z; a degenerate peer value is refused. */
static void dh_every_group(void **state)
{
	static uint8_t pa[NVMF_DHCHAP_MAX_DH], pb[NVMF_DHCHAP_MAX_DH];
	static uint8_t za[NVMF_DHCHAP_MAX_DH], zb[NVMF_DHCHAP_MAX_DH], bad[NVMF_DHCHAP_MAX_DH];

	(void)state;
	assert_null(nvmf_dhchap_dh_new(NVMF_DHCHAP_DH_NULL));
	for (unsigned g = NVMF_DHCHAP_FFDHE2048; g < NVMF_DHCHAP_DH_COUNT; g++) {
		size_t len = nvmf_dhchap_dh_len(g);
		struct nvmf_dhchap_dh *a = nvmf_dhchap_dh_new(g), *b = nvmf_dhchap_dh_new(g);

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(len, 256 + (g == 2 ? 128 : g == 3 ? 256 : g == 4 ? 512 :
					     g == 5 ? 768 : 0));
		assert_int_equal(nvmf_dhchap_dh_public(a, pa, len), 0);
		assert_int_equal(nvmf_dhchap_dh_public(b, pb, len), 0);
		assert_memory_not_equal(pa, pb, len);
		assert_int_equal(nvmf_dhchap_dh_shared(a, pb, len, za, len), 0);
		assert_int_equal(nvmf_dhchap_dh_shared(b, pa, len, zb, len), 0);
		assert_memory_equal(za, zb, len);
		/* 1 and 0 are no public values; nor is a value of the wrong length */
		memset(bad, 0, len);
		bad[len - 1] = 1;
		assert_int_equal(nvmf_dhchap_dh_shared(a, bad, len, za, len), -EINVAL);
		bad[len - 1] = 0;
		assert_int_equal(nvmf_dhchap_dh_shared(a, bad, len, za, len), -EINVAL);
		assert_int_equal(nvmf_dhchap_dh_shared(a, pb, len - 1, za, len), -EINVAL);
		nvmf_dhchap_dh_free(a);
		nvmf_dhchap_dh_free(b);
	}
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(nvmf_dhchap_hash_name(NVMF_DHCHAP_SHA384), "hmac(sha384)");
	assert_null(nvmf_dhchap_hash_name(4));
	assert_string_equal(nvmf_dhchap_dhgroup_name(NVMF_DHCHAP_FFDHE8192), "ffdhe8192");
	assert_string_equal(nvmf_dhchap_dhgroup_name(NVMF_DHCHAP_DH_NULL), "null");
	assert_int_equal(nvmf_dhchap_hash_len(NVMF_DHCHAP_SHA512), 64);
	assert_int_equal(nvmf_dhchap_hash_len(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_known_secret),
		cmocka_unit_test(refuse_bad_secrets),
		cmocka_unit_test(generate_roundtrips),
		cmocka_unit_test(generate_from_given_key),
		cmocka_unit_test(transform_and_host_response),
		cmocka_unit_test(ctrl_response),
		cmocka_unit_test(augmented_challenge),
		cmocka_unit_test(dh_every_group),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
