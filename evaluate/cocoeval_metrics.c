/* evaluate/cocoeval_metrics.c: one image through the COCOeval family: AP^e (painted
 * predictions, mask IoU), AP^m (predictions as given), boundary AP (painted, min(mask IoU,
 * boundary IoU) for non-crowd GT), box AP (painted, box IoU) and the class-aware AP /
 * boundary AP (predictions as given, one record per category).
 *
 * Workload: per image on the pool. IoUs are computed on the RLEs (no decoding): each
 * prediction's runs are merged once with the image's sorted GT runs, starting at its first
 * column (binary search). Boundary bands only for the predictions that survive the
 * max-dets cut and only for pairs whose mask IoU reaches the lowest threshold (else
 * min(...) cannot match); the painted predictions' and the GT's bands live in a band cache
 * that boundary PQ can reuse. The integer intersections of the painted predictions are
 * handed to PQ (es_pq_pixels), which then does not read the masks again.
 * IoU = i / u as doubles from integer counts, exactly as pycocotools rleIou (METRICS AP 4:
 * crowd GT: i / detection area).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "boundary.h"
#include "eval_internal.h"

/* pycocotools bbIou for boxes {x, y, w, h}. */
static double box_iou(const double d[4], const double g[4], int crowd) {
    double w = fmin(d[2] + d[0], g[2] + g[0]) - fmax(d[0], g[0]);
    if (w <= 0) return 0;
    double h = fmin(d[3] + d[1], g[3] + g[1]) - fmax(d[1], g[1]);
    if (h <= 0) return 0;
    double i = w * h;
    double da = d[2] * d[3], ga = g[2] * g[3];
    double u = crowd ? da : da + ga - i;
    return i / u;
}

/* Everything one prediction set (painted or as given) needs on one image. */
typedef struct dt_set {
    const es_eval_dt *dt;
    size_t n;
    uint32_t *order;     /* (n) by descending score, stable */
    es_mask_runs *runs;         /* (n) */
    double *miou;        /* (n, ng) mask IoU, filled for rows in need */
    uint64_t *inter;     /* (n, ng) |dt ∩ gt| of the rows in need */
    uint64_t *fg;        /* (n) foreground pixels counted on the runs, per row in need */
    uint8_t *row_valid;  /* (n) the row's runs sum to h*w (PQ may use its counts) */
    uint8_t *row_done;   /* (n) */
    es_bitmask *band;    /* (n) bands owned by the set (sets without a band cache) */
    const es_bitmask **bandp; /* (n) the band of each prediction once computed */
    int32_t *painted_of; /* raw set: index of the unchanged painted twin, or -1 */
    uint8_t *runs_shared; /* (n) runs borrowed from the twin */
    struct dt_set *twin; /* painted set: the predictions as given; an unchanged painted mask
                            (same pixel count, painting only removes) shares their rows */
} dt_set;

typedef struct gt_run {
    uint64_t s, e;       /* column-major [s, e) */
    uint32_t g;          /* GT index */
} gt_run;

typedef struct img_ctx {
    const es_eval_cfg *cfg;
    const es_eval_image *img;
    size_t ng;
    es_mask_runs *gruns;        /* (ng) */
    es_band_cache *bands; /* GT and painted bands: the caller's, or own_bands */
    int own_bands;
    uint32_t d;          /* boundary width */
    es_coco_gt_in *gin;  /* (ng) */
    /* The GT runs of the whole image (crowd too unless some GT overlaps), sorted: one walk
       per prediction gives its intersection with every GT in gmap (valid only when those
       GTs do not overlap: gmap_ok). */
    gt_run *gmap;        /* (n_gmap) */
    size_t n_gmap;
    int gmap_ok;
    int gmap_crowd;      /* crowd runs are in gmap too (no GT overlaps any other) */
    struct dt_set *painted; /* the painted set (its bands live in bands), or NULL */
    double *gbbox;       /* (ng, 4) pycocotools toBbox of each GT, for box AP */
} img_ctx;

