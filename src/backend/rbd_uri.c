/*
 * The "rbd:" device path (rbd_uri.h): split in place in one copy of the string.
 */
#include "backend/rbd_uri.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nvmf_rbd_uri_free(struct nvmf_rbd_uri *u)
{
	free(u->buf);
	memset(u, 0, sizeof(*u));
}

__attribute__((format(printf, 4, 5)))
static int bad(struct nvmf_rbd_uri *u, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	nvmf_rbd_uri_free(u);
	return -EINVAL;
}

static int set_opt(struct nvmf_rbd_uri *u, char *kv, char *err, size_t errlen)
{
	static const char *const keys[] = { "conf", "id", "keyring", "cluster", "timeout" };
	char *v = strchr(kv, '=');
	char **slot[] = { &u->conf, &u->id, &u->keyring, &u->cluster, NULL };
	size_t i;

	if (!v)
		return bad(u, err, errlen, "rbd: \"%s\" is not KEY=VALUE", kv);
	*v++ = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(kv, keys[i]) == 0)
			break;
	if (!*kv)
		return bad(u, err, errlen, "rbd: \"=%s\" has no key", v);
	if (!*v)
		return bad(u, err, errlen, "rbd: option %s has no value", kv);
	if (strcmp(kv, "gateway") == 0) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return bad(u, err, errlen, "rbd: gateway=%s is not 0 or 1", v);
		u->gateway = *v == '1';
		return 0;
	}
	if (i == sizeof(keys) / sizeof(keys[0])) {
		/* a librados option, checked by librados at open */
		if (u->nr_opts == NVMF_RBD_OPTS_MAX)
			return bad(u, err, errlen, "rbd: more than %d librados options",
				   NVMF_RBD_OPTS_MAX);
		u->opt_key[u->nr_opts] = kv;
		u->opt_val[u->nr_opts++] = v;
		return 0;
	}
	if (!slot[i]) {
		char *end;
		unsigned long t = strtoul(v, &end, 10);

		if (*end || t < 1 || t > 3600 || *v == '-')
			return bad(u, err, errlen, "rbd: timeout=%s is not 1..3600 seconds", v);
		u->timeout_s = (unsigned)t;
		return 0;
	}
	if (*slot[i])
		return bad(u, err, errlen, "rbd: option %s given twice", kv);
	*slot[i] = v;
	return 0;
}

int nvmf_rbd_uri_parse(const char *path, struct nvmf_rbd_uri *u, char *err, size_t errlen)
{
	char *q, *part[4];
	int n = 0;

	memset(u, 0, sizeof(*u));
	u->timeout_s = NVMF_RBD_TIMEOUT_DEFAULT;
	if (!path || strncmp(path, "rbd:", 4) != 0)
		return bad(u, err, errlen, "%s: not an rbd:POOL/IMAGE path", path ? path : "");
	u->buf = strdup(path + 4);
	if (!u->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	q = strchr(u->buf, '?');
	if (q)
		*q++ = '\0';
	for (char *s = u->buf, *slash;; s = slash + 1) {
		if (n == 3)
			return bad(u, err, errlen,
				   "%s: more than rbd:POOL/NAMESPACE/IMAGE", path);
		part[n++] = s;
		slash = strchr(s, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	if (n < 2)
		return bad(u, err, errlen, "%s: rbd:POOL/IMAGE needs a pool and an image", path);
	for (int i = 0; i < n; i++)
		if (!*part[i])
			return bad(u, err, errlen, "%s: an empty pool, namespace or image name",
				   path);
	u->pool = part[0];
	u->ns = n == 3 ? part[1] : NULL;
	u->image = part[n - 1];
	while (q && *q) {
		char *amp = strchr(q, '&');
		int rc;

		if (amp)
			*amp++ = '\0';
		rc = set_opt(u, q, err, errlen);
		if (rc)
			return rc;
		q = amp;
	}
	return 0;
}

static bool has_any(const char *s, const char *bad_chars)
{
	return s && strpbrk(s, bad_chars);
}

char *nvmf_rbd_uri_format(const struct nvmf_rbd_uri *u, char *err, size_t errlen)
{
	const char *names[] = { u->pool, u->ns, u->image };
	const char *keys[] = { "conf", "id", "keyring", "cluster" };
	const char *vals[] = { u->conf, u->id, u->keyring, u->cluster };
	char *out = NULL;
	size_t len = 0;
	unsigned nq = 0;
	FILE *f;

	if (!u->pool || !*u->pool || !u->image || !*u->image) {
		snprintf(err, errlen, "rbd: a pool and an image name are needed");
		return NULL;
	}
	for (size_t i = 0; i < 3; i++) {
		if (has_any(names[i], "/?&")) {
			snprintf(err, errlen, "rbd: \"%s\": a pool, namespace or image name with "
				 "'/', '?' or '&' cannot be written in an rbd: path", names[i]);
			return NULL;
		}
	}
	for (size_t i = 0; i < 4; i++) {
		if (has_any(vals[i], "&")) {
			snprintf(err, errlen, "rbd: %s \"%s\" contains '&'", keys[i], vals[i]);
			return NULL;
		}
	}
	for (unsigned i = 0; i < u->nr_opts; i++) {
		if (!*u->opt_key[i] || !*u->opt_val[i] || has_any(u->opt_key[i], "&=?") ||
		    has_any(u->opt_val[i], "&")) {
			snprintf(err, errlen, "rbd: option \"%s\"=\"%s\" cannot be written in an "
				 "rbd: path (empty, or '&', '=' or '?' in it)", u->opt_key[i],
				 u->opt_val[i]);
			return NULL;
		}
	}
	f = open_memstream(&out, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fprintf(f, "rbd:%s/", u->pool);
	if (u->ns && *u->ns)
		fprintf(f, "%s/", u->ns);
	fputs(u->image, f);
	for (size_t i = 0; i < 4; i++)
		if (vals[i] && *vals[i])
			fprintf(f, "%c%s=%s", nq++ ? '&' : '?', keys[i], vals[i]);
	if (u->timeout_s && u->timeout_s != NVMF_RBD_TIMEOUT_DEFAULT)
		fprintf(f, "%ctimeout=%u", nq++ ? '&' : '?', u->timeout_s);
	if (u->gateway)
		fprintf(f, "%cgateway=1", nq++ ? '&' : '?');
	for (unsigned i = 0; i < u->nr_opts; i++)
		fprintf(f, "%c%s=%s", nq++ ? '&' : '?', u->opt_key[i], u->opt_val[i]);
	if (fclose(f)) {
		free(out);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return out;
}
