/*
 * nvmf and DH-HMAC-CHAP keys, as nvme-cli handles them: gen-dhchap-key and
 * check-dhchap-key (nvme-cli 2.x's flags and output), and the keys of a controller (these
 * and the TLS PSK) from nvme-cli's JSON configuration (/etc/nvme/config.json, libnvme's
 * format) when the command line gives none.  Keys are never printed but by
 * gen-dhchap-key, whose job it is.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <isa-l/crc.h>

#include "auth/dhchap.h"
#include "proto/nvme_spec.h"
#include "tools/nvmf.h"

#define NVME_CLI_CONFIG "/etc/nvme/config.json"

/* ------------------------------------------------------------------ config.json */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static json_object *jarray(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array)
		       ? v
		       : NULL;
}

/* Does a port entry of the configuration name the controller at o? */
static bool port_matches(json_object *p, const struct nvmf_ctrl_opts *o)
{
	const char *tr = jstr(p, "transport"), *addr = jstr(p, "traddr"),
		   *svc = jstr(p, "trsvcid");

	return (!tr || !strcmp(tr, "tcp")) && addr && !strcmp(addr, o->traddr) &&
	       (!svc || !o->trsvcid || !strcmp(svc, o->trsvcid));
}

/* What the configuration holds for one controller. */
struct cfg_keys {
	const char *host_key, *ctrl_key, *tls_key;
	bool tls;
};

/*
 * libnvme's precedence (v1.16 nvmf_add_ctrl): the host entry's dhchap_key over the port's;
 * the controller key and TLS ("tls", "tls_key") only from the port.
 */
static void config_lookup(json_object *root, const char *hostnqn, const struct nvmf_ctrl_opts *o,
			  struct cfg_keys *keys)
{
	const char *subnqn = o->subnqn ? o->subnqn : NVMF_DISCOVERY_NQN;
	size_t nh = json_object_is_type(root, json_type_array) ? json_object_array_length(root) : 0;

	for (size_t i = 0; i < nh; i++) {
		json_object *h = json_object_array_get_idx(root, i), *subs;
		const char *nqn = jstr(h, "hostnqn"), *port_key = NULL;
		size_t ns;

		if (!nqn || strcmp(nqn, hostnqn))
			continue;
		subs = jarray(h, "subsystems");
		ns = subs ? json_object_array_length(subs) : 0;
		for (size_t j = 0; j < ns; j++) {
			json_object *s = json_object_array_get_idx(subs, j), *ports;
			const char *snqn = jstr(s, "nqn");
			size_t np;

			if (!snqn || strcmp(snqn, subnqn))
				continue;
			ports = jarray(s, "ports");
			np = ports ? json_object_array_length(ports) : 0;
			for (size_t k = 0; k < np; k++) {
				json_object *p = json_object_array_get_idx(ports, k);

				if (!port_matches(p, o))
					continue;
				port_key = jstr(p, "dhchap_key");
				keys->ctrl_key = jstr(p, "dhchap_ctrl_key");
				keys->tls_key = jstr(p, "tls_key");
				keys->tls = jbool(p, "tls");
				break;
			}
		}
		keys->host_key = jstr(h, "dhchap_key") ? jstr(h, "dhchap_key") : port_key;
		return;
	}
}

int cli_keys(const struct fabrics_args *a, struct nvmf_ctrl_opts *o)
{
	static char host_buf[NVMF_DHCHAP_SECRET_STR_MAX + 64], ctrl_buf[sizeof(host_buf)],
		tls_buf[sizeof(host_buf)];
	const char *path = a->config ? a->config : NVME_CLI_CONFIG;
	struct cfg_keys k = { 0 };
	char hostnqn[257];
	json_object *root;

	o->dhchap_secret = a->dhchap_secret;
	o->dhchap_ctrl_secret = a->dhchap_ctrl_secret;
	o->tls = o->tls || a->tls;
	o->tls_key = a->tls_key;
	if ((o->dhchap_secret && o->dhchap_ctrl_secret && o->tls_key) || !strcmp(path, "none"))
		return 0;
	/* the default file is optional; one named with -J is not */
	if (!a->config && access(path, F_OK))
		return 0;
	root = json_object_from_file(path);
	if (!root) {
		if (!a->config) {
			fprintf(stderr, "nvmf %s: %s: not read (%s): no keys from it\n", cli_verb, path,
				json_util_get_last_err());
			return 0;
		}
		cli_err("%s: %s", path, json_util_get_last_err());
		return 1;
	}
	if (o->hostnqn)
		snprintf(hostnqn, sizeof(hostnqn), "%s", o->hostnqn);
	else
		nvmf_default_hostnqn(hostnqn, sizeof(hostnqn));
	config_lookup(root, hostnqn, o, &k);
	if (!o->dhchap_secret && k.host_key) {
		snprintf(host_buf, sizeof(host_buf), "%s", k.host_key);
		o->dhchap_secret = host_buf;
	}
	if (!o->dhchap_ctrl_secret && k.ctrl_key) {
		snprintf(ctrl_buf, sizeof(ctrl_buf), "%s", k.ctrl_key);
		o->dhchap_ctrl_secret = ctrl_buf;
	}
	o->tls = o->tls || k.tls;
	if (!o->tls_key && k.tls_key) {
		snprintf(tls_buf, sizeof(tls_buf), "%s", k.tls_key);
		o->tls_key = tls_buf;
	}
	json_object_put(root);
	return 0;
}

/* ------------------------------------------------------------------ gen-dhchap-key */

static int parse_hex(const char *s, uint8_t *out, size_t len)
{
	if (strlen(s) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	}
	return 0;
}

