/* test_loader.c: the K-Net data pipeline (train/data) on small hand-made stores.
 *  - the stride-4 mask grid read from the runs equals a slow reference that decodes the
 *    mask and counts every cell (random masks, sizes, flips, up- and downsampling);
 *  - the bilinear resize equals a per-pixel double-precision reference;
 *  - predicted grids rescaled to the original size (one separable map) equal K-Net's
 *    rescale_masks done step by step (upsample to the padded input, crop, resize);
 *  - batch shapes: H, W multiples of pad_divisor, every image resized keeping its aspect
 *    ratio (mmcv rescale_size), long side <= max_size, short side a drawn scale;
 *  - masks line up with the pixels: the centroid of the red entity's cells sits on the red
 *    pixels of the resized image, flipped together; padding is zero in images and grids;
 *  - the batches are identical for 0, 1, 2 loader threads and with or without the cache;
 *  - a missing store, a truncated image and a file whose size disagrees with the store
 *    each give one error line naming the file;
 *  - the data keys of the config (scales, max_size, ..., the image_size alias). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/loader.h"
#include "data/transforms.h"
#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test.h"

static es_error err;

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

/* ---------------------------------------------------------------------------------- */
/* References                                                                           */

/* The grid rule of transforms.h, cell by cell on the decoded mask. */
static void grid_reference(const uint8_t *m, int H, int W, int nw, int nh, int flip, float *out, int hm, int wm) {
    for (int j = 0; j < hm; j++)
        for (int i = 0; i < wm; i++) {
            out[j * wm + i] = 0;
            int r0 = 4 * j, r1 = 4 * j + 4 < nh ? 4 * j + 4 : nh;
            int c0 = 4 * i, c1 = 4 * i + 4 < nw ? 4 * i + 4 : nw;
            if (r0 >= nh || c0 >= nw) continue;
            if (flip) {
                int t = nw - c1;
                c1 = nw - c0;
                c0 = t;
            }
            int y0 = r0 * H / nh, y1 = r1 * H / nh, x0 = c0 * W / nw, x1 = c1 * W / nw;
            if (y1 <= y0) y1 = y0 + 1;
            if (x1 <= x0) x1 = x0 + 1;
            int cnt = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) cnt += m[y * W + x];
            out[j * wm + i] = 2 * cnt >= (y1 - y0) * (x1 - x0);
        }
}

static void test_grid_matches_reference(void) {
    for (int trial = 0; trial < 400; trial++) {
        int H = 1 + (int)rnd(60), W = 1 + (int)rnd(60);
        uint8_t *m = calloc((size_t)H * W, 1);
        int shapes = 1 + (int)rnd(4);
        for (int s = 0; s < shapes; s++) { /* rectangles and a diagonal band */
            int x0 = (int)rnd((uint32_t)W), y0 = (int)rnd((uint32_t)H);
            int x1 = x0 + 1 + (int)rnd((uint32_t)(W - x0)), y1 = y0 + 1 + (int)rnd((uint32_t)(H - y0));
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) m[y * W + x] = s == 3 ? (x + y) % 3 == 0 : 1;
        }
        if (trial % 17 == 0) memset(m, trial % 2, (size_t)H * W);
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, m, (uint32_t)H, (uint32_t)W, &err), &err);
        int nw = 1 + (int)rnd(90), nh = 1 + (int)rnd(90), flip = (int)rnd(2);
        int hm = (nh + 3) / 4 + (int)rnd(4), wm = (nw + 3) / 4 + (int)rnd(4);
        float *fast = malloc(sizeof(float) * hm * wm), *slow = malloc(sizeof(float) * hm * wm);
        long set = knet_mask_to_grid(&r, nw, nh, flip, fast, hm, wm);
        grid_reference(m, H, W, nw, nh, flip, slow, hm, wm);
        long want = 0;
        for (int k = 0; k < hm * wm; k++) want += slow[k] > 0;
        CHECK_EQ_INT(set, want);
        int same = !memcmp(fast, slow, sizeof(float) * hm * wm);
        CHECK_MSG(same, "trial %d: %dx%d -> %dx%d flip %d grid %dx%d", trial, W, H, nw, nh, flip, wm, hm);
        es_rle_free(&r);
        free(m);
        free(fast);
        free(slow);
        if (!same) break;
    }
}

