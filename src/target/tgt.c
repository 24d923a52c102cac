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

#include "target/target.h"
#include "target/tcp.h"
#include "util/log.h"

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
	if (strcmp(nqn, NVMF_DISCOVERY_NQN) == 0 || strcmp(nqn, tgt->disc_subsys->nqn) == 0)
		return tgt->disc_subsys;
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		if (strcmp(tgt->subsys[i]->nqn, nqn) == 0)
			return tgt->subsys[i];
	return NULL;
}

struct nvmf_ns *nvmf_subsys_find_ns(struct nvmf_subsys *subsys, uint32_t nsid)
{
	uint32_t lo = 0, hi = subsys->nr_ns;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (subsys->ns[mid]->nsid == nsid)
			return subsys->ns[mid];
		if (subsys->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool nvmf_subsys_host_allowed(const struct nvmf_subsys *subsys, const char *hostnqn)
{
	const struct nvmf_cfg *cfg = subsys->tgt->cfg;
	const struct nvmf_cfg_host *h = nvmf_cfg_find_host(cfg, hostnqn);

	/*
	 * A host configured with a DH-HMAC-CHAP secret must authenticate; until in-band
	 * authentication is served, refusing it is the only safe answer.
	 */
	if (h && h->dhchap_key[0] && !subsys->is_discovery)
		return false;
	if (subsys->allow_any_host)
		return true;
	for (size_t i = 0; i < subsys->nr_allowed_hosts; i++)
		if (strcmp(subsys->allowed_hosts[i], hostnqn) == 0)
			return true;
	return false;
}

bool nvmf_port_has_subsys(const struct nvmf_port *port, const struct nvmf_subsys *subsys)
{
	if (subsys->is_discovery)
		return true; /* the discovery controller answers on every port, as nvmet's */
	for (size_t i = 0; i < port->cfg->nr_subsystems; i++)
		if (strcmp(port->cfg->subsystems[i], subsys->nqn) == 0)
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

static int open_ns(struct nvmf_subsys *s, const struct nvmf_cfg_ns *c, struct nvmf_ns **out,
		   char *err, size_t errlen)
{
	struct nvmf_bdev_params p = { 0 };
	struct nvmf_ns *ns = calloc(1, sizeof(*ns));
	char why[256];
	int rc;

	if (!ns)
		return -ENOMEM;
	switch (c->backend) {
	case NVMF_BACKEND_RAM:
		p.kind = NVMF_BDEV_RAM;
		p.size = c->size;
		break;
	case NVMF_BACKEND_NULL:
		p.kind = NVMF_BDEV_NULL;
		p.size = c->size;
		break;
	default:
		p.kind = NVMF_BDEV_FILE;
		p.path = c->path;
		p.size = c->size;
		break;
	}
	rc = nvmf_bdev_open(&p, &ns->bdev, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "subsystem %s namespace %u: %s", s->nqn, c->nsid, why);
		free(ns);
		return rc;
	}
	ns->nsid = c->nsid;
	ns->lba_shift = (uint8_t)__builtin_ctz(ns->bdev->block_size);
	ns->nblocks = ns->bdev->size >> ns->lba_shift;
	if (c->has_uuid)
		memcpy(ns->uuid, c->uuid, 16);
	else
		derive_uuid(s->nqn, c->nsid, ns->uuid);
	ns->has_nguid = c->has_nguid;
	if (c->has_nguid)
		memcpy(ns->nguid, c->nguid, 16);
	ns->anagrpid = c->ana_grpid ? c->ana_grpid : 1;
	ns->cfg = c;
	*out = ns;
	return 0;
}

static int ns_cmp(const void *a, const void *b)
{
	const struct nvmf_ns *x = *(struct nvmf_ns *const *)a, *y = *(struct nvmf_ns *const *)b;

	return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static struct nvmf_subsys *subsys_new(struct nvmf_tgt *tgt, const char *nqn)
{
	struct nvmf_subsys *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->tgt = tgt;
	copy_str(s->nqn, sizeof(s->nqn), nqn);
	return s;
}

static int build_subsys(struct nvmf_tgt *tgt, const struct nvmf_cfg_subsys *c,
			struct nvmf_subsys **out, char *err, size_t errlen)
{
	struct nvmf_subsys *s = subsys_new(tgt, c->nqn);
	int rc;

	if (!s)
		return -ENOMEM;
	s->cfg = c;
	s->allow_any_host = c->allow_any_host;
	s->allowed_hosts = c->allowed_hosts;
	s->nr_allowed_hosts = c->nr_allowed_hosts;
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
	s->ns = calloc(c->nr_namespaces ? c->nr_namespaces : 1, sizeof(*s->ns));
	if (!s->ns) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nr_namespaces; i++) {
		if (!c->namespaces[i].enable)
			continue;
		rc = open_ns(s, &c->namespaces[i], &s->ns[s->nr_ns], err, errlen);
		if (rc) {
			*out = s;
			return rc;
		}
		s->nr_ns++;
	}
	qsort(s->ns, s->nr_ns, sizeof(*s->ns), ns_cmp);
	*out = s;
	return 0;
}

static void subsys_free(struct nvmf_subsys *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nr_ns; i++) {
		nvmf_bdev_close(s->ns[i]->bdev);
		free(s->ns[i]);
	}
	free(s->ns);
	free(s);
}

static int build_port(struct nvmf_tgt *tgt, const struct nvmf_cfg_port *c,
		      struct nvmf_port **out)
{
	struct nvmf_port *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->tgt = tgt;
	p->cfg = c;
	p->portid = c->portid;
	p->io_icd = c->inline_data_size < 0 ? NVMF_IO_ICD_DEFAULT : (uint32_t)c->inline_data_size;
	if (p->io_icd > NVMF_MAX_XFER)
		p->io_icd = NVMF_MAX_XFER;
	p->max_queue_size = c->max_queue_size < 0 ? NVMF_CFG_QUEUE_SIZE_MAX
						  : (uint32_t)c->max_queue_size;
	p->listen_fd = -1;
	*out = p;
	return 0;
}

int nvmf_tgt_create(struct nvmf_cfg *cfg, unsigned nr_reactors, bool busy_poll,
		    struct nvmf_tgt **out, char *err, size_t errlen)
{
	struct nvmf_tgt *tgt = calloc(1, sizeof(*tgt));
	int rc = -ENOMEM;

