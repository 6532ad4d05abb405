/* mask_blob.c: encodes one COCO RLE mask into the store's blob bytes and back.
 *
 * Workload: millions of small masks written once at import and read many times by the
 * evaluator (135k masks per scan), so decoding must cost about a microsecond per mask and
 * the bytes must stay below half of the source panoptic PNGs. Plain run lengths compress
 * poorly (each mask is a new small zstd frame with nothing to match), so the runs are first
 * modelled as in fax coding (ITU-T T.6 "2D" mode), turned on its side: each column of the
 * mask is coded against the previous column. A boundary that moved by a few pixels costs
 * one byte symbol (vertical mode), which zstd's entropy coder then squeezes to a few bits.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_format: magicless frames save 4 bytes a mask */
#include "mask_blob.h"

#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

/* Vertical mode codes a boundary within +-VMAX pixels of its reference as one symbol. */
#define VMAX 16
#define SYM_PASS (2 * VMAX + 1)
#define SYM_HORIZ (2 * VMAX + 2)

/* Refuse payloads above this size outright: a bit flip in the length field must not make
 * us allocate gigabytes. A 15000 x 10000 mask of 1-pixel stripes stays far below it. */
#define PAYLOAD_MAX ((uint64_t)1 << 30)

typedef struct byte_buf {
    uint8_t *p;
    size_t n, cap;
} byte_buf;

typedef struct u32_buf {
    uint32_t *p;
    size_t n, cap;
} u32_buf;

struct es_mask_codec {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    int cctx_level;   /* level the cctx is set to */
    uint32_t dict_id; /* the store's dictionary, 0 = none */
    ZSTD_CCtx *dict_cctx;
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
    byte_buf payload; /* model output */
    byte_buf side;    /* columns model: horizontal-mode run lengths */
    byte_buf blob;    /* final bytes */
    u32_buf trans;    /* column boundaries, all columns */
    u32_buf col_end;  /* (w) end index in trans of each column */
};

