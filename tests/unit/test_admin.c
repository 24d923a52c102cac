/*
 * Tests of the admin commands of I/O and discovery controllers (admin.c, discovery.c),
 * on the real target core (core.c, ctrl.c, tgt.c) without a transport: every command goes
 * through the parser (direction and length the core checks the SGL against), then its
 * handler, and the test reads the completion and the returned bytes field by field --
 * above all the fields the Linux host reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

/*
 * admin.c's calls of the real nvmf_tgt_ctrl_keep_alive(), counted on their way through
 * (the test links with -Wl,--wrap=nvmf_tgt_ctrl_keep_alive).
 */
static unsigned keep_alive_calls;

void __real_nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl);
void __wrap_nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl);

void __wrap_nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl)
{
	keep_alive_calls++;
	__real_nvmf_tgt_ctrl_keep_alive(ctrl);
}

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define OTHER_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555"
#define NQN1 "nqn.2024-01.io.example:vol1"
#define NQN2 "nqn.2024-01.io.example:vol2"
#define NQN_BIG "nqn.2024-01.io.example:many"
#define DISC_NQN "nqn.2024-01.io.example:discovery"
#define BIG_NS 1100

/* ------------------------------------------------------------------ the fixture */

struct fx {
	struct nvmf_tgt tgt;
	struct nvmf_reactor reactor; /* never runs: holds the keep-alive timers */
	struct nvmf_cfg cfg;
	struct nvmf_cfg_port cport;
	char *port_subsys[3];
	struct nvmf_cfg_referral referrals[3];
	struct nvmf_cfg_ana_group ana[2];
	struct nvmf_port port;
	struct nvmf_subsys sub1, sub2, big, disc;
	char *sub2_hosts[1];
	struct nvmf_bdev bdev[2];
	struct nvmf_ns ns[2], *ns_list[2];
	struct nvmf_ns *big_ns;
	struct nvmf_ns **big_list;
	struct nvmf_tgt_ctrl ctrl, dctrl;
	struct nvmf_sq asq, dsq, ioq;
};

static struct fx *F;

/* What the fake transport saw. */
static struct nvmf_req *last_done;
static unsigned nr_done;
static const char *local_addr_answer;

static void queue_response(struct nvmf_req *req)
{
	last_done = req;
	nr_done++;
}

static int local_addr(struct nvmf_sq *sq, char *buf, size_t len)
{
	(void)sq;
	if (!local_addr_answer)
		return -1;
	snprintf(buf, len, "%s", local_addr_answer);
	return 0;
}

static const struct nvmf_transport_ops ops = {
	.name = "fake",
	.queue_response = queue_response,
	.local_addr = local_addr,
};

/* A subsystem view with room for nr namespaces (freed in teardown). */
static struct nvmf_subsys_view *new_view(bool any, uint32_t nr)
{
	struct nvmf_subsys_view *v = calloc(1, sizeof(*v) + nr * sizeof(v->ns[0]));

	assert_non_null(v);
	v->allow_any_host = any;
	return v;
}

static void init_subsys(struct nvmf_subsys *s, const char *nqn)
{
	s->tgt = &F->tgt;
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	s->view = new_view(true, 0);
	snprintf(s->serial, sizeof(s->serial), "SN123");
	snprintf(s->model, sizeof(s->model), "Linux");
	snprintf(s->firmware, sizeof(s->firmware), "1.2.3");
	s->ieee_oui = 0x0A0B0C;
	s->vendor_id = 0x1B36;
	s->subsys_vendor_id = 0x1AF4;
	s->vs = NVME_VS(2, 1, 0);
	s->cntlid_min = 1;
	s->cntlid_max = 0xFFEF;
	s->qid_max = 4;
	s->tbkas = true;
}

static void init_ctrl(struct nvmf_tgt_ctrl *c, struct nvmf_subsys *s, struct nvmf_sq *asq)
{
	c->tgt = &F->tgt;
	c->subsys = s;
	c->port = &F->port;
	c->cntlid = 5;
	snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", HOSTNQN);
	for (int i = 0; i < 16; i++)
		c->hostid[i] = (uint8_t)(0x10 + i);
	c->cap = 127; /* MQES: 128 entries */
	c->admin_sq = asq;
	c->kato_ms = 5000;
	/* connected just now, as nvmf_tgt_ctrl_create stamps it: keep-alive not overdue */
	atomic_store(&c->last_ka_ns, nvmf_now_ns());
	c->err_log = calloc(NVMF_ERR_LOG_SLOTS, sizeof(*c->err_log));
	assert_non_null(c->err_log);
	pthread_mutex_init(&c->lock, NULL);
	asq->tgt = &F->tgt;
	asq->port = &F->port;
	asq->reactor = &F->reactor;
	asq->ops = &ops;
	asq->ctrl = c;
	asq->qid = 0;
	asq->size = 32;
}

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	last_done = NULL;
	nr_done = 0;
	keep_alive_calls = 0;
	local_addr_answer = "10.1.2.3";
	assert_int_equal(nvmf_reactor_init(&F->reactor, 0, 8, 0), 0);

	pthread_mutex_init(&F->tgt.lock, NULL);
	atomic_init(&F->tgt.genctr, 42);
	F->tgt.cfg = &F->cfg;

	/* two namespaces: 1 MiB of RAM in 512-byte blocks; a read-only 4 KiB-block device */
	F->bdev[0] = (struct nvmf_bdev){ .kind = NVMF_BDEV_RAM, .size = 1 << 20,
					 .block_size = 512, .has_discard = true, .fd = -1 };
	F->bdev[1] = (struct nvmf_bdev){ .kind = NVMF_BDEV_FILE, .size = 1 << 20,
					 .block_size = 4096, .is_blockdev = true,
					 .read_only = true, .has_discard = true,
					 .write_cache = true, .fd = -1 };
	F->ns[0] = (struct nvmf_ns){ .nsid = 1, .bdev = &F->bdev[0], .nblocks = 2048,
				     .lba_shift = 9, .has_nguid = true, .anagrpid = 1 };
	F->ns[1] = (struct nvmf_ns){ .nsid = 2, .bdev = &F->bdev[1], .nblocks = 256,
				     .lba_shift = 12, .anagrpid = 1 };
	for (int i = 0; i < 16; i++) {
		F->ns[0].uuid[i] = (uint8_t)(0xA0 + i);
		F->ns[0].nguid[i] = (uint8_t)(0xB0 + i);
		F->ns[1].uuid[i] = (uint8_t)(0xC0 + i);
	}
	F->ns_list[0] = &F->ns[0];
	F->ns_list[1] = &F->ns[1];

	init_subsys(&F->sub1, NQN1);
	free(F->sub1.view);
	F->sub1.view = new_view(true, 2);
	F->sub1.view->ns[0] = F->ns_list[0];
	F->sub1.view->ns[1] = F->ns_list[1];
	F->sub1.view->nr_ns = 2;
	init_subsys(&F->sub2, NQN2);
	F->sub2.view->allow_any_host = false;
	F->sub2_hosts[0] = OTHER_HOSTNQN;
	F->sub2.view->allowed_hosts = F->sub2_hosts;
	F->sub2.view->nr_allowed_hosts = 1;

	/* many namespaces, NSIDs 3, 6, 9, ...: more than one Identify list holds */
	init_subsys(&F->big, NQN_BIG);
	F->big_ns = calloc(BIG_NS, sizeof(*F->big_ns));
	F->big_list = calloc(BIG_NS, sizeof(*F->big_list));
	assert_non_null(F->big_ns);
	assert_non_null(F->big_list);
	for (int i = 0; i < BIG_NS; i++) {
		F->big_ns[i] = (struct nvmf_ns){ .nsid = 3u * (i + 1), .bdev = &F->bdev[0],
						 .nblocks = 2048, .lba_shift = 9 };
		F->big_list[i] = &F->big_ns[i];
	}
	free(F->big.view);
	F->big.view = new_view(true, BIG_NS);
	for (int i = 0; i < BIG_NS; i++)
		F->big.view->ns[i] = F->big_list[i];
	F->big.view->nr_ns = BIG_NS;

	init_subsys(&F->disc, DISC_NQN);
	F->disc.is_discovery = true;
	snprintf(F->disc.model, sizeof(F->disc.model), "nvmf-tcp discovery");
	F->tgt.subsys = calloc(1, sizeof(*F->tgt.subsys) + 3 * sizeof(F->tgt.subsys->s[0]));
	assert_non_null(F->tgt.subsys);
	F->tgt.subsys->s[0] = &F->sub1;
	F->tgt.subsys->s[1] = &F->sub2;
	F->tgt.subsys->s[2] = &F->big;
	F->tgt.subsys->nr = 3;
	F->tgt.disc_subsys = &F->disc;

	/* one TCP port: vol1 and vol2 linked, plus a name that matches no subsystem */
	F->port_subsys[0] = NQN1;
	F->port_subsys[1] = NQN2;
	F->port_subsys[2] = "nqn.2024-01.io.example:gone";
	F->referrals[0] = (struct nvmf_cfg_referral){
		.name = "peer", .trtype = NVMF_CFG_TRTYPE_TCP, .adrfam = NVMF_CFG_ADRFAM_IPV4,
		.portid = 7, .traddr = "192.0.2.99", .trsvcid = "8009",
		.treq = NVMF_CFG_TREQ_NOT_REQUIRED, .enable = true };
	F->referrals[1] = (struct nvmf_cfg_referral){
		.name = "off", .trtype = NVMF_CFG_TRTYPE_TCP, .adrfam = NVMF_CFG_ADRFAM_IPV4,
		.portid = 8, .traddr = "192.0.2.98", .trsvcid = "8009", .enable = false };
	F->referrals[2] = (struct nvmf_cfg_referral){
		.name = "pci", .trtype = NVMF_CFG_TRTYPE_PCI, .adrfam = NVMF_CFG_ADRFAM_PCI,
		.portid = 9, .traddr = "0000:01:00.0", .trsvcid = "", .enable = true };
	/* ANA: group 1 optimized, group 2 non-optimized on this port (as a config gives them) */
	F->ana[0] = (struct nvmf_cfg_ana_group){ .grpid = 1, .state = NVMF_CFG_ANA_OPTIMIZED };
	F->ana[1] = (struct nvmf_cfg_ana_group){ .grpid = 2, .state = NVMF_CFG_ANA_NONOPTIMIZED };
	F->cport = (struct nvmf_cfg_port){
		.ana_groups = F->ana, .nr_ana_groups = 2,
		.portid = 1, .trtype = NVMF_CFG_TRTYPE_TCP, .adrfam = NVMF_CFG_ADRFAM_IPV4,
		.traddr = "192.0.2.10", .trsvcid = "4420", .treq = NVMF_CFG_TREQ_NOT_SPECIFIED,
		.tsas = NVMF_CFG_TSAS_NONE, .inline_data_size = -1, .max_queue_size = -1,
		.enabled = true, .subsystems = F->port_subsys, .nr_subsystems = 3,
		.referrals = F->referrals, .nr_referrals = 3 };
	F->cfg.ports = &F->cport;
	F->cfg.nr_ports = 1;
	F->port = (struct nvmf_port){ .tgt = &F->tgt, .cfg = &F->cport, .portid = 1,
				      .io_icd = NVMF_IO_ICD_DEFAULT, .max_queue_size = 128,
				      .listen_fd = -1 };

	init_ctrl(&F->ctrl, &F->sub1, &F->asq);
	init_ctrl(&F->dctrl, &F->disc, &F->dsq);
	/* enabled, as by the host's Property Set of CC after Connect */
	assert_int_equal(nvmf_tgt_ctrl_set_cc(&F->ctrl, NVME_CC_EN |
			 (uint32_t)NVME_SET(NVME_CC_IOSQES, NVME_SQES_LOG2) |
			 (uint32_t)NVME_SET(NVME_CC_IOCQES, NVME_CQES_LOG2)), 0);
	assert_int_equal(nvmf_tgt_ctrl_set_cc(&F->dctrl, NVME_CC_EN), 0);
	assert_true(nvmf_tgt_ctrl_ready(&F->ctrl) && nvmf_tgt_ctrl_ready(&F->dctrl));
	F->dctrl.kato_ms = NVMF_DISC_KATO_MS;
	F->ioq = (struct nvmf_sq){ .tgt = &F->tgt, .port = &F->port, .reactor = &F->reactor,
				   .ops = &ops, .ctrl = &F->ctrl, .qid = 1, .size = 128 };
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(F->ctrl.err_log);
	free(F->dctrl.err_log);
	pthread_mutex_destroy(&F->ctrl.lock);
	pthread_mutex_destroy(&F->dctrl.lock);
	pthread_mutex_destroy(&F->tgt.lock);
	free(F->big_ns);
	free(F->big_list);
	free(F->sub1.view);
	free(F->sub2.view);
	free(F->big.view);
	free(F->disc.view);
	free(F->tgt.subsys);
	nvmf_reactor_fini(&F->reactor);
	free(F);
	return 0;
}

