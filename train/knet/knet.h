/* knet.h: the K-Net entity baseline (class-agnostic: one "entity" class).
 *
 * Pipeline (docs/knet.md lists every deviation from ZwwWayne/K-Net):
 *   tiny: image (B, 3, H, W) -> ResNet with GroupNorm (stride 4..32) -> FPN -> semantic-FPN
 *   neck merged at stride 4 (coordinates on the top level) -> features F (B, C, H/4, W/4);
 *   full: ResNet-50 with frozen BN -> FPN -> K-Net's semantic-FPN neck merged at stride 8
 *   (sine positional encoding on the top level) -> F (B, C, H/8, W/8), masks upsampled x2;
 *   -> N learnable proposal kernels give masks_0 = K0 . F
 *   -> 3 kernel-update stages: group-feature assembling under the binarised previous masks,
 *      adaptive kernel update (gates + LayerNorms), multi-head self-attention + FFN,
 *      objectness head and mask head (dynamic 1x1 conv of the new kernels with F).
 * Training: per stage, Hungarian assignment on the previous stage's predictions
 * (2 focal + 1 mask + 4 dice), losses focal 2 / BCE 1 / dice 4. */
#ifndef ENTSEG_KNET_H
#define ENTSEG_KNET_H

#include "knet/tape.h"
#include "nn.h"

#define KNET_MAX_STAGES 6
#define KNET_MAX_GT 64
#define KNET_MAX_BATCH 64 /* images per batch (config `batch`), the size of per-batch arrays */
#define KNET_MAX_SCALES 16

typedef struct knet_config {
    char preset[16];      /* "tiny" | "full" */
    int scales[KNET_MAX_SCALES]; /* training short sides, one drawn per image; 0-terminated */
    int max_size;         /* longest resized side (mmdet Resize keep_ratio) */
    int pad_divisor;      /* batch H, W are padded to multiples of this (a multiple of 4) */
    int test_scale;       /* inference / validation short side */
    float flip;           /* probability of a horizontal flip per training image */
    int cache_mb;         /* keep every image resized in memory when the store's resized
                             images fit in this many MB (their mask RLEs come on top) and
                             scales has one value; 0 = always stream */
    int num_kernels;      /* N */
    int channels;         /* C: neck and kernel width */
    int stem;             /* stem width */
    int widths[4];        /* backbone stage widths (strides 4, 8, 16, 32) */
    int gn_groups;
    int heads;
    int ffn_channels;
    int stages;
    int batch;
    float lr, weight_decay, clip, backbone_lr_mult, warmup_ratio;
    int warmup_iters, iters;
    int steps0, steps1;   /* lr x0.1 at these iterations (0 = none) */
    int val_every, ckpt_every, log_every;
    int topk;
    float mask_thr;
    int seed;
    int loader_threads;
    /* full preset: a torchvision resnet50 state dict as safetensors (keys conv1.weight,
     * layer1.0.bn1.running_mean, ...), loaded into backbone.* by `fit`; "" = random init */
    char backbone_weights[512];
} knet_config;

/* The tiny preset's defaults. */
knet_config knet_config_tiny(void);
/* The full preset: ResNet-50 with frozen BN (stem + layer1 frozen), FPN, K-Net's
 * semantic-FPN neck at stride 8, 100 kernels, 256 channels (docs/knet.md). The ResNet's
 * stem and layer widths come from `stem` and `widths` (torchvision: 64; 256..2048). */
knet_config knet_config_full(void);
/* 1 when c selects the full architecture (preset "full"), 0 for the tiny one. */
int knet_is_full(const knet_config *c);
/* The defaults of the preset called `name` ("tiny" or "full") into *out; ES_ERR_INVALID
 * (and *out untouched) for any other name. */
int knet_config_preset(const char *name, knet_config *out, es_error *err);
/* Loads a flat JSON object of fields into c (unknown keys are an error). */
int knet_config_load_json(knet_config *c, const char *path, es_error *err);
int knet_config_parse_json(knet_config *c, const char *text, es_error *err);
/* "key=value" override. */
int knet_config_set(knet_config *c, const char *assignment, es_error *err);
/* The config as one JSON object (malloc'ed). */
char *knet_config_to_json(const knet_config *c);

typedef struct knet_model {
    knet_config cfg;
    nn_params *ps;
} knet_model;

int knet_model_create(knet_model *m, const knet_config *cfg, nn_ctx *ctx, uint64_t seed,
                      es_error *err);
/* Loads cfg.backbone_weights (a converted torchvision resnet50, safetensors) into the full
 * model's backbone.* parameters (fc.* and num_batches_tracked are skipped). ES_ERR_IO when
 * the file cannot be read, ES_ERR_FORMAT / ES_ERR_INVALID when it is not safetensors or a
 * tensor's shape does not match; ES_ERR_INVALID when it fills no backbone parameter.
 * *n_loaded (may be NULL) gets the number of parameters filled. */
int knet_model_load_backbone(knet_model *m, nn_ctx *ctx, const char *path, int *n_loaded,
                             es_error *err);
void knet_model_free(knet_model *m);

typedef struct knet_outputs {
    int batch, n, hm, wm;
    nn_tensor masks[KNET_MAX_STAGES + 1]; /* (B, N, hm*wm) logits; [0] = proposal stage */
    nn_tensor cls[KNET_MAX_STAGES + 1];   /* (B, N, 1) objectness logits; [0] unused */
} knet_outputs;

/* images (B, 3, H, W) on the ctx's device (tiny: any size divisible by 32; full: H and W
 * multiples of 32, read from the tensor). Outputs at stride 4: hm = H/4, wm = W/4.
 * Errors land in the tape. */
void knet_forward(knet_model *m, tp_tape *t, const nn_tensor *images, knet_outputs *out);

/* The feature maps the kernels read (knet_forward's first part). full: *loc (B, C, H/8, W/8),
 * the loc_convs output that makes the proposal masks, and *feat = loc + seg (the stages'
 * input); tiny: both are F (B, C, H/4, W/4). Errors land in the tape. */
void knet_features(knet_model *m, tp_tape *t, const nn_tensor *images, nn_tensor *loc,
                   nn_tensor *feat);

/* Ground truth of a batch at mask resolution (hm x wm), host memory. */
typedef struct knet_targets {
    int batch, hm, wm;
    int n_gt[KNET_MAX_BATCH];
    float *masks[KNET_MAX_BATCH];     /* image b: n_gt[b] masks of hm*wm, 0/1 */
} knet_targets;

typedef struct knet_losses {
    float total, cls, mask, dice;      /* summed over stages */
    float stage_total[KNET_MAX_STAGES + 1];
} knet_losses;

/* Matches, computes every loss and adds the loss gradients into the outputs' grads
 * (call tp_backward afterwards). */
int knet_loss(knet_model *m, tp_tape *t, const knet_outputs *out, const knet_targets *tg,
              knet_losses *losses, es_error *err);

#endif
