/* cmd_label.c: `entseg-annotate label DB --image I --entity E --set NAME` and
 * `label DB --from FILE.csv|FILE.json` (vocab.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "vocab.h"

static const char USAGE[] =
    "usage: entseg-annotate label DB --image I --entity E --set NAME\n"
    "       entseg-annotate label DB --from FILE.csv|FILE.json\n"
    "  Sets entity labels (new names join the vocabulary as roots). I is an image id or name.\n"
    "  CSV: image,entity,label per line (header optional, fields may be \"quoted\");\n"
    "  JSON: [{\"image\": id|name, \"entity\": id, \"label\": name}, ...]. All or nothing;\n"
    "  undo with `entseg-annotate undo DB`.\n";

int es_cmd_label(int argc, char **argv) {
    const char *db = NULL, *image = NULL, *entity = NULL, *name = NULL, *from = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--image") ? &image : !strcmp(a, "--entity") ? &entity
                          : !strcmp(a, "--set") ? &name : !strcmp(a, "--from") ? &from : NULL;
        if (es_cli_help(a, USAGE)) return 0;
        if (slot) {
            if (!(*slot = es_cli_value("label", argc, argv, &i))) return 2;
        } else if (!es_cli_is_option(a) && !db) {
            db = a;
        } else {
            return es_cli_reject("label", a);
        }
    }
    if (!db || (!from && (!image || !entity || !name)) || (from && (image || entity || name))) {
        fputs("entseg-annotate label: needs DB and either --image, --entity and --set, or --from (entseg-annotate label --help)\n", stderr);
        return 2;
    }
    int64_t entity_id = 0;
    if (entity && es_cli_int("label", "--entity", entity, 1, INT64_MAX, &entity_id)) return 2;
    es_error err = {0};
    es_store *s = NULL;
    char *cmdline = es_cli_command_line(argc, argv);
    int rc = es_store_open(db, ES_OPEN_WRITE, &s, &err);
    if (!rc && from) {
        size_t n = 0;
        rc = es_vocab_label_file(s, from, cmdline, &n, &err);
        if (!rc) printf("labelled %zu entities from %s\n", n, from);
    } else if (!rc) {
        int64_t image_id;
        rc = es_resolve_image(s, image, &image_id, &err);
        if (!rc) rc = es_vocab_label_entity(s, image_id, entity_id, name, cmdline, &err);
        if (!rc) printf("entity %lld: label '%s'\n", (long long)entity_id, name);
    }
    if (rc) fprintf(stderr, "entseg-annotate label: %s\n", err.msg);
    es_store_close(s);
    free(cmdline);
    return rc ? 1 : 0;
}
