/* test_cuda_ops.c: every op on the CUDA backend against the CPU reference (forward values
 * and backward gradients, |gpu - cpu| <= atol + rtol |cpu|) on random inputs. Skips (77)
 * without a usable GPU or without a CUDA build. */
#include "nn_check.h"

static nn_ctx *cpu, *gpu;
static nn_arena *acpu, *agpu;
static es_error err;
static const double ATOL = 1e-4, RTOL = 1e-3;

typedef struct twin {
    nn_tensor c, g;
} twin;

/* random data on both devices; grads zeroed */
static twin tw(int with_grad, int ndim, const int *shape, float lo, float hi) {
    twin t;
    if (nn_tensor_new(acpu, &t.c, with_grad, ndim, shape, &err) ||
        nn_tensor_new(agpu, &t.g, with_grad, ndim, shape, &err)) {
        printf("alloc: %s\n", err.msg);
        exit(1);
    }
    nn_rng_fill_uniform(&gc_rng, t.c.data, t.c.numel, lo, hi);
    if (nn_tensor_upload(gpu, &t.g, t.c.data, &err)) {
        printf("upload: %s\n", err.msg);
        exit(1);
    }
    return t;
}
#define TW(g, ...) tw(g, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), NN_SHAPE(__VA_ARGS__), -1.0f, 1.0f)

/* same upstream gradient on both */
static void seed_grad(twin *t) {
    nn_rng_fill_uniform(&gc_rng, t->c.grad, t->c.numel, -1, 1);
    nn_memcpy_to_device(gpu, t->g.grad, t->c.grad, (size_t)t->c.numel * 4, &err);
}

static int close_all(const char *what, const float *ref, const nn_tensor *g, int grad) {
    float *h = malloc((size_t)g->numel * 4 + 4);
    int rc = grad ? nn_tensor_download_grad(gpu, g, h, &err) : nn_tensor_download(gpu, g, h, &err);
    int bad = rc != 0;
    for (int64_t i = 0; !bad && i < g->numel; i++)
        if (!(fabs((double)h[i] - ref[i]) <= ATOL + RTOL * fabs(ref[i]))) {
            printf("  %s%s [%lld]: cuda %.7g cpu %.7g\n", what, grad ? " grad" : "", (long long)i, h[i], ref[i]);
            bad = 1;
        }
    free(h);
    return !bad;
}
#define SAME(what, t) CHECK(close_all(what, (t).c.data, &(t).g, 0))
#define SAME_GRAD(what, t) CHECK(close_all(what, (t).c.grad, &(t).g, 1))

static void test_conv2d(void) {
    int cfg[][5] = {{3, 1, 1, 1, 1}, {3, 2, 1, 1, 2}, {3, 1, 2, 2, 1}, {1, 1, 0, 1, 1}, {3, 1, 1, 1, 8}};
    for (int i = 0; i < 5; i++) {
        int k = cfg[i][0], g = cfg[i][4];
        nn_conv2d_opts o = nn_conv2d_opts_make(cfg[i][1], cfg[i][2], cfg[i][3], g);
        twin x = TW(1, 2, 8, 13, 11), w = TW(1, 16, 8 / g, k, k), b = TW(1, 16);
        int oh = nn_conv2d_out_size(13, k, o.stride_h, o.pad_h, o.dil_h), ow = nn_conv2d_out_size(11, k, o.stride_w, o.pad_w, o.dil_w);
        twin y = TW(1, 2, 16, oh, ow);
        CHECK_OK(nn_conv2d_forward(cpu, &x.c, &w.c, &b.c, &y.c, &o, &err), &err);
        CHECK_OK(nn_conv2d_forward(gpu, &x.g, &w.g, &b.g, &y.g, &o, &err), &err);
        SAME("conv2d", y);
        seed_grad(&y);
        CHECK_OK(nn_conv2d_backward(cpu, &x.c, &w.c, &b.c, &y.c, &o, &err), &err);
        CHECK_OK(nn_conv2d_backward(gpu, &x.g, &w.g, &b.g, &y.g, &o, &err), &err);
        SAME_GRAD("conv2d x", x);
        SAME_GRAD("conv2d w", w);
        SAME_GRAD("conv2d b", b);
    }
}

