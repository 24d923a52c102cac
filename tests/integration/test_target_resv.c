/*
 * NVMe reservations on the real nvmf-target over TCP, with two hosts (two host NQNs and
 * host IDs; host A with two controllers) on one namespace that has resv.enable and one
 * that has not: Identify's ONCS and RESCAP, Register / Acquire / Preempt / Preempt and
 * Abort / Release / Clear / Report, the conflict status on the other host's I/O, the
 * Reservation Notification AENs and log page (80h) reaching every controller of the host
 * concerned and no other, the notification mask feature (82h), and PTPL surviving a
 * restart of the target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "target_proc.h"

#define ADDR "127.0.0.1"
#define NQN "nqn.2024-01.io.nvmf-tcp.test:resv"
#define HOST_A "nqn.2014-08.org.nvmexpress:uuid:a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1"
#define HOST_B "nqn.2014-08.org.nvmexpress:uuid:b2b2b2b2-b2b2-b2b2-b2b2-b2b2b2b2b2b2"
#define KEY_A 0xAAAA0001ull
#define KEY_B 0xBBBB0002ull
#define RESV_AEN NVME_AER_DW0(NVME_AER_TYPE_IOCS, NVME_AER_IOCS_RESV_LOG, \
			      NVME_LID_RESV_NOTIFICATION)
#define ST_CONFLICT NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT)
#define ST_INVALID NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define ST_INVALID_OPC NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE)
#define ST_HOSTID NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_HOSTID_INCONSISTENT)
#define ST_ABORTED NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_PREEMPT)
#define ST_SGL_LEN NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LEN_INVALID)

static char cfg_path[128], img1[128], img2[128], ptpl1[160];
static uint16_t port;
static struct target_proc tgt;

/* One host: its admin queue (with an AER outstanding) and one I/O queue. */
struct host {
	struct tclient a, io;
	uint8_t id;              /* the host ID: 16 times this byte */
	const char *nqn;
	uint16_t aer;
};

static struct host ha = { .id = 0xA1, .nqn = HOST_A };
static struct host hb = { .id = 0xB2, .nqn = HOST_B };
/* a second controller of host A: registrations and notifications are per host */
static struct host ha2 = { .id = 0xA1, .nqn = HOST_A };

static uint16_t st(const struct nvme_cqe *cqe)
{
	return le16toh(cqe->status) & ~1u;
}

static void write_config(void)
{
	FILE *f = fopen(cfg_path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"hosts\": [],\n"
		" \"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"   \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"treq\": \"not specified\"},\n"
		"   \"referrals\": [], \"subsystems\": [\"%s\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\", \"allowed_hosts\": [],\n"
		"   \"attr\": {\"allow_any_host\": \"1\"},\n"
		"   \"namespaces\": [\n"
		"    {\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"%s\", \"block_size\": 512},\n"
		"     \"resv\": {\"enable\": \"1\"}},\n"
		"    {\"nsid\": 2, \"enable\": 1, \"device\": {\"path\": \"%s\", \"block_size\": 512},\n"
		"     \"resv\": {\"enable\": \"0\"}}]}]}\n",
		ADDR, port, NQN, NQN, img1, img2);
	fclose(f);
}

static int make_img(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0)
		return -1;
	close(fd);
	return 0;
}

static void start_target(void)
{
	const char *argv[] = { "--config", cfg_path, "--cpus", "2", NULL };

	assert_int_equal(tp_start(&tgt, port, argv), 0);
}

static uint16_t submit_aer(struct host *h)
{
	struct nvme_sqe sqe;
	uint16_t cid;

	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&h->a, &sqe, &cid), 0);
	return cid;
}

static void host_up(struct host *h)
{
	assert_int_equal(tc_host_setup(&h->a, &h->io, ADDR, port, NQN, h->nqn, h->id), 0);
	h->io.icd_max = 16384;
	h->aer = submit_aer(h);
}

