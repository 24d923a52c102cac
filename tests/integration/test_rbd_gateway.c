/*
 * RBD gateways as a highly available pair (ceph-nvmeof's shape), natively with libnvmf
 * multipath: two nvmf-target processes serve one RBD image (gateway=1 in its path) under
 * one NQN, NGUID and UUID, with different cntlid ranges; ANA group 1 is optimized on
 * gateway A and inaccessible on gateway B.  The "control plane" (this test, as
 * ceph-nvmeof's monitor) promotes B by SIGHUP or JSON-RPC.
 *
 *   killed owner   A is killed -9 under a FUA write job; B is promoted over JSON-RPC
 *                  (nvmf_subsystem_listener_set_ana_state): it fences A's client
 *                  (blocklist), breaks A's lock, takes it and only then reports optimized;
 *                  the job carries on through B without an error, data verified through
 *                  the host and with `rbd export`
 *   frozen owner   A is stopped (SIGSTOP) with the job's writes in flight and more writes
 *                  queued to it directly; B is promoted by SIGHUP, rewrites every block;
 *                  A continues (SIGCONT): none of its stale writes lands on the image
 *                  (`rbd export` shows what B wrote), they fail with the ANA inaccessible
 *                  status, A logs the loss once and reports the group inaccessible
 *   hand-over      planned: A is made inaccessible first (it releases the lock), then B
 *                  optimized: B takes the lock without fencing anyone
 *   split brain    B is promoted while A still serves the job: A's writes fail with the
 *                  ANA status from then on, the job carries on through B without an
 *                  error, A stops cleanly
 *   cut off        A cannot reach the cluster (its OSD frozen): a write fails after the
 *                  path's timeout with the ANA status and A reports the group inaccessible
 *                  by itself, and stays so when the cluster is back until a reload gives
 *                  it the group again (it re-takes its own lock); then B is promoted
 *                  (fencing A) and serves
 *
 * The cluster is ceph-cluster.sh's (one monitor, one memstore OSD, in a temporary
 * directory), started and torn down here.
 * Environment (meson): NVMF_TARGET, NVMF_CEPH_CLUSTER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "rpc/client.h"
#include "mpath_job.h"
#include "ceph_test.h"
#include "target_proc.h"
#include "tclient.h"

#define NQN "nqn.2024-01.io.nvmf-tcp.test:rbd-gw"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:21111111-2222-4333-8444-555555555555"
#define HOSTID "21111111-2222-4333-8444-555555555555"
#define UUID "7a0c1d5e-7b0f-4a8e-9d41-2f1c3b5e9a77"
#define NGUID "ff90689c-6c46-d44c-89c1-4067801309a8"
#define IMG_MB 8
#define BLK JOB_BLK
#define UNITS 256                   /* 4 KiB blocks the job writes (1 MiB) */
#define STALE 8                     /* writes queued to a frozen gateway */
#define ANA_INACCESSIBLE_STATUS 0x302 /* SCT path (3), SC ANA inaccessible (2) */

static char cfg_a[160], cfg_b[160], sock_b[160];
static struct target_proc ta = { .pid = -1 }, tb = { .pid = -1 };
static uint16_t port_a, port_b;
static char pa_text[8], pb_text[8];
static uint32_t lbs = 512;

static int group_setup(void **state)
{
	(void)state;
	if (!getenv("NVMF_TARGET"))
		return -1;
	if (ceph_up("rbdgw"))
		return -1;
	snprintf(cfg_a, sizeof(cfg_a), "%s/a.json", ceph_dir);
	snprintf(cfg_b, sizeof(cfg_b), "%s/b.json", ceph_dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", ceph_dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ceph_down();
	return 0;
}

/* One gateway's config.json: its port, ANA group 1's state there, its cntlid range. */
static void write_cfg(const char *path, uint16_t port, const char *state, unsigned cntlid_min,
		      const char *image)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"   \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"},\n"
		"   \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"%s\"}}],\n"
		"   \"subsystems\": [\"%s\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\",\n"
		"   \"serial\": \"RBDGW0001\", \"cntlid_min\": \"%u\", \"cntlid_max\": \"%u\"},\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"ana_grpid\": 1, \"device\": {\n"
		"     \"path\": \"rbd:rbd/%s?conf=%s&keyring=%s&timeout=5&gateway=1\",\n"
		"     \"uuid\": \"%s\", \"nguid\": \"%s\"}}]}]}\n",
		port, state, NQN, NQN, cntlid_min, cntlid_min + 999, image, ceph_conf, ceph_keyring, UUID,
		NGUID);
	fclose(f);
}

