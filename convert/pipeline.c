/* pipeline.c: per-image conversion work on the es_pool, store writes in image order.
 *
 * Workers take images in index order (the pool's atomic counter) and do the expensive part
 * (decode a PNG, encode RLE). Whichever worker finishes the image the writer waits for
 * becomes the writer and drains every consecutive finished image into the store, outside
 * the lock, so decoding and writing overlap and the store is used by one thread at a time.
 * A worker that would run more than `window` images ahead of the writer waits, which bounds
 * memory to a few images per thread. In lenient mode each image's rows are written inside
 * a SAVEPOINT so a refused image leaves nothing behind.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "convert_internal.h"
#include "entseg/pool.h"

enum { SLOT_PENDING = 0, SLOT_READY = 1, SLOT_DONE = 2 };

typedef struct pipeline {
    const es_pipeline_ops *ops;
    void *ctx;
    es_store *store;
    const es_convert_common *common;
    size_t n, window;
    pthread_mutex_t lock;
    pthread_cond_t advanced;
    unsigned char *state;  /* (n) SLOT_* */
    void **results;        /* (n) */
    es_error **errors;     /* (n) per-image error, allocated only for failed images */
    int *failed;           /* (n) work status */
    size_t next_write;
    int writer_busy;
    atomic_int stop;       /* a failure in strict mode: skip remaining work */
    int rc;
    es_error first_err;
    es_progress *progress;
} pipeline;

static int savepoint(es_store *s, const char *sql) {
    sqlite3 *db = es_store_sqlite(s);
    return db ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_OK;
}

/* Writes image k (lock not held); records a failure (skipped or fatal). */
static void write_one(pipeline *p, size_t k) {
    es_error err = {0};
    int rc = p->failed[k];
    if (p->stop) {
        if (!rc && p->results[k]) p->ops->drop(p->ctx, p->results[k]);
        free(p->errors[k]);
        p->errors[k] = NULL;
        p->results[k] = NULL;
        return;
    }
    if (rc) {
        if (p->errors[k]) err = *p->errors[k];
        else es_error_set(&err, rc, "failed");
        free(p->errors[k]);
        p->errors[k] = NULL;
    }
    else {
        if (p->common->lenient) savepoint(p->store, "SAVEPOINT es_image");
        rc = p->ops->write(p->ctx, k, p->results[k], &err);
        if (p->common->lenient) {
            if (rc) savepoint(p->store, "ROLLBACK TO es_image");
            savepoint(p->store, "RELEASE es_image");
        }
    }
    p->results[k] = NULL;
    if (!rc) return;
    if (p->common->lenient && rc != ES_ERR_NOMEM && rc != ES_ERR_INTERNAL) {
        const char *label = p->ops->label ? p->ops->label(p->ctx, k) : "";
        if (es_report_add_skipped(p->common->report, "%s: %s", label, err.msg)) {
            p->stop = 1;
            p->rc = es_error_set(&p->first_err, ES_ERR_NOMEM, "out of memory");
        }
        return;
    }
    p->stop = 1;
    p->rc = rc;
    p->first_err = err;
}

static void task(void *ctx, size_t i, int thread) {
    pipeline *p = ctx;
    pthread_mutex_lock(&p->lock);
    while (!p->stop && i > p->next_write + p->window) pthread_cond_wait(&p->advanced, &p->lock);
    int stop = p->stop;
    pthread_mutex_unlock(&p->lock);

    void *result = NULL;
    es_error err = {0};
    int rc = stop ? ES_OK : p->ops->work(p->ctx, i, thread, &result, &err);

    pthread_mutex_lock(&p->lock);
    p->results[i] = result;
    p->failed[i] = rc;
    if (rc) {
        p->errors[i] = malloc(sizeof err);
        if (p->errors[i]) *p->errors[i] = err;
    }
    p->state[i] = SLOT_READY;
    if (!p->writer_busy) {
        p->writer_busy = 1;
        while (p->next_write < p->n && p->state[p->next_write] == SLOT_READY) {
            size_t k = p->next_write;
            pthread_mutex_unlock(&p->lock);
            write_one(p, k);
            es_progress_add(p->progress, 1);
            pthread_mutex_lock(&p->lock);
            p->state[k] = SLOT_DONE;
            p->next_write++;
            pthread_cond_broadcast(&p->advanced);
        }
        p->writer_busy = 0;
    }
    pthread_mutex_unlock(&p->lock);
}

int es_pipeline_run(size_t n, const es_pipeline_ops *ops, void *ctx, es_store *store,
                    const es_convert_common *c, const char *progress_label, es_error *err) {
    if (n == 0) return ES_OK;
    pipeline p;
    memset(&p, 0, sizeof p);
    p.ops = ops;
    p.ctx = ctx;
    p.store = store;
    p.common = c;
    p.n = n;
    es_pool *pool = es_pool_create(es_convert_threads(c));
    if (!pool) return es_error_set(err, ES_ERR_NOMEM, "out of memory creating the thread pool");
    p.window = 2 * (size_t)es_pool_threads(pool);
    p.state = calloc(n, 1);
    p.results = calloc(n, sizeof *p.results);
    p.failed = calloc(n, sizeof *p.failed);
    p.errors = calloc(n, sizeof *p.errors);
    if (!p.state || !p.results || !p.failed || !p.errors) {
        free(p.state);
        free(p.results);
        free(p.failed);
        free(p.errors);
        es_pool_free(pool);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.advanced, NULL);
    p.progress = es_progress_start(progress_label, n, c->quiet);
    es_pool_for(pool, n, task, &p);
    es_progress_finish(p.progress);
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.advanced);
    es_pool_free(pool);
    free(p.state);
    free(p.results);
    free(p.failed);
    free(p.errors);
    if (p.rc) {
        if (err) *err = p.first_err;
        return p.rc;
    }
    return ES_OK;
}
