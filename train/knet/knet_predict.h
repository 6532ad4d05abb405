/* knet_predict.h: K-Net inference into a prediction store, and validation AP^e. */
#ifndef ENTSEG_KNET_PREDICT_H
#define ENTSEG_KNET_PREDICT_H

#include <stddef.h>

#include "knet/knet.h"

/* Runs the model on every image of images_db (max_images 0 = all) and writes the top-k
 * masks of the last stage (score = objectness x mean mask probability inside the mask)
 * at each image's original size into a new prediction store pred_db (replaced).
 * Each image is resized keeping its aspect ratio (short side cfg.test_scale, long side
 * at most cfg.max_size), batches are padded to multiples of cfg.pad_divisor; the mask
 * probabilities are upsampled to the padded input, cropped to the image and resized to
 * its original size (bilinear, K-Net's rescale_masks), then thresholded at cfg.mask_thr.
 * Images are decoded on cfg.loader_threads threads. */
int knet_predict_store(knet_model *m, nn_ctx *ctx, const char *images_db, const char *pred_db,
                       size_t max_images, int *n_images, es_error *err);

/* Predicts val_db into pred_db and scores it with the evaluator library: ap[0] = AP^e,
 * ap[1] = AP^e50. */
int knet_validate(knet_model *m, nn_ctx *ctx, const char *val_db, const char *pred_db,
                  int threads, double ap[2], es_error *err);

#endif
