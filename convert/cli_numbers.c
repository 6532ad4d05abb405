/* cli_numbers.c: strict parsing of numeric command-line values (see cli_numbers.h). */
#include "cli_numbers.h"
#include "entseg/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int es_convert_arg_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) goto bad;
    *out = v;
    return 1;
bad:
    fprintf(stderr, "entseg-convert %s: %s: '%s' is not a non-negative integer\n", cmd, opt, s ? s : "");
    return 0;
}

int es_convert_arg_u32(const char *cmd, const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out) {
    uint64_t v;
    if (!es_convert_arg_u64(cmd, opt, s, &v)) return 0;
    if (v < lo || v > hi) {
        fprintf(stderr, "entseg-convert %s: %s: %s is out of range [%u, %u]\n", cmd, opt, s, lo, hi);
        return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

int es_convert_arg_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out) {
    int64_t v;
    if (es_cli_parse_int(s, lo, hi, &v)) {
        *out = (int)v;
        return 1;
    }
    fprintf(stderr, "entseg-convert %s: %s: '%s' is not an integer in [%d, %d]\n", cmd, opt, s ? s : "", lo, hi);
    return 0;
}

int es_convert_arg_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || errno || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "entseg-convert %s: %s: '%s' is not a number in [%g, %g]\n", cmd, opt, s ? s : "", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_wh(const char *s, const char *stop, uint32_t *w, uint32_t *h) {
    unsigned long a, b;
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return 0;
    a = strtoul(s, &end, 10);
    if (errno || *end != 'x' || end[1] < '0' || end[1] > '9') return 0;
    b = strtoul(end + 1, &end, 10);
    if (errno || end != stop || a < 1 || b < 1 || a > 100000 || b > 100000) return 0;
    *w = (uint32_t)a;
    *h = (uint32_t)b;
    return 1;
}

int es_convert_arg_size_range(const char *cmd, const char *opt, const char *s, uint32_t *w0, uint32_t *h0,
                      uint32_t *w1, uint32_t *h1) {
    const char *dash = s ? strchr(s, '-') : NULL;
    int ok;
    if (!s) ok = 0;
    else if (!dash) ok = parse_wh(s, s + strlen(s), w0, h0), *w1 = *w0, *h1 = *h0;
    else ok = parse_wh(s, dash, w0, h0) && parse_wh(dash + 1, dash + 1 + strlen(dash + 1), w1, h1);
    if (ok && (*w1 < *w0 || *h1 < *h0)) ok = 0;
    if (!ok)
        fprintf(stderr, "entseg-convert %s: %s: '%s' is not a size WxH or a range WxH-WxH (sides 1..100000, "
                        "smallest first)\n", cmd, opt, s ? s : "");
    return ok;
}
