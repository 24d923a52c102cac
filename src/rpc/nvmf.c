/*
 * SPDK's nvmf_* methods on nvmet's model.  Each change takes the configuration in force as
 * nvmetcli JSON (config_save.c), edits it, and commits it: the loader validates it as it
 * would a file, nvmf_tgt_apply() applies it live as a SIGHUP reload does (the same async
 * events), and --save writes it.  Queries read the configuration and the live target.
 *
 * Where the models differ:
 *   SPDK listener (subsystem, address)  -> an nvmet port at that address linking the
 *                                          subsystem; a port that links nothing goes
 *   SPDK's TCP transport options         -> the params of ports made afterwards
 *   listener ANA state per group         -> the port's ANA group state (nvmet keeps ANA
 *                                          per port: every subsystem on it sees it)
 *   SPDK's per-subsystem hosts           -> nvmet's hosts + allowed_hosts
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/rpc_int.h"
#include "target/config.h"
#include "target/target.h"
#include "util/log.h"

/* Admin queue entries we report: nvmet's NVME_AQ_DEPTH (the host asks up to it). */
#define RPC_AQ_DEPTH 32

/* ------------------------------------------------------------------ listen addresses */

struct laddr {
	const char *adrfam;   /* ours: "ipv4" / "ipv6" */
	const char *traddr;
	const char *trsvcid;
};

static int listen_address(struct rpc_call *c, struct laddr *a)
{
	static const char *const known[] = { "trtype", "adrfam", "traddr", "trsvcid", NULL };
	struct json_object *la, *saved = c->params;
	const char *trtype, *adrfam;
	int rc = rpc_obj(c, c->params, "listen_address", true, &la);

	if (rc)
		return rc;
	c->params = la;
	rc = rpc_params(c, known);
	c->params = saved;
	if (!rc)
		rc = rpc_str(c, la, "trtype", true, &trtype);
	if (!rc)
		rc = rpc_str(c, la, "adrfam", false, &adrfam);
	if (!rc)
		rc = rpc_str(c, la, "traddr", true, &a->traddr);
	if (!rc)
		rc = rpc_str(c, la, "trsvcid", false, &a->trsvcid);
	if (rc)
		return rc;
	if (strcasecmp(trtype, "tcp") != 0)
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Invalid transport type '%s'", trtype);
	/* SPDK's default for IP transports */
	if (!adrfam || strcasecmp(adrfam, "ipv4") == 0)
		a->adrfam = "ipv4";
	else if (strcasecmp(adrfam, "ipv6") == 0)
		a->adrfam = "ipv6";
	else
		return rpc_invalid(c, "adrfam \"%s\": TCP takes IPv4 or IPv6", adrfam);
	if (!a->trsvcid)
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Service ID is required.");
	return 0;
}

static bool port_at(struct json_object *port, const struct laddr *a)
{
	struct json_object *addr = rpc_jget(port, "addr");

	return strcmp(rpc_jstr(addr, "trtype"), "tcp") == 0 &&
	       strcmp(rpc_jstr(addr, "adrfam"), a->adrfam) == 0 &&
	       strcmp(rpc_jstr(addr, "traddr"), a->traddr) == 0 &&
	       strcmp(rpc_jstr(addr, "trsvcid"), a->trsvcid) == 0;
}

static struct json_object *doc_port(struct json_object *doc, const struct laddr *a)
{
	struct json_object *ports = rpc_doc_list(doc, "ports");

	for (size_t i = 0; i < json_object_array_length(ports); i++)
		if (port_at(json_object_array_get_idx(ports, i), a))
			return json_object_array_get_idx(ports, i);
	return NULL;
}

static const char *spdk_adrfam(enum nvmf_cfg_adrfam f)
{
	return f == NVMF_CFG_ADRFAM_IPV6 ? "IPv6" : "IPv4";
}

struct json_object *rpc_address_json(const struct nvmf_cfg_port *p)
{
	struct json_object *a = json_object_new_object();

	if (!a)
		return NULL;
	json_object_object_add(a, "trtype", json_object_new_string("TCP"));
	json_object_object_add(a, "adrfam", json_object_new_string(spdk_adrfam(p->adrfam)));
	json_object_object_add(a, "traddr", json_object_new_string(p->traddr));
	json_object_object_add(a, "trsvcid", json_object_new_string(p->trsvcid));
	return a;
}

