/*
 * RBD namespaces against a real Ceph cluster: the tests start a single-node cluster of
 * their own (ceph-cluster.sh: one monitor, one memstore OSD on 127.0.0.1, everything in a
 * temporary directory) and tear it down.
 *
 *   config.json    a namespace whose device path is rbd:POOL/IMAGE?conf=..&id=..&keyring=..:
 *                  writes and reads through the target, the image's bytes checked with
 *                  `rbd export`; FUA, flush, write zeroes, deallocate; the product's host
 *                  (nvmf write / read, nvmf perf --verify on libnvmf) on it
 *   resize         `rbd resize` under a connected host: Identify Namespace shows the new
 *                  size, a "namespace attribute changed" event and the changed namespace
 *                  log name it, blocks past the old end can be written
 *   JSON-RPC       bdev_rbd_create / nvmf_subsystem_add_ns / bdev_get_bdevs /
 *                  save_config / bdev_rbd_delete as SPDK's rpc.py sends them, 4 KiB blocks
 *   errors         a missing pool or image, a malformed path, an unreachable cluster: the
 *                  target refuses to start, names the file, the namespace and the reason,
 *                  and does not hang
 *   OSD lost       (last: it stops the cluster's only OSD) I/O on an image whose OSD is
 *                  gone fails with an error after the path's timeout instead of hanging,
 *                  the controller keeps answering, and the target still stops
 *
 * Environment (meson): NVMF_TARGET, NVMF_CLI, NVMF_CEPH_CLUSTER
 * (tests/integration/ceph-cluster.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc/client.h"
#include "tclient.h"
#include "ceph_test.h"
#include "target_proc.h"

#define ADDR "127.0.0.1"
#define NQN "nqn.2024-01.io.nvmf-tcp.test:rbd"
#define IMG_MB 16

static char cfg_path[160], sock_path[160];

static int group_setup(void **state)
{
	(void)state;
	if (!getenv("NVMF_TARGET") || !getenv("NVMF_CLI"))
		return -1;
	if (ceph_up("rbd"))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config.json", ceph_dir);
	snprintf(sock_path, sizeof(sock_path), "%s/rpc.sock", ceph_dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ceph_down();
	return 0;
}

static void rbd_create(const char *image, unsigned mb)
{
	assert_int_equal(ceph_rbd_create(image, mb), 0);
}

/* The image's bytes [off, off + len) as `rbd export` writes them. */
static void rbd_bytes(const char *image, uint64_t off, void *buf, size_t len)
{
	const char *out = ceph_rbd_export(image);
	FILE *f;

	assert_non_null(out);
	f = fopen(out, "rb");
	assert_non_null(f);
	assert_int_equal(fseeko(f, (off_t)off, SEEK_SET), 0);
	assert_int_equal(fread(buf, 1, len, f), len);
	fclose(f);
	unlink(out);
}

static void write_config(const char *path, uint16_t port)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"   \"traddr\": \"%s\", \"trsvcid\": \"%u\"}, \"subsystems\": [\"%s\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\"},\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\"}}]}]}\n",
		ADDR, port, NQN, NQN, path);
	fclose(f);
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 13 + seed + i / 4096);
}

static uint16_t io_cmd(struct tclient *c, struct nvme_sqe *sqe, void *data, uint32_t len,
		       bool write)
{
	struct nvme_cqe cqe;

	assert_int_equal(tc_cmd(c, sqe, data, len, write, &cqe), 0);
	return le16toh(cqe.status) >> 1;
}

static uint64_t id_ns_size(struct tclient *a)
{
	uint8_t buf[4096];
	uint16_t st;
	uint64_t nsze;

	assert_int_equal(tc_identify(a, NVME_CNS_NS, 1, 0, buf, &st), 0);
	assert_int_equal(st, 0);
	memcpy(&nsze, buf, 8);
	return le64toh(nsze);
}

