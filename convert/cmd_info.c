/* placeholder until the info command lands (owned by the image/synth helper) */
#include <stdio.h>
#include "commands.h"
int es_cmd_info(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "entseg-convert info: not built yet\n"); return 1; }
