/* NVMe/TCP PDU receive state machine: see pdu_rx.h for the model. */
#include "proto/pdu_rx.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "proto/crc32c.h"
#include "proto/memcpy_nt.h"
#include "proto/term.h"

#define CH_LEN ((uint32_t)sizeof(struct nvme_tcp_ch))

/* Flags each PDU type may carry; any other bit is an invalid header field. */
static uint8_t allowed_flags(uint8_t type)
{
	switch (type) {
	case NVME_TCP_CMD:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST;
	case NVME_TCP_RSP:
	case NVME_TCP_R2T:
		return NVME_TCP_F_HDGST;
	case NVME_TCP_H2C_DATA:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST;
	case NVME_TCP_C2H_DATA:
		return NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST |
		       NVME_TCP_F_DATA_SUCCESS;
	default: /* ICReq, ICResp and TermReqs never carry digests */
		return 0;
	}
}

static bool type_allowed(enum nvmf_pdu_role role, uint8_t type)
{
	if (role == NVMF_PDU_ROLE_CONTROLLER)
		return type == NVME_TCP_ICREQ || type == NVME_TCP_H2C_TERM ||
		       type == NVME_TCP_CMD || type == NVME_TCP_H2C_DATA;
	return type == NVME_TCP_ICRESP || type == NVME_TCP_C2H_TERM || type == NVME_TCP_RSP ||
	       type == NVME_TCP_C2H_DATA || type == NVME_TCP_R2T;
}

static bool type_is_ic(uint8_t type)
{
	return type == NVME_TCP_ICREQ || type == NVME_TCP_ICRESP;
}

static bool type_is_term(uint8_t type)
{
	return type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
}

/* Types that carry a header digest once header digests are negotiated. */
static bool type_has_hdgst(uint8_t type)
{
	return !type_is_ic(type) && !type_is_term(type);
}

static void start_pdu(struct nvmf_pdu_rx *rx)
{
	rx->state = NVMF_RX_CH;
	rx->pos = 0;
	rx->need = CH_LEN;
	rx->hdr_len = 0;
	rx->data_len = 0;
	rx->has_ddgst = false;
	rx->ddgst_err = false;
	rx->dst = NULL;
	rx->dst_cnt = 0;
	rx->dst_idx = 0;
	rx->dst_off = 0;
	rx->dst_nt = false;
	rx->pend_fes = 0;
	rx->pend_field = 0;
}

void nvmf_pdu_rx_init(struct nvmf_pdu_rx *rx, const struct nvmf_pdu_rx_cfg *cfg,
		      const struct nvmf_pdu_rx_ops *ops, void *ctx)
{
	memset(rx, 0, sizeof(*rx));
	rx->cfg = *cfg;
	rx->ops = ops;
	rx->ctx = ctx;
	start_pdu(rx);
}

void nvmf_pdu_rx_set_digests(struct nvmf_pdu_rx *rx, bool hdgst, bool ddgst)
{
	rx->hdgst = hdgst;
	rx->ddgst = ddgst;
}

void nvmf_pdu_rx_set_dest(struct nvmf_pdu_rx *rx, const struct iovec *iov, int iovcnt)
{
	rx->dst = iov;
	rx->dst_cnt = iovcnt;
	rx->dst_idx = 0;
	rx->dst_off = 0;
	rx->dst_nt = false;
}

void nvmf_pdu_rx_set_dest_nt(struct nvmf_pdu_rx *rx, const struct iovec *iov, int iovcnt)
{
	nvmf_pdu_rx_set_dest(rx, iov, iovcnt);
	rx->dst_nt = !rx->has_ddgst;
}

/* Header bytes received so far for the current PDU (without its digest). */
static uint32_t hdr_bytes(const struct nvmf_pdu_rx *rx)
{
	switch (rx->state) {
	case NVMF_RX_CH:
		return rx->pos;
	case NVMF_RX_PSH:
		return CH_LEN + rx->pos;
	default:
		return rx->hdr.h.ch.hlen;
	}
}

/* Can the header length be believed?  Only when it is the one the type has. */
static bool hlen_known(const struct nvmf_pdu_rx *rx)
{
	uint8_t want = nvme_tcp_hlen(rx->hdr.h.ch.type);

	return want && rx->hdr.h.ch.hlen == want;
}