/* Start a target on config.json and connect an admin and an I/O queue to it. */
static void start_cfg(struct target_proc *t, struct tclient *a, struct tclient *io,
		      const char *image)
{
	const char *argv[] = { "--config", cfg_path, "--cpus", "2", NULL };
	char path[512];
	uint16_t port = tp_free_port();

	snprintf(path, sizeof(path), "rbd:rbd/%s?conf=%s&id=admin&keyring=%s", image, ceph_conf,
		 ceph_keyring);
	write_config(path, port);
	assert_int_equal(tp_start(t, port, argv), 0);
	assert_int_equal(tc_admin_setup(a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(io, ADDR, port, NQN, a->cntlid, 1, false, false), 0);
}

static void config_io(void **state)
{
	static uint8_t w[256 * 1024], r[256 * 1024], e[256 * 1024];
	/* across the boundary of the image's first two 4 MiB objects */
	const uint64_t slba = (4u << 20) / 512 - 128;
	struct target_proc t;
	struct tclient a, io;
	struct nvme_dsm_range range;
	struct nvme_sqe sqe;
	uint16_t st;

	(void)state;
	rbd_create("cfg", IMG_MB);
	start_cfg(&t, &a, &io, "cfg");
	assert_int_equal(id_ns_size(&a), (uint64_t)IMG_MB << 20 >> 9);

	/* 256 KiB through R2T/H2CData, read back through the target and from the image */
	fill(w, sizeof(w), 1);
	assert_int_equal(tc_rw(&io, true, 1, slba, sizeof(w) / 512, w, sizeof(w), false, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&io, false, 1, slba, sizeof(r) / 512, r, sizeof(r), false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(r, w, sizeof(w));
	tc_sqe(&sqe, NVME_NVM_FLUSH, 1);
	assert_int_equal(io_cmd(&io, &sqe, NULL, 0, false), 0);
	rbd_bytes("cfg", slba * 512, e, sizeof(e));
	assert_memory_equal(e, w, sizeof(w));

	/* FUA: on the image when the command completes, no flush needed */
	fill(w, 8192, 2);
	assert_int_equal(tc_rw(&io, true, 1, 8, 16, w, 8192, true, &st), 0);
	assert_int_equal(st, 0);
	rbd_bytes("cfg", 8 * 512, e, 8192);
	assert_memory_equal(e, w, 8192);

	/* write zeroes over 64 KiB in the middle of the first write */
	tc_sqe(&sqe, NVME_NVM_WRITE_ZEROES, 1);
	sqe.cdw10 = htole32((uint32_t)(slba + 64));
	sqe.cdw11 = htole32((uint32_t)((slba + 64) >> 32));
	sqe.cdw12 = htole32(127);
	assert_int_equal(io_cmd(&io, &sqe, NULL, 0, false), 0);
	fill(w, sizeof(w), 1);
	memset(w + 64 * 512, 0, 128 * 512);
	assert_int_equal(tc_rw(&io, false, 1, slba, sizeof(r) / 512, r, sizeof(r), false, &st), 0);
	assert_memory_equal(r, w, sizeof(w));
	tc_sqe(&sqe, NVME_NVM_FLUSH, 1);
	assert_int_equal(io_cmd(&io, &sqe, NULL, 0, false), 0);
	rbd_bytes("cfg", slba * 512, e, sizeof(e));
	assert_memory_equal(e, w, sizeof(w));

	/* deallocate a whole object (librbd frees it: reads zeroes) */
	fill(w, sizeof(w), 3);
	for (uint64_t lba = 8192; lba < 16384; lba += sizeof(w) / 512)
		assert_int_equal(tc_rw(&io, true, 1, lba, sizeof(w) / 512, w, sizeof(w), false,
				       &st), 0);
	memset(&range, 0, sizeof(range));
	range.slba = htole64(8192);
	range.nlb = htole32(8192);
	tc_sqe(&sqe, NVME_NVM_DSM, 1);
	sqe.cdw10 = htole32(0);
	sqe.cdw11 = htole32(NVME_DSM_ATTR_AD);
	assert_int_equal(io_cmd(&io, &sqe, &range, sizeof(range), true), 0);
	assert_int_equal(tc_rw(&io, false, 1, 8192, sizeof(r) / 512, r, sizeof(r), false, &st), 0);
	memset(e, 0, sizeof(e));
	assert_memory_equal(r, e, sizeof(r));

	/* libnvmf: nvmf write of a file, the image's bytes compared; perf with verification */
	{
		char f1[192], f2[192];
		FILE *f;

		snprintf(f1, sizeof(f1), "%s/host.in", ceph_dir);
		snprintf(f2, sizeof(f2), "%s/host.out", ceph_dir);
		fill(w, sizeof(w), 7);
		f = fopen(f1, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(w, 1, sizeof(w), f), sizeof(w));
		fclose(f);
		assert_int_equal(ceph_sh("%s write -t tcp -a %s -s %u -n %s --start-block=20480 -d %s "
				    ">/dev/null", getenv("NVMF_CLI"), ADDR, t.port, NQN, f1), 0);
		assert_int_equal(ceph_sh("%s read -t tcp -a %s -s %u -n %s --start-block=20480 -z %zu "
				    "-d %s >/dev/null", getenv("NVMF_CLI"), ADDR, t.port, NQN,
				    sizeof(w), f2), 0);
		assert_int_equal(ceph_sh("cmp -s %s %s", f1, f2), 0);
		rbd_bytes("cfg", 20480 * 512, e, sizeof(e));
		assert_memory_equal(e, w, sizeof(w));
		assert_int_equal(ceph_sh("%s perf -r 'trtype:tcp adrfam:ipv4 traddr:%s trsvcid:%u "
				    "subnqn:%s' -q 8 -o 16384 -w randrw -t 2 -V --seed 5 >%s/perf.out "
				    "2>&1 && grep -Eq 'Verify: [1-9][0-9]* reads checked, 0 mismatches' "
				    "%s/perf.out",
				    getenv("NVMF_CLI"), ADDR, t.port, NQN, ceph_dir, ceph_dir), 0);
	}

	/* past the end: refused by the target, the image untouched */
	assert_int_equal(tc_rw(&io, true, 1, (IMG_MB << 20 >> 9) - 4, 8, w, 4096, false, &st),
			 0);
	assert_int_not_equal(st, 0);

	/*
	 * what was written (no FUA, no flush: in librbd's cache) before a clean stop is on the
	 * image after it (the shutdown flush), and read back by the next target
	 */
	fill(w, 8192, 8);
	assert_int_equal(tc_rw(&io, true, 1, 8, 16, w, 8192, false, &st), 0);
	assert_int_equal(st, 0);
	tc_close(&io);
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);
	rbd_bytes("cfg", 8 * 512, e, 8192);
	assert_memory_equal(e, w, 8192);
	start_cfg(&t, &a, &io, "cfg");
	assert_int_equal(tc_rw(&io, false, 1, 8, 16, r, 8192, false, &st), 0);
	assert_memory_equal(r, w, 8192);
	tc_close(&io);
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);
	assert_int_equal(tp_log_count(&t, " error: "), 0);
}

static void resize_event(void **state)
{
	uint8_t w[4096], r[4096], log[4096];
	struct target_proc t;
	struct tclient a, io;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint16_t aer, st;

	(void)state;
	rbd_create("grow", IMG_MB);
	start_cfg(&t, &a, &io, "grow");
	assert_int_equal(id_ns_size(&a), (uint64_t)IMG_MB << 20 >> 9);
	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&a, &sqe, &aer), 0);
	assert_int_equal(tc_wait_rsp(&a, aer, 200, &cqe), -ETIMEDOUT);

	assert_int_equal(ceph_sh("rbd -c %s resize --no-progress --size %uM rbd/grow", ceph_conf,
			    2 * IMG_MB), 0);
	assert_int_equal(tc_wait_rsp(&a, aer, 10000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), NVME_AER_DW0(NVME_AER_TYPE_NOTICE,
							NVME_AER_NOTICE_NS_CHANGED,
							NVME_LID_CHANGED_NS));
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(NVME_LID_CHANGED_NS | ((sizeof(log) / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&a, &sqe, log, sizeof(log), false, &cqe), 0);
	assert_int_equal(le32toh(((uint32_t *)log)[0]), 1);
	assert_int_equal(le32toh(((uint32_t *)log)[1]), 0);
	assert_int_equal(id_ns_size(&a), (uint64_t)2 * IMG_MB << 20 >> 9);

	/* the new tail is usable */
	fill(w, sizeof(w), 9);
	assert_int_equal(tc_rw(&io, true, 1, (2 * IMG_MB << 20 >> 9) - 8, 8, w, sizeof(w), true,
			       &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&io, false, 1, (2 * IMG_MB << 20 >> 9) - 8, 8, r, sizeof(r),
			       false, &st), 0);
	assert_memory_equal(r, w, sizeof(w));
	rbd_bytes("grow", ((uint64_t)2 * IMG_MB << 20) - 4096, r, sizeof(r));
	assert_memory_equal(r, w, sizeof(w));

	/* shrinking: the size follows, and the blocks that went are refused */
	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&a, &sqe, &aer), 0);
	assert_int_equal(ceph_sh("rbd -c %s resize --no-progress --allow-shrink --size %uM rbd/grow",
			    ceph_conf, IMG_MB / 2), 0);
	assert_int_equal(tc_wait_rsp(&a, aer, 10000, &cqe), 0);
	assert_int_equal(id_ns_size(&a), (uint64_t)IMG_MB / 2 << 20 >> 9);
	assert_int_equal(tc_rw(&io, false, 1, IMG_MB << 20 >> 9, 8, r, sizeof(r), false, &st), 0);
	assert_int_not_equal(st, 0);
	tc_close(&io);
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);
}

