/*
 * libnvmf multipath against nvmf-target: two target processes serve one file under one
 * subsystem NQN with the same namespace IDs (the two-box layout), path A through a proxy
 * that can go silent, path B direct.  One namespace object over both; the iopolicies
 * spread I/O as they say; a write job keeps going without an error while path A goes
 * silent (stall detection), while the target of path B is killed, and each path comes back
 * and takes I/O again once its controller reconnected; data verified after each; a
 * namespace that is not the same one is refused as a path; one target's ANA states, changed
 * by SIGHUP under I/O, steer the paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "mpath_job.h"
#include "target_proc.h"
#include "tproxy.h"

#define NQN "nqn.2024-01.io.nvmf-tcp.test:mpath"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555"
#define HOSTID "11111111-2222-4333-8444-555555555555"
#define UUID "6a0c1d5e-7b0f-4a8e-9d41-2f1c3b5e9a77"
#define NGUID "ef90689c-6c46-d44c-89c1-4067801309a8"
#define IMG_MB 16
#define UNITS 1024                  /* 4 KiB blocks the job writes (of the 16 MiB) */

static char img[128], cfg_a[128], cfg_b[128];
static uint16_t port_a, port_b, port_pa;
static struct target_proc ta, tb;
static struct tproxy *proxy;
static char pa_text[8], pb_text[8];
static uint32_t lbs = 512;         /* the namespace's block size */

static void write_cfg(const char *path, uint16_t port, unsigned cntlid_min)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"hosts\": [], \"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\",\n"
		" \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"},\n"
		" \"subsystems\": [\"%s\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\",\n"
		"  \"serial\": \"MPATH0001\", \"cntlid_min\": \"%u\", \"cntlid_max\": \"%u\"},\n"
		"  \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\",\n"
		"   \"uuid\": \"%s\", \"nguid\": \"%s\"}}]}]}\n",
		port, NQN, NQN, cntlid_min, cntlid_min + 999, img, UUID, NGUID);
	fclose(f);
}

static void start(struct target_proc *t, const char *cfg, uint16_t port)
{
	const char *argv[] = { "--config", cfg, "--cpus", "1", NULL };

	assert_int_equal(tp_start(t, port, argv), 0);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "/var/tmp/nvmf-mpath-%d.img", (int)getpid());
	snprintf(cfg_a, sizeof(cfg_a), "/tmp/nvmf-mpath-%d-a.json", (int)getpid());
	snprintf(cfg_b, sizeof(cfg_b), "/tmp/nvmf-mpath-%d-b.json", (int)getpid());
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, IMG_MB << 20) < 0)
		return -1;
	close(fd);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	write_cfg(cfg_a, port_a, 1);
	write_cfg(cfg_b, port_b, 1001);
	start(&ta, cfg_a, port_a);
	start(&tb, cfg_b, port_b);
	proxy = tproxy_start(port_a, &port_pa);
	if (!proxy)
		return -1;
	snprintf(pa_text, sizeof(pa_text), "%u", port_pa);
	snprintf(pb_text, sizeof(pb_text), "%u", port_b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tproxy_stop(proxy);
	tp_stop(&ta);
	if (tb.pid > 0)
		tp_stop(&tb);
	unlink(img);
	unlink(cfg_a);
	unlink(cfg_b);
	return 0;
}

static struct nvmf_ctrl *connect_to(const char *port)
{
	struct nvmf_ctrl *c = job_connect(port, NQN, HOSTNQN, HOSTID, &lbs);

	assert_non_null(c);
	return c;
}


/* ------------------------------------------------------------------ a write job */

/* Every unit reads back as last acknowledged (mpath_job.h). */
static void job_verify(struct job *j)
{
	uint8_t *b = aligned_alloc(4096, JOB_BLK), *want = aligned_alloc(4096, JOB_BLK);
	unsigned bad = 0;

	for (unsigned u = 0; u < j->units; u++) {
		if (!j->version[u])
			continue;
		assert_int_equal(job_read(j, u, b), 0);
		job_pattern(want, u, j->version[u]);
		bad += memcmp(b, want, JOB_BLK) != 0;
	}
	assert_int_equal(bad, 0);
	free(b);
	free(want);
}