static void test_matmuls(void) {
    twin x = TW(1, 3, 7, 9), w = TW(1, 5, 9), b = TW(1, 5), y = TW(1, 3, 7, 5);
    CHECK_OK(nn_linear_forward(cpu, &x.c, &w.c, &b.c, &y.c, &err), &err);
    CHECK_OK(nn_linear_forward(gpu, &x.g, &w.g, &b.g, &y.g, &err), &err);
    SAME("linear", y);
    seed_grad(&y);
    CHECK_OK(nn_linear_backward(cpu, &x.c, &w.c, &b.c, &y.c, &err), &err);
    CHECK_OK(nn_linear_backward(gpu, &x.g, &w.g, &b.g, &y.g, &err), &err);
    SAME_GRAD("linear x", x);
    SAME_GRAD("linear w", w);
    SAME_GRAD("linear b", b);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            twin a = ta ? TW(1, 1, 6, 4) : TW(1, 1, 4, 6); /* broadcast a */
            twin bb = tb ? TW(1, 3, 5, 6) : TW(1, 3, 6, 5);
            twin o = TW(1, 3, 4, 5);
            CHECK_OK(nn_bmm_forward(cpu, &a.c, &bb.c, &o.c, ta, tb, &err), &err);
            CHECK_OK(nn_bmm_forward(gpu, &a.g, &bb.g, &o.g, ta, tb, &err), &err);
            SAME("bmm", o);
            seed_grad(&o);
            CHECK_OK(nn_bmm_backward(cpu, &a.c, &bb.c, &o.c, ta, tb, &err), &err);
            CHECK_OK(nn_bmm_backward(gpu, &a.g, &bb.g, &o.g, ta, tb, &err), &err);
            SAME_GRAD("bmm a", a);
            SAME_GRAD("bmm b", bb);
        }
    twin dx = TW(1, 4, 6, 5, 7), dw = TW(1, 4, 3, 6), db = TW(1, 4, 3), dy = TW(1, 4, 3, 5, 7);
    CHECK_OK(nn_dynconv1x1_forward(cpu, &dx.c, &dw.c, &db.c, &dy.c, &err), &err);
    CHECK_OK(nn_dynconv1x1_forward(gpu, &dx.g, &dw.g, &db.g, &dy.g, &err), &err);
    SAME("dynconv", dy);
    seed_grad(&dy);
    CHECK_OK(nn_dynconv1x1_backward(cpu, &dx.c, &dw.c, &db.c, &dy.c, &err), &err);
    CHECK_OK(nn_dynconv1x1_backward(gpu, &dx.g, &dw.g, &db.g, &dy.g, &err), &err);
    SAME_GRAD("dynconv x", dx);
    SAME_GRAD("dynconv w", dw);
    SAME_GRAD("dynconv b", db);
}

typedef int (*unary_f)(nn_ctx *, const nn_tensor *, nn_tensor *, es_error *);
typedef int (*unary_b)(nn_ctx *, const nn_tensor *, const nn_tensor *, es_error *);

static void unary(const char *name, unary_f f, unary_b b) {
    twin x = TW(1, 3, 5, 300), y = TW(1, 3, 5, 300);
    CHECK_OK(f(cpu, &x.c, &y.c, &err), &err);
    CHECK_OK(f(gpu, &x.g, &y.g, &err), &err);
    SAME(name, y);
    seed_grad(&y);
    CHECK_OK(b(cpu, &x.c, &y.c, &err), &err);
    CHECK_OK(b(gpu, &x.g, &y.g, &err), &err);
    SAME_GRAD(name, x);
}

