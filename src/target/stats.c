/*
 * Target statistics: counting a completed command (on its queue's reactor) and reading the
 * whole target into one json-c object (any thread).  The rules of who writes and who reads
 * what are in stats.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/ticks.h"

/* ------------------------------------------------------------------ writer side */

static void count_error(struct nvmf_io_stats *s, uint16_t key)
{
	for (unsigned i = 0; i < NVMF_STATS_ERR_SLOTS; i++) {
		if (s->err[i].status == key) {
			nvmf_stat_add(&s->err[i].count, 1);
			return;
		}
		if (s->err[i].status == 0) {
			/* the count first: a reader that sees the key sees a count (maybe 0) */
			nvmf_stat_add(&s->err[i].count, 1);
			__atomic_store_n(&s->err[i].status, key, __ATOMIC_RELEASE);
			return;
		}
	}
	nvmf_stat_add(&s->errors_other, 1);
}

void nvmf_io_stats_count(struct nvmf_io_stats *s, enum nvmf_stats_op op, uint16_t status,
			 uint64_t bytes, uint64_t lat_ns)
{
	uint16_t key = status & NVME_STATUS_SCT_SC_MASK;

	nvmf_stat_add(&s->cmds[op], 1);
	if (key)
		count_error(s, key);
	if (op == NVMF_STATS_OTHER)
		return;
	if (!key)
		nvmf_stat_add(&s->bytes[op], bytes);
	nvmf_stat_add(&s->lat[op].sum_ns, lat_ns);
	nvmf_stat_add(&s->lat[op].buckets[loglin_index(lat_ns, NVMF_STATS_LAT_BITS)], 1);
}

void nvmf_stats_req_done(struct nvmf_req *req, uint16_t status)
{
	struct nvmf_sq *sq = req->sq;
	enum nvmf_stats_op op = NVMF_STATS_OTHER;
	uint64_t lat = 0, bytes = 0;

	/* opcodes 0x01 / 0x02 are Write / Read on I/O queues only (Get Log Page on admin) */
	if (sq->qid && req->cmd.opcode == NVME_NVM_READ)
		op = NVMF_STATS_READ;
	else if (sq->qid && req->cmd.opcode == NVME_NVM_WRITE)
		op = NVMF_STATS_WRITE;
	if (op != NVMF_STATS_OTHER) {
		/*
		 * One clock read per read or write: the loop's own stamp is that of the
		 * iteration the capsule came in, so a RAM read answered in the same iteration
		 * would show 0.  A TSC read (util/ticks.h) where clock_gettime() would cost
		 * 20-120 ns (bench/stats-count.c).
		 */
		uint64_t now = nvmf_ticks();

		lat = now > req->start_ticks ? nvmf_ticks_to_ns(now - req->start_ticks) : 0;
		bytes = req->xfer_len;
	}
	nvmf_io_stats_count(&sq->stats, op, status, bytes, lat);
	if (!sq->qid || !sq->reactor)
		return;
	if (req->ns && req->ns->stats)
		nvmf_io_stats_count(&req->ns->stats[sq->reactor->id], op, status, bytes, lat);
	if (sq->tgt && sq->tgt->reactor_io)
		nvmf_stat_add(&sq->tgt->reactor_io[sq->reactor->id].completed, 1);
}

