/*
 * Loads the JSON that `nvmetcli save` writes into the target's configuration model, checks
 * it the way nvmet's configfs would (plus the cross references configfs enforces with
 * symlinks), and builds the same model for the quick-start flags.
 *
 * Parsing is table driven: each JSON object has a table of the keys it may hold, walked in
 * table order (so where two keys set one value the later entry wins, as in `nvmetcli
 * restore`).  Keys not in the table are warned about, never fatal: newer kernels add attrs.
 * Every message carries the file name and the key path of the offending value.
 */
#include "target/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "backend/rbd_uri.h"
#include "auth/dhchap.h"

/* Enums are stored through an unsigned int; make sure that is their representation. */
_Static_assert(sizeof(enum nvmf_cfg_trtype) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_adrfam) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_treq) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_tsas) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_ana_state) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_dhchap_hash) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(enum nvmf_cfg_dhchap_dhgroup) == sizeof(unsigned int), "enum size");
_Static_assert(sizeof(int) == 4, "int fields are stored as int32_t");

#define CFG_FILE_MAX	(16u << 20)	/* a config.json is kilobytes; refuse absurd input */
#define CFG_PATH_MAX	4095		/* device paths, as PATH_MAX - 1 */
#define DISC_NQN_MAX	255		/* NVMF_NQN_FIELD_LEN - 1, configfs discovery_nqn */
#define KEYPATH_LEN	512

/* ---------------------------------------------------------------------------------------
 * Parse context: the key path being parsed, the error buffer, collected warnings.
 */
struct ctx {
	const char *name;	/* file name (or "quick-start") at the head of messages */
	char *err;
	size_t errlen;
	struct nvmf_cfg *cfg;	/* warnings are collected here */
	bool oom;		/* a warning could not be stored */
	size_t pathlen;
	char path[KEYPATH_LEN];
};

static void path_append(struct ctx *c, const char *s)
{
	for (; *s && c->pathlen < sizeof(c->path) - 1; s++) {
		unsigned char ch = (unsigned char)*s;

		/* Keys come from the file: keep control bytes out of log lines. */
		c->path[c->pathlen++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	c->path[c->pathlen] = '\0';
}

/* Push ".key" (or "key" at the root); returns the mark to pop back to. */
static size_t path_key(struct ctx *c, const char *key)
{
	size_t mark = c->pathlen;

	if (c->pathlen)
		path_append(c, ".");
	path_append(c, key);
	return mark;
}

static size_t path_index(struct ctx *c, size_t i)
{
	size_t mark = c->pathlen;
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	path_append(c, buf);
	return mark;
}

static void path_pop(struct ctx *c, size_t mark)
{
	c->pathlen = mark;
	c->path[mark] = '\0';
}

__attribute__((format(printf, 4, 0)))
static void format_msg(const struct ctx *c, char *buf, size_t len, const char *fmt, va_list ap)
{
	int n;

	if (!buf || !len)
		return;
	if (c->pathlen)
		n = snprintf(buf, len, "%s: %s: ", c->name, c->path);
	else
		n = snprintf(buf, len, "%s: ", c->name);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	/* values quoted from the file, too: a newline in an NQN must not split the log line */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Record the error at the current key path; returns -EINVAL for `return fail(...)`. */
__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_msg(c, c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int nomem(struct ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
	return -ENOMEM;
}

__attribute__((format(printf, 2, 3)))
static void warn(struct ctx *c, const char *fmt, ...)
{
	struct nvmf_cfg *cfg = c->cfg;
	char buf[1024];
	char **v, *s;
	va_list ap;

	va_start(ap, fmt);
	format_msg(c, buf, sizeof(buf), fmt, ap);
	va_end(ap);

	s = strdup(buf);
	v = s ? realloc(cfg->warnings, (cfg->nr_warnings + 1) * sizeof(*v)) : NULL;
	if (!v) {
		/* Checked once at the end: a warning is not worth unwinding the parse for. */
		free(s);
		c->oom = true;
		return;
	}
	v[cfg->nr_warnings++] = s;
	cfg->warnings = v;
}

/* A JSON value as it appears in the file, for messages ("xyz" with quotes, 5, null). */
static const char *jtext(struct json_object *v)
{
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int set_str(struct ctx *c, char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return nomem(c);
	free(*dst);
	*dst = s;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Scalars.  nvmetcli writes attrs as configfs text ("1", "0x000000") and a few values as
 * JSON integers; hand-written files mix both, so every number and boolean takes either.
 */

/* The characters of a JSON string, refusing embedded NULs (C strings would cut them). */
static int get_text(struct ctx *c, struct json_object *v, const char **out)
{
	const char *s = json_object_get_string(v);

	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return fail(c, "%s contains a NUL character", jtext(v));
	*out = s;
	return 0;
}

/* Copy s without the surrounding white space that `nvmetcli save` strips. */
static void trim_copy(char *buf, size_t len, const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	if (n >= len)
		n = len - 1;	/* too long for any number: the parse below rejects it */
	memcpy(buf, s, n);
	buf[n] = '\0';
}

static int parse_int(struct ctx *c, struct json_object *v, int64_t min, int64_t max, int64_t *out)
{
	int64_t val;

	if (json_object_is_type(v, json_type_int)) {
		val = json_object_get_int64(v);	/* saturates: huge values fail the range */
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = NULL;
		char buf[64], *end;
		int ret = get_text(c, v, &s);

		if (ret)
			return ret;
		trim_copy(buf, sizeof(buf), s);
		/* Base 0 like the kernel's kstrto*(): "0x000000" is how ieee_oui is dumped. */
		errno = 0;
		val = strtoll(buf, &end, 0);
		if (!buf[0] || *end)
			return fail(c, "%s is not an integer", jtext(v));
		if (errno == ERANGE)
			return fail(c, "%s is out of range (%" PRId64 "..%" PRId64 ")",
				    jtext(v), min, max);
	} else {
		return fail(c, "expected an integer, got %s", jtext(v));
	}
	if (val < min || val > max)
		return fail(c, "%s is out of range (%" PRId64 "..%" PRId64 ")", jtext(v), min, max);
	*out = val;
	return 0;
}

static int parse_bool(struct ctx *c, struct json_object *v, bool *out)
{
	static const char *const yes[] = { "1", "y", "yes", "true", "on" };
	static const char *const no[] = { "0", "n", "no", "false", "off" };
	const char *s = NULL;
	char buf[16];
	int ret;

	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i != 0 && i != 1)
			return fail(c, "%s is not a boolean (0 or 1)", jtext(v));
		*out = i;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected a boolean (0, 1, true, false), got %s", jtext(v));
	ret = get_text(c, v, &s);
	if (ret)
		return ret;
	trim_copy(buf, sizeof(buf), s);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(buf, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(buf, no[i])) {
			*out = false;
			return 0;
		}
	}
	return fail(c, "%s is not a boolean (0, 1, true, false)", jtext(v));
}

/* Strings; integers are taken as their decimal text (a hand-written "trsvcid": 4420). */
static int parse_string(struct ctx *c, struct json_object *v, char **dst)
{
	const char *s = NULL;
	int ret;

	if (json_object_is_type(v, json_type_int))
		return set_str(c, dst, json_object_get_string(v));
	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected a string, got %s", jtext(v));
	ret = get_text(c, v, &s);
	if (ret)
		return ret;
	return set_str(c, dst, s);
}

struct name_map {
	const char *name;
	unsigned int val;
};

static const struct name_map trtype_names[] = {
	{ "tcp", NVMF_CFG_TRTYPE_TCP },
	{ "rdma", NVMF_CFG_TRTYPE_RDMA },
	{ "fc", NVMF_CFG_TRTYPE_FC },
	{ "pci", NVMF_CFG_TRTYPE_PCI },
	{ "loop", NVMF_CFG_TRTYPE_LOOP },
	{ "", NVMF_CFG_TRTYPE_UNSET },		/* what configfs shows before a write */
	{ NULL, 0 },
};

static const struct name_map adrfam_names[] = {
	{ "ipv4", NVMF_CFG_ADRFAM_IPV4 },
	{ "ipv6", NVMF_CFG_ADRFAM_IPV6 },
	{ "ib", NVMF_CFG_ADRFAM_IB },
	{ "fc", NVMF_CFG_ADRFAM_FC },
	{ "pci", NVMF_CFG_ADRFAM_PCI },
	{ "pcie", NVMF_CFG_ADRFAM_PCI },	/* configfs accepts both spellings */
	{ "loop", NVMF_CFG_ADRFAM_LOOP },
	{ "", NVMF_CFG_ADRFAM_UNSET },
	{ NULL, 0 },
};

static const struct name_map treq_names[] = {
	{ "not specified", NVMF_CFG_TREQ_NOT_SPECIFIED },
	{ "required", NVMF_CFG_TREQ_REQUIRED },
	{ "not required", NVMF_CFG_TREQ_NOT_REQUIRED },
	{ "", NVMF_CFG_TREQ_NOT_SPECIFIED },
	{ NULL, 0 },
};

static const struct name_map tsas_names[] = {
	{ "none", NVMF_CFG_TSAS_NONE },
	{ "tls1.3", NVMF_CFG_TSAS_TLS13 },
	{ "connected", NVMF_CFG_TSAS_RDMA_CONNECTED },
	{ "datagram", NVMF_CFG_TSAS_RDMA_DATAGRAM },
	{ "", NVMF_CFG_TSAS_NONE },		/* shown for ports that are neither TCP nor RDMA */
	{ NULL, 0 },
};

static const struct name_map ana_state_names[] = {
	{ "optimized", NVMF_CFG_ANA_OPTIMIZED },
	{ "non-optimized", NVMF_CFG_ANA_NONOPTIMIZED },
	{ "inaccessible", NVMF_CFG_ANA_INACCESSIBLE },
	{ "persistent-loss", NVMF_CFG_ANA_PERSISTENT_LOSS },
	{ "change", NVMF_CFG_ANA_CHANGE },
	{ NULL, 0 },
};

static const struct name_map hash_names[] = {
	{ "hmac(sha256)", NVMF_CFG_DHCHAP_SHA256 },
	{ "hmac(sha384)", NVMF_CFG_DHCHAP_SHA384 },
	{ "hmac(sha512)", NVMF_CFG_DHCHAP_SHA512 },
	{ "", NVMF_CFG_DHCHAP_SHA256 },
	{ NULL, 0 },
};

static const struct name_map dhgroup_names[] = {
	{ "null", NVMF_CFG_DHGROUP_NULL },
	{ "ffdhe2048", NVMF_CFG_DHGROUP_2048 },
	{ "ffdhe3072", NVMF_CFG_DHGROUP_3072 },
	{ "ffdhe4096", NVMF_CFG_DHGROUP_4096 },
	{ "ffdhe6144", NVMF_CFG_DHGROUP_6144 },
	{ "ffdhe8192", NVMF_CFG_DHGROUP_8192 },
	{ "none", NVMF_CFG_DHGROUP_NULL },
	{ "", NVMF_CFG_DHGROUP_NULL },
	{ NULL, 0 },
};

static const char *map_name(const struct name_map *map, unsigned int val)
{
	for (; map->name; map++) {
		if (map->val == val)
			return map->name;
	}
	return "?";
}

static int parse_enum(struct ctx *c, struct json_object *v, const struct name_map *map,
		      unsigned int *out)
{
	char list[256] = "";
	const char *s = NULL;
	size_t n = 0;
	int ret;

	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected a string, got %s", jtext(v));
	ret = get_text(c, v, &s);
	if (ret)
		return ret;
	for (const struct name_map *m = map; m->name; m++) {
		if (!strcmp(s, m->name)) {
			*out = m->val;
			return 0;
		}
		if (m->name[0] && n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
					      n ? ", " : "", m->name);
	}
	return fail(c, "%s is not one of %s", jtext(v), list);
}

/* ---------------------------------------------------------------------------------------
 * Field tables.  A table lists the keys of one JSON object and where each value goes in
 * the model struct; K_GROUP is a nested attr group ("attr", "addr", ...) stored into the
 * same struct, K_FUNC a value that needs its own parser (lists, UUIDs, the version).
 */
enum fkind { K_BOOL, K_INT, K_STR, K_ASCII, K_ENUM, K_GROUP, K_FUNC };

struct field {
	const char *key;
	enum fkind kind;
	size_t off;
	size_t size;			/* K_INT: size of the member */
	int64_t min, max;		/* K_INT: value range; K_STR/K_ASCII: length range */
	const struct name_map *names;	/* K_ENUM */
	const struct field *group;	/* K_GROUP; tables end with a NULL key */
	int (*fn)(struct ctx *c, struct json_object *v, void *obj);	/* K_FUNC */
};

#define MEMBER_SIZE(T, m)	sizeof(((T *)0)->m)
#define F_BOOL(k, T, m)		{ .key = (k), .kind = K_BOOL, .off = offsetof(T, m) }
#define F_INT(k, T, m, lo, hi)	{ .key = (k), .kind = K_INT, .off = offsetof(T, m), \
				  .size = MEMBER_SIZE(T, m), .min = (lo), .max = (hi) }
#define F_STR(k, T, m, hi)	{ .key = (k), .kind = K_STR, .off = offsetof(T, m), \
				  .min = 0, .max = (hi) }
#define F_ASCII(k, T, m, lo, hi) { .key = (k), .kind = K_ASCII, .off = offsetof(T, m), \
				  .min = (lo), .max = (hi) }
#define F_ENUM(k, T, m, map)	{ .key = (k), .kind = K_ENUM, .off = offsetof(T, m), \
				  .names = (map) }
