/* entseg-annotate: the EntitySeg annotation workflow on the command line.
 *
 * One subcommand per job, each in its own cmd_*.c parsing its own options. This file only
 * dispatches (entseg/cli.h). */
#include "commands.h"

static const es_cli_command commands[] = {
#define ES_COMMAND(name, fn, help) {name, fn, help},
#include "command_list.h"
#undef ES_COMMAND
};

int main(int argc, char **argv) {
    return es_cli_dispatch("entseg-annotate", commands, sizeof commands / sizeof commands[0], 10, argc, argv);
}