int nvmf_ns_stats_alloc(struct nvmf_ns *ns, unsigned nr_reactors)
{
	/* a cache-line multiple each, so two reactors never write the same line */
	size_t one = (sizeof(*ns->stats) + 63) & ~(size_t)63;

	if (one != sizeof(*ns->stats)) {
		/* the array's cells are sizeof apart: keep the struct a whole number of lines */
		ns->stats = calloc(nr_reactors, sizeof(*ns->stats));
	} else {
		ns->stats = aligned_alloc(64, one * nr_reactors);
		if (ns->stats)
			memset(ns->stats, 0, one * nr_reactors);
	}
	return ns->stats ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------ reader side */

static void fold_word(uint64_t *dst, const uint64_t *src)
{
	*dst += nvmf_stat_read(src);
}

static void fold_errors(struct nvmf_io_stats *dst, uint16_t key, uint64_t n)
{
	for (unsigned i = 0; i < NVMF_STATS_ERR_SLOTS; i++) {
		if (dst->err[i].status == key || dst->err[i].status == 0) {
			dst->err[i].status = key;
			dst->err[i].count += n;
			return;
		}
	}
	dst->errors_other += n;
}

void nvmf_io_stats_fold(struct nvmf_io_stats *dst, const struct nvmf_io_stats *src)
{
	for (unsigned i = 0; i < NVMF_STATS_NR_OPS; i++)
		fold_word(&dst->cmds[i], &src->cmds[i]);
	for (unsigned i = 0; i < 2; i++) {
		fold_word(&dst->bytes[i], &src->bytes[i]);
		fold_word(&dst->lat[i].sum_ns, &src->lat[i].sum_ns);
		for (unsigned b = 0; b < NVMF_STATS_LAT_BUCKETS; b++)
			fold_word(&dst->lat[i].buckets[b], &src->lat[i].buckets[b]);
	}
	fold_word(&dst->errors_other, &src->errors_other);
	for (unsigned i = 0; i < NVMF_STATS_ERR_SLOTS; i++) {
		uint16_t key = __atomic_load_n(&src->err[i].status, __ATOMIC_ACQUIRE);

		if (!key)
			break;
		fold_errors(dst, key, nvmf_stat_read(&src->err[i].count));
	}
}

void nvmf_conn_stats_fold(struct nvmf_conn_stats *dst, const struct nvmf_conn_stats *src)
{
	fold_word(&dst->termreq_sent, &src->termreq_sent);
	fold_word(&dst->termreq_recv, &src->termreq_recv);
	fold_word(&dst->hdgst_err, &src->hdgst_err);
	fold_word(&dst->ddgst_err, &src->ddgst_err);
}

uint64_t nvmf_stats_hist_count(const struct nvmf_stats_hist *h)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < NVMF_STATS_LAT_BUCKETS; b++)
		n += nvmf_stat_read(&h->buckets[b]);
	return n;
}

/* ------------------------------------------------------------------ JSON */

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static struct json_object *hist_json(const struct nvmf_stats_hist *h)
{
	struct json_object *o = json_object_new_object(), *b = json_object_new_array();
	uint64_t n = 0;

	for (unsigned i = 0; i < NVMF_STATS_LAT_BUCKETS; i++) {
		uint64_t c = nvmf_stat_read(&h->buckets[i]);
		struct json_object *pair;

		if (!c)
			continue;
		n += c;
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_uint64(loglin_high(i,
							NVMF_STATS_LAT_BITS)));
		json_object_array_add(pair, json_object_new_uint64(c));
		json_object_array_add(b, pair);
	}
	add_u64(o, "count", n);
	add_u64(o, "sum_ns", nvmf_stat_read(&h->sum_ns));
	json_object_object_add(o, "buckets", b);
	return o;
}

static struct json_object *io_json(const struct nvmf_io_stats *s, uint64_t depth)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cmds = json_object_new_object(), *bytes = json_object_new_object();
	struct json_object *errs = json_object_new_array(), *lat = json_object_new_object();

	add_u64(cmds, "read", nvmf_stat_read(&s->cmds[NVMF_STATS_READ]));
	add_u64(cmds, "write", nvmf_stat_read(&s->cmds[NVMF_STATS_WRITE]));
	add_u64(cmds, "other", nvmf_stat_read(&s->cmds[NVMF_STATS_OTHER]));
	add_u64(bytes, "read", nvmf_stat_read(&s->bytes[NVMF_STATS_READ]));
	add_u64(bytes, "write", nvmf_stat_read(&s->bytes[NVMF_STATS_WRITE]));
	for (unsigned i = 0; i < NVMF_STATS_ERR_SLOTS; i++) {
		uint16_t key = __atomic_load_n(&s->err[i].status, __ATOMIC_ACQUIRE);
		struct json_object *e;

		if (!key)
			break;
		e = json_object_new_object();
		add_u64(e, "sct", nvme_status_sct(key));
		add_u64(e, "sc", nvme_status_sc(key));
		add_u64(e, "count", nvmf_stat_read(&s->err[i].count));
		json_object_array_add(errs, e);
	}
	json_object_object_add(lat, "read", hist_json(&s->lat[NVMF_STATS_READ]));
	json_object_object_add(lat, "write", hist_json(&s->lat[NVMF_STATS_WRITE]));
	json_object_object_add(o, "commands", cmds);
	json_object_object_add(o, "bytes", bytes);
	json_object_object_add(o, "errors", errs);
	add_u64(o, "errors_other", nvmf_stat_read(&s->errors_other));
	add_u64(o, "depth", depth);
	json_object_object_add(o, "latency", lat);
	return o;
}