static void host_down(struct host *h)
{
	tc_close(&h->io);
	tc_close(&h->a);
}

/* ------------------------------------------------------------------ commands */

/* A reservation command with len bytes of data (the keys, then zeroes). */
static uint16_t resv_cmd_len(struct host *h, uint8_t opc, uint32_t nsid, uint32_t cdw10,
			     uint64_t k1, uint64_t k2, uint32_t len)
{
	uint64_t d[4] = { htole64(k1), htole64(k2), 0, 0 };
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	assert_true(len <= sizeof(d));
	tc_sqe(&sqe, opc, nsid);
	sqe.cdw10 = htole32(cdw10);
	assert_int_equal(tc_cmd(&h->io, &sqe, d, len, true, &cqe), 0);
	return st(&cqe);
}

/* With the structure's own length, as nvme-cli sends them (Release: 8 bytes). */
static uint16_t resv_cmd(struct host *h, uint8_t opc, uint32_t nsid, uint32_t cdw10,
			 uint64_t k1, uint64_t k2)
{
	return resv_cmd_len(h, opc, nsid, cdw10, k1, k2, opc == NVME_NVM_RESV_RELEASE ? 8 : 16);
}

static uint16_t do_register(struct host *h, unsigned action, unsigned cptpl, uint64_t crkey,
			    uint64_t nrkey)
{
	return resv_cmd(h, NVME_NVM_RESV_REGISTER, 1,
			action | (cptpl << NVME_RESV_CDW10_CPTPL_SHIFT), crkey, nrkey);
}

static uint16_t do_acquire(struct host *h, unsigned action, uint8_t rtype, uint64_t crkey,
			   uint64_t prkey)
{
	return resv_cmd(h, NVME_NVM_RESV_ACQUIRE, 1,
			action | ((uint32_t)rtype << NVME_RESV_CDW10_RTYPE_SHIFT), crkey, prkey);
}

static uint16_t do_release(struct host *h, unsigned action, uint8_t rtype, uint64_t crkey)
{
	return resv_cmd(h, NVME_NVM_RESV_RELEASE, 1,
			action | ((uint32_t)rtype << NVME_RESV_CDW10_RTYPE_SHIFT), crkey, 0);
}

/* Reservation Report (extended) of namespace 1 into buf (len bytes). */
static uint16_t do_report(struct host *h, bool eds, void *buf, uint32_t len)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_NVM_RESV_REPORT, 1);
	sqe.cdw10 = htole32(len / 4 - 1);
	sqe.cdw11 = htole32(eds ? NVME_RESV_REPORT_CDW11_EDS : 0);
	assert_int_equal(tc_cmd(&h->io, &sqe, buf, len, false, &cqe), 0);
	return st(&cqe);
}

static struct nvme_resv_status report(struct host *h, uint8_t *buf, uint32_t len)
{
	struct nvme_resv_status s;

	assert_int_equal(do_report(h, true, buf, len), 0);
	memcpy(&s, buf, sizeof(s));
	return s;
}

static uint16_t rw(struct host *h, bool write, uint32_t nsid, uint8_t fill)
{
	uint8_t buf[512];
	uint16_t status;

	memset(buf, fill, sizeof(buf));
	assert_int_equal(tc_rw(&h->io, write, nsid, 0, 1, buf, sizeof(buf), false, &status), 0);
	return status;
}

static void read_resv_log(struct host *h, struct nvme_resv_notif_log *log)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, NVME_NSID_ALL);
	sqe.cdw10 = htole32(NVME_LID_RESV_NOTIFICATION | ((sizeof(*log) / 4 - 1) << 16));
	assert_int_equal(tc_cmd(&h->a, &sqe, log, sizeof(*log), false, &cqe), 0);
	assert_int_equal(st(&cqe), 0);
}

