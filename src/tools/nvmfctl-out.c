/*
 * nvmfctl's output: results as JSON (-o json prints what the target answered) or as
 * tables, and the small readers of result objects the tables are made from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

void ctl_print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
}

struct ctl_table {
	unsigned ncols;
	size_t nrows;
	char **cells;   /* nrows * ncols, row 0 the header */
};

struct ctl_table *ctl_table_new(unsigned ncols, const char *const *header)
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (!t) {
		perror("nvmfctl");
		exit(CTL_EXIT_FAIL);
	}
	t->ncols = ncols;
	ctl_table_row(t, header);
	return t;
}

void ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	char **c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*c));

	if (!c) {
		perror("nvmfctl");
		exit(CTL_EXIT_FAIL);
	}
	t->cells = c;
	for (unsigned i = 0; i < t->ncols; i++) {
		const char *v = cells[i] && cells[i][0] ? cells[i] : "-";

		c[t->nrows * t->ncols + i] = strdup(v);
	}
	t->nrows++;
}

void ctl_table_print(struct ctl_table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	for (size_t r = 0; w && r < t->nrows; r++)
		for (unsigned i = 0; i < t->ncols; i++) {
			const char *v = t->cells[r * t->ncols + i];
			size_t l = v ? strlen(v) : 0;

			if (l > w[i])
				w[i] = l;
		}
	for (size_t r = 0; w && r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++) {
			const char *v = t->cells[r * t->ncols + i];

			/* the last column is not padded: no trailing blanks */
			if (i + 1 < t->ncols)
				printf("%-*s  ", (int)w[i], v ? v : "?");
			else
				printf("%s\n", v ? v : "?");
		}
	}
	for (size_t r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(t);
	free(w);
}

struct json_object *ctl_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

const char *ctl_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = ctl_jget(o, key);

	return v ? json_object_get_string(v) : "";
}

int64_t ctl_jint(struct json_object *o, const char *key)
{
	return json_object_get_int64(ctl_jget(o, key));
}

size_t ctl_jlen(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

struct json_object *ctl_jidx(struct json_object *a, size_t i)
{
	return i < ctl_jlen(a) ? json_object_array_get_idx(a, i) : NULL;
}

void ctl_fmt_addr(struct json_object *a, char *buf, size_t len)
{
	bool v6 = !strcasecmp(ctl_jstr(a, "adrfam"), "ipv6");

	snprintf(buf, len, "%s%s%s:%s", v6 ? "[" : "", ctl_jstr(a, "traddr"), v6 ? "]" : "",
		 ctl_jstr(a, "trsvcid"));
}