static void dt_set_free(dt_set *s) {
    if (s->band)
        for (size_t i = 0; i < s->n; i++) es_bitmask_free(&s->band[i]);
    if (s->runs)
        for (size_t i = 0; i < s->n; i++)
            if (!s->runs_shared || !s->runs_shared[i]) es_mask_runs_free(&s->runs[i]);
    free(s->runs_shared);
    free(s->order), free(s->runs), free(s->miou), free(s->row_done), free(s->band),
        free(s->bandp), free(s->inter), free(s->fg), free(s->row_valid), free(s->painted_of);
    memset(s, 0, sizeof *s);
}

static int unchanged_twin(const dt_set *s, size_t i, size_t *k);

static int dt_set_init(dt_set *s, const es_eval_dt *dt, size_t n, size_t ng, dt_set *twin) {
    memset(s, 0, sizeof *s);
    s->dt = dt;
    s->n = n;
    s->twin = twin;
    size_t nn = n ? n : 1;
    s->order = malloc(nn * sizeof *s->order);
    s->runs = calloc(nn, sizeof *s->runs);
    s->miou = malloc(nn * (ng ? ng : 1) * sizeof *s->miou);
    s->inter = malloc(nn * (ng ? ng : 1) * sizeof *s->inter);
    s->fg = malloc(nn * sizeof *s->fg);
    s->row_valid = calloc(nn, 1);
    s->row_done = calloc(nn, 1);
    s->bandp = calloc(nn, sizeof *s->bandp);
    if (!s->order || !s->runs || !s->miou || !s->inter || !s->fg || !s->row_valid ||
        !s->row_done || !s->bandp)
        return ES_ERR_NOMEM;
    s->runs_shared = calloc(nn, 1);
    if (!s->runs_shared) return ES_ERR_NOMEM;
    return es_eval_order_by_score(dt, n, s->order);
}

/* Mask IoU row of prediction i against every GT. */
static int unchanged_twin(const dt_set *s, size_t i, size_t *k) {
    if (!s->twin) return 0;
    int64_t idx = s->dt[i].input_index;
    if (idx < 0 || (size_t)idx >= s->twin->n) return 0;
    *k = (size_t)idx;
    return s->twin->dt[idx].pixels == s->dt[i].pixels;
}

/* The run index of prediction i, built on first use (only crowd GTs and overlapping GTs
 * need it: the merge with the GT runs walks the counts directly). */
static int dt_runs(dt_set *s, size_t i) {
    if (s->runs[i].start) return ES_OK;
    size_t k;
    if (unchanged_twin(s, i, &k)) {
        ES_CHECK(dt_runs(s->twin, k));
        s->runs[i] = s->twin->runs[k];
        s->runs_shared[i] = 1;
        return ES_OK;
    }
    return es_mask_runs_init(&s->runs[i], &s->dt[i].mask);
}

