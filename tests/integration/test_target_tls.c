/*
 * nvmf-target serving TLS 1.3 (TP 8011) from a config.json with tsas "tls1.3" and a
 * --tls-keys file, driven by the test client over the connection layer's TLS client:
 * v0 and v1 identities, SHA-256 and SHA-384 keys, both derivations, I/O up to 1 MiB;
 * refusals (wrong key, unknown host, plaintext on a "required" port, a Connect whose host
 * is not the PSK's); treq "not required" taking both, but not in one association; the
 * discovery log's TLS fields; a key file others may read refused at start, and kept keys
 * when a reload finds one; the 10 s handshake deadline; the quick-start flags' --tls.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tclient.h"
#include "tclient_tls.h"
#include "target_proc.h"

#define ADDR "127.0.0.1"
#define SUBNQN "nqn.2024-01.io.nvmf-tcp.test:tls"
#define HOST2 "nqn.2014-08.org.nvmexpress:uuid:00000000-1111-2222-3333-444444444444"
#define HOST3 "nqn.2014-08.org.nvmexpress:uuid:99999999-1111-2222-3333-444444444444"

static char cfg_path[128], img_path[128], keys_path[128];
static char key1[NVMF_TLS_KEY_STR_MAX]; /* TC_HOSTNQN, SHA-256, RFC derivation */
static char key2[NVMF_TLS_KEY_STR_MAX]; /* HOST2, SHA-384, libnvme <= 1.15 derivation */
static char key3[NVMF_TLS_KEY_STR_MAX]; /* HOST3: not in the file */
static uint16_t port_req, port_opt;

static void gen_key(char *buf, unsigned hmac)
{
	struct nvmf_tls_key k;

	assert_int_equal(nvmf_tls_key_generate(&k, hmac, NULL), 0);
	assert_int_equal(nvmf_tls_key_format(&k, buf, NVMF_TLS_KEY_STR_MAX), 0);
}

static void write_keys_with(mode_t mode, bool host3)
{
	FILE *f;

	unlink(keys_path);
	f = fopen(keys_path, "w");
	assert_non_null(f);
	fprintf(f, "# test keys\n%s %s\n\n%s %s compat\n", TC_HOSTNQN, key1, HOST2, key2);
	if (host3)
		fprintf(f, "%s %s\n", HOST3, key3);
	fclose(f);
	assert_int_equal(chmod(keys_path, mode), 0);
}

static void write_keys(mode_t mode)
{
	write_keys_with(mode, false);
}

static int setup(void **state)
{
	FILE *f;
	int fd;

	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nvmf-tls-%d.json", (int)getpid());
	snprintf(keys_path, sizeof(keys_path), "/tmp/nvmf-tls-%d.keys", (int)getpid());
	snprintf(img_path, sizeof(img_path), "/var/tmp/nvmf-tls-%d.img", (int)getpid());
	fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 16 << 20) < 0)
		return -1;
	close(fd);
	port_req = tp_free_port();
	do
		port_opt = tp_free_port();
	while (port_opt == port_req);
	f = fopen(cfg_path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"{\n"
		" \"hosts\": [{\"nqn\": \"%s\"}, {\"nqn\": \"%s\"}, {\"nqn\": \"%s\"}],\n"
		" \"ports\": [\n"
		"  {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"tsas\": \"tls1.3\"},\n"
		"   \"param\": {\"inline_data_size\": \"8192\"},\n"
		"   \"subsystems\": [\"%s\"]},\n"
		"  {\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"tsas\": \"tls1.3\",\n"
		"    \"treq\": \"not required\"},\n"
		"   \"subsystems\": [\"%s\"]}\n"
		" ],\n"
		" \"subsystems\": [\n"
		"  {\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\"},\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\"}}]}\n"
		" ]\n"
		"}\n",
		TC_HOSTNQN, HOST2, HOST3, ADDR, port_req, SUBNQN, ADDR, port_opt, SUBNQN, SUBNQN,
		img_path);
	fclose(f);
	gen_key(key1, 1);
	gen_key(key2, 2);
	gen_key(key3, 1);
	write_keys(0600);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cfg_path);
	unlink(keys_path);
	unlink(img_path);
	return 0;
}

