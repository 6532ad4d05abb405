/* cmd_merge_split.c: `entseg-convert merge` and `entseg-convert split`. */
#include <stdint.h>

#include "cli.h"
#include "cli_numbers.h"
#include "commands.h"

static const char merge_usage[] =
    "usage: entseg-convert merge A.db B.db ... -o C.db\n"
    "\n"
    "Concatenates stores of one kind (e.g. COCO + ADE20K ground truth for training): images\n"
    "(names must be distinct), entities with their provenance, categories and labels.\n";

int es_cmd_merge(int argc, char **argv) {
    const char *out = NULL;
    es_convert_common c = {0};
    const char *pos[256];
    size_t npos = 0;
    es_cli_opt opts[] = {{"--out", "-o", &out, NULL}, {0}};
    int code = es_cli_parse(argc, argv, opts, merge_usage, &c, pos, 256, &npos);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], out, "-o")) return 2;
    if (npos < 1) {
        es_cli_error(argv[0], "wants at least one input store");
        return 2;
    }
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_store_merge(pos, npos, out, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}

static const char split_usage[] =
    "usage: entseg-convert split DB --ratio R [--seed N] -o FIRST.db [--rest REST.db]\n"
    "       entseg-convert split DB --list FILE -o FIRST.db [--rest REST.db]\n"
    "\n"
    "Divides a store by image: a seeded random fraction R of the images (or the images named\n"
    "in FILE, one per line) go to FIRST.db, the others to REST.db.\n";

int es_cmd_split(int argc, char **argv) {
    const char *out = NULL, *rest = NULL, *ratio = NULL, *seed = NULL, *list = NULL;
    es_convert_common c = {0};
    const char *pos[1];
    size_t npos = 0;
    es_cli_opt opts[] = {{"--out", "-o", &out, NULL},   {"--rest", NULL, &rest, NULL}, {"--ratio", NULL, &ratio, NULL},
                         {"--seed", NULL, &seed, NULL}, {"--list", NULL, &list, NULL}, {0}};
    int code = es_cli_parse(argc, argv, opts, split_usage, &c, pos, 1, &npos);
    if (code >= 0) return code;
    if (npos != 1) {
        es_cli_error(argv[0], "wants one input store");
        return 2;
    }
    if (!es_cli_require(argv[0], out, "-o")) return 2;
    if ((ratio != NULL) == (list != NULL)) {
        es_cli_error(argv[0], "give either --ratio R or --list FILE");
        return 2;
    }
    double r = 0;
    uint32_t s = 0;
    if (ratio && !es_convert_arg_double(argv[0], "--ratio", ratio, 0, 1, &r)) return 2;
    if (seed && !es_convert_arg_u32(argv[0], "--seed", seed, 0, UINT32_MAX, &s)) return 2;
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_store_split(pos[0], r, s, list, out, rest, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}
