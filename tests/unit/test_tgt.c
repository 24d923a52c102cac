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
#include <stdatomic.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry),
		cmocka_unit_test(unregistered_trtype_not_served),
		cmocka_unit_test(life_cycle_through_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