static int buf_reserve(byte_buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int u32_reserve(u32_buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    uint32_t *p = realloc(b->p, cap * sizeof *p);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* LEB128: 7 bits a byte, low first, high bit = more. The caller reserved 10 bytes. */
static void put_varint(byte_buf *b, uint64_t v) {
    while (v >= 0x80) {
        b->p[b->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->n++] = (uint8_t)v;
}

/* Returns 0 and advances *p, or -1 on truncation or more than 64 bits. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return -1;
        uint8_t byte = *(*p)++;
        x |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

int es_mask_codec_create(es_mask_codec **out, es_error *err) {
    es_mask_codec *c = calloc(1, sizeof *c);
    if (!c) return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    if (!c->cctx || !c->dctx) {
        es_mask_codec_free(c);
        return es_error_set(err, ES_ERR_NOMEM, "mask codec: cannot create zstd contexts");
    }
    ZSTD_DCtx_setParameter(c->dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    c->cctx_level = -1000;
    *out = c;
    return ES_OK;
}

void es_mask_codec_free(es_mask_codec *c) {
    if (!c) return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCCtx(c->dict_cctx);
    ZSTD_freeCDict(c->cdict);
    ZSTD_freeDDict(c->ddict);
    free(c->payload.p);
    free(c->side.p);
    free(c->blob.p);
    free(c->trans.p);
    free(c->col_end.p);
    free(c);
}

int es_mask_codec_set_dict(es_mask_codec *c, uint32_t id, const void *dict, size_t n,
                           es_error *err) {
    if (id == 0) return es_error_set(err, ES_ERR_INVALID, "mask codec: dictionary id 0 is reserved");
    ZSTD_CDict *cdict = ZSTD_createCDict(dict, n, ES_MASK_BLOB_ZSTD_LEVEL);
    ZSTD_DDict *ddict = ZSTD_createDDict(dict, n);
    ZSTD_CCtx *cctx = c->dict_cctx ? c->dict_cctx : ZSTD_createCCtx();
    if (!cdict || !ddict || !cctx) {
        ZSTD_freeCDict(cdict);
        ZSTD_freeDDict(ddict);
        if (cctx != c->dict_cctx) ZSTD_freeCCtx(cctx);
        return es_error_set(err, ES_ERR_FORMAT, "mask codec: unusable zstd dictionary %u (%zu bytes)", id, n);
    }
    ZSTD_freeCDict(c->cdict);
    ZSTD_freeDDict(c->ddict);
    c->dict_cctx = cctx;
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1); /* the payload length */
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0); /* one dictionary per store */
    ZSTD_CCtx_refCDict(cctx, cdict);
    c->cdict = cdict;
    c->ddict = ddict;
    c->dict_id = id;
    return ES_OK;
}

uint32_t es_mask_codec_dict_id(const es_mask_codec *c) { return c->dict_id; }

void es_mask_codec_last_payload(const es_mask_codec *c, const uint8_t **payload, size_t *n) {
    *payload = c->payload.p;
    *n = c->payload.n;
}

int es_mask_dict_train(void *dict, size_t cap, const uint8_t *samples, const size_t *sizes,
                       size_t n, size_t *dict_n, es_error *err) {
    size_t got = ZDICT_trainFromBuffer(dict, cap, samples, sizes, (unsigned)n);
    if (ZDICT_isError(got))
        return es_error_set(err, ES_ERR_INVALID, "mask codec: dictionary training failed: %s",
                            ZDICT_getErrorName(got));
    *dict_n = got;
    return ES_OK;
}

int es_mask_dict_build(void *dict, size_t cap, const uint8_t *samples, const size_t *sizes,
                       size_t n, size_t *dict_n, es_error *err) {
    /* content: runs of the vertical-0 symbol (a boundary that did not move), the payload's
     * most common bytes, so a frame can open with a match instead of literals */
    uint8_t content[32];
    memset(content, VMAX, sizeof content);
    ZDICT_params_t params;
    memset(&params, 0, sizeof params);
    params.compressionLevel = ES_MASK_BLOB_ZSTD_LEVEL;
    size_t got = ZDICT_finalizeDictionary(dict, cap, content, sizeof content, samples, sizes,
                                          (unsigned)n, params);
    if (ZDICT_isError(got))
        return es_error_set(err, ES_ERR_INVALID, "mask codec: dictionary statistics failed: %s",
                            ZDICT_getErrorName(got));
    *dict_n = got;
    return ES_OK;
}

int es_mask_dict_cost(const void *dict, size_t dict_n, const uint8_t *samples,
                      const size_t *sizes, size_t n, uint64_t *bytes, es_error *err) {
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CDict *cdict = dict ? ZSTD_createCDict(dict, dict_n, ES_MASK_BLOB_ZSTD_LEVEL) : NULL;
    size_t cap = 1024;
    uint8_t *dst = malloc(cap);
    if (!cctx || (dict && !cdict) || !dst) {
        ZSTD_freeCCtx(cctx);
        ZSTD_freeCDict(cdict);
        free(dst);
        return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ES_MASK_BLOB_ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
    if (cdict) ZSTD_CCtx_refCDict(cctx, cdict);
    uint64_t total = 0;
    const uint8_t *p = samples;
    int status = ES_OK;
    for (size_t i = 0; i < n && !status; i++) {
        size_t len = sizes[i], best = len;
        if (len > (dict ? 4u : 8u)) { /* as the encoder decides */
            if (ZSTD_compressBound(len) > cap) {
                cap = ZSTD_compressBound(len);
                uint8_t *np = realloc(dst, cap);
                if (!np) {
                    status = es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
                    break;
                }
                dst = np;
            }
            size_t z = ZSTD_compress2(cctx, dst, cap, p, len);
            if (!ZSTD_isError(z) && z < len) best = z;
        }
        total += best;
        p += len;
    }
    ZSTD_freeCCtx(cctx);
    ZSTD_freeCDict(cdict);
    free(dst);
    *bytes = total;
    return status;
}

/* Canonical runs (every run after the first is non-empty) are exactly described by their
 * boundaries; anything else is kept verbatim with the counts model. */
static int rle_is_canonical(const es_rle *r) {
    for (uint32_t i = 1; i < r->m; i++)
        if (r->cnts[i] == 0) return 0;
    return 1;
}

/* Splits the foreground runs into per-column boundaries. Each column starts in background;
 * its boundaries alternate fg-start (even index) and fg-end (odd index), y in [0, h). */
static int collect_columns(es_mask_codec *c, const es_rle *r) {
    uint32_t h = r->h, w = r->w;
    c->trans.n = 0;
    c->col_end.n = 0;
    if (u32_reserve(&c->col_end, w)) return -1;
    uint64_t pos = 0;
    uint32_t x_done = 0; /* columns whose col_end is written */
    for (uint32_t i = 0; i < r->m; i++) {
        uint64_t end = pos + r->cnts[i];
        if (i & 1) { /* a foreground run [pos, end) */
            uint64_t q = pos;
            while (q < end) {
                uint32_t x = (uint32_t)(q / h);
                uint64_t col_start = (uint64_t)x * h, col_stop = col_start + h;
                uint64_t q_end = end < col_stop ? end : col_stop;
                while (x_done < x) c->col_end.p[x_done++] = (uint32_t)c->trans.n;
                if (u32_reserve(&c->trans, 2)) return -1;
                c->trans.p[c->trans.n++] = (uint32_t)(q - col_start);
                if (q_end < col_stop) c->trans.p[c->trans.n++] = (uint32_t)(q_end - col_start);
                q = q_end;
            }
        }
        pos = end;
    }
    while (x_done < w) c->col_end.p[x_done++] = (uint32_t)c->trans.n;
    c->col_end.n = w;
    return 0;
}

/* The reference boundaries b1, b2 for coding position a0 with colour col: b1 is the first
 * boundary of the previous column after a0 that switches to the other colour (T.6). */
static inline void find_b1_b2(const uint32_t *ref, uint32_t nref, uint32_t *idx, int64_t a0,
                              int col, uint32_t h, int64_t *b1, int64_t *b2) {
    while (*idx < nref && (int64_t)ref[*idx] <= a0) (*idx)++;
    uint32_t j = *idx + ((*idx & 1u) != (uint32_t)col);
    *b1 = j < nref ? ref[j] : h;
    *b2 = j + 1 < nref ? ref[j + 1] : h;
}

/* Columns model: the column range, then one symbol per coding step, then the run lengths
 * of horizontal-mode steps. */
static int model_columns(es_mask_codec *c, const es_rle *r) {
    if (collect_columns(c, r)) return -1;
    uint32_t h = r->h, w = r->w;
    const uint32_t *ends = c->col_end.p, *tr = c->trans.p;
    uint32_t x0 = 0, x1 = w;
    while (x0 < w && ends[x0] == (x0 ? ends[x0 - 1] : 0)) x0++;
    while (x1 > x0 && ends[x1 - 1] == (x1 > 1 ? ends[x1 - 2] : 0)) x1--;

    byte_buf *sym = &c->payload, *side = &c->side;
    sym->n = side->n = 0;
    const uint32_t *ref = NULL;
    uint32_t nref = 0;
    for (uint32_t x = x0; x < x1; x++) {
        uint32_t begin = x ? ends[x - 1] : 0;
        const uint32_t *cur = tr + begin;
        uint32_t ncur = ends[x] - begin, ci = 0, idx = 0;
        int64_t a0 = -1;
        int col = 0;
        for (;;) {
            if (buf_reserve(sym, 1) || buf_reserve(side, 20)) return -1;
            int64_t a1 = ci < ncur ? cur[ci] : h, b1, b2;
            find_b1_b2(ref, nref, &idx, a0, col, h, &b1, &b2);
            if (b2 < a1) { /* pass: the reference has a whole run before a1 */
                sym->p[sym->n++] = SYM_PASS;
                a0 = b2;
                continue;
            }
            int64_t d = a1 - b1;
            if (d >= -VMAX && d <= VMAX) { /* vertical: a1 near b1 */
                sym->p[sym->n++] = (uint8_t)(d + VMAX);
                if (a1 == h) break;
                a0 = a1;
                col = !col;
                ci++;
                continue;
            }
            /* horizontal: the next one or two runs as lengths */
            sym->p[sym->n++] = SYM_HORIZ;
            put_varint(side, (uint64_t)(a1 - (a0 < 0 ? 0 : a0)));
            if (a1 == h) break;
            int64_t a2 = ci + 1 < ncur ? cur[ci + 1] : h;
            put_varint(side, (uint64_t)(a2 - a1));
            if (a2 == h) break;
            a0 = a2;
            ci += 2;
        }
        ref = cur;
        nref = ncur;
    }
    /* payload = x0, ncols, symbols, then the side bytes reversed (read from the end, so
     * the symbols need no length) */
    uint8_t head[20];
    byte_buf hb = {head, 0, sizeof head};
    put_varint(&hb, x0);
    put_varint(&hb, x1 - x0);
    if (buf_reserve(sym, hb.n + side->n)) return -1;
    memmove(sym->p + hb.n, sym->p, sym->n);
    memcpy(sym->p, head, hb.n);
    sym->n += hb.n;
    for (size_t k = side->n; k-- > 0;) sym->p[sym->n++] = side->p[k];
    return 0;
}

static int model_counts(es_mask_codec *c, const es_rle *r) {
    c->payload.n = 0;
    if (buf_reserve(&c->payload, (size_t)r->m * 5 + 1)) return -1;
    for (uint32_t i = 0; i < r->m; i++) put_varint(&c->payload, r->cnts[i]);
    return 0;
}

static int check_rle(const es_rle *r, es_error *err) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < r->m; i++) sum += r->cnts[i];
    if (sum != (uint64_t)r->h * r->w || (r->m && !r->cnts))
        return es_error_set(err, ES_ERR_INVALID,
                            "mask %ux%u: runs sum to %llu pixels, not %llu", r->h, r->w,
                            (unsigned long long)sum, (unsigned long long)r->h * r->w);
    return ES_OK;
}

