/* test_knet_full.c: K-Net's full architecture (ResNet-50 with frozen BN, FPN, semantic-FPN
 * neck at stride 8) at reduced widths, in memory.
 *  - a rectangular batch (2 x 3 x 64 x 96) gives stride-4 outputs (16 x 24), finite losses,
 *    and a few AdamW steps on it lower the loss;
 *  - the stem, layer1 and every BN tensor are frozen: no gradient buffer, unchanged by the
 *    optimiser, while layer2 learns;
 *  - torchvision-named safetensors load into backbone.* (fc.* skipped); a shape mismatch,
 *    a missing file and a file that fills only part of the backbone are refused with one
 *    line; H or W not a multiple of 32 is an error;
 *  - the PyTorch twin (scripts/twins/knet_full_twin.py, fixture
 *    tests/train/fixtures/knet_full_twin.bin): same weights and a 64 x 96 image -> the
 *    features (loc, loc + seg) agree to 1e-4 relative and every trainable parameter's
 *    gradient of sum(loc r1) + sum(xf r2) to 1e-3 (max |C - torch| / max |torch|). */
#include "knet/knet_resnet50.h"
#include "knet_check.h"

/* The full preset at a quarter of ResNet-50's widths (same depth: 3, 4, 6, 3 Bottlenecks). */
static knet_config small_full_config(void) {
    knet_config c = knet_config_full();
    c.num_kernels = 16;
    c.channels = 64;
    c.stem = 32;
    c.widths[0] = 64, c.widths[1] = 128, c.widths[2] = 256, c.widths[3] = 512;
    c.heads = 4;
    c.ffn_channels = 128;
    c.batch = 2;
    return c;
}

enum { B = 2, H = 64, W = 96, HM = H / 4, WM = W / 4 };

/* Image b: two rectangles of distinct colours on noise; their masks at HM x WM. */
static void make_batch(float *images, float *masks, knet_targets *tg) {
    static const int rects[B][KNET_TEST_MAX_RECTS][4] = {{{2, 2, 10, 9}, {12, 4, 22, 14}},
                                                         {{4, 3, 14, 12}, {0, 10, 24, 16}}};
    static const int n_rects[B] = {2, 2};
    knet_test_batch(images, masks, tg, B, H, W, 7, rects, n_rects);
}

static float *copy_param(knet_model *m, const char *name) {
    int i = nn_params_find(m->ps, name);
    CHECK_MSG(i >= 0, "no parameter %s", name);
    if (i < 0) return NULL;
    const nn_tensor *t = nn_params_tensor(m->ps, i);
    float *c = malloc((size_t)t->numel * sizeof *c);
    memcpy(c, t->data, (size_t)t->numel * sizeof *c);
    return c;
}

static int param_equals(knet_model *m, const char *name, const float *ref) {
    const nn_tensor *t = nn_params_tensor(m->ps, nn_params_find(m->ps, name));
    return ref && !memcmp(t->data, ref, (size_t)t->numel * sizeof *ref);
}

