/*
 * ANA and multipath on the real nvmf-target, driven by the test host over loopback: one
 * subsystem on two ports whose ANA groups differ (config.json as nvmetcli writes it), the
 * same namespace identity on every path, the ANA log seen from each port (with and without
 * RGO), I/O refused with the ANA path status where the group is not accessible, state
 * changes by SIGHUP with the ANA change event to the controllers concerned only, a port
 * removed (its controllers go) and added back, and two target processes exporting one file
 * with disjoint controller ID ranges (the two-box multipath layout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tclient.h"
#include "target_proc.h"

#define ADDR "127.0.0.1"
#define NQN "nqn.2024-01.io.nvmf-tcp.test:ana"
#define NS2_UUID "6a0c1d5e-7b0f-4a8e-9d41-2f1c3b5e9a77"
#define NS2_NGUID "ef90689c-6c46-d44c-89c1-4067801309a8"
#define EV_ANA NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA_CHANGE, NVME_LID_ANA)
#define ST_INACCESSIBLE NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE)
#define ST_PLOSS NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS)
#define ST_TRANSITION NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION)

static char cfg_path[128], cfg2_path[128], img1[128], img2[128];
static uint16_t port_a, port_b;

/* What write_config() puts in: the ANA states of groups 1 and 2 on ports A and B. */
struct layout {
	const char *a1, *a2, *b1, *b2;
	bool with_a, with_b;
	uint32_t ns2_grp;
	unsigned cntlid_min, cntlid_max;
};

static void put_port(FILE *f, unsigned portid, uint16_t svc, const char *g1, const char *g2,
		     bool comma)
{
	fprintf(f,
		"  {\"portid\": %u, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"    \"traddr\": \"%s\", \"trsvcid\": \"%u\", \"treq\": \"not specified\"},\n"
		"   \"ana_groups\": [{\"ana\": {\"state\": \"%s\"}, \"grpid\": 1},\n"
		"                  {\"ana\": {\"state\": \"%s\"}, \"grpid\": 2}],\n"
		"   \"referrals\": [], \"subsystems\": [\"%s\"]}%s\n",
		portid, ADDR, svc, g1, g2, NQN, comma ? "," : "");
}

static void write_config(const char *path, const struct layout *l)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\n \"hosts\": [],\n \"ports\": [\n");
	if (l->with_a)
		put_port(f, 1, port_a, l->a1, l->a2, l->with_b);
	if (l->with_b)
		put_port(f, 2, port_b, l->b1, l->b2, false);
	fprintf(f,
		" ],\n"
		" \"subsystems\": [\n"
		"  {\"nqn\": \"%s\", \"allowed_hosts\": [],\n"
		"   \"attr\": {\"allow_any_host\": \"1\",\n"
		"            \"cntlid_min\": \"%u\", \"cntlid_max\": \"%u\"},\n"
		"   \"namespaces\": [\n"
		"    {\"nsid\": 1, \"enable\": 1, \"ana\": {\"grpid\": \"1\"}, \"ana_grpid\": 1,\n"
		"     \"device\": {\"path\": \"%s\",\n"
		"                \"nguid\": \"00000000-0000-0000-0000-000000000000\"}},\n"
		"    {\"nsid\": 2, \"enable\": 1, \"ana_grpid\": %u,\n"
		"     \"device\": {\"path\": \"%s\", \"uuid\": \"%s\", \"nguid\": \"%s\"}}]}\n"
		" ]\n}\n",
		NQN, l->cntlid_min, l->cntlid_max, img1, l->ns2_grp, img2, NS2_UUID, NS2_NGUID);
	fclose(f);
}

static const struct layout base = {
	.a1 = "optimized", .a2 = "optimized", .b1 = "non-optimized", .b2 = "inaccessible",
	.with_a = true, .with_b = true, .ns2_grp = 2, .cntlid_min = 10, .cntlid_max = 19,
};