/* A fresh image, gateway A optimized and B inaccessible (B also answers JSON-RPC). */
static void start_pair(const char *image)
{
	const char *argv_a[] = { "--config", cfg_a, "--cpus", "1", NULL };
	const char *argv_b[] = { "--config", cfg_b, "--cpus", "1", "-r", sock_b, NULL };

	/* what a failed test left running */
	if (ta.pid > 0) {
		kill(ta.pid, SIGCONT);
		tp_stop(&ta);
	}
	if (tb.pid > 0)
		tp_stop(&tb);
	assert_int_equal(ceph_rbd_create(image, IMG_MB), 0);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	snprintf(pa_text, sizeof(pa_text), "%u", port_a);
	snprintf(pb_text, sizeof(pb_text), "%u", port_b);
	write_cfg(cfg_a, port_a, "optimized", 1, image);
	write_cfg(cfg_b, port_b, "inaccessible", 1001, image);
	assert_int_equal(tp_start(&ta, port_a, argv_a), 0);
	assert_int_equal(tp_start(&tb, port_b, argv_b), 0);
}

static void stop_pair(void)
{
	if (ta.pid > 0)
		tp_stop(&ta);
	if (tb.pid > 0)
		assert_int_equal(tp_stop(&tb), 0);
	ta.pid = tb.pid = -1;
}

static void reload(struct target_proc *t, int nth)
{
	kill(t->pid, SIGHUP);
	for (int i = 0; i < 400 && tp_log_count(t, "configuration reloaded") < nth; i++) {
		assert_int_equal(tp_log_count(t, "reload failed"), 0);
		usleep(25000);
	}
	assert_true(tp_log_count(t, "configuration reloaded") >= nth);
}

static struct nvmf_ctrl *connect_to(const char *port)
{
	struct nvmf_ctrl *c = job_connect(port, NQN, HOSTNQN, HOSTID, &lbs);

	assert_non_null(c);
	return c;
}

static struct nvmf_mpath *make_mpath(struct nvmf_ctrl *a, struct nvmf_ctrl *b)
{
	struct nvmf_mpath_opts mo;
	struct nvmf_mpath *m;

	nvmf_mpath_opts_init(&mo);
	mo.iopolicy = NVMF_IOPOLICY_ROUND_ROBIN;
	assert_int_equal(nvmf_mpath_create(&mo, &m), 0);
	assert_int_equal(nvmf_mpath_add_path(m, a), 0);
	assert_int_equal(nvmf_mpath_add_path(m, b), 0);
	return m;
}

/* ------------------------------------------------------------------ a FUA write job */

/*
 * The host of a test: a controller through each gateway, libnvmf multipath over both, and
 * the FUA write job on it.
 */
struct pair_host {
	struct nvmf_ctrl *a, *b;
	struct nvmf_mpath *m;
	struct nvmf_mpath_queue *mq;
	struct job *j;
};

static void host_connect(struct pair_host *h)
{
	h->a = connect_to(pa_text);
	h->b = connect_to(pb_text);
}

static void host_job(struct pair_host *h)
{
	h->m = make_mpath(h->a, h->b);
	assert_int_equal(nvmf_mpath_queue_create(h->m, 0, 0, &h->mq), 0);
	h->j = malloc(sizeof(*h->j));
	assert_non_null(h->j);
	job_init(h->j, h->mq, UNITS, lbs, NVMF_IO_FUA);
}

static void host_close(struct pair_host *h)
{
	nvmf_mpath_queue_free(h->mq);
	nvmf_mpath_destroy(h->m);
	job_fini(h->j);
	free(h->j);
	nvmf_ctrl_disconnect(h->a);
	nvmf_ctrl_disconnect(h->b);
}

