/*
 * Prometheus text exposition format 0.0.4 of the statistics object (stats.h): one pass
 * over the object per metric family, because the format wants a family's samples together.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "target/prom.h"

/* Histogram le bounds: 2^k - 1 and 1.5 * 2^k - 1 ns, k = 10 (1 us) .. 34 (17 s). */
#define LE_K_MIN 10
#define LE_K_MAX 34

enum level { L_QUEUE, L_CTRL, L_SUBSYS, L_NS };

static const char *const level_prefix[] = {
	[L_QUEUE] = "nvmf_target_",
	[L_CTRL] = "nvmf_target_controller_",
	[L_SUBSYS] = "nvmf_target_subsystem_",
	[L_NS] = "nvmf_target_namespace_",
};

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v ? json_object_get_uint64(v) : 0;
}

static size_t arr_len(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* A label value with \, " and newline escaped, as the format asks. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* The labels that name one object of a level, without braces: subsystem="..",... */
struct labels {
	char buf[1024];
};

static void labels_make(struct labels *l, const char *nqn, const char *second, uint64_t v2,
			const char *third, uint64_t v3)
{
	FILE *f = fmemopen(l->buf, sizeof(l->buf), "w");

	if (!f) {
		l->buf[0] = 0;
		return;
	}
	fputs("subsystem=\"", f);
	put_escaped(f, nqn);
	fputc('"', f);
	if (second)
		fprintf(f, ",%s=\"%" PRIu64 "\"", second, v2);
	if (third)
		fprintf(f, ",%s=\"%" PRIu64 "\"", third, v3);
	fclose(f);
}

typedef void (*io_fn)(FILE *f, const char *name, const char *labels, struct json_object *io);

/* Call fn for the "io" object of every object of level lv, with its labels. */
static void walk(FILE *f, struct json_object *stats, enum level lv, const char *name, io_fn fn)
{
	struct json_object *subs = get(stats, "subsystems");
	struct labels l;

	for (size_t i = 0; i < arr_len(subs); i++) {
		struct json_object *s = json_object_array_get_idx(subs, i);
		const char *nqn = json_object_get_string(get(s, "nqn"));
		struct json_object *ctrls = get(s, "controllers"), *nss = get(s, "namespaces");

		if (lv == L_SUBSYS) {
			labels_make(&l, nqn, NULL, 0, NULL, 0);
			fn(f, name, l.buf, get(s, "io"));
		}
		for (size_t j = 0; lv == L_NS && j < arr_len(nss); j++) {
			struct json_object *n = json_object_array_get_idx(nss, j);

			labels_make(&l, nqn, "namespace", get_u64(n, "nsid"), NULL, 0);
			fn(f, name, l.buf, get(n, "io"));
		}
		for (size_t j = 0; (lv == L_CTRL || lv == L_QUEUE) && j < arr_len(ctrls); j++) {
			struct json_object *c = json_object_array_get_idx(ctrls, j);
			struct json_object *qs = get(c, "queues");
			uint64_t cntlid = get_u64(c, "cntlid");

			if (lv == L_CTRL) {
				labels_make(&l, nqn, "controller", cntlid, NULL, 0);
				fn(f, name, l.buf, get(c, "io"));
				continue;
			}
			for (size_t k = 0; k < arr_len(qs); k++) {
				struct json_object *q = json_object_array_get_idx(qs, k);

				labels_make(&l, nqn, "controller", cntlid, "queue",
					    get_u64(q, "qid"));
				/* the connection's counters ride along for the conn families */
				fn(f, name, l.buf, q);
			}
		}
	}
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The io object of a queue is one level down: queue entries carry io and connection. */
static struct json_object *io_of(struct json_object *o)
{
	struct json_object *io = get(o, "io");

	return io ? io : o;
}

static void emit_commands(FILE *f, const char *name, const char *labels, struct json_object *o)
{
	struct json_object *c = get(io_of(o), "commands");
	static const char *const ops[] = { "read", "write", "other" };

	for (unsigned i = 0; i < 3; i++)
		fprintf(f, "%s{%s,opcode=\"%s\"} %" PRIu64 "\n", name, labels, ops[i],
			get_u64(c, ops[i]));
}

static void emit_bytes(FILE *f, const char *name, const char *labels, struct json_object *o)
{
	struct json_object *b = get(io_of(o), "bytes");

	fprintf(f, "%s{%s,opcode=\"read\"} %" PRIu64 "\n", name, labels, get_u64(b, "read"));
	fprintf(f, "%s{%s,opcode=\"write\"} %" PRIu64 "\n", name, labels, get_u64(b, "write"));
}

static void emit_errors(FILE *f, const char *name, const char *labels, struct json_object *o)
{
	struct json_object *io = io_of(o), *errs = get(io, "errors");

	for (size_t i = 0; i < arr_len(errs); i++) {
		struct json_object *e = json_object_array_get_idx(errs, i);

		fprintf(f, "%s{%s,sct=\"0x%" PRIx64 "\",sc=\"0x%02" PRIx64 "\"} %" PRIu64 "\n",
			name, labels, get_u64(e, "sct"), get_u64(e, "sc"), get_u64(e, "count"));
	}
	if (get_u64(io, "errors_other"))
		fprintf(f, "%s{%s,sct=\"other\",sc=\"other\"} %" PRIu64 "\n", name, labels,
			get_u64(io, "errors_other"));
}

static void emit_depth(FILE *f, const char *name, const char *labels, struct json_object *o)
{
	fprintf(f, "%s{%s} %" PRIu64 "\n", name, labels, get_u64(io_of(o), "depth"));
}

static void emit_hist_one(FILE *f, const char *name, const char *labels, const char *op,
			  struct json_object *h)
{
	struct json_object *b = get(h, "buckets");
	size_t n = arr_len(b), i = 0;
	uint64_t cum = 0;

	for (unsigned k = LE_K_MIN; k <= LE_K_MAX; k++) {
		for (unsigned half = 0; half < 2; half++) {
			uint64_t le = (half ? 3ull << (k - 1) : 1ull << k) - 1;

			/* bucket bounds nest: every fine bucket is wholly below or above le */
			while (i < n) {
				struct json_object *p = json_object_array_get_idx(b, i);

				if (json_object_get_uint64(json_object_array_get_idx(p, 0)) > le)
					break;
				cum += json_object_get_uint64(json_object_array_get_idx(p, 1));
				i++;
			}
			fprintf(f, "%s_bucket{%s,opcode=\"%s\",le=\"%.9g\"} %" PRIu64 "\n", name,
				labels, op, (double)le / 1e9, cum);
		}
	}
	fprintf(f, "%s_bucket{%s,opcode=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name, labels, op,
		get_u64(h, "count"));
	fprintf(f, "%s_sum{%s,opcode=\"%s\"} %.9f\n", name, labels, op,
		(double)get_u64(h, "sum_ns") / 1e9);
	fprintf(f, "%s_count{%s,opcode=\"%s\"} %" PRIu64 "\n", name, labels, op,
		get_u64(h, "count"));
}

static void emit_hist(FILE *f, const char *name, const char *labels, struct json_object *o)
{
	struct json_object *lat = get(io_of(o), "latency");

	emit_hist_one(f, name, labels, "read", get(lat, "read"));
	emit_hist_one(f, name, labels, "write", get(lat, "write"));
}

static void emit_conn(FILE *f, const char *name, const char *labels, struct json_object *o,
		      const char *key)
{
	fprintf(f, "%s{%s} %" PRIu64 "\n", name, labels, get_u64(get(o, "connection"), key));
}

#define CONN_EMITTER(fn, key)                                                                \
	static void fn(FILE *f, const char *name, const char *labels, struct json_object *o) \
	{                                                                                    \
		emit_conn(f, name, labels, o, key);                                          \
	}
CONN_EMITTER(emit_tr_sent, "termreqs_sent")
CONN_EMITTER(emit_tr_recv, "termreqs_received")
CONN_EMITTER(emit_hdgst, "header_digest_errors")
CONN_EMITTER(emit_ddgst, "data_digest_errors")

static void family(FILE *f, struct json_object *stats, enum level lv, const char *suffix,
		   const char *type, const char *help, io_fn fn)
{
	char name[128];

	snprintf(name, sizeof(name), "%s%s", level_prefix[lv], suffix);
	head(f, name, type, help);
	walk(f, stats, lv, name, fn);
}

static void io_families(FILE *f, struct json_object *stats, enum level lv, const char *what)
{
	char help[256];

	snprintf(help, sizeof(help), "Commands completed (any status) %s.", what);
	family(f, stats, lv, "commands_total", "counter", help, emit_commands);
	snprintf(help, sizeof(help), "Bytes moved by successful reads and writes %s.", what);
	family(f, stats, lv, "bytes_total", "counter", help, emit_bytes);
	snprintf(help, sizeof(help), "Commands completed with an error, by NVMe status code "
		 "type and code, %s.", what);
	family(f, stats, lv, "errors_total", "counter", help, emit_errors);
	if (lv != L_NS) {
		snprintf(help, sizeof(help), "Commands outstanding %s.", what);
		family(f, stats, lv, lv == L_QUEUE ? "queue_depth" : "depth", "gauge", help,
		       emit_depth);
	}
	if (lv != L_QUEUE) {
		snprintf(help, sizeof(help), "Read and write latency, capsule received to "
			 "completion, %s.", what);
		family(f, stats, lv, "latency_seconds", "histogram", help, emit_hist);
	}
}

static void reactor_family(FILE *f, struct json_object *stats, const char *name,
			   const char *type, const char *help, const char *key, double scale)
{
	struct json_object *rs = get(stats, "reactors");

	head(f, name, type, help);
	for (size_t i = 0; i < arr_len(rs); i++) {
		struct json_object *r = json_object_array_get_idx(rs, i);

		if (scale != 1.0)
			fprintf(f, "%s{reactor=\"%" PRIu64 "\"} %.9f\n", name, get_u64(r, "id"),
				(double)get_u64(r, key) * scale);
		else
			fprintf(f, "%s{reactor=\"%" PRIu64 "\"} %" PRIu64 "\n", name,
				get_u64(r, "id"), get_u64(r, key));
	}
}

void nvmf_prom_write(FILE *f, struct json_object *stats)
{
	struct json_object *rs = get(stats, "reactors"), *conn = get(stats, "connections");

	head(f, "nvmf_target_uptime_seconds", "gauge", "Seconds since the target started.");
	fprintf(f, "nvmf_target_uptime_seconds %.3f\n", (double)get_u64(stats, "uptime_ns") / 1e9);

	io_families(f, stats, L_QUEUE, "on a queue");
	io_families(f, stats, L_CTRL, "by a controller (its queues, live and closed)");
	io_families(f, stats, L_SUBSYS, "in a subsystem (its controllers, live and released)");
	io_families(f, stats, L_NS, "on a namespace");

	family(f, stats, L_QUEUE, "connection_termreqs_sent_total", "counter",
	       "C2HTermReqs sent on a queue's connection.", emit_tr_sent);
	family(f, stats, L_QUEUE, "connection_termreqs_received_total", "counter",
	       "H2CTermReqs received on a queue's connection.", emit_tr_recv);
	family(f, stats, L_QUEUE, "connection_header_digest_errors_total", "counter",
	       "PDU header digest errors on a queue's connection.", emit_hdgst);
	family(f, stats, L_QUEUE, "connection_data_digest_errors_total", "counter",
	       "PDU data digest errors on a queue's connection.", emit_ddgst);

	head(f, "nvmf_target_termreqs_sent_total", "counter",
	     "C2HTermReqs sent, every connection (live and closed).");
	fprintf(f, "nvmf_target_termreqs_sent_total %" PRIu64 "\n", get_u64(conn, "termreqs_sent"));
	head(f, "nvmf_target_termreqs_received_total", "counter",
	     "H2CTermReqs received, every connection (live and closed).");
	fprintf(f, "nvmf_target_termreqs_received_total %" PRIu64 "\n",
		get_u64(conn, "termreqs_received"));
	head(f, "nvmf_target_digest_errors_total", "counter",
	     "PDU digest errors, every connection (live and closed).");
	fprintf(f, "nvmf_target_digest_errors_total{digest=\"header\"} %" PRIu64 "\n",
		get_u64(conn, "header_digest_errors"));
	fprintf(f, "nvmf_target_digest_errors_total{digest=\"data\"} %" PRIu64 "\n",
		get_u64(conn, "data_digest_errors"));

	reactor_family(f, stats, "nvmf_target_reactor_busy_seconds_total", "counter",
		       "Time a reactor spent handling events, deferred work and timers.",
		       "busy_ns", 1e-9);
	reactor_family(f, stats, "nvmf_target_reactor_idle_seconds_total", "counter",
		       "Time a reactor waited or polled without finding work.", "idle_ns", 1e-9);
	reactor_family(f, stats, "nvmf_target_reactor_wakeups_total", "counter",
		       "Times a reactor slept in io_uring and woke up.", "wakeups", 1.0);
	reactor_family(f, stats, "nvmf_target_reactor_loops_total", "counter",
		       "Event loop iterations of a reactor.", "loops", 1.0);
	reactor_family(f, stats, "nvmf_target_reactor_events_total", "counter",
		       "io_uring completions a reactor handled.", "events", 1.0);
	reactor_family(f, stats, "nvmf_target_reactor_completed_io_total", "counter",
		       "Commands completed on a reactor's I/O queues.", "completed_io", 1.0);
	head(f, "nvmf_target_reactor_qpairs", "gauge", "Live queues a reactor serves.");
	for (size_t i = 0; i < arr_len(rs); i++) {
		struct json_object *r = json_object_array_get_idx(rs, i);
		uint64_t id = get_u64(r, "id");

		fprintf(f, "nvmf_target_reactor_qpairs{reactor=\"%" PRIu64 "\",type=\"admin\"} %"
			PRIu64 "\n", id, get_u64(r, "admin_qpairs"));
		fprintf(f, "nvmf_target_reactor_qpairs{reactor=\"%" PRIu64 "\",type=\"io\"} %"
			PRIu64 "\n", id, get_u64(r, "io_qpairs"));
	}
}
