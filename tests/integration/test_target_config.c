/*
 * nvmf-target started from an nvmetcli-style config.json: two ports (the discovery
 * controller answers on both), allowed_hosts enforced, a unique discovery NQN beside the
 * well-known one, referrals, a file namespace that keeps its data and identity across a
 * restart, and a bad config that is refused with the file and key named.
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
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tclient.h"
#include "target_proc.h"

#define ADDR "127.0.0.1"
#define OPEN_NQN "nqn.2024-01.io.nvmf-tcp.test:open"
#define CLOSED_NQN "nqn.2024-01.io.nvmf-tcp.test:closed"
#define OTHER_HOST "nqn.2014-08.org.nvmexpress:uuid:00000000-1111-2222-3333-444444444444"
#define QUICK_NQN "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
#define UNIQUE_DISC "nqn.2024-01.io.nvmf-tcp.test:discovery"

static char cfg_path[128], img_path[128], img2_path[128];
/* what write_config() puts in: the second namespace, and what port B links (open/closed) */
static bool with_ns4, port_b_linked = true;
/* the closed subsystem gets a namespace whose file does not exist: a reload fails late */
static bool bad_ns;
static uint16_t port_a, port_b;

static void write_config(void)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\n"
		" \"discovery\": {\"nqn\": \"%s\"},\n"
		" \"hosts\": [{\"nqn\": \"%s\"}, {\"nqn\": \"%s\"}],\n"
		" \"ports\": [\n"
		"  {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"treq\": \"not specified\"},\n"
		"   \"param\": {\"inline_data_size\": \"8192\", \"max_queue_size\": \"128\"},\n"
		"   \"referrals\": [{\"name\": \"peer\", \"enable\": 1, \"addr\": {\"trtype\": \"tcp\",\n"
		"     \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.2\", \"trsvcid\": \"8009\",\n"
		"     \"portid\": \"7\", \"treq\": \"not specified\"}}],\n"
		"   \"subsystems\": [\"%s\", \"%s\"]},\n"
		"  {\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\"},\n"
		"   \"subsystems\": [%s%s%s]}\n"
		" ],\n"
		" \"subsystems\": [\n"
		"  {\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\", \"serial\": \"SERIAL-OPEN-1\",\n"
		"    \"model\": \"nvmf-tcp test\"},\n"
		"   \"namespaces\": [{\"nsid\": 3, \"enable\": 1, \"device\": {\"path\": \"%s\"}}%s%s%s]},\n"
		"  {\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"0\"}, \"allowed_hosts\": [\"%s\"],\n"
		"   \"namespaces\": [%s]}\n"
		" ]\n"
		"}\n",
		UNIQUE_DISC, TC_HOSTNQN, OTHER_HOST, ADDR, port_a, OPEN_NQN, CLOSED_NQN, ADDR, port_b,
		"\"", port_b_linked ? OPEN_NQN : CLOSED_NQN, "\"",
		OPEN_NQN, img_path,
		with_ns4 ? ", {\"nsid\": 4, \"enable\": 1, \"device\": {\"path\": \"" : "",
		with_ns4 ? img2_path : "", with_ns4 ? "\"}}" : "", CLOSED_NQN, OTHER_HOST,
		bad_ns ? "{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": "
			 "\"/nonexistent/nvmf-test.img\"}}" : "");
	fclose(f);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nvmf-test-%d.json", (int)getpid());
	snprintf(img_path, sizeof(img_path), "/var/tmp/nvmf-test-%d.img", (int)getpid());
	snprintf(img2_path, sizeof(img2_path), "/var/tmp/nvmf-test-%d-2.img", (int)getpid());
	fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 16 << 20) < 0)
		return -1;
	close(fd);
	fd = open(img2_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 8 << 20) < 0)
		return -1;
	close(fd);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	write_config();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cfg_path);
	unlink(img_path);
	unlink(img2_path);
	return 0;
}

static void start(struct target_proc *t)
{
	const char *argv[] = { "--config", cfg_path, "--cpus", "2", NULL };

	assert_int_equal(tp_start(t, port_a, argv), 0);
}