static struct nvmf_mpath *make_mpath(enum nvmf_iopolicy pol, struct nvmf_ctrl *a,
				     struct nvmf_ctrl *b)
{
	struct nvmf_mpath_opts mo;
	struct nvmf_mpath *m;

	nvmf_mpath_opts_init(&mo);
	mo.iopolicy = pol;
	assert_int_equal(nvmf_mpath_create(&mo, &m), 0);
	assert_int_equal(nvmf_mpath_add_path(m, a), 0);
	if (b)
		assert_int_equal(nvmf_mpath_add_path(m, b), 0);
	return m;
}

/* ------------------------------------------------------------------ tests */

struct remover {
	struct nvmf_mpath *m;
	struct nvmf_ctrl *c;
	int rc;
	atomic_bool done;
};

static void *remover(void *arg)
{
	struct remover *r = arg;

	r->rc = nvmf_mpath_remove_path(r->m, r->c);
	atomic_store(&r->done, true);
	return NULL;
}

static void one_namespace_policies(void **state)
{
	struct nvmf_ctrl *a = connect_to(pa_text), *b = connect_to(pb_text);
	struct nvmf_mpath *m = make_mpath(NVMF_IOPOLICY_ROUND_ROBIN, a, b);
	struct nvmf_mpath_queue *mq;
	struct job *j = malloc(sizeof(*j));

	(void)state;
	assert_int_equal(nvmf_mpath_nr_paths(m), 2);
	assert_int_equal(nvmf_mpath_add_path(m, a), -EEXIST);
	assert_int_equal(nvmf_ctrl_ana_state(a, 1), NVMF_ANA_OPTIMIZED);
	assert_int_equal(nvmf_mpath_queue_create(m, 0, 0, &mq), 0);
	job_init(j, mq, UNITS, lbs, 0);
	job_run(j, 1.0);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	/* round robin: both paths carry about half */
	{
		uint64_t ia = nvmf_mpath_path_ios(m, 0), ib = nvmf_mpath_path_ios(m, 1);

		fprintf(stderr, "round-robin: %lu / %lu\n", (unsigned long)ia, (unsigned long)ib);
		assert_true(ia > j->done / 4 && ib > j->done / 4);
	}
	job_verify(j);
	nvmf_mpath_queue_free(mq);
	nvmf_mpath_destroy(m);

	/* numa: everything on the first path */
	m = make_mpath(NVMF_IOPOLICY_NUMA, a, b);
	assert_int_equal(nvmf_mpath_queue_create(m, 0, 0, &mq), 0);
	job_fini(j);
	job_init(j, mq, UNITS, lbs, 0);
	job_run(j, 0.5);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	assert_int_equal(nvmf_mpath_path_ios(m, 1), 0);
	assert_true(nvmf_mpath_path_ios(m, 0) > 0);
	/* the path in use removed (from another thread) while the job runs: it goes on */
	{
		struct remover r = { m, a, 1, false };
		pthread_t th;
		uint64_t before;

		assert_int_equal(pthread_create(&th, NULL, remover, &r), 0);
		while (!atomic_load(&r.done))
			job_run(j, 0.05);
		pthread_join(th, NULL);
		assert_int_equal(r.rc, 0);
		assert_int_equal(nvmf_mpath_nr_paths(m), 1);
		before = nvmf_mpath_path_ios(m, 0);
		job_run(j, 0.3);
		assert_true(job_drain(j));
		assert_int_equal(j->errors, 0);
		assert_true(nvmf_mpath_path_ios(m, 0) > before);
		assert_ptr_equal(nvmf_mpath_path(m, 0), b);
		job_verify(j);
		assert_int_equal(nvmf_mpath_remove_path(m, a), -ENOENT);
	}
	nvmf_mpath_queue_free(mq);
	nvmf_mpath_destroy(m);
	job_fini(j);
	free(j);
	nvmf_ctrl_disconnect(a);
	nvmf_ctrl_disconnect(b);
}