static void start(struct target_proc *t)
{
	const char *argv[] = { "--config", cfg_path, "--tls-keys", keys_path, "--cpus", "2",
			       NULL };

	assert_int_equal(tp_start(t, port_req, argv), 0);
}

static struct tc_tls tls(const char *key, const char *host, unsigned version,
			 enum nvmf_tls_derive how)
{
	return (struct tc_tls){ .key = key, .hostnqn = host, .subnqn = SUBNQN,
				.version = version, .how = how };
}

/* Admin queue over TLS, connected as host and enabled; returns the cntlid. */
static uint16_t admin_tls(struct tclient *c, uint16_t port, const struct tc_tls *t)
{
	struct nvme_cqe cqe;

	assert_int_equal(tc_open_tls(c, ADDR, port, t), 0);
	assert_int_equal(tc_connect(c, 0, 31, t->subnqn, t->hostnqn, 0xFFFF, 0, 0, &cqe), 0);
	/* no in-band authentication on a TLS queue, as nvmet */
	assert_int_equal(le32toh(cqe.dw0) & NVMF_CONNECT_DW0_ATR, 0);
	assert_int_equal(tc_enable(c), 0);
	return c->cntlid;
}

/* The namespace's LBA size: the file's block size decides it (512 or 4096). */
static uint32_t lba_size(struct tclient *admin)
{
	uint8_t id[4096];
	uint16_t st;

	assert_int_equal(tc_identify(admin, NVME_CNS_NS, 1, 0, id, &st), 0);
	assert_int_equal(st, 0);
	return 1u << ((struct nvme_id_ns *)id)->lbaf[0].lbads;
}

