/* cmd_ade_cityscapes.c: `entseg-convert ade20k-panoptic` and `cityscapes-panoptic`, each
 * from its panoptic JSON + PNGs or from the raw dataset layout. */
#include "cli.h"
#include "commands.h"

static const char ade_usage[] =
    "usage: entseg-convert ade20k-panoptic --json F --png-dir D -o gt.db\n"
    "       entseg-convert ade20k-panoptic --ade-root ADEChallengeData2016 [--split validation] -o gt.db\n"
    "\n"
    "ADE20K panoptic ground truth (150 categories, ids 0..149; 0 is a real category). The JSON\n"
    "route reads what the usual preparation script writes (stale stuff areas are kept as\n"
    "declared areas; a stuff segment left without pixels is no entity and is reported). The\n"
    "raw route reads annotations/<split> (semantic, 0 = ignore) and annotations_instance/<split>\n"
    "(R = instance class, G = instance id) with the preparation's class mapping built in.\n";

static const char cs_usage[] =
    "usage: entseg-convert cityscapes-panoptic --json F --png-dir D -o gt.db\n"
    "       entseg-convert cityscapes-panoptic --cityscapes-root DIR [--split val] -o gt.db\n"
    "\n"
    "Cityscapes panoptic ground truth, from cityscapes_panoptic_<split>.json + PNGs, or from\n"
    "the raw gtFine/<split>/<city>/<name>_gtFine_instanceIds.png (>= 1000: label*1000 + instance;\n"
    "< 1000: a stuff region, or a crowd group of a thing class, kept as crowd; labels ignored\n"
    "in evaluation become void). Both routes give the same entities.\n";

static int run(int argc, char **argv, int ade) {
    const char *json = NULL, *png_dir = NULL, *out = NULL, *root = NULL, *split = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL},
                         {"--png-dir", NULL, &png_dir, NULL},
                         {ade ? "--ade-root" : "--cityscapes-root", NULL, &root, NULL},
                         {"--split", NULL, &split, NULL},
                         {"--out", "-o", &out, NULL},
                         {0}};
    int code = es_cli_parse(argc, argv, opts, ade ? ade_usage : cs_usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], out, "-o")) return 2;
    if ((json != NULL) == (root != NULL)) {
        es_cli_error(argv[0], ade ? "give either --json and --png-dir, or --ade-root"
                                  : "give either --json and --png-dir, or --cityscapes-root");
        return 2;
    }
    if (json && !es_cli_require(argv[0], png_dir, "--png-dir")) return 2;
    if (!split) split = ade ? "validation" : "val";
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc;
    if (ade)
        rc = json ? es_convert_ade20k_panoptic(json, png_dir, out, &c, &err) : es_convert_ade20k_raw(root, split, out, &c, &err);
    else
        rc = json ? es_convert_cityscapes_panoptic(json, png_dir, out, &c, &err)
                  : es_convert_cityscapes_raw(root, split, out, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}

int es_cmd_ade20k_panoptic(int argc, char **argv) {
    return run(argc, argv, 1);
}

int es_cmd_cityscapes_panoptic(int argc, char **argv) {
    return run(argc, argv, 0);
}
