/* test_nn_core.c: context and device choice, arenas, parameters, schedules, gradient
 * clipping, safetensors checkpoints (round trip, resume, torchvision-style prefixes, bad
 * files), shape errors, and hand-computed forward cases. */
#include "nn_check.h"

static nn_ctx *ctx;
static es_error err;

static void test_device_request(void) {
    nn_device_request r;
    CHECK_OK(nn_device_request_parse("auto", &r, &err), &err);
    CHECK_EQ_INT(r, NN_REQUEST_AUTO);
    CHECK_OK(nn_device_request_parse("cuda", &r, &err), &err);
    CHECK_EQ_INT(r, NN_REQUEST_CUDA);
    CHECK_EQ_INT(nn_device_request_parse("gpu", &r, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "auto, cpu or cuda") != NULL);
    /* auto always yields a context; on a machine without a GPU it is the CPU with a note */
    nn_ctx *c = NULL;
    CHECK_OK(nn_ctx_create(&c, NN_REQUEST_AUTO, 1, &err), &err);
    if (c && nn_ctx_device(c) == NN_DEVICE_CPU) {
        CHECK(strlen(nn_ctx_note(c)) > 0);
        printf("  auto: %s\n", nn_ctx_note(c));
        nn_ctx *g = NULL;
        CHECK_EQ_INT(nn_ctx_create(&g, NN_REQUEST_CUDA, 1, &err), ES_ERR_UNSUPPORTED);
        CHECK(g == NULL);
        printf("  cuda: %s\n", err.msg);
    }
    nn_ctx_free(c);
    nn_ctx_free(NULL);
}

static void test_arena(void) {
    nn_arena *a;
    CHECK_OK(nn_arena_create(&a, ctx, 1 << 20, &err), &err);
    nn_tensor t[40];
    for (int i = 0; i < 40; i++) CHECK_OK(nn_tensor_new(a, &t[i], 1, 2, NN_SHAPE(256, 256), &err), &err);
    for (int i = 0; i < 40; i++) {
        CHECK(((uintptr_t)t[i].data % 256) == 0);
        CHECK(t[i].grad[0] == 0 && t[i].grad[65535] == 0);
        t[i].data[65535] = (float)i; /* every block writable */
    }
    size_t hw = nn_arena_high_water(a);
    CHECK(hw >= 40u * 2 * 65536 * 4);
    nn_arena_reset(a);
    CHECK_EQ_INT(nn_arena_used(a), 0);
    for (int i = 0; i < 40; i++) CHECK_OK(nn_tensor_new(a, &t[i], 1, 2, NN_SHAPE(256, 256), &err), &err);
    CHECK_EQ_INT(nn_arena_high_water(a), hw);
    nn_tensor v;
    CHECK_OK(nn_tensor_view(&t[0], 3, NN_SHAPE(4, 64, 256), &v, &err), &err);
    CHECK_EQ_INT(nn_tensor_view(&t[0], 2, NN_SHAPE(3, 3), &v, &err), ES_ERR_INVALID);
    CHECK_OK(nn_tensor_narrow0(&t[0], 10, 5, &v, &err), &err);
    CHECK(v.data == t[0].data + 2560 && v.shape[0] == 5 && v.numel == 1280);
    CHECK_EQ_INT(nn_tensor_narrow0(&t[0], 250, 10, &v, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(nn_tensor_new(a, &v, 0, 6, NN_SHAPE(1, 1, 1, 1, 1, 1), &err), ES_ERR_INVALID);
    nn_arena_free(a);
}

static void test_shape_errors(void) {
    float buf[64] = {0};
    nn_tensor x = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 2, 3, 3));
    nn_tensor w = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(2, 3, 3, 3));
    nn_tensor y = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 2, 1, 1));
    nn_conv2d_opts o = nn_conv2d_opts_make(1, 0, 1, 1);
    CHECK_EQ_INT(nn_conv2d_forward(ctx, &x, &w, NULL, &y, &o, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "conv2d") != NULL);
    o.stride_h = 0;
    CHECK_EQ_INT(nn_conv2d_forward(ctx, &x, &w, NULL, &y, &o, &err), ES_ERR_INVALID);
    nn_tensor a = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(2, 3));
    nn_tensor b = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(2, 2));
    CHECK_EQ_INT(nn_add_forward(ctx, &a, &b, 1.0f, &a, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(nn_groupnorm_forward(ctx, &x, NULL, NULL, 3, 1e-5f, &x, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(nn_relu_backward(ctx, &a, &a, &err), ES_ERR_INVALID); /* no y grad */
    nn_tensor w0 = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(3, 0));
    nn_tensor x0 = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(2, 0));
    CHECK_EQ_INT(nn_linear_forward(ctx, &x0, &w0, NULL, &a, &err), ES_ERR_INVALID);
    /* NaN / huge sample points read as padding, never out of bounds */
    float pts[4] = {NAN, 0.5f, 1e30f, -1e30f}, ps_out[4];
    nn_tensor img = nn_tensor_wrap(buf, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 2, 4, 4));
    nn_tensor pt = nn_tensor_wrap(pts, NULL, NN_DEVICE_CPU, 3, NN_SHAPE(1, 2, 2));
    nn_tensor po = nn_tensor_wrap(ps_out, NULL, NN_DEVICE_CPU, 3, NN_SHAPE(1, 2, 2));
    CHECK_OK(nn_point_sample_forward(ctx, &img, &pt, &po, &err), &err);
    CHECK(ps_out[0] == 0 && ps_out[1] == 0);
    nn_tensor gpu = a;
    gpu.device = NN_DEVICE_CUDA;
    CHECK_EQ_INT(nn_relu_forward(ctx, &gpu, &gpu, &err), ES_ERR_INVALID);
}

