/*
 * nvmf connect: connect a subsystem and leave a daemon that holds the controller and
 * serves each of its namespaces as a local block device (ublk).  The foreground process
 * waits on a pipe until the daemon reports the devices ready (or why it failed), prints
 * that, and exits; the daemon keeps its state in /run/nvmf/nvmfN.json and its log in
 * /run/nvmf/nvmfN.log, and goes away on SIGTERM (nvmf disconnect): block devices first,
 * then a clean controller shutdown.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf.h"
#include "util/log.h"

#ifdef NVMF_HAVE_UBLK
#include "ublk/ublk.h"
#else
struct nvmf_ublk;
#endif

#define REPORT_TIMEOUT_MS 180000   /* connect (10 s per queue at worst) + ublk setup */
#define MAX_NS 1024

/* ------------------------------------------------------------------ checks */

static int ublk_check(char *err, size_t len)
{
#ifndef NVMF_HAVE_UBLK
	snprintf(err, len, "this nvmf was built without ublk support; --no-ublk holds the "
		 "controller without block devices");
	return -ENOTSUP;
#else
	if (access("/dev/ublk-control", R_OK | W_OK)) {
		int e = errno;

		snprintf(err, len, "/dev/ublk-control: %s: block devices need the ublk driver "
			 "(modprobe ublk_drv, Linux >= 6.0); --no-ublk holds the controller "
			 "without them", strerror(e));
		return -e;
	}
	return 0;
#endif
}

static bool same_ctrl(const struct ctrl_state *s, const struct nvmf_ctrl_opts *o)
{
	return !strcmp(s->subnqn, o->subnqn) && !strcmp(s->traddr, o->traddr) &&
	       !strcmp(s->trsvcid, o->trsvcid) && !strcmp(s->hostnqn, o->hostnqn) &&
	       !strcmp(s->host_traddr, o->host_traddr ? o->host_traddr : "");
}

static int mkdir_p(const char *dir)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Claim the lowest free nvmfN: its state file is created exclusively (two connects never
 * get the same name) holding what is known so far; a file left by a dead daemon is
 * reclaimed.
 */
static int claim_name(struct ctrl_state *s)
{
	for (int n = 0; n < 100000; n++) {
		char path[512];
		struct ctrl_state old;
		int fd;

		snprintf(s->name, sizeof(s->name), "nvmf%d", n);
		if (state_path(path, sizeof(path), s->name, ".json"))
			return -ENAMETOOLONG;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			state_path(s->log, sizeof(s->log), s->name, ".log");
			return state_save(s);
		}
		if (errno != EEXIST)
			return -errno;
		if (state_load(path, &old) == 0) {
			bool dead = !pid_alive(old.pid);

			state_free(&old);
			if (dead && unlink(path) == 0)
				n--;    /* try this name again */
		}
	}
	return -ENOSPC;
}

/* ------------------------------------------------------------------ the daemon */

/*
 * A ublk device owns the first I/O queue pairs of its controller for as long as it exists
 * (src/ublk/ublk.h), so two namespaces cannot share one controller's queues: the second
 * and later namespaces each get a controller of their own (same host, same subsystem).
 * ctrls[i] serves namespace i; ctrls[0] is the controller the daemon connected first.
 */
struct daemon {
	struct ctrl_state st;
	const struct nvmf_ctrl_opts *opts;
	struct nvmf_ctrl *c;
	struct nvmf_ctrl **ctrls;    /* per namespace; NULL without ublk */
	struct nvmf_ublk **ublk;
	int report_fd;
	int fmt;
	char path[512];
};

/* The daemon's log (stdout/stderr go to /run/nvmf/nvmfN.log): one line per event. */
#define dinfo(d, fmt, ...) log_info("%s: " fmt, (d)->st.name, ##__VA_ARGS__)
#define dwarn(d, fmt, ...) log_warn("%s: " fmt, (d)->st.name, ##__VA_ARGS__)
#define derr(d, fmt, ...) log_err("%s: " fmt, (d)->st.name, ##__VA_ARGS__)

