/*
 * ublk_smoke: the ublk bridge end to end, for the kernel test bed (guest/ublk.sh).
 * Connects to an NVMe/TCP controller with libnvmf, exposes one namespace as /dev/ublkbN,
 * prints "ublkbN" on stdout (and writes N to --ready-file) once the device exists, then
 * serves until SIGTERM / SIGINT: nvmf_ublk_stop(), disconnect, exit 0.
 *
 *   ublk_smoke -a 127.0.0.1 -s 4420 -n NQN [--nsid 1] [-i QUEUES] [-Q QSIZE] [-d DEPTH]
 *              [--reconnect-delay S] [--ctrl-loss-tmo S] [--ready-file PATH] [-v]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf/nvmf.h"
#include "ublk/ublk.h"
#include "util/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ublk_smoke -a ADDR [-s PORT] -n NQN [--nsid N] [-i QUEUES] "
		"[-Q QUEUE_SIZE] [-d DEPTH]\n"
		"                  [--reconnect-delay S] [--ctrl-loss-tmo S] "
		"[--ready-file PATH] [-v]\n");
}

static unsigned num(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 1000000) {
		fprintf(stderr, "ublk_smoke: bad %s '%s'\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "traddr", required_argument, NULL, 'a' },
		{ "trsvcid", required_argument, NULL, 's' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "nsid", required_argument, NULL, 'N' },
		{ "nr-io-queues", required_argument, NULL, 'i' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "depth", required_argument, NULL, 'd' },
		{ "reconnect-delay", required_argument, NULL, 'c' },
		{ "ctrl-loss-tmo", required_argument, NULL, 'l' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *ctrl = NULL;
	struct nvmf_ublk *u = NULL;
	const char *ready = NULL;
	unsigned nsid = 1, depth = 0;
	char err[512];
	sigset_t sigs;
	int c, sig, id, rc;

	nvmf_ctrl_opts_init(&o);
	while ((c = getopt_long(argc, argv, "a:s:n:i:Q:d:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.traddr = optarg;
			break;
		case 's':
			o.trsvcid = optarg;
			break;
		case 'n':
			o.subnqn = optarg;
			break;
		case 'N':
			nsid = num(optarg, "nsid");
			break;
		case 'i':
			o.nr_io_queues = num(optarg, "queue count");
			break;
		case 'Q':
			o.queue_size = num(optarg, "queue size");
			break;
		case 'd':
			depth = num(optarg, "depth");
			break;
		case 'c':
			o.reconnect_delay_s = (int)num(optarg, "reconnect delay");
			break;
		case 'l':
			o.ctrl_loss_tmo_s = (int)num(optarg, "ctrl-loss-tmo");
			break;
		case 'r':
			ready = optarg;
			break;
		case 'v':
			nvmf_log_threshold = NVMF_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.traddr || !o.subnqn || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* every thread (libnvmf's, the bridge's) inherits the mask: signals wait for sigwait */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	rc = nvmf_ctrl_connect(&o, &ctrl);
	if (rc) {
		fprintf(stderr, "ublk_smoke: connect %s:%s %s: %s\n", o.traddr,
			o.trsvcid ? o.trsvcid : "4420", o.subnqn, nvmf_strerror_last());
		return 1;
	}
	rc = nvmf_ublk_start(ctrl, nsid, 0, depth, &u, &id, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ublk_smoke: %s\n", err);
		nvmf_ctrl_disconnect(ctrl);
		return 1;
	}
	printf("ublkb%d\n", id);
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (!f || fprintf(f, "%d\n", id) < 0 || fclose(f)) {
			fprintf(stderr, "ublk_smoke: %s: %s\n", ready, strerror(errno));
			nvmf_ublk_stop(u);
			nvmf_ctrl_disconnect(ctrl);
			return 1;
		}
	}
	do
		rc = sigwait(&sigs, &sig);
	while (rc == EINTR);
	fprintf(stderr, "ublk_smoke: %s: removing /dev/ublkb%d\n", strsignal(sig), id);
	nvmf_ublk_stop(u);
	nvmf_ctrl_disconnect(ctrl);
	return 0;
}