/* ------------------------------------------------------------------ running commands */

/* A command as a host builds it: SGL1 is a transport data block of the data length. */
static struct nvme_sqe sqe(uint8_t opc, uint32_t nsid, uint32_t len)
{
	struct nvme_sqe c;

	memset(&c, 0, sizeof(c));
	c.opcode = opc;
	c.flags = NVME_CMD_FLAGS_SGL;
	c.cid = htole16(0x1234);
	c.nsid = htole32(nsid);
	c.dptr.sgl.length = htole32(len);
	c.dptr.sgl.id = len ? NVME_SGL_ID_TRANSPORT : 0;
	return c;
}

static struct nvme_sqe identify(uint8_t cns, uint32_t nsid, uint8_t csi)
{
	struct nvme_sqe c = sqe(NVME_ADM_IDENTIFY, nsid, NVME_IDENTIFY_DATA_SIZE);

	c.cdw10 = htole32(cns);
	c.cdw11 = htole32((uint32_t)csi << 24);
	return c;
}

static struct nvme_sqe get_log(uint8_t lid, uint32_t nsid, uint32_t len, uint64_t off,
			       bool rae)
{
	struct nvme_sqe c = sqe(NVME_ADM_GET_LOG_PAGE, nsid, len);
	uint32_t numd = len / 4 - 1;

	c.cdw10 = htole32(lid | (rae ? NVME_GLP_CDW10_RAE : 0) | ((numd & 0xFFFF) << 16));
	c.cdw11 = htole32(numd >> 16);
	c.cdw12 = htole32((uint32_t)off);
	c.cdw13 = htole32((uint32_t)(off >> 32));
	return c;
}

static struct nvme_sqe set_feat(uint8_t fid, uint32_t v)
{
	struct nvme_sqe c = sqe(NVME_ADM_SET_FEATURES, 0, 0);

	c.cdw10 = htole32(fid);
	c.cdw11 = htole32(v);
	return c;
}

static struct nvme_sqe get_feat(uint8_t fid, uint8_t sel, uint32_t v, uint32_t len)
{
	struct nvme_sqe c = sqe(NVME_ADM_GET_FEATURES, 0, len);

	c.cdw10 = htole32(fid | ((uint32_t)sel << 8));
	c.cdw11 = htole32(v);
	return c;
}

/*
 * What the transport does with a command capsule without in-capsule data: the core
 * parses it and checks its SGL (nvmf_req_init); on a status it completes at once, else
 * the transport allocates the data and executes.
 */
static struct nvmf_req *submit(struct nvmf_sq *sq, struct nvme_sqe c)
{
	struct nvmf_req *req = calloc(1, sizeof(*req));
	uint16_t st;

	assert_non_null(req);
	req->cmd = c;
	st = nvmf_req_init(req, sq, 0);
	if (st) {
		nvmf_req_complete(req, st);
		return req;
	}
	assert_non_null(req->execute);
	assert_int_equal(req->xfer_len, le32toh(c.dptr.sgl.length));
	assert_int_equal(req->dir, req->xfer_len ? NVME_OPC_XFER(c.opcode) : NVME_XFER_NONE);
	assert_int_equal(nvmf_req_alloc_data(req), 0);
	req->execute(req);
	return req;
}

static void put_req(struct nvmf_req *req)
{
	nvmf_req_free_data(req);
	free(req);
}

static uint16_t status_of(const struct nvmf_req *req)
{
	return le16toh(req->cqe.status);
}

/* Submit a command that completes at once; returns its status, dw0 in *dw0. */
static uint16_t run(struct nvmf_sq *sq, struct nvme_sqe c, uint32_t *dw0)
{
	unsigned before = nr_done;
	struct nvmf_req *req = submit(sq, c);
	uint16_t st;

	assert_int_equal(nr_done, before + 1);
	assert_ptr_equal(last_done, req);
	st = status_of(req);
	if (dw0)
		*dw0 = le32toh(req->cqe.dw0);
	put_req(req);
	return st;
}

/* Submit a command that returns data; copies it to buf, returns the status. */
static uint16_t run_data(struct nvmf_sq *sq, struct nvme_sqe c, void *buf, size_t len)
{
	unsigned before = nr_done;
	struct nvmf_req *req = submit(sq, c);
	uint16_t st;

	assert_int_equal(nr_done, before + 1);
	st = status_of(req);
	if (st == 0) {
		assert_int_equal(req->xfer_len, len);
		assert_int_equal(nvmf_req_copy_from(req, 0, buf, len), len);
	}
	put_req(req);
	return st;
}

#define SC_DNR(sc) NVME_STATUS_NORETRY(NVME_SCT_GENERIC, sc)
#define CMD_SC_DNR(sc) NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, sc)

static bool all_zero(const void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((const uint8_t *)p)[i])
			return false;
	return true;
}

static uint64_t le128_lo(const uint8_t v[16])
{
	uint64_t x;

	memcpy(&x, v, 8);
	assert_true(all_zero(v + 8, 8));
	return le64toh(x);
}

/* ------------------------------------------------------------------ parsing */

static void test_parse_lengths(void **state)
{
	struct nvmf_req req;
	struct nvme_sqe c;
	static const uint8_t unsupported[] = {
		NVME_ADM_DELETE_IO_SQ, NVME_ADM_CREATE_IO_SQ, NVME_ADM_DELETE_IO_CQ,
		NVME_ADM_CREATE_IO_CQ, NVME_ADM_NS_MGMT, NVME_ADM_FW_COMMIT, NVME_ADM_FW_DOWNLOAD,
		NVME_ADM_DEV_SELF_TEST, NVME_ADM_NS_ATTACH, NVME_ADM_DIRECTIVE_SEND,
		NVME_ADM_VIRT_MGMT, NVME_ADM_DBBUF_CONFIG, NVME_ADM_FORMAT_NVM,
		NVME_ADM_SECURITY_SEND, NVME_ADM_SECURITY_RECV, NVME_ADM_SANITIZE,
		NVME_ADM_GET_LBA_STATUS, 0xC0, 0xFF,
	};

	(void)state;
	memset(&req, 0, sizeof(req));
	req.sq = &F->asq;

	/* Get Log Page: NUMDU:NUMDL + 1 dwords */
	req.cmd = get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 512);
	assert_int_equal(req.dir, NVME_XFER_CTRL_TO_HOST);
	req.cmd = get_log(NVME_LID_ERROR, 0, 0x40000 * 4, 0, false); /* NUMDU = 3 */
	assert_int_equal(le32toh(req.cmd.cdw11), 3);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 0x100000);
	/* more than MDTS */
	req.cmd = get_log(NVME_LID_ERROR, 0, 0, 0, false);
	req.cmd.cdw10 = htole32(NVME_LID_ERROR | 0xFFFF0000u);
	req.cmd.cdw11 = htole32(0xFFFF);
	assert_int_equal(nvmf_parse_admin(&req), SC_DNR(NVME_SC_INVALID_FIELD));

	/* Identify: 4 KiB to the host */
	req.cmd = identify(NVME_CNS_CTRL, 0, 0);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 4096);
	assert_int_equal(req.dir, NVME_XFER_CTRL_TO_HOST);

	/* Features: only the host identifier carries data here */
	req.cmd = get_feat(NVME_FID_HOST_ID, 0, NVME_FEAT_HOSTID_EXHID, 16);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 16);
	assert_int_equal(req.dir, NVME_XFER_CTRL_TO_HOST);
	req.cmd = get_feat(NVME_FID_KATO, 0, 0, 0);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 0);
	assert_int_equal(req.dir, NVME_XFER_NONE);
	req.cmd = set_feat(NVME_FID_TIMESTAMP, 0);
	assert_int_equal(nvmf_parse_admin(&req), 0);
	assert_int_equal(req.xfer_len, 8);
	assert_int_equal(req.dir, NVME_XFER_HOST_TO_CTRL);

	/* no data */
	static const uint8_t none[] = { NVME_ADM_ASYNC_EVENT, NVME_ADM_KEEP_ALIVE,
					NVME_ADM_ABORT };
	for (size_t i = 0; i < sizeof(none); i++) {
		req.cmd = sqe(none[i], 0, 0);
		assert_int_equal(nvmf_parse_admin(&req), 0);
		assert_int_equal(req.xfer_len, 0);
		assert_int_equal(req.dir, NVME_XFER_NONE);
		assert_non_null(req.execute);
	}

	for (size_t i = 0; i < sizeof(unsupported); i++) {
		c = sqe(unsupported[i], 0, 0);
		req.cmd = c;
		assert_int_equal(nvmf_parse_admin(&req), SC_DNR(NVME_SC_INVALID_OPCODE));
	}
}

