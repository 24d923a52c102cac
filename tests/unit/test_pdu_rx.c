/*
 * Receive state machine: every invalid header field maps to its TermReq FES and FEI, bad
 * header and data digests are caught, limits hold at their exact maximum, and the callbacks'
 * controls (fail, pause, destination, pull mode) behave as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pdu_test_util.h"
#include "proto/crc32c.h"
#include "proto/memcpy_nt.h"
#include "proto/term.h"

#define IOVMAX 8
#define CTRL NVMF_PDU_ROLE_CONTROLLER
#define HOST NVMF_PDU_ROLE_HOST

static uint8_t payload[1 << 18];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

/* A PDU as bytes, to be mutated. */
struct pdu_bytes {
	uint8_t b[1 << 18];
	size_t len;
};

static void flatten(struct pdu_bytes *p, const struct iovec *iov, int cnt)
{
	p->len = 0;
	for (int i = 0; i < cnt; i++) {
		memcpy(p->b + p->len, iov[i].iov_base, iov[i].iov_len);
		p->len += iov[i].iov_len;
	}
}

static void set_plen(struct pdu_bytes *p, uint32_t plen)
{
	uint32_t le = htole32(plen);

	memcpy(p->b + 4, &le, 4);
}

static void put32(struct pdu_bytes *p, size_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	memcpy(p->b + off, &le, 4);
}

static uint32_t get32(const struct pdu_bytes *p, size_t off)
{
	uint32_t le;

	memcpy(&le, p->b + off, 4);
	return le32toh(le);
}

/* Receiver settings for one case. */
struct rxset {
	enum nvmf_pdu_role role;
	bool ic_done, hd, dd;
	uint8_t pda;
	uint32_t max_data, max_icd;
};

static const struct rxset ctrl_plain = { CTRL, true, false, false, 0, 131072, 8192 };
static const struct rxset ctrl_dgst = { CTRL, true, true, true, 0, 131072, 8192 };
static const struct rxset host_plain = { HOST, true, false, false, 0, 0, 0 };

static void rx_start(struct recorder *r, const struct rxset *s)
{
	rec_init(r, s->role, s->max_data, s->max_icd, s->pda);
	r->rx.ic_done = s->ic_done;
	nvmf_pdu_rx_set_digests(&r->rx, s->hd, s->dd);
}

/*
 * Feeding p stops with exactly this FES/FEI, delivers nothing, and echoes echo_len bytes
 * of the header (0: any length the header has).
 */
static void expect_fes_echo(const struct rxset *s, const struct pdu_bytes *p, uint16_t fes,
			    uint32_t fei, uint32_t echo_len_want)
{
	struct recorder r;
	const uint8_t *echo;
	uint32_t echo_len;
	struct iovec iov[1];

	rx_start(&r, s);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), -EPROTO);
	assert_int_equal(r.rx.state, NVMF_RX_ERROR);
	assert_int_equal(r.rx.fes, fes);
	assert_int_equal(r.rx.fei, fei);
	assert_int_equal(r.n, 0);
	echo = nvmf_pdu_rx_err_hdr(&r.rx, &echo_len);
	assert_true(echo_len >= 8 && echo_len <= 128);
	if (echo_len_want)
		assert_int_equal(echo_len, echo_len_want);
	assert_memory_equal(echo, p->b, echo_len);
	/* the error is sticky */
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, 1), -EPROTO);
	assert_int_equal(nvmf_pdu_rx_next(&r.rx, iov, 1), -EPROTO);
	rec_free(&r);
}

static void expect_fes(const struct rxset *s, const struct pdu_bytes *p, uint16_t fes,
		       uint32_t fei)
{
	expect_fes_echo(s, p, fes, fei, 0);
}

/* Feeding p delivers exactly one PDU and leaves the receiver at a PDU boundary. */
static void expect_ok(const struct rxset *s, const struct pdu_bytes *p, struct recorder *r)
{
	rx_start(r, s);
	assert_int_equal(nvmf_pdu_rx_feed(&r->rx, p->b, p->len), (ssize_t)p->len);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->rx.state, NVMF_RX_CH);
}

