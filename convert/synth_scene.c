/* synth_scene.c: one synthetic image: its label map, painted from a per-image random
 * stream, then rendered (synth_render.c).
 *
 * Painting order, later layers on top:
 *   1. stuff: 1-4 bands with wavy boundaries across the image (sometimes a band reuses the
 *      first band's id, so that stuff entity is in two parts);
 *   2. void (id 0): a border strip and blobs;
 *   3. things and crowd regions, largest first, so small things stay visible: ellipses,
 *      star polygons, boxes, rings and perforated plates (holes show what is below),
 *      entities of 2-4 separate parts, straight lines and curves 1-3 px wide;
 *   4. void again: thin lines cutting through things (more disconnected entities);
 *   5. tiny entities, and every planned entity that ended up with no pixel, as 1 px on a
 *      pixel whose owner keeps at least one other pixel, so an image has exactly the
 *      planned number of entities whenever it has the room.
 * Shapes are polygons filled with the even-odd rule at pixel centres (a ring is an outer
 * and an inner contour), or 1 px Bresenham lines.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth_internal.h"

#define MAX_CONTOURS 8
#define MAX_POINTS 1024

typedef struct pt {
    double x, y;
} pt;

typedef struct shape {
    pt v[MAX_POINTS];
    int start[MAX_CONTOURS + 1]; /* contour c is v[start[c] .. start[c+1]) */
    int ncont;
} shape;

typedef struct canvas {
    uint32_t *labels; /* (h, w) */
    uint32_t w, h;
} canvas;

static void shape_begin(shape *s) {
    s->ncont = 0;
    s->start[0] = 0;
}

/* Opens a contour of n points; returns where to write them, or NULL when full. */
static pt *contour_open(shape *s, int n) {
    if (s->ncont >= MAX_CONTOURS || s->start[s->ncont] + n > MAX_POINTS) return NULL;
    pt *p = s->v + s->start[s->ncont];
    s->ncont++;
    s->start[s->ncont] = s->start[s->ncont - 1] + n;
    return p;
}

static int points_for(double radius) {
    int n = (int)(radius * 0.7);
    return n < 12 ? 12 : n > 160 ? 160 : n;
}

/* Ellipse with semi-axes a, b rotated by angle; with k harmonics of relative amplitude amp
 * it becomes a star-shaped blob. */
static void contour_blob(shape *s, double cx, double cy, double a, double b, double angle,
                         const double *amp, const double *phase, int k) {
    int n = points_for(a > b ? a : b);
    pt *p = contour_open(s, n);
    if (!p) return;
    double ca = es_synth_cos(angle), sa = es_synth_sin(angle);
    for (int i = 0; i < n; i++) {
        double t = 2 * ES_PI * i / n, scale = 1;
        for (int j = 0; j < k; j++) scale += amp[j] * es_synth_sin((j + 2) * t + phase[j]);
        double u = a * scale * es_synth_cos(t), v = b * scale * es_synth_sin(t);
        p[i].x = cx + u * ca - v * sa;
        p[i].y = cy + u * sa + v * ca;
    }
}

static void contour_ellipse(shape *s, double cx, double cy, double a, double b, double angle) {
    contour_blob(s, cx, cy, a, b, angle, NULL, NULL, 0);
}