/* ------------------------------------------------------------------ Identify */

static void test_identify_ctrl(void **state)
{
	struct nvme_id_ctrl id;
	char subnqn[256] = NQN1;

	(void)state;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CTRL, 0, 0), &id, sizeof(id)), 0);
	assert_int_equal(le16toh(id.vid), 0x1B36);
	assert_int_equal(le16toh(id.ssvid), 0x1AF4);
	/* ASCII fields are space padded, never NUL terminated */
	assert_memory_equal(id.sn, "SN123               ", 20);
	assert_memory_equal(id.mn, "Linux                                   ", 40);
	assert_memory_equal(id.fr, "1.2.3   ", 8);
	assert_int_equal(id.rab, 6);
	assert_int_equal(id.ieee[0], 0x0C);
	assert_int_equal(id.ieee[1], 0x0B);
	assert_int_equal(id.ieee[2], 0x0A);
	/* one multipath namespace over several ports / controllers, with ANA (nvmet) */
	assert_int_equal(id.cmic, NVME_CMIC_MULTI_PORT | NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA);
	assert_int_equal(id.anacap, NVME_ANACAP_OPTIMIZED | NVME_ANACAP_NON_OPTIMIZED |
			 NVME_ANACAP_INACCESSIBLE | NVME_ANACAP_PERSISTENT_LOSS |
			 NVME_ANACAP_CHANGE);
	assert_int_equal(id.anatt, 10);
	assert_int_equal(le32toh(id.anagrpmax), 128);
	assert_int_equal(le32toh(id.nanagrpid), 128);
	/* the host sizes its ANA log buffer with MNAN: it must be set and <= NN */
	assert_true(le32toh(id.mnan) >= 1 && le32toh(id.mnan) <= le32toh(id.nn));
	assert_int_equal(id.mdts, NVMF_MDTS);
	assert_int_equal(le16toh(id.cntlid), 5);
	assert_int_equal(le32toh(id.ver), NVME_VS(2, 1, 0));
	assert_int_equal(le32toh(id.oaes), NVME_OAES_NS_ATTR | NVME_OAES_ANA_CHANGE);
	assert_int_equal(le32toh(id.ctratt), NVME_CTRATT_HOSTID_128 | NVME_CTRATT_TBKAS);
	assert_int_equal(id.cntrltype, NVME_CNTRLTYPE_IO);
	assert_int_equal(le16toh(id.oacs), 0);
	assert_int_equal(id.acl, 3);
	assert_int_equal(id.aerl, NVMF_AERL - 1);
	assert_int_equal(id.frmw, 0x3);
	assert_int_equal(id.lpa, NVME_LPA_CMD_EFFECTS | NVME_LPA_EXT_DATA);
	assert_int_equal(id.elpe, NVMF_ERR_LOG_SLOTS - 1);
	assert_int_equal(id.npss, 0);
	assert_int_equal(le16toh(id.kas), 10);
	assert_true(le16toh(id.wctemp) > 273 && le16toh(id.cctemp) > le16toh(id.wctemp));
	assert_int_equal(id.sqes, 0x66);
	assert_int_equal(id.cqes, 0x44);
	assert_int_equal(le16toh(id.maxcmd), 128);
	assert_int_equal(le32toh(id.nn), 1024);
	assert_int_equal(le32toh(id.mnan), 1024);
	assert_int_equal(le16toh(id.oncs), NVME_ONCS_COMPARE | NVME_ONCS_DSM |
					   NVME_ONCS_WRITE_ZEROES | NVME_ONCS_SAVE_SELECT |
					   NVME_ONCS_RESERVATIONS);
	assert_int_equal(le16toh(id.fuses), 0);
	assert_int_equal(id.vwc, 0x5); /* present, Flush to FFFFFFFFh not supported */
	assert_int_equal(le16toh(id.awun), 0);
	assert_int_equal(le16toh(id.awupf), 0);
	/* SGLs without alignment, in-capsule data by offset */
	assert_int_equal(le32toh(id.sgls), NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET);
	assert_memory_equal(id.subnqn, subnqn, sizeof(subnqn));
	/* the host refuses IOCCSZ < 4; 64 bytes of SQE plus 16 KiB in-capsule */
	assert_int_equal(le32toh(id.ioccsz), (64 + 16384) / 16);
	assert_int_equal(le32toh(id.iorcsz), 1);
	assert_int_equal(le16toh(id.icdoff), 0);
	assert_int_equal(id.fcatt, 0);
	assert_int_equal(id.msdbd, 1);
	assert_int_equal(le16toh(id.ofcs), 0);
	assert_true(le16toh(id.psd[0].mp) > 0);
	assert_true(all_zero(&id.psd[1], sizeof(id.psd) - sizeof(id.psd[0])));
	assert_true(all_zero(id.vs, sizeof(id.vs)));

	/* no in-capsule data: no SAOS, IOCCSZ is the SQE alone; tbkas off; MAXCMD from CAP */
	F->port.io_icd = 0;
	F->sub1.tbkas = false;
	F->ctrl.cap = 31;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CTRL, 0, 0), &id, sizeof(id)), 0);
	assert_int_equal(le32toh(id.sgls), NVME_SGLS_SUPPORTED);
	assert_int_equal(le32toh(id.ioccsz), 4);
	assert_int_equal(le32toh(id.ctratt), NVME_CTRATT_HOSTID_128);
	assert_int_equal(le16toh(id.maxcmd), 32);

	/* NN covers a configured NSID above 1024 */
	F->ctrl.subsys = &F->big;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CTRL, 0, 0), &id, sizeof(id)), 0);
	assert_int_equal(le32toh(id.nn), 3 * BIG_NS);
	assert_int_equal(le32toh(id.mnan), 3 * BIG_NS);
}

static void test_identify_ns(void **state)
{
	struct nvme_id_ns id;
	uint8_t nguid[16];

	(void)state;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS, 1, 0), &id, sizeof(id)), 0);
	assert_int_equal(le64toh(id.nsze), 2048);
	assert_int_equal(le64toh(id.ncap), 2048);
	assert_int_equal(le64toh(id.nuse), 2048);
	assert_int_equal(le128_lo(id.nvmcap), 1 << 20);
	assert_int_equal(id.nlbaf, 0);
	assert_int_equal(id.flbas, 0);
	assert_int_equal(id.lbaf[0].lbads, 9);
	assert_int_equal(le16toh(id.lbaf[0].ms), 0);
	assert_true(all_zero(&id.lbaf[1], sizeof(id.lbaf) - sizeof(id.lbaf[0])));
	assert_int_equal(id.nmic, NVME_NMIC_SHARED);
	/* RAM: deallocated blocks read zeroes, Write Zeroes DEAC supported */
	assert_int_equal(id.dlfeat, NVME_DLFEAT_WZ_DEAC | NVME_DLFEAT_READ_ZEROES);
	assert_int_equal(id.nsattr, 0);
	for (int i = 0; i < 16; i++)
		nguid[i] = (uint8_t)(0xB0 + i);
	assert_memory_equal(id.nguid, nguid, 16);
	assert_true(all_zero(id.eui64, sizeof(id.eui64)));
	assert_int_equal(le32toh(id.anagrpid), 1);
	assert_int_equal(id.nmic, NVME_NMIC_SHARED);

	/* the read-only block device with 4 KiB blocks, no NGUID */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS, 2, 0), &id, sizeof(id)), 0);
	assert_int_equal(le64toh(id.nsze), 256);
	assert_int_equal(id.lbaf[0].lbads, 12);
	assert_int_equal(id.nsattr, NVME_NSATTR_WRITE_PROTECTED);
	assert_int_equal(id.dlfeat, NVME_DLFEAT_WZ_DEAC); /* a discarded device block: unknown */
	assert_true(all_zero(id.nguid, sizeof(id.nguid)));

	/* an inactive NSID: a zeroed structure */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS, 7, 0), &id, sizeof(id)), 0);
	assert_true(all_zero(&id, sizeof(id)));
	/* invalid NSIDs */
	assert_int_equal(run(&F->asq, identify(NVME_CNS_NS, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_NS, NVME_NSID_ALL, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
}

static void test_identify_active_list(void **state)
{
	struct nvme_ns_list l;

	(void)state;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 0, 0), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 1);
	assert_int_equal(le32toh(l.nsid[1]), 2);
	assert_true(all_zero(&l.nsid[2], sizeof(l) - 8));
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 1, 0), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 2);
	assert_true(all_zero(&l.nsid[1], sizeof(l) - 4));
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 2, 0), &l,
				  sizeof(l)), 0);
	assert_true(all_zero(&l, sizeof(l)));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 0xFFFFFFFE, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, NVME_NSID_ALL, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));

	/* 1100 namespaces 3, 6, ..., 3300: a list holds the first 1024 above the start */
	F->ctrl.subsys = &F->big;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 0, 0), &l,
				  sizeof(l)), 0);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(le32toh(l.nsid[i]), 3u * (i + 1));
	/* the next page starts after the last NSID returned */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 3 * 1024, 0), &l,
				  sizeof(l)), 0);
	for (int i = 0; i < BIG_NS - 1024; i++)
		assert_int_equal(le32toh(l.nsid[i]), 3u * (1024 + i + 1));
	assert_true(all_zero(&l.nsid[BIG_NS - 1024], sizeof(l) - 4 * (BIG_NS - 1024)));
	/* a start between two NSIDs, with more than 1024 above it */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_ACTIVE_NS_LIST, 31, 0), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 33);
	assert_int_equal(le32toh(l.nsid[1023]), 33 + 3 * 1023);

	/* CNS 07h: the same for the NVM command set, nothing for others */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CSI_ACTIVE_NS_LIST, 3, NVME_CSI_NVM),
				  &l, sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 6);
	assert_int_equal(run(&F->asq, identify(NVME_CNS_CSI_ACTIVE_NS_LIST, 0, NVME_CSI_ZNS),
			     NULL), SC_DNR(NVME_SC_INVALID_FIELD));
}