static int mask_iou_row(const img_ctx *c, dt_set *s, size_t i) {
    if (s->row_done[i]) return ES_OK;
    double *row = s->miou + i * c->ng;
    size_t k;
    uint64_t *irow = s->inter + i * c->ng;
    if (unchanged_twin(s, i, &k)) {
        ES_CHECK(mask_iou_row(c, s->twin, k));
        memcpy(row, s->twin->miou + k * c->ng, c->ng * sizeof *row);
        memcpy(irow, s->twin->inter + k * c->ng, c->ng * sizeof *irow);
        s->fg[i] = s->twin->fg[k];
        s->row_valid[i] = s->twin->row_valid[k];
        s->row_done[i] = 1;
        return ES_OK;
    }
    const es_eval_dt *d = &s->dt[i];
    if (c->gmap_ok) {
        /* merge the prediction's foreground runs with the sorted GT runs; the GT runs are
           disjoint, so their ends ascend with their starts and the first one the
           prediction can meet is found by binary search */
        memset(irow, 0, c->ng * sizeof *irow);
        const es_rle *r = &d->mask;
        const gt_run *gm = c->gmap;
        const size_t ngm = c->n_gmap;
        size_t j = 0;
        int started = 0;
        uint64_t pos = 0, fg = 0;
        for (uint32_t k = 0; k + 1 < r->m; k += 2) {
            uint64_t rs = pos + r->cnts[k], re = rs + r->cnts[k + 1];
            pos = re;
            if (rs == re) continue;
            fg += re - rs;
            if (!started) {
                size_t lo = 0, hi = ngm;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (gm[mid].e <= rs) lo = mid + 1;
                    else hi = mid;
                }
                j = lo;
                started = 1;
            }
            while (j < ngm && gm[j].e <= rs) j++;
            for (size_t q = j; q < ngm && gm[q].s < re; q++) {
                uint64_t a = rs > gm[q].s ? rs : gm[q].s;
                uint64_t b = re < gm[q].e ? re : gm[q].e;
                irow[gm[q].g] += b - a;
            }
        }
        if (r->m & 1) pos += r->cnts[r->m - 1]; /* trailing background */
        s->fg[i] = fg;
        s->row_valid[i] = pos == (uint64_t)r->h * r->w;
        if (!c->gmap_crowd)
            for (size_t g = 0; g < c->ng; g++)
                if (c->img->gt[g].is_crowd) {
                    ES_CHECK(dt_runs(s, i));
                    irow[g] = es_mask_runs_intersection(&s->runs[i], &c->gruns[g]);
                }
    } else {
        ES_CHECK(dt_runs(s, i));
        for (size_t j = 0; j < c->ng; j++)
            irow[j] = es_mask_runs_intersection(&s->runs[i], &c->gruns[j]);
        s->fg[i] = s->runs[i].pixels;
        s->row_valid[i] = 0; /* PQ reads the masks itself (and reports the overlap) */
    }
    for (size_t j = 0; j < c->ng; j++) {
        const es_eval_gt *g = &c->img->gt[j];
        row[j] = 0;
        uint64_t inter = irow[j];
        if (inter == 0) continue;
        uint64_t u = g->is_crowd ? d->pixels : d->pixels + g->pixels - inter;
        row[j] = (double)inter / (double)u;
    }
    s->row_done[i] = 1;
    return ES_OK;
}

/* Sorts the GT runs by position (crowd runs too when with_crowd): counting sort on the
 * start column, then an insertion sort inside each column (few runs). Marks gmap_ok when
 * no two runs overlap. */
static int build_gmap(img_ctx *c, int with_crowd) {
    const es_eval_image *img = c->img;
    const uint64_t h = img->height;
    const uint32_t W = img->width;
    size_t n = 0;
    for (size_t g = 0; g < c->ng; g++)
        if (with_crowd || !img->gt[g].is_crowd) n += img->gt[g].mask.m / 2;
    free(c->gmap);
    c->gmap = malloc((n ? n : 1) * sizeof *c->gmap);
    size_t *off = calloc((size_t)W + 2, sizeof *off);
    if (!c->gmap || !off) {
        free(off);
        return ES_ERR_NOMEM;
    }
    /* the start column of every run, walked without a division per run; a run beyond the
       image (corrupt counts) leaves the pairwise path to the caller */
    uint32_t *col = malloc((n ? n : 1) * sizeof *col);
    if (!col) {
        free(off);
        return ES_ERR_NOMEM;
    }
    size_t q = 0;
    int inside = h > 0;
    for (size_t g = 0; g < c->ng && inside; g++) {
        if (!with_crowd && img->gt[g].is_crowd) continue;
        const es_mask_runs *mr = &c->gruns[g];
        uint32_t x = 0;
        uint64_t colstart = 0;
        for (uint32_t k = 1; k < mr->r->m; k += 2) {
            uint32_t cx = es_walk_col(mr->start[k], h, &x, &colstart);
            col[q++] = cx;
            if (mr->start[k + 1] > mr->start[k]) {
                if (cx >= W) {
                    inside = 0;
                    break;
                }
                off[cx + 1]++;
            }
        }
    }
    if (!inside) {
        free(off);
        free(col);
        c->n_gmap = 0;
        c->gmap_ok = 0;
        c->gmap_crowd = 0;
        return ES_OK;
    }
    for (uint32_t x = 0; x < W; x++) off[x + 1] += off[x];
    size_t total = off[W];
    q = 0;
    for (size_t g = 0; g < c->ng; g++) {
        if (!with_crowd && img->gt[g].is_crowd) continue;
        const es_mask_runs *mr = &c->gruns[g];
        for (uint32_t k = 1; k < mr->r->m; k += 2, q++)
            if (mr->start[k + 1] > mr->start[k])
                c->gmap[off[col[q]]++] = (gt_run){mr->start[k], mr->start[k + 1], (uint32_t)g};
    }
    free(col);
    /* off[x] now holds the end of column x's bucket; buckets are contiguous in x order */
    size_t begin = 0;
    for (uint32_t x = 0; x < W; x++) {
        size_t end = off[x];
        for (size_t a = begin + 1; a < end; a++) {
            gt_run t = c->gmap[a];
            size_t b = a;
            while (b > begin && c->gmap[b - 1].s > t.s) {
                c->gmap[b] = c->gmap[b - 1];
                b--;
            }
            c->gmap[b] = t;
        }
        begin = end;
    }
    free(off);
    c->n_gmap = total;
    c->gmap_ok = 1;
    c->gmap_crowd = with_crowd;
    for (size_t q = 1; q < total; q++)
        if (c->gmap[q].s < c->gmap[q - 1].e) {
            c->gmap_ok = 0; /* overlapping instances: pairwise intersections */
            break;
        }
    return ES_OK;
}

