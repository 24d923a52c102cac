/*
 * TermReq rules, for both ends: which Fatal Error Information (FEI) goes with each Fatal
 * Error Status (FES), how much of the PDU in error a TermReq echoes, and the names of the
 * FES values (0x05 means one thing in a C2HTermReq, another in an H2CTermReq).  The
 * receive state machine (pdu_rx.c) and its owners only say what was wrong and where; the
 * FEI is made here, once.  See term.c for the table and where the peers differ.
 */
#ifndef NVMF_PROTO_TERM_H
#define NVMF_PROTO_TERM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/nvme_tcp.h"

/*
 * The FEI for fes.  field: byte offset of the offending field from the start of the PDU
 * header (used by the classes whose FEI names a field); hdgst: the header digest the PDU
 * in error carried, as a host-order value of its little-endian field (header digest
 * errors).  Unknown FES values get 0.
 */
uint32_t nvme_tcp_term_fei(uint16_t fes, uint32_t field, uint32_t hdgst);

/* Does fes take a field offset as its FEI (the callers' offsets are then on the wire)? */
bool nvme_tcp_term_fei_is_offset(uint16_t fes);

/*
 * How many bytes of the PDU in error a TermReq echoes: its header (hlen bytes, without
 * header digest) as far as it was received (have), at most NVME_TCP_TERM_MAX_DATA.
 * hlen_ok says whether hlen can be believed (it is the length the PDU type has).
 */
uint32_t nvme_tcp_term_echo_len(uint32_t have, uint8_t hlen, bool hlen_ok);

/* "invalid PDU header field", ...; term_type says which TermReq the FES is read from. */
const char *nvme_tcp_fes_name(uint8_t term_type, uint16_t fes);

#endif
