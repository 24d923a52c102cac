/*
 * The `nvmf` command line ($NVMF_CLI) against real nvmf-target processes on loopback:
 * target A from a config.json (serial and model set, a referral to target B), target B a
 * quick-start RAM target.  discover in nvme-cli's normal and JSON formats (the referral
 * followed), id-ctrl / id-ns / get-log output, a file written then read back identical,
 * connect's daemon (--no-ublk: this machine may have no ublk driver) seen by list and
 * removed by disconnect / disconnect-all with a clean exit, connect-all, the usage and
 * error paths (exit 2 with the usage, exit 1 with one line naming the peer), and the
 * DH-HMAC-CHAP verbs and options (gen-dhchap-key, check-dhchap-key, -S / -C / -J), the
 * TLS key verbs (gen-tls-key, check-tls-key) and the TLS options (--tls, --tls-key, and a
 * port's "tls" / "tls_key" in config.json).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target_proc.h"

#define ADDR "127.0.0.1"
#define NQN_A "nqn.2024-01.io.nvmf-tcp.test:cli-a"
#define NQN_B "nqn.2024-01.io.nvmf-tcp.test:cli-b"
#define SERIAL "SERIAL-CLI-1"
#define MODEL "nvmf-tcp cli test"
#define IMG_MIB 16

static struct target_proc tgt_a, tgt_b;
static uint16_t port_a, port_b;
static char cfg_path[128], img_path[128], run_dir[128], data_in[128], data_out[128];
static const char *cli;

struct run {
	int status;                  /* exit status, -1 if killed */
	char *out, *err;
	size_t outlen, errlen;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static void drain(int fd, char **buf, size_t *len, size_t *cap, bool *open)
{
	ssize_t n;

	if (*len + 65536 > *cap) {
		*cap = *cap * 2 + 65536;
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	n = read(fd, *buf + *len, *cap - *len - 1);
	if (n > 0)
		*len += (size_t)n;
	else if (n == 0 || errno != EINTR)
		*open = false;
	(*buf)[*len] = 0;
}

/* Run `nvmf ARGS...` (NULL-terminated), collecting stdout and stderr. */
static void run_argv(struct run *r, const char *const *args)
{
	int po[2], pe[2], st;
	const char *argv[64];
	size_t n = 0, ocap = 0, ecap = 0;
	bool oopen = true, eopen = true;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	argv[n++] = cli;
	for (size_t i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		execv(cli, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	while (oopen || eopen) {
		struct pollfd p[2] = { { .fd = oopen ? po[0] : -1, .events = POLLIN },
				       { .fd = eopen ? pe[0] : -1, .events = POLLIN } };

		if (poll(p, 2, 60000) <= 0)
			break;
		if (p[0].revents)
			drain(po[0], &r->out, &r->outlen, &ocap, &oopen);
		if (p[1].revents)
			drain(pe[0], &r->err, &r->errlen, &ecap, &eopen);
	}
	close(po[0]);
	close(pe[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (getenv("TEST_CLI_VERBOSE"))
		fprintf(stderr, "# nvmf %s -> %d\n# out: %s\n# err: %s\n", args[0], r->status, r->out,
			r->err);
}

#define RUN(r, ...)                                               \
	do {                                                      \
		const char *const a_[] = { __VA_ARGS__, NULL };   \
		run_argv(r, a_);                                  \
	} while (0)

static char port_a_s[8], port_b_s[8];

static json_object *parse_json(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (!o)
		fprintf(stderr, "# not JSON: %s\n", text);
	assert_non_null(o);
	return o;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fprintf(stderr, "# no key %s in %s\n", key, json_object_to_json_string(o));
	assert_non_null(v);
	return v;
}

static const char *jstr(json_object *o, const char *key)
{
	return json_object_get_string(jget(o, key));
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The daemons are re-parented to this process (a subreaper): reap one, its exit status. */
static int reap(pid_t pid)
{
	uint64_t end = now_ms() + 20000;
	int st;

	while (now_ms() < end) {
		pid_t got = waitpid(pid, &st, WNOHANG);

		if (got == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (got < 0)
			return -1;
		usleep(10000);
	}
	return -2;
}

static pid_t state_pid_of(const char *name, const char *nqn)
{
	char path[256];
	json_object *o;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s.json", run_dir, name);
	o = json_object_from_file(path);
	assert_non_null(o);
	pid = (pid_t)json_object_get_int(jget(o, "pid"));
	assert_string_equal(jstr(o, "state"), "live");
	assert_string_equal(jstr(o, "subnqn"), nqn);
	json_object_put(o);
	return pid;
}

static pid_t state_pid(const char *name)
{
	return state_pid_of(name, NQN_A);
}

static bool state_exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.json", run_dir, name);
	return access(path, F_OK) == 0;
}

/* Namespace 1 of target A: block count and size, as `nvmf id-ns -o json` reports them. */
static void ns_geometry(uint64_t *nsze, unsigned *bs)
{
	struct run r;
	json_object *root, *lbaf;

	RUN(&r, "id-ns", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	*nsze = (uint64_t)json_object_get_int64(jget(root, "nsze"));
	lbaf = json_object_array_get_idx(jget(root, "lbafs"),
					 (size_t)json_object_get_int(jget(root, "flbas")) & 0xF);
	*bs = 1u << json_object_get_int(jget(lbaf, "ds"));
	json_object_put(root);
	run_free(&r);
}

/* ------------------------------------------------------------------ fixtures */

static void write_config(void)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\n"
		" \"ports\": [\n"
		"  {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"treq\": \"not specified\"},\n"
		"   \"referrals\": [{\"name\": \"b\", \"enable\": 1, \"addr\": {\"trtype\": \"tcp\",\n"
		"     \"adrfam\": \"ipv4\", \"traddr\": \"%s\", \"trsvcid\": \"%u\",\n"
		"     \"portid\": \"2\", \"treq\": \"not specified\"}}],\n"
		"   \"subsystems\": [\"%s\"]}\n"
		" ],\n"
		" \"subsystems\": [\n"
		"  {\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\", \"serial\": \"%s\",\n"
		"    \"model\": \"%s\"},\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\"}}]}\n"
		" ]\n"
		"}\n",
		ADDR, port_a, ADDR, port_b, NQN_A, NQN_A, SERIAL, MODEL, img_path);
	fclose(f);
}

static int setup(void **state)
{
	const char *argv_a[] = { "--config", cfg_path, "--cpus", "2", NULL };
	char listen_b[32];
	const char *argv_b[] = { "--ram", "16M", "--listen", listen_b, "--nqn", NQN_B,
				 "--cpus", "1", NULL };
	int fd;

	(void)state;
	cli = getenv("NVMF_CLI");
	if (!cli)
		cli = "build-san/src/tools/nvmf";
	/* connect's daemons outlive their parent: have them re-parented here, to reap them */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nvmf-cli-test-%d.json", (int)getpid());
	snprintf(img_path, sizeof(img_path), "/var/tmp/nvmf-cli-test-%d.img", (int)getpid());
	snprintf(run_dir, sizeof(run_dir), "/tmp/nvmf-cli-test-run-%d", (int)getpid());
	snprintf(data_in, sizeof(data_in), "/tmp/nvmf-cli-test-%d.in", (int)getpid());
	snprintf(data_out, sizeof(data_out), "/tmp/nvmf-cli-test-%d.out", (int)getpid());
	setenv("NVMF_RUN_DIR", run_dir, 1);
	fd = open(img_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)IMG_MIB << 20) < 0)
		return -1;
	close(fd);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	snprintf(port_a_s, sizeof(port_a_s), "%u", port_a);
	snprintf(port_b_s, sizeof(port_b_s), "%u", port_b);
	snprintf(listen_b, sizeof(listen_b), "%s:%u", ADDR, port_b);
	write_config();
	if (tp_start(&tgt_b, port_b, argv_b))
		return -1;
	if (tp_start(&tgt_a, port_a, argv_a)) {
		tp_stop(&tgt_b);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct run r;
	int rc = 0;

	(void)state;
	/* whatever a failed test left connected */
	RUN(&r, "disconnect-all");
	run_free(&r);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (tp_stop(&tgt_a) != 0 || tp_stop(&tgt_b) != 0)
		rc = -1;
	unlink(cfg_path);
	unlink(img_path);
	unlink(data_in);
	unlink(data_out);
	for (int i = 0; i < 8; i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/nvmf%d.log", run_dir, i);
		unlink(p);
	}
	rmdir(run_dir);
	return rc;
}

/* ------------------------------------------------------------------ tests */

static void usage_errors(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "no-such-verb");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown command 'no-such-verb'"));
	run_free(&r);

	RUN(&r, "discover", "-a", ADDR, "--no-such-flag");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown option '--no-such-flag'"));
	assert_non_null(strstr(r.err, "usage: nvmf discover"));
	assert_int_equal(r.outlen, 0);
	run_free(&r);

	RUN(&r, "discover", "-a", ADDR, "-Z");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "unknown option '-Z'"));
	run_free(&r);

	RUN(&r, "connect", "-a", ADDR, "-s", port_a_s, "--no-ublk");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "[--nqn | -n]"));
	run_free(&r);

	RUN(&r, "discover", "-t", "rdma", "-a", ADDR);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "tcp only"));
	run_free(&r);

	RUN(&r, "discover", "-s", port_a_s);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "[--traddr | -a]"));
	run_free(&r);

	RUN(&r, "connect", "-a", ADDR, "-n", NQN_A, "-Q", "abc");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "invalid value 'abc' for --queue-size"));
	run_free(&r);

	RUN(&r, "id-ctrl", "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: nvmf id-ctrl"));
	assert_non_null(strstr(r.out, "--traddr=ADDR"));
	run_free(&r);

	RUN(&r, "help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "connect-all"));
	run_free(&r);
}

