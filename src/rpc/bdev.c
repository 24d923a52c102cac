/*
 * SPDK's bdev methods that map onto our backends: bdev_malloc_create (RAM), bdev_null_create
 * (null), bdev_aio_create and bdev_uring_create (files and block devices; both are the
 * file backend on io_uring here), their deletes, and bdev_get_bdevs.
 *
 * A bdev here is a name for a backing, not an open device: the backend opens when a
 * namespace uses the bdev (nvmf_subsystem_add_ns) and closes when the namespace goes, so a
 * malloc bdev's data lives as long as its namespace, not as long as the bdev (SPDK keeps
 * it until bdev_malloc_delete).  Deleting a bdev a namespace uses removes the namespace,
 * as SPDK's hot remove does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc/rpc_int.h"
#include "backend/bdev.h"
#include "backend/rbd_uri.h"
#include "target/target.h"
#include "util/log.h"

static const char *const product[] = {
	[RPC_BDEV_MALLOC] = "Malloc disk",
	[RPC_BDEV_NULL] = "Null disk",
	[RPC_BDEV_AIO] = "AIO disk",
	[RPC_BDEV_URING] = "URING bdev",
	[RPC_BDEV_RBD] = "Ceph Rbd Disk",
};

static const char *const create_method[] = {
	[RPC_BDEV_MALLOC] = "bdev_malloc_create",
	[RPC_BDEV_NULL] = "bdev_null_create",
	[RPC_BDEV_AIO] = "bdev_aio_create",
	[RPC_BDEV_URING] = "bdev_uring_create",
	[RPC_BDEV_RBD] = "bdev_rbd_create",
};

struct rpc_bdev *rpc_bdev_find(struct nvmf_rpc *rpc, const char *name)
{
	for (size_t i = 0; i < rpc->nr_bdevs; i++)
		if (strcmp(rpc->bdevs[i].name, name) == 0)
			return &rpc->bdevs[i];
	return NULL;
}

static void bdev_clear(struct rpc_bdev *b)
{
	free(b->name);
	free(b->filename);
}

void rpc_bdev_free_all(struct nvmf_rpc *rpc)
{
	for (size_t i = 0; i < rpc->nr_bdevs; i++)
		bdev_clear(&rpc->bdevs[i]);
	free(rpc->bdevs);
	rpc->bdevs = NULL;
	rpc->nr_bdevs = 0;
}

static struct rpc_bdev *bdev_add(struct nvmf_rpc *rpc, const char *name, enum rpc_bdev_kind k,
				 const char *filename)
{
	struct rpc_bdev *n = realloc(rpc->bdevs, (rpc->nr_bdevs + 1) * sizeof(*n)), *b;

	if (!n)
		return NULL;
	rpc->bdevs = n;
	b = &n[rpc->nr_bdevs];
	memset(b, 0, sizeof(*b));
	b->kind = k;
	b->name = strdup(name);
	b->filename = filename ? strdup(filename) : NULL;
	if (!b->name || (filename && !b->filename)) {
		bdev_clear(b);
		return NULL;
	}
	rpc->nr_bdevs++;
	return b;
}

uint64_t rpc_bdev_bytes(const struct rpc_bdev *b, uint32_t *block_size)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE, .block_size = b->block_size };
	struct nvmf_bdev *dev;
	uint64_t bytes;
	char why[256];

	*block_size = b->block_size ? b->block_size : 512;
	if (b->kind == RPC_BDEV_MALLOC || b->kind == RPC_BDEV_NULL)
		return b->num_blocks * *block_size;
	/* what a namespace on it gets: the file backend decides (block size of O_DIRECT) */
	p.path = b->filename;
	if (nvmf_bdev_open(&p, &dev, why, sizeof(why)))
		return 0;
	*block_size = dev->block_size;
	bytes = dev->size;
	nvmf_bdev_close(dev);
	return bytes;
}

