/*
 * Test helpers shared by the PDU unit tests: a byte stream assembled from built PDUs, and a
 * recorder that drives the receive state machine and keeps every PDU it delivers.
 */
#ifndef NVMF_TEST_PDU_TEST_UTIL_H
#define NVMF_TEST_PDU_TEST_UTIL_H

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pdu_rx.h"
#include "proto/pdu_tx.h"

/* ---- a growing byte stream ---- */
struct stream {
	uint8_t *buf;
	size_t len, cap;
};

static inline void stream_put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 64;
		s->buf = realloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static inline void stream_put_iov(struct stream *s, const struct iovec *iov, int cnt)
{
	for (int i = 0; i < cnt; i++)
		stream_put(s, iov[i].iov_base, iov[i].iov_len);
}

static inline void stream_free(struct stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* ---- recorder: what the receive side delivered ---- */
#define REC_MAX_PDUS 512

struct rec_pdu {
	union nvme_tcp_hdr hdr;
	uint8_t *data;
	uint32_t data_len;
	bool ddgst_err;
};

struct recorder {
	struct nvmf_pdu_rx rx;
	struct rec_pdu pdus[REC_MAX_PDUS];
	int n;
	/* data destination of the PDU being received, split in three to exercise iovecs */
	uint8_t *cur;
	struct iovec cur_iov[3];
	bool no_dest;        /* leave data without destination (dropped) */
	bool nt_dest;        /* destination given with nvmf_pdu_rx_set_dest_nt() */
	int nt_seen;         /* headers after which the receiver copies non-temporally */
	bool negotiate;      /* on ICReq/ICResp, switch on the digests it names */
	int pause_every;     /* on_pdu returns PAUSE every Nth PDU */
	uint16_t hdr_fes;    /* on_header fails with this FES (0 = never) */
	uint32_t hdr_fei;
	int headers;         /* on_header calls */
};

#define REC_MAX_DATA (64u << 20)

static inline int rec_on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct recorder *r = ctx;

	r->headers++;
	if (r->hdr_fes)
		return nvmf_pdu_rx_fail(rx, r->hdr_fes, r->hdr_fei);
	/*
	 * A header may declare up to 4 GiB when no limit is configured (the host's role):
	 * beyond REC_MAX_DATA the data is dropped instead of buffered (fuzz_pdu_rx spent
	 * minutes filling 2.4 GB for a 163-byte input).
	 */
	if (rx->data_len && !r->no_dest && rx->data_len <= REC_MAX_DATA) {
		uint32_t a = rx->data_len / 3, b = rx->data_len / 2;

		r->cur = malloc(rx->data_len);
		memset(r->cur, 0xEE, rx->data_len);
		r->cur_iov[0] = (struct iovec){ r->cur, a };
		r->cur_iov[1] = (struct iovec){ r->cur + a, b - a };
		r->cur_iov[2] = (struct iovec){ r->cur + b, rx->data_len - b };
		if (r->nt_dest)
			nvmf_pdu_rx_set_dest_nt(rx, r->cur_iov, 3);
		else
			nvmf_pdu_rx_set_dest(rx, r->cur_iov, 3);
		r->nt_seen += rx->dst_nt;
	}
	return 0;
}

static inline int rec_on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct recorder *r = ctx;
	struct rec_pdu *p;

	if (r->n >= REC_MAX_PDUS)
		return -ENOSPC;
	p = &r->pdus[r->n++];
	memset(p, 0, sizeof(*p));
	memcpy(&p->hdr, rx->hdr.raw, rx->hdr.h.ch.hlen);
	p->data = r->cur;
	p->data_len = rx->data_len;
	p->ddgst_err = rx->ddgst_err;
	r->cur = NULL;
	if (r->negotiate) {
		uint8_t d = 0;

		if (rx->hdr.h.ch.type == NVME_TCP_ICREQ)
			d = rx->hdr.h.icreq.dgst;
		else if (rx->hdr.h.ch.type == NVME_TCP_ICRESP)
			d = rx->hdr.h.icresp.dgst;
		if (rx->hdr.h.ch.type == NVME_TCP_ICREQ || rx->hdr.h.ch.type == NVME_TCP_ICRESP)
			nvmf_pdu_rx_set_digests(rx, d & NVME_TCP_HDGST_ENABLE,
						d & NVME_TCP_DDGST_ENABLE);
	}
	if (r->pause_every && r->n % r->pause_every == 0)
		return NVMF_PDU_RX_PAUSE;
	return 0;
}

static const struct nvmf_pdu_rx_ops rec_ops = {
	.on_header = rec_on_header,
	.on_pdu = rec_on_pdu,
};

static inline void rec_init(struct recorder *r, enum nvmf_pdu_role role, uint32_t max_data,
			    uint32_t max_icd, uint8_t pda)
{
	struct nvmf_pdu_rx_cfg cfg = {
		.role = role, .max_data = max_data, .max_icd = max_icd, .pda = pda,
	};

	memset(r, 0, sizeof(*r));
	nvmf_pdu_rx_init(&r->rx, &cfg, &rec_ops, r);
}

static inline void rec_free(struct recorder *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->pdus[i].data);
	free(r->cur);
	r->n = 0;
	r->cur = NULL;
}