static void discover_normal(void **state)
{
	struct run r;
	char line[128];

	(void)state;
	RUN(&r, "discover", "-t", "tcp", "-a", ADDR, "-s", port_a_s);
	assert_int_equal(r.status, 0);
	/* target A: current discovery subsystem, NQN_A, the referral; then target B's two */
	assert_non_null(strstr(r.out, "\nDiscovery Log Number of Records 5, Generation counter "));
	assert_non_null(strstr(r.out, "=====Discovery Log Entry 0======\ntrtype:  tcp\n"
				      "adrfam:  ipv4\nsubtype: current discovery subsystem\n"));
	assert_non_null(strstr(r.out, "=====Discovery Log Entry 4======\n"));
	assert_non_null(strstr(r.out, "subtype: nvme subsystem\n"));
	assert_non_null(strstr(r.out, "subtype: discovery subsystem referral\n"));
	assert_non_null(strstr(r.out, "subnqn:  " NQN_A "\n"));
	assert_non_null(strstr(r.out, "subnqn:  " NQN_B "\n"));
	snprintf(line, sizeof(line), "portid:  1\ntrsvcid: %u\nsubnqn:  %s\ntraddr:  %s\n"
		 "eflags:  none\nsectype: none\n", port_a, NQN_A, ADDR);
	assert_non_null(strstr(r.out, line));
	snprintf(line, sizeof(line), "trsvcid: %u\nsubnqn:  %s\n", port_b, NQN_B);
	assert_non_null(strstr(r.out, line));
	assert_non_null(strstr(r.out, "treq:    not specified"));
	run_free(&r);
}