static void silent_path_fails_over(void **state)
{
	struct nvmf_ctrl *a = connect_to(pa_text), *b = connect_to(pb_text);
	struct nvmf_mpath *m = make_mpath(NVMF_IOPOLICY_ROUND_ROBIN, a, b);
	struct nvmf_mpath_queue *mq;
	struct job *j = malloc(sizeof(*j));
	double t0, end;
	uint64_t before;

	(void)state;
	assert_int_equal(nvmf_mpath_queue_create(m, 0, 0, &mq), 0);
	job_init(j, mq, UNITS, lbs, 0);
	job_run(j, 0.5);
	/* path A goes silent: no RST, no FIN; only the stall detection can tell */
	tproxy_freeze(proxy, true);
	t0 = job_now();
	j->measure_gap = true;
	j->last_done = t0;
	job_run(j, 2.0);
	fprintf(stderr, "silent path: longest completion gap %.3f s\n", j->max_gap);
	assert_int_equal(j->errors, 0);
	assert_true(j->max_gap < 1.5);
	j->measure_gap = false;
	tproxy_freeze(proxy, false);
	/* path A reconnects (reconnect_delay 1 s) and takes I/O again */
	end = job_now() + 20;
	while (job_now() < end && (nvmf_ctrl_state(a) != NVMF_CTRL_LIVE || !nvmf_ctrl_reconnects(a)))
		job_run(j, 0.2);
	assert_int_equal(nvmf_ctrl_state(a), NVMF_CTRL_LIVE);
	before = nvmf_mpath_path_ios(m, 0);
	job_run(j, 0.5);
	assert_true(nvmf_mpath_path_ios(m, 0) > before);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	job_verify(j);
	nvmf_mpath_queue_free(mq);
	nvmf_mpath_destroy(m);
	job_fini(j);
	free(j);
	nvmf_ctrl_disconnect(a);
	nvmf_ctrl_disconnect(b);
}

static void killed_target_fails_over(void **state)
{
	struct nvmf_ctrl *a = connect_to(pa_text), *b = connect_to(pb_text);
	struct nvmf_mpath *m = make_mpath(NVMF_IOPOLICY_QUEUE_DEPTH, a, b);
	struct nvmf_mpath_queue *mq;
	struct job *j = malloc(sizeof(*j));
	double end;
	uint64_t before;

	(void)state;
	assert_int_equal(nvmf_mpath_queue_create(m, 0, 0, &mq), 0);
	job_init(j, mq, UNITS, lbs, 0);
	job_run(j, 0.5);
	assert_true(nvmf_mpath_path_ios(m, 1) > 0);
	kill(tb.pid, SIGKILL);
	waitpid(tb.pid, NULL, 0);
	tb.pid = -1;
	j->measure_gap = true;
	j->last_done = job_now();
	job_run(j, 1.5);
	fprintf(stderr, "killed target: longest completion gap %.3f s\n", j->max_gap);
	assert_int_equal(j->errors, 0);
	assert_true(j->max_gap < 1.0);
	j->measure_gap = false;
	start(&tb, cfg_b, port_b);
	end = job_now() + 20;
	while (job_now() < end && (nvmf_ctrl_state(b) != NVMF_CTRL_LIVE || !nvmf_ctrl_reconnects(b)))
		job_run(j, 0.2);
	assert_int_equal(nvmf_ctrl_state(b), NVMF_CTRL_LIVE);
	before = nvmf_mpath_path_ios(m, 1);
	job_run(j, 0.5);
	assert_true(nvmf_mpath_path_ios(m, 1) > before);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	job_verify(j);
	nvmf_mpath_queue_free(mq);
	nvmf_mpath_destroy(m);
	job_fini(j);
	free(j);
	nvmf_ctrl_disconnect(a);
	nvmf_ctrl_disconnect(b);
}

