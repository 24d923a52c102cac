/*
 * SPDK's namespace and host methods on nvmet's model: nvmf_subsystem_add_ns / remove_ns
 * (a namespace on a bdev; SPDK's lowest free NSID; the bdev's UUID), add_host /
 * remove_host / allow_any_host (nvmet's hosts and allowed_hosts; the hosts SPDK lists
 * while any host may connect are kept aside in listed_hosts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"
#include "target/config.h"
#include "target/target.h"
#include "util/hex.h"

/* ------------------------------------------------------------------ namespaces */

static bool hex_nguid(const char *s, uint8_t out[16])
{
	char tmp[40];
	size_t n = 0;

	/* SPDK takes 32 hex digits; dashes as in a UUID are accepted too */
	for (const char *p = s; *p && n < sizeof(tmp) - 1; p++)
		if (*p != '-')
			tmp[n++] = *p;
	tmp[n] = '\0';
	return nvmf_hex_decode(tmp, out, 16) == 0;
}

static bool bdev_in_use(const struct nvmf_cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nr_subsystems; i++)
		for (size_t k = 0; k < cfg->subsystems[i].nr_namespaces; k++) {
			const struct nvmf_cfg_ns *ns = &cfg->subsystems[i].namespaces[k];

			if (strcmp(ns->bdev_name, name) == 0 ||
			    (!ns->bdev_name[0] && strcmp(ns->path, name) == 0))
				return true;
		}
	return false;
}

static int m_nvmf_subsystem_add_ns(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "namespace", "tgt_name", NULL };
	static const char *const ns_known[] = {
		"nsid", "bdev_name", "nguid", "eui64", "uuid", "ptpl_file", "anagrpid",
		"no_auto_visible", "hide_metadata", NULL,
	};
	const struct nvmf_cfg *cfg = c->rpc->tgt->cfg;
	const struct nvmf_cfg_subsys *cs;
	struct json_object *nsarg, *saved = c->params, *doc, *ns, *dev, *nss;
	const char *nqn, *bdev_name, *nguid = NULL, *uuid = NULL, *eui = NULL, *ptpl = NULL;
	uint64_t nsid = 0, grp = 1, size;
	uint8_t b16[16];
	bool hidden = false;
	char text[40];
	struct rpc_bdev *b;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = rpc_obj(c, c->params, "namespace", true, &nsarg);
	if (rc)
		return rc;
	c->params = nsarg;
	rc = rpc_params(c, ns_known);
	c->params = saved;
	if (!rc)
		rc = rpc_str(c, nsarg, "bdev_name", true, &bdev_name);
	if (!rc)
		rc = rpc_u64(c, nsarg, "nsid", false, NVMF_CFG_NSID_MAX, &nsid, NULL);
	if (!rc)
		rc = rpc_u64(c, nsarg, "anagrpid", false, NVMF_CFG_ANA_GRPS_MAX, &grp, NULL);
	if (!rc)
		rc = rpc_str(c, nsarg, "nguid", false, &nguid);
	if (!rc)
		rc = rpc_str(c, nsarg, "uuid", false, &uuid);
	if (!rc)
		rc = rpc_str(c, nsarg, "eui64", false, &eui);
	if (!rc)
		rc = rpc_str(c, nsarg, "ptpl_file", false, &ptpl);
	if (!rc)
		rc = rpc_bool(c, nsarg, "no_auto_visible", &hidden);
	if (rc)
		return rc;
	if (eui || hidden)
		return rpc_invalid(c, "%s is not served by nvmf-target",
				   eui ? "eui64" : "no_auto_visible");
	if (nguid && !hex_nguid(nguid, b16))
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Invalid nguid");
	if (uuid && !rpc_parse_uuid(uuid, b16))
		return rpc_invalid(c, "uuid \"%s\" is not a UUID", uuid);
	if (grp < 1)
		grp = 1; /* nvmet's default group; SPDK's would be the NSID */
	b = rpc_bdev_find(c->rpc, bdev_name);
	if (!b)
		return rpc_invalid(c, "bdev %s not found", bdev_name);
	if (bdev_in_use(cfg, bdev_name))
		return rpc_invalid(c, "bdev %s is already claimed by a namespace", bdev_name);
	cs = nvmf_cfg_find_subsys(cfg, nqn);
	if (!nsid) {
		/* the lowest free NSID, as SPDK picks */
		for (nsid = 1;; nsid++) {
			bool used = false;

			for (size_t i = 0; i < cs->nr_namespaces && !used; i++)
				used = cs->namespaces[i].nsid == nsid;
			if (!used)
				break;
		}
	} else {
		for (size_t i = 0; i < cs->nr_namespaces; i++)
			if (cs->namespaces[i].nsid == nsid)
				return rpc_invalid(c, "nsid %llu is in use", (unsigned long long)nsid);
	}
	if (cs->nr_namespaces >= NVMF_CFG_NS_MAX)
		return rpc_invalid(c, "the subsystem holds %d namespaces", NVMF_CFG_NS_MAX);
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	nss = rpc_jget(rpc_doc_subsys(doc, nqn, NULL), "namespaces");
	ns = json_object_new_object();
	dev = json_object_new_object();
	json_object_array_add(nss, ns);
	json_object_object_add(ns, "nsid", json_object_new_int64((int64_t)nsid));
	json_object_object_add(ns, "enable", json_object_new_int(1));
	json_object_object_add(ns, "ana_grpid", json_object_new_int64((int64_t)grp));
	json_object_object_add(ns, "device", dev);
	rpc_bdev_to_ns(b, dev, &size);
	if (uuid)
		json_object_object_add(dev, "uuid", json_object_new_string(uuid));
	if (ptpl) {
		/* SPDK: reservations persist in ptpl_file; ours: resv.enable with it */
		struct json_object *resv = json_object_new_object();

		json_object_object_add(resv, "enable", json_object_new_int(1));
		json_object_object_add(resv, "ptpl_file", json_object_new_string(ptpl));
		json_object_object_add(ns, "resv", resv);
	}
	else if (b->has_uuid) {
		/* SPDK's namespace takes its bdev's UUID */
		rpc_fmt_uuid(text, b->uuid);
		json_object_object_add(dev, "uuid", json_object_new_string(text));
	}
	if (nguid) {
		hex_nguid(nguid, b16);
		rpc_fmt_uuid(text, b16);
		json_object_object_add(dev, "nguid", json_object_new_string(text));
	}
	/* a group the subsystem's ports lack starts optimized there, as SPDK's listeners do */
	if (grp != 1) {
		struct json_object *ports = rpc_doc_list(doc, "ports");

		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);
			struct json_object *groups = rpc_jget(p, "ana_groups"), *g, *st;
			bool have = false;

			if (!rpc_strv_has(rpc_jget(p, "subsystems"), nqn) || !groups)
				continue;
			for (size_t k = 0; k < json_object_array_length(groups); k++)
				have |= (uint64_t)json_object_get_int64(rpc_jget(
						json_object_array_get_idx(groups, k), "grpid")) == grp;
			if (have)
				continue;
			g = json_object_new_object();
			st = json_object_new_object();
			json_object_object_add(g, "grpid", json_object_new_int64((int64_t)grp));
			json_object_object_add(g, "ana", st);
			json_object_object_add(st, "state", json_object_new_string("optimized"));
			json_object_array_add(groups, g);
		}
	}
	rc = rpc_cfg_commit(c, doc);
	if (rc)
		return rc;
	c->result = json_object_new_int64((int64_t)nsid);
	return 0;
}

