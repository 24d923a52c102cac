/*
 * nvmf disconnect / disconnect-all: SIGTERM the daemons holding the controllers (they
 * remove their block devices, shut the controller down cleanly and delete their state
 * file) and wait for them to be gone; a controller that is one path of several leaves
 * its daemon alone (SIGUSR1 and a marker file), the devices stay on the other paths.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/nvmf.h"

#define EXIT_WAIT_MS 30000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Has daemon i's first controller a path that stays (not selected)? */
static bool keeps_a_path(const struct ctrl_state *s, int n, const bool *sel, int i)
{
	for (int k = 0; k < n; k++)
		if (!sel[k] && !strcmp(s[k].path_of, s[i].name))
			return true;
	return false;
}

/*
 * Does the daemon of s[i] (s[i] itself or the one it is a path of) exit?  Only when its
 * first controller and every path of it go: else the selected ones leave one by one and
 * the block devices stay on the others, as `nvme disconnect -d` of one controller of a
 * multipath namespace leaves the namespace on the rest.
 */
static bool daemon_exits(const struct ctrl_state *s, int n, const bool *sel, int i)
{
	if (!s[i].path_of[0])
		return sel[i] && !keeps_a_path(s, n, sel, i);
	for (int k = 0; k < n; k++)
		if (!strcmp(s[k].name, s[i].path_of))
			return sel[k] && !keeps_a_path(s, n, sel, k);
	return false;
}

/*
 * A path alone (nvme disconnect -d of one controller of a multipath namespace): its daemon
 * takes it out of the block devices and disconnects it, the devices stay.  s may be the
 * daemon's first controller: then a remaining path takes its place (its name becomes the
 * one holding the devices).
 */
static int remove_path(const struct ctrl_state *s, uint64_t deadline)
{
	char marker[512], path[512];
	FILE *f;

	if (state_path(marker, sizeof(marker), s->name, ".remove") ||
	    state_path(path, sizeof(path), s->name, ".json"))
		return -ENAMETOOLONG;
	f = fopen(marker, "w");
	if (!f)
		return -errno;
	fclose(f);
	if (kill(s->pid, SIGUSR1))
		return -errno;
	while (access(path, F_OK) == 0 && pid_alive(s->pid) && now_ms() < deadline)
		usleep(10000);
	unlink(marker);
	return access(path, F_OK) == 0 && pid_alive(s->pid) ? -ETIMEDOUT : 0;
}

/* Signal every selected daemon, then wait for all of them.  Returns how many went. */
static int stop_daemons(struct ctrl_state *s, int n, const bool *sel, bool *failed)
{
	uint64_t deadline = now_ms() + EXIT_WAIT_MS;
	int gone = 0;

	*failed = false;
	/* paths first, then first controllers that hand over to a path that stays */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			int rc;

			if (!sel[i] || daemon_exits(s, n, sel, i) || (s[i].path_of[0] == 0) != (pass == 1))
				continue;
			rc = remove_path(&s[i], deadline);
			if (rc) {
				cli_err("%s: %s%s (pid %d): %s", s[i].name,
					s[i].path_of[0] ? "path of " : "", s[i].path_of,
					(int)s[i].pid, strerror(-rc));
				*failed = true;
			} else {
				gone++;
			}
		}
	for (int i = 0; i < n; i++)
		if (sel[i] && daemon_exits(s, n, sel, i) && !s[i].path_of[0] &&
		    kill(s[i].pid, SIGTERM) && errno != ESRCH) {
			cli_err("%s: pid %d: %s", s[i].name, (int)s[i].pid, strerror(errno));
			*failed = true;
		}
	for (int i = 0; i < n; i++) {
		char path[512];

		if (!sel[i] || !daemon_exits(s, n, sel, i))
			continue;
		while (pid_alive(s[i].pid) && now_ms() < deadline)
			usleep(10000);
		if (pid_alive(s[i].pid)) {
			cli_err("%s (pid %d) did not exit within %d s; see %s", s[i].name, (int)s[i].pid,
				EXIT_WAIT_MS / 1000, s[i].log);
			*failed = true;
			continue;
		}
		/* a daemon that died without cleaning up leaves its state file: drop it */
		if (!state_path(path, sizeof(path), s[i].name, ".json"))
			unlink(path);
		gone++;
	}
	return gone;
}

int cmd_disconnect(int argc, char **argv)
{
	const char *nqn = NULL, *dev = NULL;
	const struct cli_opt opts[] = {
		{ "nqn", 'n', CLI_STR, &nqn, "NQN", "disconnect every controller of subsystem NQN" },
		{ "device", 'd', CLI_STR, &dev, "DEV", "disconnect controller DEV (nvmfN)" },
		CLI_END,
	};
	struct ctrl_state *s = NULL;
	bool *sel = NULL, failed = false;
	int n, rc, gone, hits = 0;

	rc = cli_parse("-n NQN | -d nvmfN", "Disconnect a subsystem's controllers, or one "
		       "controller: their block devices go away first.", opts, argc, argv);
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (!nqn && !dev) {
		cli_err("neither device name [--device | -d] nor NQN [--nqn | -n] provided");
		cli_usage(stderr, "-n NQN | -d nvmfN", NULL, opts);
		return EXIT_USAGE;
	}
	if (dev && !strncmp(dev, "/dev/", 5))
		dev += 5;
	n = states_live(&s);
	if (n < 0) {
		cli_err("%s: %s", run_dir(), strerror(-n));
		return 1;
	}
	sel = calloc((size_t)n + 1, sizeof(*sel));
	if (!sel) {
		states_free(s, n);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sel[i] = (nqn && !strcmp(s[i].subnqn, nqn)) || (dev && !strcmp(s[i].name, dev));
		hits += sel[i];
	}
	if (dev && !hits) {
		cli_err("did not find controller %s", dev);
		free(sel);
		states_free(s, n);
		return 1;
	}
	gone = stop_daemons(s, n, sel, &failed);
	if (nqn)
		printf("NQN:%s disconnected %d controller(s)\n", nqn, gone);
	free(sel);
	states_free(s, n);
	return failed ? 1 : 0;
}

int cmd_disconnect_all(int argc, char **argv)
{
	const char *transport = NULL;
	const struct cli_opt opts[] = {
		{ "transport", 't', CLI_STR, &transport, "TRTYPE", "only controllers of TRTYPE" },
		CLI_END,
	};
	struct ctrl_state *s = NULL;
	bool *sel, failed = false;
	int n, rc;

	rc = cli_parse("[-t tcp]", "Disconnect every controller.", opts, argc, argv);
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	n = states_live(&s);
	if (n < 0) {
		cli_err("%s: %s", run_dir(), strerror(-n));
		return 1;
	}
	sel = calloc((size_t)n + 1, sizeof(*sel));
	if (!sel) {
		states_free(s, n);
		return 1;
	}
	/* every controller here is tcp */
	for (int i = 0; i < n; i++)
		sel[i] = !transport || !strcmp(transport, "tcp");
	stop_daemons(s, n, sel, &failed);
	free(sel);
	states_free(s, n);
	return failed ? 1 : 0;
}