static void test_identify_ns_desc(void **state)
{
	uint8_t b[4096];
	const uint8_t *p = b;

	(void)state;
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS_DESC_LIST, 1, 0), b, sizeof(b)),
			 0);
	/* UUID, NGUID, CSI, back to back after 4-byte headers, then zeroes */
	assert_int_equal(p[0], NVME_NIDT_UUID);
	assert_int_equal(p[1], 16);
	assert_int_equal(p[2] | p[3], 0);
	assert_memory_equal(p + 4, F->ns[0].uuid, 16);
	p += 20;
	assert_int_equal(p[0], NVME_NIDT_NGUID);
	assert_int_equal(p[1], 16);
	assert_memory_equal(p + 4, F->ns[0].nguid, 16);
	p += 20;
	assert_int_equal(p[0], NVME_NIDT_CSI);
	assert_int_equal(p[1], 1);
	assert_int_equal(p[4], NVME_CSI_NVM);
	p += 5;
	assert_true(all_zero(p, sizeof(b) - (size_t)(p - b)));

	/* no NGUID: UUID then CSI */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS_DESC_LIST, 2, 0), b, sizeof(b)),
			 0);
	assert_int_equal(b[0], NVME_NIDT_UUID);
	assert_memory_equal(b + 4, F->ns[1].uuid, 16);
	assert_int_equal(b[20], NVME_NIDT_CSI);
	assert_int_equal(b[21], 1);
	assert_true(all_zero(b + 25, sizeof(b) - 25));

	assert_int_equal(run(&F->asq, identify(NVME_CNS_NS_DESC_LIST, 9, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
}

static void test_identify_csi(void **state)
{
	uint8_t b[4096];
	struct nvme_id_ns_indep ind;
	struct nvme_id_iocs iocs;

	(void)state;
	/* CNS 05h / 06h for NVM: valid all-zero structures */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CSI_NS, 1, NVME_CSI_NVM), b,
				  sizeof(b)), 0);
	assert_true(all_zero(b, sizeof(b)));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_CSI_NS, 9, NVME_CSI_NVM), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_CSI_NS, 1, NVME_CSI_ZNS), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CSI_CTRL, 0, NVME_CSI_NVM), b,
				  sizeof(b)), 0);
	assert_true(all_zero(b, sizeof(b)));
	assert_int_equal(run(&F->asq, identify(NVME_CNS_CSI_CTRL, 0, NVME_CSI_KV), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* CNS 08h: shared, ready; RAM has no volatile cache */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CS_INDEP_NS, 1, 0), &ind,
				  sizeof(ind)), 0);
	assert_int_equal(ind.nmic, NVME_NMIC_SHARED);
	assert_int_equal(ind.nstat, 1);
	assert_int_equal(ind.nsattr, 0);
	assert_int_equal(ind.nsfeat, 1u << 5);
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CS_INDEP_NS, 2, 0), &ind,
				  sizeof(ind)), 0);
	assert_int_equal(ind.nsattr, NVME_NSATTR_WRITE_PROTECTED);
	assert_int_equal(ind.nsfeat, 0);
	assert_int_equal(run(&F->asq, identify(NVME_CNS_CS_INDEP_NS, 3, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));

	/* CNS 1Ch: the NVM command set alone */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_IOCS, 0, 0), &iocs, sizeof(iocs)),
			 0);
	assert_int_equal(le64toh(iocs.iocsc[0]), NVME_IOCS_NVM);
	assert_true(all_zero(&iocs.iocsc[1], sizeof(iocs) - 8));

	/* anything else */
	static const uint8_t bad[] = { NVME_CNS_NVMSET_LIST, NVME_CNS_ALLOC_NS_LIST,
				       NVME_CNS_CTRL_LIST, NVME_CNS_ENDGRP_LIST, 0xFF };
	for (size_t i = 0; i < sizeof(bad); i++)
		assert_int_equal(run(&F->asq, identify(bad[i], 0, 0), NULL),
				 SC_DNR(NVME_SC_INVALID_FIELD));
}

/* ------------------------------------------------------------------ log pages */

static void test_log_supported_and_effects(void **state)
{
	struct nvme_supported_logs_log s;
	struct nvme_cmd_effects_log e;
	struct nvme_sqe c;

	(void)state;
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SUPPORTED_LOGS, 0, 1024, 0, false),
				  &s, sizeof(s)), 0);
	for (unsigned lid = 0; lid < 256; lid++)
		assert_int_equal(le32toh(s.lids[lid]),
				 lid <= NVME_LID_CMD_EFFECTS || lid == NVME_LID_ANA ||
				 lid == NVME_LID_RESV_NOTIFICATION ? 1 : 0);

	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_CMD_EFFECTS, 0, 4096, 0, false), &e,
				  sizeof(e)), 0);
	assert_int_equal(le32toh(e.acs[NVME_ADM_IDENTIFY]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.acs[NVME_ADM_KEEP_ALIVE]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.acs[NVME_ADM_ASYNC_EVENT]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.acs[NVME_ADM_FORMAT_NVM]), 0);
	assert_int_equal(le32toh(e.acs[NVME_ADM_CREATE_IO_SQ]), 0);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_READ]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_COMPARE]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_FLUSH]), NVME_CE_CSUPP);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_WRITE]), NVME_CE_CSUPP | NVME_CE_LBCC);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_WRITE_ZEROES]), NVME_CE_CSUPP | NVME_CE_LBCC);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_DSM]), NVME_CE_CSUPP | NVME_CE_LBCC);
	assert_int_equal(le32toh(e.iocs[NVME_NVM_VERIFY]), 0);
	/* another command set */
	c = get_log(NVME_LID_CMD_EFFECTS, 0, 4096, 0, false);
	c.cdw14 = htole32((uint32_t)NVME_CSI_ZNS << 24);
	assert_int_equal(run(&F->asq, c, NULL), CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));

	/* unsupported logs, the discovery log on an I/O controller among them */
	static const uint8_t bad[] = { NVME_LID_SELF_TEST, NVME_LID_DISCOVERY, 0xC0 };
	struct nvme_resv_notif_log rl;

	/* the reservation notification log: empty reads as zeroes; an entry is read once,
	 * and a read without RAE re-arms the event */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_RESV_NOTIFICATION, 0, 64, 0, false),
				  &rl, sizeof(rl)), 0);
	assert_int_equal(le64toh(rl.count), 0);
	nvmf_resv_log_add(&F->ctrl.resv_log, NVME_RNLPT_RESV_RELEASED, 7);
	F->ctrl.resv_aen_masked = true;
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_RESV_NOTIFICATION, 0, 64, 0, true),
				  &rl, sizeof(rl)), 0);
	assert_int_equal(le64toh(rl.count), 1);
	assert_int_equal(rl.type, NVME_RNLPT_RESV_RELEASED);
	assert_int_equal(le32toh(rl.nsid), 7);
	assert_true(F->ctrl.resv_aen_masked);
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_RESV_NOTIFICATION, 0, 64, 0, false),
				  &rl, sizeof(rl)), 0);
	assert_int_equal(le64toh(rl.count), 0);
	assert_false(F->ctrl.resv_aen_masked);
	for (size_t i = 0; i < sizeof(bad); i++)
		assert_int_equal(run(&F->asq, get_log(bad[i], 0, 512, 0, false), NULL),
				 CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));
	/* index offsets are not supported */
	c = get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false);
	c.cdw14 = htole32(1u << 23);
	assert_int_equal(run(&F->asq, c, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
}

static void test_log_smart_windows(void **state)
{
	struct nvme_smart_log s;
	uint8_t b[1024];

	(void)state;
	/* what closed I/O queues did plus what the open one did so far */
	F->ctrl.retired.cmds[NVMF_STATS_READ] = 4;         /* read commands */
	F->ctrl.retired.cmds[NVMF_STATS_WRITE] = 20;       /* write commands */
	F->ctrl.retired.bytes[NVMF_STATS_READ] = 512000;   /* bytes read */
	F->ctrl.retired.bytes[NVMF_STATS_WRITE] = 512000;  /* bytes written */
	F->ctrl.io_sqs = &F->ioq;
	F->ioq.stats.cmds[NVMF_STATS_READ] = 6;            /* 10 read commands */
	F->ioq.stats.bytes[NVMF_STATS_READ] = 512000 + 1;  /* 3 units, rounded up */
	/* 20 write commands, exactly 1 unit written */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false),
				  &s, sizeof(s)), 0);
	assert_int_equal(s.critical_warning, 0);
	assert_int_equal(s.composite_temp[0] | (s.composite_temp[1] << 8), 313);
	assert_int_equal(s.avail_spare, 100);
	assert_int_equal(s.avail_spare_thresh, 10);
	assert_int_equal(s.percent_used, 0);
	assert_int_equal(le128_lo(s.data_units_read), 3);
	assert_int_equal(le128_lo(s.data_units_written), 1);
	assert_int_equal(le128_lo(s.host_reads), 10);
	assert_int_equal(le128_lo(s.host_writes), 20);
	assert_int_equal(le128_lo(s.num_err_log_entries), 0);
	/* NSID 0 is the controller too; a namespace is not (LPA bit 0 clear) */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, 0, 512, 0, false), &s,
				  sizeof(s)), 0);
	assert_int_equal(run(&F->asq, get_log(NVME_LID_SMART, 1, 512, 0, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* a window: 16 bytes at offset 32 are the data units read */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 16, 32, false),
				  b, 16), 0);
	assert_int_equal(le128_lo(b), 3);
	/* NUMD shorter than the page: truncated */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 4, 0, false),
				  b, 4), 0);
	assert_int_equal(b[1] | (b[2] << 8), 313);
	/* longer than the page: zeroes past its end */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 1024, 0, false),
				  b, 1024), 0);
	assert_int_equal(b[3], 100);
	assert_true(all_zero(b + 512, 512));
	/* an offset at the end returns zeroes; past it, or unaligned, is invalid */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 8, 512, false),
				  b, 8), 0);
	assert_true(all_zero(b, 8));
	assert_int_equal(run(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 8, 516, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 8, 2, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 8, 1ull << 32,
					     false), NULL), SC_DNR(NVME_SC_INVALID_FIELD));
}