static bool port_links(const struct nvmf_cfg_port *p, const char *nqn)
{
	for (size_t i = 0; i < p->nr_subsystems; i++)
		if (strcmp(p->subsystems[i], nqn) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ transports */

/* Our effective values when an option was not given. */
static void transport_defaults(struct rpc_transport *t)
{
	*t = (struct rpc_transport){
		.max_queue_depth = NVMF_CFG_QUEUE_SIZE_MAX,
		.max_io_qpairs_per_ctrlr = NVMF_CFG_QID_MAX,
		.in_capsule_data_size = NVMF_IO_ICD_DEFAULT,
		.max_io_size = NVMF_MAX_XFER,
		.io_unit_size = NVMF_MAX_XFER,
		.max_aq_depth = RPC_AQ_DEPTH,
		.abort_timeout_sec = 1,
		.c2h_success = true,
	};
}

/* A configuration with TCP ports has a TCP transport; its options are its first port's. */
void rpc_transport_from_cfg(struct nvmf_rpc *rpc)
{
	const struct nvmf_cfg *cfg = rpc->tgt->cfg;

	if (rpc->transport.created)
		return;
	transport_defaults(&rpc->transport);
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];

		if (p->trtype != NVMF_CFG_TRTYPE_TCP)
			continue;
		rpc->transport.created = true;
		if (p->inline_data_size >= 0)
			rpc->transport.in_capsule_data_size = (uint32_t)p->inline_data_size;
		if (p->max_queue_size >= 0)
			rpc->transport.max_queue_depth = (uint32_t)p->max_queue_size;
		break;
	}
}

static const char *const transport_keys[] = {
	"trtype", "tgt_name", "max_queue_depth", "max_io_qpairs_per_ctrlr",
	"in_capsule_data_size", "max_io_size", "io_unit_size", "max_aq_depth",
	"num_shared_buffers", "buf_cache_size", "iobuf_small_cache_size",
	"iobuf_large_cache_size", "zcopy", "num_cqe", "max_srq_depth", "no_srq", "c2h_success",
	"dif_insert_or_strip", "sock_priority", "acceptor_backlog", "abort_timeout_sec",
	"no_wr_batching", "control_msg_num", "disable_mappable_bar0", "disable_adaptive_irq",
	"disable_shadow_doorbells", "acceptor_poll_rate", "ack_timeout", "data_wr_pool_size",
	"disable_command_passthru", "kas", "min_kato", "masked_oncs", "masked_fuses", NULL,
};

static int m_nvmf_create_transport(struct rpc_call *c)
{
	struct rpc_transport t;
	const char *trtype;
	uint64_t v;
	bool present, dif = false;
	int rc = rpc_params(c, transport_keys);

	if (!rc)
		rc = rpc_str(c, c->params, "trtype", true, &trtype);
	if (rc)
		return rc;
	if (strcasecmp(trtype, "tcp") != 0)
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Invalid transport type '%s'", trtype);
	if (c->rpc->transport.created)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Transport type '%s' already exists", trtype);
	transport_defaults(&t);
	rc = rpc_u64(c, c->params, "max_queue_depth", false, UINT16_MAX, &v, &present);
	if (!rc && present) {
		if (v < NVMF_CFG_QUEUE_SIZE_MIN || v > NVMF_CFG_QUEUE_SIZE_MAX)
			return rpc_invalid(c, "max_queue_depth %llu: %d..%d", (unsigned long long)v,
					   NVMF_CFG_QUEUE_SIZE_MIN, NVMF_CFG_QUEUE_SIZE_MAX);
		t.max_queue_depth = (uint32_t)v;
	}
	if (!rc)
		rc = rpc_u64(c, c->params, "max_io_qpairs_per_ctrlr", false, UINT16_MAX, &v,
			     &present);
	if (!rc && present) {
		if (v < 1)
			return rpc_invalid(c, "max_io_qpairs_per_ctrlr must be at least 1");
		t.max_io_qpairs_per_ctrlr = v > NVMF_CFG_QID_MAX ? NVMF_CFG_QID_MAX : (uint32_t)v;
	}
	if (!rc)
		rc = rpc_u64(c, c->params, "in_capsule_data_size", false, UINT32_MAX, &v, &present);
	if (!rc && present) {
		if (v > NVMF_MAX_XFER || v % 16)
			return rpc_invalid(c, "in_capsule_data_size %llu: a multiple of 16 up to %u",
					   (unsigned long long)v, NVMF_MAX_XFER);
		t.in_capsule_data_size = (uint32_t)v;
	}
	if (!rc)
		rc = rpc_u64(c, c->params, "max_io_size", false, UINT32_MAX, &v, &present);
	if (!rc && present) {
		/* MDTS is fixed (NVMF_MAX_XFER): a larger request cannot be served */
		if (v < 4096 || v > NVMF_MAX_XFER)
			return rpc_invalid(c, "max_io_size %llu: 4096..%u", (unsigned long long)v,
					   NVMF_MAX_XFER);
		t.max_io_size = (uint32_t)v;
	}
	if (!rc)
		rc = rpc_u64(c, c->params, "io_unit_size", false, UINT32_MAX, &v, &present);
	if (!rc && present)
		t.io_unit_size = (uint32_t)v;
	if (!rc)
		rc = rpc_u64(c, c->params, "max_aq_depth", false, UINT32_MAX, &v, &present);
	if (!rc && present)
		t.max_aq_depth = (uint32_t)v;
	if (!rc)
		rc = rpc_u64(c, c->params, "abort_timeout_sec", false, UINT32_MAX, &v, &present);
	if (!rc && present)
		t.abort_timeout_sec = (uint32_t)v;
	if (!rc)
		rc = rpc_u64(c, c->params, "sock_priority", false, 16, &v, &present);
	if (!rc && present)
		t.sock_priority = (uint32_t)v;
	if (!rc)
		rc = rpc_bool(c, c->params, "c2h_success", &t.c2h_success);
	if (!rc)
		rc = rpc_bool(c, c->params, "dif_insert_or_strip", &dif);
	if (rc)
		return rc;
	if (dif)
		return rpc_invalid(c, "dif_insert_or_strip: protection information is not served");
	t.created = true;
	c->rpc->transport = t;
	log_info("rpc: TCP transport created (queue depth %u, in-capsule data %u)",
		 t.max_queue_depth, t.in_capsule_data_size);
	return 0;
}