static void test_resize_matches_reference(void) {
    const float mean[3] = {123.675f, 116.28f, 103.53f}, sd[3] = {58.395f, 57.12f, 57.375f};
    const int cases[][6] = {/* w, h, channels, depth, nw, nh */
                            {37, 23, 3, 1, 20, 12}, {16, 16, 1, 1, 40, 40}, {9, 30, 4, 1, 9, 30},
                            {50, 40, 3, 2, 31, 25}, {64, 48, 2, 1, 128, 96}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int *cs = cases[k];
        es_pixels px = ES_PIXELS_EMPTY;
        CHECK_OK(es_pixels_alloc(&px, (uint32_t)cs[0], (uint32_t)cs[1], (uint32_t)cs[2], (uint32_t)cs[3], &err), &err);
        size_t ns = (size_t)cs[0] * cs[1] * cs[2];
        for (size_t i = 0; i < ns; i++) {
            if (cs[3] == 1) ((uint8_t *)px.data)[i] = (uint8_t)rnd(256);
            else ((uint16_t *)px.data)[i] = (uint16_t)rnd(65536);
        }
        int nw = cs[4], nh = cs[5], H = knet_round_up(nh, 32), W = knet_round_up(nw, 32);
        for (int flip = 0; flip < 2; flip++) {
            float *out = malloc(sizeof(float) * 3 * H * W);
            CHECK_OK(knet_pixels_resize(&px, nw, nh, flip, out, H, W, &err), &err);
            double worst = 0;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        double want = 0;
                        if (y < nh && x < nw) {
                            int xs = flip ? nw - 1 - x : x;
                            double sy = (y + 0.5) * cs[1] / nh - 0.5, sx = (xs + 0.5) * cs[0] / nw - 0.5;
                            if (sy < 0) sy = 0;
                            if (sx < 0) sx = 0;
                            int y0 = (int)sy, x0 = (int)sx, y1 = y0 + 1 < cs[1] ? y0 + 1 : cs[1] - 1,
                                x1 = x0 + 1 < cs[0] ? x0 + 1 : cs[0] - 1;
                            double fy = sy - y0, fx = sx - x0, v[4];
                            int ys[2] = {y0, y1}, xx[2] = {x0, x1}, cc = cs[2] >= 3 ? c : 0;
                            for (int q = 0; q < 4; q++) {
                                size_t i = ((size_t)ys[q / 2] * cs[0] + xx[q % 2]) * cs[2] + cc;
                                v[q] = cs[3] == 1 ? ((uint8_t *)px.data)[i] : ((uint16_t *)px.data)[i] / 257.0;
                            }
                            double val = (1 - fy) * ((1 - fx) * v[0] + fx * v[1]) + fy * ((1 - fx) * v[2] + fx * v[3]);
                            want = (val - mean[c]) / sd[c];
                        }
                        double d = fabs(out[((size_t)c * H + y) * W + x] - want);
                        if (d > worst) worst = d;
                    }
            CHECK_MSG(worst < 1e-4, "case %zu flip %d: worst %g", k, flip, worst);
            free(out);
        }
        es_pixels_free(&px);
    }
}

/* F.interpolate(mode='bilinear', align_corners=False) of an h x w map to oh x ow. */
static void interp_reference(const double *in, int h, int w, double *out, int oh, int ow) {
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            double sy = (y + 0.5) * h / oh - 0.5, sx = (x + 0.5) * w / ow - 0.5;
            if (sy < 0) sy = 0;
            if (sx < 0) sx = 0;
            int y0 = (int)sy, x0 = (int)sx, y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            double fy = sy - y0, fx = sx - x0;
            out[y * ow + x] = (1 - fy) * ((1 - fx) * in[y0 * w + x0] + fx * in[y0 * w + x1]) +
                              fy * ((1 - fx) * in[y1 * w + x0] + fx * in[y1 * w + x1]);
        }
}