static int build_payload(es_mask_codec *c, const es_rle *r, int model, es_error *err) {
    int rc = model == ES_BLOB_MODEL_COLUMNS ? model_columns(c, r) : model_counts(c, r);
    if (rc) return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    return ES_OK;
}

static int resolve_model(const es_rle *r, int model) {
    if (model == ES_BLOB_MODEL_AUTO || model == ES_BLOB_MODEL_COLUMNS)
        return (r->m && r->h && rle_is_canonical(r)) ? ES_BLOB_MODEL_COLUMNS
                                                     : ES_BLOB_MODEL_COUNTS;
    return ES_BLOB_MODEL_COUNTS;
}

int es_mask_blob_payload(es_mask_codec *c, const es_rle *r, int model, const uint8_t **payload,
                         size_t *n, es_error *err) {
    ES_CHECK(check_rle(r, err));
    ES_CHECK(build_payload(c, r, resolve_model(r, model), err));
    *payload = c->payload.p;
    *n = c->payload.n;
    return ES_OK;
}

/* Little-endian load of up to 8 bytes (compilers turn the full case into one load). */
static inline uint64_t load_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The check: a multiply-xorshift hash over 8-byte little-endian words of the blob with its
 * two check bytes read as zero, seeded with the mask size (which the blob does not store,
 * so a blob read at a size it was not written for fails too), folded to 16 bits. Word-wise so it costs ~1 ns per 16
 * bytes: a byte-wise hash was a tenth of the decode time. */