static int m_nvmf_get_transports(struct rpc_call *c)
{
	static const char *const known[] = { "tgt_name", "trtype", NULL };
	const struct rpc_transport *t = &c->rpc->transport;
	const char *trtype = NULL;
	struct json_object *j;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "trtype", false, &trtype);
	if (rc)
		return rc;
	if (trtype && (strcasecmp(trtype, "tcp") != 0 || !t->created))
		return rpc_invalid(c, "transport %s not found", trtype);
	c->result = json_object_new_array();
	if (!c->result)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	if (!t->created)
		return 0;
	j = json_object_new_object();
	if (!j)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	json_object_array_add(c->result, j);
	json_object_object_add(j, "trtype", json_object_new_string("TCP"));
	json_object_object_add(j, "max_queue_depth", json_object_new_int64(t->max_queue_depth));
	json_object_object_add(j, "max_io_qpairs_per_ctrlr",
			       json_object_new_int64(t->max_io_qpairs_per_ctrlr));
	json_object_object_add(j, "in_capsule_data_size",
			       json_object_new_int64(t->in_capsule_data_size));
	json_object_object_add(j, "max_io_size", json_object_new_int64(t->max_io_size));
	json_object_object_add(j, "io_unit_size", json_object_new_int64(t->io_unit_size));
	json_object_object_add(j, "max_aq_depth", json_object_new_int64(t->max_aq_depth));
	json_object_object_add(j, "num_shared_buffers", json_object_new_int64(0));
	json_object_object_add(j, "buf_cache_size", json_object_new_int64(0));
	json_object_object_add(j, "dif_insert_or_strip", json_object_new_boolean(0));
	json_object_object_add(j, "zcopy", json_object_new_boolean(0));
	json_object_object_add(j, "c2h_success", json_object_new_boolean(t->c2h_success));
	json_object_object_add(j, "sock_priority", json_object_new_int64(t->sock_priority));
	json_object_object_add(j, "abort_timeout_sec",
			       json_object_new_int64(t->abort_timeout_sec));
	return 0;
}

/* ------------------------------------------------------------------ subsystems */

/* An NQN as NVMe Base 4.5 names them: "nqn.yyyy-mm.reverse.domain:..." or the UUID form. */
static bool nqn_valid(const char *nqn)
{
	size_t len = strlen(nqn);

	if (len > NVMF_CFG_NQN_MAX || strncmp(nqn, "nqn.", 4) != 0)
		return false;
	if (strncmp(nqn, "nqn.2014-08.org.nvmexpress:uuid:", 32) == 0) {
		uint8_t u[16];

		return rpc_parse_uuid(nqn + 32, u);
	}
	for (int i = 4; i < 11; i++)
		if (i == 8 ? nqn[i] != '-' : (nqn[i] < '0' || nqn[i] > '9'))
			return false;
	return nqn[11] == '.' && nqn[12] && nqn[12] != ':' && !strchr(nqn, ' ');
}

