/*
 * The connection layer (src/conn) over a real socket pair: output queued as PDUs and sent in
 * order across partial sends (small socket buffers), done callbacks once each, a PDU never
 * linked twice, failed builds refused; the receive loop in push and pull mode with data
 * landing in the owner's buffers, a pause that keeps parsed-later input (also when the
 * staging buffer is shared with other connections: the rest is kept aside), end of stream,
 * and the TermReq for a protocol error; socket ops that hold bytes of their own (flush
 * hook, has_buffered); iovec slicing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn.h"

struct owner {
	struct nvmf_conn conn;
	int pdus;
	int pause_after;          /* on_pdu pauses after this many PDUs (0: never) */
	uint8_t types[64];
	uint16_t cids[64];        /* of the CapsuleResps */
	uint8_t *dest;            /* C2HData payload lands here */
	uint32_t dest_len;
};

static int own_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct owner *o = ctx;
	static struct iovec iov;

	if (rx->hdr.h.ch.type == NVME_TCP_C2H_DATA && o->dest) {
		iov.iov_base = o->dest + le32toh(rx->hdr.h.data.datao);
		iov.iov_len = rx->data_len;
		nvmf_pdu_rx_set_dest(rx, &iov, 1);
	}
	return 0;
}

static int own_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct owner *o = ctx;

	if (rx->hdr.h.ch.type == NVME_TCP_RSP)
		o->cids[o->pdus % 64] = le16toh(rx->hdr.h.rsp.cqe.cid);
	o->types[o->pdus++ % 64] = rx->hdr.h.ch.type;
	return o->pause_after && o->pdus % o->pause_after == 0 ? NVMF_PDU_RX_PAUSE : 0;
}

static const struct nvmf_pdu_rx_ops own_ops = { .on_header = own_header, .on_pdu = own_pdu };

/* host side in o (its conn on sv[0]); *peer gets the other end */
static void setup_pair(struct owner *o, int *peer, int sndbuf)
{
	struct nvmf_pdu_rx_cfg cfg = { .role = NVMF_PDU_ROLE_HOST, .max_data = 1u << 20 };
	int sv[2];

	memset(o, 0, sizeof(*o));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	if (sndbuf) {
		assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
		assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf)), 0);
	}
	assert_int_equal(nvmf_conn_init(&o->conn, sv[0], &nvmf_sock_tcp, &cfg, &own_ops, o), 0);
	o->conn.rx.ic_done = true; /* as after the IC exchange */
	*peer = sv[1];
}

