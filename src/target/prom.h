/*
 * Prometheus text exposition (format 0.0.4) of the target's statistics, and the small
 * HTTP/1.1 listener that serves it (`nvmf-target --metrics ADDR:PORT`).
 */
#ifndef NVMF_TARGET_PROM_H
#define NVMF_TARGET_PROM_H

#include <stddef.h>
#include <stdio.h>

struct json_object;
struct nvmf_tgt;

/*
 * Write the statistics object of nvmf_tgt_stats_json() as Prometheus text to f.  Names:
 *   nvmf_target_{commands,bytes,errors}_total, nvmf_target_queue_depth, and
 *   nvmf_target_connection_* per queue {subsystem, controller, queue};
 *   nvmf_target_{controller,subsystem,namespace}_{commands,bytes,errors}_total, their
 *   _depth (not namespaces) and _latency_seconds histograms (opcode read / write);
 *   nvmf_target_reactor_{busy,idle}_seconds_total, _wakeups_total, _loops_total,
 *   _events_total, _qpairs {reactor};
 *   nvmf_target_{termreqs_sent,termreqs_received,digest_errors}_total, uptime_seconds.
 * Histogram buckets are the log-linear ones merged to two a power of two (le = 2^k - 1 ns
 * and 1.5 * 2^k - 1 ns, the highest latency each holds: exact, no interpolation) from
 * 1 us to 17 s, then +Inf.
 */
void nvmf_prom_write(FILE *f, struct json_object *stats);

/* The listener.  ADDR:PORT ("127.0.0.1:9100", "[::1]:9100", ":9100" for any). */
struct nvmf_metrics;
/*
 * Bind and listen (so a bad address fails at start, before privileges are dropped), then
 * serve GET /metrics (and GET /stats: the JSON) from a thread of its own, one request at a
 * time, never touching a reactor.  NULL with the reason in err.
 */
struct nvmf_metrics *nvmf_metrics_start(struct nvmf_tgt *tgt, const char *addr, char *err,
					size_t errlen);
/* Stop the thread, close the socket (NULL: nothing). */
void nvmf_metrics_stop(struct nvmf_metrics *m);

#endif
