/*
 * floor-client: the client half of the socket floor (see floor.h and bench/README.md).
 *
 * Drives floor-server the way `nvmf perf` drives a target: one pinned thread per core of the
 * mask, each with -P connections and -q commands in flight spread over them, busy-polling:
 * per connection, recv everything there is (into one scratch buffer: the one copy the wire
 * forces), complete the responses in it, reissue as many commands, and send them with one
 * sendmsg.  Latency per command from its send to its response (one clock read per receive
 * batch); IOPS over the measured time.
 *
 * usage: floor-client -a ADDR -s PORT -q DEPTH -o BYTES -w read|write|randread|randwrite
 *                     -t SECONDS [-c MASK] [-P CONNS] [--json FILE]
 *   -q   commands in flight per thread, spread over its connections
 *   -c   hex core mask (0x2) or list ([1] or 1,2), one pinned thread per core (default 0x1)
 *   -P   connections per thread (default 1)
 * Prints a one-line summary; --json FILE writes the result in `nvmf perf --json`'s shape.
 */
#define _GNU_SOURCE
#include "floor.h"
#include "stats.h"

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
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SCRATCH (512 * 1024)

struct slot {
	struct floor_cmd cmd;
	uint64_t t_sent;
};

struct conn {
	int fd;
	unsigned qd;
	struct slot *slots;
	/* receive state */
	uint8_t hdr[FLOOR_RSP_LEN];
	unsigned hdr_have;
	uint32_t data_left;
	struct floor_rsp cur;
	/* commands still to send */
	struct iovec *out;
	unsigned out_head, out_tail, out_cap;
};

struct worker {
	pthread_t tid;
	int core;
	unsigned nconn;
	struct conn *conns;
	uint8_t *scratch;
	struct hist hist;
	uint64_t ios;
	double secs, usr_s, sys_s;
	int err;
};

static const char *g_addr = "127.0.0.1";
static int g_port = 4470;
static unsigned g_qd = 1, g_conns = 1;
static uint32_t g_io = 4096;
static int g_op = FLOOR_OP_READ;
static double g_time = 5;
static const char *g_json;
static const char *g_pattern = "randread";
static char g_mask[64] = "0x1";
static struct worker g_workers[MAX_THREADS];
static unsigned g_nworkers;
static uint8_t *g_wdata;
static atomic_int g_running;      /* 0 before the start, 1 measuring, 2 stopped */
static atomic_uint g_ready;

