/* optim.c: SGD with momentum and AdamW (torch.optim semantics), per-group lr and weight-
 * decay multipliers, and gradient clipping by global norm. State lives in one allocation
 * laid out like the gradient block (slot 0: momentum / exp_avg, slot 1: exp_avg_sq). */
#include <math.h>

#include "nn_internal.h"

float *nn_params_data_block(nn_params *ps, int64_t *numel);
float *nn_params_grad_block(nn_params *ps, int64_t *numel);
int64_t nn_params_grad_offset(const nn_params *ps, int i);

struct nn_optim {
    nn_optim_opts o;
    nn_params *ps;
    nn_device device;
    float *state; /* n_slots * grad_numel */
    int n_slots;
    int64_t grad_numel;
    int64_t steps;
};

/* for safetensors.c */
float *nn_optim_state(const nn_optim *opt, int slot, int *n_slots);
void nn_optim_set_steps(nn_optim *opt, int64_t steps);
int nn_optim_kind_of(const nn_optim *opt);

nn_optim_opts nn_optim_opts_default(nn_optim_kind kind) {
    nn_optim_opts o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.momentum = kind == NN_OPTIM_SGD ? 0.9f : 0.0f;
    o.beta1 = 0.9f;
    o.beta2 = 0.999f;
    o.eps = 1e-8f;
    return o;
}

int nn_optim_create(nn_optim **out, nn_params *ps, nn_ctx *ctx, const nn_optim_opts *o,
                    es_error *err) {
    *out = NULL;
    if (o->kind != NN_OPTIM_SGD && o->kind != NN_OPTIM_ADAMW)
        return es_error_set(err, ES_ERR_INVALID, "optimiser: unknown kind %d", (int)o->kind);
    int64_t gn;
    if (!nn_params_grad_block(ps, &gn))
        return es_error_set(err, ES_ERR_INVALID, "optimiser: parameters are not allocated");
    nn_optim *opt = calloc(1, sizeof *opt);
    if (!opt) return es_error_set(err, ES_ERR_NOMEM, "optimiser: out of memory");
    opt->o = *o;
    opt->ps = ps;
    opt->device = ctx->device;
    opt->grad_numel = gn;
    opt->n_slots = o->kind == NN_OPTIM_ADAMW ? 2 : 1;
    size_t bytes = (size_t)(gn * opt->n_slots + 1) * sizeof(float);
#ifdef ENTSEG_NN_CUDA
    if (ctx->device == NN_DEVICE_CUDA) {
        opt->state = nn_cuda_malloc(bytes, err);
        if (opt->state && nn_cuda_fill(ctx, opt->state, gn * opt->n_slots, 0.0f, err)) {
            nn_cuda_free(opt->state);
            opt->state = NULL;
        }
    } else
#endif
    {
        opt->state = calloc(1, bytes);
        if (!opt->state) es_error_set(err, ES_ERR_NOMEM, "optimiser: cannot allocate %zu bytes", bytes);
    }
    if (!opt->state) {
        free(opt);
        return err ? err->code : ES_ERR_NOMEM;
    }
    *out = opt;
    return ES_OK;
}

void nn_optim_free(nn_optim *opt) {
    if (!opt) return;
#ifdef ENTSEG_NN_CUDA
    if (opt->device == NN_DEVICE_CUDA)
        nn_cuda_free(opt->state);
    else
#endif
        free(opt->state);
    free(opt);
}

float *nn_optim_state(const nn_optim *opt, int slot, int *n_slots) {
    if (n_slots) *n_slots = opt->n_slots;
    return opt->state + (int64_t)slot * opt->grad_numel;
}
void nn_optim_set_steps(nn_optim *opt, int64_t steps) { opt->steps = steps; }
int nn_optim_kind_of(const nn_optim *opt) { return (int)opt->o.kind; }
int64_t nn_optim_steps(const nn_optim *opt) { return opt->steps; }

