/* stats.c: the process-wide counters (CTX-01, benchmarks) and the allocation
 * wrappers that feed heap_allocations: every allocation the implementation
 * makes goes through here. */
#include "apmsock-int.h"

#include <stdlib.h>

static _Atomic uint64_t n_allocs, n_hits, n_misses, n_started, n_completed;

void *apmsock__calloc(size_t n, size_t size) {
  atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
  void *p = calloc(n, size);
  /* Out of memory is fatal: the contract has no error for it, and a
   * half-built operation would break "every operation completes once". */
  if (p == NULL) abort();  // GCOVR_EXCL_BR_LINE: no test runs out of memory
  return p;
}

void *apmsock__malloc(size_t n) {
  return apmsock__calloc(1, n);
}

void apmsock__count_started(void) {
  atomic_fetch_add_explicit(&n_started, 1, memory_order_relaxed);
}

void apmsock__count_completed(void) {
  atomic_fetch_add_explicit(&n_completed, 1, memory_order_relaxed);
}

void apmsock__count_context(bool hit) {
  atomic_fetch_add_explicit(hit ? &n_hits : &n_misses, 1, memory_order_relaxed);
}

void apmsock__stats_reset(void) {
  atomic_store(&n_allocs, 0);
  atomic_store(&n_hits, 0);
  atomic_store(&n_misses, 0);
  atomic_store(&n_started, 0);
  atomic_store(&n_completed, 0);
}

void apmsock_get_stats(apmsock_stats_t *out) {
  out->heap_allocations = atomic_load_explicit(&n_allocs, memory_order_relaxed);
  out->context_cache_hits = atomic_load_explicit(&n_hits, memory_order_relaxed);
  out->context_cache_misses = atomic_load_explicit(&n_misses, memory_order_relaxed);
  out->operations_started = atomic_load_explicit(&n_started, memory_order_relaxed);
  out->operations_completed = atomic_load_explicit(&n_completed, memory_order_relaxed);
}

const char *apmsock_implementation_name(void) { return "apmsock-reference"; }
const char *apmsock_implementation_version(void) { return "1.0.0"; }
const char *apmsock_implementation_contract(void) { return APMSOCK_CONTRACT_VERSION; }
