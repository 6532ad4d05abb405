/* entseg/cli.h: what the entseg CLIs (entseg-convert, entseg-annotate) share: the
 * subcommand dispatch of their main(), and strict parsing of integer option values.
 *
 * For a CLI's main() only: it prints usage and errors, which library code never does. It is
 * header-only (static inline) so that libentseg itself stays free of printing; nothing in
 * lib/src includes it.
 */
#ifndef ENTSEG_CLI_H
#define ENTSEG_CLI_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One subcommand. run(argc, argv) gets argv[0] = the command name, parses its own options,
 * prints one line per error on stderr, and returns the exit code (0 ok, 1 failure, 2 usage). */
typedef struct es_cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} es_cli_command;

/* A strict decimal integer option value: the whole text (not empty, no trailing characters)
 * within [lo, hi]. 1 and *out on success, 0 otherwise (the caller prints its error line). */
static inline int es_cli_parse_int(const char *text, int64_t lo, int64_t hi, int64_t *out) {
    if (!text || !*text) return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* "usage: TOOL <command> ..." and one line per command, names padded to name_width. */
static inline void es_cli_dispatch_usage(FILE *f, const char *tool, const es_cli_command *cmds, size_t n,
                                         int name_width) {
    fprintf(f, "usage: %s <command> [options]   (%s <command> --help)\n\ncommands:\n", tool, tool);
    for (size_t i = 0; i < n; i++) fprintf(f, "  %-*s %s\n", name_width, cmds[i].name, cmds[i].help);
}

/* Runs the command argv[1] names with (argc - 1, argv + 1) and returns its exit code.
 * No command: usage on stderr, 2. --help / -h / help: usage on stdout, 0. An unknown name:
 * one error line, 2. name_width is the column width of the names in the usage list. */
static inline int es_cli_dispatch(const char *tool, const es_cli_command *cmds, size_t n, int name_width,
                                  int argc, char **argv) {
    if (argc < 2) {
        es_cli_dispatch_usage(stderr, tool, cmds, n, name_width);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        es_cli_dispatch_usage(stdout, tool, cmds, n, name_width);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name)) return cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s' (%s --help lists them)\n", tool, argv[1], tool);
    return 2;
}

#endif
