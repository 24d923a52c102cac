/*
 * The device path of an RBD namespace, as config.json's device.path and the quick-start
 * --file take it, parsed and built without librbd (config checks, the JSON-RPC, tests):
 *
 *   rbd:POOL/IMAGE[?KEY=VALUE&...]            image in the pool's default namespace
 *   rbd:POOL/NAMESPACE/IMAGE[?KEY=VALUE&...]  image in a RADOS namespace of the pool
 *
 *   conf=PATH      ceph.conf to read (default: librados' search, /etc/ceph/ceph.conf ...)
 *   id=NAME        client id, without "client." (default: admin)
 *   keyring=PATH   keyring holding the client's key (default: what the conf says)
 *   cluster=NAME   cluster name (default: ceph), as SPDK's bdev_rbd_create cluster_name
 *   timeout=SEC    how long connecting may take before the namespace fails, 1..3600
 *                  (default 30): also the timeout of every monitor and OSD
 *                  operation, so a cluster that stops answering fails I/O instead of
 *                  hanging it
 *   gateway=1      the namespace is served by a gateway pair (target/owner.c): the image's
 *                  exclusive lock follows the ANA state of the namespace's group -- taken,
 *                  fencing the previous holder, before the group reports optimized; no
 *                  I/O where it is not held (the group reports inaccessible there)
 *   OPTION=VALUE   any other key: a librados option set before connecting (mon_host, key,
 *                  ... as SPDK's bdev_rbd_create "config" map), at most 16; an option
 *                  librados does not know fails the open with its name
 *
 * Values are taken literally (no %-escapes): none may contain '&', and names no '/'.
 */
#ifndef NVMF_BACKEND_RBD_URI_H
#define NVMF_BACKEND_RBD_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define NVMF_RBD_TIMEOUT_DEFAULT 30
#define NVMF_RBD_OPTS_MAX 16

struct nvmf_rbd_uri {
	char *pool, *ns, *image;        /* ns: NULL for the default namespace */
	char *conf, *id, *keyring, *cluster; /* NULL: not given */
	unsigned timeout_s;
	bool gateway;                   /* gateway=1 */
	const char *opt_key[NVMF_RBD_OPTS_MAX], *opt_val[NVMF_RBD_OPTS_MAX]; /* librados' */
	unsigned nr_opts;
	char *buf;                      /* owns the strings above */
};

/* True when path names an RBD image ("rbd:..."), whether or not rbd is built in. */
static inline bool nvmf_bdev_path_is_rbd(const char *path)
{
	return path && strncmp(path, "rbd:", 4) == 0;
}

/* 0, or -EINVAL with what is wrong in err (u is then empty). */
int nvmf_rbd_uri_parse(const char *path, struct nvmf_rbd_uri *u, char *err, size_t errlen);
void nvmf_rbd_uri_free(struct nvmf_rbd_uri *u);

/*
 * The path for these parts (NULL or "" leaves a part out), malloc'd; NULL with err set
 * when a part cannot be written in the form (a '/' in a name, a '&' anywhere, ...).
 */
char *nvmf_rbd_uri_format(const struct nvmf_rbd_uri *u, char *err, size_t errlen);

#endif