/* knet_mask_rescale (one separable map) against K-Net's rescale_masks done literally:
 * upsample to the padded input, crop, resize to the original size, threshold. */
static void test_rescale_matches_two_step_reference(void) {
    long compared = 0, on = 0;
    for (int trial = 0; trial < 200; trial++) {
        int hm = 1 + (int)rnd(12), wm = 1 + (int)rnd(12);
        int nh = 1 + (int)rnd((uint32_t)(4 * hm)), nw = 1 + (int)rnd((uint32_t)(4 * wm));
        int H = 1 + (int)rnd(70), W = 1 + (int)rnd(70);
        float *prob = malloc(sizeof(float) * hm * wm);
        double *pd = malloc(sizeof(double) * hm * wm), *up = malloc(sizeof(double) * 16 * hm * wm);
        double *crop = malloc(sizeof(double) * nh * nw), *ref = malloc(sizeof(double) * H * W);
        uint8_t *fast = malloc((size_t)H * W);
        for (int i = 0; i < hm * wm; i++) pd[i] = prob[i] = (float)rnd(1001) / 1000.0f;
        interp_reference(pd, hm, wm, up, 4 * hm, 4 * wm);
        for (int y = 0; y < nh; y++)
            for (int x = 0; x < nw; x++) crop[y * nw + x] = up[y * 4 * wm + x];
        interp_reference(crop, nh, nw, ref, H, W);
        CHECK_OK(knet_mask_rescale(prob, hm, wm, nw, nh, (uint32_t)W, (uint32_t)H, 0.5f, fast, &err), &err);
        int bad = 0;
        for (int i = 0; i < H * W; i++) {
            if (fabs(ref[i] - 0.5) < 1e-5) continue; /* float rounding may go either way */
            compared++;
            on += ref[i] > 0.5;
            bad += fast[i] != (ref[i] > 0.5);
        }
        CHECK_MSG(!bad, "trial %d: grid %dx%d, image %dx%d in it, original %dx%d: %d pixels differ", trial, wm, hm,
                  nw, nh, W, H, bad);
        free(prob), free(pd), free(up), free(crop), free(ref), free(fast);
        if (bad) break;
    }
    CHECK(on > compared / 4 && on < 3 * compared / 4);
}

/* ---------------------------------------------------------------------------------- */
/* A store of rectangles                                                                */

typedef struct rect {
    int x0, y0, x1, y1;
} rect;

/* Image i (W x H): grey, a red rectangle (entity 1), a blue one (entity 2), and a green
 * crowd region in the corner that training must skip. */
static rect red_rect(int W, int H) { return (rect){W / 8, H / 6, W / 8 + W / 3, H / 6 + H / 4}; }
static rect blue_rect(int W, int H) { return (rect){W / 2, H / 2, W - W / 10, H - H / 10}; }

static const int SIZES[][2] = {{96, 160}, {160, 96}, {200, 120}, {64, 64}, {120, 300}, {80, 100}};
#define N_IMAGES 6

static void write_png(const char *path, int W, int H) {
    es_pixels px = ES_PIXELS_EMPTY;
    CHECK_OK(es_pixels_alloc(&px, (uint32_t)W, (uint32_t)H, 3, 1, &err), &err);
    uint8_t *d = px.data;
    rect r = red_rect(W, H), b = blue_rect(W, H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = d + ((size_t)y * W + x) * 3;
            p[0] = p[1] = p[2] = 128;
            if (x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1) p[0] = 255, p[1] = 0, p[2] = 0;
            if (x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1) p[0] = 0, p[1] = 0, p[2] = 255;
            if (x < 4 && y < 4) p[0] = 0, p[1] = 255, p[2] = 0;
        }
    CHECK_OK(es_png_write(path, &px, &err), &err);
    es_pixels_free(&px);
}

