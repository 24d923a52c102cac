/*
 * The target's TLS glue: its PSKs (the --tls-keys file, reloaded on SIGHUP) and the PSK
 * lookup a queue's TLS server handshake runs.  The transport does the handshake; the
 * Connect checks against the identity are fabrics.c's.
 */
#include <errno.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

int nvmf_tgt_tls_load_keys(struct nvmf_tgt *tgt, char *err, size_t errlen)
{
	struct nvmf_tls_keys *k, *old;
	int rc;

	if (!tgt->tls_keys_path)
		return 0;
	rc = nvmf_tls_keys_load(tgt->tls_keys_path, tgt->tls_compat, &k, err, errlen);
	if (rc)
		return rc;
	pthread_mutex_lock(&tgt->lock);
	old = tgt->tls_keys;
	tgt->tls_keys = k;
	pthread_mutex_unlock(&tgt->lock);
	/* lookups copy what they need under the lock: nothing points into the old keys */
	nvmf_tls_keys_free(old);
	log_info("%s: TLS PSKs for %zu host(s)", tgt->tls_keys_path, nvmf_tls_keys_count(k));
	return 0;
}

int nvmf_tgt_tls_find_psk(void *arg, const char *identity, size_t len, uint8_t *psk,
			  size_t *psk_len, unsigned *hash)
{
	struct nvmf_sq *sq = arg;
	struct nvmf_tgt *tgt = sq->tgt;
	int rc;

	/* a handshake is rare next to I/O: one HKDF under the lock costs nothing that matters */
	pthread_mutex_lock(&tgt->lock);
	rc = nvmf_tls_keys_find(tgt->tls_keys, identity, len, psk, psk_len, hash,
				&sq->tls_peer);
	pthread_mutex_unlock(&tgt->lock);
	return rc;
}
