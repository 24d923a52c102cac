/*
 * nvmf stats: a top-like view of an nvmf-target, read from its Prometheus endpoint
 * (nvmf-target --metrics ADDR:PORT), so it works from anywhere the endpoint is reachable
 * and needs neither the RPC socket nor root.
 *
 *   nvmf stats --metrics http://127.0.0.1:9100            # one table, rates over 1 s
 *   nvmf stats --metrics http://127.0.0.1:9100 --watch    # redrawn every second
 *
 * Per subsystem and namespace: IOPS and MiB/s of reads and writes, their mean latency over
 * the interval, and the totals since the target started; per reactor: busy %, idle % and
 * wake-ups a second.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tools/nvmf.h"

#define LABELS_MAX 8

struct sample {
	char name[128];
	unsigned nlabels;
	char key[LABELS_MAX][32];
	char val[LABELS_MAX][256];
	double value;
};

/* One line of a subsystem (nsid 0) or one of its namespaces. */
struct row {
	char subsys[256];
	unsigned nsid;
	double cmds[2], bytes[2], lat_sum[2], lat_cnt[2]; /* [0] read, [1] write */
};

struct reactor_row {
	unsigned id;
	double busy, idle, wakeups;
};

struct snap {
	double uptime;
	struct row *rows;
	size_t nrows;
	struct reactor_row *reactors;
	size_t nreactors;
	double when;   /* monotonic seconds of the scrape */
};

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ HTTP GET */

/* http://HOST:PORT[/PATH] -> host, port, path (default /metrics). */
static int parse_url(const char *url, char *host, size_t hlen, char *port, size_t plen,
		     char *path, size_t pathlen)
{
	const char *p = url, *end, *colon;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	end = strchr(p, '/');
	snprintf(path, pathlen, "%s", end ? end : "/metrics");
	if (!end)
		end = p + strlen(p);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb || rb[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int)(rb - p - 1), p + 1);
		colon = rb + 1;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon)
			return -1;
		snprintf(host, hlen, "%.*s", (int)(colon - p), p);
	}
	snprintf(port, plen, "%.*s", (int)(end - colon - 1), colon + 1);
	return host[0] && port[0] ? 0 : -1;
}

/* The body of a 200 answer to GET url (malloc'd), or NULL with a message on stderr. */
static char *http_get(const char *url)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct timeval tv = { .tv_sec = 5 };
	char host[256], port[32], path[256], req[768], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	struct addrinfo *ai, *a;
	int fd = -1, rc, code;

	if (parse_url(url, host, sizeof(host), port, sizeof(port), path, sizeof(path))) {
		fprintf(stderr, "nvmf stats: %s: want http://ADDR:PORT[/metrics]\n", url);
		return NULL;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "nvmf stats: %s: %s\n", url, gai_strerror(rc));
		return NULL;
	}
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		fprintf(stderr, "nvmf stats: %s: cannot connect: %s\n", url, strerror(errno));
		return NULL;
	}
	rc = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
		      "Connection: close\r\n\r\n", path, host, port);
	if (send(fd, req, (size_t)rc, MSG_NOSIGNAL) != rc) {
		fprintf(stderr, "nvmf stats: %s: send: %s\n", url, strerror(errno));
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (cap - len < 65536) {
			char *n = realloc(buf, cap + 262144 + 1);

			if (!n)
				break;
			buf = n;
			cap += 262144;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf) {
		fprintf(stderr, "nvmf stats: %s: no answer\n", url);
		return NULL;
	}
	buf[len] = 0;
	if (sscanf(buf, "HTTP/1.%*c %d", &code) != 1 || code != 200 ||
	    !(body = strstr(buf, "\r\n\r\n"))) {
		fprintf(stderr, "nvmf stats: %s: unexpected answer: %.*s\n", url,
			(int)strcspn(buf, "\r\n"), buf);
		free(buf);
		return NULL;
	}
	memmove(buf, body + 4, len - (size_t)(body + 4 - buf) + 1);
	return buf;
}

/* ------------------------------------------------------------------ Prometheus text */

/* One sample line: name{k="v",...} value.  0, or -1 for a line that is not one. */
static int parse_sample(const char *line, struct sample *s)
{
	const char *p = line;
	size_t n = strcspn(p, "{ ");
	char *end;

	if (n == 0 || n >= sizeof(s->name))
		return -1;
	memcpy(s->name, p, n);
	s->name[n] = 0;
	p += n;
	s->nlabels = 0;
	if (*p == '{') {
		p++;
		while (*p && *p != '}') {
			size_t k = strcspn(p, "=");
			size_t vi = 0;

			if (s->nlabels == LABELS_MAX || k >= sizeof(s->key[0]) || p[k] != '=' ||
			    p[k + 1] != '"')
				return -1;
			memcpy(s->key[s->nlabels], p, k);
			s->key[s->nlabels][k] = 0;
			p += k + 2;
			while (*p && *p != '"') {
				char c = *p++;

				if (c == '\\' && *p)
					c = *p == 'n' ? '\n' : *p, p++;
				if (vi + 1 < sizeof(s->val[0]))
					s->val[s->nlabels][vi++] = c;
			}
			if (*p != '"')
				return -1;
			s->val[s->nlabels][vi] = 0;
			s->nlabels++;
			p++;
			if (*p == ',')
				p++;
		}
		if (*p != '}')
			return -1;
		p++;
	}
	s->value = strtod(p, &end);
	return end == p ? -1 : 0;
}

