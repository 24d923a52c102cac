/*
 * nvmf-target: the user-space NVMe/TCP target.
 *
 *   nvmf-target --config /etc/nvmet/config.json     # what `nvmetcli save` wrote
 *   nvmf-target --ram 1G [--listen ADDR:PORT] [--nqn NQN] [--tls --tls-keys FILE]
 *   nvmf-target --file PATH [--size SIZE] | --device /dev/X | --null SIZE
 *
 * SIGINT / SIGTERM: stop accepting, finish in-flight commands, flush file and block
 * backends, exit 0.  SIGHUP: reload the --config file (hosts hear of changes through
 * asynchronous events) and the --tls-keys file.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "target/config.h"
#include "target/target.h"
#include "target/tcp.h"
#include "tools/target-opts.h"
#include "util/log.h"

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

int main(int argc, char **argv)
{
	struct target_opts o;
	struct run_as user = { 0 };
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt = NULL;
	char err[512], mode[64];
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

	if (o.config) {
		rc = nvmf_cfg_load_file(o.config, &cfg, err, sizeof(err));
		if (!rc) {
			rc = nvmf_cfg_check_private(o.config, cfg, err, sizeof(err));
			if (rc)
				nvmf_cfg_free(cfg);
		}
		if (rc) {
			fprintf(stderr, "nvmf-target: %s\n", err);
			return 1;
		}
	} else {
		cfg = nvmf_cfg_quickstart(&o.quick, err, sizeof(err));
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
	rc = nvmf_tgt_create(cfg, o.cpus, o.poll ? NVMF_REACTOR_SPIN_FOREVER : o.spin_us, &tgt, err,
			     sizeof(err));
	if (rc == 0) {
		tgt->config_path = o.config;
		tgt->tls_keys_path = o.tls_keys;
		tgt->tls_compat = o.tls_compat;
		tgt->tls_record = o.tls_record;
		rc = nvmf_tgt_tls_load_keys(tgt, err, sizeof(err));
	}
	if (rc == 0) {
		warn_tls_without_keys(tgt);
		rc = nvmf_tgt_start(tgt, err, sizeof(err));
	}
	if (rc == 0 && user.spec)
		rc = run_as_drop(&user, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "nvmf-target: %s\n", err);
		if (tgt) {
			nvmf_tgt_stop(tgt);
			nvmf_tgt_destroy(tgt);
		}
		return 1;
	}
	if (o.poll)
		snprintf(mode, sizeof(mode), "busy-polling");
	else
		snprintf(mode, sizeof(mode), "polling %u us after activity, asleep when idle",
			 o.spin_us);
	log_info("nvmf-target ready: %zu subsystem(s), %zu port(s), %u reactor(s), %s",
		 nvmf_tgt_subsys(tgt)->nr, tgt->nr_ports, tgt->nr_reactors, mode);
	if (!o.config) {
		const struct nvmf_cfg_port *p = &tgt->cfg->ports[0];

		const char *tls = o.quick.tls ? " --tls" : "";

		printf("Connect a Linux host with:\n"
		       "  nvme discover -t tcp -a %s -s %s%s\n"
		       "  nvme connect -t tcp -a %s -s %s -n %s%s\n",
		       p->traddr, p->trsvcid, tls, p->traddr, p->trsvcid,
		       tgt->cfg->subsystems[0].nqn, tls);
		fflush(stdout);
	}

	for (;;) {
		rc = sigwait(&sigs, &sig);
		if (rc == EINTR)
			continue;
		if (sig != SIGHUP)
			break;
		/* SIGHUP: re-read the configuration, keep running either way */
		if (nvmf_tgt_reload(tgt, err, sizeof(err)))
			log_err("reload failed, configuration unchanged: %s", err);
		if (nvmf_tgt_tls_load_keys(tgt, err, sizeof(err)))
			log_err("TLS keys not reloaded, the previous ones stay: %s", err);
		warn_tls_without_keys(tgt);
	}
	log_info("%s: stopping", strsignal(sig));
	nvmf_tgt_stop(tgt);
	nvmf_tgt_destroy(tgt);
	log_info("stopped");
	return 0;
}
