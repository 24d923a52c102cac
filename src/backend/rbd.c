/*
 * RBD backend: a namespace is a Ceph RBD image, driven through librbd's asynchronous calls.
 *
 *   READ / WRITE   rbd_aio_readv / rbd_aio_writev; FUA is the write, then rbd_aio_flush
 *                  (librbd has no write-through flag: its cache is written back on flush)
 *   FLUSH          rbd_aio_flush
 *   WRITE_ZEROES   rbd_aio_write_zeroes (then a flush with FUA)
 *   DISCARD        rbd_aio_discard
 *
 * librbd completes on its own threads.  The completion callback only records the result
 * and posts the request back to the reactor that submitted it (nvmf_reactor_post: a
 * lock-free push and, once per batch, an eventfd write the reactor's io_uring reads), so
 * io->done runs on the reactor's thread as every backend's does and the I/O path takes no
 * lock of ours.  One bdev is shared by all reactors: librbd's image handle is thread-safe.
 *
 * A resize of the image (rbd resize) reaches us through rbd_update_watch: the new size is
 * read and handed to the owner (b->on_resize), which tells the hosts.
 *
 * Gateway pair (gateway=1 in the path): the image's exclusive lock is what makes one
 * gateway the writer.  librbd's default lock policy hands the lock to any client that asks,
 * so two gateways writing would pass it back and forth; rbd_lock_acquire switches this
 * handle to the policy where the holder keeps it and the other side's writes fail.  claim()
 * therefore fences a previous holder first -- Ceph's blocklist of its client address (its
 * operations in flight or still to come are refused by the OSDs), then breaks its lock --
 * and only then acquires.  A handle whose client was blocklisted gets -ESHUTDOWN (Ceph's
 * EBLOCKLISTED) on every operation: ownership is lost for good, and so it is when a write
 * finds the lock gone (-EROFS) or the cluster does not answer within the path's timeout
 * (the peer will fence us).  Such a failure completes as -ESHUTDOWN, which the target
 * answers with the ANA inaccessible status: the host sends the command again on the other
 * gateway once it is optimized; we never retry it ourselves.
 *
 * Image metadata (meta_get / meta_set: rbd_metadata_*) carries the state that must move with
 * the image between gateways (the reservations, target/resv_store.c).  librbd has no
 * asynchronous form of these calls: they block for a round trip, bounded like every OSD
 * operation by the path's timeout, and the caller runs them off the reactors.  On a gateway
 * a write needs the exclusive lock we hold, so a fenced gateway's write is refused like its
 * data writes -- the record cannot be changed behind the new owner's back.
 *
 * Deallocate is not claimed to read back zeroes: librbd skips a discard of part of an
 * object (rbd_skip_partial_discard), so has_discard stays false.
 */
#include "backend/bdev.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "backend/rbd_uri.h"
#include "util/log.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct rbd_bdev {
	struct nvmf_bdev b;
	rados_t cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
	uint64_t watch;
	bool watching;
	atomic_bool closing;    /* no more on_resize once close() began */
};

bool nvmf_bdev_rbd_available(void)
{
	return true;
}

static void rbd_io_posted(struct nvmf_posted *p);

/* Ownership gone (any thread): the first to see it logs it and tells the owner. */
static void rbd_lost(struct rbd_bdev *rb, int err)
{
	void (*fn)(struct nvmf_bdev *, int, void *);

	if (err == -ESHUTDOWN)
		__atomic_store_n(&rb->b.fenced, true, __ATOMIC_RELEASE);
	if (!__atomic_exchange_n(&rb->b.owned, false, __ATOMIC_ACQ_REL))
		return;
	log_err("%s: this gateway lost the image's exclusive lock (%s): %s; no I/O until "
		"the namespace's ANA group is made optimized here again", rb->b.path,
		strerror(-err), err == -ESHUTDOWN ? "the cluster fenced this client "
		"(blocklisted): only a restarted gateway can own the image again" :
		err == -ETIMEDOUT ? "the cluster did not answer in time" : "another client took it");
	fn = __atomic_load_n(&rb->b.on_lost, __ATOMIC_ACQUIRE);
	if (fn && !atomic_load(&rb->closing))
		fn(&rb->b, err, rb->b.resize_arg);
}