static void discover_json(void **state)
{
	struct run r;
	json_object *root, *recs;
	bool seen_a = false, seen_b = false;

	(void)state;
	RUN(&r, "discover", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	assert_true(json_object_is_type(jget(root, "genctr"), json_type_int));
	recs = jget(root, "records");
	assert_int_equal(json_object_array_length(recs), 5);
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *e = json_object_array_get_idx(recs, i);
		const char *nqn = jstr(e, "subnqn");

		assert_string_equal(jstr(e, "trtype"), "tcp");
		assert_string_equal(jstr(e, "adrfam"), "ipv4");
		assert_string_equal(jstr(e, "traddr"), ADDR);
		assert_string_equal(jstr(e, "eflags"), "none");
		assert_string_equal(jstr(e, "sectype"), "none");
		assert_true(json_object_is_type(jget(e, "portid"), json_type_int));
		assert_true(json_object_is_type(jget(e, "trsvcid"), json_type_string));
		assert_non_null(jstr(e, "treq"));
		if (!strcmp(nqn, NQN_A)) {
			assert_string_equal(jstr(e, "subtype"), "nvme subsystem");
			assert_string_equal(jstr(e, "trsvcid"), port_a_s);
			assert_int_equal(json_object_get_int(jget(e, "portid")), 1);
			seen_a = true;
		}
		if (!strcmp(nqn, NQN_B)) {
			assert_string_equal(jstr(e, "subtype"), "nvme subsystem");
			assert_string_equal(jstr(e, "trsvcid"), port_b_s);
			seen_b = true;
		}
	}
	assert_true(seen_a);
	assert_true(seen_b);
	json_object_put(root);
	run_free(&r);
}

static void discover_refused(void **state)
{
	struct run r;
	char closed[8], where[32];
	uint16_t p;

	(void)state;
	do
		p = tp_free_port();
	while (p == port_a || p == port_b);
	snprintf(closed, sizeof(closed), "%u", p);
	snprintf(where, sizeof(where), "%s:%u", ADDR, p);
	RUN(&r, "discover", "-t", "tcp", "-a", ADDR, "-s", closed);
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "nvmf discover: "));
	assert_non_null(strstr(r.err, where));
	assert_non_null(strstr(r.err, "refused"));
	assert_int_equal(r.outlen, 0);
	run_free(&r);
}

static void id_ctrl(void **state)
{
	struct run r;
	json_object *root;

	(void)state;
	RUN(&r, "id-ctrl", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "NVME Identify Controller:\nvid       : ", 38), 0);
	assert_non_null(strstr(r.out, "\nsn        : " SERIAL));
	assert_non_null(strstr(r.out, "\nmn        : " MODEL));
	assert_non_null(strstr(r.out, "\nsubnqn    : " NQN_A "\n"));
	assert_non_null(strstr(r.out, "\ncntlid    : 0x"));
	assert_non_null(strstr(r.out, "\nioccsz    : "));
	assert_non_null(strstr(r.out, "\nps      0 : mp:"));
	run_free(&r);

	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	assert_string_equal(jstr(root, "sn"), SERIAL);
	assert_string_equal(jstr(root, "mn"), MODEL);
	assert_string_equal(jstr(root, "subnqn"), NQN_A);
	assert_true(json_object_get_int(jget(root, "nn")) >= 1);
	assert_int_equal(json_object_array_length(jget(root, "psds")), 1);
	json_object_put(root);
	run_free(&r);

	/* -b: the 4096 bytes as they came */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-b");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, 4096);
	assert_memory_equal(r.out + 4, SERIAL, strlen(SERIAL));
	assert_memory_equal(r.out + 768, NQN_A, strlen(NQN_A));
	run_free(&r);

	/* a subsystem that is not there: one line, exit 1 */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", "nqn.2024-01.io.nvmf-tcp.test:none");
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "nqn.2024-01.io.nvmf-tcp.test:none"));
	run_free(&r);
}

static void id_ns(void **state)
{
	struct run r;
	json_object *root;
	unsigned long long nsze;
	unsigned lbads;
	const char *p;

	(void)state;
	RUN(&r, "id-ns", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--namespace-id",
	    "1");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "NVME Identify Namespace 1:\nnsze    : 0x", 39), 0);
	nsze = strtoull(r.out + strlen("NVME Identify Namespace 1:\nnsze    : "), NULL, 16);
	p = strstr(r.out, "(in use)");
	assert_non_null(p);
	while (p > r.out && p[-1] != '\n')
		p--;
	assert_int_equal(sscanf(p, "lbaf  0 : ms:0   lbads:%u", &lbads), 1);
	assert_int_equal(nsze << lbads, (unsigned long long)IMG_MIB << 20);
	assert_non_null(strstr(r.out, "\nnguid   : "));
	assert_non_null(strstr(r.out, "\nnsattr\t: 0\n"));
	run_free(&r);

	RUN(&r, "id-ns", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--namespace-id=1", "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	assert_int_equal((unsigned long long)json_object_get_int64(jget(root, "nsze")) << lbads,
			 (unsigned long long)IMG_MIB << 20);
	assert_int_equal(json_object_array_length(jget(root, "lbafs")), 1);
	json_object_put(root);
	run_free(&r);

	RUN(&r, "id-ns", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--namespace-id", "7");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "namespace 7"));
	run_free(&r);
}

static void get_log(void **state)
{
	struct run r;
	char head[192];

	(void)state;
	RUN(&r, "get-log", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--log-id=2",
	    "--log-len=512");
	assert_int_equal(r.status, 0);
	snprintf(head, sizeof(head), "Device:%s:%u log_id:02 namespace_id:0xffffffff\n"
		 "       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f\n0000: ", ADDR, port_a);
	assert_int_equal(strncmp(r.out, head, strlen(head)), 0);
	assert_int_equal(count_lines(r.out), 2 + 32);
	assert_non_null(strstr(r.out, "\n01f0: 00"));
	run_free(&r);

	RUN(&r, "get-log", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-i", "2", "-l", "512", "-b");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, 512);
	run_free(&r);

	/* the discovery log through get-log: header, then NQN_A in the second entry */
	RUN(&r, "get-log", "-a", ADDR, "-s", port_a_s, "-i", "0x70", "-l", "3072", "-b");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, 3072);
	assert_memory_equal(r.out + 2048 + 256, NQN_A, strlen(NQN_A));
	run_free(&r);

	RUN(&r, "get-log", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-i", "2");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--log-len"));
	run_free(&r);
}