static void test_full_trains_and_freezes(void) {
    es_error err = {0};
    knet_config c = small_full_config();
    knet_rig r;
    if (!knet_rig_open(&r, &c, 2, 3, 64u << 20)) return;
    /* torchvision layout: 53 convs and 53 BNs of 4 tensors each */
    int n_backbone = 0, n_frozen = 0;
    for (int i = 0; i < nn_params_count(r.m.ps); i++) {
        const char *name = nn_params_name(r.m.ps, i);
        if (strncmp(name, "backbone.", 9)) continue;
        n_backbone++;
        int frozen = (nn_params_flags(r.m.ps, i) & NN_PARAM_FROZEN) != 0;
        n_frozen += frozen;
        CHECK_MSG(frozen == (nn_params_tensor(r.m.ps, i)->grad == NULL), "%s", name);
        int want_frozen = !strncmp(name, "backbone.conv1", 14) || !strncmp(name, "backbone.bn1", 12) ||
                          !strncmp(name, "backbone.layer1.", 16) || strstr(name, ".bn") ||
                          strstr(name, "downsample.1");
        CHECK_MSG(frozen == want_frozen, "%s frozen %d", name, frozen);
    }
    CHECK_EQ_INT(n_backbone, 53 + 53 * 4);
    /* frozen: 53 BNs x 4 + the convs of the stem (1) and layer1 (3 x 3 + downsample) */
    CHECK_EQ_INT(n_frozen, 53 * 4 + 1 + 10);
    CHECK(nn_params_find(r.m.ps, "backbone.layer1.0.downsample.1.running_var") >= 0);
    CHECK(nn_params_find(r.m.ps, "backbone.layer4.2.conv3.weight") >= 0);
    CHECK(nn_params_find(r.m.ps, "rpn.localization_fpn.convs_all_levels.3.conv2.gn.weight") >= 0);
    CHECK(nn_params_find(r.m.ps, "head.2.feat_transform.conv.bias") >= 0);

    nn_optim_opts oo = nn_optim_opts_default(NN_OPTIM_ADAMW);
    oo.weight_decay = 0.05f;
    oo.lr_mult[0] = c.backbone_lr_mult;
    oo.group_set[0] = 1;
    nn_optim *opt = NULL;
    CHECK_OK(nn_optim_create(&opt, r.m.ps, r.ctx, &oo, &err), &err);
    float *images = malloc(sizeof(float) * B * 3 * H * W);
    float *masks = malloc(sizeof(float) * B * KNET_TEST_MAX_RECTS * HM * WM);
    knet_targets tg;
    make_batch(images, masks, &tg);
    static const char *const frozen[] = {"backbone.conv1.weight", "backbone.layer1.0.conv2.weight",
                                         "backbone.layer1.2.conv3.weight", "backbone.layer3.1.bn2.weight",
                                         "backbone.layer2.0.downsample.1.running_var"};
    float *before[5], *trainable = copy_param(&r.m, "backbone.layer2.0.conv1.weight");
    for (int i = 0; i < 5; i++) before[i] = copy_param(&r.m, frozen[i]);
    float first = 0, last = 0;
    knet_outputs out;
    for (int i = 0; i < 12; i++) {
        float norm = 0;
        float l = knet_test_step(&r.m, &r.t, opt, images, &tg, 1e-3f, &out, &norm, &err);
        CHECK(isfinite(l) && norm > 0);
        if (i == 0) {
            first = l;
            CHECK_EQ_INT(out.hm, HM);
            CHECK_EQ_INT(out.wm, WM);
            CHECK_EQ_INT(out.masks[0].shape[2], HM * WM);
            CHECK_EQ_INT(out.masks[c.stages].shape[2], HM * WM);
            /* the tape stops at layer2: nothing of the frozen stem and layer1 is recorded */
            CHECK(r.t.n > 0);
        }
        last = l;
    }
    printf("  loss %.4f -> %.4f after 12 AdamW steps\n", first, last);
    CHECK(last < 0.7f * first);
    for (int i = 0; i < 5; i++) CHECK_MSG(param_equals(&r.m, frozen[i], before[i]), "%s changed", frozen[i]);
    CHECK(!param_equals(&r.m, "backbone.layer2.0.conv1.weight", trainable));
    for (int i = 0; i < 5; i++) free(before[i]);
    free(trainable);

    /* H or W not a multiple of 32 is refused */
    tp_reset(&r.t, 1);
    nn_tensor x = tp_new(&r.t, 0, 4, NN_SHAPE(1, 3, 64, 80));
    knet_forward(&r.m, &r.t, &x, &out);
    CHECK(r.t.rc == ES_ERR_INVALID && strstr(r.t.err.msg, "multiples of 32"));
    nn_optim_free(opt);
    knet_rig_close(&r);
    free(images);
    free(masks);
}

/* Writes the backbone of `m` (torchvision names: "backbone." stripped) to path, plus an
 * fc.weight; `only` (or NULL) keeps a single tensor; `bad` (or NULL) gets a wrong shape. */
static void write_torchvision(knet_model *m, nn_ctx *ctx, const char *path, const char *only,
                              const char *bad, es_error *err) {
    nn_params *ps = NULL;
    CHECK_OK(nn_params_create(&ps, err), err);
    for (int i = 0; i < nn_params_count(m->ps); i++) {
        const char *name = nn_params_name(m->ps, i);
        if (strncmp(name, "backbone.", 9) || (only && strcmp(name + 9, only))) continue;
        const nn_tensor *t = nn_params_tensor(m->ps, i);
        int shape[NN_MAX_DIMS];
        memcpy(shape, t->shape, sizeof shape);
        if (bad && !strcmp(name + 9, bad)) shape[0] += 1;
        CHECK_OK(nn_params_add(ps, name + 9, 0, 0, t->ndim, shape, NULL, err), err);
    }
    CHECK_OK(nn_params_add(ps, "fc.weight", 0, 0, 2, NN_SHAPE(10, m->cfg.widths[3]), NULL, err), err);
    CHECK_OK(nn_params_alloc(ps, ctx, err), err);
    for (int i = 0; i < nn_params_count(ps); i++) {
        nn_tensor *t = nn_params_tensor(ps, i);
        for (int64_t k = 0; k < t->numel; k++) t->data[k] = 0.001f * (float)(i + 1) + 1e-6f * (float)k;
    }
    CHECK_OK(nn_checkpoint_save(path, ps, NULL, ctx, 0, NULL, NULL, err), err);
    nn_params_free(ps);
}

