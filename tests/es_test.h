/* es_test.h: the few macros every C test program uses.
 *
 * A test program is a list of static test functions run from main() with ES_RUN; each
 * CHECK that fails prints file:line and the expression and marks the current test failed.
 * ES_TEST_END prints "N passed, N failed" and returns non-zero on any failure. A test that
 * cannot run here (no ../shared, no GPU) calls ES_SKIP("why"), which exits with code 77.
 */
#ifndef ES_TEST_H
#define ES_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int es_test_failed_checks = 0;
static int es_test_passed = 0, es_test_failed = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
            es_test_failed_checks++;                                             \
        }                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        if (!(cond)) {                                                           \
            printf("  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);             \
            printf(__VA_ARGS__);                                                 \
            printf("\n");                                                        \
            es_test_failed_checks++;                                             \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                       \
    do {                                                                         \
        long long es_a_ = (long long)(a), es_b_ = (long long)(b);                \
        if (es_a_ != es_b_) {                                                    \
            printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
                   #a, #b, es_a_, es_b_);                                        \
            es_test_failed_checks++;                                             \
        }                                                                        \
    } while (0)

/* |a - b| <= tol, printing both with full precision. */
#define CHECK_NEAR(a, b, tol)                                                    \
    do {                                                                         \
        double es_a_ = (double)(a), es_b_ = (double)(b);                         \
        if (!(fabs(es_a_ - es_b_) <= (tol))) {                                   \
            printf("  FAIL %s:%d: %s ~ %s (%.17g vs %.17g)\n", __FILE__, __LINE__, \
                   #a, #b, es_a_, es_b_);                                        \
            es_test_failed_checks++;                                             \
        }                                                                        \
    } while (0)

/* Through a function, so `&err` is not flagged by -Waddress ("always true"). */
static inline int es_test_nonnull(const void *p) { return p != NULL; }

/* Checks an es_status return is ES_OK and prints the error message otherwise. */
#define CHECK_OK(expr, errp)                                                     \
    do {                                                                         \
        int es_rc_ = (expr);                                                     \
        if (es_rc_ != 0) {                                                       \
            printf("  FAIL %s:%d: %s returned %d: %s\n", __FILE__, __LINE__,      \
                   #expr, es_rc_, es_test_nonnull(errp) ? (errp)->msg : ""); \
            es_test_failed_checks++;                                             \
        }                                                                        \
    } while (0)

#define ES_RUN(fn)                                                               \
    do {                                                                         \
        int es_before_ = es_test_failed_checks;                                  \
        fn();                                                                    \
        if (es_test_failed_checks == es_before_) {                               \
            es_test_passed++;                                                    \
            printf("ok   %s\n", #fn);                                            \
        } else {                                                                 \
            es_test_failed++;                                                    \
            printf("FAIL %s\n", #fn);                                            \
        }                                                                        \
        fflush(stdout);                                                          \
    } while (0)

#define ES_TEST_END()                                                            \
    do {                                                                         \
        printf("%d passed, %d failed\n", es_test_passed, es_test_failed);        \
        return es_test_failed ? 1 : 0;                                          \
    } while (0)

#define ES_SKIP(...)                                                             \
    do {                                                                         \
        printf("SKIP: ");                                                        \
        printf(__VA_ARGS__);                                                     \
        printf("\n");                                                            \
        exit(77);                                                                \
    } while (0)

/* Path of a file under ../shared; skips the whole program when ../shared is absent. */
static inline const char *es_test_shared(const char *rel) {
    static char buf[8][4096];
    static int slot = 0;
    struct stat st;
    if (stat(ES_SHARED_DIR, &st) != 0)
        ES_SKIP("%s not found: reference data ../shared is absent beside the checkout", ES_SHARED_DIR);
    char *p = buf[slot++ % 8];
    snprintf(p, 4096, "%s/%s", ES_SHARED_DIR, rel);
    return p;
}

/* A fresh scratch directory for this test program (ES_TEST_TMPDIR, emptied). */
static inline const char *es_test_tmpdir(void) {
    static int made = 0;
    if (!made) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", ES_TEST_TMPDIR, ES_TEST_TMPDIR);
        if (system(cmd) != 0) ES_SKIP("cannot create %s", ES_TEST_TMPDIR);
        made = 1;
    }
    return ES_TEST_TMPDIR;
}

#endif
