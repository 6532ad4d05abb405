/* cmd_label_maps.c: `entseg-convert label-maps`: id-map directories, GT or predictions. */
#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: entseg-convert label-maps --dir DIR -o gt.db\n"
    "       entseg-convert label-maps --dir DIR --scores S.json --gt gt.db -o pred.db\n"
    "\n"
    "A directory of id maps (8/16-bit PNG, 8/16/32-bit TIFF; 0 = void; an RGB PNG is read as\n"
    "R + 256 G + 65536 B) into a store: one image per file (name = file stem), one entity per\n"
    "id. With --scores, predictions: S.json is {\"<image name>\": {\"<id>\": score, ...}, ...}\n"
    "and images are matched by name against the ground truth store.\n";

int es_cmd_label_maps(int argc, char **argv) {
    const char *dir = NULL, *out = NULL, *scores = NULL, *gt = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--dir", NULL, &dir, NULL},
                         {"--scores", NULL, &scores, NULL},
                         {"--gt", NULL, &gt, NULL},
                         {"--out", "-o", &out, NULL},
                         {0}};
    int code = es_cli_parse(argc, argv, opts, usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], dir, "--dir") || !es_cli_require(argv[0], out, "-o")) return 2;
    if ((scores != NULL) != (gt != NULL)) {
        es_cli_error(argv[0], "--scores and --gt go together (predictions)");
        return 2;
    }
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_convert_label_maps(dir, scores, gt, out, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}
