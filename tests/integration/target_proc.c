/* Start and stop an nvmf-target process for integration tests (see target_proc.h). */
#include "target_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Can port be bound on 127.0.0.1 now?  (0: ask the kernel for one.)  The port or 0. */
static uint16_t try_bind(uint16_t want)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(want) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/*
 * Below the ephemeral range (32768- by default): a port the kernel hands out for outgoing
 * connections may be taken by one of them by the time a test restarts its target there.
 */
uint16_t tp_free_port(void)
{
	static unsigned seed;

	if (!seed)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	for (int i = 0; i < 200; i++) {
		uint16_t p = try_bind((uint16_t)(20000 + rand_r(&seed) % 12000));

		if (p)
			return p;
	}
	return try_bind(0);
}

static int can_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int can_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int start(struct target_proc *t, uint16_t port, const char *sock,
		 const char *const *argv);

int tp_start(struct target_proc *t, uint16_t port, const char *const *argv)
{
	return start(t, port, NULL, argv);
}

int tp_start_unix(struct target_proc *t, const char *sock, const char *const *argv)
{
	return start(t, 0, sock, argv);
}

static int start(struct target_proc *t, uint16_t port, const char *sock,
		 const char *const *argv)
{
	const char *bin = getenv("NVMF_TARGET");
	const char *args[32];
	int n = 0;
	bool main_thread;

	if (!bin)
		bin = "build-san/src/tools/nvmf-target";
	t->port = port;
	static unsigned rpc_starts;

	/* RPC-managed targets have no port to tell them apart: number them */
	if (sock)
		snprintf(t->log, sizeof(t->log), "/tmp/nvmf-target-test-%d-rpc%u.log", (int)getpid(),
			 ++rpc_starts);
	else
		snprintf(t->log, sizeof(t->log), "/tmp/nvmf-target-test-%d-%u.log", (int)getpid(),
			 port);
	args[n++] = bin;
	for (int i = 0; argv[i] && n < 31; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	main_thread = gettid() == getpid();
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		int fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/*
		 * A failed assertion leaves the test's cleanup undone: the target must not
		 * outlive the test program and hold its port (or the machine's CPU).  The
		 * signal comes when the forking *thread* ends: only for the main thread's
		 * children (a test that restarts its target from a helper thread keeps it).
		 */
		if (main_thread)
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(bin, (char *const *)args);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int st;

		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			return -ECHILD;
		}
		if (sock ? can_connect_unix(sock) : can_connect(port))
			return 0;
		usleep(10000);
	}
	tp_stop(t);
	return -ETIMEDOUT;
}

int tp_stop(struct target_proc *t)
{
	int st = 0;

	if (t->pid <= 0)
		return -1;
	kill(t->pid, SIGTERM);
	for (int i = 0; i < 1500; i++) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			t->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		usleep(10000);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	t->pid = 0;
	return -1;
}

int tp_log_count(const struct target_proc *t, const char *s)
{
	FILE *f = fopen(t->log, "r");
	char line[2048];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, s))
			n++;
	fclose(f);
	return n;
}

long tp_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int tp_fd_count(pid_t pid)
{
	char path[64];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	/* . and .., and for ourselves the descriptor that reads the directory */
	return n - 2 - (pid == getpid());
}
