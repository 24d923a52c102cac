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
#include "tools/target-opts.h"
#include "rpc/rpc.h"
#include "util/log.h"
#include "util/sd_notify.h"

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

int main(int argc, char **argv)
{
	struct target_opts o;
	const char *config, *tls_keys, *spdk_json, *rpc_sock, *save, *metrics_addr;
	struct nvmf_cfg_quick quick;
	struct nvmf_rpc *rpc = NULL;
	struct nvmf_metrics *metrics = NULL;
	int sfd = -1;
	enum nvmf_tls_record tls_record;
	bool tls_compat, poll, have_ns;
	unsigned cpus;
	uint32_t spin_us;
	struct run_as user = { 0 };
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt = NULL;
	char err[512], mode[64];
	bool in_config = false;
	sigset_t sigs;
	int sig, rc;

	rc = target_opts_parse(argc, argv, &o, stdout, stderr);
	if (rc == TARGET_OPTS_HELP)
		return 0;
	if (rc)
		return 2;
	if (o.verbose)
		nvmf_log_threshold = NVMF_LOG_DEBUG;
	if (o.buf_pool)
		nvmf_req_data_set_limit((size_t)o.buf_pool);
	user.spec = o.user;
	if (user.spec && run_as_resolve(&user))
		return 2;
	quick = o.quick;
	config = o.config;
	tls_keys = o.tls_keys;
	spdk_json = o.spdk_json;
	rpc_sock = o.rpc_sock;
	save = o.save;
	metrics_addr = o.metrics;
	tls_record = o.tls_record;
	tls_compat = o.tls_compat;
	poll = o.poll;
	have_ns = o.have_ns;
	cpus = o.cpus;
	spin_us = o.spin_us;
	/* managed over JSON-RPC: a socket even when -r is not given (as SPDK's apps) */
	if (!rpc_sock && !config && !have_ns)
		rpc_sock = NVMF_RPC_DEFAULT_SOCK;

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
	/* a namespace that does not open: which file said so */
	in_config = rc && config;
	if (rc == 0) {
		tgt->no_spin_rx = o.no_spin_rx;
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
		fprintf(stderr, "nvmf-target: %s%s%s\n", in_config ? config : "",
			in_config ? ": " : "", err);
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
		snprintf(mode, sizeof(mode), "polling %u us after activity%s, asleep when idle",
			 spin_us, o.no_spin_rx ? " (ring only)" : "");
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