static int m_nvmf_subsystem_remove_ns(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "nsid", "tgt_name", NULL };
	struct json_object *doc, *nss;
	const char *nqn;
	uint64_t nsid;
	bool found = false;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = rpc_u64(c, c->params, "nsid", true, NVMF_CFG_NSID_MAX, &nsid, NULL);
	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	nss = rpc_jget(rpc_doc_subsys(doc, nqn, NULL), "namespaces");
	for (size_t i = nss ? json_object_array_length(nss) : 0; i-- > 0;)
		if ((uint64_t)json_object_get_int64(rpc_jget(json_object_array_get_idx(nss, i),
							 "nsid")) == nsid) {
			json_object_array_del_idx(nss, i, 1);
			found = true;
		}
	if (!found) {
		json_object_put(doc);
		return rpc_invalid(c, "no namespace %llu in %s", (unsigned long long)nsid, nqn);
	}
	return rpc_cfg_commit(c, doc);
}

/* ------------------------------------------------------------------ hosts */

static int m_nvmf_subsystem_add_host(struct rpc_call *c)
{
	static const char *const known[] = {
		"nqn", "host", "tgt_name", "psk", "dhchap_key", "dhchap_ctrlr_key", NULL,
	};
	struct json_object *doc, *hosts, *h = NULL, *allowed;
	const char *nqn, *host, *psk = NULL, *key = NULL, *ckey = NULL;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = rpc_str(c, c->params, "host", true, &host);
	if (!rc)
		rc = rpc_str(c, c->params, "psk", false, &psk);
	if (!rc)
		rc = rpc_str(c, c->params, "dhchap_key", false, &key);
	if (!rc)
		rc = rpc_str(c, c->params, "dhchap_ctrlr_key", false, &ckey);
	if (rc)
		return rc;
	if (psk)
		return rpc_invalid(c, "psk: no keyring here; TLS PSKs come from --tls-keys");
	/* SPDK names keyring keys; we take the secret itself, as nvmet's configfs does */
	if ((key && strncmp(key, "DHHC-1:", 7) != 0) || (ckey && strncmp(ckey, "DHHC-1:", 7) != 0))
		return rpc_invalid(c, "dhchap keys: no keyring here; give the secret "
				   "(\"DHHC-1:...\") itself");
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	hosts = rpc_doc_list(doc, "hosts");
	for (size_t i = 0; i < json_object_array_length(hosts) && !h; i++)
		if (strcmp(rpc_jstr(json_object_array_get_idx(hosts, i), "nqn"), host) == 0)
			h = json_object_array_get_idx(hosts, i);
	if (!h) {
		h = json_object_new_object();
		json_object_object_add(h, "nqn", json_object_new_string(host));
		json_object_array_add(hosts, h);
	}
	if (key || ckey) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "key", json_object_new_string(key ? key : ""));
		json_object_object_add(d, "ctrl_key", json_object_new_string(ckey ? ckey : ""));
		json_object_object_add(h, "dhchap", d);
	}
	/*
	 * nvmet holds no allowed hosts while any host may connect: SPDK's list is kept
	 * aside then (listed_hosts) and takes effect when allow_any_host is cleared
	 */
	allowed = rpc_subsys_list(rpc_doc_subsys(doc, nqn, NULL),
			      nvmf_cfg_find_subsys(c->rpc->tgt->cfg, nqn)->allow_any_host ?
			      "listed_hosts" : "allowed_hosts");
	if (!rpc_strv_has(allowed, host))
		json_object_array_add(allowed, json_object_new_string(host));
	return rpc_cfg_commit(c, doc);
}

