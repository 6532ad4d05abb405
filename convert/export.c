/* export.c: store -> outside formats, so that every round trip (in -> out -> in) gives the
 * same masks:
 *   - coco-panoptic: OUT.json + one RGB PNG per image (id = R + 256 G + 65536 B) in a
 *     directory; segment ids are the source segment ids when they are valid and distinct
 *     in the image, else 1..n; predictions carry "score" in segments_info;
 *   - coco-instances: ground truth as {images, annotations, categories} with compressed RLE
 *     strings (byte-equal to pycocotools'), predictions as a COCO results list;
 *   - label-maps: one id map per image (16-bit gray PNG, or 32-bit TIFF when an id exceeds
 *     65535), predictions also a scores JSON ({"<image>": {"<id>": score}}).
 * Image ids written are the source ids when known, else the store ids; category_id is the
 * source category (1 = "entity" when the store has none). Crowd regions have no place in a
 * label map and are left out there (counted in a warning).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_internal.h"
#include "entseg/image.h"
#include "entseg/rle.h"

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v) {
    if (v == floor(v) && fabs(v) < 1e15) fprintf(f, "%lld", (long long)v);
    else fprintf(f, "%.17g", v);
}

typedef struct exp_ctx {
    es_export_format format;
    const char *out, *dir;
    FILE *f;               /* the JSON being written */
    int pred, first_item, has_categories;
    int64_t images, entities, crowd_left_out;
    char *scores_path;
    FILE *scores;          /* label-maps predictions */
    int first_score;
    uint32_t *labels;      /* scratch label map */
    size_t labels_cap;
} exp_ctx;

static int64_t out_image_id(const es_image *img) {
    return img->source_id != ES_NONE ? img->source_id : img->id;
}

static int64_t out_category(const exp_ctx *x, const es_entity *e) {
    return (x->has_categories && e->category_id != ES_NONE) ? e->category_id : 1;
}

/* Segment ids for one image: source ids if valid (1..2^24-1) and distinct, else 1..n. */
static void segment_ids(const es_entity *ents, size_t n, uint32_t *ids, uint32_t max_id) {
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        int64_t s = ents[i].source_segment_id;
        if (s < 1 || s > (int64_t)max_id) ok = 0;
        for (size_t j = 0; j < i && ok; j++)
            if (ents[j].source_segment_id == s) ok = 0;
    }
    for (size_t i = 0; i < n; i++) ids[i] = ok ? (uint32_t)ents[i].source_segment_id : (uint32_t)(i + 1);
}

/* Paints the entities (crowd included unless skip_crowd) into x->labels; overlaps are an
 * error (a panoptic PNG / label map holds one id per pixel). */
