/*
 * What the TLS files of the connection layer share (not for owners: see tls.h): one
 * connection's TLS state in c->sock_priv, the two record paths' ops tables and the kTLS
 * handoff.  tls.c runs the handshake, sock_tls.c the records in user space, ktls.c the
 * records in the kernel.
 */
#ifndef NVMF_CONN_TLS_INT_H
#define NVMF_CONN_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/tls.h>
#include <openssl/ssl.h>

#include "conn/tls.h"

/* One record's plaintext: the most one SSL_write sends in partial-write mode. */
#define TLS_RECORD_MAX 16384
/*
 * User-space records: what one read() may bring, and the records gathered for one write()
 * (four of 16 KiB; a larger flush writes each time the buffer is full).  64 KiB out was as
 * cheap per I/O as 256 KiB, and faster: the peer decrypts the first records while the
 * next are made.  Both per connection (OpenSSL's 17 KiB for the record it writes comes on
 * top).
 */
#define TLS_IN_BUF (64 * 1024)
#define TLS_OUT_BUF (64 * 1024)
#define TLS_SECRET_MAX 48

struct tls_state {
	SSL *ssl;                    /* NULL once the kernel has the records */
	bool server;
	bool done;                   /* handshake over: the data ops work */
	bool fatal;                  /* OpenSSL failed: no close_notify, no more SSL calls */
	int failed;                  /* the handshake's error, repeated on later calls */
	enum nvmf_tls_record want, mode;

	/* server: the owner's lookup; no_psk records that it (or the hash check) said no */
	nvmf_tls_find_psk_fn find_psk;
	void *arg;
	bool no_psk;
	unsigned psk_given; /* the hash (NVMF_TLS_HASH_*) of the PSK handed to OpenSSL, or 0 */
	/* client: what it offers */
	uint8_t psk[NVMF_TLS_PSK_MAX];
	size_t psk_len;
	unsigned hash;

	char identity[NVMF_TLS_IDENTITY_MAX + 1];
	size_t identity_len;
	const char *cipher;          /* OpenSSL's static name */
	uint16_t cipher_id;          /* 0x1301, 0x1302 */
	char err[160];

	/* kTLS: the application traffic secrets, captured from the keylog while handshaking */
	bool capture;
	uint8_t secret_client[TLS_SECRET_MAX], secret_server[TLS_SECRET_MAX];
	size_t secret_client_len, secret_server_len;

	/* user-space records (sock_tls.c) */
	BIO *out;                    /* the write BIO: records wait here for one write() */
	uint8_t *bounce;             /* small iovecs gathered into one record */
	size_t pend_len;             /* an SSL_write to repeat (it blocked): its length */
	bool pend_bounce;            /* ... and its bytes are in bounce, else at the iov head */
	bool rd_kick;                /* a read stopped for a write: read again without waiting */
	bool rd_cut;                 /* a read stopped for a write that is not out yet */
	bool rd_full;                /* the last read filled its buffer: OpenSSL may hold more */
	bool rd_ended;               /* a read ended after returning data: rd_end comes next */
	ssize_t rd_end;              /* 0 (end of stream) or -errno */
};

static inline struct tls_state *tls_of(const struct nvmf_conn *c)
{
	return (struct tls_state *)c->sock_priv;
}

/* Record a reason for nvmf_tls_error(); with OpenSSL's first queued error when there is one. */
void tls_set_error(struct tls_state *st, const char *what);
/* Map a failed SSL call (SSL_get_error's e) to -errno, recording why; clears OpenSSL's queue. */
int tls_ssl_error(struct tls_state *st, int e);
/* Free st and everything it holds (secrets wiped). */
void tls_state_free(struct tls_state *st);

/* The records in user space (OpenSSL), and in the kernel. */
extern const struct nvmf_sock_ops nvmf_sock_tls_user;
extern const struct nvmf_sock_ops nvmf_sock_tls_kernel;
/* Set user-space mode up once the handshake is done (buffers, read-ahead). */
int tls_user_ready(struct nvmf_conn *c);

/* A keylog line from OpenSSL: keep the application traffic secrets it names. */
void ktls_keylog(struct tls_state *st, const char *line);
/*
 * Hand both directions to the kernel.  0: done (c->sock is the kernel's ops, the SSL is
 * freed); -ENOENT / -ENOPROTOOPT / -EOPNOTSUPP: the kernel cannot, nothing changed (user
 * space can go on); other -errno: failed half-way (the connection is lost).
 */
int ktls_start(struct nvmf_conn *c);

/* The kernel's crypto_info for one direction (exported for the unit test). */
union ktls_crypto_info {
	struct tls12_crypto_info_aes_gcm_128 gcm128;
	struct tls12_crypto_info_aes_gcm_256 gcm256;
};
int ktls_crypto_info(uint16_t cipher_id, const uint8_t *secret, size_t len,
		     union ktls_crypto_info *info, socklen_t *info_len);

#endif
