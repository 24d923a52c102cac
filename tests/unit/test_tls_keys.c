/*
 * The target's --tls-keys file (src/target/tls_keys.c): lines, comments and the per-line
 * derivation; refusals that name the file and line but never the key; the file mode; and
 * the lookup by identity (versions 0 and 1, both derivations, everything that must not
 * match).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn/tls.h"
#include "target/tls_keys.h"

#define HOST_A "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-4000-8000-000000000001"
#define HOST_B "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-4000-8000-000000000002"
#define SUB "nqn.2024-01.io.nvmf-tcp.test:vol"

static char path[64], key_a[NVMF_TLS_KEY_STR_MAX], key_b[NVMF_TLS_KEY_STR_MAX];

static void gen(char *buf, unsigned hmac)
{
	struct nvmf_tls_key k;

	assert_int_equal(nvmf_tls_key_generate(&k, hmac, NULL), 0);
	assert_int_equal(nvmf_tls_key_format(&k, buf, NVMF_TLS_KEY_STR_MAX), 0);
}

static void write_file(const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-tls-keys-%d", (int)getpid());
	gen(key_a, 1);
	gen(key_b, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static struct nvmf_tls_keys *load_ok(void)
{
	char text[1024], err[256];
	struct nvmf_tls_keys *k;

	snprintf(text, sizeof(text), "# hosts\n\n%s %s\n  %s\t%s compat # old libnvme\n",
		 HOST_A, key_a, HOST_B, key_b);
	write_file(text, 0600);
	assert_int_equal(nvmf_tls_keys_load(path, false, &k, err, sizeof(err)), 0);
	assert_int_equal(nvmf_tls_keys_count(k), 2);
	return k;
}

/* What a host would offer, and must be taken (or not: expect). */
static void lookup(const struct nvmf_tls_keys *k, const char *key, const char *host,
		   unsigned version, enum nvmf_tls_derive how, int expect)
{
	char id[NVMF_TLS_IDENTITY_MAX];
	uint8_t want[NVMF_TLS_PSK_MAX], got[NVMF_TLS_PSK_MAX];
	struct nvmf_tls_peer peer;
	struct nvmf_tls_key cfg;
	size_t len = 0;
	unsigned hash = 0;
	int n;

	assert_int_equal(nvmf_tls_key_parse(key, &cfg), 0);
	n = nvmf_tls_psk(&cfg, host, SUB, version, how, id, want);
	assert_true(n > 0);
	assert_int_equal(nvmf_tls_keys_find(k, id, strlen(id), got, &len, &hash, &peer), expect);
	if (expect)
		return;
	assert_int_equal(len, (size_t)n);
	assert_memory_equal(got, want, len);
	assert_int_equal(hash, nvmf_tls_key_hash(&cfg));
	assert_string_equal(peer.hostnqn, host);
	assert_string_equal(peer.subnqn, SUB);
}

static void find_by_identity(void **state)
{
	struct nvmf_tls_keys *k = load_ok();

	(void)state;
	lookup(k, key_a, HOST_A, 0, NVMF_TLS_DERIVE_RFC, 0);
	lookup(k, key_a, HOST_A, 1, NVMF_TLS_DERIVE_RFC, 0);
	lookup(k, key_b, HOST_B, 0, NVMF_TLS_DERIVE_COMPAT, 0);
	lookup(k, key_b, HOST_B, 1, NVMF_TLS_DERIVE_COMPAT, 0);
	/* the v1 digest differs with the derivation: the line's must be the host's */
	lookup(k, key_a, HOST_A, 1, NVMF_TLS_DERIVE_COMPAT, -EKEYREJECTED);
	lookup(k, key_b, HOST_B, 1, NVMF_TLS_DERIVE_RFC, -EKEYREJECTED);
	/* another host's key under its name: the v1 digest or the hash gives it away */
	lookup(k, key_b, HOST_A, 1, NVMF_TLS_DERIVE_RFC, -EKEYREJECTED);
	lookup(k, key_b, HOST_A, 0, NVMF_TLS_DERIVE_RFC, -EKEYREJECTED); /* NVMe0R02 vs R01 */
	nvmf_tls_keys_free(k);
}

