/* test_mask_dict.c: the store's entropy-only zstd dictionary (es_mask_dict_build in
 * lib/src/mask_blob.c): it is small, it shrinks the samples it was built from, every mask
 * round-trips through it, and blobs written the older way (level 12, no dictionary or a
 * trained one) still decode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/src/mask_blob.h"
#include "entseg/rle.h"
#include "es_test.h"
#include "test_rle_reference.h"

/* An h x w row-major mask: a disc with a hole plus a few k-dependent bars, so that
 * neighbouring columns share most boundaries (as real masks do). */
static uint8_t *make_mask(uint32_t h, uint32_t w, int k) {
    uint8_t *m = calloc((size_t)h * w + 1, 1);
    double R = (h < w ? h : w) / (2.2 + (k % 5) * 0.3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            double dx = x - w / 2.0 - k % 7, dy = y - h / 2.0, r2 = dx * dx + dy * dy;
            int disc = r2 < R * R && r2 > R * R / (4 + k % 3);
            int bar = (x + (uint32_t)k) % 17 < 2 && y > h / 4;
            m[(size_t)y * w + x] = (uint8_t)(disc || bar);
        }
    return m;
}

enum { NMASKS = 400 };

typedef struct sample_set {
    es_rle rles[NMASKS];
    uint8_t *bytes;
    size_t sizes[NMASKS], n, used;
} sample_set;

static void make_samples(es_mask_codec *c, sample_set *s) {
    es_error err = {0};
    size_t cap = 4u << 20;
    s->bytes = malloc(cap);
    s->n = s->used = 0;
    for (int i = 0; i < NMASKS; i++) {
        uint32_t h = 40 + (uint32_t)(i % 23), w = 36 + (uint32_t)(i % 31);
        uint8_t *mask = make_mask(h, w, i);
        s->rles[i] = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&s->rles[i], mask, h, w, &err), &err);
        free(mask);
        const uint8_t *p;
        size_t n;
        CHECK_OK(es_mask_blob_payload(c, &s->rles[i], ES_BLOB_MODEL_AUTO, &p, &n, &err), &err);
        if (s->used + n <= cap) {
            memcpy(s->bytes + s->used, p, n);
            s->used += n;
            s->sizes[s->n++] = n;
        }
    }
}

static void free_samples(sample_set *s) {
    for (int i = 0; i < NMASKS; i++) es_rle_free(&s->rles[i]);
    free(s->bytes);
}

/* The dictionary is a few hundred bytes and the samples shrink with it. */
static void test_dictionary_is_small_and_pays(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    sample_set s;
    make_samples(c, &s);
    uint8_t dict[4096];
    size_t dict_n = 0;
    CHECK_OK(es_mask_dict_build(dict, sizeof dict, s.bytes, s.sizes, s.n, &dict_n, &err), &err);
    CHECK(dict_n >= 8 && dict_n < 1024);
    uint64_t plain = 0, with = 0;
    CHECK_OK(es_mask_dict_cost(NULL, 0, s.bytes, s.sizes, s.n, &plain, &err), &err);
    CHECK_OK(es_mask_dict_cost(dict, dict_n, s.bytes, s.sizes, s.n, &with, &err), &err);
    printf("  %zu payloads, %zu bytes: %llu compressed plain, %llu with a %zu-byte dictionary\n",
           s.n, s.used, (unsigned long long)plain, (unsigned long long)with, dict_n);
    CHECK(with + dict_n < plain);
    free_samples(&s);
    es_mask_codec_free(c);
}