/* Write len bytes at byte offset off, read them back, compare. */
static void rw_check(struct tclient *io, uint32_t bs, uint32_t len, uint64_t off)
{
	uint8_t *w = malloc(len), *r = calloc(1, len);
	uint64_t slba = off / bs;
	uint16_t st;

	assert_non_null(w);
	assert_non_null(r);
	for (uint32_t i = 0; i < len; i++)
		w[i] = (uint8_t)(i * 7 + len);
	assert_int_equal(tc_rw(io, true, 1, slba, len / bs, w, len, false, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(io, false, 1, slba, len / bs, r, len, false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(w, r, len);
	free(w);
	free(r);
}

/* SHA-256 key, v0 identity on the admin queue and v1 on the I/O queue; I/O to 1 MiB. */
static void tls_io_sha256(void **state)
{
	struct target_proc t;
	struct tclient a, io;
	struct tc_tls t0 = tls(key1, TC_HOSTNQN, 0, NVMF_TLS_DERIVE_RFC);
	struct tc_tls t1 = tls(key1, TC_HOSTNQN, 1, NVMF_TLS_DERIVE_RFC);
	struct nvme_cqe cqe;
	uint16_t cntlid;

	(void)state;
	start(&t);
	cntlid = admin_tls(&a, port_req, &t0);
	assert_int_equal(tc_open_tls(&io, ADDR, port_req, &t1), 0);
	assert_int_equal(tc_connect(&io, 1, 31, SUBNQN, TC_HOSTNQN, cntlid, 0, 0, &cqe), 0);
	rw_check(&io, lba_size(&a), 4096, 0);
	rw_check(&io, lba_size(&a), 1u << 20, 1u << 20);
	tc_close(&io);
	tc_close(&a);
	assert_true(tp_log_count(&t, "TLS 1.3 TLS_AES_128_GCM_SHA256") >= 2);
	assert_true(tp_log_count(&t, "identity 'NVMe0R01 " TC_HOSTNQN " " SUBNQN "'") >= 1);
	assert_true(tp_log_count(&t, "identity 'NVMe1R01 " TC_HOSTNQN " " SUBNQN " ") >= 1);
	/* the key never reaches the log */
	assert_int_equal(tp_log_count(&t, key1 + 16), 0);
	assert_int_equal(tp_stop(&t), 0);
}

/* SHA-384 key derived as libnvme <= 1.15 does (the file's "compat"), v1 then v0. */
static void tls_sha384_compat(void **state)
{
	struct target_proc t;
	struct tclient a, io;
	struct tc_tls t1 = tls(key2, HOST2, 1, NVMF_TLS_DERIVE_COMPAT);
	struct tc_tls t0 = tls(key2, HOST2, 0, NVMF_TLS_DERIVE_COMPAT);
	struct tc_tls rfc = tls(key2, HOST2, 1, NVMF_TLS_DERIVE_RFC);
	struct nvme_cqe cqe;
	uint16_t cntlid;

	(void)state;
	start(&t);
	cntlid = admin_tls(&a, port_req, &t1);
	assert_int_equal(tc_open_tls(&io, ADDR, port_req, &t0), 0);
	assert_int_equal(tc_connect(&io, 1, 31, SUBNQN, HOST2, cntlid, 0, 0, &cqe), 0);
	rw_check(&io, lba_size(&a), 65536, 4u << 20);
	tc_close(&io);
	tc_close(&a);
	assert_true(tp_log_count(&t, "TLS 1.3 TLS_AES_256_GCM_SHA384") >= 2);
	/* the other derivation gives another v1 identity (its digest): refused */
	assert_true(tc_open_tls(&io, ADDR, port_req, &rfc) < 0);
	assert_int_equal(tp_stop(&t), 0);
}

static void tls_refusals(void **state)
{
	struct target_proc t;
	struct tclient c;
	struct tc_tls wrong = tls(key3, TC_HOSTNQN, 0, NVMF_TLS_DERIVE_RFC);
	struct tc_tls wrong_v1 = tls(key3, TC_HOSTNQN, 1, NVMF_TLS_DERIVE_RFC);
	struct tc_tls unknown = tls(key3, HOST3, 1, NVMF_TLS_DERIVE_RFC);
	struct tc_tls other_sub = tls(key1, TC_HOSTNQN, 0, NVMF_TLS_DERIVE_RFC);
	struct nvme_cqe cqe;

	(void)state;
	start(&t);
	/* a key that is not the host's: the PSK differs, the handshake fails */
	assert_true(tc_open_tls(&c, ADDR, port_req, &wrong) < 0);
	/* the same with a v1 identity: its digest gives the other key away before that */
	assert_true(tc_open_tls(&c, ADDR, port_req, &wrong_v1) < 0);
	/* a host the file does not know */
	assert_true(tc_open_tls(&c, ADDR, port_req, &unknown) < 0);
	/* plaintext ICReq to a port that requires TLS: refused by name */
	assert_true(tc_open(&c, ADDR, port_req, false, false) < 0);
	tc_close(&c);
	/* each refusal logged with its own reason */
	assert_int_equal(tp_log_count(&t, "the PSKs differ (binder does not verify)"), 1);
	assert_int_equal(tp_log_count(&t, "the identity's hash or digest is not what the host's "
					  "PSK gives"), 1);
	assert_int_equal(tp_log_count(&t, "TLS handshake failed: no PSK for the identity"), 1);
	assert_int_equal(tp_log_count(&t, "plaintext ICReq on a port that requires TLS"), 1);
	/* the PSK is TC_HOSTNQN's: a Connect as another host is refused (Invalid Host) */
	assert_int_equal(tc_open_tls(&c, ADDR, port_req, &other_sub), 0);
	assert_int_equal(tc_connect(&c, 0, 31, SUBNQN, HOST2, 0xFFFF, 0, 0, &cqe),
			 NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_HOST));
	tc_close(&c);
	/* nor to another subsystem than the identity's */
	assert_int_equal(tc_open_tls(&c, ADDR, port_req, &other_sub), 0);
	assert_int_equal(tc_connect(&c, 0, 31, NVMF_DISCOVERY_NQN, TC_HOSTNQN, 0xFFFF, 0, 0,
				    &cqe),
			 NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_HOST));
	tc_close(&c);
	assert_int_equal(tp_log_count(&t, "whose PSK is host"), 2);
	assert_int_equal(tp_stop(&t), 0);
}

/* treq "not required": a plaintext ICReq and a ClientHello are both served. */
static void tls_not_required(void **state)
{
	struct target_proc t;
	struct tclient a, b, io;
	struct tc_tls t0 = tls(key1, TC_HOSTNQN, 0, NVMF_TLS_DERIVE_RFC);
	struct nvme_cqe cqe;

	(void)state;
	start(&t);
	assert_int_equal(tc_open(&a, ADDR, port_opt, false, false), 0);
	assert_int_equal(tc_connect(&a, 0, 31, SUBNQN, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe), 0);
	assert_int_equal(tc_enable(&a), 0);
	admin_tls(&b, port_opt, &t0);
	/* an association is all TLS or all plaintext: mixed I/O queues are refused */
	assert_int_equal(tc_open(&io, ADDR, port_opt, false, false), 0);
	assert_int_equal(tc_connect(&io, 1, 31, SUBNQN, TC_HOSTNQN, b.cntlid, 0, 0, &cqe),
			 NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_HOST));
	tc_close(&io);
	assert_int_equal(tc_open_tls(&io, ADDR, port_opt, &t0), 0);
	assert_int_equal(tc_connect(&io, 1, 31, SUBNQN, TC_HOSTNQN, a.cntlid, 0, 0, &cqe),
			 NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_HOST));
	tc_close(&io);
	tc_close(&a);
	tc_close(&b);
	assert_int_equal(tp_log_count(&t, "TLS 1.3 "), 2);
	assert_int_equal(tp_stop(&t), 0);
}