int rpc_bdev_to_ns(const struct rpc_bdev *b, struct json_object *device, uint64_t *size)
{
	uint32_t bs;

	*size = rpc_bdev_bytes(b, &bs);
	json_object_object_add(device, "bdev", json_object_new_string(b->name));
	switch (b->kind) {
	case RPC_BDEV_MALLOC:
	case RPC_BDEV_NULL:
		json_object_object_add(device, "path", json_object_new_string(""));
		json_object_object_add(device, "backend", json_object_new_string(
					       b->kind == RPC_BDEV_MALLOC ? "ram" : "null"));
		json_object_object_add(device, "size", json_object_new_int64((int64_t)*size));
		json_object_object_add(device, "block_size", json_object_new_int((int)bs));
		break;
	default:
		json_object_object_add(device, "path", json_object_new_string(b->filename));
		if (b->block_size)
			json_object_object_add(device, "block_size",
					       json_object_new_int((int)b->block_size));
		break;
	}
	return 0;
}

/* Names the configuration's namespaces give their backing, registered as bdevs. */
void rpc_bdev_sync(struct nvmf_rpc *rpc)
{
	const struct nvmf_cfg *cfg = rpc->tgt->cfg;

	for (size_t i = 0; i < cfg->nr_subsystems; i++) {
		const struct nvmf_cfg_subsys *s = &cfg->subsystems[i];

		for (size_t k = 0; k < s->nr_namespaces; k++) {
			const struct nvmf_cfg_ns *ns = &s->namespaces[k];
			char synth[300];
			const char *name = ns->bdev_name;
			struct rpc_bdev *b;
			enum rpc_bdev_kind kind = RPC_BDEV_AIO;

			if (!name[0]) {
				/* nvmetcli's file names none: the path is the bdev's name */
				if (ns->path[0])
					name = ns->path;
				else {
					snprintf(synth, sizeof(synth), "%s:ns%u", s->nqn, ns->nsid);
					name = synth;
				}
			}
			if (rpc_bdev_find(rpc, name))
				continue;
			if (ns->backend == NVMF_BACKEND_RAM)
				kind = RPC_BDEV_MALLOC;
			else if (ns->backend == NVMF_BACKEND_NULL)
				kind = RPC_BDEV_NULL;
			else if (nvmf_bdev_path_is_rbd(ns->path))
				kind = RPC_BDEV_RBD;
			b = bdev_add(rpc, name, kind,
				     kind == RPC_BDEV_AIO || kind == RPC_BDEV_RBD ? ns->path : NULL);
			if (!b) {
				log_err("rpc: out of memory registering bdev %s", name);
				return;
			}
			b->block_size = ns->block_size;
			if (kind == RPC_BDEV_MALLOC || kind == RPC_BDEV_NULL)
				b->num_blocks = ns->size / (ns->block_size ? ns->block_size : 512);
		}
	}
}

/* The namespaces that use bdev name: "nqn" and nsid pairs, for claims and hot remove. */
static bool ns_uses(const struct nvmf_cfg_ns *ns, const char *name)
{
	return strcmp(ns->bdev_name, name) == 0 ||
	       (!ns->bdev_name[0] && ns->path[0] && strcmp(ns->path, name) == 0);
}

static bool bdev_claimed(struct nvmf_rpc *rpc, const char *name)
{
	const struct nvmf_cfg *cfg = rpc->tgt->cfg;

	for (size_t i = 0; i < cfg->nr_subsystems; i++)
		for (size_t k = 0; k < cfg->subsystems[i].nr_namespaces; k++)
			if (ns_uses(&cfg->subsystems[i].namespaces[k], name))
				return true;
	return false;
}

/* ------------------------------------------------------------------ create */

/* The first of PREFIX0, PREFIX1, ... no bdev is called, into buf. */
static const char *free_name(struct rpc_call *c, const char *prefix, char *buf, size_t len)
{
	for (unsigned i = 0;; i++) {
		snprintf(buf, len, "%s%u", prefix, i);
		if (!rpc_bdev_find(c->rpc, buf))
			return buf;
	}
}

