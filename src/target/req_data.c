/*
 * Request data buffers: a per-reactor pool of 4 KiB-aligned buffers in size classes, bounded
 * if asked, with a queue of requests that wait for buffers; and the copies between a
 * request's scatter list and flat structures.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

/*
 * Size classes 4 KiB .. 128 KiB, one free list each, per thread: a reactor never shares
 * its buffers, so no locks; after warm-up no allocation happens per I/O.  Buffers are
 * 4 KiB aligned so O_DIRECT backends can use them as they are.
 */
#define POOL_CLASSES 6

struct pool_buf {
	struct pool_buf *next;
};

static __thread struct pool_buf *pool_free[POOL_CLASSES];
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/*
 * The bound on what one reactor hands out (SPDK's shared buffers): past it, transfers wait
 * for buffers instead of growing the process without limit.  Written before the reactors
 * start.
 */
static size_t pool_limit;
static __thread size_t pool_in_use;
/* Requests waiting for buffers, oldest first; served from a deferred work item. */
static __thread struct nvmf_req *wait_head, *wait_tail;
static __thread struct nvmf_deferred wait_work;
static __thread bool serving_waiters;

/* A reactor thread that ends hands its buffers back to the system. */
static void pool_release(void *unused)
{
	(void)unused;
	for (unsigned c = 0; c < POOL_CLASSES; c++) {
		while (pool_free[c]) {
			struct pool_buf *b = pool_free[c];

			pool_free[c] = b->next;
			free(b);
		}
	}
}

static void pool_key_init(void)
{
	pthread_key_create(&pool_key, pool_release);
}

static unsigned size_class(size_t len)
{
	unsigned c = 0;
	size_t sz = 4096;

	while (sz < len && c < POOL_CLASSES - 1) {
		sz <<= 1;
		c++;
	}
	return c;
}

static size_t class_bytes(unsigned c)
{
	return (size_t)4096 << c;
}

/* Pool bytes a transfer of len takes (chunks of NVMF_BUF_CHUNK, rounded up to a class). */
static size_t pool_bytes(uint32_t len)
{
	size_t total = 0;

	for (; len > NVMF_BUF_CHUNK; len -= NVMF_BUF_CHUNK)
		total += class_bytes(size_class(NVMF_BUF_CHUNK));
	return len ? total + class_bytes(size_class(len)) : total;
}

static void *pool_get(size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = pool_free[c];
	void *p;

	if (b) {
		pool_free[c] = b->next;
		pool_in_use += class_bytes(c);
		return b;
	}
	if (posix_memalign(&p, 4096, class_bytes(c)) != 0)
		return NULL;
	pthread_once(&pool_once, pool_key_init);
	if (!pthread_getspecific(pool_key))
		pthread_setspecific(pool_key, pool_free); /* any non-NULL value arms the destructor */
	pool_in_use += class_bytes(c);
	return p;
}

static void pool_put(void *p, size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = p;

	b->next = pool_free[c];
	pool_free[c] = b;
	pool_in_use -= class_bytes(c);
	if (wait_head && nvmf_reactor_self())
		nvmf_reactor_defer(nvmf_reactor_self(), &wait_work);
}

/*
 * limited: the transfer counts against the pool's limit and queues behind waiters (I/O
 * data).  Admin structures (nvmf_req_fill) are small and short-lived: never refused.
 */
static int alloc_data(struct nvmf_req *req, bool limited)
{
	uint32_t left = req->xfer_len;

	req->iovcnt = 0;
	req->iov_borrowed = false;
	if (limited && wait_head && !serving_waiters)
		return -EAGAIN; /* first come, first served */
	/* one transfer always fits an idle pool, so a lone request never waits forever */
	if (limited && pool_limit && pool_in_use &&
	    pool_in_use + pool_bytes(req->xfer_len) > pool_limit)
		return -EAGAIN;
	while (left > 0) {
		uint32_t n = left > NVMF_BUF_CHUNK ? NVMF_BUF_CHUNK : left;
		void *p;

		if (req->iovcnt == NVMF_REQ_IOV)
			goto fail;
		p = pool_get(n);
		if (!p)
			goto fail;
		req->iov[req->iovcnt].iov_base = p;
		req->iov[req->iovcnt].iov_len = n;
		req->iovcnt++;
		left -= n;
	}
	return 0;
fail:
	nvmf_req_free_data(req);
	return -ENOMEM;
}

