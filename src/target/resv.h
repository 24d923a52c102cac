/*
 * NVMe reservations of one namespace (resv.c), and the per-controller Reservation
 * Notification log (resv_log.c).  The state lives with the namespace, so every controller
 * of the subsystem -- whatever host, port or reactor -- sees the same registrants and
 * holder; registrations are keyed by the 128-bit host identifier of Connect, as nvmet's
 * pr.c keys them, so two controllers of one host share a registration.
 *
 * Nothing here knows the target: the caller passes the host identifier, the command's
 * fields and a notify callback that reaches the controllers of a host (resv_cmd.c).  That
 * keeps the state machine testable on its own (tests/unit/test_resv.c).
 *
 * Threads: reservation commands run on whatever reactor their I/O queue lives on, or, when
 * the state lives in a store that is a network round trip away (an RBD image), on a worker
 * thread of the caller's (resv_store.c); cmd_lock serialises them.  Each works on a copy of
 * the state that is persisted before it is installed (resv.c's transactions).  The I/O
 * path reads an atomic copy of the reservation type first and takes lock only while a
 * reservation is held -- never held across a write to the store -- so a namespace without
 * a reservation costs one load per command, and none waits for the store.
 */
#ifndef NVMF_TARGET_RESV_H
#define NVMF_TARGET_RESV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvme_spec.h"

#define NVMF_RESV_HOSTID_LEN 16
#define NVMF_RESV_LOG_SLOTS 64   /* notifications a controller keeps unread (nvmet: 64) */
/* Preempt and Abort counts whose commands are told apart while they drain (a power of 2) */
#define NVMF_RESV_EPOCHS 4

/* What a command does to the data, for the conflict table (NVMe base spec 8.19). */
enum nvmf_resv_class {
	NVMF_RESV_OTHER,        /* neither group: never in conflict (Reservation commands) */
	NVMF_RESV_READ,         /* read command group: Read, Compare */
	NVMF_RESV_WRITE,        /* write command group: Write, Write Zeroes, DSM, Flush */
};

struct nvmf_resv_reg {
	uint8_t hostid[NVMF_RESV_HOSTID_LEN];
	uint64_t rkey;
};

/* A host whose commands a Preempt and Abort cut off, and when (abort_seq). */
struct nvmf_resv_aborted {
	uint8_t hostid[NVMF_RESV_HOSTID_LEN];
	uint64_t seq;
};

/*
 * Where a namespace's reservation state lives besides memory, when not in a PTPL file:
 * save() gets the whole state as a record (nvmf_resv_rec_encode) before a change takes
 * effect, on every change whatever PTPL says; it may block (the caller runs the commands
 * where that is allowed) and returns 0 or the NVMe status the command then fails with
 * (having logged why).  The PTPL flag is in the record: what a power loss keeps is the
 * store's business (resv_store.c).
 */
struct nvmf_resv_store {
	uint16_t (*save)(void *arg, const char *rec);
	void *arg;
};

struct nvmf_resv {
	pthread_mutex_t lock;           /* the state, for readers (I/O, Report) and installs */
	pthread_mutex_t cmd_lock;       /* one change at a time, from copy to install */
	struct nvmf_resv_reg *regs;     /* registrants, in registration order */
	unsigned nr_regs, cap_regs;
	uint8_t rtype;                  /* enum nvme_resv_type; NONE: no reservation */
	/* the holder of a non-All-Registrants reservation (index into regs is unstable) */
	uint8_t holder[NVMF_RESV_HOSTID_LEN];
	_Atomic uint8_t fast_rtype;     /* rtype, for the I/O path's lock-free first look */
	uint32_t gen;                   /* generation: Register, Preempt, Clear */
	bool ptpl;                      /* persist through power loss is on */
	_Atomic uint8_t notify_mask;    /* NVME_RESV_MASK_* (feature 82h, per namespace as nvmet) */
	char *ptpl_path;                /* where the state persists; NULL: no PTPL file */
	bool has_store;                 /* the state lives in store (then no ptpl_path) */
	struct nvmf_resv_store store;
	/*
	 * A save failed: what the store holds is unknown (a write that timed out may still
	 * land later), so the next change saves even if it changes nothing of its own, and
	 * nvmf_resv_resave() puts the state in force back.  Under cmd_lock; atomic for peeks.
	 */
	_Atomic bool store_stale;
	_Atomic uint64_t abort_seq;     /* Preempt and Abort count */
	/*
	 * Commands with the backend, by the Preempt and Abort count they started under
	 * (modulo NVMF_RESV_EPOCHS): a Preempt and Abort completes only once those of the
	 * counts before its own are done, so no write of a preempted host lands after it.
	 */
	_Atomic uint32_t in_backend[NVMF_RESV_EPOCHS];
	struct nvmf_resv_aborted *aborted;
	unsigned nr_aborted;
};

/*
 * Tell the controllers of host hostid about a reservation event of type
 * (enum nvme_resv_notif_type).  Called once the change is in force, with the namespace's
 * cmd_lock held; must not call back into the reservation.
 */
struct nvmf_resv_notify {
	void (*fn)(void *arg, const uint8_t hostid[NVMF_RESV_HOSTID_LEN], uint8_t type);
	void *arg;
};

