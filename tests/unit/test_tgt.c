/*
 * The target core's life cycle against a fake transport: tgt.c reaches ports and queues
 * only through the ops table registered for the port's trtype (no TCP code is linked into
 * this test), on the reactors the ops promise, and flushes backends through their ops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/target.h"

/* What the fake transport saw, from whichever thread called it. */
static atomic_int add_port_calls, port_start_calls, remove_port_calls, drain_calls;
static atomic_int wrong_thread;

static int fake_add_port(struct nvmf_port *port, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	/* before the reactors serve it: no reactor assigned yet */
	if (port->reactor)
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&add_port_calls, 1);
	return 0;
}

static void fake_port_start(struct nvmf_port *port)
{
	if (nvmf_reactor_self() != port->reactor)
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&port_start_calls, 1);
}

static void fake_remove_port(struct nvmf_port *port)
{
	if (nvmf_reactor_self() != port->reactor)
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&remove_port_calls, 1);
}

static void fake_drain(void)
{
	if (!nvmf_reactor_self())
		atomic_fetch_add(&wrong_thread, 1);
	atomic_fetch_add(&drain_calls, 1);
}

static const struct nvmf_transport_ops fake_ops = {
	.name = "fake",
	.trtype = NVMF_CFG_TRTYPE_TCP,
	.add_port = fake_add_port,
	.port_start = fake_port_start,
	.remove_port = fake_remove_port,
	.drain = fake_drain,
};

static const struct nvmf_transport_ops other_ops = {
	.name = "other",
	.trtype = NVMF_CFG_TRTYPE_TCP,
};

static void registry(void **state)
{
	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_ops), 0);
	/* once per trtype; registering the same table again is harmless */
	assert_int_equal(nvmf_transport_register(&fake_ops), 0);
	assert_int_equal(nvmf_transport_register(&other_ops), -EEXIST);
	assert_ptr_equal(nvmf_transport_find(NVMF_CFG_TRTYPE_TCP), &fake_ops);
	assert_null(nvmf_transport_find(NVMF_CFG_TRTYPE_RDMA));
}

/* A port of a trtype nobody registered is not served. */
static void unregistered_trtype_not_served(void **state)
{
	struct nvmf_cfg_port tcp = { .enabled = true, .trtype = NVMF_CFG_TRTYPE_TCP };
	struct nvmf_cfg_port rdma = { .enabled = true, .trtype = NVMF_CFG_TRTYPE_RDMA };

	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_ops), 0);
	assert_true(nvmf_tgt_serves_port(&tcp));
	assert_false(nvmf_tgt_serves_port(&rdma));
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
		usleep(1000);
}

/* Start and stop: every port and queue call goes through the registered ops. */
static void life_cycle_through_ops(void **state)
{
	struct nvmf_cfg_quick q = { .backend = NVMF_BACKEND_RAM, .size = 1 << 20 };
	struct nvmf_cfg *cfg;
	struct nvmf_tgt *tgt;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_ops), 0);
	cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(nvmf_tgt_create(cfg, 2, 0, &tgt, err, sizeof(err)), 0);
	assert_int_equal(tgt->nr_ports, 1);
	assert_ptr_equal(tgt->ports[0]->ops, &fake_ops);
	assert_int_equal(nvmf_tgt_start(tgt, err, sizeof(err)), 0);
	assert_int_equal(atomic_load(&add_port_calls), 1);
	wait_for(&port_start_calls, 1);
	assert_int_equal(atomic_load(&port_start_calls), 1);

	nvmf_tgt_stop(tgt);
	assert_int_equal(atomic_load(&remove_port_calls), 1);
	/* once on each reactor */
	assert_int_equal(atomic_load(&drain_calls), 2);
	assert_int_equal(atomic_load(&wrong_thread), 0);
	/* a RAM backend has nothing to flush */
	assert_int_equal(nvmf_bdev_flush(tgt->all_ns[0]->bdev), 0);
	nvmf_tgt_destroy(tgt);
}

/* ------------------------------------------------------------------ retired namespaces */

static char img[2][64], cfg_file[64];

static void write_cfg(bool with_ns2)
{
	FILE *f = fopen(cfg_file, "w");

	assert_non_null(f);
	fprintf(f, "{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", "
		"\"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"}, "
		"\"subsystems\": [\"nqn.2024-01.io.nvmf-tcp.test:grace\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"nqn.2024-01.io.nvmf-tcp.test:grace\", "
		"\"attr\": {\"allow_any_host\": \"1\"}, \"namespaces\": ["
		"{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\"}}%s%s%s]}]}\n",
		img[0], with_ns2 ? ", {\"nsid\": 2, \"enable\": 1, \"device\": {\"path\": \"" : "",
		with_ns2 ? img[1] : "", with_ns2 ? "\"}}" : "");
	fclose(f);
}