static int m_nvmf_create_subsystem(struct rpc_call *c)
{
	static const char *const known[] = {
		"nqn", "tgt_name", "serial_number", "model_number", "admin_label",
		"max_namespaces", "allow_any_host", "ana_reporting", "min_cntlid", "max_cntlid",
		"dmrsl", "wzsl", "passthrough", "enable_nssr", NULL,
	};
	const char *nqn, *sn = NULL, *mn = NULL;
	bool any = false, passthrough = false;
	uint64_t min = NVMF_CFG_CNTLID_MIN, max = NVMF_CFG_CNTLID_MAX, maxns = 0;
	struct json_object *doc, *s, *attr;
	char text[16];
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "nqn", true, &nqn);
	if (!rc)
		rc = rpc_str(c, c->params, "serial_number", false, &sn);
	if (!rc)
		rc = rpc_str(c, c->params, "model_number", false, &mn);
	if (!rc)
		rc = rpc_bool(c, c->params, "allow_any_host", &any);
	if (!rc)
		rc = rpc_bool(c, c->params, "passthrough", &passthrough);
	if (!rc)
		rc = rpc_u64(c, c->params, "min_cntlid", false, UINT16_MAX, &min, NULL);
	if (!rc)
		rc = rpc_u64(c, c->params, "max_cntlid", false, UINT16_MAX, &max, NULL);
	if (!rc)
		rc = rpc_u64(c, c->params, "max_namespaces", false, UINT32_MAX, &maxns, NULL);
	if (rc)
		return rc;
	if (passthrough)
		return rpc_invalid(c, "passthrough is not served by nvmf-target");
	if (min < NVMF_CFG_CNTLID_MIN || max > NVMF_CFG_CNTLID_MAX || min > max)
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Invalid cntlid range [%llu-%llu]",
				(unsigned long long)min, (unsigned long long)max);
	/* SPDK refuses a malformed NQN the same way as a taken one */
	if (!nqn_valid(nqn) || nvmf_cfg_find_subsys(c->rpc->tgt->cfg, nqn) ||
	    strcmp(nqn, c->rpc->tgt->cfg->discovery_nqn) == 0 || strcmp(nqn, NVMF_CFG_DISC_NQN) == 0)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Unable to create subsystem %s", nqn);
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	s = json_object_new_object();
	attr = json_object_new_object();
	json_object_array_add(rpc_doc_list(doc, "subsystems"), s);
	json_object_object_add(s, "nqn", json_object_new_string(nqn));
	json_object_object_add(s, "attr", attr);
	json_object_object_add(s, "allowed_hosts", json_object_new_array());
	json_object_object_add(s, "namespaces", json_object_new_array());
	json_object_object_add(attr, "allow_any_host", json_object_new_string(any ? "1" : "0"));
	/* SPDK's default serial is all zeroes; ours (nvmet's) is made from the NQN */
	if (sn)
		json_object_object_add(attr, "serial", json_object_new_string(sn));
	if (mn)
		json_object_object_add(attr, "model", json_object_new_string(mn));
	snprintf(text, sizeof(text), "%llu", (unsigned long long)min);
	json_object_object_add(attr, "cntlid_min", json_object_new_string(text));
	snprintf(text, sizeof(text), "%llu", (unsigned long long)max);
	json_object_object_add(attr, "cntlid_max", json_object_new_string(text));
	snprintf(text, sizeof(text), "%u", c->rpc->transport.created ?
		 c->rpc->transport.max_io_qpairs_per_ctrlr : NVMF_CFG_QID_MAX);
	json_object_object_add(attr, "qid_max", json_object_new_string(text));
	return rpc_cfg_commit(c, doc);
}

static int m_nvmf_delete_subsystem(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", NULL };
	struct json_object *doc, *ports;
	const char *nqn;
	size_t idx = 0;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	rpc_doc_subsys(doc, nqn, &idx);
	json_object_array_del_idx(rpc_doc_list(doc, "subsystems"), idx, 1);
	ports = rpc_doc_list(doc, "ports");
	for (size_t i = 0; i < json_object_array_length(ports); i++)
		rpc_strv_del(rpc_jget(json_object_array_get_idx(ports, i), "subsystems"), nqn);
	rpc_doc_tidy(doc);
	return rpc_cfg_commit(c, doc);
}

static struct json_object *ns_json(const struct nvmf_cfg_subsys *cs, const struct nvmf_cfg_ns *n,
				   struct nvmf_subsys *live)
{
	struct json_object *j = json_object_new_object();
	struct nvmf_ns *ns = live && n->enable ? nvmf_subsys_find_ns(live, n->nsid) : NULL;
	const char *name = n->bdev_name[0] ? n->bdev_name : n->path;
	char text[40], synth[300];
	const uint8_t *uuid = n->has_uuid ? n->uuid : ns ? ns->uuid : NULL;

	if (!j)
		return NULL;
	if (!name[0]) {
		snprintf(synth, sizeof(synth), "%s:ns%u", cs->nqn, n->nsid);
		name = synth;
	}
	json_object_object_add(j, "nsid", json_object_new_int64(n->nsid));
	json_object_object_add(j, "bdev_name", json_object_new_string(name));
	json_object_object_add(j, "name", json_object_new_string(name));
	if (n->has_nguid) {
		/* SPDK writes the NGUID as 32 hex digits, no dashes */
		for (int i = 0; i < 16; i++)
			snprintf(text + 2 * i, 3, "%02X", n->nguid[i]);
		json_object_object_add(j, "nguid", json_object_new_string(text));
	}
	if (uuid) {
		rpc_fmt_uuid(text, uuid);
		json_object_object_add(j, "uuid", json_object_new_string(text));
	}
	json_object_object_add(j, "anagrpid", json_object_new_int64(n->ana_grpid));
	return j;
}

