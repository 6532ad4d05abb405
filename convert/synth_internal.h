/* synth_internal.h: what the synthetic-data files share: the random stream, IEEE-exact
 * trigonometry, integer hashing and the per-id texture parameters.
 *
 * Determinism across machines: only integer arithmetic, + - * / and sqrt (correctly
 * rounded in IEEE 754) are used for anything that decides a pixel; sin/cos are our own
 * polynomials, not libm's (whose last bits differ between libcs). FMA contraction would
 * change results on CPUs that have it, so it is switched off for these files.
 */
#ifndef ENTSEG_SYNTH_INTERNAL_H
#define ENTSEG_SYNTH_INTERNAL_H

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <stdint.h>

#include "synth.h"

/* ---- xoshiro256** seeded with splitmix64 (Blackman & Vigna) ---- */
typedef struct es_rng {
    uint64_t s[4];
} es_rng;

static inline uint64_t es_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* An independent stream per (seed, stream): images draw from stream = their index. */
static inline void es_rng_seed(es_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0xd1b54a32d192ed03ull * (stream + 1));
    for (int i = 0; i < 4; i++) r->s[i] = es_splitmix64(&x);
}

static inline uint64_t es_rng_next(es_rng *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double es_rng_uniform(es_rng *r) { return (double)(es_rng_next(r) >> 11) * 0x1.0p-53; }
/* Uniform in [lo, hi). */
static inline double es_rng_range(es_rng *r, double lo, double hi) { return lo + (hi - lo) * es_rng_uniform(r); }
/* Uniform integer in [0, n) (n > 0; multiply-shift, bias < 2^-32). */
static inline uint32_t es_rng_below(es_rng *r, uint32_t n) {
    return (uint32_t)(((es_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}
static inline int es_rng_chance(es_rng *r, double p) { return es_rng_uniform(r) < p; }

/* ---- trigonometry from + - * only ---- */
#define ES_PI 3.14159265358979323846
double es_synth_sin(double x);
static inline double es_synth_cos(double x) { return es_synth_sin(x + ES_PI / 2); }

/* ---- integer hash of a pixel (textures, noise) ---- */
static inline uint32_t es_hash3(uint32_t a, uint32_t b, uint32_t c) {
    uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) * 0x85ebca77u ^ c * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

/* ---- textures: one per id, drawn by synth_render.c ---- */
enum { TEX_FLAT = 0, TEX_STRIPES, TEX_CHECKS, TEX_GRADIENT, TEX_DOTS, TEX_COUNT };

typedef struct es_synth_texture {
    uint8_t c0[3], c1[3]; /* the two colours */
    uint8_t type;         /* TEX_* */
    uint8_t noise;        /* per-pixel noise amplitude */
    int32_t dx, dy;       /* direction * 256 for stripes and gradients */
    uint32_t period;      /* pixels */
    uint32_t salt;        /* hash salt */
} es_synth_texture;

/* Draws a texture for an entity of kind (sizes scale the period). */
void es_synth_texture_draw(es_rng *r, int kind, double size, es_synth_texture *t);
/* Renders rgb (h, w, 3) from labels with textures[id] (id 0 = void clutter). */
void es_synth_render(const uint32_t *labels, uint32_t w, uint32_t h, const es_synth_texture *tex,
                     uint32_t salt, uint8_t *rgb);

#endif