/* The header digest the current PDU carried, once its header is complete (else 0). */
static uint32_t received_hdgst(const struct nvmf_pdu_rx *rx)
{
	uint32_t v;

	if (rx->state == NVMF_RX_CH || rx->hdr_len <= rx->hdr.h.ch.hlen ||
	    (rx->state == NVMF_RX_PSH && rx->pos < rx->need) || !hlen_known(rx))
		return 0;
	memcpy(&v, rx->hdr.raw + rx->hdr.h.ch.hlen, sizeof(v));
	return le32toh(v);
}

int nvmf_pdu_rx_fail(struct nvmf_pdu_rx *rx, uint16_t fes, uint32_t field)
{
	if (rx->state != NVMF_RX_ERROR) {
		/* the FEI and the echo follow the spec's rules, kept in term.c for both ends */
		rx->err_hdr_len = nvme_tcp_term_echo_len(hdr_bytes(rx), rx->hdr.h.ch.hlen,
							 hlen_known(rx));
		rx->fes = fes;
		rx->fei = nvme_tcp_term_fei(fes, field, received_hdgst(rx));
		rx->state = NVMF_RX_ERROR;
	}
	return -EPROTO;
}

const void *nvmf_pdu_rx_err_hdr(const struct nvmf_pdu_rx *rx, uint32_t *len)
{
	*len = rx->err_hdr_len;
	return rx->hdr.raw;
}

/* A callback said no: keep its errno, make the stream stop. */
static int callback_failed(struct nvmf_pdu_rx *rx, int rc)
{
	if (rx->state != NVMF_RX_ERROR) {
		rx->fes = 0;
		rx->fei = 0;
		rx->err_hdr_len = 0;
		rx->state = NVMF_RX_ERROR;
	}
	return rc;
}

/*
 * The common header broke a rule.  The TermReq echoes the PDU's header, so when its length
 * can be believed the rest of the header is read first (as far as plen says the PDU goes:
 * a peer that sent what it declared is answered at once); the error is raised when it is
 * in (after_psh).  A TermReq is not answered with one: a malformed one ends the stream as
 * a well-formed one does.
 */
static int ch_fail(struct nvmf_pdu_rx *rx, uint16_t fes, uint32_t field)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.h.ch;
	uint32_t want = hlen_known(rx) ? ch->hlen : CH_LEN;

	if (type_is_term(ch->type) && type_allowed(rx->cfg.role, ch->type))
		return callback_failed(rx, -ECONNRESET);
	if (want > le32toh(ch->plen))
		want = le32toh(ch->plen);
	if (want <= CH_LEN)
		return nvmf_pdu_rx_fail(rx, fes, field);
	rx->pend_fes = fes;
	rx->pend_field = field;
	rx->hdr_len = want;
	rx->state = NVMF_RX_PSH;
	rx->pos = 0;
	rx->need = want - CH_LEN;
	return 0;
}

/* Where the data of a data-carrying PDU starts and how long it is (checked against PDO). */
static int check_data_layout(struct nvmf_pdu_rx *rx, uint32_t plen)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.h.ch;
	uint32_t align = ((uint32_t)rx->cfg.pda + 1) * 4;
	uint32_t dd;

	if ((ch->flags & NVME_TCP_F_DDGST) != (rx->ddgst ? NVME_TCP_F_DDGST : 0))
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, flags));
	dd = rx->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	if (ch->pdo < rx->hdr_len || ch->pdo % align != 0 || (uint64_t)ch->pdo + dd >= plen)
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, pdo));
	rx->has_ddgst = rx->ddgst;
	rx->data_len = plen - ch->pdo - dd;
	return 0;
}

