/* commands.h: the subcommands of entseg-annotate (command_list.h), each an es_cli_command
 * run (entseg/cli.h): gets argv[0] = the command name, parses its own options, prints one
 * line per error on stderr, and returns the exit code (0 ok, 1 failure, 2 usage). */
#ifndef ENTSEG_ANNOTATE_COMMANDS_H
#define ENTSEG_ANNOTATE_COMMANDS_H

#include "entseg/cli.h"

#define ES_COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "command_list.h"
#undef ES_COMMAND

/* split DB --entity E: the entity edit (cmd_edit.c), reached through `split`. */
int es_cmd_split_entity(int argc, char **argv);

#endif