#define F_GROUP(k, tbl)		{ .key = (k), .kind = K_GROUP, .group = (tbl) }
#define F_FUNC(k, f)		{ .key = (k), .kind = K_FUNC, .fn = (f) }
#define F_END			{ .key = NULL }

static int store_int(struct ctx *c, const struct field *f, void *p, int64_t val)
{
	switch (f->size) {
	case 2:
		*(uint16_t *)p = (uint16_t)val;
		return 0;
	case 4:
		if (f->min < 0)
			*(int32_t *)p = (int32_t)val;
		else
			*(uint32_t *)p = (uint32_t)val;
		return 0;
	default:
		return fail(c, "internal error: no %zu-byte integer store", f->size);
	}
}

/* Length bounds and, for K_ASCII, the "ASCII string" rule of NVMe identify fields. */
static int check_text(struct ctx *c, const struct field *f, struct json_object *v, const char *s)
{
	size_t len = strlen(s);

	if ((int64_t)len < f->min)
		return fail(c, "%s is empty", jtext(v));
	if ((int64_t)len > f->max)
		return fail(c, "%s is %zu characters long, at most %" PRId64 " are allowed",
			    jtext(v), len, f->max);
	if (f->kind != K_ASCII)
		return 0;
	for (const char *p = s; *p; p++) {
		/* NVMe Base "ASCII string": 0x20..0x7E, as nvmet_is_ascii() checks. */
		if (*p < 0x20 || *p > 0x7e)
			return fail(c, "%s has a character outside printable ASCII", jtext(v));
	}
	return 0;
}

static int parse_object(struct ctx *c, struct json_object *v, const struct field *tbl, void *obj);

static int parse_field(struct ctx *c, const struct field *f, struct json_object *v, void *obj)
{
	char *p = (char *)obj + f->off;
	unsigned int e = 0;
	int64_t i = 0;
	bool b = false;
	int ret;

	if (!v)
		return fail(c, "null is not a valid value");
	switch (f->kind) {
	case K_BOOL:
		ret = parse_bool(c, v, &b);
		if (!ret)
			*(bool *)p = b;
		return ret;
	case K_INT:
		ret = parse_int(c, v, f->min, f->max, &i);
		return ret ? ret : store_int(c, f, p, i);
	case K_STR:
	case K_ASCII:
		ret = parse_string(c, v, (char **)p);
		return ret ? ret : check_text(c, f, v, *(char **)p);
	case K_ENUM:
		ret = parse_enum(c, v, f->names, &e);
		if (!ret)
			memcpy(p, &e, sizeof(e));
		return ret;
	case K_GROUP:
		return parse_object(c, v, f->group, obj);
	case K_FUNC:
		return f->fn(c, v, obj);
	}
	return fail(c, "internal error: field kind %d", (int)f->kind);
}

static bool table_has(const struct field *tbl, const char *key)
{
	for (; tbl->key; tbl++) {
		if (!strcmp(tbl->key, key))
			return true;
	}
	return false;
}

static int parse_object(struct ctx *c, struct json_object *v, const struct field *tbl, void *obj)
{
	struct json_object_iterator it, end;

	if (!json_object_is_type(v, json_type_object))
		return fail(c, "expected an object, got %s", jtext(v));
	for (const struct field *f = tbl; f->key; f++) {
		struct json_object *fv;
		size_t mark;
		int ret;

		if (!json_object_object_get_ex(v, f->key, &fv))
			continue;
		mark = path_key(c, f->key);
		ret = parse_field(c, f, fv, obj);
		if (ret)
			return ret;
		path_pop(c, mark);
	}
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		size_t mark;

		if (table_has(tbl, key))
			continue;
		mark = path_key(c, key);
		warn(c, "unknown key, ignored");
		path_pop(c, mark);
	}
	return 0;
}

static int need_key(struct ctx *c, struct json_object *v, const char *key)
{
	if (!json_object_object_get_ex(v, key, NULL))
		return fail(c, "\"%s\" is missing", key);
	return 0;
}

/* Length of a JSON list, refusing anything else. */
static int list_len(struct ctx *c, struct json_object *v, size_t *n)
{
	if (!v || !json_object_is_type(v, json_type_array))
		return fail(c, "expected a list, got %s", jtext(v));
	*n = json_object_array_length(v);
	return 0;
}

/*
 * Parse each element of list v into arr (n zeroed elements of size each).  *count grows
 * before an element is parsed so that a failure leaves it visible to the free path.
 */
static int parse_list(struct ctx *c, struct json_object *v, void *arr, size_t size,
		      size_t *count, int (*fn)(struct ctx *c, struct json_object *v, void *elem))
{
	size_t n = json_object_array_length(v);

	for (size_t i = 0; i < n; i++) {
		size_t mark = path_index(c, i);
		int ret;

		(*count)++;
		ret = fn(c, json_object_array_get_idx(v, i), (char *)arr + i * size);
		if (ret)
			return ret;
		path_pop(c, mark);
	}
	return 0;
}

