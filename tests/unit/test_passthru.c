/*
 * Passthrough subsystems: the command filter and the Identify adjustments
 * (passthru_filter.c) on made-up Identify data, and the configuration errors of
 * nvmf_passthru_open() through nvmf_tgt_create() (no NVMe controller is needed for those;
 * the kernel test bed's test-passthru.sh drives a real one).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "target/passthru.h"
#include "target/target.h"

#define BAD_OPCODE NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE)
#define BAD_FIELD NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)

static struct nvme_sqe cmd(uint8_t opcode, uint32_t cdw10, uint32_t cdw11)
{
	struct nvme_sqe c;

	memset(&c, 0, sizeof(c));
	c.opcode = opcode;
	c.cdw10 = htole32(cdw10);
	c.cdw11 = htole32(cdw11);
	return c;
}

static enum nvmf_pt_route admin(uint8_t opcode, uint32_t cdw10, uint32_t cdw11, uint16_t *st)
{
	struct nvme_sqe c = cmd(opcode, cdw10, cdw11);

	*st = 0xFFFF;
	return nvmf_pt_admin_route(&c, st);
}

static void admin_routes(void **state)
{
	uint16_t st;

	(void)state;
	/* to the drive */
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_CTRL, 0, &st), NVMF_PT_FORWARD);
	assert_int_equal(st, 0);
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_NS, 0, &st), NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_ACTIVE_NS_LIST, 0, &st),
			 NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_NS_DESC_LIST, 0, &st),
			 NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_GET_LOG_PAGE, 0x7f0002, 0, &st), NVMF_PT_FORWARD);
	assert_int_equal(admin(0xC4, 0, 0, &st), NVMF_PT_FORWARD); /* vendor specific */
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, NVME_FID_VOLATILE_WC, 0, &st),
			 NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_TEMP_THRESH, 0, &st),
			 NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, NVME_FID_HOST_BEHAVIOR, 0, &st),
			 NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, 0xC1, 0, &st), NVMF_PT_FORWARD);
	/* command-set-specific Identify: zoned only (CSI in CDW11 bits 31:24) */
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_CSI_CTRL,
			       (uint32_t)NVME_CSI_ZNS << 24, &st), NVMF_PT_FORWARD);
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_CSI_CTRL, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(st, BAD_OPCODE);
	assert_int_equal(admin(NVME_ADM_IDENTIFY, NVME_CNS_CSI_NS, 0, &st), NVMF_PT_REFUSE);

	/* the fabric controller's own */
	assert_int_equal(admin(NVME_ADM_KEEP_ALIVE, 0, 0, &st), NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_ASYNC_EVENT, 0, 0, &st), NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_ABORT, 0, 0, &st), NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_NUM_QUEUES, 0, &st),
			 NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, NVME_FID_KATO, 0, &st), NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_ASYNC_EVENT, 0, &st),
			 NVMF_PT_EMULATE);
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, NVME_FID_HOST_ID, 0, &st),
			 NVMF_PT_EMULATE);
	/* the FID is CDW10 bits 7:0 only: a select value above it changes nothing */
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, (1u << 8) | NVME_FID_KATO, 0, &st),
			 NVMF_PT_EMULATE);

	/* refused: they would act on the drive or on the target's own host */
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_HOST_BEHAVIOR, 0, &st),
			 NVMF_PT_REFUSE);
	assert_int_equal(st, BAD_FIELD);
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_IRQ_COALESCE, 0, &st),
			 NVMF_PT_REFUSE);
	assert_int_equal(st, BAD_OPCODE);
	assert_int_equal(admin(NVME_ADM_SET_FEATURES, NVME_FID_HOST_MEM_BUF, 0, &st),
			 NVMF_PT_REFUSE);
	assert_int_equal(admin(NVME_ADM_GET_FEATURES, NVME_FID_RESV_MASK, 0, &st),
			 NVMF_PT_REFUSE);
	assert_int_equal(admin(NVME_ADM_CREATE_IO_SQ, 0, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(st, BAD_OPCODE);
	assert_int_equal(admin(NVME_ADM_DELETE_IO_CQ, 0, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(admin(NVME_ADM_NS_MGMT, 0, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(admin(NVME_ADM_FW_DOWNLOAD, 0, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(admin(NVME_ADM_FW_COMMIT, 0, 0, &st), NVMF_PT_REFUSE);
	assert_int_equal(admin(0x80, 0, 0, &st), NVMF_PT_REFUSE); /* Format NVM */
	assert_int_equal(st, BAD_OPCODE);
	assert_int_equal(admin(0x84, 0, 0, &st), NVMF_PT_REFUSE); /* Sanitize */
}

static void io_routes(void **state)
{
	static const uint8_t fwd[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0C, 0x19,
				       0x82 };
	static const uint8_t refused[] = { NVME_NVM_RESV_REGISTER, NVME_NVM_RESV_REPORT,
					   NVME_NVM_RESV_ACQUIRE, NVME_NVM_RESV_RELEASE };
	uint16_t st;

	(void)state;
	for (size_t i = 0; i < sizeof(fwd); i++) {
		struct nvme_sqe c = cmd(fwd[i], 0, 0);

		assert_int_equal(nvmf_pt_io_route(&c, &st), NVMF_PT_FORWARD);
		assert_int_equal(st, 0);
	}
	for (size_t i = 0; i < sizeof(refused); i++) {
		struct nvme_sqe c = cmd(refused[i], 0, 0);

		assert_int_equal(nvmf_pt_io_route(&c, &st), NVMF_PT_REFUSE);
		assert_int_equal(st, BAD_OPCODE);
	}
}

static void directions_and_mdts(void **state)
{
	(void)state;
	assert_int_equal(nvmf_pt_xfer_dir(0x00), NVME_XFER_NONE);           /* Flush */
	assert_int_equal(nvmf_pt_xfer_dir(0x01), NVME_XFER_HOST_TO_CTRL);   /* Write */
	assert_int_equal(nvmf_pt_xfer_dir(0x02), NVME_XFER_CTRL_TO_HOST);   /* Read */
	assert_int_equal(nvmf_pt_xfer_dir(0x06), NVME_XFER_CTRL_TO_HOST);   /* Identify */
	assert_int_equal(nvmf_pt_xfer_dir(0x09), NVME_XFER_HOST_TO_CTRL);   /* Set Features */
	assert_int_equal(nvmf_pt_xfer_dir(0x03), -1);                       /* bidirectional */
	assert_int_equal(nvmf_pt_xfer_dir(0xC7), -1);
	/* 0: no limit of the drive's own, so ours */
	assert_int_equal(nvmf_pt_mdts(0, 8), 8);
	assert_int_equal(nvmf_pt_mdts(5, 8), 5);
	assert_int_equal(nvmf_pt_mdts(8, 8), 8);
	assert_int_equal(nvmf_pt_mdts(10, 8), 8);
}

static void pad(char *dst, size_t n, const char *s)
{
	memset(dst, ' ', n);
	memcpy(dst, s, strlen(s));
}

static void id_ctrl_adjusted(void **state)
{
	struct nvme_id_ctrl *id = calloc(1, sizeof(*id)), *fab = calloc(1, sizeof(*fab));
	char want_sn[20];

	(void)state;
	/* the drive, as a PCIe controller describes itself */
	id->vid = htole16(0x1b36);
	pad(id->sn, sizeof(id->sn), "DRIVE-SN-1");
	pad(id->mn, sizeof(id->mn), "QEMU NVMe Ctrl");
	id->mdts = 7;
	id->cntlid = htole16(0);
	id->ver = htole32(0x00010400);
	id->cmic = 0;
	id->acl = 7;
	id->aerl = 15;
	id->kas = 0;
	id->hmpre = htole32(1024);
	id->hmmin = htole32(256);
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->maxcmd = 0;
	id->nn = htole32(256);
	id->oncs = htole16(NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
			   NVME_ONCS_RESERVATIONS | NVME_ONCS_TIMESTAMP);
	id->oacs = htole16(0x000A);
	id->fuses = htole16(1);
	id->sgls = htole32(0x00000001 | NVME_SGLS_BIT_BUCKET);
	snprintf(id->subnqn, sizeof(id->subnqn), "nqn.2019-08.org.qemu:drive");
	id->ioccsz = 0;
	id->msdbd = 0;
	/* the fabric controller, as nvmf_build_id_ctrl fills it */
	fab->cntlid = htole16(7);
	fab->ver = htole32(0x00020100);
	fab->cntrltype = NVME_CNTRLTYPE_IO;
	fab->acl = 3;
	fab->aerl = 3;
	fab->kas = htole16(10);
	fab->maxcmd = htole16(128);
	fab->sqes = 0x66;
	fab->cqes = 0x44;
	fab->sgls = htole32(NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET);
	snprintf(fab->subnqn, sizeof(fab->subnqn), "nqn.2024-01.io.example:pt");
	fab->ioccsz = htole32((64 + 16384) / 16);
	fab->iorcsz = htole32(1);
	fab->msdbd = 1;

	nvmf_pt_override_id_ctrl(id, fab, 5);
	/* the fabric's */
	assert_int_equal(le16toh(id->cntlid), 7);
	assert_int_equal(le32toh(id->ver), 0x00020100);
	assert_int_equal(id->cntrltype, NVME_CNTRLTYPE_IO);
	assert_int_equal(id->mdts, 5);
	assert_int_equal(id->acl, 3);
	assert_int_equal(id->aerl, 3);
	assert_int_equal(le16toh(id->kas), 10);
	assert_int_equal(le16toh(id->maxcmd), 128);
	assert_int_equal(le32toh(id->sgls), NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET);
	assert_string_equal(id->subnqn, "nqn.2024-01.io.example:pt");
	assert_int_equal(le32toh(id->ioccsz), (64 + 16384) / 16);
	assert_int_equal(le32toh(id->iorcsz), 1);
	assert_int_equal(id->msdbd, 1);
	/* not offered over the fabric */
	assert_int_equal(id->hmpre, 0);
	assert_int_equal(id->hmmin, 0);
	assert_int_equal(id->fuses, 0);
	assert_int_equal(le16toh(id->oncs), NVME_ONCS_COMPARE | NVME_ONCS_DSM |
			 NVME_ONCS_WRITE_ZEROES | NVME_ONCS_TIMESTAMP);
	assert_int_equal(id->cmic, NVME_CMIC_MULTI_CTRL);
	/* the drive's */
	pad(want_sn, sizeof(want_sn), "DRIVE-SN-1");
	assert_memory_equal(id->sn, want_sn, sizeof(want_sn));
	assert_int_equal(le16toh(id->vid), 0x1b36);
	assert_int_equal(le32toh(id->nn), 256);
	assert_int_equal(le16toh(id->oacs), 0x000A);

	/* a drive with a smaller limit keeps it; one with none gets ours */
	id->mdts = 3;
	nvmf_pt_override_id_ctrl(id, fab, 5);
	assert_int_equal(id->mdts, 3);
	id->mdts = 0;
	nvmf_pt_override_id_ctrl(id, fab, 5);
	assert_int_equal(id->mdts, 5);
	free(id);
	free(fab);
}

static void set_lbaf(struct nvme_id_ns *id, int i, uint16_t ms, uint8_t lbads)
{
	id->lbaf[i].ms = htole16(ms);
	id->lbaf[i].lbads = lbads;
	id->lbaf[i].rp = 1;
}

static void fill_ns(struct nvme_id_ns *id)
{
	memset(id, 0, sizeof(*id));
	id->nsze = htole64(2048);
	id->nlbaf = 3;
	set_lbaf(id, 0, 0, 9);
	set_lbaf(id, 1, 8, 9);
	set_lbaf(id, 2, 0, 12);
	set_lbaf(id, 3, 64, 12);
	/* lbaf 4 lies past NLBAF: not a format, left alone */
	set_lbaf(id, 4, 16, 12);
	id->flbas = NVME_FLBAS_META_EXT | 2;
	id->mc = 0x3;
	id->dpc = 0x1f;
	id->dps = 0x1;
	memset(id->nguid, 0xAB, sizeof(id->nguid));
	memset(id->eui64, 0xCD, sizeof(id->eui64));
}

static void id_ns_adjusted(void **state)
{
	struct nvme_id_ns *id = calloc(1, sizeof(*id));
	uint8_t zero[16] = { 0 }, ab[16];

	(void)state;
	memset(ab, 0xAB, sizeof(ab));
	fill_ns(id);
	nvmf_pt_override_id_ns(id, false);
	assert_int_equal(le64toh(id->nsze), 2048);
	assert_int_equal(id->lbaf[0].lbads, 9);
	assert_int_equal(id->lbaf[2].lbads, 12);
	assert_int_equal(id->lbaf[1].lbads, 0);      /* had metadata */
	assert_int_equal(id->lbaf[1].ms, 0);
	assert_int_equal(id->lbaf[3].lbads, 0);
	assert_int_equal(id->lbaf[4].lbads, 12);     /* not a format: untouched */
	assert_int_equal(id->flbas, 2);
	assert_int_equal(id->mc, 0);
	assert_int_equal(id->dpc, 0);
	assert_int_equal(id->dps, 0);
	assert_memory_equal(id->nguid, ab, 16);      /* kept without clear_ids */

	fill_ns(id);
	nvmf_pt_override_id_ns(id, true);
	assert_memory_equal(id->nguid, zero, 16);
	assert_memory_equal(id->eui64, zero, 8);
	assert_int_equal(id->lbaf[2].lbads, 12);

	/* an NLBAF past the table does not run off it */
	fill_ns(id);
	id->nlbaf = 0xFF;
	nvmf_pt_override_id_ns(id, false);
	assert_int_equal(id->lbaf[4].lbads, 0);
	free(id);
}

static size_t add_desc(uint8_t *buf, size_t pos, uint8_t nidt, uint8_t nidl, uint8_t fill)
{
	buf[pos] = nidt;
	buf[pos + 1] = nidl;
	memset(buf + pos + 4, fill, nidl);
	return pos + 4 + nidl;
}

static void id_descs_adjusted(void **state)
{
	uint8_t *buf = calloc(1, NVME_IDENTIFY_DATA_SIZE);
	uint8_t *orig = calloc(1, NVME_IDENTIFY_DATA_SIZE);
	size_t pos = 0;

	(void)state;
	pos = add_desc(buf, pos, NVME_NIDT_EUI64, NVME_NIDT_EUI64_LEN, 0x11);
	pos = add_desc(buf, pos, NVME_NIDT_NGUID, NVME_NIDT_NGUID_LEN, 0x22);
	pos = add_desc(buf, pos, NVME_NIDT_UUID, NVME_NIDT_UUID_LEN, 0x33);
	add_desc(buf, pos, NVME_NIDT_CSI, NVME_NIDT_CSI_LEN, NVME_CSI_ZNS);
	memcpy(orig, buf, NVME_IDENTIFY_DATA_SIZE);

	nvmf_pt_override_id_descs(buf, NVME_IDENTIFY_DATA_SIZE, false);
	assert_memory_equal(buf, orig, NVME_IDENTIFY_DATA_SIZE);

	nvmf_pt_override_id_descs(buf, NVME_IDENTIFY_DATA_SIZE, true);
	assert_int_equal(buf[0], NVME_NIDT_CSI);
	assert_int_equal(buf[1], NVME_NIDT_CSI_LEN);
	assert_int_equal(buf[4], NVME_CSI_ZNS);
	for (size_t i = 5; i < NVME_IDENTIFY_DATA_SIZE; i++)
		assert_int_equal(buf[i], 0);

	/* no CSI descriptor: nothing is left */
	memset(buf, 0, NVME_IDENTIFY_DATA_SIZE);
	add_desc(buf, 0, NVME_NIDT_UUID, NVME_NIDT_UUID_LEN, 0x33);
	nvmf_pt_override_id_descs(buf, NVME_IDENTIFY_DATA_SIZE, true);
	for (size_t i = 0; i < NVME_IDENTIFY_DATA_SIZE; i++)
		assert_int_equal(buf[i], 0);

	/* a length that runs past the end stops the walk, no read beyond the buffer */
	memset(buf, 0, 64);
	buf[56] = NVME_NIDT_UUID;
	buf[57] = 0xFF;
	buf[60] = 0;
	nvmf_pt_override_id_descs(buf, 64, true);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(buf[i], 0);
	free(buf);
	free(orig);
}

/* A configuration whose passthru names path; creating the target must fail with want. */
static void create_fails(const char *path, const char *want)
{
	char json[1024], err[512];
	struct nvmf_cfg *cfg = NULL;
	struct nvmf_tgt *tgt = NULL;
	int rc;

	snprintf(json, sizeof(json),
		 "{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\","
		 " \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"},"
		 " \"subsystems\": [\"nqn.2024-01.io.example:pt\"]}],"
		 " \"subsystems\": [{\"nqn\": \"nqn.2024-01.io.example:pt\","
		 " \"attr\": {\"allow_any_host\": \"1\"}, \"namespaces\": [],"
		 " \"passthru\": [{\"device\": {\"path\": \"%s\"}, \"enable\": 1}]}]}", path);
	rc = nvmf_cfg_load_string(json, "pt.json", &cfg, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_true(cfg->subsystems[0].passthru.enable);
	rc = nvmf_tgt_create(cfg, 1, 0, &tgt, err, sizeof(err));
	assert_int_not_equal(rc, 0);
	assert_null(tgt);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_non_null(strstr(err, "pt.json: subsystems[nqn.2024-01.io.example:pt]"
				    ".passthru.device.path: "));
}

static void config_errors(void **state)
{
	char file[] = "/tmp/test_passthru.XXXXXX";
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	create_fails("/dev/nvme-no-such-controller", "No such file or directory");
	/* a character device, but no NVMe controller */
	create_fails("/dev/null", "/dev/null: not an NVMe controller");
	/* a regular file */
	create_fails(file, "not an NVMe controller");
	unlink(file);
}

/* --save (and every JSON-RPC change) writes the configuration back: passthru survives. */
static void save_round_trip(void **state)
{
	const char *json =
		"{\"subsystems\": [{\"nqn\": \"nqn.2024-01.io.example:pt\", \"namespaces\": [],"
		" \"passthru\": [{\"device\": {\"path\": \"/dev/nvme3\"}, \"enable\": 1,"
		" \"clear_ids\": 1, \"admin_timeout\": 7, \"io_timeout\": 9}]}]}";
	struct nvmf_cfg *a = NULL, *b = NULL;
	struct json_object *j;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_cfg_load_string(json, "a.json", &a, err, sizeof(err)), 0);
	j = nvmf_cfg_to_json(a);
	assert_non_null(j);
	assert_int_equal(nvmf_cfg_load_string(json_object_to_json_string(j), "b.json", &b, err,
					      sizeof(err)), 0);
	assert_true(b->subsystems[0].passthru.present);
	assert_true(b->subsystems[0].passthru.enable);
	assert_string_equal(b->subsystems[0].passthru.path, "/dev/nvme3");
	assert_int_equal(b->subsystems[0].passthru.clear_ids, 1);
	assert_int_equal(b->subsystems[0].passthru.admin_timeout, 7);
	assert_int_equal(b->subsystems[0].passthru.io_timeout, 9);
	assert_string_equal(b->source, "b.json");
	json_object_put(j);
	nvmf_cfg_free(a);
	nvmf_cfg_free(b);
}

/* A reload cannot bring a passthrough subsystem in (nor take one out, nor change it). */
static void reload_refuses_new_passthru(void **state)
{
	const char *base =
		"{\"subsystems\": [{\"nqn\": \"nqn.2024-01.io.example:ram\", \"namespaces\": ["
		"{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"\", \"backend\": \"ram\","
		" \"size\": 1048576}}]}]}";
	const char *more =
		"{\"subsystems\": [{\"nqn\": \"nqn.2024-01.io.example:ram\", \"namespaces\": ["
		"{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"\", \"backend\": \"ram\","
		" \"size\": 1048576}}]},"
		" {\"nqn\": \"nqn.2024-01.io.example:pt\", \"namespaces\": [],"
		" \"passthru\": [{\"device\": {\"path\": \"/dev/nvme0\"}, \"enable\": 1}]}]}";
	struct nvmf_cfg *cfg = NULL, *ncfg = NULL;
	struct nvmf_tgt *tgt = NULL;
	char err[512];

	(void)state;
	assert_int_equal(nvmf_cfg_load_string(base, "r.json", &cfg, err, sizeof(err)), 0);
	assert_int_equal(nvmf_tgt_create_ext(cfg, 1, 0, NVMF_TGT_MAY_START_EMPTY, &tgt, err,
					     sizeof(err)), 0);
	assert_int_equal(nvmf_cfg_load_string(more, "r.json", &ncfg, err, sizeof(err)), 0);
	assert_int_equal(nvmf_tgt_apply(tgt, ncfg, "test", err, sizeof(err)), -EINVAL);
	if (!strstr(err, "subsystems[nqn.2024-01.io.example:pt].passthru: a passthrough "
			 "subsystem cannot be added, removed or changed while running"))
		fail_msg("error \"%s\"", err);
	/* nothing changed: the one subsystem is still there, without a passthru */
	assert_int_equal(nvmf_tgt_subsys(tgt)->nr, 1);
	assert_null(nvmf_tgt_subsys(tgt)->s[0]->passthru);
	nvmf_tgt_destroy(tgt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(admin_routes),
		cmocka_unit_test(io_routes),
		cmocka_unit_test(directions_and_mdts),
		cmocka_unit_test(id_ctrl_adjusted),
		cmocka_unit_test(id_ns_adjusted),
		cmocka_unit_test(id_descs_adjusted),
		cmocka_unit_test(config_errors),
		cmocka_unit_test(save_round_trip),
		cmocka_unit_test(reload_refuses_new_passthru),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
