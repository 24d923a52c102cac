/*
 * Layout of a fuzz input for the host side (fuzz_host): byte 0 picks what the host does
 * (HM_*), the rest is the controller's script, consumed as the host's PDUs arrive:
 *   ICReq      one op byte; with HI_PATCH a patch of the ICResp follows
 *   command    one op byte (HI_KIND_MASK picks the answer) and its arguments:
 *                HI_CQE   status u16, dw0 u32, cid xor u16
 *                HI_C2H   datao u32, datal u32 (17 bits), flags u8, cid xor u16
 *                HI_R2T   r2to u32, r2tl u32, cid xor u16, ttag u16
 *                HI_TERM  fes u16, fei u32
 *                HI_RAW   n u8, then n bytes sent as they are
 *                HI_CLOSE the connection is shut
 *                other    the sane answer; HI_PATCH: a patch of its data follows
 *   H2CData    one op byte once a write's data is all in (HI_CQE: then a status u16)
 * A patch is a count (low 2 bits: 1..4 entries) of (offset u16, length u8 & 15, bytes).
 * Multi-byte values are little endian.  When the script ends, the controller hangs up.
 */
#ifndef NVMF_FUZZ_HOST_INPUT_H
#define NVMF_FUZZ_HOST_INPUT_H

#define HM_DISCOVER 0    /* (byte 0 & 3) == 0: nvmf_discover(); else an I/O controller */
#define HM_NO_SQFLOW 0x04 /* the I/O controller asks for SQ flow control off */
#define HM_BIG_WRITE 0x08 /* its write is 32 KiB (beyond in-capsule data: R2T) */

#define HI_KIND_MASK 0x07
#define HI_CQE 1
#define HI_C2H 2
#define HI_R2T 3
#define HI_TERM 4
#define HI_RAW 5
#define HI_CLOSE 6
#define HI_SANE 0        /* (also 7) */
#define HI_PATCH 0x08    /* patch the sane answer's data */
#define HI_SPLIT 0x10    /* its C2H data in two PDUs */
#define HI_SUCCESS 0x20  /* the last C2HData has DATA_SUCCESS: no CQE follows */
#define HI_AEN 0x40      /* an Async Event Request is answered (else it stays parked) */
#define HI_TWICE 0x80    /* the answer goes twice (duplicate command IDs) */

#endif
