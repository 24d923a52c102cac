/*
 * The owner role of a gateway pair (ceph-nvmeof's shape): two nvmf-target processes serve
 * one RBD image under one NQN and NGUID; each namespace's ANA group is optimized on one
 * gateway and inaccessible on the other, and only the gateway where it is optimized may
 * write.  That is made true here, on the one path every configuration change takes
 * (startup, SIGHUP reload, JSON-RPC): before a configuration that makes a gateway
 * namespace's group optimized on this target takes effect, the namespace claims its
 * backend (bdev.h: fence the previous owner, then take the image's exclusive lock); where
 * the group is no longer optimized, the claim is given up once the configuration changed.
 *
 * What hosts see follows ownership, not only the configuration: a gateway namespace that
 * is not owned -- its claim failed, or the backend lost it (fenced, lock taken, cluster
 * out of reach) -- is inaccessible through every port (io.c refuses its commands with the
 * ANA status, the ANA log reports its group so), and losing it sends the ANA change event.
 * Non-optimized is not an owner state: a gateway namespace there is inaccessible too, as
 * a second writer would take the lock away.
 */
#include "target/target.h"

#include <string.h>

#include "util/log.h"

/* Whether cfg makes group grp optimized on a port of this target that links nqn. */
static bool owner_wanted(const struct nvmf_cfg *cfg, const char *nqn, uint32_t grp)
{
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];
		bool links = false;

		if (!nvmf_tgt_serves_port(p))
			continue;
		for (size_t k = 0; k < p->nr_subsystems && !links; k++)
			links = strcmp(p->subsystems[k], nqn) == 0;
		if (links && nvmf_cfg_port_ana_state(p, grp) == NVMF_CFG_ANA_OPTIMIZED)
			return true;
	}
	return false;
}

/* The ANA group cfg gives namespace nsid of subsystem c. */
static uint32_t cfg_grp(const struct nvmf_cfg_subsys *c, uint32_t nsid)
{
	for (size_t k = 0; k < c->nr_namespaces; k++)
		if (c->namespaces[k].nsid == nsid)
			return c->namespaces[k].ana_grpid ? c->namespaces[k].ana_grpid : 1;
	return 1;
}

void nvmf_owner_claim(const struct nvmf_cfg *cfg, const struct nvmf_cfg_subsys *c,
		      const struct nvmf_subsys_view *v)
{
	for (uint32_t i = 0; v && i < v->nr_ns; i++) {
		struct nvmf_bdev *b = v->ns[i]->bdev;
		uint32_t grp = cfg_grp(c, v->ns[i]->nsid);
		char err[512];

		if (!b || !b->gateway || !b->ops->claim || nvmf_bdev_owned(b) ||
		    !owner_wanted(cfg, c->nqn, grp))
			continue;
		if (b->ops->claim(b, err, sizeof(err)) < 0)
			log_err("%s: namespace %u (ANA group %u): %s; the group stays inaccessible "
				"on this gateway", c->nqn, v->ns[i]->nsid, grp, err);
		else
			log_info("%s: namespace %u (ANA group %u): owned by this gateway", c->nqn,
				 v->ns[i]->nsid, grp);
	}
}

void nvmf_owner_release(const struct nvmf_cfg *cfg, const struct nvmf_cfg_subsys *c,
			const struct nvmf_subsys_view *v)
{
	for (uint32_t i = 0; v && i < v->nr_ns; i++) {
		struct nvmf_bdev *b = v->ns[i]->bdev;

		if (!b || !b->gateway || !b->ops->unclaim || !nvmf_bdev_owned(b) ||
		    owner_wanted(cfg, c->nqn, cfg_grp(c, v->ns[i]->nsid)))
			continue;
		b->ops->unclaim(b);
		log_info("%s: namespace %u: no longer owned by this gateway", c->nqn,
			 v->ns[i]->nsid);
	}
}

bool nvmf_owner_group_lost(const struct nvmf_subsys_view *v, uint32_t grp)
{
	for (uint32_t i = 0; v && i < v->nr_ns; i++)
		if (nvmf_ns_anagrpid(v->ns[i]) == grp && v->ns[i]->bdev &&
		    !nvmf_bdev_owned(v->ns[i]->bdev))
			return true;
	return false;
}
