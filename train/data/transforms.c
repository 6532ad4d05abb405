/* transforms.c: resize, flip, normalise and pad one image; put one RLE mask onto the
 * stride-4 grid of the padded image. The workload is a 800-1333 px training image from a
 * photo of up to 15000 px, on loader threads, so both paths avoid full-size float buffers:
 * pixels are interpolated straight from the decoded bytes, masks straight from the runs. */
#include "data/transforms.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const float MEAN[3] = {123.675f, 116.28f, 103.53f};
static const float STD[3] = {58.395f, 57.12f, 57.375f};

void knet_resize_shape(uint32_t w, uint32_t h, int short_side, int max_size, int *nw, int *nh) {
    double lo = w < h ? w : h, hi = w < h ? h : w;
    double a = (double)max_size / hi, b = (double)short_side / lo;
    double scale = a < b ? a : b;
    int x = (int)(w * scale + 0.5), y = (int)(h * scale + 0.5);
    *nw = x > 0 ? x : 1;
    *nh = y > 0 ? y : 1;
}

int knet_round_up(int x, int divisor) { return (x + divisor - 1) / divisor * divisor; }

void knet_batch_size(const int *nw, const int *nh, int n, int pad, int *W, int *H) {
    int w = 0, h = 0;
    for (int b = 0; b < n; b++) {
        if (nw[b] > w) w = nw[b];
        if (nh[b] > h) h = nh[b];
    }
    *W = knet_round_up(w, pad);
    *H = knet_round_up(h, pad);
}

/* Source taps of one output coordinate: half-pixel centres, clamped (cv2 INTER_LINEAR,
 * torch bilinear with align_corners=False).
 * The float expression is the one the square-only loader used, so 128 px stays bit-exact. */
static void taps(int out, int n, int src, int *i0, int *i1, float *f) {
    float s = ((float)out + 0.5f) * src / n - 0.5f;
    if (s < 0) s = 0;
    int a = (int)s;
    if (a > src - 1) a = src - 1;
    *i0 = a;
    *i1 = a + 1 < src ? a + 1 : src - 1;
    *f = s - a;
}

void knet_zero_padding(float *out, int nw, int nh, int H, int W) {
    size_t plane = (size_t)H * W;
    for (int c = 0; c < 3; c++) {
        float *p = out + (size_t)c * plane;
        for (int y = 0; y < nh && W > nw; y++) memset(p + (size_t)y * W + nw, 0, (size_t)(W - nw) * sizeof *p);
        if (H > nh) memset(p + (size_t)nh * W, 0, (size_t)(H - nh) * W * sizeof *p);
    }
}

int knet_pixels_resize(const es_pixels *px, int nw, int nh, int flip, float *out, int H, int W,
                       es_error *err) {
    int sw = (int)px->width, sh = (int)px->height, ch = (int)px->channels;
    size_t plane = (size_t)H * W;
    int *x0 = malloc((size_t)nw * 2 * sizeof *x0);
    float *fx = malloc((size_t)nw * sizeof *fx);
    int *x1 = x0 ? x0 + nw : NULL;
    if (!x0 || !fx) {
        free(x0);
        free(fx);
        return es_error_set(err, ES_ERR_NOMEM, "resize: out of memory");
    }
    for (int x = 0; x < nw; x++) {
        /* output column x shows resized column nw-1-x when flipped */
        taps(flip ? nw - 1 - x : x, nw, sw, &x0[x], &x1[x], &fx[x]);
        x0[x] *= ch;
        x1[x] *= ch;
    }
    for (int y = 0; y < nh; y++) {
        int y0, y1;
        float fy;
        taps(y, nh, sh, &y0, &y1, &fy);
        for (int c = 0; c < 3; c++) {
            int cc = ch >= 3 ? c : 0;
            float *o = out + (size_t)c * plane + (size_t)y * W;
            if (px->depth == 1) {
                const uint8_t *r0 = (const uint8_t *)px->data + (size_t)y0 * sw * ch + cc;
                const uint8_t *r1 = (const uint8_t *)px->data + (size_t)y1 * sw * ch + cc;
                for (int x = 0; x < nw; x++) {
                    float v0 = r0[x0[x]], v1 = r0[x1[x]], v2 = r1[x0[x]], v3 = r1[x1[x]];
                    float val = (1 - fy) * ((1 - fx[x]) * v0 + fx[x] * v1) + fy * ((1 - fx[x]) * v2 + fx[x] * v3);
                    o[x] = (val - MEAN[c]) / STD[c];
                }
            } else {
                const uint16_t *r0 = (const uint16_t *)px->data + (size_t)y0 * sw * ch + cc;
                const uint16_t *r1 = (const uint16_t *)px->data + (size_t)y1 * sw * ch + cc;
                for (int x = 0; x < nw; x++) {
                    float v0 = r0[x0[x]] / 257.0f, v1 = r0[x1[x]] / 257.0f;
                    float v2 = r1[x0[x]] / 257.0f, v3 = r1[x1[x]] / 257.0f;
                    float val = (1 - fy) * ((1 - fx[x]) * v0 + fx[x] * v1) + fy * ((1 - fx[x]) * v2 + fx[x] * v3);
                    o[x] = (val - MEAN[c]) / STD[c];
                }
            }
        }
    }
    knet_zero_padding(out, nw, nh, H, W);
    free(x0);
    free(fx);
    return ES_OK;
}

