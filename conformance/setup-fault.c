/* setup-fault.c: makes one call of the implementation fail on demand: the
 * set-up calls (ERR-02 setup_failures: pthread_create, and libuv's
 * uv_loop_init and uv_async_init for implementations built on libuv) and the
 * send calls (FAULT-04: EINTR; FAULT-07: a short write, then ECONNRESET).
 * And one slow path: a futex wait made through syscall(), delayed before it
 * enters the kernel (ASYNC-02 spaced), as a traced process (strace) delays it.
 *
 * Like alloc-count.c, the test binary defines these functions, so the
 * implementation's calls, statically or dynamically linked, come here; the
 * real function is found with dlsym(RTLD_NEXT).  An implementation that never
 * calls the armed function is simply not faulted (cf_setup_fault_fired() says
 * so, and the test has nothing to judge).  Under ASan and TSan this works
 * too: RTLD_NEXT from the test binary finds the sanitizer's own interceptor,
 * so the start's rollback paths run under both sanitizers.
 *
 * Armed and read by the test's thread only; the counters are atomic because
 * the implementation may create threads from its own.
 */
#define _GNU_SOURCE
#include "tests.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

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

/* Armed from the test's thread around one Begin; the implementation may
 * send on its own threads, hence the atomics. */
static ssize_t faulted(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
                       socklen_t to_len) {
  static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "sendto");
  if (should_fail(CF_FAIL_SEND_EINTR)) {
    errno = EINTR;
    return -1;
  }
  if (atomic_load(&armed_what) == CF_FAIL_SEND_SHORT_RESET) {
    int c = atomic_fetch_add(&calls, 1) + 1;
    if (c == 1 && n > 1)
      return real(fd, buf, n / 2, flags, to, to_len);
    if (c == 2) {
      atomic_store(&armed_what, CF_FAIL_NONE);
      atomic_store(&fired, 1);
      errno = ECONNRESET;
      return -1;
    }
  }
  return real(fd, buf, n, flags, to, to_len);
}

ssize_t send(int fd, const void *buf, size_t n, int flags) {
  return faulted(fd, buf, n, flags, NULL, 0);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
               socklen_t to_len) {
  return faulted(fd, buf, n, flags, to, to_len);
}

/* ---- a slow way into a futex wait ------------------------------------------ */

/* A thread that decides to sleep on a futex word and then waits on it
 * reaches the kernel a moment after deciding: a wake-up sent in that moment
 * must not be lost (the word changes, and the wait returns at once).  The
 * moment is a few hundred nanoseconds, so a test rarely lands in it; under
 * strace (the harness's FAULT cases) it is tens of microseconds.  Armed, every
 * FUTEX_WAIT made through syscall() first spins for the armed time, which
 * opens that moment as strace does.  Waits made otherwise (glibc's own
 * locks and condition variables) are not touched. */
static atomic_int slow_wait_ns;
static atomic_int slow_waits;

void cf_slow_futex_wait_arm(int ns) {
  atomic_store(&slow_waits, 0);
  atomic_store(&slow_wait_ns, ns);
}

int cf_slow_futex_waits(void) { return atomic_load(&slow_waits); }

/* Forwards six arguments whatever the call takes, as glibc's syscall() reads
 * them. */
long syscall(long number, ...) {
  /* Called on the implementation's threads at once: an atomic lazy lookup. */
  static void *_Atomic real_fn;
  void *fn = atomic_load_explicit(&real_fn, memory_order_acquire);
  if (fn == NULL) {
    fn = dlsym(RTLD_NEXT, "syscall");
    atomic_store_explicit(&real_fn, fn, memory_order_release);
  }
  long (*real)(long, ...);
  *(void **)&real = fn;
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  int delay = atomic_load_explicit(&slow_wait_ns, memory_order_relaxed);
  if (delay > 0 && number == SYS_futex && ((int)a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT) {
    atomic_fetch_add(&slow_waits, 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
      clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < delay);
  }
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
