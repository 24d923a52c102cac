/*
 * nvmf-target: the user-space NVMe/TCP target.
 *
 *   nvmf-target --config /etc/nvmet/config.json     # what `nvmetcli save` wrote
 *   nvmf-target -c spdk.json                        # what SPDK's save_config wrote
 *   nvmf-target [-r SOCKET] [--save FILE]           # empty: waits for JSON-RPC calls
 *   nvmf-target --ram 1G [--listen ADDR:PORT] [--nqn NQN] [--tls --tls-keys FILE]
 *   nvmf-target --file PATH [--size SIZE] | --device /dev/X | --null SIZE
 *   ... --metrics 127.0.0.1:9100     # statistics: GET /metrics (Prometheus), GET /stats
 *
 * SIGINT / SIGTERM: stop accepting, finish in-flight commands, flush file and block
 * backends, exit 0.  SIGHUP: reload the --config file (hosts hear of changes through
 * asynchronous events) and the --tls-keys file.
 *
 * Under systemd (Type=notify, $NOTIFY_SOCKET set) it reports READY=1 once every port
 * listens and every namespace is open, RELOADING=1 / READY=1 around a SIGHUP reload and
 * STOPPING=1 when it stops; without NOTIFY_SOCKET nothing of that happens.
 *
 * JSON-RPC (SPDK's methods, src/rpc) listens on -r PATH; by default, when the target is
 * managed that way (-c, or no configuration at all), on /var/tmp/nvmf-target.sock: in
 * /var/tmp as SPDK's /var/tmp/spdk.sock (writable without root, so it works after --user
 * too, unlike /run), under our own name so an SPDK target on the same machine keeps its
 * socket.  With --config or the quick-start flags the socket is opened only with -r.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "target/config.h"
#include "target/prom.h"
#include "target/target.h"
#include "target/tcp.h"
#include "rpc/rpc.h"
#include "util/log.h"
#include "util/sd_notify.h"

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
		"  --file PATH       serve a regular file (created with --size if missing)\n"
		"  --size SIZE       size of the --file namespace\n"
		"  --prealloc        --ram: reserve all of it at start, on huge pages (no page\n"
		"                    faults during I/O; default: memory taken as written)\n"
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

/* --user U[:G]: who to become; 0, or -1 with the reason on stderr. */
struct run_as {
	const char *spec;
	char name[256];
	uid_t uid;
	gid_t gid;
};

static int run_as_resolve(struct run_as *r)
{
	const char *colon = strchr(r->spec, ':');
	size_t n = colon ? (size_t)(colon - r->spec) : strlen(r->spec);
	const struct passwd *pw;

	if (n == 0 || n >= sizeof(r->name) || (colon && !colon[1])) {
		fprintf(stderr, "nvmf-target: --user %s: want USER or USER:GROUP\n", r->spec);
		return -1;
	}
	memcpy(r->name, r->spec, n);
	r->name[n] = '\0';
	pw = getpwnam(r->name);
	if (!pw) {
		fprintf(stderr, "nvmf-target: --user %s: no such user\n", r->name);
		return -1;
	}
	r->uid = pw->pw_uid;
	r->gid = pw->pw_gid;
	if (colon) {
		const struct group *gr = getgrnam(colon + 1);

		if (!gr) {
			fprintf(stderr, "nvmf-target: --user %s: no such group %s\n", r->spec,
				colon + 1);
			return -1;
		}
		r->gid = gr->gr_gid;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "nvmf-target: --user needs to start as root\n");
		return -1;
	}
	return 0;
}

/*
 * After the ports are bound and the backends open.  glibc applies set*id to every thread
 * of the process (the reactors run already).  Supplementary groups go first: root's would
 * otherwise stay.  Then check that root cannot be had back.
 */
static int run_as_drop(const struct run_as *r, char *err, size_t errlen)
{
	if (setgroups(1, &r->gid) < 0 || setgid(r->gid) < 0 || setuid(r->uid) < 0) {
		snprintf(err, errlen, "--user %s: cannot drop root: %s", r->spec, strerror(errno));
		return -1;
	}
	if (r->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "--user %s: root could be taken back", r->spec);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u): a reload reads and opens files as it",
		 r->name, (unsigned)r->uid, (unsigned)r->gid);
	return 0;
}

