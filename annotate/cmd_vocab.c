/* cmd_vocab.c: `entseg-annotate vocab DB [rename OLD NEW | merge A B | parent CHILD PARENT
 * | export FILE | import FILE]` (vocab.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "vocab.h"

static const char USAGE[] =
    "usage: entseg-annotate vocab DB                      list labels: id, name, parent, entities\n"
    "       entseg-annotate vocab DB rename OLD NEW\n"
    "       entseg-annotate vocab DB merge A B            relabel every A entity as B, remove A\n"
    "       entseg-annotate vocab DB parent CHILD PARENT  ('-' makes CHILD a root)\n"
    "       entseg-annotate vocab DB export FILE.json     ('-' = stdout)\n"
    "       entseg-annotate vocab DB import FILE.json     add missing labels, set parents\n"
    "  The special labels unknown, blurred and supercategory_other always exist.\n";

static int list(es_store *s, es_error *err) {
    es_vocab_entry *v = NULL;
    size_t n = 0;
    ES_CHECK(es_vocab_list(s, &v, &n, err));
    printf("%6s  %-32s %-24s %10s\n", "id", "label", "parent", "entities");
    for (size_t i = 0; i < n; i++) {
        const char *parent = "-";
        for (size_t j = 0; j < n && v[i].parent_id != ES_NONE; j++)
            if (v[j].id == v[i].parent_id) parent = v[j].name;
        printf("%6lld  %-32s %-24s %10llu\n", (long long)v[i].id, v[i].name, parent, (unsigned long long)v[i].count);
    }
    es_vocab_entries_free(v, n);
    return ES_OK;
}

int es_cmd_vocab(int argc, char **argv) {
    if (argc >= 2 && es_cli_help(argv[1], USAGE)) return 0;
    if (argc < 2) {
        fputs("entseg-annotate vocab: wrong arguments (entseg-annotate vocab --help)\n", stderr);
        return 2;
    }
    const char *db = argv[1], *op = argc > 2 ? argv[2] : NULL;
    int want = !op ? 3 : (!strcmp(op, "export") || !strcmp(op, "import")) ? 4
             : (!strcmp(op, "rename") || !strcmp(op, "merge") || !strcmp(op, "parent")) ? 5 : -1;
    if (want < 0) {
        fprintf(stderr, "entseg-annotate vocab: unknown operation '%s' (rename, merge, parent, export, import)\n", op);
        return 2;
    }
    if (argc != (op ? want : 2)) {
        fputs("entseg-annotate vocab: wrong arguments (entseg-annotate vocab --help)\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_store *s = NULL;
    int writes = op && strcmp(op, "export");
    char *cmdline = es_cli_command_line(argc, argv);
    int rc = es_store_open(db, writes ? ES_OPEN_WRITE : ES_OPEN_READ, &s, &err);
    if (!rc) {
        if (!op) rc = list(s, &err);
        else if (!strcmp(op, "export")) rc = es_vocab_export(s, argv[3], &err);
        else if (!strcmp(op, "import")) {
            size_t added = 0;
            rc = es_vocab_import(s, argv[3], cmdline, &added, &err);
            if (!rc) printf("imported %s: %zu new labels\n", argv[3], added);
        } else if (!strcmp(op, "rename")) {
            rc = es_vocab_rename(s, argv[3], argv[4], cmdline, &err);
            if (!rc) printf("renamed '%s' to '%s'\n", argv[3], argv[4]);
        } else if (!strcmp(op, "merge")) {
            rc = es_vocab_merge(s, argv[3], argv[4], cmdline, &err);
            if (!rc) printf("merged '%s' into '%s'\n", argv[3], argv[4]);
        } else {
            const char *parent = strcmp(argv[4], "-") ? argv[4] : NULL;
            rc = es_vocab_set_parent(s, argv[3], parent, cmdline, &err);
            if (!rc) printf("'%s' now under '%s'\n", argv[3], parent ? parent : "(root)");
        }
    }
    if (rc) fprintf(stderr, "entseg-annotate vocab: %s\n", err.msg);
    es_store_close(s);
    free(cmdline);
    return rc ? 1 : 0;
}