static void test_log_error(void **state)
{
	struct nvme_error_log_entry e[NVMF_ERR_LOG_SLOTS];
	struct nvmf_req req;
	struct nvme_smart_log s;

	(void)state;
	/* empty */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_ERROR, 0, sizeof(e), 0, false), e,
				  sizeof(e)), 0);
	assert_true(all_zero(e, sizeof(e)));

	/* a failing admin command goes into the log through nvmf_req_complete() */
	assert_int_equal(run(&F->asq, sqe(NVME_ADM_FORMAT_NVM, 1, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_OPCODE));
	/* a read past the end on I/O queue 1 */
	memset(&req, 0, sizeof(req));
	req.sq = &F->ioq;
	req.cmd = sqe(NVME_NVM_READ, 2, 4096);
	req.cmd.cid = htole16(77);
	req.cmd.cdw10 = htole32(0x89ABCDEF);
	req.cmd.cdw11 = htole32(0x1);
	nvmf_tgt_ctrl_add_error(&F->ctrl, &req, SC_DNR(NVME_SC_LBA_OUT_OF_RANGE));

	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_ERROR, 0, sizeof(e), 0, false), e,
				  sizeof(e)), 0);
	/* newest first */
	assert_int_equal(le64toh(e[0].error_count), 2);
	assert_int_equal(le16toh(e[0].sqid), 1);
	assert_int_equal(le16toh(e[0].cid), 77);
	assert_int_equal(le16toh(e[0].status), SC_DNR(NVME_SC_LBA_OUT_OF_RANGE));
	assert_int_equal(le16toh(e[0].status) & NVME_STATUS_P, 0);
	assert_int_equal(le16toh(e[0].pel), 0xFFFF);
	assert_int_equal(le64toh(e[0].lba), 0x189ABCDEFull);
	assert_int_equal(le32toh(e[0].nsid), 2);
	assert_int_equal(e[0].trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(le64toh(e[1].error_count), 1);
	assert_int_equal(le16toh(e[1].sqid), 0);
	assert_int_equal(le16toh(e[1].cid), 0x1234);
	assert_int_equal(le16toh(e[1].status), SC_DNR(NVME_SC_INVALID_OPCODE));
	assert_int_equal(le16toh(e[1].pel), 0); /* the opcode byte */
	assert_int_equal(le64toh(e[1].lba), 0);
	assert_int_equal(le32toh(e[1].nsid), 1);
	assert_true(all_zero(&e[2], sizeof(e) - 2 * sizeof(e[0])));

	/* the ring: 70 more, the newest 64 are kept */
	for (int i = 0; i < 70; i++)
		nvmf_tgt_ctrl_add_error(&F->ctrl, &req, SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_ERROR, 0, sizeof(e), 0, false), e,
				  sizeof(e)), 0);
	for (int i = 0; i < NVMF_ERR_LOG_SLOTS; i++)
		assert_int_equal(le64toh(e[i].error_count), 72 - i);
	/* a window of two entries from the third */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_ERROR, 0, 128, 128, false), e, 128),
			 0);
	assert_int_equal(le64toh(e[0].error_count), 70);
	assert_int_equal(le64toh(e[1].error_count), 69);
	/* success is never logged */
	nvmf_tgt_ctrl_add_error(&F->ctrl, &req, 0);
	assert_int_equal(F->ctrl.err_count, 72);

	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false),
				  &s, sizeof(s)), 0);
	assert_int_equal(le128_lo(s.num_err_log_entries), 72);
}

static void test_log_fw_slot(void **state)
{
	struct nvme_fw_slot_log l;

	(void)state;
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_FW_SLOT, NVME_NSID_ALL, 512, 0,
						   false), &l, sizeof(l)), 0);
	assert_int_equal(l.afi, 1);
	assert_memory_equal(l.frs[0], "1.2.3   ", 8);
	assert_true(all_zero(l.frs[1], sizeof(l.frs) - 8));
}

/* ------------------------------------------------------------------ events */

/* Queue an AER: it stays outstanding (no completion). */
static struct nvmf_req *aer(struct nvmf_sq *sq)
{
	unsigned before = nr_done;
	struct nvmf_req *req = submit(sq, sqe(NVME_ADM_ASYNC_EVENT, 0, 0));

	assert_int_equal(nr_done, before);
	return req;
}

#define EV_NS_CHANGED NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED, 0x04)
#define EV_DISC NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED, 0x70)
#define EV_TEMP NVME_AER_DW0(NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH, 0x02)
#define EV_ERROR NVME_AER_DW0(NVME_AER_TYPE_ERROR, NVME_AER_ERROR_PERSISTENT_INTERNAL, 0x01)

static void test_aer(void **state)
{
	struct nvmf_req *r[NVMF_AERL];

	(void)state;
	assert_int_equal(EV_NS_CHANGED, 0x040002);
	assert_int_equal(EV_DISC, 0x70F002);

	/* four outstanding, the fifth is over the limit */
	for (int i = 0; i < NVMF_AERL; i++)
		r[i] = aer(&F->asq);
	assert_int_equal(F->ctrl.nr_aer_reqs, NVMF_AERL);
	assert_int_equal(run(&F->asq, sqe(NVME_ADM_ASYNC_EVENT, 0, 0), NULL),
			 CMD_SC_DNR(NVME_SC_AER_LIMIT_EXCEEDED));

	/* disabled by AEC: nothing */
	F->ctrl.aec = 0;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_NS_CHANGED);
	assert_int_equal(F->ctrl.nr_pending_aen, 0);

	/* enabled: the oldest AER completes with the event */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_NS_ATTR), NULL), 0);
	nr_done = 0;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_NS_CHANGED);
	assert_int_equal(nr_done, 1);
	assert_ptr_equal(last_done, r[0]);
	assert_int_equal(status_of(r[0]), 0);
	assert_int_equal(le32toh(r[0]->cqe.dw0), EV_NS_CHANGED);
	assert_int_equal(F->ctrl.nr_aer_reqs, NVMF_AERL - 1);

	/* masked until its log is read */
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_NS_CHANGED);
	assert_int_equal(nr_done, 1);
	/* not maskable: error events; the same one twice while pending is one */
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	assert_ptr_equal(last_done, r[1]);
	assert_int_equal(le32toh(r[1]->cqe.dw0), EV_ERROR);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	assert_ptr_equal(last_done, r[2]);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	assert_ptr_equal(last_done, r[3]);
	assert_int_equal(F->ctrl.nr_aer_reqs, 0);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	assert_int_equal(F->ctrl.nr_pending_aen, 1);
	assert_int_equal(nr_done, 4);

	/* an AER with an event pending completes at once */
	for (int i = 0; i < NVMF_AERL; i++)
		put_req(r[i]);
	r[0] = submit(&F->asq, sqe(NVME_ADM_ASYNC_EVENT, 0, 0));
	assert_int_equal(nr_done, 5);
	assert_ptr_equal(last_done, r[0]);
	assert_int_equal(le32toh(r[0]->cqe.dw0), EV_ERROR);
	assert_int_equal(F->ctrl.nr_pending_aen, 0);
	put_req(r[0]);

	/* reading the changed namespace list re-arms the event */
	assert_int_equal(run(&F->asq, get_log(NVME_LID_CHANGED_NS, 0, 4096, 0, false), NULL), 0);
	r[0] = aer(&F->asq);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_NS_CHANGED);
	assert_ptr_equal(last_done, r[0]);
	assert_int_equal(le32toh(r[0]->cqe.dw0), EV_NS_CHANGED);
	put_req(r[0]);

	/* a controller on its way out completes nothing */
	r[0] = aer(&F->asq);
	atomic_store(&F->ctrl.dying, true);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ERROR);
	assert_null(last_done);
	assert_int_equal(F->ctrl.nr_pending_aen, 0);
	put_req(r[0]);
}

static void test_changed_ns_log(void **state)
{
	struct nvme_changed_ns_log l;
	struct nvmf_req *r;

	(void)state;
	F->ctrl.aec = NVME_AEC_NS_ATTR;
	r = aer(&F->asq);
	nvmf_tgt_ctrl_ns_changed(&F->ctrl, 2);
	assert_ptr_equal(last_done, r);
	assert_int_equal(le32toh(r->cqe.dw0), EV_NS_CHANGED);
	put_req(r);
	nvmf_tgt_ctrl_ns_changed(&F->ctrl, 1);
	nvmf_tgt_ctrl_ns_changed(&F->ctrl, 2);
	assert_int_equal(F->ctrl.nr_pending_aen, 0); /* masked */

	/* RAE set: the list and the mask stay */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_CHANGED_NS, 0, 4096, 0, true), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 2);
	assert_int_equal(le32toh(l.nsid[1]), 1);
	assert_true(all_zero(&l.nsid[2], sizeof(l) - 8));
	assert_int_equal(F->ctrl.nr_changed_ns, 2);
	assert_true(F->ctrl.aen_masked & NVME_AEC_NS_ATTR);
	/* RAE clear: read, emptied, re-armed */
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_CHANGED_NS, 0, 4096, 0, false), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), 2);
	assert_int_equal(F->ctrl.nr_changed_ns, 0);
	assert_false(F->ctrl.aen_masked & NVME_AEC_NS_ATTR);
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_CHANGED_NS, 0, 4096, 0, false), &l,
				  sizeof(l)), 0);
	assert_true(all_zero(&l, sizeof(l)));

	/* more than 1024 changes: FFFFFFFFh alone */
	for (uint32_t nsid = 1; nsid <= 1025; nsid++)
		nvmf_tgt_ctrl_ns_changed(&F->ctrl, nsid);
	assert_int_equal(F->ctrl.nr_pending_aen, 1);
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_CHANGED_NS, 0, 4096, 0, false), &l,
				  sizeof(l)), 0);
	assert_int_equal(le32toh(l.nsid[0]), NVME_NSID_ALL);
	assert_true(all_zero(&l.nsid[1], sizeof(l) - 4));
	assert_false(F->ctrl.changed_ns_overflow);
}

