/*
 * Configuration reload (SIGHUP): re-read the --config file and apply what changed while
 * hosts stay connected, the way an admin edits nvmet's configfs under a live target.
 *
 *   namespaces added / removed / re-pointed  -> "namespace attribute changed" events
 *   ANA group states of a port, a namespace
 *   moved to another ANA group               -> "ANA change" events (ANA log change count)
 *   allowed hosts, port links, referrals,
 *   subsystems and ports added or removed    -> discovery log generation + events
 *   a subsystem that disappears, a port that
 *   goes or no longer links a subsystem      -> the controllers concerned are torn down
 *                                               (nvmet deletes them when a port is unlinked)
 *
 * New state is built first without locks; the swap happens under tgt->lock; what was
 * replaced is freed once every reactor has passed a grace point (grace.c).  A reload that
 * fails frees what it built, backends included.
 * Identity fields of a live subsystem (serial, model, ...) are not changed, as nvmet
 * makes them read-only once a host has seen them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/passthru.h"
#include "target/target.h"
#include "util/log.h"

#define MAX_CHANGED 1024

/* The same storage as before: reuse the open namespace. */
static bool same_backing(const struct nvmf_cfg_ns *a, const struct nvmf_cfg_ns *b)
{
	return a->backend == b->backend && a->size == b->size && strcmp(a->path, b->path) == 0 &&
	       a->has_uuid == b->has_uuid && memcmp(a->uuid, b->uuid, 16) == 0 &&
	       a->has_nguid == b->has_nguid && memcmp(a->nguid, b->nguid, 16) == 0 &&
	       a->resv_enable == b->resv_enable &&
	       strcmp(a->resv_ptpl_file ? a->resv_ptpl_file : "",
		      b->resv_ptpl_file ? b->resv_ptpl_file : "") == 0;
}

static struct nvmf_ns *view_find(const struct nvmf_subsys_view *v, uint32_t nsid)
{
	for (uint32_t i = 0; i < v->nr_ns; i++)
		if (v->ns[i]->nsid == nsid)
			return v->ns[i];
	return NULL;
}

struct subsys_plan {
	struct nvmf_subsys *s;        /* existing or newly built */
	const struct nvmf_cfg_subsys *cfg;
	struct nvmf_subsys_view *view; /* the new view (NULL for a new subsystem: built in) */
	const struct nvmf_subsys_view *old_view; /* the one it replaced */
	bool is_new;
	bool ana_changed;             /* a kept namespace moved to another ANA group */
	uint32_t changed[MAX_CHANGED];
	unsigned nr_changed;
	bool changed_overflow;
};

static void note_changed(struct subsys_plan *p, uint32_t nsid)
{
	if (p->nr_changed < MAX_CHANGED)
		p->changed[p->nr_changed++] = nsid;
	else
		p->changed_overflow = true;
}

/* The new view of an existing subsystem: keep namespaces whose backing did not change. */
static int plan_existing(struct nvmf_tgt *tgt, struct subsys_plan *p, char *err, size_t errlen)
{
	const struct nvmf_subsys_view *old = nvmf_subsys_view(p->s);
	const struct nvmf_cfg_subsys *c = p->cfg;
	struct nvmf_subsys_view *v = nvmf_subsys_view_new(c, (uint32_t)c->nr_namespaces);
	int rc;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nr_namespaces; i++) {
		const struct nvmf_cfg_ns *nc = &c->namespaces[i];
		struct nvmf_ns *ns;

		if (!nc->enable)
			continue;
		ns = view_find(old, nc->nsid);
		if (ns && same_backing(ns->cfg, nc)) {
			v->ns[v->nr_ns++] = ns;
			continue;
		}
		rc = nvmf_tgt_open_ns(tgt, p->s, nc, &v->ns[v->nr_ns], err, errlen);
		if (rc) {
			free(v);
			return rc;
		}
		v->nr_ns++;
		note_changed(p, nc->nsid);
	}
	for (uint32_t i = 0; i < old->nr_ns; i++)
		if (!view_find(v, old->ns[i]->nsid))
			note_changed(p, old->ns[i]->nsid);
	nvmf_subsys_view_sort(v);
	p->view = v;
	if (strcmp(c->serial, p->s->cfg->serial) || strcmp(c->model, p->s->cfg->model))
		log_warn("reload: %s: serial/model cannot change while the subsystem exists; "
			 "kept", c->nqn);
	return 0;
}