static void test_hand_computed_forwards(void) {
    /* 3x3 all-ones kernel, padding 1 over a 3x3 ramp: centre = sum(1..9) = 45, corner
     * (0,0) = 1+2+4+5 = 12 */
    float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv[9], yv[9], bv[1] = {0.5f};
    for (int i = 0; i < 9; i++) wv[i] = 1;
    nn_tensor x = nn_tensor_wrap(xv, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 3, 3));
    nn_tensor w = nn_tensor_wrap(wv, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 3, 3));
    nn_tensor b = nn_tensor_wrap(bv, NULL, NN_DEVICE_CPU, 1, NN_SHAPE(1));
    nn_tensor y = nn_tensor_wrap(yv, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 3, 3));
    nn_conv2d_opts o = nn_conv2d_opts_make(1, 1, 1, 1);
    CHECK_OK(nn_conv2d_forward(ctx, &x, &w, &b, &y, &o, &err), &err);
    CHECK_NEAR(yv[4], 45.5, 1e-5);
    CHECK_NEAR(yv[0], 12.5, 1e-5);
    CHECK_NEAR(yv[8], 5 + 6 + 8 + 9 + 0.5, 1e-5);
    /* linear: [1 2] x [[1 0] [1 1] [0 2]]^T + [0 1 2] = [1, 4, 6] */
    float li[2] = {1, 2}, lw[6] = {1, 0, 1, 1, 0, 2}, lb[3] = {0, 1, 2}, lo[3];
    nn_tensor lx = nn_tensor_wrap(li, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(1, 2));
    nn_tensor lwt = nn_tensor_wrap(lw, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(3, 2));
    nn_tensor lbt = nn_tensor_wrap(lb, NULL, NN_DEVICE_CPU, 1, NN_SHAPE(3));
    nn_tensor ly = nn_tensor_wrap(lo, NULL, NN_DEVICE_CPU, 2, NN_SHAPE(1, 3));
    CHECK_OK(nn_linear_forward(ctx, &lx, &lwt, &lbt, &ly, &err), &err);
    CHECK(lo[0] == 1 && lo[1] == 4 && lo[2] == 6);
    /* align_corners 2 -> 3: the middle is the mean of the ends */
    float ri[4] = {0, 2, 4, 6}, ro[9];
    nn_tensor rx = nn_tensor_wrap(ri, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 2, 2));
    nn_tensor ry = nn_tensor_wrap(ro, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 3, 3));
    CHECK_OK(nn_resize_forward(ctx, &rx, &ry, NN_RESIZE_ALIGN_CORNERS, &err), &err);
    CHECK_NEAR(ro[4], 3, 1e-6);
    CHECK_NEAR(ro[1], 1, 1e-6);
    /* max pool 2/2 */
    float pi[16], po[4];
    for (int i = 0; i < 16; i++) pi[i] = (float)i;
    nn_tensor px = nn_tensor_wrap(pi, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 4, 4));
    nn_tensor py = nn_tensor_wrap(po, NULL, NN_DEVICE_CPU, 4, NN_SHAPE(1, 1, 2, 2));
    CHECK_OK(nn_maxpool2d_forward(ctx, &px, 2, 2, 0, &py, &err), &err);
    CHECK(po[0] == 5 && po[1] == 7 && po[2] == 13 && po[3] == 15);
}

