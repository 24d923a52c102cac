/*
 * nvmf-target end to end, spoken to by a test host built on the protocol library: Connect,
 * properties, admin and I/O commands, in-capsule and R2T writes, reads, digests, many
 * queues, discovery, keep-alive expiry, host access control, and malformed PDUs: one of each
 * class of the C2HTermReq figure, answered with the spec's FES, FEI and echoed header, the
 * connection closed and another connection working on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tclient.h"
#include "target_proc.h"

#define NQN "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
#define ADDR "127.0.0.1"
#define RAM_BLOCKS (64u * 1024 * 1024 / 512)

static struct target_proc T;

static int group_setup(void **state)
{
	char listen[64];
	const char *argv[] = { "--ram", "64M", "--listen", listen, "--cpus", "2", NULL };

	(void)state;
	snprintf(listen, sizeof(listen), "%s:%u", ADDR, tp_free_port());
	return tp_start(&T, (uint16_t)atoi(strchr(listen, ':') + 1), argv);
}

static int group_teardown(void **state)
{
	(void)state;
	/* a clean SIGTERM shutdown is part of the contract: exit status 0 */
	return tp_stop(&T) == 0 ? 0 : -1;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

/* An admin queue and one I/O queue on the shared target. */
struct session {
	struct tclient admin, io;
};

static void session_open(struct session *s, bool hd, bool dd)
{
	assert_int_equal(tc_admin_setup(&s->admin, ADDR, T.port, NQN, hd, dd), 0);
	assert_int_equal(tc_io_setup(&s->io, ADDR, T.port, NQN, s->admin.cntlid, 1, hd, dd), 0);
}

static void session_close(struct session *s)
{
	tc_close(&s->io);
	tc_close(&s->admin);
}

static uint16_t admin_cmd(struct tclient *c, struct nvme_sqe *sqe, void *buf, uint32_t len,
			  bool write, struct nvme_cqe *cqe)
{
	struct nvme_cqe tmp;

	assert_int_equal(tc_cmd(c, sqe, buf, len, write, cqe ? cqe : &tmp), 0);
	return le16toh((cqe ? cqe : &tmp)->status) & ~1u;
}

/* ------------------------------------------------------------------ tests */

