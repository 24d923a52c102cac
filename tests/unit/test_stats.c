/*
 * Target statistics (stats.c) and their Prometheus rendering (prom.c): what one completed
 * command adds, how queues, controllers, subsystems and per-reactor namespace cells sum up,
 * and the exposition lines built from them -- on a target assembled by hand (no reactors,
 * no sockets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "target/prom.h"
#include "target/target.h"
#include "util/ticks.h"

#define OK 0
#define LBA_OOR NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE)

static struct json_object *jget(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		struct json_object *v = NULL;

		if (k[0] >= '0' && k[0] <= '9')
			v = json_object_array_get_idx(o, strtoul(k, NULL, 10));
		else
			json_object_object_get_ex(o, k, &v);
		o = v;
	}
	return o;
}

static uint64_t ju(struct json_object *o, const char *path)
{
	struct json_object *v = jget(o, path);

	assert_non_null(v);
	return json_object_get_uint64(v);
}

/* Latency buckets: every value within its bucket, buckets at most 1/8 of their values wide. */
static void lat_buckets(void **state)
{
	(void)state;
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 + 1) {
		unsigned i = loglin_index(v, NVMF_STATS_LAT_BITS);

		assert_true(i < NVMF_STATS_LAT_BUCKETS);
		assert_true(loglin_low(i, NVMF_STATS_LAT_BITS) <= v);
		assert_true(loglin_high(i, NVMF_STATS_LAT_BITS) >= v);
		if (v >= 16)
			assert_true(loglin_high(i, NVMF_STATS_LAT_BITS) -
					    loglin_low(i, NVMF_STATS_LAT_BITS) + 1 <=
				    loglin_low(i, NVMF_STATS_LAT_BITS) / 4);
	}
	assert_int_equal(loglin_index(UINT64_MAX, NVMF_STATS_LAT_BITS),
			 NVMF_STATS_LAT_BUCKETS - 1);
}

/* One command: its op, bytes only when it succeeded, errors by status, its latency. */
static void count_one(void **state)
{
	struct nvmf_io_stats *s = calloc(1, sizeof(*s));

	(void)state;
	nvmf_io_stats_count(s, NVMF_STATS_READ, OK, 4096, 10000);
	nvmf_io_stats_count(s, NVMF_STATS_READ, LBA_OOR, 4096, 2000);
	nvmf_io_stats_count(s, NVMF_STATS_WRITE, OK, 8192, 30000);
	nvmf_io_stats_count(s, NVMF_STATS_OTHER, OK, 0, 0);
	assert_int_equal(s->cmds[NVMF_STATS_READ], 2);
	assert_int_equal(s->cmds[NVMF_STATS_WRITE], 1);
	assert_int_equal(s->cmds[NVMF_STATS_OTHER], 1);
	assert_int_equal(s->bytes[NVMF_STATS_READ], 4096);   /* the failed read moved nothing */
	assert_int_equal(s->bytes[NVMF_STATS_WRITE], 8192);
	/* the DNR bit is not part of the key: SCT 0, SC 0x80 */
	assert_int_equal(s->err[0].status, LBA_OOR & NVME_STATUS_SCT_SC_MASK);
	assert_int_equal(s->err[0].count, 1);
	assert_int_equal(s->err[1].status, 0);
	assert_int_equal(nvmf_stats_hist_count(&s->lat[NVMF_STATS_READ]), 2);
	assert_int_equal(s->lat[NVMF_STATS_READ].sum_ns, 12000);
	assert_int_equal(s->lat[NVMF_STATS_WRITE].buckets[loglin_index(30000,
							      NVMF_STATS_LAT_BITS)], 1);
	/* statuses past the slots are counted together */
	for (unsigned sc = 1; sc <= NVMF_STATS_ERR_SLOTS + 2; sc++)
		nvmf_io_stats_count(s, NVMF_STATS_OTHER, NVME_STATUS(NVME_SCT_CMD_SPECIFIC, sc), 0,
				    0);
	assert_int_equal(s->errors_other, 3);
	assert_int_equal(s->err[NVMF_STATS_ERR_SLOTS - 1].count, 1);
	free(s);
}

