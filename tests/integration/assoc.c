/* Many idle associations on one target (see assoc.h). */
#include "assoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tclient.h"

/* One queue: IC exchange and Connect on a scratch client, then keep only its fd. */
static int open_queue(struct tclient *c, const char *addr, uint16_t port, const char *subnqn,
		      uint16_t qid, uint16_t cntlid, int *fd)
{
	struct nvme_cqe cqe;
	int rc = tc_open(c, addr, port, false, false);

	if (!rc)
		rc = tc_connect(c, qid, qid ? 127 : 31, subnqn, TC_HOSTNQN, cntlid, 0, 0, &cqe);
	if (!rc && qid == 0)
		rc = tc_enable(c);
	if (rc) {
		tc_close(c);
		return rc;
	}
	*fd = c->fd;
	c->fd = -1;
	return 0;
}

int assoc_open(struct assoc *a, int n, const char *addr, uint16_t port, const char *subnqn,
	       int *err)
{
	/* one client's staging buffer for all: the fds are all that is kept */
	struct tclient *c = malloc(sizeof(*c));
	int i;

	*err = 0;
	if (!c) {
		*err = -ENOMEM;
		return 0;
	}
	for (i = 0; i < n; i++) {
		int rc = open_queue(c, addr, port, subnqn, 0, 0xFFFF, &a[i].admin_fd);

		if (!rc) {
			rc = open_queue(c, addr, port, subnqn, 1, c->cntlid, &a[i].io_fd);
			if (rc)
				close(a[i].admin_fd);
		}
		if (rc) {
			*err = rc;
			break;
		}
	}
	free(c);
	return i;
}

void assoc_close(struct assoc *a, int n)
{
	for (int i = 0; i < n; i++) {
		close(a[i].io_fd);
		close(a[i].admin_fd);
	}
}

int assoc_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if ((long)rl.rlim_cur >= want)
		return 0;
	if ((long)rl.rlim_max < want) {
		/* root may raise the hard limit too (up to fs.nr_open) */
		struct rlimit hard = { (rlim_t)want, (rlim_t)want };

		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			return 0;
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		return -EMFILE;
	}
	rl.rlim_cur = (rlim_t)want;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}
