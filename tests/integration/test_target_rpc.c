/*
 * nvmf-target's JSON-RPC interface against SPDK's documented request and response shapes
 * (doc/jsonrpc.md, python/spdk/rpc, schema/schema.yaml; written from them, no SPDK code):
 * build a subsystem over RPC and use it from a host, change it live (the host gets the
 * namespace-change and ANA-change events), take it apart, save_config and start again
 * with -c (the subsystem and the data on the file bdev come back), and the errors with
 * SPDK's codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc/client.h"
#include "target_proc.h"
#include "tclient.h"

#define ADDR "127.0.0.1"
#define NQN "nqn.2016-06.io.spdk:cnode1"
#define IMG_BYTES (8u << 20)

static char sock_path[128], img_path[128], save_path[128], spdk_path[128], copy_path[128];
static char ptpl_path[128];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/nvmf-rpc-test-%d.sock", (int)getpid());
	snprintf(img_path, sizeof(img_path), "/tmp/nvmf-rpc-test-%d.img", (int)getpid());
	snprintf(save_path, sizeof(save_path), "/tmp/nvmf-rpc-test-%d.nvmet.json", (int)getpid());
	snprintf(spdk_path, sizeof(spdk_path), "/tmp/nvmf-rpc-test-%d.spdk.json", (int)getpid());
	snprintf(copy_path, sizeof(copy_path), "/tmp/nvmf-rpc-test-%d.copy.json", (int)getpid());
	fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, IMG_BYTES) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(img_path);
	unlink(save_path);
	unlink(copy_path);
	unlink(ptpl_path);
	if (!getenv("KEEP"))
		unlink(spdk_path);
	unlink(sock_path);
	return 0;
}

/* A call that must succeed; its result stays valid until the next ok() of the same r. */
static struct json_object *ok(struct rpc_reply *r, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct json_object *ok(struct rpc_reply *r, const char *method, const char *fmt, ...)
{
	char params[2048];
	va_list ap;

	rpc_reply_free(r);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(params, sizeof(params), fmt, ap);
		va_end(ap);
	}
	assert_int_equal(rpc_call(sock_path, method, fmt ? params : NULL, r), 0);
	if (r->code)
		fail_msg("%s: error %d: %s", method, r->code, r->message);
	return r->result;
}

/* A call that must fail with code; the message is returned for checks. */
static void fails(int code, const char *msg_prefix, const char *method, const char *params)
{
	struct rpc_reply r;

	assert_int_equal(rpc_call(sock_path, method, params, &r), 0);
	if (r.code != code)
		fail_msg("%s %s: code %d (%s), want %d", method, params ? params : "", r.code,
			 r.message, code);
	if (msg_prefix && strncmp(r.message, msg_prefix, strlen(msg_prefix)) != 0)
		fail_msg("%s: message \"%s\", want \"%s...\"", method, r.message, msg_prefix);
	rpc_reply_free(&r);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static const char *gets(struct json_object *o, const char *key)
{
	return json_object_get_string(get(o, key));
}

static int64_t geti(struct json_object *o, const char *key)
{
	return json_object_get_int64(get(o, key));
}

static void start_rpc(struct target_proc *t, const char *const *extra)
{
	const char *argv[16] = { "-r", sock_path, "--cpus", "2" };
	int n = 4;

	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	assert_int_equal(tp_start_unix(t, sock_path, argv), 0);
}

static void arm_aer(struct tclient *a, uint16_t *cid)
{
	struct nvme_sqe sqe;

	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(a, &sqe, cid), 0);
}

static void expect_aen(struct tclient *a, uint16_t cid, uint32_t dw0)
{
	struct nvme_cqe cqe;

	assert_int_equal(tc_wait_rsp(a, cid, 10000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), dw0);
}

