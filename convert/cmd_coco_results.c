/* cmd_coco_results.c: `entseg-convert coco-results`: detectron2 / mmdetection results. */
#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: entseg-convert coco-results --json RES.json --gt gt.db -o pred.db\n"
    "\n"
    "COCO results (a list of {image_id, category_id, segmentation, score}; segmentation as\n"
    "compressed RLE, uncompressed RLE or polygons) into a prediction store. image_id resolves\n"
    "against the ground truth store's COCO image ids; masks may overlap; each image keeps its\n"
    "results in input order (score ties are broken by it).\n";

int es_cmd_coco_results(int argc, char **argv) {
    const char *json = NULL, *out = NULL, *gt = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL}, {"--gt", NULL, &gt, NULL}, {"--out", "-o", &out, NULL}, {0}};
    int code = es_cli_parse(argc, argv, opts, usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], json, "--json") || !es_cli_require(argv[0], gt, "--gt") ||
        !es_cli_require(argv[0], out, "-o"))
        return 2;
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_convert_coco_results(json, gt, out, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}