static int make_img(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0)
		return -1;
	close(fd);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/nvmf-ana-%d.json", (int)getpid());
	snprintf(cfg2_path, sizeof(cfg2_path), "/tmp/nvmf-ana-%d-2.json", (int)getpid());
	snprintf(img1, sizeof(img1), "/var/tmp/nvmf-ana-%d-1.img", (int)getpid());
	snprintf(img2, sizeof(img2), "/var/tmp/nvmf-ana-%d-2.img", (int)getpid());
	if (make_img(img1, 8 << 20) || make_img(img2, 4 << 20))
		return -1;
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cfg_path);
	unlink(cfg2_path);
	unlink(img1);
	unlink(img2);
	return 0;
}

static void start(struct target_proc *t, const char *path, uint16_t port)
{
	const char *argv[] = { "--config", path, "--cpus", "2", NULL };

	assert_int_equal(tp_start(t, port, argv), 0);
}

/* SIGHUP, and wait until the target logged reload number nth as done. */
static void reload(struct target_proc *t, int nth)
{
	kill(t->pid, SIGHUP);
	for (int i = 0; i < 100; i++) {
		if (tp_log_count(t, "configuration reloaded") >= nth)
			return;
		assert_int_equal(tp_log_count(t, "reload failed"), 0);
		usleep(50000);
	}
	fail_msg("reload %d not done", nth);
}

static uint16_t cmd_status(const struct nvme_cqe *cqe)
{
	return le16toh(cqe->status) & ~1u;
}

static void get_ana_log(struct tclient *c, bool rgo, uint8_t *buf, uint32_t len)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_GET_LOG_PAGE, NVME_NSID_ALL);
	sqe.cdw10 = htole32(NVME_LID_ANA | ((len / 4 - 1) << 16) |
			    (rgo ? NVME_ANA_LSP_RGO << NVME_GLP_CDW10_LSP_SHIFT : 0));
	assert_int_equal(tc_cmd(c, &sqe, buf, len, false, &cqe), 0);
	assert_int_equal(cmd_status(&cqe), 0);
}

/*
 * The state and NSIDs of group grpid in an ANA log (fails if absent); returns the state,
 * the NSIDs in nsids[0..*n), the log's change count in *chgcnt.
 */
static uint8_t ana_group(const uint8_t *log, uint32_t grpid, uint32_t *nsids, uint32_t *n,
			 uint64_t *chgcnt)
{
	struct nvme_ana_log_hdr h;
	size_t off = sizeof(h);

	memcpy(&h, log, sizeof(h));
	if (chgcnt)
		*chgcnt = le64toh(h.chgcnt);
	for (unsigned g = 0; g < le16toh(h.ngrps); g++) {
		struct nvme_ana_group_desc d;
		uint32_t nn;

		memcpy(&d, log + off, sizeof(d));
		nn = le32toh(d.nnsids);
		if (le32toh(d.grpid) == grpid) {
			for (uint32_t i = 0; i < nn && nsids; i++) {
				memcpy(&nsids[i], log + off + sizeof(d) + 4 * i, 4);
				nsids[i] = le32toh(nsids[i]);
			}
			if (n)
				*n = nn;
			return d.state;
		}
		off += sizeof(d) + 4 * nn;
	}
	fail_msg("ANA group %u not in the log", grpid);
	return 0;
}

/* An admin queue and one I/O queue of the same controller through port. */
struct path {
	struct tclient a, io;
	uint16_t cntlid;
	uint32_t lba;   /* block size of namespace 1 */
};

static void path_open(struct path *p, uint16_t port)
{
	struct nvme_id_ctrl id;
	struct nvme_id_ns ns;
	uint16_t st;

	assert_int_equal(tc_admin_setup(&p->a, ADDR, port, NQN, false, false), 0);
	assert_int_equal(tc_identify(&p->a, NVME_CNS_CTRL, 0, 0, &id, &st), 0);
	assert_int_equal(st, 0);
	p->cntlid = le16toh(id.cntlid);
	assert_int_equal(tc_identify(&p->a, NVME_CNS_NS, 1, 0, &ns, &st), 0);
	p->lba = 1u << ns.lbaf[0].lbads;
	assert_int_equal(tc_io_setup(&p->io, ADDR, port, NQN, p->cntlid, 1, false, false), 0);
}