/* Every mask round-trips with the dictionary; blobs that use it need it. */
static void test_round_trip_with_dictionary(void) {
    es_mask_codec *c, *plain;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    CHECK_OK(es_mask_codec_create(&plain, &err), &err);
    sample_set s;
    make_samples(c, &s);
    uint8_t dict[4096];
    size_t dict_n = 0;
    CHECK_OK(es_mask_dict_build(dict, sizeof dict, s.bytes, s.sizes, s.n, &dict_n, &err), &err);
    CHECK_OK(es_mask_codec_set_dict(c, 1, dict, dict_n, &err), &err);
    int with_dict = 0;
    for (int i = 0; i < NMASKS; i++) {
        const es_rle *r = &s.rles[i];
        const uint8_t *blob;
        size_t n;
        CHECK_OK(es_mask_blob_encode(c, r, &blob, &n, &err), &err);
        uint8_t *copy = malloc(n);
        memcpy(copy, blob, n);
        es_rle back = ES_RLE_EMPTY;
        CHECK_OK(es_mask_blob_decode(c, copy, n, r->h, r->w, &back, &err), &err);
        CHECK(ref_rle_same(r, &back));
        es_rle_free(&back);
        if (copy[1] & ES_BLOB_ZSTD_DICT) {
            with_dict++;
            CHECK_EQ_INT(es_mask_blob_decode(plain, copy, n, r->h, r->w, &back, &err), ES_ERR_FORMAT);
        }
        free(copy);
    }
    CHECK(with_dict > NMASKS / 2);
    free_samples(&s);
    es_mask_codec_free(c);
    es_mask_codec_free(plain);
}

/* Blobs as earlier builds wrote them (zstd level 12, without a dictionary, or with a
 * trained one) decode unchanged: the level is the encoder's choice only. */
static void test_older_blobs_still_decode(void) {
    es_mask_codec *c, *reader;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    CHECK_OK(es_mask_codec_create(&reader, &err), &err);
    sample_set s;
    make_samples(c, &s);
    for (int i = 0; i < NMASKS; i += 7) {
        const es_rle *r = &s.rles[i];
        const uint8_t *blob;
        size_t n;
        CHECK_OK(es_mask_blob_encode_with(c, r, ES_BLOB_MODEL_AUTO, 12, &blob, &n, &err), &err);
        CHECK_EQ_INT(blob[0], ES_MASK_BLOB_VERSION);
        es_rle back = ES_RLE_EMPTY;
        CHECK_OK(es_mask_blob_decode(reader, blob, n, r->h, r->w, &back, &err), &err);
        CHECK(ref_rle_same(r, &back));
        es_rle_free(&back);
    }
    uint8_t dict[8192];
    size_t dict_n = 0;
    if (es_mask_dict_train(dict, sizeof dict, s.bytes, s.sizes, s.n, &dict_n, &err) == ES_OK) {
        CHECK_OK(es_mask_codec_set_dict(c, 1, dict, dict_n, &err), &err);
        CHECK_OK(es_mask_codec_set_dict(reader, 1, dict, dict_n, &err), &err);
        for (int i = 0; i < NMASKS; i += 5) {
            const es_rle *r = &s.rles[i];
            const uint8_t *blob;
            size_t n;
            CHECK_OK(es_mask_blob_encode(c, r, &blob, &n, &err), &err);
            es_rle back = ES_RLE_EMPTY;
            CHECK_OK(es_mask_blob_decode(reader, blob, n, r->h, r->w, &back, &err), &err);
            CHECK(ref_rle_same(r, &back));
            es_rle_free(&back);
        }
    } else {
        printf("  no dictionary could be trained here: %s\n", err.msg);
    }
    free_samples(&s);
    es_mask_codec_free(c);
    es_mask_codec_free(reader);
}

/* Too few or empty samples: an error, never a crash. */
static void test_too_few_samples(void) {
    uint8_t dict[4096], sample[4] = {1, 2, 3, 4};
    size_t sizes[1] = {sizeof sample}, dict_n = 0;
    es_error err = {0};
    int rc = es_mask_dict_build(dict, sizeof dict, sample, sizes, 1, &dict_n, &err);
    CHECK(rc == ES_OK || rc == ES_ERR_INVALID);
    rc = es_mask_dict_build(dict, 16, sample, sizes, 1, &dict_n, &err); /* no room */
    CHECK_EQ_INT(rc, ES_ERR_INVALID);
}

int main(void) {
    ES_RUN(test_dictionary_is_small_and_pays);
    ES_RUN(test_round_trip_with_dictionary);
    ES_RUN(test_older_blobs_still_decode);
    ES_RUN(test_too_few_samples);
    ES_TEST_END();
}
