/*
 * SPDK's methods that show the live target: nvmf_subsystem_get_controllers and
 * get_qpairs (the controllers and queues connected now, read under the target's lock),
 * and nvmf_get_stats (one poll group per reactor, SPDK's shape, our counters).
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

/*
 * SPDK's shape: one poll group per thread (ours: per reactor) with its queue pair counts
 * and its transports.  The counts are the queues connected now (we keep no history, so
 * the cumulative admin_qpairs / io_qpairs equal the current ones); our own figures per
 * group follow SPDK's: commands and bytes read and written.
 */
static int m_nvmf_get_stats(struct rpc_call *c)
{
	static const char *const known[] = { "tgt_name", NULL };
	struct nvmf_tgt *tgt = c->rpc->tgt;
	const struct nvmf_subsys_list *l;
	struct pg {
		uint64_t admin, io, rd, wr, rd_bytes, wr_bytes;
	} *pg;
	struct json_object *groups;
	int rc = rpc_params(c, known);

	if (rc)
		return rc;
	pg = calloc(tgt->nr_reactors, sizeof(*pg));
	c->result = json_object_new_object();
	groups = json_object_new_array();
	if (!pg || !c->result || !groups) {
		free(pg);
		json_object_put(groups);
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	}
	l = nvmf_tgt_subsys(tgt);
	pthread_mutex_lock(&tgt->lock);
	for (size_t i = 0; i < l->nr; i++)
		for (struct nvmf_tgt_ctrl *ct = l->s[i]->ctrls; ct; ct = ct->next) {
			if (ct->admin_sq && ct->admin_sq->reactor->id < tgt->nr_reactors)
				pg[ct->admin_sq->reactor->id].admin++;
			for (struct nvmf_sq *q = ct->io_sqs; q; q = q->ctrl_next) {
				struct pg *g;

				if (q->reactor->id >= tgt->nr_reactors)
					continue;
				g = &pg[q->reactor->id];
				g->io++;
				g->rd += nvmf_stat_read(&q->stats.cmds[NVMF_STATS_READ]);
				g->wr += nvmf_stat_read(&q->stats.cmds[NVMF_STATS_WRITE]);
				g->rd_bytes += nvmf_stat_read(&q->stats.bytes[0]);
				g->wr_bytes += nvmf_stat_read(&q->stats.bytes[1]);
			}
		}
	pthread_mutex_unlock(&tgt->lock);
	json_object_object_add(c->result, "tick_rate", json_object_new_int64(1000000000));
	json_object_object_add(c->result, "poll_groups", groups);
	for (unsigned i = 0; i < tgt->nr_reactors; i++) {
		struct json_object *g = json_object_new_object(), *ts = json_object_new_array();
		struct json_object *t = json_object_new_object();
		char name[32];

		if (!g || !ts || !t) {
			json_object_put(g);
			json_object_put(ts);
			json_object_put(t);
			continue;
		}
		snprintf(name, sizeof(name), "nvmf_tgt_poll_group_%03u", i);
		json_object_object_add(g, "name", json_object_new_string(name));
		json_object_object_add(g, "admin_qpairs", json_object_new_int64((int64_t)pg[i].admin));
		json_object_object_add(g, "io_qpairs", json_object_new_int64((int64_t)pg[i].io));
		json_object_object_add(g, "current_admin_qpairs",
				       json_object_new_int64((int64_t)pg[i].admin));
		json_object_object_add(g, "current_io_qpairs",
				       json_object_new_int64((int64_t)pg[i].io));
		json_object_object_add(g, "pending_bdev_io", json_object_new_int64(0));
		json_object_object_add(g, "completed_nvme_io",
				       json_object_new_int64((int64_t)(pg[i].rd + pg[i].wr)));
		json_object_object_add(t, "trtype", json_object_new_string("TCP"));
		json_object_object_add(t, "read_cmds", json_object_new_int64((int64_t)pg[i].rd));
		json_object_object_add(t, "write_cmds", json_object_new_int64((int64_t)pg[i].wr));
		json_object_object_add(t, "read_bytes",
				       json_object_new_int64((int64_t)pg[i].rd_bytes));
		json_object_object_add(t, "write_bytes",
				       json_object_new_int64((int64_t)pg[i].wr_bytes));
		json_object_array_add(ts, t);
		json_object_object_add(g, "transports", ts);
		json_object_array_add(groups, g);
	}
	free(pg);
	return 0;
}

const struct rpc_method rpc_live_methods[] = {
	{ "nvmf_subsystem_get_controllers", m_nvmf_subsystem_get_controllers },
	{ "nvmf_subsystem_get_qpairs", m_nvmf_subsystem_get_qpairs },
	{ "nvmf_get_stats", m_nvmf_get_stats },
	{ NULL, NULL },
};
