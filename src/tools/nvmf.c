/*
 * nvmf — the user-space NVMe/TCP host's command line, with nvme-cli's fabrics verbs and
 * flags: discover, connect, connect-all, disconnect, disconnect-all, list, the one-shot
 * id-ctrl, id-ns, get-log, read, write, the DH-HMAC-CHAP key verbs (nvmf-auth.c) and the
 * TLS key verbs (nvmf-tls.c).  This file: verb dispatch, the fabrics flags the verbs
 * share, host identity (the option table parser is cli-opts.c, shared with nvmfctl).
 *
 * Exit status: 0 success, 1 failure (one line on stderr says which peer and why),
 * 2 bad usage (the verb's usage on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf-perf.h"
#include "tools/nvmf.h"

#ifndef NVMF_VERSION
#define NVMF_VERSION "unknown"
#endif

const char *cli_prog = "nvmf";
const char *cli_verb = "";

/* ------------------------------------------------------------------ fabrics flags */

void fabrics_args_init(struct fabrics_args *a)
{
	memset(a, 0, sizeof(*a));
	a->nr_io_queues = NVMF_UNSET;
	a->queue_size = NVMF_UNSET;
	a->kato_s = NVMF_UNSET;
	a->reconnect_delay_s = NVMF_UNSET;
	a->ctrl_loss_tmo_s = NVMF_UNSET;
	a->tls_identity = NVMF_UNSET;
	a->output = "normal";
}

int parse_output(const char *s, bool allow_binary)
{
	if (!s || !strcmp(s, "normal"))
		return OUT_NORMAL;
	if (!strcmp(s, "json"))
		return OUT_JSON;
	if (allow_binary && !strcmp(s, "binary"))
		return OUT_BINARY;
	cli_err("invalid output format '%s' (normal|json%s)", s, allow_binary ? "|binary" : "");
	return -1;
}

int fabrics_opts(struct fabrics_args *a, struct nvmf_ctrl_opts *o, bool need_nqn,
		 const char *def_port)
{
	if (a->transport && strcmp(a->transport, "tcp")) {
		cli_err("transport '%s' is not supported (tcp only)", a->transport);
		return EXIT_USAGE;
	}
	if (!a->traddr) {
		cli_err("required argument [--traddr | -a] not specified for transport tcp");
		return EXIT_USAGE;
	}
	if (a->iopolicy) {
		enum nvmf_iopolicy pol;

		if (nvmf_iopolicy_parse(a->iopolicy, &pol)) {
			cli_err("--iopolicy %s: numa, round-robin or queue-depth", a->iopolicy);
			return EXIT_USAGE;
		}
	}
	if (need_nqn && !a->subnqn) {
		cli_err("required argument [--nqn | -n] not specified");
		return EXIT_USAGE;
	}
	if (a->nr_io_queues != NVMF_UNSET && (a->nr_io_queues < 1 || a->nr_io_queues > 1024)) {
		cli_err("number of I/O queues %d outside 1..1024", a->nr_io_queues);
		return EXIT_USAGE;
	}
	if (a->queue_size != NVMF_UNSET && (a->queue_size < 16 || a->queue_size > 1024)) {
		cli_err("queue size %d outside 16..1024", a->queue_size);
		return EXIT_USAGE;
	}
	if (a->kato_s != NVMF_UNSET && (a->kato_s < 0 || a->kato_s > 65535)) {
		cli_err("keep-alive timeout %d outside 0..65535", a->kato_s);
		return EXIT_USAGE;
	}
	if (a->reconnect_delay_s != NVMF_UNSET && a->reconnect_delay_s < 1) {
		cli_err("reconnect delay must be at least 1 second");
		return EXIT_USAGE;
	}
	if (a->ctrl_loss_tmo_s != NVMF_UNSET && a->ctrl_loss_tmo_s < -1) {
		cli_err("controller loss timeout must be -1 (forever) or more");
		return EXIT_USAGE;
	}
	if (a->tls_identity != NVMF_UNSET && a->tls_identity != 0 && a->tls_identity != 1) {
		cli_err("TLS identity version %d (0 or 1)", a->tls_identity);
		return EXIT_USAGE;
	}
	if (a->tls_record && strcmp(a->tls_record, "auto") && strcmp(a->tls_record, "user") &&
	    strcmp(a->tls_record, "kernel")) {
		cli_err("invalid TLS record mode '%s' (auto|user|kernel)", a->tls_record);
		return EXIT_USAGE;
	}
	nvmf_ctrl_opts_init(o);
	o->traddr = a->traddr;
	o->trsvcid = a->trsvcid ? a->trsvcid : def_port;
	o->subnqn = a->subnqn;
	o->hostnqn = a->hostnqn;
	o->hostid = a->hostid;
	o->host_traddr = a->host_traddr;
	if (a->nr_io_queues != NVMF_UNSET)
		o->nr_io_queues = (unsigned)a->nr_io_queues;
	if (a->queue_size != NVMF_UNSET)
		o->queue_size = (unsigned)a->queue_size;
	if (a->kato_s != NVMF_UNSET)
		o->kato_ms = (unsigned)a->kato_s * 1000u;
	if (a->reconnect_delay_s != NVMF_UNSET)
		o->reconnect_delay_s = a->reconnect_delay_s;
	if (a->ctrl_loss_tmo_s != NVMF_UNSET)
		o->ctrl_loss_tmo_s = a->ctrl_loss_tmo_s;
	o->hdgst = a->hdgst;
	o->ddgst = a->ddgst;
	o->disable_sqflow = a->disable_sqflow;
	if (a->tls_identity != NVMF_UNSET)
		o->tls_identity_version = (unsigned)a->tls_identity;
	o->tls_compat = a->tls_compat;
	o->mptcp = a->mptcp;
	if (a->tls_record)
		o->tls_record = !strcmp(a->tls_record, "user")     ? NVMF_TLS_MODE_USER
				: !strcmp(a->tls_record, "kernel") ? NVMF_TLS_MODE_KERNEL
								   : NVMF_TLS_MODE_AUTO;
	return cli_keys(a, o);
}

