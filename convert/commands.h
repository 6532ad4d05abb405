/* commands.h: the subcommands of entseg-convert (command_list.h), each an es_cli_command
 * run (entseg/cli.h): gets argv[0] = the command name, parses its options, prints one line
 * per error, and returns the exit code (0 ok, 1 failure, 2 usage). */
#ifndef ENTSEG_CONVERT_COMMANDS_H
#define ENTSEG_CONVERT_COMMANDS_H

#include "entseg/cli.h"

#define ES_COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "command_list.h"
#undef ES_COMMAND

#endif
