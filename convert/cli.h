/* cli.h: the option parsing and reporting every entseg-convert subcommand shares.
 *
 * Options are "--name value" or "--name=value" (and "-o value"); flags take no value.
 * Positional arguments are collected in order. --help prints the command's usage to
 * stdout. Errors print one line to stderr.
 */
#ifndef ENTSEG_CONVERT_CLI_H
#define ENTSEG_CONVERT_CLI_H

#include <stddef.h>

#include "convert.h"

typedef struct es_cli_opt {
    const char *name;    /* "--json" */
    const char *alias;   /* "-o" or NULL */
    const char **value;  /* for options with a value */
    int *flag;           /* for flags (set to 1) */
} es_cli_opt;

/* Returns -1 to continue, or an exit code (0 after --help, 2 on a usage error).
 * The common options (--threads, --quiet, --lenient, --replace) are handled when common is
 * not NULL. positional (may be NULL) gets up to max_pos arguments, *npos their number. */
int es_cli_parse(int argc, char **argv, const es_cli_opt *opts, const char *usage,
                 es_convert_common *common, const char **positional, size_t max_pos, size_t *npos);

/* Prints "entseg-convert <cmd>: <msg>" to stderr. */
void es_cli_error(const char *cmd, const char *msg);
/* Checks a required option; prints a usage error when missing. Returns 1 when present. */
int es_cli_require(const char *cmd, const char *value, const char *name);

/* After a conversion: prints the skipped images and warnings (always) and a one-line
 * summary unless quiet, to stderr. */
void es_cli_print_report(const char *cmd, const char *out, const es_convert_report *r, int quiet);

/* Runs the converter result: prints the error line or the report, frees the report and
 * returns the exit code. */
int es_cli_finish(const char *cmd, const char *out, int rc, const es_error *err, es_convert_report *r,
                  int quiet);

#endif
