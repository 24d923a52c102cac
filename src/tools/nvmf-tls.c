/*
 * nvmf and TLS pre-shared keys, as nvme-cli handles them: gen-tls-key (prints a configured
 * PSK in the interchange form NVMeTLSkey-1:xx:<base64>:) and check-tls-key (checks one and
 * prints the PSK identity it gives a host and a subsystem), with nvme-cli's flags.  The
 * derivation is the spec's (nvme-cli >= 2.16); -C/--compat gives libnvme <= 1.15's, which
 * nvme-cli 2.13 uses.  There is no kernel keyring here: --insert and its companions are
 * refused, so that no one believes a key was stored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/dhchap.h"
#include "auth/tls_psk.h"
#include "tools/nvmf.h"

/* nvme-cli's keyring options: accepted by name, refused with a reason. */
struct keyring_args {
	bool insert;
	const char *keyring, *keytype, *keyfile;
};

#define KEYRING_OPTS(k)                                                                     \
	{ "insert", 'i', CLI_FLAG, &(k).insert, NULL, "not supported (no kernel keyring)" }, \
	{ "keyring", 'k', CLI_STR, &(k).keyring, "NAME", "not supported" },                 \
	{ "keytype", 't', CLI_STR, &(k).keytype, "TYPE", "not supported" },                 \
	{ "keyfile", 'f', CLI_STR, &(k).keyfile, "FILE", "not supported" }

static int refuse_keyring(const struct keyring_args *k)
{
	if (!k->insert && !k->keyring && !k->keytype && !k->keyfile)
		return 0;
	cli_err("the kernel keyring is not used by this user-space host: give the key with "
		"--tls-key (or config.json's tls_key) instead of --insert/--keyring/--keytype/"
		"--keyfile");
	return EXIT_USAGE;
}

static int parse_hex(const char *s, uint8_t *out, size_t len)
{
	if (strlen(s) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

int cmd_gen_tls_key(int argc, char **argv)
{
	const char *secret = NULL, *hostnqn = NULL, *subnqn = NULL;
	unsigned hmac = 1, identity = 0;
	bool compat = false;
	struct keyring_args kr = { 0 };
	const struct cli_opt opts[] = {
		{ "secret", 's', CLI_STR, &secret, "HEX",
		  "the key's bytes: 32 (--hmac 1) or 48 (--hmac 2) (default: random)" },
		{ "hmac", 'm', CLI_UINT, &hmac, "1|2", "PSK hash: 1 SHA-256, 2 SHA-384 (default 1)" },
		{ "hostnqn", 'n', CLI_STR, &hostnqn, "NQN", "host NQN (for --insert only)" },
		{ "subsysnqn", 'c', CLI_STR, &subnqn, "NQN", "subsystem NQN (for --insert only)" },
		{ "identity", 'I', CLI_UINT, &identity, "0|1", "identity version (for --insert only)" },
		{ "compat", 'C', CLI_FLAG, &compat, NULL, "libnvme <= 1.15 derivation (--insert only)" },
		KEYRING_OPTS(kr),
		CLI_END,
	};
	struct nvmf_tls_key k;
	uint8_t given[NVMF_TLS_PSK_MAX];
	char out[NVMF_TLS_KEY_STR_MAX];
	size_t len;
	int rc = cli_parse("[-s HEX] [-m 1|2]",
			   "Generate a TLS PSK in the interchange form (as nvme gen-tls-key).", opts,
			   argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	(void)hostnqn;
	(void)subnqn;
	(void)compat;
	rc = refuse_keyring(&kr);
	if (rc)
		return rc;
	if (hmac != 1 && hmac != 2) {
		cli_err("invalid HMAC identifier %u (1 SHA-256, 2 SHA-384)", hmac);
		return EXIT_USAGE;
	}
	if (identity > 1) {
		cli_err("invalid identity version %u (0 or 1)", identity);
		return EXIT_USAGE;
	}
	len = hmac == 2 ? 48 : 32;
	if (secret && parse_hex(secret, given, len)) {
		cli_err("--secret must be %zu hex digits (a %zu-byte key for --hmac %u)", 2 * len,
			len, hmac);
		return EXIT_USAGE;
	}
	rc = nvmf_tls_key_generate(&k, hmac, secret ? given : NULL);
	nvmf_dhchap_wipe(given, sizeof(given));
	if (!rc)
		rc = nvmf_tls_key_format(&k, out, sizeof(out));
	nvmf_dhchap_wipe(&k, sizeof(k));
	if (rc) {
		cli_err("cannot generate the key: %s", strerror(-rc));
		return 1;
	}
	printf("%s\n", out);
	nvmf_dhchap_wipe(out, sizeof(out));
	return 0;
}

int cmd_check_tls_key(int argc, char **argv)
{
	const char *keydata = NULL, *hostnqn = NULL, *subnqn = NULL;
	unsigned identity = 0;
	bool compat = false;
	struct keyring_args kr = { 0 };
	const struct cli_opt opts[] = {
		{ "keydata", 'd', CLI_STR, &keydata, "KEY", "the PSK (NVMeTLSkey-1:...)" },
		{ "hostnqn", 'n', CLI_STR, &hostnqn, "NQN", "host NQN (default: this host's)" },
		{ "subsysnqn", 'c', CLI_STR, &subnqn, "NQN", "subsystem NQN (required)" },
		{ "identity", 'I', CLI_UINT, &identity, "0|1", "identity version (default 0)" },
		{ "compat", 'C', CLI_FLAG, &compat, NULL,
		  "derive as libnvme <= 1.15 (nvme-cli 2.13) does" },
		KEYRING_OPTS(kr),
		CLI_END,
	};
	struct nvmf_tls_key k;
	char nqn[257], id[NVMF_TLS_IDENTITY_MAX];
	uint8_t psk[NVMF_TLS_PSK_MAX];
	int rc = cli_parse("-d KEY -c NQN [-n NQN] [-I 0|1] [-C]",
			   "Check a TLS PSK and print the PSK identity it gives this host and the "
			   "subsystem (as nvme check-tls-key).", opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	rc = refuse_keyring(&kr);
	if (rc)
		return rc;
	if (!keydata) {
		cli_err("key not specified [--keydata | -d]");
		return EXIT_USAGE;
	}
	if (!subnqn) {
		cli_err("subsystem NQN not specified [--subsysnqn | -c]");
		return EXIT_USAGE;
	}
	if (identity > 1) {
		cli_err("invalid identity version %u (0 or 1)", identity);
		return EXIT_USAGE;
	}
	if (!hostnqn) {
		if (nvmf_default_hostnqn(nqn, sizeof(nqn))) {
			cli_err("no host NQN: give --hostnqn");
			return 1;
		}
		hostnqn = nqn;
	}
	rc = nvmf_tls_key_parse(keydata, &k);
	if (rc) {
		cli_err(rc == -EBADMSG ? "CRC mismatch: the key is mistyped or truncated"
				       : "invalid key: not NVMeTLSkey-1:<00|01|02>:<base64 of a 32 or "
					 "48-byte key and its CRC>:");
		return 1;
	}
	rc = nvmf_tls_psk(&k, hostnqn, subnqn, identity,
			  compat ? NVMF_TLS_DERIVE_COMPAT : NVMF_TLS_DERIVE_RFC, id, psk);
	nvmf_dhchap_wipe(&k, sizeof(k));
	nvmf_dhchap_wipe(psk, sizeof(psk));
	if (rc < 0) {
		cli_err("cannot derive the identity: %s", strerror(-rc));
		return 1;
	}
	printf("%s\n", id);
	return 0;
}