static void path_close(struct path *p)
{
	tc_close(&p->io);
	tc_close(&p->a);
}

/* Read one 4 KiB block's worth of nsid through the path: the status. */
static uint16_t path_read(struct path *p, uint32_t nsid)
{
	uint8_t buf[4096];
	uint16_t st = 0xFFFF;

	assert_int_equal(tc_rw(&p->io, false, nsid, 0, 4096 / p->lba, buf, sizeof(buf), false,
			       &st), 0);
	return st;
}

/* An AER outstanding on the path's admin queue: its cid. */
static uint16_t path_aer(struct path *p)
{
	struct nvme_sqe sqe;
	uint16_t cid;

	tc_sqe(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	assert_int_equal(tc_submit(&p->a, &sqe, &cid), 0);
	return cid;
}

/* ------------------------------------------------------------------ tests */

/* Identify Controller's multipath fields, and one namespace identity on both ports. */
static void identify_same_on_every_path(void **state)
{
	struct target_proc t;
	struct path pa, pb;
	struct nvme_id_ctrl ida, idb;
	uint8_t a[4096], b[4096];
	uint16_t st;

	(void)state;
	write_config(cfg_path, &base);
	start(&t, cfg_path, port_a);
	path_open(&pa, port_a);
	path_open(&pb, port_b);

	assert_int_equal(tc_identify(&pa.a, NVME_CNS_CTRL, 0, 0, &ida, &st), 0);
	assert_int_equal(tc_identify(&pb.a, NVME_CNS_CTRL, 0, 0, &idb, &st), 0);
	assert_int_equal(ida.cmic, NVME_CMIC_MULTI_PORT | NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA);
	assert_int_equal(idb.cmic, ida.cmic);
	assert_int_equal(ida.anacap, 0x1F);
	assert_int_equal(ida.anatt, 10);
	assert_int_equal(le32toh(ida.anagrpmax), 128);
	assert_int_equal(le32toh(ida.nanagrpid), 128);
	assert_true(le32toh(ida.mnan) >= 2 && le32toh(ida.mnan) <= le32toh(ida.nn));
	assert_true(le32toh(ida.oaes) & NVME_OAES_ANA_CHANGE);
	/* two controllers from the configured range (cntlid_min/max) */
	assert_true(pa.cntlid >= 10 && pa.cntlid <= 19);
	assert_true(pb.cntlid >= 10 && pb.cntlid <= 19);
	assert_int_not_equal(pa.cntlid, pb.cntlid);
	assert_memory_equal(ida.sn, idb.sn, sizeof(ida.sn));
	assert_memory_equal(ida.subnqn, idb.subnqn, sizeof(ida.subnqn));

	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		struct nvme_id_ns *na = (void *)a, *nb = (void *)b;

		assert_int_equal(tc_identify(&pa.a, NVME_CNS_NS, nsid, 0, a, &st), 0);
		assert_int_equal(tc_identify(&pb.a, NVME_CNS_NS, nsid, 0, b, &st), 0);
		assert_memory_equal(a, b, sizeof(a));      /* the whole structure */
		assert_int_equal(le32toh(na->anagrpid), nsid);
		assert_int_equal(nb->nmic, NVME_NMIC_SHARED);
		assert_int_equal(tc_identify(&pa.a, NVME_CNS_NS_DESC_LIST, nsid, 0, a, &st), 0);
		assert_int_equal(st, 0);
		assert_int_equal(tc_identify(&pb.a, NVME_CNS_NS_DESC_LIST, nsid, 0, b, &st), 0);
		assert_memory_equal(a, b, sizeof(a));
		/* a UUID first: configured for 2, derived from NQN + NSID for 1 */
		assert_int_equal(a[0], NVME_NIDT_UUID);
	}
	/* namespace 2's configured NGUID and UUID */
	{
		static const uint8_t nguid[16] = { 0xef, 0x90, 0x68, 0x9c, 0x6c, 0x46, 0xd4, 0x4c,
						   0x89, 0xc1, 0x40, 0x67, 0x80, 0x13, 0x09, 0xa8 };
		struct nvme_id_ns *n = (void *)a;

		assert_int_equal(tc_identify(&pb.a, NVME_CNS_NS, 2, 0, a, &st), 0);
		assert_memory_equal(n->nguid, nguid, 16);
	}
	path_close(&pa);
	path_close(&pb);
	assert_int_equal(tp_stop(&t), 0);
}

