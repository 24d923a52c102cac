/*
 * Send path: every PDU type built by the typed builders, checked field by field, and parsed
 * back by the receive state machine (round trip), with and without digests and padding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pdu_test_util.h"
#include "proto/crc32c.h"

#define IOVMAX 8

static uint8_t payload[65536];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ (i >> 8) ^ 0x5A);
	return 0;
}

/* Parse one PDU's iovecs with a fresh receiver that already finished the IC exchange. */
static void parse_one(struct recorder *r, enum nvmf_pdu_role role, bool ic_done,
		      const struct nvmf_pdu_tx_cfg *cfg, const struct iovec *iov, int cnt)
{
	struct stream s = {0};

	rec_init(r, role, 0, 1 << 20, cfg ? cfg->pda : 0);
	r->rx.ic_done = ic_done;
	if (cfg)
		nvmf_pdu_rx_set_digests(&r->rx, cfg->hdgst, cfg->ddgst);
	stream_put_iov(&s, iov, cnt);
	assert_int_equal(rec_feed_all(r, s.buf, s.len), (ssize_t)s.len);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->rx.state, NVMF_RX_CH);
	stream_free(&s);
}

static void icreq_icresp(void **state)
{
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct recorder r;
	int cnt;

	(void)state;
	cnt = nvmf_pdu_icreq(&out, 0, NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE, 0, iov,
			     IOVMAX);
	assert_int_equal(cnt, 1);
	assert_int_equal(iov[0].iov_len, 128);
	assert_int_equal(out.hdr.h.ch.type, NVME_TCP_ICREQ);
	assert_int_equal(out.hdr.h.ch.hlen, 128);
	assert_int_equal(out.hdr.h.ch.pdo, 0);
	assert_int_equal(le32toh(out.hdr.h.ch.plen), 128);
	parse_one(&r, NVMF_PDU_ROLE_CONTROLLER, false, NULL, iov, cnt);
	assert_int_equal(r.pdus[0].hdr.icreq.dgst, 3);
	assert_int_equal(r.pdus[0].hdr.icreq.pfv, 0);
	assert_true(r.rx.ic_done);
	rec_free(&r);

	cnt = nvmf_pdu_icresp(&out, 0, NVME_TCP_HDGST_ENABLE, 0x400000, iov, IOVMAX);
	assert_int_equal(cnt, 1);
	parse_one(&r, NVMF_PDU_ROLE_HOST, false, NULL, iov, cnt);
	assert_int_equal(le32toh(r.pdus[0].hdr.icresp.maxh2cdata), 0x400000);
	assert_int_equal(r.pdus[0].hdr.icresp.dgst, NVME_TCP_HDGST_ENABLE);
	rec_free(&r);
}

