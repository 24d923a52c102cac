/*
 * The target as a whole: builds subsystems, namespaces (opening their backends) and ports
 * from the configuration, runs the reactors, and shuts down cleanly (stop accepting, let
 * in-flight commands finish, flush the backends).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/passthru.h"
#include "target/target.h"
#include "util/log.h"
#include "util/ticks.h"

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.1.0"
#endif

/* FNV-1a: stable identifiers derived from names (not a security function). */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A UUID that stays the same across restarts for the same subsystem and NSID. */
static void derive_uuid(const char *nqn, uint32_t nsid, uint8_t uuid[16])
{
	uint64_t a = fnv1a(0xcbf29ce484222325ull, nqn, strlen(nqn));
	uint64_t b;

	a = fnv1a(a, &nsid, sizeof(nsid));
	b = fnv1a(a ^ 0x9e3779b97f4a7c15ull, "nvmf-tcp", 8);
	memcpy(uuid, &a, 8);
	memcpy(uuid + 8, &b, 8);
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40); /* version 4 layout */
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}

struct nvmf_subsys *nvmf_tgt_find_subsys(struct nvmf_tgt *tgt, const char *nqn)
{
	const struct nvmf_subsys_list *l = nvmf_tgt_subsys(tgt);

	if (strcmp(nqn, NVMF_DISCOVERY_NQN) == 0 || strcmp(nqn, tgt->disc_subsys->nqn) == 0)
		return tgt->disc_subsys;
	for (size_t i = 0; i < l->nr; i++)
		if (strcmp(l->s[i]->nqn, nqn) == 0)
			return l->s[i];
	return NULL;
}

