/* sched.c: learning-rate schedules (mmcv's LrUpdater semantics: warmup multiplies the
 * regular schedule's lr). */
#include <math.h>

#include "nn.h"

float nn_sched_lr(const nn_sched *s, int iter) {
    double lr = s->base_lr;
    if (s->kind == NN_SCHED_STEP) {
        int passed = 0;
        for (int i = 0; i < s->n_steps && i < NN_SCHED_MAX_STEPS; i++)
            if (iter >= s->steps[i]) passed++;
        lr = s->base_lr * pow(s->gamma, passed);
    } else if (s->kind == NN_SCHED_POLY) {
        double frac = s->max_iters > 0 ? (double)iter / s->max_iters : 1.0;
        if (frac > 1.0) frac = 1.0;
        lr = (s->base_lr - s->min_lr) * pow(1.0 - frac, s->power) + s->min_lr;
    }
    if (s->warmup_iters > 0 && iter < s->warmup_iters) {
        double k = (1.0 - (double)iter / s->warmup_iters) * (1.0 - s->warmup_ratio);
        lr *= 1.0 - k;
    }
    return (float)lr;
}