static void bad_identities(void **state)
{
	static const char *const bad[] = {
		"",
		"NVMe0R01",
		"NVMe0R01 " HOST_A,
		"NVMe0R01 " HOST_A " " SUB " digest",  /* v0 has no digest */
		"NVMe1R01 " HOST_A " " SUB,            /* v1 has one */
		"NVMe2R01 " HOST_A " " SUB,
		"NVMx0R01 " HOST_A " " SUB,
		"NVMe0R01  " HOST_A " " SUB,
	};
	static const char unknown[] = "NVMe0R01 nqn.unknown " SUB;
	struct nvmf_tls_keys *k = load_ok();
	uint8_t psk[NVMF_TLS_PSK_MAX];
	struct nvmf_tls_peer peer;
	size_t len;
	unsigned hash;
	char nul[] = "NVMe0R01 " HOST_A "\0 " SUB;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nvmf_tls_keys_find(k, bad[i], strlen(bad[i]), psk, &len, &hash,
						    &peer), -EPROTO);
	assert_int_equal(nvmf_tls_keys_find(k, nul, sizeof(nul) - 1, psk, &len, &hash, &peer),
			 -EPROTO);
	/* a well-formed identity of a host without a key, and no keys at all */
	assert_int_equal(nvmf_tls_keys_find(k, unknown, strlen(unknown), psk, &len, &hash,
					    &peer), -ENOENT);
	assert_int_equal(nvmf_tls_keys_find(NULL, unknown, strlen(unknown), psk, &len, &hash,
					    &peer), -ENOENT);
	nvmf_tls_keys_free(k);
}

/* A refused file: the error names file and line, holds no key; nothing is returned. */
static void refused(const char *text, mode_t mode, int rc, const char *where, const char *why)
{
	struct nvmf_tls_keys *k = (void *)1;
	char err[256], want[96];

	write_file(text, mode);
	assert_int_equal(nvmf_tls_keys_load(path, false, &k, err, sizeof(err)), rc);
	assert_null(k);
	snprintf(want, sizeof(want), "%s%s", path, where);
	print_message("# %s\n", err);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, why));
	assert_null(strstr(err, key_a + 16));
	assert_null(strstr(err, key_b + 16));
}

static void bad_files(void **state)
{
	char text[1024], badcrc[NVMF_TLS_KEY_STR_MAX];
	size_t n = strlen(key_a);

	(void)state;
	snprintf(text, sizeof(text), "%s %s\n", HOST_A, key_a);
	refused(text, 0644, -EPERM, ":", "group or others");
	refused(text, 0660, -EPERM, ":", "group or others");
	refused(text, 0604, -EPERM, ":", "group or others");
	snprintf(text, sizeof(text), "%s %s\n%s\n", HOST_A, key_a, HOST_B);
	refused(text, 0600, -EINVAL, ":2:", "expected");
	snprintf(text, sizeof(text), "%s %s\n%s %s rfc extra\n", HOST_A, key_a, HOST_B, key_b);
	refused(text, 0600, -EINVAL, ":2:", "expected");
	snprintf(text, sizeof(text), "%s %s sha1\n", HOST_A, key_a);
	refused(text, 0600, -EINVAL, ":1:", "unknown derivation");
	snprintf(text, sizeof(text), "%s %s\n%s %s\n", HOST_A, key_a, HOST_A, key_b);
	refused(text, 0600, -EINVAL, ":2:", "has a key already");
	snprintf(text, sizeof(text), "%s NVMeTLSkey-1:01:tooshort:\n", HOST_A);
	refused(text, 0600, -EINVAL, ":1:", "key");
	/* one base64 character changed: the CRC no longer matches */
	memcpy(badcrc, key_a, n + 1);
	badcrc[20] = badcrc[20] == 'A' ? 'B' : 'A';
	snprintf(text, sizeof(text), "\n%s %s\n", HOST_A, badcrc);
	refused(text, 0600, -EINVAL, ":2:", "CRC");
	unlink(path);
	{
		struct nvmf_tls_keys *k;
		char err[256];

		assert_int_equal(nvmf_tls_keys_load(path, false, &k, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, path));
	}
}

/* --tls-compat makes compat the default; "rfc" on a line overrides it. */
static void compat_default(void **state)
{
	char text[1024], err[256];
	struct nvmf_tls_keys *k;

	(void)state;
	snprintf(text, sizeof(text), "%s %s\n%s %s rfc\n", HOST_A, key_a, HOST_B, key_b);
	write_file(text, 0600);
	assert_int_equal(nvmf_tls_keys_load(path, true, &k, err, sizeof(err)), 0);
	lookup(k, key_a, HOST_A, 1, NVMF_TLS_DERIVE_COMPAT, 0);
	lookup(k, key_a, HOST_A, 1, NVMF_TLS_DERIVE_RFC, -EKEYREJECTED);
	lookup(k, key_b, HOST_B, 1, NVMF_TLS_DERIVE_RFC, 0);
	nvmf_tls_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_identity),
		cmocka_unit_test(bad_identities),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(compat_default),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