int knet_image_load(const char *path, uint32_t expect_w, uint32_t expect_h, int nw, int nh,
                    int flip, float *out, int H, int W, es_error *err) {
    es_pixels px = ES_PIXELS_EMPTY;
    ES_CHECK(es_image_read(path, 0, &px, err));
    int rc = ES_OK;
    if (px.width == 0 || px.height == 0 || (px.depth != 1 && px.depth != 2))
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: unsupported image (%ux%u, %u bytes per sample)",
                          path, px.width, px.height, px.depth);
    else if (expect_w && expect_h && (px.width != expect_w || px.height != expect_h))
        rc = es_error_set(err, ES_ERR_INVALID,
                          "%s: the file is %ux%u but the store says %ux%u: re-import the image",
                          path, px.width, px.height, expect_w, expect_h);
    else
        rc = knet_pixels_resize(&px, nw, nh, flip, out, H, W, err);
    es_pixels_free(&px);
    return rc;
}

/* Grid cells along one axis of `orig` pixels resized to n and padded to `cells` cells:
 * cell i covers resized pixels [4i, min(4i+4, n)) (read mirrored when flip), i.e.
 * original pixels [lo, hi); cells past n get lo = hi = 0. Returns the number of cells that
 * cover the image (ceil(n / 4), at most cells). */
static int axis_cells(int orig, int n, int cells, int flip, int *lo, int *hi) {
    const int s = KNET_MASK_STRIDE;
    int valid = 0;
    for (int i = 0; i < cells; i++) {
        int r0 = s * i, r1 = s * i + s < n ? s * i + s : n;
        if (r0 >= n) {
            lo[i] = hi[i] = 0;
            continue;
        }
        if (flip) {
            int t = n - r1;
            r1 = n - r0;
            r0 = t;
        }
        int a = (int)((int64_t)r0 * orig / n), b = (int)((int64_t)r1 * orig / n);
        if (b <= a) b = a + 1; /* upsampling: a cell narrower than one original pixel */
        lo[i] = a, hi[i] = b;
        valid = i + 1;
    }
    return valid;
}

typedef struct span {
    uint32_t y0, y1;
} span;