struct nvmf_ns *nvmf_subsys_find_ns(struct nvmf_subsys *subsys, uint32_t nsid)
{
	const struct nvmf_subsys_view *v = nvmf_subsys_view(subsys);
	uint32_t lo = 0, hi = v->nr_ns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (v->ns[mid]->nsid == nsid)
			return v->ns[mid];
		if (v->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool nvmf_subsys_host_allowed(const struct nvmf_subsys *subsys, const char *hostnqn)
{
	const struct nvmf_subsys_view *v = nvmf_subsys_view(subsys);

	if (subsys->removed)
		return false;
	if (v->allow_any_host)
		return true;
	for (size_t i = 0; i < v->nr_allowed_hosts; i++)
		if (strcmp(v->allowed_hosts[i], hostnqn) == 0)
			return true;
	return false;
}

bool nvmf_port_has_subsys(const struct nvmf_port *port, const struct nvmf_subsys *subsys)
{
	const struct nvmf_cfg_port *c = nvmf_port_cfg(port);

	if (subsys->is_discovery)
		return true; /* the discovery controller answers on every port, as nvmet's */
	if (subsys->removed)
		return false;
	for (size_t i = 0; i < c->nr_subsystems; i++)
		if (strcmp(c->subsystems[i], subsys->nqn) == 0)
			return true;
	return false;
}

struct nvmf_reactor *nvmf_tgt_pick_reactor(struct nvmf_tgt *tgt)
{
	unsigned i = atomic_fetch_add(&tgt->next_reactor, 1);

	return &tgt->reactors[i % tgt->nr_reactors];
}

/* ------------------------------------------------------------------ building */

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/*
 * Reservations of a namespace: their PTPL state goes where resv.ptpl_file says, or next to
 * a regular file backing ("<path>.resv"); other local backings have no PTPL unless
 * configured.  An RBD image keeps the whole state in its metadata instead (resv_store.c):
 * a local file would be one gateway's, and the state must follow the image.
 */
static int open_resv(struct nvmf_ns *ns, const struct nvmf_cfg_ns *c, char *why, size_t len)
{
	char *ptpl = NULL;
	int rc;

	if (ns->bdev->kind == NVMF_BDEV_RBD) {
		if (c->resv_ptpl_file && c->resv_ptpl_file[0])
			log_warn("namespace %u: resv.ptpl_file %s is not used: an RBD image keeps "
				 "its reservations in its metadata", c->nsid, c->resv_ptpl_file);
		rc = nvmf_resv_new(NULL, &ns->resv, why, len);
		if (!rc) {
			rc = nvmf_resv_store_open(ns, why, len);
			if (rc) {
				nvmf_resv_free(ns->resv);
				ns->resv = NULL;
			}
		}
		return rc;
	}
	if (c->resv_ptpl_file && c->resv_ptpl_file[0]) {
		ptpl = strdup(c->resv_ptpl_file);
		if (!ptpl)
			return -ENOMEM;
	} else if (c->backend != NVMF_BACKEND_RAM && c->backend != NVMF_BACKEND_NULL &&
		   ns->bdev->kind != NVMF_BDEV_RBD && !ns->bdev->is_blockdev && c->path &&
		   c->path[0]) {
		if (asprintf(&ptpl, "%s.resv", c->path) < 0)
			return -ENOMEM;
	}
	rc = nvmf_resv_new(ptpl, &ns->resv, why, len);
	free(ptpl);
	return rc;
}

/*
 * The backend's size changed under it (an RBD image resized; librbd's thread): the new
 * capacity, and a "namespace attribute changed" event to the controllers of every
 * subsystem that shows the namespace now.  Under tgt->lock the subsystem list and views
 * in force are neither replaced nor freed; a namespace being closed gets no call
 * (bdev.h's on_resize).
 */
static void ns_resized(struct nvmf_bdev *b, uint64_t new_size, void *arg)
{
	struct nvmf_ns *ns = arg;
	struct nvmf_tgt *tgt = ns->tgt;
	const struct nvmf_subsys_list *l;

	(void)b;
	__atomic_store_n(&ns->nblocks, new_size >> ns->lba_shift, __ATOMIC_RELAXED);
	pthread_mutex_lock(&tgt->lock);
	l = tgt->subsys;
	for (size_t i = 0; l && i < l->nr; i++) {
		const struct nvmf_subsys_view *v = nvmf_subsys_view(l->s[i]);

		for (uint32_t k = 0; v && k < v->nr_ns; k++)
			if (v->ns[k] == ns)
				nvmf_tgt_notify_ns_changed(l->s[i], ns->nsid);
	}
	pthread_mutex_unlock(&tgt->lock);
}

/*
 * A gateway namespace's backend lost ownership (bdev.h's on_lost, the backend's thread):
 * its group is inaccessible here now (owner.c); the hosts are told with an ANA change
 * event so that they re-read the ANA log and stop using this path.
 */
static void ns_lost(struct nvmf_bdev *b, int err, void *arg)
{
	struct nvmf_ns *ns = arg;
	struct nvmf_tgt *tgt = ns->tgt;
	const struct nvmf_subsys_list *l;

	(void)b;
	(void)err;
	pthread_mutex_lock(&tgt->lock);
	atomic_fetch_add(&tgt->ana_chgcnt, 1);
	l = tgt->subsys;
	for (size_t i = 0; l && i < l->nr; i++) {
		const struct nvmf_subsys_view *v = nvmf_subsys_view(l->s[i]);

		for (uint32_t k = 0; v && k < v->nr_ns; k++)
			if (v->ns[k] == ns) {
				log_warn("%s: namespace %u: ANA group %u is inaccessible on this "
					 "gateway now", l->s[i]->nqn, ns->nsid,
					 nvmf_ns_anagrpid(ns));
				nvmf_tgt_notify_ana_changed(l->s[i]);
			}
	}
	pthread_mutex_unlock(&tgt->lock);
}

int nvmf_tgt_open_ns(struct nvmf_tgt *tgt, struct nvmf_subsys *s, const struct nvmf_cfg_ns *c,
		     struct nvmf_ns **out, char *err, size_t errlen)
{
	struct nvmf_bdev_params p = { 0 };
	struct nvmf_ns *ns = calloc(1, sizeof(*ns));
	struct nvmf_ns **all;
	char why[256];
	int rc;

	all = realloc(tgt->all_ns, (tgt->nr_all_ns + 1) * sizeof(*all));
	if (!ns || !all) {
		free(ns);
		if (all)
			tgt->all_ns = all;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tgt->all_ns = all;
	switch (c->backend) {
	case NVMF_BACKEND_RAM:
		p.kind = NVMF_BDEV_RAM;
		p.size = c->size;
		p.block_size = c->block_size;
		p.prealloc = c->prealloc;
		p.lazy = c->lazy;
		break;
	case NVMF_BACKEND_NULL:
		p.kind = NVMF_BDEV_NULL;
		p.size = c->size;
		p.block_size = c->block_size;
		break;
	default:
		p.kind = NVMF_BDEV_FILE;
		p.path = c->path;
		p.size = c->size;
		p.block_size = c->block_size;
		break;
	}
	ns->nr_inflight = tgt->nr_reactors;
	if (posix_memalign((void **)&ns->inflight, 64,
			   ns->nr_inflight * sizeof(ns->inflight[0]))) {
		free(ns);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(ns->inflight, 0, ns->nr_inflight * sizeof(ns->inflight[0]));
	if (nvmf_ns_stats_alloc(ns, tgt->nr_reactors)) {
		snprintf(err, errlen, "out of memory");
		free(ns->inflight);
		free(ns->stats);
		free(ns);
		return -ENOMEM;
	}
	rc = nvmf_bdev_open(&p, &ns->bdev, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "subsystem %s namespace %u device.path: %s", s->nqn, c->nsid,
			 why);
		free(ns->inflight);
		free(ns->stats);
		free(ns);
		return rc;
	}
	ns->nsid = c->nsid;
	ns->lba_shift = (uint8_t)__builtin_ctz(ns->bdev->block_size);
	ns->nblocks = ns->bdev->size >> ns->lba_shift;
	ns->tgt = tgt;
	/* the backend may call from its thread already: the argument first, then the hook */
	ns->bdev->resize_arg = ns;
	__atomic_store_n(&ns->bdev->on_resize, ns_resized, __ATOMIC_RELEASE);
	__atomic_store_n(&ns->bdev->on_lost, ns_lost, __ATOMIC_RELEASE);
	if (c->has_uuid)
		memcpy(ns->uuid, c->uuid, 16);
	else
		derive_uuid(s->nqn, c->nsid, ns->uuid);
	ns->has_nguid = c->has_nguid;
	if (c->has_nguid)
		memcpy(ns->nguid, c->nguid, 16);
	ns->anagrpid = c->ana_grpid ? c->ana_grpid : 1;
	if (c->resv_enable) {
		rc = open_resv(ns, c, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "subsystem %s namespace %u: reservations: %s", s->nqn,
				 c->nsid, why);
			nvmf_bdev_close(ns->bdev);
			free(ns->inflight);
			free(ns->stats);
			free(ns);
			return rc;
		}
	}
	ns->cfg = c;
	tgt->all_ns[tgt->nr_all_ns++] = ns;
	*out = ns;
	return 0;
}

void nvmf_tgt_close_ns(struct nvmf_ns *ns)
{
	nvmf_resv_store_close(ns);
	nvmf_bdev_close(ns->bdev);
	nvmf_resv_free(ns->resv);
	free(ns->inflight);
	free(ns->stats);
	free(ns);
}

static int ns_cmp(const void *a, const void *b)
{
	const struct nvmf_ns *x = *(struct nvmf_ns *const *)a, *y = *(struct nvmf_ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

struct nvmf_subsys_view *nvmf_subsys_view_new(const struct nvmf_cfg_subsys *c, uint32_t max_ns)
{
	struct nvmf_subsys_view *v = calloc(1, sizeof(*v) + max_ns * sizeof(v->ns[0]));

	if (!v)
		return NULL;
	if (c) {
		v->allow_any_host = c->allow_any_host;
		v->allowed_hosts = c->allowed_hosts;
		v->nr_allowed_hosts = c->nr_allowed_hosts;
	}
	return v;
}

void nvmf_subsys_view_sort(struct nvmf_subsys_view *v)
{
	qsort(v->ns, v->nr_ns, sizeof(v->ns[0]), ns_cmp);
}

static struct nvmf_subsys *subsys_new(struct nvmf_tgt *tgt, const char *nqn)
{
	struct nvmf_subsys *s = calloc(1, sizeof(*s));
	struct nvmf_subsys **all = realloc(tgt->all_subsys,
					   (tgt->nr_all_subsys + 1) * sizeof(*all));

	if (!s || !all) {
		free(s);
		if (all)
			tgt->all_subsys = all;
		return NULL;
	}
	tgt->all_subsys = all;
	tgt->all_subsys[tgt->nr_all_subsys++] = s;
	s->tgt = tgt;
	copy_str(s->nqn, sizeof(s->nqn), nqn);
	return s;
}

int nvmf_tgt_build_subsys(struct nvmf_tgt *tgt, const struct nvmf_cfg_subsys *c,
			  struct nvmf_subsys **out, char *err, size_t errlen)
{
	struct nvmf_subsys *s = subsys_new(tgt, c->nqn);
	struct nvmf_subsys_view *v;
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = c;
	if (c->serial[0])
		copy_str(s->serial, sizeof(s->serial), c->serial);
	else
		snprintf(s->serial, sizeof(s->serial), "%016llx",
			 (unsigned long long)fnv1a(0xcbf29ce484222325ull, c->nqn, strlen(c->nqn)));
	copy_str(s->model, sizeof(s->model), c->model[0] ? c->model : NVMF_CFG_DEFAULT_MODEL);
	copy_str(s->firmware, sizeof(s->firmware), c->firmware[0] ? c->firmware : NVMF_VERSION);
	s->ieee_oui = c->ieee_oui;
	s->vendor_id = c->vendor_id;
	s->subsys_vendor_id = c->subsys_vendor_id;
	s->vs = c->version ? c->version : NVMF_CFG_DEFAULT_VS;
	s->cntlid_min = c->cntlid_min;
	s->cntlid_max = c->cntlid_max;
	s->next_cntlid = c->cntlid_min;
	s->qid_max = c->qid_max;
	s->tbkas = c->tbkas;
	v = nvmf_subsys_view_new(c, (uint32_t)c->nr_namespaces);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->view = v;
	if (c->passthru.enable) {
		/* the configuration refuses namespaces beside it */
		rc = nvmf_passthru_open(tgt, tgt->cfg ? tgt->cfg->source : NULL, c, &s->passthru,
					err, errlen);
		if (rc)
			return rc;
		s->vs = nvmf_passthru_vs(s->passthru);
	}
	for (size_t i = 0; i < c->nr_namespaces; i++) {
		if (!c->namespaces[i].enable)
			continue;
		rc = nvmf_tgt_open_ns(tgt, s, &c->namespaces[i], &v->ns[v->nr_ns], err, errlen);
		if (rc)
			return rc;
		v->nr_ns++;
	}
	nvmf_subsys_view_sort(v);
	*out = s;
	return 0;
}

int nvmf_tgt_build_port(struct nvmf_tgt *tgt, const struct nvmf_cfg_port *c,
			struct nvmf_port **out)
{
	struct nvmf_port *p = calloc(1, sizeof(*p));
	struct nvmf_port **ports = realloc(tgt->ports, (tgt->nr_ports + 1) * sizeof(*ports));

	if (!p || !ports) {
		free(p);
		if (ports)
			tgt->ports = ports;
		return -ENOMEM;
	}
	tgt->ports = ports;
	p->tgt = tgt;
	p->ops = nvmf_transport_find(c->trtype);
	p->cfg = c;
	p->portid = c->portid;
	p->io_icd = c->inline_data_size < 0 ? NVMF_IO_ICD_DEFAULT : (uint32_t)c->inline_data_size;
	if (p->io_icd > NVMF_MAX_XFER)
		p->io_icd = NVMF_MAX_XFER;
	p->max_queue_size = c->max_queue_size < 0 ? NVMF_CFG_QUEUE_SIZE_MAX
						  : (uint32_t)c->max_queue_size;
	p->listen_fd = -1;
	tgt->ports[tgt->nr_ports++] = p;
	*out = p;
	return 0;
}

/* Whether the target serves this configured port (a transport for it, enabled). */
bool nvmf_tgt_serves_port(const struct nvmf_cfg_port *c)
{
	return c->enabled && nvmf_transport_find(c->trtype);
}

/* Warn about what the configuration asks for that is not served (yet), or not as it reads. */
void nvmf_tgt_warn_unserved(const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		const struct nvmf_cfg_subsys *s = &cfg->subsystems[i];

		/* nvmet sets up DH-HMAC-CHAP only for subsystems with allow_any_host off */
		for (size_t h = 0; s->allow_any_host && h < s->nr_allowed_hosts; h++) {
			const struct nvmf_cfg_host *host = nvmf_cfg_find_host(cfg, s->allowed_hosts[h]);

			if (host && host->dhchap_key[0])
				log_warn("host %s has a DH-HMAC-CHAP key, but %s allows any host: "
					 "its connects there are not authenticated (as with nvmet)",
					 host->nqn, s->nqn);
		}
	}
}

static void spin_rx_enable(void *arg)
{
	nvmf_reactor_spin_rx_enable(arg, true);
}

int nvmf_tgt_create(struct nvmf_cfg *cfg, unsigned nr_reactors, uint32_t spin_us,
		    struct nvmf_tgt **out, char *err, size_t errlen)
{
	return nvmf_tgt_create_ext(cfg, nr_reactors, spin_us, 0, out, err, errlen);
}

int nvmf_tgt_create_ext(struct nvmf_cfg *cfg, unsigned nr_reactors, uint32_t spin_us,
			unsigned flags, struct nvmf_tgt **out, char *err, size_t errlen)
{
	struct nvmf_tgt *tgt = calloc(1, sizeof(*tgt));
	struct nvmf_subsys *d;
	int rc = -ENOMEM;

	*out = NULL;
	if (!tgt) {
		nvmf_cfg_free(cfg);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tgt->cfg = cfg;
	tgt->spin_us = spin_us;
	tgt->nr_reactors = nr_reactors ? nr_reactors : 1;
	tgt->start_ns = nvmf_now_ns();
	nvmf_ticks_init();       /* the statistics' latency clock, before any reactor runs */
	pthread_mutex_init(&tgt->lock, NULL);
	atomic_init(&tgt->genctr, 1);

	d = subsys_new(tgt, cfg->discovery_nqn[0] ? cfg->discovery_nqn : NVMF_DISCOVERY_NQN);
	if (!d || !(d->view = nvmf_subsys_view_new(NULL, 0)))
		goto fail_msg;
	tgt->disc_subsys = d;
	d->is_discovery = true;
	d->view->allow_any_host = true;
	copy_str(d->model, sizeof(d->model), NVMF_CFG_DEFAULT_MODEL);
	copy_str(d->firmware, sizeof(d->firmware), NVMF_VERSION);
	snprintf(d->serial, sizeof(d->serial), "%016llx",
		 (unsigned long long)fnv1a(0xcbf29ce484222325ull, "discovery", 9));
	d->vs = NVMF_CFG_DEFAULT_VS;
	d->cntlid_min = NVMF_CFG_CNTLID_MIN;
	d->cntlid_max = NVMF_CFG_CNTLID_MAX;
	d->next_cntlid = NVMF_CFG_CNTLID_MIN;
	d->tbkas = true;

	tgt->subsys = calloc(1, sizeof(*tgt->subsys) +
				     (cfg->nr_subsystems + 1) * sizeof(tgt->subsys->s[0]));
	if (!tgt->subsys)
		goto fail_msg;
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		rc = nvmf_tgt_build_subsys(tgt, &cfg->subsystems[i],
					   &tgt->subsys->s[tgt->subsys->nr], err, errlen);
		if (rc)
			goto fail;
		tgt->subsys->nr++;
	}
	nvmf_tgt_warn_unserved(cfg);
	/* before any port listens: a gateway reports optimized only what it owns */
	for (size_t i = 0; i < tgt->subsys->nr; i++)
		nvmf_owner_claim(cfg, tgt->subsys->s[i]->cfg,
				 nvmf_subsys_view(tgt->subsys->s[i]));
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		struct nvmf_port *p;

		if (!nvmf_tgt_serves_port(&cfg->ports[i]))
			continue;
		if (nvmf_tgt_build_port(tgt, &cfg->ports[i], &p))
			goto fail_msg;
	}
	/* a target managed over JSON-RPC may start empty and get its ports later */
	if (tgt->nr_ports == 0 && !(flags & NVMF_TGT_MAY_START_EMPTY)) {
		snprintf(err, errlen, "no TCP port to serve (a port needs a linked subsystem)");
		rc = -EINVAL;
		goto fail;
	}
	tgt->reactors = calloc(tgt->nr_reactors, sizeof(*tgt->reactors));
	tgt->reactor_io = aligned_alloc(64, tgt->nr_reactors * sizeof(*tgt->reactor_io));
	if (!tgt->reactors || !tgt->reactor_io)
		goto fail_msg;
	memset(tgt->reactor_io, 0, tgt->nr_reactors * sizeof(*tgt->reactor_io));
	*out = tgt;
	return 0;
fail_msg:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	nvmf_tgt_destroy(tgt);
	return rc;
}

/* ------------------------------------------------------------------ running */

static void port_start_msg(void *arg)
{
	struct nvmf_port *p = arg;

	p->ops->port_start(p);
}

static void port_remove_msg(void *arg)
{
	struct nvmf_port *p = arg;

	p->ops->remove_port(p);
}

int nvmf_port_listen(struct nvmf_port *p, char *err, size_t errlen)
{
	return p->ops->add_port(p, err, errlen);
}

void nvmf_port_run(struct nvmf_port *p, struct nvmf_reactor *r)
{
	p->reactor = r;
	if (nvmf_reactor_call(r, port_start_msg, p))
		log_err("port %u: out of memory starting it", p->portid);
}

void nvmf_port_remove(struct nvmf_port *p)
{
	if (nvmf_reactor_call(p->reactor, port_remove_msg, p))
		log_err("port %u: out of memory stopping it", p->portid);
}

static void drain_transport(const struct nvmf_transport_ops *ops, void *unused)
{
	(void)unused;
	ops->drain();
}

/* On each reactor: every transport lets its queues finish, then closes them. */
static void drain_msg(void *unused)
{
	(void)unused;
	nvmf_transport_for_each(drain_transport, NULL);
}

int nvmf_tgt_start(struct nvmf_tgt *tgt, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	for (size_t i = 0; i < tgt->nr_ports; i++) {
		rc = nvmf_port_listen(tgt->ports[i], err, errlen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < tgt->nr_reactors; i++) {
		int cpu = ncpu > 0 && tgt->nr_reactors <= (unsigned)ncpu ? (int)i : -1;

		rc = nvmf_reactor_start(&tgt->reactors[i], i, 4096, tgt->spin_us, cpu);
		if (rc) {
			snprintf(err, errlen, "reactor %u: io_uring: %s", i, strerror(-rc));
			return rc;
		}
		/* on the reactor's thread, which alone reads the setting */
		if (!tgt->no_spin_rx &&
		    nvmf_reactor_call(&tgt->reactors[i], spin_rx_enable, &tgt->reactors[i]))
			log_warn("reactor %u: out of memory: spinning without reading", i);
		tgt->nr_started = i + 1;
	}
	for (size_t i = 0; i < tgt->nr_ports; i++)
		nvmf_port_run(tgt->ports[i], &tgt->reactors[i % tgt->nr_reactors]);
	return 0;
}

void nvmf_tgt_stop(struct nvmf_tgt *tgt)
{
	/* 1. no new connections */
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->reactor && !tgt->ports[i]->removed)
			nvmf_port_remove(tgt->ports[i]);
	/* 2. every queue finishes what it has in flight, then closes (only reactors that
	 * started: a start that failed half-way stops here too) */
	for (unsigned i = 0; i < tgt->nr_started; i++)
		nvmf_reactor_call(&tgt->reactors[i], drain_msg, NULL);
	/*
	 * ... and every controller is released: the last queue of a controller can close
	 * while the messages that tear the controller down are still on their way to other
	 * reactors (a host that disconnects just before SIGTERM); stopping those reactors
	 * first would drop the messages and the controller with them.
	 */
	for (int waited = 0; (atomic_load(&tgt->live_queues) > 0 ||
			      atomic_load(&tgt->live_ctrls) > 0) && waited < 10000; waited += 10)
		usleep(10000);
	if (atomic_load(&tgt->live_queues) > 0 || atomic_load(&tgt->live_ctrls) > 0)
		log_warn("%d queue(s) and %d controller(s) still open after 10 s, stopping anyway",
			 atomic_load(&tgt->live_queues), atomic_load(&tgt->live_ctrls));
	/* 3. reactors end */
	for (unsigned i = 0; i < tgt->nr_started; i++) {
		nvmf_reactor_stop(&tgt->reactors[i]);
		nvmf_reactor_join(&tgt->reactors[i]);
	}
	/* 4. what was acknowledged is on stable storage */
	for (size_t n = 0; n < tgt->nr_all_ns; n++) {
		struct nvmf_bdev *b = tgt->all_ns[n]->bdev;
		int rc = nvmf_bdev_flush(b);

		if (rc)
			log_err("%s: flush at shutdown: %s", b->path ? b->path : b->ops->name,
				strerror(-rc));
	}
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		if (tgt->ports[i]->listen_fd >= 0) {
			close(tgt->ports[i]->listen_fd);
			tgt->ports[i]->listen_fd = -1;
		}
	}
}

void nvmf_tgt_destroy(struct nvmf_tgt *tgt)
{
	if (!tgt)
		return;
	for (size_t i = 0; i < tgt->nr_all_ns; i++)
		nvmf_tgt_close_ns(tgt->all_ns[i]);
	free(tgt->all_ns);
	for (size_t i = 0; i < tgt->nr_all_subsys; i++) {
		nvmf_passthru_close(tgt->all_subsys[i]->passthru);
		free(tgt->all_subsys[i]->view);
		free(tgt->all_subsys[i]);
	}
	free(tgt->all_subsys);
	free(tgt->subsys);
	for (size_t i = 0; i < tgt->nr_ports; i++)
		free(tgt->ports[i]);
	free(tgt->ports);
	nvmf_tgt_free_retired(tgt);
	/* the target owns the configuration in force and every one it replaced */
	for (size_t i = 0; i < tgt->nr_old_cfgs; i++)
		nvmf_cfg_free(tgt->old_cfgs[i]);
	nvmf_cfg_free(tgt->cfg);
	free(tgt->old_cfgs);
	free(tgt->reactors);
	free(tgt->reactor_io);
	nvmf_tls_keys_free(tgt->tls_keys);
	pthread_mutex_destroy(&tgt->lock);
	free(tgt);
}
