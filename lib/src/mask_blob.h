/* mask_blob.h: the byte format of one mask in the store (internal to libentseg).
 *
 * A blob is one es_rle: a version byte, a coding byte, two check bytes, then the runs
 * modelled as column boundaries coded against the previous column (or as
 * plain varint counts), zstd-compressed when that is smaller. The layout is drawn above
 * es_mask_blob_encode() in mask_blob.c and in docs/store-format.md.
 *
 * Ownership: an es_mask_codec holds reusable zstd contexts and scratch buffers; one per
 * es_store (one thread at a time). Encoded bytes point into the codec and stay valid until
 * its next call. Decoded masks are fresh es_rle the caller frees.
 */
#ifndef ENTSEG_MASK_BLOB_H
#define ENTSEG_MASK_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

#define ES_MASK_BLOB_VERSION 1

/* Models of the runs (low nibble of the coding byte). */
#define ES_BLOB_MODEL_COUNTS 0  /* varint run lengths */
#define ES_BLOB_MODEL_COLUMNS 1 /* per-column boundaries against the previous column */
#define ES_BLOB_MODEL_AUTO (-1) /* columns when the runs allow it, else counts */

/* Coding byte flags: the payload is a zstd frame (magicless) instead of raw bytes; and
 * that frame needs the store's dictionary (its id follows in the header). */
#define ES_BLOB_ZSTD 0x10
#define ES_BLOB_ZSTD_DICT 0x20

/* zstd level used by the store. Measured on an `entseg-convert synth` store of 200 images
 * with its entropy-only dictionary (docs/bench-store.md): level 6 (lazy2) gives 0.480x
 * the PNG bytes at ~6 us a mask, 12 (btopt) 0.469x at ~16 us, 3 0.504x at ~2 us; on the
 * COCO samples (no dictionary) 6 gives 0.439x, 12 0.414x. Level 12 made the encoder a
 * quarter of a COCO panoptic import (docs/bench-convert.md, issue 3's 1.3x target); 6
 * keeps both targets with a margin. The decoder reads any level. */
#define ES_MASK_BLOB_ZSTD_LEVEL 6

typedef struct es_mask_codec es_mask_codec;

int es_mask_codec_create(es_mask_codec **out, es_error *err);
void es_mask_codec_free(es_mask_codec *c);

/* A store's zstd dictionary (id >= 1): once set, es_mask_blob_encode compresses with it
 * and decode accepts blobs that name it. Decoding with a prepared dictionary skips
 * zstd's per-frame entropy-table set-up, which dominates for masks of a few hundred
 * bytes (docs/bench-store.md). */
int es_mask_codec_set_dict(es_mask_codec *c, uint32_t id, const void *dict, size_t n,
                           es_error *err);
uint32_t es_mask_codec_dict_id(const es_mask_codec *c); /* 0 = none */
/* The model payload of the last encode (dictionary training samples). */
void es_mask_codec_last_payload(const es_mask_codec *c, const uint8_t **payload, size_t *n);
/* Trains a dictionary of at most cap bytes from n payloads laid end to end. */
int es_mask_dict_train(void *dict, size_t cap, const uint8_t *samples, const size_t *sizes,
                       size_t n, size_t *dict_n, es_error *err);

/* Builds an entropy-only dictionary (zstd's literal, match and offset statistics of the
 * samples at ES_MASK_BLOB_ZSTD_LEVEL, plus a few bytes of content) of at most cap bytes.
 * Small masks gain from a dictionary through the entropy tables a frame then need not
 * describe, not through its content: against an 8 KiB trained dictionary the masks come
 * out as small (level 12) or smaller (levels 3-7), the dictionary is 130-170 bytes
 * instead of 8 KiB, and encoding with it is up to twice as fast. */
int es_mask_dict_build(void *dict, size_t cap, const uint8_t *samples, const size_t *sizes,
                       size_t n, size_t *dict_n, es_error *err);

/* What the payload part of n samples' blobs would take, compressed as the encoder does
 * with dict (NULL: without one): how a store decides whether a dictionary pays. */
int es_mask_dict_cost(const void *dict, size_t dict_n, const uint8_t *samples,
                      const size_t *sizes, size_t n, uint64_t *bytes, es_error *err);

/* Encodes r (which must satisfy sum(cnts) == h*w) with the best coding (the codec's
 * dictionary when set): *blob and *n point into the codec, valid until its next call. */
int es_mask_blob_encode(es_mask_codec *c, const es_rle *r, const uint8_t **blob, size_t *n,
                        es_error *err);

/* The same with a chosen model (ES_BLOB_MODEL_*) and compression (zstd_level 0: raw
 * payload, else that zstd level, stored raw when zstd does not shrink it), never with the
 * dictionary. For tests and the bench. */
int es_mask_blob_encode_with(es_mask_codec *c, const es_rle *r, int model, int zstd_level,
                             const uint8_t **blob, size_t *n, es_error *err);

/* The uncompressed payload of r under model (what zstd sees): for dictionary experiments. */
int es_mask_blob_payload(es_mask_codec *c, const es_rle *r, int model, const uint8_t **payload,
                         size_t *n, es_error *err);

/* Decodes a blob of an h x w mask (the blob does not repeat the size: it is the image's)
 * into *out (previous contents not freed). Any malformed blob, truncated, bit-flipped, from
 * a newer version or not fitting h x w, gives ES_ERR_FORMAT, never a crash. */
int es_mask_blob_decode(es_mask_codec *c, const uint8_t *blob, size_t n, uint32_t h, uint32_t w,
                        es_rle *out, es_error *err);

/* Checks the version, check bytes (which cover the size h x w) and coding byte without
 * decoding. */
int es_mask_blob_verify(const uint8_t *blob, size_t n, uint32_t h, uint32_t w, es_error *err);

#endif
