/*
 * The NOTIFY_SOCKET datagram protocol (sd_notify(3), systemd's "Notify socket"
 * documentation): $NOTIFY_SOCKET is an absolute path, or "@name" for a socket in Linux's
 * abstract namespace; the message is the state lines in one datagram.  Written out here
 * rather than linking libsystemd: it is a few lines, and the target then has no
 * dependency that matters only under systemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/sd_notify.h"

int sd_notify_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n, len = strlen(state);
	socklen_t alen;
	ssize_t sent;
	int fd, err;

	if (!path || !path[0])
		return 0;
	n = strlen(path);
	if (path[0] != '/' && path[0] != '@')
		/* systemd >= 254 also offers vsock:CID:PORT (for VMs); not for a target */
		return strchr(path, ':') ? -EAFNOSUPPORT : -EINVAL;
	if (n >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, n);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';  /* abstract: no terminating NUL counts */
	else
		alen++;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	err = sent < 0 ? -errno : (size_t)sent != len ? -EMSGSIZE : 1;
	close(fd);
	return err;
}