/*
 * nvme-cli's gen-dhchap-key: random bytes (or --secret), transformed with HMAC(key, NQN ||
 * "NVMe-over-Fabrics") when --hmac is not 0, printed as DHHC-1:<hmac>:<base64(key || CRC)>:.
 */
int cmd_gen_dhchap_key(int argc, char **argv)
{
	const char *secret = NULL, *nqn = NULL;
	unsigned key_len = 0, hmac = 0;
	const struct cli_opt opts[] = {
		{ "secret", 's', CLI_STR, &secret, "HEX", "the key's bytes (default: random)" },
		{ "key-length", 'l', CLI_UINT, &key_len, "LEN",
		  "key length: 32, 48 or 64 (default 32; --hmac sets it)" },
		{ "nqn", 'n', CLI_STR, &nqn, "NQN",
		  "host NQN of the transform (default: this host's)" },
		{ "hmac", 'm', CLI_UINT, &hmac, "HMAC",
		  "transform: 0 none, 1 SHA-256, 2 SHA-384, 3 SHA-512 (default 0)" },
		CLI_END,
	};
	struct nvmf_dhchap_secret s;
	uint8_t given[NVMF_DHCHAP_MAX_KEY];
	char hostnqn[257], out[NVMF_DHCHAP_SECRET_STR_MAX];
	int rc = cli_parse("[-s HEX] [-l 32|48|64] [-n NQN] [-m 0..3]",
			   "Generate a DH-HMAC-CHAP key in the DHHC-1 form (as nvme gen-dhchap-key).",
			   opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (hmac > NVMF_DHCHAP_SHA512) {
		cli_err("invalid HMAC identifier %u (0..3)", hmac);
		return EXIT_USAGE;
	}
	if (hmac) {
		size_t want = nvmf_dhchap_hash_len(hmac);

		if (!key_len) {
			key_len = (unsigned)want;
		} else if (key_len != want) {
			cli_err("invalid key length %u for %s (%zu)", key_len,
				nvmf_dhchap_hash_name(hmac), want);
			return EXIT_USAGE;
		}
	} else if (!key_len) {
		key_len = 32;
	}
	if (key_len != 32 && key_len != 48 && key_len != 64) {
		cli_err("invalid key length %u (32, 48 or 64)", key_len);
		return EXIT_USAGE;
	}
	if (secret && parse_hex(secret, given, key_len)) {
		cli_err("--secret must be %u hex digits (a %u-byte key)", 2 * key_len, key_len);
		return EXIT_USAGE;
	}
	if (!nqn) {
		if (nvmf_default_hostnqn(hostnqn, sizeof(hostnqn))) {
			cli_err("no host NQN: give --nqn");
			return 1;
		}
		nqn = hostnqn;
	}
	rc = nvmf_dhchap_secret_generate(&s, (enum nvmf_dhchap_hash)hmac, key_len,
					 secret ? given : NULL, nqn);
	nvmf_dhchap_wipe(given, sizeof(given));
	if (!rc)
		rc = nvmf_dhchap_secret_format(&s, out, sizeof(out));
	nvmf_dhchap_wipe(&s, sizeof(s));
	if (rc) {
		cli_err("cannot generate the key: %s", strerror(-rc));
		return 1;
	}
	printf("%s\n", out);
	nvmf_dhchap_wipe(out, sizeof(out));
	return 0;
}

/* ------------------------------------------------------------------ check-dhchap-key */

/* The string lengths nvme-cli insists on per transform: a key of the hash's length. */
static size_t key_str_len(unsigned hmac)
{
	size_t raw = nvmf_dhchap_hash_len(hmac) + 4;

	/* "DHHC-1:hh:" + base64 + ":" */
	return 10 + (raw + 2) / 3 * 4 + 1;
}

int cmd_check_dhchap_key(int argc, char **argv)
{
	const char *key = NULL;
	const struct cli_opt opts[] = {
		{ "key", 'k', CLI_STR, &key, "KEY", "the key (DHHC-1:...)" },
		CLI_END,
	};
	struct nvmf_dhchap_secret s;
	unsigned hmac;
	int rc = cli_parse("-k KEY", "Check a DH-HMAC-CHAP key: its form, length and CRC (as nvme "
			   "check-dhchap-key).", opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (!key) {
		cli_err("key not specified [--key | -k]");
		return EXIT_USAGE;
	}
	if (strncmp(key, "DHHC-1:", 7) || !isdigit((unsigned char)key[7]) ||
	    !isdigit((unsigned char)key[8]) || key[9] != ':') {
		cli_err("invalid key header (DHHC-1:<hmac>:)");
		return 1;
	}
	hmac = (unsigned)(key[7] - '0') * 10 + (unsigned)(key[8] - '0');
	if (hmac > NVMF_DHCHAP_SHA512) {
		cli_err("invalid HMAC identifier %u", hmac);
		return 1;
	}
	if (hmac && strlen(key) != key_str_len(hmac)) {
		cli_err("invalid key length for %s: %zu characters, not %zu",
			nvmf_dhchap_hash_name(hmac), strlen(key), key_str_len(hmac));
		return 1;
	}
	rc = nvmf_dhchap_secret_parse(key, &s);
	if (rc == -EBADMSG) {
		cli_err("CRC mismatch: the key is mistyped or truncated");
		return 1;
	}
	if (rc) {
		cli_err("invalid key: not base64 of a 32, 48 or 64-byte key and its CRC");
		return 1;
	}
	printf("Key is valid (HMAC %u, length %zu, CRC %08x)\n", hmac, s.len,
	       crc32_gzip_refl(0, s.key, s.len));
	nvmf_dhchap_wipe(&s, sizeof(s));
	return 0;
}
