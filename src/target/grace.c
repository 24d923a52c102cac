/*
 * What a reload replaced (subsystem views, the subsystem list, the old configuration) is
 * freed once every reactor has passed a grace point: a message round trip through each.
 * Reactors read those pointers only within one loop iteration (a command's parse and
 * handler), never across one, so a reactor that ran a message posted after the swap holds
 * no old pointer any more (RCU's quiescent state, with messages as the grace period).
 * The batch is then freed by the next reload (or at exit), on the thread that allocated
 * it: reactors only count, and memory goes back where the next reload takes it from.
 */
#include <stdlib.h>

#include "target/target.h"
#include "util/log.h"

struct nvmf_retired {
	struct nvmf_retired *next; /* tgt->retiring, under tgt->lock */
	atomic_uint left;        /* reactors that have not passed the grace point yet */
	struct nvmf_cfg *cfg;    /* NULL: none */
	size_t nr, max;
	void *ptrs[];
};

struct nvmf_retired *nvmf_retired_new(size_t max)
{
	struct nvmf_retired *r = calloc(1, sizeof(*r) + max * sizeof(r->ptrs[0]));

	if (r)
		r->max = max;
	return r;
}

void nvmf_retired_add(struct nvmf_retired *r, void *p)
{
	if (r->nr < r->max)
		r->ptrs[r->nr++] = p;
}

void nvmf_retired_add_cfg(struct nvmf_retired *r, struct nvmf_cfg *cfg)
{
	r->cfg = cfg;
}

static void retired_free(struct nvmf_retired *r)
{
	for (size_t i = 0; i < r->nr; i++)
		free(r->ptrs[i]);
	nvmf_cfg_free(r->cfg);
	free(r);
}

/* On each reactor: the grace point. */
static void grace_pass(void *arg)
{
	struct nvmf_retired *r = arg;

	atomic_fetch_sub_explicit(&r->left, 1, memory_order_release);
}

/* Free the batches every reactor has passed (the reload thread). */
static void sweep(struct nvmf_tgt *tgt)
{
	struct nvmf_retired *done = NULL;

	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_retired **pp = &tgt->retiring; *pp;) {
		struct nvmf_retired *r = *pp;

		if (atomic_load_explicit(&r->left, memory_order_acquire) == 0) {
			*pp = r->next;
			r->next = done;
			done = r;
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&tgt->lock);
	while (done) {
		struct nvmf_retired *r = done;

		done = r->next;
		retired_free(r);
	}
}

void nvmf_tgt_retire(struct nvmf_tgt *tgt, struct nvmf_retired *r)
{
	unsigned n = tgt->nr_started;

	sweep(tgt);
	if (n == 0) {
		retired_free(r);
		return;
	}
	atomic_init(&r->left, n);
	pthread_mutex_lock(&tgt->lock);
	r->next = tgt->retiring;
	tgt->retiring = r;
	pthread_mutex_unlock(&tgt->lock);
	for (unsigned i = 0; i < n; i++) {
		/* a reactor that never hears of it keeps the batch until the target is freed */
		if (nvmf_reactor_call(&tgt->reactors[i], grace_pass, r))
			log_warn("reload: reactor %u: out of memory: replaced state kept until exit",
				 i);
	}
}

void nvmf_tgt_free_retired(struct nvmf_tgt *tgt)
{
	while (tgt->retiring) {
		struct nvmf_retired *r = tgt->retiring;

		tgt->retiring = r->next;
		retired_free(r);
	}
}
