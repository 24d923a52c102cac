/*
 * The record a reservation store keeps (resv.h): one JSON object with a version, so that a
 * later layout can be told apart -- and refused by an older target rather than misread.
 * Keys are hex strings: JSON numbers cannot carry a 64-bit key safely through every tool
 * that may read the record (`rbd image-meta get`, jq).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "target/resv.h"
#include "util/hex.h"

#define REC_VERSION 1


static bool has_holder(uint8_t rtype)
{
	return rtype != NVME_RTYPE_NONE && rtype != NVME_RTYPE_WE_AR && rtype != NVME_RTYPE_EA_AR;
}

char *nvmf_resv_rec_encode(const struct nvmf_resv *s)
{
	json_object *o = json_object_new_object(), *regs = json_object_new_array();
	char id[NVMF_RESV_HOSTID_LEN * 2 + 1], key[17];
	char *out = NULL;

	if (!o || !regs)
		goto out;
	json_object_object_add(o, "v", json_object_new_int(REC_VERSION));
	json_object_object_add(o, "gen", json_object_new_int64(s->gen));
	json_object_object_add(o, "rtype", json_object_new_int(s->rtype));
	if (has_holder(s->rtype)) {
		nvmf_hex_encode(id, s->holder, NVMF_RESV_HOSTID_LEN);
		json_object_object_add(o, "holder", json_object_new_string(id));
	}
	json_object_object_add(o, "ptpl", json_object_new_boolean(s->ptpl));
	for (unsigned i = 0; i < s->nr_regs; i++) {
		json_object *r = json_object_new_object();

		if (!r)
			goto out;
		nvmf_hex_encode(id, s->regs[i].hostid, NVMF_RESV_HOSTID_LEN);
		snprintf(key, sizeof(key), "%016" PRIx64, s->regs[i].rkey);
		json_object_object_add(r, "hostid", json_object_new_string(id));
		json_object_object_add(r, "rkey", json_object_new_string(key));
		json_object_array_add(regs, r);
	}
	json_object_object_add(o, "regs", regs);
	regs = NULL;
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(regs);
	json_object_put(o);
	return out;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool get_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

int nvmf_resv_rec_decode(struct nvmf_resv *s, const char *rec, char *err, size_t errlen)
{
	json_object *o = json_tokener_parse(rec), *v, *regs;
	const char *what = "not a JSON object";
	int64_t ver, gen, rtype;

	if (!o || !json_object_is_type(o, json_type_object))
		goto bad;
	what = "unknown version";
	if (!get_int(o, "v", 0, INT32_MAX, &ver) || ver != REC_VERSION)
		goto bad;
	what = "gen, rtype or ptpl missing or out of range";
	if (!get_int(o, "gen", 0, UINT32_MAX, &gen) ||
	    !get_int(o, "rtype", NVME_RTYPE_NONE, NVME_RTYPE_EA_AR, &rtype) ||
	    !json_object_object_get_ex(o, "ptpl", &v) || !json_object_is_type(v, json_type_boolean))
		goto bad;
	s->gen = (uint32_t)gen;
	s->rtype = (uint8_t)rtype;
	s->ptpl = json_object_get_boolean(v);
	what = "regs is not a list of {hostid, rkey} with distinct host IDs";
	if (!json_object_object_get_ex(o, "regs", &regs) ||
	    !json_object_is_type(regs, json_type_array))
		goto bad;
	for (size_t i = 0; i < json_object_array_length(regs); i++) {
		json_object *r = json_object_array_get_idx(regs, i);
		uint8_t id[NVMF_RESV_HOSTID_LEN];
		const char *k = r ? get_str(r, "rkey") : NULL;
		char *end;
		uint64_t key;

		if (!k || nvmf_hex_decode(get_str(r, "hostid"), id, sizeof(id)) || strlen(k) != 16)
			goto bad;
		errno = 0;
		key = strtoull(k, &end, 16);
		if (*end || errno || nvmf_resv_rec_has(s, id))
			goto bad;
		if (nvmf_resv_rec_add(s, id, key)) {
			what = "out of memory";
			goto bad;
		}
	}
	/* a reservation needs its holder among the registrants (All Registrants: any) */
	what = "the reservation's holder is not a registrant";
	if (has_holder(s->rtype)) {
		if (nvmf_hex_decode(get_str(o, "holder"), s->holder, NVMF_RESV_HOSTID_LEN) ||
		    !nvmf_resv_rec_has(s, s->holder))
			goto bad;
	} else if (s->rtype != NVME_RTYPE_NONE && s->nr_regs == 0) {
		goto bad;
	}
	json_object_put(o);
	return 0;
bad:
	snprintf(err, errlen, "reservation record: %s", what);
	json_object_put(o);
	return -EINVAL;
}