/*
 * Passthrough subsystems hold a device and per-reactor rings that a reload does not
 * rebuild: one may not appear, go or change its device while the target runs (a restart
 * does that).  0, or -EINVAL with the subsystem named in err.
 */
static int check_passthru(const struct nvmf_subsys_list *old, const struct nvmf_cfg *ncfg,
			  char *err, size_t errlen)
{
	for (size_t i = 0; i < ncfg->nr_subsystems; i++) {
		const struct nvmf_cfg_subsys *c = &ncfg->subsystems[i];
		const struct nvmf_subsys *s = NULL;

		for (size_t k = 0; k < old->nr; k++)
			if (strcmp(old->s[k]->nqn, c->nqn) == 0)
				s = old->s[k];
		if (!c->passthru.enable && !(s && s->passthru))
			continue;
		if (!s || !s->passthru || !c->passthru.enable ||
		    strcmp(nvmf_passthru_path(s->passthru), c->passthru.path) != 0) {
			snprintf(err, errlen, "subsystems[%s].passthru: a passthrough subsystem "
				 "cannot be added, removed or changed while running (restart "
				 "nvmf-target)", c->nqn);
			return -EINVAL;
		}
	}
	for (size_t k = 0; k < old->nr; k++) {
		if (old->s[k]->passthru && !nvmf_cfg_find_subsys(ncfg, old->s[k]->nqn)) {
			snprintf(err, errlen, "subsystems[%s].passthru: a passthrough subsystem "
				 "cannot be removed while running (restart nvmf-target)",
				 old->s[k]->nqn);
			return -EINVAL;
		}
	}
	return 0;
}

/* Everything that shows in a discovery log, as text: a change means a new genctr. */
static char *disc_fingerprint(const struct nvmf_cfg *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];

		if (!nvmf_tgt_serves_port(p))
			continue;
		fprintf(f, "port %u %s %s %d %d|", p->portid, p->traddr, p->trsvcid, p->treq,
			p->tsas);
		for (size_t k = 0; k < p->nr_subsystems; k++)
			fprintf(f, "link %s|", p->subsystems[k]);
		for (size_t k = 0; k < p->nr_referrals; k++) {
			const struct nvmf_cfg_referral *r = &p->referrals[k];

			fprintf(f, "ref %d %d %u %s %s %d %d|", r->trtype, r->adrfam, r->portid,
				r->traddr, r->trsvcid, r->treq, r->enable);
		}
	}
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		const struct nvmf_cfg_subsys *s = &cfg->subsystems[i];

		fprintf(f, "subsys %s %d|", s->nqn, s->allow_any_host);
		for (size_t k = 0; k < s->nr_allowed_hosts; k++)
			fprintf(f, "host %s|", s->allowed_hosts[k]);
	}
	fclose(f);
	return buf;
}