static uint16_t blob_check(const uint8_t *blob, size_t n, uint32_t mask_h, uint32_t mask_w) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n ^ ((uint64_t)mask_h << 32 | mask_w);
    for (size_t i = 0; i < n; i += 8) {
        size_t len = n - i < 8 ? n - i : 8;
        uint64_t word = load_le(blob + i, len);
        if (i == 0) word &= ~0xffff0000ull; /* bytes 2 and 3 */
        h = (h ^ word) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    h *= 0xc4ceb9fe1a85ec53ull; /* final mix: every input bit reaches the low 16 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint16_t)h;
}

/* Blob layout, version 1 (integers are LEB128 varints: 7 bits a byte, low bits first,
 * high bit set on every byte but the last):
 *
 *   +---------+--------+---------+------------------------------------------------+
 *   | version | coding |  check  | body: the payload, or its zstd frame           |
 *   |  0x01   |  u8    | u16 LE  | (to the end of the blob)                       |
 *   +---------+--------+---------+------------------------------------------------+
 *
 *   Nothing else is stored: the mask's size h x w is its image's (the store passes it to
 *   the decoder), the run count follows from the runs, and the payload's length from the
 *   blob's length or the frame. Every byte left out is ~1% of a typical mask.
 *
 *   coding: low nibble = model (0 counts, 1 columns). 0x10: the body is a zstd frame
 *   without its 4-byte magic number (ZSTD_f_zstd1_magicless), single segment, with its
 *   content size; else the body is the payload itself (when zstd would not shrink it).
 *   0x20 (only with 0x10): the frame was compressed with the store's zstd dictionary
 *   (table mask_dictionaries).
 *
 *   check: h = 0x9e3779b97f4a7c15 ^ blob_length ^ (mask_h << 32 | mask_w) (the mask's size,
 *   which is not stored, still guards the blob); for each 8-byte little-endian word of
 *   the blob (the last one zero-padded; bytes 2-3, the check itself, read as 0):
 *   h = (h ^ word) * 0xff51afd7ed558ccd, h ^= h >> 29; then h *= 0xc4ceb9fe1a85ec53,
 *   h ^= h >> 33, h *= 0xff51afd7ed558ccd, h ^= h >> 33; the check is the low 16 bits of h.
 *   A mismatch is a corrupt blob.
 *
 *   counts payload: varints to its end, the COCO runs (first = background, column-major).
 *
 *   columns payload (only for runs where every run after the first is non-empty):
 *   +-----+-------+-------------------------+-------------------------------------+
 *   | x0  | ncols | symbol bytes  -->       |       <-- side: run-length varints  |
 *   +-----+-------+-------------------------+-------------------------------------+
 *   The side varints are stored byte-reversed at the end: read backwards from the last
 *   byte they come out in order; symbols and side must meet exactly.
 *   Columns x0 .. x0+ncols-1 hold all foreground. Each column starts in background and is
 *   coded against the previous coded column (the first against an empty one) as in T.6:
 *   a0 = current position (-1 at the column top), a1 = next boundary of this column (h =
 *   none left), b1 = first boundary of the previous column after a0 that switches to the
 *   other colour, b2 = the one after it (h when absent).
 *     symbol 0..32  vertical:   a1 = b1 + (symbol - 16); the colour flips; a1 == h ends
 *                               the column.
 *     symbol 33     pass:       b2 < a1; a0 = b2, colour unchanged.
 *     symbol 34     horizontal: side gives r1 and (unless a1 == h) r2:
 *                               a1 = max(a0, 0) + r1, a2 = a1 + r2; a0 = a2; reaching h
 *                               ends the column.
 */
static int encode_impl(es_mask_codec *c, const es_rle *r, int model, int zstd_level,
                       int use_dict, const uint8_t **blob, size_t *n, es_error *err) {
    ES_CHECK(check_rle(r, err));
    use_dict = use_dict && c->cdict && zstd_level != 0;
    model = resolve_model(r, model);
    ES_CHECK(build_payload(c, r, model, err));
    byte_buf *b = &c->blob;
    b->n = 0;
    size_t bound = ZSTD_compressBound(c->payload.n);
    if (buf_reserve(b, 2 + 40 + (bound > c->payload.n ? bound : c->payload.n)))
        return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    b->p[b->n++] = ES_MASK_BLOB_VERSION;
    size_t coding_at = b->n++;
    b->n += 2; /* check, filled in last */
    uint8_t coding = (uint8_t)model;
    size_t z = 0;
    if (use_dict && c->payload.n > 4) {
        z = ZSTD_compress2(c->dict_cctx, b->p + b->n, b->cap - b->n, c->payload.p, c->payload.n);
        if (ZSTD_isError(z))
            return es_error_set(err, ES_ERR_INTERNAL, "mask codec: zstd: %s", ZSTD_getErrorName(z));
        if (z < c->payload.n) {
            coding |= ES_BLOB_ZSTD | ES_BLOB_ZSTD_DICT;
            b->n += z;
        }
        z = 0;
    } else if (zstd_level != 0 && c->payload.n > 8) {
        if (c->cctx_level != zstd_level) {
            ZSTD_CCtx_reset(c->cctx, ZSTD_reset_session_and_parameters);
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, zstd_level);
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1); /* the payload length */
            ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0);
            c->cctx_level = zstd_level;
        }
        z = ZSTD_compress2(c->cctx, b->p + b->n, b->cap - b->n, c->payload.p, c->payload.n);
        if (ZSTD_isError(z)) {
            c->cctx_level = -1000;
            return es_error_set(err, ES_ERR_INTERNAL, "mask codec: zstd: %s",
                                ZSTD_getErrorName(z));
        }
    }
    if (z && z < c->payload.n) {
        coding |= ES_BLOB_ZSTD;
        b->n += z;
    } else if (!(coding & ES_BLOB_ZSTD)) {
        memcpy(b->p + b->n, c->payload.p, c->payload.n);
        b->n += c->payload.n;
    }
    b->p[coding_at] = coding;
    uint16_t check = blob_check(b->p, b->n, r->h, r->w);
    b->p[2] = (uint8_t)(check & 0xff);
    b->p[3] = (uint8_t)(check >> 8);
    *blob = b->p;
    *n = b->n;
    return ES_OK;
}