static int rect_mask(es_rle *out, rect q, int W, int H) {
    uint8_t *m = calloc((size_t)W * H, 1);
    for (int y = q.y0; y < q.y1; y++)
        for (int x = q.x0; x < q.x1; x++) m[y * W + x] = 1;
    int rc = es_rle_encode(out, m, (uint32_t)H, (uint32_t)W, &err);
    free(m);
    return rc;
}

/* dir/name.db with images dir/name_i.png; returns the store path (static buffer). */
static const char *make_store(const char *name) {
    static char db[4096];
    const char *dir = es_test_tmpdir();
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    es_store *st = NULL;
    es_store_options o = {.kind = ES_STORE_GT, .creator = "test_loader", .replace = 1};
    CHECK_OK(es_store_create(db, &o, &st, &err), &err);
    for (int i = 0; i < N_IMAGES && st; i++) {
        int W = SIZES[i][0], H = SIZES[i][1];
        char file[64], full[4200], nm[32];
        snprintf(file, sizeof file, "%s_%d.png", name, i);
        snprintf(full, sizeof full, "%s/%s", dir, file);
        snprintf(nm, sizeof nm, "img%d", i);
        write_png(full, W, H);
        es_image img = {.name = nm, .width = (uint32_t)W, .height = (uint32_t)H, .path = file, .source_id = ES_NONE};
        CHECK_OK(es_store_add_image(st, &img, &err), &err);
        es_entity e[3] = {es_entity_default(), es_entity_default(), es_entity_default()};
        rect crowd = {0, 0, 4, 4};
        CHECK_OK(rect_mask(&e[0].mask, red_rect(W, H), W, H), &err);
        CHECK_OK(rect_mask(&e[1].mask, blue_rect(W, H), W, H), &err);
        CHECK_OK(rect_mask(&e[2].mask, crowd, W, H), &err);
        e[2].is_crowd = 1;
        CHECK_OK(es_store_add_entities(st, img.id, e, 3, &err), &err);
        for (int k = 0; k < 3; k++) es_rle_free(&e[k].mask);
    }
    CHECK_OK(es_store_finish(st, &err), &err);
    return db;
}

static knet_config data_config(int threads, int cache) {
    knet_config c = knet_config_tiny();
    memset(c.scales, 0, sizeof c.scales);
    c.scales[0] = 64, c.scales[1] = 80, c.scales[2] = 96;
    c.max_size = 128;
    c.pad_divisor = 32;
    c.flip = 0.5f;
    c.batch = 4;
    c.loader_threads = threads;
    c.cache_mb = cache;
    c.seed = 7;
    return c;
}

static int size_index(const knet_batch *bt, int b) { return (int)bt->image_id[b] - 1; /* ids 1.. */ }