/* NQN text: configfs takes any directory name; keep it printable and within NVMF_NQN_SIZE. */
static int check_nqn_text(struct ctx *c, const char *nqn, size_t max)
{
	size_t len = strlen(nqn);

	if (!len)
		return fail(c, "an NQN must not be empty");
	if (len > max)
		return fail(c, "\"%s\" is %zu characters long, an NQN has at most %zu",
			    nqn, len, max);
	for (const char *p = nqn; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f || ch == '/')
			return fail(c, "NQN \"%s\" contains a control character or '/'", nqn);
	}
	return 0;
}

/* A string list of NQNs (port subsystems, allowed_hosts). */
static int parse_nqn_list(struct ctx *c, struct json_object *v, char ***out, size_t *count)
{
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return nomem(c);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t mark = path_index(c, i);

		(*count)++;
		if (!e || !json_object_is_type(e, json_type_string))
			return fail(c, "expected an NQN string, got %s", jtext(e));
		ret = parse_string(c, e, &(*out)[i]);
		if (!ret)
			ret = check_nqn_text(c, (*out)[i], NVMF_CFG_NQN_MAX);
		if (ret)
			return ret;
		path_pop(c, mark);
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Addresses: what nvmet-tcp's inet_pton_with_scope() would accept, checked up front.
 */
static bool ip_parses(enum nvmf_cfg_adrfam fam, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char tmp[NVMF_CFG_TRADDR_MAX + 1];
	const char *pct;

	if (fam == NVMF_CFG_ADRFAM_IPV4)
		return inet_pton(AF_INET, s, buf) == 1;
	if (fam != NVMF_CFG_ADRFAM_IPV6 || strlen(s) > NVMF_CFG_TRADDR_MAX)
		return false;
	/* fe80::1%eth0: the scope (interface) is resolved when the port is bound. */
	pct = strchr(s, '%');
	if (pct && !pct[1])
		return false;
	snprintf(tmp, sizeof(tmp), "%.*s", pct ? (int)(pct - s) : (int)strlen(s), s);
	return inet_pton(AF_INET6, tmp, buf) == 1;
}

/* Decimal 1..65535 without sign or leading zero (the kernel parses base 0: 010 is 8). */
static bool port_parses(const char *s)
{
	unsigned long v = 0;

	if (!*s || *s == '0' || strlen(s) > 5)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v <= 65535;
}

/* Checks the addr group of an object whose key path is current; fam/addr/svc as parsed. */
static int check_ip_addr(struct ctx *c, enum nvmf_cfg_adrfam fam, const char *traddr,
			 const char *trsvcid)
{
	size_t mark = path_key(c, "addr");
	size_t mark2;

	if (fam != NVMF_CFG_ADRFAM_IPV4 && fam != NVMF_CFG_ADRFAM_IPV6) {
		path_key(c, "adrfam");
		if (fam == NVMF_CFG_ADRFAM_UNSET)
			return fail(c, "not set: a TCP address needs \"ipv4\" or \"ipv6\"");
		return fail(c, "\"%s\" cannot carry TCP: adrfam must be \"ipv4\" or \"ipv6\"",
			    nvmf_cfg_adrfam_name(fam));
	}
	mark2 = path_key(c, "traddr");
	if (!ip_parses(fam, traddr))
		return fail(c, "\"%s\" is not an %s address", traddr,
			    fam == NVMF_CFG_ADRFAM_IPV4 ? "IPv4" : "IPv6");
	path_pop(c, mark2);
	path_key(c, "trsvcid");
	if (!port_parses(trsvcid))
		return fail(c, "\"%s\" is not a TCP port number (1..65535)", trsvcid);
	path_pop(c, mark);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Hosts.
 */
static const struct field host_dhchap_fields[] = {
	F_STR("key", struct nvmf_cfg_host, dhchap_key, 1024),
	F_STR("ctrl_key", struct nvmf_cfg_host, dhchap_ctrl_key, 1024),
	F_ENUM("hash", struct nvmf_cfg_host, dhchap_hash, hash_names),
	F_ENUM("dhgroup", struct nvmf_cfg_host, dhchap_dhgroup, dhgroup_names),
	F_END,
};

static const struct field host_fields[] = {
	F_STR("nqn", struct nvmf_cfg_host, nqn, NVMF_CFG_NQN_MAX),
	F_GROUP("dhchap", host_dhchap_fields),
	F_END,
};

/*
 * A DH-HMAC-CHAP secret in the interchange format "DHHC-1:<hh>:<base64(key || crc32)>:",
 * checked whole at load (as nvmet's configfs store does): a mistyped key fails here, not
 * at the host's first connect.
 */
static int check_secret(struct ctx *c, const char *key, const char *secret)
{
	struct nvmf_dhchap_secret s;
	size_t mark;
	int rc;

	if (!*secret)
		return 0;
	rc = nvmf_dhchap_secret_parse(secret, &s);
	nvmf_dhchap_wipe(&s, sizeof(s));
	if (!rc)
		return 0;
	mark = path_key(c, "dhchap");
	path_key(c, key);
	/* The secret itself stays out of the message: logs are not where keys belong. */
	if (rc == -EBADMSG)
		fail(c, "DH-HMAC-CHAP secret fails its CRC check (mistyped or truncated?)");
	else if (strncmp(secret, "DHHC-1:", 7))
		fail(c, "not a DH-HMAC-CHAP secret (expected \"DHHC-1:...\")");
	else
		fail(c, "malformed DH-HMAC-CHAP secret (expected \"DHHC-1:<00..03>:<base64 of "
		     "32, 48 or 64 bytes and a CRC-32>:\")");
	path_pop(c, mark);
	return -EINVAL;
}

static int parse_host(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_host *h = elem;
	int ret;

	h->dhchap_hash = NVMF_CFG_DHCHAP_SHA256;	/* nvmet_hosts_make_group() */
	h->dhchap_dhgroup = NVMF_CFG_DHGROUP_NULL;
	if (set_str(c, &h->nqn, "") || set_str(c, &h->dhchap_key, "") ||
	    set_str(c, &h->dhchap_ctrl_key, ""))
		return -ENOMEM;
	ret = parse_object(c, v, host_fields, h);
	if (!ret)
		ret = need_key(c, v, "nqn");
	if (ret)
		return ret;
	ret = check_secret(c, "key", h->dhchap_key);
	if (!ret)
		ret = check_secret(c, "ctrl_key", h->dhchap_ctrl_key);
	if (ret)
		return ret;
	if (*h->dhchap_ctrl_key && !*h->dhchap_key)
		warn(c, "dhchap.ctrl_key without dhchap.key: the host is not authenticated");
	return 0;
}

static int parse_hosts(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg *cfg = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	cfg->hosts = calloc(n, sizeof(*cfg->hosts));
	if (!cfg->hosts)
		return nomem(c);
	return parse_list(c, v, cfg->hosts, sizeof(*cfg->hosts), &cfg->nr_hosts, parse_host);
}

/* ---------------------------------------------------------------------------------------
 * Subsystems and namespaces.
 */
static int parse_hex_byte(const char *p, uint8_t *out)
{
	unsigned int v = 0;

	for (int i = 0; i < 2; i++) {
		char ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (unsigned int)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (unsigned int)(ch - 'A' + 10);
		else
			return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

/* 8-4-4-4-12 hex digits, as the kernel's uuid_parse() takes them. */
static bool uuid_text_parses(const char *s, uint8_t out[16])
{
	size_t n = 0;

	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return false;
			continue;
		}
		if (parse_hex_byte(s + i, &out[n++]))
			return false;
		i += 2;
	}
	return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

static int parse_ns_uuid(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_ns *ns = obj;
	const char *s = NULL;
	int ret;

	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected a UUID string, got %s", jtext(v));
	ret = get_text(c, v, &s);
	if (ret)
		return ret;
	if (!uuid_text_parses(s, ns->uuid))
		return fail(c, "%s is not a UUID", jtext(v));
	/* A nil UUID is never reported by nvmet; treat it like an absent one. */
	ns->has_uuid = !all_zero(ns->uuid, sizeof(ns->uuid));
	return 0;
}

/*
 * nvmetcli writes the NGUID as configfs shows it, UUID-formatted; configfs takes 16 hex
 * pairs each optionally followed by '-' or ':'.  All zeroes is nvmet's "no NGUID".
 */
static int parse_ns_nguid(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_ns *ns = obj;
	const char *s = NULL, *p;
	int ret;

	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected an NGUID string, got %s", jtext(v));
	ret = get_text(c, v, &s);
	if (ret)
		return ret;
	p = s;
	for (int i = 0; i < 16; i++) {
		if (strlen(p) < 2 || parse_hex_byte(p, &ns->nguid[i]))
			return fail(c, "%s is not an NGUID (32 hex digits)", jtext(v));
		p += 2;
		if (i < 15 && (*p == '-' || *p == ':'))
			p++;
	}
	if (*p)
		return fail(c, "%s is not an NGUID (32 hex digits)", jtext(v));
	ns->has_nguid = !all_zero(ns->nguid, sizeof(ns->nguid));
	return 0;
}

static const struct name_map backend_names[] = {
	{ "auto", NVMF_BACKEND_AUTO },
	{ "file", NVMF_BACKEND_FILE },
	{ "block", NVMF_BACKEND_BLOCK },
	{ "ram", NVMF_BACKEND_RAM },
	{ "null", NVMF_BACKEND_NULL },
	{ NULL, 0 },
};

/* device.size (ours): bytes of a "ram" / "null" namespace, a multiple of its block size. */
static int parse_ns_size(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_ns *ns = obj;
	int64_t i;
	int ret = parse_int(c, v, 0, INT64_MAX, &i);

	if (!ret)
		ns->size = (uint64_t)i;
	return ret;
}

static const struct field ns_device_fields[] = {
	F_STR("path", struct nvmf_cfg_ns, path, CFG_PATH_MAX),
	F_FUNC("uuid", parse_ns_uuid),
	F_FUNC("nguid", parse_ns_nguid),
	/* ours, not nvmet's: what JSON-RPC-made namespaces need to come back after --save */
	F_ENUM("backend", struct nvmf_cfg_ns, backend, backend_names),
	F_FUNC("size", parse_ns_size),
	F_INT("block_size", struct nvmf_cfg_ns, block_size, 0, 4096),
	F_STR("bdev", struct nvmf_cfg_ns, bdev_name, 255),
	/* ram: memory only where written, not populated in the background (--ram-lazy) */
	F_BOOL("lazy", struct nvmf_cfg_ns, lazy),
	F_END,
};

/* 0 is what nvmetcli dumps for kernels without ANA (no ana_grpid file): group 1. */
static const struct field ns_ana_fields[] = {
	F_INT("grpid", struct nvmf_cfg_ns, ana_grpid, 0, NVMF_CFG_ANA_GRPS_MAX),
	F_END,
};

static const struct field ns_resv_fields[] = {
	F_BOOL("enable", struct nvmf_cfg_ns, resv_enable),
	F_STR("ptpl_file", struct nvmf_cfg_ns, resv_ptpl_file, CFG_PATH_MAX),
	F_END,
};

static const struct field ns_fields[] = {
	F_INT("nsid", struct nvmf_cfg_ns, nsid, 1, NVMF_CFG_NSID_MAX),
	F_GROUP("device", ns_device_fields),
	F_GROUP("ana", ns_ana_fields),
	/* After "ana": nvmetcli restore writes the top-level ana_grpid last, so it wins. */
	F_INT("ana_grpid", struct nvmf_cfg_ns, ana_grpid, 0, NVMF_CFG_ANA_GRPS_MAX),
	F_GROUP("resv", ns_resv_fields),
	F_BOOL("enable", struct nvmf_cfg_ns, enable),
	F_END,
};

static int parse_ns(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_ns *ns = elem;
	int ret;

	ns->backend = NVMF_BACKEND_AUTO;
	ns->ana_grpid = 1;			/* NVMET_DEFAULT_ANA_GRPID */
	if (set_str(c, &ns->path, "") || set_str(c, &ns->bdev_name, "") ||
	    set_str(c, &ns->resv_ptpl_file, ""))
		return -ENOMEM;
	ret = parse_object(c, v, ns_fields, ns);
	if (!ret)
		ret = need_key(c, v, "nsid");
	if (ret)
		return ret;
	if (!ns->ana_grpid)
		ns->ana_grpid = 1;
	if (!json_object_object_get_ex(v, "enable", NULL))
		warn(c, "\"enable\" is missing: the namespace stays disabled, as in nvmet");
	if (ns->backend == NVMF_BACKEND_RAM || ns->backend == NVMF_BACKEND_NULL) {
		uint32_t bs = ns->block_size ? ns->block_size : 512;
		size_t mark = path_key(c, "device");

		if (bs != 512 && bs != 4096) {
			path_key(c, "block_size");
			ret = fail(c, "%" PRIu32 " is not 512 or 4096", bs);
		} else if (!ns->size || ns->size % bs) {
			path_key(c, "size");
			ret = fail(c, "a \"%s\" namespace needs a size that is a multiple of %" PRIu32
				   " bytes", map_name(backend_names, ns->backend), bs);
		}
		path_pop(c, mark);
		return ret;
	}
	if (ns->enable && !*ns->path) {
		size_t mark = path_key(c, "device");

		path_key(c, "path");
		ret = fail(c, "an enabled namespace needs a device path");
		path_pop(c, mark);
	}
	if (!ret && nvmf_bdev_path_is_rbd(ns->path)) {
		/* the form is checked here, with the key named; the image when it opens */
		struct nvmf_rbd_uri u;
		char why[256];
		size_t mark = path_key(c, "device");

		path_key(c, "path");
		if (nvmf_rbd_uri_parse(ns->path, &u, why, sizeof(why)))
			ret = fail(c, "%s", why);
		else
			nvmf_rbd_uri_free(&u);
		path_pop(c, mark);
	}
	return ret;
}

static int parse_namespaces(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_subsys *s = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	if (n > NVMF_CFG_NS_MAX)
		return fail(c, "%zu namespaces, a subsystem holds at most %d", n, NVMF_CFG_NS_MAX);
	s->namespaces = calloc(n, sizeof(*s->namespaces));
	if (!s->namespaces)
		return nomem(c);
	ret = parse_list(c, v, s->namespaces, sizeof(*s->namespaces), &s->nr_namespaces,
			 parse_ns);
	if (ret)
		return ret;
	for (size_t i = 1; i < s->nr_namespaces; i++) {
		for (size_t j = 0; j < i; j++) {
			if (s->namespaces[i].nsid != s->namespaces[j].nsid)
				continue;
			path_index(c, i);
			path_key(c, "nsid");
			return fail(c, "nsid %" PRIu32 " is also namespaces[%zu]",
				    s->namespaces[i].nsid, j);
		}
	}
	return 0;
}

static const struct field passthru_device_fields[] = {
	F_STR("path", struct nvmf_cfg_passthru, path, CFG_PATH_MAX),
	F_END,
};

static const struct field passthru_fields[] = {
	F_GROUP("device", passthru_device_fields),
	F_BOOL("enable", struct nvmf_cfg_passthru, enable),
	F_INT("admin_timeout", struct nvmf_cfg_passthru, admin_timeout, 0, UINT32_MAX),
	F_INT("io_timeout", struct nvmf_cfg_passthru, io_timeout, 0, UINT32_MAX),
	F_INT("clear_ids", struct nvmf_cfg_passthru, clear_ids, 0, UINT32_MAX),
	F_END,
};

/* nvmetcli dumps passthru as a list holding the subsystem's one passthru node. */
static int parse_passthru(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_passthru *pt = &((struct nvmf_cfg_subsys *)obj)->passthru;
	size_t mark, n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	if (n > 1)
		return fail(c, "%zu entries, a subsystem has one passthru controller", n);
	mark = path_index(c, 0);
	pt->present = true;
	ret = parse_object(c, json_object_array_get_idx(v, 0), passthru_fields, pt);
	if (ret)
		return ret;
	if (pt->enable && !*pt->path) {
		path_key(c, "device");
		path_key(c, "path");
		return fail(c, "an enabled passthru needs a controller path");
	}
	path_pop(c, mark);
	return 0;
}

static int parse_allowed_hosts(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_subsys *s = obj;

	return parse_nqn_list(c, v, &s->allowed_hosts, &s->nr_allowed_hosts);
}

static int parse_listed_hosts(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_subsys *s = obj;

	return parse_nqn_list(c, v, &s->listed_hosts, &s->nr_listed_hosts);
}

/* attr.version: "x.y" or "x.y.z" (configfs sscanf("%d.%d.%d")), into the VS encoding. */
static int parse_version(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_subsys *s = obj;
	unsigned long part[3] = { 0, 0, 0 };
	const char *p = NULL;
	int n = 0, ret;

	if (!json_object_is_type(v, json_type_string))
		return fail(c, "expected a version string like \"2.1\", got %s", jtext(v));
	ret = get_text(c, v, &p);
	if (ret)
		return ret;
	for (;;) {
		char *end;

		if (*p < '0' || *p > '9')
			break;
		part[n++] = strtoul(p, &end, 10);
		p = end;
		if (n == 3 || *p != '.')
			break;
		p++;
	}
	if (n < 2 || *p || part[0] > 0xFFFF || part[1] > 0xFF || part[2] > 0xFF)
		return fail(c, "%s is not a version \"major.minor\" or \"major.minor.tertiary\"",
			    jtext(v));
	s->version = NVMF_CFG_VS(part[0], part[1], part[2]);
	return 0;
}

static const struct field subsys_attr_fields[] = {
	F_BOOL("allow_any_host", struct nvmf_cfg_subsys, allow_any_host),
	F_FUNC("version", parse_version),
	/* serial may be "": the target then generates one, as nvmet does for a new subsystem */
	F_ASCII("serial", struct nvmf_cfg_subsys, serial, 0, NVMF_CFG_SERIAL_MAX),
	F_ASCII("model", struct nvmf_cfg_subsys, model, 1, NVMF_CFG_MODEL_MAX),
	F_ASCII("firmware", struct nvmf_cfg_subsys, firmware, 1, NVMF_CFG_FIRMWARE_MAX),
	F_INT("ieee_oui", struct nvmf_cfg_subsys, ieee_oui, 0, 0xFFFFFF),
	F_INT("vendor_id", struct nvmf_cfg_subsys, vendor_id, 0, 0xFFFF),
	F_INT("subsys_vendor_id", struct nvmf_cfg_subsys, subsys_vendor_id, 0, 0xFFFF),
	F_INT("cntlid_min", struct nvmf_cfg_subsys, cntlid_min,
	      NVMF_CFG_CNTLID_MIN, NVMF_CFG_CNTLID_MAX),
	F_INT("cntlid_max", struct nvmf_cfg_subsys, cntlid_max,
	      NVMF_CFG_CNTLID_MIN, NVMF_CFG_CNTLID_MAX),
	F_INT("qid_max", struct nvmf_cfg_subsys, qid_max, 1, NVMF_CFG_QID_MAX),
	F_BOOL("tbkas", struct nvmf_cfg_subsys, tbkas),
	F_BOOL("pi_enable", struct nvmf_cfg_subsys, pi_enable),
	F_END,
};

static const struct field subsys_fields[] = {
	F_STR("nqn", struct nvmf_cfg_subsys, nqn, NVMF_CFG_NQN_MAX),
	F_GROUP("attr", subsys_attr_fields),
	F_FUNC("allowed_hosts", parse_allowed_hosts),
	F_FUNC("listed_hosts", parse_listed_hosts),	/* ours: see config.h */
	F_FUNC("namespaces", parse_namespaces),
	F_FUNC("passthru", parse_passthru),
	F_END,
};

/* The defaults of nvmet_subsys_alloc(). */
static int subsys_defaults(struct ctx *c, struct nvmf_cfg_subsys *s)
{
	s->version = NVMF_CFG_DEFAULT_VS;
	s->cntlid_min = NVMF_CFG_CNTLID_MIN;
	s->cntlid_max = NVMF_CFG_CNTLID_MAX;
	s->qid_max = NVMF_CFG_QID_MAX;
	s->tbkas = true;
	if (set_str(c, &s->nqn, "") || set_str(c, &s->serial, "") ||
	    set_str(c, &s->model, NVMF_CFG_DEFAULT_MODEL) || set_str(c, &s->firmware, "") ||
	    set_str(c, &s->passthru.path, ""))
		return -ENOMEM;
	return 0;
}

static int parse_subsys(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_subsys *s = elem;
	size_t mark;
	int ret = subsys_defaults(c, s);

	if (!ret)
		ret = parse_object(c, v, subsys_fields, s);
	if (!ret)
		ret = need_key(c, v, "nqn");
	if (ret)
		return ret;
	mark = path_key(c, "attr");
	if (s->cntlid_min > s->cntlid_max) {
		path_key(c, "cntlid_min");
		return fail(c, "cntlid_min %u is above cntlid_max %u", s->cntlid_min, s->cntlid_max);
	}
	if (s->allow_any_host && s->nr_allowed_hosts) {
		/* configfs refuses either order of the two: one grants what the other limits */
		path_key(c, "allow_any_host");
		return fail(c, "allow_any_host is set but allowed_hosts lists %zu host(s); "
			    "use one or the other", s->nr_allowed_hosts);
	}
	path_pop(c, mark);
	if (s->passthru.enable && s->nr_namespaces) {
		path_key(c, "passthru");
		return fail(c, "a subsystem cannot have both a passthru controller and namespaces");
	}
	return 0;
}

static int parse_subsystems(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg *cfg = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	cfg->subsystems = calloc(n, sizeof(*cfg->subsystems));
	if (!cfg->subsystems)
		return nomem(c);
	return parse_list(c, v, cfg->subsystems, sizeof(*cfg->subsystems), &cfg->nr_subsystems,
			  parse_subsys);
}

/* ---------------------------------------------------------------------------------------
 * Ports, their ANA groups and referrals.
 */
static const struct field ana_state_fields[] = {
	F_ENUM("state", struct nvmf_cfg_ana_group, state, ana_state_names),
	F_END,
};

static const struct field ana_group_fields[] = {
	F_INT("grpid", struct nvmf_cfg_ana_group, grpid, 1, NVMF_CFG_ANA_GRPS_MAX),
	F_GROUP("ana", ana_state_fields),
	F_END,
};

static int parse_ana_group(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_ana_group *g = elem;
	int ret = parse_object(c, v, ana_group_fields, g);

	if (!ret)
		ret = need_key(c, v, "grpid");
	if (ret)
		return ret;
	/* Unset state (0): a port starts with group 1 optimized, all others inaccessible. */
	if (!g->state)
		g->state = g->grpid == 1 ? NVMF_CFG_ANA_OPTIMIZED : NVMF_CFG_ANA_INACCESSIBLE;
	return 0;
}

static int parse_ana_groups(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_port *p = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	/* One spare slot: group 1 is added afterwards when the file does not list it. */
	p->ana_groups = calloc(n + 1, sizeof(*p->ana_groups));
	if (!p->ana_groups)
		return nomem(c);
	ret = parse_list(c, v, p->ana_groups, sizeof(*p->ana_groups), &p->nr_ana_groups,
			 parse_ana_group);
	if (ret)
		return ret;
	for (size_t i = 1; i < p->nr_ana_groups; i++) {
		for (size_t j = 0; j < i; j++) {
			if (p->ana_groups[i].grpid != p->ana_groups[j].grpid)
				continue;
			path_index(c, i);
			path_key(c, "grpid");
			return fail(c, "grpid %" PRIu32 " is also ana_groups[%zu]",
				    p->ana_groups[i].grpid, j);
		}
	}
	return 0;
}

static const struct field referral_addr_fields[] = {
	F_ENUM("trtype", struct nvmf_cfg_referral, trtype, trtype_names),
	F_ENUM("adrfam", struct nvmf_cfg_referral, adrfam, adrfam_names),
	F_STR("traddr", struct nvmf_cfg_referral, traddr, NVMF_CFG_TRADDR_MAX),
	F_STR("trsvcid", struct nvmf_cfg_referral, trsvcid, NVMF_CFG_TRSVCID_MAX),
	F_ENUM("treq", struct nvmf_cfg_referral, treq, treq_names),
	F_INT("portid", struct nvmf_cfg_referral, portid, 0, 0xFFFF),
	F_END,
};

static const struct field referral_fields[] = {
	F_STR("name", struct nvmf_cfg_referral, name, 255),
	F_GROUP("addr", referral_addr_fields),
	F_BOOL("enable", struct nvmf_cfg_referral, enable),
	F_END,
};

static int parse_referral(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_referral *r = elem;
	int ret;

	r->trtype = NVMF_CFG_TRTYPE_UNSET;	/* nvmet_referral_make() */
	r->adrfam = NVMF_CFG_ADRFAM_UNSET;
	if (set_str(c, &r->name, "") || set_str(c, &r->traddr, "") || set_str(c, &r->trsvcid, ""))
		return -ENOMEM;
	ret = parse_object(c, v, referral_fields, r);
	if (!ret)
		ret = need_key(c, v, "name");
	if (ret)
		return ret;
	if (!*r->name || strchr(r->name, '/')) {
		path_key(c, "name");
		return fail(c, "\"%s\" is not a referral name", r->name);
	}
	if (!r->enable)
		return 0;
	/* Only enabled referrals reach the discovery log: those must be usable. */
	if (r->trtype == NVMF_CFG_TRTYPE_UNSET) {
		warn(c, "enabled referral without addr.trtype");
		return 0;
	}
	if (r->trtype == NVMF_CFG_TRTYPE_TCP)
		return check_ip_addr(c, r->adrfam, r->traddr, r->trsvcid);
	return 0;
}

static int parse_referrals(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_port *p = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	p->referrals = calloc(n, sizeof(*p->referrals));
	if (!p->referrals)
		return nomem(c);
	ret = parse_list(c, v, p->referrals, sizeof(*p->referrals), &p->nr_referrals,
			 parse_referral);
	if (ret)
		return ret;
	for (size_t i = 1; i < p->nr_referrals; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->referrals[i].name, p->referrals[j].name))
				continue;
			path_index(c, i);
			path_key(c, "name");
			return fail(c, "\"%s\" is also referrals[%zu]", p->referrals[i].name, j);
		}
	}
	return 0;
}