/* The host's AER completes with the reservation event; its log holds type for NSID 1. */
static void expect_notice(struct host *h, uint8_t type)
{
	struct nvme_resv_notif_log log;
	struct nvme_cqe cqe;

	assert_int_equal(tc_wait_rsp(&h->a, h->aer, 5000, &cqe), 0);
	assert_int_equal(st(&cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), RESV_AEN);
	read_resv_log(h, &log);
	assert_int_equal(log.type, type);
	assert_int_equal(le32toh(log.nsid), 1);
	assert_true(le64toh(log.count) > 0);
	/* nothing else waits behind it */
	assert_int_equal(log.nr_avail, 0);
	h->aer = submit_aer(h);
}

/* No event for this host: its AER stays outstanding, its log is empty. */
static void expect_quiet(struct host *h)
{
	struct nvme_cqe cqe;

	assert_int_equal(tc_wait_rsp(&h->a, h->aer, 300, &cqe), -ETIMEDOUT);
}

static uint32_t get_feature(struct host *h, uint8_t fid, uint32_t nsid, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_GET_FEATURES, nsid);
	sqe.cdw10 = htole32(fid);
	assert_int_equal(tc_cmd(&h->a, &sqe, NULL, 0, false, &cqe), 0);
	*status = st(&cqe);
	return le32toh(cqe.dw0);
}

static uint16_t set_feature(struct host *h, uint8_t fid, uint32_t nsid, uint32_t v)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_SET_FEATURES, nsid);
	sqe.cdw10 = htole32(fid);
	sqe.cdw11 = htole32(v);
	assert_int_equal(tc_cmd(&h->a, &sqe, NULL, 0, false, &cqe), 0);
	return st(&cqe);
}

/* ------------------------------------------------------------------ setup */

static int setup(void **state)
{
	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nvmf-resv-%d.json", (int)getpid());
	snprintf(img1, sizeof(img1), "/var/tmp/nvmf-resv-%d-1.img", (int)getpid());
	snprintf(img2, sizeof(img2), "/var/tmp/nvmf-resv-%d-2.img", (int)getpid());
	snprintf(ptpl1, sizeof(ptpl1), "%s.resv", img1);
	if (make_img(img1, 4 << 20) || make_img(img2, 4 << 20))
		return -1;
	port = tp_free_port();
	write_config();
	start_target();
	host_up(&ha);
	host_up(&hb);
	host_up(&ha2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	host_down(&ha);
	host_down(&hb);
	host_down(&ha2);
	tp_stop(&tgt);
	unlink(cfg_path);
	unlink(img1);
	unlink(img2);
	unlink(ptpl1);
	return 0;
}

/* ------------------------------------------------------------------ tests */

static void identify(void **state)
{
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	uint16_t status;

	(void)state;
	assert_int_equal(tc_identify(&ha.a, NVME_CNS_CTRL, 0, 0, &ctrl, &status), 0);
	assert_int_equal(status, 0);
	assert_true(le16toh(ctrl.oncs) & NVME_ONCS_RESERVATIONS);
	/* all six types, IEKEY as NVMe 1.3, PTPL (a file backing) */
	assert_int_equal(tc_identify(&ha.a, NVME_CNS_NS, 1, 0, &ns, &status), 0);
	assert_int_equal(ns.rescap, 0xFF);
	assert_int_equal(tc_identify(&ha.a, NVME_CNS_NS, 2, 0, &ns, &status), 0);
	assert_int_equal(ns.rescap, 0);
	/* no reservations on namespace 2 */
	assert_int_equal(resv_cmd(&ha, NVME_NVM_RESV_REGISTER, 2, 0, 0, 1), ST_INVALID_OPC);
	get_feature(&ha, NVME_FID_RESV_MASK, 2, &status);
	assert_int_equal(status, ST_INVALID);
	assert_int_equal(get_feature(&ha, NVME_FID_RESV_MASK, 1, &status), 0);
	assert_int_equal(status, 0);
}

static void register_acquire_report(void **state)
{
	uint8_t buf[4096];
	struct nvme_resv_status s;
	struct nvme_resv_regctl_ext e;

	(void)state;
	assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, 0, 0, KEY_A), 0);
	assert_int_equal(do_register(&hb, NVME_RREGA_REGISTER, 0, 0, KEY_B), 0);
	/* 128-bit host IDs: the 64-bit report is refused */
	assert_int_equal(do_report(&hb, false, buf, sizeof(buf)), ST_HOSTID);
	s = report(&hb, buf, sizeof(buf));
	assert_int_equal(s.regctl[0], 2);
	assert_int_equal(s.rtype, 0);
	/* A takes Write Exclusive: B may read, not write; A may do both */
	assert_int_equal(do_acquire(&ha, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, KEY_A, 0), 0);
	assert_int_equal(do_acquire(&hb, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE, KEY_B, 0), ST_CONFLICT);
	assert_int_equal(rw(&hb, true, 1, 0xB0), ST_CONFLICT);
	assert_int_equal(rw(&hb, false, 1, 0), 0);
	assert_int_equal(rw(&ha, true, 1, 0xA0), 0);
	/* namespace 2 has no reservations: untouched */
	assert_int_equal(rw(&hb, true, 2, 0xB0), 0);
	s = report(&hb, buf, sizeof(buf));
	assert_int_equal(s.rtype, NVME_RTYPE_WE);
	for (int i = 0; i < 2; i++) {
		memcpy(&e, buf + NVME_RESV_STATUS_EXT_SIZE + i * sizeof(e), sizeof(e));
		if (e.hostid[0] == 0xA1) {
			assert_int_equal(e.rcsts, 1);
			assert_int_equal(le64toh(e.rkey), KEY_A);
		} else {
			assert_int_equal(e.hostid[0], 0xB2);
			assert_int_equal(e.rcsts, 0);
			assert_int_equal(le64toh(e.rkey), KEY_B);
		}
	}
	expect_quiet(&ha);
	expect_quiet(&hb);
}