static void write_read_back(void **state)
{
	struct run r;
	size_t len = (3u << 20) + 100;   /* several commands (MDTS), a partial last block */
	uint8_t *data = malloc(len), *back;
	FILE *f;
	char size[24], last[24];
	uint64_t nsze;
	unsigned bs;

	(void)state;
	assert_non_null(data);
	ns_geometry(&nsze, &bs);
	assert_int_equal(nsze * bs, (uint64_t)IMG_MIB << 20);
	srand(7);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)rand();
	f = fopen(data_in, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	snprintf(size, sizeof(size), "%zu", len);

	RUN(&r, "write", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--namespace-id",
	    "1", "--start-block", "16", "-d", data_in);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "write: Success"));
	run_free(&r);

	RUN(&r, "read", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--start-block", "16", "-z", size,
	    "-d", data_out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "read: Success"));
	run_free(&r);
	back = malloc(len + 1);
	assert_non_null(back);
	f = fopen(data_out, "r");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, len + 1, f), len);
	fclose(f);
	assert_memory_equal(back, data, len);

	/* to stdout, one block (-c is 0's based), with digests on */
	RUN(&r, "read", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--start-block", "17", "-c", "0",
	    "-g", "-G");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, bs);
	assert_memory_equal(r.out, data + bs, bs);
	run_free(&r);

	/* the last block padded with zeroes past the file's end */
	snprintf(last, sizeof(last), "%zu", 16 + len / bs);
	RUN(&r, "read", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--start-block", last, "-c", "0");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, bs);
	assert_memory_equal(r.out, data + len / bs * bs, len % bs);
	for (size_t i = len % bs; i < bs; i++)
		assert_int_equal(r.out[i], 0);
	run_free(&r);

	/* past the end of the namespace: refused before anything is sent */
	snprintf(last, sizeof(last), "%llu", (unsigned long long)nsze - 1);
	RUN(&r, "read", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--start-block", last, "-c",
	    "1");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "beyond namespace 1"));
	run_free(&r);

	RUN(&r, "read", "-a", ADDR, "-s", port_a_s, "-n", NQN_A);
	assert_int_equal(r.status, 2);
	run_free(&r);
	free(back);
	free(data);
}

static void connect_list_disconnect(void **state)
{
	struct run r;
	json_object *root, *ctrls;
	pid_t pid0, pid1;
	char expect[256];

	(void)state;
	/* block devices need ublk: without it, one clear line (and nothing left behind) */
	if (access("/dev/ublk-control", R_OK | W_OK)) {
		RUN(&r, "connect", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A);
		assert_int_equal(r.status, 1);
		assert_int_equal(count_lines(r.err), 1);
		assert_non_null(strstr(r.err, "ublk"));
		assert_non_null(strstr(r.err, "--no-ublk"));
		assert_false(state_exists("nvmf0"));
		run_free(&r);
	}

	RUN(&r, "connect", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--no-ublk",
	    "-k", "2", "-i", "2");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "connected " NQN_A " as controller nvmf0: nsid 1 (no block device)\n");
	run_free(&r);
	pid0 = state_pid("nvmf0");
	assert_int_equal(kill(pid0, 0), 0);

	/* the same again: refused; -D: a second controller */
	RUN(&r, "connect", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--no-ublk");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "already connected"));
	run_free(&r);
	RUN(&r, "connect", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--no-ublk", "-D", "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	assert_string_equal(jstr(root, "device"), "nvmf1");
	json_object_put(root);
	run_free(&r);
	pid1 = state_pid("nvmf1");

	/* the daemons keep the controllers: list sees them, with the identify data */
	sleep(3);   /* longer than KATO: keep-alive holds the first one */
	RUN(&r, "list");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "Node                  Generic               SN", 46), 0);
	assert_non_null(strstr(r.out, "nvmf0n1 "));
	assert_non_null(strstr(r.out, "nvmf1n1 "));
	assert_non_null(strstr(r.out, SERIAL));
	assert_non_null(strstr(r.out, MODEL));
	assert_non_null(strstr(r.out, " 16.78  MB "));
	assert_int_equal(count_lines(r.out), 4);
	run_free(&r);
	RUN(&r, "list", "-o", "json");
	assert_int_equal(r.status, 0);
	root = parse_json(r.out);
	assert_int_equal(json_object_array_length(jget(root, "Devices")), 2);
	ctrls = jget(root, "Controllers");
	assert_int_equal(json_object_array_length(ctrls), 2);
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "Controller"), "nvmf0");
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "State"), "live");
	assert_string_equal(jstr(json_object_array_get_idx(jget(root, "Devices"), 0), "SerialNumber"),
			    SERIAL);
	json_object_put(root);
	run_free(&r);

	/* -d: that one only, silently (as nvme-cli); the daemon exits cleanly */
	RUN(&r, "disconnect", "-d", "nvmf1");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, 0);
	run_free(&r);
	assert_int_equal(reap(pid1), 0);
	assert_false(state_exists("nvmf1"));
	assert_true(state_exists("nvmf0"));

	RUN(&r, "disconnect", "-n", NQN_A);
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "NQN:%s disconnected 1 controller(s)\n", NQN_A);
	assert_string_equal(r.out, expect);
	run_free(&r);
	assert_int_equal(reap(pid0), 0);
	assert_false(state_exists("nvmf0"));

	RUN(&r, "disconnect", "-n", NQN_A);
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "NQN:%s disconnected 0 controller(s)\n", NQN_A);
	assert_string_equal(r.out, expect);
	run_free(&r);
	RUN(&r, "list");
	assert_int_equal(count_lines(r.out), 2);
	run_free(&r);
	RUN(&r, "disconnect", "-d", "nvmf0");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