static const char *label(const struct sample *s, const char *key)
{
	for (unsigned i = 0; i < s->nlabels; i++)
		if (strcmp(s->key[i], key) == 0)
			return s->val[i];
	return NULL;
}

static struct row *row_get(struct snap *sn, const char *subsys, unsigned nsid)
{
	struct row *r;

	for (size_t i = 0; i < sn->nrows; i++)
		if (sn->rows[i].nsid == nsid && strcmp(sn->rows[i].subsys, subsys) == 0)
			return &sn->rows[i];
	r = realloc(sn->rows, (sn->nrows + 1) * sizeof(*r));
	if (!r)
		return NULL;
	sn->rows = r;
	r = &sn->rows[sn->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->subsys, sizeof(r->subsys), "%s", subsys);
	r->nsid = nsid;
	return r;
}

static struct reactor_row *reactor_get(struct snap *sn, unsigned id)
{
	struct reactor_row *r;

	for (size_t i = 0; i < sn->nreactors; i++)
		if (sn->reactors[i].id == id)
			return &sn->reactors[i];
	r = realloc(sn->reactors, (sn->nreactors + 1) * sizeof(*r));
	if (!r)
		return NULL;
	sn->reactors = r;
	r = &sn->reactors[sn->nreactors++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	return r;
}

static void take_io(struct snap *sn, const struct sample *s, const char *metric)
{
	const char *subsys = label(s, "subsystem"), *ns = label(s, "namespace");
	const char *op = label(s, "opcode");
	struct row *r;
	int w;

	if (!subsys || !op || (strcmp(op, "read") != 0 && strcmp(op, "write") != 0))
		return;
	w = strcmp(op, "write") == 0;
	r = row_get(sn, subsys, ns ? (unsigned)strtoul(ns, NULL, 10) : 0);
	if (!r)
		return;
	if (strcmp(metric, "commands_total") == 0)
		r->cmds[w] = s->value;
	else if (strcmp(metric, "bytes_total") == 0)
		r->bytes[w] = s->value;
	else if (strcmp(metric, "latency_seconds_sum") == 0)
		r->lat_sum[w] = s->value;
	else if (strcmp(metric, "latency_seconds_count") == 0)
		r->lat_cnt[w] = s->value;
}

static void take(struct snap *sn, const struct sample *s)
{
	static const char sub[] = "nvmf_target_subsystem_", ns[] = "nvmf_target_namespace_",
			  rx[] = "nvmf_target_reactor_";
	const char *id;
	struct reactor_row *r;

	if (strcmp(s->name, "nvmf_target_uptime_seconds") == 0) {
		sn->uptime = s->value;
	} else if (strncmp(s->name, sub, sizeof(sub) - 1) == 0) {
		take_io(sn, s, s->name + sizeof(sub) - 1);
	} else if (strncmp(s->name, ns, sizeof(ns) - 1) == 0) {
		take_io(sn, s, s->name + sizeof(ns) - 1);
	} else if (strncmp(s->name, rx, sizeof(rx) - 1) == 0 && (id = label(s, "reactor"))) {
		const char *m = s->name + sizeof(rx) - 1;

		r = reactor_get(sn, (unsigned)strtoul(id, NULL, 10));
		if (!r)
			return;
		if (strcmp(m, "busy_seconds_total") == 0)
			r->busy = s->value;
		else if (strcmp(m, "idle_seconds_total") == 0)
			r->idle = s->value;
		else if (strcmp(m, "wakeups_total") == 0)
			r->wakeups = s->value;
	}
}

static void snap_free(struct snap *sn)
{
	free(sn->rows);
	free(sn->reactors);
	memset(sn, 0, sizeof(*sn));
}

static int snap_take(const char *url, struct snap *sn)
{
	char *body = http_get(url), *line, *save = NULL;
	struct sample *s;
	bool any = false;

	memset(sn, 0, sizeof(*sn));
	sn->when = mono_s();
	if (!body)
		return -1;
	s = malloc(sizeof(*s));
	for (line = strtok_r(body, "\n", &save); s && line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !line[0])
			continue;
		if (parse_sample(line, s) == 0) {
			take(sn, s);
			any = true;
		}
	}
	free(s);
	free(body);
	if (!any) {
		fprintf(stderr, "nvmf stats: %s: no samples in the answer\n", url);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ display */

static const struct row *row_find(const struct snap *sn, const struct row *like)
{
	for (size_t i = 0; i < sn->nrows; i++)
		if (sn->rows[i].nsid == like->nsid && strcmp(sn->rows[i].subsys, like->subsys) == 0)
			return &sn->rows[i];
	return NULL;
}

static void print_lat(double dsum, double dcnt)
{
	if (dcnt > 0)
		printf(" %9.1f", dsum / dcnt * 1e6);
	else
		printf(" %9s", "-");
}

static void print_row(const struct row *b, const struct row *a, double dt, int width)
{
	struct row zero = { 0 };
	char name[300];

	if (!a)
		a = &zero;
	if (b->nsid)
		snprintf(name, sizeof(name), "  ns %u", b->nsid);
	else
		snprintf(name, sizeof(name), "%s", b->subsys);
	printf("%-*s", width, name);
	for (int w = 0; w < 2; w++)
		printf(" %10.0f", (b->cmds[w] - a->cmds[w]) / dt);
	for (int w = 0; w < 2; w++)
		printf(" %9.1f", (b->bytes[w] - a->bytes[w]) / dt / 1048576.0);
	for (int w = 0; w < 2; w++)
		print_lat(b->lat_sum[w] - a->lat_sum[w], b->lat_cnt[w] - a->lat_cnt[w]);
	printf(" %12.0f %12.0f\n", b->cmds[0], b->cmds[1]);
}

static void show(const char *url, const struct snap *a, const struct snap *b)
{
	double dt = b->when - a->when;
	int width = 21;    /* the NQNs decide the first column's width */

	for (size_t i = 0; i < b->nrows; i++)
		if ((int)strlen(b->rows[i].subsys) > width)
			width = (int)strlen(b->rows[i].subsys);
	if (dt <= 0)
		dt = 1e-9;
	printf("nvmf-target %s  up %.0f s  rates over %.1f s\n\n", url, b->uptime, dt);
	printf("%-*s %10s %10s %9s %9s %9s %9s %12s %12s\n", width, "SUBSYSTEM / NAMESPACE",
	       "READ IOPS", "WRITE IOPS", "RD MiB/s", "WR MiB/s", "RD lat us", "WR lat us",
	       "READS", "WRITES");
	/* subsystems in the order the target lists them, each followed by its namespaces */
	for (size_t i = 0; i < b->nrows; i++) {
		if (b->rows[i].nsid)
			continue;
		print_row(&b->rows[i], row_find(a, &b->rows[i]), dt, width);
		for (size_t j = 0; j < b->nrows; j++)
			if (b->rows[j].nsid && strcmp(b->rows[j].subsys, b->rows[i].subsys) == 0)
				print_row(&b->rows[j], row_find(a, &b->rows[j]), dt, width);
	}
	printf("\n%-8s %7s %7s %10s\n", "REACTOR", "BUSY %", "IDLE %", "WAKEUPS/s");
	for (size_t i = 0; i < b->nreactors; i++) {
		const struct reactor_row *r = &b->reactors[i], *p = NULL;
		double busy, idle, wk;

		for (size_t j = 0; j < a->nreactors; j++)
			if (a->reactors[j].id == r->id)
				p = &a->reactors[j];
		busy = r->busy - (p ? p->busy : 0);
		idle = r->idle - (p ? p->idle : 0);
		wk = r->wakeups - (p ? p->wakeups : 0);
		if (busy + idle <= 0)
			busy = 0, idle = 1;
		printf("%-8u %7.1f %7.1f %10.0f\n", r->id, 100.0 * busy / (busy + idle),
		       100.0 * idle / (busy + idle), wk / dt);
	}
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: nvmf stats --metrics http://ADDR:PORT [--watch] [--interval S]\n"
		   "  -m, --metrics URL    the target's Prometheus endpoint (nvmf-target\n"
		   "                       --metrics ADDR:PORT); /metrics unless a path is given\n"
		   "  -w, --watch          redraw every interval until interrupted\n"
		   "  -i, --interval S     seconds between the two scrapes a rate needs (1)\n");
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metrics", required_argument, NULL, 'm' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *url = NULL;
	double interval = 1.0;
	bool watch = false, tty = isatty(STDOUT_FILENO);
	struct snap a, b;
	int c;

	while ((c = getopt_long(argc, argv, "m:wi:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			url = optarg;
			break;
		case 'w':
			watch = true;
			break;
		case 'i': {
			char *end;

			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "nvmf stats: --interval wants 0.1..3600 seconds\n");
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!url || optind < argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_sigint);
	if (snap_take(url, &a))
		return 1;
	do {
		struct timespec ts = { .tv_sec = (time_t)interval,
				       .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9) };

		while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
			;
		if (stop)
			break;
		if (snap_take(url, &b)) {
			snap_free(&a);
			return 1;
		}
		if (watch && tty)
			fputs("\033[H\033[2J", stdout);
		show(url, &a, &b);
		if (watch && !tty)
			putchar('\n');
		snap_free(&a);
		a = b;
	} while (watch && !stop);
	snap_free(&a);
	return 0;
}