static void preempt_notifies(void **state)
{
	uint8_t buf[4096];
	struct nvme_resv_status s;

	(void)state;
	/* B preempts A (A's key) with Exclusive Access: A is no longer registered */
	assert_int_equal(do_acquire(&hb, NVME_RACQA_PREEMPT, NVME_RTYPE_EA, KEY_B, KEY_A), 0);
	expect_notice(&ha, NVME_RNLPT_REG_PREEMPTED);
	expect_notice(&ha2, NVME_RNLPT_REG_PREEMPTED);
	expect_quiet(&hb);
	/* A's other controller lost the registration too: it is the host's */
	assert_int_equal(rw(&ha2, false, 1, 0), ST_CONFLICT);
	assert_int_equal(rw(&ha, false, 1, 0), ST_CONFLICT);
	assert_int_equal(rw(&ha, true, 1, 0xA1), ST_CONFLICT);
	assert_int_equal(rw(&hb, true, 1, 0xB1), 0);
	s = report(&ha, buf, sizeof(buf));
	assert_int_equal(s.rtype, NVME_RTYPE_EA);
	assert_int_equal(s.regctl[0], 1);
	/* A registers again; B turns its reservation into Write Exclusive - Registrants
	 * Only: A's access changed, it hears Reservation Released */
	assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, 0, 0, KEY_A), 0);
	assert_int_equal(do_acquire(&hb, NVME_RACQA_PREEMPT, NVME_RTYPE_WE_RO, KEY_B, KEY_B), 0);
	expect_notice(&ha, NVME_RNLPT_RESV_RELEASED);
	assert_int_equal(rw(&ha, true, 1, 0xA2), 0);
}

/*
 * A's write is in flight (parsed, R2T sent, data not yet given) when B preempts and
 * aborts A: the write must not complete successfully, and its data must not land.
 */