/* To the waiting foreground: "ok\n" or "error\n", then what it should print. */
static void report(struct daemon *d, bool ok, const char *text)
{
	size_t len = strlen(text);
	const char *p = text;

	if (d->report_fd < 0)
		return;
	if (write(d->report_fd, ok ? "ok\n" : "error\n", ok ? 3 : 6) < 0)
		len = 0;
	while (len) {
		ssize_t n = write(d->report_fd, p, len);

		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	close(d->report_fd);
	d->report_fd = -1;
}

static void fail(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct daemon *d, const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "nvmf %s: ", cli_verb);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	derr(d, "%s", msg + n);
	strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
	report(d, false, msg);
}

static void teardown(struct daemon *d)
{
	for (unsigned i = 0; d->ublk && i < d->st.nr_ns; i++) {
		if (!d->ublk[i])
			continue;
#ifdef NVMF_HAVE_UBLK
		nvmf_ublk_stop(d->ublk[i]);
#endif
		dinfo(d, "nsid %u: /dev/ublkb%d removed", d->st.ns[i].nsid, d->st.ns[i].ublk_id);
		d->ublk[i] = NULL;
	}
	for (unsigned i = 1; d->ctrls && i < d->st.nr_ns; i++)
		if (d->ctrls[i] && d->ctrls[i] != d->c)
			nvmf_ctrl_disconnect(d->ctrls[i]);
	if (d->c) {
		nvmf_ctrl_disconnect(d->c);
		d->c = NULL;
	}
	unlink(d->path);
	free(d->ublk);
	free(d->ctrls);
	d->ublk = NULL;
	d->ctrls = NULL;
	state_free(&d->st);
}