/* Write all of buf to a non-blocking fd (the reader is this thread: small pieces). */
static void put(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void put_iov(int fd, const struct iovec *iov, int cnt)
{
	for (int i = 0; i < cnt; i++)
		put(fd, iov[i].iov_base, iov[i].iov_len);
}

/* ------------------------------------------------------------------ output */

struct txrec {
	struct nvmf_conn_tx tx;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	int done_calls, done_err, order;
};

static int done_seq;

static void rec_done(struct nvmf_conn_tx *t, int err)
{
	struct txrec *r = (struct txrec *)t;

	r->done_calls++;
	r->done_err = err;
	r->order = ++done_seq;
}

static void out_in_order_across_partial_sends(void **state)
{
	struct owner o;
	int peer;
	static uint8_t data[8][65536];
	struct txrec t[8];
	uint8_t *got = malloc(8 * (65536 + 24));
	size_t have = 0;

	(void)state;
	setup_pair(&o, &peer, 4096);
	done_seq = 0;
	for (int i = 0; i < 8; i++) {
		struct iovec d = { data[i], sizeof(data[i]) };

		memset(data[i], 'a' + i, sizeof(data[i]));
		memset(&t[i], 0, sizeof(t[i]));
		t[i].tx.iov = t[i].iov;
		t[i].tx.done = rec_done;
		assert_int_equal(nvmf_conn_queue(&o.conn, &t[i].tx,
						 nvmf_pdu_c2h_data(&t[i].out, &o.conn.txcfg, (uint16_t)i,
								   0, NVME_TCP_F_DATA_LAST, &d, 1,
								   t[i].iov, 4)),
				 0);
	}
	/* a queued PDU is not linked a second time */
	assert_int_equal(nvmf_conn_queue(&o.conn, &t[3].tx, 2), -EBUSY);
	/* the socket fills: flush stops, then goes on as the peer reads */
	assert_int_equal(nvmf_conn_flush(&o.conn), NVMF_CONN_BLOCKED);
	assert_true(nvmf_conn_tx_pending(&o.conn));
	while (have < 8 * (65536 + 24)) {
		ssize_t n = read(peer, got + have, 8 * (65536 + 24) - have);

		if (n > 0)
			have += (size_t)n;
		assert_true(nvmf_conn_flush(&o.conn) >= 0);
	}
	assert_int_equal(nvmf_conn_flush(&o.conn), 0);
	assert_false(nvmf_conn_tx_pending(&o.conn));
	for (int i = 0; i < 8; i++) {
		const uint8_t *p = got + (size_t)i * (65536 + 24);

		assert_int_equal(p[0], NVME_TCP_C2H_DATA);
		assert_int_equal(p[24], 'a' + i);
		assert_int_equal(p[24 + 65535], 'a' + i);
		assert_int_equal(t[i].done_calls, 1);
		assert_int_equal(t[i].done_err, 0);
		assert_int_equal(t[i].order, i + 1);
	}
	assert_int_equal(o.conn.tx_bytes, 8 * (65536 + 24));
	free(got);
	nvmf_conn_close(&o.conn);
	close(peer);
}

static void failed_build_and_drop(void **state)
{
	struct owner o;
	int peer;
	struct txrec a, b;
	struct nvme_cqe cqe = { 0 };

	(void)state;
	setup_pair(&o, &peer, 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.tx.iov = a.iov;
	a.tx.done = rec_done;
	b.tx.iov = b.iov;
	b.tx.done = rec_done;
	/* a builder's error is refused and leaves nothing queued */
	assert_int_equal(nvmf_conn_queue(&o.conn, &a.tx, -EINVAL), -EINVAL);
	assert_int_equal(nvmf_conn_queue(&o.conn, &a.tx, 0), -EINVAL);
	assert_int_equal(nvmf_conn_queue(&o.conn, &a.tx, NVMF_CONN_TX_BATCH_IOV + 1), -EINVAL);
	assert_false(nvmf_conn_tx_pending(&o.conn));
	assert_false(a.tx.queued);
	assert_int_equal(nvmf_conn_queue(&o.conn, &a.tx,
					 nvmf_pdu_rsp(&a.out, &o.conn.txcfg, &cqe, a.iov, 4)), 0);
	assert_int_equal(nvmf_conn_queue(&o.conn, &b.tx,
					 nvmf_pdu_rsp(&b.out, &o.conn.txcfg, &cqe, b.iov, 4)), 0);
	/* closing drops what was not sent: each done once, with an error */
	nvmf_conn_close(&o.conn);
	/* and nothing more is queued on a closed connection */
	assert_int_equal(nvmf_conn_queue(&o.conn, &a.tx, 1), -EPIPE);
	assert_int_equal(a.done_calls, 1);
	assert_int_equal(a.done_err, -ECANCELED);
	assert_int_equal(b.done_calls, 1);
	assert_false(b.tx.queued);
	close(peer);
}

/* ------------------------------------------------------------------ input */

static void push_pull_pause_and_eof(void **state)
{
	struct owner o;
	int peer;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_cqe cqe = { 0 };
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	static uint8_t big[65536], dest[65536];
	struct iovec d = { big, sizeof(big) };
	int cnt;

	(void)state;
	setup_pair(&o, &peer, 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	o.dest = dest;
	/* five small responses and one large C2HData */
	for (int i = 0; i < 5; i++) {
		cqe.cid = htole16((uint16_t)i);
		cnt = nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4);
		put_iov(peer, iov, cnt);
	}
	/* twice: the second one mostly arrives past the staging buffer and is pulled (readv
	 * straight into dest) */
	for (int i = 0; i < 2; i++) {
		cnt = nvmf_pdu_c2h_data(&out, &cfg, 9, 0, NVME_TCP_F_DATA_LAST, &d, 1, iov, 4);
		put_iov(peer, iov, cnt);
	}
	/* pausing after two PDUs keeps the rest for the next call */
	o.pause_after = 2;
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_PAUSED);
	assert_int_equal(o.pdus, 2);
	assert_true(o.conn.stage_len > 0);
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_PAUSED);
	assert_int_equal(o.pdus, 4);
	o.pause_after = 0;
	memset(dest, 0, sizeof(dest));
	while (o.pdus < 7)
		assert_true(nvmf_conn_receive(&o.conn, 64) >= 0);
	assert_int_equal(o.types[4], NVME_TCP_RSP);
	assert_int_equal(o.types[5], NVME_TCP_C2H_DATA);
	assert_int_equal(o.types[6], NVME_TCP_C2H_DATA);
	assert_memory_equal(dest, big, sizeof(big));
	assert_int_equal(o.conn.rx_bytes, 5 * 24 + 2 * (24 + sizeof(big)));
	/* nothing more: drained; then the peer closes */
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_DRAINED);
	close(peer);
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), -ENOTCONN);
	nvmf_conn_close(&o.conn);
}