/* The common header is complete: validate everything it alone determines. */
static int after_ch(struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.h.ch;
	uint8_t type = ch->type;
	uint32_t plen = le32toh(ch->plen);
	uint32_t hd = 0;
	int rc;

	if (!type_allowed(rx->cfg.role, type))
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, type));
	/* Exactly one IC exchange opens the connection; a TermReq may come at any time. */
	if (!type_is_term(type) && type_is_ic(type) == rx->ic_done)
		return ch_fail(rx, NVME_TCP_FES_PDU_SEQUENCE,
			       offsetof(struct nvme_tcp_ch, type));
	if (ch->hlen != nvme_tcp_hlen(type))
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, hlen));
	if (ch->flags & ~allowed_flags(type))
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, flags));
	if (type_has_hdgst(type)) {
		if (!!(ch->flags & NVME_TCP_F_HDGST) != rx->hdgst)
			return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
				       offsetof(struct nvme_tcp_ch, flags));
		hd = rx->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	}
	rx->hdr_len = ch->hlen + hd;
	if (plen < rx->hdr_len)
		return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
			       offsetof(struct nvme_tcp_ch, plen));

	/* PDO is only meaningful (and only checked) when the PDU carries data. */
	switch (type) {
	case NVME_TCP_ICREQ:
	case NVME_TCP_ICRESP:
	case NVME_TCP_RSP:
	case NVME_TCP_R2T:
		if (plen != rx->hdr_len)
			return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
				       offsetof(struct nvme_tcp_ch, plen));
		break;
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		/* The data is the offending header, right after ours, no digest. */
		if (plen > rx->hdr_len + NVME_TCP_TERM_MAX_DATA)
			return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
				       offsetof(struct nvme_tcp_ch, plen));
		rx->data_len = plen - rx->hdr_len;
		break;
	case NVME_TCP_CMD:
		if (plen == rx->hdr_len) {
			if (ch->flags & NVME_TCP_F_DDGST)
				return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
					       offsetof(struct nvme_tcp_ch, flags));
			break;
		}
		rc = check_data_layout(rx, plen);
		if (rc || rx->pend_fes)
			return rc;
		if (rx->data_len > rx->cfg.max_icd)
			return ch_fail(rx, NVME_TCP_FES_DATA_LIMIT,
				       offsetof(struct nvme_tcp_ch, plen));
		break;
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
		if ((ch->flags & NVME_TCP_F_DATA_SUCCESS) && !(ch->flags & NVME_TCP_F_DATA_LAST))
			return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
				       offsetof(struct nvme_tcp_ch, flags));
		if (plen == rx->hdr_len)
			return ch_fail(rx, NVME_TCP_FES_INVALID_HEADER,
				       offsetof(struct nvme_tcp_ch, plen));
		rc = check_data_layout(rx, plen);
		if (rc || rx->pend_fes)
			return rc;
		break;
	}

	rx->state = NVMF_RX_PSH;
	rx->pos = 0;
	rx->need = rx->hdr_len - CH_LEN;
	return 0;
}

/* Checks of the PDU-specific header fields that do not depend on command state. */
static int check_psh(struct nvmf_pdu_rx *rx)
{
	const union nvme_tcp_hdr *h = &rx->hdr.h;

	switch (h->ch.type) {
	case NVME_TCP_ICREQ:
		if (le16toh(h->icreq.pfv) != NVME_TCP_PFV_1_0)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_UNSUPPORTED_PARAM,
						offsetof(struct nvme_tcp_icreq, pfv));
		if (h->icreq.hpda > NVME_TCP_MAX_PDA)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_UNSUPPORTED_PARAM,
						offsetof(struct nvme_tcp_icreq, hpda));
		if (h->icreq.dgst & ~(NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE))
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_icreq, dgst));
		break;
	case NVME_TCP_ICRESP:
		if (le16toh(h->icresp.pfv) != NVME_TCP_PFV_1_0)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_UNSUPPORTED_PARAM,
						offsetof(struct nvme_tcp_icresp, pfv));
		if (h->icresp.cpda > NVME_TCP_MAX_PDA)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_UNSUPPORTED_PARAM,
						offsetof(struct nvme_tcp_icresp, cpda));
		if (h->icresp.dgst & ~(NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE))
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_icresp, dgst));
		if (le32toh(h->icresp.maxh2cdata) < NVME_TCP_MIN_MAXH2CDATA ||
		    le32toh(h->icresp.maxh2cdata) % 4 != 0)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_icresp, maxh2cdata));
		break;
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
		if (le32toh(h->data.datal) != rx->data_len)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_data, datal));
		if (rx->cfg.max_data && rx->data_len > rx->cfg.max_data)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_LIMIT,
						offsetof(struct nvme_tcp_data, datal));
		break;
	case NVME_TCP_R2T:
		if (le32toh(h->r2t.r2tl) == 0)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_INVALID_HEADER,
						offsetof(struct nvme_tcp_r2t, r2tl));
		break;
	}
	return 0;
}

static int deliver(struct nvmf_pdu_rx *rx)
{
	int rc = 0;

	if (type_is_ic(rx->hdr.h.ch.type))
		rx->ic_done = true;
	rx->pdus++;
	if (rx->ops && rx->ops->on_pdu)
		rc = rx->ops->on_pdu(rx->ctx, rx);
	if (rc < 0)
		return callback_failed(rx, rc);
	rx->stream_off += le32toh(rx->hdr.h.ch.plen);
	start_pdu(rx);
	return rc;
}