static void other_namespace_refused(void **state)
{
	struct target_proc t;
	char listen[64], port[8];
	const char *argv[] = { "--ram", "16M", "--nqn", NQN, "--listen", listen, "--cpus", "1",
			       NULL };
	uint16_t p = tp_free_port();
	struct nvmf_ctrl *a, *other;
	struct nvmf_mpath *m;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", p);
	snprintf(port, sizeof(port), "%u", p);
	assert_int_equal(tp_start(&t, p, argv), 0);
	a = connect_to(pb_text);
	other = connect_to(port);
	m = make_mpath(NVMF_IOPOLICY_NUMA, a, NULL);
	/* same NQN, same NSID, another namespace (its own UUID) */
	assert_int_equal(nvmf_mpath_add_path(m, other), -EINVAL);
	assert_non_null(strstr(nvmf_strerror_last(), "not the one"));
	assert_int_equal(nvmf_mpath_nr_paths(m), 1);
	nvmf_mpath_destroy(m);
	nvmf_ctrl_disconnect(other);
	nvmf_ctrl_disconnect(a);
	tp_stop(&t);
}

/* ------------------------------------------------------------------ ANA from nvmf-target */

/* One nvmf-target, ports C and D to one namespace, the states of ANA group 1 on each. */
static void write_ana_cfg(const char *path, uint16_t pc, const char *sc, uint16_t pd,
			  const char *sd)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"hosts\": [], \"ports\": [\n");
	for (int i = 0; i < 2; i++)
		fprintf(f,
			" {\"portid\": %d, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
			"  \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"},\n"
			"  \"ana_groups\": [{\"ana\": {\"state\": \"%s\"}, \"grpid\": 1}],\n"
			"  \"subsystems\": [\"%s\"]}%s\n",
			i + 1, i ? pd : pc, i ? sd : sc, NQN, i ? "" : ",");
	fprintf(f,
		"], \"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\"},\n"
		"  \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"ana_grpid\": 1,\n"
		"   \"device\": {\"path\": \"%s\", \"uuid\": \"%s\", \"nguid\": \"%s\"}}]}]}\n",
		NQN, img, UUID, NGUID);
	fclose(f);
}

static void ana_reload(struct target_proc *t, int nth)
{
	kill(t->pid, SIGHUP);
	for (int i = 0; i < 200 && tp_log_count(t, "configuration reloaded") < nth; i++) {
		assert_int_equal(tp_log_count(t, "reload failed"), 0);
		usleep(25000);
	}
	assert_true(tp_log_count(t, "configuration reloaded") >= nth);
}

/* Run the job until path i has taken I/O again (after an ANA change reached the host). */
static void run_until_used(struct job *j, struct nvmf_mpath *m, unsigned i)
{
	uint64_t before = nvmf_mpath_path_ios(m, i);
	double end = job_now() + 10;

	while (job_now() < end && nvmf_mpath_path_ios(m, i) == before)
		job_run(j, 0.05);
	assert_true(nvmf_mpath_path_ios(m, i) > before);
}

/*
 * libnvmf multipath steered by our own target's ANA: round-robin over an optimized and a
 * non-optimized port uses the optimized one alone; the target's SIGHUP makes it
 * inaccessible (ANA change event, then ANA statuses for what was in flight) and the job
 * moves to the other port without an error; both optimized: both carry I/O.
 */
