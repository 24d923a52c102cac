/*
 * nvmf-target's command line (target-opts.h): getopt_long over the flags, then the checks
 * between them.  Nothing here acts on an option; the caller applies them.
 */
#include "tools/target-opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/reactor.h"
#include "rpc/rpc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmf-target --config FILE | -c SPDK_JSON | (nothing: wait for RPCs)\n"
		"                   [-r SOCKET] [--save FILE]\n"
		"       nvmf-target (--ram SIZE | --null SIZE | --file PATH [--size SIZE] |\n"
		"                    --device DEV) [--listen ADDR[:PORT]] [--nqn NQN]\n"
		"                   [--tls --tls-keys FILE]\n"
		"options:\n"
		"  --config FILE     JSON as written by `nvmetcli save` (/etc/nvmet/config.json)\n"
		"  -c, --json FILE   SPDK's JSON configuration (what rpc.py save_config writes)\n"
		"  -r, --rpc-socket PATH  JSON-RPC (SPDK's methods) on this Unix socket (default\n"
		"                    " NVMF_RPC_DEFAULT_SOCK " with -c or no configuration)\n"
		"  --save FILE       write the configuration (nvmetcli's form) after every change\n"
		"                    made over JSON-RPC, atomically; mode 0600 with secrets\n"
		"  --ram SIZE        serve SIZE bytes of memory (1G, 512M, ...)\n"
		"  --null SIZE       a namespace that discards writes and reads zeroes\n"
		"  --file PATH       serve a regular file (created with --size if missing), or\n"
		"                    an RBD image: rbd:POOL/IMAGE?conf=...&id=... (see\n"
		"                    nvmf-target-config(5))\n"
		"  --size SIZE       size of the --file namespace\n"
		"  --prealloc        --ram: reserve all of it at start, on huge pages (no page\n"
		"                    faults during I/O, fails if it does not fit; default:\n"
		"                    faulted in by a background thread after start while\n"
		"                    memory is available)\n"
		"  --ram-lazy        --ram: memory taken only as written (a sparse namespace;\n"
		"                    the first write to each page faults)\n"
		"  --device DEV      serve a block device\n"
		"  --listen A[:P]    address to listen on (default 127.0.0.1:4420)\n"
		"  --nqn NQN         subsystem NQN of the quick-start namespace\n"
		"  --mptcp           the quick-start port listens with Multipath TCP (as a\n"
		"                    config port with param.mptcp 1); plain TCP hosts still connect\n"
		"  --tls             the quick-start port takes TLS 1.3 only (as a config port\n"
		"                    with addr.tsas \"tls1.3\", treq \"required\"); needs --tls-keys\n"
		"  --cpus N          number of reactors (default: all cores)\n"
		"  --poll            busy-poll instead of sleeping when idle\n"
		"  --spin-us N       keep polling N microseconds after the last event before\n"
		"                    sleeping (default 50; 0: sleep at once)\n"
		"  --no-spin-rx      while polling, wait for the ring's readiness events only\n"
		"                    (default: also read the last active connection directly)\n"
		"  --buf-pool SIZE   data buffer memory per reactor; transfers beyond it wait\n"
		"                    for buffers (default: no limit; at least 1M)\n"
		"  --tls-keys FILE   TLS PSKs for ports with tsas \"tls1.3\": lines\n"
		"                    \"HOSTNQN NVMeTLSkey-1:xx:...: [rfc|compat]\" (mode 0600)\n"
		"  --tls-compat      keys without a word derive as libnvme <= 1.15 does\n"
		"  --tls-record M    where TLS records are made: auto (default), user, kernel\n"
		"  --user U[:G]      drop root for user U (and group G, else U's) once the ports\n"
		"                    are bound and the namespaces open; a reload then reads\n"
		"                    and opens files as U\n"
		"  --metrics A:P     serve statistics over HTTP on A:P (off by default):\n"
		"                    GET /metrics (Prometheus text), GET /stats (JSON)\n"
		"  -v, --verbose     debug logging\n");
}

/* long options without a letter of their own */
enum { OPT_METRICS = 0x100, OPT_RAM_LAZY, OPT_NO_SPIN_RX };

