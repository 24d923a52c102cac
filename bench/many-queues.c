/*
 * many-queues: many connected I/O queues at QD1 each, from one thread, with libnvmf.
 *
 * A controller has at most qid_max (128) I/O queues, so the queues come from several
 * controllers of the same subsystem (-n controllers x -P queues each; default 8 x 125 = 1000).
 * One command in flight on every queue; the thread busy-polls every queue pair in turn, as
 * `nvmf perf -P` does, and reissues from the completion callback.  Reports IOPS and the
 * latency of each command (submission to callback) like `nvmf perf --json`.
 *
 * usage: many-queues -a ADDR -s PORT -N NQN [-n CTRLS] [-P QUEUES] [-o BYTES]
 *                    [-w randread|randwrite] [-t SECONDS] [--json FILE]
 * Pin it with taskset (the library's admin threads inherit the mask).
 */
#define _GNU_SOURCE
#include "floor/stats.h"

#include <errno.h>
#include <nvmf/nvmf.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct slot {
	struct nvmf_qpair *q;
	void *buf;
	uint64_t t_sent;
	uint64_t rng;
};

static uint32_t g_nsid = 1, g_nlb, g_bs;
static uint64_t g_nblocks;
static bool g_write, g_running;
static struct hist g_hist;
static uint64_t g_ios, g_errors;

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void done(void *arg, int status, const struct nvme_cqe *cqe);

static int submit(struct slot *s)
{
	uint64_t lba = xorshift(&s->rng) % (g_nblocks / g_nlb) * g_nlb;

	s->t_sent = now_ns();
	if (g_write)
		return nvmf_write(s->q, g_nsid, lba, g_nlb, s->buf, 0, done, s);
	return nvmf_read(s->q, g_nsid, lba, g_nlb, s->buf, done, s);
}