	*out = NULL;
	if (!tgt)
		goto fail_msg;
	tgt->cfg = cfg;
	tgt->busy_poll = busy_poll;
	tgt->nr_reactors = nr_reactors ? nr_reactors : 1;
	pthread_mutex_init(&tgt->lock, NULL);
	atomic_init(&tgt->genctr, 1);

	tgt->disc_subsys = subsys_new(tgt, cfg->discovery_nqn[0] ? cfg->discovery_nqn
								: NVMF_DISCOVERY_NQN);
	if (!tgt->disc_subsys)
		goto fail_msg;
	tgt->disc_subsys->is_discovery = true;
	tgt->disc_subsys->allow_any_host = true;
	copy_str(tgt->disc_subsys->model, sizeof(tgt->disc_subsys->model), NVMF_CFG_DEFAULT_MODEL);
	copy_str(tgt->disc_subsys->firmware, sizeof(tgt->disc_subsys->firmware), NVMF_VERSION);
	snprintf(tgt->disc_subsys->serial, sizeof(tgt->disc_subsys->serial), "%016llx",
		 (unsigned long long)fnv1a(0xcbf29ce484222325ull, "discovery", 9));
	tgt->disc_subsys->vs = NVMF_CFG_DEFAULT_VS;
	tgt->disc_subsys->cntlid_min = NVMF_CFG_CNTLID_MIN;
	tgt->disc_subsys->cntlid_max = NVMF_CFG_CNTLID_MAX;
	tgt->disc_subsys->next_cntlid = NVMF_CFG_CNTLID_MIN;
	tgt->disc_subsys->tbkas = true;
	tgt->disc_subsys->ns = calloc(1, sizeof(struct nvmf_ns *));
	if (!tgt->disc_subsys->ns)
		goto fail_msg;