static void test_elementwise(void) {
    unary("relu", nn_relu_forward, nn_relu_backward);
    unary("gelu", nn_gelu_forward, nn_gelu_backward);
    unary("sigmoid", nn_sigmoid_forward, nn_sigmoid_backward);
    unary("softmax", nn_softmax_forward, nn_softmax_backward);
    for (int bc = 0; bc < 3; bc++) {
        twin a = TW(1, 2, 3, 4, 5);
        twin b = bc == 0 ? TW(1, 2, 3, 4, 5) : bc == 1 ? TW(1, 1, 3, 1, 1) : TW(1, 2, 1, 4, 1);
        twin y = TW(1, 2, 3, 4, 5);
        CHECK_OK(nn_add_forward(cpu, &a.c, &b.c, 0.5f, &y.c, &err), &err);
        CHECK_OK(nn_add_forward(gpu, &a.g, &b.g, 0.5f, &y.g, &err), &err);
        SAME("add", y);
        seed_grad(&y);
        CHECK_OK(nn_add_backward(cpu, &a.c, &b.c, 0.5f, &y.c, &err), &err);
        CHECK_OK(nn_add_backward(gpu, &a.g, &b.g, 0.5f, &y.g, &err), &err);
        SAME_GRAD("add a", a);
        SAME_GRAD("add b", b);
        CHECK_OK(nn_mul_forward(cpu, &a.c, &b.c, &y.c, &err), &err);
        CHECK_OK(nn_mul_forward(gpu, &a.g, &b.g, &y.g, &err), &err);
        SAME("mul", y);
        CHECK_OK(nn_mul_backward(cpu, &a.c, &b.c, &y.c, &err), &err);
        CHECK_OK(nn_mul_backward(gpu, &a.g, &b.g, &y.g, &err), &err);
        SAME_GRAD("mul a", a);
        SAME_GRAD("mul b", b);
    }
    twin p = TW(1, 2, 3, 4), q = TW(1, 2, 5, 4), y = TW(1, 2, 8, 4);
    const nn_tensor *xc[2] = {&p.c, &q.c}, *xg[2] = {&p.g, &q.g};
    CHECK_OK(nn_concat_forward(cpu, 2, xc, 1, &y.c, &err), &err);
    CHECK_OK(nn_concat_forward(gpu, 2, xg, 1, &y.g, &err), &err);
    SAME("concat", y);
    seed_grad(&y);
    CHECK_OK(nn_concat_backward(cpu, 2, xc, 1, &y.c, &err), &err);
    CHECK_OK(nn_concat_backward(gpu, 2, xg, 1, &y.g, &err), &err);
    SAME_GRAD("concat", q);
    twin s = TW(1, 2, 3, 4);
    CHECK_OK(nn_slice_forward(cpu, &y.c, 1, 2, 3, &s.c, &err), &err);
    CHECK_OK(nn_slice_forward(gpu, &y.g, 1, 2, 3, &s.g, &err), &err);
    SAME("slice", s);
    seed_grad(&s);
    CHECK_OK(nn_slice_backward(cpu, &y.c, 1, 2, 3, &s.c, &err), &err);
    CHECK_OK(nn_slice_backward(gpu, &y.g, 1, 2, 3, &s.g, &err), &err);
    SAME_GRAD("slice", y);
}

static void test_norms(void) {
    twin x = TW(1, 2, 64, 7, 9), g = TW(1, 64), b = TW(1, 64), y = TW(1, 2, 64, 7, 9);
    CHECK_OK(nn_groupnorm_forward(cpu, &x.c, &g.c, &b.c, 32, 1e-5f, &y.c, &err), &err);
    CHECK_OK(nn_groupnorm_forward(gpu, &x.g, &g.g, &b.g, 32, 1e-5f, &y.g, &err), &err);
    SAME("groupnorm", y);
    seed_grad(&y);
    CHECK_OK(nn_groupnorm_backward(cpu, &x.c, &g.c, &b.c, 32, 1e-5f, &y.c, &err), &err);
    CHECK_OK(nn_groupnorm_backward(gpu, &x.g, &g.g, &b.g, 32, 1e-5f, &y.g, &err), &err);
    SAME_GRAD("groupnorm x", x);
    SAME_GRAD("groupnorm gamma", g);
    SAME_GRAD("groupnorm beta", b);
    twin m = TW(0, 64), v = tw(0, 1, NN_SHAPE(64), 0.5f, 2.0f);
    CHECK_OK(nn_frozen_bn_forward(cpu, &x.c, &g.c, &b.c, &m.c, &v.c, 1e-5f, &y.c, &err), &err);
    CHECK_OK(nn_frozen_bn_forward(gpu, &x.g, &g.g, &b.g, &m.g, &v.g, 1e-5f, &y.g, &err), &err);
    SAME("frozen_bn", y);
    twin lx = TW(1, 3, 5, 256), lg = TW(1, 256), lb = TW(1, 256), ly = TW(1, 3, 5, 256);
    CHECK_OK(nn_layernorm_forward(cpu, &lx.c, &lg.c, &lb.c, 1e-5f, &ly.c, &err), &err);
    CHECK_OK(nn_layernorm_forward(gpu, &lx.g, &lg.g, &lb.g, 1e-5f, &ly.g, &err), &err);
    SAME("layernorm", ly);
    seed_grad(&ly);
    CHECK_OK(nn_layernorm_backward(cpu, &lx.c, &lg.c, &lb.c, 1e-5f, &ly.c, &err), &err);
    CHECK_OK(nn_layernorm_backward(gpu, &lx.g, &lg.g, &lb.g, 1e-5f, &ly.g, &err), &err);
    SAME_GRAD("layernorm x", lx);
    SAME_GRAD("layernorm gamma", lg);
}

