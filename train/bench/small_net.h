/* small_net.h: the small conv net that tests/train/test_nn_train.c trains and
 * bench_nn_train.c times against its PyTorch twin (scripts/twins/small_net.py):
 *
 *   x (N, 3, H, W) -> [conv3x3 -> GroupNorm -> ReLU] x 3 -> conv1x1 -> logits (N, 1, H, W)
 *   (GroupNorm + ReLU as the engine's fused op, nn_groupnorm_relu_*)
 *   loss = BCE-with-logits(logits, mask), mean over pixels; SGD momentum 0.9
 *
 * on a fixed task: find the bright square in a noisy image. Header-only (static functions)
 * so a test and a bench can share it without a library. */
#ifndef ENTSEG_SMALL_NET_H
#define ENTSEG_SMALL_NET_H

#include <stdio.h>
#include <string.h>

#include "nn.h"

#define SMALL_NET_LAYERS 3

typedef struct small_net {
    int n, c, h, w, groups;
    nn_params *ps;
    int conv_w[SMALL_NET_LAYERS + 1], conv_b[SMALL_NET_LAYERS + 1];
    int gn_g[SMALL_NET_LAYERS], gn_b[SMALL_NET_LAYERS];
    nn_arena *act;
    nn_optim *opt;
} small_net;

static int small_net_init(small_net *net, nn_ctx *ctx, int n, int c, int h, int w, int groups,
                          uint64_t seed, es_error *err) {
    memset(net, 0, sizeof *net);
    net->n = n;
    net->c = c;
    net->h = h;
    net->w = w;
    net->groups = groups;
    ES_CHECK(nn_params_create(&net->ps, err));
    char name[64];
    for (int l = 0; l <= SMALL_NET_LAYERS; l++) {
        int cin = l == 0 ? 3 : c, cout = l == SMALL_NET_LAYERS ? 1 : c, k = l == SMALL_NET_LAYERS ? 1 : 3;
        snprintf(name, sizeof name, "conv%d.weight", l);
        ES_CHECK(nn_params_add(net->ps, name, 0, 0, 4, NN_SHAPE(cout, cin, k, k), &net->conv_w[l], err));
        snprintf(name, sizeof name, "conv%d.bias", l);
        ES_CHECK(nn_params_add(net->ps, name, 0, 0, 1, NN_SHAPE(cout), &net->conv_b[l], err));
        if (l < SMALL_NET_LAYERS) {
            snprintf(name, sizeof name, "gn%d.weight", l);
            ES_CHECK(nn_params_add(net->ps, name, 0, 0, 1, NN_SHAPE(c), &net->gn_g[l], err));
            snprintf(name, sizeof name, "gn%d.bias", l);
            ES_CHECK(nn_params_add(net->ps, name, 0, 0, 1, NN_SHAPE(c), &net->gn_b[l], err));
        }
    }
    ES_CHECK(nn_params_alloc(net->ps, ctx, err));
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int l = 0; l <= SMALL_NET_LAYERS; l++) {
        ES_CHECK(nn_params_init(net->ps, ctx, net->conv_w[l], NN_INIT_KAIMING_UNIFORM, 0, 0, &rng, err));
        ES_CHECK(nn_params_init(net->ps, ctx, net->conv_b[l], NN_INIT_ZEROS, 0, 0, &rng, err));
        if (l < SMALL_NET_LAYERS) {
            ES_CHECK(nn_params_init(net->ps, ctx, net->gn_g[l], NN_INIT_ONES, 0, 0, &rng, err));
            ES_CHECK(nn_params_init(net->ps, ctx, net->gn_b[l], NN_INIT_ZEROS, 0, 0, &rng, err));
        }
    }
    nn_optim_opts o = nn_optim_opts_default(NN_OPTIM_SGD);
    o.momentum = 0.9f;
    ES_CHECK(nn_optim_create(&net->opt, net->ps, ctx, &o, err));
    return nn_arena_create(&net->act, ctx, (size_t)n * c * h * w * 4 * 16, err);
}

static void small_net_free(small_net *net) {
    nn_arena_free(net->act);
    nn_optim_free(net->opt);
    nn_params_free(net->ps);
}

/* A batch of the fixed task: noise in [0, 0.5) and one square (side h/8..h/2) brighter by
 * 0.5 in every channel; the target is the square's mask. */
