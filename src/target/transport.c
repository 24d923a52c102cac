/*
 * The transports the target can serve, by trtype.  A transport registers its ops table once
 * at start-up (nvmet's nvmet_register_transport); ports and queues then reach it only
 * through that table, so the core never names a transport.
 */
#include <errno.h>
#include <stddef.h>

#include "target/target.h"

/* TCP today; RDMA or loop would each add one. */
#define MAX_TRANSPORTS 4

/* Written before any reactor runs, read-only afterwards: no lock. */
static const struct nvmf_transport_ops *transports[MAX_TRANSPORTS];
static unsigned nr_transports;

int nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	const struct nvmf_transport_ops *cur = nvmf_transport_find(ops->trtype);

	if (cur)
		return cur == ops ? 0 : -EEXIST;
	if (nr_transports == MAX_TRANSPORTS)
		return -ENOSPC;
	transports[nr_transports++] = ops;
	return 0;
}

const struct nvmf_transport_ops *nvmf_transport_find(enum nvmf_cfg_trtype trtype)
{
	for (unsigned i = 0; i < nr_transports; i++)
		if (transports[i]->trtype == trtype)
			return transports[i];
	return NULL;
}

void nvmf_transport_for_each(void (*fn)(const struct nvmf_transport_ops *ops, void *arg),
			     void *arg)
{
	for (unsigned i = 0; i < nr_transports; i++)
		fn(transports[i], arg);
}