static void test_resample(void) {
    for (int det = 0; det < 2; det++) {
        nn_ctx_set_deterministic(gpu, det);
        int sizes[3][2] = {{17, 23}, {5, 6}, {36, 40}};
        for (int mode = 0; mode < 3; mode++) {
            twin x = TW(1, 2, 3, 9, 10), y = TW(1, 2, 3, sizes[mode][0], sizes[mode][1]);
            CHECK_OK(nn_resize_forward(cpu, &x.c, &y.c, (nn_resize_mode)mode, &err), &err);
            CHECK_OK(nn_resize_forward(gpu, &x.g, &y.g, (nn_resize_mode)mode, &err), &err);
            SAME("resize", y);
            seed_grad(&y);
            CHECK_OK(nn_resize_backward(cpu, &x.c, &y.c, (nn_resize_mode)mode, &err), &err);
            CHECK_OK(nn_resize_backward(gpu, &x.g, &y.g, (nn_resize_mode)mode, &err), &err);
            SAME_GRAD("resize", x);
        }
        twin x = TW(1, 2, 3, 11, 12), y = TW(1, 2, 3, 6, 6);
        CHECK_OK(nn_maxpool2d_forward(cpu, &x.c, 3, 2, 1, &y.c, &err), &err);
        CHECK_OK(nn_maxpool2d_forward(gpu, &x.g, 3, 2, 1, &y.g, &err), &err);
        SAME("maxpool", y);
        seed_grad(&y);
        CHECK_OK(nn_maxpool2d_backward(cpu, &x.c, 3, 2, 1, &y.c, &err), &err);
        CHECK_OK(nn_maxpool2d_backward(gpu, &x.g, 3, 2, 1, &y.g, &err), &err);
        SAME_GRAD("maxpool", x);
        twin pts = tw(0, 3, NN_SHAPE(2, 50, 2), -0.1f, 1.1f), ps = TW(1, 2, 3, 50);
        CHECK_OK(nn_point_sample_forward(cpu, &x.c, &pts.c, &ps.c, &err), &err);
        CHECK_OK(nn_point_sample_forward(gpu, &x.g, &pts.g, &ps.g, &err), &err);
        SAME("point_sample", ps);
        seed_grad(&ps);
        CHECK_OK(nn_point_sample_backward(cpu, &x.c, &pts.c, &ps.c, &err), &err);
        CHECK_OK(nn_point_sample_backward(gpu, &x.g, &pts.g, &ps.g, &err), &err);
        SAME_GRAD("point_sample", x);
    }
    {
        twin src = TW(1, 6, 3, 5), dst = TW(1, 4, 3, 5);
        int32_t pick[4] = {5, 0, 5, 2};
        int32_t *pick_g = nn_arena_alloc(agpu, sizeof pick, &err);
        nn_memcpy_to_device(gpu, pick_g, pick, sizeof pick, &err);
        CHECK_OK(nn_index_select_forward(cpu, &src.c, pick, 4, &dst.c, &err), &err);
        CHECK_OK(nn_index_select_forward(gpu, &src.g, pick_g, 4, &dst.g, &err), &err);
        SAME("index_select", dst);
        seed_grad(&dst);
        CHECK_OK(nn_index_select_backward(cpu, &src.c, pick, 4, &dst.c, &err), &err);
        CHECK_OK(nn_index_select_backward(gpu, &src.g, pick_g, 4, &dst.g, &err), &err);
        SAME_GRAD("index_select", src);
    }
    twin x = TW(1, 4, 1000), v = TW(1, 4, 17);
    int32_t ic[68], ig_host[68];
    int32_t *ig = nn_arena_alloc(agpu, sizeof ic, &err);
    CHECK_OK(nn_topk_forward(cpu, &x.c, 17, &v.c, ic, &err), &err);
    CHECK_OK(nn_topk_forward(gpu, &x.g, 17, &v.g, ig, &err), &err);
    SAME("topk", v);
    CHECK_OK(nn_memcpy_to_host(gpu, ig_host, ig, sizeof ic, &err), &err);
    CHECK(memcmp(ic, ig_host, sizeof ic) == 0);
}