static void done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct slot *s = arg;

	(void)cqe;
	if (!g_running)
		return;
	if (status) {
		g_errors++;
	} else {
		g_ios++;
		hist_add(&g_hist, now_ns() - s->t_sent);
	}
	if (submit(s))
		g_errors++;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: many-queues -a ADDR -s PORT -N NQN [-n CTRLS] [-P QUEUES] "
			"[-o BYTES] [-w randread|randwrite] [-t SECONDS] [--json FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *port = "4420", *json = NULL;
	const char *nqn = "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart";
	unsigned nctrl = 8, nq = 125, io = 4096;
	double secs_want = 5, secs;
	struct nvmf_ctrl **ctrls;
	struct slot *slots;
	unsigned total, inflight;
	struct rusage ru0, ru1;
	uint64_t t0, t1, deadline;
	struct nvmf_ns_info ns;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "-a"))
			addr = v;
		else if (!strcmp(a, "-s"))
			port = v;
		else if (!strcmp(a, "-N"))
			nqn = v;
		else if (!strcmp(a, "-n"))
			nctrl = (unsigned)atoi(v);
		else if (!strcmp(a, "-P"))
			nq = (unsigned)atoi(v);
		else if (!strcmp(a, "-o"))
			io = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "-w"))
			g_write = !strcmp(v, "randwrite") || !strcmp(v, "write");
		else if (!strcmp(a, "-t"))
			secs_want = atof(v);
		else if (!strcmp(a, "--json"))
			json = v;
		else
			usage();
		i++;
	}
	if (!nctrl || !nq || !io || secs_want <= 0)
		usage();
	total = nctrl * nq;
	ctrls = calloc(nctrl, sizeof(*ctrls));
	slots = calloc(total, sizeof(*slots));
	if (!ctrls || !slots)
		return 1;
	for (unsigned i = 0; i < nctrl; i++) {
		struct nvmf_ctrl_opts o;
		int rc;

		nvmf_ctrl_opts_init(&o);
		o.traddr = addr;
		o.trsvcid = port;
		o.subnqn = nqn;
		o.nr_io_queues = nq;
		o.queue_size = 16;
		rc = nvmf_ctrl_connect(&o, &ctrls[i]);
		if (rc) {
			fprintf(stderr, "many-queues: controller %u of %u: connect %s:%s (%s): %s\n",
				i + 1, nctrl, addr, port, nqn, nvmf_strerror_last());
			return 1;
		}
		if (nvmf_ctrl_nr_qpairs(ctrls[i]) < nq) {
			fprintf(stderr, "many-queues: the controller gave %u I/O queues, %u wanted\n",
				nvmf_ctrl_nr_qpairs(ctrls[i]), nq);
			return 1;
		}
	}
	if (nvmf_ctrl_ns_info(ctrls[0], g_nsid, &ns)) {
		fprintf(stderr, "many-queues: namespace %u: no information\n", g_nsid);
		return 1;
	}
	g_bs = ns.block_size;
	g_nblocks = ns.nblocks;
	if (!g_bs || io % g_bs || g_nblocks < io / g_bs) {
		fprintf(stderr, "many-queues: -o %u does not fit blocks of %u bytes\n", io, g_bs);
		return 1;
	}
	g_nlb = io / g_bs;
	for (unsigned i = 0; i < total; i++) {
		slots[i].q = nvmf_ctrl_qpair(ctrls[i / nq], i % nq);
		slots[i].buf = aligned_alloc(4096, (io + 4095) / 4096 * 4096);
		slots[i].rng = 0x9e3779b97f4a7c15ull * (i + 1) ^ (uint64_t)getpid();
		if (!slots[i].buf)
			return 1;
		memset(slots[i].buf, 0x3c, io);
	}
	hist_init(&g_hist);
	g_running = true;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	for (unsigned i = 0; i < total; i++)
		if (submit(&slots[i])) {
			fprintf(stderr, "many-queues: submit failed\n");
			return 1;
		}
	deadline = t0 + (uint64_t)(secs_want * 1e9);
	for (unsigned iter = 0;; iter++) {
		for (unsigned i = 0; i < total; i++)
			nvmf_qpair_poll(slots[i].q, 0);
		if (now_ns() >= deadline)
			break;
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru1);
	g_running = false;
	/* let what is in flight finish before the controllers go */
	do {
		inflight = 0;
		for (unsigned i = 0; i < total; i++) {
			nvmf_qpair_poll(slots[i].q, 0);
			inflight += nvmf_qpair_inflight(slots[i].q);
		}
	} while (inflight && now_ns() - t1 < 5000000000ull);
	for (unsigned i = 0; i < nctrl; i++)
		nvmf_ctrl_disconnect(ctrls[i]);
	secs = (double)(t1 - t0) / 1e9;
	printf("many-queues: %u controllers x %u queues, QD1 %s %u B: %.0f IOPS, mean %.2f us, "
	       "p50 %.2f us, p99 %.2f us, max %.2f us, %llu errors\n",
	       nctrl, nq, g_write ? "randwrite" : "randread", io, (double)g_ios / secs,
	       g_hist.count ? (double)g_hist.sum_ns / (double)g_hist.count / 1e3 : 0.0,
	       hist_pct(&g_hist, 50) / 1e3, hist_pct(&g_hist, 99) / 1e3,
	       (double)g_hist.max_ns / 1e3, (unsigned long long)g_errors);
	if (json) {
		FILE *f = fopen(json, "w");

		if (!f) {
			perror(json);
			return 1;
		}
		fprintf(f, "{\"config\": {\"tool\": \"many-queues\", \"traddr\": \"%s\", "
			   "\"trsvcid\": \"%s\", \"subnqn\": \"%s\", \"io_size\": %u, "
			   "\"queue_depth\": %u, \"controllers\": %u, \"qpairs_per_controller\": %u, "
			   "\"workload\": \"%s\", \"time_s\": %.3f},\n \"threads\": [",
			addr, port, nqn, io, total, nctrl, nq, g_write ? "randwrite" : "randread",
			secs_want);
		json_result(f, sched_getcpu(), g_ios, secs, io,
			    tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime),
			    tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime), &g_hist);
		fprintf(f, "],\n \"total\": ");
		json_result(f, -1, g_ios, secs, io, 0, 0, &g_hist);
		fprintf(f, "}\n");
		fclose(f);
	}
	return g_errors ? 1 : 0;
}