/* Feed a whole buffer, resuming after pauses; returns the final feed result. */
static inline ssize_t rec_feed_all(struct recorder *r, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = nvmf_pdu_rx_feed(&r->rx, p + off, len - off);

		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* Two recordings saw the same PDUs, byte for byte. */
static inline bool rec_same(const struct recorder *a, const struct recorder *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct rec_pdu *x = &a->pdus[i], *y = &b->pdus[i];

		if (x->hdr.ch.hlen != y->hdr.ch.hlen ||
		    memcmp(&x->hdr, &y->hdr, x->hdr.ch.hlen) != 0 ||
		    x->data_len != y->data_len || x->ddgst_err != y->ddgst_err)
			return false;
		if (x->data_len && (!x->data) != (!y->data))
			return false;
		if (x->data && y->data && memcmp(x->data, y->data, x->data_len) != 0)
			return false;
	}
	return true;
}

/* ---- a sample connection, both directions, digests negotiated in the IC exchange ---- */
#define SAMPLE_PAYLOAD_LEN 65536
static uint8_t sample_payload[SAMPLE_PAYLOAD_LEN];

struct conn {
	struct stream h2c; /* host -> controller bytes */
	struct stream c2h; /* controller -> host bytes */
	int h2c_pdus, c2h_pdus;
};

static inline void conn_put(struct stream *s, int *count, struct iovec *iov, int cnt)
{
	if (cnt <= 0)
		abort(); /* a builder refused what the sample asks: the sample is wrong */
	stream_put_iov(s, iov, cnt);
	(*count)++;
}

static inline void sample_sqe(struct nvme_sqe *sqe, uint8_t opc, uint16_t cid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opc;
	sqe->cid = htole16(cid);
	sqe->nsid = htole32(1);
}

/*
 * ICReq/ICResp, a Connect with its data in capsule, a Property Get, an in-capsule write, a
 * write through R2T and two H2CData, a read answered by two C2HData (SUCCESS), a flush, and
 * a TermReq each way.  scale sets the data sizes (<= SAMPLE_PAYLOAD_LEN / 4).
 */
static inline void sample_conn(struct conn *c, uint32_t scale)
{
	struct nvmf_pdu_tx_cfg dg = { true, true, 0 };
	struct nvmf_pdu_out out;
	struct iovec iov[8], d;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	uint8_t echo[24] = { NVME_TCP_H2C_DATA, 0, 24, 0 };
	const uint8_t *pl = sample_payload;

	for (size_t i = 0; i < SAMPLE_PAYLOAD_LEN; i++)
		sample_payload[i] = (uint8_t)(i * 13 + (i >> 9));
	memset(c, 0, sizeof(*c));
	/* host -> controller */
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_icreq(&out, 0, 3, 0, iov, 8));
	sample_sqe(&sqe, 0x7F, 1);
	d = (struct iovec){ (void *)pl, 1024 };
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_cmd(&out, &dg, &sqe, &d, 1, iov, 8));
	sample_sqe(&sqe, 0x7F, 2);
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_cmd(&out, &dg, &sqe, NULL, 0, iov, 8));
	sample_sqe(&sqe, 0x01, 3);
	d = (struct iovec){ (void *)(pl + 7), scale };
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_cmd(&out, &dg, &sqe, &d, 1, iov, 8));
	sample_sqe(&sqe, 0x01, 4);
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_cmd(&out, &dg, &sqe, NULL, 0, iov, 8));
	d = (struct iovec){ (void *)(pl + 100), 2 * scale };
	conn_put(&c->h2c, &c->h2c_pdus, iov,
		 nvmf_pdu_h2c_data(&out, &dg, 4, 0, 0, false, &d, 1, iov, 8));
	d = (struct iovec){ (void *)(pl + 100 + 2 * scale), scale + 3 };
	conn_put(&c->h2c, &c->h2c_pdus, iov,
		 nvmf_pdu_h2c_data(&out, &dg, 4, 0, 2 * scale, true, &d, 1, iov, 8));
	sample_sqe(&sqe, 0x00, 5);
	conn_put(&c->h2c, &c->h2c_pdus, iov, nvmf_pdu_cmd(&out, &dg, &sqe, NULL, 0, iov, 8));
	conn_put(&c->h2c, &c->h2c_pdus, iov,
		 nvmf_pdu_term(&out, NVME_TCP_H2C_TERM, NVME_TCP_FES_PDU_SEQUENCE, 0, echo,
			       sizeof(echo), iov, 8));

	/* controller -> host */
	conn_put(&c->c2h, &c->c2h_pdus, iov, nvmf_pdu_icresp(&out, 0, 3, 131072, iov, 8));
	memset(&cqe, 0, sizeof(cqe));
	for (uint16_t cid = 1; cid <= 3; cid++) {
		cqe.cid = htole16(cid);
		conn_put(&c->c2h, &c->c2h_pdus, iov, nvmf_pdu_rsp(&out, &dg, &cqe, iov, 8));
	}
	conn_put(&c->c2h, &c->c2h_pdus, iov,
		 nvmf_pdu_r2t(&out, &dg, 4, 0, 0, 3 * scale + 3, iov, 8));
	d = (struct iovec){ (void *)(pl + 11), scale };
	conn_put(&c->c2h, &c->c2h_pdus, iov,
		 nvmf_pdu_c2h_data(&out, &dg, 6, 0, 0, &d, 1, iov, 8));
	d = (struct iovec){ (void *)(pl + 11 + scale), 2 * scale + 1 };
	conn_put(&c->c2h, &c->c2h_pdus, iov,
		 nvmf_pdu_c2h_data(&out, &dg, 6, scale,
				   NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, &d, 1, iov, 8));
	conn_put(&c->c2h, &c->c2h_pdus, iov,
		 nvmf_pdu_term(&out, NVME_TCP_C2H_TERM, NVME_TCP_FES_INVALID_HEADER, 3, echo,
			       sizeof(echo), iov, 8));
}

static inline void conn_free(struct conn *c)
{
	stream_free(&c->h2c);
	stream_free(&c->c2h);
}

#endif