static void test_attention(void) {
    int B = 2, Lq = 10, Lk = 37, E = 32, H = 4;
    twin q = TW(1, B, Lq, E), k = TW(1, B, Lk, E), v = TW(1, B, Lk, E), o = TW(1, B, Lq, E);
    twin p = TW(0, B, H, Lq, Lk), m = TW(0, B, Lq, Lk);
    for (int64_t i = 0; i < m.c.numel; i++) m.c.data[i] = m.c.data[i] > 0.3f;
    for (int j = 0; j < Lk; j++) m.c.data[j] = 1; /* one fully masked row */
    nn_tensor_upload(gpu, &m.g, m.c.data, &err);
    CHECK_OK(nn_attention_forward(cpu, &q.c, &k.c, &v.c, &m.c, H, &p.c, &o.c, &err), &err);
    CHECK_OK(nn_attention_forward(gpu, &q.g, &k.g, &v.g, &m.g, H, &p.g, &o.g, &err), &err);
    SAME("attention", o);
    SAME("attention probs", p);
    seed_grad(&o);
    CHECK_OK(nn_attention_backward(cpu, &q.c, &k.c, &v.c, &m.c, H, &p.c, &o.c, &err), &err);
    CHECK_OK(nn_attention_backward(gpu, &q.g, &k.g, &v.g, &m.g, H, &p.g, &o.g, &err), &err);
    SAME_GRAD("attention q", q);
    SAME_GRAD("attention k", k);
    SAME_GRAD("attention v", v);
}

static void test_losses(void) {
    twin x = tw(1, 2, NN_SHAPE(7, 300), -4, 4), t = tw(0, 2, NN_SHAPE(7, 300), 0, 1);
    for (int64_t i = 0; i < t.c.numel; i++) t.c.data[i] = t.c.data[i] > 0.6f;
    nn_tensor_upload(gpu, &t.g, t.c.data, &err);
    for (int which = 0; which < 5; which++) {
        float lc = 0, lg = 0;
        nn_zero_grad(cpu, &x.c, &err);
        nn_zero_grad(gpu, &x.g, &err);
        if (which == 0) {
            CHECK_OK(nn_sigmoid_focal_loss(cpu, &x.c, &t.c, NULL, 0.25f, 2, 0.3f, &lc, &err), &err);
            CHECK_OK(nn_sigmoid_focal_loss(gpu, &x.g, &t.g, NULL, 0.25f, 2, 0.3f, &lg, &err), &err);
        } else if (which == 1) {
            CHECK_OK(nn_bce_logits_loss(cpu, &x.c, &t.c, NULL, 0.3f, &lc, &err), &err);
            CHECK_OK(nn_bce_logits_loss(gpu, &x.g, &t.g, NULL, 0.3f, &lg, &err), &err);
        } else {
            CHECK_OK(nn_dice_loss(cpu, &x.c, &t.c, (nn_dice_variant)(which - 2), 0.3f, &lc, &err), &err);
            CHECK_OK(nn_dice_loss(gpu, &x.g, &t.g, (nn_dice_variant)(which - 2), 0.3f, &lg, &err), &err);
        }
        CHECK_MSG(fabs(lc - lg) <= 1e-5 + 1e-5 * fabs(lc), "loss %d: cpu %g cuda %g", which, lc, lg);
        SAME_GRAD("loss", x);
    }
    twin lx = TW(1, 20, 81), cw = tw(0, 1, NN_SHAPE(81), 0.1f, 1);
    int32_t lab[20];
    for (int i = 0; i < 20; i++) lab[i] = i == 3 ? -1 : (i * 13) % 81;
    int32_t *lab_g = nn_arena_alloc(agpu, sizeof lab, &err);
    nn_memcpy_to_device(gpu, lab_g, lab, sizeof lab, &err);
    float lc, lg;
    CHECK_OK(nn_softmax_ce_loss(cpu, &lx.c, lab, &cw.c, 1, 2.0f, &lc, &err), &err);
    CHECK_OK(nn_softmax_ce_loss(gpu, &lx.g, lab_g, &cw.g, 1, 2.0f, &lg, &err), &err);
    CHECK_MSG(fabs(lc - lg) <= 1e-5 * (1 + fabs(lc)), "ce: cpu %g cuda %g", lc, lg);
    SAME_GRAD("ce", lx);
}

