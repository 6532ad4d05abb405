/* entseg/pool.h: a fixed thread pool for per-image work.
 *
 * es_pool_for runs fn(ctx, i, thread) for i in [0, n) on the pool's threads with dynamic
 * scheduling (an atomic counter), and returns when all are done. thread is in
 * [0, es_pool_threads()) and lets callers keep per-thread scratch. A pool of 1 thread runs
 * everything on the calling thread. Ownership: create/free pair; free accepts NULL.
 */
#ifndef ENTSEG_POOL_H
#define ENTSEG_POOL_H

#include <stddef.h>

typedef struct es_pool es_pool;
typedef void (*es_task_fn)(void *ctx, size_t index, int thread);

/* nthreads <= 0: one per core (es_ncores). Returns NULL when out of memory. */
es_pool *es_pool_create(int nthreads);
void es_pool_free(es_pool *p);
int es_pool_threads(const es_pool *p);
void es_pool_for(es_pool *p, size_t n, es_task_fn fn, void *ctx);
int es_ncores(void);

#endif