/* Whether a port's ANA groups differ between two configurations: the set or a state. */
static bool ana_groups_differ(const struct nvmf_cfg_port *a, const struct nvmf_cfg_port *b)
{
	if (a->nr_ana_groups != b->nr_ana_groups)
		return true;
	for (size_t i = 0; i < a->nr_ana_groups; i++) {
		bool found = false;

		for (size_t k = 0; k < b->nr_ana_groups && !found; k++) {
			if (b->ana_groups[k].grpid != a->ana_groups[i].grpid)
				continue;
			if (b->ana_groups[k].state != a->ana_groups[i].state)
				return true;
			found = true;
		}
		if (!found)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ events */

enum aen_kind { AEN_NS, AEN_DISC, AEN_ANA };

struct aen_msg {
	struct nvmf_tgt_ctrl *ctrl; /* a reference is held */
	uint32_t nsids[MAX_CHANGED];
	unsigned nr;
	bool overflow;
	enum aen_kind kind;
};

/* On the controller's admin reactor, where its event state lives. */
static void deliver_aen(void *arg)
{
	struct aen_msg *m = arg;

	if (!atomic_load(&m->ctrl->dying) && m->ctrl->admin_sq) {
		if (m->kind == AEN_DISC) {
			nvmf_tgt_ctrl_add_aen(m->ctrl, NVME_AER_DW0(NVME_AER_TYPE_NOTICE,
								NVME_AER_NOTICE_DISC_CHANGED,
								NVME_LID_DISCOVERY));
		} else if (m->kind == AEN_ANA) {
			nvmf_tgt_ctrl_add_aen(m->ctrl, NVME_AER_DW0(NVME_AER_TYPE_NOTICE,
								NVME_AER_NOTICE_ANA_CHANGE,
								NVME_LID_ANA));
		} else {
			/* more than the list holds: the log says "rescan everything" */
			if (m->overflow)
				m->ctrl->changed_ns_overflow = true;
			for (unsigned i = 0; i < m->nr; i++)
				nvmf_tgt_ctrl_ns_changed(m->ctrl, m->nsids[i]);
		}
	}
	nvmf_tgt_ctrl_put(m->ctrl);
	free(m);
}

/*
 * Post an event message to every live controller of s, or only to those connected through
 * port when it is not NULL (tgt->lock held).
 */
static void notify_ctrls(struct nvmf_subsys *s, const struct subsys_plan *p, enum aen_kind kind,
			 const struct nvmf_port *port)
{
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next) {
		struct aen_msg *m;

		if (atomic_load(&c->dying) || !c->admin_sq || (port && c->port != port))
			continue;
		m = calloc(1, sizeof(*m));
		if (!m) {
			log_err("reload: ctrl %u: out of memory for an event", c->cntlid);
			continue;
		}
		nvmf_tgt_ctrl_get(c);
		m->ctrl = c;
		m->kind = kind;
		if (p) {
			memcpy(m->nsids, p->changed, p->nr_changed * sizeof(p->changed[0]));
			m->nr = p->nr_changed;
			m->overflow = p->changed_overflow;
		}
		if (nvmf_reactor_call(c->admin_sq->reactor, deliver_aen, m)) {
			nvmf_tgt_ctrl_put(c);
			free(m);
		}
	}
}

void nvmf_tgt_notify_ns_changed(struct nvmf_subsys *s, uint32_t nsid)
{
	struct subsys_plan *p = calloc(1, sizeof(*p));

	if (!p) {
		log_err("subsystem %s: out of memory for a namespace %u event", s->nqn, nsid);
		return;
	}
	p->s = s;
	note_changed(p, nsid);
	notify_ctrls(s, p, AEN_NS, NULL);
	free(p);
}

void nvmf_tgt_notify_ana_changed(struct nvmf_subsys *s)
{
	notify_ctrls(s, NULL, AEN_ANA, NULL);
}

/* ------------------------------------------------------------------ ports */

static struct nvmf_port *find_port(struct nvmf_tgt *tgt, uint16_t portid)
{
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->portid == portid && !tgt->ports[i]->removed)
			return tgt->ports[i];
	return NULL;
}

static bool same_address(const struct nvmf_cfg_port *a, const struct nvmf_cfg_port *b)
{
	return a->adrfam == b->adrfam && strcmp(a->traddr, b->traddr) == 0 &&
	       strcmp(a->trsvcid, b->trsvcid) == 0;
}

static void port_stop(struct nvmf_port *p)
{
	log_info("reload: port %u (%s:%s) removed", p->portid, nvmf_port_cfg(p)->traddr,
		 nvmf_port_cfg(p)->trsvcid);
	p->removed = true;
	nvmf_port_remove(p);
}