static void build_cmd(struct pdu_bytes *p, const struct rxset *s, uint32_t icd)
{
	struct nvmf_pdu_tx_cfg cfg = { s->hd, s->dd, s->pda };
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { payload, icd };
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = 0x01;
	flatten(p, iov, nvmf_pdu_cmd(&out, &cfg, &sqe, &d, icd ? 1 : 0, iov, IOVMAX));
}

static void build_h2c(struct pdu_bytes *p, const struct rxset *s, uint32_t len)
{
	struct nvmf_pdu_tx_cfg cfg = { s->hd, s->dd, s->pda };
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { payload, len };

	flatten(p, iov, nvmf_pdu_h2c_data(&out, &cfg, 1, 1, 0, true, &d, 1, iov, IOVMAX));
}

static void bad_type(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));

	(void)state;
	build_cmd(p, &ctrl_plain, 0);
	p->b[0] = 0x08; /* reserved type */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 0);
	p->b[0] = 0xFF;
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 0);
	p->b[0] = NVME_TCP_C2H_DATA; /* wrong direction */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 0);
	p->b[0] = NVME_TCP_CMD; /* a host never receives commands */
	expect_fes(&host_plain, p, NVME_TCP_FES_INVALID_HEADER, 0);
	free(p);
}

static void bad_sequence(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct rxset fresh = ctrl_plain;

	(void)state;
	fresh.ic_done = false;
	build_cmd(p, &ctrl_plain, 0);
	expect_fes(&fresh, p, NVME_TCP_FES_PDU_SEQUENCE, 0);     /* command before ICReq */
	flatten(p, iov, nvmf_pdu_icreq(&out, 0, 0, 0, iov, IOVMAX));
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_PDU_SEQUENCE, 0); /* second ICReq */
	free(p);
}

static void bad_hlen_flags_plen_pdo(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));

	(void)state;
	build_cmd(p, &ctrl_plain, 0);
	p->b[2] = 71;
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 2);

	build_cmd(p, &ctrl_plain, 0);
	p->b[1] = NVME_TCP_F_DATA_LAST; /* not a command flag */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 1);
	p->b[1] = 0x80;
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 1);
	p->b[1] = NVME_TCP_F_HDGST; /* digest not negotiated */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 1);

	build_cmd(p, &ctrl_plain, 0); /* negotiated, but no digest flag */
	expect_fes(&ctrl_dgst, p, NVME_TCP_FES_INVALID_HEADER, 1);

	build_cmd(p, &ctrl_dgst, 0);  /* data digest flag without data */
	p->b[1] |= NVME_TCP_F_DDGST;
	expect_fes(&ctrl_dgst, p, NVME_TCP_FES_INVALID_HEADER, 1);

	build_cmd(p, &ctrl_dgst, 512); /* data without the negotiated data digest */
	p->b[1] &= (uint8_t)~NVME_TCP_F_DDGST;
	expect_fes(&ctrl_dgst, p, NVME_TCP_FES_INVALID_HEADER, 1);

	build_cmd(p, &ctrl_plain, 0);
	set_plen(p, 70);
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 4);

	build_cmd(p, &ctrl_plain, 512);
	p->b[3] = 68; /* data would overlap the header */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3);
	p->b[3] = 74; /* not dword aligned */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3);
	p->b[3] = 0;
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3);
	build_cmd(p, &ctrl_plain, 100);
	p->b[3] = 172; /* == PLEN: no room for data */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3);
	p->b[3] = 200; /* beyond the PDU */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3);

	{
		struct rxset aligned = ctrl_plain;

		aligned.pda = 3; /* we asked for 16-byte alignment: PDO 72 is wrong */
		build_cmd(p, &ctrl_plain, 512);
		expect_fes(&aligned, p, NVME_TCP_FES_INVALID_HEADER, 3);
	}
	free(p);
}

