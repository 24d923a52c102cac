/*
 * Layout of a fuzz input for the PDU receive path: a 4-byte preamble that picks the
 * receiver's settings and the chunking, then the byte stream.  Shared by the fuzzer and
 * its seed-corpus generator.
 */
#ifndef NVMF_FUZZ_INPUT_H
#define NVMF_FUZZ_INPUT_H

#define FZ_HOST 0x01       /* receive as host (C2H PDUs) instead of controller */
#define FZ_HDGST 0x02      /* header digests negotiated up front */
#define FZ_DDGST 0x04      /* data digests negotiated up front */
#define FZ_IC_DONE 0x08    /* the IC exchange already happened */
#define FZ_NEGOTIATE 0x10  /* switch digests on as the ICReq/ICResp says */
#define FZ_PULL 0x20       /* second pass in pull mode instead of push */
#define FZ_NO_DEST 0x40    /* drop data instead of giving a destination */

/* byte 0: FZ_* flags; byte 1: PDA; byte 2: chunking seed; byte 3: limits selector */
#define FZ_PREAMBLE 4

#endif
