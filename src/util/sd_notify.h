/*
 * systemd's service notification (sd_notify(3)) without libsystemd: a service of
 * Type=notify tells the manager it is ready, reloading or stopping by sending one datagram
 * of "KEY=VALUE" lines to the AF_UNIX socket that $NOTIFY_SOCKET names.
 */
#ifndef NVMF_UTIL_SD_NOTIFY_H
#define NVMF_UTIL_SD_NOTIFY_H

/*
 * Send state ("READY=1\nSTATUS=..." etc.) to $NOTIFY_SOCKET.  Returns 1 when sent, 0 when
 * NOTIFY_SOCKET is unset or empty (not started by systemd: nothing is done), or -errno
 * (-EAFNOSUPPORT for an address form other than a path or "@abstract", -EINVAL for a
 * relative or too long path, else the socket's error).
 */
int sd_notify_state(const char *state);

#endif