/* Run until path i completed I/O (after the promotion reached the host); seconds taken. */
static double run_until_used(struct job *j, struct nvmf_mpath *m, unsigned i)
{
	uint64_t before = nvmf_mpath_path_ios(m, i);
	double t0 = job_now(), end = t0 + 30;

	while (job_now() < end && nvmf_mpath_path_ios(m, i) == before)
		job_run(j, 0.02);
	assert_true(nvmf_mpath_path_ios(m, i) > before);
	return job_now() - t0;
}

/* Every unit reads back through the host as last acknowledged, and so `rbd export` shows. */
static void job_verify(struct job *j, const char *image)
{
	uint8_t *b = aligned_alloc(4096, BLK), *want = aligned_alloc(4096, BLK);
	const char *out = ceph_rbd_export(image);
	unsigned bad_host = 0, bad_image = 0, written = 0;
	FILE *f;

	assert_non_null(out);
	f = fopen(out, "rb");
	assert_non_null(f);
	for (unsigned u = 0; u < j->units; u++) {
		if (!j->version[u])
			continue;
		written++;
		job_pattern(want, u, j->version[u]);
		assert_int_equal(job_read(j, u, b), 0);
		bad_host += memcmp(b, want, BLK) != 0;
		assert_int_equal(fseeko(f, (off_t)u * BLK, SEEK_SET), 0);
		assert_int_equal(fread(b, 1, BLK, f), BLK);
		bad_image += memcmp(b, want, BLK) != 0;
	}
	fclose(f);
	unlink(out);
	fprintf(stderr, "verified %u blocks: %u wrong through the host, %u on the image\n",
		written, bad_host, bad_image);
	assert_true(written > 0);
	assert_int_equal(bad_host, 0);
	assert_int_equal(bad_image, 0);
	free(b);
	free(want);
}

/*
 * SIGSTOP and wait until every thread of pid is stopped: kill() returns before they are,
 * and a thread still running could complete what the test means to reach a frozen process.
 */
static bool all_stopped(pid_t pid)
{
	char path[64];
	struct dirent *e;
	bool stopped = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while (stopped && (e = readdir(d))) {
		char stat[384], line[512], *p;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(stat, sizeof(stat), "%s/%s/stat", path, e->d_name);
		f = fopen(stat, "r");
		if (!f)
			continue;       /* the thread ended */
		/* "tid (comm) S ...": the state follows the last ')' (comm may hold spaces) */
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) && p[1] == ' ')
			stopped = p[2] == 'T' || p[2] == 't';
		fclose(f);
	}
	closedir(d);
	return stopped;
}

static void freeze(pid_t pid)
{
	assert_int_equal(kill(pid, SIGSTOP), 0);
	for (int tries = 0; tries < 1000 && !all_stopped(pid); tries++)
		usleep(10000);
	assert_true(all_stopped(pid));
}

/* ANA group 1's state in the ANA log page of the controller behind admin queue a. */
static uint8_t ana_state_of(struct tclient *a)
{
	uint8_t page[4096];
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0xffffffff);
	sqe.cdw10 = htole32(NVME_LID_ANA | ((sizeof(page) / 4 - 1) << 16));
	assert_int_equal(tc_cmd(a, &sqe, page, sizeof(page), false, &cqe), 0);
	assert_int_equal(le16toh(cqe.status) >> 1, 0);
	/* header 16 bytes, then group 1's descriptor: state at its byte 16 */
	assert_int_equal(le32toh(*(uint32_t *)(page + 16)), 1);
	return page[16 + 16] & 0xf;
}

/* ------------------------------------------------------------------ tests */

