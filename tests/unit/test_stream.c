/*
 * Whole connections, both directions (ICReq/ICResp through commands, data, R2T, responses
 * and a closing TermReq, digests negotiated in the IC exchange), parsed identically whatever
 * the chunking: cut at every byte position, one byte at a time, random chunks, and in pull
 * mode with short reads.  Each PDU is delivered exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pdu_test_util.h"

#define IOVMAX 8

static void rec_start(struct recorder *r, enum nvmf_pdu_role role)
{
	rec_init(r, role, 131072, 16384, 0);
	r->negotiate = true;
}

/* The reference: the whole stream in one piece. */
static void reference(struct recorder *ref, enum nvmf_pdu_role role, const struct stream *s,
		      int pdus)
{
	rec_start(ref, role);
	assert_int_equal(rec_feed_all(ref, s->buf, s->len), (ssize_t)s->len);
	assert_int_equal(ref->n, pdus);
	assert_int_equal(ref->rx.state, NVMF_RX_CH);
	for (int i = 0; i < ref->n; i++)
		assert_false(ref->pdus[i].ddgst_err);
}

static void every_split_point_dir(enum nvmf_pdu_role role, const struct stream *s, int pdus)
{
	struct recorder *ref = malloc(sizeof(*ref)), *r = malloc(sizeof(*r));

	reference(ref, role, s, pdus);
	for (size_t cut = 0; cut <= s->len; cut++) {
		rec_start(r, role);
		assert_int_equal(rec_feed_all(r, s->buf, cut), (ssize_t)cut);
		assert_int_equal(rec_feed_all(r, s->buf + cut, s->len - cut),
				 (ssize_t)(s->len - cut));
		assert_true(rec_same(ref, r));
		rec_free(r);
	}
	rec_free(ref);
	free(ref);
	free(r);
}

static void every_split_point(void **state)
{
	struct conn c;

	(void)state;
	sample_conn(&c, 37);
	every_split_point_dir(NVMF_PDU_ROLE_CONTROLLER, &c.h2c, c.h2c_pdus);
	every_split_point_dir(NVMF_PDU_ROLE_HOST, &c.c2h, c.c2h_pdus);
	conn_free(&c);
}

static void chunked_dir(enum nvmf_pdu_role role, const struct stream *s, int pdus)
{
	struct recorder *ref = malloc(sizeof(*ref)), *r = malloc(sizeof(*r));
	unsigned seed = 12345;

	reference(ref, role, s, pdus);
	/* one byte at a time */
	rec_start(r, role);
	for (size_t i = 0; i < s->len; i++)
		assert_int_equal(nvmf_pdu_rx_feed(&r->rx, s->buf + i, 1), 1);
	assert_true(rec_same(ref, r));
	rec_free(r);
	/* random chunk sizes, also pausing after every PDU */
	for (int round = 0; round < 200; round++) {
		size_t off = 0;

		rec_start(r, role);
		r->pause_every = round % 2;
		while (off < s->len) {
			size_t n = (size_t)(rand_r(&seed) % (round < 100 ? 64 : 20000)) + 1;
			ssize_t got;

			if (n > s->len - off)
				n = s->len - off;
			got = nvmf_pdu_rx_feed(&r->rx, s->buf + off, n);
			assert_true(got > 0 && (size_t)got <= n);
			off += (size_t)got;
		}
		assert_true(rec_same(ref, r));
		rec_free(r);
	}
	rec_free(ref);
	free(ref);
	free(r);
}

static void random_chunks(void **state)
{
	struct conn c;

	(void)state;
	sample_conn(&c, 4096);
	chunked_dir(NVMF_PDU_ROLE_CONTROLLER, &c.h2c, c.h2c_pdus);
	chunked_dir(NVMF_PDU_ROLE_HOST, &c.c2h, c.c2h_pdus);
	conn_free(&c);
}

/* Pull mode with short reads, as from a socket, mixed with push for headers. */
static void pull_dir(enum nvmf_pdu_role role, const struct stream *s, int pdus)
{
	struct recorder *ref = malloc(sizeof(*ref)), *r = malloc(sizeof(*r));
	unsigned seed = 99;

	reference(ref, role, s, pdus);
	for (int round = 0; round < 50; round++) {
		size_t off = 0;

		rec_start(r, role);
		while (off < s->len) {
			struct iovec iov[IOVMAX];
			size_t want = (size_t)(rand_r(&seed) % 5000) + 1, done = 0;
			int cnt = nvmf_pdu_rx_next(&r->rx, iov, 1 + round % IOVMAX);

			assert_true(cnt > 0);
			for (int i = 0; i < cnt && done < want && off + done < s->len; i++) {
				size_t n = iov[i].iov_len;

				if (n > want - done)
					n = want - done;
				if (n > s->len - off - done)
					n = s->len - off - done;
				memcpy(iov[i].iov_base, s->buf + off + done, n);
				done += n;
				if (n < iov[i].iov_len)
					break;
			}
			assert_true(nvmf_pdu_rx_done(&r->rx, done) >= 0);
			off += done;
		}
		assert_true(rec_same(ref, r));
		rec_free(r);
	}
	rec_free(ref);
	free(ref);
	free(r);
}

static void pull_mode(void **state)
{
	struct conn c;

	(void)state;
	sample_conn(&c, 8192);
	pull_dir(NVMF_PDU_ROLE_CONTROLLER, &c.h2c, c.h2c_pdus);
	pull_dir(NVMF_PDU_ROLE_HOST, &c.c2h, c.c2h_pdus);
	conn_free(&c);
}

/* The recorded fields themselves are right, not just consistent. */
static void content_matches(void **state)
{
	struct conn c;
	struct recorder *r = malloc(sizeof(*r));

	(void)state;
	sample_conn(&c, 1000);
	reference(r, NVMF_PDU_ROLE_CONTROLLER, &c.h2c, c.h2c_pdus);
	assert_true(r->rx.hdgst && r->rx.ddgst);
	assert_int_equal(r->pdus[1].data_len, 1024);
	assert_memory_equal(r->pdus[1].data, sample_payload, 1024);
	assert_memory_equal(r->pdus[3].data, sample_payload + 7, 1000);
	assert_int_equal(le32toh(r->pdus[6].hdr.data.datao), 2000);
	assert_memory_equal(r->pdus[6].data, sample_payload + 2100, 1003);
	assert_int_equal(r->pdus[8].hdr.ch.type, NVME_TCP_H2C_TERM);
	assert_int_equal(r->rx.pdus, (uint64_t)c.h2c_pdus);
	assert_int_equal(r->rx.stream_off, c.h2c.len);
	rec_free(r);

	reference(r, NVMF_PDU_ROLE_HOST, &c.c2h, c.c2h_pdus);
	assert_int_equal(le32toh(r->pdus[4].hdr.r2t.r2tl), 3003);
	assert_memory_equal(r->pdus[6].data, sample_payload + 1011, 2001);
	assert_int_equal(r->pdus[6].hdr.ch.flags & 0x0C, 0x0C);
	rec_free(r);
	free(r);
	conn_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(content_matches),
		cmocka_unit_test(every_split_point),
		cmocka_unit_test(random_chunks),
		cmocka_unit_test(pull_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
