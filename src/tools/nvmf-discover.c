/*
 * nvmf discover / connect-all: read a discovery controller's log (following referrals)
 * and print it as `nvme discover` does, or connect every NVMe subsystem it names.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf.h"

/* Does nothing listen there?  (a refused TCP connect, not a refused NVMe Connect) */
static bool tcp_refused(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	bool refused = false;
	int fd;

	if (getaddrinfo(addr, port, &hints, &res))
		return false;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		refused = connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno == ECONNREFUSED;
		close(fd);
	}
	freeaddrinfo(res);
	return refused;
}

/*
 * The discovery log, with the port defaulting as nvme-cli defaults it (8009).  When no
 * port was given and nothing listens on 8009, the I/O port 4420 is tried: targets that
 * serve discovery on every port (nvmet, nvmf-target) are often set up on 4420 only.
 */
static int discover(struct fabrics_args *a, struct nvmf_ctrl_opts *o,
		    struct nvmf_disc_entry **e, unsigned *n, uint64_t *genctr)
{
	int rc = nvmf_discover(o, true, e, n, genctr);

	if (rc == -ECONNREFUSED && !a->trsvcid && tcp_refused(o->traddr, NVMF_DISC_PORT)) {
		fprintf(stderr, "nvmf %s: nothing listens on %s:%s, trying %s\n", cli_verb,
			o->traddr, NVMF_DISC_PORT, NVMF_IO_PORT);
		o->trsvcid = NVMF_IO_PORT;
		rc = nvmf_discover(o, true, e, n, genctr);
	}
	if (rc)
		cli_err("failed to get discovery log from %s:%s: %s", o->traddr, o->trsvcid,
			nvmf_strerror_last());
	return rc;
}

int cmd_discover(int argc, char **argv)
{
	struct fabrics_args a;
	struct nvmf_ctrl_opts o;
	struct nvmf_disc_entry *e = NULL;
	unsigned n = 0;
	uint64_t genctr = 0;
	int fmt, rc;

	fabrics_args_init(&a);
	{
		const struct cli_opt opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN",
			  "discovery subsystem NQN (default: the well-known one)" },
			{ "output-format", 'o', CLI_FMT, &a.output, "FMT", "normal|json" },
			CLI_END,
		};

		rc = cli_parse("-t tcp -a ADDR [-s PORT] [-q HOSTNQN] [-I HOSTID] [-o normal|json]",
			       "Read the discovery log of the controller at ADDR (port 8009 unless "
			       "-s), following referrals.", opts, argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	fmt = parse_output(a.output, false);
	if (fmt < 0)
		return EXIT_USAGE;
	rc = fabrics_opts(&a, &o, false, NVMF_DISC_PORT);
	if (rc)
		return rc;
	o.nr_io_queues = 0;
	if (discover(&a, &o, &e, &n, &genctr))
		return 1;
	print_disc_log(e, n, genctr, fmt);
	free(e);
	return 0;
}

int cmd_connect_all(int argc, char **argv)
{
	struct fabrics_args a;
	struct nvmf_ctrl_opts o;
	struct nvmf_disc_entry *e = NULL;
	unsigned n = 0, failed = 0;
	uint64_t genctr = 0;
	int fmt, rc;

	fabrics_args_init(&a);
	{
		const struct cli_opt opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN",
			  "discovery subsystem NQN (default: the well-known one)" },
			CLI_CONNECT_OPTS(a),
			/* long only, as nvme-cli: -S is --dhchap-secret */
			{ "quiet", 0, CLI_FLAG, &a.quiet, NULL,
			  "say nothing about subsystems already connected" },
			{ "output-format", 'o', CLI_FMT, &a.output, "FMT", "normal|json" },
			CLI_END,
		};

		rc = cli_parse("-t tcp -a ADDR [-s PORT] [connect options]",
			       "Discover the subsystems at ADDR, then connect every NVMe/TCP "
			       "subsystem of the log (as `nvmf connect` each).", opts, argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	fmt = parse_output(a.output, false);
	if (fmt < 0)
		return EXIT_USAGE;
	rc = fabrics_opts(&a, &o, false, NVMF_DISC_PORT);
	if (rc)
		return rc;
	{
		struct nvmf_ctrl_opts d = o;

		d.nr_io_queues = 0;
		if (discover(&a, &d, &e, &n, &genctr))
			return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct nvmf_ctrl_opts c = o;

		if (e[i].subtype != NVMF_SUBTYPE_NVME || e[i].trtype != NVMF_TRTYPE_TCP)
			continue;
		c.traddr = e[i].traddr;
		c.trsvcid = e[i].trsvcid;
		c.subnqn = e[i].subnqn;
		/* as libnvme: TLS whenever the entry names a secure channel */
		c.tls = o.tls || e[i].sectype != 0;
		rc = connect_one(&a, &c, fmt);
		if (rc == CONNECT_ALREADY) {
			if (!a.quiet)
				fprintf(stderr, "traddr=%s is already connected\n", e[i].traddr);
		} else if (rc) {
			failed++;
		}
	}
	free(e);
	return failed ? 1 : 0;
}