/* ------------------------------------------------------------------ features */

static void test_features_queues(void **state)
{
	uint32_t dw0;

	(void)state;
	/* 0's based: asking 8 SQs and 4 CQs of a subsystem allowing 4 grants 4 pairs */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_NUM_QUEUES, NVME_FEAT_NQ(7, 3)), &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_NQ(3, 3));
	assert_int_equal(F->ctrl.nr_io_queues, 4);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_NUM_QUEUES, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_NQ(3, 3));
	/* fewer than allowed: what was asked */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_NUM_QUEUES, NVME_FEAT_NQ(1, 1)), &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_NQ(1, 1));
	assert_int_equal(F->ctrl.nr_io_queues, 2);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_NUM_QUEUES, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_NQ(1, 1));
	/* default: what the subsystem allows */
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_NUM_QUEUES, NVME_FEAT_SEL_DEFAULT, 0, 0),
			     &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_NQ(3, 3));
	/* 65535 is invalid */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_NUM_QUEUES, NVME_FEAT_NQ(0xFFFF, 0)),
			     NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	/* once an I/O queue is connected, the count is fixed */
	F->ctrl.io_sqs = &F->ioq;
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_NUM_QUEUES, NVME_FEAT_NQ(0, 0)), NULL),
			 SC_DNR(NVME_SC_CMD_SEQ_ERROR));
	assert_int_equal(F->ctrl.nr_io_queues, 2);
	F->ctrl.io_sqs = NULL;
}

static void test_features(void **state)
{
	uint8_t hostid[16];
	uint32_t dw0;
	struct nvme_sqe c;

	(void)state;
	/* KATO: rounded up to whole seconds, the timer re-armed */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_KATO, 1500), NULL), 0);
	assert_int_equal(F->ctrl.kato_ms, 2000);
	assert_int_equal(keep_alive_calls, 1);
	assert_true(F->ctrl.ka_timer.armed);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_KATO, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 2000);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_KATO, 0xFFFFFFFF), NULL), 0);
	assert_int_equal(F->ctrl.kato_ms, 4294967000u);

	/* Async Event Configuration: what OAES offers and SMART warnings */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_NS_ATTR | 0x2),
			     NULL), 0);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_ASYNC_EVENT, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, NVME_AEC_NS_ATTR | 0x2);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_DISC_LOG_CHANGE),
			     NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_TELEMETRY), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(F->ctrl.aec, NVME_AEC_NS_ATTR | 0x2);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_ASYNC_EVENT, NVME_FEAT_SEL_DEFAULT, 0, 0),
			     &dw0), 0);
	assert_int_equal(dw0, NVME_AEC_NS_ATTR | NVME_AEC_ANA_CHANGE);

	/* SV: nothing is saveable; SEL saved = default; capabilities */
	c = set_feat(NVME_FID_KATO, 1000);
	c.cdw10 |= htole32(NVME_FEAT_CDW10_SV);
	assert_int_equal(run(&F->asq, c, NULL), CMD_SC_DNR(NVME_SC_FEATURE_NOT_SAVEABLE));
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_KATO, NVME_FEAT_SEL_SAVED, 0, 0), &dw0),
			 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_KATO, NVME_FEAT_SEL_SUPPORTED_CAPS, 0, 0),
			     &dw0), 0);
	assert_int_equal(dw0, NVME_FEAT_CAP_CHANGEABLE);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_VOLATILE_WC, NVME_FEAT_SEL_SUPPORTED_CAPS,
					       0, 0), &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_KATO, 4, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* volatile write cache: reported enabled, not changeable */
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_VOLATILE_WC, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_VOLATILE_WC, 0), NULL),
			 CMD_SC_DNR(NVME_SC_FEATURE_NOT_CHANGEABLE));
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_ERR_RECOVERY, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ERR_RECOVERY, NVME_FEAT_ERR_DULBE), NULL),
			 CMD_SC_DNR(NVME_SC_FEATURE_NOT_CHANGEABLE));
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_WRITE_ATOMICITY, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 0);

	/* power management: state 0 only */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_POWER_MGMT, 0), NULL), 0);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_POWER_MGMT, 1), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_POWER_MGMT, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 0);

	/* host identifier: the 128-bit one only, set at Connect */
	assert_int_equal(run_data(&F->asq, get_feat(NVME_FID_HOST_ID, 0, NVME_FEAT_HOSTID_EXHID,
						    16), hostid, 16), 0);
	assert_memory_equal(hostid, F->ctrl.hostid, 16);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_HOST_ID, 0, 0, 16), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	c = set_feat(NVME_FID_HOST_ID, NVME_FEAT_HOSTID_EXHID);
	c.dptr.sgl.length = htole32(16);
	c.dptr.sgl.id = NVME_SGL_ID_TRANSPORT;
	assert_int_equal(run(&F->asq, c, NULL), SC_DNR(NVME_SC_CMD_SEQ_ERROR));

	/* not offered: interrupt features (PCIe), timestamp, host behavior, vendor */
	static const uint8_t bad[] = { NVME_FID_ARBITRATION, NVME_FID_LBA_RANGE,
				       NVME_FID_IRQ_COALESCE, NVME_FID_IRQ_CONFIG, NVME_FID_AUTO_PST,
				       0xC0 };
	for (size_t i = 0; i < sizeof(bad); i++) {
		assert_int_equal(run(&F->asq, set_feat(bad[i], 0), NULL),
				 SC_DNR(NVME_SC_INVALID_FIELD));
		assert_int_equal(run(&F->asq, get_feat(bad[i], 0, 0, 0), NULL),
				 SC_DNR(NVME_SC_INVALID_FIELD));
	}
	c = get_feat(NVME_FID_TIMESTAMP, 0, 0, 8);
	assert_int_equal(run(&F->asq, c, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	/* the reservation features are per namespace: NSID 0 names none */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_RESV_MASK, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_RESV_PERSIST, 0, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
}

static void test_features_temperature(void **state)
{
	struct nvme_smart_log s;
	struct nvmf_req *r, *set;
	uint32_t dw0;

	(void)state;
	/* defaults: over = WCTEMP, under = 0 */
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_TEMP_THRESH, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 343);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_TEMP_THRESH, 0, 1u << 20, 0), &dw0), 0);
	assert_int_equal(dw0, 0);
	/* sensors 1..8 do not exist */
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_TEMP_THRESH, 0, 1u << 16, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_TEMP_THRESH, 2u << 20), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* an over-threshold below the temperature: warning bit and an event if enabled */
	F->ctrl.aec = 0x2;
	r = aer(&F->asq);
	nr_done = 0;
	set = submit(&F->asq, set_feat(NVME_FID_TEMP_THRESH, 300));
	assert_int_equal(nr_done, 2); /* the AER, then the Set Features */
	assert_ptr_equal(last_done, set);
	assert_int_equal(status_of(set), 0);
	assert_int_equal(status_of(r), 0);
	assert_int_equal(le32toh(r->cqe.dw0), EV_TEMP);
	put_req(set);
	put_req(r);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_TEMP_THRESH, 0, 0xF0000, 0), &dw0), 0);
	assert_int_equal(dw0, 300);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_TEMP_THRESH, NVME_FEAT_SEL_DEFAULT, 0, 0),
			     &dw0), 0);
	assert_int_equal(dw0, 343);
	assert_true(F->ctrl.aen_masked & 0x2);
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false),
				  &s, sizeof(s)), 0);
	assert_int_equal(s.critical_warning, NVME_SMART_CRIT_TEMPERATURE);
	assert_false(F->ctrl.aen_masked & 0x2);
	/* back to normal */
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_TEMP_THRESH, 350), NULL), 0);
	assert_int_equal(run_data(&F->asq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false),
				  &s, sizeof(s)), 0);
	assert_int_equal(s.critical_warning, 0);
}

static void test_keep_alive_abort(void **state)
{
	uint32_t dw0;

	(void)state;
	assert_false(F->ctrl.ka_timer.armed);
	assert_int_equal(run(&F->asq, sqe(NVME_ADM_KEEP_ALIVE, 0, 0), NULL), 0);
	assert_int_equal(keep_alive_calls, 1);
	assert_true(F->ctrl.ka_timer.armed);
	F->ctrl.kato_ms = 0;
	assert_int_equal(run(&F->asq, sqe(NVME_ADM_KEEP_ALIVE, 0, 0), NULL),
			 NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_KA_TIMEOUT_INVALID));
	assert_int_equal(keep_alive_calls, 1);
	assert_int_equal(run(&F->asq, sqe(NVME_ADM_ABORT, 0, 0), &dw0), 0);
	assert_int_equal(dw0, 1);
}

/* ------------------------------------------------------------------ discovery */