/*
 * Every connection is a socket: take the whole hard limit of descriptors (the soft one is
 * often 1024), and say what it allows.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("cannot raise the descriptor limit from %llu: %s",
				 (unsigned long long)was, strerror(errno));
			rl.rlim_cur = was;
		}
	}
	/* less the ones the process holds: listeners, backends, reactors' rings and events */
	log_info("descriptor limit %llu%s: room for about %llu connections",
		 (unsigned long long)rl.rlim_cur, rl.rlim_cur != was ? " (raised to the hard limit)" : "",
		 (unsigned long long)(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0));
}

/* A TLS port without keys refuses every handshake: say why before a host finds out. */
static void warn_tls_without_keys(const struct nvmf_tgt *tgt)
{
	if (tgt->tls_keys_path)
		return;
	for (size_t i = 0; i < tgt->cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &tgt->cfg->ports[i];

		if (p->enabled && p->tsas == NVMF_CFG_TSAS_TLS13)
			log_warn("port %u (%s:%s) is TLS but no --tls-keys file was given: "
				 "every TLS connection will be refused", p->portid, p->traddr,
				 p->trsvcid);
	}
}

/*
 * Tell systemd (if it started us) what the target is doing.  A failure is logged once and
 * changes nothing else: the target serves the same with or without the manager's view.
 */
static void notify(const char *state)
{
	static int warned;
	int rc = sd_notify_state(state);

	if (rc < 0 && !warned) {
		warned = 1;
		log_warn("NOTIFY_SOCKET %s: cannot notify systemd: %s", getenv("NOTIFY_SOCKET"),
			 strerror(-rc));
	}
}

/* READY=1 with a STATUS line of what is served: the ports listen, the namespaces are open */
static void notify_ready(const struct nvmf_tgt *tgt)
{
	char msg[256];

	snprintf(msg, sizeof(msg),
		 "READY=1\nSTATUS=serving %zu subsystem(s) on %zu port(s)\nMAINPID=%ld",
		 nvmf_tgt_subsys(tgt)->nr, tgt->nr_ports, (long)getpid());
	notify(msg);
}

/* RELOADING=1 with the time it began, as systemd >= 253 wants it (older ones ignore it) */
static void notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
}

/* long options without a letter of their own */
enum { OPT_METRICS = 0x100 };