/* A command of reactor 1 that holds a namespace (what the transport's request does). */
static struct nvmf_sq held_sq;
static struct nvmf_req held;
static struct nvmf_ns *held_ns;
static atomic_int held_steps;

static void hold_on_reactor(void *arg)
{
	(void)arg;
	nvmf_req_set_ns(&held, held_ns);
	atomic_fetch_add(&held_steps, 1);
}

static void release_on_reactor(void *arg)
{
	(void)arg;
	nvmf_req_release(&held);
	atomic_fetch_add(&held_steps, 1);
}

/*
 * A reload removes namespace 2 while a command on reactor 1 still holds it: the file stays
 * open (the grace point of reactor 1 waits) until the command lets go, then the sweep
 * closes it.
 */
static void retired_ns_waits_for_commands(void **state)
{
	struct nvmf_cfg *cfg;
	struct nvmf_tgt *tgt;
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_ops), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(img[i], sizeof(img[i]), "/tmp/nvmf-grace-%d-%d.img", (int)getpid(), i);
		fd = open(img[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
		close(fd);
	}
	snprintf(cfg_file, sizeof(cfg_file), "/tmp/nvmf-grace-%d.json", (int)getpid());
	write_cfg(true);
	assert_int_equal(nvmf_cfg_load_file(cfg_file, &cfg, err, sizeof(err)), 0);
	assert_int_equal(nvmf_tgt_create(cfg, 2, 0, &tgt, err, sizeof(err)), 0);
	tgt->config_path = cfg_file;
	assert_int_equal(nvmf_tgt_start(tgt, err, sizeof(err)), 0);

	held_ns = nvmf_subsys_find_ns(nvmf_tgt_subsys(tgt)->s[0], 2);
	assert_non_null(held_ns);
	fd = held_ns->bdev->fd;
	held_sq.reactor = &tgt->reactors[1];
	held.sq = &held_sq;
	assert_int_equal(nvmf_reactor_call(&tgt->reactors[1], hold_on_reactor, NULL), 0);
	wait_for(&held_steps, 1);

	write_cfg(false);
	assert_int_equal(nvmf_tgt_reload(tgt, err, sizeof(err)), 0);
	assert_null(nvmf_subsys_find_ns(nvmf_tgt_subsys(tgt)->s[0], 2));
	/* 50 ms of sweeps: reactor 1 does not pass, the file stays open */
	for (int i = 0; i < 50; i++) {
		assert_true(nvmf_tgt_sweep_retired(tgt));
		usleep(1000);
	}
	assert_true(fcntl(fd, F_GETFD) >= 0);

	assert_int_equal(nvmf_reactor_call(&tgt->reactors[1], release_on_reactor, NULL), 0);
	wait_for(&held_steps, 2);
	for (int i = 0; i < 2000 && nvmf_tgt_sweep_retired(tgt); i++)
		usleep(1000);
	assert_false(nvmf_tgt_sweep_retired(tgt));
	/* closed (the number may be reused later, not yet: nothing opened since) */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_non_null(nvmf_subsys_find_ns(nvmf_tgt_subsys(tgt)->s[0], 1));

	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	unlink(img[0]);
	unlink(img[1]);
	unlink(cfg_file);
}

/* ------------------------------------------------------------------ request states */