static void test_discovery_identify_features(void **state)
{
	struct nvme_id_ctrl id;
	char subnqn[256] = DISC_NQN;
	uint32_t dw0;
	struct nvmf_req *r;

	(void)state;
	assert_int_equal(run_data(&F->dsq, identify(NVME_CNS_CTRL, 0, 0), &id, sizeof(id)), 0);
	assert_int_equal(id.cntrltype, NVME_CNTRLTYPE_DISCOVERY);
	assert_memory_equal(id.subnqn, subnqn, sizeof(subnqn));
	assert_memory_equal(id.mn, "nvmf-tcp discovery                      ", 40);
	assert_int_equal(le32toh(id.nn), 0);
	assert_int_equal(le16toh(id.oncs), 0);
	assert_int_equal(id.cmic, 0);
	assert_int_equal(le32toh(id.oaes), NVME_OAES_DISC_LOG_CHANGE);
	assert_int_equal(id.lpa, NVME_LPA_EXT_DATA);
	assert_int_equal(le16toh(id.kas), 10);
	assert_int_equal(le16toh(id.maxcmd), 128);
	assert_int_equal(le16toh(id.cntlid), 5);
	assert_int_equal(le32toh(id.sgls), NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET);
	assert_int_equal(le32toh(id.ioccsz), 0);
	assert_int_equal(id.sqes, 0);
	/* namespaces do not exist here */
	assert_int_equal(run(&F->dsq, identify(NVME_CNS_NS, 1, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->dsq, identify(NVME_CNS_ACTIVE_NS_LIST, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	/* nor most commands */
	assert_int_equal(run(&F->dsq, sqe(NVME_ADM_ABORT, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_OPCODE));
	assert_int_equal(run(&F->dsq, sqe(NVME_ADM_FORMAT_NVM, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_OPCODE));

	/* features: KATO and AEC only, AEC is the discovery log change */
	assert_int_equal(run(&F->dsq, get_feat(NVME_FID_KATO, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, NVMF_DISC_KATO_MS);
	assert_int_equal(run(&F->dsq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_DISC_LOG_CHANGE),
			     NULL), 0);
	assert_int_equal(run(&F->dsq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_NS_ATTR), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->dsq, get_feat(NVME_FID_ASYNC_EVENT, 0, 0, 0), &dw0), 0);
	assert_int_equal(dw0, NVME_AEC_DISC_LOG_CHANGE);
	assert_int_equal(run(&F->dsq, get_feat(NVME_FID_VOLATILE_WC, 0, 0, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->dsq, set_feat(NVME_FID_NUM_QUEUES, 0), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->dsq, sqe(NVME_ADM_KEEP_ALIVE, 0, 0), NULL), 0);
	assert_int_equal(keep_alive_calls, 1);
	assert_true(F->dctrl.ka_timer.armed);

	/* the discovery change event */
	r = aer(&F->dsq);
	nvmf_tgt_ctrl_add_aen(&F->dctrl, EV_DISC);
	assert_ptr_equal(last_done, r);
	assert_int_equal(le32toh(r->cqe.dw0), EV_DISC);
	put_req(r);
}

/* A NUL-padded ASCII field holds exactly s. */
static void assert_field(const char *field, size_t len, const char *s)
{
	size_t n = strlen(s);

	assert_true(n <= len);
	assert_memory_equal(field, s, n);
	assert_true(all_zero(field + n, len - n));
}

static void test_discovery_log(void **state)
{
	_Alignas(8) uint8_t b[6 * 1024];
	const struct nvmf_disc_log_hdr *h = (const void *)b;
	const struct nvmf_disc_log_entry *e = (const void *)(b + 1024);
	struct nvme_supported_logs_log s;

	(void)state;
	/* the header alone, as hosts read it first */
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 0, false), b,
				  1024), 0);
	assert_int_equal(le64toh(h->genctr), 42);
	/* current discovery subsystem, vol1 (vol2 does not allow this host), one referral */
	assert_int_equal(le64toh(h->numrec), 3);
	assert_int_equal(le16toh(h->recfmt), 0);
	assert_true(all_zero(h->rsvd18, sizeof(h->rsvd18)));

	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 4096, 0, false), b,
				  4096), 0);
	/* entry 0: this discovery subsystem on this port */
	assert_int_equal(e[0].trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(e[0].adrfam, NVMF_ADRFAM_IPV4);
	assert_int_equal(e[0].subtype, NVMF_SUBTYPE_DISCOVERY_CURRENT);
	assert_int_equal(e[0].treq, NVMF_TREQ_SECURE_NOT_SPECIFIED | NVMF_TREQ_DISABLE_SQFLOW);
	assert_int_equal(le16toh(e[0].portid), 1);
	assert_int_equal(le16toh(e[0].cntlid), 0xFFFF);
	assert_int_equal(le16toh(e[0].asqsz), 32);
	assert_int_equal(le16toh(e[0].eflags), 0);
	assert_field(e[0].trsvcid, sizeof(e[0].trsvcid), "4420");
	assert_field(e[0].traddr, sizeof(e[0].traddr), "192.0.2.10");
	assert_field(e[0].subnqn, sizeof(e[0].subnqn), DISC_NQN);
	assert_int_equal(e[0].tsas.tcp.sectype, NVMF_TCP_SECTYPE_NONE);
	assert_true(all_zero(e[0].rsvd12, sizeof(e[0].rsvd12)));
	/* entry 1: vol1 */
	assert_int_equal(e[1].subtype, NVMF_SUBTYPE_NVME);
	assert_int_equal(e[1].treq, NVMF_TREQ_DISABLE_SQFLOW);
	assert_int_equal(le16toh(e[1].portid), 1);
	assert_int_equal(le16toh(e[1].cntlid), 0xFFFF);
	assert_field(e[1].subnqn, sizeof(e[1].subnqn), NQN1);
	assert_field(e[1].traddr, sizeof(e[1].traddr), "192.0.2.10");
	assert_field(e[1].trsvcid, sizeof(e[1].trsvcid), "4420");
	/* entry 2: the enabled TCP referral (not the disabled one, not the PCI one) */
	assert_int_equal(e[2].subtype, NVMF_SUBTYPE_DISCOVERY_REFERRAL);
	assert_int_equal(e[2].trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(e[2].adrfam, NVMF_ADRFAM_IPV4);
	assert_int_equal(e[2].treq, NVMF_TREQ_SECURE_NOT_REQUIRED);
	assert_int_equal(le16toh(e[2].portid), 7);
	assert_int_equal(le16toh(e[2].cntlid), 0xFFFF);
	assert_field(e[2].subnqn, sizeof(e[2].subnqn), NVMF_DISCOVERY_NQN);
	assert_field(e[2].traddr, sizeof(e[2].traddr), "192.0.2.99");
	assert_field(e[2].trsvcid, sizeof(e[2].trsvcid), "8009");

	/* a window that starts at entry 0 */
	memset(b, 0xEE, sizeof(b));
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 1024, false), b,
				  1024), 0);
	assert_int_equal(((const struct nvmf_disc_log_entry *)b)->subtype,
			 NVMF_SUBTYPE_DISCOVERY_CURRENT);
	assert_field(((const struct nvmf_disc_log_entry *)b)->subnqn, 256, DISC_NQN);
	/* from the middle of entry 1 to past the end: zeroes after entry 2 */
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 2048, 2048 + 256,
						   false), b, 2048), 0);
	assert_field((const char *)b, 256, NQN1);
	assert_int_equal(b[768 + 2], NVMF_SUBTYPE_DISCOVERY_REFERRAL);
	assert_true(all_zero(b + 768 + 1024, 2048 - 768 - 1024));
	/* past the end of the log */
	assert_int_equal(run(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 5 * 1024, false),
			     NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 6, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* a host vol2 allows sees both subsystems */
	snprintf(F->dctrl.hostnqn, sizeof(F->dctrl.hostnqn), "%s", OTHER_HOSTNQN);
	atomic_store(&F->tgt.genctr, 43);
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 6144, 0, false), b,
				  6144), 0);
	assert_int_equal(le64toh(h->genctr), 43);
	assert_int_equal(le64toh(h->numrec), 4);
	assert_field(e[1].subnqn, 256, NQN1);
	assert_field(e[2].subnqn, 256, NQN2);
	assert_int_equal(e[3].subtype, NVMF_SUBTYPE_DISCOVERY_REFERRAL);
	assert_true(all_zero(b + 5 * 1024, 1024));

	/* other logs */
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_SUPPORTED_LOGS, 0, 1024, 0, false),
				  &s, sizeof(s)), 0);
	for (unsigned lid = 0; lid < 256; lid++)
		assert_int_equal(le32toh(s.lids[lid]),
				 lid == 0 || lid == NVME_LID_DISCOVERY ? 1 : 0);
	assert_int_equal(run(&F->dsq, get_log(NVME_LID_SMART, NVME_NSID_ALL, 512, 0, false),
			     NULL), CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));
}

static void test_discovery_log_port_kinds(void **state)
{
	_Alignas(8) uint8_t b[2048];
	const struct nvmf_disc_log_entry *e = (const void *)(b + 1024);

	(void)state;
	/* a wildcard listener: the address this host connected to */
	F->cport.traddr = "0.0.0.0";
	F->cport.tsas = NVMF_CFG_TSAS_TLS13;
	F->cport.treq = NVMF_CFG_TREQ_REQUIRED;
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 2048, 0, false), b,
				  2048), 0);
	assert_field(e[0].traddr, sizeof(e[0].traddr), "10.1.2.3");
	assert_int_equal(e[0].tsas.tcp.sectype, NVMF_TCP_SECTYPE_TLS13);
	assert_int_equal(e[0].treq, NVMF_TREQ_SECURE_REQUIRED | NVMF_TREQ_DISABLE_SQFLOW);
	/* IPv6 wildcard; a transport that cannot tell keeps the configured address */
	F->cport.traddr = "::";
	F->cport.adrfam = NVMF_CFG_ADRFAM_IPV6;
	local_addr_answer = NULL;
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 2048, 0, false), b,
				  2048), 0);
	assert_int_equal(e[0].adrfam, NVMF_ADRFAM_IPV6);
	assert_field(e[0].traddr, sizeof(e[0].traddr), "::");
	/* a specific address is never replaced */
	local_addr_answer = "10.1.2.3";
	F->cport.traddr = "2001:db8::1";
	assert_int_equal(run_data(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 2048, 0, false), b,
				  2048), 0);
	assert_field(e[0].traddr, sizeof(e[0].traddr), "2001:db8::1");
}

