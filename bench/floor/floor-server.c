/*
 * floor-server: the server half of the socket floor (see floor.h and bench/README.md).
 *
 * One event-driven thread per CPU of -c (default: one), each with its own epoll set, like
 * nvmf-target's reactors: level-triggered EPOLLIN, recv everything the socket holds into one
 * scratch buffer, walk the commands in it, then answer the whole batch with one sendmsg
 * (header and data iovecs; read data comes from one static buffer, the floor copies nothing).
 * While a connection's answers are not all sent it is not read (EPOLLOUT only), which is the
 * back-pressure a real target applies.  TCP_NODELAY on every connection.
 *
 * usage: floor-server [-l ADDR:PORT] [-c CPU[,CPU...]] [--poll | --spin-us N]
 *   -l       listen address (default 127.0.0.1:4470)
 *   -c       pin thread i to the i-th CPU of the list (default: no pinning, one thread)
 *   --poll   busy-poll epoll (timeout 0) instead of sleeping in it, as nvmf-target --poll
 *   --spin-us N  keep polling N us after the last event before sleeping (default 50, as
 *            nvmf-target's reactors; 0: sleep at once)
 * Stops on SIGTERM / SIGINT.
 */
#define _GNU_SOURCE
#include "floor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SCRATCH (256 * 1024)
#define OUT_IOV (2 * FLOOR_MAX_QD + 4)

struct conn {
	int fd;
	struct worker *w;
	/* receive state: a command header being assembled, then its write data skipped */
	uint8_t hdr[FLOOR_CMD_LEN];
	unsigned hdr_have;
	uint32_t data_left;
	struct floor_cmd cur;
	/* answers of the current batch: headers, and the iovecs still to send */
	struct floor_rsp rsp[FLOOR_MAX_QD];
	unsigned nrsp;
	struct iovec out[OUT_IOV];
	unsigned out_head, out_tail;
	bool want_out;
};

struct worker {
	pthread_t tid;
	int epfd;
	int cpu;
	unsigned idx;
	uint8_t *scratch;
};

static struct worker g_workers[MAX_THREADS];
static unsigned g_nworkers = 1;
static int g_listen_fd = -1;
static bool g_poll;
static uint64_t g_spin_ns = 50000;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static atomic_uint g_next;
static volatile sig_atomic_t g_stop;
static uint8_t *g_data; /* read data, FLOOR_MAX_IO bytes */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void conn_close(struct conn *c)
{
	epoll_ctl(c->w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static int conn_events(struct conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	return epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* One answer into the batch. */
static int respond(struct conn *c)
{
	struct floor_rsp *r;

	if (c->nrsp == FLOOR_MAX_QD || c->out_tail + 2 > OUT_IOV) {
		fprintf(stderr, "floor-server: more than %u commands in flight on a connection\n",
			FLOOR_MAX_QD);
		return -1;
	}
	r = &c->rsp[c->nrsp++];
	memset(r, 0, sizeof(*r));
	r->op = c->cur.op;
	r->tag = c->cur.tag;
	r->len = c->cur.op == FLOOR_OP_READ ? c->cur.len : 0;
	c->out[c->out_tail++] = (struct iovec){ r, sizeof(*r) };
	if (r->len)
		c->out[c->out_tail++] = (struct iovec){ g_data, r->len };
	return 0;
}

static int command(struct conn *c)
{
	if (c->cur.len > FLOOR_MAX_IO || (c->cur.op != FLOOR_OP_READ && c->cur.op != FLOOR_OP_WRITE)) {
		fprintf(stderr, "floor-server: bad command (op %u len %u)\n", c->cur.op, c->cur.len);
		return -1;
	}
	if (c->cur.op == FLOOR_OP_WRITE && c->cur.len) {
		c->data_left = c->cur.len;
		return 0;
	}
	return respond(c);
}

/* Walks received bytes: command headers, write data (skipped: it is in memory already). */
static int parse(struct conn *c, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	while (p < end) {
		size_t avail = (size_t)(end - p);

		if (c->data_left) {
			size_t k = avail < c->data_left ? avail : c->data_left;

			p += k;
			c->data_left -= (uint32_t)k;
			if (!c->data_left && respond(c))
				return -1;
			continue;
		}
		if (c->hdr_have == 0 && avail >= FLOOR_CMD_LEN) {
			memcpy(&c->cur, p, FLOOR_CMD_LEN);
			p += FLOOR_CMD_LEN;
		} else {
			size_t k = FLOOR_CMD_LEN - c->hdr_have;

			if (k > avail)
				k = avail;
			memcpy(c->hdr + c->hdr_have, p, k);
			c->hdr_have += (unsigned)k;
			p += k;
			if (c->hdr_have < FLOOR_CMD_LEN)
				break;
			memcpy(&c->cur, c->hdr, FLOOR_CMD_LEN);
			c->hdr_have = 0;
		}
		if (command(c))
			return -1;
	}
	return 0;
}

/* One sendmsg per batch (several only past IOV_MAX or on a partial send).  1: all sent,
 * 0: the socket is full, -1: error. */
static int flush_out(struct conn *c)
{
	while (c->out_head < c->out_tail) {
		unsigned cnt = c->out_tail - c->out_head;
		struct msghdr m = { 0 };
		ssize_t sent;

		if (cnt > IOV_MAX)
			cnt = IOV_MAX;
		m.msg_iov = &c->out[c->out_head];
		m.msg_iovlen = cnt;
		sent = sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		while (sent > 0) {
			struct iovec *v = &c->out[c->out_head];

			if ((size_t)sent < v->iov_len) {
				v->iov_base = (uint8_t *)v->iov_base + sent;
				v->iov_len -= (size_t)sent;
				break;
			}
			sent -= (ssize_t)v->iov_len;
			c->out_head++;
		}
	}
	c->out_head = c->out_tail = 0;
	c->nrsp = 0;
	return 1;
}

static void on_readable(struct conn *c)
{
	uint8_t *buf = c->w->scratch;
	int rc;

	for (int budget = 16; budget > 0; budget--) {
		ssize_t n = recv(c->fd, buf, SCRATCH, MSG_DONTWAIT);

		if (n == 0) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return;
		}
		if (parse(c, buf, (size_t)n)) {
			conn_close(c);
			return;
		}
		if ((size_t)n < SCRATCH)
			break;
	}
	rc = flush_out(c);
	if (rc < 0) {
		conn_close(c);
	} else if (rc == 0) {
		c->want_out = true;
		conn_events(c, EPOLLOUT);
	}
}

static void on_writable(struct conn *c)
{
	int rc = flush_out(c);

	if (rc < 0) {
		conn_close(c);
	} else if (rc > 0) {
		c->want_out = false;
		conn_events(c, EPOLLIN);
	}
}

static void on_accept(void)
{
	for (;;) {
		int one = 1, fd = accept4(g_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		struct epoll_event e;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				perror("floor-server: accept");
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->w = &g_workers[atomic_fetch_add(&g_next, 1) % g_nworkers];
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, fd, &e)) {
			perror("floor-server: epoll_ctl");
			close(fd);
			free(c);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			fprintf(stderr, "floor-server: cannot pin to CPU %d\n", w->cpu);
	}
	uint64_t last_ns = 0;

	while (!g_stop) {
		uint64_t now = now_ns();
		bool spin = g_poll || now - last_ns < g_spin_ns;
		int n = epoll_wait(w->epfd, ev, 256, spin ? 0 : 200);

		if (n > 0)
			last_ns = spin ? now : now_ns();

		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (!c) {
				on_accept();
				continue;
			}
			if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN)) {
				conn_close(c);
				continue;
			}
			if (c->want_out) {
				if (ev[i].events & EPOLLOUT)
					on_writable(c);
			} else if (ev[i].events & EPOLLIN) {
				on_readable(c);
			}
		}
	}
	return NULL;
}

