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
#define MAX_PATHS 8                /* beside the daemon's first controller */

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
/*
 * Another address of the subsystem, handed over by `nvmf connect` (its state file names
 * this daemon in path_of): a controller per namespace there, each a path of that
 * namespace's block device.
 */
struct dpath {
	struct ctrl_state st;
	struct nvmf_ctrl **ctrls;    /* like daemon.ctrls; [0] alone without block devices */
	unsigned nctrls;
	enum nvmf_ctrl_state last;
};

struct daemon {
	struct ctrl_state st;
	struct dpath *paths[MAX_PATHS];
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

static const char *state_name(enum nvmf_ctrl_state s);

/* The path's controllers leave the devices (unless they are gone already), then go. */
static void path_free(struct daemon *d, struct dpath *p, bool from_devices)
{
	char file[512];

	for (unsigned i = 0; i < p->nctrls; i++) {
		if (!p->ctrls[i])
			continue;
#ifdef NVMF_HAVE_UBLK
		if (from_devices && d->ublk && i < d->st.nr_ns && d->ublk[i])
			nvmf_mpath_remove_path(nvmf_ublk_mpath(d->ublk[i]), p->ctrls[i]);
#else
		(void)from_devices;
#endif
		nvmf_ctrl_disconnect(p->ctrls[i]);
	}
	dinfo(d, "path %s (%s:%s) removed", p->st.name, p->st.traddr, p->st.trsvcid);
	if (!state_path(file, sizeof(file), p->st.name, ".json"))
		unlink(file);
	if (!state_path(file, sizeof(file), p->st.name, ".remove"))
		unlink(file);
	free(p->ctrls);
	state_free(&p->st);
	free(p);
}

#ifdef NVMF_HAVE_UBLK
/* The daemon's iopolicy (d->st.iopolicy) on device u's multipath namespace. */
static void set_iopolicy(struct daemon *d, struct nvmf_ublk *u)
{
	enum nvmf_iopolicy pol;

	if (!u || nvmf_iopolicy_parse(d->st.iopolicy, &pol))
		return;
	nvmf_mpath_set_iopolicy(nvmf_ublk_mpath(u), pol);
}
#endif

/* A path request that names an iopolicy switches every device of the daemon to it. */
static void path_iopolicy(struct daemon *d, const struct ctrl_state *req)
{
	if (!req->iopolicy[0] || !strcmp(req->iopolicy, d->st.iopolicy))
		return;
	dinfo(d, "iopolicy %s -> %s (asked by %s)", d->st.iopolicy, req->iopolicy, req->name);
	snprintf(d->st.iopolicy, sizeof(d->st.iopolicy), "%s", req->iopolicy);
#ifdef NVMF_HAVE_UBLK
	for (unsigned i = 0; d->ublk && i < d->st.nr_ns; i++)
		set_iopolicy(d, d->ublk[i]);
#endif
	state_save(&d->st);
}

/*
 * Add the path that req (a state file in "connecting", naming this daemon) asks for: the
 * daemon's own options at req's address; each namespace's controller there joins that
 * namespace's device.  req's file then says "live", or "failed" with the error.
 */
static void path_add(struct daemon *d, const struct ctrl_state *req)
{
	struct nvmf_ctrl_opts o = *d->opts;
	struct dpath *p = calloc(1, sizeof(*p));
	unsigned slot = MAX_PATHS, n = d->ublk && d->st.nr_ns ? d->st.nr_ns : 1;
	char err[256] = "";

	for (unsigned i = 0; i < MAX_PATHS; i++)
		if (!d->paths[i]) {
			slot = i;
			break;
		}
	if (!p || slot == MAX_PATHS || !(p->ctrls = calloc(n, sizeof(*p->ctrls)))) {
		snprintf(err, sizeof(err), p ? "%d paths already" : "out of memory", MAX_PATHS);
		goto fail;
	}
	p->st = *req;
	/* the path connects with the daemon's options (its TLS key, MPTCP or not) */
	p->st.tls = d->st.tls;
	p->st.mptcp = d->st.mptcp;
	p->st.ns = NULL;
	p->st.nr_ns = 0;
	o.traddr = p->st.traddr;
	o.trsvcid = p->st.trsvcid;
	o.host_traddr = p->st.host_traddr[0] ? p->st.host_traddr : NULL;
	dinfo(d, "path %s: connecting to %s:%s", p->st.name, o.traddr, o.trsvcid);
	for (unsigned i = 0; i < n; i++) {
		if (nvmf_ctrl_connect(&o, &p->ctrls[i])) {
			p->ctrls[i] = NULL;
			snprintf(err, sizeof(err), "%s:%s: %s: %s", o.traddr, o.trsvcid, o.subnqn,
				 nvmf_strerror_last());
			goto fail;
		}
		p->nctrls = i + 1;
#ifdef NVMF_HAVE_UBLK
		if (d->ublk && i < d->st.nr_ns && d->ublk[i] &&
		    nvmf_mpath_add_path(nvmf_ublk_mpath(d->ublk[i]), p->ctrls[i])) {
			snprintf(err, sizeof(err), "%s:%s: nsid %u: %s", o.traddr, o.trsvcid,
				 d->st.ns[i].nsid, nvmf_strerror_last());
			nvmf_ctrl_disconnect(p->ctrls[i]);
			p->ctrls[i] = NULL;
			goto fail;
		}
#endif
	}
	{
		const struct nvme_id_ctrl *id = nvmf_ctrl_id(p->ctrls[0]);

		p->st.cntlid = nvmf_ctrl_cntlid(p->ctrls[0]);
		wire_trim(p->st.sn, sizeof(p->st.sn), id->sn, sizeof(id->sn));
		wire_trim(p->st.mn, sizeof(p->st.mn), id->mn, sizeof(id->mn));
		wire_trim(p->st.fr, sizeof(p->st.fr), id->fr, sizeof(id->fr));
	}
	p->st.pid = d->st.pid;
	snprintf(p->st.log, sizeof(p->st.log), "%s", d->st.log);
	snprintf(p->st.state, sizeof(p->st.state), "live");
	if (d->st.nr_ns)
		snprintf(p->st.ana, sizeof(p->st.ana), "%s",
			 nvmf_ana_state_name(nvmf_ctrl_ana_state(p->ctrls[0], d->st.ns[0].nsid)));
	p->last = NVMF_CTRL_LIVE;
	d->paths[slot] = p;
	path_iopolicy(d, req);
	p->st.iopolicy[0] = 0;
	state_save(&p->st);
	dinfo(d, "path %s: %s:%s, controller %u, ANA %s", p->st.name, o.traddr, o.trsvcid,
	      p->st.cntlid, p->st.ana[0] ? p->st.ana : "-");
	return;
fail:
	derr(d, "path %s: %s", req->name, err);
	{
		struct ctrl_state f = *req;

		f.ns = NULL;
		f.nr_ns = 0;
		snprintf(f.state, sizeof(f.state), "failed");
		snprintf(f.error, sizeof(f.error), "%s", err);
		state_save(&f);
	}
	if (p) {
		for (unsigned i = 0; i < p->nctrls; i++)
			if (p->ctrls[i]) {
#ifdef NVMF_HAVE_UBLK
				if (d->ublk && i < d->st.nr_ns && d->ublk[i])
					nvmf_mpath_remove_path(nvmf_ublk_mpath(d->ublk[i]),
							       p->ctrls[i]);
#endif
				nvmf_ctrl_disconnect(p->ctrls[i]);
			}
		free(p->ctrls);
		free(p);
	}
}

/*
 * The first controller leaves (nvmf disconnect -d of it while paths stay): out of the
 * block devices and disconnected, and the first path takes its place - its name becomes
 * the one holding the devices, the other paths become its paths.  As the Linux host's
 * namespace head, which outlives any one of its controllers.  False: no path to take
 * over (the daemon then exits, as for nvmf disconnect -n).
 */
static bool hand_over(struct daemon *d)
{
	struct dpath *p = NULL;
	unsigned slot = 0;
	char old[32], file[512];

	for (; slot < MAX_PATHS && !p; slot++)
		p = d->paths[slot];
	if (!p)
		return false;
	d->paths[--slot] = NULL;
	snprintf(old, sizeof(old), "%s", d->st.name);
	for (unsigned i = 0; d->ctrls && i < d->st.nr_ns; i++) {
#ifdef NVMF_HAVE_UBLK
		if (d->ublk && d->ublk[i] && d->ctrls[i])
			nvmf_mpath_remove_path(nvmf_ublk_mpath(d->ublk[i]), d->ctrls[i]);
#endif
		if (d->ctrls[i] && d->ctrls[i] != d->c)
			nvmf_ctrl_disconnect(d->ctrls[i]);
		d->ctrls[i] = i < p->nctrls ? p->ctrls[i] : NULL;
	}
	nvmf_ctrl_disconnect(d->c);
	d->c = p->ctrls[0];
	dinfo(d, "removed (controller %u at %s:%s); %s holds the devices now", d->st.cntlid,
	      d->st.traddr, d->st.trsvcid, p->st.name);
	if (!state_path(file, sizeof(file), old, ".json"))
		unlink(file);
	if (!state_path(file, sizeof(file), old, ".remove"))
		unlink(file);
#define TAKE(f) memcpy(d->st.f, p->st.f, sizeof(d->st.f))
	TAKE(name);
	TAKE(state);
	TAKE(traddr);
	TAKE(trsvcid);
	TAKE(host_traddr);
	TAKE(sn);
	TAKE(mn);
	TAKE(fr);
	TAKE(ana);
#undef TAKE
	d->st.cntlid = p->st.cntlid;
	state_path(d->path, sizeof(d->path), d->st.name, ".json");
	state_save(&d->st);
	for (unsigned i = 0; i < MAX_PATHS; i++)
		if (d->paths[i]) {
			snprintf(d->paths[i]->st.path_of, sizeof(d->paths[i]->st.path_of), "%s",
				 d->st.name);
			state_save(&d->paths[i]->st);
		}
	free(p->ctrls);
	state_free(&p->st);
	free(p);
	return true;
}

/*
 * SIGUSR1: paths to add (state files naming this daemon) or remove (nvmfM.remove; this
 * daemon's own name: hand_over).  True: the daemon is to exit.
 */
static bool path_requests(struct daemon *d)
{
	struct ctrl_state *live;
	char own[512];
	int n;

	if (!state_path(own, sizeof(own), d->st.name, ".remove") && access(own, F_OK) == 0 &&
	    !hand_over(d))
		return true;
	n = states_live(&live);

	for (unsigned i = 0; i < MAX_PATHS; i++) {
		char file[512];

		if (d->paths[i] && !state_path(file, sizeof(file), d->paths[i]->st.name, ".remove") &&
		    access(file, F_OK) == 0) {
			path_free(d, d->paths[i], true);
			d->paths[i] = NULL;
		}
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(live[i].path_of, d->st.name) && !strcmp(live[i].state, "connecting"))
			path_add(d, &live[i]);
	if (n > 0)
		states_free(live, n);
	return false;
}

/* Each path's file follows its controller's state and ANA state. */
static bool paths_watch(struct daemon *d)
{
	bool any_live = false;

	for (unsigned i = 0; i < MAX_PATHS; i++) {
		struct dpath *p = d->paths[i];
		enum nvmf_ctrl_state now;
		char ana[16] = "";

		if (!p)
			continue;
		now = nvmf_ctrl_state(p->ctrls[0]);
		any_live |= now != NVMF_CTRL_DEAD;
		if (d->st.nr_ns)
			snprintf(ana, sizeof(ana), "%s", nvmf_ana_state_name(
				 nvmf_ctrl_ana_state(p->ctrls[0], d->st.ns[0].nsid)));
		if (now == p->last && !strcmp(ana, p->st.ana))
			continue;
		if (now != p->last)
			dinfo(d, "path %s: controller %s", p->st.name, state_name(now));
		p->last = now;
		snprintf(p->st.state, sizeof(p->st.state), "%s", state_name(now));
		snprintf(p->st.ana, sizeof(p->st.ana), "%s", ana);
		state_save(&p->st);
	}
	return any_live;
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
	for (unsigned i = 0; i < MAX_PATHS; i++)
		if (d->paths[i]) {
			path_free(d, d->paths[i], false);
			d->paths[i] = NULL;
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
		set_iopolicy(d, d->ublk[i]);
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
	bool paths_alive = false;
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
	sigaddset(&sigs, SIGUSR1);  /* nvmf connect / disconnect: a path to add or remove */
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
		if (sig == SIGUSR1 && path_requests(d)) {
			dinfo(d, "disconnect asked, no other path: disconnecting");
			break;
		}
		paths_alive = paths_watch(d);
		if (d->st.nr_ns) {
			char ana[16];

			snprintf(ana, sizeof(ana), "%s",
				 nvmf_ana_state_name(nvmf_ctrl_ana_state(d->c, d->st.ns[0].nsid)));
			if (strcmp(ana, d->st.ana)) {
				snprintf(d->st.ana, sizeof(d->st.ana), "%s", ana);
				state_save(&d->st);
			}
		}
		/* the worst of the controllers: one given up is the device set given up */
		now = nvmf_ctrl_state(d->c);
		for (unsigned i = 1; d->ctrls && i < d->st.nr_ns; i++) {
			enum nvmf_ctrl_state si = d->ctrls[i] ? nvmf_ctrl_state(d->ctrls[i]) : now;

			if (si == NVMF_CTRL_DEAD || (si == NVMF_CTRL_RECONNECTING && now == NVMF_CTRL_LIVE))
				now = si;
		}
		if (now == NVMF_CTRL_DEAD && !paths_alive) {
			/* ctrl_loss_tmo ran out (on every path): the kernel removes such a
			 * controller too */
			dwarn(d, "controller dead");
			code = 1;
			break;
		}
		if (now == last)
			continue;
		if (now == NVMF_CTRL_LIVE)
			dinfo(d, "controller live again");
		else
			dwarn(d, "controller %s", state_name(now));
		last = now;
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

/*
 * Hand the path whose state file d->st just claimed to the daemon holding its subsystem
 * (SIGUSR1; it reads the file) and wait until that daemon says "live" or "failed" in it.
 */
static int join_daemon(struct daemon *d, pid_t pid, int fmt)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	char path[512];
	int waited;

	state_path(path, sizeof(path), d->st.name, ".json");
	if (kill(pid, SIGUSR1)) {
		cli_err("%s (pid %d): %s", d->st.path_of, (int)pid, strerror(errno));
		unlink(path);
		return 1;
	}
	for (waited = 0; waited < REPORT_TIMEOUT_MS; waited += 20) {
		struct ctrl_state s;
		int ok = -1;

		nanosleep(&nap, NULL);
		if (state_load(path, &s))
			continue;
		if (!strcmp(s.state, "live"))
			ok = 1;
		else if (!strcmp(s.state, "failed"))
			ok = 0;
		if (ok == 1 && fmt == OUT_JSON) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "device", json_object_new_string(s.name));
			json_object_object_add(r, "path_of", json_object_new_string(s.path_of));
			json_object_object_add(r, "subnqn", json_object_new_string(s.subnqn));
			json_object_object_add(r, "traddr", json_object_new_string(s.traddr));
			json_object_object_add(r, "trsvcid", json_object_new_string(s.trsvcid));
			json_object_object_add(r, "cntlid", json_object_new_int64(s.cntlid));
			json_object_object_add(r, "ana_state", json_object_new_string(s.ana));
			printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(r);
		} else if (ok == 1) {
			printf("connected %s as controller %s: a path of %s (controller %u%s%s)\n",
			       s.subnqn, s.name, s.path_of, s.cntlid, s.ana[0] ? ", ANA " : "", s.ana);
		} else if (ok == 0) {
			cli_err("%s", s.error);
			unlink(path);
		}
		state_free(&s);
		if (ok >= 0)
			return ok ? 0 : 1;
		if (!pid_alive(pid)) {
			cli_err("%s (pid %d) went away", d->st.path_of, (int)pid);
			unlink(path);
			return 1;
		}
	}
	cli_err("%s (pid %d) did not take the path within %d s", d->st.path_of, (int)pid,
		REPORT_TIMEOUT_MS / 1000);
	unlink(path);
	return 1;
}