static int parse_port_subsystems(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg_port *p = obj;

	return parse_nqn_list(c, v, &p->subsystems, &p->nr_subsystems);
}

static const struct field port_addr_fields[] = {
	F_ENUM("trtype", struct nvmf_cfg_port, trtype, trtype_names),
	F_ENUM("adrfam", struct nvmf_cfg_port, adrfam, adrfam_names),
	F_STR("traddr", struct nvmf_cfg_port, traddr, NVMF_CFG_TRADDR_MAX),
	F_STR("trsvcid", struct nvmf_cfg_port, trsvcid, NVMF_CFG_TRSVCID_MAX),
	F_ENUM("treq", struct nvmf_cfg_port, treq, treq_names),
	F_ENUM("tsas", struct nvmf_cfg_port, tsas, tsas_names),
	F_END,
};

static const struct field port_param_fields[] = {
	/* kstrtoint: any int; below 0 means the transport default. */
	F_INT("inline_data_size", struct nvmf_cfg_port, inline_data_size, -1, INT_MAX),
	F_INT("max_queue_size", struct nvmf_cfg_port, max_queue_size, INT_MIN, INT_MAX),
	F_INT("mdts", struct nvmf_cfg_port, mdts, -1, NVMF_CFG_MDTS_MAX),
	F_BOOL("pi_enable", struct nvmf_cfg_port, pi_enable),
	F_BOOL("mptcp", struct nvmf_cfg_port, mptcp),	/* ours: Multipath TCP listener */
	F_END,
};

