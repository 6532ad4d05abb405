/* bench_knet_full.c: seconds per training step of K-Net's full preset (ResNet-50 with frozen
 * BN, FPN, semantic-FPN neck at stride 8, 100 kernels, 256 channels, 3 stages) on the CPU:
 * forward, loss (matching included), backward and the AdamW update, timed separately, plus
 * the peak resident memory. The image is one 800 x 1333 picture padded to multiples of 32
 * (800 x 1344), as the reference pads its batches (size_divisor 32); 6 rectangles of
 * ground truth at stride 4.
 * Usage: bench-knet-full [--threads N] [--height H] [--width W] [--batch B] [--steps K]
 *                        [--set key=value]... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "entseg/cli.h"
#include "knet/knet.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static int die(const es_error *err) {
    fprintf(stderr, "bench-knet-full: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    int threads = 2, h = 800, w = 1344, batch = 1, steps = 2;
    es_error err = {0};
    knet_config c = knet_config_full();
    /* --name value pairs; every value is checked (a bad or missing one is a usage error) */
    static const char *const names[] = {"--threads", "--height", "--width", "--batch", "--steps"};
    int *const vals[] = {&threads, &h, &w, &batch, &steps};
    for (int i = 1; i < argc; i += 2) {
        int k = 0;
        while (k < 5 && strcmp(argv[i], names[k])) k++;
        int64_t v = 0;
        if (i + 1 >= argc || (k == 5 && strcmp(argv[i], "--set")) ||
            (k < 5 && !es_cli_parse_int(argv[i + 1], 1, 1 << 20, &v))) {
            fprintf(stderr, "usage: bench-knet-full [--threads N] [--height H] [--width W] [--batch B] "
                            "[--steps K] [--set key=value]... (bad or missing value for %s)\n", argv[i]);
            return 2;
        }
        if (k < 5) *vals[k] = (int)v;
        else if (knet_config_set(&c, argv[i + 1], &err)) return die(&err);
    }
    if (h % 32 || w % 32 || batch > KNET_MAX_BATCH) {
        fprintf(stderr, "bench-knet-full: --height/--width must be multiples of 32, batch 1..%d\n", KNET_MAX_BATCH);
        return 2;
    }
    c.batch = batch;
    nn_ctx *ctx = NULL;
    if (nn_ctx_create(&ctx, NN_REQUEST_CPU, threads, &err)) return die(&err);
    double t0 = now_s();
    knet_model m;
    if (knet_model_create(&m, &c, ctx, 1, &err)) return die(&err);
    printf("knet full: %d parameter tensors, %.2f M weights, created in %.1f s; input %d x 3 x %d x %d, %d threads\n",
           nn_params_count(m.ps), nn_params_numel(m.ps) / 1e6, now_s() - t0, batch, h, w, nn_ctx_threads(ctx));
    nn_optim_opts oo = nn_optim_opts_default(NN_OPTIM_ADAMW);
    oo.weight_decay = c.weight_decay;
    oo.lr_mult[0] = c.backbone_lr_mult;
    oo.group_set[0] = 1;
    nn_optim *opt = NULL;
    nn_arena *arena = NULL;
    if (nn_optim_create(&opt, m.ps, ctx, &oo, &err) || nn_arena_create(&arena, ctx, 256u << 20, &err)) return die(&err);

    int hm = h / 4, wm = w / 4;
    float *images = malloc(sizeof(float) * batch * 3 * h * w);
    float *masks = calloc((size_t)batch * 6 * hm * wm, sizeof(float));
    if (!images || !masks) {
        fprintf(stderr, "bench-knet-full: out of memory for a %d x %d batch of %d\n", h, w, batch);
        return 1;
    }
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_rng_fill_normal(&rng, images, (int64_t)batch * 3 * h * w, 0, 1);
    knet_targets tg;
    memset(&tg, 0, sizeof tg);
    tg.batch = batch, tg.hm = hm, tg.wm = wm;
    for (int b = 0; b < batch; b++) {
        tg.n_gt[b] = 6;
        tg.masks[b] = masks + (size_t)b * 6 * hm * wm;
        for (int k = 0; k < 6; k++) /* a 6 x 1 grid of disjoint vertical bands */
            for (int y = hm / 8; y < hm - hm / 8; y++)
                for (int x = k * wm / 6 + 2; x < (k + 1) * wm / 6 - 2; x++) tg.masks[b][(size_t)k * hm * wm + y * wm + x] = 1;
    }
    tp_tape t;
    tp_init(&t, ctx, arena, 1);
    for (int s = 0; s < steps; s++) {
        double a = now_s();
        tp_reset(&t, 1);
        nn_tensor x = tp_new(&t, 0, 4, NN_SHAPE(batch, 3, h, w));
        if (!t.rc) t.rc = nn_tensor_upload(ctx, &x, images, &t.err);
        knet_outputs out;
        knet_forward(&m, &t, &x, &out);
        if (t.rc) return die(&t.err);
        double b = now_s();
        knet_losses L;
        if (knet_loss(&m, &t, &out, &tg, &L, &err)) return die(&err);
        double cl = now_s();
        float norm = 0;
        if (nn_params_zero_grad(m.ps, ctx, &err) || tp_backward(&t, &err) ||
            nn_clip_grad_norm(m.ps, ctx, c.clip, &norm, &err))
            return die(&err);
        double d = now_s();
        if (nn_optim_step(opt, ctx, 1e-4f, &err)) return die(&err);
        double e = now_s();
        printf("step %d: forward %.2f s, loss %.2f s, backward %.2f s, AdamW %.2f s, total %.2f s  "
               "(loss %.3f, grad norm %.3g, %d taped ops, arena %.0f MiB, peak RSS %.0f MiB)\n",
               s + 1, b - a, cl - b, d - cl, e - d, e - a, L.total, norm, t.n,
               nn_arena_high_water(arena) / 1048576.0, peak_rss_mib());
        fflush(stdout);
    }
    tp_free(&t);
    nn_arena_free(arena);
    nn_optim_free(opt);
    knet_model_free(&m);
    nn_ctx_free(ctx);
    free(images);
    free(masks);
    return 0;
}
