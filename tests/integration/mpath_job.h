/*
 * A write job through libnvmf multipath, for the failover tests (test_mpath_host,
 * test_rbd_gateway): JOB_QD slots, slot k owning units k, k+JOB_QD, ... of the job's
 * units (4 KiB blocks) and walking them in turn, so two writes never touch one block at
 * once; each write carries a pattern of its unit and a version, and the job remembers the
 * last version acknowledged per unit — what every unit must read back as, whatever became
 * of the paths meanwhile.
 */
#ifndef NVMF_TEST_MPATH_JOB_H
#define NVMF_TEST_MPATH_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "nvmf/nvmf.h"

#define JOB_BLK 4096
#define JOB_QD 16
#define JOB_MAX_UNITS 1024

struct job;

struct job_slot {
	struct job *j;
	unsigned unit;
	unsigned round;                  /* writes this slot sent */
	uint32_t version;
	uint8_t *buf;
	bool busy;
};

struct job {
	struct nvmf_mpath_queue *mq;
	unsigned units;                  /* blocks written: 0 .. units - 1 */
	uint32_t lbs;                    /* the namespace's logical block size */
	unsigned io_flags;               /* on every write (e.g. NVMF_IO_FUA) */
	struct job_slot s[JOB_QD];
	uint32_t version[JOB_MAX_UNITS]; /* last version acknowledged per unit */
	uint64_t done, errors;
	/* the longest time without a completion while measure_gap is set (seconds) */
	double last_done, max_gap;
	bool measure_gap;
};

/*
 * A controller on 127.0.0.1:port as the failover tests connect (reconnect after 1 s, KATO
 * 2 s), *lbs set to namespace 1's block size: NULL after a message when it fails.
 */
struct nvmf_ctrl *job_connect(const char *port, const char *subnqn, const char *hostnqn,
			      const char *hostid, uint32_t *lbs);
double job_now(void);                           /* CLOCK_MONOTONIC, seconds */
void job_pattern(uint8_t *b, unsigned unit, uint32_t version);
void job_init(struct job *j, struct nvmf_mpath_queue *mq, unsigned units, uint32_t lbs,
	      unsigned io_flags);
void job_submit(struct job *j);                 /* every idle slot writes its next unit */
void job_run(struct job *j, double seconds);
bool job_drain(struct job *j);                  /* false: writes still out after 30 s */
/* Read unit u into b (JOB_BLK bytes) through the job's queue: 0 or the status. */
int job_read(struct job *j, unsigned u, uint8_t *b);
void job_fini(struct job *j);

#endif
