/* test_store_kill.c: a writer killed with SIGKILL half-way leaves every store as it was.
 *
 * A child process writes images as fast as it can; once its file has grown (so SQLite has
 * really written pages), the parent kills it and checks: a store being created never
 * appears at its path and never damages the store it was to replace; an edit transaction
 * on an opened store is rolled back by the next open. */
#define _DEFAULT_SOURCE /* usleep, kill, off_t */
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test.h"

/* A malloc'ed path in the test's scratch directory (tests free theirs; helpers too). */
static char *tmp_path(const char *name) {
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", es_test_tmpdir(), name);
    return p;
}

/* Adds image `name` (64 x 48, 6 vertical bands) with its entities. */
static int add_banded_image(es_store *s, const char *name, es_error *err) {
    enum { W = 64, H = 48, K = 6 };
    es_image img = {0, (char *)name, W, H, "synth", NULL, NULL, ES_NONE};
    int rc = es_store_add_image(s, &img, err);
    if (rc) return rc;
    es_entity ents[K];
    uint8_t mask[W * H];
    for (int k = 0; k < K; k++) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) mask[y * W + x] = (x * K / W) == k && (y + x + k) % 5 != 0;
        ents[k] = es_entity_default();
        rc = es_rle_encode(&ents[k].mask, mask, H, W, err);
        if (rc) return rc;
    }
    rc = es_store_add_entities(s, img.id, ents, K, err);
    for (int k = 0; k < K; k++) es_rle_free(&ents[k].mask);
    return rc;
}

static int build_store(const char *path, int images) {
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, "test_store_kill", NULL, 1};
    es_store *s;
    if (es_store_create(path, &opt, &s, &err)) return printf("create: %s\n", err.msg), 1;
    for (int i = 0; i < images; i++) {
        char name[32];
        snprintf(name, sizeof name, "orig%d", i);
        if (add_banded_image(s, name, &err)) return printf("add: %s\n", err.msg), 1;
    }
    if (es_store_finish(s, &err)) return printf("finish: %s\n", err.msg), 1;
    return 0;
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(*n + 1);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

static off_t size_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Largest file in the temp dir whose name starts with prefix. */
static off_t largest_with_prefix(const char *prefix) {
    DIR *d = opendir(es_test_tmpdir());
    off_t best = -1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
        char *p = tmp_path(e->d_name);
        off_t sz = size_of(p);
        free(p);
        if (sz > best) best = sz;
    }
    if (d) closedir(d);
    return best;
}

static void remove_with_prefix(const char *prefix) {
    DIR *d = opendir(es_test_tmpdir());
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            char *p = tmp_path(e->d_name);
            unlink(p);
            free(p);
        }
    if (d) closedir(d);
}

enum writer_mode { CREATE_REPLACE, CREATE_NEW, EDIT_OPENED };

/* The child: writes images until killed. Exits 3 if it ever finishes (it must not). */
static void writer(const char *path, int mode) {
    es_error err = {0};
    es_store *s;
    if (mode == EDIT_OPENED) {
        if (es_store_open(path, ES_OPEN_WRITE, &s, &err)) _exit(2);
        /* a tiny cache makes SQLite spill changed pages into the file before commit */
        sqlite3_exec(es_store_sqlite(s), "PRAGMA cache_size = 8", NULL, NULL, NULL);
        if (es_store_begin(s, &err)) _exit(2);
    } else {
        es_store_options opt = {ES_STORE_GT, 0, "killed writer", NULL, mode == CREATE_REPLACE};
        if (es_store_create(path, &opt, &s, &err)) _exit(2);
        /* spill to the file early, so the kill finds a half-written file, not a cache */
        sqlite3_exec(es_store_sqlite(s), "PRAGMA cache_size = 8", NULL, NULL, NULL);
    }
    for (int i = 0; i < 10000000; i++) {
        char name[32];
        snprintf(name, sizeof name, "new%d", i);
        if (add_banded_image(s, name, &err)) _exit(2);
    }
    _exit(3);
}

/* Runs the writer until the file matching prefix exceeds grow_to bytes, then SIGKILLs it. */
static void run_and_kill(const char *path, int mode, const char *watch_prefix, off_t grow_to) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) writer(path, mode);
    CHECK(pid > 0);
    int waited_ms = 0;
    while (largest_with_prefix(watch_prefix) < grow_to && waited_ms < 60000) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            CHECK_MSG(0, "writer exited early with status %d", WEXITSTATUS(status));
            return;
        }
        usleep(2000);
        waited_ms += 2;
    }
    CHECK(kill(pid, SIGKILL) == 0);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    printf("  killed the writer when %s* reached %lld bytes\n", watch_prefix,
           (long long)largest_with_prefix(watch_prefix));
}

static void check_original(const char *path, int images) {
    es_error err = {0};
    es_store *s;
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_image_count(s), images);
    CHECK_EQ_INT(es_store_entity_count(s), 6 * images);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(es_store_sqlite(s), "PRAGMA integrity_check", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "ok"));
    sqlite3_finalize(q);
    int64_t id;
    CHECK_OK(es_store_find_image_by_name(s, "new0", &id, &err), &err);
    CHECK_EQ_INT(id, ES_NONE);
    es_entity *ents;
    size_t n;
    CHECK_OK(es_store_read_entities(s, images, &ents, &n, &err), &err);
    CHECK_EQ_INT(n, 6);
    es_entities_free(ents, n);
    es_store_close(s);
}

static void test_killed_create_leaves_the_replaced_store_intact(void) {
    char *path = tmp_path("replace.db");
    CHECK_EQ_INT(build_store(path, 20), 0);
    size_t n0, n1;
    char *before = read_all(path, &n0);
    run_and_kill(path, CREATE_REPLACE, "replace.db.tmp", 1 << 20);
    char *after = read_all(path, &n1);
    CHECK(before && after && n0 == n1 && !memcmp(before, after, n0));
    check_original(path, 20);
    /* the half-built temporary is garbage beside the store, never at its path */
    CHECK(largest_with_prefix("replace.db.tmp") > 0);
    remove_with_prefix("replace.db.tmp");
    free(before);
    free(after);
    free(path);
}

static void test_killed_create_leaves_nothing_at_the_path(void) {
    char *path = tmp_path("fresh.db");
    run_and_kill(path, CREATE_NEW, "fresh.db.tmp", 1 << 20);
    CHECK(size_of(path) < 0);
    remove_with_prefix("fresh.db.tmp");
    free(path);
}

static void test_killed_edit_is_rolled_back(void) {
    char *path = tmp_path("edit.db");
    CHECK_EQ_INT(build_store(path, 20), 0);
    off_t original = size_of(path);
    /* wait until uncommitted pages were written into the store file itself */
    run_and_kill(path, EDIT_OPENED, "edit.db", original + (1 << 20));
    CHECK(size_of(path) > original); /* the file really was changed under us */
    check_original(path, 20);        /* the next open rolls the journal back */
    CHECK(size_of(path) == original);
    free(path);
}

int main(void) {
    ES_RUN(test_killed_create_leaves_the_replaced_store_intact);
    ES_RUN(test_killed_create_leaves_nothing_at_the_path);
    ES_RUN(test_killed_edit_is_rolled_back);
    ES_TEST_END();
}