int es_mask_blob_encode_with(es_mask_codec *c, const es_rle *r, int model, int zstd_level,
                             const uint8_t **blob, size_t *n, es_error *err) {
    return encode_impl(c, r, model, zstd_level, 0, blob, n, err);
}

int es_mask_blob_encode(es_mask_codec *c, const es_rle *r, const uint8_t **blob, size_t *n,
                        es_error *err) {
    return encode_impl(c, r, ES_BLOB_MODEL_AUTO, ES_MASK_BLOB_ZSTD_LEVEL, 1, blob, n, err);
}

/* ---- decoding ---- */

static int corrupt(es_error *err, const char *what) {
    return es_error_set(err, ES_ERR_FORMAT, "corrupt mask blob: %s", what);
}

/* Version, check bytes and coding byte; the body follows at blob + 4. */
static int read_header(const uint8_t *blob, size_t n, uint32_t h, uint32_t w, uint8_t *coding,
                       es_error *err) {
    if (!blob || n < 4) return corrupt(err, "shorter than its header");
    if (blob[0] != ES_MASK_BLOB_VERSION) {
        if (blob[0] > ES_MASK_BLOB_VERSION)
            return es_error_set(err, ES_ERR_FORMAT,
                                "mask blob version %u is newer than this build (reads %d): "
                                "update entseg",
                                blob[0], ES_MASK_BLOB_VERSION);
        return corrupt(err, "bad version byte");
    }
    if (blob_check(blob, n, h, w) != (uint16_t)(blob[2] | blob[3] << 8))
        return es_error_set(err, ES_ERR_FORMAT,
                            "corrupt mask blob: check bytes do not match: the blob is damaged, "
                            "or was written for another image size than %ux%u (w x h)",
                            w, h);
    uint8_t c = blob[1];
    if ((c & 0x0f) > ES_BLOB_MODEL_COLUMNS || (c & ~(0x0f | ES_BLOB_ZSTD | ES_BLOB_ZSTD_DICT)) ||
        ((c & ES_BLOB_ZSTD_DICT) && !(c & ES_BLOB_ZSTD)))
        return corrupt(err, "unknown coding byte");
    *coding = c;
    return ES_OK;
}

