/* test_knet.c: the K-Net tiny pipeline in memory.
 *  - a few AdamW steps on one fixed batch (coloured rectangles on noise, 64 px) make the
 *    total loss fall well below its start (the model, tape backward, matching and losses
 *    fit together);
 *  - an image with no entities gives a finite loss (objectness only) and no crash;
 *  - configs: JSON and key=value overrides, bad keys and values are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knet_check.h"

static knet_config small_config(void) {
    knet_config c = knet_config_tiny();
    c.num_kernels = 8;
    c.channels = 32;
    c.stem = 16;
    c.widths[0] = 16, c.widths[1] = 32, c.widths[2] = 32, c.widths[3] = 32;
    c.gn_groups = 8;
    c.heads = 4;
    c.ffn_channels = 64;
    c.batch = 2;
    return c;
}

enum { S = 64 }; /* the batches' images are S x S */

/* Image b: two or three rectangles of distinct colours on noise; masks at 16 x 16. */
static void make_batch(float *images, float *masks, knet_targets *tg) {
    static const int rects[2][KNET_TEST_MAX_RECTS][4] = {{{2, 2, 8, 7}, {9, 3, 15, 12}, {1, 10, 7, 15}},
                                                         {{4, 4, 12, 12}, {0, 0, 3, 16}, {0, 0, 0, 0}}};
    static const int n_rects[2] = {3, 2};
    knet_test_batch(images, masks, tg, 2, S, S, 5, rects, n_rects);
}

static void test_loss_falls(void) {
    es_error err = {0};
    knet_config c = small_config();
    knet_rig r;
    if (!knet_rig_open(&r, &c, 2, 3, 16u << 20)) return;
    nn_optim_opts oo = nn_optim_opts_default(NN_OPTIM_ADAMW);
    oo.weight_decay = 0.05f;
    nn_optim *opt = NULL;
    CHECK_OK(nn_optim_create(&opt, r.m.ps, r.ctx, &oo, &err), &err);
    int hm = S / 4;
    float *images = malloc(sizeof(float) * 2 * 3 * S * S);
    float *masks = malloc(sizeof(float) * 2 * KNET_TEST_MAX_RECTS * hm * hm);
    knet_targets tg;
    make_batch(images, masks, &tg);
    float first = 0, last = 0;
    for (int i = 0; i < 60; i++) {
        float l = knet_test_step(&r.m, &r.t, opt, images, &tg, 2e-3f, NULL, NULL, &err);
        CHECK(isfinite(l));
        if (i == 0) first = l;
        last = l;
    }
    printf("  loss %.4f -> %.4f after 60 steps\n", first, last);
    CHECK(last < 0.5f * first);
    nn_optim_free(opt);
    knet_rig_close(&r);
    free(images);
    free(masks);
}

static void test_empty_image(void) {
    es_error err = {0};
    knet_config c = small_config();
    knet_rig r;
    if (!knet_rig_open(&r, &c, 1, 3, 16u << 20)) return;
    int hm = S / 4;
    float *images = malloc(sizeof(float) * 2 * 3 * S * S);
    float *masks = malloc(sizeof(float) * 2 * KNET_TEST_MAX_RECTS * hm * hm);
    knet_targets tg;
    make_batch(images, masks, &tg);
    tg.n_gt[0] = tg.n_gt[1] = 0;
    float l = knet_test_step(&r.m, &r.t, NULL, images, &tg, 0, NULL, NULL, &err);
    CHECK(isfinite(l) && l >= 0);
    /* wrong target size is an error, not a crash */
    tg.hm = 8;
    tp_reset(&r.t, 1);
    nn_tensor x = tp_new(&r.t, 0, 4, NN_SHAPE(2, 3, S, S));
    nn_tensor_upload(r.ctx, &x, images, &err);
    knet_outputs out;
    knet_forward(&r.m, &r.t, &x, &out);
    knet_losses L;
    CHECK(knet_loss(&r.m, &r.t, &out, &tg, &L, &err) == ES_ERR_INVALID);
    knet_rig_close(&r);
    free(images);
    free(masks);
}

static void test_config(void) {
    es_error err = {0};
    knet_config c = knet_config_tiny();
    CHECK_OK(knet_config_set(&c, "num_kernels=12", &err), &err);
    CHECK_EQ_INT(c.num_kernels, 12);
    CHECK_OK(knet_config_set(&c, "lr=2.5e-4", &err), &err);
    CHECK_NEAR(c.lr, 2.5e-4, 1e-9);
    CHECK(knet_config_set(&c, "bogus=1", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "image_size=100", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "heads=x", &err) == ES_ERR_INVALID);
    CHECK(knet_config_set(&c, "nonsense", &err) == ES_ERR_INVALID);
    char *json = knet_config_to_json(&c);
    knet_config d = knet_config_full();
    CHECK_OK(knet_config_parse_json(&d, json, &err), &err);
    free(json);
    CHECK_EQ_INT(d.num_kernels, 12);
    CHECK(!strcmp(d.preset, "tiny"));
    CHECK_EQ_INT(d.widths[3], 128);
    CHECK(knet_config_parse_json(&d, "{\"lr\": [1,2]}", &err) != ES_OK);
    CHECK(knet_config_parse_json(&d, "not json", &err) == ES_ERR_FORMAT);
    CHECK(knet_config_parse_json(&d, "{\"wat\": 1}", &err) == ES_ERR_INVALID);
    /* a misspelt or non-string preset is refused, not read as tiny */
    CHECK(knet_config_parse_json(&d, "{\"preset\": \"ful\"}", &err) == ES_ERR_INVALID);
    CHECK(knet_config_parse_json(&d, "{\"preset\": 7}", &err) == ES_ERR_INVALID);
    char path[4200];
    snprintf(path, sizeof path, "%s/train/configs/knet_tiny.json", ES_SOURCE_DIR);
    knet_config e = knet_config_full();
    CHECK_OK(knet_config_load_json(&e, path, &err), &err);
    CHECK_EQ_INT(e.num_kernels, 16);
    snprintf(path, sizeof path, "%s/train/configs/knet_full.json", ES_SOURCE_DIR);
    CHECK_OK(knet_config_load_json(&e, path, &err), &err);
    CHECK_EQ_INT(e.num_kernels, 100);
    CHECK(knet_config_load_json(&e, "/nonexistent/x.json", &err) == ES_ERR_IO);
}

int main(void) {
    ES_RUN(test_config);
    ES_RUN(test_empty_image);
    ES_RUN(test_loss_falls);
    ES_TEST_END();
}
