/*
 * nvmfctl's requests: one JSON-RPC call on the target's socket (rpc/client.c) with its
 * error reported once, and the arguments operators type turned into SPDK's parameters
 * (addresses, sizes).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/client.h"
#include "tools/nvmfctl.h"

int ctl_call(const char *method, struct json_object *params, struct json_object **result)
{
	const char *text = params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)
				  : NULL;
	struct rpc_reply r;
	int rc = rpc_call(ctl.sock, method, text, &r);

	json_object_put(params);
	if (result)
		*result = NULL;
	if (rc) {
		fprintf(stderr, "nvmfctl: %s: cannot talk to nvmf-target on %s: %s\n", method,
			ctl.sock, strerror(-rc));
		return CTL_EXIT_FAIL;
	}
	if (r.code) {
		fprintf(stderr, "nvmfctl: %s: %s (code %d)\n", method, r.message, r.code);
		rpc_reply_free(&r);
		return CTL_EXIT_FAIL;
	}
	if (result)
		*result = json_object_get(r.result);
	rpc_reply_free(&r);
	return 0;
}

struct json_object *ctl_obj_str(const char *key, const char *val)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, json_object_new_string(val));
	return o;
}

struct json_object *ctl_listen_address(const char *text)
{
	char host[INET6_ADDRSTRLEN + 1], buf[sizeof(struct in6_addr)];
	const char *port, *end;
	bool v6 = text[0] == '[';
	struct json_object *a;
	unsigned long n;
	char *e;
	size_t len;

	/* [v6]:PORT, or v4:PORT; a bare IPv6 address would leave the port ambiguous */
	if (v6) {
		end = strchr(text, ']');
		port = end && end[1] == ':' ? end + 2 : NULL;
		len = end ? (size_t)(end - text - 1) : 0;
		text++;
	} else {
		end = strrchr(text, ':');
		port = end ? end + 1 : NULL;
		len = end ? (size_t)(end - text) : 0;
	}
	if (!port || !len || len >= sizeof(host)) {
		cli_err("address '%s%s': ADDR:PORT or [IPv6]:PORT", v6 ? "[" : "", text);
		return NULL;
	}
	memcpy(host, text, len);
	host[len] = 0;
	errno = 0;
	n = strtoul(port, &e, 10);
	if (!isdigit((unsigned char)*port) || *e || errno || n == 0 || n > 65535) {
		cli_err("address '%s': port '%s' is not 1..65535", host, port);
		return NULL;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1) {
		cli_err("address '%s' is not an IPv%c address%s", host, v6 ? '6' : '4',
			v6 || !strchr(host, ':') ? "" : " (IPv6: [ADDR]:PORT)");
		return NULL;
	}
	a = json_object_new_object();
	json_object_object_add(a, "trtype", json_object_new_string("tcp"));
	json_object_object_add(a, "adrfam", json_object_new_string(v6 ? "ipv6" : "ipv4"));
	json_object_object_add(a, "traddr", json_object_new_string(host));
	json_object_object_add(a, "trsvcid", json_object_new_string(port));
	return a;
}

int ctl_parse_size(const char *text, const char *what, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *u;
	char *e;

	errno = 0;
	n = strtoull(text, &e, 0);
	if (errno || e == text || text[0] == '-')
		goto bad;
	if (*e) {
		u = strchr(units, toupper((unsigned char)*e));
		/* 512M, 512MB, 512MiB */
		if (!u || !(!e[1] || !strcasecmp(e + 1, "b") || !strcasecmp(e + 1, "ib")))
			goto bad;
		for (const char *p = units; p <= u; p++) {
			if (n > UINT64_MAX / 1024)
				goto bad;
			n *= 1024;
		}
	}
	if (!n)
		goto bad;
	*out = n;
	return 0;
bad:
	cli_err("%s '%s': a size in bytes, or with K, M, G or T", what, text);
	return -1;
}

int ctl_call_list(const char *method, struct json_object *params, struct json_object **result)
{
	int rc = ctl_call(method, params, result);

	if (rc || !ctl.json)
		return rc;
	ctl_print_json(*result);
	json_object_put(*result);
	*result = NULL;
	return 0;
}
