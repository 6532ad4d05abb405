/* test_nn_torch.c: forward (and backward) of the CPU ops against PyTorch 1.13, from the
 * fixtures scripts/twins/nn_fixtures.py wrote (tests/train/fixtures/nn_*.bin). */
#include <stdint.h>

#include "nn_check.h"

static nn_ctx *ctx;
static es_error err;

typedef struct fx {
    int n;
    nn_tensor t[24];
    float *mem[24];
} fx;

/* reads fixture `name`; arrays become CPU tensors with zeroed grads */
static int fx_load(const char *name, fx *f) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/train/fixtures/nn_%s.bin", ES_SOURCE_DIR, name);
    FILE *fp = fopen(path, "rb");
    memset(f, 0, sizeof *f);
    if (!fp) {
        printf("  cannot open %s\n", path);
        return 0;
    }
    uint32_t n;
    int ok = fread(&n, 4, 1, fp) == 1 && n <= 24;
    for (uint32_t i = 0; ok && i < n; i++) {
        uint32_t nd, dims[NN_MAX_DIMS];
        ok = fread(&nd, 4, 1, fp) == 1 && nd >= 1 && nd <= NN_MAX_DIMS && fread(dims, 4, nd, fp) == nd;
        if (!ok) break;
        int shape[NN_MAX_DIMS];
        int64_t numel = 1;
        for (uint32_t d = 0; d < nd; d++) numel *= (shape[d] = (int)dims[d]);
        f->mem[i] = calloc((size_t)numel * 2 + 1, sizeof(float));
        ok = fread(f->mem[i], 4, (size_t)numel, fp) == (size_t)numel;
        f->t[i] = nn_tensor_wrap(f->mem[i], f->mem[i] + numel, NN_DEVICE_CPU, (int)nd, shape);
        f->n++;
    }
    fclose(fp);
    if (!ok) printf("  %s: truncated fixture\n", path);
    return ok;
}

static void fx_free(fx *f) {
    for (int i = 0; i < f->n; i++) free(f->mem[i]);
}

/* a scratch tensor shaped like t (zeroed data and grad) */
static nn_tensor like(const nn_tensor *t, float **mem) {
    *mem = calloc((size_t)t->numel * 2 + 1, sizeof(float));
    return nn_tensor_wrap(*mem, *mem + t->numel, NN_DEVICE_CPU, t->ndim, t->shape);
}

#define NEAR_ALL(a, b, n, tol) CHECK_MSG(gc_maxdiff(a, b, n) <= (tol), "max diff %g", gc_maxdiff(a, b, n))

static void conv_case(const char *name, nn_conv2d_opts o) {
    fx f;
    if (!fx_load(name, &f)) {
        CHECK(0);
        return;
    }
    float *m;
    nn_tensor y = like(&f.t[3], &m);
    CHECK_OK(nn_conv2d_forward(ctx, &f.t[0], &f.t[1], &f.t[2], &y, &o, &err), &err);
    NEAR_ALL(y.data, f.t[3].data, y.numel, 1e-5);
    memcpy(y.grad, f.t[4].data, (size_t)y.numel * 4);
    CHECK_OK(nn_conv2d_backward(ctx, &f.t[0], &f.t[1], &f.t[2], &y, &o, &err), &err);
    for (int i = 0; i < 3; i++) NEAR_ALL(f.t[i].grad, f.t[5 + i].data, f.t[i].numel, 1e-4);
    free(m);
    fx_free(&f);
}

static void test_conv2d_vs_torch(void) {
    conv_case("conv2d_g2s2", nn_conv2d_opts_make(2, 1, 1, 2));
    conv_case("conv2d_d2", nn_conv2d_opts_make(1, 2, 2, 1));
}

static void test_resize_vs_torch(void) {
    fx f;
    if (!fx_load("resize", &f)) {
        CHECK(0);
        return;
    }
    nn_resize_mode modes[5] = {NN_RESIZE_HALF_PIXEL, NN_RESIZE_HALF_PIXEL, NN_RESIZE_ALIGN_CORNERS,
                               NN_RESIZE_ALIGNED, NN_RESIZE_ALIGNED};
    for (int i = 0; i < 5; i++) {
        float *m;
        nn_tensor y = like(&f.t[1 + i], &m);
        CHECK_OK(nn_resize_forward(ctx, &f.t[0], &y, modes[i], &err), &err);
        CHECK_MSG(gc_maxdiff(y.data, f.t[1 + i].data, y.numel) <= 1e-5, "resize case %d: %g", i,
                  gc_maxdiff(y.data, f.t[1 + i].data, y.numel));
        free(m);
    }
    fx_free(&f);
}

