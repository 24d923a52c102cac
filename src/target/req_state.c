/*
 * The request state machine's rules: which moves are legal, and the per-queue counts that
 * every move keeps (the figures stats will report; a leak shows as a count that never
 * returns to FREE).
 */
#include <assert.h>

#include "target/target.h"

/*
 * from -> to.  Anything else is a transport bug: caught by assert in debug builds (every
 * test runs one), counted as asked in release builds so the counts stay consistent.
 */
static const bool allowed[NVMF_REQ_NR_STATES][NVMF_REQ_NR_STATES] = {
	[NVMF_REQ_FREE][NVMF_REQ_NEW] = true,
	/* a capsule either executes, waits for buffers, asks for its data, or fails at once
	 * (parse error, digest error); a queue that closes drops it */
	[NVMF_REQ_NEW][NVMF_REQ_NEED_BUFFER] = true,
	[NVMF_REQ_NEW][NVMF_REQ_TRANSFER_H2C] = true,
	[NVMF_REQ_NEW][NVMF_REQ_EXECUTING] = true,
	[NVMF_REQ_NEW][NVMF_REQ_RESPONDING] = true,
	[NVMF_REQ_NEW][NVMF_REQ_FREE] = true,
	/* buffers came: ask for the data; or the R2T could not be built; or the queue closed */
	[NVMF_REQ_NEED_BUFFER][NVMF_REQ_TRANSFER_H2C] = true,
	[NVMF_REQ_NEED_BUFFER][NVMF_REQ_RESPONDING] = true,
	[NVMF_REQ_NEED_BUFFER][NVMF_REQ_FREE] = true,
	[NVMF_REQ_TRANSFER_H2C][NVMF_REQ_EXECUTING] = true,
	[NVMF_REQ_TRANSFER_H2C][NVMF_REQ_FREE] = true,
	[NVMF_REQ_EXECUTING][NVMF_REQ_RESPONDING] = true,
	/* an AER parked in the controller, let go when its queue closes */
	[NVMF_REQ_EXECUTING][NVMF_REQ_FREE] = true,
	[NVMF_REQ_RESPONDING][NVMF_REQ_FREE] = true,
};

static const char *const names[NVMF_REQ_NR_STATES] = {
	[NVMF_REQ_FREE] = "free",
	[NVMF_REQ_NEW] = "new",
	[NVMF_REQ_NEED_BUFFER] = "need-buffer",
	[NVMF_REQ_TRANSFER_H2C] = "transfer-h2c",
	[NVMF_REQ_EXECUTING] = "executing",
	[NVMF_REQ_RESPONDING] = "responding",
};

bool nvmf_req_state_allowed(enum nvmf_req_state from, enum nvmf_req_state to)
{
	return from < NVMF_REQ_NR_STATES && to < NVMF_REQ_NR_STATES && allowed[from][to];
}

void nvmf_req_set_state(struct nvmf_req_state_counts *c, enum nvmf_req_state *state,
			enum nvmf_req_state to)
{
	assert(nvmf_req_state_allowed(*state, to));
	assert(c->n[*state] > 0);
	/* relaxed stores: the statistics read the counts from another thread (stats.h) */
	__atomic_store_n(&c->n[*state], c->n[*state] - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->n[to], c->n[to] + 1, __ATOMIC_RELAXED);
	*state = to;
}

const char *nvmf_req_state_name(enum nvmf_req_state s)
{
	return s < NVMF_REQ_NR_STATES ? names[s] : "?";
}