static struct json_object *conn_json(const struct nvmf_conn_stats *c)
{
	struct json_object *o = json_object_new_object();

	add_u64(o, "termreqs_sent", nvmf_stat_read(&c->termreq_sent));
	add_u64(o, "termreqs_received", nvmf_stat_read(&c->termreq_recv));
	add_u64(o, "header_digest_errors", nvmf_stat_read(&c->hdgst_err));
	add_u64(o, "data_digest_errors", nvmf_stat_read(&c->ddgst_err));
	return o;
}

/* Commands a queue holds: every request not in its pool. */
static uint64_t sq_depth(const struct nvmf_sq *sq)
{
	uint64_t n = 0;

	for (unsigned s = 0; s < NVMF_REQ_NR_STATES; s++)
		if (s != NVMF_REQ_FREE)
			n += __atomic_load_n(&sq->req_states.n[s], __ATOMIC_RELAXED);
	return n;
}

/* Scratch sums while walking, and per-reactor figures gathered on the way. */
struct walk {
	struct nvmf_tgt *tgt;
	struct nvmf_io_stats *ctrl, *subsys, *ns;
	struct nvmf_conn_stats conn;
	uint64_t *admin_qpairs, *io_qpairs;
};

static struct json_object *queue_json(struct walk *w, struct nvmf_sq *sq, uint64_t *depth)
{
	struct json_object *o = json_object_new_object();
	unsigned r = sq->reactor ? sq->reactor->id : 0;
	uint64_t d = sq_depth(sq);

	add_u64(o, "qid", sq->qid);
	add_u64(o, "reactor", r);
	add_u64(o, "depth", d);
	json_object_object_add(o, "io", io_json(&sq->stats, d));
	json_object_object_add(o, "connection", conn_json(&sq->conn_stats));
	nvmf_io_stats_fold(w->ctrl, &sq->stats);
	nvmf_conn_stats_fold(&w->conn, &sq->conn_stats);
	if (r < w->tgt->nr_reactors) {
		if (sq->qid)
			w->io_qpairs[r]++;
		else
			w->admin_qpairs[r]++;
	}
	*depth += d;
	return o;
}

static struct json_object *ctrl_json(struct walk *w, struct nvmf_tgt_ctrl *c, uint64_t *depth)
{
	struct json_object *o = json_object_new_object(), *qs = json_object_new_array();
	uint64_t d = 0;

	memset(w->ctrl, 0, sizeof(*w->ctrl));
	nvmf_io_stats_fold(w->ctrl, &c->retired);
	if (c->admin_sq)
		json_object_array_add(qs, queue_json(w, c->admin_sq, &d));
	for (struct nvmf_sq *sq = c->io_sqs; sq; sq = sq->ctrl_next)
		json_object_array_add(qs, queue_json(w, sq, &d));
	add_u64(o, "cntlid", c->cntlid);
	json_object_object_add(o, "hostnqn", json_object_new_string(c->hostnqn));
	json_object_object_add(o, "io", io_json(w->ctrl, d));
	json_object_object_add(o, "queues", qs);
	nvmf_io_stats_fold(w->subsys, w->ctrl);
	*depth += d;
	return o;
}