static int listen_on(const char *spec)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, fd;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:4470", *cpus = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l") && i + 1 < argc) {
			addr = argv[++i];
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			cpus = argv[++i];
		} else if (!strcmp(argv[i], "--poll")) {
			g_poll = true;
		} else if (!strcmp(argv[i], "--spin-us") && i + 1 < argc) {
			g_spin_ns = strtoull(argv[++i], NULL, 10) * 1000ull;
		} else {
			fprintf(stderr, "usage: floor-server [-l ADDR:PORT] [-c CPU[,CPU...]] [--poll | --spin-us N]\n");
			return 2;
		}
	}
	g_workers[0].cpu = -1;
	if (cpus) {
		char *dup = strdup(cpus), *save = NULL;

		g_nworkers = 0;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (g_nworkers == MAX_THREADS)
				break;
			g_workers[g_nworkers++].cpu = atoi(t);
		}
		free(dup);
		if (!g_nworkers) {
			fprintf(stderr, "floor-server: -c %s: no CPU\n", cpus);
			return 2;
		}
	}
	g_data = aligned_alloc(4096, FLOOR_MAX_IO);
	if (!g_data)
		return 1;
	memset(g_data, 0x5a, FLOOR_MAX_IO);
	g_listen_fd = listen_on(addr);
	if (g_listen_fd < 0) {
		fprintf(stderr, "floor-server: cannot listen on %s: %s\n", addr, strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < g_nworkers; i++) {
		g_workers[i].idx = i;
		g_workers[i].epfd = epoll_create1(EPOLL_CLOEXEC);
		g_workers[i].scratch = aligned_alloc(4096, SCRATCH);
		if (g_workers[i].epfd < 0 || !g_workers[i].scratch)
			return 1;
	}
	/* the first thread accepts, and deals connections round-robin to all of them */
	if (epoll_ctl(g_workers[0].epfd, EPOLL_CTL_ADD, g_listen_fd, &e)) {
		perror("floor-server: epoll_ctl");
		return 1;
	}
	printf("floor-server: listening on %s, %u thread(s)%s\n", addr, g_nworkers,
	       g_poll ? ", busy-poll" : "");
	fflush(stdout);
	for (unsigned i = 1; i < g_nworkers; i++)
		pthread_create(&g_workers[i].tid, NULL, worker_main, &g_workers[i]);
	worker_main(&g_workers[0]);
	for (unsigned i = 1; i < g_nworkers; i++)
		pthread_join(g_workers[i].tid, NULL);
	return 0;
}