/* Read the discovery log through port `port` with subsystem NQN `disc_nqn`. */
static void get_disc_log(uint16_t port, const char *disc_nqn, uint8_t *log, size_t len)
{
	struct tclient c;
	struct nvme_cqe cqe;
	struct nvme_sqe sqe;

	assert_int_equal(tc_open(&c, ADDR, port, false, false), 0);
	assert_int_equal(tc_connect(&c, 0, 31, disc_nqn, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe), 0);
	assert_int_equal(tc_enable(&c), 0);
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(0x70 | (uint32_t)((len / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&c, &sqe, log, (uint32_t)len, false, &cqe), 0);
	assert_int_equal(le16toh(cqe.status) & ~1u, 0);
	tc_close(&c);
}

static void discovery_on_both_ports(void **state)
{
	struct target_proc t;
	uint8_t log[5 * 1024];
	const struct nvmf_disc_log_hdr *h = (const void *)log;
	const struct nvmf_disc_log_entry *e = (const void *)(log + 1024);

	(void)state;
	start(&t);
	/* port A: current, the open subsystem (the closed one is not for us), the referral */
	get_disc_log(port_a, NVMF_DISCOVERY_NQN, log, sizeof(log));
	assert_int_equal(le64toh(h->numrec), 3);
	assert_int_equal(e[0].subtype, 3);
	assert_string_equal(e[0].subnqn, UNIQUE_DISC);
	assert_int_equal(e[1].subtype, 2);
	assert_string_equal(e[1].subnqn, OPEN_NQN);
	assert_int_equal(atoi(e[1].trsvcid), port_a);
	assert_int_equal(le16toh(e[1].portid), 1);
	assert_int_equal(e[2].subtype, 1);
	assert_string_equal(e[2].traddr, "127.0.0.2");
	assert_int_equal(atoi(e[2].trsvcid), 8009);
	/* port B, through the unique discovery NQN: only what is linked to port B */
	get_disc_log(port_b, UNIQUE_DISC, log, sizeof(log));
	assert_int_equal(le64toh(h->numrec), 2);
	assert_string_equal(e[1].subnqn, OPEN_NQN);
	assert_int_equal(atoi(e[1].trsvcid), port_b);
	assert_int_equal(le16toh(e[1].portid), 2);
	assert_int_equal(tp_stop(&t), 0);
}

static void allowed_hosts(void **state)
{
	struct target_proc t;
	struct tclient c;
	struct nvme_cqe cqe;
	int st;

	(void)state;
	start(&t);
	assert_int_equal(tc_open(&c, ADDR, port_a, false, false), 0);
	st = tc_connect(&c, 0, 31, CLOSED_NQN, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe);
	assert_int_equal(nvme_status_sct((uint16_t)st), NVME_SCT_CMD_SPECIFIC);
	assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_HOST);
	assert_int_equal(le32toh(cqe.dw0), (1u << 16) | 512); /* IPO: HOSTNQN in the data */
	tc_close(&c);
	assert_int_equal(tc_open(&c, ADDR, port_a, false, false), 0);
	assert_int_equal(tc_connect(&c, 0, 31, CLOSED_NQN, OTHER_HOST, 0xFFFF, 0, 0, &cqe), 0);
	tc_close(&c);
	/* the closed subsystem is not on port B at all */
	assert_int_equal(tc_open(&c, ADDR, port_b, false, false), 0);
	st = tc_connect(&c, 0, 31, CLOSED_NQN, OTHER_HOST, 0xFFFF, 0, 0, &cqe);
	assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
	tc_close(&c);
	assert_true(tp_log_count(&t, "not allowed") >= 1);
	assert_int_equal(tp_stop(&t), 0);
}

static void identity_of(uint8_t uuid[16], char serial[21])
{
	struct tclient a;
	uint8_t buf[4096];
	uint16_t st;

	assert_int_equal(tc_admin_setup(&a, ADDR, port_a, OPEN_NQN, false, false), 0);
	assert_int_equal(tc_identify(&a, NVME_CNS_NS_DESC_LIST, 3, 0, buf, &st), 0);
	assert_int_equal(st, 0);
	memset(uuid, 0, 16);
	for (size_t off = 0; off + 4 <= sizeof(buf) && buf[off];) {
		if (buf[off] == 3) /* UUID descriptor */
			memcpy(uuid, buf + off + 4, 16);
		off += 4 + buf[off + 1];
	}
	assert_int_equal(tc_identify(&a, NVME_CNS_CTRL, 0, 0, buf, &st), 0);
	memcpy(serial, ((struct nvme_id_ctrl *)buf)->sn, 20);
	serial[20] = 0;
	tc_close(&a);
}

