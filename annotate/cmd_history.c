/* cmd_history.c: `entseg-annotate history DB [--limit N]` and `entseg-annotate undo DB`
 * (history.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "history.h"

int es_cmd_history(int argc, char **argv) {
    const char *db = NULL;
    int64_t limit = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: entseg-annotate history DB [--limit N]   edits, newest first");
            return 0;
        } else if (!strcmp(argv[i], "--limit")) {
            if (es_cli_int_value("history", argc, argv, &i, 0, INT64_MAX, &limit)) return 2;
        } else if (!db && argv[i][0] != '-') {
            db = argv[i];
        } else {
            fprintf(stderr, "entseg-annotate history: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!db) {
        fputs("usage: entseg-annotate history DB [--limit N]\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_store *s = NULL;
    int rc = es_store_open(db, ES_OPEN_READ, &s, &err);
    if (!rc) rc = es_history_print(s, stdout, (size_t)limit, &err);
    if (rc) fprintf(stderr, "entseg-annotate history: %s\n", err.msg);
    es_store_close(s);
    return rc ? 1 : 0;
}

int es_cmd_undo(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: entseg-annotate undo DB   undo the newest edit not yet undone");
        return 0;
    }
    if (argc != 2) {
        fputs("usage: entseg-annotate undo DB\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_store *s = NULL;
    int64_t id = ES_NONE;
    char *command = NULL;
    int rc = es_store_open(argv[1], ES_OPEN_WRITE, &s, &err);
    if (!rc) rc = es_history_undo(s, &id, &command, &err);
    if (rc) fprintf(stderr, "entseg-annotate undo: %s\n", err.msg);
    else if (id == ES_NONE) printf("nothing to undo\n");
    else printf("undid edit %lld: %s\n", (long long)id, command ? command : "");
    free(command);
    es_store_close(s);
    return rc ? 1 : 0;
}