/* Each port's view: states, NSID lists, RGO, and the I/O status that follows from them. */
static void ana_log_and_io_per_port(void **state)
{
	struct target_proc t;
	struct path pa, pb;
	uint8_t log[4096];
	uint32_t nsids[4], n;

	(void)state;
	write_config(cfg_path, &base);
	start(&t, cfg_path, port_a);
	path_open(&pa, port_a);
	path_open(&pb, port_b);

	get_ana_log(&pa.a, false, log, sizeof(log));
	assert_int_equal(le16toh(((struct nvme_ana_log_hdr *)log)->ngrps), 2);
	assert_int_equal(ana_group(log, 1, nsids, &n, NULL), NVME_ANA_OPTIMIZED);
	assert_int_equal(n, 1);
	assert_int_equal(nsids[0], 1);
	assert_int_equal(ana_group(log, 2, nsids, &n, NULL), NVME_ANA_OPTIMIZED);
	assert_int_equal(n, 1);
	assert_int_equal(nsids[0], 2);

	get_ana_log(&pb.a, false, log, sizeof(log));
	assert_int_equal(ana_group(log, 1, NULL, NULL, NULL), NVME_ANA_NON_OPTIMIZED);
	assert_int_equal(ana_group(log, 2, nsids, &n, NULL), NVME_ANA_INACCESSIBLE);
	assert_int_equal(n, 1);
	assert_int_equal(nsids[0], 2);
	get_ana_log(&pb.a, true, log, sizeof(log));
	assert_int_equal(ana_group(log, 2, NULL, &n, NULL), NVME_ANA_INACCESSIBLE);
	assert_int_equal(n, 0);                              /* RGO: no NSID lists */

	assert_int_equal(path_read(&pa, 1), 0);
	assert_int_equal(path_read(&pa, 2), 0);
	assert_int_equal(path_read(&pb, 1), 0);              /* non-optimized serves */
	assert_int_equal(path_read(&pb, 2), ST_INACCESSIBLE); /* no DNR: the host fails over */
	path_close(&pa);
	path_close(&pb);
	assert_int_equal(tp_stop(&t), 0);
}