/*
 * A second address of a subsystem a daemon holds: a path of that daemon (as the Linux host
 * makes it a path of the same namespace), seen by list with its address, controller,
 * state and ANA state, the subsystem's iopolicy set and changed by connect --iopolicy;
 * disconnect -d takes that path alone (the first controller too: a path takes over),
 * -n every path.
 */
static void second_address_is_a_path(void **state)
{
	const char *nqn = "nqn.2024-01.io.nvmf-tcp.test:cli-mp";
	uint16_t p1 = tp_free_port(), p2;
	char cfg[128], img[128], p1s[8], p2s[8], expect[256];
	const char *argv[] = { "--config", cfg, "--cpus", "1", NULL };
	struct target_proc t;
	struct run r;
	json_object *root, *ctrls;
	pid_t pid;
	FILE *f;
	int fd;

	(void)state;
	do
		p2 = tp_free_port();
	while (p2 == p1);
	snprintf(p1s, sizeof(p1s), "%u", p1);
	snprintf(p2s, sizeof(p2s), "%u", p2);
	snprintf(cfg, sizeof(cfg), "/tmp/nvmf-cli-test-%d-mp.json", (int)getpid());
	snprintf(img, sizeof(img), "/var/tmp/nvmf-cli-test-%d-mp.img", (int)getpid());
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && ftruncate(fd, 8 << 20) == 0);
	close(fd);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f, "{\"ports\": [\n"
		"{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"%s\",\n"
		" \"trsvcid\": \"%u\"}, \"subsystems\": [\"%s\"]},\n"
		"{\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"%s\",\n"
		" \"trsvcid\": \"%u\"}, \"subsystems\": [\"%s\"]}],\n"
		"\"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\"},\n"
		" \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\"}}]}]}\n",
		ADDR, p1, nqn, ADDR, p2, nqn, nqn, img);
	fclose(f);
	assert_int_equal(tp_start(&t, p1, argv), 0);

	RUN(&r, "connect", "-a", ADDR, "-s", p1s, "-n", nqn, "--no-ublk", "--iopolicy", "rr");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--iopolicy rr: numa, round-robin or queue-depth"));
	run_free(&r);
	/* --mptcp: a plain TCP port takes it as TCP (the MPTCP fallback); paths inherit it */
	RUN(&r, "connect", "-a", ADDR, "-s", p1s, "-n", nqn, "--no-ublk", "--iopolicy",
	    "queue-depth", "--mptcp");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "as controller nvmf0:"));
	run_free(&r);
	pid = state_pid_of("nvmf0", nqn);
	RUN(&r, "connect", "-a", ADDR, "-s", p2s, "-n", nqn, "--no-ublk");
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "connected %s as controller nvmf1: a path of nvmf0", nqn);
	assert_non_null(strstr(r.out, expect));
	run_free(&r);
	/* one daemon holds both */
	assert_int_equal(state_pid_of("nvmf1", nqn), pid);
	RUN(&r, "connect", "-a", ADDR, "-s", p2s, "-n", nqn, "--no-ublk");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "already connected"));
	run_free(&r);

	RUN(&r, "list");
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "\n%s iopolicy=queue-depth\n", nqn);
	assert_non_null(strstr(r.out, expect));
	snprintf(expect, sizeof(expect), " +- nvmf0 tcp traddr=%s,trsvcid=%u mptcp cntlid ", ADDR,
		 p1);
	assert_non_null(strstr(r.out, expect));
	snprintf(expect, sizeof(expect), " +- nvmf1 tcp traddr=%s,trsvcid=%u mptcp cntlid ", ADDR,
		 p2);
	assert_non_null(strstr(r.out, expect));
	assert_non_null(strstr(r.out, " live optimized\n"));
	run_free(&r);
	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	ctrls = jget(root, "Controllers");
	assert_int_equal(json_object_array_length(ctrls), 2);
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 1), "PathOf"), "nvmf0");
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 1), "ANAState"), "optimized");
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 1), "State"), "live");
	assert_true(json_object_get_boolean(jget(json_object_array_get_idx(ctrls, 1), "MPTCP")));
	assert_false(json_object_get_boolean(jget(json_object_array_get_idx(ctrls, 1), "TLS")));
	json_object_put(root);
	run_free(&r);

	/* -d of the path: the path goes, the daemon and its first controller stay */
	RUN(&r, "disconnect", "-d", "nvmf1");
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_false(state_exists("nvmf1"));
	assert_true(state_exists("nvmf0"));
	assert_int_equal(kill(pid, 0), 0);

	/* back, switching the subsystem's iopolicy (as its sysfs file on the Linux host) */
	RUN(&r, "connect", "-a", ADDR, "-s", p2s, "-n", nqn, "--no-ublk", "--iopolicy",
	    "round-robin");
	assert_int_equal(r.status, 0);
	run_free(&r);
	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	ctrls = jget(root, "Controllers");
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "IOPolicy"), "round-robin");
	json_object_put(root);
	run_free(&r);

	/*
	 * -d of the first controller while a path stays: the daemon goes on with the path,
	 * whose name now holds the namespaces (nvme disconnect -d of one controller of a
	 * multipath namespace leaves the namespace on the others)
	 */
	RUN(&r, "disconnect", "-d", "nvmf0");
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_false(state_exists("nvmf0"));
	assert_int_equal(state_pid_of("nvmf1", nqn), pid);
	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	ctrls = jget(root, "Controllers");
	assert_int_equal(json_object_array_length(ctrls), 1);
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "Controller"), "nvmf1");
	assert_false(json_object_object_get_ex(json_object_array_get_idx(ctrls, 0), "PathOf",
					       NULL));
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "IOPolicy"), "round-robin");
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "State"), "live");
	snprintf(expect, sizeof(expect), "traddr=%s,trsvcid=%u", ADDR, p2);
	assert_string_equal(jstr(json_object_array_get_idx(ctrls, 0), "Address"), expect);
	json_object_put(root);
	run_free(&r);
	/* the first address again: now a path of nvmf1 */
	RUN(&r, "connect", "-a", ADDR, "-s", p1s, "-n", nqn, "--no-ublk");
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "connected %s as controller nvmf0: a path of nvmf1", nqn);
	assert_non_null(strstr(r.out, expect));
	run_free(&r);

	/* -n: every path */
	RUN(&r, "disconnect", "-n", nqn);
	assert_int_equal(r.status, 0);
	snprintf(expect, sizeof(expect), "NQN:%s disconnected 2 controller(s)\n", nqn);
	assert_string_equal(r.out, expect);
	run_free(&r);
	assert_int_equal(reap(pid), 0);
	assert_false(state_exists("nvmf0"));
	assert_false(state_exists("nvmf1"));
	tp_stop(&t);
	unlink(cfg);
	unlink(img);
}

