/* test_nn_conv_direct.c: convolutions with output rows of 16+ pixels (the CPU's direct
 * kernels when it has AVX2 + FMA, im2col + sgemm otherwise: ENTSEG_NN_CONV=im2col runs the
 * same checks on that path) against a plain double-precision
 * loop: forward with bias, input and weight gradients accumulated onto existing values, on
 * shapes with strip tails, channel-block remainders, dilation, non-square kernels and more
 * channel x tap steps than one pass takes (and strided ones, which take im2col); then a
 * stride-1 case at 1 and 2 threads, bit for bit. */
#include "nn_check.h"

typedef struct shape {
    int n, cin, h, w, cout, kh, kw, pad_h, pad_w, dil, sh, sw;
} shape;

static int sh_of(const shape *s) { return s->sh; }
static int sw_of(const shape *s) { return s->sw; }
static int oh_of(const shape *s) { return (s->h + 2 * s->pad_h - s->dil * (s->kh - 1) - 1) / sh_of(s) + 1; }
static int ow_of(const shape *s) { return (s->w + 2 * s->pad_w - s->dil * (s->kw - 1) - 1) / sw_of(s) + 1; }

/* y = conv(x, w) + b; dx, dw from dy, all in double */
static void reference(const shape *s, const float *x, const float *w, const float *b, const float *dy,
                      double *y, double *dx, double *dw) {
    int oh = oh_of(s), ow = ow_of(s);
    for (int i = 0; i < s->n; i++)
        for (int co = 0; co < s->cout; co++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int64_t yi = (((int64_t)i * s->cout + co) * oh + oy) * ow + ox;
                    double acc = b[co];
                    for (int c = 0; c < s->cin; c++)
                        for (int ki = 0; ki < s->kh; ki++)
                            for (int kj = 0; kj < s->kw; kj++) {
                                int iy = oy * sh_of(s) - s->pad_h + ki * s->dil;
                                int ix = ox * sw_of(s) - s->pad_w + kj * s->dil;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                int64_t xi = (((int64_t)i * s->cin + c) * s->h + iy) * s->w + ix;
                                int64_t wi = (((int64_t)co * s->cin + c) * s->kh + ki) * s->kw + kj;
                                acc += (double)w[wi] * x[xi];
                                dx[xi] += (double)w[wi] * dy[yi];
                                dw[wi] += (double)x[xi] * dy[yi];
                            }
                    y[yi] = acc;
                }
}

static double max_rel(const float *got, const double *want, int64_t n) {
    double scale = 1e-6, worst = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(got[i] - want[i]) / scale);
    return worst;
}

static void run_case(nn_ctx *ctx, nn_arena *a, const shape *s, nn_tensor t[4]) {
    es_error err;
    nn_arena_reset(a);
    int oh = oh_of(s), ow = ow_of(s);
    CHECK_OK(nn_tensor_new(a, &t[0], 1, 4, NN_SHAPE(s->n, s->cin, s->h, s->w), &err), &err);
    CHECK_OK(nn_tensor_new(a, &t[1], 1, 4, NN_SHAPE(s->cout, s->cin, s->kh, s->kw), &err), &err);
    CHECK_OK(nn_tensor_new(a, &t[2], 1, 1, NN_SHAPE(s->cout), &err), &err);
    CHECK_OK(nn_tensor_new(a, &t[3], 1, 4, NN_SHAPE(s->n, s->cout, oh, ow), &err), &err);
    nn_rng_seed(&gc_rng, 11);
    for (int k = 0; k < 3; k++) gc_fill(&t[k], -1.0f, 1.0f);
    /* gradients accumulate: start them from values that must survive */
    nn_rng_fill_uniform(&gc_rng, t[0].grad, t[0].numel, -1.0f, 1.0f);
    nn_rng_fill_uniform(&gc_rng, t[1].grad, t[1].numel, -1.0f, 1.0f);
    nn_rng_fill_uniform(&gc_rng, t[3].grad, t[3].numel, -1.0f, 1.0f);
    nn_conv2d_opts o = {sh_of(s), sw_of(s), s->pad_h, s->pad_w, s->dil, s->dil, 1};
    CHECK_OK(nn_conv2d_forward(ctx, &t[0], &t[1], &t[2], &t[3], &o, &err), &err);
    CHECK_OK(nn_conv2d_backward(ctx, &t[0], &t[1], &t[2], &t[3], &o, &err), &err);
}

static nn_ctx *ctx;
static nn_arena *arena_a, *arena_b;

