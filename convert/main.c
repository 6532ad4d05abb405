/* entseg-convert: outside formats in and out of the entity store.
 *
 * One subcommand per job; each lives in its own file (cmd_*.c, synth.c) and parses its own
 * options. This file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const es_command commands[] = {
#define ES_COMMAND(name, fn, help) {name, fn, help},
#include "command_list.h"
#undef ES_COMMAND
};

static void usage(FILE *f) {
    fprintf(f, "usage: entseg-convert <command> [options]   (entseg-convert <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-20s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "entseg-convert: unknown command '%s' (entseg-convert --help lists them)\n", argv[1]);
    return 2;
}