static void test_schedules(void) {
    nn_sched s = {0};
    s.kind = NN_SCHED_STEP;
    s.base_lr = 0.1f;
    s.steps[0] = 10;
    s.steps[1] = 20;
    s.n_steps = 2;
    s.gamma = 0.1f;
    CHECK_NEAR(nn_sched_lr(&s, 9), 0.1, 1e-7);
    CHECK_NEAR(nn_sched_lr(&s, 10), 0.01, 1e-7);
    CHECK_NEAR(nn_sched_lr(&s, 25), 0.001, 1e-7);
    s.warmup_iters = 100;
    s.warmup_ratio = 0.001f;
    /* mmcv linear warmup at iter 0: lr * ratio; at 5: lr * (1 - 0.95 * 0.999) */
    CHECK_NEAR(nn_sched_lr(&s, 0), 0.1 * 0.001, 1e-9);
    CHECK_NEAR(nn_sched_lr(&s, 5), 0.1 * (1 - 0.95 * 0.999), 1e-7);
    nn_sched p = {0};
    p.kind = NN_SCHED_POLY;
    p.base_lr = 1.0f;
    p.max_iters = 100;
    p.power = 0.9f;
    p.min_lr = 0.0f;
    CHECK_NEAR(nn_sched_lr(&p, 0), 1.0, 1e-7);
    CHECK_NEAR(nn_sched_lr(&p, 50), pow(0.5, 0.9), 1e-6);
    CHECK_NEAR(nn_sched_lr(&p, 100), 0.0, 1e-7);
}