static void test_backbone_weights(void) {
    es_error err = {0};
    knet_config c = small_full_config();
    knet_rig r;
    if (!knet_rig_open(&r, &c, 1, 3, 1u << 20)) return;
    char path[4200];
    snprintf(path, sizeof path, "%s/r50.safetensors", es_test_tmpdir());
    write_torchvision(&r.m, r.ctx, path, NULL, NULL, &err);
    int n = 0;
    CHECK_OK(knet_model_load_backbone(&r.m, r.ctx, path, &n, &err), &err);
    CHECK_EQ_INT(n, 53 + 53 * 4);
    /* values arrive under the backbone. names (the writer's i-th tensor holds 0.001 (i+1)) */
    const nn_tensor *w = nn_params_tensor(r.m.ps, nn_params_find(r.m.ps, "backbone.conv1.weight"));
    CHECK_NEAR(w->data[0], 0.001, 1e-7);
    const nn_tensor *v = nn_params_tensor(r.m.ps, nn_params_find(r.m.ps, "backbone.bn1.running_var"));
    CHECK_NEAR(v->data[1], 0.005 + 1e-6, 1e-7);

    /* a shape mismatch: one line naming the tensor and both shapes */
    write_torchvision(&r.m, r.ctx, path, NULL, "layer2.0.conv2.weight", &err);
    CHECK(knet_model_load_backbone(&r.m, r.ctx, path, &n, &err) == ES_ERR_INVALID);
    printf("  mismatch: %s\n", err.msg);
    CHECK(strstr(err.msg, "layer2.0.conv2.weight") && !strchr(err.msg, '\n'));
    /* only part of the backbone */
    write_torchvision(&r.m, r.ctx, path, "conv1.weight", NULL, &err);
    CHECK(knet_model_load_backbone(&r.m, r.ctx, path, &n, &err) == ES_ERR_INVALID);
    printf("  partial: %s\n", err.msg);
    CHECK(strstr(err.msg, "filled 1 of the 265") != NULL);
    remove(path);
    CHECK(knet_model_load_backbone(&r.m, r.ctx, path, &n, &err) == ES_ERR_IO);
    printf("  missing: %s\n", err.msg);
    knet_model_free(&r.m);

    /* the tiny preset has no ResNet-50 */
    knet_config tc = knet_config_tiny();
    CHECK_OK(knet_model_create(&r.m, &tc, r.ctx, 3, &err), &err);
    CHECK(knet_model_load_backbone(&r.m, r.ctx, path, &n, &err) == ES_ERR_INVALID);
    knet_rig_close(&r);
}

static void test_config_key(void) {
    es_error err = {0};
    knet_config c = knet_config_full();
    CHECK(c.backbone_weights[0] == 0);
    CHECK_OK(knet_config_set(&c, "backbone_weights=/data/r50.safetensors", &err), &err);
    char *json = knet_config_to_json(&c);
    knet_config d = knet_config_tiny();
    CHECK_OK(knet_config_parse_json(&d, json, &err), &err);
    free(json);
    CHECK(!strcmp(d.backbone_weights, "/data/r50.safetensors"));
    CHECK(knet_is_full(&d) && !knet_is_full(&(knet_config){.preset = "tiny"}));
    char long_set[700] = "backbone_weights=";
    memset(long_set + 17, 'a', 600);
    long_set[617] = 0;
    CHECK(knet_config_set(&c, long_set, &err) == ES_ERR_INVALID);
}

/* ---- PyTorch twin of the feature path ---- */

/* keep in sync with scripts/twins/knet_full_twin.py */
static knet_config twin_config(void) {
    knet_config c = knet_config_full();
    c.channels = 16, c.stem = 8, c.gn_groups = 8, c.heads = 2;
    c.widths[0] = 8, c.widths[1] = 16, c.widths[2] = 32, c.widths[3] = 64;
    return c;
}

