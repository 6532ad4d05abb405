/* synth_render.c: colours and textures of a synthetic image, from its label map.
 *
 * Each id has two colours and a texture (flat, stripes, checks, gradient, dots) plus
 * per-pixel noise, so a model can tell neighbouring entities apart by appearance, as in
 * real photos; void pixels get a grey clutter. All integer arithmetic: the same bytes on
 * every machine.
 */
#include <stdint.h>
#include <stdlib.h>

#include "synth_internal.h"

/* sin(x) by reduction to [-pi, pi] and an odd Taylor polynomial to x^17 (error < 1e-8 on
 * the reduced range): only + - * and floor, which IEEE 754 defines exactly. */
double es_synth_sin(double x) {
    const double two_pi = 2 * ES_PI;
    double k = (double)(int64_t)(x / two_pi + (x >= 0 ? 0.5 : -0.5));
    double r = x - k * two_pi, r2 = r * r;
    double p = 1.0 / 355687428096000.0;                 /* 1/17! */
    p = p * r2 - 1.0 / 1307674368000.0;                 /* 1/15! */
    p = p * r2 + 1.0 / 6227020800.0;                    /* 1/13! */
    p = p * r2 - 1.0 / 39916800.0;                      /* 1/11! */
    p = p * r2 + 1.0 / 362880.0;
    p = p * r2 - 1.0 / 5040.0;
    p = p * r2 + 1.0 / 120.0;
    p = p * r2 - 1.0 / 6.0;
    p = p * r2 + 1.0;
    return r * p;
}

static void random_colour(es_rng *r, uint8_t c[3]) {
    /* Saturated-ish colours: one channel high, one low, one anywhere. */
    uint32_t hi = es_rng_below(r, 3), lo = (hi + 1 + es_rng_below(r, 2)) % 3;
    for (int i = 0; i < 3; i++) c[i] = (uint8_t)es_rng_below(r, 256);
    c[hi] = (uint8_t)(150 + es_rng_below(r, 106));
    c[lo] = (uint8_t)es_rng_below(r, 110);
}

void es_synth_texture_draw(es_rng *r, int kind, double size, es_synth_texture *t) {
    random_colour(r, t->c0);
    /* the second colour: a shifted version of the first, sometimes a different hue */
    if (es_rng_chance(r, 0.5)) {
        random_colour(r, t->c1);
    } else {
        for (int i = 0; i < 3; i++) {
            int v = t->c0[i] + (int)es_rng_below(r, 121) - 60;
            t->c1[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    t->type = (uint8_t)es_rng_below(r, TEX_COUNT);
    if (kind == ES_SYNTH_KIND_LINE || kind == ES_SYNTH_KIND_CURVE || kind == ES_SYNTH_KIND_TINY)
        t->type = TEX_FLAT; /* too thin to show a pattern */
    if (kind == ES_SYNTH_KIND_CROWD) t->type = TEX_DOTS;
    t->noise = (uint8_t)(4 + es_rng_below(r, 20));
    double angle = es_rng_range(r, 0, ES_PI);
    t->dx = (int32_t)(256 * es_synth_cos(angle));
    t->dy = (int32_t)(256 * es_synth_sin(angle));
    uint32_t max_period = 3 + (uint32_t)(size / 6);
    if (max_period > 64) max_period = 64;
    t->period = 2 + es_rng_below(r, max_period);
    t->salt = (uint32_t)es_rng_next(r);
}

static uint8_t clamp_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static void texel(const es_synth_texture *t, uint32_t x, uint32_t y, uint8_t out[3]) {
    /* coordinates along the texture direction, in pixels * 256 (int64: 15,000 px images) */
    int64_t along = (int64_t)x * t->dx + (int64_t)y * t->dy;
    int64_t period = t->period;
    int mix = 0; /* 0..256: amount of c1 */
    switch (t->type) {
    case TEX_STRIPES: {
        int64_t q = (along / 256) / period;
        mix = ((q % 2) + 2) % 2 ? 256 : 0;
        break;
    }
    case TEX_CHECKS: mix = ((x / period + y / period) & 1) ? 256 : 0; break;
    case TEX_GRADIENT: {
        int64_t span = period * 16, v = ((along / 256) % (2 * span) + 2 * span) % (2 * span);
        mix = (int)((v < span ? v : 2 * span - v) * 256 / span);
        break;
    }
    case TEX_DOTS: {
        uint32_t cx = x / period, cy = y / period;
        uint32_t h = es_hash3(cx, cy, t->salt);
        mix = (h & 3) == 0 ? 256 : 0;
        if ((h >> 8 & 7) == 0) mix = 128;
        break;
    }
    default: break;
    }
    uint32_t n = es_hash3(x, y, t->salt ^ 0x5bd1e995u);
    int noise = (int)(n % (2u * t->noise + 1)) - t->noise;
    for (int c = 0; c < 3; c++)
        out[c] = clamp_u8((t->c0[c] * (256 - mix) + t->c1[c] * mix) / 256 + noise);
}

static void void_clutter(uint32_t x, uint32_t y, uint32_t salt, uint8_t out[3]) {
    uint32_t cell = es_hash3(x >> 2, y >> 2, salt);
    int base = 80 + (int)(cell % 96), n = (int)(es_hash3(x, y, salt) % 17) - 8;
    out[0] = clamp_u8(base + n);
    out[1] = clamp_u8(base + n + (int)((cell >> 8) % 9) - 4);
    out[2] = clamp_u8(base + n + (int)((cell >> 16) % 9) - 4);
}

void es_synth_render(const uint32_t *labels, uint32_t w, uint32_t h, const es_synth_texture *tex,
                     uint32_t salt, uint8_t *rgb) {
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            uint32_t id = labels[i];
            if (id == 0) void_clutter(x, y, salt, rgb + 3 * i);
            else texel(&tex[id], x, y, rgb + 3 * i);
        }
}
