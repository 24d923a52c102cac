/*
 * libnvmf against nvmf-target on loopback: connect, data verified through in-capsule and
 * R2T writes, many commands in flight, 8 I/O queues from 8 threads, digests, discovery
 * following a referral, keep-alive holding an idle association, a target killed in the
 * middle of a write job (the job completes, data intact), ctrl_loss_tmo giving up, and an
 * H2CTermReq for a malformed PDU from a (fake) controller; polling honours its max and
 * never blocks while a queue pair reconnects to a controller that does not answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "proto/nvme_spec.h"
#include "proto/pdu_tx.h"
#include "target_proc.h"
#include "tproxy.h"

#define NQN "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555"
#define HOSTID "11111111-2222-4333-8444-555555555555"

static char port_text[16];

static void opts(struct nvmf_ctrl_opts *o, const char *port)
{
	nvmf_ctrl_opts_init(o);
	o->traddr = "127.0.0.1";
	o->trsvcid = port;
	o->subnqn = NQN;
	o->hostnqn = HOSTNQN;
	o->hostid = HOSTID;
}

static int start_ram(struct target_proc *t, uint16_t port)
{
	char listen[64];
	const char *argv[] = { "--ram", "64M", "--listen", listen, "--cpus", "2", NULL };

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	return tp_start(t, port, argv);
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = (seed + i) * 0x9E3779B97F4A7C15ull;

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* ------------------------------------------------------------------ basic I/O */

static void connect_rw_verify(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct nvmf_ns_info ni;
	uint8_t *w = aligned_alloc(4096, 1 << 20), *r = aligned_alloc(4096, 1 << 20);
	uint16_t port = tp_free_port();
	static const uint32_t sizes[] = { 512, 4096, 8192, 16384, 65536, 1 << 20 };

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	for (int dg = 0; dg < 3; dg++) {
		opts(&o, port_text);
		o.nr_io_queues = 2;
		o.hdgst = dg >= 1;
		o.ddgst = dg == 2;
		assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
		assert_int_equal(nvmf_ctrl_nr_qpairs(c), 2);
		assert_string_equal(nvmf_ctrl_subnqn(c), NQN);
		assert_int_equal(nvmf_ctrl_ns_info(c, 1, &ni), 0);
		assert_int_equal(ni.block_size, 512);
		assert_int_equal(ni.nblocks, 64u * 1024 * 1024 / 512);
		assert_true(ni.has_uuid);
		assert_int_equal(nvmf_ctrl_ns_info(c, 2, &ni), -ENOENT);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct nvmf_qpair *q = nvmf_ctrl_qpair(c, (unsigned)i % 2);
			uint64_t lba = 4096 + i * 2048;

			fill(w, sizes[i], i * 1000 + (uint64_t)dg);
			memset(r, 0, sizes[i]);
			assert_int_equal(nvmf_write_sync(q, 1, lba, sizes[i] / 512, w, 0), 0);
			assert_int_equal(nvmf_read_sync(q, 1, lba, sizes[i] / 512, r), 0);
			assert_memory_equal(w, r, sizes[i]);
		}
		assert_int_equal(nvmf_flush_sync(nvmf_ctrl_qpair(c, 0), 1), 0);
		/* out of range: an NVMe status, not a transport error */
		{
			int st = nvmf_read_sync(nvmf_ctrl_qpair(c, 0), 1, 131072 - 1, 8, r);

			assert_true(st > 0);
			assert_int_equal(nvme_status_sc((uint16_t)st), NVME_SC_LBA_OUT_OF_RANGE);
		}
		nvmf_ctrl_disconnect(c);
	}
	assert_int_equal(tp_stop(&t), 0);
	free(w);
	free(r);
}

/* Many commands in flight at once, random offsets, completion order free. */
struct async_job {
	struct nvmf_qpair *q;
	uint8_t *buf;          /* slot i: bytes [i * bs, (i + 1) * bs) */
	uint32_t bs;
	uint32_t lbs;          /* the namespace's logical block size */
	unsigned slots;
	unsigned done, errors;
	int first_error;
};

