/* test_progress.c: the progress bar never writes when stderr is not a terminal or when
 * quiet, counts from many threads at once, and start/finish accept edge cases. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "entseg/progress.h"
#include "es_test.h"

static void *adder(void *arg) {
    es_progress *p = arg;
    for (int i = 0; i < 100000; i++) es_progress_add(p, 1);
    return NULL;
}

static void silent_off_a_terminal_and_thread_safe(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/stderr.txt", es_test_tmpdir());
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    CHECK(freopen(path, "w", stderr) != NULL); /* a file: not a terminal */
    es_progress *p = es_progress_start("work", 400000, 0);
    CHECK(p != NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, adder, p);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    es_progress_finish(p);
    es_progress_finish(NULL);
    es_progress_add(NULL, 5);
    es_progress *q = es_progress_start(NULL, 0, 1); /* unknown total, quiet */
    es_progress_add(q, 3);
    es_progress_finish(q);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 0, SEEK_END);
        CHECK_EQ_INT(ftell(f), 0);
        fclose(f);
    }
}

int main(void) {
    ES_RUN(silent_off_a_terminal_and_thread_safe);
    ES_TEST_END();
}
