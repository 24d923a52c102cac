/*
 * The --tls-keys file: one line per host, "<hostnqn> <NVMeTLSkey-1:xx:...:> [rfc|compat]",
 * blank lines and '#' comments allowed.  The file holds secrets, so it is refused when
 * group or others may read or write it; errors name the file and line, never the key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/tls_keys.h"

struct tls_host_key {
	char hostnqn[224];
	struct nvmf_tls_key key;
	enum nvmf_tls_derive how;
};

struct nvmf_tls_keys {
	struct tls_host_key *hosts;
	size_t nr;
};

void nvmf_tls_keys_free(struct nvmf_tls_keys *k)
{
	if (!k)
		return;
	if (k->hosts)
		explicit_bzero(k->hosts, k->nr * sizeof(*k->hosts));
	free(k->hosts);
	free(k);
}

size_t nvmf_tls_keys_count(const struct nvmf_tls_keys *k)
{
	return k ? k->nr : 0;
}

static const struct tls_host_key *find_host(const struct nvmf_tls_keys *k, const char *nqn)
{
	for (size_t i = 0; i < k->nr; i++)
		if (strcmp(k->hosts[i].hostnqn, nqn) == 0)
			return &k->hosts[i];
	return NULL;
}

/* One line, split in place; 0 for a host added or an empty line, else -EINVAL with err. */
static int parse_line(struct nvmf_tls_keys *k, char *line, bool compat, const char *path,
		      unsigned lineno, char *err, size_t errlen)
{
	char *save = NULL, *nqn, *key, *how, *extra;
	struct tls_host_key h = { .how = compat ? NVMF_TLS_DERIVE_COMPAT : NVMF_TLS_DERIVE_RFC };
	struct tls_host_key *nh;
	int rc;

	line[strcspn(line, "#\n")] = '\0';
	nqn = strtok_r(line, " \t\r", &save);
	if (!nqn)
		return 0;
	key = strtok_r(NULL, " \t\r", &save);
	how = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (!key || extra || strlen(nqn) >= sizeof(h.hostnqn)) {
		snprintf(err, errlen, "%s:%u: expected \"<hostnqn> <NVMeTLSkey-1:...> "
			 "[rfc|compat]\"", path, lineno);
		return -EINVAL;
	}
	if (how && strcmp(how, "compat") == 0) {
		h.how = NVMF_TLS_DERIVE_COMPAT;
	} else if (how && strcmp(how, "rfc") == 0) {
		h.how = NVMF_TLS_DERIVE_RFC;
	} else if (how) {
		snprintf(err, errlen, "%s:%u: unknown derivation '%.16s' (rfc or compat)", path,
			 lineno, how);
		return -EINVAL;
	}
	rc = nvmf_tls_key_parse(key, &h.key);
	explicit_bzero(key, strlen(key));
	if (rc) {
		snprintf(err, errlen, "%s:%u: host %s: %s", path, lineno, nqn,
			 rc == -EBADMSG ? "the key's CRC does not match"
					: "not a key in NVMeTLSkey-1:xx:<base64>: form");
		return -EINVAL;
	}
	if (find_host(k, nqn)) {
		snprintf(err, errlen, "%s:%u: host %s has a key already", path, lineno, nqn);
		explicit_bzero(&h, sizeof(h));
		return -EINVAL;
	}
	nh = realloc(k->hosts, (k->nr + 1) * sizeof(*nh));
	if (!nh) {
		snprintf(err, errlen, "%s:%u: out of memory", path, lineno);
		explicit_bzero(&h, sizeof(h));
		return -ENOMEM;
	}
	k->hosts = nh;
	strcpy(h.hostnqn, nqn);
	k->hosts[k->nr++] = h;
	explicit_bzero(&h, sizeof(h));
	return 0;
}

int nvmf_tls_keys_load(const char *path, bool compat, struct nvmf_tls_keys **out, char *err,
		       size_t errlen)
{
	struct nvmf_tls_keys *k;
	struct stat st;
	char line[1024];
	unsigned lineno = 0;
	int fd, rc = 0;
	FILE *f;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* the file that is read is the one checked: fstat, not stat before open */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: holds secrets but group or others may access it "
			 "(mode %04o): chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	k = calloc(1, sizeof(*k));
	if (!f || !k) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(k);
		if (f)
			fclose(f);
		else
			close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		rc = parse_line(k, line, compat, path, lineno, err, errlen);
		if (rc)
			break;
	}
	explicit_bzero(line, sizeof(line));
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	fclose(f);
	if (rc) {
		nvmf_tls_keys_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* Split "NVMe<v>R<hh> <hostnqn> <subnqn>[ <digest>]"; the version or -EPROTO. */
static int parse_identity(const char *id, size_t len, struct nvmf_tls_peer *peer)
{
	const char *p = id + 9, *end = id + len, *sp;
	size_t n;
	int version;

	if (len < 9 || memcmp(id, "NVMe", 4) != 0 || (id[4] != '0' && id[4] != '1') ||
	    id[5] != 'R' || id[8] != ' ' || memchr(id, '\0', len))
		return -EPROTO;
	version = id[4] - '0';
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || (n = (size_t)(sp - p)) == 0 || n >= sizeof(peer->hostnqn))
		return -EPROTO;
	memcpy(peer->hostnqn, p, n);
	peer->hostnqn[n] = '\0';
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	n = (size_t)((sp ? sp : end) - p);
	if (n == 0 || n >= sizeof(peer->subnqn) || (version == 0) != !sp)
		return -EPROTO;
	memcpy(peer->subnqn, p, n);
	peer->subnqn[n] = '\0';
	return version;
}

int nvmf_tls_keys_find(const struct nvmf_tls_keys *k, const char *identity, size_t len,
		       uint8_t psk[NVMF_TLS_PSK_MAX], size_t *psk_len, unsigned *hash,
		       struct nvmf_tls_peer *peer)
{
	char derived[NVMF_TLS_IDENTITY_MAX];
	const struct tls_host_key *h;
	int version, n;

	version = parse_identity(identity, len, peer);
	if (version < 0)
		return version;
	h = k ? find_host(k, peer->hostnqn) : NULL;
	if (!h)
		return -ENOENT;
	n = nvmf_tls_psk(&h->key, peer->hostnqn, peer->subnqn, (unsigned)version, h->how,
			 derived, psk);
	/* the whole identity: the hash <hh> and, for version 1, the digest of the PSK */
	if (n < 0 || strlen(derived) != len || memcmp(derived, identity, len) != 0) {
		explicit_bzero(psk, NVMF_TLS_PSK_MAX);
		return n < 0 ? n : -EKEYREJECTED;
	}
	*psk_len = (size_t)n;
	*hash = nvmf_tls_key_hash(&h->key);
	return 0;
}