/* a tiny model: conv weight + bias in group 0, a frozen statistic */
static nn_params *make_params(void) {
    nn_params *ps;
    CHECK_OK(nn_params_create(&ps, &err), &err);
    CHECK_OK(nn_params_add(ps, "backbone.conv1.weight", 0, 0, 4, NN_SHAPE(4, 3, 3, 3), NULL, &err), &err);
    CHECK_OK(nn_params_add(ps, "backbone.bn1.running_var", 0, NN_PARAM_FROZEN, 1, NN_SHAPE(4), NULL, &err), &err);
    CHECK_OK(nn_params_add(ps, "head.fc.weight", 1, 0, 2, NN_SHAPE(5, 4), NULL, &err), &err);
    CHECK_OK(nn_params_add(ps, "head.fc.bias", 1, 0, 1, NN_SHAPE(5), NULL, &err), &err);
    CHECK_EQ_INT(nn_params_add(ps, "head.fc.bias", 1, 0, 1, NN_SHAPE(5), NULL, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(nn_params_add(ps, "x", NN_MAX_GROUPS, 0, 1, NN_SHAPE(5), NULL, &err), ES_ERR_INVALID);
    CHECK_OK(nn_params_alloc(ps, ctx, &err), &err);
    return ps;
}

static void test_params_and_clip(void) {
    nn_params *ps = make_params();
    CHECK_EQ_INT(nn_params_count(ps), 4);
    CHECK_EQ_INT(nn_params_numel(ps), 108 + 4 + 20 + 5);
    CHECK(nn_params_tensor(ps, 1)->grad == NULL);
    CHECK_EQ_INT(nn_params_find(ps, "head.fc.weight"), 2);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    for (int i = 0; i < 4; i++) CHECK_OK(nn_params_init(ps, ctx, i, NN_INIT_KAIMING_UNIFORM, 0, 0, &rng, &err), &err);
    float bound = 1.0f / sqrtf(27.0f);
    nn_tensor *w = nn_params_tensor(ps, 0);
    for (int64_t i = 0; i < w->numel; i++) CHECK(fabsf(w->data[i]) <= bound);
    /* clip: grads 3 and 4 -> norm 5 -> scaled to 1 */
    nn_params_tensor(ps, 2)->grad[0] = 3;
    nn_params_tensor(ps, 3)->grad[4] = 4;
    float norm;
    CHECK_OK(nn_clip_grad_norm(ps, ctx, 1.0f, &norm, &err), &err);
    CHECK_NEAR(norm, 5, 1e-6);
    CHECK_NEAR(nn_params_tensor(ps, 2)->grad[0], 0.6, 1e-6);
    CHECK_NEAR(nn_params_tensor(ps, 3)->grad[4], 0.8, 1e-6);
    /* per-group lr multiplier 0 for group 0: only the head moves */
    nn_optim_opts o = nn_optim_opts_default(NN_OPTIM_SGD);
    o.lr_mult[0] = 0.0f;
    o.group_set[0] = 1;
    nn_optim *opt;
    CHECK_OK(nn_optim_create(&opt, ps, ctx, &o, &err), &err);
    nn_params_tensor(ps, 0)->grad[0] = 1;
    float w0 = w->data[0], h0 = nn_params_tensor(ps, 2)->data[0];
    CHECK_OK(nn_optim_step(opt, ctx, 0.5f, &err), &err);
    CHECK(w->data[0] == w0);
    CHECK_NEAR(nn_params_tensor(ps, 2)->data[0], h0 - 0.5 * 0.6, 1e-6);
    CHECK_OK(nn_params_zero_grad(ps, ctx, &err), &err);
    CHECK(nn_params_tensor(ps, 2)->grad[0] == 0);
    nn_optim_free(opt);
    nn_params_free(ps);
}

static void test_checkpoint_round_trip_and_resume(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", es_test_tmpdir());
    nn_params *ps = make_params();
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int i = 0; i < 4; i++) CHECK_OK(nn_params_init(ps, ctx, i, NN_INIT_NORMAL, 0, 1, &rng, &err), &err);
    nn_optim_opts o = nn_optim_opts_default(NN_OPTIM_ADAMW);
    nn_optim *opt;
    CHECK_OK(nn_optim_create(&opt, ps, ctx, &o, &err), &err);
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 4; i++) {
            nn_tensor *t = nn_params_tensor(ps, i);
            if (t->grad) nn_rng_fill_normal(&rng, t->grad, t->numel, 0, 1);
        }
        CHECK_OK(nn_optim_step(opt, ctx, 0.01f, &err), &err);
    }
    const char *keys[1] = {"entseg.config"}, *vals[1] = {"knet_r50"};
    CHECK_OK(nn_checkpoint_save(path, ps, opt, ctx, 1, keys, vals, &err), &err);
    char meta[64];
    CHECK_OK(nn_checkpoint_meta(path, "entseg.step", meta, sizeof meta, &err), &err);
    CHECK(strcmp(meta, "2") == 0);
    CHECK_OK(nn_checkpoint_meta(path, "entseg.config", meta, sizeof meta, &err), &err);
    CHECK(strcmp(meta, "knet_r50") == 0);
    /* one more step on the original, and on a resumed copy: identical results */
    nn_params *ps2 = make_params();
    nn_optim *opt2;
    CHECK_OK(nn_optim_create(&opt2, ps2, ctx, &o, &err), &err);
    int n_loaded;
    CHECK_OK(nn_checkpoint_load(path, ps2, opt2, ctx, NULL, 0, &n_loaded, &err), &err);
    CHECK_EQ_INT(n_loaded, 4);
    CHECK_EQ_INT(nn_optim_steps(opt2), 2);
    for (int i = 0; i < 4; i++) {
        nn_tensor *a = nn_params_tensor(ps, i), *b = nn_params_tensor(ps2, i);
        CHECK(memcmp(a->data, b->data, (size_t)a->numel * 4) == 0);
        if (a->grad) {
            nn_rng_fill_normal(&rng, a->grad, a->numel, 0, 1);
            memcpy(b->grad, a->grad, (size_t)a->numel * 4);
        }
    }
    CHECK_OK(nn_optim_step(opt, ctx, 0.01f, &err), &err);
    CHECK_OK(nn_optim_step(opt2, ctx, 0.01f, &err), &err);
    for (int i = 0; i < 4; i++) {
        nn_tensor *a = nn_params_tensor(ps, i), *b = nn_params_tensor(ps2, i);
        CHECK(memcmp(a->data, b->data, (size_t)a->numel * 4) == 0);
    }
    nn_optim_free(opt2);
    nn_params_free(ps2);
    nn_optim_free(opt);
    nn_params_free(ps);
}

/* writes a safetensors file by hand: the torchvision naming, an int64 counter, F16 data */
static void write_torchvision_like(const char *path) {
    const char *json =
        "{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[4,3,3,3],\"data_offsets\":[0,432]},"
        "\"bn1.running_var\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[432,440]},"
        "\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[440,448]},"
        "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[448,464]}}";
    FILE *f = fopen(path, "wb");
    uint64_t n = strlen(json);
    fwrite(&n, 8, 1, f);
    fwrite(json, 1, n, f);
    for (int i = 0; i < 108; i++) {
        float v = (float)i;
        fwrite(&v, 4, 1, f);
    }
    uint16_t half[4] = {0x3c00, 0x4000, 0x3800, 0xc000}; /* 1, 2, 0.5, -2 */
    fwrite(half, 2, 4, f);
    int64_t cnt = 7;
    fwrite(&cnt, 8, 1, f);
    float fc[4] = {0};
    fwrite(fc, 4, 4, f);
    fclose(f);
}