/* ------------------------------------------------------------------ JSON-RPC */

static struct json_object *ok(struct rpc_reply *r, const char *method, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct json_object *ok(struct rpc_reply *r, const char *method, const char *fmt, ...)
{
	char params[2048];
	va_list ap;

	rpc_reply_free(r);
	va_start(ap, fmt);
	vsnprintf(params, sizeof(params), fmt, ap);
	va_end(ap);
	assert_int_equal(rpc_call(sock_path, method, params, r), 0);
	if (r->code)
		fail_msg("%s: error %d: %s", method, r->code, r->message);
	return r->result;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return json_object_get_string(v);
}

static void rpc_form(void **state)
{
	static uint8_t w[64 * 1024], r[64 * 1024];
	const char *argv[] = { "-r", sock_path, "--cpus", "2", NULL };
	struct json_object *res, *v, *ds;
	struct rpc_reply rr = { 0 }, bad;
	struct target_proc t;
	struct tclient a, io;
	uint16_t port = tp_free_port(), st;
	char la[160];
	time_t t0;

	(void)state;
	rbd_create("rpc", IMG_MB);
	assert_int_equal(tp_start_unix(&t, sock_path, argv), 0);
	res = ok(&rr, "bdev_rbd_create", "{\"name\": \"ceph-a\", \"pool_name\": \"rbd\", "
		 "\"rbd_name\": \"rpc\", \"user_id\": \"admin\", \"block_size\": 4096, "
		 "\"config_file\": \"%s\", \"key_file\": \"%s\", "
		 "\"config\": {\"rbd_cache\": \"true\"}, \"gateway\": true}", ceph_conf, ceph_keyring);
	assert_string_equal(json_object_get_string(res), "ceph-a");
	res = ok(&rr, "bdev_get_bdevs", "{\"name\": \"ceph-a\"}");
	v = json_object_array_get_idx(res, 0);
	assert_string_equal(jstr(v, "product_name"), "Ceph Rbd Disk");
	assert_string_equal(jstr(v, "block_size"), "4096");
	assert_string_equal(jstr(v, "num_blocks"), "4096");
	assert_true(json_object_object_get_ex(v, "driver_specific", &ds));
	assert_true(json_object_object_get_ex(ds, "rbd", &ds));
	assert_string_equal(jstr(ds, "pool_name"), "rbd");
	assert_string_equal(jstr(ds, "rbd_name"), "rpc");

	/* a missing image: refused at create, with the reason */
	assert_int_equal(rpc_call(sock_path, "bdev_rbd_create", "{\"pool_name\": \"rbd\", "
				  "\"rbd_name\": \"nope\", \"block_size\": 512, "
				  "\"config_file\": \"/nonexistent/ceph.conf\"}", &bad), 0);
	assert_int_not_equal(bad.code, 0);
	assert_non_null(strstr(bad.message, "/nonexistent/ceph.conf"));
	rpc_reply_free(&bad);
	{
		char p[512];

		snprintf(p, sizeof(p), "{\"pool_name\": \"rbd\", \"rbd_name\": \"nope\", "
			 "\"block_size\": 512, \"config_file\": \"%s\"}", ceph_conf);
		assert_int_equal(rpc_call(sock_path, "bdev_rbd_create", p, &bad), 0);
		assert_int_not_equal(bad.code, 0);
		assert_non_null(strstr(bad.message, "no such image"));
		rpc_reply_free(&bad);
	}

	snprintf(la, sizeof(la), "{\"trtype\":\"TCP\",\"adrfam\":\"IPv4\",\"traddr\":\"%s\","
		 "\"trsvcid\":\"%u\"}", ADDR, port);
	ok(&rr, "nvmf_create_transport", "{\"trtype\":\"TCP\"}");
	ok(&rr, "nvmf_create_subsystem", "{\"nqn\":\"%s\",\"allow_any_host\":true}", NQN);
	res = ok(&rr, "nvmf_subsystem_add_ns", "{\"nqn\":\"%s\",\"namespace\":{\"bdev_name\":"
		 "\"ceph-a\"}}", NQN);
	assert_int_equal(json_object_get_int(res), 1);
	ok(&rr, "nvmf_subsystem_add_listener", "{\"nqn\":\"%s\",\"listen_address\":%s}", NQN, la);
	assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, a.cntlid, 1, false, false), 0);
	assert_int_equal(id_ns_size(&a), (uint64_t)IMG_MB << 20 >> 12);
	fill(w, sizeof(w), 5);
	assert_int_equal(tc_rw(&io, true, 1, 100, sizeof(w) / 4096, w, sizeof(w), true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&io, false, 1, 100, sizeof(r) / 4096, r, sizeof(r), false, &st),
			 0);
	assert_memory_equal(r, w, sizeof(w));
	rbd_bytes("rpc", 100 * 4096, r, sizeof(r));
	assert_memory_equal(r, w, sizeof(w));

	/* save_config gives the create call back with SPDK's parameter names */
	res = ok(&rr, "save_config", "{}");
	{
		const char *s = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);

		assert_non_null(strstr(s, "\"bdev_rbd_create\""));
		assert_non_null(strstr(s, "\"rbd_name\":\"rpc\""));
		assert_non_null(strstr(s, "\"rbd_cache\":\"true\""));
		assert_non_null(strstr(s, "\"gateway\":true"));
	}
	/* a gateway namespace (the default ANA group, optimized): it took the image's lock
	 * when the listener made it reachable */
	assert_int_equal(tp_log_count(&t, "owned by this gateway"), 1);
	/* delete: the namespace goes with the bdev (SPDK's hot remove), hosts are told */
	t0 = time(NULL);
	ok(&rr, "bdev_rbd_delete", "{\"name\": \"ceph-a\"}");
	assert_true(time(NULL) - t0 < 30);
	res = ok(&rr, "bdev_get_bdevs", "{}");
	assert_int_equal(json_object_array_length(res), 0);
	assert_int_equal(tc_rw(&io, false, 1, 100, 1, r, 4096, false, &st), 0);
	assert_int_not_equal(st, 0);
	rpc_reply_free(&rr);
	tc_close(&io);
	tc_close(&a);
	assert_int_equal(tp_stop(&t), 0);
}

