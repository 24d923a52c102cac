/* NVMe/TCP transport, target side: the calls the target's life cycle makes into it. */
#ifndef NVMF_TARGET_TCP_H
#define NVMF_TARGET_TCP_H

#include <stdbool.h>
#include <stddef.h>

#include "target/target.h"

/* Open the listening socket of a TCP port (any thread, before the reactors run it). */
int nvmf_tcp_listen(struct nvmf_port *port, char *err, size_t errlen);
/* Messages for nvmf_reactor_call(): run on the port's reactor. */
void nvmf_tcp_port_start(void *port);
void nvmf_tcp_port_stop(void *port);
/* Message for every reactor: finish in-flight commands on its queues, then close them. */
void nvmf_tcp_drain_reactor(void *unused);
/* On a reactor: no queue left. */
bool nvmf_tcp_reactor_idle(void);

#endif
