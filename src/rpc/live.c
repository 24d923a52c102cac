/*
 * SPDK's methods that show the live target: nvmf_subsystem_get_controllers and
 * get_qpairs (the controllers and queues connected now, read under the target's lock),
 * and nvmf_get_stats (SPDK's shape on top of target/stats.c's walk, our detail beside).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"
#include "target/target.h"

static int m_nvmf_subsystem_get_controllers(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", NULL };
	struct nvmf_tgt *tgt = c->rpc->tgt;
	struct nvmf_subsys *s;
	const char *nqn;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (rc)
		return rc;
	c->result = json_object_new_array();
	if (!c->result)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	s = nvmf_tgt_find_subsys(tgt, nqn);
	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_tgt_ctrl *ct = s ? s->ctrls : NULL; ct; ct = ct->next) {
		struct json_object *j = json_object_new_object();
		unsigned n = 0;
		char u[37];

		if (!j || atomic_load(&ct->dying))
			continue;
		for (struct nvmf_sq *q = ct->io_sqs; q; q = q->ctrl_next)
			n++;
		rpc_fmt_uuid(u, ct->hostid);
		json_object_object_add(j, "cntlid", json_object_new_int(ct->cntlid));
		json_object_object_add(j, "cntrltype", json_object_new_string("io"));
		json_object_object_add(j, "hostnqn", json_object_new_string(ct->hostnqn));
		json_object_object_add(j, "hostid", json_object_new_string(u));
		json_object_object_add(j, "num_io_qpairs", json_object_new_int((int)n));
		json_object_array_add(c->result, j);
	}
	pthread_mutex_unlock(&tgt->lock);
	return 0;
}

static struct json_object *qpair_json(struct nvmf_tgt_ctrl *ct, struct nvmf_sq *q)
{
	struct json_object *j = json_object_new_object();
	char thread[32];

	if (!j)
		return NULL;
	snprintf(thread, sizeof(thread), "nvmf_tgt_poll_group_%03u", q->reactor->id);
	json_object_object_add(j, "cntlid", json_object_new_int(ct->cntlid));
	json_object_object_add(j, "qid", json_object_new_int(q->qid));
	json_object_object_add(j, "state", json_object_new_string("enabled"));
	json_object_object_add(j, "thread", json_object_new_string(thread));
	json_object_object_add(j, "hostnqn", json_object_new_string(ct->hostnqn));
	if (q->port)
		json_object_object_add(j, "listen_address", rpc_address_json(nvmf_port_cfg(q->port)));
	return j;
}

static int m_nvmf_subsystem_get_qpairs(struct rpc_call *c)
{
	static const char *const known[] = { "nqn", "tgt_name", NULL };
	struct nvmf_tgt *tgt = c->rpc->tgt;
	struct nvmf_subsys *s;
	const char *nqn;
	int rc = rpc_subsys_arg(c, known, &nqn);

	if (rc)
		return rc;
	c->result = json_object_new_array();
	if (!c->result)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	s = nvmf_tgt_find_subsys(tgt, nqn);
	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_tgt_ctrl *ct = s ? s->ctrls : NULL; ct; ct = ct->next) {
		if (atomic_load(&ct->dying))
			continue;
		if (ct->admin_sq)
			json_object_array_add(c->result, qpair_json(ct, ct->admin_sq));
		for (struct nvmf_sq *q = ct->io_sqs; q; q = q->ctrl_next)
			json_object_array_add(c->result, qpair_json(ct, q));
	}
	pthread_mutex_unlock(&tgt->lock);
	return 0;
}

/* Integer key of a stats object (nvmf_tgt_stats_json's), 0 when absent. */
static int64_t stat_i(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* o.a.b as an integer (the stats' nested IO objects). */
static int64_t stat_i2(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	return json_object_object_get_ex(o, a, &v) ? stat_i(v, b) : 0;
}

/* Length of an array of the stats tree, 0 when it is missing (json-c asserts on NULL). */
static size_t arr_len(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* A transport's counters per poll group: read and write commands and bytes. */
struct pg_io {
	int64_t rd, wr, rd_bytes, wr_bytes;
};

/* Sum the live queues of the stats tree per reactor (their "reactor" key). */
static void sum_queues(struct json_object *stats, struct pg_io *pg, unsigned nr)
{
	struct json_object *subs = rpc_jget(stats, "subsystems");

	for (size_t i = 0; i < arr_len(subs); i++) {
		struct json_object *cs = rpc_jget(json_object_array_get_idx(subs, i),
						  "controllers");

		for (size_t j = 0; j < arr_len(cs); j++) {
			struct json_object *qs = rpc_jget(json_object_array_get_idx(cs, j),
							  "queues");

			for (size_t k = 0; k < arr_len(qs); k++) {
				struct json_object *q = json_object_array_get_idx(qs, k);
				struct json_object *io = rpc_jget(q, "io");
				int64_t r = stat_i(q, "reactor");

				if (r < 0 || (uint64_t)r >= nr)
					continue;
				pg[r].rd += stat_i2(io, "commands", "read");
				pg[r].wr += stat_i2(io, "commands", "write");
				pg[r].rd_bytes += stat_i2(io, "bytes", "read");
				pg[r].wr_bytes += stat_i2(io, "bytes", "write");
			}
		}
	}
}

/* One SPDK poll group from our reactor entry r and the sums of its queues. */
static struct json_object *poll_group(struct json_object *r, const struct pg_io *io)
{
	struct json_object *g = json_object_new_object(), *ts = json_object_new_array();
	struct json_object *t = json_object_new_object();
	char name[32];

	if (!g || !ts || !t) {
		json_object_put(g);
		json_object_put(ts);
		json_object_put(t);
		return NULL;
	}
	snprintf(name, sizeof(name), "nvmf_tgt_poll_group_%03u", (unsigned)stat_i(r, "id"));
	json_object_object_add(g, "name", json_object_new_string(name));
	json_object_object_add(g, "admin_qpairs", json_object_new_int64(stat_i(r, "admin_qpairs")));
	json_object_object_add(g, "io_qpairs", json_object_new_int64(stat_i(r, "io_qpairs")));
	json_object_object_add(g, "current_admin_qpairs",
			       json_object_new_int64(stat_i(r, "admin_qpairs")));
	json_object_object_add(g, "current_io_qpairs",
			       json_object_new_int64(stat_i(r, "io_qpairs")));
	json_object_object_add(g, "pending_bdev_io", json_object_new_int64(0));
	json_object_object_add(g, "completed_nvme_io",
			       json_object_new_int64(stat_i(r, "completed_io")));
	json_object_object_add(t, "trtype", json_object_new_string("TCP"));
	json_object_object_add(t, "read_cmds", json_object_new_int64(io->rd));
	json_object_object_add(t, "write_cmds", json_object_new_int64(io->wr));
	json_object_object_add(t, "read_bytes", json_object_new_int64(io->rd_bytes));
	json_object_object_add(t, "write_bytes", json_object_new_int64(io->wr_bytes));
	json_object_array_add(ts, t);
	json_object_object_add(g, "transports", ts);
	return g;
}

/*
 * SPDK's shape, built from the one statistics walk (target/stats.c) that --metrics also
 * serves: "tick_rate" and one poll group per thread (ours: per reactor) with its queue
 * pair counts and its transports.  The counts are the queues connected now (we keep no
 * history of them, so the cumulative admin_qpairs / io_qpairs equal the current ones);
 * completed_nvme_io is the reactor's total since start; a transport's read/write figures
 * are those of the group's live queues.  Our detail rides beside SPDK's keys, which
 * rpc.py and the control planes ignore: the walk's own "uptime_ns", "reactors",
 * "connections" and "subsystems" (see stats.h), times in ns as tick_rate says.
 */
static int m_nvmf_get_stats(struct rpc_call *c)
{
	static const char *const known[] = { "tgt_name", NULL };
	struct nvmf_tgt *tgt = c->rpc->tgt;
	struct json_object *groups, *reactors;
	struct pg_io *pg;
	int rc = rpc_params(c, known);

	if (rc)
		return rc;
	c->result = nvmf_tgt_stats_json(tgt);
	pg = calloc(tgt->nr_reactors ? tgt->nr_reactors : 1, sizeof(*pg));
	groups = json_object_new_array();
	if (!pg || !c->result || !groups) {
		free(pg);
		json_object_put(groups);
		json_object_put(c->result);
		c->result = NULL;
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	}
	sum_queues(c->result, pg, tgt->nr_reactors);
	reactors = rpc_jget(c->result, "reactors");
	for (size_t i = 0; i < arr_len(reactors); i++) {
		struct json_object *r = json_object_array_get_idx(reactors, i);
		int64_t id = stat_i(r, "id");
		struct json_object *g;

		if (id < 0 || (uint64_t)id >= tgt->nr_reactors)
			continue;
		g = poll_group(r, &pg[id]);
		if (g)
			json_object_array_add(groups, g);
	}
	free(pg);
	json_object_object_add(c->result, "tick_rate", json_object_new_int64(1000000000));
	json_object_object_add(c->result, "poll_groups", groups);
	return 0;
}

const struct rpc_method rpc_live_methods[] = {
	{ "nvmf_subsystem_get_controllers", m_nvmf_subsystem_get_controllers },
	{ "nvmf_subsystem_get_qpairs", m_nvmf_subsystem_get_qpairs },
	{ "nvmf_get_stats", m_nvmf_get_stats },
	{ NULL, NULL },
};
