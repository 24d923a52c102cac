/*
 * send-trial: which way of sending makes a target's answers cheapest on this machine?
 *
 * A sender thread (core 0, like nvmf-target's reactor) runs a loop like the reactor's: each
 * iteration it answers, on each of S connections, a batch of B reads (B payloads from
 * random places of a 512 MiB buffer, a RAM namespace) and makes the one io_uring_enter()
 * the reactor makes per iteration anyway.  A receiver thread (core 1, like the host) drains
 * every connection.  The answers go out:
 *   copy          one sendmsg() per connection and batch (what nvmf-target does)
 *   MSG_ZEROCOPY  the same with MSG_ZEROCOPY; the completion notifications are reaped from
 *                 the error queue after every batch, as a target must before it may reuse
 *                 a buffer
 *   io_uring      one IORING_OP_SENDMSG per connection and batch, submitted by the loop's
 *                 io_uring_enter() (no syscall of their own); completions reaped there
 *
 * Prints, per case and mode, messages per second and the sender's CPU time per message
 * (getrusage of the sender thread): the figure a single-core target lives on.  Every case
 * runs A B C A B C, since the machine drifts.
 *
 * usage: send-trial [SECONDS-PER-RUN]   (default 2)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
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
#include <sys/epoll.h>
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
#define MAX_CONN 64
#define MAX_BATCH 32

enum mode { M_COPY, M_ZEROCOPY, M_URING, M_NR };
static const char *const mode_name[M_NR] = { "copy", "MSG_ZEROCOPY", "io_uring" };

struct rx_arg {
	int fds[MAX_CONN];
	int n;
};

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
	struct rx_arg *a = arg;
	static uint8_t buf[1 << 20];
	int ep = epoll_create1(0), open = a->n;

	pin(1);
	for (int i = 0; i < a->n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.fd = a->fds[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, a->fds[i], &e);
	}
	while (open > 0) {
		struct epoll_event ev[MAX_CONN];
		int n = epoll_wait(ep, ev, MAX_CONN, 100);

		for (int i = 0; i < n; i++) {
			ssize_t r = recv(ev[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r == 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, ev[i].data.fd, NULL);
				open--;
			}
		}
	}
	close(ep);
	return NULL;
}

/* Reap zerocopy notifications. */
static void reap_zc(int fd)
{
	for (;;) {
		char ctl[128];
		struct msghdr m = { .msg_control = ctl, .msg_controllen = sizeof(ctl) };

		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
	}
}

static void tcp_pair(int *s, int *a)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	bind(l, (struct sockaddr *)&sa, sizeof(sa));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sa, &sl);
	*s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*s, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	*a = accept(l, NULL, NULL);
	close(l);
	setsockopt(*s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void run(uint8_t *pool, size_t size, int conns, int batch, enum mode mode, double secs)
{
	static struct iovec iov[MAX_CONN][MAX_BATCH];
	static struct msghdr msg[MAX_CONN];
	struct io_uring ring;
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN };
	struct rx_arg ra = { .n = conns };
	int s[MAX_CONN], one = 1;
	pthread_t rx;
	uint64_t msgs = 0, iters = 0, x = 88172645463325252ull;
	double t0, c0, t, c;

	if (io_uring_queue_init_params(256, &ring, &p)) {
		fprintf(stderr, "io_uring_queue_init_params failed\n");
		exit(1);
	}
	for (int i = 0; i < conns; i++) {
		tcp_pair(&s[i], &ra.fds[i]);
		if (mode == M_ZEROCOPY && setsockopt(s[i], SOL_SOCKET, SO_ZEROCOPY, &one,
						     sizeof(one))) {
			perror("SO_ZEROCOPY");
			exit(1);
		}
	}
	atomic_store(&stop_rx, false);
	pthread_create(&rx, NULL, receiver, &ra);
	t0 = now_s();
	c0 = thread_cpu_s();
	do {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		for (int k = 0; k < conns; k++) {
			for (int i = 0; i < batch; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				iov[k][i].iov_base = pool + (x % (POOL / size)) * size;
				iov[k][i].iov_len = size;
			}
			msg[k] = (struct msghdr){ .msg_iov = iov[k], .msg_iovlen = (size_t)batch };
			if (mode == M_URING) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

				/* WAITALL: io_uring completes a stream send only once all of it
				 * went (a target would carry the rest over, as with sendmsg) */
				io_uring_prep_sendmsg(sqe, s[k], &msg[k], MSG_NOSIGNAL | MSG_WAITALL);
				io_uring_sqe_set_data64(sqe, (uint64_t)k);
			} else {
				ssize_t n = sendmsg(s[k], &msg[k], mode == M_ZEROCOPY ? MSG_ZEROCOPY
										: 0);

				while (n < 0 && errno == ENOBUFS) { /* notifications pile up */
					reap_zc(s[k]);
					n = sendmsg(s[k], &msg[k], MSG_ZEROCOPY);
				}
				if (n != (ssize_t)(size * (size_t)batch)) {
					fprintf(stderr, "sendmsg: %zd: %s\n", n, strerror(errno));
					exit(1);
				}
				if (mode == M_ZEROCOPY)
					reap_zc(s[k]);
			}
		}
		/* the reactor's one io_uring_enter() of the iteration */
		if (mode == M_URING) {
			/* a blocked send completes later: wait for all of them */
			io_uring_submit_and_wait(&ring, (unsigned)conns);
		} else {
			io_uring_submit_and_get_events(&ring);
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			if (cqe->res != (int)(size * (size_t)batch)) {
				fprintf(stderr, "io_uring sendmsg: %d\n", cqe->res);
				exit(1);
			}
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		msgs += (uint64_t)conns * (uint64_t)batch;
		iters++;
	} while ((iters & 63) || now_s() - t0 < secs);
	t = now_s() - t0;
	c = thread_cpu_s() - c0;
	for (int i = 0; i < conns; i++)
		shutdown(s[i], SHUT_WR);
	pthread_join(rx, NULL);
	for (int i = 0; i < conns; i++) {
		close(s[i]);
		close(ra.fds[i]);
	}
	io_uring_queue_exit(&ring);
	printf("  %-12s %8.0f msg/s %6.2f GB/s  sender CPU %5.2f us/msg (%3.0f %%)\n",
	       mode_name[mode], (double)msgs / t, (double)msgs * (double)size / t / 1e9,
	       c / (double)msgs * 1e6, c / t * 100);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	uint8_t *pool = mmap(NULL, POOL, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static const struct { size_t size; int conns, batch; } cases[] = {
		{ 4096, 1, 32 },   /* QD32 on one queue */
		{ 4096, 1, 1 },    /* QD1 */
		{ 4096, 32, 1 },   /* many queues at QD1 */
		{ 131072, 1, 16 }, /* 128 KiB sequential, QD16 */
	};

	if (pool == MAP_FAILED)
		return 1;
	memset(pool, 0xA5, POOL);
	pin(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		printf("%zu B x %d per batch, %d connection(s):\n", cases[i].size, cases[i].batch,
		       cases[i].conns);
		for (int rep = 0; rep < 2; rep++)
			for (int m = 0; m < M_NR; m++)
				run(pool, cases[i].size, cases[i].conns, cases[i].batch,
				    (enum mode)m, secs);
	}
	return 0;
}