static int paint_labels(exp_ctx *x, const es_image *img, const es_entity *ents, size_t n, const uint32_t *ids,
                        int skip_crowd, es_error *err) {
    size_t npx = (size_t)img->width * img->height;
    if (npx > x->labels_cap) {
        free(x->labels);
        x->labels = malloc(npx * sizeof *x->labels);
        x->labels_cap = x->labels ? npx : 0;
        if (!x->labels) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    memset(x->labels, 0, npx * sizeof *x->labels);
    for (size_t i = 0; i < n; i++) {
        if (skip_crowd && ents[i].is_crowd) continue;
        /* walk the column-major runs directly: (x, y) advances down each column */
        const es_rle *r = &ents[i].mask;
        uint64_t pos = 0;
        for (uint32_t k = 0; k < r->m; k++) {
            if (k & 1) {
                uint32_t xcol = (uint32_t)(pos / img->height), yrow = (uint32_t)(pos % img->height);
                for (uint32_t c = 0; c < r->cnts[k]; c++) {
                    uint32_t *dst = &x->labels[(size_t)yrow * img->width + xcol];
                    if (*dst)
                        return es_error_set(err, ES_ERR_OVERLAP,
                                            "image %s: entities overlap at pixel (%u, %u): a panoptic PNG / label map "
                                            "holds one id per pixel",
                                            img->name, xcol, yrow);
                    *dst = ids[i];
                    if (++yrow == img->height) {
                        yrow = 0;
                        xcol++;
                    }
                }
            }
            pos += r->cnts[k];
        }
    }
    return ES_OK;
}

static int write_panoptic_image(exp_ctx *x, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    segment_ids(ents, n, ids, 0xFFFFFF);
    int rc = paint_labels(x, img, ents, n, ids, 0, err);
    char pngname[1100];
    snprintf(pngname, sizeof pngname, "%s.png", img->name);
    if (!rc) {
        es_pixels px = ES_PIXELS_EMPTY;
        rc = es_pixels_alloc(&px, img->width, img->height, 3, 1, err);
        if (!rc) {
            uint8_t *d = px.data;
            size_t npx = (size_t)img->width * img->height;
            for (size_t p = 0; p < npx; p++) {
                uint32_t v = x->labels[p];
                d[3 * p] = v & 255;
                d[3 * p + 1] = (v >> 8) & 255;
                d[3 * p + 2] = (v >> 16) & 255;
            }
            char *path = es_path_join(x->dir, pngname);
            rc = path ? es_png_write(path, &px, err) : es_error_set(err, ES_ERR_NOMEM, "out of memory");
            free(path);
        }
        es_pixels_free(&px);
    }
    if (!rc) {
        fprintf(x->f, "%s{\"image_id\": %lld, \"file_name\": ", x->first_item ? "" : ",\n", (long long)out_image_id(img));
        json_string(x->f, pngname);
        fprintf(x->f, ", \"segments_info\": [");
        for (size_t i = 0; i < n; i++) {
            const es_entity *e = &ents[i];
            double area = (!x->pred && !isnan(e->declared_area)) ? e->declared_area : (double)e->area;
            fprintf(x->f, "%s{\"id\": %u, \"category_id\": %lld, \"iscrowd\": %d, \"area\": ", i ? ", " : "", ids[i],
                    (long long)out_category(x, e), e->is_crowd);
            json_number(x->f, area);
            fprintf(x->f, ", \"bbox\": [%.17g, %.17g, %.17g, %.17g]", e->bbox[0], e->bbox[1], e->bbox[2], e->bbox[3]);
            if (x->pred) {
                fprintf(x->f, ", \"score\": ");
                json_number(x->f, e->score);
            }
            fprintf(x->f, "}");
        }
        fprintf(x->f, "]}");
        x->first_item = 0;
    }
    free(ids);
    return rc;
}

static int write_instances_image(exp_ctx *x, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    for (size_t i = 0; i < n; i++) {
        const es_entity *e = &ents[i];
        char *counts = NULL;
        ES_CHECK(es_rle_to_string(&e->mask, &counts, err));
        fprintf(x->f, "%s{", x->first_item ? "" : ",\n");
        x->first_item = 0;
        if (!x->pred) {
            int64_t id = e->source_segment_id != ES_NONE ? e->source_segment_id : e->id;
            fprintf(x->f, "\"id\": %lld, ", (long long)id);
        }
        fprintf(x->f, "\"image_id\": %lld, \"category_id\": %lld, \"segmentation\": {\"size\": [%u, %u], \"counts\": ",
                (long long)out_image_id(img), (long long)out_category(x, e), img->height, img->width);
        json_string(x->f, counts);
        free(counts);
        fprintf(x->f, "}");
        if (x->pred) {
            fprintf(x->f, ", \"score\": ");
            json_number(x->f, e->score);
        } else {
            double area = !isnan(e->declared_area) ? e->declared_area : (double)e->area;
            fprintf(x->f, ", \"area\": ");
            json_number(x->f, area);
            fprintf(x->f, ", \"bbox\": [%.17g, %.17g, %.17g, %.17g], \"iscrowd\": %d", e->bbox[0], e->bbox[1], e->bbox[2],
                    e->bbox[3], e->is_crowd);
        }
        fprintf(x->f, "}");
    }
    return ES_OK;
}

static int write_label_map_image(exp_ctx *x, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    /* crowd regions are not entities and a label map has no way to mark them */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) x->crowd_left_out += ents[i].is_crowd;
    segment_ids(ents, n, ids, 0xFFFFFFFEu);
    uint32_t max_id = 0;
    for (size_t i = 0; i < n; i++)
        if (!ents[i].is_crowd && ids[i] > max_id) max_id = ids[i];
    int rc = paint_labels(x, img, ents, n, ids, 1, err);
    char name[1100];
    snprintf(name, sizeof name, "%s.%s", img->name, max_id > 65535 ? "tif" : "png");
    if (!rc) {
        es_pixels px = ES_PIXELS_EMPTY;
        uint32_t depth = max_id > 65535 ? 4 : 2;
        rc = es_pixels_alloc(&px, img->width, img->height, 1, depth, err);
        if (!rc) {
            size_t npx = (size_t)img->width * img->height;
            if (depth == 2)
                for (size_t p = 0; p < npx; p++) ((uint16_t *)px.data)[p] = (uint16_t)x->labels[p];
            else
                memcpy(px.data, x->labels, npx * sizeof *x->labels);
            char *path = es_path_join(x->dir, name);
            if (!path) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            else rc = depth == 2 ? es_png_write(path, &px, err) : es_tiff_write(path, &px, err);
            free(path);
        }
        es_pixels_free(&px);
    }
    if (!rc && x->scores) {
        fprintf(x->scores, "%s", x->first_score ? "" : ",\n");
        x->first_score = 0;
        json_string(x->scores, img->name);
        fprintf(x->scores, ": {");
        for (size_t i = 0; i < n; i++) {
            if (ents[i].is_crowd) continue;
            fprintf(x->scores, "%s\"%u\": ", kept++ ? ", " : "", ids[i]);
            json_number(x->scores, ents[i].score);
        }
        fprintf(x->scores, "}");
    }
    free(ids);
    return rc;
}

