/* entseg-train: train and run entity segmentation models (K-Net first).
 *
 *   entseg-train fit --model knet --preset tiny --train train.db --val val.db -o run/
 *                    [--max-minutes M] [--iters N] [--resume] [--config FILE]
 *                    [--set key=value]... [--device auto|cpu|cuda] [--threads N]
 *   entseg-train infer --ckpt run/last.safetensors --images images.db -o pred.db
 *                    [--device ...] [--threads N] [--max-images N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "data/loader.h"
#include "entseg/cli.h"
#include "knet/knet.h"
#include "knet/knet_predict.h"
#include "nn.h"

#define MAX_SETS 64

typedef struct args {
    const char *model, *preset, *train, *val, *out, *config, *ckpt, *images;
    const char *device;
    const char *sets[MAX_SETS];
    int n_sets;
    double max_minutes;
    int iters, resume, threads, max_images;
} args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: entseg-train fit --model knet --preset tiny|full --train train.db --val val.db -o run/\n"
            "                        [--max-minutes M] [--iters N] [--resume] [--config FILE]\n"
            "                        [--set key=value]... [--device auto|cpu|cuda] [--threads N]\n"
            "       entseg-train infer --ckpt run/last.safetensors --images images.db -o pred.db\n"
            "                        [--device auto|cpu|cuda] [--threads N] [--max-images N]\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_int(const char *flag, const char *v, int *out) {
    int64_t x;
    if (!es_cli_parse_int(v, 0, 1000000000, &x)) {
        fprintf(stderr, "entseg-train: %s: not a non-negative integer: '%s'\n", flag, v);
        return 1;
    }
    *out = (int)x;
    return 0;
}

/* The options of fit and infer (argv[0] is the command); 1 after printing an error. */
static int parse_args(int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->model = "knet";
    a->preset = "tiny";
    a->device = "auto";
    a->iters = -1;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--resume")) {
            a->resume = 1;
            continue;
        }
        if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "entseg-train: %s needs a value\n", f);
            return 1;
        }
        const char *v = argv[++i];
        if (!strcmp(f, "--model")) a->model = v;
        else if (!strcmp(f, "--preset")) a->preset = v;
        else if (!strcmp(f, "--train")) a->train = v;
        else if (!strcmp(f, "--val")) a->val = v;
        else if (!strcmp(f, "-o") || !strcmp(f, "--out")) a->out = v;
        else if (!strcmp(f, "--config")) a->config = v;
        else if (!strcmp(f, "--ckpt")) a->ckpt = v;
        else if (!strcmp(f, "--images")) a->images = v;
        else if (!strcmp(f, "--device")) a->device = v;
        else if (!strcmp(f, "--set")) {
            if (a->n_sets == MAX_SETS) {
                fprintf(stderr, "entseg-train: too many --set\n");
                return 1;
            }
            a->sets[a->n_sets++] = v;
        } else if (!strcmp(f, "--max-minutes")) {
            char *end;
            a->max_minutes = strtod(v, &end);
            if (end == v || *end || a->max_minutes < 0) {
                fprintf(stderr, "entseg-train: --max-minutes: not a number: '%s'\n", v);
                return 1;
            }
        } else if (!strcmp(f, "--iters")) {
            if (parse_int(f, v, &a->iters)) return 1;
        } else if (!strcmp(f, "--threads")) {
            if (parse_int(f, v, &a->threads)) return 1;
        } else if (!strcmp(f, "--max-images")) {
            if (parse_int(f, v, &a->max_images)) return 1;
        } else {
            fprintf(stderr, "entseg-train: unknown option %s\n", f);
            usage(stderr);
            return 1;
        }
    }
    return 0;
}

static int fail(const es_error *err) {
    fprintf(stderr, "entseg-train: %s\n", err->msg[0] ? err->msg : "error");
    return 1;
}

static int make_ctx(const args *a, nn_ctx **ctx, es_error *err) {
    nn_device_request req;
    ES_CHECK(nn_device_request_parse(a->device, &req, err));
    ES_CHECK(nn_ctx_create(ctx, req, a->threads, err));
    if (nn_ctx_note(*ctx)[0]) fprintf(stderr, "%s\n", nn_ctx_note(*ctx));
    return ES_OK;
}

static void fmt_eta(double s, char *buf, size_t n) {
    if (s < 0) s = 0;
    int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
    if (h) snprintf(buf, n, "%dh%02dm", h, m);
    else snprintf(buf, n, "%dm%02ds", m, sec);
}