static void state_moves_checked_and_counted(void **state)
{
	struct nvmf_sq sq = { 0 };
	enum nvmf_req_state a = NVMF_REQ_FREE, b = NVMF_REQ_FREE;

	(void)state;
	/* the life of a write that waited for buffers, and one that failed at parse */
	assert_true(nvmf_req_state_allowed(NVMF_REQ_FREE, NVMF_REQ_NEW));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_NEW, NVMF_REQ_NEED_BUFFER));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_NEED_BUFFER, NVMF_REQ_TRANSFER_H2C));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_TRANSFER_H2C, NVMF_REQ_EXECUTING));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_EXECUTING, NVMF_REQ_RESPONDING));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_RESPONDING, NVMF_REQ_FREE));
	assert_true(nvmf_req_state_allowed(NVMF_REQ_NEW, NVMF_REQ_RESPONDING));
	/* what no request may do */
	assert_false(nvmf_req_state_allowed(NVMF_REQ_FREE, NVMF_REQ_EXECUTING));
	assert_false(nvmf_req_state_allowed(NVMF_REQ_FREE, NVMF_REQ_FREE));
	assert_false(nvmf_req_state_allowed(NVMF_REQ_RESPONDING, NVMF_REQ_EXECUTING));
	assert_false(nvmf_req_state_allowed(NVMF_REQ_TRANSFER_H2C, NVMF_REQ_NEED_BUFFER));
	assert_false(nvmf_req_state_allowed(NVMF_REQ_EXECUTING, NVMF_REQ_TRANSFER_H2C));
	assert_false(nvmf_req_state_allowed(NVMF_REQ_NR_STATES, NVMF_REQ_FREE));

	sq.req_states.n[NVMF_REQ_FREE] = 2;
	nvmf_req_set_state(&sq.req_states, &a, NVMF_REQ_NEW);
	nvmf_req_set_state(&sq.req_states, &b, NVMF_REQ_NEW);
	nvmf_req_set_state(&sq.req_states, &a, NVMF_REQ_NEED_BUFFER);
	assert_int_equal(a, NVMF_REQ_NEED_BUFFER);
	assert_int_equal(nvmf_sq_req_count(&sq, NVMF_REQ_FREE), 0);
	assert_int_equal(nvmf_sq_req_count(&sq, NVMF_REQ_NEW), 1);
	assert_int_equal(nvmf_sq_req_count(&sq, NVMF_REQ_NEED_BUFFER), 1);
	nvmf_req_set_state(&sq.req_states, &b, NVMF_REQ_RESPONDING);
	nvmf_req_set_state(&sq.req_states, &b, NVMF_REQ_FREE);
	nvmf_req_set_state(&sq.req_states, &a, NVMF_REQ_FREE);
	assert_int_equal(nvmf_sq_req_count(&sq, NVMF_REQ_FREE), 2);
	assert_int_equal(nvmf_sq_req_count(&sq, NVMF_REQ_NEED_BUFFER), 0);
	assert_string_equal(nvmf_req_state_name(NVMF_REQ_NEED_BUFFER), "need-buffer");
}

/* ------------------------------------------------------------------ buffer waits */

static struct nvmf_reactor R;
static struct nvmf_req *ready_order[4];
static unsigned nr_ready;

static void on_ready(struct nvmf_req *req)
{
	assert_true(req->iovcnt > 0);
	ready_order[nr_ready++] = req;
	/* the first one served gives its buffers back at once: the next gets them */
	if (nr_ready == 1)
		nvmf_req_free_data(req);
	else
		nvmf_reactor_stop(&R);
}

static void on_ready_never(struct nvmf_req *req)
{
	(void)req;
	fail_msg("a cancelled wait was served");
}

/*
 * A tiny pool (one largest transfer): requests that do not fit wait, first come first
 * served -- even one that would fit queues behind an older waiter -- and are served on
 * the reactor once buffers come back; a cancelled wait is never served.
 */
static void buffer_waiters_fifo(void **state)
{
	struct nvmf_req a = { .xfer_len = 512 * 1024 }, big = { .xfer_len = NVMF_MAX_XFER };
	struct nvmf_req small = { .xfer_len = 4096 }, gone = { .xfer_len = 4096 };

	(void)state;
	assert_int_equal(nvmf_reactor_init(&R, 0, 64, 0), 0);
	nvmf_req_data_set_limit(1); /* rounded up to one largest transfer */
	assert_int_equal(nvmf_req_alloc_data(&a), 0);
	assert_int_not_equal(nvmf_req_alloc_data(&big), 0);
	nvmf_req_wait_data(&big, on_ready);
	/* fits, but an older request waits */
	assert_int_not_equal(nvmf_req_alloc_data(&small), 0);
	nvmf_req_wait_data(&gone, on_ready_never);
	nvmf_req_wait_data(&small, on_ready);
	nvmf_req_cancel_wait_data(&gone);

	nvmf_req_free_data(&a);
	nvmf_reactor_run(&R);
	assert_int_equal(nr_ready, 2);
	assert_ptr_equal(ready_order[0], &big);
	assert_ptr_equal(ready_order[1], &small);
	assert_int_equal(big.iovcnt, 0);
	nvmf_req_free_data(&small);
	nvmf_req_data_set_limit(0);
	/* without a limit, what did not fit before does */
	assert_int_equal(nvmf_req_alloc_data(&big), 0);
	assert_int_equal(nvmf_req_alloc_data(&a), 0);
	nvmf_req_free_data(&big);
	nvmf_req_free_data(&a);
	nvmf_reactor_fini(&R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_moves_checked_and_counted),
		cmocka_unit_test(buffer_waiters_fifo),
		cmocka_unit_test(registry),
		cmocka_unit_test(unregistered_trtype_not_served),
		cmocka_unit_test(life_cycle_through_ops),
		cmocka_unit_test(retired_ns_waits_for_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