int connect_one(struct fabrics_args *a, const struct nvmf_ctrl_opts *o_in, int fmt)
{
	struct daemon d;
	struct nvmf_ctrl_opts o = *o_in;
	static char hostnqn[257], hostid[64];
	char holder[32] = "";        /* a daemon that holds this subsystem already */
	pid_t holder_pid = 0;
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
		for (int i = 0; i < n && !dup && !holder[0]; i++)
			/*
			 * a daemon whose controller is reconnecting still holds the subsystem's
			 * devices (as a Linux namespace head outlives a controller's outage):
			 * the address is another path of it, not a second set of devices
			 */
			if (!live[i].path_of[0] &&
			    (!strcmp(live[i].state, "live") || !strcmp(live[i].state, "reconnecting")) &&
			    !strcmp(live[i].subnqn, o.subnqn) && !strcmp(live[i].hostnqn, o.hostnqn) &&
			    live[i].ublk == !a->no_ublk) {
				snprintf(holder, sizeof(holder), "%s", live[i].name);
				holder_pid = live[i].pid;
			}
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
	/* a new daemon's policy, or what a path asks its daemon to switch to ("": keep) */
	snprintf(d.st.iopolicy, sizeof(d.st.iopolicy), "%s",
		 a->iopolicy ? a->iopolicy : holder[0] ? "" : "numa");
	d.st.ublk = !a->no_ublk;
	d.st.tls = o.tls || o.tls_key;
	d.st.mptcp = o.mptcp;
	d.st.pid = getpid();
	/* as the Linux host: another address of a subsystem held already is another path */
	snprintf(d.st.path_of, sizeof(d.st.path_of), "%s", holder);
	rc = claim_name(&d.st);
	if (rc) {
		cli_err("%s: cannot create a state file: %s", run_dir(), strerror(-rc));
		return 1;
	}
	if (holder[0])
		return join_daemon(&d, holder_pid, fmt);
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
