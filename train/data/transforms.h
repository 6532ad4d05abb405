/* transforms.h: the per-image steps of K-Net's data pipeline, shared by training
 * (data/loader.c) and inference (knet/knet_predict.c).
 *
 * They follow mmdet's Resize(keep_ratio=True) -> RandomFlip -> Normalize -> Pad chain:
 *  - size: mmcv rescale_size: scale = min(short_side / min(w, h), max_size / max(w, h)),
 *    new side = floor(side * scale + 0.5) (knet_resize_shape);
 *  - pixels: bilinear with half-pixel centres and clamped borders (cv2 INTER_LINEAR,
 *    F.interpolate align_corners=False, no antialiasing), ImageNet mean/std, optional
 *    horizontal flip of the resized image, zero padding right and bottom
 *    (knet_image_load);
 *  - masks: onto the stride-4 grid of the padded image (knet_mask_to_grid), and predicted
 *    grids back to the original size (knet_mask_rescale).
 *
 * Ownership: callers own every buffer; nothing here keeps state. All functions are
 * thread-safe (they touch only their arguments).
 */
#ifndef ENTSEG_TRAIN_TRANSFORMS_H
#define ENTSEG_TRAIN_TRANSFORMS_H

#include <stdint.h>

#include "entseg/error.h"
#include "entseg/image.h"
#include "entseg/rle.h"

/* Stride of the mask grid (K-Net's features and masks are at stride 4). */
#define KNET_MASK_STRIDE 4

/* The resized size of a w x h image for one short side and a long-side limit (both > 0):
 * mmcv rescale_size with scale (max_size, short_side); every side is at least 1. */
void knet_resize_shape(uint32_t w, uint32_t h, int short_side, int max_size, int *nw, int *nh);

/* x rounded up to a multiple of divisor (> 0). */
int knet_round_up(int x, int divisor);

/* The padded size of a batch of n resized images (nw, nh): the largest width and height,
 * each rounded up to a multiple of pad (mmdet Pad(size_divisor) on the collated batch). */
void knet_batch_size(const int *nw, const int *nh, int n, int pad, int *W, int *H);

/* Zeroes the padding of a (3, H, W) batch image whose resized picture fills the top-left
 * nw x nh: columns nw.. of its rows, and rows nh.. */
void knet_zero_padding(float *out, int nw, int nh, int H, int W);

/* Decoded pixels (depth 1 or 2; 1, 2 channels are gray, 3, 4 RGB(A), alpha ignored)
 * resized to nw x nh, normalised, mirrored left-right when flip, into out (3, H, W)
 * (H >= nh, W >= nw): the image fills rows [0, nh) and columns [0, nw), the rest is 0. */
int knet_pixels_resize(const es_pixels *px, int nw, int nh, int flip, float *out, int H, int W,
                       es_error *err);

/* Reads the image file at path and runs knet_pixels_resize on it. When expect_w and
 * expect_h are non-zero the file must have that size (the store's record of it): a
 * different size is ES_ERR_INVALID. Errors name the file. */
int knet_image_load(const char *path, uint32_t expect_w, uint32_t expect_h, int nw, int nh,
                    int flip, float *out, int H, int W, es_error *err);

/* A mask of its image's original size (m->h x m->w) onto the stride-4 grid (hm x wm) of
 * that image resized to nw x nh, mirrored when flip, and padded: grid cell (j, i) covers
 * resized pixels [4j, min(4j+4, nh)) x [4i, min(4i+4, nw)), i.e. original pixels
 * [floor(r0 * h / nh), floor(r1 * h / nh)) on each axis (at least one pixel), and is 1
 * when at least half of those original pixels are set; cells past the resized image are
 * 0. Reads the runs directly (no decoding to full size): O(runs + w + hm * wm) plus the
 * cells each run crosses. Returns the number of cells set; -1 when out of memory. */
long knet_mask_to_grid(const es_rle *m, int nw, int nh, int flip, float *out, int hm, int wm);

/* K-Net's rescale_masks for one mask: prob (hm x wm, probabilities on the stride-4 grid of
 * a padded input of 4hm x 4wm px holding the image resized to nw x nh) is upsampled
 * bilinearly to the padded input, cropped to [0, nh) x [0, nw) and resized bilinearly to
 * the original W x H (both align_corners=False), then out (H x W row-major) = value > thr.
 * The two resizes are applied as one separable map (at most 4 grid cells per axis).
 * ES_ERR_NOMEM only. */
int knet_mask_rescale(const float *prob, int hm, int wm, int nw, int nh, uint32_t W, uint32_t H,
                      float thr, uint8_t *out, es_error *err);

#endif