static void start_data(struct nvmf_pdu_rx *rx)
{
	rx->state = NVMF_RX_DATA;
	rx->pos = 0;
	rx->need = rx->data_len;
	rx->data_crc = NVMF_CRC32C_SEED;
}

/* Header and digest are complete. */
static int after_psh(struct nvmf_pdu_rx *rx)
{
	const struct nvme_tcp_ch *ch = &rx->hdr.h.ch;
	int rc;

	if (rx->pend_fes)
		return nvmf_pdu_rx_fail(rx, rx->pend_fes, rx->pend_field);
	if (rx->hdr_len > ch->hlen) {
		uint32_t want = nvmf_crc32c(rx->hdr.raw, ch->hlen);
		uint32_t got;

		memcpy(&got, rx->hdr.raw + ch->hlen, sizeof(got));
		if (le32toh(got) != want)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_HDR_DIGEST, 0);
	}
	rc = check_psh(rx);
	if (rc)
		return rc;
	if (rx->ops && rx->ops->on_header) {
		rc = rx->ops->on_header(rx->ctx, rx);
		if (rc < 0)
			return callback_failed(rx, rc);
	}
	if (rx->data_len == 0)
		return deliver(rx);
	if (!type_is_term(ch->type) && ch->pdo > rx->hdr_len) {
		rx->state = NVMF_RX_PAD;
		rx->pos = 0;
		rx->need = ch->pdo - rx->hdr_len;
		return 0;
	}
	start_data(rx);
	return 0;
}

static int after_data(struct nvmf_pdu_rx *rx)
{
	if (rx->has_ddgst) {
		rx->state = NVMF_RX_DDGST;
		rx->pos = 0;
		rx->need = NVME_TCP_DIGEST_LEN;
		return 0;
	}
	return deliver(rx);
}

static int after_ddgst(struct nvmf_pdu_rx *rx)
{
	uint32_t got;

	memcpy(&got, rx->ddgst_buf, sizeof(got));
	rx->ddgst_err = le32toh(got) != nvmf_crc32c_final(rx->data_crc);
	return deliver(rx);
}

/* Account n bytes of data written where nvmf_pdu_rx_next() pointed. */
static void consume_data(struct nvmf_pdu_rx *rx, size_t n)
{
	while (n > 0) {
		const uint8_t *p;
		size_t c;

		while (rx->dst_idx < rx->dst_cnt && rx->dst[rx->dst_idx].iov_len == rx->dst_off) {
			rx->dst_idx++;
			rx->dst_off = 0;
		}
		if (rx->dst_idx < rx->dst_cnt) {
			const struct iovec *v = &rx->dst[rx->dst_idx];

			c = v->iov_len - rx->dst_off;
			if (c > n)
				c = n;
			p = (const uint8_t *)v->iov_base + rx->dst_off;
			rx->dst_off += c;
		} else {
			/* dropped data: next() handed out the scratch buffer from its start */
			c = n < sizeof(rx->scratch) ? n : sizeof(rx->scratch);
			p = rx->scratch;
		}
		if (rx->has_ddgst)
			rx->data_crc = nvmf_crc32c_update(rx->data_crc, p, c);
		rx->pos += (uint32_t)c;
		n -= c;
	}
}

int nvmf_pdu_rx_done(struct nvmf_pdu_rx *rx, size_t n)
{
	int rc = 0;

	while (n > 0) {
		size_t take = rx->need - rx->pos;

		if (take > n)
			take = n;
		switch (rx->state) {
		case NVMF_RX_CH:
		case NVMF_RX_PSH:
		case NVMF_RX_PAD:
		case NVMF_RX_DDGST:
			rx->pos += (uint32_t)take;
			break;
		case NVMF_RX_DATA:
			consume_data(rx, take);
			break;
		case NVMF_RX_ERROR:
			return rx->fes ? -EPROTO : -EIO;
		}
		n -= take;
		if (rx->pos < rx->need)
			continue;
		switch (rx->state) {
		case NVMF_RX_CH:
			rc = after_ch(rx);
			break;
		case NVMF_RX_PSH:
			rc = after_psh(rx);
			break;
		case NVMF_RX_PAD:
			start_data(rx);
			rc = 0;
			break;
		case NVMF_RX_DATA:
			rc = after_data(rx);
			break;
		case NVMF_RX_DDGST:
			rc = after_ddgst(rx);
			break;
		case NVMF_RX_ERROR:
			break;
		}
		if (rc < 0)
			return rc;
		/* A delivered PDU ends what next() handed out; anything beyond is misuse. */
		if (rc == NVMF_PDU_RX_PAUSE) {
			rx->paused = true;
			return n ? -EINVAL : rc;
		}
	}
	return rc;
}