/* the parameters of the feature path: backbone, neck and the kernel head's convs */
static int feature_path_param(const char *name) {
    return (!strncmp(name, "backbone.", 9) || !strncmp(name, "neck.", 5) || !strncmp(name, "rpn.", 4)) &&
           strcmp(name, "rpn.init_kernels.weight");
}

static void test_twin_features(void) {
    if (!twin_open("knet_full_twin.bin")) return;
    es_error err = {0};
    knet_config c = twin_config();
    knet_rig r;
    if (!knet_rig_open(&r, &c, 1, 1, 16u << 20)) return;
    /* every backbone and neck parameter comes from the fixture */
    int np = nn_params_count(r.m.ps), want = 0, loaded = twin_upload_params(r.ctx, r.m.ps, feature_path_param, &want);
    CHECK_EQ_INT(loaded, want);
    twin_array *in = twin_find("input"), *floc = twin_find("out.loc"), *fxf = twin_find("out.xf"), *rl = twin_find("r.loc"),
             *rx = twin_find("r.xf");
    CHECK(in && floc && fxf && rl && rx && in->numel == 3 * 64 * 96);
    if (!in || !floc || !fxf || !rl || !rx || in->numel != 3 * 64 * 96) return;
    nn_tensor x = tp_new(&r.t, 0, 4, NN_SHAPE(1, 3, 64, 96));
    CHECK_OK(nn_tensor_upload(r.ctx, &x, in->data, &err), &err);
    nn_tensor loc, xf;
    knet_features(&r.m, &r.t, &x, &loc, &xf);
    CHECK_OK(r.t.rc, &r.t.err);
    CHECK(loc.numel == floc->numel && xf.numel == fxf->numel);
    if (r.t.rc || loc.numel != floc->numel || xf.numel != fxf->numel) return;
    double e_loc = twin_rel_err(loc.data, floc->data, loc.numel, 1e-12),
           e_xf = twin_rel_err(xf.data, fxf->data, xf.numel, 1e-12);
    printf("  features: loc rel %.2e, xf rel %.2e (%d x %d at stride 8)\n", e_loc, e_xf, loc.shape[2], loc.shape[3]);
    CHECK(e_loc < 1e-4 && e_xf < 1e-4);
    /* d(sum(loc r1) + sum(xf r2)): seed the outputs' grads, then the tape */
    memcpy(loc.grad, rl->data, (size_t)loc.numel * sizeof(float));
    memcpy(xf.grad, rx->data, (size_t)xf.numel * sizeof(float));
    CHECK_OK(nn_params_zero_grad(r.m.ps, r.ctx, &err), &err);
    CHECK_OK(tp_backward(&r.t, &err), &err);
    double worst = 0;
    const char *worst_name = "";
    int compared = 0;
    for (int i = 0; i < np; i++) {
        const nn_tensor *p = nn_params_tensor(r.m.ps, i);
        char key[200];
        snprintf(key, sizeof key, "grad.%s", nn_params_name(r.m.ps, i));
        twin_array *g = twin_find(key);
        if (!g) {
            const char *name = nn_params_name(r.m.ps, i);
            /* the fixture has a gradient for every trainable feature-path parameter */
            CHECK_MSG(!p->grad || !strncmp(name, "head.", 5) || !strcmp(name, "rpn.init_kernels.weight"),
                      "fixture lacks %s", key);
            continue;
        }
        CHECK_MSG(p->grad != NULL, "%s is frozen here but trainable in the twin", key);
        if (!p->grad || g->numel != p->numel) continue;
        double e = twin_rel_err(p->grad, g->data, p->numel, 1e-12);
        compared++;
        if (e > worst) worst = e, worst_name = nn_params_name(r.m.ps, i);
        CHECK_MSG(e < 1e-3, "%s rel %.2e", key, e);
    }
    printf("  %d parameter gradients, worst relative error %.2e (%s)\n", compared, worst, worst_name);
    CHECK_EQ_INT(compared, 91);
    knet_rig_close(&r);
    twin_free();
}

int main(void) {
    ES_RUN(test_config_key);
    ES_RUN(test_backbone_weights);
    ES_RUN(test_full_trains_and_freezes);
    ES_RUN(test_twin_features);
    ES_TEST_END();
}