static void test_point_sample_vs_torch(void) {
    fx f;
    if (!fx_load("point_sample", &f)) {
        CHECK(0);
        return;
    }
    float *m;
    nn_tensor y = like(&f.t[2], &m);
    CHECK_OK(nn_point_sample_forward(ctx, &f.t[0], &f.t[1], &y, &err), &err);
    NEAR_ALL(y.data, f.t[2].data, y.numel, 1e-5);
    memcpy(y.grad, f.t[3].data, (size_t)y.numel * 4);
    CHECK_OK(nn_point_sample_backward(ctx, &f.t[0], &f.t[1], &y, &err), &err);
    NEAR_ALL(f.t[0].grad, f.t[4].data, f.t[0].numel, 1e-5);
    free(m);
    fx_free(&f);
}

static void test_norms_vs_torch(void) {
    fx f;
    for (int which = 0; which < 2; which++) {
        if (!fx_load(which ? "layernorm" : "groupnorm", &f)) {
            CHECK(0);
            return;
        }
        float *m;
        nn_tensor y = like(&f.t[3], &m);
        if (which)
            CHECK_OK(nn_layernorm_forward(ctx, &f.t[0], &f.t[1], &f.t[2], 1e-5f, &y, &err), &err);
        else
            CHECK_OK(nn_groupnorm_forward(ctx, &f.t[0], &f.t[1], &f.t[2], 32, 1e-5f, &y, &err), &err);
        NEAR_ALL(y.data, f.t[3].data, y.numel, 2e-5);
        memcpy(y.grad, f.t[4].data, (size_t)y.numel * 4);
        if (which)
            CHECK_OK(nn_layernorm_backward(ctx, &f.t[0], &f.t[1], &f.t[2], 1e-5f, &y, &err), &err);
        else
            CHECK_OK(nn_groupnorm_backward(ctx, &f.t[0], &f.t[1], &f.t[2], 32, 1e-5f, &y, &err), &err);
        for (int i = 0; i < 3; i++) NEAR_ALL(f.t[i].grad, f.t[5 + i].data, f.t[i].numel, 1e-4);
        free(m);
        fx_free(&f);
    }
    if (!fx_load("frozen_bn", &f)) {
        CHECK(0);
        return;
    }
    float *m;
    nn_tensor y = like(&f.t[5], &m);
    CHECK_OK(nn_frozen_bn_forward(ctx, &f.t[0], &f.t[1], &f.t[2], &f.t[3], &f.t[4], 1e-5f, &y, &err), &err);
    NEAR_ALL(y.data, f.t[5].data, y.numel, 1e-5);
    free(m);
    fx_free(&f);
}

static void test_activations_vs_torch(void) {
    fx f;
    if (!fx_load("act", &f)) {
        CHECK(0);
        return;
    }
    for (int i = 0; i < 5; i++) {
        float *m;
        nn_tensor y = like(&f.t[1 + i], &m);
        if (i == 0) CHECK_OK(nn_relu_forward(ctx, &f.t[0], &y, &err), &err);
        if (i == 1) CHECK_OK(nn_gelu_forward(ctx, &f.t[0], &y, &err), &err);
        if (i == 2) CHECK_OK(nn_sigmoid_forward(ctx, &f.t[0], &y, &err), &err);
        if (i == 3) CHECK_OK(nn_softmax_forward(ctx, &f.t[0], &y, &err), &err);
        if (i == 4) CHECK_OK(nn_maxpool2d_forward(ctx, &f.t[0], 3, 2, 1, &y, &err), &err);
        CHECK_MSG(gc_maxdiff(y.data, f.t[1 + i].data, y.numel) <= 1e-6 * 4, "act %d: %g", i,
                  gc_maxdiff(y.data, f.t[1 + i].data, y.numel));
        free(m);
    }
    fx_free(&f);
}

static void test_attention_vs_torch(void) {
    fx f;
    if (!fx_load("attention", &f)) {
        CHECK(0);
        return;
    }
    float *m, *pm;
    nn_tensor o = like(&f.t[4], &m);
    int B = f.t[0].shape[0], Lq = f.t[0].shape[1], Lk = f.t[1].shape[1], H = 2;
    pm = calloc((size_t)B * H * Lq * Lk, 4);
    nn_tensor probs = nn_tensor_wrap(pm, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(B, H, Lq, Lk));
    CHECK_OK(nn_attention_forward(ctx, &f.t[0], &f.t[1], &f.t[2], &f.t[3], H, &probs, &o, &err), &err);
    NEAR_ALL(o.data, f.t[4].data, o.numel, 1e-5);
    memcpy(o.grad, f.t[5].data, (size_t)o.numel * 4);
    CHECK_OK(nn_attention_backward(ctx, &f.t[0], &f.t[1], &f.t[2], &f.t[3], H, &probs, &o, &err), &err);
    for (int i = 0; i < 3; i++) NEAR_ALL(f.t[i].grad, f.t[6 + i].data, f.t[i].numel, 1e-5);
    free(m);
    free(pm);
    fx_free(&f);
}