static int check_name(struct rpc_call *c, const char *name)
{
	if (!name[0] || strlen(name) > 255)
		return rpc_invalid(c, "bdev name must be 1..255 characters");
	/* SPDK: spdk_bdev_register() fails with -EEXIST, reported as "File exists" */
	if (rpc_bdev_find(c->rpc, name))
		return rpc_fail(c, -EEXIST, "File exists");
	return 0;
}

static int get_block_size(struct rpc_call *c, bool required, uint32_t *bs)
{
	uint64_t v = 0;
	bool present;
	int rc = rpc_u64(c, c->params, "block_size", required, UINT32_MAX, &v, &present);

	if (rc)
		return rc;
	if (present && v != 512 && v != 4096)
		return rpc_invalid(c, "block_size %llu: nvmf-target serves 512 or 4096",
				   (unsigned long long)v);
	*bs = (uint32_t)v;
	return 0;
}

static int get_uuid(struct rpc_call *c, struct rpc_bdev *b)
{
	const char *u;
	int rc = rpc_str(c, c->params, "uuid", false, &u);

	if (rc || !u)
		return rc;
	if (!rpc_parse_uuid(u, b->uuid))
		return rpc_invalid(c, "uuid \"%s\" is not a UUID", u);
	b->has_uuid = true;
	return 0;
}

