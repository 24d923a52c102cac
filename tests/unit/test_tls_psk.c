/*
 * TLS PSKs: the interchange form (libnvme's test/psk.c keys), the identities of both
 * versions with the digests libnvme's tests expect in both derivations, and the TLS PSKs
 * (computed independently with Python's hmac over RFC 5869 / RFC 8446).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/tls_psk.h"

#define HOST "nqn.psk-test-host"
#define SUBSYS "nqn.psk-test-subsys"
#define KEY32 "5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03"
#define KEY48 KEY32 "FFC344BCF442E2DD6D8BC4870B5D5B03"
#define FORM01 "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define FORM02 "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:"

static void hex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		assert_int_equal(sscanf(s + 2 * i, "%2hhx", &out[i]), 1);
}

static void interchange_form(void **state)
{
	struct nvmf_tls_key k;
	uint8_t want[48];
	char buf[NVMF_TLS_KEY_STR_MAX];

	(void)state;
	assert_int_equal(nvmf_tls_key_parse(FORM01, &k), 0);
	hex(KEY32, want, 32);
	assert_int_equal(k.len, 32);
	assert_int_equal(k.hmac, 1);
	assert_memory_equal(k.key, want, 32);
	assert_int_equal(nvmf_tls_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, FORM01);
	assert_int_equal(nvmf_tls_key_parse(FORM02, &k), 0);
	hex(KEY48, want, 48);
	assert_int_equal(k.len, 48);
	assert_int_equal(k.hmac, 2);
	assert_memory_equal(k.key, want, 48);
	assert_int_equal(nvmf_tls_key_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, FORM02);
	/* 01 with a 48-byte key, 03, a bad CRC, no prefix */
	assert_int_equal(nvmf_tls_key_parse("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:", &k), -EINVAL);
	assert_int_equal(nvmf_tls_key_parse("NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", &k), -EINVAL);
	assert_int_equal(nvmf_tls_key_parse("NVMeTLSkey-1:01:WRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", &k), -EBADMSG);
	assert_int_equal(nvmf_tls_key_parse("DHHC-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", &k), -EINVAL);
	/* 00: either length */
	assert_int_equal(nvmf_tls_key_parse("NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:", &k), 0);
	assert_int_equal(nvmf_tls_key_hash(&k), 1);
}

struct vector {
	const char *form;
	unsigned version;
	enum nvmf_tls_derive how;
	const char *identity;
	const char *psk;
};

static const struct vector vectors[] = {
	{ FORM01, 1, NVMF_TLS_DERIVE_RFC,
	  "NVMe1R01 " HOST " " SUBSYS " iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=",
	  "8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca" },
	{ FORM01, 0, NVMF_TLS_DERIVE_RFC, "NVMe0R01 " HOST " " SUBSYS,
	  "05c6503551ad136e6ee32e6eeb3f6d500b69701d84ec71e328f65c7f51566f68" },
	{ FORM01, 1, NVMF_TLS_DERIVE_COMPAT,
	  "NVMe1R01 " HOST " " SUBSYS " 66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=",
	  "b9f5ab2a41ba6e72a23a12066302a2f775fa6c0942c8e0b18ca8ac07edf305e2" },
	{ FORM01, 0, NVMF_TLS_DERIVE_COMPAT, "NVMe0R01 " HOST " " SUBSYS,
	  "09fb1983ac6d6d0353e7cae4f23daddd651c367fa347c59d9cf6936f5a83eafb" },
	{ FORM02, 1, NVMF_TLS_DERIVE_RFC,
	  "NVMe1R02 " HOST " " SUBSYS " QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a",
	  "a2b2f943f479fc682555cec89857c80ed004ce92f32a973d5764155bb7e36b17"
	  "a85368a0666d250afac9282dda2e62ca" },
	{ FORM02, 0, NVMF_TLS_DERIVE_RFC, "NVMe0R02 " HOST " " SUBSYS,
	  "f42ba63824cdfe421914c582921f85b5b5b7e2d4df084caeedc9be20b212e8bb"
	  "0fe8a23e9d59a1c8fc6449da4970a78d" },
	{ FORM02, 1, NVMF_TLS_DERIVE_COMPAT,
	  "NVMe1R02 " HOST " " SUBSYS " RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz",
	  "fcefe2e2a2e682b1447dcabf1ec268f78f08c63cd075753abcc8bda2c5c34d48"
	  "d3014aa8d76ad80107e4f5c9f27e2149" },
	{ FORM02, 0, NVMF_TLS_DERIVE_COMPAT, "NVMe0R02 " HOST " " SUBSYS,
	  "2ee4754186a625b28a3936ef4a40d839c3ad958b2e017562ee07e2501f172ce9"
	  "99dc9c29033ea7ee33f814f192c13f47" },
};

static void identities_and_psks(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char identity[NVMF_TLS_IDENTITY_MAX];
		uint8_t psk[NVMF_TLS_PSK_MAX], want[NVMF_TLS_PSK_MAX];
		struct nvmf_tls_key k;
		size_t len = strlen(v->psk) / 2;

		assert_int_equal(nvmf_tls_key_parse(v->form, &k), 0);
		assert_int_equal(nvmf_tls_psk(&k, HOST, SUBSYS, v->version, v->how, identity, psk),
				 (int)len);
		assert_string_equal(identity, v->identity);
		hex(v->psk, want, len);
		assert_memory_equal(psk, want, len);
	}
}

static void generate(void **state)
{
	struct nvmf_tls_key k, back;
	char buf[NVMF_TLS_KEY_STR_MAX];

	(void)state;
	for (unsigned m = 1; m <= 2; m++) {
		assert_int_equal(nvmf_tls_key_generate(&k, m, NULL), 0);
		assert_int_equal(k.len, m == 1 ? 32 : 48);
		assert_int_equal(nvmf_tls_key_format(&k, buf, sizeof(buf)), 0);
		/* libnvme's length checks: 65 and 89 characters */
		assert_int_equal(strlen(buf), m == 1 ? 65 : 89);
		assert_int_equal(nvmf_tls_key_parse(buf, &back), 0);
		assert_memory_equal(back.key, k.key, k.len);
	}
	assert_int_equal(nvmf_tls_key_generate(&k, 0, NULL), -EINVAL);
	assert_int_equal(nvmf_tls_key_generate(&k, 3, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interchange_form),
		cmocka_unit_test(identities_and_psks),
		cmocka_unit_test(generate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