/* SIGHUP changes states: the ANA change event goes to the controllers of the ports concerned. */
static void sighup_changes_states(void **state)
{
	struct target_proc t;
	struct path pa, pb;
	struct nvme_cqe cqe;
	struct layout l = base;
	uint8_t log[4096];
	uint64_t c0, c1;
	uint32_t nsids[4], n;
	uint16_t aer_a, aer_b;

	(void)state;
	write_config(cfg_path, &l);
	start(&t, cfg_path, port_a);
	path_open(&pa, port_a);
	path_open(&pb, port_b);
	get_ana_log(&pa.a, false, log, sizeof(log));
	ana_group(log, 1, NULL, NULL, &c0);
	aer_a = path_aer(&pa);
	aer_b = path_aer(&pb);

	/* B: group 2 back to optimized; A: group 1 in change */
	l.b2 = "optimized";
	l.a1 = "change";
	write_config(cfg_path, &l);
	reload(&t, 1);
	assert_int_equal(tc_wait_rsp(&pa.a, aer_a, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), EV_ANA);
	assert_int_equal(tc_wait_rsp(&pb.a, aer_b, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), EV_ANA);
	get_ana_log(&pa.a, false, log, sizeof(log));        /* RAE clear: re-armed */
	assert_int_equal(ana_group(log, 1, NULL, NULL, &c1), NVME_ANA_CHANGE);
	assert_true(c1 > c0);
	get_ana_log(&pb.a, false, log, sizeof(log));
	assert_int_equal(ana_group(log, 2, NULL, NULL, NULL), NVME_ANA_OPTIMIZED);
	assert_int_equal(path_read(&pa, 1), ST_TRANSITION);
	assert_int_equal(path_read(&pb, 2), 0);

	/* only port B changes: only its controller hears of it */
	aer_a = path_aer(&pa);
	aer_b = path_aer(&pb);
	l.b1 = "persistent-loss";
	write_config(cfg_path, &l);
	reload(&t, 2);
	assert_int_equal(tc_wait_rsp(&pb.a, aer_b, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), EV_ANA);
	assert_int_equal(tc_wait_rsp(&pa.a, aer_a, 300, &cqe), -ETIMEDOUT);
	get_ana_log(&pb.a, false, log, sizeof(log));
	assert_int_equal(ana_group(log, 1, NULL, NULL, NULL), NVME_ANA_PERSISTENT_LOSS);
	assert_int_equal(path_read(&pb, 1), ST_PLOSS);

	/* namespace 2 moves to group 1: every controller of the subsystem is told */
	aer_b = path_aer(&pb);
	l.ns2_grp = 1;
	write_config(cfg_path, &l);
	reload(&t, 3);
	assert_int_equal(tc_wait_rsp(&pa.a, aer_a, 5000, &cqe), 0);
	assert_int_equal(le32toh(cqe.dw0), EV_ANA);
	assert_int_equal(tc_wait_rsp(&pb.a, aer_b, 5000, &cqe), 0);
	get_ana_log(&pa.a, false, log, sizeof(log));
	assert_int_equal(ana_group(log, 1, nsids, &n, NULL), NVME_ANA_CHANGE);
	assert_int_equal(n, 2);
	assert_int_equal(nsids[0], 1);
	assert_int_equal(nsids[1], 2);
	assert_int_equal(ana_group(log, 2, NULL, &n, NULL), NVME_ANA_OPTIMIZED);
	assert_int_equal(n, 0);
	{
		struct nvme_id_ns id;
		uint16_t st;

		assert_int_equal(tc_identify(&pb.a, NVME_CNS_NS, 2, 0, &id, &st), 0);
		assert_int_equal(le32toh(id.anagrpid), 1);
	}
	assert_int_equal(path_read(&pb, 2), ST_PLOSS);
	/* back to optimized everywhere: I/O flows on both paths again */
	l = base;
	l.b2 = "optimized";
	l.b1 = "optimized";
	write_config(cfg_path, &l);
	reload(&t, 4);
	assert_int_equal(path_read(&pa, 1), 0);
	assert_int_equal(path_read(&pb, 1), 0);
	assert_int_equal(path_read(&pb, 2), 0);
	path_close(&pa);
	path_close(&pb);
	assert_int_equal(tp_stop(&t), 0);
}

