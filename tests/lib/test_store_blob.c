/* test_store_blob.c: the mask blob codec (lib/src/mask_blob.c) round-trips every kind of
 * mask exactly, under every model and compression, and rejects damaged blobs without
 * crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/src/mask_blob.h"
#include "entseg/rle.h"
#include "es_test.h"
#include "test_rle_reference.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Row-major h x w masks of one shape class. */
enum shape { SHAPE_EMPTY, SHAPE_FULL, SHAPE_NOISE, SHAPE_DISC_HOLE, SHAPE_STRIPES, SHAPE_DOT,
             SHAPE_BLOBS, SHAPE_COUNT };

static uint8_t *make_mask(int shape, uint32_t h, uint32_t w) {
    uint8_t *m = calloc((size_t)h * w + 1, 1);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t v = 0;
            double dx = x - w / 2.0, dy = y - h / 2.0, r2 = dx * dx + dy * dy;
            double R = (h < w ? h : w) / 2.5;
            switch (shape) {
            case SHAPE_FULL: v = 1; break;
            case SHAPE_NOISE: v = rnd() % 3 == 0; break;
            case SHAPE_DISC_HOLE: v = r2 < R * R && r2 > R * R / 9; break;
            case SHAPE_STRIPES: v = (x + y) % 4 == 0 || y % 7 == 1; break;
            case SHAPE_DOT: v = x == w / 3 && y == h / 2; break;
            case SHAPE_BLOBS: v = ((x / 13) ^ (y / 9)) % 5 == 1 || r2 < R * R / 4; break;
            default: break;
            }
            m[(size_t)y * w + x] = v;
        }
    return m;
}

/* Encodes r with every model x compression, decodes, compares. */
static void check_round_trip(es_mask_codec *c, const es_rle *r, const char *what) {
    static const int models[] = {ES_BLOB_MODEL_AUTO, ES_BLOB_MODEL_COUNTS, ES_BLOB_MODEL_COLUMNS};
    static const int levels[] = {0, 1, ES_MASK_BLOB_ZSTD_LEVEL};
    for (int mi = 0; mi < 3; mi++)
        for (int li = 0; li < 3; li++) {
            es_error err = {0};
            const uint8_t *blob;
            size_t n;
            int rc = es_mask_blob_encode_with(c, r, models[mi], levels[li], &blob, &n, &err);
            CHECK_MSG(rc == ES_OK, "%s: encode: %s", what, err.msg);
            if (rc) continue;
            uint8_t *copy = malloc(n);
            memcpy(copy, blob, n);
            es_rle back = ES_RLE_EMPTY;
            rc = es_mask_blob_decode(c, copy, n, r->h, r->w, &back, &err);
            CHECK_MSG(rc == ES_OK, "%s model %d level %d: decode: %s", what, models[mi],
                      levels[li], err.msg);
            CHECK_MSG(rc || ref_rle_same(r, &back), "%s model %d level %d: runs differ", what,
                      models[mi], levels[li]);
            CHECK_OK(es_mask_blob_verify(copy, n, r->h, r->w, &err), &err);
            /* a blob decoded at another size than it was written for is refused */
            if (r->h > 1 && r->w > 1) {
                es_rle other = ES_RLE_EMPTY;
                int orc = es_mask_blob_decode(c, copy, n, r->h - 1, r->w, &other, &err);
                CHECK_EQ_INT(orc, ES_ERR_FORMAT); /* the check bytes cover the size */
                es_rle_free(&other);
            }
            es_rle_free(&back);
            free(copy);
        }
}

static void test_round_trip_every_shape(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    static const uint32_t sizes[][2] = {{1, 1}, {1, 7}, {7, 1}, {2, 2}, {31, 17}, {480, 640}, {100, 3}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int shape = 0; shape < SHAPE_COUNT; shape++) {
            uint32_t h = sizes[si][0], w = sizes[si][1];
            uint8_t *mask = make_mask(shape, h, w);
            es_rle r = ES_RLE_EMPTY;
            CHECK_OK(es_rle_encode(&r, mask, h, w, &err), &err);
            char what[64];
            snprintf(what, sizeof what, "shape %d %ux%u", shape, h, w);
            check_round_trip(c, &r, what);
            es_rle_free(&r);
            free(mask);
        }
    es_mask_codec_free(c);
}