static void small_net_batch(nn_rng *rng, int n, int h, int w, float *x, float *t) {
    for (int i = 0; i < n; i++) {
        int side = h / 8 + (int)(nn_rng_u32(rng) % (unsigned)(h / 2 - h / 8));
        int y0 = (int)(nn_rng_u32(rng) % (unsigned)(h - side)), x0 = (int)(nn_rng_u32(rng) % (unsigned)(w - side));
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++) {
                int in = yy >= y0 && yy < y0 + side && xx >= x0 && xx < x0 + side;
                t[((int64_t)i * h + yy) * w + xx] = (float)in;
                for (int ch = 0; ch < 3; ch++)
                    x[(((int64_t)i * 3 + ch) * h + yy) * w + xx] = 0.5f * nn_rng_uniform(rng) + 0.5f * (float)in;
            }
    }
}

/* One training step on host data x (n, 3, h, w), t (n, 1, h, w); returns the mean loss. */
static int small_net_step(small_net *net, nn_ctx *ctx, const float *x_host, const float *t_host,
                          float lr, float *loss, es_error *err) {
    int n = net->n, c = net->c, h = net->h, w = net->w;
    nn_arena_reset(net->act);
    nn_tensor x, t, conv[SMALL_NET_LAYERS + 1], act[SMALL_NET_LAYERS];
    ES_CHECK(nn_tensor_new(net->act, &x, 0, 4, NN_SHAPE(n, 3, h, w), err));
    ES_CHECK(nn_tensor_new(net->act, &t, 0, 4, NN_SHAPE(n, 1, h, w), err));
    ES_CHECK(nn_tensor_upload(ctx, &x, x_host, err));
    ES_CHECK(nn_tensor_upload(ctx, &t, t_host, err));
    nn_conv2d_opts o3 = nn_conv2d_opts_make(1, 1, 1, 1), o1 = nn_conv2d_opts_make(1, 0, 1, 1);
    nn_params *ps = net->ps;
    const nn_tensor *in = &x;
    for (int l = 0; l < SMALL_NET_LAYERS; l++) {
        ES_CHECK(nn_tensor_new(net->act, &conv[l], 1, 4, NN_SHAPE(n, c, h, w), err));
        ES_CHECK(nn_tensor_new(net->act, &act[l], 1, 4, NN_SHAPE(n, c, h, w), err));
        ES_CHECK(nn_conv2d_forward(ctx, in, nn_params_tensor(ps, net->conv_w[l]), nn_params_tensor(ps, net->conv_b[l]),
                                 &conv[l], &o3, err));
        ES_CHECK(nn_groupnorm_relu_forward(ctx, &conv[l], nn_params_tensor(ps, net->gn_g[l]),
                                         nn_params_tensor(ps, net->gn_b[l]), net->groups, 1e-5f, &act[l], err));
        in = &act[l];
    }
    nn_tensor *logits = &conv[SMALL_NET_LAYERS];
    ES_CHECK(nn_tensor_new(net->act, logits, 1, 4, NN_SHAPE(n, 1, h, w), err));
    ES_CHECK(nn_conv2d_forward(ctx, in, nn_params_tensor(ps, net->conv_w[SMALL_NET_LAYERS]),
                             nn_params_tensor(ps, net->conv_b[SMALL_NET_LAYERS]), logits, &o1, err));
    ES_CHECK(nn_params_zero_grad(ps, ctx, err));
    ES_CHECK(nn_bce_logits_loss(ctx, logits, &t, NULL, 1.0f / (float)logits->numel, loss, err));
    ES_CHECK(nn_conv2d_backward(ctx, in, nn_params_tensor(ps, net->conv_w[SMALL_NET_LAYERS]),
                              nn_params_tensor(ps, net->conv_b[SMALL_NET_LAYERS]), logits, &o1, err));
    for (int l = SMALL_NET_LAYERS - 1; l >= 0; l--) {
        ES_CHECK(nn_groupnorm_relu_backward(ctx, &conv[l], nn_params_tensor(ps, net->gn_g[l]),
                                          nn_params_tensor(ps, net->gn_b[l]), net->groups, 1e-5f, &act[l], err));
        const nn_tensor *prev = l == 0 ? &x : &act[l - 1];
        ES_CHECK(nn_conv2d_backward(ctx, prev, nn_params_tensor(ps, net->conv_w[l]),
                                  nn_params_tensor(ps, net->conv_b[l]), &conv[l], &o3, err));
    }
    ES_CHECK(nn_optim_step(net->opt, ctx, lr, err));
    return ES_OK;
}

#endif
