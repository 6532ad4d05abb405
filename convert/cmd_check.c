/* placeholder until the check command lands (owned by the image/synth helper) */
#include <stdio.h>
#include "commands.h"
int es_cmd_check(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "entseg-convert check: not built yet\n"); return 1; }