static void test_against_reference(void) {
    nn_arena *a = arena_a;
    static const shape cases[] = {
        {2, 3, 9, 64, 32, 3, 3, 1, 1, 1, 1, 1},   /* small-net layer shape, 3 -> 32 */
        {1, 13, 7, 37, 13, 3, 3, 1, 1, 1, 1, 1},  /* tails of 5 pixels, blocks 6 + 6 + 1 */
        {1, 70, 5, 20, 8, 3, 3, 1, 1, 1, 1, 1},   /* 630 channel x tap steps: two passes */
        {1, 4, 8, 24, 5, 3, 3, 2, 2, 2, 1, 1},    /* dilation 2 */
        {2, 3, 6, 21, 4, 5, 5, 2, 2, 1, 1, 1},    /* 5x5: taps in chunks of 3 + 2 */
        {1, 5, 6, 30, 7, 1, 3, 0, 1, 1, 1, 1},    /* 1x3 */
        {1, 5, 6, 16, 3, 3, 1, 1, 0, 1, 1, 1},    /* 3x1, exactly one strip */
        {1, 6, 4, 18, 6, 1, 1, 1, 1, 1, 1, 1},    /* padded 1x1 */
        {1, 3, 4, 17, 2, 3, 3, 0, 0, 1, 1, 1},    /* unpadded: 15 wide, the im2col path */
        {2, 3, 40, 40, 5, 3, 3, 1, 1, 1, 1, 1},   /* weight gradient in two bands of 20 rows */
        /* strided: im2col's row bands (equal bands since 2026-12-06) on wide rows */
        {2, 5, 9, 40, 7, 3, 3, 1, 1, 1, 2, 2},  /* stride 2, 20 wide */
        {1, 4, 8, 37, 5, 3, 3, 2, 2, 2, 2, 2},  /* stride 2, dilation 2 */
        {1, 3, 12, 70, 6, 7, 7, 3, 3, 1, 2, 2}, /* the ResNet stem: 7x7, stride 2, pad 3 */
        {1, 4, 7, 52, 3, 3, 3, 1, 1, 1, 1, 3},  /* stride 3 along x only */
        {1, 4, 9, 20, 5, 3, 3, 1, 1, 1, 2, 1},  /* stride 2 along y only */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const shape *s = &cases[c];
        nn_tensor t[4];
        run_case(ctx, a, s, t);
        /* the reference starts from the same initial gradients */
        nn_rng_seed(&gc_rng, 11);
        float *x = malloc(sizeof(float) * t[0].numel), *w = malloc(sizeof(float) * t[1].numel);
        float *b = malloc(sizeof(float) * t[2].numel);
        nn_rng_fill_uniform(&gc_rng, x, t[0].numel, -1.0f, 1.0f);
        nn_rng_fill_uniform(&gc_rng, w, t[1].numel, -1.0f, 1.0f);
        nn_rng_fill_uniform(&gc_rng, b, t[2].numel, -1.0f, 1.0f);
        float *dx0 = malloc(sizeof(float) * t[0].numel), *dw0 = malloc(sizeof(float) * t[1].numel);
        float *dy = malloc(sizeof(float) * t[3].numel);
        nn_rng_fill_uniform(&gc_rng, dx0, t[0].numel, -1.0f, 1.0f);
        nn_rng_fill_uniform(&gc_rng, dw0, t[1].numel, -1.0f, 1.0f);
        nn_rng_fill_uniform(&gc_rng, dy, t[3].numel, -1.0f, 1.0f);
        double *y = calloc((size_t)t[3].numel, sizeof(double));
        double *dx = calloc((size_t)t[0].numel, sizeof(double)), *dw = calloc((size_t)t[1].numel, sizeof(double));
        for (int64_t i = 0; i < t[0].numel; i++) dx[i] = dx0[i];
        for (int64_t i = 0; i < t[1].numel; i++) dw[i] = dw0[i];
        reference(s, x, w, b, dy, y, dx, dw);
        double ey = max_rel(t[3].data, y, t[3].numel), ex = max_rel(t[0].grad, dx, t[0].numel);
        double ew = max_rel(t[1].grad, dw, t[1].numel);
        printf("  case %zu (%d, %d, %dx%d) -> %d, k %dx%d pad %d,%d dil %d stride %d,%d: y %.1e dx %.1e dw %.1e\n", c,
               s->n, s->cin, s->h, s->w, s->cout, s->kh, s->kw, s->pad_h, s->pad_w, s->dil, sh_of(s), sw_of(s), ey, ex,
               ew);
        CHECK(ey < 1e-5 && ex < 1e-5 && ew < 1e-5);
        free(x), free(w), free(b), free(dx0), free(dw0), free(dy), free(y), free(dx), free(dw);
    }
}

/* every output and gradient is the same bits at 1 and 2 threads (the im2col path's weight
 * gradient sums per-thread partials: deterministic for a thread count only) */
static void test_thread_count(void) {
    if (!nn_conv2d_cpu_direct()) {
        printf("  skipped: this CPU runs the im2col path (no AVX2 + FMA, or ENTSEG_NN_CONV=im2col)\n");
        return;
    }
    nn_arena *a1 = arena_a, *a2 = arena_b;
    es_error err;
    nn_ctx *c1, *c2;
    CHECK_OK(nn_ctx_create(&c1, NN_REQUEST_CPU, 1, &err), &err);
    CHECK_OK(nn_ctx_create(&c2, NN_REQUEST_CPU, 2, &err), &err);
    shape s = {3, 16, 12, 40, 20, 3, 3, 1, 1, 1, 1, 1};
    nn_tensor t1[4], t2[4];
    run_case(c1, a1, &s, t1);
    run_case(c2, a2, &s, t2);
    for (int k = 0; k < 4; k++) {
        CHECK(memcmp(t1[k].data, t2[k].data, sizeof(float) * t1[k].numel) == 0);
        CHECK(memcmp(t1[k].grad, t2[k].grad, sizeof(float) * t1[k].numel) == 0);
    }
    nn_ctx_free(c1);
    nn_ctx_free(c2);
}

int main(void) {
    es_error err;
    CHECK_OK(nn_ctx_create(&ctx, NN_REQUEST_CPU, 2, &err), &err);
    CHECK_OK(nn_arena_create(&arena_a, ctx, 64 << 20, &err), &err);
    CHECK_OK(nn_arena_create(&arena_b, ctx, 64 << 20, &err), &err);
    ES_RUN(test_against_reference);
    ES_RUN(test_thread_count);
    nn_arena_free(arena_a);
    nn_arena_free(arena_b);
    nn_ctx_free(ctx);
    ES_TEST_END();
}
