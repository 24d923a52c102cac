/*
 * The socket floor of `make bench`: the wire format shared by floor-server and floor-client.
 *
 * Exactly the bytes an NVMe/TCP I/O moves in its smallest form, and nothing else:
 *   read:  client -> 72-byte command          server -> 24-byte header + LEN bytes of data
 *   write: client -> 72-byte command + LEN    server -> 24-byte header
 * (a CapsuleCmd PDU is 72 bytes with its SQE, in-capsule write data follows it; a read's
 * C2HData header is 24 bytes, its completion then travels in it as with the SUCCESS flag;
 * a CapsuleResp is 24 bytes).
 *
 * The floor does not use the connection layer (src/conn) on purpose: it is the yardstick of
 * what the kernel's TCP costs for these bytes, so it has no PDU parser, no digests and no
 * per-PDU bookkeeping - only the syscalls and batching our stack makes.  Built standalone
 * with gcc by bench/run, it also measures the same way whatever the tree under test is.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stdint.h>

#define FLOOR_CMD_LEN 72
#define FLOOR_RSP_LEN 24
#define FLOOR_OP_READ 1
#define FLOOR_OP_WRITE 2
#define FLOOR_MAX_IO (1u << 20)  /* largest LEN */
#define FLOOR_MAX_QD 1024        /* commands in flight on one connection, at most */

struct floor_cmd {
	uint8_t op;          /* FLOOR_OP_* */
	uint8_t rsvd;
	uint16_t tag;        /* echoed in the response */
	uint32_t len;        /* data bytes */
	uint8_t pad[FLOOR_CMD_LEN - 8];
};

struct floor_rsp {
	uint8_t op;
	uint8_t rsvd;
	uint16_t tag;
	uint32_t len;        /* data bytes following (reads), 0 for writes */
	uint8_t pad[FLOOR_RSP_LEN - 8];
};

_Static_assert(sizeof(struct floor_cmd) == FLOOR_CMD_LEN, "command size");
_Static_assert(sizeof(struct floor_rsp) == FLOOR_RSP_LEN, "response size");

#endif