static void capsule_cmd_layouts(void **state)
{
	static const struct {
		bool hd, dd;
		uint8_t pda;
		uint32_t icd;
		uint8_t pdo;
		uint32_t plen;
	} cases[] = {
		{ false, false, 0, 0, 0, 72 },
		{ true, false, 0, 0, 0, 76 },
		{ true, true, 0, 0, 0, 76 },       /* no data: no data digest */
		{ false, false, 0, 4096, 72, 72 + 4096 },
		{ true, true, 0, 4096, 76, 76 + 4096 + 4 },
		{ true, false, 3, 100, 80, 80 + 100 }, /* 16-byte alignment pads 76 -> 80 */
		{ false, true, 31, 8192, 128, 128 + 8192 + 4 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nvmf_pdu_tx_cfg cfg = { cases[i].hd, cases[i].dd, cases[i].pda };
		struct nvme_sqe sqe;
		struct nvmf_pdu_out out;
		struct iovec iov[IOVMAX], icd = { payload, cases[i].icd };
		struct recorder r;
		int cnt;

		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = 0x01;
		sqe.cid = htole16(0x1234);
		sqe.nsid = htole32(1);
		cnt = nvmf_pdu_cmd(&out, &cfg, &sqe, &icd, cases[i].icd ? 1 : 0, iov, IOVMAX);
		assert_true(cnt >= 1);
		assert_int_equal(out.hdr.h.ch.hlen, 72);
		assert_int_equal(out.hdr.h.ch.pdo, cases[i].pdo);
		assert_int_equal(le32toh(out.hdr.h.ch.plen), cases[i].plen);
		assert_int_equal(nvmf_iov_len(iov, cnt), cases[i].plen);
		assert_int_equal(!!(out.hdr.h.ch.flags & NVME_TCP_F_HDGST), cases[i].hd);
		assert_int_equal(!!(out.hdr.h.ch.flags & NVME_TCP_F_DDGST),
				 cases[i].dd && cases[i].icd);
		if (cases[i].hd) {
			uint32_t d;

			memcpy(&d, out.hdr.raw + 72, 4);
			assert_int_equal(le32toh(d), nvmf_crc32c(out.hdr.raw, 72));
		}
		/* the payload is referenced, not copied */
		if (cases[i].icd)
			assert_ptr_equal(iov[1].iov_base, payload);
		parse_one(&r, NVMF_PDU_ROLE_CONTROLLER, true, &cfg, iov, cnt);
		assert_int_equal(r.pdus[0].hdr.cmd.sqe.opcode, 0x01);
		assert_int_equal(le16toh(r.pdus[0].hdr.cmd.sqe.cid), 0x1234);
		assert_int_equal(r.pdus[0].data_len, cases[i].icd);
		assert_false(r.pdus[0].ddgst_err);
		if (cases[i].icd)
			assert_memory_equal(r.pdus[0].data, payload, cases[i].icd);
		rec_free(&r);
	}
}

static void capsule_resp_and_r2t(void **state)
{
	struct nvmf_pdu_tx_cfg cfg = { true, true, 0 };
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct nvme_cqe cqe;
	struct recorder r;
	int cnt;

	(void)state;
	memset(&cqe, 0, sizeof(cqe));
	cqe.cid = htole16(77);
	cqe.status = htole16(0x0002 << 1);
	cnt = nvmf_pdu_rsp(&out, &cfg, &cqe, iov, IOVMAX);
	assert_int_equal(cnt, 1);
	assert_int_equal(iov[0].iov_len, 28);
	parse_one(&r, NVMF_PDU_ROLE_HOST, true, &cfg, iov, cnt);
	assert_int_equal(le16toh(r.pdus[0].hdr.rsp.cqe.cid), 77);
	assert_int_equal(le16toh(r.pdus[0].hdr.rsp.cqe.status), 4);
	rec_free(&r);

	cnt = nvmf_pdu_r2t(&out, &cfg, 9, 0x55, 8192, 131072, iov, IOVMAX);
	assert_int_equal(cnt, 1);
	assert_int_equal(le32toh(out.hdr.h.ch.plen), 28);
	parse_one(&r, NVMF_PDU_ROLE_HOST, true, &cfg, iov, cnt);
	assert_int_equal(le16toh(r.pdus[0].hdr.r2t.cccid), 9);
	assert_int_equal(le16toh(r.pdus[0].hdr.r2t.ttag), 0x55);
	assert_int_equal(le32toh(r.pdus[0].hdr.r2t.r2to), 8192);
	assert_int_equal(le32toh(r.pdus[0].hdr.r2t.r2tl), 131072);
	rec_free(&r);
}

static void data_pdus(void **state)
{
	struct nvmf_pdu_tx_cfg cfgs[] = { { false, false, 0 }, { true, true, 0 }, { true, true, 7 } };

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct nvmf_pdu_tx_cfg *cfg = &cfgs[c];
		struct nvmf_pdu_out out;
		struct iovec iov[IOVMAX];
		/* data in two pieces: builders take scatter lists */
		struct iovec data[2] = { { payload, 1000 }, { payload + 1000, 3096 } };
		struct recorder r;
		int cnt;

		cnt = nvmf_pdu_h2c_data(&out, cfg, 3, 4, 65536, true, data, 2, iov, IOVMAX);
		assert_int_equal(cnt, 3 + cfg->ddgst);
		assert_int_equal(out.hdr.h.ch.flags & NVME_TCP_F_DATA_LAST, NVME_TCP_F_DATA_LAST);
		assert_int_equal(le32toh(out.hdr.h.data.datal), 4096);
		parse_one(&r, NVMF_PDU_ROLE_CONTROLLER, true, cfg, iov, cnt);
		assert_int_equal(le16toh(r.pdus[0].hdr.data.cccid), 3);
		assert_int_equal(le16toh(r.pdus[0].hdr.data.ttag), 4);
		assert_int_equal(le32toh(r.pdus[0].hdr.data.datao), 65536);
		assert_int_equal(r.pdus[0].data_len, 4096);
		assert_memory_equal(r.pdus[0].data, payload, 4096);
		rec_free(&r);

		cnt = nvmf_pdu_c2h_data(&out, cfg, 5, 0,
					NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, data, 2,
					iov, IOVMAX);
		assert_true(cnt > 0);
		assert_int_equal(out.hdr.h.ch.pdo % ((cfg->pda + 1) * 4), 0);
		parse_one(&r, NVMF_PDU_ROLE_HOST, true, cfg, iov, cnt);
		assert_int_equal(r.pdus[0].hdr.ch.flags & 0x0C, 0x0C);
		assert_memory_equal(r.pdus[0].data, payload, 4096);
		rec_free(&r);
	}
}

