/* annotate/render.h: a picture of one image's entities, for a person to check at a glance.
 *
 * The background is the image file the store names (as given, else relative to the
 * store's folder); when it is missing, unreadable or of another size, a neutral grey.
 * Entities are drawn as translucent fills (a colour per entity id) with solid 1-px
 * boundaries; crowd / ignore regions as grey hatching. With --labels each entity gets
 * its label (or #id) at an inside point near its box centre.
 *
 * With a prediction store (pred_db; images pair by name), ground truth and predictions are
 * matched one-to-one at IoU >= 0.5 (match.h) and drawn over a grey version of the image: true positives green,
 * false positives red, misses (unmatched ground truth) orange, with a legend. */
#ifndef ENTSEG_ANNOTATE_RENDER_H
#define ENTSEG_ANNOTATE_RENDER_H

#include <stddef.h>

#include "entseg/error.h"

typedef struct es_render_options {
    int labels;            /* draw label names */
    const char *pred_db;   /* NULL: plain entities */
    double alpha;          /* fill opacity; 0 = 0.45 */
} es_render_options;

typedef struct es_render_info {
    unsigned width, height;
    int background_found;  /* 0: neutral background */
    size_t entities, crowd;
    size_t tp, fp, misses; /* with pred_db */
} es_render_info;

/* image: id or name in db. Writes an RGB PNG of the image's size to out_png. */
int es_render(const char *db, const char *image, const char *out_png, const es_render_options *opt,
              es_render_info *info, es_error *err);

#endif
