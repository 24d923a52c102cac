/*
 * The document the JSON-RPC methods edit: the configuration in force written as nvmetcli
 * JSON (config_save.c), changed, then committed: loaded (the loader validates it as it
 * would a file), applied live by nvmf_tgt_apply() as a SIGHUP reload is, and saved
 * (--save).  With the helpers the methods share to find and change its parts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"
#include "target/config.h"
#include "target/target.h"
#include "util/log.h"

struct json_object *rpc_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

const char *rpc_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = rpc_jget(o, key);

	return v ? json_object_get_string(v) : "";
}

struct json_object *rpc_cfg_begin(struct rpc_call *c)
{
	struct json_object *doc = nvmf_cfg_to_json(c->rpc->tgt->cfg);

	if (!doc)
		rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	return doc;
}

int rpc_cfg_commit(struct rpc_call *c, struct json_object *doc)
{
	struct nvmf_tgt *tgt = c->rpc->tgt;
	struct nvmf_cfg *ncfg = NULL;
	char err[512], origin[128];
	int rc;

	rc = nvmf_cfg_load_string(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN),
				  "configuration", &ncfg, err, sizeof(err));
	json_object_put(doc);
	if (rc)
		return rpc_invalid(c, "%s", err);
	for (size_t i = 0; i < ncfg->nr_warnings; i++)
		log_debug("rpc %s: %s", c->method, ncfg->warnings[i]);
	snprintf(origin, sizeof(origin), "rpc %s: configuration applied", c->method);
	rc = nvmf_tgt_apply(tgt, ncfg, origin, err, sizeof(err));
	if (rc)
		return rpc_invalid(c, "%s", err);
	if (c->rpc->save_path) {
		rc = nvmf_cfg_save_file(tgt->cfg, c->rpc->save_path, err, sizeof(err));
		if (rc) {
			log_err("rpc %s: applied, but not saved: %s", c->method, err);
			return rpc_fail(c, RPC_ERR_INTERNAL, "Applied, but not saved: %s", err);
		}
	}
	return 0;
}

struct json_object *rpc_doc_list(struct json_object *doc, const char *key)
{
	struct json_object *a = rpc_jget(doc, key);

	if (!a) {
		a = json_object_new_array();
		json_object_object_add(doc, key, a);
	}
	return a;
}

struct json_object *rpc_doc_subsys(struct json_object *doc, const char *nqn, size_t *idx)
{
	struct json_object *subs = rpc_doc_list(doc, "subsystems");

	for (size_t i = 0; subs && i < json_object_array_length(subs); i++) {
		struct json_object *s = json_object_array_get_idx(subs, i);

		if (strcmp(rpc_jstr(s, "nqn"), nqn) == 0) {
			if (idx)
				*idx = i;
			return s;
		}
	}
	return NULL;
}

bool rpc_strv_has(struct json_object *arr, const char *s)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return true;
	return false;
}

void rpc_strv_del(struct json_object *arr, const char *s)
{
	for (size_t i = arr ? json_object_array_length(arr) : 0; i-- > 0;)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			json_object_array_del_idx(arr, i, 1);
}

/* Ports that link nothing are not enabled (nvmet): drop them, and hosts nothing allows. */
void rpc_doc_tidy(struct json_object *doc)
{
	struct json_object *ports = rpc_doc_list(doc, "ports"), *hosts = rpc_doc_list(doc, "hosts");
	struct json_object *subs = rpc_doc_list(doc, "subsystems");

	for (size_t i = json_object_array_length(ports); i-- > 0;) {
		struct json_object *links = rpc_jget(json_object_array_get_idx(ports, i), "subsystems");

		if (!links || json_object_array_length(links) == 0)
			json_object_array_del_idx(ports, i, 1);
	}
	for (size_t i = json_object_array_length(hosts); i-- > 0;) {
		const char *h = rpc_jstr(json_object_array_get_idx(hosts, i), "nqn");
		bool used = false;

		for (size_t k = 0; k < json_object_array_length(subs) && !used; k++) {
			struct json_object *sub = json_object_array_get_idx(subs, k);

			used = rpc_strv_has(rpc_jget(sub, "allowed_hosts"), h) ||
			       rpc_strv_has(rpc_jget(sub, "listed_hosts"), h);
		}
		if (!used)
			json_object_array_del_idx(hosts, i, 1);
	}
}

/* A subsystem's list of NQNs, made when missing. */
struct json_object *rpc_subsys_list(struct json_object *sub, const char *key)
{
	struct json_object *a = rpc_jget(sub, key);

	if (!a) {
		a = json_object_new_array();
		json_object_object_add(sub, key, a);
	}
	return a;
}

/* Move every NQN of one list to the other (allow_any_host set or cleared). */
void rpc_move_hosts(struct json_object *sub, const char *from, const char *to)
{
	struct json_object *src = rpc_jget(sub, from), *dst = rpc_subsys_list(sub, to);

	for (size_t i = 0; src && i < json_object_array_length(src); i++) {
		const char *h = json_object_get_string(json_object_array_get_idx(src, i));

		if (!rpc_strv_has(dst, h))
			json_object_array_add(dst, json_object_new_string(h));
	}
	json_object_object_del(sub, from);
}

/* The nvmf_subsystem_* methods all start so: known keys, "nqn" names a subsystem. */
int rpc_subsys_arg(struct rpc_call *c, const char *const *known, const char **nqn)
{
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "nqn", true, nqn);
	if (rc)
		return rc;
	if (!nvmf_cfg_find_subsys(c->rpc->tgt->cfg, *nqn))
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Subsystem with NQN '%s' not found",
				*nqn);
	return 0;
}