static int result_name(struct rpc_call *c, const char *name)
{
	c->result = json_object_new_string(name);
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

/* bdev_malloc_create / bdev_null_create: block_size, num_blocks (both required). */
static int create_mem(struct rpc_call *c, enum rpc_bdev_kind kind)
{
	static const char *const known[] = {
		"name", "block_size", "num_blocks", "uuid", "optimal_io_boundary", "md_size",
		"md_interleave", "dif_type", "dif_is_head_of_md", "physical_block_size",
		"dif_pi_format", "numa_id", "preferred_write_granularity",
		"preferred_write_alignment", "optimal_write_size", "preferred_unmap_granularity",
		"preferred_unmap_alignment", NULL,
	};
	struct rpc_bdev tmp = { 0 }, *b;
	const char *name = NULL;
	char gen[32];
	uint64_t nb = 0, md = 0;
	uint32_t bs = 0;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", kind == RPC_BDEV_NULL, &name);
	if (!rc)
		rc = get_block_size(c, true, &bs);
	if (!rc)
		rc = rpc_u64(c, c->params, "num_blocks", true, UINT64_MAX / 4096, &nb, NULL);
	if (!rc)
		rc = rpc_u64(c, c->params, "md_size", false, UINT32_MAX, &md, NULL);
	if (!rc)
		rc = get_uuid(c, &tmp);
	if (rc)
		return rc;
	if (md)
		return rpc_invalid(c, "md_size: metadata and protection information are not "
				   "served by nvmf-target");
	if (!nb)
		return rpc_invalid(c, "num_blocks must be at least 1");
	if (!name)   /* SPDK names unnamed malloc bdevs Malloc0, Malloc1, ... */
		name = free_name(c, "Malloc", gen, sizeof(gen));
	rc = check_name(c, name);
	if (rc)
		return rc;
	b = bdev_add(c->rpc, name, kind, NULL);
	if (!b)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	b->block_size = bs;
	b->num_blocks = nb;
	memcpy(b->uuid, tmp.uuid, 16);
	b->has_uuid = tmp.has_uuid;
	return result_name(c, name);
}

static int m_bdev_malloc_create(struct rpc_call *c)
{
	return create_mem(c, RPC_BDEV_MALLOC);
}

static int m_bdev_null_create(struct rpc_call *c)
{
	return create_mem(c, RPC_BDEV_NULL);
}

/* bdev_aio_create / bdev_uring_create: name and filename required; the file must exist. */
static int create_file(struct rpc_call *c, enum rpc_bdev_kind kind)
{
	static const char *const known[] = {
		"name", "filename", "block_size", "readonly", "fallocate", "uuid", "nowait", NULL,
	};
	struct rpc_bdev tmp = { 0 }, *b;
	const char *name, *filename;
	bool ro = false;
	uint32_t bs = 0;
	struct stat st;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", true, &name);
	if (!rc)
		rc = rpc_str(c, c->params, "filename", true, &filename);
	if (!rc)
		rc = get_block_size(c, false, &bs);
	if (!rc)
		rc = rpc_bool(c, c->params, "readonly", &ro);
	if (!rc)
		rc = get_uuid(c, &tmp);
	if (rc)
		return rc;
	if (ro)
		return rpc_invalid(c, "readonly: read-only namespaces are not served");
	rc = check_name(c, name);
	if (rc)
		return rc;
	if (stat(filename, &st) < 0)
		return rpc_fail(c, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return rpc_invalid(c, "%s is neither a file nor a block device", filename);
	{
		struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE, .path = filename,
					      .block_size = bs };
		struct nvmf_bdev *dev;
		char why[256];

		rc = nvmf_bdev_open(&p, &dev, why, sizeof(why));
		if (rc)
			return rpc_fail(c, rc, "%s", why);
		nvmf_bdev_close(dev);
	}
	b = bdev_add(c->rpc, name, kind, filename);
	if (!b)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	b->block_size = bs;
	memcpy(b->uuid, tmp.uuid, 16);
	b->has_uuid = tmp.has_uuid;
	return result_name(c, name);
}

static int m_bdev_aio_create(struct rpc_call *c)
{
	return create_file(c, RPC_BDEV_AIO);
}

static int m_bdev_uring_create(struct rpc_call *c)
{
	return create_file(c, RPC_BDEV_URING);
}

/*
 * bdev_rbd_create: SPDK's parameters (pool_name, rbd_name, namespace_name, user_id,
 * block_size, config: librados options as strings, uuid), plus config_file and key_file
 * (the ceph.conf and keyring paths SPDK's bdev_rbd_register_cluster takes) and
 * timeout_sec (rbd_uri.h's timeout) and gateway (rbd_uri.h's gateway=1: a namespace of an
 * HA gateway pair, target/owner.c).  The image is opened once to check it is reachable;
 * the bdev is the rbd: device path a namespace on it opens.  SPDK names unnamed ones Ceph0,
 * Ceph1, ...
 */
static int m_bdev_rbd_create(struct rpc_call *c)
{
	static const char *const known[] = {
		"name", "user_id", "pool_name", "rbd_name", "namespace_name", "block_size",
		"config", "cluster_name", "uuid", "read_only", "config_file", "key_file",
		"timeout_sec", "gateway", NULL,
	};
	struct rpc_bdev tmp = { 0 }, *b;
	struct nvmf_rbd_uri u = { .timeout_s = NVMF_RBD_TIMEOUT_DEFAULT };
	struct json_object *conf = NULL;
	const char *name = NULL, *cluster = NULL;
	char gen[32], why[512], *path;
	uint64_t timeout = 0;
	bool ro = false, has_timeout = false;
	uint32_t bs = 0;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", false, &name);
	if (!rc)
		rc = rpc_str(c, c->params, "pool_name", true, (const char **)&u.pool);
	if (!rc)
		rc = rpc_str(c, c->params, "rbd_name", true, (const char **)&u.image);
	if (!rc)
		rc = rpc_str(c, c->params, "namespace_name", false, (const char **)&u.ns);
	if (!rc)
		rc = rpc_str(c, c->params, "user_id", false, (const char **)&u.id);
	if (!rc)
		rc = rpc_str(c, c->params, "config_file", false, (const char **)&u.conf);
	if (!rc)
		rc = rpc_str(c, c->params, "key_file", false, (const char **)&u.keyring);
	if (!rc)
		rc = rpc_str(c, c->params, "cluster_name", false, &cluster);
	if (!rc)
		rc = rpc_u64(c, c->params, "timeout_sec", false, 3600, &timeout, &has_timeout);
	if (!rc)
		rc = get_block_size(c, false, &bs);
	if (!rc)
		rc = rpc_bool(c, c->params, "read_only", &ro);
	if (!rc)
		rc = rpc_bool(c, c->params, "gateway", &u.gateway);
	if (!rc)
		rc = rpc_obj(c, c->params, "config", false, &conf);
	if (!rc)
		rc = get_uuid(c, &tmp);
	if (rc)
		return rc;
	if (ro)
		return rpc_invalid(c, "read_only: read-only namespaces are not served");
	if (cluster)
		return rpc_invalid(c, "cluster_name: registered clusters (bdev_rbd_register_cluster)"
				   " are not supported; give config_file, key_file, user_id or "
				   "config");
	if (has_timeout) {
		if (timeout < 1)
			return rpc_invalid(c, "timeout_sec must be 1..3600");
		u.timeout_s = (unsigned)timeout;
	}
	if (conf) {
		json_object_object_foreach(conf, k, v) {
			if (!json_object_is_type(v, json_type_string))
				return rpc_invalid(c, "config.%s: a string is expected", k);
			if (u.nr_opts == NVMF_RBD_OPTS_MAX)
				return rpc_invalid(c, "config: more than %d options",
						   NVMF_RBD_OPTS_MAX);
			u.opt_key[u.nr_opts] = k;
			u.opt_val[u.nr_opts++] = json_object_get_string(v);
		}
	}
	if (!name)   /* and unnamed RBD bdevs Ceph0, Ceph1, ... */
		name = free_name(c, "Ceph", gen, sizeof(gen));
	rc = check_name(c, name);
	if (rc)
		return rc;
	path = nvmf_rbd_uri_format(&u, why, sizeof(why));
	if (!path)
		return rpc_invalid(c, "%s", why);
	{
		struct nvmf_bdev_params p = { .kind = NVMF_BDEV_RBD, .path = path,
					      .block_size = bs };
		struct nvmf_bdev *dev;

		rc = nvmf_bdev_open(&p, &dev, why, sizeof(why));
		if (rc) {
			free(path);
			return rpc_fail(c, rc, "%s", why);
		}
		nvmf_bdev_close(dev);
	}
	b = bdev_add(c->rpc, name, RPC_BDEV_RBD, path);
	free(path);
	if (!b)
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	b->block_size = bs;
	memcpy(b->uuid, tmp.uuid, 16);
	b->has_uuid = tmp.has_uuid;
	return result_name(c, name);
}

/* ------------------------------------------------------------------ delete */

/* Namespaces on the bdev go first (hosts see them go), then the bdev. */
static int delete_kind(struct rpc_call *c, enum rpc_bdev_kind kind)
{
	static const char *const known[] = { "name", NULL };
	const char *name;
	struct rpc_bdev *b;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", true, &name);
	if (rc)
		return rc;
	b = rpc_bdev_find(c->rpc, name);
	/* SPDK answers a delete of an unknown bdev with -ENODEV's text */
	if (!b || b->kind != kind)
		return rpc_fail(c, -ENODEV, "No such device");
	if (bdev_claimed(c->rpc, name)) {
		struct json_object *doc = rpc_cfg_begin(c), *subs;

		if (!doc)
			return RPC_ERR_INTERNAL;
		json_object_object_get_ex(doc, "subsystems", &subs);
		for (size_t i = 0; subs && i < json_object_array_length(subs); i++) {
			struct json_object *nss = NULL, *s = json_object_array_get_idx(subs, i);

			json_object_object_get_ex(s, "namespaces", &nss);
			for (size_t k = nss ? json_object_array_length(nss) : 0; k-- > 0;) {
				struct json_object *ns = json_object_array_get_idx(nss, k), *d, *v;
				const char *bn = "", *path = "";

				if (json_object_object_get_ex(ns, "device", &d)) {
					if (json_object_object_get_ex(d, "bdev", &v))
						bn = json_object_get_string(v);
					if (json_object_object_get_ex(d, "path", &v))
						path = json_object_get_string(v);
				}
				if (strcmp(bn, name) == 0 || (!bn[0] && strcmp(path, name) == 0))
					json_object_array_del_idx(nss, k, 1);
			}
		}
		rc = rpc_cfg_commit(c, doc);
		if (rc)
			return rc;
		b = rpc_bdev_find(c->rpc, name);
		if (!b)
			return 0;
	}
	bdev_clear(b);
	memmove(b, b + 1, (size_t)(c->rpc->bdevs + c->rpc->nr_bdevs - (b + 1)) * sizeof(*b));
	c->rpc->nr_bdevs--;
	return 0;
}

static int m_bdev_malloc_delete(struct rpc_call *c)
{
	return delete_kind(c, RPC_BDEV_MALLOC);
}

static int m_bdev_null_delete(struct rpc_call *c)
{
	return delete_kind(c, RPC_BDEV_NULL);
}

static int m_bdev_aio_delete(struct rpc_call *c)
{
	return delete_kind(c, RPC_BDEV_AIO);
}

static int m_bdev_uring_delete(struct rpc_call *c)
{
	return delete_kind(c, RPC_BDEV_URING);
}

static int m_bdev_rbd_delete(struct rpc_call *c)
{
	return delete_kind(c, RPC_BDEV_RBD);
}

/* ------------------------------------------------------------------ queries */

/* The parts of an rbd: path under SPDK's names (bdev_rbd_create's parameters). */
static void rbd_params(struct json_object *o, const char *path, bool for_create)
{
	struct nvmf_rbd_uri u;
	char why[256];

	if (nvmf_rbd_uri_parse(path, &u, why, sizeof(why)))
		return;
	json_object_object_add(o, "pool_name", json_object_new_string(u.pool));
	json_object_object_add(o, "rbd_name", json_object_new_string(u.image));
	if (u.ns)
		json_object_object_add(o, "namespace_name", json_object_new_string(u.ns));
	if (u.id)
		json_object_object_add(o, "user_id", json_object_new_string(u.id));
	if (u.conf)
		json_object_object_add(o, "config_file", json_object_new_string(u.conf));
	if (u.keyring)
		json_object_object_add(o, "key_file", json_object_new_string(u.keyring));
	if (for_create && u.timeout_s != NVMF_RBD_TIMEOUT_DEFAULT)
		json_object_object_add(o, "timeout_sec", json_object_new_int64(u.timeout_s));
	if (for_create && u.gateway)
		json_object_object_add(o, "gateway", json_object_new_boolean(true));
	if (for_create && u.nr_opts) {
		struct json_object *m = json_object_new_object();

		for (unsigned i = 0; m && i < u.nr_opts; i++)
			json_object_object_add(m, u.opt_key[i],
					       json_object_new_string(u.opt_val[i]));
		json_object_object_add(o, "config", m);
	}
	nvmf_rbd_uri_free(&u);
}

static void rbd_driver_specific(struct json_object *ds, const char *path)
{
	struct json_object *r = json_object_new_object();

	if (!r)
		return;
	rbd_params(r, path, false);
	json_object_object_add(ds, "rbd", r);
}

static struct json_object *bdev_json(struct nvmf_rpc *rpc, const struct rpc_bdev *b)
{
	static const char *const io_types[] = {
		"read", "write", "unmap", "write_zeroes", "flush", "reset", "nvme_admin",
		"nvme_io",
	};
	struct json_object *j = json_object_new_object(), *io = json_object_new_object(), *ds;
	uint32_t bs;
	uint64_t bytes = rpc_bdev_bytes(b, &bs);
	char u[37];

	if (!j || !io) {
		json_object_put(j);
		json_object_put(io);
		return NULL;
	}
	json_object_object_add(j, "name", json_object_new_string(b->name));
	json_object_object_add(j, "aliases", json_object_new_array());
	json_object_object_add(j, "product_name", json_object_new_string(product[b->kind]));
	json_object_object_add(j, "block_size", json_object_new_int64(bs));
	json_object_object_add(j, "num_blocks", json_object_new_int64((int64_t)(bytes / bs)));
	if (b->has_uuid) {
		rpc_fmt_uuid(u, b->uuid);
		json_object_object_add(j, "uuid", json_object_new_string(u));
	}
	json_object_object_add(j, "claimed", json_object_new_boolean(bdev_claimed(rpc, b->name)));
	json_object_object_add(j, "zoned", json_object_new_boolean(0));
	for (size_t i = 0; i < sizeof(io_types) / sizeof(io_types[0]); i++)
		json_object_object_add(io, io_types[i], json_object_new_boolean(i < 5));
	json_object_object_add(j, "supported_io_types", io);
	ds = json_object_new_object();
	if (ds && b->kind == RPC_BDEV_RBD) {
		rbd_driver_specific(ds, b->filename);
	} else if (ds && b->filename) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "filename", json_object_new_string(b->filename));
		json_object_object_add(ds, b->kind == RPC_BDEV_AIO ? "aio" : "uring", f);
	}
	json_object_object_add(j, "driver_specific", ds);
	return j;
}

