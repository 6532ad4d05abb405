/* test_agree.c: agreement of a store with itself (mask AP 1, label accuracy 1) and with a
 * perturbed copy (one entity deleted, one label changed: values derived by hand). */
#include <stdio.h>

#include "agree.h"
#include "annotate_fixture.h"
#include "edit.h"
#include "es_test.h"
#include "match.h"
#include "vocab.h"

static char a_db[4096], b_db[4096];

static void make_labelled(const char *path, const char *label1, int drop2) {
    es_error err = {0};
    es_store *s = NULL;
    CHECK_OK(fixture_store(path, &err), &err);
    CHECK_OK(es_store_open(path, ES_OPEN_WRITE, &s, &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 1, 1, label1, "l", &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 1, 2, "car", "l", &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 1, 3, "tree", "l", &err), &err);
    CHECK_OK(es_vocab_label_entity(s, 2, 5, "sky", "l", &err), &err);
    es_edit_result r;
    if (drop2) CHECK_OK(es_edit_delete(s, 2, "d", &r, &err), &err);
    es_store_close(s);
}

static void test_store_against_itself(void) {
    make_labelled(a_db, "person", 0);
    es_error err = {0};
    es_agreement ag;
    CHECK_OK(es_agreement_compute(a_db, a_db, 1, &ag, &err), &err);
    CHECK_EQ_INT(ag.images, 2);
    CHECK_EQ_INT(ag.entities_a, 4);
    CHECK_EQ_INT(ag.matched, 4);
    CHECK_NEAR(ag.mean_iou, 1.0, 1e-12);
    CHECK_NEAR(ag.label_accuracy, 1.0, 1e-12);
#ifdef ENTSEG_HAVE_EVAL
    CHECK(ag.have_ap);
    CHECK_NEAR(ag.ap, 1.0, 1e-12);
#endif
    es_agreement_free(&ag);
}

static void test_perturbed_copy(void) {
    make_labelled(a_db, "person", 0);
    make_labelled(b_db, "man", 1);
    es_error err = {0};
    es_agreement ag;
    CHECK_OK(es_agreement_compute(a_db, b_db, 2, &ag, &err), &err);
    CHECK_EQ_INT(ag.entities_b, 3);
    CHECK_EQ_INT(ag.matched, 3);
    CHECK_EQ_INT(ag.labelled_pairs, 3);
    CHECK_EQ_INT(ag.correct, 2);
    CHECK_NEAR(ag.label_accuracy, 2.0 / 3.0, 1e-12);
#ifdef ENTSEG_HAVE_EVAL
    /* precision 1 up to recall 3/4, nothing beyond: 75 or 76 of the 101 recall points
     * (whether linspace's 0.75 is reached depends on its last bit) */
    CHECK(ag.have_ap);
    CHECK_MSG(ag.ap > 0.74 && ag.ap < 0.76, "AP %.6f", ag.ap);
    CHECK_NEAR(ag.ap50, ag.ap, 1e-12);
#endif
    char json[4200];
    snprintf(json, sizeof json, "%s/agree.json", es_test_tmpdir());
    CHECK_OK(es_agreement_write_json(&ag, json, &err), &err);
    es_agreement_free(&ag);
}

static void test_matching_is_one_to_one(void) {
    /* a: two halves of a 4x4; b: the whole 4x4 and the left half: the left half matches
     * the left half (IoU 1), the right half has no partner (IoU with the whole is 0.5 but
     * the whole is free: matched at exactly the threshold) */
    uint8_t left[16] = {0}, right[16] = {0}, whole[16];
    memset(whole, 1, 16);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) (x < 2 ? left : right)[y * 4 + x] = 1;
    es_rle a[2] = {ES_RLE_EMPTY, ES_RLE_EMPTY}, b[2] = {ES_RLE_EMPTY, ES_RLE_EMPTY};
    es_error err = {0};
    es_rle_encode(&a[0], left, 4, 4, &err);
    es_rle_encode(&a[1], right, 4, 4, &err);
    es_rle_encode(&b[0], whole, 4, 4, &err);
    es_rle_encode(&b[1], left, 4, 4, &err);
    int64_t am[2], bm[2];
    double iou[2];
    CHECK_OK(es_match_greedy(a, 2, b, 2, 0.5, am, bm, iou, &err), &err);
    CHECK_EQ_INT(am[0], 1);
    CHECK_EQ_INT(am[1], 0);
    CHECK_NEAR(iou[1], 0.5, 1e-12);
    CHECK_OK(es_match_greedy(a, 2, b, 2, 0.51, am, bm, iou, &err), &err);
    CHECK_EQ_INT(am[1], -1);
    CHECK_EQ_INT(bm[0], -1);
    for (int i = 0; i < 2; i++) es_rle_free(&a[i]), es_rle_free(&b[i]);
}

static void test_bad_inputs(void) {
    es_error err = {0};
    es_agreement ag;
    CHECK(es_agreement_compute(a_db, "/nonexistent.db", 1, &ag, &err) != ES_OK);
    CHECK(err.msg[0] != 0);
}

int main(void) {
    snprintf(a_db, sizeof a_db, "%s/a.db", es_test_tmpdir());
    snprintf(b_db, sizeof b_db, "%s/b.db", es_test_tmpdir());
    ES_RUN(test_store_against_itself);
    ES_RUN(test_perturbed_copy);
    ES_RUN(test_matching_is_one_to_one);
    ES_RUN(test_bad_inputs);
    ES_TEST_END();
}