/* Namespaces: what Identify says of each (sizes for `nvmf list`), and a ublk device each. */
static int setup_namespaces(struct daemon *d, bool use_ublk)
{
	uint32_t *nsids = calloc(MAX_NS, sizeof(*nsids));
	uint8_t *buf = malloc(4096);
	int n, rc = 0;

	if (!nsids || !buf) {
		fail(d, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	n = nvmf_ctrl_list_ns(d->c, nsids, MAX_NS);
	if (n < 0) {
		fail(d, "%s:%s: %s: active namespace list: %s", d->st.traddr, d->st.trsvcid,
		     d->st.subnqn, str_status(n));
		rc = n;
		goto out;
	}
	if (n > MAX_NS)
		n = MAX_NS;
	d->st.ns = n ? calloc((size_t)n, sizeof(*d->st.ns)) : NULL;
	d->ublk = n ? calloc((size_t)n, sizeof(*d->ublk)) : NULL;
	d->ctrls = n ? calloc((size_t)n, sizeof(*d->ctrls)) : NULL;
	if (n && (!d->st.ns || !d->ublk || !d->ctrls)) {
		fail(d, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const struct nvme_id_ns *id = (const struct nvme_id_ns *)buf;
		struct ns_state *ns = &d->st.ns[d->st.nr_ns++];
		int st = nvmf_identify(d->c, NVME_CNS_NS, nsids[i], 0, buf);
		unsigned f;

		ns->nsid = nsids[i];
		ns->ublk_id = -1;
		if (st) {
			fail(d, "%s:%s: %s: Identify Namespace %u: %s", d->st.traddr, d->st.trsvcid,
			     d->st.subnqn, nsids[i], str_status(st));
			rc = st < 0 ? st : -EIO;
			goto out;
		}
		f = (id->flbas & 0xF) | ((id->flbas >> 5) & 0x3) << 4;
		ns->nsze = le64toh(id->nsze);
		ns->nuse = le64toh(id->nuse);
		ns->block_size = 1u << id->lbaf[f < 64 ? f : 0].lbads;
		ns->ms = le16toh(id->lbaf[f < 64 ? f : 0].ms);
	}
	if (!use_ublk)
		goto out;
#ifdef NVMF_HAVE_UBLK
	for (unsigned i = 0; i < d->st.nr_ns; i++) {
		struct ns_state *ns = &d->st.ns[i];
		char err[512] = "";
		int dev_id = -1;

		if (i == 0) {
			d->ctrls[0] = d->c;
		} else {
			rc = nvmf_ctrl_connect(d->opts, &d->ctrls[i]);
			if (rc) {
				d->ctrls[i] = NULL;
				fail(d, "%s:%s: %s: controller for nsid %u: %s", d->st.traddr,
				     d->st.trsvcid, d->st.subnqn, ns->nsid, nvmf_strerror_last());
				goto out;
			}
			dinfo(d, "nsid %u: on controller %u of its own", ns->nsid,
			       nvmf_ctrl_cntlid(d->ctrls[i]));
		}
		/* 0, 0: a ublk queue per I/O queue pair, as deep as the queue pairs */
		rc = nvmf_ublk_start(d->ctrls[i], ns->nsid, 0, 0, &d->ublk[i], &dev_id, err,
				     sizeof(err));
		if (rc) {
			d->ublk[i] = NULL;
			fail(d, "nsid %u: ublk device: %s", ns->nsid, err[0] ? err : strerror(-rc));
			goto out;
		}
		ns->ublk_id = dev_id;
		dinfo(d, "nsid %u: /dev/ublkb%d (%llu blocks of %u bytes)", ns->nsid, dev_id,
		       (unsigned long long)ns->nsze, ns->block_size);
	}
#endif
out:
	free(nsids);
	free(buf);
	return rc;
}

/* What the foreground prints: a line a script can take apart, or JSON with -o json. */
static char *success_text(const struct daemon *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (d->fmt == OUT_JSON) {
		json_object *r = json_object_new_object();
		json_object *nss = json_object_new_array();

		json_object_object_add(r, "device", json_object_new_string(d->st.name));
		json_object_object_add(r, "subnqn", json_object_new_string(d->st.subnqn));
		json_object_object_add(r, "traddr", json_object_new_string(d->st.traddr));
		json_object_object_add(r, "trsvcid", json_object_new_string(d->st.trsvcid));
		json_object_object_add(r, "cntlid", json_object_new_int64(d->st.cntlid));
		json_object_object_add(r, "pid", json_object_new_int64(d->st.pid));
		for (unsigned i = 0; i < d->st.nr_ns; i++) {
			json_object *o = json_object_new_object();
			char dev[64];

			json_object_object_add(o, "nsid", json_object_new_int64(d->st.ns[i].nsid));
			if (d->st.ns[i].ublk_id >= 0) {
				snprintf(dev, sizeof(dev), "/dev/ublkb%d", d->st.ns[i].ublk_id);
				json_object_object_add(o, "block_device", json_object_new_string(dev));
			}
			json_object_array_add(nss, o);
		}
		json_object_object_add(r, "namespaces", nss);
		fprintf(f, "%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(r);
	} else {
		fprintf(f, "connected %s as controller %s:", d->st.subnqn, d->st.name);
		if (!d->st.nr_ns)
			fprintf(f, " no namespaces");
		for (unsigned i = 0; i < d->st.nr_ns; i++) {
			if (d->st.ns[i].ublk_id >= 0)
				fprintf(f, "%s /dev/ublkb%d (nsid %u)", i ? "," : "", d->st.ns[i].ublk_id,
					d->st.ns[i].nsid);
			else
				fprintf(f, "%s nsid %u (no block device)", i ? "," : "", d->st.ns[i].nsid);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	return text;
}

static const char *state_name(enum nvmf_ctrl_state s)
{
	return s == NVMF_CTRL_LIVE ? "live" : s == NVMF_CTRL_RECONNECTING ? "reconnecting" : "dead";
}

/* Everything but stdio and the report pipe is closed: the daemon outlives its parent. */
static void close_inherited(int keep)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

static void __attribute__((noreturn))
daemon_main(struct daemon *d, const struct nvmf_ctrl_opts *o, bool use_ublk)
{
	sigset_t sigs;
	enum nvmf_ctrl_state last = NVMF_CTRL_LIVE;
	int code = 0, fd, rc;
	char *text;

	setsid();
	d->st.pid = getpid();
	state_save(&d->st);
	close_inherited(d->report_fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(d->st.log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (chdir("/")) {
		/* paths are absolute (run_dir()): the working directory does not matter */
	}
	/* the library's threads inherit this mask: only this thread takes the signals */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	dinfo(d, "pid %d: connecting to %s at %s:%s as %s", (int)d->st.pid, d->st.subnqn,
	       d->st.traddr, d->st.trsvcid, d->st.hostnqn);
	d->opts = o;
	rc = nvmf_ctrl_connect(o, &d->c);
	if (rc) {
		d->c = NULL;
		fail(d, "%s:%s: %s: %s", d->st.traddr, d->st.trsvcid, d->st.subnqn,
		     nvmf_strerror_last());
		teardown(d);
		exit(1);
	}
	{
		const struct nvme_id_ctrl *id = nvmf_ctrl_id(d->c);

		d->st.cntlid = nvmf_ctrl_cntlid(d->c);
		wire_trim(d->st.sn, sizeof(d->st.sn), id->sn, sizeof(id->sn));
		wire_trim(d->st.mn, sizeof(d->st.mn), id->mn, sizeof(id->mn));
		wire_trim(d->st.fr, sizeof(d->st.fr), id->fr, sizeof(id->fr));
	}
	dinfo(d, "connected: controller %u, %u I/O queues", d->st.cntlid, nvmf_ctrl_nr_qpairs(d->c));
	if (setup_namespaces(d, use_ublk)) {
		teardown(d);
		exit(1);
	}
	snprintf(d->st.state, sizeof(d->st.state), "live");
	rc = state_save(&d->st);
	if (rc) {
		fail(d, "%s: %s", d->path, strerror(-rc));
		teardown(d);
		exit(1);
	}
	text = success_text(d);
	report(d, true, text ? text : "");
	free(text);

	for (;;) {
		struct timespec tick = { 1, 0 };
		enum nvmf_ctrl_state now;
		int sig = sigtimedwait(&sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			dinfo(d, "%s: disconnecting", strsignal(sig));
			break;
		}
		/* the worst of the controllers: one given up is the device set given up */
		now = nvmf_ctrl_state(d->c);
		for (unsigned i = 1; d->ctrls && i < d->st.nr_ns; i++) {
			enum nvmf_ctrl_state si = d->ctrls[i] ? nvmf_ctrl_state(d->ctrls[i]) : now;

			if (si == NVMF_CTRL_DEAD || (si == NVMF_CTRL_RECONNECTING && now == NVMF_CTRL_LIVE))
				now = si;
		}
		if (now == last)
			continue;
		if (now == NVMF_CTRL_LIVE)
			dinfo(d, "controller live again");
		else
			dwarn(d, "controller %s", state_name(now));
		last = now;
		if (now == NVMF_CTRL_DEAD) {
			/* ctrl_loss_tmo ran out: the kernel removes such a controller too */
			code = 1;
			break;
		}
		snprintf(d->st.state, sizeof(d->st.state), "%s", state_name(now));
		state_save(&d->st);
	}
	teardown(d);
	dinfo(d, "disconnected");
	exit(code);
}

/* ------------------------------------------------------------------ the foreground */

static int wait_report(pid_t pid, int fd, const char *log)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int st;

	for (;;) {
		ssize_t n;

		if (poll(&p, 1, REPORT_TIMEOUT_MS) == 0) {
			kill(pid, SIGTERM);
			cli_err("no answer from the connecting daemon (pid %d) within %d s; see %s",
				(int)pid, REPORT_TIMEOUT_MS / 1000, log);
			free(text);
			return 1;
		}
		if (len + 512 > cap) {
			char *grown = realloc(text, cap + 4096);

			if (!grown) {
				free(text);
				return 1;
			}
			text = grown;
			cap += 4096;
		}
		n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!text || len == 0) {
		int code = -1;

		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
			code = WEXITSTATUS(st);
		cli_err("the connecting daemon (pid %d) exited (status %d) without a word; see %s",
			(int)pid, code, log);
		free(text);
		return 1;
	}
	text[len] = 0;
	if (!strncmp(text, "ok\n", 3)) {
		fputs(text + 3, stdout);
		fflush(stdout);
		free(text);
		return 0;
	}
	fputs(!strncmp(text, "error\n", 6) ? text + 6 : text, stderr);
	free(text);
	/* a failed daemon exits at once: reap it rather than leave a zombie behind */
	waitpid(pid, &st, 0);
	return 1;
}

int connect_one(struct fabrics_args *a, const struct nvmf_ctrl_opts *o_in, int fmt)
{
	struct daemon d;
	struct nvmf_ctrl_opts o = *o_in;
	static char hostnqn[257], hostid[64];
	char err[512];
	int fds[2], rc;
	pid_t pid;

	memset(&d, 0, sizeof(d));
	d.report_fd = -1;
	d.fmt = fmt;
	resolve_host(a, hostnqn, sizeof(hostnqn), hostid, sizeof(hostid));
	o.hostnqn = hostnqn;
	o.hostid = hostid[0] ? hostid : NULL;
	if (!o.trsvcid)
		o.trsvcid = NVMF_IO_PORT;
	/* this controller's keys (connect-all: each subsystem of the log its own) */
	if (cli_keys(a, &o))
		return 1;
	if (a->nr_io_queues == NVMF_UNSET) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		/* as the kernel: a queue per CPU; without block devices nothing uses them */
		o.nr_io_queues = a->no_ublk ? 1 : (unsigned)(cpus > 0 ? cpus : 1);
	}
	if (!a->no_ublk && ublk_check(err, sizeof(err))) {
		cli_err("%s", err);
		return 1;
	}
	if (!a->duplicate) {
		struct ctrl_state *live;
		int n = states_live(&live);
		bool dup = false;

		for (int i = 0; i < n; i++)
			dup |= same_ctrl(&live[i], &o);
		if (n > 0)
			states_free(live, n);
		if (dup)
			return CONNECT_ALREADY;
	}
	rc = mkdir_p(run_dir());
	if (rc) {
		cli_err("%s: %s", run_dir(), strerror(-rc));
		return 1;
	}
	snprintf(d.st.state, sizeof(d.st.state), "connecting");
	snprintf(d.st.subnqn, sizeof(d.st.subnqn), "%s", o.subnqn);
	snprintf(d.st.traddr, sizeof(d.st.traddr), "%s", o.traddr);
	snprintf(d.st.trsvcid, sizeof(d.st.trsvcid), "%s", o.trsvcid);
	snprintf(d.st.host_traddr, sizeof(d.st.host_traddr), "%s", o.host_traddr ? o.host_traddr : "");
	snprintf(d.st.hostnqn, sizeof(d.st.hostnqn), "%s", hostnqn);
	snprintf(d.st.hostid, sizeof(d.st.hostid), "%s", hostid);
	d.st.ublk = !a->no_ublk;
	d.st.pid = getpid();
	rc = claim_name(&d.st);
	if (rc) {
		cli_err("%s: cannot create a state file: %s", run_dir(), strerror(-rc));
		return 1;
	}
	state_path(d.path, sizeof(d.path), d.st.name, ".json");
	if (pipe2(fds, O_CLOEXEC)) {
		cli_err("pipe: %s", strerror(errno));
		unlink(d.path);
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_err("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		unlink(d.path);
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		d.report_fd = fds[1];
		daemon_main(&d, &o, !a->no_ublk);
	}
	close(fds[1]);
	rc = wait_report(pid, fds[0], d.st.log);
	close(fds[0]);
	return rc;
}

int cmd_connect(int argc, char **argv)
{
	struct fabrics_args a;
	struct nvmf_ctrl_opts o;
	int fmt, rc;

	fabrics_args_init(&a);
	{
		const struct cli_opt opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN", "subsystem NQN" },
			CLI_CONNECT_OPTS(a),
			{ "output-format", 'o', CLI_FMT, &a.output, "FMT", "normal|json" },
			CLI_END,
		};

		rc = cli_parse("-t tcp -a ADDR [-s PORT] -n NQN [options]",
			       "Connect to subsystem NQN at ADDR (port 4420 unless -s).  A daemon holds\n"
			       "the controller and serves each namespace as a block device (/dev/ublkbN)\n"
			       "until `nvmf disconnect`.", opts, argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	fmt = parse_output(a.output, false);
	if (fmt < 0)
		return EXIT_USAGE;
	rc = fabrics_opts(&a, &o, true, NVMF_IO_PORT);
	if (rc)
		return rc;
	rc = connect_one(&a, &o, fmt);
	if (rc == CONNECT_ALREADY) {
		cli_err("%s at %s:%s is already connected (-D/--duplicate-connect for another "
			"controller)", o.subnqn, o.traddr, o.trsvcid);
		return 1;
	}
	return rc;
}