static int write_image_json(FILE *f, const es_image *img, int first) {
    fprintf(f, "%s{\"id\": %lld, \"file_name\": ", first ? "" : ",\n", (long long)out_image_id(img));
    char buf[1100];
    if (!img->path) snprintf(buf, sizeof buf, "%s.jpg", img->name);
    json_string(f, img->path ? img->path : buf);
    fprintf(f, ", \"width\": %u, \"height\": %u}", img->width, img->height);
    return 0;
}

static int on_image(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    exp_ctx *x = ctx;
    x->images++;
    x->entities += (int64_t)n;
    int rc;
    switch (x->format) {
    case ES_EXPORT_COCO_PANOPTIC: rc = write_panoptic_image(x, img, ents, n, err); break;
    case ES_EXPORT_COCO_INSTANCES: rc = write_instances_image(x, img, ents, n, err); break;
    default: rc = write_label_map_image(x, img, ents, n, err); break;
    }
    if (!rc && x->f && ferror(x->f)) rc = es_error_set(err, ES_ERR_IO, "%s: write failed", x->out);
    return rc;
}

static int write_images_and_categories(exp_ctx *x, es_store *s, es_error *err, int categories_first_sep) {
    es_image *imgs = NULL;
    size_t ni = 0;
    ES_CHECK(es_store_images(s, &imgs, &ni, err));
    fprintf(x->f, "\"images\": [\n");
    for (size_t i = 0; i < ni; i++) write_image_json(x->f, &imgs[i], i == 0);
    fprintf(x->f, "],\n\"categories\": [\n");
    es_images_free(imgs, ni);
    es_category *cats = NULL;
    size_t nc = 0;
    ES_CHECK(es_store_categories(s, &cats, &nc, err));
    x->has_categories = nc > 0;
    if (nc == 0) fprintf(x->f, "{\"id\": 1, \"name\": \"entity\", \"supercategory\": \"entity\", \"isthing\": 1}");
    for (size_t i = 0; i < nc; i++) {
        fprintf(x->f, "%s{\"id\": %lld, \"name\": ", i ? ",\n" : "", (long long)cats[i].id);
        json_string(x->f, cats[i].name);
        if (cats[i].supercategory) {
            fprintf(x->f, ", \"supercategory\": ");
            json_string(x->f, cats[i].supercategory);
        }
        if (cats[i].isthing >= 0) fprintf(x->f, ", \"isthing\": %d", cats[i].isthing);
        fprintf(x->f, "}");
    }
    es_categories_free(cats, nc);
    fprintf(x->f, "]%s\n", categories_first_sep ? "," : "");
    return ES_OK;
}

