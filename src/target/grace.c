/*
 * What a reload replaced (subsystem views, the subsystem list, old configurations, the
 * namespaces it retired; ports and subsystems it removed, once unused) is freed once every
 * reactor has passed a grace point: a message round trip through each.  Reactors read those pointers only within one loop iteration (a
 * command's parse and handler), never across one, so a reactor that ran a message posted
 * after the swap holds no old pointer any more (RCU's quiescent state, with messages as the
 * grace period).
 *
 * Namespaces are the exception: a command keeps its namespace from parse until its request
 * is back in the pool (backend I/O, RAM data sent from the namespace's memory), across
 * iterations.  Each reactor counts its own such commands per namespace (nvmf_req_set_ns);
 * the grace point of a batch with namespaces is passed only once the reactor's counts for
 * them are 0 -- until then it looks again every GRACE_RECHECK_NS.  No new command can find
 * a retired namespace after the swap, so the counts only go down.
 *
 * The batch is then freed by the thread that reloads (at the next reload, when the main
 * loop sweeps, or at exit), where it was allocated: reactors only count, and memory goes
 * back where the next reload takes it from.  Retired namespaces are flushed, then closed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

#define GRACE_RECHECK_NS (1000ull * 1000) /* 1 ms: commands of a file backend take that */

/* One reactor's grace point for a batch; a timer while its commands hold a namespace. */
struct grace_wait {
	struct nvmf_timer timer;
	struct nvmf_retired *r;
	struct nvmf_reactor *reactor;
};

struct nvmf_retired {
	struct nvmf_retired *next; /* tgt->retiring, under tgt->lock */
	atomic_uint left;        /* reactors that have not passed the grace point yet */
	struct nvmf_cfg **cfgs;  /* configurations replaced */
	size_t nr_cfgs;
	struct nvmf_ns **ns;     /* namespaces to close */
	size_t nr_ns;
	struct grace_wait *waits; /* one per started reactor */
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

int nvmf_retired_add(struct nvmf_retired *r, void *p)
{
	if (r->nr == r->max)
		return -ENOSPC;
	r->ptrs[r->nr++] = p;
	return 0;
}

int nvmf_retired_add_cfg(struct nvmf_retired *r, struct nvmf_cfg *cfg)
{
	struct nvmf_cfg **a = realloc(r->cfgs, (r->nr_cfgs + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	r->cfgs = a;
	r->cfgs[r->nr_cfgs++] = cfg;
	return 0;
}

int nvmf_retired_add_ns(struct nvmf_retired *r, struct nvmf_ns *ns)
{
	struct nvmf_ns **a = realloc(r->ns, (r->nr_ns + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	r->ns = a;
	r->ns[r->nr_ns++] = ns;
	return 0;
}

void nvmf_retired_free(struct nvmf_retired *r)
{
	for (size_t i = 0; i < r->nr_ns; i++) {
		struct nvmf_bdev *b = r->ns[i]->bdev;
		int rc = nvmf_bdev_flush(b);

		/* what a host had acknowledged is on stable storage before the file goes */
		if (rc)
			log_err("reload: %s: flush of a removed namespace: %s",
				b->path ? b->path : b->ops->name, strerror(-rc));
		log_debug("reload: namespace %u (%s) closed", r->ns[i]->nsid,
			  b->path ? b->path : b->ops->name);
		nvmf_tgt_close_ns(r->ns[i]);
	}
	free(r->ns);
	free(r->waits);
	for (size_t i = 0; i < r->nr; i++)
		free(r->ptrs[i]);
	for (size_t i = 0; i < r->nr_cfgs; i++)
		nvmf_cfg_free(r->cfgs[i]);
	free(r->cfgs);
	free(r);
}

/* On each reactor: the grace point, once no command of this reactor holds a namespace. */
static void grace_pass(void *arg)
{
	struct grace_wait *w = arg;
	struct nvmf_retired *r = w->r;

	for (size_t i = 0; i < r->nr_ns; i++) {
		if (!nvmf_ns_idle_on(r->ns[i], w->reactor->id)) {
			nvmf_timer_arm(w->reactor, &w->timer, GRACE_RECHECK_NS);
			return;
		}
	}
	atomic_fetch_sub_explicit(&r->left, 1, memory_order_release);
}

static void grace_recheck(struct nvmf_timer *t)
{
	grace_pass((struct grace_wait *)((char *)t - offsetof(struct grace_wait, timer)));
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
		nvmf_retired_free(r);
	}
}

bool nvmf_tgt_sweep_retired(struct nvmf_tgt *tgt)
{
	bool left = nvmf_tgt_reap_removed(tgt);

	sweep(tgt);
	pthread_mutex_lock(&tgt->lock);
	left |= tgt->retiring != NULL;
	pthread_mutex_unlock(&tgt->lock);
	return left;
}

void nvmf_tgt_retire(struct nvmf_tgt *tgt, struct nvmf_retired *r)
{
	unsigned n = tgt->nr_started;

	sweep(tgt);
	if (n == 0) {
		nvmf_retired_free(r);
		return;
	}
	r->waits = calloc(n, sizeof(*r->waits));
	atomic_init(&r->left, n);
	pthread_mutex_lock(&tgt->lock);
	r->next = tgt->retiring;
	tgt->retiring = r;
	pthread_mutex_unlock(&tgt->lock);
	if (!r->waits) {
		log_warn("reload: out of memory: replaced state kept until exit");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct grace_wait *w = &r->waits[i];

		w->r = r;
		w->reactor = &tgt->reactors[i];
		w->timer.fn = grace_recheck;
		/* a reactor that never hears of it keeps the batch until the target is freed */
		if (nvmf_reactor_call(w->reactor, grace_pass, w))
			log_warn("reload: reactor %u: out of memory: replaced state kept until exit",
				 i);
	}
}

void nvmf_tgt_free_retired(struct nvmf_tgt *tgt)
{
	while (tgt->retiring) {
		struct nvmf_retired *r = tgt->retiring;

		tgt->retiring = r->next;
		nvmf_retired_free(r);
	}
}