static struct json_object *subsys_json(struct nvmf_rpc *rpc, const struct nvmf_cfg_subsys *cs)
{
	const struct nvmf_cfg *cfg = rpc->tgt->cfg;
	struct nvmf_subsys *live = nvmf_tgt_find_subsys(rpc->tgt, cs->nqn);
	struct json_object *j = json_object_new_object(), *la, *hosts, *nss;

	if (!j)
		return NULL;
	json_object_object_add(j, "nqn", json_object_new_string(cs->nqn));
	json_object_object_add(j, "subtype", json_object_new_string("NVMe"));
	la = json_object_new_array();
	json_object_object_add(j, "listen_addresses", la);
	for (size_t i = 0; la && i < cfg->nr_ports; i++)
		if (port_links(&cfg->ports[i], cs->nqn))
			json_object_array_add(la, rpc_address_json(&cfg->ports[i]));
	json_object_object_add(j, "allow_any_host", json_object_new_boolean(cs->allow_any_host));
	hosts = json_object_new_array();
	json_object_object_add(j, "hosts", hosts);
	for (size_t i = 0; hosts && i < cs->nr_allowed_hosts + cs->nr_listed_hosts; i++) {
		struct json_object *h = json_object_new_object();

		json_object_object_add(h, "nqn", json_object_new_string(
					       i < cs->nr_allowed_hosts ? cs->allowed_hosts[i]
					       : cs->listed_hosts[i - cs->nr_allowed_hosts]));
		json_object_array_add(hosts, h);
	}
	json_object_object_add(j, "serial_number", json_object_new_string(live ? live->serial
										: cs->serial));
	json_object_object_add(j, "model_number", json_object_new_string(live ? live->model
									       : cs->model));
	json_object_object_add(j, "passthrough", json_object_new_boolean(0));
	json_object_object_add(j, "min_cntlid", json_object_new_int64(cs->cntlid_min));
	json_object_object_add(j, "max_cntlid", json_object_new_int64(cs->cntlid_max));
	nss = json_object_new_array();
	json_object_object_add(j, "namespaces", nss);
	for (size_t i = 0; nss && i < cs->nr_namespaces; i++)
		if (cs->namespaces[i].enable)
			json_object_array_add(nss, ns_json(cs, &cs->namespaces[i], live));
	return j;
}

static int m_nvmf_get_subsystems(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", NULL };
	const struct nvmf_cfg *cfg = c->rpc->tgt->cfg;
	const char *nqn = NULL;
	struct json_object *d;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "nqn", false, &nqn);
	if (rc)
		return rc;
	if (nqn && !nvmf_cfg_find_subsys(cfg, nqn) && strcmp(nqn, cfg->discovery_nqn) != 0)
		return rpc_fail(c, RPC_ERR_INVALID_PARAMS, "Subsystem with NQN '%s' not found",
				nqn);
	c->result = json_object_new_array();
	if (!c->result)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	if (!nqn || strcmp(nqn, cfg->discovery_nqn) == 0) {
		d = json_object_new_object();
		json_object_object_add(d, "nqn", json_object_new_string(cfg->discovery_nqn));
		json_object_object_add(d, "subtype", json_object_new_string("Discovery"));
		json_object_object_add(d, "listen_addresses", json_object_new_array());
		json_object_object_add(d, "allow_any_host", json_object_new_boolean(1));
		json_object_object_add(d, "hosts", json_object_new_array());
		json_object_array_add(c->result, d);
	}
	for (size_t i = 0; i < cfg->nr_subsystems; i++)
		if (!nqn || strcmp(nqn, cfg->subsystems[i].nqn) == 0)
			json_object_array_add(c->result, subsys_json(c->rpc, &cfg->subsystems[i]));
	return 0;
}

/* ------------------------------------------------------------------ listeners */

/* Whether a port at that address is up (a port that failed to listen is left closing). */
static bool listening(struct nvmf_tgt *tgt, const struct laddr *a)
{
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		const struct nvmf_cfg_port *c = nvmf_port_cfg(tgt->ports[i]);

		if (!tgt->ports[i]->closing && tgt->ports[i]->reactor &&
		    strcmp(c->traddr, a->traddr) == 0 && strcmp(c->trsvcid, a->trsvcid) == 0)
			return true;
	}
	return false;
}