static int save_ckpt(const char *path, knet_model *m, nn_optim *opt, nn_ctx *ctx, int iter,
                     es_error *err) {
    char *cfg = knet_config_to_json(&m->cfg);
    char it[32];
    snprintf(it, sizeof it, "%d", iter);
    const char *keys[] = {"entseg.model", "entseg.config", "entseg.iter"};
    const char *vals[] = {"knet", cfg ? cfg : "{}", it};
    int rc = nn_checkpoint_save(path, m->ps, opt, ctx, 3, keys, vals, err);
    free(cfg);
    return rc;
}

/* AP^e of the model on val_store, printed and appended to vlogf (when open). */
static int validate_and_log(knet_model *m, nn_ctx *ctx, const char *val_store, const char *val_pred,
                            int iter, FILE *vlogf, es_error *err) {
    double ap[2];
    ES_CHECK(knet_validate(m, ctx, val_store, val_pred, nn_ctx_threads(ctx), ap, err));
    printf("val iter %d  AP^e %.4f  AP^e50 %.4f\n", iter, ap[0], ap[1]);
    fflush(stdout);
    if (vlogf) fprintf(vlogf, "%d,%.6f,%.6f\n", iter, ap[0], ap[1]), fflush(vlogf);
    return ES_OK;
}

static int cmd_fit(const args *a) {
    es_error err = {0};
    if (strcmp(a->model, "knet")) {
        fprintf(stderr, "entseg-train: unknown model '%s' (known: knet)\n", a->model);
        return 2;
    }
    if (!a->train || !a->out) {
        fprintf(stderr, "entseg-train fit: --train and -o are required\n");
        usage(stderr);
        return 2;
    }
    knet_config cfg;
    if (knet_config_preset(a->preset, &cfg, &err)) {
        fprintf(stderr, "entseg-train: unknown preset '%s' (tiny, full)\n", a->preset);
        return 2;
    }
    if (a->config && knet_config_load_json(&cfg, a->config, &err)) return fail(&err);
    for (int i = 0; i < a->n_sets; i++)
        if (knet_config_set(&cfg, a->sets[i], &err)) return fail(&err);
    if (a->iters >= 0) cfg.iters = a->iters;
    if (mkdir(a->out, 0777) && errno != EEXIST) {
        fprintf(stderr, "entseg-train: %s: cannot create folder: %s\n", a->out, strerror(errno));
        return 1;
    }
    char ckpt[4096], val_pred[4096], log_path[4096], val_log[4096];
    snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", a->out);
    snprintf(val_pred, sizeof val_pred, "%s/val_pred.db", a->out);
    snprintf(log_path, sizeof log_path, "%s/train_log.csv", a->out);
    snprintf(val_log, sizeof val_log, "%s/val_log.csv", a->out);

    nn_ctx *ctx = NULL;
    if (make_ctx(a, &ctx, &err)) return fail(&err);
    knet_model m;
    knet_loader *loader = NULL;
    nn_optim *opt = NULL;
    nn_arena *arena = NULL;
    /* a checkpoint to resume from replaces every weight: no backbone file is read then */
    FILE *resume_file = a->resume ? fopen(ckpt, "rb") : NULL;
    int resuming = resume_file != NULL;
    if (resume_file) fclose(resume_file);
    int rc = knet_model_create(&m, &cfg, ctx, (uint64_t)cfg.seed, &err);
    if (!rc && !resuming && cfg.backbone_weights[0]) {
        int n_loaded = 0;
        rc = knet_model_load_backbone(&m, ctx, cfg.backbone_weights, &n_loaded, &err);
        if (!rc) fprintf(stderr, "entseg-train: backbone: %d tensors from %s\n", n_loaded, cfg.backbone_weights);
    } else if (!rc && !resuming && knet_is_full(&cfg)) {
        fprintf(stderr, "entseg-train: note: backbone_weights is empty: the ResNet-50 starts from random weights "
                        "(set backbone_weights=r50.safetensors, see docs/knet.md)\n");
    }
    if (rc) {
        knet_model_free(&m); /* safe after a failed create */
        nn_ctx_free(ctx);
        return fail(&err);
    }
    fprintf(stderr, "entseg-train: knet %s: %d parameter tensors, %lld weights; reading %s\n", cfg.preset,
            nn_params_count(m.ps), (long long)nn_params_numel(m.ps), a->train);
    rc = knet_loader_open(&loader, a->train, &cfg, 0, &err);
    if (!rc && knet_loader_cache_bytes(loader))
        fprintf(stderr, "entseg-train: %zu images cached (%.1f MB)\n", knet_loader_images(loader),
                knet_loader_cache_bytes(loader) / 1048576.0);
    else if (!rc)
        fprintf(stderr, "entseg-train: %zu images, streamed on %d loader threads\n", knet_loader_images(loader),
                cfg.loader_threads);
    if (rc) {
        knet_model_free(&m);
        nn_ctx_free(ctx);
        return fail(&err);
    }
    nn_optim_opts oo = nn_optim_opts_default(NN_OPTIM_ADAMW);
    oo.weight_decay = cfg.weight_decay;
    oo.lr_mult[0] = cfg.backbone_lr_mult;
    oo.group_set[0] = 1;
    rc = nn_optim_create(&opt, m.ps, ctx, &oo, &err);
    int start = 0;
    if (!rc && resuming) {
        rc = nn_checkpoint_load(ckpt, m.ps, opt, ctx, "", 0, NULL, &err);
        start = (int)nn_optim_steps(opt);
        if (!rc) fprintf(stderr, "entseg-train: resumed from %s at iteration %d\n", ckpt, start);
    } else if (!rc && a->resume) {
        fprintf(stderr, "entseg-train: --resume: no %s yet, starting fresh\n", ckpt);
    }
    if (!rc) rc = nn_arena_create(&arena, ctx, 256u << 20, &err);
    nn_sched sched;
    memset(&sched, 0, sizeof sched);
    sched.kind = NN_SCHED_STEP;
    sched.base_lr = cfg.lr;
    sched.gamma = 0.1f;
    if (cfg.steps0 > 0) sched.steps[sched.n_steps++] = cfg.steps0;
    if (cfg.steps1 > 0) sched.steps[sched.n_steps++] = cfg.steps1;
    sched.warmup_iters = cfg.warmup_iters;
    sched.warmup_ratio = cfg.warmup_ratio;
    FILE *logf = rc ? NULL : fopen(log_path, start ? "a" : "w");
    FILE *vlogf = rc ? NULL : fopen(val_log, start ? "a" : "w");
    if (logf && !start) fprintf(logf, "iter,loss,cls,mask,dice,lr,grad_norm\n");
    if (vlogf && !start) fprintf(vlogf, "iter,ap_e,ap_e50\n");
    tp_tape t;
    tp_init(&t, ctx, arena, 1);
    double t0 = now_s(), last_log = t0;
    int last_log_iter = start, iter = start;
    for (; iter < cfg.iters && !rc; iter++) {
        if (a->max_minutes > 0 && now_s() - t0 >= a->max_minutes * 60) {
            fprintf(stderr, "entseg-train: --max-minutes %.3g reached at iteration %d\n", a->max_minutes, iter);
            break;
        }
        const knet_batch *bt;
        rc = knet_loader_next(loader, &bt, &err);
        if (rc) break;
        tp_reset(&t, 1);
        /* (B, 3, H, W): H and W change from batch to batch (multi-scale, aspect ratio) */
        nn_tensor x = tp_new(&t, 0, 4, NN_SHAPE(bt->batch, 3, bt->h, bt->w));
        if (!t.rc) t.rc = nn_tensor_upload(ctx, &x, bt->images, &t.err);
        knet_outputs out;
        knet_forward(&m, &t, &x, &out);
        knet_losses L;
        rc = knet_loss(&m, &t, &out, &bt->tg, &L, &err);
        if (!rc) rc = nn_params_zero_grad(m.ps, ctx, &err);
        if (!rc) rc = tp_backward(&t, &err);
        float gnorm = 0;
        if (!rc) rc = nn_clip_grad_norm(m.ps, ctx, cfg.clip, &gnorm, &err);
        float lr = nn_sched_lr(&sched, iter);
        if (!rc) rc = nn_optim_step(opt, ctx, lr, &err);
        if (rc) break;
        if (L.total != L.total) {
            rc = es_error_set(&err, ES_ERR_INTERNAL, "loss is NaN at iteration %d", iter);
            break;
        }
        if (logf) fprintf(logf, "%d,%.6f,%.6f,%.6f,%.6f,%.3g,%.4f\n", iter + 1, L.total, L.cls, L.mask, L.dice, lr, gnorm);
        int done = iter + 1;
        if (cfg.log_every && (done % cfg.log_every == 0 || done == cfg.iters)) {
            double nowt = now_s();
            double ips = (done - last_log_iter) * cfg.batch / (nowt - last_log + 1e-9);
            double per_iter = (nowt - t0) / (done - start);
            double eta = (cfg.iters - done) * per_iter;
            if (a->max_minutes > 0 && a->max_minutes * 60 - (nowt - t0) < eta) eta = a->max_minutes * 60 - (nowt - t0);
            char etab[32];
            fmt_eta(eta, etab, sizeof etab);
            printf("iter %d/%d  loss %.4f (cls %.4f mask %.4f dice %.4f)  lr %.2e  %.1f img/s  ETA %s\n",
                   done, cfg.iters, L.total, L.cls, L.mask, L.dice, lr, ips, etab);
            fflush(stdout);
            if (logf) fflush(logf);
            last_log = nowt;
            last_log_iter = done;
        }
        if (cfg.ckpt_every && done % cfg.ckpt_every == 0) rc = save_ckpt(ckpt, &m, opt, ctx, done, &err);
        if (!rc && a->val && cfg.val_every && done % cfg.val_every == 0 && done < cfg.iters)
            rc = validate_and_log(&m, ctx, a->val, val_pred, done, vlogf, &err);
    }
    if (!rc) rc = save_ckpt(ckpt, &m, opt, ctx, iter, &err);
    if (!rc) printf("checkpoint %s (iteration %d)\n", ckpt, iter);
    if (!rc && a->val) rc = validate_and_log(&m, ctx, a->val, val_pred, iter, vlogf, &err);
    if (logf) fclose(logf);
    if (vlogf) fclose(vlogf);
    tp_free(&t);
    nn_arena_free(arena);
    nn_optim_free(opt);
    knet_loader_free(loader);
    knet_model_free(&m);
    nn_ctx_free(ctx);
    return rc ? fail(&err) : 0;
}

