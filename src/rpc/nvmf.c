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

/* ------------------------------------------------------------------ the document */

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

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

static struct json_object *doc_list(struct json_object *doc, const char *key)
{
	struct json_object *a = jget(doc, key);

	if (!a) {
		a = json_object_new_array();
		json_object_object_add(doc, key, a);
	}
	return a;
}

static struct json_object *doc_subsys(struct json_object *doc, const char *nqn, size_t *idx)
{
	struct json_object *subs = doc_list(doc, "subsystems");

	for (size_t i = 0; subs && i < json_object_array_length(subs); i++) {
		struct json_object *s = json_object_array_get_idx(subs, i);

		if (strcmp(jstr(s, "nqn"), nqn) == 0) {
			if (idx)
				*idx = i;
			return s;
		}
	}
	return NULL;
}

static bool strv_has(struct json_object *arr, const char *s)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return true;
	return false;
}

static void strv_del(struct json_object *arr, const char *s)
{
	for (size_t i = arr ? json_object_array_length(arr) : 0; i-- > 0;)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			json_object_array_del_idx(arr, i, 1);
}

/* Ports that link nothing are not enabled (nvmet): drop them, and hosts nothing allows. */
static void doc_tidy(struct json_object *doc)
{
	struct json_object *ports = doc_list(doc, "ports"), *hosts = doc_list(doc, "hosts");
	struct json_object *subs = doc_list(doc, "subsystems");

	for (size_t i = json_object_array_length(ports); i-- > 0;) {
		struct json_object *links = jget(json_object_array_get_idx(ports, i), "subsystems");

		if (!links || json_object_array_length(links) == 0)
			json_object_array_del_idx(ports, i, 1);
	}
	for (size_t i = json_object_array_length(hosts); i-- > 0;) {
		const char *h = jstr(json_object_array_get_idx(hosts, i), "nqn");
		bool used = false;

		for (size_t k = 0; k < json_object_array_length(subs) && !used; k++) {
			struct json_object *sub = json_object_array_get_idx(subs, k);

			used = strv_has(jget(sub, "allowed_hosts"), h) ||
			       strv_has(jget(sub, "listed_hosts"), h);
		}
		if (!used)
			json_object_array_del_idx(hosts, i, 1);
	}
}

/* A subsystem's list of NQNs, made when missing. */
static struct json_object *subsys_list(struct json_object *sub, const char *key)
{
	struct json_object *a = jget(sub, key);

	if (!a) {
		a = json_object_new_array();
		json_object_object_add(sub, key, a);
	}
	return a;
}