static struct json_object *subsys_json(struct walk *w, struct nvmf_subsys *s)
{
	struct json_object *o = json_object_new_object();
	struct json_object *nss = json_object_new_array(), *cs = json_object_new_array();
	const struct nvmf_subsys_view *v = nvmf_subsys_view(s);
	uint64_t d = 0;

	memset(w->subsys, 0, sizeof(*w->subsys));
	nvmf_io_stats_fold(w->subsys, &s->retired);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next)
		json_object_array_add(cs, ctrl_json(w, c, &d));
	for (uint32_t i = 0; v && i < v->nr_ns; i++) {
		struct nvmf_ns *ns = v->ns[i];
		struct json_object *n = json_object_new_object();

		memset(w->ns, 0, sizeof(*w->ns));
		for (unsigned r = 0; ns->stats && r < w->tgt->nr_reactors; r++)
			nvmf_io_stats_fold(w->ns, &ns->stats[r]);
		add_u64(n, "nsid", ns->nsid);
		json_object_object_add(n, "io", io_json(w->ns, 0));
		json_object_array_add(nss, n);
	}
	json_object_object_add(o, "nqn", json_object_new_string(s->nqn));
	json_object_object_add(o, "io", io_json(w->subsys, d));
	json_object_object_add(o, "namespaces", nss);
	json_object_object_add(o, "controllers", cs);
	return o;
}

static struct json_object *reactor_json(struct walk *w, unsigned i)
{
	struct nvmf_reactor *r = &w->tgt->reactors[i];
	struct json_object *o = json_object_new_object();

	add_u64(o, "id", i);
	add_u64(o, "busy_ns", nvmf_ticks_to_ns(nvmf_stat_read(&r->stats.busy_ticks)));
	add_u64(o, "idle_ns", nvmf_ticks_to_ns(nvmf_stat_read(&r->stats.idle_ticks)));
	add_u64(o, "wakeups", nvmf_stat_read(&r->stats.wakeups));
	add_u64(o, "loops", nvmf_stat_read(&r->stats.loops));
	add_u64(o, "events", nvmf_stat_read(&r->stats.events));
	add_u64(o, "admin_qpairs", w->admin_qpairs[i]);
	add_u64(o, "io_qpairs", w->io_qpairs[i]);
	add_u64(o, "completed_io",
		w->tgt->reactor_io ? nvmf_stat_read(&w->tgt->reactor_io[i].completed) : 0);
	return o;
}

struct json_object *nvmf_tgt_stats_json(struct nvmf_tgt *tgt)
{
	unsigned nr = tgt->nr_reactors;
	struct walk w = { .tgt = tgt };
	struct json_object *root = NULL, *subs, *reactors;
	const struct nvmf_subsys_list *list;

	w.ctrl = calloc(3, sizeof(*w.ctrl));
	w.admin_qpairs = calloc(2 * (size_t)nr, sizeof(uint64_t));
	if (!w.ctrl || !w.admin_qpairs)
		goto out;
	w.subsys = w.ctrl + 1;
	w.ns = w.ctrl + 2;
	w.io_qpairs = w.admin_qpairs + nr;
	root = json_object_new_object();
	subs = json_object_new_array();
	reactors = json_object_new_array();
	add_u64(root, "uptime_ns", nvmf_now_ns() - tgt->start_ns);

	/* the lists of subsystems, controllers and queues hold still under tgt->lock */
	pthread_mutex_lock(&tgt->lock);
	w.conn = tgt->conn_retired;
	list = nvmf_tgt_subsys(tgt);
	for (size_t i = 0; list && i < list->nr; i++)
		json_object_array_add(subs, subsys_json(&w, list->s[i]));
	pthread_mutex_unlock(&tgt->lock);

	/* reactors that never started have all-zero counters: report them as they are */
	for (unsigned i = 0; tgt->reactors && i < nr; i++)
		json_object_array_add(reactors, reactor_json(&w, i));
	json_object_object_add(root, "reactors", reactors);
	json_object_object_add(root, "connections", conn_json(&w.conn));
	json_object_object_add(root, "subsystems", subs);
out:
	free(w.ctrl);
	free(w.admin_qpairs);
	return root;
}