static void job_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct async_job *j = arg;

	(void)cqe;
	j->done++;
	if (status && !j->errors++)
		j->first_error = status;
}

static void run_async(struct async_job *j, bool write, uint64_t base)
{
	unsigned submitted = 0;
	int rc;

	j->done = 0;
	while (j->done < j->slots) {
		while (submitted < j->slots) {
			uint8_t *p = j->buf + (size_t)submitted * j->bs;
			uint64_t lba = base + (uint64_t)submitted * (j->bs / j->lbs);
			rc = write ? nvmf_write(j->q, 1, lba, j->bs / j->lbs, p, 0, job_done, j)
				   : nvmf_read(j->q, 1, lba, j->bs / j->lbs, p, job_done, j);

			if (rc == -EAGAIN)
				break;
			assert_int_equal(rc, 0);
			submitted++;
		}
		rc = nvmf_qpair_wait(j->q, 1000);
		/* while the controller reconnects the commands wait; nothing else may fail */
		assert_true(rc >= 0 || rc == -ENOTCONN);
	}
}

static void many_in_flight(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct async_job j = { .bs = 8192, .lbs = 512, .slots = 400 };
	uint8_t *ref;
	uint16_t port = tp_free_port();

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	o.queue_size = 64;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	j.q = nvmf_ctrl_qpair(c, 0);
	assert_int_equal(nvmf_qpair_depth(j.q), 63);
	j.buf = aligned_alloc(4096, (size_t)j.bs * j.slots);
	ref = malloc((size_t)j.bs * j.slots);
	fill(ref, (size_t)j.bs * j.slots, 42);
	memcpy(j.buf, ref, (size_t)j.bs * j.slots);
	run_async(&j, true, 0);
	assert_int_equal(j.errors, 0);
	memset(j.buf, 0, (size_t)j.bs * j.slots);
	run_async(&j, false, 0);
	assert_int_equal(j.errors, 0);
	assert_memory_equal(j.buf, ref, (size_t)j.bs * j.slots);
	assert_int_equal(nvmf_qpair_inflight(j.q), 0);
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
	free(j.buf);
	free(ref);
}

/* ------------------------------------------------------------------ 8 queues, 8 threads */

struct qthread {
	struct nvmf_qpair *q;
	unsigned idx;
	int errors;
};

static void *qthread_main(void *arg)
{
	struct qthread *qt = arg;
	uint8_t *w = aligned_alloc(4096, 65536), *r = aligned_alloc(4096, 65536);

	for (int i = 0; i < 30; i++) {
		uint64_t lba = 20000 + qt->idx * 4096 + (uint64_t)(i % 8) * 128;

		fill(w, 65536, qt->idx * 100u + (uint64_t)i);
		if (nvmf_write_sync(qt->q, 1, lba, 128, w, 0) || nvmf_read_sync(qt->q, 1, lba, 128, r) ||
		    memcmp(w, r, 65536))
			qt->errors++;
	}
	free(w);
	free(r);
	return NULL;
}