static void connect_refused(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "connect", "-a", ADDR, "-s", port_a_s, "-n", "nqn.2024-01.io.nvmf-tcp.test:none",
	    "--no-ublk");
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "nvmf connect: "));
	assert_non_null(strstr(r.err, "nqn.2024-01.io.nvmf-tcp.test:none"));
	assert_non_null(strstr(r.err, port_a_s));
	assert_int_equal(r.outlen, 0);
	run_free(&r);
	assert_false(state_exists("nvmf0"));
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void connect_all_disconnect_all(void **state)
{
	struct run r;
	json_object *root, *ctrls;
	pid_t pids[2];

	(void)state;
	/* A's subsystem, and B's through the referral */
	RUN(&r, "connect-all", "-t", "tcp", "-a", ADDR, "-s", port_a_s, "--no-ublk");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "connected " NQN_A " as controller nvmf"));
	assert_non_null(strstr(r.out, "connected " NQN_B " as controller nvmf"));
	assert_int_equal(count_lines(r.out), 2);
	run_free(&r);

	/* again: everything is connected already (--quiet: quietly) */
	RUN(&r, "connect-all", "-a", ADDR, "-s", port_a_s, "--no-ublk", "--quiet");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, 0);
	assert_int_equal(r.errlen, 0);
	run_free(&r);

	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	ctrls = jget(root, "Controllers");
	assert_int_equal(json_object_array_length(ctrls), 2);
	for (int i = 0; i < 2; i++)
		pids[i] = (pid_t)json_object_get_int(jget(json_object_array_get_idx(ctrls, (size_t)i), "Pid"));
	json_object_put(root);
	run_free(&r);

	RUN(&r, "disconnect-all");
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_int_equal(reap(pids[0]), 0);
	assert_int_equal(reap(pids[1]), 0);
	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	assert_int_equal(json_object_array_length(jget(root, "Controllers")), 0);
	json_object_put(root);
	run_free(&r);
}

/* The target goes away for good: past ctrl_loss_tmo the daemon gives up and cleans up. */
static void controller_lost(void **state)
{
	struct target_proc t;
	struct run r;
	json_object *root;
	char listen[32], port[8];
	const char *argv[] = { "--ram", "8M", "--listen", listen, "--nqn", NQN_B, "--cpus", "1",
			       NULL };
	uint16_t p;
	pid_t pid;

	(void)state;
	do
		p = tp_free_port();
	while (p == port_a || p == port_b);
	snprintf(listen, sizeof(listen), "%s:%u", ADDR, p);
	snprintf(port, sizeof(port), "%u", p);
	assert_int_equal(tp_start(&t, p, argv), 0);
	RUN(&r, "connect", "-a", ADDR, "-s", port, "-n", NQN_B, "--no-ublk", "-k", "1", "-c", "1",
	    "-l", "2");
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_true(state_exists("nvmf0"));
	{
		char path[256];
		json_object *o;

		snprintf(path, sizeof(path), "%s/nvmf0.json", run_dir);
		o = json_object_from_file(path);
		assert_non_null(o);
		pid = (pid_t)json_object_get_int(jget(o, "pid"));
		json_object_put(o);
	}
	assert_int_equal(tp_stop(&t), 0);
	/* reconnects fail for 2 s, then the controller is given up: exit 1, state removed */
	assert_int_equal(reap(pid), 1);
	assert_false(state_exists("nvmf0"));
	RUN(&r, "list", "-o", "json");
	root = parse_json(r.out);
	assert_int_equal(json_object_array_length(jget(root, "Controllers")), 0);
	json_object_put(root);
	run_free(&r);
}

static void host_nqn(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "gen-hostnqn");
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "nqn.2014-08.org.nvmexpress:uuid:", 32), 0);
	assert_int_equal(strlen(r.out), 32 + 36 + 1);
	run_free(&r);
}

#define AUTH_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
/* bytes 00..1f as they are (computed apart: Python's base64 and zlib.crc32) */
#define KEY00 "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"
/* the same bytes through nvme-cli's -m 1 transform: HMAC-SHA256(key, AUTH_HOSTNQN ||
 * "NVMe-over-Fabrics") = 6c7b81cb..., then its CRC (Python's hmac, base64, zlib) */