static void bad_ic_fields(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct rxset ctrl_new = ctrl_plain, host_new = host_plain;

	(void)state;
	ctrl_new.ic_done = false;
	host_new.ic_done = false;

	flatten(p, iov, nvmf_pdu_icreq(&out, 0, 0, 0, iov, IOVMAX));
	set_plen(p, 129);
	expect_fes(&ctrl_new, p, NVME_TCP_FES_INVALID_HEADER, 4);
	flatten(p, iov, nvmf_pdu_icreq(&out, 0, 0, 0, iov, IOVMAX));
	p->b[8] = 1; /* PFV */
	expect_fes(&ctrl_new, p, NVME_TCP_FES_UNSUPPORTED_PARAM, 8);
	flatten(p, iov, nvmf_pdu_icreq(&out, 32, 0, 0, iov, IOVMAX));
	expect_fes(&ctrl_new, p, NVME_TCP_FES_UNSUPPORTED_PARAM, 10);
	flatten(p, iov, nvmf_pdu_icreq(&out, 0, 4, 0, iov, IOVMAX));
	expect_fes(&ctrl_new, p, NVME_TCP_FES_INVALID_HEADER, 11);
	flatten(p, iov, nvmf_pdu_icreq(&out, 0, 0, 0, iov, IOVMAX));
	p->b[1] = NVME_TCP_F_HDGST; /* IC PDUs carry no digest */
	expect_fes(&ctrl_new, p, NVME_TCP_FES_INVALID_HEADER, 1);

	flatten(p, iov, nvmf_pdu_icresp(&out, 0, 0, 1000, iov, IOVMAX));
	expect_fes(&host_new, p, NVME_TCP_FES_INVALID_HEADER, 12);
	flatten(p, iov, nvmf_pdu_icresp(&out, 0, 0, 4098, iov, IOVMAX));
	expect_fes(&host_new, p, NVME_TCP_FES_INVALID_HEADER, 12);
	flatten(p, iov, nvmf_pdu_icresp(&out, 32, 0, 4096, iov, IOVMAX));
	expect_fes(&host_new, p, NVME_TCP_FES_UNSUPPORTED_PARAM, 10);
	flatten(p, iov, nvmf_pdu_icresp(&out, 0, 0, 4096, iov, IOVMAX));
	p->b[8] = 2;
	expect_fes(&host_new, p, NVME_TCP_FES_UNSUPPORTED_PARAM, 8);
	free(p);
}

static void bad_data_pdus(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { payload, 4096 };
	struct nvmf_pdu_tx_cfg plain = { false, false, 0 };

	(void)state;
	build_h2c(p, &ctrl_plain, 4096);
	put32(p, 16, 4095); /* DATAL disagrees with PLEN - PDO */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 16);

	build_h2c(p, &ctrl_plain, 131072 + 4); /* over MAXH2CDATA: FEI reserved */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_DATA_LIMIT, 0);

	build_h2c(p, &ctrl_plain, 4096);
	set_plen(p, 24);    /* a data PDU without data */
	p->b[3] = 0;
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 4);

	build_cmd(p, &ctrl_plain, 8192 + 4); /* in-capsule data over IOCCSZ: FEI reserved */
	expect_fes(&ctrl_plain, p, NVME_TCP_FES_DATA_LIMIT, 0);

	/* host side: SUCCESS without LAST */
	flatten(p, iov, nvmf_pdu_c2h_data(&out, &plain, 1, 0, NVME_TCP_F_DATA_LAST, &d, 1, iov,
					  IOVMAX));
	p->b[1] = NVME_TCP_F_DATA_SUCCESS;
	expect_fes(&host_plain, p, NVME_TCP_FES_INVALID_HEADER, 1);

	flatten(p, iov, nvmf_pdu_r2t(&out, &plain, 1, 1, 0, 0, iov, IOVMAX));
	expect_fes(&host_plain, p, NVME_TCP_FES_INVALID_HEADER, 16);

	flatten(p, iov, nvmf_pdu_r2t(&out, &plain, 1, 1, 0, 4096, iov, IOVMAX));
	set_plen(p, 28);
	expect_fes(&host_plain, p, NVME_TCP_FES_INVALID_HEADER, 4);

	{
		uint8_t bad[128] = {0};

		struct recorder r;

		/* a malformed TermReq still ends the stream, but is not answered with one */
		flatten(p, iov, nvmf_pdu_term(&out, NVME_TCP_H2C_TERM, 1, 0, bad, 128, iov,
					      IOVMAX));
		set_plen(p, 24 + 129);
		rx_start(&r, &ctrl_plain);
		assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), -ECONNRESET);
		assert_int_equal(r.rx.state, NVMF_RX_ERROR);
		assert_int_equal(r.rx.fes, 0);
		assert_int_equal(r.n, 0);
		rec_free(&r);
	}
	free(p);
}