static int m_nvmf_subsystem_add_listener(struct rpc_call *c)
{
	static const char *const known[] = {
		"nqn", "tgt_name", "listen_address", "secure_channel", "ana_state", "sock_impl",
		"numa_id", NULL,
	};
	const struct rpc_transport *t = &c->rpc->transport;
	struct json_object *doc, *port, *links;
	const char *nqn, *ana = NULL, *sock_impl = NULL;
	bool secure = false;
	struct laddr a;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = listen_address(c, &a);
	if (!rc)
		rc = rpc_bool(c, c->params, "secure_channel", &secure);
	if (!rc)
		rc = rpc_str(c, c->params, "ana_state", false, &ana);
	if (!rc)
		rc = rpc_str(c, c->params, "sock_impl", false, &sock_impl);
	if (rc)
		return rc;
	if (!t->created)
		return rpc_invalid(c, "no TCP transport: call nvmf_create_transport first");
	if (ana && strcmp(ana, "optimized") != 0)
		return rpc_invalid(c, "ana_state at add time: only \"optimized\" (set others "
				   "with nvmf_subsystem_listener_set_ana_state)");
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	port = doc_port(doc, &a);
	if (port) {
		links = rpc_jget(port, "subsystems");
		if (rpc_strv_has(links, nqn)) {
			json_object_put(doc);
			return rpc_invalid(c, "listener %s:%s already exists", a.traddr,
					   a.trsvcid);
		}
		json_object_array_add(links, json_object_new_string(nqn));
	} else {
		struct json_object *ports = rpc_doc_list(doc, "ports"), *addr, *param, *g, *st;
		int64_t portid = 0;
		char text[16];

		/* the next free portid, as an admin running nvmetcli would pick */
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			int64_t id = json_object_get_int64(rpc_jget(json_object_array_get_idx(ports, i),
								"portid"));

			if (id > portid)
				portid = id;
		}
		if (portid >= 0xFFFF) {
			json_object_put(doc);
			return rpc_invalid(c, "no port id left");
		}
		port = json_object_new_object();
		addr = json_object_new_object();
		param = json_object_new_object();
		json_object_array_add(ports, port);
		json_object_object_add(port, "portid", json_object_new_int64(portid + 1));
		json_object_object_add(port, "addr", addr);
		json_object_object_add(addr, "trtype", json_object_new_string("tcp"));
		json_object_object_add(addr, "adrfam", json_object_new_string(a.adrfam));
		json_object_object_add(addr, "traddr", json_object_new_string(a.traddr));
		json_object_object_add(addr, "trsvcid", json_object_new_string(a.trsvcid));
		json_object_object_add(addr, "treq", json_object_new_string(
					       secure ? "required" : "not specified"));
		json_object_object_add(addr, "tsas", json_object_new_string(secure ? "tls1.3"
										     : "none"));
		json_object_object_add(port, "param", param);
		snprintf(text, sizeof(text), "%u", t->in_capsule_data_size);
		json_object_object_add(param, "inline_data_size", json_object_new_string(text));
		snprintf(text, sizeof(text), "%u", t->max_queue_depth);
		json_object_object_add(param, "max_queue_size", json_object_new_string(text));
		links = json_object_new_array();
		json_object_array_add(links, json_object_new_string(nqn));
		json_object_object_add(port, "subsystems", links);
		/* group 1 optimized, as configfs makes it; SPDK's listeners start optimized */
		g = json_object_new_object();
		st = json_object_new_object();
		json_object_object_add(g, "grpid", json_object_new_int(1));
		json_object_object_add(g, "ana", st);
		json_object_object_add(st, "state", json_object_new_string("optimized"));
		links = json_object_new_array();
		json_object_array_add(links, g);
		json_object_object_add(port, "ana_groups", links);
		json_object_object_add(port, "referrals", json_object_new_array());
	}
	rc = rpc_cfg_commit(c, doc);
	if (rc || listening(c->rpc->tgt, &a))
		return rc;
	/* the apply path logs a port that cannot listen and goes on; SPDK's call fails */
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	port = doc_port(doc, &a);
	if (port)
		rpc_strv_del(rpc_jget(port, "subsystems"), nqn);
	rpc_doc_tidy(doc);
	rc = rpc_cfg_commit(c, doc);
	return rc ? rc : rpc_invalid(c, "cannot listen on %s:%s (the target's log says why)",
				     a.traddr, a.trsvcid);
}

static int m_nvmf_subsystem_remove_listener(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", "listen_address", NULL };
	struct json_object *doc, *port;
	const char *nqn;
	struct laddr a;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = listen_address(c, &a);
	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	port = doc_port(doc, &a);
	if (!port || !rpc_strv_has(rpc_jget(port, "subsystems"), nqn)) {
		json_object_put(doc);
		return rpc_invalid(c, "no listener %s:%s on %s", a.traddr, a.trsvcid, nqn);
	}
	rpc_strv_del(rpc_jget(port, "subsystems"), nqn);
	rpc_doc_tidy(doc);
	return rpc_cfg_commit(c, doc);
}

static const char *spdk_ana_name(enum nvmf_cfg_ana_state s)
{
	switch (s) {
	case NVMF_CFG_ANA_OPTIMIZED:
		return "optimized";
	case NVMF_CFG_ANA_NONOPTIMIZED:
		return "non_optimized";
	case NVMF_CFG_ANA_INACCESSIBLE:
		return "inaccessible";
	case NVMF_CFG_ANA_PERSISTENT_LOSS:
		return "persistent_loss";
	default:
		return "change";
	}
}

