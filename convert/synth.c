/* placeholder until the synth command lands (owned by the image/synth helper) */
#include <stdio.h>
#include "commands.h"
int es_cmd_synth(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "entseg-convert synth: not built yet\n"); return 1; }
