/*
 * Option tables and their parser (cli-opts.c), shared by nvmf and nvmfctl: one table per
 * verb, as nvme-cli declares them; -h/--help is always there.
 */
#ifndef NVMF_TOOLS_CLI_OPTS_H
#define NVMF_TOOLS_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum cli_opt_kind {
	CLI_FLAG,       /* bool */
	CLI_STR,        /* const char * */
	CLI_UINT,       /* unsigned, 0..UINT_MAX */
	CLI_INT,        /* int, may be negative */
	CLI_U64,        /* uint64_t */
	CLI_FMT,        /* const char *: normal | json (| binary where the verb says so) */
};

struct cli_opt {
	const char *name;            /* long name, NULL ends the table */
	int short_name;              /* 0: long only */
	enum cli_opt_kind kind;
	void *val;
	const char *arg;             /* placeholder in the help: ADDR, NUM, ... */
	const char *help;
};

#define CLI_END { NULL, 0, CLI_FLAG, NULL, NULL, NULL }

/* The program and the verb being run, for messages ("nvmf discover: ..."). */
extern const char *cli_prog;
extern const char *cli_verb;

/*
 * Parse argv (argv[0] is the verb) against opts.
 * Returns 0 to go on, 1 when help was printed (exit 0), -1 after a usage error was
 * printed with the usage on stderr (exit 2).  Positional arguments are refused.
 */
int cli_parse(const char *synopsis, const char *what, const struct cli_opt *opts, int argc,
	      char **argv);
/* The same with positional arguments allowed: they are argv[*first_pos..argc-1]. */
int cli_parse_pos(const char *synopsis, const char *what, const struct cli_opt *opts,
		  int argc, char **argv, int *first_pos);
void cli_usage(FILE *f, const char *synopsis, const char *what, const struct cli_opt *opts);

/* One line on stderr: "PROG VERB: message". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