static float group_mult(const float *m, const int *set, int g) {
    return (set[g] || m[g] != 0.0f) ? m[g] : 1.0f;
}

int nn_optim_step(nn_optim *opt, nn_ctx *ctx, float lr, es_error *err) {
    nn_params *ps = opt->ps;
    opt->steps++;
    const nn_optim_opts *o = &opt->o;
    float bc1 = 1.0f - powf(o->beta1, (float)opt->steps);
    float bc2 = 1.0f - powf(o->beta2, (float)opt->steps);
    int64_t gn;
    float *gblock = nn_params_grad_block(ps, &gn);
    for (int i = 0; i < nn_params_count(ps); i++) {
        int64_t go = nn_params_grad_offset(ps, i);
        if (go < 0) continue;
        nn_tensor *t = nn_params_tensor(ps, i);
        int g = nn_params_group(ps, i);
        float plr = lr * group_mult(o->lr_mult, o->group_set, g);
        float wd = o->weight_decay * group_mult(o->wd_mult, o->group_set, g);
        float *p = t->data;
        const float *grad = gblock + go;
        float *m = opt->state + go;
        int64_t n = t->numel;
        if (o->kind == NN_OPTIM_SGD) {
#ifdef ENTSEG_NN_CUDA
            if (NN_ON_CUDA(ctx)) {
                ES_CHECK(nn_cuda_sgd_step(ctx, p, grad, m, n, plr, o->momentum, wd, opt->steps == 1, err));
                continue;
            }
#endif
            for (int64_t j = 0; j < n; j++) {
                float d = grad[j] + wd * p[j];
                if (o->momentum != 0.0f) {
                    m[j] = opt->steps == 1 ? d : o->momentum * m[j] + d;
                    d = m[j];
                }
                p[j] -= plr * d;
            }
        } else {
            float *v = opt->state + opt->grad_numel + go;
#ifdef ENTSEG_NN_CUDA
            if (NN_ON_CUDA(ctx)) {
                ES_CHECK(nn_cuda_adamw_step(ctx, p, grad, m, v, n, plr, o->beta1, o->beta2, o->eps, wd,
                                          bc1, bc2, err));
                continue;
            }
#endif
            float step = plr / bc1, sbc2 = sqrtf(bc2);
            for (int64_t j = 0; j < n; j++) {
                p[j] *= 1.0f - plr * wd;
                m[j] = o->beta1 * m[j] + (1.0f - o->beta1) * grad[j];
                v[j] = o->beta2 * v[j] + (1.0f - o->beta2) * grad[j] * grad[j];
                p[j] -= step * m[j] / (sqrtf(v[j]) / sbc2 + o->eps);
            }
        }
    }
    return ES_OK;
}

int nn_clip_grad_norm(nn_params *ps, nn_ctx *ctx, float max_norm, float *norm_out,
                      es_error *err) {
    int64_t gn;
    float *g = nn_params_grad_block(ps, &gn);
    if (!g) return es_error_set(err, ES_ERR_INVALID, "clip_grad_norm: parameters are not allocated");
    double ss = 0;
#ifdef ENTSEG_NN_CUDA
    if (NN_ON_CUDA(ctx)) {
        ES_CHECK(nn_cuda_sumsq(ctx, g, gn, &ss, err));
    } else
#endif
    {
        for (int64_t i = 0; i < gn; i++) ss += (double)g[i] * g[i];
    }
    float norm = (float)sqrt(ss);
    if (norm_out) *norm_out = norm;
    if (max_norm > 0 && norm > max_norm) {
        float s = max_norm / (norm + 1e-6f);
#ifdef ENTSEG_NN_CUDA
        if (NN_ON_CUDA(ctx)) return nn_cuda_scale_inplace(ctx, g, gn, s, err);
#endif
        for (int64_t i = 0; i < gn; i++) g[i] *= s;
    }
    return ES_OK;
}
