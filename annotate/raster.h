/* annotate/raster.h: a tiny rasteriser on 8-bit RGB es_pixels, for histograms and
 * rendered entities: clipped rectangles, lines, alpha blending and a 5x7 bitmap font
 * (digits, letters shown upper-case, common punctuation; other characters as a box).
 * All coordinates may lie outside the canvas: drawing is clipped, never out of bounds. */
#ifndef ENTSEG_ANNOTATE_RASTER_H
#define ENTSEG_ANNOTATE_RASTER_H

#include <stdint.h>

#include "entseg/image.h"

typedef struct es_rgb {
    uint8_t r, g, b;
} es_rgb;

/* canvas: 3 channels, depth 1. */
void es_draw_pixel(es_pixels *canvas, int x, int y, es_rgb c);
/* Mixes c into the pixel with weight alpha in [0, 1]. */
void es_draw_blend(es_pixels *canvas, int x, int y, es_rgb c, double alpha);
/* Filled rectangle [x0, x1) x [y0, y1). */
void es_draw_rect(es_pixels *canvas, int x0, int y0, int x1, int y1, es_rgb c);
void es_draw_line(es_pixels *canvas, int x0, int y0, int x1, int y1, es_rgb c);
/* Text with its top-left at (x, y); each font pixel drawn as scale x scale. Returns the
 * x after the last character. */
int es_draw_text(es_pixels *canvas, int x, int y, const char *text, int scale, es_rgb c);
/* Width in pixels of text at scale. */
int es_text_width(const char *text, int scale);
/* A distinct, saturated colour for index i (golden-ratio hue steps). */
es_rgb es_palette(uint64_t i);

#endif