int es_export(es_export_format format, const char *db, const char *out, const char *png_dir, int replace,
              es_export_report *rep, es_error *err) {
    exp_ctx x;
    memset(&x, 0, sizeof x);
    x.format = format;
    x.out = out;
    x.first_item = 1;
    x.first_score = 1;
    es_store *s = NULL;
    ES_CHECK(es_store_open(db, ES_OPEN_READ, &s, err));
    x.pred = es_store_get_kind(s) == ES_STORE_PRED;
    int rc = ES_OK;
    char *tmp = NULL, *dir_alloc = NULL;
    if (format != ES_EXPORT_LABEL_MAPS && !replace && es_file_exists(out))
        rc = es_error_set(err, ES_ERR_IO, "%s: already exists (use --replace to overwrite it)", out);
    if (!rc && format == ES_EXPORT_COCO_PANOPTIC && es_store_overlapping_instances(s))
        rc = es_error_set(err, ES_ERR_OVERLAP, "%s: overlapping instance ground truth cannot be written as COCO panoptic",
                          db);
    if (!rc && format == ES_EXPORT_COCO_PANOPTIC) {
        dir_alloc = png_dir ? es_strdup_or_null(png_dir) : es_path_with_ext(out, "");
        x.dir = dir_alloc;
        rc = x.dir ? es_mkdir_p(x.dir, err) : es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    if (!rc && format == ES_EXPORT_LABEL_MAPS) {
        x.dir = out;
        rc = es_mkdir_p(out, err);
        if (!rc && x.pred) {
            x.scores_path = es_path_join(out, "scores.json");
            x.scores = x.scores_path ? fopen(x.scores_path, "wb") : NULL;
            if (!x.scores) rc = es_error_set(err, ES_ERR_IO, "%s: cannot write", x.scores_path ? x.scores_path : out);
            else fprintf(x.scores, "{\n");
        }
    }
    if (!rc && format != ES_EXPORT_LABEL_MAPS) {
        /* written under a temporary name, renamed on success */
        size_t n = strlen(out) + 16;
        tmp = malloc(n);
        if (tmp) snprintf(tmp, n, "%s.tmp", out);
        x.f = tmp ? fopen(tmp, "wb") : NULL;
        if (!x.f) rc = es_error_set(err, ES_ERR_IO, "%s: cannot write", out);
    }
    if (!rc && format == ES_EXPORT_COCO_PANOPTIC) {
        fprintf(x.f, "{\n");
        rc = write_images_and_categories(&x, s, err, 1);
        fprintf(x.f, "\"annotations\": [\n");
    } else if (!rc && format == ES_EXPORT_COCO_INSTANCES) {
        if (x.pred) {
            es_category *cats = NULL;
            size_t nc = 0;
            rc = es_store_categories(s, &cats, &nc, err);
            x.has_categories = nc > 0;
            es_categories_free(cats, nc);
            fprintf(x.f, "[\n");
        } else {
            fprintf(x.f, "{\n");
            rc = write_images_and_categories(&x, s, err, 1);
            fprintf(x.f, "\"annotations\": [\n");
        }
    }
    if (!rc) rc = es_store_scan(s, ES_NONE, ES_NONE, 0, on_image, &x, err);
    if (!rc && x.f) {
        fprintf(x.f, (format == ES_EXPORT_COCO_INSTANCES && x.pred) ? "\n]\n" : "\n]\n}\n");
        if (fclose(x.f) != 0) rc = es_error_set(err, ES_ERR_IO, "%s: write failed", out);
        x.f = NULL;
        if (!rc && rename(tmp, out) != 0) rc = es_error_set(err, ES_ERR_IO, "%s: cannot move into place", out);
    }
    if (x.f) fclose(x.f);
    if (rc && tmp) remove(tmp);
    if (x.scores) {
        fprintf(x.scores, "\n}\n");
        if (fclose(x.scores) != 0 && !rc) rc = es_error_set(err, ES_ERR_IO, "%s: write failed", x.scores_path);
    }
    if (rep) {
        rep->images = x.images;
        rep->entities = x.entities;
        rep->crowd_left_out = format == ES_EXPORT_LABEL_MAPS ? x.crowd_left_out : 0;
    }
    free(tmp);
    free(dir_alloc);
    free(x.scores_path);
    free(x.labels);
    es_store_close(s);
    return rc;
}