/*
 * What a failure means on a gateway: the lock is not ours (-EROFS: librbd refuses a write
 * without it), we are fenced (-ESHUTDOWN, Ceph's EBLOCKLISTED), or the cluster is out of
 * reach (-ETIMEDOUT).  Each is a path failure the host repairs on the other gateway.
 */
static int rbd_gateway_res(struct rbd_bdev *rb, int r)
{
	if (!rb->b.gateway || (r != -EROFS && r != -ESHUTDOWN && r != -ETIMEDOUT))
		return r;
	rbd_lost(rb, r);
	return -ESHUTDOWN;
}

/* librbd's thread: record the result, hand the request back to its reactor. */
static void rbd_io_cb(rbd_completion_t c, void *arg)
{
	struct nvmf_bdev_io *io = arg;
	ssize_t r = rbd_aio_get_return_value(c);

	rbd_aio_release(c);
	io->res = r < 0 ? rbd_gateway_res(container_of(io->bdev, struct rbd_bdev, b), (int)r) : 0;
	nvmf_reactor_post(io->reactor, &io->posted);
}

/* Start one librbd call for io's current stage; a synchronous refusal completes io. */
static void rbd_io_start(struct rbd_bdev *rb, struct nvmf_bdev_io *io)
{
	rbd_completion_t c;
	int rc = rbd_aio_create_completion(io, rbd_io_cb, &c);

	if (rc < 0) {
		io->done(io, rc);
		return;
	}
	if (io->stage == 1 || io->op == NVMF_BIO_FLUSH) {
		rc = rbd_aio_flush(rb->image, c);
	} else {
		switch (io->op) {
		case NVMF_BIO_READ:
			rc = rbd_aio_readv(rb->image, io->iov, io->iovcnt, io->offset, c);
			break;
		case NVMF_BIO_WRITE:
			rc = rbd_aio_writev(rb->image, io->iov, io->iovcnt, io->offset, c);
			break;
		case NVMF_BIO_WRITE_ZEROES:
			rc = rbd_aio_write_zeroes(rb->image, io->offset, io->len, c, 0, 0);
			break;
		case NVMF_BIO_DISCARD:
			rc = rbd_aio_discard(rb->image, io->offset, io->len, c);
			break;
		default:
			rc = -EINVAL;
			break;
		}
	}
	if (rc < 0) {
		rbd_aio_release(c);
		io->done(io, rbd_gateway_res(rb, rc));
	}
}

/* On the submitting reactor. */
static void rbd_io_posted(struct nvmf_posted *p)
{
	struct nvmf_bdev_io *io = container_of(p, struct nvmf_bdev_io, posted);
	struct rbd_bdev *rb = container_of(io->bdev, struct rbd_bdev, b);

	if (io->res == 0 && io->fua && io->stage == 0 &&
	    (io->op == NVMF_BIO_WRITE || io->op == NVMF_BIO_WRITE_ZEROES)) {
		io->stage = 1;
		rbd_io_start(rb, io);
		return;
	}
	io->done(io, io->res);
}

static void rbd_submit(struct nvmf_bdev *b, struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	int rc = nvmf_bdev_check(b, io);

	if (rc) {
		io->done(io, rc);
		return;
	}
	if (io->len == 0 && io->op != NVMF_BIO_FLUSH) {
		io->done(io, 0);
		return;
	}
	/* the target checked ownership at parse; it may have gone since */
	if (!nvmf_bdev_owned(b)) {
		io->done(io, -ESHUTDOWN);
		return;
	}
	io->reactor = r;
	io->posted.fn = rbd_io_posted;
	io->res = 0;
	rbd_io_start(rb, io);
}