static void file_keeps_data_across_restart(void **state)
{
	struct target_proc t;
	struct tclient a, io;
	uint8_t w[65536], r[65536], uuid1[16], uuid2[16];
	char sn1[21], sn2[21];
	uint16_t st;
	uint32_t bs;

	(void)state;
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 1);
	start(&t);
	assert_int_equal(tc_admin_setup(&a, ADDR, port_a, OPEN_NQN, false, false), 0);
	/* the file's block size decides the LBA size (4096 with O_DIRECT, as nvmet) */
	assert_int_equal(tc_identify(&a, NVME_CNS_NS, 3, 0, r, &st), 0);
	bs = 1u << ((struct nvme_id_ns *)r)->lbaf[0].lbads;
	assert_true(bs == 512 || bs == 4096);
	assert_int_equal(le64toh(((struct nvme_id_ns *)r)->nsze), (16u << 20) / bs);
	assert_int_equal(tc_io_setup(&io, ADDR, port_a, OPEN_NQN, a.cntlid, 1, false, false), 0);
	io.icd_max = 8192; /* the port's inline_data_size */
	assert_int_equal(tc_rw(&io, true, 3, 123, sizeof(w) / bs, w, sizeof(w), false, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&io, true, 3, 2000, 4096 / bs, w, 4096, true, &st), 0);
	assert_int_equal(st, 0);
	tc_close(&io);
	tc_close(&a);
	identity_of(uuid1, sn1);
	assert_int_equal(tp_stop(&t), 0);

	start(&t);
	identity_of(uuid2, sn2);
	assert_memory_equal(uuid1, uuid2, 16);
	assert_string_equal(sn1, "SERIAL-OPEN-1       ");
	assert_string_equal(sn1, sn2);
	assert_int_equal(tc_admin_setup(&a, ADDR, port_a, OPEN_NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, port_a, OPEN_NQN, a.cntlid, 1, false, false), 0);
	assert_int_equal(tc_rw(&io, false, 3, 123, sizeof(r) / bs, r, sizeof(r), false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(w, r, sizeof(w));
	tc_close(&io);
	tc_close(&a);
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

static void bad_config_refused(void **state)
{
	char bad[128], out[4096];
	const char *argv[] = { "--config", bad, NULL };
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "/tmp/nvmf-bad-%d.json", (int)getpid());
	f = fopen(bad, "w");
	fprintf(f, "{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": "
		   "\"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"99999\"}, "
		   "\"subsystems\": [\"x\"]}], \"subsystems\": [{\"nqn\": \"x\", \"attr\": "
		   "{\"allow_any_host\": \"1\"}, \"colour\": \"blue\"}]}");
	fclose(f);
	assert_int_not_equal(run_capture(argv, out, sizeof(out)), 0);
	assert_non_null(strstr(out, bad));
	assert_non_null(strstr(out, "ports[0].addr.trsvcid"));
	unlink(bad);
}

/* Command-line mistakes: usage status 2 and the reason, before anything is opened. */
static void bad_options_refused(void **state)
{
	static const struct {
		const char *argv[6];
		const char *why;
	} cases[] = {
		{ { "--null", "1M", "--prealloc", NULL }, "--prealloc goes with --ram" },
		{ { "--null", "1M", "--ram-lazy", NULL }, "--ram-lazy goes with --ram" },
		{ { "--ram", "1M", "--prealloc", "--ram-lazy", NULL }, "not with --prealloc" },
		{ { "--ram", "1M", "--spin-us", "x", NULL }, "--spin-us wants" },
		{ { "--ram", "1M", "--spin-us", "2000000", NULL }, "--spin-us wants" },
		{ { "--ram", "1M", "--cpus", "0", NULL }, "--cpus wants" },
	};
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run_capture(cases[i].argv, out, sizeof(out)), 2);
		assert_non_null(strstr(out, cases[i].why));
	}
}

/*
 * --no-spin-rx: the reactors learn of input from the ring only; the ready line says so.
 * Reads after writes return the data with and without it (by default a spinning reactor
 * reads the connection itself: the two paths must agree), a thousand in a row so that most
 * arrive while the reactor spins.
 */
