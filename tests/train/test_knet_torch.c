/* test_knet_torch.c: the C K-Net against its PyTorch twin (scripts/twins/knet_twin.py,
 * fixture tests/train/fixtures/knet_twin.bin): same weights, same batch, same targets ->
 * the four losses and the gradient of every parameter agree to a relative error < 1e-3
 * (per tensor: max |c - torch| / max |torch|; the llm.c test_gpt2 approach). */
#include "knet_check.h"

/* a gradient that is zero in exact arithmetic (attention key bias: softmax ignores a
 * per-row constant) is rounding noise on both sides: judged against GRAD_FLOOR */
#define GRAD_FLOOR 1e-5

static void test_twin(void) {
    if (!twin_open("knet_twin.bin")) return;
    es_error err = {0};
    knet_config c = knet_config_tiny();
    c.num_kernels = 6, c.channels = 16, c.stem = 8;
    c.widths[0] = 8, c.widths[1] = 16, c.widths[2] = 16, c.widths[3] = 16;
    c.gn_groups = 4, c.heads = 2, c.ffn_channels = 32, c.stages = 3, c.batch = 2;
    knet_rig r;
    if (!knet_rig_open(&r, &c, 1, 1, 16u << 20)) return;
    int np = nn_params_count(r.m.ps), loaded = twin_upload_params(r.ctx, r.m.ps, NULL, NULL);
    CHECK_EQ_INT(loaded, np);
    twin_array *in = twin_find("input");
    CHECK(in && in->numel == 2 * 3 * 64 * 64);
    knet_targets tg;
    memset(&tg, 0, sizeof tg);
    tg.batch = 2, tg.hm = 16, tg.wm = 16;
    for (int b = 0; b < 2; b++) {
        char key[16];
        snprintf(key, sizeof key, "gt.%d", b);
        twin_array *g = twin_find(key);
        CHECK(g != NULL);
        if (!g || !in) return;
        tg.n_gt[b] = g->dims[0];
        tg.masks[b] = g->data;
    }
    nn_tensor x = tp_new(&r.t, 0, 4, NN_SHAPE(2, 3, 64, 64));
    CHECK_OK(nn_tensor_upload(r.ctx, &x, in->data, &err), &err);
    knet_outputs out;
    knet_forward(&r.m, &r.t, &x, &out);
    knet_losses L;
    CHECK_OK(knet_loss(&r.m, &r.t, &out, &tg, &L, &err), &err);
    CHECK_OK(nn_params_zero_grad(r.m.ps, r.ctx, &err), &err);
    CHECK_OK(tp_backward(&r.t, &err), &err);
    const char *names[4] = {"loss.total", "loss.cls", "loss.mask", "loss.dice"};
    float mine[4] = {L.total, L.cls, L.mask, L.dice};
    for (int k = 0; k < 4; k++) {
        twin_array *a = twin_find(names[k]);
        CHECK(a != NULL);
        if (!a) continue;
        double e = fabs(mine[k] - a->data[0]) / fabs(a->data[0]);
        printf("  %-10s C %.6f torch %.6f rel %.2e\n", names[k], mine[k], a->data[0], e);
        CHECK(e < 1e-3);
    }
    double worst = 0;
    const char *worst_name = "";
    int bad = 0;
    for (int i = 0; i < np; i++) {
        char key[200];
        snprintf(key, sizeof key, "grad.%s", nn_params_name(r.m.ps, i));
        twin_array *a = twin_find(key);
        nn_tensor *p = nn_params_tensor(r.m.ps, i);
        if (!a || a->numel != p->numel) continue;
        double e = twin_rel_err(p->grad, a->data, p->numel, GRAD_FLOOR);
        double mb = 0;
        for (int64_t j = 0; j < p->numel; j++) mb = fabs(a->data[j]) > mb ? fabs(a->data[j]) : mb;
        if (mb >= GRAD_FLOOR && e > worst) worst = e, worst_name = nn_params_name(r.m.ps, i);
        if (e >= 1e-3 && bad++ < 8) printf("  grad %s: rel %.2e\n", nn_params_name(r.m.ps, i), e);
        if (mb < GRAD_FLOOR) printf("  grad %s: max |torch| %.1e (zero in exact arithmetic)\n", nn_params_name(r.m.ps, i), mb);
    }
    printf("  %d parameter gradients, worst relative error of the non-zero ones %.2e (%s)\n", np, worst, worst_name);
    CHECK_EQ_INT(bad, 0);
    knet_rig_close(&r);
    twin_free();
}

int main(void) {
    ES_RUN(test_twin);
    ES_TEST_END();
}