/* A pause on the PDU that ends the staged input still stops the receive loop. */
static void pause_at_end_of_staged_input(void **state)
{
	struct owner o;
	int peer;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_cqe cqe = { 0 };

	(void)state;
	setup_pair(&o, &peer, 0);
	for (int i = 0; i < 2; i++) {
		int cnt = nvmf_pdu_rsp(&out, &o.conn.txcfg, &cqe, iov, 4);

		put_iov(peer, iov, cnt);
	}
	o.pause_after = 1;
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_PAUSED);
	assert_int_equal(o.pdus, 1);
	/* more arrives; the one staged PDU is the last staged byte */
	for (int i = 0; i < 3; i++) {
		int cnt = nvmf_pdu_rsp(&out, &o.conn.txcfg, &cqe, iov, 4);

		put_iov(peer, iov, cnt);
	}
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_PAUSED);
	assert_int_equal(o.pdus, 2);
	assert_int_equal(o.conn.stage_len, 0);
	for (int want = 3; want <= 5; want++) {
		assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_PAUSED);
		assert_int_equal(o.pdus, want);
	}
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_DRAINED);
	nvmf_conn_close(&o.conn);
	close(peer);
}

static void put_rsps(int fd, uint16_t first, int n)
{
	struct nvmf_pdu_out out;
	struct nvmf_pdu_tx_cfg cfg = { 0 };
	struct iovec iov[4];
	struct nvme_cqe cqe = { 0 };

	for (int i = 0; i < n; i++) {
		int cnt;

		cqe.cid = htole16((uint16_t)(first + i));
		cnt = nvmf_pdu_rsp(&out, &cfg, &cqe, iov, 4);
		put_iov(fd, iov, cnt);
	}
}

/*
 * Two connections receive into one shared staging buffer (the target's reactors): what a
 * paused connection has not parsed yet is kept in a buffer of its own, so the other's
 * input, read into the shared buffer meanwhile, does not overwrite it; the own buffer goes
 * once it is parsed, and a connection that never pauses never has one.
 */
static void shared_staging_keeps_paused_input(void **state)
{
	static uint8_t shared[NVMF_CONN_STAGING];
	struct nvmf_pdu_rx_cfg cfg = { .role = NVMF_PDU_ROLE_HOST, .max_data = 1u << 20 };
	struct owner a, b;
	int sa[2], sb[2];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb), 0);
	assert_int_equal(nvmf_conn_init_shared(&a.conn, sa[0], &nvmf_sock_tcp, &cfg, &own_ops, &a,
					       shared), 0);
	assert_int_equal(nvmf_conn_init_shared(&b.conn, sb[0], &nvmf_sock_tcp, &cfg, &own_ops, &b,
					       shared), 0);
	a.conn.rx.ic_done = b.conn.rx.ic_done = true;
	assert_null(a.conn.staging);

	put_rsps(sa[1], 0, 5);
	a.pause_after = 2;
	assert_int_equal(nvmf_conn_receive(&a.conn, 64), NVMF_CONN_PAUSED);
	assert_int_equal(a.pdus, 2);
	assert_true(a.conn.stage_len > 0);
	assert_non_null(a.conn.staging);
	assert_ptr_equal(a.conn.stage_buf, a.conn.staging);

	/* b's input goes through the shared buffer over what a received */
	put_rsps(sb[1], 100, 3);
	assert_int_equal(nvmf_conn_receive(&b.conn, 64), NVMF_CONN_DRAINED);
	assert_int_equal(b.pdus, 3);
	assert_int_equal(b.cids[2], 102);
	assert_null(b.conn.staging);

	/* a goes on with its own responses, in order */
	a.pause_after = 0;
	assert_int_equal(nvmf_conn_receive(&a.conn, 64), NVMF_CONN_DRAINED);
	assert_int_equal(a.pdus, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(a.cids[i], i);
	assert_null(a.conn.staging);
	/* and takes new input through the shared buffer again */
	put_rsps(sa[1], 7, 1);
	assert_int_equal(nvmf_conn_receive(&a.conn, 64), NVMF_CONN_DRAINED);
	assert_int_equal(a.cids[5], 7);
	assert_null(a.conn.staging);

	nvmf_conn_close(&a.conn);
	nvmf_conn_close(&b.conn);
	close(sa[1]);
	close(sb[1]);
}