/* Shutdown, reactors gone: librbd's cache written back. */
static int rbd_flush_sync(struct nvmf_bdev *b)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);

	/* a gateway that lost the image has nothing it may write (the loss was logged) */
	if (!nvmf_bdev_owned(b))
		return 0;
	return rb->image ? rbd_flush(rb->image) : 0;
}

static void rbd_teardown(struct rbd_bdev *rb)
{
	atomic_store(&rb->closing, true);
	/* waits for a callback under way: none runs after it returns */
	if (rb->watching)
		rbd_update_unwatch(rb->image, rb->watch);
	if (rb->image)
		rbd_close(rb->image);
	if (rb->ioctx)
		rados_ioctx_destroy(rb->ioctx);
	if (rb->cluster)
		rados_shutdown(rb->cluster);
	free(rb->b.path);
	free(rb);
}

static void rbd_bdev_close(struct nvmf_bdev *b)
{
	rbd_teardown(container_of(b, struct rbd_bdev, b));
}

/* Whether a lock owner's address is this client's (rados_getaddrs lists ours). */
static bool rbd_is_us(struct rbd_bdev *rb, const char *owner)
{
	char *ours = NULL;
	bool us;

	if (rados_getaddrs(rb->cluster, &ours) < 0 || !ours)
		return false;
	us = strstr(ours, owner) != NULL;
	rados_buffer_free(ours);
	return us;
}

static int rbd_claim(struct nvmf_bdev *b, char *err, size_t errlen)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	char *owners[8];
	size_t n = 8;
	rbd_lock_mode_t mode;
	int rc;

	if (__atomic_load_n(&b->fenced, __ATOMIC_ACQUIRE)) {
		snprintf(err, errlen, "%s: this gateway was fenced by the cluster (blocklisted): "
			 "restart it to serve the image again", b->path);
		return -ESHUTDOWN;
	}
	if (__atomic_load_n(&b->owned, __ATOMIC_ACQUIRE))
		return 0;
	rc = rbd_lock_get_owners(rb->image, &mode, owners, &n);
	if (rc == -ENOENT) {    /* nobody holds it */
		n = 0;
		rc = 0;
	} else if (rc < 0) {
		snprintf(err, errlen, "%s: who holds the lock (rbd_lock_get_owners): %s", b->path,
			 strerror(-rc));
		return rbd_gateway_res(rb, rc) == -ESHUTDOWN ? -ESHUTDOWN : rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (rbd_is_us(rb, owners[i]))
			continue;
		/*
		 * Fence first: once the OSDs refuse the old owner, nothing it sent or still
		 * sends can land, however long it was frozen; only then may the lock go.
		 * Expiry 0: the cluster's default (an hour), far past any op's timeout.
		 */
		rc = rados_blocklist_add(rb->cluster, owners[i], 0);
		if (rc < 0) {
			snprintf(err, errlen, "%s: fencing the lock holder %s (blocklist): %s",
				 b->path, owners[i], strerror(-rc));
			break;
		}
		log_warn("%s: fenced the previous lock holder %s (blocklisted)", b->path,
			 owners[i]);
		rc = rbd_lock_break(rb->image, RBD_LOCK_MODE_EXCLUSIVE, owners[i]);
		if (rc < 0 && rc != -ENOENT) {
			snprintf(err, errlen, "%s: breaking the lock of %s: %s", b->path, owners[i],
				 strerror(-rc));
			break;
		}
		rc = 0;
	}
	if (n)
		rbd_lock_get_owners_cleanup(owners, n);
	if (rc < 0)
		return rc;
	/* the holder keeps the lock now: a peer's request is refused */
	rc = rbd_lock_acquire(rb->image, RBD_LOCK_MODE_EXCLUSIVE);
	if (rc < 0) {
		snprintf(err, errlen, "%s: taking the exclusive lock: %s", b->path, strerror(-rc));
		if (rc == -ESHUTDOWN)
			__atomic_store_n(&b->fenced, true, __ATOMIC_RELEASE);
		return rc;
	}
	/* what must be read before serving (the reservations) is read now, the lock ours */
	int (*hook)(struct nvmf_bdev *, void *, char *, size_t) =
		__atomic_load_n(&b->on_claim, __ATOMIC_ACQUIRE);

	if (hook && (rc = hook(b, b->resize_arg, err, errlen)) < 0) {
		rbd_lock_release(rb->image);
		return rc;
	}
	__atomic_store_n(&b->owned, true, __ATOMIC_RELEASE);
	log_info("%s: this gateway holds the image's exclusive lock", b->path);
	return 0;
}

