/*
 * SPDK's configuration file and the framework methods around it.  SPDK's rpc.py builds
 * save_config from framework_get_subsystems + framework_get_config, and load_config from
 * rpc_get_methods + the calls themselves + framework_start_init; we answer those, and also
 * take save_config / load_config as methods of their own (one call for our client).
 *
 *   {"subsystems": [{"subsystem": "bdev", "config": [{"method": M, "params": P}, ...]},
 *                   {"subsystem": "nvmf", "config": [...]}]}
 *
 * Methods of SPDK's config that set options we have no use for (bdev_set_options,
 * nvmf_set_config, iobuf_set_options, sock_impl_set_options, ...) are accepted and do
 * nothing, so that a file SPDK wrote loads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"
#include "util/log.h"

/* Subsystems in SPDK's order of initialization: bdev before nvmf. */
static const char *const subsystems[] = { "bdev", "nvmf" };

static int m_framework_get_subsystems(struct rpc_call *c)
{
	static const char *const known[] = { NULL };
	int rc = rpc_params(c, known);

	if (rc)
		return rc;
	c->result = json_object_new_array();
	for (size_t i = 0; c->result && i < sizeof(subsystems) / sizeof(subsystems[0]); i++) {
		struct json_object *s = json_object_new_object(), *dep = json_object_new_array();

		json_object_object_add(s, "subsystem", json_object_new_string(subsystems[i]));
		if (i == 1)
			json_object_array_add(dep, json_object_new_string("bdev"));
		json_object_object_add(s, "depends_on", dep);
		json_object_array_add(c->result, s);
	}
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

static struct json_object *subsystem_config(struct nvmf_rpc *rpc, const char *name)
{
	if (strcmp(name, "bdev") == 0)
		return rpc_bdev_config(rpc);
	if (strcmp(name, "nvmf") == 0)
		return rpc_nvmf_config(rpc);
	return NULL;
}

static int m_framework_get_config(struct rpc_call *c)
{
	static const char *const known[] = { "name", "with_batches", NULL };
	const char *name;
	bool batches = false;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", true, &name);
	if (!rc)
		rc = rpc_bool(c, c->params, "with_batches", &batches);
	if (rc)
		return rc;
	if (strcmp(name, "bdev") != 0 && strcmp(name, "nvmf") != 0)
		return rpc_invalid(c, "subsystem \"%s\" not found", name);
	c->result = subsystem_config(c->rpc, name);
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

static int m_save_config(struct rpc_call *c)
{
	static const char *const known[] = { NULL };
	struct json_object *subs;
	int rc = rpc_params(c, known);

	if (rc)
		return rc;
	c->result = json_object_new_object();
	subs = json_object_new_array();
	if (!c->result || !subs) {
		json_object_put(subs);
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	}
	json_object_object_add(c->result, "subsystems", subs);
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(subsystems[0]); i++) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "subsystem", json_object_new_string(subsystems[i]));
		json_object_object_add(s, "config", subsystem_config(c->rpc, subsystems[i]));
		json_object_array_add(subs, s);
	}
	return 0;
}

/*
 * Replay a whole configuration: every call of every subsystem, in order; the first that
 * fails stops it (what went before stays, as with rpc.py load_config).
 */
static int replay(struct rpc_call *c, struct json_object *root)
{
	struct json_object *subs = NULL;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "subsystems", &subs) ||
	    !json_object_is_type(subs, json_type_array))
		return rpc_invalid(c, "expected {\"subsystems\": [...]}");
	for (size_t i = 0; i < json_object_array_length(subs); i++) {
		struct json_object *s = json_object_array_get_idx(subs, i), *cfg = NULL, *name;

		if (!json_object_is_type(s, json_type_object) ||
		    !json_object_object_get_ex(s, "subsystem", &name) ||
		    !json_object_is_type(name, json_type_string))
			return rpc_invalid(c, "subsystems[%zu]: expected {\"subsystem\": NAME, "
					   "\"config\": [...]}", i);
		json_object_object_get_ex(s, "config", &cfg);
		if (!cfg || json_object_is_type(cfg, json_type_null))
			continue; /* SPDK writes null for subsystems with nothing to say */
		if (!json_object_is_type(cfg, json_type_array))
			return rpc_invalid(c, "%s: \"config\" must be an array",
					   json_object_get_string(name));
		for (size_t k = 0; k < json_object_array_length(cfg); k++) {
			struct json_object *m = json_object_array_get_idx(cfg, k), *meth, *params;
			struct rpc_call sub = { .rpc = c->rpc };
			int rc;

			if (!json_object_object_get_ex(m, "method", &meth) ||
			    !json_object_is_type(meth, json_type_string))
				return rpc_invalid(c, "%s: config[%zu]: no method",
						   json_object_get_string(name), k);
			sub.method = json_object_get_string(meth);
			sub.params = json_object_object_get_ex(m, "params", &params) ? params : NULL;
			rc = rpc_dispatch(&sub);
			json_object_put(sub.result);
			if (rc)
				return rpc_fail(c, rc, "%s: %s: %s", json_object_get_string(name),
						sub.method, sub.msg);
		}
	}
	return 0;
}

static int m_load_config(struct rpc_call *c)
{
	if (!c->params)
		return rpc_invalid(c, "expected {\"subsystems\": [...]}");
	return replay(c, c->params);
}

/* Options of SPDK's subsystems that mean nothing here: accepted, so SPDK's files load. */
static int m_noop(struct rpc_call *c)
{
	if (c->params && !json_object_is_type(c->params, json_type_object))
		return rpc_invalid(c, "params must be an object");
	return 0;
}

int nvmf_rpc_load_file(struct nvmf_rpc *rpc, const char *path, char *err, size_t errlen)
{
	struct json_object *root = json_object_from_file(path);
	struct rpc_call c = { .rpc = rpc, .method = "load_config" };
	int rc;

	if (!root) {
		snprintf(err, errlen, "%s: %s", path, json_util_get_last_err());
		return -EINVAL;
	}
	rc = replay(&c, root);
	json_object_put(root);
	json_object_put(c.result);
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, c.msg);
		return -EINVAL;
	}
	log_info("%s: configuration loaded", path);
	return 0;
}

const struct rpc_method rpc_config_methods[] = {
	{ "framework_get_subsystems", m_framework_get_subsystems },
	{ "framework_get_config", m_framework_get_config },
	{ "save_config", m_save_config },
	{ "load_config", m_load_config },
	{ "framework_start_init", m_noop },
	{ "framework_wait_init", m_noop },
	{ "bdev_set_options", m_noop },
	{ "bdev_wait_for_examine", m_noop },
	{ "bdev_nvme_set_options", m_noop },
	{ "bdev_nvme_set_hotplug", m_noop },
	{ "nvmf_set_config", m_noop },
	{ "nvmf_set_max_subsystems", m_noop },
	{ "nvmf_set_crdt", m_noop },
	{ "iobuf_set_options", m_noop },
	{ "sock_set_default_impl", m_noop },
	{ "sock_impl_set_options", m_noop },
	{ "accel_set_options", m_noop },
	{ "vmd_enable", m_noop },
	{ "bdev_raid_set_options", m_noop },
	{ "bdev_iscsi_set_options", m_noop },
	{ "framework_set_scheduler", m_noop },
	{ NULL, NULL },
};