/* Read (and so clear) a log page the event named, so the next event of its kind comes. */
static void read_log(struct tclient *a, uint8_t lid)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint8_t buf[4096];

	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(lid | ((sizeof(buf) / 4 - 1) << 16));
	assert_int_equal(tc_cmd(a, &sqe, buf, sizeof(buf), false, &cqe), 0);
	assert_int_equal(le16toh(cqe.status) >> 1, 0);
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + seed);
}

static void rpc_build_use_change_save_restore(void **state)
{
	struct target_proc t;
	struct rpc_reply r = { 0 };
	struct tclient a, io;
	struct json_object *res, *v;
	uint16_t port = tp_free_port(), aer, st;
	uint32_t nlb;
	uint8_t wbuf[4096], rbuf[4096];
	char la[160];
	struct stat sb;
	const char *extra[] = { "--save", save_path, NULL };

	(void)state;
	snprintf(la, sizeof(la), "{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"%s\","
		 "\"trsvcid\":\"%u\"}", ADDR, port);
	/* started with no configuration at all: it waits for calls */
	start_rpc(&t, extra);
	res = ok(&r, "rpc_get_methods", NULL);
	assert_true(json_object_array_length(res) >= 20);
	res = ok(&r, "spdk_get_version", NULL);
	assert_true(json_object_is_type(get(get(res, "fields"), "major"), json_type_int));

	/* build it, as SPDK's nvmf docs do */
	res = ok(&r, "bdev_aio_create", "{\"name\":\"aio0\",\"filename\":\"%s\"}", img_path);
	assert_string_equal(json_object_get_string(res), "aio0");
	res = ok(&r, "bdev_malloc_create", "{\"num_blocks\":2048,\"block_size\":512}");
	assert_string_equal(json_object_get_string(res), "Malloc0");
	res = ok(&r, "bdev_get_bdevs", "{\"name\":\"aio0\"}");
	assert_int_equal(json_object_array_length(res), 1);
	v = json_object_array_get_idx(res, 0);
	assert_int_equal(geti(v, "block_size") * geti(v, "num_blocks"), IMG_BYTES);
	nlb = (uint32_t)(sizeof(wbuf) / (size_t)geti(v, "block_size"));
	assert_string_equal(gets(v, "product_name"), "AIO disk");
	assert_false(json_object_get_boolean(get(v, "claimed")));
	ok(&r, "nvmf_create_transport", "{\"trtype\":\"TCP\",\"in_capsule_data_size\":8192,"
	   "\"max_queue_depth\":128}");
	res = ok(&r, "nvmf_get_transports", NULL);
	assert_int_equal(json_object_array_length(res), 1);
	v = json_object_array_get_idx(res, 0);
	assert_string_equal(gets(v, "trtype"), "TCP");
	assert_int_equal(geti(v, "in_capsule_data_size"), 8192);
	assert_int_equal(geti(v, "max_queue_depth"), 128);
	ok(&r, "nvmf_create_subsystem", "{\"nqn\":\"%s\",\"allow_any_host\":true,"
	   "\"serial_number\":\"SPDK00000000000001\",\"model_number\":\"rpc test\"}", NQN);
	res = ok(&r, "nvmf_subsystem_add_ns", "{\"nqn\":\"%s\",\"namespace\":{\"bdev_name\":"
		 "\"aio0\"}}", NQN);
	assert_int_equal(json_object_get_int(res), 1);
	ok(&r, "nvmf_subsystem_add_listener", "{\"nqn\":\"%s\",\"listen_address\":%s}", NQN, la);

	res = ok(&r, "nvmf_get_subsystems", NULL);
	assert_int_equal(json_object_array_length(res), 2);
	assert_string_equal(gets(json_object_array_get_idx(res, 0), "subtype"), "Discovery");
	v = json_object_array_get_idx(res, 1);
	assert_string_equal(gets(v, "nqn"), NQN);
	assert_string_equal(gets(v, "subtype"), "NVMe");
	assert_string_equal(gets(v, "serial_number"), "SPDK00000000000001");
	assert_string_equal(gets(v, "model_number"), "rpc test");
	assert_true(json_object_get_boolean(get(v, "allow_any_host")));
	assert_int_equal(atoi(gets(json_object_array_get_idx(get(v, "listen_addresses"), 0),
				   "trsvcid")), port);
	assert_string_equal(gets(json_object_array_get_idx(get(v, "listen_addresses"), 0),
				 "trtype"), "TCP");
	assert_string_equal(gets(json_object_array_get_idx(get(v, "namespaces"), 0),
				 "bdev_name"), "aio0");

	/* a host uses it */
	assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, a.cntlid, 1, false, false), 0);
	fill(wbuf, sizeof(wbuf), 0x5a);
	assert_int_equal(tc_rw(&io, true, 1, 8, nlb, wbuf, sizeof(wbuf), true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&io, false, 1, 8, nlb, rbuf, sizeof(rbuf), false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(wbuf, rbuf, sizeof(rbuf));
	res = ok(&r, "nvmf_subsystem_get_controllers", "{\"nqn\":\"%s\"}", NQN);
	assert_int_equal(json_object_array_length(res), 1);
	v = json_object_array_get_idx(res, 0);
	assert_int_equal(geti(v, "cntlid"), a.cntlid);
	assert_int_equal(geti(v, "num_io_qpairs"), 1);
	assert_string_equal(gets(v, "hostnqn"), TC_HOSTNQN);
	res = ok(&r, "nvmf_subsystem_get_qpairs", "{\"nqn\":\"%s\"}", NQN);
	assert_int_equal(json_object_array_length(res), 2);
	res = ok(&r, "nvmf_get_stats", NULL);
	{
		struct json_object *groups = get(res, "poll_groups");
		int64_t io_qpairs = 0, writes = 0;

		assert_true(geti(res, "tick_rate") > 0);
		for (size_t i = 0; i < json_object_array_length(groups); i++) {
			struct json_object *g = json_object_array_get_idx(groups, i);

			io_qpairs += geti(g, "current_io_qpairs");
			writes += geti(json_object_array_get_idx(get(g, "transports"), 0),
				       "write_cmds");
		}
		assert_int_equal(io_qpairs, 1);
		assert_true(writes >= 1);
		/*
		 * one statistics walk (target/stats.c) under both: SPDK's poll groups are its
		 * reactors, and its detail rides beside them with the same live writes
		 */
		{
			struct json_object *subs = get(res, "subsystems"), *s = NULL;
			int64_t detail = 0;

			assert_int_equal(json_object_array_length(get(res, "reactors")),
					 json_object_array_length(groups));
			for (size_t i = 0; i < json_object_array_length(subs); i++)
				if (!strcmp(gets(json_object_array_get_idx(subs, i), "nqn"), NQN))
					s = json_object_array_get_idx(subs, i);
			assert_non_null(s);
			for (size_t i = 0; i < json_object_array_length(get(s, "controllers")); i++) {
				struct json_object *qs = get(json_object_array_get_idx(
					get(s, "controllers"), i), "queues");

				for (size_t k = 0; k < json_object_array_length(qs); k++)
					detail += geti(get(get(json_object_array_get_idx(qs, k), "io"),
							   "commands"), "write");
			}
			assert_int_equal(detail, writes);
		}
	}
	res = ok(&r, "bdev_get_bdevs", "{\"name\":\"aio0\"}");
	assert_true(json_object_get_boolean(get(json_object_array_get_idx(res, 0), "claimed")));

	/* changed live: the host hears of each change */
	arm_aer(&a, &aer);
	/* SPDK's ptpl_file: reservations with persistence (RESCAP: all types, IEKEY, PTPL) */
	snprintf(ptpl_path, sizeof(ptpl_path), "/tmp/nvmf-rpc-%d.resv", (int)getpid());
	res = ok(&r, "nvmf_subsystem_add_ns", "{\"nqn\":\"%s\",\"namespace\":{\"bdev_name\":"
		 "\"Malloc0\",\"nsid\":2,\"ptpl_file\":\"%s\"}}", NQN, ptpl_path);
	assert_int_equal(json_object_get_int(res), 2);
	expect_aen(&a, aer, NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
					 NVME_LID_CHANGED_NS));
	read_log(&a, NVME_LID_CHANGED_NS);
	assert_int_equal(tc_rw(&io, true, 2, 0, 8, wbuf, sizeof(wbuf), false, &st), 0);
	assert_int_equal(st, 0);
	{
		struct nvme_id_ns id;

		assert_int_equal(tc_identify(&a, NVME_CNS_NS, 2, 0, &id, &st), 0);
		assert_int_equal(st, 0);
		assert_int_equal(id.rescap, 0xFF);
		assert_int_equal(tc_identify(&a, NVME_CNS_NS, 1, 0, &id, &st), 0);
		assert_int_equal(id.rescap, 0);
	}

	arm_aer(&a, &aer);
	ok(&r, "nvmf_subsystem_listener_set_ana_state", "{\"nqn\":\"%s\",\"listen_address\":%s,"
	   "\"ana_state\":\"non_optimized\",\"anagrpid\":1}", NQN, la);
	expect_aen(&a, aer, NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA_CHANGE,
					 NVME_LID_ANA));
	read_log(&a, NVME_LID_ANA);
	res = ok(&r, "nvmf_subsystem_get_listeners", "{\"nqn\":\"%s\"}", NQN);
	v = json_object_array_get_idx(get(json_object_array_get_idx(res, 0), "ana_states"), 0);
	assert_int_equal(geti(v, "ana_group"), 1);
	assert_string_equal(gets(v, "ana_state"), "non_optimized");

	arm_aer(&a, &aer);
	ok(&r, "nvmf_subsystem_remove_ns", "{\"nqn\":\"%s\",\"nsid\":2}", NQN);
	expect_aen(&a, aer, NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
					 NVME_LID_CHANGED_NS));
	read_log(&a, NVME_LID_CHANGED_NS);

	/* saved in both forms: SPDK's (save_config) and nvmetcli's (--save, after each change) */
	res = ok(&r, "save_config", NULL);
	assert_int_equal(json_object_to_file(spdk_path, res), 0);
	assert_int_equal(stat(save_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	{
		struct json_object *saved = json_object_from_file(save_path);
		const char *text = json_object_to_json_string_ext(saved, JSON_C_TO_STRING_PLAIN);

		assert_non_null(strstr(text, NQN));
		assert_non_null(strstr(text, "\"bdev\":\"aio0\""));
		assert_null(strstr(text, "Malloc0")); /* its namespace went */
		/* kept as it is now: --save goes on writing as the subsystem is taken apart */
		assert_int_equal(json_object_to_file(copy_path, saved), 0);
		json_object_put(saved);
	}

	/* taken apart: the listener first (its controllers go), then the rest */
	ok(&r, "nvmf_subsystem_remove_listener", "{\"nqn\":\"%s\",\"listen_address\":%s}", NQN,
	   la);
	assert_true(tc_rw(&io, false, 1, 8, nlb, rbuf, sizeof(rbuf), false, &st) < 0 || st != 0);
	tc_close(&io);
	tc_close(&a);
	res = ok(&r, "nvmf_subsystem_get_listeners", "{\"nqn\":\"%s\"}", NQN);
	assert_int_equal(json_object_array_length(res), 0);
	ok(&r, "nvmf_delete_subsystem", "{\"nqn\":\"%s\"}", NQN);
	res = ok(&r, "nvmf_get_subsystems", NULL);
	assert_int_equal(json_object_array_length(res), 1);
	ok(&r, "bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	fails(-ENODEV, "No such device", "bdev_malloc_delete", "{\"name\":\"Malloc0\"}");
	{
		struct json_object *saved = json_object_from_file(save_path);

		assert_null(strstr(json_object_to_json_string(saved), NQN));
		json_object_put(saved);
	}
	rpc_reply_free(&r);
	assert_int_equal(tp_stop(&t), 0);

	/* started again from what save_config wrote: the same subsystem, the same data */
	{
		const char *json[] = { "-c", spdk_path, NULL };

		start_rpc(&t, json);
	}
	res = ok(&r, "nvmf_get_subsystems", "{\"nqn\":\"%s\"}", NQN);
	assert_int_equal(json_object_array_length(res), 1);
	v = json_object_array_get_idx(res, 0);
	assert_string_equal(gets(v, "serial_number"), "SPDK00000000000001");
	assert_int_equal(json_object_array_length(get(v, "namespaces")), 1);
	res = ok(&r, "nvmf_subsystem_get_listeners", "{\"nqn\":\"%s\"}", NQN);
	v = json_object_array_get_idx(get(json_object_array_get_idx(res, 0), "ana_states"), 0);
	assert_string_equal(gets(v, "ana_state"), "non_optimized");
	rpc_reply_free(&r);
	assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, a.cntlid, 1, false, false), 0);
	assert_int_equal(tc_rw(&io, false, 1, 8, nlb, rbuf, sizeof(rbuf), false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(wbuf, rbuf, sizeof(rbuf));
	tc_close(&io);
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);

	/* and the nvmetcli form --save wrote loads with --config */
	{
		const char *cfg[] = { "--config", copy_path, NULL };

		assert_int_equal(tp_start(&t, port, cfg), 0);
		assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
		assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, a.cntlid, 1, false, false), 0);
		assert_int_equal(tc_rw(&io, false, 1, 8, nlb, rbuf, sizeof(rbuf), false, &st), 0);
		assert_memory_equal(wbuf, rbuf, sizeof(rbuf));
		tc_close(&io);
		tc_close(&a);
		assert_int_equal(tp_stop(&t), 0);
	}
}