/* The image's band cache (GT and painted predictions), made on first use unless the
 * caller shares one. */
static int image_bands(img_ctx *c, es_error *err) {
    if (c->bands) return ES_OK;
    ES_CHECK(es_band_cache_create(&c->bands, c->img->height, c->img->width,
                                  c->cfg->dilation_ratio, c->ng, c->img->n_dt, err));
    c->own_bands = 1;
    return ES_OK;
}

static int gt_band(img_ctx *c, size_t j, const es_bitmask **out, es_error *err) {
    ES_CHECK(image_bands(c, err));
    return es_band_cache_get(c->bands, 1, j, &c->img->gt[j].mask, out, err);
}

/* The band of prediction i of set s: the painted set keeps its bands in the image's cache;
 * a prediction as given that painting left unchanged has the same pixels as its painted
 * twin, so it uses the twin's cache entry; any other is built here and owned by s. */
static int dt_band(img_ctx *c, dt_set *s, size_t i, const es_bitmask **out, es_error *err) {
    if (!s->bandp[i]) {
        int64_t key = s == c->painted ? (int64_t)i : s->painted_of ? s->painted_of[i] : -1;
        if (key >= 0) {
            ES_CHECK(image_bands(c, err));
            ES_CHECK(es_band_cache_get(c->bands, 0, (size_t)key, &s->dt[i].mask, &s->bandp[i],
                                       err));
        } else {
            if (!s->band) {
                s->band = calloc(s->n ? s->n : 1, sizeof *s->band);
                if (!s->band) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
            }
            ES_CHECK(es_boundary_band(&s->band[i], NULL, &s->dt[i].mask, c->d, err));
            s->bandp[i] = &s->band[i];
        }
    }
    *out = s->bandp[i];
    return ES_OK;
}

/* Boundary-AP IoU of prediction i with GT j (METRICS boundary 4). */
static int boundary_iou(img_ctx *c, dt_set *s, size_t i, size_t j, double *out, es_error *err) {
    double m = s->miou[i * c->ng + j];
    /* min(m, b) <= m: below the lowest threshold the pair can never match at any threshold
       (matching starts at min(t, 1-1e-10) >= the lowest t), so its exact value is moot and
       the bands are not needed */
    if (c->img->gt[j].is_crowd || m == 0 || m < c->cfg->coco.iou_thrs[0]) {
        *out = m;
        return ES_OK;
    }
    const es_bitmask *gb = NULL, *db = NULL;
    ES_CHECK(gt_band(c, j, &gb, err));
    ES_CHECK(dt_band(c, s, i, &db, err));
    uint64_t inter = es_bitmask_intersection(db, gb);
    double b = 0;
    if (inter) {
        uint64_t u = db->area + gb->area - inter;
        b = (double)inter / (double)u;
    }
    *out = m < b ? m : b;
    return ES_OK;
}

typedef enum { IOU_MASK, IOU_BOUNDARY, IOU_BOX } iou_kind;

