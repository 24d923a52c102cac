/*
 * Command-line option tables (one per verb, as nvme-cli declares them) and their parser,
 * shared by the host tool nvmf and the target's nvmfctl; messages name the program
 * (cli_prog) and the verb (cli_verb).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli-opts.h"

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", cli_prog, cli_verb[0] ? " " : "", cli_verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *kind_arg(const struct cli_opt *o)
{
	if (o->arg)
		return o->arg;
	switch (o->kind) {
	case CLI_STR:
		return "STR";
	case CLI_FMT:
		return "FMT";
	case CLI_FLAG:
		return NULL;
	default:
		return "NUM";
	}
}

void cli_usage(FILE *f, const char *synopsis, const char *what, const struct cli_opt *opts)
{
	fprintf(f, "usage: %s %s %s\n", cli_prog, cli_verb, synopsis);
	if (what)
		fprintf(f, "%s\n", what);
	fprintf(f, "\noptions:\n");
	for (const struct cli_opt *o = opts; o->name; o++) {
		char left[64];
		const char *arg = kind_arg(o);

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 arg ? "=" : "", arg ? arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, arg ? "=" : "",
				 arg ? arg : "");
		fprintf(f, "  %-30s %s\n", left, o->help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "this help");
}

static int set_value(const struct cli_opt *o, const char *v)
{
	char *end;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->val = true;
		return 0;
	case CLI_STR:
	case CLI_FMT:
		*(const char **)o->val = v;
		return 0;
	case CLI_UINT: {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 0);
		if (errno || end == v || *end || v[0] == '-' || n > UINT32_MAX)
			return -1;
		*(unsigned *)o->val = (unsigned)n;
		return 0;
	}
	case CLI_U64: {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 0);
		if (errno || end == v || *end || v[0] == '-')
			return -1;
		*(uint64_t *)o->val = n;
		return 0;
	}
	case CLI_INT: {
		long n;

		errno = 0;
		n = strtol(v, &end, 0);
		if (errno || end == v || *end || n < INT_MIN + 1 || n > INT_MAX)
			return -1;
		*(int *)o->val = (int)n;
		return 0;
	}
	}
	return -1;
}

int cli_parse_pos(const char *synopsis, const char *what, const struct cli_opt *opts,
		  int argc, char **argv, int *first_pos)
{
	struct option lopts[64];
	char sopts[160];
	size_t ns = 0, nl = 0;
	int c, rc = 0;

	sopts[ns++] = ':';   /* report a missing argument as ':' */
	sopts[ns++] = 'h';
	for (const struct cli_opt *o = opts; o->name && nl < 62; o++) {
		bool arg = o->kind != CLI_FLAG;

		lopts[nl].name = o->name;
		lopts[nl].has_arg = arg ? required_argument : no_argument;
		lopts[nl].flag = NULL;
		lopts[nl].val = o->short_name ? o->short_name : 256 + (int)(o - opts);
		nl++;
		if (o->short_name && ns + 3 < sizeof(sopts)) {
			sopts[ns++] = (char)o->short_name;
			if (arg)
				sopts[ns++] = ':';
		}
	}
	lopts[nl++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[nl] = (struct option){ 0 };
	sopts[ns] = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		const struct cli_opt *hit = NULL;

		if (c == 'h') {
			cli_usage(stdout, synopsis, what, opts);
			return 1;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (c == ':')
				cli_err("option '%s' needs a value", bad);
			else if (optopt && optopt < 256)
				cli_err("unknown option '-%c'", optopt);
			else
				cli_err("unknown option '%s'", bad);
			rc = -1;
			break;
		}
		for (const struct cli_opt *o = opts; o->name; o++)
			if ((o->short_name && o->short_name == c) || 256 + (int)(o - opts) == c)
				hit = o;
		if (!hit) {
			rc = -1;
			break;
		}
		if (set_value(hit, optarg)) {
			cli_err("invalid value '%s' for --%s", optarg, hit->name);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && first_pos)
		*first_pos = optind;
	else if (rc == 0 && optind < argc) {
		cli_err("unexpected argument '%s'", argv[optind]);
		rc = -1;
	}
	if (rc)
		cli_usage(stderr, synopsis, what, opts);
	return rc;
}

int cli_parse(const char *synopsis, const char *what, const struct cli_opt *opts, int argc,
	      char **argv)
{
	return cli_parse_pos(synopsis, what, opts, argc, argv, NULL);
}