static void test_load_backbone_with_prefix(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/resnet_like.safetensors", es_test_tmpdir());
    write_torchvision_like(path);
    nn_params *ps = make_params();
    int n;
    /* strict: fc.weight is unexpected */
    CHECK_EQ_INT(nn_checkpoint_load(path, ps, NULL, ctx, "backbone.", 0, &n, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "bn1.num_batches_tracked") != NULL || strstr(err.msg, "fc.weight") != NULL);
    CHECK_OK(nn_checkpoint_load(path, ps, NULL, ctx, "backbone.", NN_LOAD_ALLOW_UNEXPECTED, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    CHECK(nn_params_tensor(ps, 0)->data[107] == 107.0f);
    float *rv = nn_params_tensor(ps, 1)->data;
    CHECK(rv[0] == 1.0f && rv[1] == 2.0f && rv[2] == 0.5f && rv[3] == -2.0f);
    nn_params_free(ps);
}

static void test_bad_checkpoint_files(void) {
    const char *dir = es_test_tmpdir();
    char path[4200];
    nn_params *ps = make_params();
    CHECK_EQ_INT(nn_checkpoint_load("/nonexistent/x.safetensors", ps, NULL, ctx, NULL, 0, NULL, &err), ES_ERR_IO);
    const char *bodies[] = {
        "",                                                        /* empty */
        "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":",                 /* truncated header */
        "\x05\x00\x00\x00\x00\x00\x00\x00[1,2]",                   /* not an object */
        "\xff\xff\xff\xff\xff\xff\xff\x7f{}",                      /* absurd length */
    };
    size_t lens[] = {0, 14, 13, 10};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/bad%d.safetensors", dir, i);
        FILE *f = fopen(path, "wb");
        fwrite(bodies[i], 1, lens[i], f);
        fclose(f);
        int rc = nn_checkpoint_load(path, ps, NULL, ctx, NULL, 0, NULL, &err);
        CHECK_MSG(rc == ES_ERR_FORMAT || rc == ES_ERR_IO, "case %d rc %d", i, rc);
        CHECK(strstr(err.msg, path) != NULL);
    }
    /* offsets past the end of the data */
    snprintf(path, sizeof path, "%s/bad_offsets.safetensors", dir);
    const char *json = "{\"head.fc.bias\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,20]}}";
    FILE *f = fopen(path, "wb");
    uint64_t n = strlen(json);
    fwrite(&n, 8, 1, f);
    fwrite(json, 1, n, f);
    fwrite("abcd", 1, 4, f);
    fclose(f);
    CHECK_EQ_INT(nn_checkpoint_load(path, ps, NULL, ctx, NULL, NN_LOAD_ALLOW_MISSING, NULL, &err), ES_ERR_FORMAT);
    /* wrong shape */
    snprintf(path, sizeof path, "%s/bad_shape.safetensors", dir);
    json = "{\"head.fc.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    f = fopen(path, "wb");
    n = strlen(json);
    fwrite(&n, 8, 1, f);
    fwrite(json, 1, n, f);
    fwrite("abcdabcdabcdabcd", 1, 16, f);
    fclose(f);
    CHECK_EQ_INT(nn_checkpoint_load(path, ps, NULL, ctx, NULL, NN_LOAD_ALLOW_MISSING, NULL, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "shape") != NULL);
    /* strict load of a file missing parameters */
    CHECK_EQ_INT(nn_checkpoint_load(path, ps, NULL, ctx, NULL, 0, NULL, &err), ES_ERR_INVALID);
    nn_params_free(ps);
}

int main(void) {
    if (nn_ctx_create(&ctx, NN_REQUEST_CPU, 1, &err)) {
        printf("setup: %s\n", err.msg);
        return 1;
    }
    ES_RUN(test_device_request);
    ES_RUN(test_arena);
    ES_RUN(test_shape_errors);
    ES_RUN(test_hand_computed_forwards);
    ES_RUN(test_schedules);
    ES_RUN(test_params_and_clip);
    ES_RUN(test_checkpoint_round_trip_and_resume);
    ES_RUN(test_load_backbone_with_prefix);
    ES_RUN(test_bad_checkpoint_files);
    nn_ctx_free(ctx);
    ES_TEST_END();
}