/* A target by hand: subsystem, namespace on two reactors, a controller with two queues. */
struct fix {
	struct nvmf_tgt tgt;
	struct nvmf_reactor reactors[2];
	struct nvmf_subsys sub;
	struct nvmf_subsys_list *list;
	struct nvmf_subsys_view *view;
	struct nvmf_ns ns;
	struct nvmf_tgt_ctrl ctrl;
	struct nvmf_sq asq, ioq;
};

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pthread_mutex_init(&f->tgt.lock, NULL);
	f->tgt.nr_reactors = 2;
	f->tgt.reactors = f->reactors;
	f->reactors[0].id = 0;
	f->reactors[1].id = 1;
	f->tgt.reactor_io = aligned_alloc(64, 2 * sizeof(*f->tgt.reactor_io));
	memset(f->tgt.reactor_io, 0, 2 * sizeof(*f->tgt.reactor_io));
	snprintf(f->sub.nqn, sizeof(f->sub.nqn), "nqn.2024-01.io.test:\"q\"");
	f->sub.tgt = &f->tgt;
	f->view = calloc(1, sizeof(*f->view) + sizeof(f->view->ns[0]));
	f->view->nr_ns = 1;
	f->view->ns[0] = &f->ns;
	f->sub.view = f->view;
	f->ns.nsid = 7;
	assert_int_equal(nvmf_ns_stats_alloc(&f->ns, 2), 0);
	f->list = calloc(1, sizeof(*f->list) + sizeof(f->list->s[0]));
	f->list->nr = 1;
	f->list->s[0] = &f->sub;
	f->tgt.subsys = f->list;
	f->ctrl.tgt = &f->tgt;
	f->ctrl.subsys = &f->sub;
	f->ctrl.cntlid = 3;
	f->sub.ctrls = &f->ctrl;
	f->ctrl.admin_sq = &f->asq;
	f->ctrl.io_sqs = &f->ioq;
	f->asq.tgt = f->ioq.tgt = &f->tgt;
	f->asq.ctrl = f->ioq.ctrl = &f->ctrl;
	f->asq.reactor = &f->reactors[0];
	f->ioq.reactor = &f->reactors[1];
	f->ioq.qid = 1;
	f->ioq.req_states.n[NVMF_REQ_EXECUTING] = 5;
	return f;
}

static void fix_free(struct fix *f)
{
	free(f->ns.stats);
	free(f->tgt.reactor_io);
	free(f->view);
	free(f->list);
	pthread_mutex_destroy(&f->tgt.lock);
	free(f);
}

static void complete(struct nvmf_sq *sq, struct nvmf_ns *ns, uint8_t opc, uint32_t len,
		     uint16_t status)
{
	struct nvmf_req req = { .sq = sq, .ns = ns, .xfer_len = len };

	req.cmd.opcode = opc;
	req.start_ticks = nvmf_ticks();
	nvmf_stats_req_done(&req, status);
}

/* Queues sum into their controller, the controller into its subsystem, cells into ns. */
static void json_sums(void **state)
{
	struct fix *f = fix_new();
	struct json_object *j;

	(void)state;
	for (int i = 0; i < 3; i++)
		complete(&f->ioq, &f->ns, NVME_NVM_READ, 4096, OK);
	complete(&f->ioq, &f->ns, NVME_NVM_WRITE, 512, LBA_OOR);
	/* Get Log Page (0x02) on the admin queue is not a read */
	complete(&f->asq, NULL, NVME_ADM_GET_LOG_PAGE, 4096, OK);
	/* a queue that went (folded into the controller), a controller that went */
	f->ctrl.retired.cmds[NVMF_STATS_READ] = 10;
	f->ctrl.retired.bytes[NVMF_STATS_READ] = 40960;
	f->sub.retired.cmds[NVMF_STATS_WRITE] = 100;
	/* the same namespace read on the other reactor */
	nvmf_io_stats_count(&f->ns.stats[0], NVMF_STATS_READ, OK, 4096, 1000);
	f->tgt.conn_retired.termreq_sent = 2;
	f->ioq.conn_stats.ddgst_err = 1;
	f->reactors[1].stats.busy_ticks = 3000000000ull;   /* ns: ticks not calibrated */
	f->reactors[1].stats.wakeups = 42;

	j = nvmf_tgt_stats_json(&f->tgt);
	assert_non_null(j);
	/* the queue */
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.io.commands.read"), 3);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.io.bytes.read"), 12288);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.io.bytes.write"), 0);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.io.errors.0.sc"),
			 NVME_SC_LBA_OUT_OF_RANGE);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.depth"), 5);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.1.io.latency.read.count"), 3);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.0.io.commands.other"), 1);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.queues.0.io.commands.read"), 0);
	/* the controller: its queues and the one that went */
	assert_int_equal(ju(j, "subsystems.0.controllers.0.io.commands.read"), 13);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.io.bytes.read"), 40960 + 12288);
	assert_int_equal(ju(j, "subsystems.0.controllers.0.io.depth"), 5);
	/* the subsystem: the controller and the one released */
	assert_int_equal(ju(j, "subsystems.0.io.commands.read"), 13);
	assert_int_equal(ju(j, "subsystems.0.io.commands.write"), 101);
	/* the namespace: both reactors' cells */
	assert_int_equal(ju(j, "subsystems.0.namespaces.0.nsid"), 7);
	assert_int_equal(ju(j, "subsystems.0.namespaces.0.io.commands.read"), 4);
	assert_int_equal(ju(j, "subsystems.0.namespaces.0.io.latency.read.count"), 4);
	/* reactors: the I/O queue's commands counted on reactor 1 */
	assert_int_equal(ju(j, "reactors.1.completed_io"), 4);
	assert_int_equal(ju(j, "reactors.1.io_qpairs"), 1);
	assert_int_equal(ju(j, "reactors.0.admin_qpairs"), 1);
	assert_int_equal(ju(j, "reactors.1.wakeups"), 42);
	/* connections: closed ones plus live queues */
	assert_int_equal(ju(j, "connections.termreqs_sent"), 2);
	assert_int_equal(ju(j, "connections.data_digest_errors"), 1);
	json_object_put(j);
	fix_free(f);
}