static void test_round_trip_special_runs(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    es_rle empty = ES_RLE_EMPTY; /* 0 x 0 */
    check_round_trip(c, &empty, "0x0");
    /* zero-length runs in the middle and at the end are kept verbatim */
    uint32_t odd[] = {3, 0, 2, 4, 0};
    es_rle r;
    CHECK_OK(es_rle_init(&r, 3, 3, 5, odd, &err), &err);
    check_round_trip(c, &r, "zero-length runs");
    es_rle_free(&r);
    /* foreground running down one column into the next, ending in the last pixel */
    uint32_t across[] = {5, 7, 3, 9};
    CHECK_OK(es_rle_init(&r, 6, 4, 4, across, &err), &err);
    check_round_trip(c, &r, "across columns");
    es_rle_free(&r);
    /* a big, sparse map: 15000 x 10000 with a few long thin structures */
    uint32_t big[] = {7000000, 120000, 50000000, 3, 40000000, 600, 0};
    uint64_t sum = 0;
    for (int i = 0; i < 6; i++) sum += big[i];
    big[6] = (uint32_t)(15000ull * 10000ull - sum);
    CHECK_OK(es_rle_init(&r, 15000, 10000, 7, big, &err), &err);
    check_round_trip(c, &r, "15000x10000");
    es_rle_free(&r);
    es_mask_codec_free(c);
}

static void test_rejects_bad_runs(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    uint32_t short_runs[] = {3, 2};
    es_rle r = {3, 3, 2, short_runs};
    const uint8_t *blob;
    size_t n;
    CHECK_EQ_INT(es_mask_blob_encode(c, &r, &blob, &n, &err), ES_ERR_INVALID);
    es_mask_codec_free(c);
}

/* The blob's check bytes as docs/store-format.md defines them (written out again here
 * from the spec): rewriting them lets damaged bytes reach the parser itself. */
static void fix_check(uint8_t *blob, size_t n, uint32_t mask_h, uint32_t mask_w) {
    if (n < 4) return;
    blob[2] = blob[3] = 0;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n ^ ((uint64_t)mask_h << 32 | mask_w);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t word = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++) word |= (uint64_t)blob[i + k] << (8 * k);
        h = (h ^ word) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    blob[2] = (uint8_t)h;
    blob[3] = (uint8_t)(h >> 8);
}

/* Every single-bit flip, every truncation, and random bytes: an error or a valid mask of
 * the declared size, never a crash (ASan watches the reads). */