/* SPDK disconnects the removed host's controllers; so do we (nvmet keeps them). */
static void drop_host_ctrls(struct nvmf_tgt *tgt, const char *nqn, const char *host)
{
	struct nvmf_subsys *s = nvmf_tgt_find_subsys(tgt, nqn);

	while (s) {
		struct nvmf_tgt_ctrl *victim = NULL;

		pthread_mutex_lock(&tgt->lock);
		for (struct nvmf_tgt_ctrl *ct = s->ctrls; ct && !victim; ct = ct->next)
			if (!atomic_load(&ct->dying) && strcmp(ct->hostnqn, host) == 0) {
				victim = ct;
				nvmf_tgt_ctrl_get(ct);
			}
		pthread_mutex_unlock(&tgt->lock);
		if (!victim)
			break;
		nvmf_tgt_ctrl_fatal(victim, "its host was removed from the subsystem");
		nvmf_tgt_ctrl_put(victim);
	}
}

static int m_nvmf_subsystem_remove_host(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "host", "tgt_name", "timeout_ms", NULL };
	struct json_object *doc, *allowed;
	const char *nqn, *host;
	bool any;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = rpc_str(c, c->params, "host", true, &host);
	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	allowed = rpc_doc_subsys(doc, nqn, NULL);
	rpc_strv_del(rpc_jget(allowed, "allowed_hosts"), host);
	rpc_strv_del(rpc_jget(allowed, "listed_hosts"), host);
	rpc_doc_tidy(doc);
	rc = rpc_cfg_commit(c, doc);
	any = nvmf_cfg_find_subsys(c->rpc->tgt->cfg, nqn)->allow_any_host;
	if (!rc && !any)
		drop_host_ctrls(c->rpc->tgt, nqn, host);
	return rc;
}

static int m_nvmf_subsystem_allow_any_host(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "allow_any_host", "tgt_name", NULL };
	struct json_object *doc, *v;
	const char *nqn;
	bool any = false;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc && !(v = rpc_jget(c->params, "allow_any_host")))
		rc = rpc_invalid(c, "\"allow_any_host\" is required");
	if (!rc)
		rc = rpc_bool(c, c->params, "allow_any_host", &any);
	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	v = rpc_doc_subsys(doc, nqn, NULL);
	json_object_object_add(rpc_jget(v, "attr"), "allow_any_host",
			       json_object_new_string(any ? "1" : "0"));
	if (any)
		rpc_move_hosts(v, "allowed_hosts", "listed_hosts");
	else
		rpc_move_hosts(v, "listed_hosts", "allowed_hosts");
	return rpc_cfg_commit(c, doc);
}

const struct rpc_method rpc_ns_host_methods[] = {
	{ "nvmf_subsystem_add_ns", m_nvmf_subsystem_add_ns },
	{ "nvmf_subsystem_remove_ns", m_nvmf_subsystem_remove_ns },
	{ "nvmf_subsystem_add_host", m_nvmf_subsystem_add_host },
	{ "nvmf_subsystem_remove_host", m_nvmf_subsystem_remove_host },
	{ "nvmf_subsystem_allow_any_host", m_nvmf_subsystem_allow_any_host },
	{ NULL, NULL },
};