int es_mask_blob_verify(const uint8_t *blob, size_t n, uint32_t h, uint32_t w, es_error *err) {
    uint8_t coding = 0;
    return read_header(blob, n, h, w, &coding, err);
}

/* Runs array for at most cap runs. */
typedef struct run_out {
    uint32_t *cnts;
    uint32_t m, cap;
} run_out;

static int decode_counts(const uint8_t *p, const uint8_t *end, uint32_t h, uint32_t w,
                         run_out *ro, es_error *err) {
    uint64_t sum = 0;
    while (p < end) {
        uint64_t v;
        if (get_varint(&p, end, &v) || v > UINT32_MAX) return corrupt(err, "bad run length");
        if (ro->m >= ro->cap) return corrupt(err, "too many runs");
        ro->cnts[ro->m++] = (uint32_t)v;
        sum += v;
    }
    if (sum != (uint64_t)h * w || ((uint64_t)h * w == 0) != (ro->m == 0))
        return corrupt(err, "runs do not cover the mask");
    return ES_OK;
}

/* A varint stored byte-reversed before *p (the side stream, read from the end). */
static int get_varint_back(const uint8_t **p, const uint8_t *low, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p <= low) return -1;
        uint8_t byte = *--(*p);
        x |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Decodes the columns straight into runs. Each boundary decoded at (x, y) is a toggle at
 * the column-major index x*h + y, with one exception: a column starts in background, so
 * when the previous column ended in foreground the fg-start at y = 0 is no toggle (the run
 * goes on), and its absence is one (the run ends at x*h). The reference column carries
 * three sentinels at h so finding b1, b2 needs no bounds checks. Symbols are read forward
 * from the start, side varints backward from the end (`side`); they must meet. */
