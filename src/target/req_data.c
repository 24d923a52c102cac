/*
 * Request data buffers: a per-reactor pool of 4 KiB-aligned buffers in size classes, and
 * the copies between a request's scatter list and flat structures.
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

static void *pool_get(size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = pool_free[c];
	void *p;

	if (b) {
		pool_free[c] = b->next;
		return b;
	}
	if (posix_memalign(&p, 4096, (size_t)4096 << c) != 0)
		return NULL;
	pthread_once(&pool_once, pool_key_init);
	if (!pthread_getspecific(pool_key))
		pthread_setspecific(pool_key, pool_free); /* any non-NULL value arms the destructor */
	return p;
}

static void pool_put(void *p, size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = p;

	b->next = pool_free[c];
	pool_free[c] = b;
}

int nvmf_req_alloc_data(struct nvmf_req *req)
{
	uint32_t left = req->xfer_len;

	req->iovcnt = 0;
	req->iov_borrowed = false;
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

void nvmf_req_free_data(struct nvmf_req *req)
{
	if (!req->iov_borrowed) {
		for (int i = 0; i < req->iovcnt; i++)
			pool_put(req->iov[i].iov_base, req->iov[i].iov_len);
	}
	req->iovcnt = 0;
	req->iov_borrowed = false;
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
	if (req->iovcnt == 0 && req->xfer_len && nvmf_req_alloc_data(req))
		return 0;
	return copy_iov(req, off, (void *)(uintptr_t)src, len, true);
}

size_t nvmf_req_copy_from(struct nvmf_req *req, size_t off, void *dst, size_t len)
{
	return copy_iov(req, off, dst, len, false);
}

void nvmf_req_fill(struct nvmf_req *req, const void *src, size_t len)
{
	if (req->iovcnt == 0 && req->xfer_len && nvmf_req_alloc_data(req))
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