static int port_start(struct nvmf_tgt *tgt, const struct nvmf_cfg_port *c, char *err,
		      size_t errlen)
{
	struct nvmf_port *p;
	int rc = nvmf_tgt_build_port(tgt, c, &p);

	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	rc = nvmf_port_listen(p, err, errlen);
	if (rc) {
		p->closing = true; /* never started: the next sweep frees it */
		p->removed = true;
		return rc;
	}
	nvmf_port_run(p, nvmf_tgt_pick_reactor(tgt));
	return 0;
}

/* ------------------------------------------------------------------ clean-up */

static bool view_holds(const struct nvmf_subsys_view *v, const struct nvmf_ns *ns)
{
	for (uint32_t i = 0; i < v->nr_ns; i++)
		if (v->ns[i] == ns)
			return true;
	return false;
}

/*
 * The namespaces of old that now (no view) holds: they leave the target's list for the
 * batch, which closes them once no command uses them (grace.c).
 */
static void retire_ns(struct nvmf_tgt *tgt, struct nvmf_retired *batch,
		      const struct nvmf_subsys_view *old, const struct nvmf_subsys_view *now)
{
	for (uint32_t k = 0; k < old->nr_ns; k++) {
		struct nvmf_ns *ns = old->ns[k];

		if (now && view_holds(now, ns))
			continue;
		for (size_t i = 0; i < tgt->nr_all_ns; i++) {
			if (tgt->all_ns[i] != ns)
				continue;
			if (nvmf_retired_add_ns(batch, ns)) {
				log_warn("reload: out of memory: namespace %u stays open until "
					 "exit", ns->nsid);
				break;
			}
			tgt->all_ns[i] = tgt->all_ns[--tgt->nr_all_ns];
			break;
		}
	}
}

/*
 * A subsystem gone from the configuration: its controllers are being torn down, but one
 * may still parse a command until then, so its view becomes an empty one rather than
 * keeping the namespaces; they and the old view go with the batch.
 */
static void empty_removed_view(struct nvmf_tgt *tgt, struct nvmf_retired *batch,
			       struct nvmf_subsys *s)
{
	struct nvmf_subsys_view *old = s->view;
	struct nvmf_subsys_view *v = nvmf_subsys_view_new(NULL, 0);

	if (!v || !old->nr_ns || nvmf_retired_add(batch, old)) {
		free(v);
		return;
	}
	__atomic_store_n(&s->view, v, __ATOMIC_RELEASE);
	retire_ns(tgt, batch, old, NULL);
}

/* A failed reload: close the namespaces and free the subsystems built since the marks. */
static void unbuild(struct nvmf_tgt *tgt, size_t ns_mark, size_t subsys_mark)
{
	while (tgt->nr_all_ns > ns_mark) {
		nvmf_tgt_close_ns(tgt->all_ns[--tgt->nr_all_ns]);
	}
	while (tgt->nr_all_subsys > subsys_mark) {
		struct nvmf_subsys *s = tgt->all_subsys[--tgt->nr_all_subsys];

		free(s->view);
		free(s);
	}
}

/*
 * Kept namespaces now belong to the new configuration (the old one is about to go), and
 * join the ANA group it names (nvmet lets ana_grpid change on an enabled namespace).
 * Returns whether one changed group.
 */
static bool repoint_ns_cfg(struct nvmf_subsys_view *v, const struct nvmf_cfg_subsys *c)
{
	bool moved = false;

	for (uint32_t i = 0; i < v->nr_ns; i++) {
		struct nvmf_ns *ns = v->ns[i];

		for (size_t k = 0; k < c->nr_namespaces; k++) {
			uint32_t grp = c->namespaces[k].ana_grpid ? c->namespaces[k].ana_grpid : 1;

			if (c->namespaces[k].nsid != ns->nsid)
				continue;
			ns->cfg = &c->namespaces[k];
			if (nvmf_ns_anagrpid(ns) != grp) {
				log_info("reload: %s: namespace %u moves from ANA group %u to %u",
					 c->nqn, ns->nsid, nvmf_ns_anagrpid(ns), grp);
				__atomic_store_n(&ns->anagrpid, grp, __ATOMIC_RELAXED);
				moved = true;
			}
		}
	}
	return moved;
}