static void test_discovery_log_rae(void **state)
{
	struct nvmf_req *r;

	(void)state;
	F->dctrl.aec = NVME_AEC_DISC_LOG_CHANGE;
	r = aer(&F->dsq);
	nvmf_tgt_ctrl_add_aen(&F->dctrl, EV_DISC);
	assert_ptr_equal(last_done, r);
	put_req(r);
	/* masked until the log is read with RAE clear */
	r = aer(&F->dsq);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->dctrl, EV_DISC);
	assert_null(last_done);
	assert_int_equal(run(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 0, true), NULL), 0);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->dctrl, EV_DISC);
	assert_null(last_done);
	assert_int_equal(F->dctrl.nr_pending_aen, 0);
	assert_int_equal(run(&F->dsq, get_log(NVME_LID_DISCOVERY, 0, 1024, 0, false), NULL), 0);
	nvmf_tgt_ctrl_add_aen(&F->dctrl, EV_DISC);
	assert_ptr_equal(last_done, r);
	assert_int_equal(le32toh(r->cqe.dw0), EV_DISC);
	put_req(r);
}

/* ------------------------------------------------------------------ ANA */

#define EV_ANA NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA_CHANGE, NVME_LID_ANA)

static struct nvme_sqe get_ana_log(uint32_t len, uint64_t off, bool rgo, bool rae)
{
	struct nvme_sqe c = get_log(NVME_LID_ANA, 0, len, off, rae);

	if (rgo)
		c.cdw10 |= htole32(NVME_ANA_LSP_RGO << NVME_GLP_CDW10_LSP_SHIFT);
	return c;
}

/* Check the descriptor at off: group, state, change count, NSIDs; returns the next offset. */
static size_t check_desc(const uint8_t *log, size_t off, uint32_t grpid, uint8_t state,
			 uint64_t chgcnt, const uint32_t *nsids, uint32_t n)
{
	struct nvme_ana_group_desc d;

	memcpy(&d, log + off, sizeof(d));
	assert_int_equal(le32toh(d.grpid), grpid);
	assert_int_equal(d.state, state);
	assert_int_equal(le64toh(d.chgcnt), chgcnt);
	assert_int_equal(le32toh(d.nnsids), n);
	assert_true(all_zero(d.rsvd17, sizeof(d.rsvd17)));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v;

		memcpy(&v, log + off + sizeof(d) + 4 * i, 4);
		assert_int_equal(le32toh(v), nsids[i]);
	}
	return off + sizeof(d) + 4 * n;
}

/*
 * The ANA log as the controller's port sees it: the port's groups and the groups of the
 * subsystem's namespaces (one the port does not define reads inaccessible), with and
 * without RGO, read in windows; Identify reports each namespace's group.
 */
static void test_ana_log(void **state)
{
	struct nvme_ana_log_hdr h;
	struct nvme_id_ns id;
	uint8_t log[4096], log2[4096];
	static const uint32_t ns1[] = { 1 }, ns2[] = { 2 };
	size_t off;

	(void)state;
	F->ns[1].anagrpid = 3; /* a group port 1 does not define */
	atomic_store(&F->tgt.ana_chgcnt, 7);

	assert_int_equal(run_data(&F->asq, get_ana_log(4096, 0, false, false), log, sizeof(log)),
			 0);
	memcpy(&h, log, sizeof(h));
	assert_int_equal(le64toh(h.chgcnt), 7);
	assert_int_equal(le16toh(h.ngrps), 3);
	off = check_desc(log, sizeof(h), 1, NVME_ANA_OPTIMIZED, 7, ns1, 1);
	off = check_desc(log, off, 2, NVME_ANA_NON_OPTIMIZED, 7, NULL, 0);
	off = check_desc(log, off, 3, NVME_ANA_INACCESSIBLE, 7, ns2, 1);
	assert_int_equal(off, 16 + 32 + 4 + 32 + 32 + 4);
	assert_true(all_zero(log + off, sizeof(log) - off));

	/* groups only: no NSID lists, nnsids 0 */
	assert_int_equal(run_data(&F->asq, get_ana_log(4096, 0, true, false), log2, sizeof(log2)),
			 0);
	memcpy(&h, log2, sizeof(h));
	assert_int_equal(le16toh(h.ngrps), 3);
	off = check_desc(log2, sizeof(h), 1, NVME_ANA_OPTIMIZED, 7, NULL, 0);
	off = check_desc(log2, off, 2, NVME_ANA_NON_OPTIMIZED, 7, NULL, 0);
	off = check_desc(log2, off, 3, NVME_ANA_INACCESSIBLE, 7, NULL, 0);
	assert_int_equal(off, 16 + 3 * 32);
	assert_true(all_zero(log2 + off, sizeof(log2) - off));

	/* a window: the second descriptor and what follows */
	assert_int_equal(run_data(&F->asq, get_ana_log(64, 52, false, false), log2, 64), 0);
	assert_memory_equal(log2, log + 52, 64);
	/* past the end, unaligned: Invalid Field */
	assert_int_equal(run(&F->asq, get_ana_log(64, 124, false, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, get_ana_log(64, 2, false, false), NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));

	/* Identify Namespace and the I/O command set independent structure carry the group */
	assert_int_equal(run_data(&F->asq, identify(NVME_CNS_NS, 2, 0), &id, sizeof(id)), 0);
	assert_int_equal(le32toh(id.anagrpid), 3);
	assert_int_equal(id.nmic, NVME_NMIC_SHARED);
	{
		struct nvme_id_ns_indep ind;

		assert_int_equal(run_data(&F->asq, identify(NVME_CNS_CS_INDEP_NS, 2, 0), &ind,
					  sizeof(ind)), 0);
		assert_int_equal(le32toh(ind.anagrpid), 3);
		assert_int_equal(ind.nmic, NVME_NMIC_SHARED);
	}
}

/* The ANA change event: on by default, masked once reported, re-armed by a read without RAE. */
static void test_ana_event(void **state)
{
	struct nvmf_req *r;
	uint32_t dw0;

	(void)state;
	assert_int_equal(EV_ANA, 0x0C0302);
	assert_int_equal(run(&F->asq, get_feat(NVME_FID_ASYNC_EVENT, 0, 0, 0), &dw0), 0);
	F->ctrl.aec = NVME_AEC_NS_ATTR | NVME_AEC_ANA_CHANGE; /* what Connect gives */
	r = aer(&F->asq);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ANA);
	assert_ptr_equal(last_done, r);
	assert_int_equal(le32toh(r->cqe.dw0), EV_ANA);
	put_req(r);
	/* masked: a second change is not reported until the log is read */
	r = aer(&F->asq);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ANA);
	assert_null(last_done);
	/* RAE set: still masked */
	assert_int_equal(run(&F->asq, get_ana_log(4096, 0, false, true), NULL), 0);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ANA);
	assert_null(last_done);
	/* RAE clear (what the Linux host sends): re-armed */
	assert_int_equal(run(&F->asq, get_ana_log(4096, 0, true, false), NULL), 0);
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ANA);
	assert_ptr_equal(last_done, r);
	assert_int_equal(le32toh(r->cqe.dw0), EV_ANA);
	put_req(r);
	/* disabled by the host: nothing */
	assert_int_equal(run(&F->asq, get_ana_log(4096, 0, false, false), NULL), 0);
	assert_int_equal(run(&F->asq, set_feat(NVME_FID_ASYNC_EVENT, NVME_AEC_NS_ATTR), NULL), 0);
	r = aer(&F->asq);
	last_done = NULL;
	nvmf_tgt_ctrl_add_aen(&F->ctrl, EV_ANA);
	assert_null(last_done);
	assert_int_equal(F->ctrl.nr_pending_aen, 0);
	put_req(r);
}

/* Parse a one-block Read of nsid on the I/O queue: the status nvmf_req_init gives. */
static uint16_t io_read_status(uint32_t nsid)
{
	struct nvmf_req req;
	struct nvme_sqe c = sqe(NVME_NVM_READ, nsid, 512);

	if (nsid == 2)
		c.dptr.sgl.length = htole32(4096);
	memset(&req, 0, sizeof(req));
	req.cmd = c;
	return nvmf_req_init(&req, &F->ioq, 0);
}

/*
 * I/O through a port where the namespace's group is inaccessible, persistent-loss or
 * changing gets the path status (SCT 3) without DNR, so the host tries another path;
 * optimized and non-optimized serve.  Admin commands are not concerned.
 */
static void test_ana_io_status(void **state)
{
	(void)state;
	F->ns[1].anagrpid = 2;
	assert_int_equal(io_read_status(1), 0);
	assert_int_equal(io_read_status(2), 0);             /* non-optimized serves */
	F->ana[1].state = NVMF_CFG_ANA_INACCESSIBLE;
	assert_int_equal(io_read_status(2), 0x0302 << 1);   /* SCT 3 SC 02h, no DNR */
	assert_int_equal(io_read_status(2), NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE));
	F->ana[1].state = NVMF_CFG_ANA_PERSISTENT_LOSS;
	assert_int_equal(io_read_status(2), NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS));
	F->ana[1].state = NVMF_CFG_ANA_CHANGE;
	assert_int_equal(io_read_status(2), NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION));
	assert_false(NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION) & NVME_STATUS_DNR);
	/* a group the port does not define: inaccessible through it */
	F->ns[1].anagrpid = 9;
	assert_int_equal(io_read_status(2), NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE));
	/* the namespace still identifies on the admin queue */
	assert_int_equal(run(&F->asq, identify(NVME_CNS_NS, 2, 0), NULL), 0);
	/* a namespace that does not exist is still Invalid Namespace first */
	assert_int_equal(io_read_status(77), SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_lengths),
		T(test_identify_ctrl),
		T(test_identify_ns),
		T(test_identify_active_list),
		T(test_identify_ns_desc),
		T(test_identify_csi),
		T(test_log_supported_and_effects),
		T(test_log_smart_windows),
		T(test_log_error),
		T(test_log_fw_slot),
		T(test_aer),
		T(test_changed_ns_log),
		T(test_features_queues),
		T(test_features),
		T(test_features_temperature),
		T(test_keep_alive_abort),
		T(test_discovery_identify_features),
		T(test_discovery_log),
		T(test_discovery_log_port_kinds),
		T(test_discovery_log_rae),
		T(test_ana_log),
		T(test_ana_event),
		T(test_ana_io_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