static void ana_of_nvmf_target_steers(void **state)
{
	char cfg[128], pc_text[8], pd_text[8];
	uint16_t pc = tp_free_port(), pd;
	const char *argv[] = { "--config", cfg, "--cpus", "1", NULL };
	struct target_proc t;
	struct nvmf_ctrl *c, *d;
	struct nvmf_mpath *m;
	struct nvmf_mpath_queue *mq;
	struct job *j = malloc(sizeof(*j));
	uint64_t c_before, d_before;

	(void)state;
	do
		pd = tp_free_port();
	while (pd == pc);
	snprintf(cfg, sizeof(cfg), "/tmp/nvmf-mpath-%d-ana.json", (int)getpid());
	snprintf(pc_text, sizeof(pc_text), "%u", pc);
	snprintf(pd_text, sizeof(pd_text), "%u", pd);
	write_ana_cfg(cfg, pc, "optimized", pd, "non-optimized");
	assert_int_equal(tp_start(&t, pc, argv), 0);
	c = connect_to(pc_text);
	d = connect_to(pd_text);
	assert_int_equal(nvmf_ctrl_ana_state(c, 1), NVMF_ANA_OPTIMIZED);
	assert_int_equal(nvmf_ctrl_ana_state(d, 1), NVMF_ANA_NON_OPTIMIZED);
	m = make_mpath(NVMF_IOPOLICY_ROUND_ROBIN, c, d);
	assert_int_equal(nvmf_mpath_queue_create(m, 0, 0, &mq), 0);
	job_init(j, mq, UNITS, lbs, 0);
	job_run(j, 0.5);
	assert_true(nvmf_mpath_path_ios(m, 0) > 0);
	assert_int_equal(nvmf_mpath_path_ios(m, 1), 0);

	/* C inaccessible, D optimized, under I/O */
	write_ana_cfg(cfg, pc, "inaccessible", pd, "optimized");
	ana_reload(&t, 1);
	run_until_used(j, m, 1);
	job_run(j, 0.3);
	c_before = nvmf_mpath_path_ios(m, 0);
	job_run(j, 0.3);
	assert_int_equal(nvmf_mpath_path_ios(m, 0), c_before);
	assert_int_equal(nvmf_ctrl_ana_state(c, 1), NVMF_ANA_INACCESSIBLE);
	assert_int_equal(j->errors, 0);

	/* both optimized: round-robin over both */
	write_ana_cfg(cfg, pc, "optimized", pd, "optimized");
	ana_reload(&t, 2);
	run_until_used(j, m, 0);
	c_before = nvmf_mpath_path_ios(m, 0);
	d_before = nvmf_mpath_path_ios(m, 1);
	job_run(j, 0.3);
	assert_true(nvmf_mpath_path_ios(m, 0) > c_before);
	assert_true(nvmf_mpath_path_ios(m, 1) > d_before);
	/* the iopolicy changed while the job runs: numa keeps to the first path */
	nvmf_mpath_set_iopolicy(m, NVMF_IOPOLICY_NUMA);
	assert_int_equal(nvmf_mpath_iopolicy(m), NVMF_IOPOLICY_NUMA);
	job_run(j, 0.1);
	d_before = nvmf_mpath_path_ios(m, 1);
	job_run(j, 0.3);
	assert_int_equal(nvmf_mpath_path_ios(m, 1), d_before);
	assert_true(job_drain(j));
	assert_int_equal(j->errors, 0);
	job_verify(j);
	fprintf(stderr, "ANA steering: %lu I/Os on C, %lu on D, 0 errors\n",
		(unsigned long)nvmf_mpath_path_ios(m, 0), (unsigned long)nvmf_mpath_path_ios(m, 1));
	nvmf_mpath_queue_free(mq);
	nvmf_mpath_destroy(m);
	job_fini(j);
	free(j);
	nvmf_ctrl_disconnect(c);
	nvmf_ctrl_disconnect(d);
	tp_stop(&t);
	unlink(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_namespace_policies),
		cmocka_unit_test(silent_path_fails_over),
		cmocka_unit_test(killed_target_fails_over),
		cmocka_unit_test(other_namespace_refused),
		cmocka_unit_test(ana_of_nvmf_target_steers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
