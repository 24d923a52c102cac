/*
 * The TLS 1.3 PSK handshake of a connection (see tls.h): OpenSSL contexts, the external
 * PSK callbacks of both roles, the non-blocking handshake, the choice of record path and
 * the mapping of OpenSSL's failures to errnos and log reasons.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conn/tls_int.h"

/*
 * One context per role for the whole process: SSL_CTX_new is slow on OpenSSL 3.0 and
 * nothing in it is per connection (PSKs and suites are set on each SSL).
 */
static SSL_CTX *ctx_server, *ctx_client;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static const char suite_sha256[] = "TLS_AES_128_GCM_SHA256";
static const char suite_sha384[] = "TLS_AES_256_GCM_SHA384";

static void on_keylog(const SSL *ssl, const char *line)
{
	struct tls_state *st = SSL_get_app_data(ssl);

	if (st && st->capture)
		ktls_keylog(st, line);
}

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* the Linux host fails unless the first record after the handshake is data */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/*
	 * Off while handshaking: OpenSSL must not read past the last handshake record, which
	 * the kernel needs to take over at sequence 0 (sock_tls.c turns it on for user space).
	 */
	SSL_CTX_set_read_ahead(ctx, 0);
	/*
	 * Room for several records: with read-ahead on (user space) one read() then brings
	 * all a socket holds of a large transfer, not one record at a time.  The buffer is
	 * made while handshaking, so its size is set here.
	 */
	SSL_CTX_set_default_read_buffer_len(ctx, TLS_IN_BUF);
	/* writev's partial-send semantics; a blocked write is repeated from the iov head */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* the only way to the traffic secrets that kTLS RX needs on OpenSSL 3.0 */
	SSL_CTX_set_keylog_callback(ctx, on_keylog);
	return ctx;
}

static void ctx_init(void)
{
	ctx_server = ctx_new(TLS_server_method());
	ctx_client = ctx_new(TLS_client_method());
}

/* ------------------------------------------------------------------ errors */

void tls_set_error(struct tls_state *st, const char *what)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(st->err, sizeof(st->err), "%s: %s", what, r);
	else
		snprintf(st->err, sizeof(st->err), "%s", what);
}

/* Alerts that mean "not your key": the peer has no PSK for us or the binder failed. */
static bool alert_is_access(int alert)
{
	return alert == SSL_AD_HANDSHAKE_FAILURE || alert == SSL_AD_ACCESS_DENIED ||
	       alert == SSL_AD_DECRYPT_ERROR || alert == SSL_AD_UNKNOWN_PSK_IDENTITY ||
	       alert == SSL_AD_ILLEGAL_PARAMETER;
}

int tls_ssl_error(struct tls_state *st, int e)
{
	int sys = errno;
	unsigned long err = ERR_peek_error();
	int reason = err ? ERR_GET_REASON(err) : 0;
	int rc;

	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		snprintf(st->err, sizeof(st->err), "the peer sent close_notify");
		rc = -ECONNRESET;
		break;
	case SSL_ERROR_SYSCALL:
		if (!err && sys && sys != EAGAIN) {
			snprintf(st->err, sizeof(st->err), "socket: %s", strerror(sys));
			rc = -sys;
		} else {
			tls_set_error(st, "the peer closed the connection");
			rc = -ECONNRESET;
		}
		st->fatal = true;
		break;
	default:
		st->fatal = true;
		if (st->no_psk) {
			rc = -EACCES; /* the reason was set where the lookup failed */
		} else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			snprintf(st->err, sizeof(st->err), "the peer closed the connection");
			rc = -ECONNRESET;
		} else if (reason == SSL_R_BAD_EXTENSION && st->psk_given == NVMF_TLS_HASH_SHA384) {
			/*
			 * The binder's length is not SHA-384's: tlshd before ktls-utils 1.3 (GnuTLS
			 * without the *_credentials2 calls, as in Debian 13) binds every PSK with
			 * SHA-256, whatever the identity's hash says.
			 */
			snprintf(st->err, sizeof(st->err),
				 "the client's PSK binder is not SHA-384 as its NVMe?R02 identity needs "
				 "(tlshd before ktls-utils 1.3 makes SHA-256 binders: use a SHA-256 key)");
			rc = -EACCES;
		} else if (reason == SSL_R_BINDER_DOES_NOT_VERIFY) {
			snprintf(st->err, sizeof(st->err), "the PSKs differ (binder does not verify)");
			rc = -EACCES;
		} else if (reason > SSL_AD_REASON_OFFSET &&
			   alert_is_access(reason - SSL_AD_REASON_OFFSET)) {
			tls_set_error(st, "the peer refused our PSK");
			rc = -EACCES;
		} else {
			tls_set_error(st, "TLS failure");
			rc = -EPROTO;
		}
		break;
	}
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------------------------------ PSKs */

