/*
 * The target's TLS PSKs (NVMe/TCP TP 8011): one configured key per host, read from the
 * file --tls-keys names, lines "<hostnqn> <NVMeTLSkey-1:xx:...:> [rfc|compat]".  The
 * identity and TLS PSK are derived per subsystem when a client offers an identity, for
 * version 0 and 1 identities, so one line serves every subsystem the host may reach.
 *
 * The Linux target keeps these in its .nvme keyring instead; nvmetcli's JSON has no
 * place for them, hence a file of our own.
 */
#ifndef NVMF_TARGET_TLS_KEYS_H
#define NVMF_TARGET_TLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/tls_psk.h"

struct nvmf_tls_keys;

/*
 * Read path.  compat: lines without a derivation word use libnvme <= 1.15's derivation.
 * The file must not be readable or writable by group or others.  0, or -errno with err
 * naming the file (and line); err never holds key material.
 */
int nvmf_tls_keys_load(const char *path, bool compat, struct nvmf_tls_keys **out, char *err,
		       size_t errlen);
void nvmf_tls_keys_free(struct nvmf_tls_keys *k);
size_t nvmf_tls_keys_count(const struct nvmf_tls_keys *k);

/* What an identity names: "NVMe<v>R<hh> <hostnqn> <subnqn>[ <digest>]". */
struct nvmf_tls_peer {
	char hostnqn[224];
	char subnqn[224];
};

/*
 * The TLS PSK for an identity a client offered (len bytes): the host's key derived for
 * the identity's subsystem and version must give exactly that identity (for version 1,
 * the digest too).  Fills psk, *psk_len, *hash (NVMF_TLS_HASH_*) and *peer; 0, or
 * -EPROTO (not an NVMe identity), -ENOENT (no key for its host) or -EKEYREJECTED (the
 * host's key gives another hash or digest: a different key, or the other derivation).
 */
int nvmf_tls_keys_find(const struct nvmf_tls_keys *k, const char *identity, size_t len,
		       uint8_t psk[NVMF_TLS_PSK_MAX], size_t *psk_len, unsigned *hash,
		       struct nvmf_tls_peer *peer);

#endif