static void killed_owner_fails_over(void **state)
{
	struct pair_host h;
	struct nvmf_ctrl *a, *b;
	struct nvmf_mpath *m;
	struct job *j;
	struct tclient ba, bio;
	struct rpc_reply r;
	uint8_t buf[BLK];
	uint16_t st;
	char params[512];
	double t;

	(void)state;
	start_pair("killed");
	host_connect(&h);
	a = h.a;
	b = h.b;
	assert_int_equal(nvmf_ctrl_ana_state(a, 1), NVMF_ANA_OPTIMIZED);
	assert_int_equal(nvmf_ctrl_ana_state(b, 1), NVMF_ANA_INACCESSIBLE);
	/* the standby refuses I/O with the path status: it never touches the image */
	assert_int_equal(tc_admin_setup(&ba, "127.0.0.1", port_b, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&bio, "127.0.0.1", port_b, NQN, ba.cntlid, 1, false, false),
			 0);
	assert_int_equal(tc_rw(&bio, true, 1, 0, BLK / lbs, buf, BLK, false, &st), 0);
	assert_int_equal(st >> 1, ANA_INACCESSIBLE_STATUS);
	tc_close(&bio);
	tc_close(&ba);

	host_job(&h);
	m = h.m;
	j = h.j;
	job_run(j, 1.0);
	assert_true(nvmf_mpath_path_ios(m, 0) > 0);
	assert_int_equal(nvmf_mpath_path_ios(m, 1), 0);

	kill(ta.pid, SIGKILL);
	waitpid(ta.pid, NULL, 0);
	ta.pid = -1;
	job_run(j, 0.3);        /* the job waits: no path is usable */
	/* the control plane promotes B, as SPDK's rpc.py would */
	snprintf(params, sizeof(params),
		 "{\"nqn\": \"%s\", \"listen_address\": {\"trtype\": \"tcp\", \"adrfam\": "
		 "\"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"}, \"anagrpid\": 1, "
		 "\"ana_state\": \"optimized\"}", NQN, port_b);
	t = job_now();
	assert_int_equal(rpc_call(sock_b, "nvmf_subsystem_listener_set_ana_state", params, &r), 0);
	assert_int_equal(r.code, 0);
	rpc_reply_free(&r);
	fprintf(stderr, "promotion (fence + lock) took %.3f s\n", job_now() - t);
	assert_int_equal(tp_log_count(&tb, "fenced the previous lock holder"), 1);
	assert_int_equal(tp_log_count(&tb, "this gateway holds the image's exclusive lock"), 1);
	t = run_until_used(j, m, 1);
	fprintf(stderr, "I/O resumed through B %.3f s after the promotion returned\n", t);
	job_run(j, 1.0);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	assert_int_equal(nvmf_ctrl_ana_state(b, 1), NVMF_ANA_OPTIMIZED);
	job_verify(j, "killed");

	host_close(&h);
	stop_pair();
}

