/* alloc-count.h: a process-wide heap allocation counter for programs that
 * test or measure an implementation of apmsock.h (the C suite, the
 * benchmark).  Link alloc-count.c into the program itself: it interposes
 * malloc & co.  Any thread may call these; none blocks. */
#ifndef APMSOCK_ALLOC_COUNT_H
#define APMSOCK_ALLOC_COUNT_H

#include <stdint.h>

/* 1 when allocations are counted, 0 under a sanitizer (its runtime owns
 * malloc; nothing is interposed and the count stays 0). */
int cf_alloc_available(void);
/* Counts from now on (1) or stops counting (0). */
void cf_alloc_arm(int on);
/* Allocations counted so far while armed. */
uint64_t cf_alloc_count(void);

#endif /* APMSOCK_ALLOC_COUNT_H */
