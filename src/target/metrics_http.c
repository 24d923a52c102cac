/*
 * The metrics listener: a minimal HTTP/1.1 server on a thread of its own answering
 * GET /metrics (Prometheus text) and GET /stats (the JSON of stats.h).  One request per
 * connection (Connection: close), one connection at a time, with socket timeouts so a
 * client that stalls cannot hold it for long.  Scrapes come every few seconds: nothing
 * here needs to be fast, only to stay off the reactors, which it never touches.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "target/prom.h"
#include "target/target.h"
#include "util/log.h"

#define REQ_MAX 8192
#define IO_TIMEOUT_S 5

struct nvmf_metrics {
	struct nvmf_tgt *tgt;
	int fd;
	int wake[2];              /* a pipe: stop() writes, the thread's poll() returns */
	pthread_t thread;
	char name[128];
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(int fd, const char *status, const char *type, const char *body, size_t len,
		  bool head_only)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, type, len);

	if (write_all(fd, hdr, (size_t)n) == 0 && !head_only)
		write_all(fd, body, len);
}

static void reply_text(int fd, const char *status, const char *text)
{
	reply(fd, status, "text/plain; charset=utf-8", text, strlen(text), false);
}

/* The body of GET path, malloc'd into *body; the content type, or NULL if not found. */
static const char *render(struct nvmf_metrics *m, const char *path, char **body, size_t *len)
{
	struct json_object *stats;
	const char *type = NULL;
	FILE *f;

	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/stats") != 0)
		return NULL;
	stats = nvmf_tgt_stats_json(m->tgt);
	f = open_memstream(body, len);
	if (!stats || !f) {
		if (f)
			fclose(f);
		json_object_put(stats);
		return "";
	}
	if (strcmp(path, "/metrics") == 0) {
		nvmf_prom_write(f, stats);
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		fputs(json_object_to_json_string_ext(stats, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE), f);
		fputc('\n', f);
		type = "application/json";
	}
	fclose(f);
	json_object_put(stats);
	return type;
}

static void serve(struct nvmf_metrics *m, int fd)
{
	char req[REQ_MAX + 1], method[16], path[256], *body = NULL;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	size_t got = 0, len = 0;
	const char *type, *q;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the request line and headers; a body (there is none for GET) is not read */
	for (;;) {
		ssize_t r = recv(fd, req + got, REQ_MAX - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
		if (got == REQ_MAX) {
			reply_text(fd, "431 Request Header Fields Too Large", "request too large\n");
			return;
		}
	}
	if (sscanf(req, "%15s %255s HTTP/1.%*c", method, path) != 2) {
		reply_text(fd, "400 Bad Request", "bad request line\n");
		return;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		reply_text(fd, "405 Method Not Allowed", "GET /metrics or GET /stats\n");
		return;
	}
	q = strchr(path, '?');
	if (q)
		path[q - path] = 0;
	type = render(m, path, &body, &len);
	if (!type)
		reply_text(fd, "404 Not Found", "GET /metrics or GET /stats\n");
	else if (!*type)
		reply_text(fd, "500 Internal Server Error", "out of memory\n");
	else
		reply(fd, "200 OK", type, body, len, strcmp(method, "HEAD") == 0);
	free(body);
}

static void *metrics_thread(void *arg)
{
	struct nvmf_metrics *m = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = m->fd, .events = POLLIN },
				       { .fd = m->wake[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("metrics %s: poll: %s", m->name, strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("metrics %s: accept: %s", m->name, strerror(errno));
			continue;
		}
		serve(m, fd);
		close(fd);
	}
}

/* ADDR:PORT, [V6]:PORT or :PORT into host (NULL: any) and port. */
static int split_addr(const char *s, char *host, size_t hlen, const char **port)
{
	const char *colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= hlen)
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = 0;
		*port = end + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hlen)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		*port = colon + 1;
	}
	return **port ? 0 : -1;
}

struct nvmf_metrics *nvmf_metrics_start(struct nvmf_tgt *tgt, const char *addr, char *err,
					size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct nvmf_metrics *m = calloc(1, sizeof(*m));
	struct addrinfo *ai = NULL;
	const char *port;
	char host[256];
	int rc, one = 1;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->tgt = tgt;
	m->fd = m->wake[0] = m->wake[1] = -1;
	snprintf(m->name, sizeof(m->name), "%s", addr);
	if (split_addr(addr, host, sizeof(host), &port)) {
		snprintf(err, errlen, "--metrics %s: want ADDR:PORT, [ADDR]:PORT or :PORT", addr);
		goto fail;
	}
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "--metrics %s: %s", addr, gai_strerror(rc));
		goto fail;
	}
	m->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->fd, ai->ai_addr, ai->ai_addrlen) || listen(m->fd, 16) ||
	    pipe2(m->wake, O_CLOEXEC)) {
		snprintf(err, errlen, "--metrics %s: %s", addr, strerror(errno));
		goto fail;
	}
	freeaddrinfo(ai);
	ai = NULL;
	rc = pthread_create(&m->thread, NULL, metrics_thread, m);
	if (rc) {
		snprintf(err, errlen, "--metrics %s: thread: %s", addr, strerror(rc));
		goto fail;
	}
	log_info("metrics: serving GET /metrics and /stats on http://%s", addr);
	return m;
fail:
	if (ai)
		freeaddrinfo(ai);
	if (m->fd >= 0)
		close(m->fd);
	if (m->wake[0] >= 0) {
		close(m->wake[0]);
		close(m->wake[1]);
	}
	free(m);
	return NULL;
}

void nvmf_metrics_stop(struct nvmf_metrics *m)
{
	if (!m)
		return;
	if (write(m->wake[1], "x", 1) < 0)
		log_warn("metrics %s: cannot wake the thread: %s", m->name, strerror(errno));
	pthread_join(m->thread, NULL);
	close(m->fd);
	close(m->wake[0]);
	close(m->wake[1]);
	free(m);
}