static int m_nvmf_subsystem_listener_set_ana_state(struct rpc_call *c)
{
	static const char *const known[] = {
		"nqn", "tgt_name", "listen_address", "ana_state", "anagrpid", NULL,
	};
	struct json_object *doc, *port, *groups;
	const char *nqn, *state, *ours;
	uint64_t grp = 0;
	bool have_grp, found = false;
	struct laddr a;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (!rc)
		rc = listen_address(c, &a);
	if (!rc)
		rc = rpc_str(c, c->params, "ana_state", true, &state);
	if (!rc)
		rc = rpc_u64(c, c->params, "anagrpid", false, NVMF_CFG_ANA_GRPS_MAX, &grp,
			     &have_grp);
	if (rc)
		return rc;
	if (strcmp(state, "optimized") == 0)
		ours = "optimized";
	else if (strcmp(state, "non_optimized") == 0)
		ours = "non-optimized";
	else if (strcmp(state, "inaccessible") == 0)
		ours = "inaccessible";
	else
		return rpc_invalid(c, "ana_state \"%s\": optimized, non_optimized or "
				   "inaccessible", state);
	if (have_grp && grp < 1)
		return rpc_invalid(c, "anagrpid must be 1..%d", NVMF_CFG_ANA_GRPS_MAX);
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	port = doc_port(doc, &a);
	if (!port || !rpc_strv_has(rpc_jget(port, "subsystems"), nqn)) {
		json_object_put(doc);
		return rpc_invalid(c, "no listener %s:%s on %s", a.traddr, a.trsvcid, nqn);
	}
	groups = rpc_jget(port, "ana_groups");
	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		struct json_object *g = json_object_array_get_idx(groups, i);

		if (have_grp && (uint64_t)json_object_get_int64(rpc_jget(g, "grpid")) != grp)
			continue;
		json_object_object_add(rpc_jget(g, "ana"), "state", json_object_new_string(ours));
		found = true;
	}
	if (!found && have_grp && groups) {
		struct json_object *g = json_object_new_object(), *st = json_object_new_object();

		json_object_object_add(g, "grpid", json_object_new_int64((int64_t)grp));
		json_object_object_add(g, "ana", st);
		json_object_object_add(st, "state", json_object_new_string(ours));
		json_object_array_add(groups, g);
	}
	return rpc_cfg_commit(c, doc);
}

static int m_nvmf_subsystem_get_listeners(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", NULL };
	const struct nvmf_cfg *cfg = c->rpc->tgt->cfg;
	const char *nqn;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (rc)
		return rc;
	c->result = json_object_new_array();
	for (size_t i = 0; c->result && i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];
		struct json_object *l, *states;

		if (!port_links(p, nqn))
			continue;
		l = json_object_new_object();
		json_object_object_add(l, "address", rpc_address_json(p));
		states = json_object_new_array();
		json_object_object_add(l, "ana_states", states);
		for (size_t g = 0; g < p->nr_ana_groups; g++) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "ana_group",
					       json_object_new_int64(p->ana_groups[g].grpid));
			json_object_object_add(e, "ana_state", json_object_new_string(
						       spdk_ana_name(p->ana_groups[g].state)));
			json_object_array_add(states, e);
		}
		json_object_array_add(c->result, l);
	}
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

/* ------------------------------------------------------------------ save_config's part */

static struct json_object *call(const char *method, struct json_object **params)
{
	struct json_object *m = json_object_new_object();

	*params = json_object_new_object();
	json_object_object_add(m, "method", json_object_new_string(method));
	json_object_object_add(m, "params", *params);
	return m;
}

struct json_object *rpc_nvmf_config(struct nvmf_rpc *rpc)
{
	const struct nvmf_cfg *cfg = rpc->tgt->cfg;
	const struct rpc_transport *t = &rpc->transport;
	struct json_object *a = json_object_new_array(), *p;

	if (!a)
		return NULL;
	if (t->created) {
		json_object_array_add(a, call("nvmf_create_transport", &p));
		json_object_object_add(p, "trtype", json_object_new_string("TCP"));
		json_object_object_add(p, "max_queue_depth",
				       json_object_new_int64(t->max_queue_depth));
		json_object_object_add(p, "max_io_qpairs_per_ctrlr",
				       json_object_new_int64(t->max_io_qpairs_per_ctrlr));
		json_object_object_add(p, "in_capsule_data_size",
				       json_object_new_int64(t->in_capsule_data_size));
		json_object_object_add(p, "max_io_size", json_object_new_int64(t->max_io_size));
		json_object_object_add(p, "io_unit_size", json_object_new_int64(t->io_unit_size));
		json_object_object_add(p, "max_aq_depth", json_object_new_int64(t->max_aq_depth));
		json_object_object_add(p, "abort_timeout_sec",
				       json_object_new_int64(t->abort_timeout_sec));
		json_object_object_add(p, "c2h_success", json_object_new_boolean(t->c2h_success));
		json_object_object_add(p, "sock_priority", json_object_new_int64(t->sock_priority));
	}
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		const struct nvmf_cfg_subsys *s = &cfg->subsystems[i];
		struct nvmf_subsys *live = nvmf_tgt_find_subsys(rpc->tgt, s->nqn);