/*
 * A namespace's reservations.  ptpl_path: where state is kept when a host turns PTPL on
 * (NULL: PTPL not supported); a file there from an earlier run is loaded.  Returns 0 or
 * -errno with the reason (naming the file) in err.
 */
int nvmf_resv_new(const char *ptpl_path, struct nvmf_resv **out, char *err, size_t errlen);
void nvmf_resv_free(struct nvmf_resv *r);

/*
 * Keep r's state in st from now on (before any command; r made without a PTPL file): PTPL
 * becomes available, and every change is saved there first.
 */
void nvmf_resv_set_store(struct nvmf_resv *r, const struct nvmf_resv_store *st);

/*
 * After a failed save (store_stale): save the state in force again, so the store agrees
 * with what the hosts were told.  May block as save() does.  Returns whether the store is
 * still stale.
 */
bool nvmf_resv_resave(struct nvmf_resv *r);

/*
 * Replace r's registrants, reservation, generation and PTPL flag by those of rec (NULL:
 * none), as a store read them: at open, and when another process may have changed them
 * (a gateway taking over an image).  Nothing is saved and no one is notified -- the hosts
 * see the state they built.  0 or -errno with the reason in err (r unchanged).
 */
int nvmf_resv_load(struct nvmf_resv *r, const char *rec, char *err, size_t errlen);

/*
 * The record of a store (resv_rec.c): JSON, versioned -- {"v": 1, "gen": N, "rtype": T,
 * "holder": "<32 hex>" (Write Exclusive / Exclusive Access and their Registrants Only
 * types), "ptpl": bool, "regs": [{"hostid": "<32 hex>", "rkey": "<16 hex>"}, ...]}.
 * encode: malloc'd, NULL when out of memory.  decode: fills s (empty: no registrants, no
 * reservation) from rec, checking it is consistent; 0 or -EINVAL with the reason in err.
 */
char *nvmf_resv_rec_encode(const struct nvmf_resv *s);
int nvmf_resv_rec_decode(struct nvmf_resv *s, const char *rec, char *err, size_t errlen);
/* For resv_rec.c: adds a registrant to s (0 or -ENOMEM); whether hostid is one. */
int nvmf_resv_rec_add(struct nvmf_resv *s, const uint8_t *hostid, uint64_t rkey);
bool nvmf_resv_rec_has(const struct nvmf_resv *s, const uint8_t *hostid);

/* RESCAP of Identify Namespace. */
uint8_t nvmf_resv_rescap(const struct nvmf_resv *r);

/*
 * The commands.  cdw10 is the command's CDW10 (host order); keys come from its data.
 * Each returns an NVMe status (0 on success).
 */
uint16_t nvmf_resv_register(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			    uint64_t crkey, uint64_t nrkey, const struct nvmf_resv_notify *n);
uint16_t nvmf_resv_acquire(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			   uint64_t crkey, uint64_t prkey, const struct nvmf_resv_notify *n);
uint16_t nvmf_resv_release(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			   uint64_t crkey, const struct nvmf_resv_notify *n);
/*
 * Reservation Status into buf (len bytes, zeroed first): the extended structure when eds
 * (the only one a 128-bit host identifier allows: Host Identifier Inconsistent without).
 */
uint16_t nvmf_resv_report(struct nvmf_resv *r, bool eds, void *buf, size_t len);

/* May host hostid run a command of class cls now?  0, or Reservation Conflict. */
uint16_t nvmf_resv_check(struct nvmf_resv *r, const uint8_t *hostid, enum nvmf_resv_class cls);

/* The abort count a command starting now records (nvmf_resv_was_aborted). */
static inline uint64_t nvmf_resv_seq(struct nvmf_resv *r)
{
	return atomic_load_explicit(&r->abort_seq, memory_order_acquire);
}

/* Whether a Preempt and Abort cut off host hostid after a command recorded seq. */
bool nvmf_resv_was_aborted(struct nvmf_resv *r, const uint8_t *hostid, uint64_t seq);

/* PTPL state (feature 83h) and the notification mask (feature 82h). */
bool nvmf_resv_ptpl(struct nvmf_resv *r);
uint16_t nvmf_resv_set_ptpl(struct nvmf_resv *r, bool on);

/* ------------------------------------------------------------------ notification log */

/*
 * A controller's Reservation Notification log (resv_log.c): the oldest unread entries, at
 * most NVMF_RESV_LOG_SLOTS; what does not fit is counted as lost so the log page count
 * the host reads skips over it (the spec's rule: the count of the entry returned tells
 * how many were lost before it).  The caller serialises (ctrl->lock).
 */
struct nvmf_resv_log {
	struct nvme_resv_notif_log slots[NVMF_RESV_LOG_SLOTS];
	unsigned head, nr;
	uint64_t counter;       /* count of the newest entry made, 0 = none yet */
};

void nvmf_resv_log_add(struct nvmf_resv_log *l, uint8_t type, uint32_t nsid);
/* The log page a Get Log Page returns (the oldest entry, consumed), or an empty one. */
void nvmf_resv_log_read(struct nvmf_resv_log *l, struct nvme_resv_notif_log *out);

#endif