static void header_digest_error(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));

	(void)state;
	/* the FEI is the digest the PDU carried; the echo is the header without it */
	build_cmd(p, &ctrl_dgst, 0);
	p->b[72] ^= 0x01;
	expect_fes(&ctrl_dgst, p, NVME_TCP_FES_HDR_DIGEST, get32(p, 72));
	build_cmd(p, &ctrl_dgst, 0);
	p->b[20] ^= 0x80; /* a flipped SQE bit is caught by the digest */
	expect_fes(&ctrl_dgst, p, NVME_TCP_FES_HDR_DIGEST, get32(p, 72));
	free(p);
}

/*
 * The TermReq rules (proto/term.c): which FEI each FES carries, and how much header is
 * echoed - the whole header whenever its length can be believed, read to its end first
 * when the common header already broke a rule, but never beyond what plen declares.
 */
static void term_rules(void **state)
{
	static const struct {
		uint16_t fes;
		uint32_t fei; /* for field 12, digest 0xdeadbeef */
	} rules[] = {
		{ NVME_TCP_FES_INVALID_HEADER, 12 },
		{ NVME_TCP_FES_PDU_SEQUENCE, 0 },
		{ NVME_TCP_FES_HDR_DIGEST, 0xdeadbeef },
		{ NVME_TCP_FES_DATA_OUT_OF_RANGE, 0 },
		{ NVME_TCP_FES_DATA_LIMIT, 0 },
		{ NVME_TCP_FES_UNSUPPORTED_PARAM, 12 },
		{ 0x07, 0 },
	};
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct rxset fresh = ctrl_plain;
	struct recorder r;

	(void)state;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		assert_int_equal(nvme_tcp_term_fei(rules[i].fes, 12, 0xdeadbeef), rules[i].fei);
	assert_string_equal(nvme_tcp_fes_name(NVME_TCP_C2H_TERM, 5),
			    "data transfer limit exceeded");
	assert_string_equal(nvme_tcp_fes_name(NVME_TCP_H2C_TERM, 5), "R2T limit exceeded");

	/* a bad PDO: the whole 72-byte header is echoed, not only the common header */
	build_cmd(p, &ctrl_plain, 512);
	p->b[3] = 70;
	expect_fes_echo(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 3, 72);
	/* ... and the error waits for it: with 8 bytes in nothing is decided yet */
	rx_start(&r, &ctrl_plain);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, 8), 8);
	assert_int_equal(r.rx.fes, 0);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b + 8, 64), -EPROTO);
	assert_int_equal(r.rx.fei, 3);
	rec_free(&r);
	/* a command before the ICReq: sequence error, FEI reserved, whole header echoed */
	fresh.ic_done = false;
	build_cmd(p, &ctrl_plain, 0);
	expect_fes_echo(&fresh, p, NVME_TCP_FES_PDU_SEQUENCE, 0, 72);
	/* an unknown type or a wrong hlen: only the common header can be trusted */
	p->b[0] = 0x0B;
	expect_fes_echo(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 0, 8);
	build_cmd(p, &ctrl_plain, 0);
	p->b[2] = 70;
	expect_fes_echo(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 2, 8);
	/* plen shorter than the header: what plen declares, answered at once */
	build_cmd(p, &ctrl_plain, 0);
	set_plen(p, 40);
	p->len = 40;
	expect_fes_echo(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 4, 40);
	/* a type the controller never receives, with its own hlen: its header is echoed */
	build_cmd(p, &ctrl_plain, 0);
	p->b[0] = NVME_TCP_R2T;
	p->b[2] = 24;
	set_plen(p, 24);
	p->len = 24;
	expect_fes_echo(&ctrl_plain, p, NVME_TCP_FES_INVALID_HEADER, 0, 24);
	/* the ICReq: 128 bytes, all of it fits the TermReq */
	{
		struct nvmf_pdu_out out;
		struct iovec iov[IOVMAX];

		fresh.ic_done = false;
		flatten(p, iov, nvmf_pdu_icreq(&out, 0, 0, 0, iov, IOVMAX));
		p->b[8] = 1;
		expect_fes_echo(&fresh, p, NVME_TCP_FES_UNSUPPORTED_PARAM, 8, 128);
	}
	free(p);
}