static void frozen_owner_lands_no_stale_write(void **state)
{
	struct pair_host h;
	struct nvmf_mpath *m;
	struct job *j;
	struct tclient aa, aio;
	static uint8_t stale[STALE][BLK];
	uint16_t cid[STALE];
	static uint32_t at_promotion[UNITS];
	uint8_t buf[BLK];
	uint16_t st;

	(void)state;
	start_pair("frozen");
	host_connect(&h);
	host_job(&h);
	m = h.m;
	j = h.j;
	assert_int_equal(tc_admin_setup(&aa, "127.0.0.1", port_a, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&aio, "127.0.0.1", port_a, NQN, aa.cntlid, 1, false, false),
			 0);
	job_run(j, 1.0);
	assert_true(nvmf_mpath_path_ios(m, 0) > 0);

	/* A freezes with the job's writes in flight; more old data is queued to it */
	freeze(ta.pid);
	job_submit(j);
	for (unsigned i = 0; i < STALE; i++) {
		struct nvme_sqe sqe;

		job_pattern(stale[i], i, 0xdead);
		tc_sqe(&sqe, NVME_NVM_WRITE, 1);
		sqe.cdw10 = htole32((uint32_t)((uint64_t)i * (BLK / lbs)));
		sqe.cdw12 = htole32(BLK / lbs - 1);
		assert_int_equal(tc_submit_icd(&aio, &sqe, stale[i], BLK, &cid[i]), 0);
	}

	/* promoted by SIGHUP: B fences A, takes the lock, then reports optimized */
	write_cfg(cfg_b, port_b, "optimized", 1001, "frozen");
	reload(&tb, 1);
	assert_int_equal(tp_log_count(&tb, "fenced the previous lock holder"), 1);
	run_until_used(j, m, 1);
	/* every unit rewritten through B after the promotion (the stale ones among them) */
	memcpy(at_promotion, j->version, sizeof(at_promotion));
	for (double end = job_now() + 30; job_now() < end;) {
		unsigned left = 0;

		for (unsigned u = 0; u < UNITS; u++)
			left += j->version[u] <= at_promotion[u];
		if (!left)
			break;
		job_run(j, 0.1);
	}
	assert_true(job_drain(j));
	for (unsigned u = 0; u < UNITS; u++)
		assert_true(j->version[u] > at_promotion[u]);
	assert_int_equal(j->errors, 0);

	/* A wakes up: its queued and in-flight writes must not land */
	kill(ta.pid, SIGCONT);
	for (unsigned n = 0; n < STALE; n++) {
		unsigned i = 0;

		/* in any order */
		assert_int_equal(tc_recv_pdu(&aio, 30000), 0);
		assert_int_equal(aio.last.type, NVME_TCP_RSP);
		while (i < STALE && cid[i] != le16toh(aio.last.hdr.rsp.cqe.cid))
			i++;
		assert_true(i < STALE);
		cid[i] = 0xffff;
		assert_int_equal(le16toh(aio.last.hdr.rsp.cqe.status) >> 1,
				 ANA_INACCESSIBLE_STATUS);
	}
	/* A is fenced for good and says so: its group is inaccessible, I/O refused */
	assert_int_equal(ana_state_of(&aa), NVME_ANA_INACCESSIBLE);
	assert_int_equal(tc_rw(&aio, false, 1, 0, BLK / lbs, buf, BLK, false, &st), 0);
	assert_int_equal(st >> 1, ANA_INACCESSIBLE_STATUS);
	assert_int_equal(tp_log_count(&ta, "lost the image's exclusive lock"), 1);
	/* give A's leftovers every chance to land, then look at the image */
	usleep(500000);
	job_verify(j, "frozen");

	tc_close(&aio);
	tc_close(&aa);
	host_close(&h);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
	stop_pair();
}

static void planned_handover_needs_no_fencing(void **state)
{
	struct pair_host h;
	struct nvmf_mpath *m;
	struct job *j;

	(void)state;
	start_pair("handover");
	host_connect(&h);
	host_job(&h);
	m = h.m;
	j = h.j;
	job_run(j, 0.5);
	/* A steps down first (releases the lock), then B steps up */
	write_cfg(cfg_a, port_a, "inaccessible", 1, "handover");
	reload(&ta, 1);
	assert_int_equal(tp_log_count(&ta, "released the image's exclusive lock"), 1);
	write_cfg(cfg_b, port_b, "optimized", 1001, "handover");
	reload(&tb, 1);
	assert_int_equal(tp_log_count(&tb, "fenced"), 0);
	assert_int_equal(tp_log_count(&tb, "this gateway holds the image's exclusive lock"), 1);
	run_until_used(j, m, 1);
	job_run(j, 0.5);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	assert_int_equal(tp_log_count(&ta, "lost the image's exclusive lock"), 0);
	job_verify(j, "handover");

	host_close(&h);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
	stop_pair();
}

/*
 * Split brain of the control plane: B is promoted while A, alive, still serves the job.
 * A's writes in flight and after fail with the ANA status (the host sends them again
 * through B), A logs the loss once, the job sees no error, and A still stops cleanly (no
 * librbd call left hanging on its fenced client).
 */
static void live_owner_fenced(void **state)
{
	struct pair_host h;
	struct nvmf_ctrl *a;
	struct nvmf_mpath *m;
	struct job *j;

	(void)state;
	start_pair("live");
	host_connect(&h);
	a = h.a;
	host_job(&h);
	m = h.m;
	j = h.j;
	job_run(j, 0.5);
	write_cfg(cfg_b, port_b, "optimized", 1001, "live");
	kill(tb.pid, SIGHUP);
	for (double end = job_now() + 20;
	     job_now() < end && tp_log_count(&tb, "configuration reloaded") < 1;)
		job_run(j, 0.05);
	assert_int_equal(tp_log_count(&tb, "configuration reloaded"), 1);
	run_until_used(j, m, 1);
	job_run(j, 0.5);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	assert_int_equal(tp_log_count(&ta, "lost the image's exclusive lock"), 1);
	assert_int_equal(nvmf_ctrl_ana_state(a, 1), NVMF_ANA_INACCESSIBLE);
	job_verify(j, "live");

	host_close(&h);
	assert_int_equal(tp_stop(&ta), 0);
	assert_int_equal(tp_log_count(&ta, "still open"), 0);
	ta.pid = -1;
	stop_pair();
}