static void spin_rx_option(void **state)
{
	(void)state;
	for (int off = 0; off < 2; off++) {
		uint16_t port = tp_free_port();
		char listen[64];
		const char *argv[] = { "--ram", "1M", "--listen", listen,
				       off ? "--no-spin-rx" : NULL, NULL };
		struct target_proc t;
		struct tclient a, io;
		uint8_t w[4096], r[4096];
		uint16_t st;

		snprintf(listen, sizeof(listen), ADDR ":%u", port);
		assert_int_equal(tp_start(&t, port, argv), 0);
		assert_int_equal(tc_admin_setup(&a, ADDR, port, QUICK_NQN, false, false), 0);
		assert_int_equal(tc_io_setup(&io, ADDR, port, QUICK_NQN, a.cntlid, 1, false, false),
				 0);
		for (int i = 0; i < 1000; i++) {
			memset(w, i & 0xff, sizeof(w));
			w[0] = (uint8_t)off;
			assert_int_equal(tc_rw(&io, true, 1, (uint64_t)(i % 256) * 8, 8, w, sizeof(w),
					       false, &st), 0);
			assert_int_equal(st, 0);
			assert_int_equal(tc_rw(&io, false, 1, (uint64_t)(i % 256) * 8, 8, r,
					       sizeof(r), false, &st), 0);
			assert_int_equal(st, 0);
			assert_memory_equal(w, r, sizeof(w));
		}
		tc_close(&io);
		tc_close(&a);
		/* logged before the first connection was served */
		assert_int_equal(tp_log_count(&t, "(ring only)"), off);
		assert_int_equal(tp_stop(&t), 0);
	}
}

/* A RAM namespace that cannot be reserved fails at start, naming the namespace. */
static void prealloc_too_large_refused(void **state)
{
	const char *argv[] = { "--ram", "64T", "--prealloc", "--listen", "127.0.0.1:1", NULL };
	char out[4096];
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = 0;

	(void)state;
	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = 0;
		fclose(f);
	}
	if (mode == 1) {
		/* "always overcommit": the map would succeed and populating it exhaust memory */
		print_message("skipped: vm.overcommit_memory=1\n");
		skip();
	}
	assert_int_equal(run_capture(argv, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "cannot"));
	assert_non_null(strstr(out, "namespace 1"));
}