/* A bad data digest is reported on the PDU; the stream itself goes on. */
static void data_digest_error(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct recorder r;
	size_t one;

	(void)state;
	build_h2c(p, &ctrl_dgst, 4096);
	one = p->len;
	memcpy(p->b + one, p->b, one);
	p->len = 2 * one;
	p->b[28 + 100] ^= 0x10; /* payload of the first PDU */
	rx_start(&r, &ctrl_dgst);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), (ssize_t)p->len);
	assert_int_equal(r.n, 2);
	assert_true(r.pdus[0].ddgst_err);
	assert_false(r.pdus[1].ddgst_err);
	rec_free(&r);

	/* the digest is checked on dropped data too */
	p->b[one + 28 + 5] ^= 0x01;
	rx_start(&r, &ctrl_dgst);
	r.no_dest = true;
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), (ssize_t)p->len);
	assert_int_equal(r.n, 2);
	assert_true(r.pdus[0].ddgst_err);
	assert_true(r.pdus[1].ddgst_err);
	rec_free(&r);

	/* a bad digest itself */
	build_h2c(p, &ctrl_dgst, 4096);
	p->b[p->len - 1] ^= 0xFF;
	rx_start(&r, &ctrl_dgst);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), (ssize_t)p->len);
	assert_true(r.pdus[0].ddgst_err);
	rec_free(&r);
	free(p);
}

static void maximum_sizes(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct recorder r;
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	struct rxset aligned = ctrl_dgst;

	(void)state;
	build_cmd(p, &ctrl_dgst, 8192); /* in-capsule data exactly IOCCSZ */
	expect_ok(&ctrl_dgst, p, &r);
	assert_int_equal(r.pdus[0].data_len, 8192);
	assert_memory_equal(r.pdus[0].data, payload, 8192);
	rec_free(&r);

	build_h2c(p, &ctrl_dgst, 131072); /* exactly MAXH2CDATA */
	expect_ok(&ctrl_dgst, p, &r);
	assert_memory_equal(r.pdus[0].data, payload, 131072);
	rec_free(&r);

	aligned.pda = NVME_TCP_MAX_PDA; /* 128-byte data alignment: PDO 128 */
	build_h2c(p, &aligned, 4096);
	assert_int_equal(p->b[3], 128);
	expect_ok(&aligned, p, &r);
	assert_memory_equal(r.pdus[0].data, payload, 4096);
	rec_free(&r);

	{
		uint8_t bad[128];

		memset(bad, 0xAB, sizeof(bad));
		flatten(p, iov, nvmf_pdu_term(&out, NVME_TCP_C2H_TERM, 2, 0, bad, 128, iov,
					      IOVMAX));
		expect_ok(&host_plain, p, &r);
		assert_int_equal(r.pdus[0].data_len, 128);
		rec_free(&r);
	}

	/* the largest possible C2HData header is accepted when no limit is set */
	{
		struct nvmf_pdu_tx_cfg plain = { false, false, 0 };
		struct iovec d = { payload, 4096 };

		flatten(p, iov, nvmf_pdu_c2h_data(&out, &plain, 1, 0, NVME_TCP_F_DATA_LAST, &d, 1,
						  iov, IOVMAX));
		set_plen(p, UINT32_MAX);
		put32(p, 16, UINT32_MAX - 24);
		rx_start(&r, &host_plain);
		r.no_dest = true;
		assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, 24), 24);
		assert_int_equal(r.rx.state, NVMF_RX_DATA);
		assert_int_equal(nvmf_pdu_rx_data_left(&r.rx), UINT32_MAX - 24);
		rec_free(&r);
	}
	free(p);
}

