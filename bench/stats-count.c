/*
 * What counting one completed command costs the reactor: nvmf_stats_req_done() (the hook
 * in nvmf_req_complete(): the queue's counters, the namespace's per-reactor counters, a
 * clock read for the latency) against what the target did before the statistics (two
 * atomic fetch-adds per read: commands and bytes), in a tight loop on one thread.  A
 * loop's cache is warmer than a target's, so read this as the floor of the cost; the
 * end-to-end figure is bench/stats-cost.sh's.  Built and run by hand:
 *
 *   gcc -O2 -D_GNU_SOURCE -I src -I include bench/stats-count.c -o /tmp/stats-count \
 *       -Wl,--start-group build/src/target/libnvmf-target.a build/src/event/libnvmf-event.a \
 *       build/src/util/libnvmf-util.a build/src/proto/libnvmf-proto.a \
 *       build/src/conn/libnvmf-conn.a build/src/backend/libnvmf-backend.a \
 *       build/src/target/libnvmf-target-config.a build/src/auth/libnvmf-auth.a \
 *       -Wl,--end-group -lisal -lssl -lcrypto -luring -ljson-c -lpthread
 *   /tmp/stats-count
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "target/target.h"
#include "util/ticks.h"

#define N 20000000u

int main(void)
{
	static struct nvmf_reactor reactor;
	static struct nvmf_tgt tgt;
	struct nvmf_ns ns = { .nsid = 1 };
	struct nvmf_sq *sq = calloc(1, sizeof(*sq));
	struct nvmf_req req = { 0 };
	atomic_uint_fast64_t old_cmds = 0, old_bytes = 0;
	uint64_t t0, t1, t2, t3;

	tgt.nr_reactors = 1;
	tgt.reactor_io = aligned_alloc(64, sizeof(*tgt.reactor_io));
	if (!sq || !tgt.reactor_io || nvmf_ns_stats_alloc(&ns, 1))
		return 1;
	sq->tgt = &tgt;
	sq->reactor = &reactor;
	sq->qid = 1;
	req.sq = sq;
	req.ns = &ns;
	req.cmd.opcode = NVME_NVM_READ;
	req.xfer_len = 4096;

	nvmf_ticks_init();
	printf("latency clock: %s\n", nvmf_ticks_tsc ? "TSC" : "CLOCK_MONOTONIC");
	t0 = nvmf_now_ns();
	for (unsigned i = 0; i < N; i++) {
		req.start_ticks = 0;
		nvmf_stats_req_done(&req, 0);
		__asm__ volatile("" ::: "memory");
	}
	t1 = nvmf_now_ns();
	for (unsigned i = 0; i < N; i++) {
		atomic_fetch_add_explicit(&old_cmds, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&old_bytes, 4096, memory_order_relaxed);
		__asm__ volatile("" ::: "memory");
	}
	t2 = nvmf_now_ns();
	for (unsigned i = 0; i < N; i++) {
		(void)nvmf_ticks();
		__asm__ volatile("" ::: "memory");
	}
	t3 = nvmf_now_ns();
	printf("statistics per completed read: %.1f ns (of which the latency clock %.1f ns); "
	       "before (2 atomic adds): %.1f ns\n", (double)(t1 - t0) / N, (double)(t3 - t2) / N,
	       (double)(t2 - t1) / N);
	printf("check: %llu reads counted\n",
	       (unsigned long long)sq->stats.cmds[NVMF_STATS_READ]);
	free(ns.stats);
	free(sq);
	free(tgt.reactor_io);
	return 0;
}
