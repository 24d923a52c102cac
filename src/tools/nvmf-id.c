/*
 * nvmf id-ctrl / id-ns / get-log: one admin command on a controller connected for the
 * occasion (another process's daemon is not reachable from here), printed as nvme-cli
 * prints it: the normal text, -o json, or the raw bytes (-b / -o binary).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf.h"

static int identify_cmd(int argc, char **argv, bool ns)
{
	struct fabrics_args a;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	unsigned nsid = 1;
	bool raw = false;
	uint8_t *buf;
	int fmt, rc;

	fabrics_args_init(&a);
	{
		const struct cli_opt ctrl_opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN",
			  "subsystem NQN (default: the discovery subsystem)" },
			{ "raw-binary", 'b', CLI_FLAG, &raw, NULL, "the 4096 bytes, unformatted" },
			{ "output-format", 'o', CLI_FMT, &a.output, "FMT", "normal|json|binary" },
			CLI_END,
		};
		const struct cli_opt ns_opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN", "subsystem NQN" },
			{ "namespace-id", 0, CLI_UINT, &nsid, "NSID", "namespace (default 1)" },
			{ "raw-binary", 'b', CLI_FLAG, &raw, NULL, "the 4096 bytes, unformatted" },
			{ "output-format", 'o', CLI_FMT, &a.output, "FMT", "normal|json|binary" },
			CLI_END,
		};

		if (ns)
			rc = cli_parse("-t tcp -a ADDR [-s PORT] -n NQN [--namespace-id=NSID] "
				       "[-o normal|json|binary]",
				       "Identify Namespace NSID of subsystem NQN.", ns_opts, argc, argv);
		else
			rc = cli_parse("-t tcp -a ADDR [-s PORT] [-n NQN] [-o normal|json|binary]",
				       "Identify Controller of subsystem NQN.", ctrl_opts, argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	fmt = parse_output(a.output, true);
	if (fmt < 0)
		return EXIT_USAGE;
	if (raw)
		fmt = OUT_BINARY;
	rc = fabrics_opts(&a, &o, ns, a.subnqn ? NVMF_IO_PORT : NVMF_DISC_PORT);
	if (rc)
		return rc;
	o.nr_io_queues = 0;
	c = connect_oneshot(&o);
	if (!c)
		return 1;
	buf = calloc(1, 4096);
	if (!buf) {
		nvmf_ctrl_disconnect(c);
		return 1;
	}
	if (ns)
		rc = nvmf_identify(c, NVME_CNS_NS, nsid, 0, buf);
	else
		memcpy(buf, nvmf_ctrl_id(c), 4096);
	if (rc) {
		cli_err("%s:%s: Identify Namespace %u: %s", o.traddr, o.trsvcid, nsid, str_status(rc));
		rc = 1;
	} else if (ns && !((const struct nvme_id_ns *)buf)->nsze) {
		/* an inactive NSID reads as zeroes */
		cli_err("%s:%s: namespace %u is not active on %s", o.traddr, o.trsvcid, nsid,
			o.subnqn);
		rc = 1;
	} else if (fmt == OUT_BINARY) {
		rc = cli_write_all(1, buf, 4096) ? 1 : 0;
	} else {
		if (ns)
			print_id_ns(buf, nsid, fmt);
		else
			print_id_ctrl(buf, fmt);
	}
	free(buf);
	nvmf_ctrl_disconnect(c);
	return rc;
}

int cmd_id_ctrl(int argc, char **argv)
{
	return identify_cmd(argc, argv, false);
}

int cmd_id_ns(int argc, char **argv)
{
	return identify_cmd(argc, argv, true);
}

int cmd_get_log(int argc, char **argv)
{
	struct fabrics_args a;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;
	unsigned lid = 0x100, len = 0, nsid = 0xFFFFFFFFu;
	uint64_t lpo = 0;
	bool raw = false;
	uint8_t *buf;
	uint32_t chunk;
	int rc = 0;

	fabrics_args_init(&a);
	{
		const struct cli_opt opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN",
			  "subsystem NQN (default: the discovery subsystem)" },
			{ "log-id", 'i', CLI_UINT, &lid, "LID", "log page identifier" },
			{ "log-len", 'l', CLI_UINT, &len, "LEN", "bytes to read" },
			{ "namespace-id", 0, CLI_UINT, &nsid, "NSID",
			  "namespace (default 0xffffffff: all)" },
			{ "lpo", 0, CLI_U64, &lpo, "OFF", "log page offset, bytes (a multiple of 4)" },
			{ "raw-binary", 'b', CLI_FLAG, &raw, NULL, "the log bytes, unformatted" },
			CLI_END,
		};

		rc = cli_parse("-t tcp -a ADDR [-s PORT] [-n NQN] --log-id=LID --log-len=LEN "
			       "[--namespace-id=NSID] [--raw-binary]",
			       "Read LEN bytes of log page LID and dump them in hex (or raw).", opts,
			       argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (lid > 0xFF) {
		cli_err("log page identifier [--log-id | -i] 0..255 required");
		return EXIT_USAGE;
	}
	if (!len) {
		cli_err("log length [--log-len | -l] required");
		return EXIT_USAGE;
	}
	if (lpo % 4) {
		cli_err("log page offset must be a multiple of 4");
		return EXIT_USAGE;
	}
	rc = fabrics_opts(&a, &o, false, a.subnqn ? NVMF_IO_PORT : NVMF_DISC_PORT);
	if (rc)
		return rc;
	o.nr_io_queues = 0;
	c = connect_oneshot(&o);
	if (!c)
		return 1;
	buf = calloc(1, ((size_t)len + 3) & ~(size_t)3);
	if (!buf) {
		nvmf_ctrl_disconnect(c);
		return 1;
	}
	/* in pieces the controller takes (MDTS), each a Get Log Page with its offset */
	chunk = nvmf_ctrl_max_xfer(c) & ~3u;
	if (chunk < 4096)
		chunk = 4096;
	for (uint64_t off = 0; off < len && !rc;) {
		uint32_t want = len - off > chunk ? chunk : (uint32_t)((len - off + 3) & ~3ull);

		rc = nvmf_get_log_page(c, (uint8_t)lid, nsid, lpo + off, buf + off, want);
		off += want;
	}
	if (rc) {
		cli_err("%s:%s: Get Log Page 0x%02x: %s", o.traddr, o.trsvcid, lid, str_status(rc));
		rc = 1;
	} else if (raw) {
		rc = cli_write_all(1, buf, len) ? 1 : 0;
	} else {
		printf("Device:%s:%s log_id:%02x namespace_id:%#x\n", o.traddr, o.trsvcid, lid, nsid);
		print_hex(buf, len);
	}
	free(buf);
	nvmf_ctrl_disconnect(c);
	return rc;
}