static void rpc_errors_have_spdk_codes(void **state)
{
	struct target_proc t;
	struct rpc_reply r = { 0 };
	struct json_object *out[4] = { 0 };
	char params[256];
	int n;

	(void)state;
	start_rpc(&t, NULL);
	fails(-32601, "Method not found", "no_such_method", NULL);
	fails(-32602, "Invalid parameters", "nvmf_create_subsystem", "{}");
	fails(-32602, "Invalid parameters", "nvmf_create_subsystem", "{\"nqn\":5}");
	fails(-32602, "Invalid parameters", "nvmf_create_subsystem",
	      "{\"nqn\":\"" NQN "\",\"no_such_key\":1}");
	fails(-32603, "Unable to create subsystem", "nvmf_create_subsystem",
	      "{\"nqn\":\"not an nqn\"}");
	ok(&r, "nvmf_create_subsystem", "{\"nqn\":\"%s\"}", NQN);
	fails(-32603, "Unable to create subsystem " NQN, "nvmf_create_subsystem",
	      "{\"nqn\":\"" NQN "\"}");
	fails(-32602, "Invalid parameters", "nvmf_subsystem_add_ns",
	      "{\"nqn\":\"" NQN "\",\"namespace\":{\"bdev_name\":\"Malloc9\"}}");
	fails(-32602, "Subsystem with NQN 'nqn.2016-06.io.spdk:none' not found",
	      "nvmf_delete_subsystem", "{\"nqn\":\"nqn.2016-06.io.spdk:none\"}");
	snprintf(params, sizeof(params), "{\"nqn\":\"%s\",\"listen_address\":{\"trtype\":\"tcp\","
		 "\"traddr\":\"127.0.0.1\",\"trsvcid\":\"%u\"}}", NQN, tp_free_port());
	fails(-32602, "Invalid parameters", "nvmf_subsystem_add_listener", params);
	fails(-32602, "Invalid transport type 'RDMA'", "nvmf_create_transport",
	      "{\"trtype\":\"RDMA\"}");
	ok(&r, "nvmf_create_transport", "{\"trtype\":\"TCP\"}");
	fails(-32603, "Transport type 'TCP' already exists", "nvmf_create_transport",
	      "{\"trtype\":\"TCP\"}");
	/* an address this host does not have: the call fails, nothing stays configured */
	fails(-32602, "Invalid parameters", "nvmf_subsystem_add_listener",
	      "{\"nqn\":\"" NQN "\",\"listen_address\":{\"trtype\":\"tcp\","
	      "\"traddr\":\"192.0.2.1\",\"trsvcid\":\"4420\"}}");
	assert_int_equal(json_object_array_length(ok(&r, "nvmf_subsystem_get_listeners",
						     "{\"nqn\":\"%s\"}", NQN)), 0);
	fails(-32602, "Invalid parameters", "bdev_malloc_create", "{\"num_blocks\":16}");
	fails(-32602, "Invalid parameters", "bdev_malloc_create",
	      "{\"num_blocks\":16,\"block_size\":520}");
	fails(-ENODEV, "No such device", "bdev_get_bdevs", "{\"name\":\"nothing\"}");
	/* a namespace the model refuses leaves the configuration as it was */
	ok(&r, "bdev_aio_create", "{\"name\":\"gone\",\"filename\":\"%s\"}", img_path);
	fails(-32602, "Invalid nguid", "nvmf_subsystem_add_ns",
	      "{\"nqn\":\"" NQN "\",\"namespace\":{\"bdev_name\":\"gone\",\"nguid\":\"xyz\"}}");
	fails(-32602, "Invalid parameters", "nvmf_subsystem_remove_ns",
	      "{\"nqn\":\"" NQN "\",\"nsid\":7}");

	/* SPDK keeps a host list while any host may connect; nvmet cannot: kept aside */
	ok(&r, "nvmf_subsystem_add_host", "{\"nqn\":\"%s\",\"host\":\"%s\"}", NQN,
	   "nqn.2016-06.io.spdk:host1");
	ok(&r, "nvmf_subsystem_allow_any_host", "{\"nqn\":\"%s\",\"allow_any_host\":true}",
	   NQN);
	ok(&r, "nvmf_subsystem_add_host", "{\"nqn\":\"%s\",\"host\":\"%s\"}", NQN,
	   "nqn.2016-06.io.spdk:host2");
	ok(&r, "nvmf_subsystem_allow_any_host", "{\"nqn\":\"%s\",\"allow_any_host\":false}",
	   NQN);
	{
		struct json_object *s = json_object_array_get_idx(
			ok(&r, "nvmf_get_subsystems", "{\"nqn\":\"%s\"}", NQN), 0);

		assert_false(json_object_get_boolean(get(s, "allow_any_host")));
		assert_int_equal(json_object_array_length(get(s, "hosts")), 2);
	}
	ok(&r, "nvmf_subsystem_remove_host", "{\"nqn\":\"%s\",\"host\":\"%s\"}", NQN,
	   "nqn.2016-06.io.spdk:host1");
	fails(-32602, "Invalid parameters", "nvmf_subsystem_allow_any_host",
	      "{\"nqn\":\"" NQN "\"}");
	fails(-32602, "Invalid parameters", "nvmf_subsystem_add_host",
	      "{\"nqn\":\"" NQN "\",\"host\":\"nqn.2016-06.io.spdk:h3\",\"psk\":\"key0\"}");
	rpc_reply_free(&r);

	/* protocol errors: bad JSON (the connection closes), a request that is not JSON-RPC 2.0 */
	n = rpc_raw(sock_path, "{bad json}", out, 2);
	assert_int_equal(n, 1);
	assert_int_equal(json_object_get_int(get(get(out[0], "error"), "code")), -32700);
	json_object_put(out[0]);
	n = rpc_raw(sock_path, "{\"jsonrpc\":\"1.0\",\"method\":\"spdk_get_version\",\"id\":1}",
		    out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(json_object_get_int(get(get(out[0], "error"), "code")), -32600);
	json_object_put(out[0]);

	/* pipelined in one write, a notification among them, then a batch */
	n = rpc_raw(sock_path,
		    "{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\",\"id\":1}\n"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"nvmf_get_transports\"}"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"nvmf_get_subsystems\",\"id\":\"two\"}",
		    out, 2);
	assert_int_equal(n, 2);
	assert_int_equal(geti(out[0], "id"), 1);
	assert_string_equal(gets(out[1], "id"), "two");
	json_object_put(out[0]);
	json_object_put(out[1]);
	n = rpc_raw(sock_path,
		    "[{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\",\"id\":1},"
		    "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2}]", out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(json_object_array_length(out[0]), 2);
	assert_int_equal(json_object_get_int(get(get(json_object_array_get_idx(out[0], 1),
						     "error"), "code")), -32601);
	json_object_put(out[0]);
	assert_int_equal(tp_stop(&t), 0);
}

/*
 * A file as SPDK's save_config writes it (the subsystems and option calls of an nvmf_tgt
 * with its defaults, shapes from SPDK's docs): options we have no use for load as no-ops.
 */
static const char spdk_written[] =
	"{\"subsystems\":["
	"{\"subsystem\":\"keyring\",\"config\":[]},"
	"{\"subsystem\":\"iobuf\",\"config\":[{\"method\":\"iobuf_set_options\",\"params\":"
	"{\"small_pool_count\":8192,\"large_pool_count\":1024,\"small_bufsize\":8192,"
	"\"large_bufsize\":135168}}]},"
	"{\"subsystem\":\"sock\",\"config\":[{\"method\":\"sock_set_default_impl\",\"params\":"
	"{\"impl_name\":\"posix\"}},{\"method\":\"sock_impl_set_options\",\"params\":"
	"{\"impl_name\":\"posix\",\"recv_buf_size\":2097152,\"enable_zerocopy_send_server\":true}}]},"
	"{\"subsystem\":\"vmd\",\"config\":[]},"
	"{\"subsystem\":\"accel\",\"config\":[{\"method\":\"accel_set_options\",\"params\":"
	"{\"small_cache_size\":128}}]},"
	"{\"subsystem\":\"bdev\",\"config\":["
	"{\"method\":\"bdev_set_options\",\"params\":{\"bdev_io_pool_size\":65535}},"
	"{\"method\":\"bdev_raid_set_options\",\"params\":{\"process_window_size_kb\":1024}},"
	"{\"method\":\"bdev_nvme_set_options\",\"params\":{\"action_on_timeout\":\"none\"}},"
	"{\"method\":\"bdev_nvme_set_hotplug\",\"params\":{\"period_us\":100000,"
	"\"enable\":false}},"
	"{\"method\":\"bdev_malloc_create\",\"params\":{\"name\":\"Malloc1\",\"num_blocks\":"
	"8192,\"block_size\":512,\"physical_block_size\":512,"
	"\"uuid\":\"2b1e4f3a-7c55-4d2e-9a61-0f4c3b2a1d00\",\"optimal_io_boundary\":0,"
	"\"md_size\":0,\"dif_type\":0,\"dif_is_head_of_md\":false,\"dif_pi_format\":0}},"
	"{\"method\":\"bdev_wait_for_examine\"}]},"
	"{\"subsystem\":\"scheduler\",\"config\":[{\"method\":\"framework_set_scheduler\","
	"\"params\":{\"name\":\"static\"}}]},"
	"{\"subsystem\":\"nvmf\",\"config\":["
	"{\"method\":\"nvmf_set_config\",\"params\":{\"discovery_filter\":\"match_any\","
	"\"admin_cmd_passthru\":{\"identify_ctrlr\":false}}},"
	"{\"method\":\"nvmf_set_max_subsystems\",\"params\":{\"max_subsystems\":1024}},"
	"{\"method\":\"nvmf_set_crdt\",\"params\":{\"crdt1\":0,\"crdt2\":0,\"crdt3\":0}},"
	"{\"method\":\"nvmf_create_transport\",\"params\":{\"trtype\":\"TCP\","
	"\"max_queue_depth\":128,\"max_io_qpairs_per_ctrlr\":127,\"in_capsule_data_size\":4096,"
	"\"max_io_size\":131072,\"io_unit_size\":131072,\"max_aq_depth\":128,"
	"\"num_shared_buffers\":511,\"buf_cache_size\":4294967295,\"dif_insert_or_strip\":false,"
	"\"zcopy\":false,\"c2h_success\":true,\"sock_priority\":0,\"abort_timeout_sec\":1,"
	"\"ack_timeout\":0,\"data_wr_pool_size\":0}},"
	"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN "\","
	"\"allow_any_host\":true,\"serial_number\":\"SPDK00000000000001\","
	"\"model_number\":\"SPDK bdev Controller\",\"max_namespaces\":32,\"min_cntlid\":1,"
	"\"max_cntlid\":65519,\"ana_reporting\":false,\"dmrsl\":0,\"wzsl\":0,"
	"\"passthrough\":false,\"enable_nssr\":false}},"
	"{\"method\":\"nvmf_subsystem_add_listener\",\"params\":{\"nqn\":\"" NQN "\","
	"\"listen_address\":{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"127.0.0.1\","
	"\"trsvcid\":\"%u\"},\"secure_channel\":false,\"sock_impl\":\"posix\"}},"
	"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\",\"namespace\":"
	"{\"nsid\":1,\"bdev_name\":\"Malloc1\",\"nguid\":\"2B1E4F3A7C554D2E9A610F4C3B2A1D00\","
	"\"uuid\":\"2b1e4f3a-7c55-4d2e-9a61-0f4c3b2a1d00\",\"no_auto_visible\":false}}}]}]}";

static void rpc_loads_what_spdk_writes(void **state)
{
	struct target_proc t;
	struct rpc_reply r = { 0 };
	struct tclient a;
	struct json_object *v;
	uint16_t port = tp_free_port();
	uint8_t id[4096];
	uint16_t st;
	const char *json[] = { "-c", spdk_path, NULL };
	FILE *f = fopen(spdk_path, "w");

	(void)state;
	assert_non_null(f);
	fprintf(f, spdk_written, port);
	fclose(f);
	start_rpc(&t, json);
	v = json_object_array_get_idx(ok(&r, "nvmf_get_subsystems", "{\"nqn\":\"%s\"}", NQN), 0);
	assert_string_equal(gets(v, "model_number"), "SPDK bdev Controller");
	v = json_object_array_get_idx(get(v, "namespaces"), 0);
	assert_string_equal(gets(v, "uuid"), "2b1e4f3a-7c55-4d2e-9a61-0f4c3b2a1d00");
	assert_string_equal(gets(v, "nguid"), "2B1E4F3A7C554D2E9A610F4C3B2A1D00");
	rpc_reply_free(&r);
	/* the host sees the namespace with the identifiers the file gave */
	assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_identify(&a, NVME_CNS_NS_DESC_LIST, 1, 0, id, &st), 0);
	assert_int_equal(st, 0);
	{
		static const uint8_t uuid[16] = { 0x2b, 0x1e, 0x4f, 0x3a, 0x7c, 0x55, 0x4d, 0x2e,
						  0x9a, 0x61, 0x0f, 0x4c, 0x3b, 0x2a, 0x1d, 0x00 };
		bool found = false;

		/* descriptors: type, length, 2 reserved, then the identifier */
		for (size_t off = 0; off + 4 < sizeof(id) && id[off];
		     off += 4 + (size_t)id[off + 1])
			found |= id[off] == 3 && memcmp(&id[off + 4], uuid, 16) == 0;
		assert_true(found);
	}
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rpc_build_use_change_save_restore),
		cmocka_unit_test(rpc_errors_have_spdk_codes),
		cmocka_unit_test(rpc_loads_what_spdk_writes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