static void test_optimisers(void) {
    for (int kind = 0; kind < 2; kind++) {
        nn_params *pc, *pg;
        nn_optim *oc, *og;
        int i0;
        nn_params_create(&pc, &err);
        nn_params_create(&pg, &err);
        nn_params_add(pc, "w", 0, 0, 2, NN_SHAPE(33, 7), &i0, &err);
        nn_params_add(pg, "w", 0, 0, 2, NN_SHAPE(33, 7), &i0, &err);
        CHECK_OK(nn_params_alloc(pc, cpu, &err), &err);
        CHECK_OK(nn_params_alloc(pg, gpu, &err), &err);
        nn_tensor *wc = nn_params_tensor(pc, 0), *wg = nn_params_tensor(pg, 0);
        nn_rng_fill_uniform(&gc_rng, wc->data, wc->numel, -1, 1);
        nn_tensor_upload(gpu, wg, wc->data, &err);
        nn_optim_opts o = nn_optim_opts_default((nn_optim_kind)kind);
        o.weight_decay = 0.01f;
        CHECK_OK(nn_optim_create(&oc, pc, cpu, &o, &err), &err);
        CHECK_OK(nn_optim_create(&og, pg, gpu, &o, &err), &err);
        for (int s = 0; s < 3; s++) {
            nn_rng_fill_uniform(&gc_rng, wc->grad, wc->numel, -1, 1);
            nn_memcpy_to_device(gpu, wg->grad, wc->grad, (size_t)wc->numel * 4, &err);
            float nc, ng;
            CHECK_OK(nn_clip_grad_norm(pc, cpu, 3.0f, &nc, &err), &err);
            CHECK_OK(nn_clip_grad_norm(pg, gpu, 3.0f, &ng, &err), &err);
            CHECK_NEAR(nc, ng, 1e-4 * nc);
            CHECK_OK(nn_optim_step(oc, cpu, 0.01f, &err), &err);
            CHECK_OK(nn_optim_step(og, gpu, 0.01f, &err), &err);
        }
        CHECK(close_all(kind ? "adamw" : "sgd", wc->data, wg, 0));
        nn_optim_free(oc);
        nn_optim_free(og);
        nn_params_free(pc);
        nn_params_free(pg);
    }
}

int main(void) {
    if (!nn_cuda_compiled()) ES_SKIP("this build has no CUDA backend (CMake found no CUDA toolkit/cuDNN)");
    if (nn_ctx_create(&gpu, NN_REQUEST_CUDA, 0, &err) != ES_OK)
        ES_SKIP("no usable CUDA device: %s", err.msg);
    if (nn_ctx_create(&cpu, NN_REQUEST_CPU, 0, &err) || nn_arena_create(&acpu, cpu, 1 << 24, &err) ||
        nn_arena_create(&agpu, gpu, 1 << 24, &err)) {
        printf("setup: %s\n", err.msg);
        return 1;
    }
    printf("%s\n", nn_ctx_note(gpu));
    nn_rng_seed(&gc_rng, 2024);
    ES_RUN(test_conv2d);
    ES_RUN(test_matmuls);
    ES_RUN(test_elementwise);
    ES_RUN(test_norms);
    ES_RUN(test_resample);
    ES_RUN(test_attention);
    ES_RUN(test_losses);
    ES_RUN(test_optimisers);
    CHECK_OK(nn_ctx_sync(gpu, &err), &err);
    nn_arena_free(acpu);
    nn_arena_free(agpu);
    nn_ctx_free(cpu);
    nn_ctx_free(gpu);
    ES_TEST_END();
}