/* A port removed by SIGHUP takes its controllers with it; added back, it serves again. */
static void port_removed_and_added(void **state)
{
	struct target_proc t;
	struct path pa, pb;
	struct layout l = base;
	struct tclient c;
	int rc = 0;

	(void)state;
	write_config(cfg_path, &l);
	start(&t, cfg_path, port_a);
	path_open(&pa, port_a);
	path_open(&pb, port_b);

	l.with_b = false;
	write_config(cfg_path, &l);
	reload(&t, 1);
	/* B's queues are closed by the target, A's go on */
	for (int i = 0; i < 50 && rc == 0; i++)
		rc = tc_recv_pdu(&pb.a, 100);
	assert_int_equal(rc, -ECONNRESET);
	assert_true(tp_log_count(&t, "its port was removed") >= 1);
	assert_int_equal(path_read(&pa, 1), 0);
	assert_int_not_equal(tc_open(&c, ADDR, port_b, false, false), 0);
	path_close(&pb);

	l.with_b = true;
	write_config(cfg_path, &l);
	reload(&t, 2);
	path_open(&pb, port_b);
	assert_int_equal(path_read(&pb, 1), 0);
	assert_int_equal(path_read(&pa, 1), 0);
	path_close(&pa);
	path_close(&pb);
	assert_int_equal(tp_stop(&t), 0);
}

/*
 * Two processes, one file, one NQN, disjoint controller ID ranges: each is one path of
 * the same namespace (same identity), and data written through one reads through the other.
 */
static void two_processes_one_namespace(void **state)
{
	struct target_proc t1, t2;
	struct path p1, p2;
	struct layout l1 = base, l2 = base;
	uint8_t a[4096], b[4096], wr[4096], rd[4096];
	uint16_t st;

	(void)state;
	l1.with_b = false;
	l1.cntlid_min = 1;
	l1.cntlid_max = 99;
	l2.with_a = false;
	l2.b1 = "optimized";
	l2.b2 = "optimized";
	l2.cntlid_min = 100;
	l2.cntlid_max = 199;
	write_config(cfg_path, &l1);
	write_config(cfg2_path, &l2);
	start(&t1, cfg_path, port_a);
	start(&t2, cfg2_path, port_b);
	path_open(&p1, port_a);
	path_open(&p2, port_b);
	assert_true(p1.cntlid >= 1 && p1.cntlid <= 99);
	assert_true(p2.cntlid >= 100 && p2.cntlid <= 199);
	assert_int_equal(tc_identify(&p1.a, NVME_CNS_CTRL, 0, 0, a, &st), 0);
	assert_int_equal(tc_identify(&p2.a, NVME_CNS_CTRL, 0, 0, b, &st), 0);
	/* serial and model: what the host compares between controllers of one subsystem */
	assert_memory_equal(((struct nvme_id_ctrl *)a)->sn, ((struct nvme_id_ctrl *)b)->sn, 20);
	assert_memory_equal(((struct nvme_id_ctrl *)a)->mn, ((struct nvme_id_ctrl *)b)->mn, 40);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		assert_int_equal(tc_identify(&p1.a, NVME_CNS_NS, nsid, 0, a, &st), 0);
		assert_int_equal(tc_identify(&p2.a, NVME_CNS_NS, nsid, 0, b, &st), 0);
		assert_memory_equal(a, b, sizeof(a));
		assert_int_equal(tc_identify(&p1.a, NVME_CNS_NS_DESC_LIST, nsid, 0, a, &st), 0);
		assert_int_equal(tc_identify(&p2.a, NVME_CNS_NS_DESC_LIST, nsid, 0, b, &st), 0);
		assert_memory_equal(a, b, sizeof(a));
	}
	for (size_t i = 0; i < sizeof(wr); i++)
		wr[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(tc_rw(&p1.io, true, 1, 16, 4096 / p1.lba, wr, sizeof(wr), true, &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(tc_rw(&p2.io, false, 1, 16, 4096 / p2.lba, rd, sizeof(rd), false, &st),
			 0);
	assert_int_equal(st, 0);
	assert_memory_equal(wr, rd, sizeof(wr));
	path_close(&p1);
	path_close(&p2);
	assert_int_equal(tp_stop(&t1), 0);
	assert_int_equal(tp_stop(&t2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identify_same_on_every_path),
		cmocka_unit_test(ana_log_and_io_per_port),
		cmocka_unit_test(sighup_changes_states),
		cmocka_unit_test(port_removed_and_added),
		cmocka_unit_test(two_processes_one_namespace),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
