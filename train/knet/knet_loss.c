/* knet_loss.c: Hungarian assignment and the per-stage losses.
 *
 * Stage s >= 1 is assigned on stage s-1's predictions (K-Net's prev_mask_preds /
 * prev_cls_score; stage 1 has no objectness yet, so its cost is mask + dice only); the
 * proposal stage (s = 0) is assigned on its own masks. Cost = 2 focal + 1 mask + 4 dice
 * (K-Net's FocalLossCost, MaskCost, DiceCost). Losses: focal 2 (objectness, all kernels,
 * averaged over the matched count), BCE 1 (matched masks, mean over pixels), dice 4
 * (mean over matched masks). */
#include "knet/knet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W_CLS 2.0f
#define W_MASK 1.0f
#define W_DICE 4.0f

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* cost (N x G) for image b from mask logits (N x HW) and objectness logits (N) or NULL. */
static void match_cost(const float *masks, const float *cls, int N, int hw, const float *gt,
                       int G, double *cost, double *p) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < hw; j++) p[(size_t)i * hw + j] = sigm(masks[(size_t)i * hw + j]);
    for (int i = 0; i < N; i++) {
        double psum = 0;
        for (int j = 0; j < hw; j++) psum += p[(size_t)i * hw + j];
        double cls_cost = 0;
        if (cls) {
            double pc = sigm(cls[i]);
            double pos = -log(pc + 1e-12) * 0.25 * (1 - pc) * (1 - pc);
            double neg = -log(1 - pc + 1e-12) * 0.75 * pc * pc;
            cls_cost = pos - neg;
        }
        for (int g = 0; g < G; g++) {
            const float *t = gt + (size_t)g * hw;
            double pt = 0, tsum = 0, negs = 0;
            for (int j = 0; j < hw; j++) {
                double pj = p[(size_t)i * hw + j];
                pt += pj * t[j];
                tsum += t[j];
                negs += (1 - pj) * (1 - t[j]);
            }
            double mask_cost = -(pt + negs) / hw;
            double dice_cost = 1.0 - (2 * pt + 1e-3) / (psum + tsum + 1e-3);
            cost[(size_t)i * G + g] = W_CLS * cls_cost + W_MASK * mask_cost + W_DICE * dice_cost;
        }
    }
}

