/* annotate/cli_util.h: option parsing shared by the entseg-annotate commands. */
#ifndef ENTSEG_ANNOTATE_CLI_UTIL_H
#define ENTSEG_ANNOTATE_CLI_UTIL_H

#include <stdint.h>

/* Parses a whole decimal integer in [lo, hi]; 0 on success, -1 (and one error line on
 * stderr naming cmd and opt) otherwise. */
int es_cli_int(const char *cmd, const char *opt, const char *text, int64_t lo, int64_t hi,
               int64_t *out);
/* The value after option argv[*i]; advances *i. NULL (and an error line) when missing. */
const char *es_cli_value(const char *cmd, int argc, char **argv, int *i);
/* The integer value after option argv[*i] (es_cli_value, then es_cli_int naming the option as
 * given); advances *i. 0 on success, -1 (and one error line) otherwise. */
int es_cli_int_value(const char *cmd, int argc, char **argv, int *i, int64_t lo, int64_t hi, int64_t *out);
/* --help or -h: prints usage on stdout and returns 1 (the command is done); 0 otherwise. */
int es_cli_help(const char *arg, const char *usage);
/* Whether a command-line word is an option ("-x", "--x"); "-" alone is an argument. */
int es_cli_is_option(const char *arg);
/* A word the command does not take: prints "unknown option 'ARG'" (an option) or "unexpected
 * argument 'ARG'" on stderr and returns 2, the usage exit code. */
int es_cli_reject(const char *cmd, const char *arg);

/* "entseg-annotate <argv joined by spaces>" (malloc'ed), recorded in the edit history. */
char *es_cli_command_line(int argc, char **argv);
/* Parses "a,b,c" ids into a malloc'ed array; -1 (and an error line) on bad input. */
int es_cli_id_list(const char *cmd, const char *opt, const char *text, int64_t **ids, size_t *n);

#endif
