/* test_pool.c: the thread pool visits every index exactly once, reports thread numbers in
 * range, survives many jobs in a row, and a 1-thread pool runs on the caller. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "entseg/pool.h"
#include "es_test.h"

typedef struct job {
    atomic_int *visits;   /* (n) times each index ran */
    atomic_int bad_thread;
    int nthreads;
    pthread_t caller;
    atomic_int off_caller;
} job;

static void visit(void *ctx, size_t i, int thread) {
    job *j = ctx;
    atomic_fetch_add(&j->visits[i], 1);
    if (thread < 0 || thread >= j->nthreads) atomic_fetch_add(&j->bad_thread, 1);
    if (!pthread_equal(pthread_self(), j->caller)) atomic_fetch_add(&j->off_caller, 1);
}

static void run_jobs(int requested) {
    es_pool *p = es_pool_create(requested);
    CHECK(p != NULL);
    if (!p) return;
    int nt = es_pool_threads(p);
    CHECK(nt >= 1);
    if (requested > 0) CHECK_EQ_INT(nt, requested);
    else CHECK_EQ_INT(nt, es_ncores());
    enum { N = 1000 };
    static atomic_int visits[N];
    for (int round = 0; round < 50; round++) {
        size_t n = (size_t)(round * 37) % N; /* includes 0 */
        for (int i = 0; i < N; i++) atomic_store(&visits[i], 0);
        job j = {visits, 0, nt, pthread_self(), 0};
        es_pool_for(p, n, visit, &j);
        int wrong = 0;
        for (size_t i = 0; i < N; i++) wrong += atomic_load(&visits[i]) != (i < n ? 1 : 0);
        CHECK_EQ_INT(wrong, 0);
        CHECK_EQ_INT(atomic_load(&j.bad_thread), 0);
        if (nt == 1) CHECK_EQ_INT(atomic_load(&j.off_caller), 0);
    }
    es_pool_free(p);
}

static void every_index_runs_once_with_one_thread(void) { run_jobs(1); }
static void every_index_runs_once_with_four_threads(void) { run_jobs(4); }
static void zero_threads_means_one_per_core(void) { run_jobs(0); }
static void free_accepts_null(void) {
    es_pool_free(NULL);
    es_pool *p = es_pool_create(3);
    es_pool_free(p); /* never used */
    CHECK(es_ncores() >= 1);
}

int main(void) {
    ES_RUN(every_index_runs_once_with_one_thread);
    ES_RUN(every_index_runs_once_with_four_threads);
    ES_RUN(zero_threads_means_one_per_core);
    ES_RUN(free_accepts_null);
    ES_TEST_END();
}
