/* Start and stop an nvmf-target process for integration tests. */
#ifndef NVMF_TEST_TARGET_PROC_H
#define NVMF_TEST_TARGET_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct target_proc {
	pid_t pid;
	uint16_t port;
	char log[256];  /* the target's stderr goes here */
};

/* A TCP port on 127.0.0.1 that nothing listens on right now. */
uint16_t tp_free_port(void);

/*
 * Run $NVMF_TARGET (the binary under test) with argv (NULL-terminated, without the program
 * name) and wait until it accepts on 127.0.0.1:port.  Returns 0 or -errno.
 */
int tp_start(struct target_proc *t, uint16_t port, const char *const *argv);

/* The same, for a target managed over JSON-RPC: wait until its Unix socket accepts. */
int tp_start_unix(struct target_proc *t, const char *sock, const char *const *argv);

/* SIGTERM, wait; returns the exit status (0 = clean) or -1 if it had to be killed. */
int tp_stop(struct target_proc *t);

/* Count lines of the target's log that contain s. */
int tp_log_count(const struct target_proc *t, const char *s);

/* Resident memory of a process (VmRSS of /proc/PID/status), in KiB; -1 if unknown. */
long tp_rss_kib(pid_t pid);
/* Open file descriptors of a process (entries of /proc/PID/fd); -1 if unknown. */
int tp_fd_count(pid_t pid);

#endif