static void test_damaged_blobs_are_refused(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    uint8_t *mask = make_mask(SHAPE_BLOBS, 120, 90);
    es_rle r = ES_RLE_EMPTY;
    CHECK_OK(es_rle_encode(&r, mask, 120, 90, &err), &err);
    for (int level = 0; level <= 1; level++) {
        const uint8_t *blob;
        size_t n;
        CHECK_OK(es_mask_blob_encode_with(c, &r, ES_BLOB_MODEL_AUTO, level ? 12 : 0, &blob, &n, &err), &err);
        uint8_t *orig = malloc(n), *bad = malloc(n);
        memcpy(orig, blob, n);
        int refused = 0, accepted_wrong = 0;
        for (size_t bit = 0; bit < n * 8; bit++) {
            memcpy(bad, orig, n);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            es_rle back = ES_RLE_EMPTY;
            int rc = es_mask_blob_decode(c, bad, n, r.h, r.w, &back, &err);
            if (rc) {
                CHECK_EQ_INT(rc, ES_ERR_FORMAT);
                refused++;
            } else {
                /* a flip the format cannot see must still give a self-consistent mask */
                CHECK_OK(es_rle_validate(&back, &err), &err);
                if (!ref_rle_same(&r, &back)) accepted_wrong++;
            }
            es_rle_free(&back);
        }
        printf("  level %d: %zu bytes, %d of %zu bit flips refused, %d decoded to another mask\n",
               level ? 12 : 0, n, refused, n * 8, accepted_wrong);
        CHECK_EQ_INT(refused, n * 8); /* the check bytes catch every single flip */
        /* the same flips with the check bytes rewritten: the parser alone must cope */
        refused = accepted_wrong = 0;
        for (size_t bit = 32; bit < n * 8; bit++) {
            memcpy(bad, orig, n);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            fix_check(bad, n, r.h, r.w);
            es_rle back = ES_RLE_EMPTY;
            int rc = es_mask_blob_decode(c, bad, n, r.h, r.w, &back, &err);
            if (rc) {
                CHECK_EQ_INT(rc, ES_ERR_FORMAT);
                refused++;
            } else {
                CHECK_OK(es_rle_validate(&back, &err), &err);
                accepted_wrong += !ref_rle_same(&r, &back);
            }
            es_rle_free(&back);
        }
        printf("  with check bytes rewritten: %d refused by the parser, %d decoded to another mask\n",
               refused, accepted_wrong);
        for (size_t len = 0; len < n; len++) {
            es_rle back = ES_RLE_EMPTY;
            CHECK_EQ_INT(es_mask_blob_decode(c, orig, len, r.h, r.w, &back, &err), ES_ERR_FORMAT);
            es_rle_free(&back);
        }
        for (int trial = 0; trial < 2000; trial++) {
            uint8_t junk[1024];
            size_t len = rnd() % (n + 8 < sizeof junk ? n + 8 : sizeof junk);
            for (size_t i = 0; i < len; i++) junk[i] = (uint8_t)rnd();
            if (len > 0 && trial % 2) junk[0] = ES_MASK_BLOB_VERSION;
            if (len > 1 && trial % 4 == 1) junk[1] = (uint8_t)(rnd() % 2 | (rnd() % 2) * ES_BLOB_ZSTD);
            if (trial % 3) fix_check(junk, len, 120, 90);
            es_rle back = ES_RLE_EMPTY;
            int rc = es_mask_blob_decode(c, junk, len, 120, 90, &back, &err);
            if (!rc) CHECK_OK(es_rle_validate(&back, &err), &err);
            else CHECK_EQ_INT(rc, ES_ERR_FORMAT);
            es_rle_free(&back);
        }
        free(orig);
        free(bad);
    }
    uint8_t newer[] = {ES_MASK_BLOB_VERSION + 1, 0, 0, 0, 1, 1, 1, 1};
    es_rle back = ES_RLE_EMPTY;
    CHECK_EQ_INT(es_mask_blob_decode(c, newer, sizeof newer, 1, 1, &back, &err), ES_ERR_FORMAT);
    CHECK(strstr(err.msg, "newer") != NULL);
    es_rle_free(&r);
    free(mask);
    es_mask_codec_free(c);
}

/* Random multi-byte mutations of raw (uncompressed) blobs with their check bytes fixed:
 * the column decoder itself sees damaged symbols and run lengths. */
static void test_mutated_payloads_never_crash(void) {
    es_mask_codec *c;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    int refused = 0, accepted = 0;
    for (int shape = 0; shape < SHAPE_COUNT; shape++) {
        uint8_t *mask = make_mask(shape, 45, 37);
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, mask, 45, 37, &err), &err);
        const uint8_t *blob;
        size_t n;
        CHECK_OK(es_mask_blob_encode_with(c, &r, ES_BLOB_MODEL_AUTO, 0, &blob, &n, &err), &err);
        uint8_t *orig = malloc(n), *bad = malloc(n);
        memcpy(orig, blob, n);
        for (int trial = 0; trial < 3000; trial++) {
            memcpy(bad, orig, n);
            int edits = 1 + (int)(rnd() % 3);
            for (int e = 0; e < edits; e++) {
                size_t at = 4 + rnd() % (n > 4 ? n - 4 : 1);
                if (at < n) bad[at] = (uint8_t)(rnd() % 4 == 0 ? rnd() : bad[at] + (rnd() % 5) - 2);
            }
            fix_check(bad, n, r.h, r.w);
            es_rle back = ES_RLE_EMPTY;
            int rc = es_mask_blob_decode(c, bad, n, r.h, r.w, &back, &err);
            if (rc) {
                CHECK_EQ_INT(rc, ES_ERR_FORMAT);
                refused++;
            } else {
                CHECK_OK(es_rle_validate(&back, &err), &err);
                accepted++;
            }
            es_rle_free(&back);
        }
        free(orig);
        free(bad);
        es_rle_free(&r);
        free(mask);
    }
    printf("  %d mutated blobs refused, %d decoded to some valid mask\n", refused, accepted);
    es_mask_codec_free(c);
}

