/*
 * Transport IDs in SPDK's text form (see nvmf_trid_parse in nvmf/nvmf.h): the one parser
 * that nvmf perf -r, the fio engine's filename= and applications share, so that a string
 * accepted by one is accepted by all, with the same messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvmf/nvmf.h"

#define TRID_KEYS "trtype adrfam traddr trsvcid subnqn hostnqn hostaddr ns"

enum trid_key {
	K_TRTYPE,
	K_ADRFAM,
	K_TRADDR,
	K_TRSVCID,
	K_SUBNQN,
	K_HOSTNQN,
	K_HOSTADDR,
	K_NS,
	K_IGNORED,
	K_COUNT,
};

static const struct {
	const char *name;
	enum trid_key key;
} trid_keys[] = {
	{ "trtype", K_TRTYPE },
	{ "adrfam", K_ADRFAM },
	{ "traddr", K_TRADDR },
	{ "trsvcid", K_TRSVCID },
	{ "subnqn", K_SUBNQN },
	{ "hostnqn", K_HOSTNQN },
	{ "hostaddr", K_HOSTADDR },
	{ "ns", K_NS },
	{ "nsid", K_NS },            /* the fio engine's filename= took both */
	/* SPDK keys with no meaning for a TCP host here: accepted so SPDK's strings work */
	{ "priority", K_IGNORED },
	{ "hostsvcid", K_IGNORED },
};

struct trid_parse {
	struct nvmf_trid *t;
	char *err;
	size_t errlen;
	bool seen[K_COUNT];
};

static int trid_err(struct trid_parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int trid_err(struct trid_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int trid_copy(struct trid_parse *p, char *dst, size_t size, const char *key,
		     const char *val)
{
	size_t len = strlen(val);

	if (len >= size)
		return trid_err(p, "%s: value too long (at most %zu characters)", key, size - 1);
	memcpy(dst, val, len + 1);
	return 0;
}

static int trid_nsid(struct trid_parse *p, const char *key, const char *val)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(val, &end, 0);
	if (errno || *end || val[0] == '-' || v == 0 || v > 0xFFFFFFFEull)
		return trid_err(p, "%s '%s': a namespace ID, 1..4294967294", key, val);
	p->t->nsid = (uint32_t)v;
	return 0;
}

/* One key and its (unescaped, non-empty) value. */
static int trid_set(struct trid_parse *p, const char *key, const char *val)
{
	struct nvmf_trid *t = p->t;
	enum trid_key k = K_COUNT;

	for (size_t i = 0; i < sizeof(trid_keys) / sizeof(trid_keys[0]); i++)
		if (!strcasecmp(key, trid_keys[i].name)) {
			k = trid_keys[i].key;
			break;
		}
	if (k == K_COUNT)
		return trid_err(p, "unknown key '%s' (keys: " TRID_KEYS ")", key);
	if (k != K_IGNORED && p->seen[k])
		return trid_err(p, "key '%s' given twice", key);
	p->seen[k] = true;
	switch (k) {
	case K_TRTYPE:
		if (strcasecmp(val, "tcp"))
			return trid_err(p, "trtype '%s': only tcp is supported", val);
		return 0;
	case K_ADRFAM:
		if (strcasecmp(val, "ipv4") && strcasecmp(val, "ipv6"))
			return trid_err(p, "adrfam '%s': ipv4 or ipv6", val);
		/* canonical lower case, as the discovery log and nvme-cli write it */
		snprintf(t->adrfam, sizeof(t->adrfam), "ipv%c", val[3]);
		return 0;
	case K_TRADDR:
		return trid_copy(p, t->traddr, sizeof(t->traddr), key, val);
	case K_TRSVCID:
		return trid_copy(p, t->trsvcid, sizeof(t->trsvcid), key, val);
	case K_SUBNQN:
		return trid_copy(p, t->subnqn, sizeof(t->subnqn), key, val);
	case K_HOSTNQN:
		return trid_copy(p, t->hostnqn, sizeof(t->hostnqn), key, val);
	case K_HOSTADDR:
		return trid_copy(p, t->hostaddr, sizeof(t->hostaddr), key, val);
	case K_NS:
		return trid_nsid(p, key, val);
	default:
		return 0;
	}
}

/*
 * One whitespace-delimited token starting at s (already past leading blanks): unescaped
 * into tok, its first unescaped ':' or '=' replaced by NUL (*val then points after it).
 * Returns the input consumed, or -EINVAL.
 */
static int trid_token(struct trid_parse *p, const char *s, char *tok, char **val)
{
	const char *in = s;
	char *out = tok;

	*val = NULL;
	while (*in && *in != ' ' && *in != '\t' && *in != '\n') {
		if (*in == '\\') {
			if (!in[1])
				return trid_err(p, "'%s': ends in a lone '\\'", s);
			*out++ = in[1];
			in += 2;
		} else if ((*in == ':' || *in == '=') && !*val) {
			*out++ = '\0';
			*val = out;
			in++;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (int)(in - s);
}

int nvmf_trid_parse(const char *s, struct nvmf_trid *out, char *err, size_t errlen)
{
	struct trid_parse p = { .t = out, .err = err, .errlen = errlen };
	char *tok = malloc(strlen(s) + 1);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!tok)
		return trid_err(&p, "out of memory");
	while (!rc) {
		char *val;
		int n;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		n = trid_token(&p, s, tok, &val);
		if (n < 0)
			rc = n;
		else if (!val || !tok[0])
			rc = trid_err(&p, "'%.*s' is not key:value or key=value", n, s);
		else if (!val[0])
			rc = trid_err(&p, "key '%s' has no value", tok);
		else
			rc = trid_set(&p, tok, val);
		if (n > 0)
			s += n;
	}
	free(tok);
	if (!rc && !out->traddr[0])
		rc = trid_err(&p, "traddr is required");
	if (rc)
		memset(out, 0, sizeof(*out));
	else
		memcpy(out->trtype, "tcp", 4);
	return rc;
}

void nvmf_trid_to_opts(const struct nvmf_trid *t, struct nvmf_ctrl_opts *o)
{
	o->traddr = t->traddr;
	o->trsvcid = t->trsvcid[0] ? t->trsvcid : NULL;
	o->subnqn = t->subnqn[0] ? t->subnqn : NULL;
	o->hostnqn = t->hostnqn[0] ? t->hostnqn : NULL;
	o->host_traddr = t->hostaddr[0] ? t->hostaddr : NULL;
}
