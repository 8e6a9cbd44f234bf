/* Helpers shared by result.c and train.c, private to src/core. */
#ifndef GRADSWEEP_CORE_TRAIN_INT_H
#define GRADSWEEP_CORE_TRAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gradsweep/config.h"

/* calloc of count elements of size sz (at least one, so that empty arrays are still valid
 * pointers), or NULL on overflow / out of memory. */
void *gs_train_alloc(size_t count, size_t sz);

/* The evaluation period: train.eval_every, or record.every when it is 0. */
int64_t gs_train_eval_period(const gs_run_config *cfg, const gs_record *rec);

#endif
