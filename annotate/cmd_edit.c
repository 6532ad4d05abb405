/* cmd_edit.c: the mask edits of entseg-annotate: merge, split, delete, fill, paint
 * (edit.h). One parser for all five; each prints one summary line, or one error line and
 * leaves the store untouched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "edit.h"
#include "vocab.h"

static const char USAGE[] =
    "usage: entseg-annotate merge DB --entities A,B[,...]   merge into A (A keeps id and label)\n"
    "       entseg-annotate split DB --entity E             one entity per 8-connected component\n"
    "       entseg-annotate delete DB --entity E            its pixels become void\n"
    "       entseg-annotate fill DB --image I (--mask M.png | --rect X,Y,W,H)\n"
    "                       (--entity E | --new [--label NAME]) [--void-only]\n"
    "           give the region's void pixels to E (which must touch them) or a new entity;\n"
    "           a region covering other entities is refused unless --void-only\n"
    "       entseg-annotate paint DB --image I (--mask M.png | --rect X,Y,W,H)\n"
    "                       (--entity E | --new [--label NAME])   take the region's pixels\n"
    "       entseg-annotate paint DB --image I --labelmap MAP.png\n"
    "           non-zero values (gray, or RGB as R+256G+65536B) are entity ids of image I\n"
    "  Every edit is one transaction, recorded in `history` and undone by `undo`.\n";

typedef struct edit_opts {
    const char *db, *image, *entity, *entities, *mask, *rect, *labelmap, *label;
    int is_new, void_only;
} edit_opts;

static int parse(const char *cmd, int argc, char **argv, edit_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--image") ? &o->image : !strcmp(a, "--entity") ? &o->entity
                          : !strcmp(a, "--entities") ? &o->entities : !strcmp(a, "--mask") ? &o->mask
                          : !strcmp(a, "--rect") ? &o->rect : !strcmp(a, "--labelmap") ? &o->labelmap
                          : !strcmp(a, "--label") ? &o->label : NULL;
        if (es_cli_help(a, USAGE)) return 1;
        if (slot) {
            if (!(*slot = es_cli_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--new")) {
            o->is_new = 1;
        } else if (!strcmp(a, "--void-only")) {
            o->void_only = 1;
        } else if (!es_cli_is_option(a) && !o->db) {
            o->db = a;
        } else {
            return es_cli_reject(cmd, a);
        }
    }
    if (!o->db) {
        fprintf(stderr, "entseg-annotate %s: needs a store (entseg-annotate %s --help)\n", cmd, cmd);
        return 2;
    }
    return 0;
}

static int parse_rect(const char *cmd, const char *text, es_region *r) {
    unsigned x, y, w, h;
    char tail;
    if (sscanf(text, "%u,%u,%u,%u%c", &x, &y, &w, &h, &tail) != 4) {
        fprintf(stderr, "entseg-annotate %s: --rect '%s': expected X,Y,W,H (non-negative integers)\n", cmd, text);
        return -1;
    }
    *r = (es_region){NULL, x, y, w, h};
    return 0;
}

static void summary(const char *cmd, const es_edit_result *r) {
    printf("%s: edit %lld:", cmd, (long long)r->history_id);
    if (r->entity_id != ES_NONE) printf(" entity %lld:", (long long)r->entity_id);
    printf(" %llu pixels moved, %zu changed, %zu deleted, %zu new", (unsigned long long)r->pixels, r->n_changed,
           r->n_deleted, r->n_new);
    if (r->n_new) printf(" (ids from %lld)", (long long)r->first_new_id);
    printf("\n");
}

static int run(const char *cmd, int argc, char **argv) {
    edit_opts o;
    int prc = parse(cmd, argc, argv, &o);
    if (prc) return prc == 1 ? 0 : 2;
    int is_region = !strcmp(cmd, "fill") || !strcmp(cmd, "paint");
    int64_t entity = ES_NONE, image_id = ES_NONE;
    int64_t *ids = NULL;
    size_t n_ids = 0;
    es_region region = {0};
    /* option combinations */
    if (!strcmp(cmd, "merge")) {
        if (!o.entities || es_cli_id_list(cmd, "--entities", o.entities, &ids, &n_ids)) {
            if (!o.entities) fprintf(stderr, "entseg-annotate merge: --entities A,B[,...] is required\n");
            return 2;
        }
    } else if (!is_region) {
        if (!o.entity) {
            fprintf(stderr, "entseg-annotate %s: --entity E is required\n", cmd);
            return 2;
        }
    } else {
        int sources = !!o.mask + !!o.rect + !!o.labelmap;
        if (!o.image || sources != 1 || (o.labelmap && strcmp(cmd, "paint"))) {
            fprintf(stderr, "entseg-annotate %s: needs --image I and one of --mask, --rect%s\n", cmd,
                    strcmp(cmd, "paint") ? "" : ", --labelmap");
            return 2;
        }
        if (!o.labelmap && !!o.entity + o.is_new != 1) {
            fprintf(stderr, "entseg-annotate %s: needs --entity E or --new\n", cmd);
            return 2;
        }
        if (o.rect && parse_rect(cmd, o.rect, &region)) return 2;
        if (o.mask) region.png = o.mask;
    }
    if (o.entity && es_cli_int(cmd, "--entity", o.entity, 1, INT64_MAX, &entity)) return 2;

    es_error err = {0};
    es_store *s = NULL;
    es_edit_result res;
    char *cmdline = es_cli_command_line(argc, argv);
    int rc = es_store_open(o.db, ES_OPEN_WRITE, &s, &err);
    if (!rc && is_region) rc = es_resolve_image(s, o.image, &image_id, &err);
    if (!rc) {
        if (!strcmp(cmd, "merge")) rc = es_edit_merge(s, ids, n_ids, cmdline, &res, &err);
        else if (!strcmp(cmd, "split")) rc = es_edit_split(s, entity, cmdline, &res, &err);
        else if (!strcmp(cmd, "delete")) rc = es_edit_delete(s, entity, cmdline, &res, &err);
        else if (o.labelmap) rc = es_edit_paint_labelmap(s, image_id, o.labelmap, cmdline, &res, &err);
        else if (!strcmp(cmd, "fill"))
            rc = es_edit_fill(s, image_id, &region, entity, o.label, o.void_only, cmdline, &res, &err);
        else rc = es_edit_paint(s, image_id, &region, entity, o.label, cmdline, &res, &err);
    }
    if (rc) fprintf(stderr, "entseg-annotate %s: %s\n", cmd, err.msg);
    else summary(cmd, &res);
    es_store_close(s);
    free(cmdline);
    free(ids);
    return rc ? 1 : 0;
}

int es_cmd_merge(int argc, char **argv) { return run("merge", argc, argv); }
int es_cmd_split_entity(int argc, char **argv) { return run("split", argc, argv); }
int es_cmd_delete(int argc, char **argv) { return run("delete", argc, argv); }
int es_cmd_fill(int argc, char **argv) { return run("fill", argc, argv); }
int es_cmd_paint(int argc, char **argv) { return run("paint", argc, argv); }