static const struct field port_fields[] = {
	F_INT("portid", struct nvmf_cfg_port, portid, 0, 0xFFFF),
	F_GROUP("addr", port_addr_fields),
	F_GROUP("param", port_param_fields),
	F_FUNC("subsystems", parse_port_subsystems),
	F_FUNC("ana_groups", parse_ana_groups),
	F_FUNC("referrals", parse_referrals),
	F_END,
};

/* The defaults of nvmet_ports_make(). */
static int port_defaults(struct ctx *c, struct nvmf_cfg_port *p)
{
	p->trtype = NVMF_CFG_TRTYPE_UNSET;
	p->adrfam = NVMF_CFG_ADRFAM_UNSET;
	p->treq = NVMF_CFG_TREQ_NOT_SPECIFIED;
	p->tsas = NVMF_CFG_TSAS_NONE;
	p->inline_data_size = -1;
	p->max_queue_size = -1;
	p->mdts = -1;
	if (set_str(c, &p->traddr, "") || set_str(c, &p->trsvcid, ""))
		return -ENOMEM;
	return 0;
}

/* Group 1 exists on every port (configfs creates it); add it when the file lacks it. */
static int ensure_ana_group1(struct ctx *c, struct nvmf_cfg_port *p)
{
	struct nvmf_cfg_ana_group *g;

	for (size_t i = 0; i < p->nr_ana_groups; i++) {
		if (p->ana_groups[i].grpid == 1)
			return 0;
	}
	if (!p->ana_groups) {	/* else parse_ana_groups() left a spare slot */
		p->ana_groups = calloc(1, sizeof(*p->ana_groups));
		if (!p->ana_groups)
			return nomem(c);
	}
	g = &p->ana_groups[p->nr_ana_groups++];
	g->grpid = 1;
	g->state = NVMF_CFG_ANA_OPTIMIZED;
	return 0;
}