	tgt->subsys = calloc(cfg->nr_subsystems ? cfg->nr_subsystems : 1, sizeof(*tgt->subsys));
	tgt->ports = calloc(cfg->nr_ports ? cfg->nr_ports : 1, sizeof(*tgt->ports));
	if (!tgt->subsys || !tgt->ports)
		goto fail_msg;
	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		rc = build_subsys(tgt, &cfg->subsystems[i], &tgt->subsys[tgt->nr_subsys], err,
				  errlen);
		if (tgt->subsys[tgt->nr_subsys])
			tgt->nr_subsys++;
		if (rc)
			goto fail;
		for (size_t h = 0; h < cfg->subsystems[i].nr_allowed_hosts; h++) {
			const struct nvmf_cfg_host *host =
				nvmf_cfg_find_host(cfg, cfg->subsystems[i].allowed_hosts[h]);

			if (host && host->dhchap_key[0])
				log_warn("host %s has a DH-HMAC-CHAP key: in-band authentication is "
					 "not served yet, so its connects to %s are refused",
					 host->nqn, cfg->subsystems[i].nqn);
		}
	}
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *c = &cfg->ports[i];

		if (!c->enabled || c->trtype != NVMF_CFG_TRTYPE_TCP)
			continue;
		if (c->tsas == NVMF_CFG_TSAS_TLS13) {
			/* serving it in the clear would be a silent downgrade */
			log_warn("port %u (%s:%s): TLS is not served yet: port not started",
				 c->portid, c->traddr, c->trsvcid);
			continue;
		}
		rc = build_port(tgt, c, &tgt->ports[tgt->nr_ports]);
		if (rc)
			goto fail_msg;
		tgt->nr_ports++;
	}
	if (tgt->nr_ports == 0) {
		snprintf(err, errlen, "no TCP port to serve (a port needs a linked subsystem)");
		rc = -EINVAL;
		goto fail;
	}
	tgt->reactors = calloc(tgt->nr_reactors, sizeof(*tgt->reactors));
	if (!tgt->reactors)
		goto fail_msg;
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

int nvmf_tgt_start(struct nvmf_tgt *tgt, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	for (size_t i = 0; i < tgt->nr_ports; i++) {
		rc = nvmf_tcp_listen(tgt->ports[i], err, errlen);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < tgt->nr_reactors; i++) {
		int cpu = ncpu > 0 && tgt->nr_reactors <= (unsigned)ncpu ? (int)i : -1;

		rc = nvmf_reactor_start(&tgt->reactors[i], i, 4096, tgt->busy_poll, cpu);
		if (rc) {
			snprintf(err, errlen, "reactor %u: io_uring: %s", i, strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		tgt->ports[i]->reactor = &tgt->reactors[i % tgt->nr_reactors];
		nvmf_reactor_call(tgt->ports[i]->reactor, nvmf_tcp_port_start, tgt->ports[i]);
	}
	return 0;
}

void nvmf_tgt_stop(struct nvmf_tgt *tgt)
{
	/* 1. no new connections */
	for (size_t i = 0; i < tgt->nr_ports; i++)
		if (tgt->ports[i]->reactor)
			nvmf_reactor_call(tgt->ports[i]->reactor, nvmf_tcp_port_stop,
					  tgt->ports[i]);
	/* 2. every queue finishes what it has in flight, then closes */
	for (unsigned i = 0; i < tgt->nr_reactors; i++)
		nvmf_reactor_call(&tgt->reactors[i], nvmf_tcp_drain_reactor, NULL);
	for (int waited = 0; atomic_load(&tgt->live_queues) > 0 && waited < 10000; waited += 10)
		usleep(10000);
	if (atomic_load(&tgt->live_queues) > 0)
		log_warn("%d queue(s) still open after 10 s, stopping anyway",
			 atomic_load(&tgt->live_queues));
	/* 3. reactors end */
	for (unsigned i = 0; i < tgt->nr_reactors; i++) {
		nvmf_reactor_stop(&tgt->reactors[i]);
		nvmf_reactor_join(&tgt->reactors[i]);
	}
	/* 4. what was acknowledged is on stable storage */
	for (size_t s = 0; s < tgt->nr_subsys; s++) {
		for (uint32_t n = 0; n < tgt->subsys[s]->nr_ns; n++) {
			struct nvmf_bdev *b = tgt->subsys[s]->ns[n]->bdev;

			if (b->fd >= 0 && !b->read_only && fdatasync(b->fd) < 0)
				log_err("%s: flush at shutdown: %s", b->path, strerror(errno));
		}
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
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		subsys_free(tgt->subsys[i]);
	free(tgt->subsys);
	for (size_t i = 0; i < tgt->nr_ports; i++)
		free(tgt->ports[i]);
	free(tgt->ports);
	subsys_free(tgt->disc_subsys);
	free(tgt->reactors);
	pthread_mutex_destroy(&tgt->lock);
	free(tgt);
}
