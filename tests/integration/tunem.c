/*
 * tunem: a user-space netem between two network namespaces, for the fault tests on
 * kernels built without sch_netem.  It creates a TUN device in each namespace (IFF_TUN,
 * IP packets, no link layer) and forwards every packet read from one to the other,
 * after loss, delay with jitter, reordering and duplication drawn per packet, as netem
 * does on a qdisc:
 *
 *   tunem NETNS1 DEV1 NETNS2 DEV2      (NETNS: a name under /var/run/netns)
 *
 * The caller gives the devices addresses and brings them up (ip -n NETNS ...).  Settings
 * are lines on stdin, key=value pairs applied at once to both directions:
 *   loss=PCT delay=MS jitter=MS reorder=PCT dup=PCT blackhole=0|1     or   clear
 * reorder=PCT sends PCT % of the packets at once, the others after the delay (netem's
 * "reorder"); blackhole=1 drops everything (a path gone dark, no carrier change).  Each
 * applied line is answered "ok" on stdout; a bad one "error: ..." on stderr.  EOF on
 * stdin (or SIGTERM) ends it; the devices go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKT 65536
#define MAX_QUEUED 4096 /* netem's default limit is 1000 packets per qdisc */

struct pkt {
	uint64_t due_ns;
	uint64_t seq; /* equal due times leave in arrival order */
	int out;      /* fd to write to */
	size_t len;
	unsigned char *data;
};

static struct {
	double loss, reorder, dup; /* probabilities 0..1 */
	unsigned delay_ms, jitter_ms;
	int blackhole;
} cfg;

static struct pkt heap[MAX_QUEUED];
static size_t nheap;
static uint64_t seq;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int before(const struct pkt *a, const struct pkt *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_push(struct pkt p)
{
	size_t i = nheap++;

	heap[i] = p;
	while (i && before(&heap[i], &heap[(i - 1) / 2])) {
		struct pkt t = heap[i];

		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct pkt heap_pop(void)
{
	struct pkt top = heap[0];
	size_t i = 0;

	heap[0] = heap[--nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < nheap && before(&heap[l], &heap[m]))
			m = l;
		if (r < nheap && before(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			break;
		struct pkt t = heap[i];

		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
	return top;
}

static double rnd(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

/* A TUN device named NAME inside the network namespace NETNS. */
static int tun_open(const char *netns, const char *name)
{
	char path[256];
	struct ifreq ifr;
	int nsfd, fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tunem: network namespace %s: %s\n", netns, strerror(errno));
		return -1;
	}
	close(nsfd);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tunem: /dev/net/tun: %s\n", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tunem: TUNSETIFF %s in %s: %s\n", name, netns, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int percent(const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || (*end && *end != '%') || d < 0 || d > 100)
		return -1;
	*out = d / 100.0;
	return 0;
}

static int millis(const char *v, unsigned *out)
{
	char *end;
	unsigned long ms = strtoul(v, &end, 10);

	if (end == v || (*end && strcmp(end, "ms") != 0) || ms > 60000)
		return -1;
	*out = (unsigned)ms;
	return 0;
}

/* One control line: every key is checked before any is applied. */
static int apply(char *line)
{
	typeof(cfg) next = cfg;
	char *save = NULL, *tok;

	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "clear") == 0) {
		memset(&cfg, 0, sizeof(cfg));
		return 0;
	}
	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *v = strchr(tok, '=');
		int rc = -1;

		if (!v) {
			fprintf(stderr, "error: '%s' is not key=value\n", tok);
			return -1;
		}
		*v++ = '\0';
		if (strcmp(tok, "loss") == 0)
			rc = percent(v, &next.loss);
		else if (strcmp(tok, "reorder") == 0)
			rc = percent(v, &next.reorder);
		else if (strcmp(tok, "dup") == 0)
			rc = percent(v, &next.dup);
		else if (strcmp(tok, "delay") == 0)
			rc = millis(v, &next.delay_ms);
		else if (strcmp(tok, "jitter") == 0)
			rc = millis(v, &next.jitter_ms);
		else if (strcmp(tok, "blackhole") == 0 && (!strcmp(v, "0") || !strcmp(v, "1")))
			rc = 0, next.blackhole = v[0] == '1';
		if (rc) {
			fprintf(stderr, "error: bad setting %s=%s\n", tok, v);
			return -1;
		}
	}
	cfg = next;
	return 0;
}

static void queue_copy(const unsigned char *buf, size_t len, int out, uint64_t now)
{
	struct pkt p = { .due_ns = now, .seq = seq++, .out = out, .len = len };
	int64_t d = cfg.delay_ms;

	if (nheap == MAX_QUEUED)
		return; /* queue full: dropped, as netem beyond its limit */
	if (!(cfg.reorder > 0 && rnd() < cfg.reorder)) {
		if (cfg.jitter_ms)
			d += (int64_t)(rnd() * (2.0 * cfg.jitter_ms + 1)) - cfg.jitter_ms;
		if (d > 0)
			p.due_ns += (uint64_t)d * 1000000ull;
	}
	p.data = malloc(len);
	if (!p.data)
		return;
	memcpy(p.data, buf, len);
	heap_push(p);
}

static void forward(int in, int out)
{
	static unsigned char buf[MAX_PKT];

	for (int burst = 0; burst < 256; burst++) {
		ssize_t n = read(in, buf, sizeof(buf));
		uint64_t now = now_ns();

		if (n <= 0)
			return; /* EAGAIN, or the device is down */
		if (cfg.blackhole || (cfg.loss > 0 && rnd() < cfg.loss))
			continue;
		queue_copy(buf, (size_t)n, out, now);
		if (cfg.dup > 0 && rnd() < cfg.dup)
			queue_copy(buf, (size_t)n, out, now);
	}
}

int main(int argc, char **argv)
{
	char line[512];
	size_t have = 0;
	int a, b;

	if (argc != 5) {
		fprintf(stderr, "usage: tunem NETNS1 DEV1 NETNS2 DEV2 (settings on stdin)\n");
		return 2;
	}
	srandom((unsigned)now_ns());
	a = tun_open(argv[1], argv[2]);
	b = a < 0 ? -1 : tun_open(argv[3], argv[4]);
	if (a < 0 || b < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = a, .events = POLLIN },
			{ .fd = b, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
		};
		uint64_t now = now_ns();
		int timeout = -1;

		while (nheap && heap[0].due_ns <= now) {
			struct pkt p = heap_pop();

			/* a full device queue or a device that went down: the packet is lost */
			if (write(p.out, p.data, p.len) < 0) {
			}
			free(p.data);
		}
		if (nheap)
			timeout = (int)((heap[0].due_ns - now + 999999) / 1000000);
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror("tunem: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN)
			forward(a, b);
		if (pfd[1].revents & POLLIN)
			forward(b, a);
		if (pfd[2].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, line + have, sizeof(line) - 1 - have);
			char *nl;

			if (n <= 0)
				return 0;
			have += (size_t)n;
			line[have] = '\0';
			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				if (apply(line) == 0)
					printf("ok\n");
				have -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, have + 1);
			}
			if (have == sizeof(line) - 1)
				have = 0; /* a line longer than any setting: dropped */
		}
	}
}