static void test_losses_vs_torch(void) {
    fx f;
    if (!fx_load("losses", &f)) {
        CHECK(0);
        return;
    }
    nn_tensor *x = &f.t[0], *t = &f.t[1];
    for (int i = 0; i < 5; i++) {
        float loss = 0;
        memset(x->grad, 0, (size_t)x->numel * 4);
        if (i == 0) CHECK_OK(nn_sigmoid_focal_loss(ctx, x, t, NULL, 0.25f, 2.0f, 1.0f, &loss, &err), &err);
        if (i == 1) CHECK_OK(nn_bce_logits_loss(ctx, x, t, NULL, 1.0f, &loss, &err), &err);
        if (i >= 2) CHECK_OK(nn_dice_loss(ctx, x, t, (nn_dice_variant)(i - 2), 1.0f, &loss, &err), &err);
        CHECK_MSG(fabs(loss - f.t[2 + i].data[0]) <= 1e-5 * (1 + fabs(loss)), "loss %d: %g vs %g", i, loss,
                  f.t[2 + i].data[0]);
        CHECK_MSG(gc_maxdiff(x->grad, f.t[7 + i].data, x->numel) <= 1e-6 * 5, "loss %d grad: %g", i,
                  gc_maxdiff(x->grad, f.t[7 + i].data, x->numel));
    }
    nn_tensor *lg = &f.t[12];
    int32_t labels[6];
    for (int i = 0; i < 6; i++) labels[i] = (int32_t)f.t[13].data[i];
    float loss;
    CHECK_OK(nn_softmax_ce_loss(ctx, lg, labels, &f.t[14], 1, 1.0f, &loss, &err), &err);
    CHECK_NEAR(loss, f.t[15].data[0], 1e-5);
    NEAR_ALL(lg->grad, f.t[16].data, lg->numel, 1e-6);
    fx_free(&f);
}

static void optim_case(const char *name, nn_optim_kind kind, float lr, float wd) {
    fx f;
    if (!fx_load(name, &f)) {
        CHECK(0);
        return;
    }
    nn_params *ps;
    nn_optim *opt;
    int idx;
    CHECK_OK(nn_params_create(&ps, &err), &err);
    CHECK_OK(nn_params_add(ps, "p", 0, 0, 1, NN_SHAPE(10), &idx, &err), &err);
    CHECK_OK(nn_params_alloc(ps, ctx, &err), &err);
    nn_tensor *p = nn_params_tensor(ps, idx);
    memcpy(p->data, f.t[0].data, 40);
    nn_optim_opts o = nn_optim_opts_default(kind);
    o.weight_decay = wd;
    CHECK_OK(nn_optim_create(&opt, ps, ctx, &o, &err), &err);
    for (int s = 0; s < 3; s++) {
        memcpy(p->grad, f.t[1 + s].data, 40);
        CHECK_OK(nn_optim_step(opt, ctx, lr, &err), &err);
    }
    CHECK_MSG(gc_maxdiff(p->data, f.t[4].data, 10) <= 1e-6, "%s: %g", name, gc_maxdiff(p->data, f.t[4].data, 10));
    CHECK_EQ_INT(nn_optim_steps(opt), 3);
    nn_optim_free(opt);
    nn_params_free(ps);
    fx_free(&f);
}

static void test_optimisers_vs_torch(void) {
    optim_case("optim_sgd", NN_OPTIM_SGD, 0.1f, 1e-2f);
    optim_case("optim_adamw", NN_OPTIM_ADAMW, 0.01f, 0.05f);
}

int main(void) {
    if (nn_ctx_create(&ctx, NN_REQUEST_CPU, 1, &err)) {
        printf("setup: %s\n", err.msg);
        return 1;
    }
    ES_RUN(test_conv2d_vs_torch);
    ES_RUN(test_resize_vs_torch);
    ES_RUN(test_point_sample_vs_torch);
    ES_RUN(test_norms_vs_torch);
    ES_RUN(test_activations_vs_torch);
    ES_RUN(test_attention_vs_torch);
    ES_RUN(test_losses_vs_torch);
    ES_RUN(test_optimisers_vs_torch);
    nn_ctx_free(ctx);
    ES_TEST_END();
}
