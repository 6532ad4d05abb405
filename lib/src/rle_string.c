/* rle_string.c: the COCO compressed RLE string (pycocotools rleToString / rleFrString).
 *
 * Format: each count becomes a little-endian sequence of 5-bit groups, one character per
 * group, character = 48 + group + (0x20 if more groups follow); values are signed (two's
 * complement: the last group's bit 0x10 is the sign). From the fourth count on
 * (i > 2, not i >= 2) the value written is cnts[i] - cnts[i-2]. Example: runs {3, 5, 2}
 * -> "352" (48+3, 48+5, 48+2); a count of 16 needs two groups because 0x10 alone would
 * read as negative: 16 -> (0x10|0x20)+48 = '`', then 0 -> '0', giving "`0".
 */
#include <stdlib.h>

#include "rle_internal.h"

/* A count delta needs at most 7 groups: |x| < 2^32 plus the sign fits 35 bits. */
#define MAX_GROUPS 7

int es_rle_to_string(const es_rle *r, char **out, es_error *err) {
    *out = NULL;
    char *s = malloc((size_t)r->m * MAX_GROUPS + 1);
    if (!s) return es_error_set(err, ES_ERR_NOMEM, "es_rle_to_string: out of memory (%u runs)", r->m);
    size_t p = 0;
    for (uint32_t i = 0; i < r->m; i++) {
        int64_t x = r->cnts[i];
        if (i > 2) x -= r->cnts[i - 2];
        int more = 1;
        while (more) {
            int c = (int)(x & 0x1f);
            x >>= 5; /* arithmetic shift: int64_t, as pycocotools' long */
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s[p++] = (char)(c + 48);
        }
    }
    s[p] = 0;
    *out = s;
    return ES_OK;
}

int es_rle_from_string(es_rle *out, const char *s, uint32_t h, uint32_t w, es_error *err) {
    *out = ES_RLE_EMPTY;
    ES_CHECK(es_rle_check_size(h, w, "es_rle_from_string", err));
    size_t len = 0;
    while (s[len]) len++;
    uint32_t *cnts = malloc(sizeof *cnts * (len + 1));
    if (!cnts) return es_error_set(err, ES_ERR_NOMEM, "es_rle_from_string: out of memory");
    size_t m = 0, p = 0;
    uint64_t sum = 0;
    while (s[p]) {
        size_t start = p;
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            unsigned char ch = (unsigned char)s[p];
            if (ch == 0) {
                free(cnts);
                return es_error_set(err, ES_ERR_FORMAT,
                                    "RLE string: truncated value at character %zu", start);
            }
            if (ch < 48 || ch > 111) {
                free(cnts);
                return es_error_set(err, ES_ERR_FORMAT,
                                    "RLE string: character %zu (0x%02x) is outside '0'..'o'", p, ch);
            }
            if (k == MAX_GROUPS) {
                free(cnts);
                return es_error_set(err, ES_ERR_FORMAT,
                                    "RLE string: value at character %zu has too many digits", start);
            }
            int c = ch - 48;
            x |= (int64_t)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++;
            k++;
            if (!more && (c & 0x10)) x |= (int64_t)(~(uint64_t)0 << (5 * k)); /* sign-extend */
        }
        if (m > 2) x += cnts[m - 2];
        if (x < 0 || x > (int64_t)UINT32_MAX) {
            free(cnts);
            return es_error_set(err, ES_ERR_FORMAT,
                                "RLE string: count %zu is %lld, outside 0..2^32-1", m, (long long)x);
        }
        cnts[m++] = (uint32_t)x;
        sum += (uint64_t)x;
    }
    if (sum != (uint64_t)h * w) {
        free(cnts);
        return es_error_set(err, ES_ERR_FORMAT,
                            "RLE string: runs sum to %llu pixels but the mask is %u x %u = %llu",
                            (unsigned long long)sum, h, w, (unsigned long long)h * w);
    }
    if (sum == 0) m = 0; /* pycocotools writes a 0 x 0 mask as "0" */
    if (m == 0) {
        free(cnts);
        cnts = NULL;
    }
    es_rle_adopt(out, h, w, (uint32_t)m, cnts);
    ES_RLE_ASSERT_VALID(out);
    return ES_OK;
}
