/*
 * Kernel TLS for a connection whose handshake OpenSSL did: both directions' keys go to
 * the kernel (TCP_ULP "tls", then SOL_TLS TLS_TX / TLS_RX), the SSL is freed, and the data
 * path is recvmsg/sendmsg on the fd, with the record type in a cmsg.
 *
 * Both directions are set by hand from the application traffic secrets that OpenSSL's
 * keylog callback hands out: OpenSSL 3.0 offloads only TLS 1.3 TX itself (RX came in 3.2),
 * and one recipe for both directions is one thing to get right.  Both directions start at
 * record sequence 0: no tickets are sent, and nothing but the handshake was read (read
 * ahead is off while handshaking).  The kernel path cannot run where the `tls` module is
 * missing; the unit test skips it there.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>
#include <openssl/crypto.h>

#include "conn/tls_int.h"

/* TLS record content types (RFC 8446 5.1) and the handshake messages we meet. */
enum {
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_DATA = 23,
	HS_KEY_UPDATE = 24,
	ALERT_CLOSE_NOTIFY = 0,
};

/* ------------------------------------------------------------------ keys */

static int unhex(const char *s, size_t n, uint8_t *out, size_t max)
{
	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int v = OPENSSL_hexchar2int((unsigned char)s[2 * i]) << 4 |
			OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);

		if (v < 0)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

/* "<LABEL> <client random, 64 hex> <secret, hex>": keep the two application secrets. */
void ktls_keylog(struct tls_state *st, const char *line)
{
	static const char cli[] = "CLIENT_TRAFFIC_SECRET_0 ", srv[] = "SERVER_TRAFFIC_SECRET_0 ";
	uint8_t *dst;
	size_t *dst_len;
	const char *hex;
	int n;

	if (!strncmp(line, cli, sizeof(cli) - 1)) {
		dst = st->secret_client;
		dst_len = &st->secret_client_len;
	} else if (!strncmp(line, srv, sizeof(srv) - 1)) {
		dst = st->secret_server;
		dst_len = &st->secret_server_len;
	} else {
		return;
	}
	hex = strchr(line + sizeof(cli) - 1, ' ');
	if (!hex)
		return;
	hex++;
	n = unhex(hex, strlen(hex), dst, TLS_SECRET_MAX);
	*dst_len = n > 0 ? (size_t)n : 0;
}

/* RFC 8446 7.1 HKDF-Expand-Label(secret, label, "", len): the traffic key and IV. */
static int expand_label(unsigned hash, const uint8_t *secret, size_t secret_len,
			const char *label, uint8_t *out, size_t len)
{
	return nvmf_tls_expand_label(hash, secret, secret_len, false, label, NULL, 0,
				     NVMF_TLS_DERIVE_RFC, out, len) ? -EPROTO : 0;
}

int ktls_crypto_info(uint16_t cipher_id, const uint8_t *secret, size_t len,
		     union ktls_crypto_info *info, socklen_t *info_len)
{
	uint8_t iv[12];
	int rc;

	memset(info, 0, sizeof(*info));
	switch (cipher_id) {
	case 0x1301: /* TLS_AES_128_GCM_SHA256 */
		if (len != 32)
			return -EINVAL;
		info->gcm128.info.version = TLS_1_3_VERSION;
		info->gcm128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
		rc = expand_label(NVMF_TLS_HASH_SHA256, secret, len, "key", info->gcm128.key,
				  sizeof(info->gcm128.key));
		if (!rc)
			rc = expand_label(NVMF_TLS_HASH_SHA256, secret, len, "iv", iv, sizeof(iv));
		/* the 12-byte nonce base: salt is its head, "iv" the rest; sequence 0 */
		memcpy(info->gcm128.salt, iv, sizeof(info->gcm128.salt));
		memcpy(info->gcm128.iv, iv + 4, sizeof(info->gcm128.iv));
		*info_len = sizeof(info->gcm128);
		break;
	case 0x1302: /* TLS_AES_256_GCM_SHA384 */
		if (len != 48)
			return -EINVAL;
		info->gcm256.info.version = TLS_1_3_VERSION;
		info->gcm256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
		rc = expand_label(NVMF_TLS_HASH_SHA384, secret, len, "key", info->gcm256.key,
				  sizeof(info->gcm256.key));
		if (!rc)
			rc = expand_label(NVMF_TLS_HASH_SHA384, secret, len, "iv", iv, sizeof(iv));
		memcpy(info->gcm256.salt, iv, sizeof(info->gcm256.salt));
		memcpy(info->gcm256.iv, iv + 4, sizeof(info->gcm256.iv));
		*info_len = sizeof(info->gcm256);
		break;
	default:
		return -EOPNOTSUPP;
	}
	OPENSSL_cleanse(iv, sizeof(iv));
	if (rc)
		OPENSSL_cleanse(info, sizeof(*info));
	return rc;
}

/* ------------------------------------------------------------------ handoff */

