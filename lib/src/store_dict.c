/* store_dict.c: the store's zstd dictionary for mask blobs.
 *
 * A created store keeps the model payloads of its first STORE_DICT_TRAIN_MASKS masks.
 * Once that many are in (or at es_store_finish for a smaller store), it builds an
 * entropy-only dictionary from them (ZDICT statistics) and keeps it if the samples plus
 * the dictionary itself come out smaller than without: the store stores it in
 * mask_dictionaries, compresses every later mask with it, and at finish re-encodes the
 * masks written before it. The gain is speed as much as bytes: a mask frame that uses the
 * dictionary's prepared entropy tables decodes ~4x faster (docs/bench-store.md). */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int store_dict_load(es_store *s, es_error *err) {
    sqlite3_stmt *st;
    /* stores written by development builds of version 2 may lack the table: no dictionary */
    int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE name = 'mask_dictionaries'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "reading the schema", err);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        s->dict_settled = 1;
        return ES_OK;
    }
    rc = sqlite3_prepare_v2(s->db, "SELECT id, data FROM mask_dictionaries ORDER BY id DESC LIMIT 1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "reading the mask dictionary", err);
    int status = ES_OK;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const void *data = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (id < 1 || id > UINT32_MAX)
            status = es_error_set(err, ES_ERR_FORMAT, "%s: mask dictionary id %lld out of range",
                                  s->path, (long long)id);
        else status = es_mask_codec_set_dict(s->codec, (uint32_t)id, data, n, err);
        if (status) es_error_prefix(err, "%s", s->path);
        s->dict_settled = 1;
    } else if (rc != SQLITE_DONE) {
        status = store_sql_error(s, rc, "reading the mask dictionary", err);
    }
    sqlite3_finalize(st);
    return status;
}

void store_dict_free_samples(es_store *s) {
    free(s->dict_samples);
    free(s->dict_sample_sizes);
    s->dict_samples = NULL;
    s->dict_sample_sizes = NULL;
    s->dict_nsamples = s->dict_samples_bytes = s->dict_samples_cap = 0;
}

void store_dict_collect(es_store *s) {
    if (!s->created || s->dict_settled || s->dict_nsamples >= STORE_DICT_TRAIN_MASKS ||
        s->dict_samples_bytes >= STORE_DICT_TRAIN_BYTES)
        return;
    const uint8_t *p;
    size_t n;
    es_mask_codec_last_payload(s->codec, &p, &n);
    if (s->dict_samples_bytes + n > s->dict_samples_cap) {
        size_t cap = s->dict_samples_cap ? 2 * s->dict_samples_cap : (256u << 10);
        while (cap < s->dict_samples_bytes + n) cap *= 2;
        uint8_t *np = realloc(s->dict_samples, cap);
        if (!np) {
            s->dict_settled = 1; /* no memory for samples: simply no dictionary */
            store_dict_free_samples(s);
            return;
        }
        s->dict_samples = np;
        s->dict_samples_cap = cap;
    }
    if (!s->dict_sample_sizes) {
        s->dict_sample_sizes = malloc(STORE_DICT_TRAIN_MASKS * sizeof *s->dict_sample_sizes);
        if (!s->dict_sample_sizes) {
            s->dict_settled = 1;
            store_dict_free_samples(s);
            return;
        }
    }
    memcpy(s->dict_samples + s->dict_samples_bytes, p, n);
    s->dict_samples_bytes += n;
    s->dict_sample_sizes[s->dict_nsamples++] = n;
}

/* An entropy-only dictionary is the one kept (es_mask_dict_build): the masks come out as
 * small as, or smaller than, with dictionaries trained at 2-32 KiB (which the store used
 * to try: five trainings plus six cost passes, ~1 s at the 2,000th mask), encoding with it
 * is faster, and building it is one statistics pass. */
enum { STORE_DICT_CAP = 4096 };

/* Builds the dictionary and keeps it if the samples with it plus its own bytes / share
 * beat the samples without one. share: how many times the samples the dictionary will
 * serve (1 at finish; during an import, which goes on, more). *dict is malloc'ed, NULL
 * when it does not pay. */
static int choose_dict(es_store *s, size_t share, uint8_t **dict, size_t *dict_n, es_error *err) {
    *dict = NULL;
    *dict_n = 0;
    uint64_t plain;
    ES_CHECK(es_mask_dict_cost(NULL, 0, s->dict_samples, s->dict_sample_sizes, s->dict_nsamples,
                               &plain, err));
    uint8_t *trial = malloc(STORE_DICT_CAP);
    if (!trial) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    size_t n = 0;
    if (es_mask_dict_build(trial, STORE_DICT_CAP, s->dict_samples, s->dict_sample_sizes,
                           s->dict_nsamples, &n, NULL)) {
        free(trial); /* too little variety for statistics: simply no dictionary */
        return ES_OK;
    }
    uint64_t bytes;
    int status = es_mask_dict_cost(trial, n, s->dict_samples, s->dict_sample_sizes,
                                   s->dict_nsamples, &bytes, err);
    if (status || bytes + n / share >= plain) {
        free(trial);
        return status;
    }
    *dict = trial;
    *dict_n = n;
    return ES_OK;
}