static void connect_and_properties(void **state)
{
	struct tclient c;
	struct nvme_cqe cqe;
	uint64_t v;

	(void)state;
	assert_int_equal(tc_open(&c, ADDR, T.port, false, false), 0);
	assert_int_equal(c.maxh2cdata % 4, 0);
	/* commands before Connect: sequence error */
	assert_int_not_equal(tc_prop_get(&c, NVME_REG_CAP, true, &v), 0);
	assert_int_equal(tc_connect(&c, 0, 31, NQN, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe), 0);
	assert_true(c.cntlid >= 1 && c.cntlid <= 0xFFEF);
	assert_int_equal(tc_prop_get(&c, NVME_REG_CAP, true, &v), 0);
	assert_int_equal(v & 0xFFFF, 1023);                 /* MQES */
	assert_true(v & NVME_CAP_BIT_CSS_NVM);
	assert_int_equal(tc_prop_get(&c, NVME_REG_VS, false, &v), 0);
	assert_int_equal(v, 0x020100);
	assert_int_equal(tc_prop_get(&c, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v & NVME_CSTS_RDY, 0);
	/* admin commands before CC.EN: sequence error */
	{
		uint8_t id[4096];
		uint16_t st;

		assert_int_equal(tc_identify(&c, NVME_CNS_CTRL, 0, 0, id, &st), 0);
		assert_int_equal(nvme_status_sc(st), NVME_SC_CMD_SEQ_ERROR);
	}
	assert_int_equal(tc_enable(&c), 0);
	/* unsupported property and size: invalid field */
	assert_int_equal(nvme_status_sc((uint16_t)tc_prop_get(&c, 0x30, false, &v)),
			 NVME_SC_INVALID_FIELD);
	assert_int_equal(nvme_status_sc((uint16_t)tc_prop_set(&c, NVME_REG_CSTS, 1)),
			 NVME_SC_INVALID_FIELD);
	/* shutdown notification completes at once */
	assert_int_equal(tc_prop_set(&c, NVME_REG_CC,
				     NVME_CC_EN | (1u << NVME_CC_SHN_SHIFT) |
					     (6u << NVME_CC_IOSQES_SHIFT) |
					     (4u << NVME_CC_IOCQES_SHIFT)),
			 0);
	assert_int_equal(tc_prop_get(&c, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal((v >> NVME_CSTS_SHST_SHIFT) & 3, 2);
	/* disable: not ready any more */
	assert_int_equal(tc_prop_set(&c, NVME_REG_CC, 0), 0);
	assert_int_equal(tc_prop_get(&c, NVME_REG_CSTS, false, &v), 0);
	assert_int_equal(v & NVME_CSTS_RDY, 0);
	tc_close(&c);
}

static void connect_errors(void **state)
{
	struct tclient c;
	struct nvme_cqe cqe;
	int st;

	(void)state;
	assert_int_equal(tc_open(&c, ADDR, T.port, false, false), 0);
	st = tc_connect(&c, 0, 31, "nqn.2014-08.org.example:nope", TC_HOSTNQN, 0xFFFF, 0, 0, &cqe);
	assert_int_equal(nvme_status_sct((uint16_t)st), NVME_SCT_CMD_SPECIFIC);
	assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
	/* IATTR: in the data; IPO: offset of SUBNQN */
	assert_int_equal(le32toh(cqe.dw0), (1u << 16) | 256);
	/* I/O queue for a controller that does not exist */
	st = tc_connect(&c, 1, 31, NQN, TC_HOSTNQN, 0x4242, 0, 0, &cqe);
	assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(le32toh(cqe.dw0), (1u << 16) | 16);
	/* an I/O queue whose host ID is not the admin queue's */
	{
		struct tclient a;

		assert_int_equal(tc_admin_setup(&a, ADDR, T.port, NQN, false, false), 0);
		c.hostid_byte = 0x77;
		st = tc_connect(&c, 1, 31, NQN, TC_HOSTNQN, a.cntlid, 0, 0, &cqe);
		assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
		assert_int_equal(le32toh(cqe.dw0), (1u << 16) | 0);
		c.hostid_byte = 0;
		tc_close(&a);
	}
	/* sqsize 0 */
	st = tc_connect(&c, 0, 0, NQN, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe);
	assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
	assert_int_equal(le32toh(cqe.dw0), 44);
	tc_close(&c);
}

static void identify(void **state)
{
	struct session s;
	uint8_t buf[4096];
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)buf;
	struct nvme_id_ns *ns = (struct nvme_id_ns *)buf;
	uint16_t st;

	(void)state;
	session_open(&s, false, false);
	assert_int_equal(tc_identify(&s.admin, NVME_CNS_CTRL, 0, 0, buf, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_equal(id->mn, "Linux ", 6);
	assert_int_equal(id->cntrltype, 1);
	assert_int_equal(le16toh(id->cntlid), s.admin.cntlid);
	assert_int_equal(le32toh(id->ioccsz), (64 + 16384) / 16);
	assert_string_equal(id->subnqn, NQN);
	assert_int_equal(tc_identify(&s.admin, NVME_CNS_NS, 1, 0, buf, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(le64toh(ns->nsze), RAM_BLOCKS);
	assert_int_equal(tc_identify(&s.admin, NVME_CNS_NS, 2, 0, buf, &st), 0);
	assert_int_equal(st, 0); /* inactive NSID: zeroed data */
	assert_int_equal(le64toh(ns->nsze), 0);
	assert_int_equal(tc_identify(&s.admin, NVME_CNS_ACTIVE_NS_LIST, 0, 0, buf, &st), 0);
	assert_int_equal(le32toh(((uint32_t *)buf)[0]), 1);
	assert_int_equal(le32toh(((uint32_t *)buf)[1]), 0);
	assert_int_equal(tc_identify(&s.admin, 0x55, 0, 0, buf, &st), 0);
	assert_int_equal(nvme_status_sc(st), NVME_SC_INVALID_FIELD);
	session_close(&s);
}

/* Write then read back through in-capsule data, R2T and the largest transfer. */
static void rw_roundtrip(bool hd, bool dd)
{
	static const uint32_t sizes[] = { 512, 4096, 16384, 16896, 65536, 131072 + 512,
					  1024 * 1024 };
	struct session s;
	uint8_t *w = malloc(1 << 20), *r = malloc(1 << 20);
	uint16_t st;

	session_open(&s, hd, dd);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t len = sizes[i];
		uint64_t slba = 1000 + i * 4096;

		fill(w, len, (uint32_t)(i + 17 * hd + 31 * dd));
		memset(r, 0, len);
		assert_int_equal(tc_rw(&s.io, true, 1, slba, len / 512, w, len, i == 2, &st), 0);
		assert_int_equal(st, 0);
		assert_int_equal(tc_rw(&s.io, false, 1, slba, len / 512, r, len, false, &st), 0);
		assert_int_equal(st, 0);
		assert_memory_equal(w, r, len);
	}
	session_close(&s);
	free(w);
	free(r);
}

static void rw_plain(void **state)
{
	(void)state;
	rw_roundtrip(false, false);
}

static void rw_digests(void **state)
{
	(void)state;
	rw_roundtrip(true, true);
	rw_roundtrip(true, false);
}

static void io_errors(void **state)
{
	struct session s;
	uint8_t buf[4096];
	struct nvme_sqe sqe;
	uint16_t st;

	(void)state;
	session_open(&s, false, false);
	assert_int_equal(tc_rw(&s.io, false, 1, RAM_BLOCKS - 4, 8, buf, 4096, false, &st), 0);
	assert_int_equal(nvme_status_sc(st), NVME_SC_LBA_OUT_OF_RANGE);
	assert_true(st & NVME_STATUS_DNR);
	assert_int_equal(tc_rw(&s.io, false, 9, 0, 8, buf, 4096, false, &st), 0);
	assert_int_equal(nvme_status_sc(st), NVME_SC_INVALID_NS_OR_FORMAT);
	tc_sqe(&sqe, 0x7E, 1);
	assert_int_equal(nvme_status_sc(admin_cmd(&s.io, &sqe, NULL, 0, false, NULL)),
			 NVME_SC_INVALID_OPCODE);
	/* the SGL length disagrees with NLB */
	assert_int_equal(tc_rw(&s.io, true, 1, 0, 8, buf, 2048, false, &st), 0);
	assert_int_equal(nvme_status_sc(st), NVME_SC_DATA_SGL_LEN_INVALID);
	/* the failures are in the error log, newest first */
	{
		uint8_t log[64];

		tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
		sqe.cdw10 = htole32(NVME_LID_ERROR | ((64 / 4 - 1) << 16));
		assert_int_equal(admin_cmd(&s.admin, &sqe, log, sizeof(log), false, NULL), 0);
		assert_true(le64toh(*(uint64_t *)log) >= 4); /* error count */
	}
	session_close(&s);
}

static void flush_zeroes_dsm_compare(void **state)
{
	struct session s;
	uint8_t w[8192], r[8192];
	struct nvme_sqe sqe;
	struct nvme_dsm_range range;
	uint16_t st;

	(void)state;
	session_open(&s, false, false);
	fill(w, sizeof(w), 7);
	assert_int_equal(tc_rw(&s.io, true, 1, 50000, 16, w, sizeof(w), false, &st), 0);
	tc_sqe(&sqe, NVME_NVM_FLUSH, 1);
	assert_int_equal(admin_cmd(&s.io, &sqe, NULL, 0, false, NULL), 0);
	/* compare: equal, then different */
	tc_sqe(&sqe, NVME_NVM_COMPARE, 1);
	sqe.cdw10 = htole32(50000);
	sqe.cdw12 = htole32(15);
	assert_int_equal(admin_cmd(&s.io, &sqe, w, sizeof(w), true, NULL), 0);
	w[100] ^= 1;
	tc_sqe(&sqe, NVME_NVM_COMPARE, 1);
	sqe.cdw10 = htole32(50000);
	sqe.cdw12 = htole32(15);
	st = admin_cmd(&s.io, &sqe, w, sizeof(w), true, NULL);
	assert_int_equal(nvme_status_sct(st), NVME_SCT_MEDIA);
	assert_int_equal(nvme_status_sc(st), NVME_SC_COMPARE_FAILURE);
	/* write zeroes over the first 8 blocks */
	tc_sqe(&sqe, NVME_NVM_WRITE_ZEROES, 1);
	sqe.cdw10 = htole32(50000);
	sqe.cdw12 = htole32(7);
	assert_int_equal(admin_cmd(&s.io, &sqe, NULL, 0, false, NULL), 0);
	assert_int_equal(tc_rw(&s.io, false, 1, 50000, 16, r, sizeof(r), false, &st), 0);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(r[i], 0);
	w[100] ^= 1;
	assert_memory_equal(r + 4096, w + 4096, 4096);
	/* deallocate the other 8: RAM reads zeroes afterwards */
	memset(&range, 0, sizeof(range));
	range.slba = htole64(50008);
	range.nlb = htole32(8);
	tc_sqe(&sqe, NVME_NVM_DSM, 1);
	sqe.cdw10 = htole32(0);
	sqe.cdw11 = htole32(1u << 2);
	assert_int_equal(admin_cmd(&s.io, &sqe, &range, sizeof(range), true, NULL), 0);
	assert_int_equal(tc_rw(&s.io, false, 1, 50000, 16, r, sizeof(r), false, &st), 0);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(r[i], 0);
	/* the Linux host: NR = 0 (one range) in a 4 KiB payload (NVME_DSM_MAX_RANGES ranges) */
	assert_int_equal(tc_rw(&s.io, true, 1, 50000, 16, w, sizeof(w), false, &st), 0);
	memset(r, 0, 4096);
	range.slba = htole64(50000);
	range.nlb = htole32(16);
	memcpy(r, &range, sizeof(range));
	tc_sqe(&sqe, NVME_NVM_DSM, 1);
	sqe.cdw11 = htole32(1u << 2);
	assert_int_equal(admin_cmd(&s.io, &sqe, r, 4096, true, NULL), 0);
	assert_int_equal(tc_rw(&s.io, false, 1, 50000, 16, r, sizeof(r), false, &st), 0);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(r[i], 0);
	/* a payload shorter than NR + 1 ranges */
	tc_sqe(&sqe, NVME_NVM_DSM, 1);
	sqe.cdw10 = htole32(1);
	sqe.cdw11 = htole32(1u << 2);
	assert_int_equal(nvme_status_sc(admin_cmd(&s.io, &sqe, &range, sizeof(range), true, NULL)),
			 NVME_SC_DATA_SGL_LEN_INVALID);
	/* a range past the end */
	range.slba = htole64(RAM_BLOCKS - 1);
	range.nlb = htole32(2);
	tc_sqe(&sqe, NVME_NVM_DSM, 1);
	sqe.cdw11 = htole32(1u << 2);
	assert_int_equal(nvme_status_sc(admin_cmd(&s.io, &sqe, &range, sizeof(range), true, NULL)),
			 NVME_SC_LBA_OUT_OF_RANGE);
	session_close(&s);
}

static void smart_counts_io(void **state)
{
	struct session s;
	uint8_t buf[4096], log[512];
	struct nvme_sqe sqe;
	uint16_t st;

	(void)state;
	session_open(&s, false, false);
	for (int i = 0; i < 10; i++)
		assert_int_equal(tc_rw(&s.io, true, 1, 0, 8, buf, 4096, false, &st), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tc_rw(&s.io, false, 1, 0, 8, buf, 4096, false, &st), 0);
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0xFFFFFFFF);
	sqe.cdw10 = htole32(NVME_LID_SMART | ((512 / 4 - 1) << 16));
	assert_int_equal(admin_cmd(&s.admin, &sqe, log, sizeof(log), false, NULL), 0);
	assert_int_equal(le64toh(*(uint64_t *)(log + 64)), 3);  /* host read commands */
	assert_int_equal(le64toh(*(uint64_t *)(log + 80)), 10); /* host write commands */
	assert_int_equal(le64toh(*(uint64_t *)(log + 48)), 1);  /* data units written, rounded up */
	session_close(&s);
}

struct worker {
	uint16_t cntlid, qid;
	int errors;
	int first_rc;      /* first failure: -errno, NVMe status, or 1 for a data mismatch */
};

static void worker_fail(struct worker *wk, int rc)
{
	if (!wk->errors++)
		wk->first_rc = rc;
}

static void *queue_worker(void *arg)
{
	struct worker *wk = arg;
	struct tclient c;
	uint8_t w[32768], r[32768];
	uint16_t st;

	int rc = tc_io_setup(&c, ADDR, T.port, NQN, wk->cntlid, wk->qid, wk->qid & 1, wk->qid & 2);

	if (rc) {
		worker_fail(wk, rc);
		return NULL;
	}
	for (int i = 0; i < 50; i++) {
		uint64_t slba = 60000 + wk->qid * 1000 + (uint64_t)(i % 10) * 64;

		fill(w, sizeof(w), wk->qid * 100u + (uint32_t)i);
		rc = tc_rw(&c, true, 1, slba, 64, w, sizeof(w), false, &st);
		if (!rc && st)
			rc = st;
		if (!rc)
			rc = tc_rw(&c, false, 1, slba, 64, r, sizeof(r), false, &st);
		if (!rc && st)
			rc = st;
		if (!rc && memcmp(w, r, sizeof(w)) != 0)
			rc = 1;
		if (rc)
			worker_fail(wk, rc);
	}
	tc_close(&c);
	return NULL;
}

static void many_queues(void **state)
{
	struct tclient admin;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	struct worker wk[8];
	pthread_t th[8];

	(void)state;
	assert_int_equal(tc_admin_setup(&admin, ADDR, T.port, NQN, false, false), 0);
	tc_sqe(&sqe, NVME_ADM_SET_FEATURES, 0);
	sqe.cdw10 = htole32(NVME_FID_NUM_QUEUES);
	sqe.cdw11 = htole32((7u << 16) | 7u);
	assert_int_equal(admin_cmd(&admin, &sqe, NULL, 0, false, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), (7u << 16) | 7u);
	for (int i = 0; i < 8; i++) {
		wk[i] = (struct worker){ admin.cntlid, (uint16_t)(i + 1), 0, 0 };
		pthread_create(&th[i], NULL, queue_worker, &wk[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 8; i++) {
		if (wk[i].errors)
			fprintf(stderr, "queue %u: %d errors, first %d\n", wk[i].qid, wk[i].errors,
				wk[i].first_rc);
		assert_int_equal(wk[i].errors, 0);
	}
	/* a ninth queue is beyond what was granted */
	{
		struct tclient c;
		int st;

		assert_int_equal(tc_open(&c, ADDR, T.port, false, false), 0);
		st = tc_connect(&c, 9, 31, NQN, TC_HOSTNQN, admin.cntlid, 0, 0, &cqe);
		assert_int_equal(nvme_status_sc((uint16_t)st), NVMF_SC_CONNECT_INVALID_PARAM);
		tc_close(&c);
	}
	tc_close(&admin);
}

static void sqflow_disabled_success(void **state)
{
	struct tclient admin, io;
	struct nvme_cqe cqe;
	uint8_t buf[8192];
	uint16_t st;

	(void)state;
	assert_int_equal(tc_admin_setup(&admin, ADDR, T.port, NQN, false, false), 0);
	assert_int_equal(tc_open(&io, ADDR, T.port, false, false), 0);
	assert_int_equal(tc_connect(&io, 1, 63, NQN, TC_HOSTNQN, admin.cntlid, 0,
				    NVMF_CONNECT_CATTR_DISABLE_SQFLOW, &cqe), 0);
	assert_int_equal(le16toh(cqe.sqhd), 0);
	io.icd_max = 16384;
	assert_int_equal(tc_rw(&io, false, 1, 0, 16, buf, sizeof(buf), false, &st), 0);
	assert_int_equal(st, 0);
	/* the read ended with C2HData SUCCESS and no response capsule */
	assert_int_equal(io.last.type, NVME_TCP_C2H_DATA);
	assert_true(io.last.hdr.ch.flags & NVME_TCP_F_DATA_SUCCESS);
	tc_close(&io);
	tc_close(&admin);
}

static void discovery(void **state)
{
	struct tclient c;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint8_t log[3072];
	const struct nvmf_disc_log_hdr *h = (const void *)log;
	const struct nvmf_disc_log_entry *e = (const void *)(log + 1024);

	(void)state;
	assert_int_equal(tc_open(&c, ADDR, T.port, false, false), 0);
	assert_int_equal(tc_connect(&c, 0, 31, NVMF_DISCOVERY_NQN, TC_HOSTNQN, 0xFFFF, 0, 0, &cqe),
			 0);
	assert_int_equal(tc_enable(&c), 0);
	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, 0);
	sqe.cdw10 = htole32(0x70 | ((sizeof(log) / 4 - 1) << 16));
	assert_int_equal(admin_cmd(&c, &sqe, log, sizeof(log), false, NULL), 0);
	assert_int_equal(le64toh(h->numrec), 2);
	assert_int_equal(e[0].subtype, 3); /* the current discovery subsystem */
	assert_int_equal(e[1].subtype, 2);
	assert_int_equal(e[1].trtype, 3);
	assert_string_equal(e[1].subnqn, NQN);
	assert_string_equal(e[1].traddr, ADDR);
	assert_int_equal(atoi(e[1].trsvcid), T.port);
	/* I/O commands do not exist on a discovery controller */
	tc_sqe(&sqe, NVME_ADM_SET_FEATURES, 0);
	sqe.cdw10 = htole32(NVME_FID_NUM_QUEUES);
	assert_int_not_equal(admin_cmd(&c, &sqe, NULL, 0, false, NULL), 0);
	tc_close(&c);
}

/* ------------------------------------------------------------------ malformed PDUs */

/*
 * Every class of the C2HTermReq figure, each sent on a connection of its own: the exact
 * FES and FEI (proto/term.c has the rules), the header echoed, the connection closed right
 * after, and another connection of the same controller still working.
 */

/* The connection the bad PDU goes out on, and what it knows when building it. */
struct victim {
	struct tclient c;
	uint16_t cid;   /* the write waiting for data (AT_R2T) */
	uint16_t ttag;  /* the transfer tag of its R2T */
	uint32_t len;   /* its data length */
};

enum term_where {
	AT_TCP,   /* a bare TCP connection: nothing sent yet */
	AT_IO,    /* an I/O queue, connected */
	AT_IO_HD, /* the same with header digests */
	AT_R2T,   /* an I/O queue with a write that got its R2T */
};

#define FEI_HDGST 0xFFFFFFFFu /* the expected FEI is the digest the bad PDU carried */

struct term_case {
	const char *what;
	enum term_where where;
	size_t (*build)(struct victim *v, uint8_t *b); /* returns the bytes to send */
	uint16_t fes;
	uint32_t fei;
	uint32_t echo; /* header bytes the C2HTermReq carries */
};

static size_t flat(uint8_t *b, const struct iovec *iov, int cnt)
{
	size_t n = 0;

	assert_true(cnt > 0);
	for (int i = 0; i < cnt; i++) {
		memcpy(b + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	return n;
}

static void put_le32(uint8_t *b, uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, 4);
}

/* A capsule (flush, or a write with icd bytes in capsule) as the victim would send it. */
static size_t mk_cmd(struct victim *v, uint8_t *b, uint32_t icd)
{
	static uint8_t data[4096];
	struct nvmf_pdu_out out;
	struct iovec iov[8], d = { data, icd };
	struct nvme_sqe sqe;

	tc_sqe(&sqe, icd ? NVME_NVM_WRITE : NVME_NVM_FLUSH, 1);
	sqe.cid = htole16(700);
	sqe.flags = NVME_CMD_FLAGS_SGL;
	sqe.dptr.sgl.length = htole32(icd);
	sqe.dptr.sgl.id = NVME_SGL_ID_ICD;
	return flat(b, iov, nvmf_pdu_cmd(&out, &v->c.tx, &sqe, &d, icd ? 1 : 0, iov, 8));
}

/* An H2CData header for the victim's write (its data is never needed: the header fails). */
static size_t mk_h2c(struct victim *v, uint8_t *b, uint16_t cid, uint16_t ttag,
		     uint32_t datao, uint32_t datal)
{
	struct nvme_tcp_data *d = (struct nvme_tcp_data *)b;

	(void)v;
	memset(b, 0, 24);
	d->ch.type = NVME_TCP_H2C_DATA;
	d->ch.flags = NVME_TCP_F_DATA_LAST;
	d->ch.hlen = 24;
	d->ch.pdo = 24;
	d->ch.plen = htole32(24 + datal);
	d->cccid = htole16(cid);
	d->ttag = htole16(ttag);
	d->datao = htole32(datao);
	d->datal = htole32(datal);
	return 24;
}

static size_t mk_icreq(uint8_t *b, uint8_t hpda, uint8_t dgst)
{
	struct nvmf_pdu_out out;
	struct iovec iov[4];

	return flat(b, iov, nvmf_pdu_icreq(&out, hpda, dgst, 0, iov, 4));
}

static size_t b_unknown_type(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[0] = 0x0B;
	return n;
}

static size_t b_r2t_to_ctrl(struct victim *v, uint8_t *b)
{
	struct nvmf_pdu_out out;
	struct iovec iov[4];

	return flat(b, iov, nvmf_pdu_r2t(&out, &v->c.tx, 1, 1, 0, 4096, iov, 4));
}

static size_t b_wrong_hlen(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[2] = 70;
	return n;
}

static size_t b_bad_flag(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[1] |= NVME_TCP_F_DATA_LAST;
	return n;
}

static size_t b_hdgst_unasked(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[1] |= NVME_TCP_F_HDGST;
	put_le32(b + 4, 76);
	memset(b + n, 0, 4);
	return n + 4;
}

static size_t b_pdo_in_header(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 512);

	b[3] = 64;
	return n;
}

static size_t b_plen_short(struct victim *v, uint8_t *b)
{
	mk_h2c(v, b, 1, 1, 0, 512);
	put_le32(b + 4, 20);
	return 20;
}

static size_t b_datal_mismatch(struct victim *v, uint8_t *b)
{
	mk_h2c(v, b, 1, 1, 0, 512);
	put_le32(b + 16, 500);
	return 24;
}

static size_t b_unknown_ttag(struct victim *v, uint8_t *b)
{
	return mk_h2c(v, b, 1, 777, 0, 512);
}

static size_t b_wrong_cccid(struct victim *v, uint8_t *b)
{
	return mk_h2c(v, b, v->cid + 1, v->ttag, 0, v->len);
}

static size_t b_icreq_dgst_rsvd(struct victim *v, uint8_t *b)
{
	(void)v;
	return mk_icreq(b, 0, 0x04);
}

static size_t b_cmd_before_ic(struct victim *v, uint8_t *b)
{
	return mk_cmd(v, b, 0);
}

static size_t b_second_icreq(struct victim *v, uint8_t *b)
{
	(void)v;
	return mk_icreq(b, 0, 0);
}

static size_t b_bad_hdgst(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[72] ^= 0x5A;
	return n;
}

static size_t b_wrong_datao(struct victim *v, uint8_t *b)
{
	return mk_h2c(v, b, v->cid, v->ttag, 4096, 4096);
}

static size_t b_beyond_xfer(struct victim *v, uint8_t *b)
{
	return mk_h2c(v, b, v->cid, v->ttag, 0, v->len + 4096);
}

static size_t b_icd_over_limit(struct victim *v, uint8_t *b)
{
	size_t n = mk_cmd(v, b, 0);

	b[3] = 72;
	put_le32(b + 4, 72 + (1u << 20));
	return n;
}

static size_t b_h2c_over_maxh2cdata(struct victim *v, uint8_t *b)
{
	return mk_h2c(v, b, 1, 1, 0, 64u << 20);
}

static size_t b_icreq_pfv(struct victim *v, uint8_t *b)
{
	size_t n = mk_icreq(b, 0, 0);

	(void)v;
	b[8] = 1;
	return n;
}

static size_t b_icreq_hpda(struct victim *v, uint8_t *b)
{
	(void)v;
	return mk_icreq(b, 32, 0);
}

static const struct term_case term_cases[] = {
	/* 01h invalid PDU header field: FEI = offset of the field */
	{ "unknown PDU type", AT_IO, b_unknown_type, 1, 0, 8 },
	{ "a PDU type the controller never receives", AT_IO, b_r2t_to_ctrl, 1, 0, 24 },
	{ "hlen not the type's", AT_IO, b_wrong_hlen, 1, 2, 8 },
	{ "a flag the type does not carry", AT_IO, b_bad_flag, 1, 1, 72 },
	{ "HDGST flag without header digests", AT_IO, b_hdgst_unasked, 1, 1, 72 },
	{ "PDO inside the header", AT_IO, b_pdo_in_header, 1, 3, 72 },
	{ "plen short of the header", AT_IO, b_plen_short, 1, 4, 20 },
	{ "H2CData DATAL disagrees with PLEN", AT_IO, b_datal_mismatch, 1, 16, 24 },
	{ "H2CData for a transfer tag never given", AT_IO, b_unknown_ttag, 1, 10, 24 },
	{ "H2CData with another command's id", AT_R2T, b_wrong_cccid, 1, 8, 24 },
	{ "ICReq with reserved DGST bits", AT_TCP, b_icreq_dgst_rsvd, 1, 11, 128 },
	/* 02h PDU sequence error: FEI reserved */
	{ "a command before the ICReq", AT_TCP, b_cmd_before_ic, 2, 0, 72 },
	{ "a second ICReq", AT_IO, b_second_icreq, 2, 0, 128 },
	/* 03h header digest error: FEI = the digest the PDU carried */
	{ "header digest mismatch", AT_IO_HD, b_bad_hdgst, 3, FEI_HDGST, 72 },
	/* 04h data transfer out of range: FEI reserved */
	{ "H2CData not at the offset reached", AT_R2T, b_wrong_datao, 4, 0, 24 },
	{ "H2CData beyond the command's data", AT_R2T, b_beyond_xfer, 4, 0, 24 },
	/* 05h data transfer limit exceeded: FEI reserved */
	{ "in-capsule data over the queue's size", AT_IO, b_icd_over_limit, 5, 0, 72 },
	{ "H2CData over MAXH2CDATA", AT_IO, b_h2c_over_maxh2cdata, 5, 0, 24 },
	/* 06h unsupported parameter: FEI = offset of the field */
	{ "ICReq PFV not 0", AT_TCP, b_icreq_pfv, 6, 8, 128 },
	{ "ICReq HPDA over 31", AT_TCP, b_icreq_hpda, 6, 10, 128 },
};

static void victim_open(struct victim *v, const struct session *s, enum term_where where)
{
	memset(v, 0, sizeof(*v));
	switch (where) {
	case AT_TCP:
		assert_int_equal(tc_tcp_connect(&v->c, ADDR, T.port), 0);
		break;
	case AT_IO:
	case AT_IO_HD:
		assert_int_equal(tc_io_setup(&v->c, ADDR, T.port, NQN, s->admin.cntlid, 2,
					     where == AT_IO_HD, false), 0);
		break;
	case AT_R2T: {
		struct nvme_sqe sqe;

		assert_int_equal(tc_io_setup(&v->c, ADDR, T.port, NQN, s->admin.cntlid, 2,
					     false, false), 0);
		v->len = 8192;
		tc_sqe(&sqe, NVME_NVM_WRITE, 1);
		sqe.cdw12 = htole32(v->len / 512 - 1);
		assert_int_equal(tc_submit_len(&v->c, &sqe, v->len, &v->cid), 0);
		assert_int_equal(tc_recv_pdu(&v->c, 5000), 0);
		assert_int_equal(v->c.last.type, NVME_TCP_R2T);
		v->ttag = le16toh(v->c.last.hdr.r2t.ttag);
		break;
	}
	}
}

static void one_term_case(const struct term_case *k)
{
	struct session s;
	struct victim v;
	static uint8_t bad[8192];
	uint8_t w[4096], r[4096];
	uint32_t fei = k->fei;
	uint16_t st;
	size_t n;

	print_message("# C2HTermReq FES %u for %s\n", k->fes, k->what);
	session_open(&s, false, false);
	victim_open(&v, &s, k->where);
	n = k->build(&v, bad);
	if (fei == FEI_HDGST) {
		memcpy(&fei, bad + bad[2], 4);
		fei = le32toh(fei);
	}
	assert_int_equal(tc_send(&v.c, bad, n), 0);
	assert_int_equal(tc_recv_pdu(&v.c, 5000), 0);
	assert_int_equal(v.c.last.type, NVME_TCP_C2H_TERM);
	assert_int_equal(v.c.last.hdr.ch.hlen, 24);
	assert_int_equal(le32toh(v.c.last.hdr.ch.plen), 24 + k->echo);
	assert_int_equal(le16toh(v.c.last.hdr.term.fes), k->fes);
	assert_int_equal(le32toh(v.c.last.hdr.term.fei), fei);
	assert_int_equal(v.c.last.data_len, k->echo);
	assert_memory_equal(v.c.term_data, bad, k->echo);
	/* released at once: the end of the stream follows the C2HTermReq */
	assert_int_equal(tc_recv_pdu(&v.c, 5000), -ECONNRESET);
	tc_close(&v.c);
	/* the other connection of the same controller keeps working */
	fill(w, sizeof(w), k->fes);
	assert_int_equal(tc_rw(&s.io, true, 1, 7, 8, w, sizeof(w), false, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&s.io, false, 1, 7, 8, r, sizeof(r), false, &st), 0);
	assert_memory_equal(w, r, sizeof(w));
	session_close(&s);
}

static void malformed_pdus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(term_cases) / sizeof(term_cases[0]); i++)
		one_term_case(&term_cases[i]);
}

/* A malformed H2CTermReq ends the connection too, but is not answered with a TermReq. */
static void malformed_h2c_term(void **state)
{
	struct session s;
	struct victim v;
	uint8_t bad[24 + 200];
	struct nvme_tcp_term *t = (struct nvme_tcp_term *)bad;

	(void)state;
	session_open(&s, false, false);
	victim_open(&v, &s, AT_IO);
	memset(bad, 0, sizeof(bad));
	t->ch.type = NVME_TCP_H2C_TERM;
	t->ch.hlen = 24;
	t->ch.plen = htole32(sizeof(bad)); /* more than the 128 header bytes a TermReq echoes */
	t->fes = htole16(NVME_TCP_FES_INVALID_HEADER);
	assert_int_equal(tc_send(&v.c, bad, sizeof(bad)), 0);
	assert_int_equal(tc_recv_pdu(&v.c, 5000), -ECONNRESET);
	tc_close(&v.c);
	{
		uint8_t id[4096];
		uint16_t st;

		assert_int_equal(tc_identify(&s.admin, 1, 0, 0, id, &st), 0);
		assert_int_equal(st, 0);
	}
	session_close(&s);
}

static void bad_data_digest(void **state)
{
	struct session s;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	struct nvmf_pdu_out out;
	struct iovec iov[8], d;
	uint8_t data[4096], pdu[4096 + 100];
	size_t len = 0;
	int cnt;

	(void)state;
	session_open(&s, true, true);
	tc_sqe(&sqe, NVME_NVM_WRITE, 1);
	sqe.cid = htole16(900);
	sqe.flags = NVME_CMD_FLAGS_SGL;
	sqe.cdw12 = htole32(7);
	sqe.dptr.sgl.length = htole32(sizeof(data));
	sqe.dptr.sgl.id = NVME_SGL_ID_ICD;
	d.iov_base = data;
	d.iov_len = sizeof(data);
	cnt = nvmf_pdu_cmd(&out, &s.io.tx, &sqe, &d, 1, iov, 8);
	for (int i = 0; i < cnt; i++) {
		memcpy(pdu + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	pdu[len - 1] ^= 0x55; /* corrupt the data digest */
	assert_int_equal(tc_send(&s.io, pdu, len), 0);
	assert_int_equal(tc_recv_pdu(&s.io, 5000), 0);
	assert_int_equal(s.io.last.type, NVME_TCP_RSP);
	cqe = s.io.last.hdr.rsp.cqe;
	assert_int_equal(nvme_status_sc(le16toh(cqe.status)), NVME_SC_TRANSIENT_TRANSPORT);
	/* the connection is still usable */
	{
		uint16_t st;

		assert_int_equal(tc_rw(&s.io, false, 1, 0, 8, data, sizeof(data), false, &st), 0);
		assert_int_equal(st, 0);
	}
	session_close(&s);
}

/*
 * Half-open connections cannot pile up: one that sends nothing, and one that stops after
 * the IC exchange, are closed after 10 s with the stage named; a live controller is not.
 */
static void half_open_dropped(void **state)
{
	struct tclient silent, icreq;
	struct session live;
	uint8_t id[4096], byte;
	uint16_t st = 0xffff;

	(void)state;
	session_open(&live, false, false);
	assert_int_equal(tc_tcp_connect(&silent, ADDR, T.port), 0);
	assert_int_equal(tc_open(&icreq, ADDR, T.port, false, false), 0);
	for (struct tclient *c = &silent; c; c = c == &silent ? &icreq : NULL) {
		struct timeval tv = { .tv_sec = 15 };
		ssize_t n;

		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(c->fd, &byte, 1, 0);
		assert_true(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
		tc_close(c);
	}
	assert_int_equal(tp_log_count(&T, "no ICReq within 10 s"), 1);
	assert_int_equal(tp_log_count(&T, "no Connect within 10 s"), 1);
	/* the controller set up before them is still served */
	assert_int_equal(tc_identify(&live.admin, 1, 0, 0, id, &st), 0);
	assert_int_equal(st, 0);
	session_close(&live);
}


static void keep_alive_expiry(void **state)
{
	struct tclient c;
	struct nvme_cqe cqe;
	struct nvme_sqe sqe;

	(void)state;
	assert_int_equal(tc_open(&c, ADDR, T.port, false, false), 0);
	assert_int_equal(tc_connect(&c, 0, 31, NQN, TC_HOSTNQN, 0xFFFF, 1000, 0, &cqe), 0);
	assert_int_equal(tc_enable(&c), 0);
	/* keep-alives keep it up past KATO */
	for (int i = 0; i < 4; i++) {
		usleep(400000);
		tc_sqe(&sqe, NVME_ADM_KEEP_ALIVE, 0);
		assert_int_equal(admin_cmd(&c, &sqe, NULL, 0, false, NULL), 0);
	}
	/* silence: the controller is torn down and the connection closed */
	assert_int_equal(tc_recv_pdu(&c, 5000), -ECONNRESET);
	tc_close(&c);
	assert_true(tp_log_count(&T, "keep-alive timeout") >= 1);
}

/*
 * A target stalled past KATO (SIGSTOP here; a swapped-out or stuck process in life) must
 * not run the commands that queued up in its sockets meanwhile: the host gave them up at
 * KATO and retried them on a new association, so an old write run late would overwrite
 * newer data.  Found by test_faults_netns (fio verify failed after a SIGSTOP of 5 s).
 */
/* Wait until every thread of pid is stopped (SIGSTOP is delivered asynchronously). */
static void wait_stopped(pid_t pid)
{
	char path[64], buf[512];

	for (int i = 0; i < 500; i++) {
		DIR *d;
		struct dirent *e;
		bool all = true;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		d = opendir(path);
		assert_non_null(d);
		while ((e = readdir(d))) {
			char stat[600];
			FILE *f;
			char *p;

			if (e->d_name[0] == '.')
				continue;
			snprintf(stat, sizeof(stat), "%s/%s/stat", path, e->d_name);
			f = fopen(stat, "r");
			if (!f)
				continue;
			p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
			fclose(f);
			if (p && p[1] == ' ' && p[2] != 'T' && p[2] != 't')
				all = false;
		}
		closedir(d);
		if (all)
			return;
		usleep(2000);
	}
	fail_msg("pid %d did not stop", (int)pid);
}

static void stalled_target_runs_no_expired_command(void **state)
{
	struct tclient a, io, fresh;
	struct nvme_cqe cqe;
	struct nvme_sqe sqe;
	uint8_t old[4096], back[4096];
	uint16_t st, cid, cntlid;
	int rc;

	(void)state;
	fill(old, sizeof(old), 0x5a1e);
	assert_int_equal(tc_open(&a, ADDR, T.port, false, false), 0);
	assert_int_equal(tc_connect(&a, 0, 31, NQN, TC_HOSTNQN, 0xFFFF, 1000, 0, &cqe), 0);
	cntlid = (uint16_t)le32toh(cqe.dw0);
	assert_int_equal(tc_enable(&a), 0);
	assert_int_equal(tc_io_setup(&io, ADDR, T.port, NQN, cntlid, 1, false, false), 0);

	/* the old association's last write: sent while the target does not run */
	assert_int_equal(kill(T.pid, SIGSTOP), 0);
	wait_stopped(T.pid);
	tc_sqe(&sqe, NVME_NVM_WRITE, 1);
	sqe.cdw10 = htole32(2048);
	sqe.cdw12 = htole32(sizeof(old) / 512 - 1);
	rc = tc_submit_icd(&io, &sqe, old, sizeof(old), &cid);
	usleep(1500000); /* past KATO: the host would give the association up now */
	assert_int_equal(kill(T.pid, SIGCONT), 0);
	assert_int_equal(rc, 0);

	/* the association is torn down, the write neither run nor answered */
	assert_int_equal(tc_recv_pdu(&io, 5000), -ECONNRESET);
	tc_close(&io);
	tc_close(&a);

	/* a new association: the old write's data never landed */
	assert_int_equal(tc_admin_setup(&a, ADDR, T.port, NQN, false, false), 0);
	assert_int_equal(tc_io_setup(&fresh, ADDR, T.port, NQN, a.cntlid, 1, false, false), 0);
	assert_int_equal(tc_rw(&fresh, false, 1, 2048, sizeof(back) / 512, back, sizeof(back),
			       false, &st), 0);
	assert_int_equal(st, 0);
	assert_memory_not_equal(back, old, sizeof(old));
	assert_true(tp_log_count(&T, "keep-alive timeout") >= 1);
	tc_close(&fresh);
	tc_close(&a);
}

/*
 * A null namespace: writes succeed and are dropped, reads return zeroes at every size -
 * sent from shared zeroes up to 128 KiB, zero-filled buffers above - with and without
 * digests (the data digest is over what is sent).
 */
static void null_namespace(void **state)
{
	static const uint32_t sizes[] = { 512, 4096, 131072, 131072 + 512, 1024 * 1024 };
	struct target_proc n;
	char listen[64];
	const char *argv[] = { "--null", "64M", "--listen", listen, "--cpus", "1", NULL };
	uint8_t *w = malloc(1 << 20), *r = malloc(1 << 20), *zero = calloc(1, 1 << 20);
	uint16_t port = tp_free_port();

	(void)state;
	snprintf(listen, sizeof(listen), "%s:%u", ADDR, port);
	assert_int_equal(tp_start(&n, port, argv), 0);
	for (int dg = 0; dg < 2; dg++) {
		struct tclient admin, io;
		uint16_t st;

		assert_int_equal(tc_admin_setup(&admin, ADDR, port, NQN, dg, dg), 0);
		assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, admin.cntlid, 1, dg, dg), 0);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t len = sizes[i];

			fill(w, len, (uint32_t)i);
			memset(r, 0xA5, len);
			assert_int_equal(tc_rw(&io, true, 1, 8, len / 512, w, len, false, &st), 0);
			assert_int_equal(st, 0);
			assert_int_equal(tc_rw(&io, false, 1, 8, len / 512, r, len, false, &st), 0);
			assert_int_equal(st, 0);
			assert_memory_equal(r, zero, len);
		}
		tc_close(&io);
		tc_close(&admin);
	}
	assert_int_equal(tp_stop(&n), 0);
	free(w);
	free(r);
	free(zero);
}

/*
 * Writes whose data buffers the reactor cannot give now wait for them (NEED_BUFFER) instead
 * of failing: 16 writes of 1 MiB in flight against a 1 MiB buffer pool get their R2Ts one
 * after the other, every one succeeds, and the data reads back.
 */
static void writes_wait_for_buffers(void **state)
{
	enum { NR = 16, LEN = 1 << 20 };
	struct target_proc t;
	char listen[64], path[64];
	const char *argv[] = { "--file", path, "--size", "32M", "--buf-pool", "1M", "--listen",
			       listen, "--cpus", "1", NULL };
	uint8_t *w = malloc((size_t)NR * LEN), *r = malloc(LEN), id[4096];
	uint16_t port = tp_free_port(), cids[NR], st;
	struct tclient admin, io;
	unsigned done = 0, lbads;
	const struct nvme_id_ns *ns = (const void *)id;

	(void)state;
	assert_non_null(w);
	assert_non_null(r);
	snprintf(path, sizeof(path), "/var/tmp/nvmf-test-buf-%d.img", (int)getpid());
	snprintf(listen, sizeof(listen), "%s:%u", ADDR, port);
	assert_int_equal(tp_start(&t, port, argv), 0);
	assert_int_equal(tc_admin_setup(&admin, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_identify(&admin, NVME_CNS_NS, 1, 0, id, &st), 0);
	lbads = ns->lbaf[nvme_flbas_index(ns->flbas)].lbads;
	assert_int_equal(tc_io_setup(&io, ADDR, port, NQN, admin.cntlid, 1, false, false), 0);
	for (unsigned i = 0; i < NR; i++) {
		struct nvme_sqe sqe;
		uint64_t slba = ((uint64_t)i * LEN) >> lbads;

		fill(w + (size_t)i * LEN, LEN, 1000 + i);
		tc_sqe(&sqe, NVME_NVM_WRITE, 1);
		sqe.cdw10 = htole32((uint32_t)slba);
		sqe.cdw11 = htole32((uint32_t)(slba >> 32));
		sqe.cdw12 = htole32((LEN >> lbads) - 1);
		assert_int_equal(tc_submit_len(&io, &sqe, LEN, &cids[i]), 0);
	}
	/* the pool holds one transfer: one R2T now, the others wait for its buffers */
	assert_int_equal(tc_recv_pdu(&io, 5000), 0);
	assert_int_equal(io.last.type, NVME_TCP_R2T);
	assert_int_equal(le16toh(io.last.hdr.r2t.cccid), cids[0]);
	assert_int_equal(tc_send_h2c(&io, w, LEN), 0);
	while (done < NR) {
		assert_int_equal(tc_recv_pdu(&io, 10000), 0);
		if (io.last.type == NVME_TCP_R2T) {
			uint16_t cid = le16toh(io.last.hdr.r2t.cccid);

			assert_true((uint16_t)(cid - cids[0]) < NR);
			assert_int_equal(tc_send_h2c(&io, w + (size_t)(cid - cids[0]) * LEN, LEN), 0);
			continue;
		}
		assert_int_equal(io.last.type, NVME_TCP_RSP);
		/* first come, first served: completions in submission order */
		assert_int_equal(le16toh(io.last.hdr.rsp.cqe.cid), cids[done]);
		assert_int_equal(le16toh(io.last.hdr.rsp.cqe.status) & ~1u, 0);
		done++;
	}
	for (unsigned i = 0; i < NR; i++) {
		uint64_t slba = ((uint64_t)i * LEN) >> lbads;

		assert_int_equal(tc_rw(&io, false, 1, slba, LEN >> lbads, r, LEN, false, &st), 0);
		assert_int_equal(st, 0);
		assert_memory_equal(r, w + (size_t)i * LEN, LEN);
	}
	tc_close(&io);
	tc_close(&admin);
	assert_int_equal(tp_stop(&t), 0);
	unlink(path);
	free(w);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_and_properties),
		cmocka_unit_test(connect_errors),
		cmocka_unit_test(identify),
		cmocka_unit_test(rw_plain),
		cmocka_unit_test(rw_digests),
		cmocka_unit_test(io_errors),
		cmocka_unit_test(flush_zeroes_dsm_compare),
		cmocka_unit_test(smart_counts_io),
		cmocka_unit_test(many_queues),
		cmocka_unit_test(sqflow_disabled_success),
		cmocka_unit_test(discovery),
		cmocka_unit_test(malformed_pdus),
		cmocka_unit_test(malformed_h2c_term),
		cmocka_unit_test(bad_data_digest),
		cmocka_unit_test(keep_alive_expiry),
		cmocka_unit_test(stalled_target_runs_no_expired_command),
		cmocka_unit_test(half_open_dropped),
		cmocka_unit_test(null_namespace),
		cmocka_unit_test(writes_wait_for_buffers),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