long knet_mask_to_grid(const es_rle *m, int nw, int nh, int flip, float *out, int hm, int wm) {
    memset(out, 0, (size_t)hm * wm * sizeof *out);
    uint32_t H = m->h, W = m->w;
    if (!H || !W || !m->m) return 0;
    int *ax = malloc((size_t)2 * (hm + wm) * sizeof *ax);
    uint32_t *colstart = malloc(((size_t)W + 1) * sizeof *colstart);
    span *sp = malloc(((size_t)m->m / 2 + 1 + W) * sizeof *sp);
    if (!ax || !colstart || !sp) {
        free(ax);
        free(colstart);
        free(sp);
        return -1;
    }
    int *ylo = ax, *yhi = ax + hm, *xlo = ax + 2 * hm, *xhi = ax + 2 * hm + wm;
    int hv = axis_cells((int)H, nh, hm, 0, ylo, yhi);
    int wv = axis_cells((int)W, nw, wm, flip, xlo, xhi);
    /* foreground runs -> per-column spans (column-major: a run may wrap columns) */
    uint32_t n = 0, next_col = 0;
    uint64_t p = 0;
    for (uint32_t k = 0; k < m->m; k++) {
        uint64_t len = m->cnts[k];
        if (k & 1) {
            for (uint64_t s = p, e = p + len; s < e;) {
                uint32_t x = (uint32_t)(s / H), y = (uint32_t)(s % H);
                uint64_t col_end = (uint64_t)(x + 1) * H, seg = (e < col_end ? e : col_end) - s;
                while (next_col <= x) colstart[next_col++] = n;
                sp[n].y0 = y, sp[n].y1 = y + (uint32_t)seg;
                n++;
                s += seg;
            }
        }
        p += len;
    }
    while (next_col <= W) colstart[next_col++] = n;
    /* covered original pixels per cell */
    for (int i = 0; i < wv; i++)
        for (int x = xlo[i]; x < xhi[i]; x++)
            for (uint32_t q = colstart[x]; q < colstart[x + 1]; q++) {
                int a = (int)sp[q].y0, b = (int)sp[q].y1;
                int lo = 0, hi = hv; /* first row cell with yhi > a (yhi is non-decreasing) */
                while (lo < hi) {
                    int mid = (lo + hi) / 2;
                    if (yhi[mid] > a) hi = mid;
                    else lo = mid + 1;
                }
                for (int j = lo; j < hv && ylo[j] < b; j++) {
                    int ov = (b < yhi[j] ? b : yhi[j]) - (a > ylo[j] ? a : ylo[j]);
                    if (ov > 0) out[(size_t)j * wm + i] += (float)ov;
                }
            }
    long set = 0;
    for (int j = 0; j < hv; j++)
        for (int i = 0; i < wv; i++) {
            float *c = &out[(size_t)j * wm + i];
            int64_t area = (int64_t)(yhi[j] - ylo[j]) * (xhi[i] - xlo[i]);
            *c = 2 * (int64_t)*c >= area ? 1.0f : 0.0f;
            set += *c > 0;
        }
    free(ax);
    free(colstart);
    free(sp);
    return set;
}

/* K-Net's rescale_masks along one axis, as one linear map: grid (cells) -> bilinear to
 * the padded input (4 * cells px) -> crop [0, valid) -> bilinear to the original size (n
 * px). Each output pixel blends at most 4 grid cells. */
typedef struct taps4 {
    int i[4];
    float w[4];
} taps4;

static void axis_taps(int n, int valid, int cells, taps4 *t) {
    for (int o = 0; o < n; o++) {
        int r[2];
        float f1, f2;
        taps(o, n, valid, &r[0], &r[1], &f1);
        for (int k = 0; k < 2; k++) {
            int g0, g1;
            taps(r[k], 4 * cells, cells, &g0, &g1, &f2);
            float wk = k ? f1 : 1 - f1;
            t[o].i[2 * k] = g0, t[o].w[2 * k] = wk * (1 - f2);
            t[o].i[2 * k + 1] = g1, t[o].w[2 * k + 1] = wk * f2;
        }
    }
}

int knet_mask_rescale(const float *prob, int hm, int wm, int nw, int nh, uint32_t W, uint32_t H,
                      float thr, uint8_t *out, es_error *err) {
    float *row = malloc((size_t)wm * sizeof *row);
    taps4 *ty = malloc((size_t)H * sizeof *ty), *tx = malloc((size_t)W * sizeof *tx);
    if (!row || !ty || !tx) {
        free(row);
        free(ty);
        free(tx);
        return es_error_set(err, ES_ERR_NOMEM, "rescale: out of memory for a %ux%u mask", W, H);
    }
    axis_taps((int)H, nh < 4 * hm ? nh : 4 * hm, hm, ty);
    axis_taps((int)W, nw < 4 * wm ? nw : 4 * wm, wm, tx);
    for (uint32_t y = 0; y < H; y++) {
        const taps4 *a = &ty[y];
        for (int i = 0; i < wm; i++)
            row[i] = a->w[0] * prob[(size_t)a->i[0] * wm + i] + a->w[1] * prob[(size_t)a->i[1] * wm + i] +
                     a->w[2] * prob[(size_t)a->i[2] * wm + i] + a->w[3] * prob[(size_t)a->i[3] * wm + i];
        for (uint32_t x = 0; x < W; x++) {
            const taps4 *b = &tx[x];
            float v = b->w[0] * row[b->i[0]] + b->w[1] * row[b->i[1]] + b->w[2] * row[b->i[2]] +
                      b->w[3] * row[b->i[3]];
            out[(size_t)y * W + x] = v > thr;
        }
    }
    free(row);
    free(ty);
    free(tx);
    return ES_OK;
}