/*
 * Controllers that lost their way in: connected through a port this reload stopped, or one
 * that no longer links their subsystem.  nvmet deletes them when a subsystem is unlinked
 * from a port; the host sees the path go and uses its others.
 */
static void teardown_unlinked(struct nvmf_tgt *tgt, struct nvmf_port *const *stopped,
			      size_t nr_stopped)
{
	const struct nvmf_subsys_list *l = nvmf_tgt_subsys(tgt);

	for (size_t k = 0; k < l->nr; k++) {
		struct nvmf_subsys *s = l->s[k];

		for (;;) {
			struct nvmf_tgt_ctrl *victim = NULL;
			bool port_gone = false;

			pthread_mutex_lock(&tgt->lock);
			for (struct nvmf_tgt_ctrl *c = s->ctrls; c && !victim; c = c->next) {
				bool gone = false;

				if (atomic_load(&c->dying) || !c->port)
					continue;
				for (size_t i = 0; i < nr_stopped; i++)
					gone |= c->port == stopped[i];
				if (gone || !nvmf_port_has_subsys(c->port, s)) {
					victim = c;
					port_gone = gone;
					nvmf_tgt_ctrl_get(c);
				}
			}
			pthread_mutex_unlock(&tgt->lock);
			if (!victim)
				break;
			nvmf_tgt_ctrl_fatal(victim, port_gone ? "its port was removed from the "
						"configuration" : "its port no longer links the "
						"subsystem");
			nvmf_tgt_ctrl_put(victim);
		}
	}
}

/*
 * A port removed from the configuration keeps serving the controllers connected through
 * it, and they read its (old) configuration: then that configuration stays until the port
 * is reaped (nvmf_tgt_reap_removed).
 */
static bool cfg_pinned(const struct nvmf_tgt *tgt, const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		const struct nvmf_cfg_port *c = nvmf_port_cfg(tgt->ports[i]);

		if (tgt->ports[i]->reactor && c >= cfg->ports && c < cfg->ports + cfg->nr_ports)
			return true;
	}
	return false;
}

static void retire_cfg(struct nvmf_tgt *tgt, struct nvmf_retired *old, struct nvmf_cfg *cfg)
{
	struct nvmf_cfg **olds;

	if (!cfg_pinned(tgt, cfg) && !nvmf_retired_add_cfg(old, cfg))
		return;
	olds = realloc(tgt->old_cfgs, (tgt->nr_old_cfgs + 1) * sizeof(*olds));
	if (!olds) {
		log_warn("reload: out of memory: the old configuration is leaked");
		return;
	}
	tgt->old_cfgs = olds;
	tgt->old_cfgs[tgt->nr_old_cfgs++] = cfg;
}

/* A removed port nothing reaches any more: no listener, no queue, no connection coming. */
static bool port_unused(const struct nvmf_port *p)
{
	if (!p->reactor)
		return true; /* never started */
	return atomic_load_explicit(&p->listener_closed, memory_order_acquire) &&
	       atomic_load_explicit(&p->users, memory_order_acquire) == 0;
}

/*
 * A removed subsystem whose last controller is released (tgt->lock held): none can join
 * it any more (nvmf_tgt_ctrl_create checks removed under the lock), and reactors that
 * found it before the reload let go at the grace point.
 */
static bool subsys_unused(const struct nvmf_subsys *s)
{
	return s->removed && !s->ctrls;
}