static int decode_columns(es_mask_codec *c, const uint8_t *p, const uint8_t *end, uint32_t h,
                          uint32_t w, run_out *ro, es_error *err) {
    uint64_t x0, ncols;
    if (get_varint(&p, end, &x0) || get_varint(&p, end, &ncols))
        return corrupt(err, "truncated column header");
    if (h == 0 || x0 > w || ncols > w - x0 || ncols > (uint64_t)(end - p))
        return corrupt(err, "column range out of bounds");
    const uint8_t *sym = p, *side = end;
    /* previous and current column boundaries: at most h each, and each payload byte adds
     * at most two, so a corrupt size cannot make us allocate more than the payload warrants */
    uint64_t bytes = (uint64_t)(end - p);
    uint64_t col_cap = 2 * bytes + 2 < (uint64_t)h ? 2 * bytes + 2 : (uint64_t)h;
    c->trans.n = 0;
    if (u32_reserve(&c->trans, 2 * (size_t)col_cap + 8))
        return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    uint32_t *ref = c->trans.p, *cur = c->trans.p + col_cap + 4, nref = 0;
    ref[0] = ref[1] = ref[2] = h;
    uint32_t *cnts = ro->cnts, m = 0, cap = ro->cap;
    uint64_t last = 0; /* index of the last toggle */
    int small_image = (uint64_t)h * w <= UINT32_MAX;
    int prev_ends_fg = 0;
#define EMIT_TOGGLE(at)                                                        \
    do {                                                                       \
        uint64_t at_ = (at);                                                   \
        if (m >= cap || at_ - last > UINT32_MAX)                               \
            return corrupt(err, "too many runs");                              \
        cnts[m++] = (uint32_t)(at_ - last);                                    \
        last = at_;                                                            \
    } while (0)
    for (uint64_t x = x0; x < x0 + ncols; x++) {
        uint64_t col_start = x * h;
        int64_t a0 = -1;
        uint32_t col = 0, ncur = 0, idx = 0;
        /* Fastest path: one foreground interval in this column and the previous one
         * (most columns of most masks), each end moved a little; the checks are those of
         * the fast path below, written out for two boundaries. */
        if (nref == 2 && side - sym > 2 && sym[2] == VMAX && sym[0] < SYM_PASS &&
            sym[1] < SYM_PASS && small_image && m + 2 < cap) {
            int64_t y0 = (int64_t)ref[0] + sym[0] - VMAX, y1 = (int64_t)ref[1] + sym[1] - VMAX;
            if (y0 >= 0 && y1 > y0 && (int64_t)ref[1] > y0 && y1 < (int64_t)h &&
                (int64_t)ref[0] <= y1) {
                uint64_t at0 = col_start + (uint64_t)y0, at1 = col_start + (uint64_t)y1;
                cnts[m++] = (uint32_t)(at0 - last);
                cnts[m++] = (uint32_t)(at1 - at0);
                last = at1;
                cur[0] = (uint32_t)y0;
                cur[1] = (uint32_t)y1;
                cur[2] = cur[3] = cur[4] = h;
                sym += 3;
                uint32_t *t = ref;
                ref = cur;
                cur = t;
                continue; /* nref stays 2; the column ends in background */
            }
        }
        /* Fast path, same result as the loop below: most columns keep the previous
         * column's boundaries, each moved a little, so their steps are nref vertical
         * symbols with b1 = ref[k], then V0 at b1 = h. Checking that b1 really is ref[k]
         * (ref[k] > a0 >= ref[k-2]) needs no search, and the boundaries do not depend on
         * each other; any column that fails a check is decoded by the general loop. */
        if ((uint64_t)(side - sym) > nref && sym[nref] == VMAX) {
            int ok = 1;
            int64_t prev = -1;
            for (uint32_t k = 0; k < nref; k++) {
                int64_t y = (int64_t)ref[k] + (int64_t)sym[k] - VMAX;
                ok &= (sym[k] < SYM_PASS) & (y > prev) & ((int64_t)ref[k] > prev) &
                      (k < 2 || (int64_t)ref[k - 2] <= prev);
                cur[k] = (uint32_t)y;
                prev = y;
            }
            ok &= prev < (int64_t)h && (nref < 2 || (int64_t)ref[nref - 2] <= prev);
            if (ok) {
                sym += nref + 1;
                ncur = nref;
                goto column_done;
            }
        }
        for (;;) {
            while ((int64_t)ref[idx] <= a0) idx++;
            uint32_t j = idx + ((idx ^ col) & 1u);
            int64_t b1 = ref[j], b2 = ref[j + 1], a1;
            if (sym >= side) return corrupt(err, "symbols end inside a column");
            uint8_t s = *sym++;
            if (s < SYM_PASS) {
                a1 = b1 + (int64_t)s - VMAX;
                if (a1 <= a0 || a1 < 0 || a1 > h) return corrupt(err, "boundary out of order");
                if (a1 == h) break;
                cur[ncur++] = (uint32_t)a1;
                a0 = a1;
                col ^= 1u;
                continue;
            }
            if (s == SYM_PASS) {
                if (b2 >= h) return corrupt(err, "pass beyond the column");
                a0 = b2;
                continue;
            }
            if (s != SYM_HORIZ) return corrupt(err, "unknown symbol");
            uint64_t r1, r2;
            if (get_varint_back(&side, sym, &r1)) return corrupt(err, "truncated run length");
            uint64_t base = a0 < 0 ? 0 : (uint64_t)a0;
            if (r1 > h - base || (a0 >= 0 && r1 == 0)) return corrupt(err, "run out of range");
            a1 = (int64_t)(base + r1);
            if (a1 == h) break;
            cur[ncur++] = (uint32_t)a1;
            if (get_varint_back(&side, sym, &r2)) return corrupt(err, "truncated run length");
            if (r2 == 0 || r2 > (uint64_t)(h - a1)) return corrupt(err, "run out of range");
            int64_t a2 = a1 + (int64_t)r2;
            if (a2 == h) break;
            cur[ncur++] = (uint32_t)a2;
            a0 = a2;
        }
    column_done:;
        uint32_t k = 0;
        if (prev_ends_fg) {
            if (ncur && cur[0] == 0) k = 1;  /* the run continues from the column above */
            else EMIT_TOGGLE(col_start);     /* it ended with the previous column */
        }
        if (small_image && m + (ncur - k) < cap) {
            /* the common case, without per-run checks: room is known and every run of an
             * image below 2^32 pixels fits in 32 bits */
            for (; k < ncur; k++) {
                uint64_t at = col_start + cur[k];
                cnts[m++] = (uint32_t)(at - last);
                last = at;
            }
        }
        for (; k < ncur; k++) EMIT_TOGGLE(col_start + cur[k]);
        prev_ends_fg = ncur & 1u;
        cur[ncur] = cur[ncur + 1] = cur[ncur + 2] = h;
        uint32_t *t = ref;
        ref = cur;
        cur = t;
        nref = ncur;
    }
    uint64_t total = (uint64_t)h * w;
    if (prev_ends_fg && (x0 + ncols) * h < total) EMIT_TOGGLE((x0 + ncols) * h);
    if (sym != side) return corrupt(err, "symbols and run lengths do not meet");
    if (m >= cap || total - last > UINT32_MAX) return corrupt(err, "too many runs");
    cnts[m++] = (uint32_t)(total - last);
#undef EMIT_TOGGLE
    ro->m = m;
    return ES_OK;
}

