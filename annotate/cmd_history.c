/* cmd_history.c: `entseg-annotate history DB [--limit N]` and `entseg-annotate undo DB`
 * (history.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "history.h"

static const char HISTORY_USAGE[] = "usage: entseg-annotate history DB [--limit N]   edits, newest first\n";
static const char UNDO_USAGE[] = "usage: entseg-annotate undo DB   undo the newest edit not yet undone\n";

int es_cmd_history(int argc, char **argv) {
    const char *db = NULL;
    int64_t limit = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (es_cli_help(a, HISTORY_USAGE)) return 0;
        if (!strcmp(a, "--limit")) {
            if (es_cli_int_value("history", argc, argv, &i, 0, INT64_MAX, &limit)) return 2;
        } else if (!es_cli_is_option(a) && !db) {
            db = a;
        } else {
            return es_cli_reject("history", a);
        }
    }
    if (!db) {
        fputs("entseg-annotate history: needs a store: history DB (entseg-annotate history --help)\n", stderr);
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
    if (argc == 2 && es_cli_help(argv[1], UNDO_USAGE)) return 0;
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
