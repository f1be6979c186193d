/* setup-fault.c: makes one set-up call of the implementation fail on demand
 * (ERR-02 setup_failures): pthread_create, and libuv's uv_loop_init and
 * uv_async_init for implementations built on libuv.
 *
 * Like alloc-count.c, the test binary defines these functions, so the
 * implementation's calls, statically or dynamically linked, come here; the
 * real function is found with dlsym(RTLD_NEXT).  An implementation that never
 * calls the armed function is simply not faulted (cf_setup_fault_fired() says
 * so, and the test has nothing to judge).  Sanitizer runtimes intercept
 * pthread_create themselves, so in those builds nothing is interposed.
 *
 * Armed and read by the test's thread only; the counters are atomic because
 * the implementation may create threads from its own.
 */
#define _GNU_SOURCE
#include "tests.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>

static atomic_int armed_what;
static atomic_int armed_nth;
static atomic_int calls;
static atomic_int fired;

void cf_setup_fault_arm(int what, int nth) {
  atomic_store(&calls, 0);
  atomic_store(&fired, 0);
  atomic_store(&armed_nth, nth);
  atomic_store(&armed_what, what);
}

int cf_setup_fault_fired(void) { return atomic_load(&fired); }

#ifdef CF_NO_INTERPOSE
int cf_setup_fault_available(void) { return 0; }
#else
int cf_setup_fault_available(void) { return 1; }

/* 1 when this call of `what` is the armed one (then disarmed). */
static int should_fail(int what) {
  if (atomic_load(&armed_what) != what)
    return 0;
  if (atomic_fetch_add(&calls, 1) + 1 != atomic_load(&armed_nth))
    return 0;
  atomic_store(&armed_what, CF_FAIL_NONE);
  atomic_store(&fired, 1);
  return 1;
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
  if (should_fail(CF_FAIL_PTHREAD_CREATE))
    return EAGAIN;
  return real(t, attr, fn, arg);
}

/* libuv's signatures with opaque pointers: the suite does not include uv.h. */
int uv_loop_init(void *loop) {
  static int (*real)(void *);
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "uv_loop_init");
  if (should_fail(CF_FAIL_UV_LOOP_INIT))
    return -ENOMEM;
  return real(loop);
}

int uv_async_init(void *loop, void *async, void *cb) {
  static int (*real)(void *, void *, void *);
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "uv_async_init");
  if (should_fail(CF_FAIL_UV_ASYNC_INIT))
    return -ENOMEM;
  return real(loop, async, cb);
}
#endif