/* The transport security type must fit the transport, as configfs's tsas_store() checks. */
static int check_tsas(struct ctx *c, struct nvmf_cfg_port *p)
{
	bool rdma_qp = p->tsas == NVMF_CFG_TSAS_RDMA_CONNECTED ||
		       p->tsas == NVMF_CFG_TSAS_RDMA_DATAGRAM;
	size_t mark;

	if (p->tsas == NVMF_CFG_TSAS_NONE ||
	    (p->tsas == NVMF_CFG_TSAS_TLS13 && p->trtype == NVMF_CFG_TRTYPE_TCP) ||
	    (rdma_qp && p->trtype == NVMF_CFG_TRTYPE_RDMA))
		return 0;
	mark = path_key(c, "addr");
	path_key(c, "tsas");
	fail(c, "\"%s\" does not apply to trtype \"%s\"", map_name(tsas_names, p->tsas),
	     nvmf_cfg_trtype_name(p->trtype));
	path_pop(c, mark);
	return -EINVAL;
}

static int parse_port(struct ctx *c, struct json_object *v, void *elem)
{
	struct nvmf_cfg_port *p = elem;
	int ret = port_defaults(c, p);

	if (!ret)
		ret = parse_object(c, v, port_fields, p);
	if (!ret)
		ret = need_key(c, v, "portid");
	if (!ret)
		ret = ensure_ana_group1(c, p);
	if (!ret)
		ret = check_tsas(c, p);
	if (ret)
		return ret;
	/* tsas_store(): TLS makes an unspecified treq "required". */
	if (p->tsas == NVMF_CFG_TSAS_TLS13 && p->treq == NVMF_CFG_TREQ_NOT_SPECIFIED)
		p->treq = NVMF_CFG_TREQ_REQUIRED;
	if (p->max_queue_size < 0) {
		p->max_queue_size = -1;
	} else if (p->max_queue_size < NVMF_CFG_QUEUE_SIZE_MIN ||
		   p->max_queue_size > NVMF_CFG_QUEUE_SIZE_MAX) {
		/* nvmet_enable_port() clamps silently; say so here. */
		int clamped = p->max_queue_size < NVMF_CFG_QUEUE_SIZE_MIN ?
			      NVMF_CFG_QUEUE_SIZE_MIN : NVMF_CFG_QUEUE_SIZE_MAX;
		size_t mark = path_key(c, "param");

		path_key(c, "max_queue_size");
		warn(c, "%d is outside %d..%d, using %d", p->max_queue_size,
		     NVMF_CFG_QUEUE_SIZE_MIN, NVMF_CFG_QUEUE_SIZE_MAX, clamped);
		path_pop(c, mark);
		p->max_queue_size = clamped;
	}

	if (p->trtype == NVMF_CFG_TRTYPE_UNSET) {
		warn(c, "no addr.trtype: port ignored");
	} else if (p->trtype != NVMF_CFG_TRTYPE_TCP) {
		warn(c, "trtype \"%s\" is not served by nvmf-target (TCP only): port ignored",
		     nvmf_cfg_trtype_name(p->trtype));
	} else if (!p->nr_subsystems) {
		warn(c, "no subsystems linked: like nvmet, the port is not enabled");
	} else {
		p->enabled = true;
		return check_ip_addr(c, p->adrfam, p->traddr, p->trsvcid);
	}
	return 0;
}

static int parse_ports(struct ctx *c, struct json_object *v, void *obj)
{
	struct nvmf_cfg *cfg = obj;
	size_t n = 0;
	int ret = list_len(c, v, &n);

	if (ret || !n)
		return ret;
	cfg->ports = calloc(n, sizeof(*cfg->ports));
	if (!cfg->ports)
		return nomem(c);
	return parse_list(c, v, cfg->ports, sizeof(*cfg->ports), &cfg->nr_ports, parse_port);
}

/* ---------------------------------------------------------------------------------------
 * Root and cross references (what configfs enforces through its symlinks).
 */
static const struct field discovery_fields[] = {
	F_STR("nqn", struct nvmf_cfg, discovery_nqn, DISC_NQN_MAX),
	F_END,
};

static const struct field root_fields[] = {
	F_GROUP("discovery", discovery_fields),
	F_FUNC("hosts", parse_hosts),
	F_FUNC("subsystems", parse_subsystems),
	F_FUNC("ports", parse_ports),
	F_END,
};

/* Set the path to "<list>[i].<key>" from the root. */
static void path_at(struct ctx *c, const char *list, size_t i, const char *key)
{
	path_pop(c, 0);
	path_key(c, list);
	path_index(c, i);
	if (key)
		path_key(c, key);
}

static int validate_hosts(struct ctx *c, const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_hosts; i++) {
		path_at(c, "hosts", i, "nqn");
		if (check_nqn_text(c, cfg->hosts[i].nqn, NVMF_CFG_NQN_MAX))
			return -EINVAL;
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cfg->hosts[i].nqn, cfg->hosts[j].nqn))
				return fail(c, "\"%s\" is also hosts[%zu]", cfg->hosts[i].nqn, j);
		}
	}
	return 0;
}

static int validate_allowed_hosts(struct ctx *c, const struct nvmf_cfg *cfg, size_t si)
{
	const struct nvmf_cfg_subsys *s = &cfg->subsystems[si];

	for (size_t i = 0; i < s->nr_allowed_hosts; i++) {
		const char *h = s->allowed_hosts[i];

		path_at(c, "subsystems", si, "allowed_hosts");
		path_index(c, i);
		if (!nvmf_cfg_find_host(cfg, h))
			return fail(c, "\"%s\" names no host in hosts[]", h);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(h, s->allowed_hosts[j]))
				return fail(c, "\"%s\" is listed twice", h);
		}
	}
	for (size_t i = 0; i < s->nr_listed_hosts; i++) {
		path_at(c, "subsystems", si, "listed_hosts");
		path_index(c, i);
		if (!nvmf_cfg_find_host(cfg, s->listed_hosts[i]))
			return fail(c, "\"%s\" names no host in hosts[]", s->listed_hosts[i]);
	}
	return 0;
}

static int validate_subsystems(struct ctx *c, const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		const char *nqn = cfg->subsystems[i].nqn;
		int ret;

		path_at(c, "subsystems", i, "nqn");
		if (check_nqn_text(c, nqn, NVMF_CFG_NQN_MAX))
			return -EINVAL;
		/* nvmet_subsys_make() and discovery_nqn_store() keep these apart. */
		if (!strcmp(nqn, NVMF_CFG_DISC_NQN) || !strcmp(nqn, cfg->discovery_nqn))
			return fail(c, "\"%s\" is the discovery NQN", nqn);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(nqn, cfg->subsystems[j].nqn))
				return fail(c, "\"%s\" is also subsystems[%zu]", nqn, j);
		}
		ret = validate_allowed_hosts(c, cfg, i);
		if (ret)
			return ret;
	}
	return 0;
}

static bool same_listener(const struct nvmf_cfg_port *a, const struct nvmf_cfg_port *b)
{
	return a->enabled && b->enabled && a->adrfam == b->adrfam &&
	       !strcmp(a->traddr, b->traddr) && !strcmp(a->trsvcid, b->trsvcid);
}