static void eight_queues(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct qthread qt[8];
	pthread_t th[8];
	uint16_t port = tp_free_port();

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	o.nr_io_queues = 8;
	o.hdgst = true;
	o.ddgst = true;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	assert_int_equal(nvmf_ctrl_nr_qpairs(c), 8);
	for (unsigned i = 0; i < 8; i++) {
		qt[i] = (struct qthread){ nvmf_ctrl_qpair(c, i), i, 0 };
		pthread_create(&th[i], NULL, qthread_main, &qt[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(qt[i].errors, 0);
	assert_int_equal(tp_log_count(&t, "I/O queue 8 connected"), 1);
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
}

/* ------------------------------------------------------------------ discovery */

static void discovery_follows_referral(void **state)
{
	struct target_proc a, b;
	uint16_t pa = tp_free_port(), pb;
	char cfg[128], pa_text[16];
	struct nvmf_ctrl_opts o;
	struct nvmf_disc_entry *e;
	unsigned n;
	uint64_t gen;
	FILE *f;
	const char *argv_a[] = { "--config", cfg, NULL };

	(void)state;
	do
		pb = tp_free_port();
	while (pb == pa);
	assert_int_equal(start_ram(&b, pb), 0);
	snprintf(cfg, sizeof(cfg), "/tmp/nvmf-host-test-%d.json", (int)getpid());
	f = fopen(cfg, "w");
	fprintf(f,
		"{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\","
		" \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\"}, \"subsystems\": [\"nqn.x:a\"],"
		" \"referrals\": [{\"name\": \"b\", \"enable\": 1, \"addr\": {\"trtype\": \"tcp\","
		" \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"%u\", \"portid\": 2}}]}],"
		" \"subsystems\": [{\"nqn\": \"nqn.x:a\", \"attr\": {\"allow_any_host\": \"1\"},"
		" \"namespaces\": []}]}",
		pa, pb);
	fclose(f);
	assert_int_equal(tp_start(&a, pa, argv_a), 0);
	snprintf(pa_text, sizeof(pa_text), "%u", pa);
	opts(&o, pa_text);
	o.subnqn = NULL;
	assert_int_equal(nvmf_discover(&o, false, &e, &n, &gen), 0);
	assert_int_equal(n, 3); /* current, nqn.x:a, referral */
	assert_string_equal(e[1].subnqn, "nqn.x:a");
	assert_int_equal(e[2].subtype, NVMF_SUBTYPE_DISCOVERY_REFERRAL);
	free(e);
	assert_int_equal(nvmf_discover(&o, true, &e, &n, &gen), 0);
	assert_int_equal(n, 5); /* plus the referred controller's current + quickstart */
	assert_string_equal(e[4].subnqn, NQN);
	assert_int_equal(atoi(e[4].trsvcid), pb);
	free(e);
	assert_int_equal(tp_stop(&a), 0);
	assert_int_equal(tp_stop(&b), 0);
	unlink(cfg);
}

/* ------------------------------------------------------------------ keep-alive */

static void keep_alive_holds_idle(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	uint8_t buf[4096];
	uint16_t port = tp_free_port();

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	o.kato_ms = 1000;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	sleep(3); /* three KATOs of silence from the application */
	assert_int_equal(nvmf_ctrl_state(c), NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_ctrl_reconnects(c), 0);
	assert_int_equal(nvmf_read_sync(nvmf_ctrl_qpair(c, 0), 1, 0, 8, buf), 0);
	assert_int_equal(tp_log_count(&t, "keep-alive timeout"), 0);
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
}

/* ------------------------------------------------------------------ target restart */

struct killer {
	struct target_proc *t;
	uint16_t port;
	const char *const *argv;
	int rc;
	atomic_bool done;
};

static void *kill_and_restart(void *arg)
{
	struct killer *k = arg;

	usleep(300000);
	kill(k->t->pid, SIGKILL); /* no goodbye: connections reset mid-transfer */
	tp_stop(k->t);
	sleep(1);
	k->rc = tp_start(k->t, k->port, k->argv);
	atomic_store(&k->done, true);
	return NULL;
}

static void target_restart_mid_job(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	char img[128], listen[64];
	uint16_t port = tp_free_port();
	const char *argv[] = { "--file", img, "--size", "64M", "--listen", listen, NULL };
	struct killer k = { &t, port, argv, -1, false };
	struct async_job j = { .bs = 65536, .slots = 600 };
	struct nvmf_ns_info ni;
	uint8_t *ref;
	pthread_t th;
	int fd;

	(void)state;
	snprintf(img, sizeof(img), "/var/tmp/nvmf-host-restart-%d.img", (int)getpid());
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(port_text, sizeof(port_text), "%u", port);
	fd = open(img, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tp_start(&t, port, argv), 0);
	opts(&o, port_text);
	o.reconnect_delay_s = 1;
	o.ctrl_loss_tmo_s = 30;
	o.queue_size = 32;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	assert_int_equal(nvmf_ctrl_ns_info(c, 1, &ni), 0);
	j.lbs = ni.block_size; /* 4096 when the file system takes O_DIRECT */
	j.q = nvmf_ctrl_qpair(c, 0);
	j.buf = aligned_alloc(4096, (size_t)j.bs * j.slots);
	ref = malloc((size_t)j.bs * j.slots);
	fill(ref, (size_t)j.bs * j.slots, 7);
	memcpy(j.buf, ref, (size_t)j.bs * j.slots);
	pthread_create(&th, NULL, kill_and_restart, &k);
	/* write passes until the target was killed and restarted, and one more after */
	for (int after = 0; after < 2;) {
		run_async(&j, true, 0);
		if (atomic_load(&k.done))
			after++;
	}
	pthread_join(th, NULL);
	assert_int_equal(k.rc, 0);
	if (j.errors)
		fprintf(stderr, "%u errors, first %d\n", j.errors, j.first_error);
	assert_int_equal(j.errors, 0);
	assert_true(nvmf_ctrl_reconnects(c) >= 1);
	memset(j.buf, 0, (size_t)j.bs * j.slots);
	run_async(&j, false, 0);
	assert_int_equal(j.errors, 0);
	assert_memory_equal(j.buf, ref, (size_t)j.bs * j.slots);
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
	unlink(img);
	free(j.buf);
	free(ref);
}

static void gives_up_after_ctrl_loss_tmo(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	uint8_t buf[4096];
	uint16_t port = tp_free_port();

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	o.reconnect_delay_s = 1;
	o.ctrl_loss_tmo_s = 2;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	assert_int_equal(tp_stop(&t), 0);
	/* the read waits through the reconnect attempts, then fails: never silently dropped */
	assert_int_equal(nvmf_read_sync(nvmf_ctrl_qpair(c, 0), 1, 0, 8, buf), -ENODEV);
	assert_int_equal(nvmf_ctrl_state(c), NVMF_CTRL_DEAD);
	/* no admin thread is left to run it: an admin command fails at once (fuzz_host
	 * found it waiting forever) */
	assert_int_equal(nvmf_identify(c, NVME_CNS_CTRL, 0, 0, buf), -ENODEV);
	nvmf_ctrl_disconnect(c);
}

/* ------------------------------------------------------------------ polling */

static void count_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)cqe;
	assert_int_equal(status, 0);
	(*(int *)arg)++;
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

/*
 * nvmf_qpair_poll(q, 1) runs one callback at a time, however many responses arrived
 * together; the ones it left are still announced by nvmf_qpair_fd(), so an event loop that
 * waits on it before each poll gets them all.
 */
static void poll_honours_max(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct nvmf_qpair *q;
	uint16_t port = tp_free_port();
	static uint8_t buf[32][4096];
	int done = 0;

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	q = nvmf_ctrl_qpair(c, 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(nvmf_read(q, 1, (uint64_t)i * 8, 8, buf[i], count_done, &done), 0);
	while (done < 32) {
		int before = done, rc;

		/* the first poll sends the commands */
		rc = nvmf_qpair_poll(q, 1);
		assert_true(rc >= 0 && rc <= 1);
		assert_int_equal(done - before, rc);
		/* generous: only a lost wake-up would make it run out */
		if (done < 32)
			assert_true(fd_readable(nvmf_qpair_fd(q), 10000));
	}
	/* steady load: responses keep arriving while earlier ones wait in the staging buffer */
	done = 0;
	for (int sent = 0; done < 3000;) {
		int before = done, rc;

		while (sent - done < 16 && sent < 3000) {
			assert_int_equal(nvmf_read(q, 1, (uint64_t)(sent % 32) * 8, 8, buf[sent % 32],
						   count_done, &done), 0);
			sent++;
		}
		rc = nvmf_qpair_poll(q, 1);
		assert_true(rc >= 0 && rc <= 1);
		assert_int_equal(done - before, rc);
	}
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The controller reconnected, and the I/O queue pair's own connection reaches a controller
 * that accepts it but does not answer the ICReq (held by the proxy).  Polling goes on
 * returning -ENOTCONN meanwhile, on that one connection attempt (no blocking connect that
 * times out and starts over); once the controller answers, the queued read completes over
 * that very connection.
 */
static void poll_never_blocks_while_connecting(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct nvmf_qpair *q;
	struct tproxy *px;
	uint16_t port = tp_free_port(), pport;
	char ptext[16];
	static uint8_t w[65536], r[65536];
	int done = 0;
	unsigned accepted;
	uint64_t deadline;

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	px = tproxy_start(port, &pport);
	assert_non_null(px);
	snprintf(ptext, sizeof(ptext), "%u", pport);
	opts(&o, ptext);
	o.reconnect_delay_s = 1;
	o.ctrl_loss_tmo_s = 60;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	q = nvmf_ctrl_qpair(c, 0);
	fill(w, sizeof(w), 7);
	assert_int_equal(nvmf_write_sync(q, 1, 0, sizeof(w) / 512, w, 0), 0);

	/* outage: the admin thread reconnects the controller by itself */
	tproxy_cut(px);
	deadline = now_ms() + 30000;
	while (nvmf_ctrl_reconnects(c) < 1 || nvmf_ctrl_state(c) != NVMF_CTRL_LIVE)
		assert_true(now_ms() < deadline && usleep(10000) == 0);
	/* the I/O queue's reconnect finds a controller that does not answer */
	tproxy_hold(px, true);
	accepted = tproxy_accepted(px);
	assert_int_equal(nvmf_read(q, 1, 0, sizeof(r) / 512, r, count_done, &done), 0);
	deadline = now_ms() + 30000;
	while (tproxy_held_open(px) < 1) {
		assert_int_equal(nvmf_qpair_poll(q, 0), -ENOTCONN);
		assert_true(now_ms() < deadline);
	}
	for (int i = 0; i < 200; i++) {
		assert_int_equal(nvmf_qpair_poll(q, 0), -ENOTCONN);
		assert_int_equal(done, 0);
	}
	/* still the one attempt, still waiting */
	assert_int_equal(tproxy_accepted(px), accepted + 1);
	assert_int_equal(tproxy_held_open(px), 1);
	tproxy_hold(px, false);
	deadline = now_ms() + 30000;
	while (!done) {
		nvmf_qpair_wait(q, 100);
		assert_true(now_ms() < deadline);
	}
	assert_memory_equal(r, w, sizeof(r));
	assert_int_equal(tproxy_accepted(px), accepted + 1);
	nvmf_ctrl_disconnect(c);
	tproxy_stop(px);
	assert_int_equal(tp_stop(&t), 0);
}

/*
 * A target that stops (SIGSTOP) past KATO: the host's keep-alive expires and it
 * reconnects - once.  When the target runs again it closes the old association's I/O
 * connection, while the host's first reconnect is under way: that loss belongs to the
 * association being replaced and must not start a second reconnect (found by
 * test_faults_netns: two reconnects per stall, the I/O back one reconnect_delay later).
 */
static void one_reconnect_after_target_stall(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	struct nvmf_qpair *q;
	static uint8_t w[8192], r[8192];
	uint16_t port = tp_free_port();
	uint64_t deadline;

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	o.kato_ms = 1000;
	o.reconnect_delay_s = 1;
	o.ctrl_loss_tmo_s = 60;
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	q = nvmf_ctrl_qpair(c, 0);
	fill(w, sizeof(w), 11);
	assert_int_equal(nvmf_write_sync(q, 1, 64, sizeof(w) / 512, w, 0), 0);

	assert_int_equal(kill(t.pid, SIGSTOP), 0);
	/* the host gives up at KATO and its first reconnect waits for the stopped target */
	deadline = now_ms() + 3000;
	while (now_ms() < deadline)
		nvmf_qpair_wait(q, 100);
	assert_int_equal(kill(t.pid, SIGCONT), 0);
	deadline = now_ms() + 30000;
	while (nvmf_ctrl_reconnects(c) < 1 || nvmf_ctrl_state(c) != NVMF_CTRL_LIVE) {
		nvmf_qpair_wait(q, 100);
		nvmf_qpair_poll(q, 0);
		assert_true(now_ms() < deadline);
	}
	/* longer than reconnect_delay: a second reconnect would have happened by now */
	deadline = now_ms() + 2500;
	while (now_ms() < deadline) {
		nvmf_qpair_wait(q, 100);
		nvmf_qpair_poll(q, 0);
	}
	assert_int_equal(nvmf_ctrl_reconnects(c), 1);
	assert_int_equal(nvmf_read_sync(q, 1, 64, sizeof(r) / 512, r), 0);
	assert_memory_equal(r, w, sizeof(r));
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
}

/*
 * The admin thread's event set cannot be made (out of file descriptors right there): the
 * connect fails and says so, rather than leaving a thread that waits on nothing.
 */
static void connect_fails_without_admin_epoll(void **state)
{
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c = NULL;
	uint16_t port = tp_free_port();
	struct rlimit old, lim;
	int probe[3], top = 0, rc;

	(void)state;
	snprintf(port_text, sizeof(port_text), "%u", port);
	assert_int_equal(start_ram(&t, port), 0);
	opts(&o, port_text);
	/*
	 * Room for exactly three more descriptors: the wake-up eventfd, the admin queue
	 * pair's epoll set and its kick eventfd; the admin thread's epoll set is the fourth.
	 */
	for (int i = 0; i < 3; i++) {
		probe[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(probe[i] >= 0);
		top = probe[i] > top ? probe[i] : top;
	}
	for (int i = 0; i < 3; i++)
		close(probe[i]);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)top + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	rc = nvmf_ctrl_connect(&o, &c);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(rc < 0);
	assert_null(c);
	assert_non_null(strstr(nvmf_strerror_last(), "epoll"));
	/* and with descriptors to spare it connects */
	assert_int_equal(nvmf_ctrl_connect(&o, &c), 0);
	nvmf_ctrl_disconnect(c);
	assert_int_equal(tp_stop(&t), 0);
}

/* ------------------------------------------------------------------ bad controller */

/* A controller that answers the admin Connect with an R2T of length 0. */
static void *evil_controller(void *arg)
{
	int lfd = *(int *)arg, fd;
	uint8_t buf[4096];
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	ssize_t n;
	int cnt;
	static int term_type = -1;

	fd = accept(lfd, NULL, NULL);
	n = recv(fd, buf, 128, MSG_WAITALL); /* ICReq */
	cnt = nvmf_pdu_icresp(&out, 0, 0, 131072, iov, 4);
	for (int i = 0; i < cnt; i++)
		send(fd, iov[i].iov_base, iov[i].iov_len, 0);
	n = recv(fd, buf, 72 + 1024, MSG_WAITALL); /* Connect + data */
	cnt = nvmf_pdu_r2t(&out, &cfg, 0, 1, 0, 0, iov, 4);
	for (int i = 0; i < cnt; i++)
		send(fd, iov[i].iov_base, iov[i].iov_len, 0);
	n = recv(fd, buf, 24, MSG_WAITALL);
	term_type = n == 24 ? buf[0] : -1;
	close(fd);
	return &term_type;
}

static void h2c_term_for_bad_pdu(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c = NULL;
	pthread_t th;
	void *res;
	char port[16];

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	pthread_create(&th, NULL, evil_controller, &lfd);
	opts(&o, port);
	o.ctrl_loss_tmo_s = 0;
	assert_true(nvmf_ctrl_connect(&o, &c) < 0);
	assert_non_null(strstr(nvmf_strerror_last(), "R2T"));
	pthread_join(th, &res);
	assert_int_equal(*(int *)res, NVME_TCP_H2C_TERM);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_rw_verify),
		cmocka_unit_test(many_in_flight),
		cmocka_unit_test(eight_queues),
		cmocka_unit_test(discovery_follows_referral),
		cmocka_unit_test(keep_alive_holds_idle),
		cmocka_unit_test(target_restart_mid_job),
		cmocka_unit_test(gives_up_after_ctrl_loss_tmo),
		cmocka_unit_test(h2c_term_for_bad_pdu),
		cmocka_unit_test(poll_honours_max),
		cmocka_unit_test(poll_never_blocks_while_connecting),
		cmocka_unit_test(one_reconnect_after_target_stall),
		cmocka_unit_test(connect_fails_without_admin_epoll),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