static void rbd_unclaim(struct nvmf_bdev *b)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	int rc;

	__atomic_store_n(&b->owned, false, __ATOMIC_RELEASE);
	if (__atomic_load_n(&b->fenced, __ATOMIC_ACQUIRE))
		return;
	/* librbd blocks new writes and waits for those in flight before it lets go */
	rc = rbd_flush(rb->image);
	if (rc == 0)
		rc = rbd_lock_release(rb->image);
	if (rc < 0 && rc != -EINVAL)
		log_warn("%s: releasing the exclusive lock: %s (the peer will fence this "
			 "gateway)", b->path, strerror(-rc));
	else
		log_info("%s: this gateway released the image's exclusive lock", b->path);
}

static int rbd_meta_get(struct nvmf_bdev *b, const char *key, char **val)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	size_t len = 4096;

	for (int tries = 0; tries < 4; tries++) {
		char *buf = malloc(len + 1);
		int rc;

		if (!buf)
			return -ENOMEM;
		/* -ERANGE: len says what is needed (the value may grow between two reads) */
		rc = rbd_metadata_get(rb->image, key, buf, &len);
		if (rc == 0) {
			buf[len] = '\0';
			*val = buf;
			return 0;
		}
		free(buf);
		if (rc != -ERANGE)
			return rc == -ENOENT ? rc : rbd_gateway_res(rb, rc);
	}
	return -ERANGE;
}

static int rbd_meta_set(struct nvmf_bdev *b, const char *key, const char *val)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	int rc;

	/* a gateway that is not the owner has nothing to write (the owner does) */
	if (!nvmf_bdev_owned(b))
		return -ESHUTDOWN;
	rc = val ? rbd_metadata_set(rb->image, key, val) : rbd_metadata_remove(rb->image, key);
	if (rc == -ENOENT && !val)
		rc = 0;
	return rc < 0 ? rbd_gateway_res(rb, rc) : 0;
}

/*
 * Other clients with the image open: its header's watchers but our own (each open handle
 * watches the header; the watcher's id is its client's global id).
 */
static int rbd_others_open(struct nvmf_bdev *b)
{
	struct rbd_bdev *rb = container_of(b, struct rbd_bdev, b);
	rbd_image_watcher_t w[32];
	size_t n = 32;
	uint64_t me = rados_get_instance_id(rb->cluster);
	int rc = rbd_watchers_list(rb->image, w, &n), others = 0;

	if (rc < 0)
		return rc == -ERANGE ? (int)n : rc;
	for (size_t i = 0; i < n; i++)
		if ((uint64_t)w[i].id != me)
			others++;
	rbd_watchers_list_cleanup(w, n);
	return others;
}

static const struct nvmf_bdev_ops rbd_ops = {
	.name = "rbd",
	.submit = rbd_submit,
	.flush = rbd_flush_sync,
	.close = rbd_bdev_close,
	.claim = rbd_claim,
	.unclaim = rbd_unclaim,
	.meta_get = rbd_meta_get,
	.meta_set = rbd_meta_set,
	.others_open = rbd_others_open,
};

