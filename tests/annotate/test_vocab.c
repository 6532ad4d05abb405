/* test_vocab.c: labels and vocabulary operations: set, bulk CSV/JSON, rename, merge
 * (relabels every entity), parent (no cycles), export/import, special labels, invalid
 * names, undo. */
#include <stdio.h>

#include "annotate_fixture.h"
#include "entseg/store_edit.h"
#include "es_test.h"
#include "history.h"
#include "vocab.h"

static char db[4096];
static es_store *s;

static void fresh_store(void) {
    es_error err = {0};
    CHECK_OK(fixture_reopen(db, &s, &err), &err);
}

static int64_t label_of(int64_t entity) {
    es_entity e;
    if (es_store_get_entity(s, entity, &e, NULL)) return -99;
    es_rle_free(&e.mask);
    return e.label_id;
}

static int64_t id_of(const char *name) {
    int64_t id = -99;
    es_vocab_find(s, name, &id, NULL);
    return id;
}

static uint64_t count_of(const char *name) {
    es_vocab_entry *v;
    size_t n;
    uint64_t c = 0;
    if (es_vocab_list(s, &v, &n, NULL)) return 999;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) c = v[i].count;
    es_vocab_entries_free(v, n);
    return c;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_names_are_checked(void) {
    es_error err = {0};
    CHECK_OK(es_label_name_check("person", &err), &err);
    CHECK_OK(es_label_name_check("traffic light (far)", &err), &err);
    CHECK_OK(es_label_name_check("caf\xc3\xa9", &err), &err);
    CHECK(es_label_name_check("", &err) == ES_ERR_INVALID);
    CHECK(es_label_name_check(" person", &err) == ES_ERR_INVALID);
    CHECK(es_label_name_check("person ", &err) == ES_ERR_INVALID);
    CHECK(es_label_name_check("per\tson", &err) == ES_ERR_INVALID);
    CHECK(es_label_name_check("a\x7f", &err) == ES_ERR_INVALID);
    CHECK(es_label_name_check("\xc3", &err) == ES_ERR_INVALID); /* truncated UTF-8 */
    char longname[ES_LABEL_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(es_label_name_check(longname, &err) == ES_ERR_INVALID);
}

static void test_label_one_and_undo(void) {
    fresh_store();
    es_error err = {0};
    CHECK_OK(es_vocab_label_entity(s, 1, 1, "person", "label", &err), &err);
    CHECK(label_of(1) == id_of("person"));
    CHECK_EQ_INT(count_of("person"), 1);
    /* entity of another image, unknown entity, bad name: refused, nothing written */
    CHECK(es_vocab_label_entity(s, 1, 5, "dog", "x", &err) == ES_ERR_INVALID);
    CHECK(es_vocab_label_entity(s, 1, 999, "dog", "x", &err) == ES_ERR_INVALID);
    CHECK(es_vocab_label_entity(s, 1, 2, "do\ng", "x", &err) == ES_ERR_INVALID);
    CHECK(id_of("dog") == ES_NONE);
    int64_t hid;
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK(label_of(1) == ES_NONE);
    CHECK(id_of("person") == ES_NONE); /* the vocabulary is restored too */
    CHECK(id_of("unknown") == 1 && id_of("blurred") == 2 && id_of("supercategory_other") == 3);
}

static void test_bulk_csv_and_json(void) {
    fresh_store();
    es_error err = {0};
    char path[4200];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/labels.csv", es_test_tmpdir());
    write_text(path, "image,entity,label\n1,1,person\na,2,\"car, red\"\r\nb,5,sky\n");
    CHECK_OK(es_vocab_label_file(s, path, "bulk", &n, &err), &err);
    CHECK_EQ_INT(n, 3);
    CHECK(label_of(2) == id_of("car, red"));
    CHECK(label_of(5) == id_of("sky"));
    /* one bad row: nothing applied */
    write_text(path, "1,3,tree\n2,1,dog\n");
    CHECK(es_vocab_label_file(s, path, "bulk", &n, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "line 2") != NULL);
    CHECK(label_of(3) == ES_NONE);
    CHECK(id_of("tree") == ES_NONE);
    snprintf(path, sizeof path, "%s/labels.json", es_test_tmpdir());
    write_text(path, "[{\"image\": 1, \"entity\": 3, \"label\": \"tree\"}, {\"image\": \"b\", \"entity\": 5, \"label\": \"grass\"}]");
    CHECK_OK(es_vocab_label_file(s, path, "bulk", &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    CHECK(label_of(3) == id_of("tree"));
    write_text(path, "[{\"image\": 1, \"entity\": \"x\", \"label\": \"tree\"}]");
    CHECK(es_vocab_label_file(s, path, "bulk", &n, &err) == ES_ERR_FORMAT);
    write_text(path, "{not json");
    CHECK(es_vocab_label_file(s, path, "bulk", &n, &err) != ES_OK);
}

static void test_rename_merge_parent(void) {
    fresh_store();
    es_error err = {0};
    CHECK_OK(es_vocab_label_entity(s, 1, 1, "man", "l", &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 1, 2, "person", "l", &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 1, 3, "guy", "l", &err), &err);
    CHECK_OK(es_vocab_rename(s, "guy", "boy", "r", &err), &err);
    CHECK(label_of(3) == id_of("boy"));
    CHECK(es_vocab_rename(s, "boy", "man", "r", &err) == ES_ERR_INVALID);       /* exists */
    CHECK(es_vocab_rename(s, "unknown", "other", "r", &err) == ES_ERR_INVALID); /* special */
    CHECK(es_vocab_rename(s, "nosuch", "x", "r", &err) == ES_ERR_INVALID);
    CHECK(es_vocab_rename(s, "boy", "", "r", &err) == ES_ERR_INVALID);
    CHECK_OK(es_vocab_set_parent(s, "boy", "man", "p", &err), &err);
    CHECK_OK(es_vocab_set_parent(s, "man", "person", "p", &err), &err);
    CHECK(es_vocab_set_parent(s, "person", "boy", "p", &err) == ES_ERR_INVALID); /* cycle */
    CHECK(strstr(err.msg, "cycle") != NULL);
    /* merge man into person: entity 1 relabelled, boy now under person */
    CHECK_OK(es_vocab_merge(s, "man", "person", "m", &err), &err);
    CHECK(id_of("man") == ES_NONE);
    CHECK(label_of(1) == id_of("person"));
    CHECK_EQ_INT(count_of("person"), 2);
    es_label *l;
    size_t n;
    CHECK_OK(es_store_labels(s, &l, &n, &err), &err);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, "boy")) CHECK(l[i].parent_id == id_of("person"));
    es_labels_free(l, n);
    CHECK(es_vocab_merge(s, "blurred", "person", "m", &err) == ES_ERR_INVALID); /* special */
    /* undo the merge: man is back with entity 1 */
    int64_t hid;
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK(label_of(1) == id_of("man"));
    CHECK(id_of("man") != ES_NONE);
}

static void test_export_import(void) {
    fresh_store();
    es_error err = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/vocab.json", es_test_tmpdir());
    write_text(path, "{\"labels\": [{\"name\": \"animal\", \"parent\": null}, {\"name\": \"dog\", \"parent\": \"animal\"},"
                     " {\"name\": \"puppy\", \"parent\": \"dog\"}]}");
    size_t added = 0;
    CHECK_OK(es_vocab_import(s, path, "import", &added, &err), &err);
    CHECK_EQ_INT(added, 3);
    char out[4200];
    snprintf(out, sizeof out, "%s/vocab_out.json", es_test_tmpdir());
    CHECK_OK(es_vocab_export(s, out, &err), &err);
    fresh_store();
    CHECK_OK(es_vocab_import(s, out, "import", &added, &err), &err);
    CHECK_EQ_INT(added, 3); /* specials already there */
    CHECK(id_of("puppy") != ES_NONE);
    write_text(path, "{\"labels\": [{\"name\": \"ok\"}, {\"name\": \"bad\\u0001\"}]}");
    CHECK(es_vocab_import(s, path, "import", &added, &err) == ES_ERR_INVALID);
    CHECK(id_of("ok") == ES_NONE); /* all or nothing */
    write_text(path, "{\"labels\": [{\"name\": \"a\", \"parent\": \"b\"}, {\"name\": \"b\", \"parent\": \"a\"}]}");
    CHECK(es_vocab_import(s, path, "import", &added, &err) == ES_ERR_INVALID);
    CHECK(id_of("a") == ES_NONE);
}

/* Truncations and byte flips of valid label / vocabulary files: never a crash (ASan
 * build), and a refused file changes nothing. */
static void test_mangled_files(void) {
    fresh_store();
    es_error err = {0};
    const char *good[3] = {"image,entity,label\n1,1,\"per\"\"son\"\n1,2,car\nb,5,sky\n",
                           "[{\"image\": 1, \"entity\": 1, \"label\": \"person\"}, {\"image\": \"b\", \"entity\": 5, \"label\": \"sky\"}]",
                           "{\"labels\": [{\"name\": \"animal\", \"parent\": null}, {\"name\": \"dog\", \"parent\": \"animal\"}]}"};
    char path[4200], buf[512];
    snprintf(path, sizeof path, "%s/mangled", es_test_tmpdir());
    srand(11);
    for (int g = 0; g < 3; g++) {
        size_t len = strlen(good[g]);
        for (int trial = 0; trial < 150; trial++) {
            memcpy(buf, good[g], len + 1);
            if (trial < 50) buf[rand() % (len + 1)] = 0;                      /* truncate */
            else for (int k = 0; k < 1 + trial % 3; k++) buf[rand() % len] = (char)(rand() % 256); /* flip */
            if (!buf[0]) continue;
            FILE *f = fopen(path, "wb");
            fwrite(buf, 1, strlen(buf), f);
            fclose(f);
            size_t n = 0;
            int64_t before = ES_NONE;
            int rc = g < 2 ? es_vocab_label_file(s, path, "fuzz", &n, &err) : es_vocab_import(s, path, "fuzz", &n, &err);
            if (rc) {
                CHECK(err.msg[0] != 0);
                CHECK_EQ_INT(n, 0);
            } else {
                int64_t hid;
                CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err); /* back to the fixture */
            }
            CHECK(es_vocab_find(s, "unknown", &before, &err) == ES_OK && before == 1);
        }
    }
    CHECK(label_of(1) == ES_NONE && label_of(5) == ES_NONE);
    CHECK(id_of("dog") == ES_NONE);
}

int main(void) {
    snprintf(db, sizeof db, "%s/vocab.db", es_test_tmpdir());
    ES_RUN(test_names_are_checked);
    ES_RUN(test_label_one_and_undo);
    ES_RUN(test_bulk_csv_and_json);
    ES_RUN(test_rename_merge_parent);
    ES_RUN(test_export_import);
    ES_RUN(test_mangled_files);
    es_store_close(s);
    ES_TEST_END();
}