/* Move every NQN of one list to the other (allow_any_host set or cleared). */
static void move_hosts(struct json_object *sub, const char *from, const char *to)
{
	struct json_object *src = jget(sub, from), *dst = subsys_list(sub, to);

	for (size_t i = 0; src && i < json_object_array_length(src); i++) {
		const char *h = json_object_get_string(json_object_array_get_idx(src, i));

		if (!strv_has(dst, h))
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
	struct json_object *addr = jget(port, "addr");

	return strcmp(jstr(addr, "trtype"), "tcp") == 0 &&
	       strcmp(jstr(addr, "adrfam"), a->adrfam) == 0 &&
	       strcmp(jstr(addr, "traddr"), a->traddr) == 0 &&
	       strcmp(jstr(addr, "trsvcid"), a->trsvcid) == 0;
}

static struct json_object *doc_port(struct json_object *doc, const struct laddr *a)
{
	struct json_object *ports = doc_list(doc, "ports");

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
	json_object_array_add(doc_list(doc, "subsystems"), s);
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
	doc_subsys(doc, nqn, &idx);
	json_object_array_del_idx(doc_list(doc, "subsystems"), idx, 1);
	ports = doc_list(doc, "ports");
	for (size_t i = 0; i < json_object_array_length(ports); i++)
		strv_del(jget(json_object_array_get_idx(ports, i), "subsystems"), nqn);
	doc_tidy(doc);
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
		links = jget(port, "subsystems");
		if (strv_has(links, nqn)) {
			json_object_put(doc);
			return rpc_invalid(c, "listener %s:%s already exists", a.traddr,
					   a.trsvcid);
		}
		json_object_array_add(links, json_object_new_string(nqn));
	} else {
		struct json_object *ports = doc_list(doc, "ports"), *addr, *param, *g, *st;
		int64_t portid = 0;
		char text[16];

		/* the next free portid, as an admin running nvmetcli would pick */
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			int64_t id = json_object_get_int64(jget(json_object_array_get_idx(ports, i),
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
		strv_del(jget(port, "subsystems"), nqn);
	doc_tidy(doc);
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
	if (!port || !strv_has(jget(port, "subsystems"), nqn)) {
		json_object_put(doc);
		return rpc_invalid(c, "no listener %s:%s on %s", a.traddr, a.trsvcid, nqn);
	}
	strv_del(jget(port, "subsystems"), nqn);
	doc_tidy(doc);
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
	if (!port || !strv_has(jget(port, "subsystems"), nqn)) {
		json_object_put(doc);
		return rpc_invalid(c, "no listener %s:%s on %s", a.traddr, a.trsvcid, nqn);
	}
	groups = jget(port, "ana_groups");
	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		struct json_object *g = json_object_array_get_idx(groups, i);

		if (have_grp && (uint64_t)json_object_get_int64(jget(g, "grpid")) != grp)
			continue;
		json_object_object_add(jget(g, "ana"), "state", json_object_new_string(ours));
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
	if (n != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(tmp + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
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
	if (eui || ptpl || hidden)
		return rpc_invalid(c, "%s is not served by nvmf-target",
				   eui ? "eui64" : ptpl ? "ptpl_file" : "no_auto_visible");
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
	nss = jget(doc_subsys(doc, nqn, NULL), "namespaces");
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
		struct json_object *ports = doc_list(doc, "ports");

		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);
			struct json_object *groups = jget(p, "ana_groups"), *g, *st;
			bool have = false;

			if (!strv_has(jget(p, "subsystems"), nqn) || !groups)
				continue;
			for (size_t k = 0; k < json_object_array_length(groups); k++)
				have |= (uint64_t)json_object_get_int64(jget(
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
	nss = jget(doc_subsys(doc, nqn, NULL), "namespaces");
	for (size_t i = nss ? json_object_array_length(nss) : 0; i-- > 0;)
		if ((uint64_t)json_object_get_int64(jget(json_object_array_get_idx(nss, i),
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
	hosts = doc_list(doc, "hosts");
	for (size_t i = 0; i < json_object_array_length(hosts) && !h; i++)
		if (strcmp(jstr(json_object_array_get_idx(hosts, i), "nqn"), host) == 0)
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
	allowed = subsys_list(doc_subsys(doc, nqn, NULL),
			      nvmf_cfg_find_subsys(c->rpc->tgt->cfg, nqn)->allow_any_host ?
			      "listed_hosts" : "allowed_hosts");
	if (!strv_has(allowed, host))
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
	allowed = doc_subsys(doc, nqn, NULL);
	strv_del(jget(allowed, "allowed_hosts"), host);
	strv_del(jget(allowed, "listed_hosts"), host);
	doc_tidy(doc);
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

	if (!rc && !(v = jget(c->params, "allow_any_host")))
		rc = rpc_invalid(c, "\"allow_any_host\" is required");
	if (!rc)
		rc = rpc_bool(c, c->params, "allow_any_host", &any);
	if (rc)
		return rc;
	doc = rpc_cfg_begin(c);
	if (!doc)
		return RPC_ERR_INTERNAL;
	v = doc_subsys(doc, nqn, NULL);
	json_object_object_add(jget(v, "attr"), "allow_any_host",
			       json_object_new_string(any ? "1" : "0"));
	if (any)
		move_hosts(v, "allowed_hosts", "listed_hosts");
	else
		move_hosts(v, "listed_hosts", "allowed_hosts");
	return rpc_cfg_commit(c, doc);
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
	{ "nvmf_subsystem_add_ns", m_nvmf_subsystem_add_ns },
	{ "nvmf_subsystem_remove_ns", m_nvmf_subsystem_remove_ns },
	{ "nvmf_subsystem_add_host", m_nvmf_subsystem_add_host },
	{ "nvmf_subsystem_remove_host", m_nvmf_subsystem_remove_host },
	{ "nvmf_subsystem_allow_any_host", m_nvmf_subsystem_allow_any_host },
	{ NULL, NULL },
};