static void on_header_fail_and_errno(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct recorder r;

	(void)state;
	build_h2c(p, &ctrl_plain, 4096);
	rx_start(&r, &ctrl_plain);
	r.hdr_fes = NVME_TCP_FES_INVALID_HEADER;
	r.hdr_fei = offsetof(struct nvme_tcp_data, ttag);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), -EPROTO);
	assert_int_equal(r.rx.fes, NVME_TCP_FES_INVALID_HEADER);
	assert_int_equal(r.rx.fei, 10);
	assert_int_equal(r.headers, 1);
	assert_int_equal(r.n, 0);
	{
		uint32_t len;

		nvmf_pdu_rx_err_hdr(&r.rx, &len);
		assert_int_equal(len, 24);
	}
	rec_free(&r);
	free(p);
}

static int enomem_on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	(void)ctx;
	(void)rx;
	return -ENOMEM;
}

static void callback_errno_stops_stream(void **state)
{
	static const struct nvmf_pdu_rx_ops ops = { .on_pdu = enomem_on_pdu };
	struct nvmf_pdu_rx_cfg cfg = { CTRL, 0, 8192, 0 };
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct nvmf_pdu_rx rx;

	(void)state;
	build_cmd(p, &ctrl_plain, 0);
	nvmf_pdu_rx_init(&rx, &cfg, &ops, NULL);
	rx.ic_done = true;
	assert_int_equal(nvmf_pdu_rx_feed(&rx, p->b, p->len), -ENOMEM);
	assert_int_equal(rx.state, NVMF_RX_ERROR);
	assert_int_equal(rx.fes, 0);
	free(p);
}

static void pause_after_pdu(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct recorder r;
	size_t one;

	(void)state;
	build_cmd(p, &ctrl_plain, 100);
	one = p->len;
	memcpy(p->b + one, p->b, one);
	memcpy(p->b + 2 * one, p->b, one);
	p->len = 3 * one;
	rx_start(&r, &ctrl_plain);
	r.pause_every = 1;
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), (ssize_t)one);
	assert_int_equal(r.n, 1);
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b + one, p->len - one), (ssize_t)one);
	assert_int_equal(r.n, 2);
	rec_free(&r);
	free(p);
}