static char *prom_text(struct fix *f)
{
	struct json_object *j = nvmf_tgt_stats_json(&f->tgt);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(j);
	assert_non_null(m);
	nvmf_prom_write(m, j);
	fclose(m);
	json_object_put(j);
	return buf;
}

/* The exposition: names, escaped labels, histogram buckets cumulative up to +Inf. */
static void prom_lines(void **state)
{
	struct fix *f = fix_new();
	char *t;
	const char *p;
	uint64_t prev = 0;
	unsigned nb = 0;

	(void)state;
	/* reads of 1.5 us, 100 us and 3 ms on the I/O queue's reactor */
	nvmf_io_stats_count(&f->ioq.stats, NVMF_STATS_READ, OK, 4096, 1500);
	nvmf_io_stats_count(&f->ioq.stats, NVMF_STATS_READ, OK, 4096, 100000);
	nvmf_io_stats_count(&f->ioq.stats, NVMF_STATS_READ, OK, 4096, 3000000);
	f->reactors[1].stats.busy_ticks = 1500000000ull;
	t = prom_text(f);
	/* " and \ in a label value are escaped */
	assert_non_null(strstr(t, "nvmf_target_commands_total{subsystem=\"nqn.2024-01.io.test:"
				  "\\\"q\\\"\",controller=\"3\",queue=\"1\",opcode=\"read\"} 3\n"));
	assert_non_null(strstr(t, "# TYPE nvmf_target_controller_latency_seconds histogram\n"));
	assert_non_null(strstr(t, "nvmf_target_reactor_busy_seconds_total{reactor=\"1\"} "
				  "1.500000000\n"));
	assert_non_null(strstr(t, "nvmf_target_controller_latency_seconds_count{subsystem="
				  "\"nqn.2024-01.io.test:\\\"q\\\"\",controller=\"3\","
				  "opcode=\"read\"} 3\n"));
	/* 1.5 us: not below 1023 ns, at or below 1535 ns */
	assert_non_null(strstr(t, "opcode=\"read\",le=\"1.023e-06\"} 0\n"));
	assert_non_null(strstr(t, "opcode=\"read\",le=\"1.535e-06\"} 1\n"));
	/* the controller's read buckets only grow and end at the count */
	p = t;
	while ((p = strstr(p, "nvmf_target_controller_latency_seconds_bucket{"))) {
		const char *le = strstr(p, "opcode=\"read\",le=\"");
		const char *eol = strchr(p, '\n');
		uint64_t v;

		if (le && le < eol) {
			v = strtoull(strchr(le, '}') + 2, NULL, 10);
			assert_true(v >= prev);
			prev = v;
			nb++;
		}
		p = eol;
	}
	assert_int_equal(prev, 3);
	assert_int_equal(nb, 2 * (34 - 10 + 1) + 1);
	free(t);
	fix_free(f);
}

/* The latency clock: ticks convert to the nanoseconds CLOCK_MONOTONIC saw pass. */
static void ticks_calibrated(void **state)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	uint64_t t0, n0, t1, n1;
	double r;

	(void)state;
	nvmf_ticks_init();
	t0 = nvmf_ticks();
	n0 = nvmf_ticks_mono_ns();
	nanosleep(&nap, NULL);
	t1 = nvmf_ticks();
	n1 = nvmf_ticks_mono_ns();
	r = (double)nvmf_ticks_to_ns(t1 - t0) / (double)(n1 - n0);
	assert_true(r > 0.9 && r < 1.1);
	assert_true(nvmf_ticks_hz > 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lat_buckets),
		cmocka_unit_test(count_one),
		cmocka_unit_test(json_sums),
		cmocka_unit_test(prom_lines),
		/* last: the cases above run on uncalibrated ticks (nanoseconds) */
		cmocka_unit_test(ticks_calibrated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
