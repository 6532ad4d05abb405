/* raster.c: drawing primitives on RGB canvases (see raster.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "raster.h"

void es_draw_pixel(es_pixels *p, int x, int y, es_rgb c) {
    if (x < 0 || y < 0 || (uint32_t)x >= p->width || (uint32_t)y >= p->height) return;
    uint8_t *q = (uint8_t *)p->data + ((size_t)y * p->width + (size_t)x) * 3;
    q[0] = c.r, q[1] = c.g, q[2] = c.b;
}

void es_draw_blend(es_pixels *p, int x, int y, es_rgb c, double a) {
    if (x < 0 || y < 0 || (uint32_t)x >= p->width || (uint32_t)y >= p->height) return;
    uint8_t *q = (uint8_t *)p->data + ((size_t)y * p->width + (size_t)x) * 3;
    q[0] = (uint8_t)lround(q[0] * (1 - a) + c.r * a);
    q[1] = (uint8_t)lround(q[1] * (1 - a) + c.g * a);
    q[2] = (uint8_t)lround(q[2] * (1 - a) + c.b * a);
}

void es_draw_rect(es_pixels *p, int x0, int y0, int x1, int y1, es_rgb c) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > (int)p->width) x1 = (int)p->width;
    if (y1 > (int)p->height) y1 = (int)p->height;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) es_draw_pixel(p, x, y, c);
}

void es_draw_line(es_pixels *p, int x0, int y0, int x1, int y1, es_rgb c) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (int guard = 0; guard < 100000; guard++) { /* Bresenham */
        es_draw_pixel(p, x0, y0, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

/* 5x7 glyphs: 7 rows, bit 4 = leftmost column. */
typedef struct glyph {
    char ch;
    uint8_t rows[7];
} glyph;

static const glyph FONT[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
    {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
    {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
    {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
    {'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
    {'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}},
    {'E', {31, 16, 16, 30, 16, 16, 31}}, {'F', {31, 16, 16, 30, 16, 16, 16}},
    {'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
    {'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},
    {'K', {17, 18, 20, 24, 20, 18, 17}}, {'L', {16, 16, 16, 16, 16, 16, 31}},
    {'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
    {'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}},
    {'Q', {14, 17, 17, 17, 21, 18, 13}}, {'R', {30, 17, 17, 30, 20, 18, 17}},
    {'S', {15, 16, 16, 14, 1, 1, 30}},   {'T', {31, 4, 4, 4, 4, 4, 4}},
    {'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}},
    {'W', {17, 17, 17, 21, 21, 21, 10}}, {'X', {17, 17, 10, 4, 10, 17, 17}},
    {'Y', {17, 17, 10, 4, 4, 4, 4}},     {'Z', {31, 1, 2, 4, 8, 16, 31}},
    {' ', {0, 0, 0, 0, 0, 0, 0}},        {'.', {0, 0, 0, 0, 0, 12, 12}},
    {',', {0, 0, 0, 0, 12, 4, 8}},       {'-', {0, 0, 0, 31, 0, 0, 0}},
    {'_', {0, 0, 0, 0, 0, 0, 31}},       {':', {0, 12, 12, 0, 12, 12, 0}},
    {'/', {1, 1, 2, 4, 8, 16, 16}},      {'(', {2, 4, 8, 8, 8, 4, 2}},
    {')', {8, 4, 2, 2, 2, 4, 8}},        {'%', {24, 25, 2, 4, 8, 19, 3}},
    {'=', {0, 0, 31, 0, 31, 0, 0}},      {'+', {0, 4, 4, 31, 4, 4, 0}},
    {'<', {2, 4, 8, 16, 8, 4, 2}},       {'>', {8, 4, 2, 1, 2, 4, 8}},
    {'#', {10, 10, 31, 10, 31, 10, 10}}, {'^', {4, 10, 17, 0, 0, 0, 0}},
};
static const uint8_t UNKNOWN_GLYPH[7] = {31, 17, 17, 17, 17, 17, 31};

static const uint8_t *glyph_rows(char ch) {
    char up = (char)toupper((unsigned char)ch);
    for (size_t i = 0; i < sizeof FONT / sizeof FONT[0]; i++)
        if (FONT[i].ch == up) return FONT[i].rows;
    return UNKNOWN_GLYPH;
}

int es_text_width(const char *text, int scale) { return (int)strlen(text) * 6 * scale; }

int es_draw_text(es_pixels *p, int x, int y, const char *text, int scale, es_rgb c) {
    for (const char *t = text; *t; t++) {
        const uint8_t *rows = glyph_rows(*t);
        for (int r = 0; r < 7; r++)
            for (int col = 0; col < 5; col++)
                if (rows[r] & (16 >> col))
                    es_draw_rect(p, x + col * scale, y + r * scale, x + (col + 1) * scale,
                                 y + (r + 1) * scale, c);
        x += 6 * scale;
    }
    return x;
}

es_rgb es_palette(uint64_t i) {
    double h = fmod(0.11 + (double)i * 0.6180339887498949, 1.0) * 6.0, s = 0.75, v = 0.95;
    int k = (int)h;
    double f = h - k, pv = v * (1 - s), qv = v * (1 - s * f), tv = v * (1 - s * (1 - f));
    double r, g, b;
    switch (k % 6) {
    case 0: r = v, g = tv, b = pv; break;
    case 1: r = qv, g = v, b = pv; break;
    case 2: r = pv, g = v, b = tv; break;
    case 3: r = pv, g = qv, b = v; break;
    case 4: r = tv, g = pv, b = v; break;
    default: r = v, g = pv, b = qv; break;
    }
    return (es_rgb){(uint8_t)lround(r * 255), (uint8_t)lround(g * 255), (uint8_t)lround(b * 255)};
}