static int validate_port(struct ctx *c, const struct nvmf_cfg *cfg, size_t pi)
{
	const struct nvmf_cfg_port *p = &cfg->ports[pi];

	for (size_t j = 0; j < pi; j++) {
		if (p->portid == cfg->ports[j].portid) {
			path_at(c, "ports", pi, "portid");
			return fail(c, "portid %u is also ports[%zu]", p->portid, j);
		}
		if (same_listener(p, &cfg->ports[j])) {
			path_at(c, "ports", pi, "addr");
			return fail(c, "%s:%s is also the address of ports[%zu]",
				    p->traddr, p->trsvcid, j);
		}
	}
	for (size_t i = 0; i < p->nr_subsystems; i++) {
		const char *nqn = p->subsystems[i];

		path_at(c, "ports", pi, "subsystems");
		path_index(c, i);
		if (!nvmf_cfg_find_subsys(cfg, nqn))
			return fail(c, "\"%s\" names no subsystem in subsystems[]", nqn);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(nqn, p->subsystems[j]))
				return fail(c, "\"%s\" is linked twice", nqn);
		}
	}
	return 0;
}

static bool port_links(const struct nvmf_cfg_port *p, const char *nqn)
{
	for (size_t i = 0; i < p->nr_subsystems; i++) {
		if (!strcmp(p->subsystems[i], nqn))
			return true;
	}
	return false;
}

/* A namespace in an ANA group that no port of its subsystem defines is inaccessible. */
static void warn_orphan_ana_groups(struct ctx *c, const struct nvmf_cfg *cfg)
{
	for (size_t si = 0; si < cfg->nr_subsystems; si++) {
		const struct nvmf_cfg_subsys *s = &cfg->subsystems[si];

		for (size_t ni = 0; ni < s->nr_namespaces; ni++) {
			uint32_t grp = s->namespaces[ni].ana_grpid;
			bool defined = grp == 1;

			for (size_t pi = 0; pi < cfg->nr_ports && !defined; pi++) {
				const struct nvmf_cfg_port *p = &cfg->ports[pi];

				if (!p->enabled || !port_links(p, s->nqn))
					continue;
				for (size_t g = 0; g < p->nr_ana_groups; g++)
					defined |= p->ana_groups[g].grpid == grp;
			}
			if (defined)
				continue;
			path_at(c, "subsystems", si, "namespaces");
			path_index(c, ni);
			path_key(c, "ana_grpid");
			warn(c, "ANA group %" PRIu32 " is defined on no port serving this "
			     "subsystem: the namespace is inaccessible", grp);
		}
	}
}

static int validate(struct ctx *c, const struct nvmf_cfg *cfg)
{
	int ret;

	path_pop(c, 0);
	path_key(c, "discovery");
	path_key(c, "nqn");
	ret = check_nqn_text(c, cfg->discovery_nqn, DISC_NQN_MAX);
	if (!ret)
		ret = validate_hosts(c, cfg);
	if (!ret)
		ret = validate_subsystems(c, cfg);
	for (size_t i = 0; !ret && i < cfg->nr_ports; i++)
		ret = validate_port(c, cfg, i);
	if (ret)
		return ret;
	warn_orphan_ana_groups(c, cfg);
	path_pop(c, 0);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Public entry points.
 */
static struct nvmf_cfg *cfg_new(void)
{
	struct nvmf_cfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->discovery_nqn = strdup(NVMF_CFG_DISC_NQN);
	if (!cfg->discovery_nqn) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_port(struct nvmf_cfg_port *p)
{
	free(p->traddr);
	free(p->trsvcid);
	free_strv(p->subsystems, p->nr_subsystems);
	free(p->ana_groups);
	for (size_t i = 0; i < p->nr_referrals; i++) {
		free(p->referrals[i].name);
		free(p->referrals[i].traddr);
		free(p->referrals[i].trsvcid);
	}
	free(p->referrals);
}

static void free_subsys(struct nvmf_cfg_subsys *s)
{
	free(s->nqn);
	free(s->serial);
	free(s->model);
	free(s->firmware);
	free_strv(s->allowed_hosts, s->nr_allowed_hosts);
	free_strv(s->listed_hosts, s->nr_listed_hosts);
	for (size_t i = 0; i < s->nr_namespaces; i++) {
		free(s->namespaces[i].path);
		free(s->namespaces[i].bdev_name);
		free(s->namespaces[i].resv_ptpl_file);
	}
	free(s->namespaces);
	free(s->passthru.path);
}

void nvmf_cfg_free(struct nvmf_cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->source);
	free(cfg->discovery_nqn);
	for (size_t i = 0; i < cfg->nr_hosts; i++) {
		free(cfg->hosts[i].nqn);
		free(cfg->hosts[i].dhchap_key);
		free(cfg->hosts[i].dhchap_ctrl_key);
	}
	free(cfg->hosts);
	for (size_t i = 0; i < cfg->nr_ports; i++)
		free_port(&cfg->ports[i]);
	free(cfg->ports);
	for (size_t i = 0; i < cfg->nr_subsystems; i++)
		free_subsys(&cfg->subsystems[i]);
	free(cfg->subsystems);
	free_strv(cfg->warnings, cfg->nr_warnings);
	free(cfg);
}

/* "<file>:<line>:<col>: " for a byte offset into the text. */
static int fail_at(struct ctx *c, const char *text, size_t off, const char *what)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%zu:%zu: invalid JSON: %s", c->name, line, col,
			 what);
	return -EINVAL;
}

static int parse_json(struct ctx *c, const char *text, struct json_object **out)
{
	size_t len = strlen(text), end;
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;

	if (len > INT_MAX)
		return fail(c, "file is too large");
	tok = json_tokener_new();
	if (!tok)
		return nomem(c);
	/*
	 * Strict, like the json.loads() of `nvmetcli restore`: no trailing commas etc.  Text
	 * after the object is let through here to be reported more clearly below.
	 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
				    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			return fail_at(c, text, len, "unexpected end of file");
		/* The tokener stops at the offending character. */
		return fail_at(c, text, end, json_tokener_error_desc(jerr));
	}
	for (; end < len; end++) {
		if (text[end] != ' ' && text[end] != '\t' && text[end] != '\n' && text[end] != '\r') {
			json_object_put(root);
			return fail_at(c, text, end, "data after the top-level object");
		}
	}
	*out = root;
	return 0;
}

int nvmf_cfg_load_string(const char *json, const char *name_for_errors,
			 struct nvmf_cfg **out, char *err, size_t errlen)
{
	struct ctx c = {
		.name = name_for_errors ? name_for_errors : "config",
		.err = err,
		.errlen = errlen,
	};
	struct json_object *root = NULL;
	struct nvmf_cfg *cfg = NULL;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !json)
		return fail(&c, "internal error: no input");
	*out = NULL;
	ret = parse_json(&c, json, &root);
	if (ret)
		goto out;
	cfg = cfg_new();
	if (!cfg) {
		ret = nomem(&c);
		goto out;
	}
	c.cfg = cfg;
	cfg->source = strdup(c.name);
	if (!cfg->source) {
		ret = nomem(&c);
		goto out;
	}
	ret = parse_object(&c, root, root_fields, cfg);
	if (ret)
		goto out;
	ret = validate(&c, cfg);
	if (ret)
		goto out;
	if (c.oom) {
		ret = nomem(&c);
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	nvmf_cfg_free(cfg);
	json_object_put(root);
	return ret;
}

int nvmf_cfg_load_file(const char *path, struct nvmf_cfg **out, char *err, size_t errlen)
{
	struct ctx c = { .name = path ? path : "config", .err = err, .errlen = errlen };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f = NULL;
	int ret;

	if (out)
		*out = NULL;
	if (!path || !out)
		return fail(&c, "internal error: no file");
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		fail(&c, "cannot open: %s", strerror(-ret));
		goto out;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nbuf;

			if (cap >= CFG_FILE_MAX) {
				ret = fail(&c, "larger than %u MiB, not a configuration",
					   CFG_FILE_MAX >> 20);
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				ret = nomem(&c);
				goto out;
			}
			buf = nbuf;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		ret = fail(&c, "read error");
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		ret = fail(&c, "contains a NUL byte, not a JSON text file");
		goto out;
	}
	ret = nvmf_cfg_load_string(buf, path, out, err, errlen);
out:
	if (f)
		fclose(f);
	free(buf);
	return ret;
}

