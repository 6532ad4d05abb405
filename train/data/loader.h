/* loader.h: training data from an entity store.
 *
 * Every image is read once (PNG/JPEG/TIFF through es_image_read, decoded in parallel on
 * loader threads), resized to S x S (bilinear, ImageNet mean/std normalisation) and its
 * non-crowd entity masks are reduced to the mask grid (S/4 x S/4, a cell is 1 when at least
 * half of it is covered; entities that vanish are dropped). Batches are drawn from this
 * cache in shuffled epochs with random horizontal flips, so a step never waits on I/O.
 * The cache is what keeps small stores fast; see docs/knet.md for the limits. */
#ifndef ENTSEG_TRAIN_LOADER_H
#define ENTSEG_TRAIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "knet/knet.h"

typedef struct knet_sample {
    float *image;    /* 3 * S * S */
    int n_gt;
    float *masks;    /* n_gt * hm * wm, 0/1 */
} knet_sample;

typedef struct knet_loader {
    int size, hm, wm;
    size_t n;
    knet_sample *samples;
    size_t *order, pos;
    uint64_t rng;
    float *mask_buf; /* batch targets live here */
} knet_loader;

/* Reads the store at store_path; max_images 0 = all. */
int knet_loader_open(knet_loader *l, const char *store_path, int size, int mask_stride,
                     int threads, size_t max_images, uint64_t seed, es_error *err);
void knet_loader_free(knet_loader *l);
/* Fills images (B x 3 x S x S, host) and tg (masks point into the loader). */
int knet_loader_next(knet_loader *l, int batch, float *images, knet_targets *tg, es_error *err);

/* Reads one image file and resizes it to size x size, normalised (3 x size x size). */
int knet_read_image(const char *path, int size, float *out, es_error *err);
/* dirname(store_path)/rel, or rel when absolute. */
void knet_image_path(const char *store_path, const char *rel, char *out, size_t size);

#endif