/* ------------------------------------------------------------------ errors */

/* Run the target on config.json, expecting it to refuse; its output in out. */
static int refused(char *out, size_t outlen, time_t *took)
{
	const char *bin = getenv("NVMF_TARGET");
	char cmd[512];
	time_t t0 = time(NULL);
	FILE *p;
	size_t got;
	int st;

	snprintf(cmd, sizeof(cmd), "timeout 120 %s --config %s --cpus 1 2>&1", bin, cfg_path);
	p = popen(cmd, "r");
	assert_non_null(p);
	got = fread(out, 1, outlen - 1, p);
	out[got] = '\0';
	st = pclose(p);
	*took = time(NULL) - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void errors(void **state)
{
	static char out[16384];
	char path[512], badconf[192];
	time_t took;
	FILE *f;

	(void)state;
	/* a pool that does not exist */
	snprintf(path, sizeof(path), "rbd:nopool/x?conf=%s", ceph_conf);
	write_config(path, tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, "no such pool") || !strstr(out, "namespace 1 device.path") ||
	    !strstr(out, "nopool") || !strstr(out, cfg_path))
		fail_msg("missing pool: %s", out);

	/* an image that does not exist */
	snprintf(path, sizeof(path), "rbd:rbd/missing?conf=%s", ceph_conf);
	write_config(path, tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, "no such image") || !strstr(out, "missing"))
		fail_msg("missing image: %s", out);

	/* a malformed path: the configuration names the file and the key */
	write_config("rbd:rbd?conf=/x", tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, cfg_path) || !strstr(out, "device.path") ||
	    !strstr(out, "needs a pool and an image"))
		fail_msg("malformed path: %s", out);
	write_config("rbd:rbd/img?bogus", tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, "device.path") || !strstr(out, "KEY=VALUE"))
		fail_msg("malformed option: %s", out);

	/* a librados option that does not exist: named */
	snprintf(path, sizeof(path), "rbd:rbd/cfg?conf=%s&no_such_option=1", ceph_conf);
	write_config(path, tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, "no_such_option"))
		fail_msg("unknown option: %s", out);

	/* a cluster nobody answers for: refused after the timeout, not hung */
	snprintf(badconf, sizeof(badconf), "%s/unreachable.conf", ceph_dir);
	f = fopen(badconf, "w");
	assert_non_null(f);
	fprintf(f, "[global]\nmon host = v2:127.0.0.1:%u\nauth client required = none\n",
		tp_free_port());
	fclose(f);
	snprintf(path, sizeof(path), "rbd:rbd/cfg?conf=%s&timeout=3", badconf);
	write_config(path, tp_free_port());
	assert_int_not_equal(refused(out, sizeof(out), &took), 0);
	if (!strstr(out, "cannot connect to the cluster"))
		fail_msg("unreachable: %s", out);
	assert_true(took < 30);
}