static void test_batch_shapes(void) {
    const char *db = make_store("shapes");
    knet_config c = data_config(2, 0);
    knet_loader *l = NULL;
    CHECK_OK(knet_loader_open(&l, db, &c, 0, &err), &err);
    if (!l) return;
    CHECK_EQ_INT(knet_loader_images(l), N_IMAGES);
    CHECK_EQ_INT(knet_loader_cache_bytes(l), 0);
    int seen_scale[3] = {0, 0, 0}, seen_h[512] = {0}, flips = 0;
    for (int it = 0; it < 12; it++) {
        const knet_batch *bt = NULL;
        CHECK_OK(knet_loader_next(l, &bt, &err), &err);
        if (!bt) break;
        CHECK_EQ_INT(bt->batch, 4);
        CHECK(bt->h % 32 == 0 && bt->w % 32 == 0);
        CHECK_EQ_INT(bt->tg.hm, bt->h / 4);
        CHECK_EQ_INT(bt->tg.wm, bt->w / 4);
        CHECK_EQ_INT(bt->tg.batch, 4);
        seen_h[(bt->h / 32) * 16 + bt->w / 32] = 1;
        int maxh = 0, maxw = 0;
        for (int b = 0; b < 4; b++) {
            int i = size_index(bt, b), W0 = SIZES[i][0], H0 = SIZES[i][1];
            int nw = bt->size_w[b], nh = bt->size_h[b];
            int lo = nw < nh ? nw : nh, hi = nw < nh ? nh : nw;
            CHECK(hi <= 128);
            /* the short side is a scale unless the long side hit max_size */
            int s = -1;
            for (int k = 0; k < 3; k++) {
                int ew, eh;
                knet_resize_shape((uint32_t)W0, (uint32_t)H0, c.scales[k], 128, &ew, &eh);
                if (ew == nw && eh == nh) s = k;
            }
            CHECK_MSG(s >= 0, "image %d resized to %dx%d", i, nw, nh);
            if (s >= 0) seen_scale[s] = 1;
            CHECK(lo == c.scales[s < 0 ? 0 : s] || hi == 128);
            /* aspect ratio kept within rounding: |nw/nh - W0/H0| <= half a pixel each side */
            double ar = (double)W0 / H0;
            CHECK_MSG(fabs((double)nw / nh - ar) <= ar * (0.5 / nw + 0.5 / nh) + 1e-9, "%dx%d from %dx%d", nw, nh, W0, H0);
            if (nh > maxh) maxh = nh;
            if (nw > maxw) maxw = nw;
            flips += bt->flipped[b];
            CHECK(bt->tg.n_gt[b] == 2); /* red and blue; the crowd region is skipped */
        }
        CHECK_EQ_INT(bt->h, knet_round_up(maxh, 32));
        CHECK_EQ_INT(bt->w, knet_round_up(maxw, 32));
    }
    CHECK(seen_scale[0] && seen_scale[1] && seen_scale[2]); /* multi-scale draws all three */
    int n_h = 0;
    for (int h = 0; h < 512; h++) n_h += seen_h[h];
    CHECK(n_h >= 2); /* (H, W) changes between batches */
    CHECK(flips > 6 && flips < 42); /* 48 draws at p = 0.5 */
    knet_loader_free(l);
}

/* Centroid of the pixels where pred holds, in resized-pixel coordinates. */
static int centroid(const knet_batch *bt, int b, int red, double *cx, double *cy) {
    size_t plane = (size_t)bt->h * bt->w;
    const float *img = bt->images + (size_t)b * 3 * plane;
    double sx = 0, sy = 0;
    long n = 0;
    for (int y = 0; y < bt->size_h[b]; y++)
        for (int x = 0; x < bt->size_w[b]; x++) {
            float r = img[(size_t)y * bt->w + x], bl = img[2 * plane + (size_t)y * bt->w + x];
            int hit = red ? r > 1.5f && bl < -1.0f : bl > 1.5f && r < -1.0f;
            if (hit) sx += x + 0.5, sy += y + 0.5, n++;
        }
    if (n) *cx = sx / n, *cy = sy / n;
    return n > 0;
}