static void term_reqs(void **state)
{
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct recorder r;
	uint8_t bad[128];
	int cnt;

	(void)state;
	for (int i = 0; i < 128; i++)
		bad[i] = (uint8_t)i;
	cnt = nvmf_pdu_term(&out, NVME_TCP_C2H_TERM, NVME_TCP_FES_INVALID_HEADER, 3, bad, 72, iov,
			    IOVMAX);
	assert_int_equal(cnt, 2);
	assert_int_equal(le32toh(out.hdr.h.ch.plen), 24 + 72);
	assert_int_equal(le16toh(out.hdr.h.term.fes), NVME_TCP_FES_INVALID_HEADER);
	assert_int_equal(le32toh(out.hdr.h.term.fei), 3);
	/* a TermReq may arrive before the IC exchange */
	parse_one(&r, NVMF_PDU_ROLE_HOST, false, NULL, iov, cnt);
	assert_int_equal(r.pdus[0].data_len, 72);
	assert_memory_equal(r.pdus[0].data, bad, 72);
	rec_free(&r);

	cnt = nvmf_pdu_term(&out, NVME_TCP_H2C_TERM, NVME_TCP_FES_HDR_DIGEST, 0, bad, 128, iov,
			    IOVMAX);
	assert_int_equal(le32toh(out.hdr.h.ch.plen), 152);
	parse_one(&r, NVMF_PDU_ROLE_CONTROLLER, true, NULL, iov, cnt);
	assert_int_equal(r.pdus[0].data_len, 128);
	rec_free(&r);
}

static void bad_arguments(void **state)
{
	struct nvmf_pdu_tx_cfg cfg = { true, true, 0 };
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], data = { payload, 512 }, none = { payload, 0 };
	uint8_t bad[200] = {0};

	(void)state;
	/* SUCCESS only together with LAST */
	assert_int_equal(nvmf_pdu_c2h_data(&out, &cfg, 1, 0, NVME_TCP_F_DATA_SUCCESS, &data, 1,
					   iov, IOVMAX), -EINVAL);
	/* data PDUs need data */
	assert_int_equal(nvmf_pdu_h2c_data(&out, &cfg, 1, 1, 0, true, &none, 1, iov, IOVMAX),
			 -EINVAL);
	/* header + data + digest do not fit in 2 iovecs */
	assert_int_equal(nvmf_pdu_h2c_data(&out, &cfg, 1, 1, 0, true, &data, 1, iov, 2), -EINVAL);
	assert_int_equal(nvmf_pdu_h2c_data(&out, &cfg, 1, 1, 0, true, &data, 1, iov, 3), 3);
	/* TermReq echoes at most 128 bytes */
	assert_int_equal(nvmf_pdu_term(&out, NVME_TCP_C2H_TERM, 1, 0, bad, 129, iov, IOVMAX),
			 -EINVAL);
	assert_int_equal(nvmf_pdu_term(&out, NVME_TCP_RSP, 1, 0, bad, 8, iov, IOVMAX), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(icreq_icresp),
		cmocka_unit_test(capsule_cmd_layouts),
		cmocka_unit_test(capsule_resp_and_r2t),
		cmocka_unit_test(data_pdus),
		cmocka_unit_test(term_reqs),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