int main(int argc, char **argv)
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
		{ "poll", no_argument, NULL, 'p' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "prealloc", no_argument, NULL, 'P' },
		{ "buf-pool", required_argument, NULL, 'B' },
		{ "tls-keys", required_argument, NULL, 'K' },
		{ "tls-compat", no_argument, NULL, 'T' },
		{ "tls-record", required_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'U' },
		{ "mptcp", no_argument, NULL, 'M' },
		{ "tls", no_argument, NULL, 't' },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct nvmf_cfg_quick quick = { .backend = NVMF_BACKEND_AUTO };
	const char *config = NULL, *size_arg = NULL, *tls_keys = NULL, *metrics_addr = NULL;
	const char *spdk_json = NULL, *rpc_sock = NULL, *save = NULL;
	struct nvmf_rpc *rpc = NULL;
	struct nvmf_metrics *metrics = NULL;
	int sfd = -1;
	enum nvmf_tls_record tls_record = NVMF_TLS_RECORD_AUTO;
	bool tls_compat = false;
	struct run_as user = { 0 };
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt = NULL;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned cpus = ncpus > 0 ? (unsigned)ncpus : 1;
	bool poll = false, have_ns = false;
	uint32_t spin_us = NVMF_REACTOR_SPIN_DEFAULT;
	char err[512], mode[64];
	sigset_t sigs;
	int c, sig, rc;

	while ((c = getopt_long(argc, argv, "vhc:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			config = optarg;
			break;
		case 'c':
			spdk_json = optarg;
			break;
		case 'r':
			rpc_sock = optarg;
			break;
		case 'W':
			save = optarg;
			break;
		case 'm':
		case 'z':
			quick.backend = c == 'm' ? NVMF_BACKEND_RAM : NVMF_BACKEND_NULL;
			if (nvmf_cfg_parse_size(optarg, &quick.size)) {
				fprintf(stderr, "nvmf-target: bad size '%s'\n", optarg);
				return 2;
			}
			have_ns = true;
			break;
		case 'f':
			quick.backend = NVMF_BACKEND_FILE;
			quick.path = optarg;
			have_ns = true;
			break;
		case 's':
			size_arg = optarg;
			break;
		case 'd':
			quick.backend = NVMF_BACKEND_BLOCK;
			quick.path = optarg;
			have_ns = true;
			break;
		case 'l':
			quick.listen = optarg;
			break;
		case 'n':
			quick.nqn = optarg;
			break;
		case 'u':
			cpus = (unsigned)strtoul(optarg, NULL, 10);
			if (cpus == 0 || cpus > 1024) {
				fprintf(stderr, "nvmf-target: --cpus wants 1..1024\n");
				return 2;
			}
			break;
		case 'p':
			poll = true;
			break;
		case 'P':
			quick.prealloc = true;
			break;
		case 'B': {
			uint64_t v;

			if (nvmf_cfg_parse_size(optarg, &v) || v == 0) {
				fprintf(stderr, "nvmf-target: --buf-pool wants a size\n");
				return 2;
			}
			nvmf_req_data_set_limit((size_t)v);
			break;
		}
		case 'S': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 1000000) {
				fprintf(stderr, "nvmf-target: --spin-us wants 0..1000000\n");
				return 2;
			}
			spin_us = (uint32_t)v;
			break;
		}
		case 'K':
			tls_keys = optarg;
			break;
		case 'T':
			tls_compat = true;
			break;
		case 't':
			quick.tls = true;
			break;
		case 'R':
			if (strcmp(optarg, "auto") == 0) {
				tls_record = NVMF_TLS_RECORD_AUTO;
			} else if (strcmp(optarg, "user") == 0) {
				tls_record = NVMF_TLS_RECORD_USER;
			} else if (strcmp(optarg, "kernel") == 0) {
				tls_record = NVMF_TLS_RECORD_KERNEL;
			} else {
				fprintf(stderr, "nvmf-target: --tls-record: auto, user or kernel\n");
				return 2;
			}
			break;
		case 'U':
			user.spec = optarg;
			if (run_as_resolve(&user))
				return 2;
			break;
		case 'M':
			quick.mptcp = true;
			break;
		case OPT_METRICS:
			metrics_addr = optarg;
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
	if (optind < argc || (config && have_ns) || (spdk_json && (config || have_ns))) {
		usage(stderr);
		return 2;
	}
	/* managed over JSON-RPC: a socket even when -r is not given (as SPDK's apps) */
	if (!rpc_sock && !config && !have_ns)
		rpc_sock = NVMF_RPC_DEFAULT_SOCK;
	if (size_arg && (quick.backend != NVMF_BACKEND_FILE ||
			 nvmf_cfg_parse_size(size_arg, &quick.size))) {
		fprintf(stderr, "nvmf-target: --size goes with --file and wants a size\n");
		return 2;
	}
	if (quick.prealloc && (config || quick.backend != NVMF_BACKEND_RAM)) {
		fprintf(stderr, "nvmf-target: --prealloc goes with --ram\n");
		return 2;
	}
	if (quick.mptcp && config) {
		fprintf(stderr, "nvmf-target: --mptcp goes with the quick-start flags (a config's "
			"ports say param.mptcp)\n");
		return 2;
	}
	/* a TLS port without keys refuses every host: of no use to a quick start */
	if (quick.tls && (config || !tls_keys)) {
		fprintf(stderr, "nvmf-target: --tls goes with the quick-start flags and "
			"--tls-keys (a config's ports say addr.tsas)\n");
		return 2;
	}

	if (config) {
		rc = nvmf_cfg_load_file(config, &cfg, err, sizeof(err));
		if (!rc) {
			rc = nvmf_cfg_check_private(config, cfg, err, sizeof(err));
			if (rc)
				nvmf_cfg_free(cfg);
		}
		if (rc) {
			fprintf(stderr, "nvmf-target: %s\n", err);
			return 1;
		}
	} else if (!have_ns) {
		/* -c or nothing: start empty, the SPDK file or the RPC calls fill it */
		rc = nvmf_cfg_load_string("{}", "empty configuration", &cfg, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "nvmf-target: %s\n", err);
			return 1;
		}
	} else {
		cfg = nvmf_cfg_quickstart(&quick, err, sizeof(err));
		if (!cfg) {
			fprintf(stderr, "nvmf-target: %s\n", err);
			return 1;
		}
	}
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		log_warn("%s", cfg->warnings[i]);

	/* Signals go to this thread only: the reactors never see them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the transports this binary serves; ports of other trtypes are not started */
	nvmf_tcp_register();
	raise_fd_limit();

	/* from here the target owns cfg (and frees it, also when creation fails) */
	rc = nvmf_tgt_create_ext(cfg, cpus, poll ? NVMF_REACTOR_SPIN_FOREVER : spin_us,
				 rpc_sock ? NVMF_TGT_MAY_START_EMPTY : 0, &tgt, err, sizeof(err));
	if (rc == 0) {
		tgt->config_path = config;
		tgt->tls_keys_path = tls_keys;
		tgt->tls_compat = tls_compat;
		tgt->tls_record = tls_record;
		rc = nvmf_tgt_tls_load_keys(tgt, err, sizeof(err));
	}
	if (rc == 0) {
		warn_tls_without_keys(tgt);
		rc = nvmf_tgt_start(tgt, err, sizeof(err));
	}
	if (rc == 0 && (rpc_sock || spdk_json || save))
		rc = nvmf_rpc_create(tgt, rpc_sock, save, &rpc, err, sizeof(err));
	if (rc == 0 && spdk_json)
		rc = nvmf_rpc_load_file(rpc, spdk_json, err, sizeof(err));
	if (rc == 0 && rpc) {
		sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
		if (sfd < 0) {
			snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
			rc = -errno;
		}
	}
	/* bound before privileges go, like the ports */
	if (rc == 0 && metrics_addr) {
		metrics = nvmf_metrics_start(tgt, metrics_addr, err, sizeof(err));
		if (!metrics)
			rc = -EINVAL;
	}
	if (rc == 0 && user.spec)
		rc = run_as_drop(&user, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "nvmf-target: %s\n", err);
		nvmf_rpc_destroy(rpc);
		if (sfd >= 0)
			close(sfd);
		nvmf_metrics_stop(metrics);
		if (tgt) {
			nvmf_tgt_stop(tgt);
			nvmf_tgt_destroy(tgt);
		}
		return 1;
	}
	if (poll)
		snprintf(mode, sizeof(mode), "busy-polling");
	else
		snprintf(mode, sizeof(mode), "polling %u us after activity, asleep when idle",
			 spin_us);
	log_info("nvmf-target ready: %zu subsystem(s), %zu port(s), %u reactor(s), %s",
		 nvmf_tgt_subsys(tgt)->nr, tgt->nr_ports, tgt->nr_reactors, mode);
	if (!config && have_ns) {
		const struct nvmf_cfg_port *p = &tgt->cfg->ports[0];

		const char *tls = quick.tls ? " --tls" : "";

		printf("Connect a Linux host with:\n"
		       "  nvme discover -t tcp -a %s -s %s%s\n"
		       "  nvme connect -t tcp -a %s -s %s -n %s%s\n",
		       p->traddr, p->trsvcid, tls, p->traddr, p->trsvcid,
		       tgt->cfg->subsystems[0].nqn, tls);
		fflush(stdout);
	}
	/* nvmf_tgt_start() returned: every port has listen()ed (hosts that connect now wait
	 * in its backlog until the reactor's accept takes them) and every namespace is open */
	notify_ready(tgt);

	if (!config && !have_ns && !spdk_json)
		log_info("no configuration given: waiting for JSON-RPC calls on %s", rpc_sock);
	for (;;) {
		/* while a reload's leftovers wait for their grace period, look again soon: a
		 * removed namespace's file closes once its last command is done */
		bool sweep = nvmf_tgt_sweep_retired(tgt);

		if (rpc) {
			/* the RPC server runs here, between signals; reactors never wait for it */
			struct signalfd_siginfo si;

			rc = nvmf_rpc_serve(rpc, sfd, sweep ? 50 : -1);
			if (rc < 0) {
				log_err("JSON-RPC server: %s: stopping", strerror(-rc));
				sig = SIGTERM;
				break;
			}
			if (rc == 0)
				continue; /* time to sweep */
			if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			sig = (int)si.ssi_signo;
		} else if (sweep) {
			struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

			sig = sigtimedwait(&sigs, NULL, &ts);
			if (sig < 0)
				continue; /* EAGAIN (time to sweep) or EINTR */
		} else {
			rc = sigwait(&sigs, &sig);
			if (rc == EINTR)
				continue;
		}
		if (sig != SIGHUP)
			break;
		/* SIGHUP: re-read the configuration, keep running either way */
		notify_reloading();
		if (nvmf_tgt_reload(tgt, err, sizeof(err)))
			log_err("reload failed, configuration unchanged: %s", err);
		else if (rpc)
			nvmf_rpc_config_reloaded(rpc);
		if (nvmf_tgt_tls_load_keys(tgt, err, sizeof(err)))
			log_err("TLS keys not reloaded, the previous ones stay: %s", err);
		warn_tls_without_keys(tgt);
		notify_ready(tgt);
	}
	log_info("%s: stopping", strsignal(sig));
	notify("STOPPING=1");
	nvmf_rpc_destroy(rpc);
	if (sfd >= 0)
		close(sfd);
	nvmf_metrics_stop(metrics);
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	log_info("stopped");
	return 0;
}