int ktls_start(struct nvmf_conn *c)
{
	struct tls_state *st = tls_of(c);
	union ktls_crypto_info tx, rx;
	socklen_t tx_len = 0, rx_len = 0;
	const uint8_t *own = st->server ? st->secret_server : st->secret_client;
	const uint8_t *peer = st->server ? st->secret_client : st->secret_server;
	size_t own_len = st->server ? st->secret_server_len : st->secret_client_len;
	size_t peer_len = st->server ? st->secret_client_len : st->secret_server_len;
	int rc;

	/* OpenSSL holding record bytes would make the kernel start mid-stream */
	if (SSL_has_pending(st->ssl)) {
		snprintf(st->err, sizeof(st->err), "kernel TLS: OpenSSL read past the handshake");
		return -EOPNOTSUPP;
	}
	rc = ktls_crypto_info(st->cipher_id, own, own_len, &tx, &tx_len);
	if (!rc)
		rc = ktls_crypto_info(st->cipher_id, peer, peer_len, &rx, &rx_len);
	if (rc) {
		snprintf(st->err, sizeof(st->err), "kernel TLS: no keys for %s",
			 st->cipher ? st->cipher : "the suite");
		rc = -EOPNOTSUPP;
		goto out;
	}
	/* the kernel takes no ULP on an MPTCP socket (ENOPROTOOPT), fallen back or not */
	if (nvmf_sock_is_mptcp(c->fd)) {
		snprintf(st->err, sizeof(st->err), "kernel TLS does not run over MPTCP "
			 "(Linux takes no TCP_ULP on an MPTCP socket): use user-space records");
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (setsockopt(c->fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
		snprintf(st->err, sizeof(st->err), "kernel TLS: TCP_ULP tls: %s", strerror(errno));
		rc = errno == ENOENT ? -ENOENT : -EOPNOTSUPP; /* ENOENT: no tls module */
		goto out;
	}
	/* a ULP without keys passes bytes through: user space can still take over */
	if (setsockopt(c->fd, SOL_TLS, TLS_TX, &tx, tx_len) < 0) {
		snprintf(st->err, sizeof(st->err), "kernel TLS: TLS_TX: %s", strerror(errno));
		rc = -EOPNOTSUPP;
		goto out;
	}
	/* from here there is no way back: TX is the kernel's */
	if (setsockopt(c->fd, SOL_TLS, TLS_RX, &rx, rx_len) < 0) {
		rc = -errno;
		snprintf(st->err, sizeof(st->err), "kernel TLS: TLS_RX after TX: %s",
			 strerror(-rc));
		rc = rc == -ENOENT || rc == -ENOPROTOOPT || rc == -EOPNOTSUPP ? -EPROTO : rc;
		goto out;
	}
	SSL_free(st->ssl);
	st->ssl = NULL;
	st->capture = false;
	c->sock = &nvmf_sock_tls_kernel;
out:
	OPENSSL_cleanse(&tx, sizeof(tx));
	OPENSSL_cleanse(&rx, sizeof(rx));
	OPENSSL_cleanse(st->secret_client, sizeof(st->secret_client));
	OPENSSL_cleanse(st->secret_server, sizeof(st->secret_server));
	return rc;
}

/* ------------------------------------------------------------------ records */

/* The first two bytes of what recvmsg put in iov (an alert's level and description). */
static void head2(const struct iovec *iov, int cnt, size_t n, uint8_t out[2])
{
	size_t k = 0;

	out[0] = out[1] = 0xff;
	for (int i = 0; i < cnt && k < 2 && k < n; i++)
		for (size_t j = 0; j < iov[i].iov_len && k < 2 && k < n; j++)
			out[k++] = ((const uint8_t *)iov[i].iov_base)[j];
}

/*
 * Data as for plain TCP.  A control record comes alone, its type in a cmsg (without room
 * for the cmsg the kernel fails the read): close_notify is the end of the stream, other
 * alerts a reset; handshake messages (a late NewSessionTicket) are skipped, except a
 * KeyUpdate, whose new keys the kernel of 6.12 cannot take: the connection cannot go on.
 */
static ssize_t ktls_readv(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct tls_state *st = tls_of(c);

	if (st->rd_ended)
		return st->rd_end;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(unsigned char))];
			struct cmsghdr align;
		} ctl;
		struct msghdr msg = {
			.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct cmsghdr *cm;
		unsigned type = REC_DATA;
		uint8_t h[2];
		ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT);

		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
				type = *(unsigned char *)CMSG_DATA(cm);
		if (type == REC_DATA || n == 0)
			return n;
		head2(iov, cnt, (size_t)n, h);
		if (type == REC_ALERT) {
			st->rd_ended = true;
			if (h[1] == ALERT_CLOSE_NOTIFY) {
				st->rd_end = 0;
			} else {
				snprintf(st->err, sizeof(st->err), "the peer sent alert %u", h[1]);
				st->rd_end = -ECONNRESET;
			}
			return st->rd_end;
		}
		if (type == REC_HANDSHAKE && h[0] == HS_KEY_UPDATE) {
			snprintf(st->err, sizeof(st->err), "KeyUpdate: not supported with kernel TLS");
			st->rd_ended = true;
			st->rd_end = -EPROTO;
			return st->rd_end;
		}
		/* anything else: read on */
	}
}

static ssize_t ktls_recv(struct nvmf_conn *c, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	return ktls_readv(c, &iov, 1);
}

static ssize_t ktls_writev(struct nvmf_conn *c, const struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt };
	ssize_t n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : n;
}

/* close_notify (a warning-level alert record), best effort, then the TCP end. */
static void ktls_shutdown(struct nvmf_conn *c)
{
	uint8_t alert[2] = { 1, ALERT_CLOSE_NOTIFY };
	union {
		char buf[CMSG_SPACE(sizeof(unsigned char))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { alert, sizeof(alert) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_TLS;
	cm->cmsg_type = TLS_SET_RECORD_TYPE;
	cm->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*(unsigned char *)CMSG_DATA(cm) = REC_ALERT;
	(void)!sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(c->fd, SHUT_RDWR);
}

static void ktls_close(struct nvmf_conn *c)
{
	tls_state_free(tls_of(c));
	c->sock_priv = NULL;
	close(c->fd);
}

const struct nvmf_sock_ops nvmf_sock_tls_kernel = {
	.name = "ktls",
	.recv = ktls_recv,
	.readv = ktls_readv,
	.writev = ktls_writev,
	.shutdown = ktls_shutdown,
	.close = ktls_close,
};