int target_opts_parse(int argc, char **argv, struct target_opts *o, FILE *out, FILE *errf)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "ram", required_argument, NULL, 'm' },
		{ "null", required_argument, NULL, 'z' },
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'u' },
		{ "json", required_argument, NULL, 'c' },
		{ "rpc-socket", required_argument, NULL, 'r' },
		{ "save", required_argument, NULL, 'W' },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "poll", no_argument, NULL, 'p' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "no-spin-rx", no_argument, NULL, OPT_NO_SPIN_RX },
		{ "prealloc", no_argument, NULL, 'P' },
		{ "ram-lazy", no_argument, NULL, OPT_RAM_LAZY },
		{ "buf-pool", required_argument, NULL, 'B' },
		{ "tls-keys", required_argument, NULL, 'K' },
		{ "tls-compat", no_argument, NULL, 'T' },
		{ "tls-record", required_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'U' },
		{ "mptcp", no_argument, NULL, 'M' },
		{ "tls", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *size_arg = NULL;
	bool have_ns = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->quick.backend = NVMF_BACKEND_AUTO;
	o->tls_record = NVMF_TLS_RECORD_AUTO;
	o->cpus = ncpus > 0 ? (unsigned)ncpus : 1;
	o->spin_us = NVMF_REACTOR_SPIN_DEFAULT;
	optind = 0; /* GNU getopt: start over (the parser may run more than once) */
	opterr = 0; /* its messages would name argv[0]: ours say the option */
	while ((c = getopt_long(argc, argv, "vhc:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			o->config = optarg;
			break;
		case 'c':
			o->spdk_json = optarg;
			break;
		case 'r':
			o->rpc_sock = optarg;
			break;
		case 'W':
			o->save = optarg;
			break;
		case OPT_METRICS:
			o->metrics = optarg;
			break;
		case 'm':
		case 'z':
			o->quick.backend = c == 'm' ? NVMF_BACKEND_RAM : NVMF_BACKEND_NULL;
			if (nvmf_cfg_parse_size(optarg, &o->quick.size)) {
				fprintf(errf, "nvmf-target: bad size '%s'\n", optarg);
				return TARGET_OPTS_USAGE;
			}
			have_ns = true;
			break;
		case 'f':
			o->quick.backend = NVMF_BACKEND_FILE;
			o->quick.path = optarg;
			have_ns = true;
			break;
		case 's':
			size_arg = optarg;
			break;
		case 'd':
			o->quick.backend = NVMF_BACKEND_BLOCK;
			o->quick.path = optarg;
			have_ns = true;
			break;
		case 'l':
			o->quick.listen = optarg;
			break;
		case 'n':
			o->quick.nqn = optarg;
			break;
		case 'u':
			o->cpus = (unsigned)strtoul(optarg, NULL, 10);
			if (o->cpus == 0 || o->cpus > 1024) {
				fprintf(errf, "nvmf-target: --cpus wants 1..1024\n");
				return TARGET_OPTS_USAGE;
			}
			break;
		case 'p':
			o->poll = true;
			break;
		case 'P':
			o->quick.prealloc = true;
			break;
		case OPT_RAM_LAZY:
			o->quick.lazy = true;
			break;
		case OPT_NO_SPIN_RX:
			o->no_spin_rx = true;
			break;
		case 'B': {
			uint64_t v;

			if (nvmf_cfg_parse_size(optarg, &v) || v == 0) {
				fprintf(errf, "nvmf-target: --buf-pool wants a size\n");
				return TARGET_OPTS_USAGE;
			}
			o->buf_pool = v;
			break;
		}
		case 'S': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 1000000) {
				fprintf(errf, "nvmf-target: --spin-us wants 0..1000000\n");
				return TARGET_OPTS_USAGE;
			}
			o->spin_us = (uint32_t)v;
			break;
		}
		case 'K':
			o->tls_keys = optarg;
			break;
		case 'T':
			o->tls_compat = true;
			break;
		case 't':
			o->quick.tls = true;
			break;
		case 'R':
			if (strcmp(optarg, "auto") == 0) {
				o->tls_record = NVMF_TLS_RECORD_AUTO;
			} else if (strcmp(optarg, "user") == 0) {
				o->tls_record = NVMF_TLS_RECORD_USER;
			} else if (strcmp(optarg, "kernel") == 0) {
				o->tls_record = NVMF_TLS_RECORD_KERNEL;
			} else {
				fprintf(errf, "nvmf-target: --tls-record: auto, user or kernel\n");
				return TARGET_OPTS_USAGE;
			}
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'M':
			o->quick.mptcp = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(out);
			return TARGET_OPTS_HELP;
		default:
			fprintf(errf, "nvmf-target: unknown option or missing argument: %s\n",
				argv[optind - 1]);
			usage(errf);
			return TARGET_OPTS_USAGE;
		}
	}
	o->have_ns = have_ns;
	/* neither --config nor a namespace: the target starts empty, managed over JSON-RPC */
	if (optind < argc || (o->config && have_ns) || (o->spdk_json && (o->config || have_ns))) {
		usage(errf);
		return TARGET_OPTS_USAGE;
	}
	if (size_arg && (o->quick.backend != NVMF_BACKEND_FILE ||
			 nvmf_cfg_parse_size(size_arg, &o->quick.size))) {
		fprintf(errf, "nvmf-target: --size goes with --file and wants a size\n");
		return TARGET_OPTS_USAGE;
	}
	if (o->quick.prealloc && (o->config || o->quick.backend != NVMF_BACKEND_RAM)) {
		fprintf(errf, "nvmf-target: --prealloc goes with --ram\n");
		return TARGET_OPTS_USAGE;
	}
	if (o->quick.lazy && (o->config || o->quick.backend != NVMF_BACKEND_RAM ||
			      o->quick.prealloc)) {
		fprintf(errf, "nvmf-target: --ram-lazy goes with --ram, not with --prealloc\n");
		return TARGET_OPTS_USAGE;
	}
	if (o->quick.mptcp && o->config) {
		fprintf(errf, "nvmf-target: --mptcp goes with the quick-start flags (a config's "
			"ports say param.mptcp)\n");
		return TARGET_OPTS_USAGE;
	}
	/* a TLS port without keys refuses every host: of no use to a quick start */
	if (o->quick.tls && (o->config || !o->tls_keys)) {
		fprintf(errf, "nvmf-target: --tls goes with the quick-start flags and "
			"--tls-keys (a config's ports say addr.tsas)\n");
		return TARGET_OPTS_USAGE;
	}
	return TARGET_OPTS_RUN;
}