int nvmf_pdu_rx_next(struct nvmf_pdu_rx *rx, struct iovec *iov, int max)
{
	int cnt = 0;

	if (max < 1)
		return -EINVAL;
	switch (rx->state) {
	case NVMF_RX_CH:
	case NVMF_RX_PSH: {
		uint32_t base = rx->state == NVMF_RX_CH ? 0 : CH_LEN;

		iov[0].iov_base = rx->hdr.raw + base + rx->pos;
		iov[0].iov_len = rx->need - rx->pos;
		return 1;
	}
	case NVMF_RX_PAD:
		iov[0].iov_base = rx->scratch;
		iov[0].iov_len = rx->need - rx->pos;
		return 1;
	case NVMF_RX_DDGST:
		iov[0].iov_base = rx->ddgst_buf + rx->pos;
		iov[0].iov_len = rx->need - rx->pos;
		return 1;
	case NVMF_RX_ERROR:
		return rx->fes ? -EPROTO : -EIO;
	case NVMF_RX_DATA:
		break;
	}

	size_t left = rx->need - rx->pos;
	int idx = rx->dst_idx;
	size_t off = rx->dst_off;

	while (left > 0 && cnt < max) {
		if (idx < rx->dst_cnt) {
			size_t c = rx->dst[idx].iov_len - off;

			if (c == 0) {
				idx++;
				off = 0;
				continue;
			}
			if (c > left)
				c = left;
			iov[cnt].iov_base = (uint8_t *)rx->dst[idx].iov_base + off;
			iov[cnt].iov_len = c;
			cnt++;
			left -= c;
			idx++;
			off = 0;
		} else {
			/* Only one scratch entry: its bytes must be digested before reuse. */
			size_t c = left < sizeof(rx->scratch) ? left : sizeof(rx->scratch);

			iov[cnt].iov_base = rx->scratch;
			iov[cnt].iov_len = c;
			cnt++;
			left -= c;
			if (left)
				return cnt;
		}
	}
	if (left == 0 && rx->has_ddgst && cnt < max) {
		iov[cnt].iov_base = rx->ddgst_buf;
		iov[cnt].iov_len = NVME_TCP_DIGEST_LEN;
		cnt++;
	}
	return cnt;
}

ssize_t nvmf_pdu_rx_feed(struct nvmf_pdu_rx *rx, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t consumed = 0;

	while (consumed < len) {
		struct iovec iov[8];
		size_t n = 0;
		int cnt = nvmf_pdu_rx_next(rx, iov, 8);
		int rc;

		if (cnt < 0)
			return cnt;
		for (int i = 0; i < cnt && consumed + n < len; i++) {
			size_t c = iov[i].iov_len;

			if (c > len - consumed - n)
				c = len - consumed - n;
			if (rx->dst_nt && rx->state == NVMF_RX_DATA)
				nvmf_memcpy_nt(iov[i].iov_base, p + consumed + n, c);
			else
				memcpy(iov[i].iov_base, p + consumed + n, c);
			n += c;
			if (c < iov[i].iov_len)
				break;
		}
		rc = nvmf_pdu_rx_done(rx, n);
		consumed += n;
		if (rc < 0)
			return rc;
		if (rc == NVMF_PDU_RX_PAUSE)
			break;
	}
	return (ssize_t)consumed;
}

size_t nvmf_pdu_rx_data_left(const struct nvmf_pdu_rx *rx)
{
	size_t dd = rx->has_ddgst ? NVME_TCP_DIGEST_LEN : 0;

	switch (rx->state) {
	case NVMF_RX_PAD:
		return (rx->need - rx->pos) + rx->data_len + dd;
	case NVMF_RX_DATA:
		return (rx->need - rx->pos) + dd;
	case NVMF_RX_DDGST:
		return rx->need - rx->pos;
	default:
		return 0;
	}
}