/* Blobs compressed with a store dictionary name it; a codec without it refuses them. */
static void test_dictionary_blobs(void) {
    es_mask_codec *c, *plain;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&c, &err), &err);
    CHECK_OK(es_mask_codec_create(&plain, &err), &err);
    /* train on payloads of many shapes and sizes */
    size_t cap = 1 << 20, used = 0, nsamples = 0, sizes[600];
    uint8_t *samples = malloc(cap);
    for (int i = 0; i < 600; i++) {
        uint8_t *mask = make_mask(1 + i % (SHAPE_COUNT - 1), 40 + i % 50, 30 + i % 40);
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, mask, 40 + i % 50, 30 + i % 40, &err), &err);
        const uint8_t *p;
        size_t n;
        CHECK_OK(es_mask_blob_payload(c, &r, ES_BLOB_MODEL_AUTO, &p, &n, &err), &err);
        if (used + n <= cap) {
            memcpy(samples + used, p, n);
            used += n;
            sizes[nsamples++] = n;
        }
        es_rle_free(&r);
        free(mask);
    }
    uint8_t dict[8192];
    size_t dict_n = 0;
    int trained = es_mask_dict_train(dict, sizeof dict, samples, sizes, nsamples, &dict_n, &err);
    free(samples);
    if (trained) {
        printf("  no dictionary could be trained here: %s\n", err.msg);
        es_mask_codec_free(c);
        es_mask_codec_free(plain);
        return;
    }
    CHECK_OK(es_mask_codec_set_dict(c, 7, dict, dict_n, &err), &err);
    CHECK_EQ_INT(es_mask_codec_dict_id(c), 7);
    int with_dict = 0;
    for (int shape = 1; shape < SHAPE_COUNT; shape++) {
        uint8_t *mask = make_mask(shape, 64, 48);
        es_rle r = ES_RLE_EMPTY, back = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, mask, 64, 48, &err), &err);
        const uint8_t *blob;
        size_t n;
        CHECK_OK(es_mask_blob_encode(c, &r, &blob, &n, &err), &err);
        uint8_t *copy = malloc(n);
        memcpy(copy, blob, n);
        CHECK_OK(es_mask_blob_decode(c, copy, n, 64, 48, &back, &err), &err);
        CHECK(ref_rle_same(&r, &back));
        es_rle_free(&back);
        if (copy[1] & ES_BLOB_ZSTD_DICT) {
            with_dict++;
            CHECK_EQ_INT(es_mask_blob_decode(plain, copy, n, 64, 48, &back, &err), ES_ERR_FORMAT);
            CHECK(strstr(err.msg, "dictionary") != NULL);
        }
        free(copy);
        es_rle_free(&r);
        free(mask);
    }
    CHECK(with_dict > 0);
    es_mask_codec_free(c);
    es_mask_codec_free(plain);
}

int main(void) {
    ES_RUN(test_round_trip_every_shape);
    ES_RUN(test_round_trip_special_runs);
    ES_RUN(test_rejects_bad_runs);
    ES_RUN(test_damaged_blobs_are_refused);
    ES_RUN(test_mutated_payloads_never_crash);
    ES_RUN(test_dictionary_blobs);
    ES_TEST_END();
}
