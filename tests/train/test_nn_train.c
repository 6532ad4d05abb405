/* test_nn_train.c: a small conv net (3 x conv3x3 + GroupNorm + ReLU, 64 x 64 inputs) trained
 * for a few hundred SGD steps on a fixed task must drive its loss well down; and the same
 * run twice in deterministic mode gives bit-identical losses. */
#include <time.h>

#include "../../train/bench/small_net.h"
#include "es_test.h"

static es_error err;

/* mean loss of the first and last `window` steps of `steps` */
static void train(int steps, int window, float *first, float *last, float *final_loss,
                  float *loss0) {
    nn_ctx *ctx;
    CHECK_OK(nn_ctx_create(&ctx, NN_REQUEST_CPU, 0, &err), &err);
    nn_ctx_set_deterministic(ctx, 1);
    small_net net;
    int n = 2, c = 16, h = 64, w = 64;
    const char *steps_env = getenv("NN_TRAIN_STEPS");
    if (steps_env) steps = atoi(steps_env);
    CHECK_OK(small_net_init(&net, ctx, n, c, h, w, 8, 42, &err), &err);
    float *x = malloc(sizeof(float) * n * 3 * h * w), *t = malloc(sizeof(float) * n * h * w);
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    double a = 0, b = 0;
    float loss = 0;
    for (int s = 0; s < steps; s++) {
        small_net_batch(&rng, n, h, w, x, t);
        int rc = small_net_step(&net, ctx, x, t, 0.05f, &loss, &err);
        if (rc) {
            CHECK_OK(rc, &err);
            break;
        }
        if (s == 0) *loss0 = loss;
        if (s < window) a += loss;
        if (s >= steps - window) b += loss;
    }
    *first = (float)(a / window);
    *last = (float)(b / window);
    *final_loss = loss;
    free(x);
    free(t);
    small_net_free(&net);
    nn_ctx_free(ctx);
}

static void test_small_net_learns(void) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    float first, last, fin, l0;
    train(300, 20, &first, &last, &fin, &l0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  BCE at step 0 %.4f; mean over the first 20 steps %.4f, the last 20 %.4f (%.1f s)\n", l0, first, last,
           (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    CHECK(l0 > 0.3f);
    CHECK_MSG(last < 0.1f * l0 && last < 0.25f * first, "loss only went from %.4f to %.4f", l0, last);
}

static void test_deterministic_mode(void) {
    float f1, l1, x1, f2, l2, x2, z1, z2;
    train(5, 2, &f1, &l1, &x1, &z1);
    train(5, 2, &f2, &l2, &x2, &z2);
    CHECK(f1 == f2 && l1 == l2 && x1 == x2 && z1 == z2);
}

int main(void) {
    ES_RUN(test_small_net_learns);
    ES_RUN(test_deterministic_mode);
    ES_TEST_END();
}