static void budget_leaves_more(void **state)
{
	struct owner o;
	int peer;
	static uint8_t junk[3 * NVMF_CONN_STAGING];
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_cqe cqe = { 0 };
	size_t n = 0;

	(void)state;
	setup_pair(&o, &peer, 0);
	/* more than one staging buffer of responses: one read is not enough */
	while (n + 24 <= sizeof(junk)) {
		int cnt = nvmf_pdu_rsp(&out, &o.conn.txcfg, &cqe, iov, 4);

		memcpy(junk + n, iov[0].iov_base, 24);
		n += 24;
		assert_int_equal(cnt, 1);
	}
	put(peer, junk, n);
	assert_int_equal(nvmf_conn_receive(&o.conn, 1), NVMF_CONN_MORE);
	assert_int_equal((size_t)o.pdus, NVMF_CONN_STAGING / 24);
	while (nvmf_conn_receive(&o.conn, 1) == NVMF_CONN_MORE)
		;
	assert_int_equal((size_t)o.pdus, n / 24);
	nvmf_conn_close(&o.conn);
	close(peer);
}

static void term_for_protocol_error(void **state)
{
	struct owner o;
	int peer;
	uint8_t bad[24] = { 0x55, 0, 24, 0, 24, 0, 0, 0 }; /* unknown PDU type */
	uint8_t got[256];
	ssize_t n;

	(void)state;
	setup_pair(&o, &peer, 0);
	put(peer, bad, sizeof(bad));
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), -EPROTO);
	assert_int_not_equal(o.conn.rx.fes, 0);
	assert_int_equal(nvmf_conn_queue_term(&o.conn), 0);
	assert_true(o.conn.close_after_tx);
	/* nothing more is read once the TermReq is on its way */
	put(peer, bad, sizeof(bad));
	assert_int_equal(nvmf_conn_receive(&o.conn, 64), NVMF_CONN_DRAINED);
	assert_int_equal(nvmf_conn_flush(&o.conn), 0);
	n = read(peer, got, sizeof(got));
	assert_true(n >= 24 + 8);
	/* the host role answers with an H2CTermReq echoing the bad header */
	assert_int_equal(got[0], NVME_TCP_H2C_TERM);
	assert_int_equal(le16toh(*(uint16_t *)(got + 8)), o.conn.rx.fes);
	assert_memory_equal(got + 24, bad, 8);
	nvmf_conn_close(&o.conn);
	close(peer);
}

/* ------------------------------------------------------------------ socket ops' own bytes */

/*
 * Socket ops that hold output of their own (TLS answering a KeyUpdate into a full socket)
 * or input the fd does not announce: a stand-in over plain TCP, as the real case cannot be
 * produced on demand.
 */
static int held_flushes, held_flush_rc;
static bool held_input;

static int held_flush(struct nvmf_conn *c)
{
	held_flushes++;
	if (held_flush_rc == 0)
		c->sock_tx_held = false;
	return held_flush_rc;
}

static bool held_buffered(struct nvmf_conn *c)
{
	(void)c;
	return held_input;
}

