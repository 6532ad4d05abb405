/* entseg-convert: outside formats in and out of the entity store.
 *
 * One subcommand per job; each lives in its own file (cmd_*.c, synth.c) and parses its own
 * options. This file only dispatches (entseg/cli.h).
 */
#include "commands.h"

static const es_cli_command commands[] = {
#define ES_COMMAND(name, fn, help) {name, fn, help},
#include "command_list.h"
#undef ES_COMMAND
};

int main(int argc, char **argv) {
    return es_cli_dispatch("entseg-convert", commands, sizeof commands / sizeof commands[0], 20, argc, argv);
}
