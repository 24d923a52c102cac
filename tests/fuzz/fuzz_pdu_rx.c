/*
 * libFuzzer target for the PDU receive state machine.  Each input is parsed twice, once in
 * one piece and once in chunks chosen by the input (push or pull mode); both must deliver
 * the same PDUs and end in the same state.  ASan/UBSan catch memory and arithmetic errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "pdu_test_util.h"

static void start(struct recorder *r, const uint8_t *pre)
{
	static const uint32_t max_data[4] = { 0, 4096, 131072, 1 << 20 };
	static const uint32_t max_icd[4] = { 0, 4096, 8192, 16384 };
	enum nvmf_pdu_role role = (pre[0] & FZ_HOST) ? NVMF_PDU_ROLE_HOST
						      : NVMF_PDU_ROLE_CONTROLLER;

	rec_init(r, role, max_data[pre[3] & 3], max_icd[(pre[3] >> 2) & 3], pre[1] % 32);
	r->rx.ic_done = pre[0] & FZ_IC_DONE;
	r->negotiate = pre[0] & FZ_NEGOTIATE;
	r->no_dest = pre[0] & FZ_NO_DEST;
	nvmf_pdu_rx_set_digests(&r->rx, pre[0] & FZ_HDGST, pre[0] & FZ_DDGST);
}

static int feed_push(struct recorder *r, const uint8_t *p, size_t len, unsigned seed)
{
	size_t off = 0;

	while (off < len) {
		size_t n = seed ? (size_t)(rand_r(&seed) % 300) + 1 : len - off;
		ssize_t got;

		if (n > len - off)
			n = len - off;
		got = nvmf_pdu_rx_feed(&r->rx, p + off, n);
		if (got < 0)
			return (int)got;
		if ((size_t)got > n)
			abort();
		off += (size_t)got;
	}
	return 0;
}

static int feed_pull(struct recorder *r, const uint8_t *p, size_t len, unsigned seed)
{
	size_t off = 0;

	while (off < len) {
		struct iovec iov[8];
		size_t want = (size_t)(rand_r(&seed) % 300) + 1, done = 0;
		int cnt = nvmf_pdu_rx_next(&r->rx, iov, 1 + (int)(seed % 8));
		int rc;

		if (cnt < 0)
			return cnt;
		if (cnt == 0)
			abort(); /* the receiver must always want something */
		for (int i = 0; i < cnt && done < want && off + done < len; i++) {
			size_t n = iov[i].iov_len;

			if (n > want - done)
				n = want - done;
			if (n > len - off - done)
				n = len - off - done;
			memcpy(iov[i].iov_base, p + off + done, n);
			done += n;
			if (n < iov[i].iov_len)
				break;
		}
		rc = nvmf_pdu_rx_done(&r->rx, done);
		if (rc < 0)
			return rc;
		off += done;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct recorder a, b;
	const uint8_t *pre = data;
	int ra, rb;

	if (size < FZ_PREAMBLE)
		return 0;
	data += FZ_PREAMBLE;
	size -= FZ_PREAMBLE;

	start(&a, pre);
	ra = feed_push(&a, data, size, 0);
	start(&b, pre);
	if (pre[0] & FZ_PULL)
		rb = feed_pull(&b, data, size, pre[2] + 1u);
	else
		rb = feed_push(&b, data, size, pre[2] + 1u);

	/* Chunking must not change what is delivered nor how the stream ends. */
	if (ra != rb || !rec_same(&a, &b) || a.rx.state != b.rx.state || a.rx.fes != b.rx.fes ||
	    a.rx.fei != b.rx.fei || a.rx.pdus != b.rx.pdus) {
		fprintf(stderr, "divergence: rc %d/%d pdus %d/%d fes %u/%u fei %u/%u\n", ra, rb,
			a.n, b.n, a.rx.fes, b.rx.fes, a.rx.fei, b.rx.fei);
		abort();
	}
	/* A failed stream names a real FES and echoes at most 128 header bytes. */
	if (a.rx.state == NVMF_RX_ERROR && a.rx.fes &&
	    (a.rx.fes > NVME_TCP_FES_UNSUPPORTED_PARAM || a.rx.err_hdr_len > 128))
		abort();
	/* Every delivered data PDU says in its header how much data it had. */
	for (int i = 0; i < a.n; i++) {
		const struct rec_pdu *p = &a.pdus[i];

		if ((p->hdr.ch.type == NVME_TCP_H2C_DATA || p->hdr.ch.type == NVME_TCP_C2H_DATA) &&
		    le32toh(p->hdr.data.datal) != p->data_len)
			abort();
	}
	rec_free(&a);
	rec_free(&b);
	return 0;
}
