/* event.c: the waits a user's thread does in the documented pattern ("Call
 * the Set method on a ManualResetEvent in the callback method when you want
 * the original thread to continue executing").  A plain semaphore is sem_t
 * itself; this file holds the spin-then-block one. */
#include "bench.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Like ManualResetEventSlim: a busy phase whose rounds double (1 .. 512
 * pause instructions, about 57 us in all on this machine's 56 ns pause),
 * then a futex wait.  ManualResetEventSlim also yields the CPU between the
 * two (Thread.Yield, Sleep(0)); that phase is left out here because on the
 * loaded 2-core machine a sched_yield hands the CPU away for a whole time
 * slice: with 25 yields the pattern ran at 0.05-0.11 of raw, without them
 * at 0.12-0.48, in the same conditions. */
#define BUSY_ROUNDS 10

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

/* Every wait is bounded: a callback that never comes ends the run. */
#define WAIT_LIMIT_S 5

static void futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *rel) {
  syscall(SYS_futex, w, op, val, rel, NULL, 0);
}

void spin_event_set(spin_event_t *e) {
  if (atomic_exchange(&e->state, 1) == 2)
    futex(&e->state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static bool is_set(spin_event_t *e) {
  return atomic_load_explicit(&e->state, memory_order_acquire) == 1;
}

void spin_event_wait(spin_event_t *e) {
  for (int round = 0; round < BUSY_ROUNDS && !is_set(e); round++)
    for (int k = 0; k < 1 << round; k++)
      cpu_relax();
  /* Not set yet: announce the sleep (0 -> 2), then sleep while the word is
   * 2.  A Set between the two changes the word, so the wait returns at once. */
  uint32_t expect = 0;
  double deadline = bench_now() + WAIT_LIMIT_S;
  while (!is_set(e)) {
    if (bench_now() > deadline)
      bench_die("spin_event_wait: no Set within 5 s");
    const struct timespec rel = { WAIT_LIMIT_S, 0 };
    if (atomic_compare_exchange_strong(&e->state, &expect, 2) || expect == 2)
      futex(&e->state, FUTEX_WAIT_PRIVATE, 2, &rel);
    expect = 0;
  }
  atomic_store(&e->state, 0);
}

void sem_wait_bounded(sem_t *s) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += WAIT_LIMIT_S;
  while (sem_clockwait(s, CLOCK_MONOTONIC, &deadline) != 0)
    if (errno != EINTR)
      bench_die("sem_wait: no post within 5 s");
}

void window_drain(sem_t *w, int slots) {
  for (int i = 0; i < slots; i++)
    sem_wait_bounded(w);
  for (int i = 0; i < slots; i++)
    sem_post(w);
}