static void preempt_and_abort(void **state)
{
	uint8_t data[512], back[512];
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint16_t cid, status;

	(void)state;
	assert_int_equal(rw(&hb, true, 1, 0x5B), 0);
	memset(data, 0xA5, sizeof(data));
	tc_sqe(&sqe, NVME_NVM_WRITE, 1);
	sqe.cdw12 = htole32(0);
	/* the data goes through R2T: the command is parsed before its data comes */
	assert_int_equal(tc_submit_len(&ha.io, &sqe, sizeof(data), &cid), 0);
	assert_int_equal(tc_recv_pdu(&ha.io, 5000), 0);
	assert_int_equal(ha.io.last.type, NVME_TCP_R2T);

	assert_int_equal(do_acquire(&hb, NVME_RACQA_PREEMPT_ABORT, NVME_RTYPE_WE_RO, KEY_B, KEY_A),
			 0);
	assert_int_equal(tc_send_h2c(&ha.io, data, sizeof(data)), 0);
	assert_int_equal(tc_wait_rsp(&ha.io, cid, 5000, &cqe), 0);
	assert_int_equal(st(&cqe), ST_ABORTED);
	expect_notice(&ha, NVME_RNLPT_REG_PREEMPTED);
	assert_int_equal(tc_rw(&hb.io, false, 1, 0, 1, back, sizeof(back), false, &status), 0);
	assert_int_equal(status, 0);
	memset(data, 0x5B, sizeof(data));
	assert_memory_equal(back, data, sizeof(back));
	/* and A's new commands are refused: not a registrant of a Registrants Only type */
	assert_int_equal(rw(&ha, true, 1, 0xA6), ST_CONFLICT);
}

static void release_and_clear(void **state)
{
	uint8_t buf[4096];
	struct nvme_resv_status s, s2;
	struct nvme_resv_notif_log log;
	uint16_t status;

	(void)state;
	assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, 0, 0, KEY_A), 0);
	/* the wrong type: invalid; the right one: released, A hears it.  This Release carries
	 * 16 bytes, as the Linux host's block-layer reservations send it; less than the
	 * structure is refused */
	assert_int_equal(do_release(&hb, NVME_RRELA_RELEASE, NVME_RTYPE_EA, KEY_B), ST_INVALID);
	assert_int_equal(resv_cmd_len(&hb, NVME_NVM_RESV_RELEASE, 1,
				      NVME_RRELA_RELEASE | NVME_RTYPE_WE_RO << 8, KEY_B, 0, 4),
			 ST_SGL_LEN);
	assert_int_equal(resv_cmd_len(&hb, NVME_NVM_RESV_RELEASE, 1,
				      NVME_RRELA_RELEASE | NVME_RTYPE_WE_RO << 8, KEY_B, 0, 16), 0);
	expect_notice(&ha, NVME_RNLPT_RESV_RELEASED);
	expect_quiet(&hb);
	/* B clears: A hears Reservation Preempted; nobody is registered after */
	assert_int_equal(do_acquire(&hb, NVME_RACQA_ACQUIRE, NVME_RTYPE_EA_RO, KEY_B, 0), 0);
	s = report(&hb, buf, sizeof(buf));
	assert_int_equal(do_release(&ha, NVME_RRELA_CLEAR, 0, KEY_B), ST_CONFLICT);
	assert_int_equal(do_release(&hb, NVME_RRELA_CLEAR, 0, KEY_B), 0);
	expect_notice(&ha, NVME_RNLPT_RESV_PREEMPTED);
	s2 = report(&ha, buf, sizeof(buf));
	assert_int_equal(s2.rtype, 0);
	assert_int_equal(s2.regctl[0], 0);
	assert_int_equal(le32toh(s2.gen), le32toh(s.gen) + 1);

	/* the mask silences Reservation Preempted for namespace 1 */
	assert_int_equal(set_feature(&ha, NVME_FID_RESV_MASK, 1, NVME_RESV_MASK_RESPRE), 0);
	assert_int_equal(get_feature(&hb, NVME_FID_RESV_MASK, 1, &status), NVME_RESV_MASK_RESPRE);
	assert_int_equal(set_feature(&ha, NVME_FID_RESV_MASK, 1, 0x1), ST_INVALID);
	assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, 0, 0, KEY_A), 0);
	assert_int_equal(do_register(&hb, NVME_RREGA_REGISTER, 0, 0, KEY_B), 0);
	assert_int_equal(do_release(&hb, NVME_RRELA_CLEAR, 0, KEY_B), 0);
	expect_quiet(&ha);
	read_resv_log(&ha, &log);
	assert_int_equal(le64toh(log.count), 0);
	assert_int_equal(set_feature(&ha, NVME_FID_RESV_MASK, NVME_NSID_ALL, 0), 0);
}