int nvmf_cfg_check_private(const char *path, const struct nvmf_cfg *cfg, char *err,
			   size_t errlen)
{
	struct stat st;
	size_t keys = 0;

	for (size_t i = 0; i < cfg->nr_hosts; i++)
		keys += (cfg->hosts[i].dhchap_key && *cfg->hosts[i].dhchap_key) +
			(cfg->hosts[i].dhchap_ctrl_key && *cfg->hosts[i].dhchap_ctrl_key);
	if (!keys)
		return 0;
	if (stat(path, &st) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: holds %zu DH-HMAC-CHAP key(s) and group or others may access "
				 "it (mode %04o): chmod 600 it", path, keys,
				 (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Quick start.
 */
int nvmf_cfg_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTP";
	const char *u;
	uint64_t v = 0;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s && (u = strchr(units, *s & ~0x20)) != NULL) {
		shift = 10 * (int)(u - units + 1);
		s++;
		if (*s == 'i')
			s++;
	}
	if (*s == 'B' || (*s == 'b' && shift))
		s++;
	if (*s || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Split --listen "ADDR[:PORT]" / "[V6][:PORT]" / "V6" into address, port and family. */
static int parse_listen(const char *listen, char *addr, size_t alen, char *port, size_t plen,
			enum nvmf_cfg_adrfam *fam, char *err, size_t errlen)
{
	const char *colon, *p = listen;
	size_t n;

	snprintf(port, plen, "%s", NVMF_CFG_QUICK_PORT);
	if (!listen || !*listen) {
		snprintf(addr, alen, "%s", NVMF_CFG_QUICK_ADDR);
		*fam = NVMF_CFG_ADRFAM_IPV4;
		return 0;
	}
	if (*p == '[') {
		colon = strchr(p, ']');
		if (!colon || (colon[1] && colon[1] != ':'))
			goto bad;
		n = (size_t)(colon - p - 1);
		p++;
		colon = colon[1] ? colon + 1 : NULL;
	} else {
		colon = strchr(p, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* more than one ':': a bare IPv6 address */
		n = colon ? (size_t)(colon - p) : strlen(p);
	}
	if (!n || n >= alen)
		goto bad;
	snprintf(addr, alen, "%.*s", (int)n, p);
	if (colon) {
		if (!port_parses(colon + 1)) {
			snprintf(err, errlen, "--listen \"%s\": \"%s\" is not a TCP port number "
				 "(1..65535)", listen, colon + 1);
			return -EINVAL;
		}
		snprintf(port, plen, "%s", colon + 1);
	}
	if (ip_parses(NVMF_CFG_ADRFAM_IPV4, addr)) {
		*fam = NVMF_CFG_ADRFAM_IPV4;
		return 0;
	}
	if (ip_parses(NVMF_CFG_ADRFAM_IPV6, addr)) {
		*fam = NVMF_CFG_ADRFAM_IPV6;
		return 0;
	}
	snprintf(err, errlen, "--listen \"%s\": \"%s\" is not an IPv4 or IPv6 address "
		 "(host names are not resolved)", listen, addr);
	return -EINVAL;
bad:
	snprintf(err, errlen, "--listen \"%s\": expected ADDR[:PORT] or [IPV6ADDR][:PORT]",
		 listen);
	return -EINVAL;
}

static int check_quick(const struct nvmf_cfg_quick *q, char *err, size_t errlen)
{
	switch (q->backend) {
	case NVMF_BACKEND_RAM:
	case NVMF_BACKEND_NULL:
		if (!q->size || q->size % 512) {
			snprintf(err, errlen, "%s size %" PRIu64 ": must be a non-zero multiple "
				 "of 512 bytes", q->backend == NVMF_BACKEND_RAM ? "--ram" : "--null",
				 q->size);
			return -EINVAL;
		}
		return 0;
	case NVMF_BACKEND_AUTO:
	case NVMF_BACKEND_FILE:
	case NVMF_BACKEND_BLOCK:
		if (!q->path || !*q->path || strlen(q->path) > CFG_PATH_MAX) {
			snprintf(err, errlen, "%s: a path is required",
				 q->backend == NVMF_BACKEND_BLOCK ? "--device" : "--file");
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "quick-start: unknown backend %d", (int)q->backend);
	return -EINVAL;
}

static int quick_build(struct ctx *c, struct nvmf_cfg *cfg, const struct nvmf_cfg_quick *q,
		       const char *addr, const char *port, enum nvmf_cfg_adrfam fam)
{
	const char *nqn = q->nqn ? q->nqn : NVMF_CFG_QUICK_NQN;
	struct nvmf_cfg_subsys *s;
	struct nvmf_cfg_port *p;
	struct nvmf_cfg_ns *ns;

	cfg->subsystems = calloc(1, sizeof(*s));
	cfg->ports = calloc(1, sizeof(*p));
	if (!cfg->subsystems || !cfg->ports)
		return nomem(c);
	cfg->nr_subsystems = 1;
	s = &cfg->subsystems[0];
	if (subsys_defaults(c, s) || set_str(c, &s->nqn, nqn))
		return -ENOMEM;
	s->allow_any_host = true;
	s->namespaces = calloc(1, sizeof(*ns));
	if (!s->namespaces)
		return nomem(c);
	s->nr_namespaces = 1;
	ns = &s->namespaces[0];
	ns->nsid = 1;
	ns->enable = true;
	ns->backend = q->backend;
	ns->size = q->size;
	ns->prealloc = q->prealloc && q->backend == NVMF_BACKEND_RAM;
	ns->lazy = q->lazy && q->backend == NVMF_BACKEND_RAM;
	ns->ana_grpid = 1;
	if (set_str(c, &ns->path, q->path ? q->path : "") || set_str(c, &ns->bdev_name, "") ||
	    set_str(c, &ns->resv_ptpl_file, ""))
		return -ENOMEM;

	cfg->nr_ports = 1;
	p = &cfg->ports[0];
	if (port_defaults(c, p) || set_str(c, &p->traddr, addr) || set_str(c, &p->trsvcid, port))
		return -ENOMEM;
	p->portid = 1;
	p->mptcp = q->mptcp;
	p->trtype = NVMF_CFG_TRTYPE_TCP;
	p->adrfam = fam;
	p->enabled = true;
	if (q->tls) {	/* what a config port with addr.tsas "tls1.3" becomes */
		p->tsas = NVMF_CFG_TSAS_TLS13;
		p->treq = NVMF_CFG_TREQ_REQUIRED;
	}
	p->subsystems = calloc(1, sizeof(*p->subsystems));
	if (!p->subsystems)
		return nomem(c);
	p->nr_subsystems = 1;
	if (set_str(c, &p->subsystems[0], nqn))
		return -ENOMEM;
	return ensure_ana_group1(c, p);
}

struct nvmf_cfg *nvmf_cfg_quickstart(const struct nvmf_cfg_quick *q, char *err, size_t errlen)
{
	struct ctx c = { .name = "quick-start", .err = err, .errlen = errlen };
	char addr[NVMF_CFG_TRADDR_MAX + 1], port[NVMF_CFG_TRSVCID_MAX + 1];
	enum nvmf_cfg_adrfam fam;
	struct nvmf_cfg *cfg = NULL;
	char dummy[1];

	if (!err || !errlen) {	/* the snprintf()s below always want somewhere to go */
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!q) {
		snprintf(err, errlen, "quick-start: no options");
		return NULL;
	}
	if (check_quick(q, err, errlen) ||
	    parse_listen(q->listen, addr, sizeof(addr), port, sizeof(port), &fam, err, errlen))
		return NULL;
	if (q->nqn) {
		c.name = "--nqn";
		if (check_nqn_text(&c, q->nqn, NVMF_CFG_NQN_MAX))
			return NULL;
		c.name = "quick-start";
	}
	cfg = cfg_new();
	if (!cfg) {
		nomem(&c);
		return NULL;
	}
	c.cfg = cfg;
	/* The same checks as a file gets, so the target sees one kind of model. */
	if (quick_build(&c, cfg, q, addr, port, fam) || validate(&c, cfg) || c.oom) {
		if (c.oom)
			nomem(&c);
		nvmf_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* ---------------------------------------------------------------------------------------
 * Lookups.
 */
const struct nvmf_cfg_subsys *nvmf_cfg_find_subsys(const struct nvmf_cfg *cfg, const char *nqn)
{
	for (size_t i = 0; cfg && nqn && i < cfg->nr_subsystems; i++) {
		if (!strcmp(cfg->subsystems[i].nqn, nqn))
			return &cfg->subsystems[i];
	}
	return NULL;
}

const struct nvmf_cfg_host *nvmf_cfg_find_host(const struct nvmf_cfg *cfg, const char *nqn)
{
	for (size_t i = 0; cfg && nqn && i < cfg->nr_hosts; i++) {
		if (!strcmp(cfg->hosts[i].nqn, nqn))
			return &cfg->hosts[i];
	}
	return NULL;
}

enum nvmf_cfg_ana_state nvmf_cfg_port_ana_state(const struct nvmf_cfg_port *port, uint32_t grpid)
{
	for (size_t i = 0; i < port->nr_ana_groups; i++) {
		if (port->ana_groups[i].grpid == grpid)
			return port->ana_groups[i].state;
	}
	return NVMF_CFG_ANA_INACCESSIBLE;
}

const char *nvmf_cfg_trtype_name(enum nvmf_cfg_trtype t)
{
	return t == NVMF_CFG_TRTYPE_UNSET ? "" : map_name(trtype_names, t);
}

const char *nvmf_cfg_adrfam_name(enum nvmf_cfg_adrfam a)
{
	return a == NVMF_CFG_ADRFAM_UNSET ? "" : map_name(adrfam_names, a);
}

/* The names the writer (config_save.c) puts back, from the same tables the loader reads. */
const char *nvmf_cfg_treq_name(enum nvmf_cfg_treq t)
{
	return map_name(treq_names, t);
}

const char *nvmf_cfg_tsas_name(enum nvmf_cfg_tsas t)
{
	return map_name(tsas_names, t);
}

const char *nvmf_cfg_ana_state_name(enum nvmf_cfg_ana_state s)
{
	return map_name(ana_state_names, s);
}

const char *nvmf_cfg_dhchap_hash_name(enum nvmf_cfg_dhchap_hash h)
{
	return map_name(hash_names, h);
}

const char *nvmf_cfg_dhchap_dhgroup_name(enum nvmf_cfg_dhchap_dhgroup g)
{
	return map_name(dhgroup_names, g);
}

const char *nvmf_cfg_backend_name(enum nvmf_cfg_backend b)
{
	return map_name(backend_names, b);
}
