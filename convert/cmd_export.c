/* cmd_export.c: `entseg-convert export coco-panoptic|coco-instances|label-maps DB -o OUT`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: entseg-convert export coco-panoptic DB -o OUT.json [--png-dir DIR]\n"
    "       entseg-convert export coco-instances DB -o OUT.json\n"
    "       entseg-convert export label-maps DB -o DIR\n"
    "\n"
    "Writes a store in an outside format; importing the output again gives the same masks.\n"
    "  coco-panoptic   JSON + RGB id PNGs (in DIR, default OUT without .json); predictions\n"
    "                  carry \"score\" in segments_info. Overlapping instance GT is refused.\n"
    "  coco-instances  compressed RLE strings (equal to pycocotools'); ground truth as\n"
    "                  {images, annotations, categories}, predictions as a results list.\n"
    "  label-maps      one id map per image (16-bit PNG, 32-bit TIFF above 65535 ids);\n"
    "                  predictions also DIR/scores.json. Crowd regions are left out.\n";

int es_cmd_export(int argc, char **argv) {
    const char *out = NULL, *png_dir = NULL;
    int replace = 0;
    const char *pos[2] = {0};
    size_t npos = 0;
    es_cli_opt opts[] = {{"--out", "-o", &out, NULL}, {"--png-dir", NULL, &png_dir, NULL}, {"--replace", NULL, NULL, &replace}, {0}};
    int code = es_cli_parse(argc, argv, opts, usage, NULL, pos, 2, &npos);
    if (code >= 0) return code;
    if (npos != 2) {
        es_cli_error(argv[0], "wants a format and a store (see entseg-convert export --help)");
        return 2;
    }
    if (!es_cli_require(argv[0], out, "-o")) return 2;
    es_export_format f;
    if (!strcmp(pos[0], "coco-panoptic")) f = ES_EXPORT_COCO_PANOPTIC;
    else if (!strcmp(pos[0], "coco-instances")) f = ES_EXPORT_COCO_INSTANCES;
    else if (!strcmp(pos[0], "label-maps")) f = ES_EXPORT_LABEL_MAPS;
    else {
        fprintf(stderr, "entseg-convert export: unknown format '%s' (coco-panoptic, coco-instances, label-maps)\n", pos[0]);
        return 2;
    }
    es_export_report rep = {0};
    es_error err = {0};
    int rc = es_export(f, pos[1], out, png_dir, replace, &rep, &err);
    if (rc) {
        fprintf(stderr, "entseg-convert export: error: %s\n", err.msg);
        return 1;
    }
    if (rep.crowd_left_out)
        fprintf(stderr, "entseg-convert export: warning: %lld crowd regions left out (a label map cannot hold them)\n",
                (long long)rep.crowd_left_out);
    fprintf(stderr, "entseg-convert export: wrote %s: %lld images, %lld entities\n", out, (long long)rep.images,
            (long long)rep.entities);
    return 0;
}