#define KEY01 "DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:"
#define HEX32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* gen-dhchap-key / check-dhchap-key: nvme-cli's flags, lengths and output. */
static void dhchap_keys(void **state)
{
	static const struct {
		const char *hmac;
		size_t len;                  /* characters with the trailing ':' (nvme-cli's) */
		const char *check;
	} forms[] = {
		{ "0", 59, "Key is valid (HMAC 0, length 32, CRC " },
		{ "1", 59, "Key is valid (HMAC 1, length 32, CRC " },
		{ "2", 83, "Key is valid (HMAC 2, length 48, CRC " },
		{ "3", 103, "Key is valid (HMAC 3, length 64, CRC " },
	};
	struct run r, c;
	char key[128];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		RUN(&r, "gen-dhchap-key", "-m", forms[i].hmac, "-n", AUTH_HOSTNQN);
		assert_int_equal(r.status, 0);
		assert_int_equal(strlen(r.out), forms[i].len + 1);
		assert_int_equal(r.out[forms[i].len], '\n');
		snprintf(key, sizeof(key), "%.*s", (int)forms[i].len, r.out);
		assert_int_equal(strncmp(key, "DHHC-1:0", 8), 0);
		assert_int_equal(key[8], forms[i].hmac[0]);
		RUN(&c, "check-dhchap-key", "-k", key);
		assert_int_equal(c.status, 0);
		assert_int_equal(strncmp(c.out, forms[i].check, strlen(forms[i].check)), 0);
		run_free(&c);
		run_free(&r);
	}
	/* --key-length without --hmac; and random keys differ */
	RUN(&r, "gen-dhchap-key", "--key-length", "64");
	assert_int_equal(r.status, 0);
	assert_int_equal(strlen(r.out), 104);
	RUN(&c, "gen-dhchap-key", "--key-length", "64");
	assert_string_not_equal(r.out, c.out);
	run_free(&c);
	run_free(&r);

	/* known answers: a given secret as it is, and through the SHA-256 transform */
	RUN(&r, "gen-dhchap-key", "--secret", HEX32);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, KEY00 "\n");
	run_free(&r);
	RUN(&r, "gen-dhchap-key", "-s", HEX32, "-m", "1", "--nqn", AUTH_HOSTNQN);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, KEY01 "\n");
	run_free(&r);
	RUN(&r, "check-dhchap-key", "--key", KEY01);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Key is valid (HMAC 1, length 32, CRC 66c52c12)\n");
	run_free(&r);

	/* refused: a changed character (CRC), a length that is not the hash's, bad flags */
	snprintf(key, sizeof(key), "%s", KEY01);
	key[20] = key[20] == 'A' ? 'B' : 'A';
	RUN(&r, "check-dhchap-key", "-k", key);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "CRC mismatch"));
	assert_string_equal(r.out, "");
	run_free(&r);
	RUN(&r, "check-dhchap-key", "-k", "DHHC-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "invalid key length for hmac(sha384)"));
	run_free(&r);
	RUN(&r, "check-dhchap-key");
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "gen-dhchap-key", "-m", "4");
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "gen-dhchap-key", "-m", "2", "-l", "32");
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "invalid key length 32 for hmac(sha384)"));
	run_free(&r);
	RUN(&r, "gen-dhchap-key", "-s", "0011");
	assert_int_equal(r.status, 2);
	run_free(&r);
}

/*
 * -S / -C reach the library (checked before it connects; the error names the option, never
 * the key), and so do the keys of nvme-cli's config.json (-J) for the host and port.  Target
 * A asks for no authentication: with a well-formed key it serves as usual.
 */
static void dhchap_options(void **state)
{
	char bad[128], jpath[160];
	struct run r;
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "%s", KEY01);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-S", bad);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "dhchap_secret: the key's CRC does not match"));
	assert_null(strstr(r.err, bad + 10));
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--dhchap-secret", KEY01,
	    "--dhchap-ctrl-secret", "DHHC-1:01:xyz:");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "dhchap_ctrl_secret: not a DH-HMAC-CHAP secret"));
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-S", KEY01, "-C", KEY00,
	    "-o", "json");
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* a config.json (libnvme's form) whose port entry holds a broken host key */
	snprintf(jpath, sizeof(jpath), "/tmp/nvmf-cli-test-%d-nvme.json", (int)getpid());
	f = fopen(jpath, "w");
	assert_non_null(f);
	fprintf(f, "[{\"hostnqn\": \"%s\", \"subsystems\": [{\"nqn\": \"%s\", \"ports\": [\n"
		   "  {\"transport\": \"tcp\", \"traddr\": \"%s\", \"trsvcid\": \"%s\",\n"
		   "   \"dhchap_key\": \"%s\"}]}]}]\n", AUTH_HOSTNQN, NQN_A, ADDR, port_a_s, bad);
	fclose(f);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-q", AUTH_HOSTNQN, "-J", jpath);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "dhchap_secret: the key's CRC does not match"));
	run_free(&r);
	/* the command line wins over the file */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-q", AUTH_HOSTNQN, "-J", jpath,
	    "-S", KEY01);
	assert_int_equal(r.status, 0);
	run_free(&r);
	/* another host, another port: the entry does not apply */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-J", jpath, "-q",
	    "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002");
	assert_int_equal(r.status, 0);
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_b_s, "-n", NQN_B, "-q", AUTH_HOSTNQN, "-J", jpath);
	assert_int_equal(r.status, 0);
	run_free(&r);
	/* a host-level key applies to every controller of that host (libnvme) */
	f = fopen(jpath, "w");
	assert_non_null(f);
	fprintf(f, "[{\"hostnqn\": \"%s\", \"dhchap_key\": \"%s\"}]\n", AUTH_HOSTNQN, bad);
	fclose(f);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_b_s, "-n", NQN_B, "-q", AUTH_HOSTNQN, "-J", jpath);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "dhchap_secret"));
	run_free(&r);
	unlink(jpath);
	/* a file named with -J must be there */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-J", jpath);
	assert_int_equal(r.status, 1);
	run_free(&r);
}

/* libnvme's test vector (test/psk.c): the key's bytes, its interchange form, identities */
#define TLS_HEX "5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03"
#define TLS_KEY "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:"
#define TLS_ID "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys "

