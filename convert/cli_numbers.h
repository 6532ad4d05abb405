/* cli_numbers.h: entseg-convert's strict parsing of numeric command-line values (the whole string must be a
 * number in range). On failure each prints one line "entseg-convert CMD: OPT: why" to
 * stderr and returns 0; on success returns 1. */
#ifndef ENTSEG_CLI_NUMBERS_H
#define ENTSEG_CLI_NUMBERS_H

#include <stdint.h>

int es_convert_arg_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int es_convert_arg_u32(const char *cmd, const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
int es_convert_arg_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out);
int es_convert_arg_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
/* "WxH" or "WxH-WxH" (a range of sizes); sides 1..100000. */
int es_convert_arg_size_range(const char *cmd, const char *opt, const char *s, uint32_t *w0, uint32_t *h0,
                      uint32_t *w1, uint32_t *h1);

#endif
