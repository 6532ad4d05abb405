/* progress.c: a progress bar on stderr (see entseg/progress.h).
 *
 * Counting is one atomic add; drawing happens in whichever thread's add finds the last
 * draw older than 0.25 s, and only if it wins a trylock, so workers never wait on the
 * terminal. Nothing is drawn before the work has run for 1 s, when stderr is not a
 * terminal, or when quiet is set.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "entseg/progress.h"

#define FIRST_DRAW_S 1.0
#define REDRAW_S 0.25
#define LABEL_MAX 48

struct es_progress {
    char label[LABEL_MAX];
    uint64_t total;
    int enabled;
    int drawn;               /* something is on the line; finish ends it */
    double start, last_draw; /* guarded by lock */
    atomic_uint_fast64_t done;
    pthread_mutex_t lock;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

es_progress *es_progress_start(const char *label, uint64_t total, int quiet) {
    es_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start = now_s();
    p->last_draw = 0;
    atomic_init(&p->done, 0);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

/* One line: label [#####.....]  45%  123/456  12.3/s  ETA 10s */
static void draw(es_progress *p, uint64_t done, double t) {
    double elapsed = t - p->start, rate = elapsed > 0 ? done / elapsed : 0;
    char bar[31];
    if (p->total) {
        double frac = done >= p->total ? 1.0 : (double)done / (double)p->total;
        int fill = (int)(frac * 30);
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(30 - fill));
        bar[30] = '\0';
        double eta = rate > 0 && done < p->total ? (p->total - done) / rate : 0;
        fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu %.1f/s ETA %.0fs\033[K", p->label, bar,
                (int)(frac * 100), (unsigned long long)done, (unsigned long long)p->total, rate, eta);
    } else {
        fprintf(stderr, "\r%s %llu %.1f/s\033[K", p->label, (unsigned long long)done, rate);
    }
    fflush(stderr);
    p->drawn = 1;
}

void es_progress_add(es_progress *p, uint64_t n) {
    if (!p) return;
    uint64_t done = atomic_fetch_add(&p->done, n) + n;
    if (!p->enabled) return;
    if (pthread_mutex_trylock(&p->lock) != 0) return;
    double t = now_s();
    if (t - p->start >= FIRST_DRAW_S && t - p->last_draw >= REDRAW_S) {
        p->last_draw = t;
        draw(p, done, t);
    }
    pthread_mutex_unlock(&p->lock);
}

void es_progress_finish(es_progress *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    if (p->enabled && p->drawn) {
        draw(p, atomic_load(&p->done), now_s());
        fputc('\n', stderr);
        fflush(stderr);
    }
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
