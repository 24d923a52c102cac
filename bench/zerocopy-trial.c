/*
 * zerocopy-trial: does MSG_ZEROCOPY make a target's sends cheaper on this machine?
 *
 * A sender thread (core 0, like nvmf-target's reactor) sends read payloads from random
 * places of a large buffer (a RAM namespace) in batches of QD messages, one sendmsg per
 * batch, the way the target answers a batch of reads; a receiver thread (core 1, like the
 * host) drains the socket.  The same run is done with plain sendmsg (the kernel copies the
 * payload into the socket) and with MSG_ZEROCOPY (the kernel pins the pages; the sender must
 * reap completion notifications from the error queue before it may reuse a buffer - here
 * they are reaped after every batch, which is what a target would have to do).
 *
 * Prints, for each message size and mode, the throughput and the sender's CPU time per
 * message (getrusage of the sender thread): the figure a single-core target lives on.
 *
 * usage: zerocopy-trial [SECONDS-PER-RUN]   (default 3)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

#define POOL (512ull << 20)
#define QD 32

static atomic_bool stop_rx;

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double thread_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static void *receiver(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[1 << 20];

	pin(1);
	while (!atomic_load(&stop_rx)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
	}
	return NULL;
}

/* Reap zerocopy notifications; returns how many sends they covered. */
static uint64_t reap(int fd)
{
	uint64_t done = 0;

	for (;;) {
		char ctl[128];
		struct msghdr m = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return done;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(cm);

			if (e->ee_origin == SO_EE_ORIGIN_ZEROCOPY)
				done += e->ee_data - e->ee_info + 1;
		}
	}
}

static void run(uint8_t *pool, size_t size, bool zc, double secs)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, s, a;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	pthread_t rx;
	uint64_t msgs = 0, sends = 0, notified = 0, x = 88172645463325252ull;
	double t0, c0, t, c;

	bind(l, (struct sockaddr *)&sa, sizeof(sa));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sa, &sl);
	s = socket(AF_INET, SOCK_STREAM, 0);
	connect(s, (struct sockaddr *)&sa, sizeof(sa));
	a = accept(l, NULL, NULL);
	close(l);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (zc && setsockopt(s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		perror("SO_ZEROCOPY");
		exit(1);
	}
	atomic_store(&stop_rx, false);
	pthread_create(&rx, NULL, receiver, &a);
	t0 = now_s();
	c0 = thread_cpu_s();
	do {
		struct iovec iov[QD];
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = QD };
		ssize_t n;

		for (int i = 0; i < QD; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			iov[i].iov_base = pool + (x % (POOL / size)) * size;
			iov[i].iov_len = size;
		}
		n = sendmsg(s, &m, zc ? MSG_ZEROCOPY : 0);
		if (n < 0 && errno == ENOBUFS) {
			notified += reap(s); /* too many pending notifications: reap, retry */
			continue;
		}
		if (n != (ssize_t)(size * QD)) {
			fprintf(stderr, "sendmsg: %zd: %s\n", n, strerror(errno));
			exit(1);
		}
		sends++;
		msgs += QD;
		if (zc)
			notified += reap(s);
	} while ((sends & 63) || now_s() - t0 < secs);
	t = now_s() - t0;
	c = thread_cpu_s() - c0;
	shutdown(s, SHUT_WR);
	pthread_join(rx, NULL);
	if (zc) /* what is left arrives once the receiver took everything */
		notified += reap(s);
	close(s);
	close(a);
	printf("%7zu B %-12s %8.0f msg/s %7.2f GB/s  sender CPU %5.2f us/msg (%3.0f %%)%s\n",
	       size, zc ? "MSG_ZEROCOPY" : "copy", (double)msgs / t,
	       (double)msgs * (double)size / t / 1e9, c / (double)msgs * 1e6, c / t * 100,
	       zc ? "" : "");
	if (zc)
		printf("%30s %llu of %llu sends notified\n", "", (unsigned long long)notified,
		       (unsigned long long)sends);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	uint8_t *pool = mmap(NULL, POOL, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static const size_t sizes[] = { 4096, 16384, 131072 };

	if (pool == MAP_FAILED)
		return 1;
	madvise(pool, POOL, MADV_HUGEPAGE);
	memset(pool, 0xA5, POOL);
	pin(0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int rep = 0; rep < 2; rep++) { /* A B A B: the machine drifts */
			run(pool, sizes[i], false, secs);
			run(pool, sizes[i], true, secs);
		}
	return 0;
}