void resolve_host(struct fabrics_args *a, char *nqn, size_t nqnlen, char *id, size_t idlen)
{
	nqn[0] = id[0] = 0;
	if (a->hostnqn)
		snprintf(nqn, nqnlen, "%s", a->hostnqn);
	else
		nvmf_default_hostnqn(nqn, nqnlen);
	if (a->hostid)
		snprintf(id, idlen, "%s", a->hostid);
	else
		nvmf_default_hostid(id, idlen);
}

struct nvmf_ctrl *connect_oneshot(const struct nvmf_ctrl_opts *o)
{
	struct nvmf_ctrl_opts d = *o;
	struct nvmf_ctrl *c;
	int rc;

	d.ctrl_loss_tmo_s = 0;       /* a one-shot command: fail, don't reconnect */
	rc = nvmf_ctrl_connect(&d, &c);
	if (rc) {
		cli_err("%s:%s: %s: %s", d.traddr, d.trsvcid ? d.trsvcid : NVMF_IO_PORT,
			d.subnqn ? d.subnqn : NVMF_DISCOVERY_NQN, nvmf_strerror_last());
		return NULL;
	}
	return c;
}

/* ------------------------------------------------------------------ host identity verbs */

static int read_uuid_file(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[128];
	int hex = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	line[strcspn(line, " \n\t")] = 0;
	for (const char *p = line; *p; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))
			hex++;
		else if (*p != '-')
			return -1;
	if (hex != 32 || strlen(line) != 36)
		return -1;
	for (char *p = line; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	/* all zeroes or all ones: a board without a real UUID */
	if (!strcmp(line, "00000000-0000-0000-0000-000000000000") ||
	    !strcmp(line, "ffffffff-ffff-ffff-ffff-ffffffffffff") ||
	    !strcmp(line, "03000200-0400-0500-0006-000700080009"))
		return -1;
	snprintf(out, len, "%s", line);
	return 0;
}

