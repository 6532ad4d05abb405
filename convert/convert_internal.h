/* convert_internal.h: what the converters share (not public: entseg-eval uses convert.h).
 *
 * - small helpers: paths, growable arrays, an int64 -> index hash;
 * - the COCO pieces every COCO-like format has (images, categories);
 * - es_pipeline: per-image work on the es_pool with store writes in image order.
 */
#ifndef ENTSEG_CONVERT_INTERNAL_H
#define ENTSEG_CONVERT_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "entseg/error.h"
#include "entseg/progress.h"
#include "entseg/store.h"

/* ---- paths and strings ---- */
char *es_strdup_or_null(const char *s);
/* dir + "/" + name (malloc'ed; NULL on out of memory). */
char *es_path_join(const char *dir, const char *name);
/* The file name without directory and last extension: "a/b/000001.jpg" -> "000001". */
char *es_path_stem(const char *path);
/* Replaces the last extension of a file name: ("x.jpg", ".png") -> "x.png". */
char *es_path_with_ext(const char *path, const char *ext);
int es_file_exists(const char *path);
int es_mkdir_p(const char *dir, es_error *err);
/* Sorted names of the directory's entries ending in suffix (NULL: all), "." entries skipped;
 * dirs_only keeps only subdirectories. */
int es_list_dir(const char *dir, const char *suffix, int dirs_only, char ***names, size_t *n, es_error *err);
void es_free_names(char **names, size_t n);

/* ---- int64 -> size_t hash (open addressing) ---- */
typedef struct es_idmap {
    size_t cap, n;
    int64_t *keys;
    size_t *vals;
    unsigned char *used;
} es_idmap;
/* Returns ES_OK, or ES_ERR_INVALID (with *old set) when key already exists. */
int es_idmap_put(es_idmap *m, int64_t key, size_t val, size_t *old, es_error *err);
/* 1 and *val when found. */
int es_idmap_get(const es_idmap *m, int64_t key, size_t *val);
void es_idmap_free(es_idmap *m);

/* ---- growable array of fixed-size items ---- */
int es_grow(void **items, size_t *cap, size_t need, size_t item_size, es_error *err);

/* ---- items grouped by image ---- */
/* Stable counting sort of n items (stride bytes apart) by the size_t image index at
 * key_offset in each (< ngroups): group g's items are order[first[g]] .. order[first[g+1]-1],
 * in input order. *first (ngroups + 1) and *order (n) are set even on failure (caller frees). */
int es_group_by_image(const void *items, size_t n, size_t stride, size_t key_offset, size_t ngroups,
                      size_t **first, size_t **order, es_error *err);

/* ---- COCO images and categories ---- */
typedef struct es_coco_image {
    int64_t id;            /* the COCO id, or a hash key when the id is a string */
    char *id_str;          /* the id when it is a string (ADE20K, Cityscapes), else NULL */
    char *file_name;
    uint32_t width, height;
    char *source, *split;  /* EntitySeg / custom fields; may be NULL */
} es_coco_image;

typedef struct es_coco_images {
    es_coco_image *items;
    size_t n, cap;
    es_idmap by_id;
} es_coco_images;

/* An image id member (number, or string as ADE20K / Cityscapes panoptic JSONs write them)
 * as a hash key; *str gets the string form or NULL. Returns 1 when present and valid. */
int es_coco_image_key(const cJSON *obj, const char *member, int64_t *key, const char **str);

/* Parses one "images" element (id, file_name, width, height) and appends it. index is its
 * position (for messages). Duplicate ids are an error. */
int es_coco_images_add(es_coco_images *imgs, const char *json_path, long index, const cJSON *item,
                       es_error *err);
void es_coco_images_free(es_coco_images *imgs);

typedef struct es_coco_categories {
    es_category *items;
    size_t n, cap;
} es_coco_categories;
int es_coco_categories_add(es_coco_categories *cats, const char *json_path, long index,
                           const cJSON *item, es_error *err);
/* isthing of a category id: 1, 0, or -1 when unknown. */
int es_coco_category_isthing(const es_coco_categories *cats, int64_t id);
int es_coco_categories_store(const es_coco_categories *cats, es_store *s, es_error *err);
void es_coco_categories_free(es_coco_categories *cats);

/* ---- the conversion report ---- */
int es_report_add_skipped(es_convert_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int es_report_add_warning(es_convert_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the report's counts into the store meta "convert_report" (JSON). */
int es_report_to_meta(const es_convert_report *r, es_store *s, es_error *err);

/* Creates the output store with kind and options; records creator and options text. */
int es_convert_create_store(const char *out_db, es_store_kind kind, int overlapping,
                            const char *creator, const char *options_text,
                            const es_convert_common *c, es_store **out, es_error *err);
/* Finishes (moves into place) the store; on failure closes it (nothing left behind). */
int es_convert_finish_store(es_store *s, const es_convert_report *r, es_error *err);

/* ---- the per-image pipeline ----
 * work(ctx, i, thread, &result, err) runs on pool threads in any order; write(ctx, i,
 * result, err) runs one at a time in index order (the store is touched only there), and
 * must free result. On a failure of image i (work or write): with lenient, the image is
 * skipped (listed in the report as "label: message", its partial store rows rolled back);
 * otherwise the first failure in image order stops the run and is returned. At most a few
 * images per thread are in flight. drop frees a result that will not be written. */
typedef struct es_pipeline_ops {
    int (*work)(void *ctx, size_t i, int thread, void **result, es_error *err);
    int (*write)(void *ctx, size_t i, void *result, es_error *err);
    void (*drop)(void *ctx, void *result);
    const char *(*label)(void *ctx, size_t i); /* image name for the skipped list */
} es_pipeline_ops;

int es_pipeline_run(size_t n, const es_pipeline_ops *ops, void *ctx, es_store *store,
                    const es_convert_common *c, const char *progress_label, es_error *err);

/* Scratch memory per pool thread, reused from image to image (a fresh multi-megabyte
 * buffer per image costs its page faults again every time). */
typedef struct es_thread_buffers {
    size_t n;
    void **buf;   /* (n) */
    size_t *cap;  /* (n) bytes */
} es_thread_buffers;
int es_thread_buffers_init(es_thread_buffers *b, const es_convert_common *c, es_error *err);
/* The buffer of thread t, at least bytes long (NULL when out of memory). */
void *es_thread_buffer(es_thread_buffers *b, int t, size_t bytes);
void es_thread_buffers_free(es_thread_buffers *b);

/* Number of threads to use from the common options. */
int es_convert_threads(const es_convert_common *c);

#endif