/* PTPL on: a restarted target has the registrations and the reservation back. */
static void ptpl_restart(void **state)
{
	uint8_t buf[4096];
	struct nvme_resv_status s;
	uint16_t status;

	(void)state;
	assert_int_equal(get_feature(&ha, NVME_FID_RESV_PERSIST, 1, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, NVME_CPTPL_SET, 0, KEY_A), 0);
	assert_int_equal(do_register(&hb, NVME_RREGA_REGISTER, 0, 0, KEY_B), 0);
	assert_int_equal(do_acquire(&ha, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_RO, KEY_A, 0), 0);
	assert_int_equal(access(ptpl1, F_OK), 0);
	assert_int_equal(get_feature(&hb, NVME_FID_RESV_PERSIST, 1, &status), 1);

	host_down(&ha);
	host_down(&hb);
	host_down(&ha2);
	assert_int_equal(tp_stop(&tgt), 0);
	start_target();
	host_up(&ha);
	host_up(&hb);
	s = report(&hb, buf, sizeof(buf));
	assert_int_equal(s.rtype, NVME_RTYPE_WE_RO);
	assert_int_equal(s.regctl[0], 2);
	assert_int_equal(s.ptpls, 1);
	/* a third host (not registered) may not write; A still holds it */
	assert_int_equal(rw(&ha, true, 1, 0xA7), 0);
	assert_int_equal(do_release(&ha, NVME_RRELA_RELEASE, NVME_RTYPE_WE_RO, KEY_A), 0);
	expect_notice(&hb, NVME_RNLPT_RESV_RELEASED);
	/* PTPL off: the file goes */
	assert_int_equal(set_feature(&hb, NVME_FID_RESV_PERSIST, 1, 0), 0);
	assert_int_equal(access(ptpl1, F_OK), -1);
}

/*
 * A Preempt and Abort completes only once the preempted host's writes that the backend had
 * already taken are done: the preempting host, writing the moment the preempt completed,
 * must never see an older write of the preempted host land over its data.  Each round A
 * sends 32 FUA writes of 8 KiB (in the capsule: straight to the backend) and, once the
 * first is answered (the others are with the backend or on their way), B preempts and
 * aborts A, then writes its own pattern over the same 256 KiB; once A's
 * answers are in (each a success or aborted), every block must hold B's data.
 */
