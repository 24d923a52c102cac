/* The fault-injecting TCP proxy of the integration tests: see tproxy.h. */
#include "tproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 64

struct pair {
	int down, up;      /* host side, target side (-1: held, not forwarded yet) */
};

struct tproxy {
	uint16_t target_port;
	int lfd;
	int wake[2];
	pthread_t th;
	pthread_mutex_t lock;
	bool hold, stop, cut, freeze;
	unsigned accepted;
	struct pair pairs[MAX_PAIRS];
	unsigned n;
};

static int dial(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void drop(struct tproxy *p, unsigned i)
{
	close(p->pairs[i].down);
	if (p->pairs[i].up >= 0)
		close(p->pairs[i].up);
	p->pairs[i] = p->pairs[--p->n];
}

/* Copy what one side has to the other; false when the pair is done. */
static bool pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void *run(void *arg)
{
	struct tproxy *p = arg;

	for (;;) {
		struct pollfd pf[2 + 2 * MAX_PAIRS];
		unsigned nf = 2;

		pthread_mutex_lock(&p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if (p->cut) {
			for (unsigned i = p->n; i-- > 0;)
				if (p->pairs[i].up >= 0)
					drop(p, i);
			p->cut = false;
		}
		/* held connections go on once holding ends */
		for (unsigned i = 0; !p->hold && i < p->n; i++)
			if (p->pairs[i].up < 0 && (p->pairs[i].up = dial(p->target_port)) < 0)
				drop(p, i--);
		pf[0] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = p->wake[0], .events = POLLIN };
		for (unsigned i = 0; i < p->n && !p->freeze; i++) {
			/* a held connection is watched only for the host closing it */
			pf[nf++] = (struct pollfd){ .fd = p->pairs[i].down,
						    .events = p->pairs[i].up < 0 ? POLLRDHUP : POLLIN };
			pf[nf++] = (struct pollfd){ .fd = p->pairs[i].up, .events = POLLIN };
		}
		pthread_mutex_unlock(&p->lock);
		if (poll(pf, nf, 1000) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&p->lock);
		if (pf[1].revents) {
			char c[16];

			if (read(p->wake[0], c, sizeof(c)) < 0) {
				/* nothing */
			}
		}
		/* the pairs polled are the first nf/2 - 1 ones, unchanged since */
		for (unsigned i = (nf - 2) / 2; i-- > 0;) {
			struct pair *x = &p->pairs[i];
			short d = pf[2 + 2 * i].revents, u = pf[3 + 2 * i].revents;
			bool ok = true;

			if (x->up < 0)
				ok = !(d & (POLLRDHUP | POLLHUP | POLLERR));
			else {
				if (d)
					ok = pump(x->down, x->up);
				if (ok && u)
					ok = pump(x->up, x->down);
			}
			if (!ok)
				drop(p, i);
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0 && p->n < MAX_PAIRS) {
				p->accepted++;
				p->pairs[p->n].down = fd;
				p->pairs[p->n].up = p->hold ? -1 : dial(p->target_port);
				if (!p->hold && p->pairs[p->n].up < 0)
					close(fd);
				else
					p->n++;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		pthread_mutex_unlock(&p->lock);
	}
	while (p->n)
		drop(p, 0);
	return NULL;
}

static void poke(struct tproxy *p)
{
	if (write(p->wake[1], "x", 1) < 0) {
		/* the thread wakes within its poll timeout anyway */
	}
}

struct tproxy *tproxy_start(uint16_t target_port, uint16_t *port)
{
	struct tproxy *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (!p)
		return NULL;
	p->target_port = target_port;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(p->lfd, 16) < 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &sl) < 0 ||
	    pipe(p->wake) < 0) {
		if (p->lfd >= 0)
			close(p->lfd);
		free(p);
		return NULL;
	}
	*port = ntohs(sa.sin_port);
	pthread_mutex_init(&p->lock, NULL);
	if (pthread_create(&p->th, NULL, run, p)) {
		close(p->lfd);
		free(p);
		return NULL;
	}
	return p;
}

void tproxy_stop(struct tproxy *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_mutex_unlock(&p->lock);
	poke(p);
	pthread_join(p->th, NULL);
	close(p->lfd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void tproxy_hold(struct tproxy *p, bool hold)
{
	pthread_mutex_lock(&p->lock);
	p->hold = hold;
	pthread_mutex_unlock(&p->lock);
	poke(p);
}

unsigned tproxy_accepted(struct tproxy *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->accepted;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned tproxy_held_open(struct tproxy *p)
{
	unsigned n = 0;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		n += p->pairs[i].up < 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void tproxy_freeze(struct tproxy *p, bool freeze)
{
	pthread_mutex_lock(&p->lock);
	p->freeze = freeze;
	p->hold = freeze;
	pthread_mutex_unlock(&p->lock);
	poke(p);
}

void tproxy_cut(struct tproxy *p)
{
	pthread_mutex_lock(&p->lock);
	p->cut = true;
	pthread_mutex_unlock(&p->lock);
	poke(p);
}