/* The discovery controller over TLS: the entries say TLS 1.3 and the port's treq. */
static void tls_discovery_log(void **state)
{
	struct target_proc t;
	struct tclient c;
	struct tc_tls td = tls(key1, TC_HOSTNQN, 1, NVMF_TLS_DERIVE_RFC);
	uint8_t log[4 * 1024];
	const struct nvmf_disc_log_hdr *h = (const void *)log;
	const struct nvmf_disc_log_entry *e = (const void *)(log + 1024);
	struct nvme_cqe cqe;
	struct nvme_sqe sqe;

	(void)state;
	start(&t);
	td.subnqn = NVMF_DISCOVERY_NQN;
	admin_tls(&c, port_req, &td);
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(0x70 | (uint32_t)((sizeof(log) / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&c, &sqe, log, sizeof(log), false, &cqe), 0);
	assert_int_equal(le16toh(cqe.status) & ~1u, 0);
	tc_close(&c);
	assert_true(le64toh(h->numrec) >= 2);
	for (uint64_t i = 0; i < le64toh(h->numrec) && i < 3; i++) {
		unsigned want = le16toh(e[i].portid) == 1 ? 1 : 2; /* required / not required */

		assert_int_equal(e[i].treq & NVMF_TREQ_SECURE_MASK, want);
		assert_int_equal(e[i].tsas.tcp.sectype, NVMF_TCP_SECTYPE_TLS13);
	}
	assert_int_equal(tp_stop(&t), 0);
}

/* Run the target with args, capture stderr, return the exit status. */
static int run_capture(const char *const *argv, char *out, size_t outlen)
{
	const char *bin = getenv("NVMF_TARGET");
	const char *args[16] = { bin };
	int pipefd[2], st;
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	for (int i = 0; argv[i] && i < 14; i++)
		args[i + 1] = argv[i];
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		execv(bin, (char *const *)args);
		_exit(127);
	}
	close(pipefd[1]);
	while (got + 1 < outlen && (n = read(pipefd[0], out + got, outlen - got - 1)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A key file group or others may read is refused at start, naming the file, not a key. */
static void tls_keys_mode_refused(void **state)
{
	const char *argv[] = { "--config", cfg_path, "--tls-keys", keys_path, NULL };
	char out[4096];

	(void)state;
	write_keys(0644);
	assert_int_equal(run_capture(argv, out, sizeof(out)), 1);
	assert_non_null(strstr(out, keys_path));
	assert_non_null(strstr(out, "group or others"));
	assert_null(strstr(out, key1 + 16));
	write_keys(0600);
}

/*
 * The quick-start flags with --tls: a RAM namespace on a port that takes TLS only (what
 * bench/run measures); a plaintext host is refused; --tls without --tls-keys, or with
 * --config, does not start.
 */
static void tls_quick_start(void **state)
{
	char port[32], out[4096];
	const char *argv[] = { "--ram", "8M", "--listen", port, "--tls", "--tls-keys", keys_path,
			       "--cpus", "1", NULL };
	const char *no_keys[] = { "--ram", "8M", "--tls", NULL };
	const char *with_cfg[] = { "--config", cfg_path, "--tls", "--tls-keys", keys_path, NULL };
	struct tc_tls t1 = tls(key1, TC_HOSTNQN, 1, NVMF_TLS_DERIVE_RFC);
	struct target_proc t;
	struct tclient a, io;
	struct nvme_cqe cqe;
	uint16_t p = tp_free_port(), cntlid;

	(void)state;
	snprintf(port, sizeof(port), "%s:%u", ADDR, p);
	t1.subnqn = "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart";
	assert_int_equal(tp_start(&t, p, argv), 0);
	cntlid = admin_tls(&a, p, &t1);
	assert_int_equal(tc_open_tls(&io, ADDR, p, &t1), 0);
	assert_int_equal(tc_connect(&io, 1, 31, t1.subnqn, TC_HOSTNQN, cntlid, 0, 0, &cqe), 0);
	rw_check(&io, lba_size(&a), 131072, 65536);
	tc_close(&io);
	tc_close(&a);
	assert_true(tc_open(&io, ADDR, p, false, false) < 0);
	tc_close(&io);
	assert_true(tp_log_count(&t, "TLS 1.3 TLS_AES_128_GCM_SHA256") >= 2);
	assert_int_equal(tp_stop(&t), 0);

	assert_int_equal(run_capture(no_keys, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--tls goes with"));
	assert_int_equal(run_capture(with_cfg, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--tls goes with"));
}

/*
 * SIGHUP with a key file gone bad: an error in the log, the keys in force stay; with a
 * good one, a new host's key is taken.
 */
static void tls_reload_keeps_keys(void **state)
{
	struct target_proc t;
	struct tclient c;
	struct tc_tls t0 = tls(key1, TC_HOSTNQN, 0, NVMF_TLS_DERIVE_RFC);
	struct tc_tls t3 = tls(key3, HOST3, 1, NVMF_TLS_DERIVE_RFC);

	(void)state;
	start(&t);
	write_keys(0640);
	kill(t.pid, SIGHUP);
	for (int i = 0; i < 100 && tp_log_count(&t, "TLS keys not reloaded") == 0; i++)
		usleep(20000);
	assert_int_equal(tp_log_count(&t, "TLS keys not reloaded"), 1);
	assert_int_equal(tc_open_tls(&c, ADDR, port_req, &t0), 0);
	tc_close(&c);
	assert_true(tc_open_tls(&c, ADDR, port_req, &t3) < 0);
	write_keys_with(0600, true);
	kill(t.pid, SIGHUP);
	for (int i = 0; i < 100 && tp_log_count(&t, "TLS PSKs for 3 host(s)") == 0; i++)
		usleep(20000);
	assert_int_equal(tc_open_tls(&c, ADDR, port_req, &t3), 0);
	tc_close(&c);
	write_keys(0600);
	assert_int_equal(tp_stop(&t), 0);
}

/*
 * A client that connects and says nothing is closed after the kernel's 10 s
 * tls_handshake_timeout, on a "required" port and while peeking on a "not required" one.
 */
static void tls_handshake_timeout(void **state)
{
	struct target_proc t;
	struct tclient a, b;
	uint8_t byte;

	(void)state;
	start(&t);
	assert_int_equal(tc_tcp_connect(&a, ADDR, port_req), 0);
	assert_int_equal(tc_tcp_connect(&b, ADDR, port_opt), 0);
	/* the target ends the connection: recv sees EOF (or a reset) within 15 s */
	for (struct tclient *c = &a; c; c = c == &a ? &b : NULL) {
		struct timeval tv = { .tv_sec = 15 };
		ssize_t n;

		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(c->fd, &byte, 1, 0);
		assert_true(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
		tc_close(c);
	}
	assert_int_equal(tp_log_count(&t, "no TLS handshake within 10 s"), 2);
	assert_int_equal(tp_stop(&t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls_io_sha256),
		cmocka_unit_test(tls_sha384_compat),
		cmocka_unit_test(tls_refusals),
		cmocka_unit_test(tls_not_required),
		cmocka_unit_test(tls_discovery_log),
		cmocka_unit_test(tls_keys_mode_refused),
		cmocka_unit_test(tls_reload_keeps_keys),
		cmocka_unit_test(tls_quick_start),
		cmocka_unit_test(tls_handshake_timeout),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
