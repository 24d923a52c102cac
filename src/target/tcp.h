/*
 * NVMe/TCP transport, target side.  Everything else reaches it through its ops table
 * (struct nvmf_transport_ops), found by trtype once it is registered.
 */
#ifndef NVMF_TARGET_TCP_H
#define NVMF_TARGET_TCP_H

/* Make the TCP transport available to targets: once at start-up.  0 or -errno. */
int nvmf_tcp_register(void);

#endif
