/* The subcommands of entseg-convert: ES_COMMAND(name, function, one-line help).
 * Included twice (declarations, then the dispatch table). Add a line per new command. */
ES_COMMAND("synth", es_cmd_synth, "write a synthetic entity dataset (PNG images + ground truth)")
ES_COMMAND("info", es_cmd_info, "print what a store holds")
ES_COMMAND("check", es_cmd_check, "verify a store: integrity, non-overlap, sizes, blobs")