static int cmd_infer(const args *a) {
    es_error err = {0};
    if (!a->ckpt || !a->images || !a->out) {
        fprintf(stderr, "entseg-train infer: --ckpt, --images and -o are required\n");
        usage(stderr);
        return 2;
    }
    char *json = malloc(1 << 16);
    if (!json) return 1;
    int rc = nn_checkpoint_meta(a->ckpt, "entseg.config", json, 1 << 16, &err);
    knet_config cfg = knet_config_tiny();
    if (!rc && !json[0]) rc = es_error_set(&err, ES_ERR_FORMAT, "%s: no entseg.config in the checkpoint", a->ckpt);
    if (!rc) rc = knet_config_parse_json(&cfg, json, &err);
    free(json);
    for (int i = 0; i < a->n_sets && !rc; i++) rc = knet_config_set(&cfg, a->sets[i], &err);
    if (rc) return fail(&err);
    nn_ctx *ctx = NULL;
    if (make_ctx(a, &ctx, &err)) return fail(&err);
    knet_model m;
    rc = knet_model_create(&m, &cfg, ctx, 1, &err);
    if (!rc) rc = nn_checkpoint_load(a->ckpt, m.ps, NULL, ctx, "", NN_LOAD_ALLOW_UNEXPECTED, NULL, &err);
    int n = 0;
    double t0 = now_s();
    if (!rc) rc = knet_predict_store(&m, ctx, a->images, a->out, (size_t)a->max_images, &n, &err);
    if (!rc) printf("wrote %s: %d images (%.1f img/s)\n", a->out, n, n / (now_s() - t0 + 1e-9));
    knet_model_free(&m);
    nn_ctx_free(ctx);
    return rc ? fail(&err) : 0;
}

static int run_fit(int argc, char **argv) {
    args a;
    return parse_args(argc, argv, &a) ? 2 : cmd_fit(&a);
}

static int run_infer(int argc, char **argv) {
    args a;
    return parse_args(argc, argv, &a) ? 2 : cmd_infer(&a);
}

int main(int argc, char **argv) {
    static const es_cli_command commands[] = {
        {"fit", run_fit, "train a model (K-Net) on an entity store"},
        {"infer", run_infer, "predict a store's images into a prediction store from a checkpoint"},
    };
    return es_cli_dispatch("entseg-train", commands, sizeof commands / sizeof commands[0], 6, argc, argv);
}