static void osd_lost(void **state)
{
	const char *argv[] = { "--config", cfg_path, "--cpus", "2", NULL };
	uint8_t w[4096], r[4096];
	struct target_proc t;
	struct tclient a, io;
	uint16_t port = tp_free_port(), st;
	char path[512];
	time_t t0;
	pid_t pid;

	(void)state;
	rbd_create("lost", IMG_MB);
	/* no librbd cache: reads of written blocks must ask the OSD (a librados option) */
	snprintf(path, sizeof(path), "rbd:rbd/lost?conf=%s&timeout=3&rbd_cache=false", ceph_conf);
	write_config(path, port);
	assert_int_equal(tp_start(&t, port, argv), 0);
	assert_int_equal(tc_admin_setup(&a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, a.cntlid, 1, false, false), 0);
	fill(w, sizeof(w), 4);
	assert_int_equal(tc_rw(&io, true, 1, 20000, 8, w, sizeof(w), true, &st), 0);
	assert_int_equal(st, 0);

	pid = ceph_osd_pid();
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	/*
	 * a read of an object that exists (librbd's object map answers reads of the others
	 * itself) and a durable write: both need the OSD
	 */
	t0 = time(NULL);
	assert_int_equal(tc_rw(&io, false, 1, 20000, 8, r, sizeof(r), false, &st), 0);
	assert_int_not_equal(st, 0);
	assert_int_equal(tc_rw(&io, true, 1, 24000, 8, w, sizeof(w), true, &st), 0);
	assert_int_not_equal(st, 0);
	assert_true(time(NULL) - t0 < 30);
	/* the controller is not stuck behind them */
	assert_int_equal(id_ns_size(&a), (uint64_t)IMG_MB << 20 >> 9);
	tc_close(&io);
	tc_close(&a);
	t0 = time(NULL);
	/* closing the image gives up on the OSD after the timeout too */
	assert_int_equal(tp_stop(&t), 0);
	assert_true(time(NULL) - t0 < 30);
	/* logged once each, with the queue and command */
	assert_int_equal(tp_log_count(&t, "qid 1 cid"), 2);
	assert_int_equal(tp_log_count(&t, "failed: Connection timed out"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_io),
		cmocka_unit_test(resize_event),
		cmocka_unit_test(rpc_form),
		cmocka_unit_test(errors),
		cmocka_unit_test(osd_lost),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