int nvmf_req_alloc_data(struct nvmf_req *req)
{
	return alloc_data(req, true);
}

void nvmf_req_free_data(struct nvmf_req *req)
{
	if (!req->iov_borrowed) {
		for (int i = 0; i < req->iovcnt; i++)
			pool_put(req->iov[i].iov_base, req->iov[i].iov_len);
	}
	req->iovcnt = 0;
	req->iov_borrowed = false;
}

void nvmf_req_data_set_limit(size_t bytes)
{
	pool_limit = bytes && bytes < pool_bytes(NVMF_MAX_XFER) ? pool_bytes(NVMF_MAX_XFER)
								   : bytes;
}

/* Deferred: give freed buffers to the oldest waiters, as long as they fit. */
static void serve_waiters(struct nvmf_deferred *d)
{
	(void)d;
	while (wait_head) {
		struct nvmf_req *req = wait_head;
		int rc;

		serving_waiters = true;
		rc = alloc_data(req, true);
		serving_waiters = false;
		if (rc)
			return; /* the next pool_put() calls again */
		wait_head = req->data_wait_next;
		if (!wait_head)
			wait_tail = NULL;
		req->data_wait_next = NULL;
		req->data_ready(req);
	}
}

void nvmf_req_wait_data(struct nvmf_req *req, void (*ready)(struct nvmf_req *req))
{
	req->data_ready = ready;
	req->data_wait_next = NULL;
	if (wait_tail)
		wait_tail->data_wait_next = req;
	else
		wait_head = req;
	wait_tail = req;
	wait_work.fn = serve_waiters;
	/* nothing handed out (the system refused memory): nobody will free, so retry now */
	if (!pool_in_use)
		nvmf_reactor_defer(nvmf_reactor_self(), &wait_work);
}

void nvmf_req_cancel_wait_data(struct nvmf_req *req)
{
	struct nvmf_req *prev = NULL;

	for (struct nvmf_req *r = wait_head; r; prev = r, r = r->data_wait_next) {
		if (r != req)
			continue;
		if (prev)
			prev->data_wait_next = r->data_wait_next;
		else
			wait_head = r->data_wait_next;
		if (wait_tail == r)
			wait_tail = prev;
		r->data_wait_next = NULL;
		return;
	}
}

static size_t copy_iov(struct nvmf_req *req, size_t off, void *flat, size_t len, bool to_req)
{
	size_t done = 0;

	for (int i = 0; i < req->iovcnt && done < len; i++) {
		size_t l = req->iov[i].iov_len;
		size_t n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off;
		if (n > len - done)
			n = len - done;
		if (to_req)
			memcpy((uint8_t *)req->iov[i].iov_base + off, (uint8_t *)flat + done, n);
		else
			memcpy((uint8_t *)flat + done, (uint8_t *)req->iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t nvmf_req_copy_to(struct nvmf_req *req, size_t off, const void *src, size_t len)
{
	if (req->iovcnt == 0 && req->xfer_len && alloc_data(req, false))
		return 0;
	return copy_iov(req, off, (void *)(uintptr_t)src, len, true);
}

size_t nvmf_req_copy_from(struct nvmf_req *req, size_t off, void *dst, size_t len)
{
	return copy_iov(req, off, dst, len, false);
}

void nvmf_req_fill(struct nvmf_req *req, const void *src, size_t len)
{
	if (req->iovcnt == 0 && req->xfer_len && alloc_data(req, false))
		return;
	if (len > req->xfer_len)
		len = req->xfer_len;
	copy_iov(req, 0, (void *)(uintptr_t)src, len, true);
	/* the rest of the transfer is zero, whatever the buffer held before */
	for (size_t off = len; off < req->xfer_len;) {
		static const uint8_t zeroes[512];
		size_t n = req->xfer_len - off < sizeof(zeroes) ? req->xfer_len - off
							       : sizeof(zeroes);

		copy_iov(req, off, (void *)(uintptr_t)zeroes, n, true);
		off += n;
	}
}

