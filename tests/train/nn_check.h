/* nn_check.h: helpers the nn tests share: random tensors on a test arena and a finite-
 * difference gradient checker.
 *
 * The checker treats an op as y = f(inputs) and the scalar L = sum(y * r) for a fixed
 * random r. It runs backward with y.grad = r and compares every checked input's grad with
 * central differences (L(x + h) - L(x - h)) / 2h, L summed in double. */
#ifndef NN_CHECK_H
#define NN_CHECK_H

#include "es_test.h"
#include "nn.h"

typedef struct gc_case {
    void *ud;
    int (*forward)(void *ud, nn_ctx *ctx, es_error *err);
    int (*backward)(void *ud, nn_ctx *ctx, es_error *err);
    nn_tensor *out;       /* y; needs a grad buffer */
    nn_tensor *inputs[6]; /* tensors whose grads are checked (with grad buffers) */
    int n_inputs;
    float h;              /* step, default 1e-2 */
    float atol, rtol;     /* default 5e-3, 2e-2 */
    int max_checks;       /* per input; 0 = every element */
} gc_case;

static nn_rng gc_rng __attribute__((unused));
static es_error gc_err __attribute__((unused));

static inline void gc_fill(nn_tensor *t, float lo, float hi) {
    nn_rng_fill_uniform(&gc_rng, t->data, t->numel, lo, hi);
}

/* a CPU tensor with data (uniform in [-1, 1]) and a zeroed grad, on the arena */
static inline nn_tensor gc_tensor(nn_arena *a, int with_grad, int ndim, const int *shape) {
    nn_tensor t;
    es_error err;
    if (nn_tensor_new(a, &t, with_grad, ndim, shape, &err) != ES_OK) {
        printf("tensor alloc failed: %s\n", err.msg);
        exit(1);
    }
    gc_fill(&t, -1.0f, 1.0f);
    return t;
}

static inline double gc_loss(gc_case *c, nn_ctx *ctx, const float *r) {
    es_error err;
    if (c->forward(c->ud, ctx, &err) != ES_OK) {
        printf("  forward failed: %s\n", err.msg);
        return NAN;
    }
    double s = 0;
    for (int64_t i = 0; i < c->out->numel; i++) s += (double)c->out->data[i] * r[i];
    return s;
}

/* returns the number of mismatches (and prints the first few) */
static inline int gc_run(const char *name, gc_case *c, nn_ctx *ctx) {
    es_error err;
    float h = c->h > 0 ? c->h : 1e-2f;
    float atol = c->atol > 0 ? c->atol : 5e-3f, rtol = c->rtol > 0 ? c->rtol : 2e-2f;
    int64_t n_out = c->out->numel;
    float *r = malloc((size_t)n_out * sizeof(float));
    nn_rng_fill_uniform(&gc_rng, r, n_out, -1.0f, 1.0f);
    if (c->forward(c->ud, ctx, &err) != ES_OK) {
        printf("  %s: forward failed: %s\n", name, err.msg);
        free(r);
        return 1;
    }
    memcpy(c->out->grad, r, (size_t)n_out * sizeof(float));
    for (int k = 0; k < c->n_inputs; k++) memset(c->inputs[k]->grad, 0, (size_t)c->inputs[k]->numel * 4);
    if (c->backward(c->ud, ctx, &err) != ES_OK) {
        printf("  %s: backward failed: %s\n", name, err.msg);
        free(r);
        return 1;
    }
    int bad = 0;
    for (int k = 0; k < c->n_inputs; k++) {
        nn_tensor *t = c->inputs[k];
        float *ana = malloc((size_t)t->numel * sizeof(float));
        memcpy(ana, t->grad, (size_t)t->numel * sizeof(float));
        int64_t n = t->numel, step = 1;
        if (c->max_checks > 0 && n > c->max_checks) step = n / c->max_checks;
        for (int64_t i = 0; i < n; i += step) {
            float keep = t->data[i];
            t->data[i] = keep + h;
            double lp = gc_loss(c, ctx, r);
            t->data[i] = keep - h;
            double lm = gc_loss(c, ctx, r);
            t->data[i] = keep;
            double num = (lp - lm) / (2.0 * h);
            if (!(fabs(num - ana[i]) <= atol + rtol * fabs(num))) {
                if (bad < 5)
                    printf("  %s: input %d [%lld]: analytic %.6g, numeric %.6g\n", name, k,
                           (long long)i, ana[i], num);
                bad++;
            }
        }
        free(ana);
    }
    free(r);
    return bad;
}

/* max |a - b| over n */
static inline double gc_maxdiff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

#endif