int es_mask_blob_decode(es_mask_codec *c, const uint8_t *blob, size_t n, uint32_t h, uint32_t w,
                        es_rle *out, es_error *err) {
    uint8_t coding = 0;
    ES_CHECK(read_header(blob, n, h, w, &coding, err));
    const uint8_t *body = blob + 4, *payload = body;
    size_t payload_len = n - 4;
    if (coding & ES_BLOB_ZSTD) {
        ZSTD_frameHeader zfh;
        size_t hr = ZSTD_getFrameHeader_advanced(&zfh, body, n - 4, ZSTD_f_zstd1_magicless);
        /* the models never need more than ~40 bytes a pixel column plus a little */
        uint64_t limit = 40 * ((uint64_t)h * w + w) + 64;
        if (hr != 0 || zfh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ||
            zfh.frameContentSize > PAYLOAD_MAX || zfh.frameContentSize > limit)
            return corrupt(err, "bad zstd frame header");
        payload_len = (size_t)zfh.frameContentSize;
        c->payload.n = 0;
        if (buf_reserve(&c->payload, payload_len + 1))
            return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
        size_t z;
        if (coding & ES_BLOB_ZSTD_DICT) {
            if (!c->ddict)
                return es_error_set(err, ES_ERR_FORMAT,
                                    "mask blob needs the store's zstd dictionary, which the store "
                                    "does not hold");
            z = ZSTD_decompress_usingDDict(c->dctx, c->payload.p, payload_len, body, n - 4,
                                           c->ddict);
        } else {
            z = ZSTD_decompressDCtx(c->dctx, c->payload.p, payload_len, body, n - 4);
        }
        if (ZSTD_isError(z) || z != payload_len) {
            ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
            return corrupt(err, "zstd frame does not inflate to its declared length");
        }
        payload = c->payload.p;
    }
    /* every run costs at least half a payload byte: a bound for the runs array, trimmed
     * after decoding */
    run_out ro = {NULL, 0, 0};
    uint64_t cap = 2 * (uint64_t)payload_len + 4;
    if (cap > UINT32_MAX) return corrupt(err, "payload too large");
    ro.cap = (uint32_t)cap;
    ro.cnts = malloc((size_t)ro.cap * sizeof *ro.cnts);
    if (!ro.cnts) return es_error_set(err, ES_ERR_NOMEM, "mask codec: out of memory");
    const uint8_t *end = payload + payload_len;
    int rc = (coding & 0x0f) == ES_BLOB_MODEL_COLUMNS
                 ? decode_columns(c, payload, end, h, w, &ro, err)
                 : decode_counts(payload, end, h, w, &ro, err);
    if (rc) {
        free(ro.cnts);
        return rc;
    }
    if (ro.m == 0) {
        free(ro.cnts);
        ro.cnts = NULL;
    } else if (ro.m < ro.cap / 2) {
        uint32_t *shrunk = realloc(ro.cnts, (size_t)ro.m * sizeof *ro.cnts);
        if (shrunk) ro.cnts = shrunk;
    }
    out->h = h;
    out->w = w;
    out->m = ro.m;
    out->cnts = ro.cnts;
    return ES_OK;
}
