/* cmd_coco_panoptic.c: `entseg-convert coco-panoptic` (ground truth) and `panoptic-pred`
 * (predictions), the COCO panoptic layout: JSON + id PNGs. */
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char coco_panoptic_usage[] =
    "usage: entseg-convert coco-panoptic --json GT.json --png-dir DIR -o gt.db [--crowd ignore|drop]\n"
    "\n"
    "COCO panoptic ground truth (PNG id = R + 256 G + 65536 B, 0 = void) into an entity store.\n"
    "Every segment, thing or stuff, becomes one entity; category, isthing, segment id, declared\n"
    "area and segments_info order are kept as provenance.\n"
    "  --crowd ignore   crowd segments become ignore regions (default; as COCOeval, panopticapi)\n"
    "  --crowd drop     crowd pixels become unlabeled (as the Entity reference code)\n";

int es_cmd_coco_panoptic(int argc, char **argv) {
    const char *json = NULL, *png_dir = NULL, *out = NULL, *crowd = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL},
                         {"--png-dir", NULL, &png_dir, NULL},
                         {"--out", "-o", &out, NULL},
                         {"--crowd", NULL, &crowd, NULL},
                         {0}};
    int code = es_cli_parse(argc, argv, opts, coco_panoptic_usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], json, "--json") || !es_cli_require(argv[0], png_dir, "--png-dir") ||
        !es_cli_require(argv[0], out, "-o"))
        return 2;
    es_crowd_mode mode = ES_CROWD_IGNORE;
    if (crowd && !strcmp(crowd, "drop")) mode = ES_CROWD_DROP;
    else if (crowd && strcmp(crowd, "ignore")) {
        es_cli_error(argv[0], "--crowd wants ignore or drop");
        return 2;
    }
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_convert_coco_panoptic(json, png_dir, out, mode, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}

static const char panoptic_pred_usage[] =
    "usage: entseg-convert panoptic-pred --json P.json --png-dir DIR --gt gt.db -o pred.db\n"
    "\n"
    "COCO panoptic predictions into a prediction store. Image ids resolve against the ground\n"
    "truth store; a \"score\" in segments_info is used when present (else 1.0).\n";

int es_cmd_panoptic_pred(int argc, char **argv) {
    const char *json = NULL, *png_dir = NULL, *out = NULL, *gt = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL},
                         {"--png-dir", NULL, &png_dir, NULL},
                         {"--gt", NULL, &gt, NULL},
                         {"--out", "-o", &out, NULL},
                         {0}};
    int code = es_cli_parse(argc, argv, opts, panoptic_pred_usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], json, "--json") || !es_cli_require(argv[0], png_dir, "--png-dir") ||
        !es_cli_require(argv[0], gt, "--gt") || !es_cli_require(argv[0], out, "-o"))
        return 2;
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = es_convert_panoptic_pred(json, png_dir, gt, out, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}