/* Pull mode: the receiver points the transport straight at the owner's buffers. */
static void pull_mode_zero_copy(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	struct recorder r;
	struct iovec iov[IOVMAX];
	size_t off = 0;
	int cnt;

	(void)state;
	build_h2c(p, &ctrl_dgst, 65536);
	rx_start(&r, &ctrl_dgst);
	/* header through feed, as a transport's staging buffer would */
	assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, 28), 28);
	off = 28;
	assert_int_equal(r.rx.state, NVMF_RX_DATA);
	assert_int_equal(nvmf_pdu_rx_data_left(&r.rx), 65536 + 4);
	cnt = nvmf_pdu_rx_next(&r.rx, iov, IOVMAX);
	assert_int_equal(cnt, 4); /* three destination pieces + data digest */
	assert_ptr_equal(iov[0].iov_base, r.cur);
	assert_int_equal(nvmf_iov_len(iov, cnt), 65536 + 4);
	/* the transport reads a partial amount, as a socket would */
	while (off < p->len) {
		size_t want = 7777, done = 0;

		cnt = nvmf_pdu_rx_next(&r.rx, iov, IOVMAX);
		assert_true(cnt > 0);
		for (int i = 0; i < cnt && done < want && off + done < p->len; i++) {
			size_t c = iov[i].iov_len;

			if (c > want - done)
				c = want - done;
			memcpy(iov[i].iov_base, p->b + off + done, c);
			done += c;
		}
		assert_true(nvmf_pdu_rx_done(&r.rx, done) >= 0);
		off += done;
	}
	assert_int_equal(r.n, 1);
	assert_false(r.pdus[0].ddgst_err);
	assert_memory_equal(r.pdus[0].data, payload, 65536);
	rec_free(&r);
	free(p);
}

/* The streaming copy equals memcpy at every size and alignment, and writes nothing else. */
static void memcpy_nt_exact(void **state)
{
	static uint8_t dst[9000], want[9000];

	(void)state;
	for (size_t n = 0; n < 5000; n += (n < 1100 ? 1 : 97)) {
		for (size_t da = 0; da < 17; da += 3) {
			for (size_t sa = 0; sa < 5; sa += 4) {
				memset(dst, 0x5A, sizeof(dst));
				memset(want, 0x5A, sizeof(want));
				memcpy(want + da, payload + sa, n);
				nvmf_memcpy_nt(dst + da, payload + sa, n);
				assert_memory_equal(dst, want, sizeof(dst));
			}
		}
	}
}

/*
 * Data given a non-temporal destination arrives intact through feed() (whole and in
 * pieces, destinations at odd addresses); with a data digest the receiver copies normally,
 * since it reads the data back for the digest, and digest errors are still found.
 */
static void nt_destination(void **state)
{
	struct pdu_bytes *p = malloc(sizeof(*p));
	static const uint32_t lens[] = { 100, 1024, 4096, 5000, 65536 };
	struct recorder r;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		build_h2c(p, &ctrl_plain, lens[i]);
		rx_start(&r, &ctrl_plain);
		r.nt_dest = true;
		for (size_t off = 0; off < p->len;) {
			size_t n = p->len - off < 3001 ? p->len - off : 3001;

			assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b + off, n), (ssize_t)n);
			off += n;
		}
		assert_int_equal(r.n, 1);
		assert_int_equal(r.nt_seen, 1);
		assert_memory_equal(r.pdus[0].data, payload, lens[i]);
		rec_free(&r);

		build_h2c(p, &ctrl_dgst, lens[i]);
		p->b[p->len - 1] ^= 0x80; /* the data digest */
		rx_start(&r, &ctrl_dgst);
		r.nt_dest = true;
		assert_int_equal(nvmf_pdu_rx_feed(&r.rx, p->b, p->len), (ssize_t)p->len);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.nt_seen, 0);
		assert_true(r.pdus[0].ddgst_err);
		assert_memory_equal(r.pdus[0].data, payload, lens[i]);
		rec_free(&r);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_type),
		cmocka_unit_test(bad_sequence),
		cmocka_unit_test(bad_hlen_flags_plen_pdo),
		cmocka_unit_test(bad_ic_fields),
		cmocka_unit_test(bad_data_pdus),
		cmocka_unit_test(header_digest_error),
		cmocka_unit_test(data_digest_error),
		cmocka_unit_test(maximum_sizes),
		cmocka_unit_test(on_header_fail_and_errno),
		cmocka_unit_test(term_rules),
		cmocka_unit_test(callback_errno_stops_stream),
		cmocka_unit_test(pause_after_pdu),
		cmocka_unit_test(pull_mode_zero_copy),
		cmocka_unit_test(memcpy_nt_exact),
		cmocka_unit_test(nt_destination),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