static void sock_ops_hold_bytes(void **state)
{
	static struct nvmf_sock_ops held;
	struct owner o;
	int peer;
	struct nvmf_pdu_out out;
	struct iovec iov[4];
	struct nvme_cqe cqe = { 0 };

	(void)state;
	held = nvmf_sock_tcp;
	held.flush = held_flush;
	held.buffered = held_buffered;
	setup_pair(&o, &peer, 0);
	o.conn.sock = &held;
	held_flushes = 0;
	/* nothing queued, yet output waits: tx_pending says so and flush pushes it */
	o.conn.sock_tx_held = true;
	assert_true(nvmf_conn_tx_pending(&o.conn));
	held_flush_rc = -EAGAIN;
	assert_int_equal(nvmf_conn_flush(&o.conn), NVMF_CONN_BLOCKED);
	assert_true(nvmf_conn_tx_pending(&o.conn));
	held_flush_rc = 0;
	assert_int_equal(nvmf_conn_flush(&o.conn), 0);
	assert_false(nvmf_conn_tx_pending(&o.conn));
	assert_int_equal(held_flushes, 2);
	/* without held output flush does not call the ops */
	assert_int_equal(nvmf_conn_flush(&o.conn), 0);
	assert_int_equal(held_flushes, 2);
	/* held input: has_buffered, and a short read is not taken for an empty socket */
	assert_false(nvmf_conn_has_buffered(&o.conn));
	held_input = true;
	assert_true(nvmf_conn_has_buffered(&o.conn));
	put_iov(peer, iov, nvmf_pdu_rsp(&out, &o.conn.txcfg, &cqe, iov, 4));
	/* the ops may have more: the budget runs out instead of "drained" */
	assert_int_equal(nvmf_conn_receive(&o.conn, 1), NVMF_CONN_MORE);
	held_input = false;
	put_iov(peer, iov, nvmf_pdu_rsp(&out, &o.conn.txcfg, &cqe, iov, 4));
	assert_int_equal(nvmf_conn_receive(&o.conn, 1), NVMF_CONN_DRAINED);
	assert_int_equal(o.pdus, 2);
	/* plain TCP holds nothing */
	o.conn.sock = &nvmf_sock_tcp;
	assert_false(nvmf_conn_has_buffered(&o.conn));
	nvmf_conn_close(&o.conn);
	close(peer);
}

/* ------------------------------------------------------------------ iovecs */

static void iov_slicing(void **state)
{
	uint8_t a[10], b[20], c[30];
	struct iovec src[3] = { { a, 10 }, { b, 20 }, { c, 30 } };
	struct iovec out[3];

	(void)state;
	assert_int_equal(nvmf_iov_slice(src, 3, 0, 60, out, 3), 3);
	assert_int_equal(nvmf_iov_slice(src, 3, 5, 10, out, 3), 2);
	assert_ptr_equal(out[0].iov_base, a + 5);
	assert_int_equal(out[0].iov_len, 5);
	assert_ptr_equal(out[1].iov_base, b);
	assert_int_equal(out[1].iov_len, 5);
	assert_int_equal(nvmf_iov_slice(src, 3, 30, 30, out, 3), 1);
	assert_ptr_equal(out[0].iov_base, c);
	assert_int_equal(nvmf_iov_slice(src, 3, 12, 40, out, 3), 2);
	assert_ptr_equal(out[0].iov_base, b + 2);
	assert_int_equal(out[1].iov_len, 22);
	/* past the buffers, or more entries than room */
	assert_int_equal(nvmf_iov_slice(src, 3, 50, 11, out, 3), -EINVAL);
	assert_int_equal(nvmf_iov_slice(src, 3, 0, 60, out, 2), -EINVAL);
	assert_int_equal(nvmf_iov_slice(src, 3, 60, 0, out, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(out_in_order_across_partial_sends),
		cmocka_unit_test(failed_build_and_drop),
		cmocka_unit_test(push_pull_pause_and_eof),
		cmocka_unit_test(pause_at_end_of_staged_input),
		cmocka_unit_test(shared_staging_keeps_paused_input),
		cmocka_unit_test(budget_leaves_more),
		cmocka_unit_test(term_for_protocol_error),
		cmocka_unit_test(sock_ops_hold_bytes),
		cmocka_unit_test(iov_slicing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