/* librbd's thread: the image header changed (resize, snapshot, features ...). */
static void rbd_update_cb(void *arg)
{
	struct rbd_bdev *rb = arg;
	uint64_t bytes, size;
	int rc;

	if (atomic_load(&rb->closing))
		return;
	rc = rbd_get_size(rb->image, &bytes);
	if (rc < 0 && rb->b.gateway && rc == -ESHUTDOWN) {
		/* the header changed as a peer fenced us: stop serving before any I/O tries */
		rbd_lost(rb, rc);
		return;
	}
	if (rc < 0) {
		log_warn("%s: image changed, its size cannot be read: %s", rb->b.path,
			 strerror(-rc));
		return;
	}
	size = bytes / rb->b.block_size * rb->b.block_size;
	if (size == __atomic_load_n(&rb->b.size, __ATOMIC_RELAXED))
		return;
	log_info("%s: image resized to %llu bytes", rb->b.path, (unsigned long long)size);
	__atomic_store_n(&rb->b.size, size, __ATOMIC_RELAXED);
	/* set by the owner after open, possibly while we run */
	void (*fn)(struct nvmf_bdev *, uint64_t, void *) =
		__atomic_load_n(&rb->b.on_resize, __ATOMIC_ACQUIRE);

	if (fn)
		fn(&rb->b, size, rb->b.resize_arg);
}

static int conf_set(struct rbd_bdev *rb, const char *key, const char *val, char *err,
		    size_t errlen)
{
	int rc = rados_conf_set(rb->cluster, key, val);

	if (rc < 0)
		snprintf(err, errlen, "%s: librados option %s=%s: %s", rb->b.path, key, val,
			 strerror(-rc));
	return rc;
}