static void test_masks_follow_pixels(void) {
    const char *db = make_store("align");
    knet_config c = data_config(2, 0);
    knet_loader *l = NULL;
    CHECK_OK(knet_loader_open(&l, db, &c, 0, &err), &err);
    if (!l) return;
    int flipped_seen = 0, plain_seen = 0;
    for (int it = 0; it < 8; it++) {
        const knet_batch *bt = NULL;
        CHECK_OK(knet_loader_next(l, &bt, &err), &err);
        if (!bt) break;
        int hm = bt->tg.hm, wm = bt->tg.wm;
        for (int b = 0; b < bt->batch; b++) {
            int i = size_index(bt, b), W0 = SIZES[i][0], H0 = SIZES[i][1];
            int nw = bt->size_w[b], nh = bt->size_h[b];
            for (int k = 0; k < 2 && k < bt->tg.n_gt[b]; k++) {
                const float *m = bt->tg.masks[b] + (size_t)k * hm * wm;
                double gx = 0, gy = 0, px = 0, py = 0;
                long n = 0, outside = 0;
                for (int j = 0; j < hm; j++)
                    for (int q = 0; q < wm; q++)
                        if (m[j * wm + q] > 0) {
                            gx += 4 * q + 2, gy += 4 * j + 2, n++;
                            outside += 4 * j >= nh || 4 * q >= nw;
                        }
                CHECK(n > 0);
                CHECK_EQ_INT(outside, 0); /* the padding of the grid is 0 */
                if (!n || !centroid(bt, b, k == 0, &px, &py)) {
                    CHECK(0);
                    continue;
                }
                gx /= n, gy /= n;
                CHECK_MSG(fabs(gx - px) <= 2.5 && fabs(gy - py) <= 2.5, "image %d entity %d: cells at (%.1f, %.1f), pixels at (%.1f, %.1f)",
                          i, k, gx, gy, px, py);
                /* and both are where the rectangle should be, mirrored when flipped */
                rect r = k == 0 ? red_rect(W0, H0) : blue_rect(W0, H0);
                double ex = (r.x0 + r.x1) / 2.0 * nw / W0, ey = (r.y0 + r.y1) / 2.0 * nh / H0;
                if (bt->flipped[b]) ex = nw - ex;
                CHECK_MSG(fabs(px - ex) <= 1.5 && fabs(py - ey) <= 1.5, "image %d entity %d flip %d: pixels at (%.1f, %.1f), expected (%.1f, %.1f)",
                          i, k, bt->flipped[b], px, py, ex, ey);
            }
            *(bt->flipped[b] ? &flipped_seen : &plain_seen) += 1;
            /* padding of the image is exactly 0 */
            size_t plane = (size_t)bt->h * bt->w;
            int nonzero = 0;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < bt->h; y++)
                    for (int x = 0; x < bt->w; x++)
                        if ((y >= nh || x >= nw) && bt->images[(size_t)b * 3 * plane + ch * plane + (size_t)y * bt->w + x] != 0)
                            nonzero++;
            CHECK_EQ_INT(nonzero, 0);
        }
    }
    CHECK(flipped_seen > 0 && plain_seen > 0);
    knet_loader_free(l);
}

/* The first n batches of a loader as one byte string (images, sizes, grids). */
static unsigned char *batches_bytes(const char *db, const knet_config *c, int n, size_t *len) {
    knet_loader *l = NULL;
    CHECK_OK(knet_loader_open(&l, db, c, 0, &err), &err);
    if (!l) return NULL;
    size_t cap = 1 << 20, used = 0;
    unsigned char *buf = malloc(cap);
#define PUT(p, sz)                                              \
    do {                                                        \
        while (used + (sz) > cap) buf = realloc(buf, cap *= 2); \
        memcpy(buf + used, (p), (sz));                          \
        used += (sz);                                           \
    } while (0)
    for (int it = 0; it < n; it++) {
        const knet_batch *bt = NULL;
        CHECK_OK(knet_loader_next(l, &bt, &err), &err);
        if (!bt) break;
        int head[3] = {bt->batch, bt->h, bt->w};
        PUT(head, sizeof head);
        PUT(bt->images, sizeof(float) * bt->batch * 3 * bt->h * bt->w);
        for (int b = 0; b < bt->batch; b++) {
            int meta[5] = {(int)bt->image_id[b], bt->size_w[b], bt->size_h[b], bt->flipped[b], bt->tg.n_gt[b]};
            PUT(meta, sizeof meta);
            PUT(bt->tg.masks[b], sizeof(float) * bt->tg.n_gt[b] * bt->tg.hm * bt->tg.wm);
        }
    }
#undef PUT
    knet_loader_free(l);
    *len = used;
    return buf;
}

