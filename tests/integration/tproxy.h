/*
 * A TCP proxy on loopback between a host under test and a target, for fault tests: it
 * forwards every connection, and on request holds new connections (accepted, never
 * answered: a controller that is slow to answer) or cuts the ones it forwards (a network
 * outage), so a test can see what the host does meanwhile.
 */
#ifndef NVMF_TEST_TPROXY_H
#define NVMF_TEST_TPROXY_H

#include <stdbool.h>
#include <stdint.h>

struct tproxy;

/* Listen on 127.0.0.1 (*port gets the port) and forward to 127.0.0.1:target_port. */
struct tproxy *tproxy_start(uint16_t target_port, uint16_t *port);
void tproxy_stop(struct tproxy *p);

/* From now on, new connections are held (hold) or forwarded (!hold; held ones go on). */
void tproxy_hold(struct tproxy *p, bool hold);
/* Connections accepted since the start. */
unsigned tproxy_accepted(struct tproxy *p);
/* Held connections the host has not closed. */
unsigned tproxy_held_open(struct tproxy *p);
/*
 * A silent link (a cable pulled, a switch port down): nothing is forwarded either way and
 * nothing is closed; new connections are held.  !freeze: forwarding goes on.
 */
void tproxy_freeze(struct tproxy *p, bool freeze);
/* Close both ends of every forwarded connection. */
void tproxy_cut(struct tproxy *p);

#endif
