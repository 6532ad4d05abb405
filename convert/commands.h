/* commands.h: the subcommand type of entseg-convert. Each run(argc, argv) gets argv[0] =
 * the command name, parses its options, prints one line per error, and returns the exit
 * code (0 ok, 1 failure, 2 usage). */
#ifndef ENTSEG_CONVERT_COMMANDS_H
#define ENTSEG_CONVERT_COMMANDS_H

typedef struct es_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} es_command;

#define ES_COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "command_list.h"
#undef ES_COMMAND

#endif