/* One record: GTs gsel (source order), predictions dsel (score order, cut here). */
static int make_record(img_ctx *c, dt_set *s, const uint32_t *gsel, size_t ng,
                       const uint32_t *dsel, size_t nd, iou_kind kind, int64_t category,
                       es_coco_rec *out, es_error *err) {
    const es_coco_params *p = &c->cfg->coco;
    size_t cut = (size_t)p->max_dets[ES_COCO_M - 1];
    if (nd > cut) nd = cut;
    /* one block: ious (nd*ng doubles), din (nd), gin (ng) */
    char *block = malloc((nd * ng) * sizeof(double) + nd * sizeof(es_coco_dt_in) +
                         ng * sizeof(es_coco_gt_in) + 16);
    double *ious = (double *)block;
    es_coco_dt_in *din = block ? (es_coco_dt_in *)(ious + nd * ng) : NULL;
    es_coco_gt_in *gin = block ? (es_coco_gt_in *)(din + nd) : NULL;
    int rc = ES_OK;
    if (!block) {
        rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", c->img->name);
        goto done;
    }
    for (size_t j = 0; j < ng; j++) gin[j] = c->gin[gsel[j]];
    for (size_t k = 0; k < nd; k++) {
        const size_t i = dsel[k];
        const es_eval_dt *d = &s->dt[i];
        din[k].score = d->score;
        din[k].area = (double)d->pixels;
        double dbox[4];
        if (kind == IOU_BOX) {
            es_rle_to_bbox(&d->mask, dbox);
            din[k].area = dbox[2] * dbox[3]; /* as loadRes for box results */
        } else {
            if (mask_iou_row(c, s, i)) {
                rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", c->img->name);
                goto done;
            }
        }
        for (size_t j = 0; j < ng; j++) {
            const size_t g = gsel[j];
            double v;
            if (kind == IOU_MASK) {
                v = s->miou[i * c->ng + g];
            } else if (kind == IOU_BOUNDARY) {
                rc = boundary_iou(c, s, i, g, &v, err);
                if (rc) goto done;
            } else {
                v = box_iou(dbox, c->gbbox + 4 * g, c->img->gt[g].is_crowd);
            }
            ious[k * ng + j] = v;
        }
    }
    rc = es_coco_evaluate_img(p, gin, ng, din, nd, ious, category, out, err);
done:
    free(block);
    return rc;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Class-aware records for one metric: one per category present in GT or predictions. */
static int class_records(img_ctx *c, dt_set *s, iou_kind kind, es_coco_rec **out_recs,
                         size_t *out_n, es_error *err) {
    const es_eval_image *img = c->img;
    size_t ncat = 0, cap = c->ng + s->n;
    int64_t *cats = malloc((cap ? cap : 1) * sizeof *cats);
    uint32_t *gsel = malloc((c->ng ? c->ng : 1) * sizeof *gsel);
    uint32_t *dsel = malloc((s->n ? s->n : 1) * sizeof *dsel);
    es_coco_rec *recs = NULL;
    int rc = ES_OK;
    if (!cats || !gsel || !dsel) goto nomem;
    for (size_t j = 0; j < c->ng; j++) cats[ncat++] = img->gt[j].category_id;
    for (size_t i = 0; i < s->n; i++) cats[ncat++] = s->dt[i].category_id;
    qsort(cats, ncat, sizeof *cats, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < ncat; i++)
        if (u == 0 || cats[u - 1] != cats[i]) cats[u++] = cats[i];
    ncat = u;
    recs = calloc(ncat ? ncat : 1, sizeof *recs);
    if (!recs) goto nomem;
    for (size_t k = 0; k < ncat; k++) {
        size_t ng = 0, nd = 0;
        for (size_t j = 0; j < c->ng; j++)
            if (img->gt[j].category_id == cats[k]) gsel[ng++] = (uint32_t)j;
        for (size_t r = 0; r < s->n; r++)
            if (s->dt[s->order[r]].category_id == cats[k]) dsel[nd++] = s->order[r];
        rc = make_record(c, s, gsel, ng, dsel, nd, kind, cats[k], &recs[k], err);
        if (rc) {
            for (size_t q = 0; q < k; q++) es_coco_rec_free(&recs[q]);
            free(recs);
            recs = NULL;
            goto done;
        }
    }
    *out_recs = recs;
    *out_n = ncat;
    goto done;
nomem:
    rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
    free(recs);
done:
    free(cats), free(gsel), free(dsel);
    return rc;
}

/* The painted predictions' counts for PQ, when they are exact: every mask's runs sum to
 * h*w and no two GT entries (crowd included) overlap, as PQ's own reading requires; else
 * px stays empty and PQ reads the masks (and reports what is wrong). */
static int pq_pixels(img_ctx *c, dt_set *s, es_pq_pixels *px) {
    const size_t ng = c->ng, nd = s->n;
    if (!c->gmap_ok || !c->gmap_crowd) return ES_OK;
    for (size_t g = 0; g < ng; g++)
        if (c->gruns[g].start[c->gruns[g].r->m] != (uint64_t)c->img->height * c->img->width)
            return ES_OK;
    for (size_t i = 0; i < nd; i++) {
        ES_CHECK(mask_iou_row(c, s, i));
        if (!s->row_valid[i]) return ES_OK;
    }
    px->inter = malloc((ng && nd ? ng * nd : 1) * sizeof *px->inter);
    px->dt_area = malloc((nd ? nd : 1) * sizeof *px->dt_area);
    px->gt_area = malloc((ng ? ng : 1) * sizeof *px->gt_area);
    if (!px->inter || !px->dt_area || !px->gt_area) {
        es_pq_pixels_free(px);
        return ES_ERR_NOMEM;
    }
    for (size_t g = 0; g < ng; g++) px->gt_area[g] = c->gruns[g].pixels;
    for (size_t i = 0; i < nd; i++) {
        px->dt_area[i] = s->fg[i];
        for (size_t g = 0; g < ng; g++) px->inter[g * nd + i] = s->inter[i * ng + g];
    }
    return ES_OK;
}

int es_eval_coco_image(const es_eval_cfg *cfg, const es_eval_image *img, es_eval_img_rec *rec,
                       es_band_cache *bands, es_pq_pixels *px, es_error *err) {
    const unsigned M = cfg->metrics;
    img_ctx c = {0};
    if (px) *px = (es_pq_pixels){NULL, NULL, NULL};
    c.cfg = cfg;
    c.img = img;
    c.ng = img->n_gt;
    c.bands = bands;
    c.d = es_boundary_width(cfg->dilation_ratio, img->height, img->width);
    dt_set raw = {0}, painted = {0};
    uint32_t *gall = NULL;
    int rc = ES_OK;
    size_t ngg = c.ng ? c.ng : 1;
    c.gruns = calloc(ngg, sizeof *c.gruns);
    c.gin = malloc(ngg * sizeof *c.gin);
    gall = malloc(ngg * sizeof *gall);
    if (!c.gruns || !c.gin || !gall) goto nomem;
    for (size_t j = 0; j < c.ng; j++) {
        if (es_mask_runs_init(&c.gruns[j], &img->gt[j].mask)) goto nomem;
        c.gin[j].area = img->gt[j].area;
        c.gin[j].crowd = img->gt[j].is_crowd;
        gall[j] = (uint32_t)j;
    }

    /* crowd runs join the sorted GT runs when nothing overlaps (one merge then gives every
       intersection, which PQ reuses); else pairwise for crowd */
    if (build_gmap(&c, 1)) goto nomem;
    if (!c.gmap_ok && build_gmap(&c, 0)) goto nomem;
    if (M & ES_METRIC_AP_BOX) {
        c.gbbox = malloc(ngg * 4 * sizeof *c.gbbox);
        if (!c.gbbox) goto nomem;
        for (size_t j = 0; j < c.ng; j++) es_rle_to_bbox(&img->gt[j].mask, c.gbbox + 4 * j);
    }

    const int want_raw = (M & (ES_METRIC_AP_M | ES_METRIC_AP_CLASSES | ES_METRIC_BOUNDARY_AP_CLASSES)) != 0;
    const int want_painted = (M & (ES_METRIC_AP_E | ES_METRIC_BOUNDARY_AP | ES_METRIC_AP_BOX)) != 0;
    if (want_raw && dt_set_init(&raw, img->dt_raw, img->n_dt_raw, c.ng, NULL)) goto nomem;
    if (want_painted &&
        dt_set_init(&painted, img->dt, img->n_dt, c.ng, want_raw ? &raw : NULL))
        goto nomem;
    if (want_painted) c.painted = &painted;
    if (want_raw && cfg->class_aware && (M & ES_METRIC_BOUNDARY_AP_CLASSES)) {
        /* predictions painting left unchanged share the painted twin's band */
        raw.painted_of = malloc((raw.n ? raw.n : 1) * sizeof *raw.painted_of);
        if (!raw.painted_of) goto nomem;
        for (size_t k = 0; k < raw.n; k++) raw.painted_of[k] = -1;
        for (size_t i = 0; i < img->n_dt; i++) {
            int64_t k = img->dt[i].input_index;
            if (k >= 0 && (size_t)k < raw.n && img->dt_raw[k].pixels == img->dt[i].pixels)
                raw.painted_of[k] = (int32_t)i;
        }
    }

    /* pycocotools returns None for an image with neither GT nor DT */
    if (M & ES_METRIC_AP_M && (c.ng || raw.n)) {
        rc = make_record(&c, &raw, gall, c.ng, raw.order, raw.n, IOU_MASK, -1,
                         &rec->coco[ES_CE_AP_M], err);
        if (rc) goto done;
        rec->has[ES_CE_AP_M] = 1;
    }
    if (M & ES_METRIC_AP_E && (c.ng || painted.n)) {
        rc = make_record(&c, &painted, gall, c.ng, painted.order, painted.n, IOU_MASK, -1,
                         &rec->coco[ES_CE_AP_E], err);
        if (rc) goto done;
        rec->has[ES_CE_AP_E] = 1;
    }
    if (M & ES_METRIC_BOUNDARY_AP && (c.ng || painted.n)) {
        rc = make_record(&c, &painted, gall, c.ng, painted.order, painted.n, IOU_BOUNDARY, -1,
                         &rec->coco[ES_CE_BOUNDARY_AP], err);
        if (rc) goto done;
        rec->has[ES_CE_BOUNDARY_AP] = 1;
    }
    if (M & ES_METRIC_AP_BOX && (c.ng || painted.n)) {
        rc = make_record(&c, &painted, gall, c.ng, painted.order, painted.n, IOU_BOX, -1,
                         &rec->coco[ES_CE_AP_BOX], err);
        if (rc) goto done;
        rec->has[ES_CE_AP_BOX] = 1;
    }
    if (cfg->class_aware && (M & ES_METRIC_AP_CLASSES)) {
        rc = class_records(&c, &raw, IOU_MASK, &rec->cls[ES_CC_AP_CLASSES],
                           &rec->n_cls[ES_CC_AP_CLASSES], err);
        if (rc) goto done;
    }
    if (cfg->class_aware && (M & ES_METRIC_BOUNDARY_AP_CLASSES)) {
        rc = class_records(&c, &raw, IOU_BOUNDARY, &rec->cls[ES_CC_BOUNDARY_AP_CLASSES],
                           &rec->n_cls[ES_CC_BOUNDARY_AP_CLASSES], err);
        if (rc) goto done;
    }
    if (cfg->keep_per_image && want_painted) {
        rec->best_iou = malloc((painted.n ? painted.n : 1) * sizeof *rec->best_iou);
        if (!rec->best_iou) goto nomem;
        rec->n_best = (uint32_t)painted.n;
        for (size_t i = 0; i < painted.n; i++) {
            if (mask_iou_row(&c, &painted, i)) goto nomem;
            double best = 0;
            for (size_t j = 0; j < c.ng; j++)
                if (painted.miou[i * c.ng + j] > best) best = painted.miou[i * c.ng + j];
            rec->best_iou[i] = best;
        }
    }
    if (px && want_painted && pq_pixels(&c, &painted, px)) goto nomem;
    goto done;
nomem:
    rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
done:
    dt_set_free(&raw);
    dt_set_free(&painted);
    if (c.own_bands) es_band_cache_free(c.bands);
    if (c.gruns)
        for (size_t j = 0; j < c.ng; j++) es_mask_runs_free(&c.gruns[j]);
    free(c.gmap), free(c.gbbox);
    free(c.gruns), free(c.gin), free(gall);
    return rc;
}
