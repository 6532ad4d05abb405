/* entseg/progress.h: a progress bar on stderr for work longer than a second.
 *
 * Drawn only when stderr is a terminal and quiet is 0, at most a few times a second, and
 * only once the work has run for a second. es_progress_add is thread-safe. The library
 * never prints otherwise: this is the one exception, and CLIs decide whether to use it.
 * Ownership: start/finish pair; finish frees (accepts NULL).
 */
#ifndef ENTSEG_PROGRESS_H
#define ENTSEG_PROGRESS_H

#include <stdint.h>

typedef struct es_progress es_progress;

es_progress *es_progress_start(const char *label, uint64_t total, int quiet);
void es_progress_add(es_progress *p, uint64_t n);
void es_progress_finish(es_progress *p);

#endif