int knet_loss(knet_model *m, tp_tape *t, const knet_outputs *out, const knet_targets *tg,
              knet_losses *L, es_error *err) {
    memset(L, 0, sizeof *L);
    if (t->rc) {
        if (err) *err = t->err;
        return t->rc;
    }
    int B = out->batch, N = out->n, hw = out->hm * out->wm, stages = m->cfg.stages;
    if (tg->hm != out->hm || tg->wm != out->wm || tg->batch != B)
        return es_error_set(err, ES_ERR_INVALID, "knet loss: targets %dx%d for %d images, outputs %dx%d for %d",
                            tg->hm, tg->wm, tg->batch, out->hm, out->wm, B);
    int total_gt = 0;
    for (int b = 0; b < B; b++) total_gt += tg->n_gt[b] < N ? tg->n_gt[b] : N;
    size_t nm = (size_t)B * N * hw;
    float *mh = malloc(nm * sizeof *mh);
    float *ch = malloc((size_t)B * N * sizeof *ch);
    double *p = malloc((size_t)N * hw * sizeof *p);
    double *cost = malloc((size_t)N * KNET_MAX_GT * sizeof *cost);
    int *rows = malloc(sizeof(int) * KNET_MAX_GT), *cols = malloc(sizeof(int) * KNET_MAX_GT);
    float *cls_t = malloc((size_t)B * N * sizeof *cls_t);
    float *mask_t = malloc(((size_t)total_gt + 1) * hw * sizeof *mask_t);
    int rc = (!mh || !ch || !p || !cost || !rows || !cols || !cls_t || !mask_t)
                 ? es_error_set(err, ES_ERR_NOMEM, "knet loss: out of memory") : ES_OK;
    /* the assignment (idx, cls_t, mask_t) of stage `assigned`'s predictions */
    int assigned = -1, npos = 0;
    int32_t *idx = NULL, idx_host[64 * KNET_MAX_GT];
    for (int s = 0; s <= stages && !rc; s++) {
        int src = s == 0 ? 0 : s - 1; /* the predictions the assignment looks at */
        if (src != assigned) {        /* stage 1 reuses stage 0's assignment */
            rc = nn_tensor_download(t->ctx, &out->masks[src], mh, err);
            if (!rc && src > 0) rc = nn_tensor_download(t->ctx, &out->cls[src], ch, err);
            if (rc) break;
            npos = 0;
            idx = nn_arena_alloc(t->arena, sizeof(int32_t) * ((size_t)total_gt + 1), err);
            if (!idx) {
                rc = err ? err->code : ES_ERR_NOMEM;
                break;
            }
            memset(cls_t, 0, (size_t)B * N * sizeof *cls_t);
            for (int b = 0; b < B && !rc; b++) {
                int G = tg->n_gt[b];
                if (G == 0) continue;
                match_cost(mh + (size_t)b * N * hw, src > 0 ? ch + (size_t)b * N : NULL, N, hw,
                           tg->masks[b], G, cost, p);
                rc = nn_linear_sum_assignment(cost, N, G, rows, cols, NULL, err);
                int k = N < G ? N : G;
                for (int i = 0; i < k && !rc; i++) {
                    idx_host[npos] = b * N + rows[i];
                    memcpy(mask_t + (size_t)npos * hw, tg->masks[b] + (size_t)cols[i] * hw,
                           (size_t)hw * sizeof *mask_t);
                    cls_t[b * N + rows[i]] = 1.0f;
                    npos++;
                }
            }
            if (!rc && npos > 0)
                rc = nn_memcpy_to_device(t->ctx, idx, idx_host, sizeof(int32_t) * (size_t)npos, err);
            if (rc) break;
            assigned = src;
        }
        float avg = npos > 0 ? (float)npos : 1.0f;
        float lc = 0, lm = 0, ld = 0;
        if (s > 0) {
            nn_tensor targ;
            rc = nn_tensor_new(t->arena, &targ, 0, 1, NN_SHAPE(B * N), err);
            if (!rc) rc = nn_tensor_upload(t->ctx, &targ, cls_t, err);
            nn_tensor logits;
            if (!rc) rc = nn_tensor_view(&out->cls[s], 1, NN_SHAPE(B * N), &logits, err);
            if (!rc) rc = nn_sigmoid_focal_loss(t->ctx, &logits, &targ, NULL, 0.25f, 2.0f, W_CLS / avg, &lc, err);
        }
        if (!rc && npos > 0) {
            nn_tensor rowsv, matched, targ;
            rc = nn_tensor_view(&out->masks[s], 2, NN_SHAPE(B * N, hw), &rowsv, err);
            if (!rc) {
                matched = tp_index(t, &rowsv, idx, npos);
                rc = t->rc;
                if (rc && err) *err = t->err;
            }
            if (!rc) rc = nn_tensor_new(t->arena, &targ, 0, 2, NN_SHAPE(npos, hw), err);
            if (!rc) rc = nn_tensor_upload(t->ctx, &targ, mask_t, err);
            if (!rc) rc = nn_bce_logits_loss(t->ctx, &matched, &targ, NULL, W_MASK / ((float)npos * hw), &lm, err);
            if (!rc) rc = nn_dice_loss(t->ctx, &matched, &targ, NN_DICE_KNET, W_DICE / (float)npos, &ld, err);
        }
        L->cls += lc;
        L->mask += lm;
        L->dice += ld;
        L->stage_total[s] = lc + lm + ld;
        L->total += lc + lm + ld;
    }
    free(mh);
    free(ch);
    free(p);
    free(cost);
    free(rows);
    free(cols);
    free(cls_t);
    free(mask_t);
    return rc;
}