/*
 * The owner cannot reach the cluster (the OSD frozen): its write fails after the path's
 * timeout with the ANA status, it reports the group inaccessible by itself; once the
 * cluster is back, the other gateway is promoted (fencing it) and serves.
 */
static void cut_off_owner_stops_serving(void **state)
{
	struct tclient aa, aio, ba, bio;
	uint8_t w[BLK], r[BLK];
	uint16_t st;
	time_t t0;
	pid_t osd;

	(void)state;
	start_pair("cutoff");
	assert_int_equal(tc_admin_setup(&aa, "127.0.0.1", port_a, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&aio, "127.0.0.1", port_a, NQN, aa.cntlid, 1, false, false),
			 0);
	job_pattern(w, 1, 1);
	assert_int_equal(tc_rw(&aio, true, 1, 0, BLK / 512, w, BLK, true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(ana_state_of(&aa), NVME_ANA_OPTIMIZED);

	osd = ceph_osd_pid();
	assert_true(osd > 0);
	freeze(osd);
	t0 = time(NULL);
	job_pattern(w, 1, 9);
	assert_int_equal(tc_rw(&aio, true, 1, 0, BLK / 512, w, BLK, true, &st), 0);
	kill(osd, SIGCONT);
	assert_int_equal(st >> 1, ANA_INACCESSIBLE_STATUS);
	assert_true(time(NULL) - t0 < 30);
	assert_int_equal(tp_log_count(&ta, "the cluster did not answer in time"), 1);
	assert_int_equal(ana_state_of(&aa), NVME_ANA_INACCESSIBLE);
	/* and stays so with the cluster back: only the control plane gives it the group */
	assert_int_equal(tc_rw(&aio, false, 1, 0, BLK / 512, r, BLK, false, &st), 0);
	assert_int_equal(st >> 1, ANA_INACCESSIBLE_STATUS);
	/* the control plane gives it back (a SIGHUP, unchanged file): it still holds the
	 * lock in the cluster's eyes, so it takes it again without fencing itself */
	reload(&ta, 1);
	assert_int_equal(tp_log_count(&ta, "fenced"), 0);
	assert_int_equal(tp_log_count(&ta, "owned by this gateway"), 2);
	assert_int_equal(ana_state_of(&aa), NVME_ANA_OPTIMIZED);
	assert_int_equal(tc_rw(&aio, true, 1, 0, BLK / 512, w, BLK, true, &st), 0);
	assert_int_equal(st, 0);

	write_cfg(cfg_b, port_b, "optimized", 1001, "cutoff");
	reload(&tb, 1);
	assert_int_equal(tp_log_count(&tb, "fenced the previous lock holder"), 1);
	assert_int_equal(tc_admin_setup(&ba, "127.0.0.1", port_b, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&bio, "127.0.0.1", port_b, NQN, ba.cntlid, 1, false, false),
			 0);
	assert_int_equal(ana_state_of(&ba), NVME_ANA_OPTIMIZED);
	job_pattern(w, 1, 3);
	assert_int_equal(tc_rw(&bio, true, 1, 0, BLK / 512, w, BLK, true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&bio, false, 1, 0, BLK / 512, r, BLK, false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(r, w, BLK);
	tc_close(&bio);
	tc_close(&ba);
	tc_close(&aio);
	tc_close(&aa);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
	stop_pair();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(killed_owner_fails_over),
		cmocka_unit_test(frozen_owner_lands_no_stale_write),
		cmocka_unit_test(planned_handover_needs_no_fencing),
		cmocka_unit_test(live_owner_fenced),
		cmocka_unit_test(cut_off_owner_stops_serving),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
