/* The failover tests' multipath write job (mpath_job.h). */
#include "mpath_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

double job_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct nvmf_ctrl *job_connect(const char *port, const char *subnqn, const char *hostnqn,
			      const char *hostid, uint32_t *lbs)
{
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c = NULL;
	struct nvmf_ns_info ni;

	nvmf_ctrl_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port;
	o.subnqn = subnqn;
	o.hostnqn = hostnqn;
	o.hostid = hostid;
	o.reconnect_delay_s = 1;
	o.kato_ms = 2000;
	if (nvmf_ctrl_connect(&o, &c)) {
		fprintf(stderr, "connect %s: %s\n", port, nvmf_strerror_last());
		return NULL;
	}
	if (nvmf_ctrl_ns_info(c, 1, &ni)) {
		fprintf(stderr, "connect %s: no namespace 1\n", port);
		nvmf_ctrl_disconnect(c);
		return NULL;
	}
	*lbs = ni.block_size;
	return c;
}

void job_pattern(uint8_t *b, unsigned unit, uint32_t version)
{
	for (unsigned i = 0; i < JOB_BLK; i += 8) {
		uint64_t v = ((uint64_t)unit << 32 | version) * 0x9E3779B97F4A7C15ull + i;

		memcpy(b + i, &v, 8);
	}
}

static void write_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct job_slot *s = arg;
	struct job *j = s->j;
	double t = job_now();

	(void)cqe;
	s->busy = false;
	if (status) {
		j->errors++;
		fprintf(stderr, "write of unit %u failed: %d\n", s->unit, status);
		return;
	}
	j->version[s->unit] = s->version;
	j->done++;
	if (j->measure_gap && t - j->last_done > j->max_gap)
		j->max_gap = t - j->last_done;
	j->last_done = t;
}

void job_init(struct job *j, struct nvmf_mpath_queue *mq, unsigned units, uint32_t lbs,
	      unsigned io_flags)
{
	memset(j, 0, sizeof(*j));
	j->mq = mq;
	j->units = units <= JOB_MAX_UNITS ? units : JOB_MAX_UNITS;
	j->lbs = lbs;
	j->io_flags = io_flags;
	for (unsigned k = 0; k < JOB_QD; k++) {
		j->s[k].j = j;
		j->s[k].buf = aligned_alloc(4096, JOB_BLK);
	}
	j->last_done = job_now();
}

void job_submit(struct job *j)
{
	for (unsigned k = 0; k < JOB_QD; k++) {
		struct job_slot *s = &j->s[k];
		struct iovec iov;

		if (s->busy)
			continue;
		/*
		 * the slot's own count picks the unit: a job-wide one, with slots completing
		 * in order, kept each slot on a single unit
		 */
		s->unit = (s->round++ * JOB_QD + k) % j->units;
		s->version = j->version[s->unit] + 1;
		job_pattern(s->buf, s->unit, s->version);
		iov.iov_base = s->buf;
		iov.iov_len = JOB_BLK;
		if (nvmf_mpath_writev(j->mq, (uint64_t)s->unit * (JOB_BLK / j->lbs),
				      JOB_BLK / j->lbs, &iov, 1, j->io_flags, write_done, s) == 0)
			s->busy = true;
	}
}

void job_run(struct job *j, double seconds)
{
	double end = job_now() + seconds;

	while (job_now() < end) {
		job_submit(j);
		nvmf_mpath_queue_wait(j->mq, 10);
	}
}

bool job_drain(struct job *j)
{
	double end = job_now() + 30;
	bool busy = true;

	while (busy && job_now() < end) {
		nvmf_mpath_queue_wait(j->mq, 10);
		busy = false;
		for (unsigned k = 0; k < JOB_QD; k++)
			busy |= j->s[k].busy;
	}
	return !busy;
}

static void read_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)cqe;
	*(int *)arg = status;
}

int job_read(struct job *j, unsigned u, uint8_t *b)
{
	struct iovec iov = { b, JOB_BLK };
	int st = -EINPROGRESS;
	int rc = nvmf_mpath_readv(j->mq, (uint64_t)u * (JOB_BLK / j->lbs), JOB_BLK / j->lbs,
				  &iov, 1, read_done, &st);

	if (rc)
		return rc;
	while (st == -EINPROGRESS)
		nvmf_mpath_queue_wait(j->mq, 10);
	return st;
}

void job_fini(struct job *j)
{
	for (unsigned k = 0; k < JOB_QD; k++)
		free(j->s[k].buf);
}