/* Stores the dictionary as row 1 and starts using it. */
static int install_dict(es_store *s, const uint8_t *dict, size_t n, es_error *err) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "INSERT INTO mask_dictionaries (id, data) VALUES (1, ?1)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, dict, (int)n, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "storing the mask dictionary", err);
    ES_CHECK(es_mask_codec_set_dict(s->codec, 1, dict, n, err));
    s->dict_last_plain_id = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(id), 0) FROM entities", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW) s->dict_last_plain_id = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    return ES_OK;
}

static int train_and_install(es_store *s, size_t share, es_error *err) {
    s->dict_settled = 1;
    uint8_t *dict;
    size_t n;
    int status = choose_dict(s, share, &dict, &n, err);
    if (!status && dict) status = install_dict(s, dict, n, err);
    free(dict);
    store_dict_free_samples(s);
    return status;
}

int store_dict_maybe_train(es_store *s, es_error *err) {
    /* never inside the caller's savepoint: rolling it back would drop the dictionary row
     * while the codec kept using it (training waits for the next write or for finish) */
    if (!s->created || s->dict_settled || s->in_user_txn) return ES_OK;
    if (s->dict_nsamples < STORE_DICT_TRAIN_MASKS && s->dict_samples_bytes < STORE_DICT_TRAIN_BYTES)
        return ES_OK;
    /* an import that reached the threshold usually goes on: count the dictionary as if it
     * will serve four times the samples */
    return train_and_install(s, 4, err);
}

/* Re-encodes entities with id <= last with the dictionary, in batches (no update while a
 * select walks the same table), keeping a new blob only when it is smaller. */
static int reencode_plain(es_store *s, int64_t last, es_error *err) {
    enum { BATCH = 512 };
    int64_t after = 0;
    int status = ES_OK;
    int64_t *ids = malloc(BATCH * sizeof *ids);
    uint8_t **blobs = calloc(BATCH, sizeof *blobs);
    size_t *lens = malloc(BATCH * sizeof *lens);
    if (!ids || !blobs || !lens) status = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    while (!status) {
        sqlite3_stmt *q;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT e.id, e.mask, i.height, i.width FROM entities e "
                                    "JOIN images i ON i.id = e.image_id "
                                    "WHERE e.id > ?1 AND e.id <= ?2 ORDER BY e.id LIMIT ?3",
                                    -1, &q, NULL);
        if (rc != SQLITE_OK) {
            status = store_sql_error(s, rc, "re-encoding masks", err);
            break;
        }
        sqlite3_bind_int64(q, 1, after);
        sqlite3_bind_int64(q, 2, last);
        sqlite3_bind_int(q, 3, BATCH);
        size_t n = 0, rows = 0;
        while (!status && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            rows++;
            int64_t id = sqlite3_column_int64(q, 0);
            const uint8_t *old = sqlite3_column_blob(q, 1);
            size_t old_len = (size_t)sqlite3_column_bytes(q, 1);
            uint32_t h = (uint32_t)sqlite3_column_int64(q, 2), w = (uint32_t)sqlite3_column_int64(q, 3);
            after = id;
            es_rle r = ES_RLE_EMPTY;
            status = es_mask_blob_decode(s->codec, old, old_len, h, w, &r, err);
            const uint8_t *blob;
            size_t len;
            if (!status) status = es_mask_blob_encode(s->codec, &r, &blob, &len, err);
            es_rle_free(&r);
            if (!status && len < old_len) {
                blobs[n] = malloc(len);
                if (!blobs[n]) {
                    status = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
                    break;
                }
                memcpy(blobs[n], blob, len);
                lens[n] = len;
                ids[n++] = id;
            }
        }
        if (!status && rc != SQLITE_DONE && rc != SQLITE_ROW)
            status = store_sql_error(s, rc, "re-encoding masks", err);
        sqlite3_finalize(q);
        sqlite3_stmt *u = NULL;
        if (!status && n) {
            rc = sqlite3_prepare_v2(s->db, "UPDATE entities SET mask = ?1 WHERE id = ?2", -1, &u, NULL);
            if (rc != SQLITE_OK) status = store_sql_error(s, rc, "re-encoding masks", err);
        }
        for (size_t k = 0; k < n; k++) {
            if (!status) {
                sqlite3_bind_blob(u, 1, blobs[k], (int)lens[k], SQLITE_STATIC);
                sqlite3_bind_int64(u, 2, ids[k]);
                rc = sqlite3_step(u);
                sqlite3_reset(u);
                if (rc != SQLITE_DONE) status = store_sql_error(s, rc, "re-encoding masks", err);
            }
            free(blobs[k]);
            blobs[k] = NULL;
        }
        sqlite3_finalize(u);
        if (rows < BATCH || after >= last) break; /* the last batch */
    }
    free(ids);
    free(blobs);
    free(lens);
    return status;
}

int store_dict_finish(es_store *s, es_error *err) {
    if (!s->created) return ES_OK;
    if (!s->dict_settled && s->dict_nsamples >= STORE_DICT_MIN_MASKS)
        ES_CHECK(train_and_install(s, 1, err));
    s->dict_settled = 1;
    store_dict_free_samples(s);
    if (es_mask_codec_dict_id(s->codec) && s->dict_last_plain_id > 0)
        ES_CHECK(reencode_plain(s, s->dict_last_plain_id, err));
    s->dict_last_plain_id = 0;
    return ES_OK;
}

int64_t store_dict_bytes(es_store *s) {
    sqlite3_stmt *st;
    int64_t n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(length(data)), 0) FROM mask_dictionaries",
                           -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}