static void test_same_batches_any_threads_and_cache(void) {
    const char *db = make_store("det");
    /* multi-scale: streaming only */
    knet_config c0 = data_config(0, 0), c2 = data_config(2, 0), c1 = data_config(1, 1024);
    size_t n0 = 0, n1 = 0, n2 = 0;
    unsigned char *a = batches_bytes(db, &c0, 7, &n0), *b = batches_bytes(db, &c2, 7, &n2);
    CHECK(a && b && n0 == n2 && !memcmp(a, b, n0));
    unsigned char *d = batches_bytes(db, &c1, 7, &n1); /* cache_mb ignored: several scales */
    CHECK(d && n1 == n0 && !memcmp(a, d, n0));
    free(a), free(b), free(d);
    /* one scale: the cache holds the resized images; same bytes as streaming */
    memset(c0.scales, 0, sizeof c0.scales);
    c0.scales[0] = 72;
    c1.scales[1] = c1.scales[2] = c2.scales[1] = c2.scales[2] = 0;
    c1.scales[0] = c2.scales[0] = 72;
    knet_loader *l = NULL;
    CHECK_OK(knet_loader_open(&l, db, &c1, 0, &err), &err);
    CHECK(l && knet_loader_cache_bytes(l) > 0);
    knet_loader_free(l);
    a = batches_bytes(db, &c0, 9, &n0);
    b = batches_bytes(db, &c1, 9, &n1);
    c2.cache_mb = 1024;
    d = batches_bytes(db, &c2, 9, &n2);
    CHECK(a && b && d && n0 == n1 && n0 == n2 && !memcmp(a, b, n0) && !memcmp(a, d, n0));
    free(a), free(b), free(d);
    /* another seed, another order */
    c0.seed = 8;
    a = batches_bytes(db, &c0, 3, &n0);
    c0.seed = 7;
    b = batches_bytes(db, &c0, 3, &n1);
    CHECK(a && b && (n0 != n1 || memcmp(a, b, n0)));
    free(a), free(b);
}

static int one_line_naming(const char *msg, const char *needle) {
    return strstr(msg, needle) != NULL && strchr(msg, '\n') == NULL;
}