/* Rectangle of half-sides a (along angle) and b. */
static void contour_rect(shape *s, double cx, double cy, double a, double b, double angle) {
    pt *p = contour_open(s, 4);
    if (!p) return;
    double ca = es_synth_cos(angle), sa = es_synth_sin(angle);
    const double su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
    for (int i = 0; i < 4; i++) {
        double u = su[i] * a, v = sv[i] * b;
        p[i].x = cx + u * ca - v * sa;
        p[i].y = cy + u * sa + v * ca;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Even-odd fill at pixel centres: pixel (x, y) is inside when (x+.5, y+.5) is. */
static void fill_shape(canvas *c, const shape *s, uint32_t id) {
    int n = s->start[s->ncont];
    if (n < 3) return;
    double ymin = s->v[0].y, ymax = s->v[0].y;
    for (int i = 1; i < n; i++) {
        if (s->v[i].y < ymin) ymin = s->v[i].y;
        if (s->v[i].y > ymax) ymax = s->v[i].y;
    }
    double fy0 = ceil(ymin - 0.5), fy1 = floor(ymax - 0.5);
    if (fy0 < 0) fy0 = 0;
    if (fy1 > c->h - 1.0) fy1 = c->h - 1.0;
    static _Thread_local double xs[MAX_POINTS];
    for (double fy = fy0; fy <= fy1; fy++) {
        double yc = fy + 0.5;
        int k = 0;
        for (int ci = 0; ci < s->ncont; ci++)
            for (int i = s->start[ci], e = s->start[ci + 1]; i < e; i++) {
                const pt *a = &s->v[i], *b = &s->v[i + 1 < e ? i + 1 : s->start[ci]];
                if ((a->y <= yc) != (b->y <= yc))
                    xs[k++] = a->x + (yc - a->y) * (b->x - a->x) / (b->y - a->y);
            }
        if (k < 2) continue;
        qsort(xs, (size_t)k, sizeof xs[0], cmp_double);
        uint32_t *row = c->labels + (size_t)fy * c->w;
        for (int j = 0; j + 1 < k; j += 2) {
            double xa = ceil(xs[j] - 0.5), xb = ceil(xs[j + 1] - 0.5) - 1;
            if (xa < 0) xa = 0;
            if (xb > c->w - 1.0) xb = c->w - 1.0;
            for (double x = xa; x <= xb; x++) row[(size_t)x] = id;
        }
    }
}

/* 1 px wide line (Bresenham) between pixel positions; clipped point by point. */
static void draw_line1(canvas *c, double x0, double y0, double x1, double y1, uint32_t id) {
    /* clamp far-away endpoints so the integer walk stays short */
    const double lim = 4.0 * (c->w + c->h);
    x0 = x0 < -lim ? -lim : x0 > lim ? lim : x0;
    x1 = x1 < -lim ? -lim : x1 > lim ? lim : x1;
    y0 = y0 < -lim ? -lim : y0 > lim ? lim : y0;
    y1 = y1 < -lim ? -lim : y1 > lim ? lim : y1;
    int64_t ax = (int64_t)floor(x0), ay = (int64_t)floor(y0), bx = (int64_t)floor(x1), by = (int64_t)floor(y1);
    int64_t dx = llabs(bx - ax), dy = -llabs(by - ay), sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
    int64_t e = dx + dy;
    for (;;) {
        if (ax >= 0 && ay >= 0 && ax < c->w && ay < c->h) c->labels[(size_t)ay * c->w + (size_t)ax] = id;
        if (ax == bx && ay == by) break;
        int64_t e2 = 2 * e;
        if (e2 >= dy) e += dy, ax += sx;
        if (e2 <= dx) e += dx, ay += sy;
    }
}

/* A straight stroke of the given width (1: Bresenham, else a thin rectangle). */
static void draw_stroke(canvas *c, shape *tmp, double x0, double y0, double x1, double y1, int width,
                        uint32_t id) {
    if (width <= 1) {
        draw_line1(c, x0, y0, x1, y1, id);
        return;
    }
    double dx = x1 - x0, dy = y1 - y0, len = sqrt(dx * dx + dy * dy);
    if (len < 1e-9) return;
    double nx = -dy / len * width / 2, ny = dx / len * width / 2;
    shape_begin(tmp);
    pt *p = contour_open(tmp, 4);
    p[0] = (pt){x0 + nx, y0 + ny};
    p[1] = (pt){x1 + nx, y1 + ny};
    p[2] = (pt){x1 - nx, y1 - ny};
    p[3] = (pt){x0 - nx, y0 - ny};
    fill_shape(c, tmp, id);
}

/* ---- the plan of an image ---- */

typedef struct thing {
    uint32_t id;
    int kind;
    double size; /* characteristic radius in pixels */
} thing;

static int cmp_thing(const void *a, const void *b) {
    const thing *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1; /* largest first */
    return (x->id > y->id) - (x->id < y->id);
}

static int draw_thing_kind(es_rng *r, const es_synth_options *o) {
    static const int kinds[] = {ES_SYNTH_KIND_ELLIPSE, ES_SYNTH_KIND_BLOB, ES_SYNTH_KIND_BOX,
                                ES_SYNTH_KIND_RING, ES_SYNTH_KIND_PERFORATED, ES_SYNTH_KIND_PARTS,
                                ES_SYNTH_KIND_LINE, ES_SYNTH_KIND_CURVE, ES_SYNTH_KIND_TINY};
    int weights[] = {18, 18, 10, 8, 5, 8, 8, 5, 4};
    if (o->no_thin) weights[6] = weights[7] = 0;
    if (o->no_tiny) weights[8] = 0;
    int total = 0;
    for (int i = 0; i < 9; i++) total += weights[i];
    int x = (int)es_rng_below(r, (uint32_t)total);
    for (int i = 0; i < 9; i++) {
        if (x < weights[i]) return kinds[i];
        x -= weights[i];
    }
    return ES_SYNTH_KIND_ELLIPSE;
}

static void paint_stuff(canvas *c, es_rng *r, uint32_t n_stuff, es_error *err, int *rc) {
    int reuse_first = n_stuff >= 2 && es_rng_chance(r, 0.3); /* stuff id 1 in two parts */
    uint32_t nb = n_stuff + (reuse_first ? 1 : 0);           /* bands */
    int horizontal = es_rng_chance(r, 0.6);
    uint32_t along = horizontal ? c->w : c->h, across = horizontal ? c->h : c->w;
    double base[8], amp[8], freq[8], ph[8], amp2[8], ph2[8];
    for (uint32_t i = 1; i < nb; i++) {
        base[i] = across * ((double)i / nb + es_rng_range(r, -0.3, 0.3) / nb);
        amp[i] = across * es_rng_range(r, 0.0, 0.08);
        freq[i] = 2 * ES_PI * es_rng_range(r, 0.3, 3.0) / along;
        ph[i] = es_rng_range(r, 0, 2 * ES_PI);
        amp2[i] = amp[i] * es_rng_range(r, 0.0, 0.4);
        ph2[i] = es_rng_range(r, 0, 2 * ES_PI);
    }
    double *bnd = malloc(sizeof *bnd * (nb > 1 ? nb - 1 : 1) * along);
    if (!bnd) {
        *rc = es_error_set(err, ES_ERR_NOMEM, "out of memory for a %ux%u synthetic image", c->w, c->h);
        return;
    }
    for (uint32_t u = 0; u < along; u++) {
        double prev = -1e300;
        for (uint32_t i = 1; i < nb; i++) {
            double b = base[i] + amp[i] * es_synth_sin(freq[i] * u + ph[i]) +
                       amp2[i] * es_synth_sin(3.7 * freq[i] * u + ph2[i]);
            if (b < prev) b = prev; /* bands never cross */
            bnd[(size_t)(i - 1) * along + u] = prev = b;
        }
    }
    for (uint32_t y = 0; y < c->h; y++)
        for (uint32_t x = 0; x < c->w; x++) {
            uint32_t u = horizontal ? x : y;
            double v = (horizontal ? y : x) + 0.5;
            uint32_t band = 0;
            while (band + 1 < nb && bnd[(size_t)band * along + u] <= v) band++;
            uint32_t id = band + 1;
            if (reuse_first && band == nb - 1) id = 1;
            c->labels[(size_t)y * c->w + x] = id;
        }
    free(bnd);
}

static void paint_void_border_and_blobs(canvas *c, es_rng *r, shape *s, double scale) {
    if (es_rng_chance(r, 0.5)) {
        uint32_t side = es_rng_below(r, 4);
        uint32_t t = 1 + es_rng_below(r, 1 + (uint32_t)(scale * 0.05));
        for (uint32_t y = 0; y < c->h; y++)
            for (uint32_t x = 0; x < c->w; x++) {
                int in = side == 0 ? y < t : side == 1 ? y + t >= c->h : side == 2 ? x < t : x + t >= c->w;
                if (in) c->labels[(size_t)y * c->w + x] = 0;
            }
    }
    uint32_t blobs = es_rng_below(r, 3);
    for (uint32_t i = 0; i < blobs; i++) {
        double a = scale * es_rng_range(r, 0.03, 0.12) + 1, amp[2] = {0.2, 0.1};
        double ph[2] = {es_rng_range(r, 0, 6.3), es_rng_range(r, 0, 6.3)};
        shape_begin(s);
        contour_blob(s, es_rng_range(r, 0, c->w), es_rng_range(r, 0, c->h), a, a * es_rng_range(r, 0.5, 1),
                     es_rng_range(r, 0, ES_PI), amp, ph, 2);
        fill_shape(c, s, 0);
    }
}

static void paint_thing(canvas *c, es_rng *r, shape *s, shape *tmp, const thing *t) {
    double cx = es_rng_range(r, -0.05 * c->w, 1.05 * c->w), cy = es_rng_range(r, -0.05 * c->h, 1.05 * c->h);
    double a = t->size, angle = es_rng_range(r, 0, ES_PI);
    shape_begin(s);
    switch (t->kind) {
    case ES_SYNTH_KIND_ELLIPSE: contour_ellipse(s, cx, cy, a, a * es_rng_range(r, 0.35, 1), angle); break;
    case ES_SYNTH_KIND_BLOB:
    case ES_SYNTH_KIND_CROWD: {
        double amp[3] = {es_rng_range(r, 0, 0.3), es_rng_range(r, 0, 0.2), es_rng_range(r, 0, 0.1)};
        double ph[3] = {es_rng_range(r, 0, 6.3), es_rng_range(r, 0, 6.3), es_rng_range(r, 0, 6.3)};
        contour_blob(s, cx, cy, a, a * es_rng_range(r, 0.5, 1), angle, amp, ph, 3);
        break;
    }
    case ES_SYNTH_KIND_BOX:
        if (es_rng_chance(r, 0.5)) angle = 0;
        contour_rect(s, cx, cy, a, a * es_rng_range(r, 0.2, 1), angle);
        break;
    case ES_SYNTH_KIND_RING: {
        double b = a * es_rng_range(r, 0.5, 1), k = es_rng_range(r, 0.35, 0.7), off = (1 - k) * b * 0.3;
        contour_ellipse(s, cx, cy, a, b, angle);
        contour_ellipse(s, cx + es_rng_range(r, -off, off), cy + es_rng_range(r, -off, off), a * k, b * k, angle);
        break;
    }
    case ES_SYNTH_KIND_PERFORATED: {
        double b = a * es_rng_range(r, 0.4, 0.8);
        int holes = 1 + (int)es_rng_below(r, 4);
        double ca = es_synth_cos(angle), sa = es_synth_sin(angle);
        double rad = (b < a / holes ? b : a / holes) * es_rng_range(r, 0.35, 0.6);
        contour_rect(s, cx, cy, a, b, angle);
        for (int i = 0; i < holes; i++) {
            double u = -a + 2 * a * (i + 0.5) / holes;
            contour_ellipse(s, cx + u * ca, cy + u * sa, rad, rad, 0);
        }
        break;
    }
    case ES_SYNTH_KIND_PARTS: {
        int parts = 2 + (int)es_rng_below(r, 3);
        double d = a * es_rng_range(r, 1.2, 1.8), t0 = es_rng_range(r, 0, 2 * ES_PI);
        for (int i = 0; i < parts; i++) {
            double th = t0 + 2 * ES_PI * i / parts, rp = a * es_rng_range(r, 0.3, 0.5);
            contour_ellipse(s, cx + d * es_synth_cos(th), cy + d * es_synth_sin(th), rp,
                            rp * es_rng_range(r, 0.5, 1), es_rng_range(r, 0, ES_PI));
        }
        break;
    }
    case ES_SYNTH_KIND_LINE: {
        double len = a * es_rng_range(r, 2, 6) / 2;
        int width = 1 + (int)es_rng_below(r, 3);
        double dx = len * es_synth_cos(angle), dy = len * es_synth_sin(angle);
        draw_stroke(c, tmp, cx - dx, cy - dy, cx + dx, cy + dy, width, t->id);
        return;
    }
    case ES_SYNTH_KIND_CURVE: {
        int n = 8 + (int)es_rng_below(r, 9), width = 1 + (int)es_rng_below(r, 2);
        double step = a * 0.6 + 1, dir = angle * 2, x = cx, y = cy;
        for (int i = 0; i < n; i++) {
            dir += es_rng_range(r, -0.6, 0.6);
            double nx = x + step * es_synth_cos(dir), ny = y + step * es_synth_sin(dir);
            draw_stroke(c, tmp, x, y, nx, ny, width, t->id);
            x = nx, y = ny;
        }
        return;
    }
    default: return; /* tiny: placed at the end */
    }
    fill_shape(c, s, t->id);
}

static void paint_void_lines(canvas *c, es_rng *r, shape *tmp, double scale) {
    uint32_t n = 1 + es_rng_below(r, 2);
    for (uint32_t i = 0; i < n; i++) {
        double x = es_rng_range(r, 0, c->w), y = es_rng_range(r, 0, c->h), ang = es_rng_range(r, 0, 2 * ES_PI);
        double len = scale * es_rng_range(r, 0.2, 0.8);
        draw_stroke(c, tmp, x, y, x + len * es_synth_cos(ang), y + len * es_synth_sin(ang),
                    1 + (int)es_rng_below(r, 2), 0);
    }
}

/* Gives every planned entity without pixels one pixel taken from an owner (or void) that
 * keeps at least one other; such entities become tiny. */
static void place_missing(canvas *c, es_rng *r, uint32_t n_entities, uint32_t n_ids, uint8_t *kind) {
    size_t npx = (size_t)c->w * c->h;
    uint64_t *area = calloc(n_ids, sizeof *area);
    if (!area) return; /* only costs missing tiny entities */
    for (size_t i = 0; i < npx; i++) area[c->labels[i]]++;
    for (uint32_t id = 1; id <= n_entities; id++) {
        if (area[id]) continue;
        size_t pick = SIZE_MAX;
        for (int tries = 0; tries < 64 && pick == SIZE_MAX; tries++) {
            size_t p = (size_t)(es_rng_next(r) % npx);
            uint32_t owner = c->labels[p];
            if (owner == 0 || area[owner] >= 2) pick = p;
        }
        if (pick == SIZE_MAX) {
            size_t s = (size_t)(es_rng_next(r) % npx);
            for (size_t k = 0; k < npx && pick == SIZE_MAX; k++) {
                size_t p = (s + k) % npx;
                if (c->labels[p] == 0 || area[c->labels[p]] >= 2) pick = p;
            }
        }
        if (pick == SIZE_MAX) break; /* no room left */
        area[c->labels[pick]]--;
        c->labels[pick] = id;
        area[id] = 1;
        kind[id] = ES_SYNTH_KIND_TINY;
    }
    free(area);
}

const char *es_synth_kind_name(int kind) {
    static const char *names[ES_SYNTH_KIND_COUNT] = {
        "unknown", "stuff", "ellipse", "blob", "box", "ring", "perforated", "parts",
        "line", "curve", "tiny", "full", "crowd"};
    return kind > 0 && kind < ES_SYNTH_KIND_COUNT ? names[kind] : "unknown";
}

void es_synth_image_free(es_synth_image *img) {
    if (!img) return;
    free(img->labels);
    free(img->rgb);
    free(img->isthing);
    free(img->kind);
    memset(img, 0, sizeof *img);
}

static uint32_t draw_side(es_rng *r, uint32_t lo, uint32_t hi) {
    return hi > lo ? lo + es_rng_below(r, hi - lo + 1) : lo;
}

int es_synth_make_image(const es_synth_options *o, uint64_t index, es_synth_image *out, es_error *err) {
    memset(out, 0, sizeof *out);
    es_rng rng, *r = &rng;
    es_rng_seed(r, o->seed, index);
    uint32_t w = draw_side(r, o->min_width, o->max_width), h = draw_side(r, o->min_height, o->max_height);
    if (w == 0 || h == 0) return es_error_set(err, ES_ERR_INVALID, "synthetic image size %ux%u is empty", w, h);
    double scale = w < h ? w : h;
    size_t npx = (size_t)w * h;

    int full = (o->full_every && (index + 1) % o->full_every == 0) || (!o->no_full && o->min_entities <= 1 && es_rng_chance(r, 0.02));
    uint32_t kmax = o->max_entities ? o->max_entities : 1;
    if (kmax > npx / 2) kmax = npx / 2 ? (uint32_t)(npx / 2) : 1;
    uint32_t kmin = o->min_entities < 1 ? 1 : o->min_entities;
    if (kmin > kmax) kmin = kmax;
    double u = es_rng_uniform(r);
    uint32_t K = kmin + (uint32_t)((kmax - kmin + 1) * u * u * u);
    if (K > kmax) K = kmax;
    uint32_t n_crowd = !o->no_crowd && es_rng_chance(r, 0.35) ? 1 + es_rng_below(r, 2) : 0;
    int has_void = !o->no_void && es_rng_chance(r, 0.6);
    if (full) K = 1, n_crowd = 0, has_void = 0;
    uint32_t n_ids = K + n_crowd + 1;

    out->width = w;
    out->height = h;
    out->n_entities = K;
    out->n_crowd = n_crowd;
    out->labels = calloc(npx, sizeof *out->labels);
    out->rgb = malloc(npx * 3);
    out->isthing = calloc(n_ids, 1);
    out->kind = calloc(n_ids, 1);
    thing *things = malloc(sizeof *things * n_ids);
    shape *s = malloc(sizeof *s), *tmp = malloc(sizeof *tmp);
    es_synth_texture *tex = calloc(n_ids, sizeof *tex);
    int rc = ES_OK;
    if (!out->labels || !out->rgb || !out->isthing || !out->kind || !things || !s || !tmp || !tex) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory for a %ux%u synthetic image", w, h);
        goto done;
    }
    canvas c = {out->labels, w, h};

    if (full) {
        for (size_t i = 0; i < npx; i++) out->labels[i] = 1;
        out->kind[1] = ES_SYNTH_KIND_FULL;
        es_synth_texture_draw(r, ES_SYNTH_KIND_FULL, scale, &tex[1]);
    } else {
        /* the plan: stuff ids first, then things, then crowd regions */
        uint32_t n_stuff = 1 + es_rng_below(r, 4);
        if (n_stuff > K) n_stuff = K;
        for (uint32_t id = 1; id <= n_stuff; id++) out->kind[id] = ES_SYNTH_KIND_STUFF;
        static const int guaranteed[] = {ES_SYNTH_KIND_RING, ES_SYNTH_KIND_PARTS, ES_SYNTH_KIND_LINE,
                                         ES_SYNTH_KIND_CURVE, ES_SYNTH_KIND_PERFORATED, ES_SYNTH_KIND_TINY};
        uint32_t nt = 0, g = 0;
        for (uint32_t id = n_stuff + 1; id < n_ids; id++) {
            int kind;
            if (id > K) {
                kind = ES_SYNTH_KIND_CROWD;
            } else if (K - n_stuff >= 10 && g < 6) { /* every rich scene has each feature */
                kind = guaranteed[g++];
                if ((o->no_thin && (kind == ES_SYNTH_KIND_LINE || kind == ES_SYNTH_KIND_CURVE)) ||
                    (o->no_tiny && kind == ES_SYNTH_KIND_TINY))
                    kind = ES_SYNTH_KIND_ELLIPSE;
            } else {
                kind = draw_thing_kind(r, o);
            }
            double v = es_rng_uniform(r), size = scale * (0.01 + 0.3 * v * v * sqrt(v));
            double min_size = kind == ES_SYNTH_KIND_RING ? 5 : kind == ES_SYNTH_KIND_PERFORATED ? 8
                            : kind == ES_SYNTH_KIND_PARTS ? 3 : 1.5;
            if (kind == ES_SYNTH_KIND_CROWD && size < scale * 0.08) size = scale * 0.08;
            if (size < min_size) size = min_size;
            out->kind[id] = (uint8_t)kind;
            out->isthing[id] = 1;
            things[nt++] = (thing){id, kind, size};
        }
        paint_stuff(&c, r, n_stuff, err, &rc);
        if (rc) goto done;
        if (has_void) paint_void_border_and_blobs(&c, r, s, scale);
        qsort(things, nt, sizeof *things, cmp_thing);
        for (uint32_t i = 0; i < nt; i++) paint_thing(&c, r, s, tmp, &things[i]);
        if (has_void && es_rng_chance(r, 0.5)) paint_void_lines(&c, r, tmp, scale);
        place_missing(&c, r, K, n_ids, out->kind);
        double *sizes = calloc(n_ids, sizeof *sizes);
        if (!sizes) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory for a %ux%u synthetic image", w, h);
            goto done;
        }
        for (uint32_t id = 1; id < n_ids; id++) sizes[id] = scale * 0.1; /* stuff */
        for (uint32_t i = 0; i < nt; i++) sizes[things[i].id] = things[i].size;
        for (uint32_t id = 1; id < n_ids; id++) es_synth_texture_draw(r, out->kind[id], sizes[id], &tex[id]);
        free(sizes);
    }
    es_synth_render(out->labels, w, h, tex, (uint32_t)es_rng_next(r), out->rgb);
done:
    free(things);
    free(s);
    free(tmp);
    free(tex);
    if (rc) es_synth_image_free(out);
    return rc;
}
