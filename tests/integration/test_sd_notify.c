/*
 * nvmf-target under a service manager: with $NOTIFY_SOCKET set it sends READY=1 only once
 * its port accepts (a connect made the moment READY=1 arrives succeeds at once),
 * RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM; a NOTIFY_SOCKET
 * nobody listens on costs a warning and nothing else.  The test plays systemd's side:
 * a datagram socket it binds itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "target_proc.h"

static char dir[] = "/tmp/nvmf-sdnotify-XXXXXX";
static char sock_path[128];

static int notify_listener(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sock_path, sizeof(sock_path), "%s/notify", dir);
	unlink(sock_path);
	strcpy(sun.sun_path, sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* the next datagram within timeout_ms, NUL-terminated in buf; -1 on timeout */
static int next_message(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int connect_now(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Wait until the target has seen n connections closed by the host: a connection accepted
 * in the same instant as SIGTERM is not drained (the target then leaks it at exit, which
 * ASan reports; left to the target's shutdown path), so the test lets each probe end first.
 */
static void wait_closed(const struct target_proc *t, int n)
{
	for (int i = 0; i < 500 && tp_log_count(t, "closing: connection closed by host") < n; i++)
		usleep(10000);
	assert_int_equal(tp_log_count(t, "closing: connection closed by host"), n);
}

/* start the target without waiting for its port (tp_start would poll it) */
static void spawn(struct target_proc *t, uint16_t port, const char *const *extra)
{
	const char *bin = getenv("NVMF_TARGET");
	char listen[32];
	const char *args[16] = { bin, "--ram", "64M", "--cpus", "1", "--listen", listen };
	int n = 7;

	assert_non_null(bin);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	t->port = port;
	snprintf(t->log, sizeof(t->log), "%s/target-%u.log", dir, port);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		int fd = open(t->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)args);
		_exit(127);
	}
}

static void ready_after_listen_reload_stop(void **state)
{
	struct target_proc t;
	uint16_t port = tp_free_port();
	char msg[512], want_pid[32];
	int fd = notify_listener();

	(void)state;
	setenv("NOTIFY_SOCKET", sock_path, 1);
	spawn(&t, port, NULL);
	unsetenv("NOTIFY_SOCKET");

	/* the first message is READY=1, and by then the port takes connections */
	assert_int_equal(next_message(fd, msg, sizeof(msg), 30000), 0);
	assert_true(connect_now(port));
	for (char *nl = strchr(msg, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' ';
	print_message("# notify: %s\n", msg);
	assert_non_null(strstr(msg, "READY=1"));
	assert_non_null(strstr(msg, "STATUS=serving 1 subsystem(s) on 1 port(s)"));
	snprintf(want_pid, sizeof(want_pid), "MAINPID=%d", (int)t.pid);
	assert_non_null(strstr(msg, want_pid));
	wait_closed(&t, 1);

	/* a reload: RELOADING=1 (with the time systemd >= 253 wants), then READY=1 again */
	kill(t.pid, SIGHUP);
	assert_int_equal(next_message(fd, msg, sizeof(msg), 30000), 0);
	assert_non_null(strstr(msg, "RELOADING=1"));
	assert_non_null(strstr(msg, "MONOTONIC_USEC="));
	assert_int_equal(next_message(fd, msg, sizeof(msg), 30000), 0);
	assert_non_null(strstr(msg, "READY=1"));
	assert_true(connect_now(port));
	wait_closed(&t, 2);

	kill(t.pid, SIGTERM);
	assert_int_equal(next_message(fd, msg, sizeof(msg), 30000), 0);
	assert_string_equal(msg, "STOPPING=1");
	assert_int_equal(tp_stop(&t), 0);
	assert_int_equal(tp_log_count(&t, "cannot notify"), 0);
	close(fd);
	unlink(sock_path);
	unlink(t.log);
}

/* a target whose port cannot listen (taken) fails to start and never says READY=1 */
static void no_ready_when_start_fails(void **state)
{
	struct target_proc t;
	uint16_t port = tp_free_port();
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char msg[512];
	int fd = notify_listener(), st, taken = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(taken, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(taken, 1), 0);
	setenv("NOTIFY_SOCKET", sock_path, 1);
	spawn(&t, port, NULL);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(waitpid(t.pid, &st, 0), t.pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	assert_int_equal(next_message(fd, msg, sizeof(msg), 0), -1);
	close(taken);
	close(fd);
	unlink(sock_path);
	unlink(t.log);
}

/* NOTIFY_SOCKET names nothing: one warning, and the target serves as without it */
static void dead_socket_still_serves(void **state)
{
	struct target_proc t;
	uint16_t port = tp_free_port();
	char listen[32], nowhere[160];
	const char *const argv[] = { "--ram", "64M", "--cpus", "1", "--listen", listen, NULL };

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(nowhere, sizeof(nowhere), "%s/nobody-listens", dir);
	setenv("NOTIFY_SOCKET", nowhere, 1);
	assert_int_equal(tp_start(&t, port, argv), 0);
	unsetenv("NOTIFY_SOCKET");
	kill(t.pid, SIGHUP);
	assert_true(connect_now(port));
	wait_closed(&t, 2);  /* tp_start's probe and this one */
	assert_int_equal(tp_stop(&t), 0);
	assert_int_equal(tp_log_count(&t, "cannot notify systemd"), 1);
	unlink(t.log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ready_after_listen_reload_stop),
		cmocka_unit_test(no_ready_when_start_fails),
		cmocka_unit_test(dead_socket_still_serves),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
