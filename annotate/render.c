/* render.c: entities drawn over their image (see render.h). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/store.h"
#include "match.h"
#include "raster.h"
#include "render.h"
#include "vocab.h"

static const es_rgb TP = {40, 200, 70}, FP = {230, 40, 40}, MISS = {255, 150, 0};

/* Loads the image file into canvas when it exists and has the right size. */
static int load_background(es_pixels *canvas, const es_image *img, const char *db) {
    if (!img->path || !*img->path) return 0;
    es_pixels px = ES_PIXELS_EMPTY;
    if (es_image_read(img->path, 0, &px, NULL)) {
        char *copy = strdup(db), full[4096];
        if (!copy) return 0;
        snprintf(full, sizeof full, "%s/%s", dirname(copy), img->path);
        free(copy);
        if (img->path[0] == '/' || es_image_read(full, 0, &px, NULL)) return 0;
    }
    int ok = px.width == canvas->width && px.height == canvas->height && (px.depth == 1 || px.depth == 2);
    if (ok) {
        size_t n = (size_t)px.width * px.height;
        uint8_t *out = canvas->data;
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) {
                uint32_t ch = px.channels >= 3 ? (uint32_t)c : 0; /* gray(+alpha): replicate */
                size_t at = i * px.channels + ch;
                out[i * 3 + c] = px.depth == 1 ? ((const uint8_t *)px.data)[at] : (uint8_t)(((const uint16_t *)px.data)[at] >> 8);
            }
    }
    es_pixels_free(&px);
    return ok;
}

/* Fill, boundary (a pixel with a 4-neighbour outside the mask or the image) and hatching. */
static void draw_mask(es_pixels *canvas, const uint8_t *m, es_rgb fill, double alpha, int hatch) {
    int w = (int)canvas->width, h = (int)canvas->height;
    es_rgb edge = {(uint8_t)(fill.r * 3 / 5), (uint8_t)(fill.g * 3 / 5), (uint8_t)(fill.b * 3 / 5)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!m[(size_t)y * w + x]) continue;
            int border = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !m[(size_t)y * w + x - 1] ||
                         !m[(size_t)y * w + x + 1] || !m[(size_t)(y - 1) * w + x] || !m[(size_t)(y + 1) * w + x];
            if (border) es_draw_pixel(canvas, x, y, hatch ? fill : edge);
            else if (!hatch) es_draw_blend(canvas, x, y, fill, alpha);
            else if ((x + y) % 6 == 0) es_draw_blend(canvas, x, y, fill, 0.8);
        }
}

/* A mask pixel near the centre of its box (for a label). */
static void label_point(const uint8_t *m, int w, int h, const double bbox[4], int *px, int *py) {
    int cx = (int)(bbox[0] + bbox[2] / 2), cy = (int)(bbox[1] + bbox[3] / 2);
    long best = -1;
    *px = cx, *py = cy;
    for (int y = (int)bbox[1]; y < (int)(bbox[1] + bbox[3]) && y < h; y++)
        for (int x = (int)bbox[0]; x < (int)(bbox[0] + bbox[2]) && x < w; x++)
            if (m[(size_t)y * w + x]) {
                long d = (long)(x - cx) * (x - cx) + (long)(y - cy) * (y - cy);
                if (best < 0 || d < best) best = d, *px = x, *py = y;
            }
}

static void draw_label(es_pixels *canvas, int x, int y, const char *text, int scale) {
    int tw = es_text_width(text, scale), th = 8 * scale;
    x -= tw / 2;
    y -= th / 2;
    /* keep the label on the canvas */
    if (x + tw + 2 > (int)canvas->width) x = (int)canvas->width - tw - 2;
    if (y + th + 2 > (int)canvas->height) y = (int)canvas->height - th - 2;
    if (x < 2) x = 2;
    if (y < 2) y = 2;
    es_draw_rect(canvas, x - 2, y - 2, x + tw + 1, y + th + 1, (es_rgb){20, 20, 20});
    es_draw_text(canvas, x, y, text, scale, (es_rgb){255, 255, 255});
}