#define PA_WRITES 32
#define PA_BLOCKS 16     /* 8 KiB of 512-byte blocks */
static void preempt_and_abort_waits_for_backend(void **state)
{
	static uint8_t wa[PA_BLOCKS * 512], wb[PA_BLOCKS * 512], back[PA_WRITES * PA_BLOCKS * 512];
	struct nvme_sqe sqe;
	uint16_t cid, status;
	unsigned done_ok = 0, aborted = 0;

	(void)state;
	memset(wb, 0xB7, sizeof(wb));
	for (int round = 0; round < 20; round++) {
		memset(wa, 0xA0 + round % 16, sizeof(wa));
		/* A registered (ptpl_restart left it so; re-registered after each preempt) */
		if (round)
			assert_int_equal(do_register(&ha, NVME_RREGA_REGISTER, 0, 0, KEY_A), 0);
		assert_int_equal(do_acquire(&hb, NVME_RACQA_ACQUIRE, NVME_RTYPE_WE_RO, KEY_B, 0),
				 0);
		for (unsigned i = 0; i < PA_WRITES; i++) {
			tc_sqe(&sqe, NVME_NVM_WRITE, 1);
			sqe.cdw10 = htole32(i * PA_BLOCKS);
			sqe.cdw12 = htole32((PA_BLOCKS - 1) | (1u << 30));
			assert_int_equal(tc_submit_icd(&ha.io, &sqe, wa, sizeof(wa), &cid), 0);
		}
		/* the first answer: A's writes are with the backend now, one after the other */
		assert_int_equal(tc_recv_pdu(&ha.io, 5000), 0);
		assert_int_equal(ha.io.last.type, NVME_TCP_RSP);
		assert_int_equal(st(&ha.io.last.hdr.rsp.cqe), 0);
		done_ok++;
		assert_int_equal(do_acquire(&hb, NVME_RACQA_PREEMPT_ABORT, NVME_RTYPE_WE_RO, KEY_B,
					    KEY_A), 0);
		/* B's writes all at once, the last of A's first: those are the ones of A the
		 * backend is most likely still working on */
		for (unsigned i = PA_WRITES; i-- > 0;) {
			tc_sqe(&sqe, NVME_NVM_WRITE, 1);
			sqe.cdw10 = htole32(i * PA_BLOCKS);
			sqe.cdw12 = htole32(PA_BLOCKS - 1);
			assert_int_equal(tc_submit_icd(&hb.io, &sqe, wb, sizeof(wb), &cid), 0);
		}
		for (unsigned i = 0; i < PA_WRITES; i++) {
			assert_int_equal(tc_recv_pdu(&hb.io, 5000), 0);
			assert_int_equal(hb.io.last.type, NVME_TCP_RSP);
			assert_int_equal(st(&hb.io.last.hdr.rsp.cqe), 0);
		}
		for (unsigned i = 1; i < PA_WRITES; i++) {
			assert_int_equal(tc_recv_pdu(&ha.io, 5000), 0);
			assert_int_equal(ha.io.last.type, NVME_TCP_RSP);
			status = st(&ha.io.last.hdr.rsp.cqe);
			if (status == 0)
				done_ok++;
			else if (status == ST_ABORTED || status == ST_CONFLICT)
				aborted++;
			else
				fail_msg("A's write: status 0x%x", status);
		}
		expect_notice(&ha, NVME_RNLPT_REG_PREEMPTED);
		assert_int_equal(tc_rw(&hb.io, false, 1, 0, PA_WRITES * PA_BLOCKS, back,
				       sizeof(back), false, &status), 0);
		assert_int_equal(status, 0);
		for (size_t off = 0; off < sizeof(back); off += sizeof(wb))
			if (memcmp(back + off, wb, sizeof(wb)))
				fail_msg("round %d: block %zu holds A's data after B's write", round,
					 off / 512);
		assert_int_equal(do_release(&hb, NVME_RRELA_RELEASE, NVME_RTYPE_WE_RO, KEY_B), 0);
	}
	print_message("# A's writes: %u completed before the preempt, %u aborted; the preempt "
		      "waited for the backend in %d of 20 rounds\n", done_ok, aborted,
		      tp_log_count(&tgt, "preempt and abort waited"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identify),
		cmocka_unit_test(register_acquire_report),
		cmocka_unit_test(preempt_notifies),
		cmocka_unit_test(preempt_and_abort),
		cmocka_unit_test(release_and_clear),
		cmocka_unit_test(ptpl_restart),
		cmocka_unit_test(preempt_and_abort_waits_for_backend),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
