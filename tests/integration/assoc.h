/*
 * Many idle associations on one target, for the memory test and the bench row: each is an
 * admin queue (ICReq, Connect with KATO 0 so that it may stay silent, CC.EN) and one I/O
 * queue (ICReq, Connect, 128 entries as the Linux host asks by default), then nothing.
 * Only the two descriptors are kept: 10,000 associations cost the client 20,000 fds and no
 * per-connection buffers.
 */
#ifndef NVMF_TEST_ASSOC_H
#define NVMF_TEST_ASSOC_H

#include <stdint.h>

struct assoc {
	int admin_fd, io_fd;
};

/*
 * Open n associations to addr:port (subsystem subnqn) into a[0..n).  Returns how many were
 * opened (all of them, or up to the first failure, whose -errno / NVMe status goes to *err).
 */
int assoc_open(struct assoc *a, int n, const char *addr, uint16_t port, const char *subnqn,
	       int *err);
void assoc_close(struct assoc *a, int n);

/* Raise this process's descriptor limit (soft, and hard when root) to at least want. */
int assoc_raise_nofile(long want);

#endif
