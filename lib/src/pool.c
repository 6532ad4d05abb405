/* pool.c: a fixed pool of worker threads for per-image work (see entseg/pool.h).
 *
 * The calling thread is worker 0; nthreads-1 pthreads wait on a condition variable for the
 * next job. A job hands out indices through one atomic counter (dynamic scheduling: images
 * differ a lot in cost). es_pool_for is meant to be called by one thread at a time.
 *
 * The caller waits only for workers that joined the job: once its own share runs out of
 * indices it closes the job, and a worker that wakes after that goes back to sleep. On a
 * busy machine a worker may not get a core for milliseconds; waiting for it to check in
 * to a job whose work is already done cost more than the work of many small jobs.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "entseg/pool.h"

struct es_pool {
    int nthreads;
    pthread_t *threads;      /* (nthreads - 1) workers; worker t runs as thread t + 1 */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* a new job or shutdown */
    pthread_cond_t done;     /* a worker finished its share of the job */
    unsigned long generation; /* bumped per job, so each worker joins each job once */
    int open;                /* the current job still takes workers */
    int active;              /* workers inside the current job */
    int shutdown;
    /* the current job */
    es_task_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
};

typedef struct worker_arg {
    es_pool *pool;
    int thread;
} worker_arg;

int es_ncores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void run_share(es_pool *p, int thread) {
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n) break;
        p->fn(p->ctx, i, thread);
    }
}

static void *worker_main(void *arg) {
    worker_arg *a = arg;
    es_pool *p = a->pool;
    int thread = a->thread;
    free(a);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->shutdown && p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
        if (p->shutdown) break;
        seen = p->generation;
        if (!p->open) continue; /* finished without us */
        p->active++;
        pthread_mutex_unlock(&p->lock);
        run_share(p, thread);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

es_pool *es_pool_create(int nthreads) {
    if (nthreads <= 0) nthreads = es_ncores();
    es_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = 1;
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (nthreads > 1) {
        p->threads = calloc((size_t)nthreads - 1, sizeof *p->threads);
        if (!p->threads) {
            es_pool_free(p);
            return NULL;
        }
        for (int t = 1; t < nthreads; t++) {
            worker_arg *a = malloc(sizeof *a);
            if (!a) break;
            a->pool = p;
            a->thread = t;
            if (pthread_create(&p->threads[t - 1], NULL, worker_main, a) != 0) {
                free(a);
                break; /* run with the threads we got */
            }
            p->nthreads = t + 1;
        }
    }
    return p;
}

void es_pool_free(es_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->nthreads; t++) pthread_join(p->threads[t - 1], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}

int es_pool_threads(const es_pool *p) { return p ? p->nthreads : 1; }

void es_pool_for(es_pool *p, size_t n, es_task_fn fn, void *ctx) {
    if (n == 0) return;
    if (!p || p->nthreads == 1) {
        for (size_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    p->open = 1;
    p->active = 0;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    run_share(p, 0); /* returns when every index has been handed out */
    pthread_mutex_lock(&p->lock);
    p->open = 0;
    while (p->active > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
