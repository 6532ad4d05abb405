/* entseg-annotate: the EntitySeg annotation workflow on the command line.
 *
 * One subcommand per job, each in its own cmd_*.c parsing its own options. This file only
 * dispatches. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const es_annotate_command commands[] = {
#define ES_COMMAND(name, fn, help) {name, fn, help},
#include "command_list.h"
#undef ES_COMMAND
};

static void usage(FILE *f) {
    fprintf(f, "usage: entseg-annotate <command> [options]   (entseg-annotate <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
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
    fprintf(stderr, "entseg-annotate: unknown command '%s' (entseg-annotate --help lists them)\n", argv[1]);
    return 2;
}
