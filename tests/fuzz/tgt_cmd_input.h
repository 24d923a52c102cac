/*
 * Layout of a fuzz input for the target's command path (fuzz_tgt_cmd): a sequence of
 * capsules applied in order to the queues of one association, so that state sequences
 * (Connect, Property Set CC.EN, then admin and I/O commands) are reachable.  Shared by the
 * fuzzer and its seed-corpus generator.
 *
 * Each record:
 *   byte 0      TC_* control bits (queue slot in bits 1:0)
 *   bytes 1-64  the SQE
 *   bytes 65-66 data length, little endian: the in-capsule data, or the transfer the
 *               host sends after the R2T (a shorter record is padded with zeroes)
 *   then        up to that many data bytes (fewer if the input ends)
 */
#ifndef NVMF_FUZZ_TGT_CMD_INPUT_H
#define NVMF_FUZZ_TGT_CMD_INPUT_H

#include <stdint.h>

#define TC_SLOT_MASK 0x03   /* which of the 4 connections (slot 0 is meant for qid 0) */
#define TC_ICD 0x04         /* the data comes in the capsule (else after an R2T) */
#define TC_FIX_SGL 0x08     /* the harness writes the SGL: ICD or transport, data length */
#define TC_FIX_CONNECT 0x10 /* Connect: the harness fills subnqn, hostnqn, hostid, cntlid */
#define TC_DISC 0x20        /* with TC_FIX_CONNECT: connect to the discovery subsystem */
#define TC_FIX_FLAGS 0x40   /* the harness sets PSDT = SGL and clears FUSE */
#define TC_CLOSE 0x80       /* the connection closes after this capsule */

#define TC_HDR (1 + 64 + 2)
#define TC_MAX_DATA 65535u

#define TC_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:f0f0f0f0-1111-2222-3333-444444444444"

#endif