typedef struct scene {
    es_entity *ents;
    size_t n;
    es_label *labels;
    size_t n_labels;
} scene;

static void scene_free(scene *sc) {
    es_entities_free(sc->ents, sc->n);
    es_labels_free(sc->labels, sc->n_labels);
    memset(sc, 0, sizeof *sc);
}

static int scene_load(es_store *s, int64_t image_id, scene *sc, es_error *err) {
    memset(sc, 0, sizeof *sc);
    ES_CHECK(es_store_read_entities(s, image_id, &sc->ents, &sc->n, err));
    return es_store_labels(s, &sc->labels, &sc->n_labels, err);
}

static int by_score(const void *a, const void *b) {
    const es_entity *p = *(const es_entity *const *)a, *q = *(const es_entity *const *)b;
    return (p->score > q->score) - (p->score < q->score);
}

int es_render(const char *db, const char *image, const char *out_png, const es_render_options *opt,
              es_render_info *info, es_error *err) {
    memset(info, 0, sizeof *info);
    double alpha = opt->alpha > 0 ? opt->alpha : 0.45;
    es_store *s = NULL, *ps = NULL;
    es_image img = {0};
    scene gt = {0}, pr = {0};
    es_pixels canvas = ES_PIXELS_EMPTY;
    uint8_t *m = NULL;
    int64_t image_id, *gm = NULL, *pm = NULL;
    es_rle *gmasks = NULL, *pmasks = NULL;
    es_entity **porder = NULL;
    int rc = es_store_open(db, ES_OPEN_READ, &s, err);
    if (!rc) rc = es_resolve_image(s, image, &image_id, err);
    if (!rc) rc = es_store_get_image(s, image_id, &img, err);
    if (!rc) rc = scene_load(s, image_id, &gt, err);
    if (!rc && opt->pred_db) {
        int64_t pid = ES_NONE;
        rc = es_store_open(opt->pred_db, ES_OPEN_READ, &ps, err);
        if (!rc) rc = es_store_find_image_by_name(ps, img.name, &pid, err);
        if (!rc && pid == ES_NONE)
            rc = es_error_set(err, ES_ERR_INVALID, "%s: no image named '%s'", opt->pred_db, img.name);
        if (!rc) rc = scene_load(ps, pid, &pr, err);
    }
    if (!rc) rc = es_pixels_alloc(&canvas, img.width, img.height, 3, 1, err);
    size_t hw = (size_t)img.width * img.height;
    if (!rc && !(m = malloc(hw))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (rc) goto done;
    memset(canvas.data, 128, hw * 3);
    info->width = img.width, info->height = img.height;
    info->background_found = load_background(&canvas, &img, db);
    if (opt->pred_db) { /* grey picture: the three error colours must stand out */
        uint8_t *px = canvas.data;
        for (size_t i = 0; i < hw; i++) {
            uint8_t g = (uint8_t)(40 + (299 * px[3 * i] + 587 * px[3 * i + 1] + 114 * px[3 * i + 2]) / 1000 * 3 / 5);
            px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = g;
        }
    }
    int scale = img.width > 1200 || img.height > 1200 ? 2 : 1;

    /* crowd regions first, under everything */
    for (size_t i = 0; i < gt.n; i++)
        if (gt.ents[i].is_crowd) {
            es_rle_decode(&gt.ents[i].mask, m);
            draw_mask(&canvas, m, (es_rgb){200, 200, 200}, alpha, 1);
            info->crowd++;
        }
    if (!opt->pred_db) {
        for (size_t i = 0; i < gt.n; i++) {
            if (gt.ents[i].is_crowd) continue;
            es_rle_decode(&gt.ents[i].mask, m);
            draw_mask(&canvas, m, es_palette((uint64_t)gt.ents[i].id), alpha, 0);
            info->entities++;
        }
    } else {
        gmasks = calloc(gt.n + 1, sizeof *gmasks);
        pmasks = calloc(pr.n + 1, sizeof *pmasks);
        gm = calloc(gt.n + 1, sizeof *gm);
        pm = calloc(pr.n + 1, sizeof *pm);
        porder = calloc(pr.n + 1, sizeof *porder);
        if (!gmasks || !pmasks || !gm || !pm || !porder) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            goto done;
        }
        size_t ng = 0;
        int64_t *gidx = calloc(gt.n + 1, sizeof *gidx);
        if (!gidx) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < gt.n; i++)
            if (!gt.ents[i].is_crowd) gidx[ng] = (int64_t)i, gmasks[ng++] = gt.ents[i].mask;
        /* crowd rows of the compared store are no predictions */
        size_t np = 0;
        for (size_t j = 0; j < pr.n; j++)
            if (!pr.ents[j].is_crowd) pr.ents[np++] = pr.ents[j];
            else es_rle_free(&pr.ents[j].mask);
        pr.n = np;
        for (size_t j = 0; j < pr.n; j++) pmasks[j] = pr.ents[j].mask;
        rc = es_match_greedy(gmasks, ng, pmasks, pr.n, 0.5, gm, pm, NULL, err);
        if (!rc) {
            for (size_t k = 0; k < ng; k++) /* misses under the predictions */
                if (gm[k] < 0) {
                    es_rle_decode(&gt.ents[gidx[k]].mask, m);
                    draw_mask(&canvas, m, MISS, alpha, 0);
                    info->misses++;
                }
            for (size_t j = 0; j < pr.n; j++) porder[j] = &pr.ents[j];
            qsort(porder, pr.n, sizeof *porder, by_score); /* the highest score drawn last, on top */
            for (size_t j = 0; j < pr.n; j++) {
                size_t at = (size_t)(porder[j] - pr.ents);
                es_rle_decode(&pr.ents[at].mask, m);
                draw_mask(&canvas, m, pm[at] >= 0 ? TP : FP, alpha, 0);
                if (pm[at] >= 0) info->tp++;
                else info->fp++;
            }
            info->entities = ng;
        }
        free(gidx);
        if (rc) goto done;
    }
    if (opt->labels) {
        for (size_t i = 0; i < gt.n; i++) {
            if (gt.ents[i].is_crowd) continue;
            es_rle_decode(&gt.ents[i].mask, m);
            int x, y;
            label_point(m, (int)img.width, (int)img.height, gt.ents[i].bbox, &x, &y);
            const char *name = es_label_name_of(gt.labels, gt.n_labels, gt.ents[i].label_id);
            char buf[ES_LABEL_NAME_MAX + 32];
            if (name) snprintf(buf, sizeof buf, "%s", name);
            else snprintf(buf, sizeof buf, "#%lld", (long long)gt.ents[i].id);
            draw_label(&canvas, x, y, buf, scale);
        }
    }
    if (opt->pred_db) {
        char legend[96];
        int x = 4, y = 4;
        es_draw_rect(&canvas, 0, 0, es_text_width("TP 0000  FP 0000  MISS 0000", scale) + 12, 8 * scale + 8,
                     (es_rgb){20, 20, 20});
        snprintf(legend, sizeof legend, "TP %zu ", info->tp);
        x = es_draw_text(&canvas, x, y, legend, scale, TP);
        snprintf(legend, sizeof legend, " FP %zu ", info->fp);
        x = es_draw_text(&canvas, x, y, legend, scale, FP);
        snprintf(legend, sizeof legend, " MISS %zu", info->misses);
        es_draw_text(&canvas, x, y, legend, scale, MISS);
    }
    rc = es_png_write(out_png, &canvas, err);
done:
    free(m);
    free(gm);
    free(pm);
    free(gmasks);
    free(pmasks);
    free(porder);
    es_pixels_free(&canvas);
    scene_free(&gt);
    scene_free(&pr);
    es_image_clear(&img);
    es_store_close(s);
    es_store_close(ps);
    return rc;
}