bool nvmf_tgt_reap_removed(struct nvmf_tgt *tgt)
{
	struct nvmf_retired *batch;
	size_t kept = 0, nr = 0;
	bool waiting = false, any = false;

	pthread_mutex_lock(&tgt->lock);
	for (size_t i = 0; i < tgt->nr_all_subsys; i++)
		if (tgt->all_subsys[i]->removed)
			any = true;
	pthread_mutex_unlock(&tgt->lock);
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->removed)
			any = true;
	if (!any)
		return false;
	/* room for everything removed: each port, each subsystem and its view */
	batch = nvmf_retired_new(tgt->nr_ports + 2 * tgt->nr_all_subsys);
	if (!batch)
		return true; /* the next sweep tries again */
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		struct nvmf_port *p = tgt->ports[i];

		if (p->removed && port_unused(p)) {
			nvmf_retired_add(batch, p);
			nr++;
		} else {
			waiting |= p->removed;
			tgt->ports[kept++] = p;
		}
	}
	tgt->nr_ports = kept;
	kept = 0;
	pthread_mutex_lock(&tgt->lock);
	for (size_t i = 0; i < tgt->nr_all_subsys; i++) {
		struct nvmf_subsys *s = tgt->all_subsys[i];

		if (subsys_unused(s)) {
			log_debug("reload: subsystem %s freed", s->nqn);
			nvmf_retired_add(batch, s->view);
			nvmf_retired_add(batch, s);
			nr++;
		} else {
			waiting |= s->removed;
			tgt->all_subsys[kept++] = s;
		}
	}
	tgt->nr_all_subsys = kept;
	pthread_mutex_unlock(&tgt->lock);
	/* the configurations only the freed ports kept alive */
	kept = 0;
	for (size_t i = 0; i < tgt->nr_old_cfgs; i++) {
		struct nvmf_cfg *c = tgt->old_cfgs[i];

		if (cfg_pinned(tgt, c) || nvmf_retired_add_cfg(batch, c))
			tgt->old_cfgs[kept++] = c;
		else
			nr++;
	}
	tgt->nr_old_cfgs = kept;
	if (nr)
		nvmf_tgt_retire(tgt, batch);
	else
		nvmf_retired_free(batch); /* nothing yet: no grace period to start */
	return waiting;
}

/* ------------------------------------------------------------------ reload */

int nvmf_tgt_reload(struct nvmf_tgt *tgt, char *err, size_t errlen)
{
	struct nvmf_cfg *ncfg = NULL;
	char origin[512];
	int rc;

	if (!tgt->config_path) {
		snprintf(err, errlen, "started without --config: nothing to reload");
		return -EINVAL;
	}
	rc = nvmf_cfg_load_file(tgt->config_path, &ncfg, err, errlen);
	if (!rc) {
		rc = nvmf_cfg_check_private(tgt->config_path, ncfg, err, errlen);
		if (rc) {
			nvmf_cfg_free(ncfg);
			ncfg = NULL;
		}
	}
	if (rc)
		return rc;
	snprintf(origin, sizeof(origin), "configuration reloaded from %s", tgt->config_path);
	return nvmf_tgt_apply(tgt, ncfg, origin, err, errlen);
}

