/* The subcommands of entseg-annotate: ES_COMMAND(name, function, one-line help).
 * Included twice (declarations, then the dispatch table). */
ES_COMMAND("stats", es_cmd_stats, "dataset statistics (EntitySeg Table 2), overall and per source")
ES_COMMAND("label", es_cmd_label, "set entity labels, one or in bulk (CSV / JSON)")
ES_COMMAND("vocab", es_cmd_vocab, "list, rename, merge, reparent, export, import the label vocabulary")
ES_COMMAND("merge", es_cmd_merge, "merge entities of one image")
ES_COMMAND("split", es_cmd_split, "choose a test split (--test N), or split an entity (--entity E)")
ES_COMMAND("delete", es_cmd_delete, "delete an entity (its pixels become void)")
ES_COMMAND("fill", es_cmd_fill, "give void pixels to a neighbouring entity or a new one")
ES_COMMAND("paint", es_cmd_paint, "paint a region (mask, rectangle, label map) into entities")
ES_COMMAND("history", es_cmd_history, "list recorded edits")
ES_COMMAND("undo", es_cmd_undo, "undo the newest edit")
ES_COMMAND("agree", es_cmd_agree, "agreement of two annotations: mask AP and label accuracy")
ES_COMMAND("render", es_cmd_render, "draw an image with its entities (and prediction errors)")