/* SIGHUP: a namespace appears and port B loses its link; the hosts are told. */
static void reload_sends_events(void **state)
{
	struct target_proc t;
	struct tclient a, d;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint16_t aer_a, aer_d, st;
	uint8_t buf[4096];
	uint64_t genctr;

	(void)state;
	with_ns4 = false;
	port_b_linked = true;
	write_config();
	start(&t);
	/* an I/O controller and a discovery controller, each with an AER outstanding */
	assert_int_equal(tc_admin_setup(&a, ADDR, port_a, OPEN_NQN, false, false), 0);
	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&a, &sqe, &aer_a), 0);
	assert_int_equal(tc_admin_setup(&d, ADDR, port_a, NVMF_DISCOVERY_NQN, false, false), 0);
	tc_sqe(&sqe, NVME_ADM_SET_FEATURES, 0);
	sqe.cdw10 = htole32(NVME_FID_ASYNC_EVENT);
	sqe.cdw11 = htole32(NVME_AEC_DISC_LOG_CHANGE);
	assert_int_equal(tc_cmd(&d, &sqe, NULL, 0, false, &cqe), 0);
	assert_int_equal(le16toh(cqe.status) & ~1u, 0);
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(0x70 | ((1024 / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&d, &sqe, buf, 1024, false, &cqe), 0);
	genctr = le64toh(((struct nvmf_disc_log_hdr *)buf)->genctr);
	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&d, &sqe, &aer_d), 0);
	/* nothing happens without a change */
	assert_int_equal(tc_wait_rsp(&a, aer_a, 300, &cqe), -ETIMEDOUT);

	with_ns4 = true;
	port_b_linked = false;
	write_config();
	kill(t.pid, SIGHUP);

	assert_int_equal(tc_wait_rsp(&a, aer_a, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), NVME_AER_DW0(NVME_AER_TYPE_NOTICE,
							NVME_AER_NOTICE_NS_CHANGED,
							NVME_LID_CHANGED_NS));
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(NVME_LID_CHANGED_NS | ((4096 / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&a, &sqe, buf, 4096, false, &cqe), 0);
	assert_int_equal(le32toh(((uint32_t *)buf)[0]), 4);
	assert_int_equal(le32toh(((uint32_t *)buf)[1]), 0);
	assert_int_equal(tc_identify(&a, NVME_CNS_ACTIVE_NS_LIST, 0, 0, buf, &st), 0);
	assert_int_equal(le32toh(((uint32_t *)buf)[0]), 3);
	assert_int_equal(le32toh(((uint32_t *)buf)[1]), 4);

	assert_int_equal(tc_wait_rsp(&d, aer_d, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), NVME_AER_DW0(NVME_AER_TYPE_NOTICE,
							NVME_AER_NOTICE_DISC_CHANGED,
							NVME_LID_DISCOVERY));
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(0x70 | ((1024 / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&d, &sqe, buf, 1024, false, &cqe), 0);
	assert_int_equal(le64toh(((struct nvmf_disc_log_hdr *)buf)->genctr), genctr + 1);
	tc_close(&d);
	tc_close(&a);
	/* port B now links only the subsystem this host may not use */
	{
		uint8_t log[3072];

		get_disc_log(port_b, NVMF_DISCOVERY_NQN, log, sizeof(log));
		assert_int_equal(le64toh(((struct nvmf_disc_log_hdr *)log)->numrec), 1);
	}
	/* a broken config is refused; the target keeps what it had */
	{
		FILE *f = fopen(cfg_path, "w");

		fputs("{ \"ports\": [ }", f);
		fclose(f);
		kill(t.pid, SIGHUP);
		usleep(300000);
		assert_true(tp_log_count(&t, "reload failed") >= 1);
		assert_int_equal(tc_admin_setup(&a, ADDR, port_a, OPEN_NQN, false, false), 0);
		tc_close(&a);
	}
	assert_int_equal(tp_stop(&t), 0);
	with_ns4 = false;
	port_b_linked = true;
	write_config();
}

/* VmRSS of pid, in KiB. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Open file descriptors of pid. */
static int fd_count(pid_t pid)
{
	char path[64];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2; /* . and .. */
}

/* SIGHUP, and wait until the target logged the outcome of reload number `nth`. */
static void reload_nth(struct target_proc *t, int nth)
{
	kill(t->pid, SIGHUP);
	for (int i = 0; i < 10000; i++) {
		if (tp_log_count(t, "configuration reloaded") + tp_log_count(t, "reload failed") >=
		    nth)
			return;
		usleep(500);
	}
	fail_msg("reload %d not done", nth);
}

/*
 * Reloads free what they replace: 1,000 of them -- two good configurations in turn, and
 * every third one failing after it opened a backend -- leave the target's memory and open
 * files where they were after the first few.
 */
static void reloads_leave_nothing_behind(void **state)
{
	enum { WARM = 100, NR = 1000 };
	struct target_proc t;
	long rss0 = 0;
	int fds0 = 0;

	(void)state;
	/* freed memory must be reused for RSS to show it: no ASan quarantine in the target
	 * (open files show a leak either way) */
	setenv("ASAN_OPTIONS", "quarantine_size_mb=0:thread_local_quarantine_size_kb=0", 1);
	with_ns4 = false;
	bad_ns = false;
	port_b_linked = true;
	write_config();
	start(&t);
	unsetenv("ASAN_OPTIONS");
	for (int i = 1; i <= NR; i++) {
		bad_ns = i % 3 == 0;
		with_ns4 = bad_ns; /* opened first, then the bad one fails the reload */
		port_b_linked = i % 2 == 0;
		write_config();
		reload_nth(&t, i);
		if (i == WARM) {
			rss0 = rss_kib(t.pid);
			fds0 = fd_count(t.pid);
		}
	}
	assert_true(tp_log_count(&t, "reload failed") >= NR / 3);
	assert_int_equal(fd_count(t.pid), fds0);
	print_message("# RSS after %d reloads: %ld KiB, after %d: %ld KiB\n", WARM, rss0, NR,
		      rss_kib(t.pid));
	assert_true(rss_kib(t.pid) - rss0 < 512);
	assert_int_equal(tp_stop(&t), 0);
	bad_ns = false;
	with_ns4 = false;
	port_b_linked = true;
	write_config();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery_on_both_ports),
		cmocka_unit_test(allowed_hosts),
		cmocka_unit_test(file_keeps_data_across_restart),
		cmocka_unit_test(bad_config_refused),
		cmocka_unit_test(bad_options_refused),
		cmocka_unit_test(prealloc_too_large_refused),
		cmocka_unit_test(spin_rx_option),
		cmocka_unit_test(reload_sends_events),
		cmocka_unit_test(reloads_leave_nothing_behind),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