/* `nvme gen-hostnqn`: the machine's DMI product UUID when it has one, else a random UUID. */
static int cmd_gen_hostnqn(int argc, char **argv)
{
	static const struct cli_opt opts[] = { CLI_END };
	char uuid[64];
	uint8_t u[16];
	int rc = cli_parse("", "Generate a host NQN (nqn.2014-08.org.nvmexpress:uuid:<uuid>).",
			   opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (read_uuid_file("/sys/class/dmi/id/product_uuid", uuid, sizeof(uuid))) {
		if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
			cli_err("getrandom: %s", strerror(errno));
			return 1;
		}
		u[6] = (uint8_t)((u[6] & 0x0F) | 0x40);
		u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
		snprintf(uuid, sizeof(uuid),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
	}
	printf("%s%s\n", NVMF_NQN_UUID_PREFIX, uuid);
	return 0;
}

static int cmd_show_hostnqn(int argc, char **argv)
{
	static const struct cli_opt opts[] = { CLI_END };
	char nqn[300];
	int rc = cli_parse("", "Show the host NQN this host connects with.", opts, argc, argv);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (nvmf_default_hostnqn(nqn, sizeof(nqn))) {
		cli_err("hostnqn is not available -- use nvmf gen-hostnqn");
		return 1;
	}
	printf("%s\n", nqn);
	return 0;
}

/* ------------------------------------------------------------------ dispatch */

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

int cli_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const struct verb verbs[] = {
	{ "discover", cmd_discover, "Discover NVMe/TCP subsystems (read a discovery log)" },
	{ "connect", cmd_connect, "Connect a subsystem; its namespaces become block devices" },
	{ "connect-all", cmd_connect_all, "Discover, then connect every subsystem found" },
	{ "disconnect", cmd_disconnect, "Disconnect a subsystem (-n) or controller (-d)" },
	{ "disconnect-all", cmd_disconnect_all, "Disconnect every controller" },
	{ "list", cmd_list, "List connected controllers and their block devices" },
	{ "id-ctrl", cmd_id_ctrl, "Identify Controller of a remote controller" },
	{ "id-ns", cmd_id_ns, "Identify Namespace of a remote namespace" },
	{ "get-log", cmd_get_log, "Read a log page" },
	{ "read", cmd_read, "Read blocks of a remote namespace into a file" },
	{ "write", cmd_write, "Write a file's bytes to blocks of a remote namespace" },
	{ "perf", nvmf_perf_main, "Measure IOPS, bandwidth and latency (spdk_nvme_perf's flags)" },
	{ "stats", cmd_stats, "Show an nvmf-target's statistics from its --metrics endpoint" },
	{ "gen-hostnqn", cmd_gen_hostnqn, "Generate a host NQN" },
	{ "gen-dhchap-key", cmd_gen_dhchap_key, "Generate a DH-HMAC-CHAP key (DHHC-1 form)" },
	{ "check-dhchap-key", cmd_check_dhchap_key, "Check a DH-HMAC-CHAP key's form and CRC" },
	{ "gen-tls-key", cmd_gen_tls_key, "Generate a TLS PSK (NVMeTLSkey-1 form)" },
	{ "check-tls-key", cmd_check_tls_key, "Check a TLS PSK and print its PSK identity" },
	{ "show-hostnqn", cmd_show_hostnqn, "Show this host's NQN" },
	{ "version", cmd_version, "Show the version" },
	{ "help", cmd_help, "Show this list, or a verb's options (help VERB)" },
};

static void list_verbs(FILE *f)
{
	fprintf(f, "usage: nvmf <command> [OPTIONS]   (nvmf <command> --help for its options)\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-16s %s\n", verbs[i].name, verbs[i].summary);
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("nvmf version %s\n", NVMF_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	const struct verb *v;
	char *hargv[] = { NULL, "--help", NULL };

	if (argc < 2) {
		list_verbs(stdout);
		return 0;
	}
	v = find_verb(argv[1]);
	if (!v || v->run == cmd_help) {
		cli_err("unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	cli_verb = v->name;
	hargv[0] = argv[1];
	return v->run(2, hargv);
}

int main(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		list_verbs(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		list_verbs(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(0, NULL);
	v = find_verb(argv[1]);
	if (!v) {
		fprintf(stderr, "nvmf: unknown command '%s'\n", argv[1]);
		list_verbs(stderr);
		return EXIT_USAGE;
	}
	cli_verb = v->name;
	return v->run(argc - 1, argv + 1);
}
