/* loader.h: K-Net training batches from an entity store, prepared on loader threads.
 *
 * Per image (mmdet's Resize(keep_ratio) -> RandomFlip -> Normalize -> Pad, the chain of
 * K-Net's configs; the steps are in data/transforms.h):
 *  - the file (PNG/JPEG/TIFF, es_image_read) is resized bilinearly so that its short side
 *    is s, drawn from cfg.scales, and its long side at most cfg.max_size
 *    (scale = min(s / short, max_size / long));
 *  - mirrored left-right with probability cfg.flip; ImageNet mean/std;
 *  - padded right and bottom with 0 to the batch's H x W: the largest resized height and
 *    width in the batch, each rounded up to a multiple of cfg.pad_divisor;
 *  - its non-crowd entities go onto the stride-4 grid of the padded batch (H/4 x W/4): a
 *    cell is 1 when at least half of the original pixels under it are covered, padding
 *    cells are 0; entities with no cell set are dropped; at most KNET_MAX_GT per image,
 *    the first in store order.
 *
 * Threads: cfg.loader_threads workers (each with its own store handle) prepare the images
 * of the next batches while the caller trains; a bounded ring of KNET_LOADER_SLOTS
 * batches (one held by the caller, the others filling or ready) bounds memory. With 0
 * threads the caller's thread prepares each batch when asked. The caller's thread also
 * helps with its batch when it has to wait for it.
 *
 * Determinism: the sample order (shuffled epochs), each image's scale and flip are drawn
 * from cfg.seed on the caller's thread when a batch is planned; the workers only compute.
 * The batches are therefore the same, bit for bit, for any number of threads, and the
 * same with and without the cache.
 *
 * Cache: when cfg.scales has a single value and the resized images of the whole store
 * fit in cfg.cache_mb MB, every image is decoded and resized once at open (in parallel)
 * and kept at its resized size (native aspect ratio) with its entity masks as RLE; flip,
 * the grid and padding are still applied per batch. The budget counts the image floats
 * only: the RLEs come on top (knet_loader_cache_bytes reports both). Otherwise nothing
 * per image is kept beyond the store's image list: memory is KNET_LOADER_SLOTS batches
 * plus, per job in flight (up to loader_threads + 1), one decoded full-size image (675 MB
 * for a 15000 x 15000 RGB picture).
 *
 * Ownership: knet_loader_open creates the loader, knet_loader_free releases it (NULL-safe)
 * and joins its threads. The batch knet_loader_next returns belongs to the loader and is
 * valid until the next call of knet_loader_next or knet_loader_free.
 */
#ifndef ENTSEG_TRAIN_LOADER_H
#define ENTSEG_TRAIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "knet/knet.h"

#define KNET_LOADER_SLOTS 3

typedef struct knet_loader knet_loader;

typedef struct knet_batch {
    int batch;               /* B = cfg.batch */
    int h, w;                /* multiples of cfg.pad_divisor */
    const float *images;     /* (B, 3, h, w), host, 0 in the padding */
    knet_targets tg;         /* batch B, hm = h/4, wm = w/4; masks point into the loader */
    int64_t image_id[KNET_MAX_BATCH];                   /* (B) store ids of the images */
    int size_h[KNET_MAX_BATCH], size_w[KNET_MAX_BATCH]; /* (B) resized size inside the padding */
    int flipped[KNET_MAX_BATCH];                        /* (B) 1 when mirrored */
} knet_batch;

/* Opens the store at store_path (max_images 0 = all, otherwise its first max_images
 * images by id) with the data keys of cfg (scales, max_size, pad_divisor, flip, cache_mb,
 * batch, loader_threads, seed) and starts preparing batches. Errors: the store cannot be
 * read, it has no images, an image has no path, out of memory; with the cache, any
 * image that cannot be read (the message names the file). */
int knet_loader_open(knet_loader **out, const char *store_path, const knet_config *cfg,
                     size_t max_images, es_error *err);
void knet_loader_free(knet_loader *l);
/* The next batch. An image that cannot be read or does not match its store record fails
 * the batch with one message naming the file; the loader then keeps returning that
 * error. */
int knet_loader_next(knet_loader *l, const knet_batch **out, es_error *err);
/* Number of images it draws from. */
size_t knet_loader_images(const knet_loader *l);
/* Bytes held by the cache, 0 when streaming. */
size_t knet_loader_cache_bytes(const knet_loader *l);

/* dirname(store_path)/rel, or rel when absolute. */
void knet_image_path(const char *store_path, const char *rel, char *out, size_t size);

#endif