static const SSL_CIPHER *suite_of(SSL *ssl, unsigned hash)
{
	static const unsigned char id256[2] = { 0x13, 0x01 }, id384[2] = { 0x13, 0x02 };

	return SSL_CIPHER_find(ssl, hash == NVMF_TLS_HASH_SHA384 ? id384 : id256);
}

static SSL_SESSION *psk_session(const uint8_t *psk, size_t len, const SSL_CIPHER *cipher)
{
	SSL_SESSION *s = SSL_SESSION_new();

	if (!s)
		return NULL;
	if (!SSL_SESSION_set1_master_key(s, psk, len) || !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static bool psk_len_ok(unsigned hash, size_t len)
{
	return (hash == NVMF_TLS_HASH_SHA256 && len == 32) ||
	       (hash == NVMF_TLS_HASH_SHA384 && len == 48);
}

/*
 * Server: the client's identity.  Returning 1 without a session means "no PSK": with no
 * certificate the handshake then fails with handshake_failure, which tells the client
 * what RFC 8446 wants it to know and no more.
 */
static int find_session(SSL *ssl, const unsigned char *id, size_t len, SSL_SESSION **sess)
{
	struct tls_state *st = SSL_get_app_data(ssl);
	uint8_t psk[NVMF_TLS_PSK_MAX];
	size_t psk_len = 0;
	unsigned hash = 0;
	const SSL_CIPHER *want, *chosen;
	int rc;

	*sess = NULL;
	if (len > NVMF_TLS_IDENTITY_MAX) {
		st->no_psk = true;
		snprintf(st->err, sizeof(st->err), "PSK identity of %zu bytes: too long", len);
		return 1;
	}
	memcpy(st->identity, id, len);
	st->identity[len] = '\0';
	st->identity_len = len;
	rc = st->find_psk(st->arg, st->identity, len, psk, &psk_len, &hash);
	if (rc < 0) {
		st->no_psk = true;
		if (rc == -EPROTO)
			snprintf(st->err, sizeof(st->err), "not an NVMe PSK identity");
		else if (rc == -EKEYREJECTED)
			snprintf(st->err, sizeof(st->err),
				 "the identity's hash or digest is not what the host's PSK gives (another "
				 "key, or the other derivation: rfc / compat)");
		else
			snprintf(st->err, sizeof(st->err), "no PSK for the identity");
		return 1;
	}
	if (!psk_len_ok(hash, psk_len)) {
		OPENSSL_cleanse(psk, sizeof(psk));
		st->no_psk = true;
		snprintf(st->err, sizeof(st->err), "the PSK found has a bad length or hash");
		return 1;
	}
	want = suite_of(ssl, hash);
	chosen = SSL_get_pending_cipher(ssl);
	/* the suite is chosen before the PSK: the client must have preferred the PSK's one */
	if (chosen && want && SSL_CIPHER_get_id(chosen) != SSL_CIPHER_get_id(want)) {
		OPENSSL_cleanse(psk, sizeof(psk));
		st->no_psk = true;
		snprintf(st->err, sizeof(st->err), "the client chose %s for a %s PSK",
			 SSL_CIPHER_get_name(chosen), SSL_CIPHER_get_name(want));
		return 1;
	}
	*sess = want ? psk_session(psk, psk_len, want) : NULL;
	OPENSSL_cleanse(psk, sizeof(psk));
	if (*sess)
		st->psk_given = hash;
	return *sess ? 1 : 0;
}

/* Client: offer the one PSK; after a HelloRetryRequest md is the suite's digest. */
static int use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		       SSL_SESSION **sess)
{
	struct tls_state *st = SSL_get_app_data(ssl);
	const SSL_CIPHER *cipher = suite_of(ssl, st->hash);

	*sess = NULL;
	*id = NULL;
	*idlen = 0;
	if (!cipher)
		return 0;
	if (md && EVP_MD_get_type(md) != EVP_MD_get_type(SSL_CIPHER_get_handshake_digest(cipher)))
		return 1;
	*sess = psk_session(st->psk, st->psk_len, cipher);
	*id = (const unsigned char *)st->identity;
	*idlen = st->identity_len;
	return *sess ? 1 : 0;
}

/* ------------------------------------------------------------------ start */

void tls_state_free(struct tls_state *st)
{
	if (!st)
		return;
	SSL_free(st->ssl);
	free(st->bounce);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

/* OpenSSL could not be set up: the state stays attached so nvmf_tls_error() says why. */
static int setup_failed(struct tls_state *st)
{
	tls_set_error(st, "OpenSSL set-up");
	ERR_clear_error();
	st->fatal = true;
	st->failed = -EPROTO;
	return -EPROTO;
}

static int start(struct nvmf_conn *c, bool server, enum nvmf_tls_record want,
		 struct tls_state **out)
{
	SSL_CTX *ctx;
	struct tls_state *st;

	if (c->fd < 0 || c->sock_priv || (!c->staging && !c->shared_staging) || c->shut ||
	    (unsigned)want > NVMF_TLS_RECORD_KERNEL)
		return -EINVAL;
	pthread_once(&ctx_once, ctx_init);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->server = server;
	st->want = want;
	st->mode = NVMF_TLS_RECORD_AUTO;
	st->capture = want != NVMF_TLS_RECORD_USER;
	/* from here the conn's close frees st */
	c->sock_priv = st;
	c->sock = &nvmf_sock_tls_user;
	*out = st;
	ERR_clear_error();
	ctx = server ? ctx_server : ctx_client;
	st->ssl = ctx ? SSL_new(ctx) : NULL;
	if (!st->ssl || !SSL_set_fd(st->ssl, c->fd))
		return setup_failed(st);
	SSL_set_app_data(st->ssl, st);
	return 0;
}

int nvmf_tls_server_start(struct nvmf_conn *c, const struct nvmf_tls_server_cfg *cfg)
{
	struct tls_state *st;
	int rc;

	if (!cfg || !cfg->find_psk)
		return -EINVAL;
	rc = start(c, true, cfg->record, &st);
	if (rc)
		return rc;
	st->find_psk = cfg->find_psk;
	st->arg = cfg->arg;
	SSL_set_psk_find_session_callback(st->ssl, find_session);
	SSL_set_accept_state(st->ssl);
	return 0;
}

int nvmf_tls_client_start(struct nvmf_conn *c, const struct nvmf_tls_client_cfg *cfg)
{
	struct tls_state *st;
	size_t idlen;
	int rc;

	if (!cfg || !cfg->identity || !cfg->psk || !psk_len_ok(cfg->hash, cfg->psk_len))
		return -EINVAL;
	idlen = strlen(cfg->identity);
	if (!idlen || idlen > NVMF_TLS_IDENTITY_MAX)
		return -EINVAL;
	rc = start(c, false, cfg->record, &st);
	if (rc)
		return rc;
	memcpy(st->identity, cfg->identity, idlen + 1);
	st->identity_len = idlen;
	memcpy(st->psk, cfg->psk, cfg->psk_len);
	st->psk_len = cfg->psk_len;
	st->hash = cfg->hash;
	/* offer only the PSK's suite: a server picks the suite before it looks at the PSK */
	if (!SSL_set_ciphersuites(st->ssl, cfg->hash == NVMF_TLS_HASH_SHA384 ? suite_sha384
									   : suite_sha256))
		return setup_failed(st);
	SSL_set_psk_use_session_callback(st->ssl, use_session);
	SSL_set_connect_state(st->ssl);
	return 0;
}

/* ------------------------------------------------------------------ handshake */

/* Handshake over: check what was agreed, then choose the record path. */
static int finish(struct nvmf_conn *c, struct tls_state *st)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(st->ssl);
	int rc;

	/* a PSK handshake is a resumption in OpenSSL's terms; anything else is not ours */
	if (SSL_version(st->ssl) != TLS1_3_VERSION || !SSL_session_reused(st->ssl) || !cipher) {
		snprintf(st->err, sizeof(st->err), "the handshake did not use the PSK");
		return -EACCES;
	}
	st->cipher = SSL_CIPHER_get_name(cipher);
	st->cipher_id = SSL_CIPHER_get_protocol_id(cipher);
	/* the client's copy of the key is no longer needed */
	OPENSSL_cleanse(st->psk, sizeof(st->psk));

	if (st->want != NVMF_TLS_RECORD_USER) {
		rc = ktls_start(c);
		if (rc == 0) {
			st->mode = NVMF_TLS_RECORD_KERNEL;
			return 0;
		}
		if (rc != -ENOENT && rc != -ENOPROTOOPT && rc != -EOPNOTSUPP)
			return rc;
		if (st->want == NVMF_TLS_RECORD_KERNEL) {
			if (!st->err[0])
				snprintf(st->err, sizeof(st->err), "kernel TLS: %s", strerror(-rc));
			return -EOPNOTSUPP;
		}
		st->err[0] = '\0'; /* falling back is not an error */
	}
	OPENSSL_cleanse(st->secret_client, sizeof(st->secret_client));
	OPENSSL_cleanse(st->secret_server, sizeof(st->secret_server));
	st->capture = false;
	rc = tls_user_ready(c);
	if (rc)
		return rc;
	st->mode = NVMF_TLS_RECORD_USER;
	return 0;
}

int nvmf_tls_handshake(struct nvmf_conn *c)
{
	struct tls_state *st = nvmf_conn_is_tls(c) ? tls_of(c) : NULL;
	int r, e, rc;

	/* closed, or never started */

	if (!st)
		return -EINVAL;
	if (st->done)
		return 0;
	if (st->failed)
		return st->failed;
	ERR_clear_error();
	r = SSL_do_handshake(st->ssl);
	if (r == 1) {
		rc = finish(c, st);
	} else {
		e = SSL_get_error(st->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			return NVMF_TLS_WANT_READ;
		if (e == SSL_ERROR_WANT_WRITE)
			return NVMF_TLS_WANT_WRITE;
		rc = tls_ssl_error(st, e);
	}
	if (rc) {
		st->failed = rc;
		return rc;
	}
	st->done = true;
	return 0;
}

/* ------------------------------------------------------------------ queries */

bool nvmf_conn_is_tls(const struct nvmf_conn *c)
{
	return c->sock == &nvmf_sock_tls_user || c->sock == &nvmf_sock_tls_kernel;
}

/* The state, or NULL when c is not TLS or is closed. */
static const struct tls_state *state(const struct nvmf_conn *c)
{
	return nvmf_conn_is_tls(c) ? tls_of(c) : NULL;
}

enum nvmf_tls_record nvmf_tls_record_mode(const struct nvmf_conn *c)
{
	return state(c) ? state(c)->mode : NVMF_TLS_RECORD_AUTO;
}

const char *nvmf_tls_cipher(const struct nvmf_conn *c)
{
	return state(c) ? state(c)->cipher : NULL;
}

const char *nvmf_tls_identity(const struct nvmf_conn *c)
{
	return state(c) ? state(c)->identity : "";
}

const char *nvmf_tls_error(const struct nvmf_conn *c)
{
	return state(c) ? state(c)->err : "";
}

const char *nvmf_tls_record_name(enum nvmf_tls_record r)
{
	switch (r) {
	case NVMF_TLS_RECORD_USER:
		return "user";
	case NVMF_TLS_RECORD_KERNEL:
		return "kernel";
	default:
		return "auto";
	}
}
