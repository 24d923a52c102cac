/*
 * Target statistics: what is counted on the I/O path, and the C API that reads it.
 *
 * Where counters live (all plain 64-bit words, one writer each):
 *   - each queue (struct nvmf_sq) has a struct nvmf_io_stats, written by the queue's reactor;
 *   - each namespace has one struct nvmf_io_stats per reactor (ns->stats[reactor id]),
 *     written by that reactor only;
 *   - each reactor counts its busy and idle time and wake-ups (event/reactor.h);
 *   - each queue counts its connection's TermReqs and digest errors (struct nvmf_conn_stats).
 * A controller is the sum of its queues plus the queues it lost (ctrl->retired), a
 * subsystem the sum of its controllers plus the controllers it lost (subsys->retired): a
 * queue or controller that goes folds its counters into its parent under tgt->lock, so
 * every total only grows (what Prometheus counters must do).
 *
 * Reading from another thread: the writer updates with a relaxed atomic store of (plain
 * load + n) -- not a locked read-modify-write: one writer needs none, and on x86-64 and
 * arm64 it is the same load/add/store as `c += n` -- and readers use relaxed atomic loads.
 * A reader never sees a torn value and the C11 memory model has no data race to punish; it
 * may see one counter of a command bumped and the next not yet (the skew is the commands
 * in flight), which a monitoring read can live with.  Asking each reactor to snapshot its
 * counters through its message queue would give exact cuts, but would make a scrape wait
 * for the busiest reactor's loop and allocate per reactor, for no gain in what a rate shows.
 * The structure (lists of controllers and queues) is walked under tgt->lock, which only
 * connect and teardown take, never the I/O path.
 */
#ifndef NVMF_TARGET_STATS_H
#define NVMF_TARGET_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/loglin.h"

struct nvmf_tgt;
struct nvmf_req;
struct json_object;

/*
 * Latency histograms: log-linear (util/loglin.h) in nanoseconds with 4 buckets per power
 * of two (each bucket within 25 % of its values; Prometheus gets two a power of two, at
 * bounds these nest in): 252 buckets, 2 KiB - 8 a power of two made an idle association
 * (admin + I/O queue + the controller's retired set) 20 KiB dearer.  Two per queue and
 * two per namespace and reactor.  Timed from the reactor's stamp of the iteration the
 * capsule came in to a clock read at completion, both in util/ticks.h's ticks (the TSC).
 */
#define NVMF_STATS_LAT_BITS 2
#define NVMF_STATS_LAT_BUCKETS LOGLIN_BUCKETS(NVMF_STATS_LAT_BITS)

enum nvmf_stats_op { NVMF_STATS_READ, NVMF_STATS_WRITE, NVMF_STATS_OTHER, NVMF_STATS_NR_OPS };

/* Distinct error statuses a counter set keeps apart; more go to errors_other. */
#define NVMF_STATS_ERR_SLOTS 8

struct nvmf_stats_hist {
	uint64_t sum_ns;
	uint64_t buckets[NVMF_STATS_LAT_BUCKETS];
};

struct nvmf_io_stats {
	uint64_t cmds[NVMF_STATS_NR_OPS];  /* commands completed, any status */
	uint64_t bytes[2];                  /* read, write: data moved by successful commands */
	uint64_t errors_other;              /* errors whose status found no free slot */
	struct {
		uint16_t status;                /* SCT and SC (NVME_STATUS_SCT_SC_MASK); 0: free */
		uint64_t count;
	} err[NVMF_STATS_ERR_SLOTS];
	struct nvmf_stats_hist lat[2];      /* read, write: capsule received -> completion */
};

/* Per connection (one per queue): written by the queue's reactor. */
struct nvmf_conn_stats {
	uint64_t termreq_sent, termreq_recv, hdgst_err, ddgst_err;
};

/* ---- writer side (the owning reactor only) ---- */

static inline void nvmf_stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline uint64_t nvmf_stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * Count one completed command: op, its status (the CQE's, 0 for success), the bytes it
 * moved (counted when it succeeded) and, for reads and writes, its latency.
 */
void nvmf_io_stats_count(struct nvmf_io_stats *s, enum nvmf_stats_op op, uint16_t status,
			 uint64_t bytes, uint64_t lat_ns);

/* The request has completed with status: count it in its queue and namespace (core.c). */
void nvmf_stats_req_done(struct nvmf_req *req, uint16_t status);

/* A namespace's per-reactor counters (ns->stats), zeroed: 0 or -ENOMEM.  free() them. */
struct nvmf_ns;
int nvmf_ns_stats_alloc(struct nvmf_ns *ns, unsigned nr_reactors);

/* ---- reader side (any thread) ---- */

/* dst += src, src read with relaxed loads (dst owned by the caller or under tgt->lock). */
void nvmf_io_stats_fold(struct nvmf_io_stats *dst, const struct nvmf_io_stats *src);
void nvmf_conn_stats_fold(struct nvmf_conn_stats *dst, const struct nvmf_conn_stats *src);
uint64_t nvmf_stats_hist_count(const struct nvmf_stats_hist *h);

/*
 * The whole target's statistics as one json-c object (the caller owns the reference), or
 * NULL when out of memory.  This is what nvmf_get_stats (JSON-RPC) and the Prometheus
 * exposition both start from.  Shape (counters are totals since start; times in ns):
 *
 * {
 *   "uptime_ns": N,
 *   "reactors": [ { "id": 0, "busy_ns": N, "idle_ns": N, "wakeups": N, "loops": N,
 *                   "events": N, "admin_qpairs": N, "io_qpairs": N,
 *                   "completed_io": N } ],          qpairs: live now; completed_io: reads,
 *                                                   writes, other I/O on this reactor
 *   "connections": { "termreqs_sent": N, "termreqs_received": N,
 *                    "header_digest_errors": N, "data_digest_errors": N },  every
 *                                                   connection, live and closed
 *   "subsystems": [ {
 *       "nqn": "...", "io": IO,
 *       "namespaces": [ { "nsid": 1, "io": IO } ],  namespaces of the configuration in
 *                                                   force; I/O of every reactor
 *       "controllers": [ { "cntlid": 1, "hostnqn": "...", "io": IO,
 *           "queues": [ { "qid": 0, "reactor": 0, "depth": N, "io": IO,
 *                         "connection": { ...as "connections" above... } } ] } ] } ]
 * }
 * IO = { "commands": { "read": N, "write": N, "other": N },
 *        "bytes": { "read": N, "write": N },
 *        "errors": [ { "sct": N, "sc": N, "count": N } ], "errors_other": N,
 *        "depth": N,                                (controllers and subsystems: commands
 *                                                   outstanding in their live queues)
 *        "latency": { "read": HIST, "write": HIST } }
 * HIST = { "count": N, "sum_ns": N, "buckets": [ [ HIGH_NS, N ], ... ] }: the non-empty
 *        log-linear buckets in ascending order, each with the highest latency it holds
 *        (inclusive) and how many commands fell in it (not cumulative).
 * depth: commands a queue holds (received, not yet answered and freed), AERs included.
 * Admin commands count as "other" of queue 0; namespaces see I/O commands only.
 */
struct json_object *nvmf_tgt_stats_json(struct nvmf_tgt *tgt);

#endif