int nvmf_tgt_apply(struct nvmf_tgt *tgt, struct nvmf_cfg *ncfg, const char *origin, char *err,
		   size_t errlen)
{
	const struct nvmf_subsys_list *old_list = nvmf_tgt_subsys(tgt);
	struct subsys_plan *plans = NULL;
	struct nvmf_subsys_list *list = NULL;
	struct nvmf_retired *old = NULL;
	struct nvmf_cfg *old_cfg = tgt->cfg;
	size_t ns_mark = tgt->nr_all_ns, subsys_mark = tgt->nr_all_subsys;
	char *fp_old = NULL, *fp_new = NULL;
	struct nvmf_port **ana_ports = NULL, **stopped = NULL;
	size_t nr_ana_ports = 0, nr_stopped = 0;
	bool disc_changed, ana_changed = false;
	size_t n;
	int rc;

	for (size_t i = 0; i < ncfg->nr_warnings; i++)
		log_warn("%s", ncfg->warnings[i]);
	if (strcmp(ncfg->discovery_nqn, tgt->cfg->discovery_nqn) != 0)
		log_warn("reload: the discovery NQN cannot change while running; kept %s",
			 tgt->disc_subsys->nqn);

	rc = check_passthru(old_list, ncfg, err, errlen);
	if (rc) {
		nvmf_cfg_free(ncfg);
		return rc;
	}
	/* 1. build: new subsystems and new views, no lock (reactors keep running) */
	n = ncfg->nr_subsystems;
	plans = calloc(n ? n : 1, sizeof(*plans));
	list = calloc(1, sizeof(*list) + (n ? n : 1) * sizeof(list->s[0]));
	/* the views replaced (kept and removed subsystems) and the old list */
	old = nvmf_retired_new(n + old_list->nr + 1);
	ana_ports = calloc(ncfg->nr_ports + 1, sizeof(*ana_ports));
	stopped = calloc(tgt->nr_ports + 1, sizeof(*stopped));
	if (!plans || !list || !old || !ana_ports || !stopped) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct subsys_plan *p = &plans[i];

		p->cfg = &ncfg->subsystems[i];
		for (size_t k = 0; k < old_list->nr; k++)
			if (strcmp(old_list->s[k]->nqn, p->cfg->nqn) == 0)
				p->s = old_list->s[k];
		if (p->s) {
			rc = plan_existing(tgt, p, err, errlen);
		} else {
			p->is_new = true;
			rc = nvmf_tgt_build_subsys(tgt, p->cfg, &p->s, err, errlen);
		}
		if (rc)
			goto fail;
		list->s[list->nr++] = p->s;
	}
	/* gateway namespaces own their image before this configuration reports optimized */
	for (size_t i = 0; i < n; i++)
		nvmf_owner_claim(ncfg, plans[i].cfg,
				 plans[i].view ? plans[i].view : nvmf_subsys_view(plans[i].s));
	fp_old = disc_fingerprint(tgt->cfg);
	fp_new = disc_fingerprint(ncfg);
	disc_changed = !fp_old || !fp_new || strcmp(fp_old, fp_new) != 0;
	nvmf_tgt_warn_unserved(ncfg);

	/* 2. swap, under the lock connects and discovery reads take */
	pthread_mutex_lock(&tgt->lock);
	for (size_t i = 0; i < n; i++) {
		struct subsys_plan *p = &plans[i];

		if (p->is_new)
			continue;
		nvmf_retired_add(old, p->s->view);
		p->old_view = p->s->view;
		p->ana_changed = repoint_ns_cfg(p->view, p->cfg);
		ana_changed |= p->ana_changed;
		p->s->cfg = p->cfg;
		__atomic_store_n(&p->s->view, p->view, __ATOMIC_RELEASE);
		p->view = NULL;
	}
	for (size_t k = 0; k < old_list->nr; k++) {
		bool kept = false;

		for (size_t i = 0; i < list->nr; i++)
			kept |= list->s[i] == old_list->s[k];
		if (!kept)
			old_list->s[k]->removed = true;
	}
	nvmf_retired_add(old, (void *)old_list);
	__atomic_store_n(&tgt->subsys, list, __ATOMIC_RELEASE);
	list = NULL;
	/* ports that stay get the new configuration (links, referrals) */
	for (size_t i = 0; i < ncfg->nr_ports; i++) {
		struct nvmf_port *p = find_port(tgt, ncfg->ports[i].portid);

		if (!p || !nvmf_tgt_serves_port(&ncfg->ports[i]) ||
		    !same_address(nvmf_port_cfg(p), &ncfg->ports[i]))
			continue;
		if (ana_groups_differ(nvmf_port_cfg(p), &ncfg->ports[i])) {
			log_info("reload: port %u: ANA group states changed", p->portid);
			ana_ports[nr_ana_ports++] = p;
			ana_changed = true;
		}
		/* the listener's protocol is the socket's: a new one would mean a new port */
		if (nvmf_port_cfg(p)->mptcp != ncfg->ports[i].mptcp)
			log_warn("reload: port %u: param.mptcp changes when the target restarts; "
				 "the port stays %s", p->portid, p->mptcp ? "MPTCP" : "plain TCP");
		__atomic_store_n(&p->cfg, &ncfg->ports[i], __ATOMIC_RELEASE);
	}
	__atomic_store_n(&tgt->cfg, ncfg, __ATOMIC_RELEASE);
	if (disc_changed)
		atomic_fetch_add(&tgt->genctr, 1);
	if (ana_changed)
		atomic_fetch_add(&tgt->ana_chgcnt, 1);

	/* 3. tell the hosts */
	for (size_t i = 0; i < n; i++) {
		if (plans[i].is_new)
			continue;
		if (plans[i].nr_changed || plans[i].changed_overflow)
			notify_ctrls(plans[i].s, &plans[i], AEN_NS, NULL);
		if (plans[i].ana_changed)
			notify_ctrls(plans[i].s, NULL, AEN_ANA, NULL);
		for (size_t k = 0; k < nr_ana_ports; k++)
			notify_ctrls(plans[i].s, NULL, AEN_ANA, ana_ports[k]);
	}
	if (disc_changed)
		notify_ctrls(tgt->disc_subsys, NULL, AEN_DISC, NULL);
	pthread_mutex_unlock(&tgt->lock);
	for (size_t i = 0; i < n; i++)
		nvmf_owner_release(ncfg, plans[i].cfg, nvmf_subsys_view(plans[i].s));
	for (size_t i = 0; i < n; i++)
		if (plans[i].old_view)
			retire_ns(tgt, old, plans[i].old_view, nvmf_subsys_view(plans[i].s));

	for (size_t k = 0; k < old_list->nr; k++) {
		struct nvmf_subsys *s = old_list->s[k];

		if (!s->removed)
			continue;
		log_info("reload: subsystem %s removed", s->nqn);
		empty_removed_view(tgt, old, s);
		for (;;) {
			struct nvmf_tgt_ctrl *victim = NULL;

			pthread_mutex_lock(&tgt->lock);
			for (struct nvmf_tgt_ctrl *c = s->ctrls; c && !victim; c = c->next)
				if (!atomic_load(&c->dying)) {
					victim = c;
					nvmf_tgt_ctrl_get(c);
				}
			pthread_mutex_unlock(&tgt->lock);
			if (!victim)
				break;
			nvmf_tgt_ctrl_fatal(victim, "subsystem removed from the configuration");
			nvmf_tgt_ctrl_put(victim);
		}
	}

	/* 4. ports that come and go */
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		struct nvmf_port *p = tgt->ports[i];
		bool kept = false;

		if (p->removed)
			continue;
		for (size_t k = 0; k < ncfg->nr_ports; k++)
			kept |= ncfg->ports[k].portid == p->portid &&
				nvmf_tgt_serves_port(&ncfg->ports[k]) &&
				same_address(nvmf_port_cfg(p), &ncfg->ports[k]);
		if (!kept) {
			port_stop(p);
			stopped[nr_stopped++] = p;
		}
	}
	teardown_unlinked(tgt, stopped, nr_stopped);
	for (size_t k = 0; k < ncfg->nr_ports; k++) {
		char perr[256];

		if (!nvmf_tgt_serves_port(&ncfg->ports[k]) || find_port(tgt, ncfg->ports[k].portid))
			continue;
		if (port_start(tgt, &ncfg->ports[k], perr, sizeof(perr)))
			log_err("reload: %s", perr);
	}

	log_info("%s%s", origin, disc_changed ? " (discovery log changed)" : "");
	for (size_t i = 0; i < n; i++)
		if (plans[i].nr_changed)
			log_info("reload: %s: %u namespace(s) changed", plans[i].s->nqn,
				 plans[i].nr_changed);
	/* the ports are settled: the old configuration goes unless a removed port needs it */
	retire_cfg(tgt, old, old_cfg);
	nvmf_tgt_retire(tgt, old);
	free(ana_ports);
	free(stopped);
	free(fp_old);
	free(fp_new);
	free(plans);
	return 0;
fail:
	/* nothing was published: what this reload built goes now, open backends included */
	if (plans)
		for (size_t i = 0; i < n; i++)
			free(plans[i].view);
	unbuild(tgt, ns_mark, subsys_mark);
	free(ana_ports);
	free(stopped);
	free(old);
	free(plans);
	free(list);
	free(fp_old);
	free(fp_new);
	nvmf_cfg_free(ncfg);
	return rc;
}
