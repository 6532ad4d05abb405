/* knet_resnet50.h: the ResNet-50 backbone of K-Net's full preset (torchvision layout, v1.5:
 * stride on the 3x3 conv of each Bottleneck), every BatchNorm frozen.
 *
 * Parameters are declared into the caller's nn_params under torchvision's names with the
 * prefix "backbone." (backbone.conv1.weight, backbone.bn1.running_mean,
 * backbone.layer1.0.conv2.weight, backbone.layer1.0.downsample.1.weight, ...), so a
 * converted torchvision resnet50 state dict (scripts/twins/pth_to_safetensors.py) loads with
 * nn_checkpoint_load(path, ps, NULL, ctx, "backbone.", NN_LOAD_ALLOW_MISSING |
 * NN_LOAD_ALLOW_UNEXPECTED, ...) (fc.* and num_batches_tracked are skipped).
 *
 * Every BN tensor (weight, bias, running_mean, running_var) is NN_PARAM_FROZEN (no gradient,
 * never updated; torchvision FrozenBatchNorm2d, eps 1e-5). The stem and the first
 * `frozen_stages` layers have frozen conv weights as well (mmdet frozen_stages=1: stem and
 * layer1) and run unrecorded on the tape, so backward neither stores nor visits them.
 *
 * Ownership: the parameters belong to the nn_params passed in; the forward's activations to
 * the tape's arena. */
#ifndef ENTSEG_KNET_RESNET50_H
#define ENTSEG_KNET_RESNET50_H

#include "knet/tape.h"
#include "nn.h"

typedef struct knet_r50_dims {
    int stem;          /* stem width (torchvision: 64) */
    int widths[4];     /* output width of layer1..4 (256, 512, 1024, 2048); the Bottleneck's
                        * inner width is widths[l] / 4 (expansion 4) */
    int frozen_stages; /* 0: nothing frozen but BN; 1: stem + layer1 (reference); up to 4 */
} knet_r50_dims;

/* Declares every backbone parameter (before nn_params_alloc) in optimiser group `group`.
 * ES_ERR_INVALID when a width is not a positive multiple of 4. */
int knet_r50_declare(nn_params *ps, const knet_r50_dims *d, int group, es_error *err);

/* Initialises the declared backbone parameters (after nn_params_alloc) as torchvision does
 * for a fresh model: convs Kaiming normal (fan_out, ReLU gain), BN weight 1, bias 0,
 * running_mean 0, running_var 1. */
int knet_r50_init(nn_params *ps, nn_ctx *ctx, nn_rng *rng, es_error *err);

/* images (B, 3, H, W), H and W multiples of 32 -> feats[l] (B, widths[l], H/2^(l+2),
 * W/2^(l+2)) for l = 0..3 (strides 4, 8, 16, 32). Errors land in the tape. */
void knet_r50_forward(tp_tape *t, nn_params *ps, const knet_r50_dims *d, const nn_tensor *images,
                      nn_tensor feats[4]);

#endif