/* gen-tls-key / check-tls-key: nvme-cli's flags and output, libnvme's answers. */
static void tls_keys(void **state)
{
	struct run r, c;
	char key[128];

	(void)state;
	RUN(&r, "gen-tls-key", "-s", TLS_HEX, "-m", "1");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, TLS_KEY "\n");
	run_free(&r);
	RUN(&r, "check-tls-key", "-d", TLS_KEY, "-n", "nqn.psk-test-host", "-c",
	    "nqn.psk-test-subsys", "-I", "1");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, TLS_ID "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=\n");
	run_free(&r);
	RUN(&r, "check-tls-key", "--keydata", TLS_KEY, "--hostnqn", "nqn.psk-test-host",
	    "--subsysnqn", "nqn.psk-test-subsys", "--identity", "1", "--compat");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, TLS_ID "66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=\n");
	run_free(&r);
	/* version 0 by default, as nvme-cli */
	RUN(&r, "check-tls-key", "-d", TLS_KEY, "-n", "nqn.psk-test-host", "-c",
	    "nqn.psk-test-subsys");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys\n");
	run_free(&r);

	/* round trip: random keys of both hashes check, and differ */
	for (int hmac = 1; hmac <= 2; hmac++) {
		char m[2] = { (char)('0' + hmac), 0 };

		RUN(&r, "gen-tls-key", "--hmac", m);
		assert_int_equal(r.status, 0);
		assert_int_equal(strlen(r.out), hmac == 1 ? 66u : 90u);
		snprintf(key, sizeof(key), "%.*s", (int)strlen(r.out) - 1, r.out);
		assert_int_equal(key[14], m[0]);
		RUN(&c, "check-tls-key", "-d", key, "-n", AUTH_HOSTNQN, "-c", NQN_A, "-I", "1");
		assert_int_equal(c.status, 0);
		assert_int_equal(strncmp(c.out, hmac == 1 ? "NVMe1R01 " : "NVMe1R02 ", 9), 0);
		run_free(&c);
		RUN(&c, "gen-tls-key", "--hmac", m);
		assert_string_not_equal(r.out, c.out);
		run_free(&c);
		run_free(&r);
	}

	/* refused: a changed character (CRC), no -c, bad flags, the keyring */
	snprintf(key, sizeof(key), "%s", TLS_KEY);
	key[20] = key[20] == 'A' ? 'B' : 'A';
	RUN(&r, "check-tls-key", "-d", key, "-c", NQN_A);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "CRC mismatch"));
	assert_string_equal(r.out, "");
	run_free(&r);
	RUN(&r, "check-tls-key", "-d", TLS_KEY);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--subsysnqn"));
	run_free(&r);
	RUN(&r, "gen-tls-key", "-m", "3");
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "gen-tls-key", "-m", "2", "-s", TLS_HEX);
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "gen-tls-key", "--insert", "-c", NQN_A);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "keyring"));
	assert_string_equal(r.out, "");
	run_free(&r);
	RUN(&r, "check-tls-key", "-d", TLS_KEY, "-c", NQN_A, "-i");
	assert_int_equal(r.status, 2);
	run_free(&r);
}

/*
 * --tls / --tls-key reach the library (a bad key is refused before connecting, the error
 * never showing it), and so does a port's TLS in config.json; target A speaks no TLS, so
 * a handshake with it fails at once with a message naming the peer.
 */
static void tls_options(void **state)
{
	char bad[128], jpath[160];
	struct run r;
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "%s", TLS_KEY);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--tls-key", bad);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS key: CRC mismatch"));
	assert_null(strstr(r.err, bad + 16));
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--tls");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS needs a configured PSK"));
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--tls-key", TLS_KEY,
	    "--tls-identity-version", "2");
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--tls-key", TLS_KEY,
	    "--tls-record", "fast");
	assert_int_equal(r.status, 2);
	run_free(&r);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "--tls-key", TLS_KEY,
	    "--tls-record", "user");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS handshake with " ADDR ":"));
	assert_null(strstr(r.err, "VRLbtn"));
	run_free(&r);

	/* config.json: a port with "tls": true and no key, then one with a broken tls_key */
	snprintf(jpath, sizeof(jpath), "/tmp/nvmf-cli-test-%d-tls.json", (int)getpid());
	f = fopen(jpath, "w");
	assert_non_null(f);
	fprintf(f, "[{\"hostnqn\": \"%s\", \"subsystems\": [{\"nqn\": \"%s\", \"ports\": [\n"
		   "  {\"transport\": \"tcp\", \"traddr\": \"%s\", \"trsvcid\": \"%s\",\n"
		   "   \"tls\": true}]}]}]\n", AUTH_HOSTNQN, NQN_A, ADDR, port_a_s);
	fclose(f);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-q", AUTH_HOSTNQN, "-J", jpath);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS needs a configured PSK"));
	run_free(&r);
	f = fopen(jpath, "w");
	assert_non_null(f);
	fprintf(f, "[{\"hostnqn\": \"%s\", \"subsystems\": [{\"nqn\": \"%s\", \"ports\": [\n"
		   "  {\"transport\": \"tcp\", \"traddr\": \"%s\", \"trsvcid\": \"%s\",\n"
		   "   \"tls\": true, \"tls_key\": \"%s\"}]}]}]\n", AUTH_HOSTNQN, NQN_A, ADDR,
		port_a_s, bad);
	fclose(f);
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-q", AUTH_HOSTNQN, "-J", jpath);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS key: CRC mismatch"));
	run_free(&r);
	/* the command line's key wins over the file's */
	RUN(&r, "id-ctrl", "-a", ADDR, "-s", port_a_s, "-n", NQN_A, "-q", AUTH_HOSTNQN, "-J", jpath,
	    "--tls-key", TLS_KEY);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "TLS handshake with"));
	run_free(&r);
	unlink(jpath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(discover_normal),
		cmocka_unit_test(discover_json),
		cmocka_unit_test(discover_refused),
		cmocka_unit_test(id_ctrl),
		cmocka_unit_test(id_ns),
		cmocka_unit_test(get_log),
		cmocka_unit_test(write_read_back),
		cmocka_unit_test(connect_list_disconnect),
		cmocka_unit_test(second_address_is_a_path),
		cmocka_unit_test(connect_refused),
		cmocka_unit_test(connect_all_disconnect_all),
		cmocka_unit_test(controller_lost),
		cmocka_unit_test(host_nqn),
		cmocka_unit_test(dhchap_keys),
		cmocka_unit_test(dhchap_options),
		cmocka_unit_test(tls_keys),
		cmocka_unit_test(tls_options),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