static int connect_one(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };
	int one = 1, fd;

	if (inet_pton(AF_INET, g_addr, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void queue_cmd(struct conn *c, struct slot *s, uint64_t now)
{
	if (c->out_tail + 2 > c->out_cap) {
		memmove(c->out, c->out + c->out_head, (c->out_tail - c->out_head) * sizeof(*c->out));
		c->out_tail -= c->out_head;
		c->out_head = 0;
	}
	s->t_sent = now;
	c->out[c->out_tail++] = (struct iovec){ &s->cmd, sizeof(s->cmd) };
	if (g_op == FLOOR_OP_WRITE)
		c->out[c->out_tail++] = (struct iovec){ g_wdata, g_io };
}

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
	return 0;
}

/* A response is complete: account it, reissue its slot while measuring. */
static int complete(struct worker *w, struct conn *c, uint64_t now)
{
	struct slot *s;

	if (c->cur.tag >= c->qd) {
		fprintf(stderr, "floor-client: bad tag %u\n", c->cur.tag);
		return -1;
	}
	s = &c->slots[c->cur.tag];
	if (atomic_load_explicit(&g_running, memory_order_relaxed) != 1)
		return 0;
	w->ios++;
	hist_add(&w->hist, now - s->t_sent);
	queue_cmd(c, s, now);
	return 0;
}

static int parse(struct worker *w, struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	const uint8_t *end = p + n;

	while (p < end) {
		size_t avail = (size_t)(end - p);

		if (c->data_left) {
			size_t k = avail < c->data_left ? avail : c->data_left;

			p += k;
			c->data_left -= (uint32_t)k;
			if (!c->data_left && complete(w, c, now))
				return -1;
			continue;
		}
		if (c->hdr_have == 0 && avail >= FLOOR_RSP_LEN) {
			memcpy(&c->cur, p, FLOOR_RSP_LEN);
			p += FLOOR_RSP_LEN;
		} else {
			size_t k = FLOOR_RSP_LEN - c->hdr_have;

			if (k > avail)
				k = avail;
			memcpy(c->hdr + c->hdr_have, p, k);
			c->hdr_have += (unsigned)k;
			p += k;
			if (c->hdr_have < FLOOR_RSP_LEN)
				break;
			memcpy(&c->cur, c->hdr, FLOOR_RSP_LEN);
			c->hdr_have = 0;
		}
		if (c->cur.len) {
			c->data_left = c->cur.len;
			continue;
		}
		if (complete(w, c, now))
			return -1;
	}
	return 0;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;
	struct rusage ru0, ru1;
	uint64_t t0, t1;

	CPU_ZERO(&set);
	CPU_SET(w->core, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "floor-client: cannot pin to core %d\n", w->core);
	hist_init(&w->hist);
	w->scratch = aligned_alloc(4096, SCRATCH);
	w->conns = calloc(w->nconn, sizeof(*w->conns));
	if (!w->scratch || !w->conns) {
		w->err = ENOMEM;
		atomic_fetch_add(&g_ready, 1);
		return NULL;
	}
	for (unsigned i = 0; i < w->nconn; i++) {
		struct conn *c = &w->conns[i];

		c->qd = g_qd / w->nconn + (i < g_qd % w->nconn);
		c->fd = connect_one();
		c->slots = calloc(c->qd, sizeof(*c->slots));
		c->out_cap = 2 * c->qd + 2;
		c->out = calloc(c->out_cap, sizeof(*c->out));
		if (c->fd < 0 || !c->slots || !c->out) {
			fprintf(stderr, "floor-client: connect %s:%d: %s\n", g_addr, g_port,
				strerror(errno));
			w->err = errno ? errno : EIO;
			atomic_fetch_add(&g_ready, 1);
			return NULL;
		}
		for (unsigned j = 0; j < c->qd; j++) {
			c->slots[j].cmd.op = (uint8_t)g_op;
			c->slots[j].cmd.tag = (uint16_t)j;
			c->slots[j].cmd.len = g_io;
		}
	}
	atomic_fetch_add(&g_ready, 1);
	while (atomic_load(&g_running) == 0)
		;
	getrusage(RUSAGE_THREAD, &ru0);
	t0 = now_ns();
	for (unsigned i = 0; i < w->nconn; i++) {
		struct conn *c = &w->conns[i];

		for (unsigned j = 0; j < c->qd; j++)
			queue_cmd(c, &c->slots[j], t0);
		if (flush_out(c))
			goto fail;
	}
	while (atomic_load_explicit(&g_running, memory_order_relaxed) == 1) {
		for (unsigned i = 0; i < w->nconn; i++) {
			struct conn *c = &w->conns[i];

			for (int budget = 64; budget > 0; budget--) {
				ssize_t n = recv(c->fd, w->scratch, SCRATCH, MSG_DONTWAIT);

				if (n > 0) {
					if (parse(w, c, w->scratch, (size_t)n, now_ns()))
						goto fail;
					if ((size_t)n < SCRATCH)
						break;
					continue;
				}
				if (n == 0) {
					fprintf(stderr, "floor-client: connection closed by the server\n");
					goto fail;
				}
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				perror("floor-client: recv");
				goto fail;
			}
			if (c->out_tail > c->out_head && flush_out(c))
				goto fail;
		}
	}
	t1 = now_ns();
	getrusage(RUSAGE_THREAD, &ru1);
	w->secs = (double)(t1 - t0) / 1e9;
	w->usr_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
	w->sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
	for (unsigned i = 0; i < w->nconn; i++)
		close(w->conns[i].fd);
	return NULL;
fail:
	w->err = EIO;
	return NULL;
}

static int parse_mask(const char *s)
{
	unsigned long long m = 0;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		m = strtoull(s, NULL, 16);
	} else {
		char *dup = strdup(s), *save = NULL;

		for (char *t = strtok_r(dup, "[],", &save); t; t = strtok_r(NULL, "[],", &save)) {
			int a, b;

			if (sscanf(t, "%d-%d", &a, &b) == 2) {
				for (int i = a; i <= b; i++)
					m |= 1ull << i;
			} else {
				m |= 1ull << atoi(t);
			}
		}
		free(dup);
	}
	g_nworkers = 0;
	for (int i = 0; i < 64 && g_nworkers < MAX_THREADS; i++)
		if (m & (1ull << i))
			g_workers[g_nworkers++].core = i;
	return g_nworkers ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: floor-client -a ADDR -s PORT -q DEPTH -o BYTES "
			"-w read|write|randread|randwrite -t SECONDS [-c MASK] [-P CONNS] "
			"[--json FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct hist all;
	uint64_t ios = 0;
	double secs = 0;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v && strcmp(a, "-h"))
			usage();
		if (!strcmp(a, "-a"))
			g_addr = v;
		else if (!strcmp(a, "-s") || !strcmp(a, "-p"))
			g_port = atoi(v);
		else if (!strcmp(a, "-q"))
			g_qd = (unsigned)atoi(v);
		else if (!strcmp(a, "-o"))
			g_io = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(a, "-w"))
			g_pattern = v;
		else if (!strcmp(a, "-t"))
			g_time = atof(v);
		else if (!strcmp(a, "-c"))
			snprintf(g_mask, sizeof(g_mask), "%s", v);
		else if (!strcmp(a, "-P"))
			g_conns = (unsigned)atoi(v);
		else if (!strcmp(a, "--json"))
			g_json = v;
		else
			usage();
		i++;
	}
	if (!strcmp(g_pattern, "read") || !strcmp(g_pattern, "randread"))
		g_op = FLOOR_OP_READ;
	else if (!strcmp(g_pattern, "write") || !strcmp(g_pattern, "randwrite"))
		g_op = FLOOR_OP_WRITE;
	else
		usage();
	if (parse_mask(g_mask) || !g_conns || g_qd < g_conns || g_io > FLOOR_MAX_IO ||
	    (g_qd + g_conns - 1) / g_conns > FLOOR_MAX_QD || g_time <= 0)
		usage();
	g_wdata = aligned_alloc(4096, FLOOR_MAX_IO);
	if (!g_wdata)
		return 1;
	memset(g_wdata, 0xa5, FLOOR_MAX_IO);
	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < g_nworkers; i++) {
		g_workers[i].nconn = g_conns;
		pthread_create(&g_workers[i].tid, NULL, worker_main, &g_workers[i]);
	}
	while (atomic_load(&g_ready) < g_nworkers)
		usleep(1000);
	for (unsigned i = 0; i < g_nworkers; i++)
		failed |= g_workers[i].err;
	atomic_store(&g_running, failed ? 2 : 1);
	if (!failed)
		usleep((useconds_t)(g_time * 1e6));
	atomic_store(&g_running, 2);
	hist_init(&all);
	for (unsigned i = 0; i < g_nworkers; i++) {
		pthread_join(g_workers[i].tid, NULL);
		failed |= g_workers[i].err;
		ios += g_workers[i].ios;
		if (g_workers[i].secs > secs)
			secs = g_workers[i].secs;
		hist_merge(&all, &g_workers[i].hist);
	}
	if (failed)
		return 1;
	printf("floor-client: %s %u B QD %u x %u thread(s), %u connection(s) each: %.0f IOPS, "
	       "%.1f MiB/s, mean %.2f us, p50 %.2f us, p99 %.2f us, max %.2f us\n",
	       g_pattern, g_io, g_qd, g_nworkers, g_conns, (double)ios / secs,
	       (double)ios / secs * g_io / 1048576.0,
	       all.count ? (double)all.sum_ns / (double)all.count / 1e3 : 0.0,
	       hist_pct(&all, 50) / 1e3, hist_pct(&all, 99) / 1e3, (double)all.max_ns / 1e3);
	if (g_json) {
		FILE *f = fopen(g_json, "w");

		if (!f) {
			perror(g_json);
			return 1;
		}
		fprintf(f, "{\"config\": {\"tool\": \"floor-client\", \"traddr\": \"%s\", "
			   "\"trsvcid\": \"%d\", \"io_size\": %u, \"queue_depth\": %u, "
			   "\"qpairs_per_thread\": %u, \"workload\": \"%s\", \"time_s\": %.3f, "
			   "\"core_mask\": \"%s\", \"threads\": %u},\n \"threads\": [",
			g_addr, g_port, g_io, g_qd, g_conns, g_pattern, g_time, g_mask, g_nworkers);
		for (unsigned i = 0; i < g_nworkers; i++) {
			struct worker *w = &g_workers[i];

			fprintf(f, "%s\n  ", i ? "," : "");
			json_result(f, w->core, w->ios, w->secs, g_io, w->usr_s, w->sys_s, &w->hist);
		}
		fprintf(f, "],\n \"total\": ");
		json_result(f, -1, ios, secs, g_io, 0, 0, &all);
		fprintf(f, "}\n");
		fclose(f);
	}
	return 0;
}