static int m_bdev_get_bdevs(struct rpc_call *c)
{
	static const char *const known[] = { "name", "timeout", NULL };
	const char *name = NULL;
	uint64_t timeout = 0;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_str(c, c->params, "name", false, &name);
	if (!rc)
		rc = rpc_u64(c, c->params, "timeout", false, UINT32_MAX, &timeout, NULL);
	if (rc)
		return rc;
	/* nothing appears later here (no examine): a timeout waits for nothing */
	if (name && !rpc_bdev_find(c->rpc, name))
		return rpc_fail(c, -ENODEV, "No such device");
	c->result = json_object_new_array();
	for (size_t i = 0; c->result && i < c->rpc->nr_bdevs; i++)
		if (!name || strcmp(name, c->rpc->bdevs[i].name) == 0)
			json_object_array_add(c->result, bdev_json(c->rpc, &c->rpc->bdevs[i]));
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

/* save_config's "bdev" subsystem: one create call per bdev. */
struct json_object *rpc_bdev_config(struct nvmf_rpc *rpc)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < rpc->nr_bdevs; i++) {
		const struct rpc_bdev *b = &rpc->bdevs[i];
		struct json_object *m = json_object_new_object(), *p = json_object_new_object();
		char u[37];

		if (!m || !p) {
			json_object_put(m);
			json_object_put(p);
			json_object_put(a);
			return NULL;
		}
		json_object_object_add(m, "method", json_object_new_string(create_method[b->kind]));
		json_object_object_add(m, "params", p);
		json_object_object_add(p, "name", json_object_new_string(b->name));
		if (b->kind == RPC_BDEV_RBD)
			rbd_params(p, b->filename, true);
		else if (b->filename)
			json_object_object_add(p, "filename", json_object_new_string(b->filename));
		if (b->kind == RPC_BDEV_MALLOC || b->kind == RPC_BDEV_NULL) {
			json_object_object_add(p, "num_blocks",
					       json_object_new_int64((int64_t)b->num_blocks));
			json_object_object_add(p, "block_size",
					       json_object_new_int64(b->block_size ? b->block_size
										   : 512));
		} else if (b->block_size) {
			json_object_object_add(p, "block_size", json_object_new_int64(b->block_size));
		}
		if (b->has_uuid) {
			rpc_fmt_uuid(u, b->uuid);
			json_object_object_add(p, "uuid", json_object_new_string(u));
		}
		json_object_array_add(a, m);
	}
	return a;
}

const struct rpc_method rpc_bdev_methods[] = {
	{ "bdev_malloc_create", m_bdev_malloc_create },
	{ "bdev_malloc_delete", m_bdev_malloc_delete },
	{ "bdev_null_create", m_bdev_null_create },
	{ "bdev_null_delete", m_bdev_null_delete },
	{ "bdev_aio_create", m_bdev_aio_create },
	{ "bdev_aio_delete", m_bdev_aio_delete },
	{ "bdev_uring_create", m_bdev_uring_create },
	{ "bdev_uring_delete", m_bdev_uring_delete },
	{ "bdev_rbd_create", m_bdev_rbd_create },
	{ "bdev_rbd_delete", m_bdev_rbd_delete },
	{ "bdev_get_bdevs", m_bdev_get_bdevs },
	{ NULL, NULL },
};
