/* alloc-count.c: counts heap allocations of the whole process (CTX-01).
 *
 * The test binary defines malloc and friends, so every allocation of the
 * implementation under test, whether linked statically or as a shared
 * library, comes through here and is counted while armed; the work is done
 * by glibc's own allocator.  Sanitizer runtimes own malloc themselves, so in
 * those builds nothing is interposed and CTX-01 relies on the counters of the
 * implementation alone (cf_alloc_available() says which).
 */
#include "tests.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>


static atomic_int armed;
static atomic_uint_fast64_t count;

void cf_alloc_arm(int on) { atomic_store(&armed, on); }
uint64_t cf_alloc_count(void) { return atomic_load(&count); }

#ifdef CF_NO_INTERPOSE
int cf_alloc_available(void) { return 0; }
#else
int cf_alloc_available(void) { return 1; }

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static inline void note(void) {
  if (atomic_load_explicit(&armed, memory_order_relaxed))
    atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

void *malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
  note();
  return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) {
  note();
  return __libc_memalign(al, n);
}
void *aligned_alloc(size_t al, size_t n) {
  note();
  return __libc_memalign(al, n);
}
int posix_memalign(void **out, size_t al, size_t n) {
  note();
  void *p = __libc_memalign(al, n);
  if (p == NULL) return 12; /* ENOMEM */
  *out = p;
  return 0;
}
#endif