static void test_errors_name_the_file(void) {
    knet_config c = data_config(2, 0);
    knet_loader *l = NULL;
    CHECK(knet_loader_open(&l, "/nonexistent/missing.db", &c, 0, &err) != ES_OK);
    CHECK(l == NULL);
    CHECK_MSG(one_line_naming(err.msg, "missing.db"), "%s", err.msg);

    /* truncated PNG: streaming fails the batch that holds it, then keeps failing */
    const char *db = make_store("trunc");
    char png[4200];
    snprintf(png, sizeof png, "%s/trunc_2.png", es_test_tmpdir());
    FILE *f = fopen(png, "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(png, size / 2) == 0);
    c.batch = N_IMAGES; /* every image in every batch */
    CHECK_OK(knet_loader_open(&l, db, &c, 0, &err), &err);
    const knet_batch *bt = NULL;
    if (l) {
        int rc = knet_loader_next(l, &bt, &err);
        CHECK(rc != ES_OK && bt == NULL);
        CHECK_MSG(one_line_naming(err.msg, "trunc_2.png"), "%s", err.msg);
        printf("  truncated: %s\n", err.msg);
        es_error e2 = {0};
        CHECK(knet_loader_next(l, &bt, &e2) == rc && !strcmp(e2.msg, err.msg));
        knet_loader_free(l);
    }
    /* with the cache the image is read at open */
    c.scales[1] = c.scales[2] = 0;
    c.cache_mb = 1024;
    l = NULL;
    CHECK(knet_loader_open(&l, db, &c, 0, &err) != ES_OK && l == NULL);
    CHECK_MSG(one_line_naming(err.msg, "trunc_2.png"), "%s", err.msg);

    /* a file that is not the size the store records */
    db = make_store("wrong");
    snprintf(png, sizeof png, "%s/wrong_4.png", es_test_tmpdir());
    write_png(png, 50, 50);
    c.cache_mb = 0;
    CHECK_OK(knet_loader_open(&l, db, &c, 0, &err), &err);
    if (l) {
        CHECK(knet_loader_next(l, &bt, &err) == ES_ERR_INVALID);
        CHECK_MSG(one_line_naming(err.msg, "wrong_4.png") && strstr(err.msg, "50x50"), "%s", err.msg);
        printf("  wrong size: %s\n", err.msg);
        knet_loader_free(l);
    }
    /* max_images keeps the first images only: the bad one is never read */
    c.batch = 2;
    CHECK_OK(knet_loader_open(&l, db, &c, 4, &err), &err);
    if (l) {
        CHECK_EQ_INT(knet_loader_images(l), 4);
        for (int i = 0; i < 5; i++) CHECK_OK(knet_loader_next(l, &bt, &err), &err);
        knet_loader_free(l);
    }
}

static void test_config_data_keys(void) {
    knet_config c = knet_config_tiny();
    CHECK_EQ_INT(c.scales[0], 128);
    CHECK_EQ_INT(c.scales[1], 0);
    CHECK_EQ_INT(c.max_size, 128);
    CHECK_EQ_INT(c.pad_divisor, 32);
    CHECK_EQ_INT(c.test_scale, 128);
    CHECK_NEAR(c.flip, 0.5, 0);
    knet_config f = knet_config_full();
    CHECK_EQ_INT(f.scales[0], 480);
    CHECK_EQ_INT(f.scales[10], 800);
    CHECK_EQ_INT(f.scales[11], 0);
    CHECK_EQ_INT(f.max_size, 1333);
    CHECK_EQ_INT(f.test_scale, 800);
    CHECK(knet_config_set(&f, "pad_divisor=16", &err) == ES_ERR_INVALID); /* ResNet-50: 32 */
    CHECK_OK(knet_config_set(&c, "pad_divisor=16", &err), &err);
    CHECK_OK(knet_config_set(&c, "pad_divisor=32", &err), &err);
    CHECK_OK(knet_config_set(&c, "scales=64,96,128", &err), &err);
    CHECK(c.scales[0] == 64 && c.scales[1] == 96 && c.scales[2] == 128 && c.scales[3] == 0);
    CHECK(knet_config_set(&c, "scales=64,,96", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "scales=", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "scales=64,x", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "scales=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "pad_divisor=30", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "flip=1.5", &err) == ES_ERR_INVALID);
    CHECK(c.scales[0] == 64 && c.scales[1] == 96 && c.pad_divisor == 32); /* unchanged */
    /* the square alias */
    CHECK_OK(knet_config_set(&c, "image_size=64", &err), &err);
    CHECK(c.scales[0] == 64 && c.scales[1] == 0 && c.max_size == 64 && c.test_scale == 64);
    /* JSON round trip (lists as arrays); image_size is not written */
    CHECK_OK(knet_config_set(&c, "scales=480,800", &err), &err);
    CHECK_OK(knet_config_set(&c, "max_size=1333", &err), &err);
    char *json = knet_config_to_json(&c);
    CHECK(json && strstr(json, "\"scales\":[480,800]") && !strstr(json, "image_size"));
    knet_config d = knet_config_full();
    CHECK_OK(knet_config_parse_json(&d, json, &err), &err);
    CHECK(d.scales[0] == 480 && d.scales[1] == 800 && d.scales[2] == 0 && d.max_size == 1333 && d.test_scale == 64);
    free(json);
    /* an old checkpoint's config: image_size only */
    d = knet_config_tiny();
    CHECK_OK(knet_config_parse_json(&d, "{\"preset\": \"tiny\", \"image_size\": 96}", &err), &err);
    CHECK(d.scales[0] == 96 && d.scales[1] == 0 && d.max_size == 96 && d.test_scale == 96);
}

int main(void) {
    ES_RUN(test_config_data_keys);
    ES_RUN(test_grid_matches_reference);
    ES_RUN(test_resize_matches_reference);
    ES_RUN(test_rescale_matches_two_step_reference);
    ES_RUN(test_batch_shapes);
    ES_RUN(test_masks_follow_pixels);
    ES_RUN(test_same_batches_any_threads_and_cache);
    ES_RUN(test_errors_name_the_file);
    ES_TEST_END();
}