static int rbd_connect(struct rbd_bdev *rb, const struct nvmf_rbd_uri *u, char *err,
		       size_t errlen)
{
	const char *path = rb->b.path;
	char name[300], secs[16];
	int rc;

	snprintf(name, sizeof(name), "client.%s", u->id ? u->id : "admin");
	rc = rados_create2(&rb->cluster, u->cluster ? u->cluster : "ceph", name, 0);
	if (rc < 0) {
		rb->cluster = NULL;
		snprintf(err, errlen, "%s: rados_create2: %s", path, strerror(-rc));
		return rc;
	}
	if (u->conf && access(u->conf, R_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: conf %s: %s", path, u->conf, strerror(-rc));
		return rc;
	}
	/* without conf=, librados' own search; finding nothing is not an error yet */
	rc = rados_conf_read_file(rb->cluster, u->conf);
	if (rc < 0 && u->conf) {
		snprintf(err, errlen, "%s: conf %s: %s", path, u->conf, strerror(-rc));
		return rc;
	}
	if (u->keyring) {
		if (access(u->keyring, R_OK) < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: keyring %s: %s", path, u->keyring,
				 strerror(-rc));
			return rc;
		}
		rc = conf_set(rb, "keyring", u->keyring, err, errlen);
		if (rc < 0)
			return rc;
	}
	/*
	 * An unreachable monitor or OSD fails the namespace after the timeout instead of
	 * blocking the target (librados retries for 5 minutes, OSD operations forever).
	 */
	snprintf(secs, sizeof(secs), "%u", u->timeout_s);
	if ((rc = conf_set(rb, "client_mount_timeout", secs, err, errlen)) < 0 ||
	    (rc = conf_set(rb, "rados_mon_op_timeout", secs, err, errlen)) < 0 ||
	    (rc = conf_set(rb, "rados_osd_op_timeout", secs, err, errlen)) < 0)
		return rc;
	/*
	 * A gateway acknowledges a write only once the OSDs have it: with librbd's
	 * write-back cache a fenced gateway would still acknowledge writes into its cache
	 * (they never land), and a killed one would lose what it acknowledged.
	 */
	if (u->gateway && (rc = conf_set(rb, "rbd_cache", "false", err, errlen)) < 0)
		return rc;
	/* after ours: an explicit rados_osd_op_timeout=0 (never) wins */
	for (unsigned i = 0; i < u->nr_opts; i++) {
		rc = conf_set(rb, u->opt_key[i], u->opt_val[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = rados_connect(rb->cluster);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot connect to the cluster as %s%s%s: %s%s", path,
			 name, u->conf ? " with " : "", u->conf ? u->conf : "", strerror(-rc),
			 rc == -ETIMEDOUT ? " (no monitor answered)" : "");
		rados_shutdown(rb->cluster);
		rb->cluster = NULL;
		return rc;
	}
	return 0;
}

int nvmf_bdev_rbd_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		       size_t errlen)
{
	struct nvmf_rbd_uri u;
	struct rbd_bdev *rb;
	struct nvmf_bdev *b;
	uint64_t bytes;
	int rc = nvmf_rbd_uri_parse(p->path, &u, err, errlen);

	if (rc)
		return rc;
	rb = calloc(1, sizeof(*rb));
	if (!rb || !(rb->b.path = strdup(p->path))) {
		free(rb);
		nvmf_rbd_uri_free(&u);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b = &rb->b;
	b->ops = &rbd_ops;
	b->kind = NVMF_BDEV_RBD;
	b->fd = -1;
	atomic_init(&rb->closing, false);
	rc = nvmf_bdev_check_block_size(p->block_size, 512, &b->block_size, err, errlen);
	if (rc)
		goto fail;
	rc = rbd_connect(rb, &u, err, errlen);
	if (rc)
		goto fail;
	rc = rados_ioctx_create(rb->cluster, u.pool, &rb->ioctx);
	if (rc < 0) {
		rb->ioctx = NULL;
		snprintf(err, errlen, "%s: pool %s: %s", p->path, u.pool,
			 rc == -ENOENT ? "no such pool" : strerror(-rc));
		goto fail;
	}
	if (u.ns)
		rados_ioctx_set_namespace(rb->ioctx, u.ns);
	rc = rbd_open(rb->ioctx, u.image, &rb->image, NULL);
	if (rc < 0) {
		rb->image = NULL;
		snprintf(err, errlen, "%s: image %s in pool %s%s%s: %s", p->path, u.image, u.pool,
			 u.ns ? " namespace " : "", u.ns ? u.ns : "",
			 rc == -ENOENT ? "no such image" : strerror(-rc));
		goto fail;
	}
	rc = rbd_get_size(rb->image, &bytes);
	if (rc < 0) {
		snprintf(err, errlen, "%s: size: %s", p->path, strerror(-rc));
		goto fail;
	}
	if (p->size) {
		if (p->size % b->block_size || p->size > bytes) {
			snprintf(err, errlen, "%s: size %llu is not a multiple of %u within the "
				 "image's %llu bytes", p->path, (unsigned long long)p->size,
				 b->block_size, (unsigned long long)bytes);
			rc = -EINVAL;
			goto fail;
		}
		bytes = p->size;
	}
	/* a tail smaller than a block is not addressable */
	b->size = bytes / b->block_size * b->block_size;
	if (b->size == 0) {
		snprintf(err, errlen, "%s: the image is smaller than one block (%u bytes)",
			 p->path, b->block_size);
		rc = -EINVAL;
		goto fail;
	}
	/* librbd's cache, written back on flush (off on a gateway) */
	b->write_cache = !u.gateway;
	b->gateway = u.gateway;
	rc = rbd_update_watch(rb->image, &rb->watch, rbd_update_cb, rb);
	if (rc < 0)
		log_warn("%s: resizes will not be seen (rbd_update_watch: %s)", p->path,
			 strerror(-rc));
	else
		rb->watching = true;
	nvmf_rbd_uri_free(&u);
	*out = b;
	return 0;
fail:
	nvmf_rbd_uri_free(&u);
	rbd_teardown(rb);
	return rc;
}
