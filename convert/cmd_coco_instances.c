/* cmd_coco_instances.c: `entseg-convert coco-instances` and `entityseg` (COCO instances
 * layout ground truth). */
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char instances_usage[] =
    "usage: entseg-convert coco-instances --json FILE -o gt.db [--overlap error|paint|keep]\n"
    "\n"
    "COCO instances ground truth (polygons, uncompressed or compressed RLE, rasterised exactly\n"
    "as pycocotools does) into an entity store. Crowd annotations become ignore regions.\n"
    "  --overlap error  overlapping non-crowd instances are an error (default)\n"
    "  --overlap paint  paint the larger first, so smaller instances stay visible\n"
    "  --overlap keep   keep them; the store is marked as overlapping instance GT (mask AP\n"
    "                   works on it exactly as pycocotools; PQ refuses it)\n";

static const char entityseg_usage[] =
    "usage: entseg-convert entityseg --json FILE -o gt.db [--overlap error|paint|keep]\n"
    "\n"
    "The EntitySeg release (COCO instances layout, RLE masks) into an entity store. The\n"
    "open-vocabulary category_id_ori labels go to the store's label vocabulary, img_source\n"
    "to each image's source. --overlap as for coco-instances.\n";

static int run(int argc, char **argv, const char *usage, int entityseg) {
    const char *json = NULL, *out = NULL, *overlap = NULL;
    es_convert_common c = {0};
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL}, {"--out", "-o", &out, NULL}, {"--overlap", NULL, &overlap, NULL}, {0}};
    int code = es_cli_parse(argc, argv, opts, usage, &c, NULL, 0, NULL);
    if (code >= 0) return code;
    if (!es_cli_require(argv[0], json, "--json") || !es_cli_require(argv[0], out, "-o")) return 2;
    es_gt_overlap_mode mode = ES_GT_OVERLAP_ERROR;
    if (overlap && !strcmp(overlap, "paint")) mode = ES_GT_OVERLAP_PAINT;
    else if (overlap && !strcmp(overlap, "keep")) mode = ES_GT_OVERLAP_KEEP;
    else if (overlap && strcmp(overlap, "error")) {
        es_cli_error(argv[0], "--overlap wants error, paint or keep");
        return 2;
    }
    es_convert_report rep = {0};
    c.report = &rep;
    es_error err = {0};
    int rc = entityseg ? es_convert_entityseg(json, out, mode, &c, &err) : es_convert_coco_instances(json, out, mode, &c, &err);
    return es_cli_finish(argv[0], out, rc, &err, &rep, c.quiet);
}

int es_cmd_coco_instances(int argc, char **argv) {
    return run(argc, argv, instances_usage, 0);
}

int es_cmd_entityseg(int argc, char **argv) {
    return run(argc, argv, entityseg_usage, 1);
}