		json_object_array_add(a, call("nvmf_create_subsystem", &p));
		json_object_object_add(p, "nqn", json_object_new_string(s->nqn));
		json_object_object_add(p, "allow_any_host", json_object_new_boolean(s->allow_any_host));
		json_object_object_add(p, "serial_number",
				       json_object_new_string(live ? live->serial : s->serial));
		json_object_object_add(p, "model_number",
				       json_object_new_string(live ? live->model : s->model));
		json_object_object_add(p, "min_cntlid", json_object_new_int64(s->cntlid_min));
		json_object_object_add(p, "max_cntlid", json_object_new_int64(s->cntlid_max));
		for (size_t k = 0; k < cfg->nr_ports; k++) {
			if (!port_links(&cfg->ports[k], s->nqn) ||
			    cfg->ports[k].trtype != NVMF_CFG_TRTYPE_TCP)
				continue;
			json_object_array_add(a, call("nvmf_subsystem_add_listener", &p));
			json_object_object_add(p, "nqn", json_object_new_string(s->nqn));
			json_object_object_add(p, "listen_address", rpc_address_json(&cfg->ports[k]));
			json_object_object_add(p, "secure_channel", json_object_new_boolean(
						       cfg->ports[k].tsas == NVMF_CFG_TSAS_TLS13));
		}
		for (size_t k = 0; k < s->nr_allowed_hosts + s->nr_listed_hosts; k++) {
			const char *hn = k < s->nr_allowed_hosts ? s->allowed_hosts[k]
						: s->listed_hosts[k - s->nr_allowed_hosts];
			const struct nvmf_cfg_host *h = nvmf_cfg_find_host(cfg, hn);

			json_object_array_add(a, call("nvmf_subsystem_add_host", &p));
			json_object_object_add(p, "nqn", json_object_new_string(s->nqn));
			json_object_object_add(p, "host", json_object_new_string(hn));
			if (h && h->dhchap_key[0])
				json_object_object_add(p, "dhchap_key",
						       json_object_new_string(h->dhchap_key));
			if (h && h->dhchap_ctrl_key[0])
				json_object_object_add(p, "dhchap_ctrlr_key",
						       json_object_new_string(h->dhchap_ctrl_key));
		}
		for (size_t k = 0; k < s->nr_namespaces; k++) {
			const struct nvmf_cfg_ns *n = &s->namespaces[k];
			struct json_object *ns = ns_json(s, n, live);

			if (!n->enable || !ns)
				continue;
			/* add_ns takes no "name" key: only the bdev's */
			json_object_object_del(ns, "name");
			json_object_array_add(a, call("nvmf_subsystem_add_ns", &p));
			json_object_object_add(p, "nqn", json_object_new_string(s->nqn));
			json_object_object_add(p, "namespace", ns);
		}
		/* ANA states other than the starting one come back through set_ana_state */
		for (size_t k = 0; k < cfg->nr_ports; k++) {
			const struct nvmf_cfg_port *port = &cfg->ports[k];

			if (!port_links(port, s->nqn))
				continue;
			for (size_t g = 0; g < port->nr_ana_groups; g++) {
				if (port->ana_groups[g].state == NVMF_CFG_ANA_OPTIMIZED)
					continue;
				json_object_array_add(a, call("nvmf_subsystem_listener_set_ana_state",
							      &p));
				json_object_object_add(p, "nqn", json_object_new_string(s->nqn));
				json_object_object_add(p, "listen_address", rpc_address_json(port));
				json_object_object_add(p, "ana_state", json_object_new_string(
							       spdk_ana_name(port->ana_groups[g].state)));
				json_object_object_add(p, "anagrpid", json_object_new_int64(
							       port->ana_groups[g].grpid));
			}
		}
	}
	return a;
}

const struct rpc_method rpc_nvmf_methods[] = {
	{ "nvmf_create_transport", m_nvmf_create_transport },
	{ "nvmf_get_transports", m_nvmf_get_transports },
	{ "nvmf_create_subsystem", m_nvmf_create_subsystem },
	{ "nvmf_delete_subsystem", m_nvmf_delete_subsystem },
	{ "nvmf_get_subsystems", m_nvmf_get_subsystems },
	{ "nvmf_subsystem_add_listener", m_nvmf_subsystem_add_listener },
	{ "nvmf_subsystem_remove_listener", m_nvmf_subsystem_remove_listener },
	{ "nvmf_subsystem_listener_set_ana_state", m_nvmf_subsystem_listener_set_ana_state },
	{ "nvmf_subsystem_get_listeners", m_nvmf_subsystem_get_listeners },
	{ NULL, NULL },
};
