/*
 * TLS 1.3 with an external PSK as socket ops of a connection (NVMe/TCP, TP 8011), on
 * OpenSSL 3.0: the handshake, driven by the owner's event loop, then the record layer in
 * user space (SSL_read / SSL_write) or handed to the kernel (kTLS).
 *
 * What the peers need (tlshd for the Linux host and target, SPDK): TLS 1.3 only; the suite
 * follows the PSK's hash (TLS_AES_128_GCM_SHA256 for SHA-256, TLS_AES_256_GCM_SHA384 for
 * SHA-384); psk_dhe_ke (the tlshd client offers nothing else); no SNI; no session tickets
 * (the Linux host fails when the first record after the handshake is not data).
 *
 * Use:
 *   nvmf_conn_init(c, fd, &nvmf_sock_tcp, ...);     the conn as for plain TCP
 *   nvmf_tls_server_start(c, &cfg);                  or nvmf_tls_client_start()
 *   loop: rc = nvmf_tls_handshake(c);                wait for the fd as rc says
 *   0: c->sock is now the TLS ops; nvmf_conn_queue / flush / receive as usual.
 * The fd must be non-blocking (OpenSSL reads and writes it directly: a blocking fd stalls
 * the owner's loop until the peer writes or closes).
 * Start after nvmf_conn_init() (it clears the conn) and before any PDU moves: the start
 * replaces c->sock, so the staging buffer and the PDU state machine only ever see
 * decrypted bytes.  Until the handshake is done the data ops fail with -ENOTCONN.  The
 * owner times the handshake out (the Linux host and target allow 10 s); nvmf_conn_close()
 * at any point frees the TLS state.
 *
 * After the handshake, in user space:
 *   - check nvmf_conn_has_buffered() after a receive that returned NVMF_CONN_MORE or
 *     NVMF_CONN_PAUSED: OpenSSL may hold decrypted bytes the fd does not announce
 *     (NVMF_CONN_DRAINED means it holds none);
 *   - nvmf_conn_tx_pending() may be true with an empty queue: records made of PDUs
 *     already retired wait for room in the socket (nvmf_conn_flush() said
 *     NVMF_CONN_BLOCKED), or a read made OpenSSL write (its answer to a KeyUpdate) into a
 *     full socket: wait for writable, call nvmf_conn_flush(), then check
 *     nvmf_conn_has_buffered() (the read was cut short);
 *   - a flush may stop (NVMF_CONN_BLOCKED) because OpenSSL wants to read first (not seen
 *     in TLS 1.3, where writes never wait for the peer); the next receive unblocks it, so
 *     owners flush after receiving, as they do anyway.
 * OpenSSL 3.0 sends its answer to a KeyUpdate with the next write, so the second case
 * is a guard rather than a path seen in tests.
 * In the kernel (kTLS) the fd's readiness says everything, as for plain TCP.
 */
#ifndef NVMF_CONN_TLS_H
#define NVMF_CONN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/tls_psk.h"
#include "conn/conn.h"

/* nvmf_tls_handshake() results besides 0 (done) and negative errnos. */
#define NVMF_TLS_WANT_READ  1   /* call again when the fd is readable */
#define NVMF_TLS_WANT_WRITE 2   /* call again when the fd is writable */

/* Where records are made after the handshake. */
enum nvmf_tls_record {
	NVMF_TLS_RECORD_AUTO,    /* the kernel when it can take both directions, else user space */
	NVMF_TLS_RECORD_USER,    /* OpenSSL */
	NVMF_TLS_RECORD_KERNEL,  /* kTLS or fail the handshake (-EOPNOTSUPP) */
};

/* PSK hashes, as nvmf_tls_key_hash() and the identity's <hh> name them. */
#define NVMF_TLS_HASH_SHA256 1
#define NVMF_TLS_HASH_SHA384 2

/*
 * The server's PSK lookup.  identity is the client's, len bytes; a NUL follows it, but
 * compare len bytes (an identity may not be a C string).  Fill psk (up to
 * NVMF_TLS_PSK_MAX), *psk_len and *hash (NVMF_TLS_HASH_*) and return 0, or a negative
 * errno, which picks the logged reason: -EPROTO not an NVMe identity, -EKEYREJECTED the
 * key found does not give this identity, anything else no key.  Runs inside
 * nvmf_tls_handshake().
 */
typedef int (*nvmf_tls_find_psk_fn)(void *arg, const char *identity, size_t len,
				    uint8_t *psk, size_t *psk_len, unsigned *hash);

struct nvmf_tls_server_cfg {
	nvmf_tls_find_psk_fn find_psk;
	void *arg;
	enum nvmf_tls_record record;
};

struct nvmf_tls_client_cfg {
	const char *identity;    /* sent as is (without its NUL) */
	const uint8_t *psk;      /* the TLS PSK (nvmf_tls_psk()), copied */
	size_t psk_len;
	unsigned hash;           /* NVMF_TLS_HASH_*: the one suite offered */
	enum nvmf_tls_record record;
};

/*
 * Begin a handshake on c (set up by nvmf_conn_init(), nothing sent or received yet).
 * Nothing is sent until nvmf_tls_handshake().  0, -EINVAL (bad cfg), -ENOMEM, or -EPROTO
 * when OpenSSL could not be set up (nvmf_tls_error() says why).
 */
int nvmf_tls_server_start(struct nvmf_conn *c, const struct nvmf_tls_server_cfg *cfg);
int nvmf_tls_client_start(struct nvmf_conn *c, const struct nvmf_tls_client_cfg *cfg);

/*
 * Make progress: 0 when the handshake is done (again 0 on later calls),
 * NVMF_TLS_WANT_READ / NVMF_TLS_WANT_WRITE, or a negative errno, for good:
 *   -EACCES      no PSK for the identity, the PSKs differ, or the peer refused ours
 *   -EPROTO      any other TLS failure (the peer does not speak TLS 1.3, bad messages...)
 *   -ECONNRESET  the peer closed or reset the connection
 *   -EOPNOTSUPP  NVMF_TLS_RECORD_KERNEL and the kernel cannot take the records
 *   other        the socket's errno
 * nvmf_tls_error() then gives a reason for the log (never key material).
 */
int nvmf_tls_handshake(struct nvmf_conn *c);

/* True when c has TLS ops (started, whether done or not). */
bool nvmf_conn_is_tls(const struct nvmf_conn *c);
/* After the handshake: NVMF_TLS_RECORD_USER or NVMF_TLS_RECORD_KERNEL (AUTO before). */
enum nvmf_tls_record nvmf_tls_record_mode(const struct nvmf_conn *c);
/* The negotiated suite's IANA name ("TLS_AES_128_GCM_SHA256"), or NULL before it is known. */
const char *nvmf_tls_cipher(const struct nvmf_conn *c);
/* The PSK identity: the one offered (client) or the one the client offered (server). */
const char *nvmf_tls_identity(const struct nvmf_conn *c);
/* Why the handshake or a record operation failed, "" when nothing did. */
const char *nvmf_tls_error(const struct nvmf_conn *c);
/* A name for a record mode, for logs and benchmark reports. */
const char *nvmf_tls_record_name(enum nvmf_tls_record r);

#endif
