/* callback.c: the threads that run callbacks (ASYNC-02).  There are two
 * lanes: an operation begun on lane k's thread (from inside a callback) is
 * handed to the other lane, every other operation to lane 0, so a callback
 * never runs on the thread that called Begin.
 *
 * The hand-off policy.  A cross-thread wake-up costs about as much as a send
 * (a futex syscall for the producer, and on this kind of machine 20-50 us
 * before the woken thread runs), so producers must not pay one per
 * completion, nor contend for a lock with the lane.  A batch is pushed onto
 * the lane's stack with one compare-and-swap.  A lane that has just run
 * callbacks (or been woken) stays awake and polls its stack for SPIN_NS; only
 * then does it raise `sleeping` and sleep on its futex, with no timeout, and
 * the next producer that sees the flag wakes it.  So:
 *   - while completions flow (the documented pattern: the next Begin comes
 *     within tens of microseconds of the callback), the lane is awake, the
 *     producer makes no system call, and a callback starts within a few
 *     microseconds of its completion;
 *   - an idle process is idle: SPIN_NS after the last callback both lanes
 *     sleep until a producer wakes them.
 * Timed naps (the earlier policy: 10 us doubling to 1.3 ms, producers ringing
 * only when 48 batches waited) made a lane that was napping answer after its
 * nap, and a "10 us" futex timeout takes about 100 us on this hypervisor:
 * the documented pattern ran at 0.05 of raw sendto(). */
#include "apmsock-int.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long a lane polls for more work after running callbacks: longer than
 * the usual gap between a callback and the next Begin of the thread it woke
 * (that thread's own wake-up from a semaphore takes 20-50 us here).  The
 * length, for the documented pattern with a sem_t waiter (load about 10,
 * two runs each): 20 us 0.08-0.20 of raw, 50 us 0.14-0.18, 100 us
 * 0.47-0.52, 200 us 0.19-0.35.
 * It polls with `pause`, not sched_yield: on the loaded 2-core machine a
 * yield hands the CPU to another process for a whole time slice.  Polling
 * with pause for 10 us then with yields, against pause alone, interleaved,
 * 3 runs each at load 12: callback latency p99 69-1668 us against 133-226,
 * 64 in flight with a semaphore window 0.40-0.56 of raw against 0.57-0.80,
 * the documented pattern with a sem_t 0.30 against 0.23-0.28. */
#define SPIN_NS 100000
/* Polls between two clock reads (a load and a pause each, about 60 ns). */
#define POLLS_PER_CLOCK 16

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

typedef struct lane {
  pthread_t thread;
  apmsock__op_t *_Atomic stack;     /* newest first, linked through op->next */
  _Atomic uint32_t bell;            /* the futex word: every wake-up rings it */
  atomic_bool sleeping;             /* the next producer must ring (and lowers it) */
  atomic_bool stop;
} lane_t;

static lane_t lanes[2];
static __thread int this_lane = -1;

int apmsock__lane_for_caller(void) {
  return this_lane == 0 ? 1 : 0;
}

/* A futex rather than a mutex and a condition variable: glibc takes the
 * mutex back after a wait marked contended, which costs a second system
 * call (a FUTEX_WAKE nobody waited for). */
static void futex(_Atomic uint32_t *word, int op, uint32_t val) {
  syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void wake(lane_t *l) {
  atomic_fetch_add(&l->bell, 1);
  futex(&l->bell, FUTEX_WAKE_PRIVATE, 1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Polls the stack for up to SPIN_NS; true when there is work or a stop.
 * Plain loads between the polls: the exchange in lane_main takes the work.
 *
 * Not instrumented for gcov: a process that exits without apmsock_cleanup()
 * (a forked test, an adapter told to quit) writes its counters while a lane
 * may still be in this loop, between two counter increments, and gcov then
 * derives negative branch counts ("taken -2") and gcovr stops.  A lane inside
 * a call is consistent (gcov gives every call an arc to the exit), so
 * leaving this one leaf uncounted keeps the rest of the file's counts true. */
__attribute__((no_profile_instrument_function))
static bool poll_stack(lane_t *l) {
  uint64_t deadline = now_ns() + SPIN_NS;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(&l->stack, memory_order_relaxed) != NULL ||
        atomic_load_explicit(&l->stop, memory_order_relaxed))
      return true;
    cpu_relax();
    if (i % POLLS_PER_CLOCK == 0 && now_ns() > deadline)
      return false;
  }
}

/* Nothing to run: poll, then sleep until woken.  The bell is read first, so
 * a ring after that makes the wait return at once.  The sleeping flag is
 * raised before the stack is checked, and a producer reads it after pushing
 * (both sequentially consistent), so one of them sees the other: no wake-up
 * is lost. */
static void idle(lane_t *l) {
  if (poll_stack(l))
    return;
  uint32_t rung = atomic_load(&l->bell);
  atomic_store(&l->sleeping, true);
  if (atomic_load(&l->stack) == NULL && !atomic_load(&l->stop))  // GCOVR_EXCL_BR_LINE: a producer or stop racing the check
    futex(&l->bell, FUTEX_WAIT_PRIVATE, rung);
  atomic_store(&l->sleeping, false);
}

static void *lane_main(void *arg) {
  lane_t *l = arg;
  this_lane = (int)(l - lanes);
  for (;;) {
    apmsock__op_t *op = atomic_exchange(&l->stack, NULL);
    if (op == NULL) {
      if (atomic_load(&l->stop))
        break;
      idle(l);
      continue;
    }
    /* Oldest first. */
    apmsock__op_t *fifo = NULL;
    while (op != NULL) {
      apmsock__op_t *next = op->next;
      op->next = fifo;
      fifo = op;
      op = next;
    }
    while (fifo != NULL) {
      /* Read everything first: the callback may release the result. */
      apmsock__op_t *next = fifo->next;
      apmsock_callback_t cb = fifo->callback;
      apmsock_result_t r = { fifo->handle };
      cb(r);
      apmsock__op_unref(fifo);
      fifo = next;
    }
  }
  return NULL;
}

static void lanes_join(int n);

int apmsock__lanes_start(void) {
  for (int i = 0; i < 2; i++) {
    lane_t *l = &lanes[i];
    atomic_store(&l->stack, NULL);
    atomic_store(&l->sleeping, false);
    atomic_store(&l->stop, false);
    int e = pthread_create(&l->thread, NULL, lane_main, l);
    if (e != 0) {
      /* A lane that never ran would swallow every callback routed to it. */
      lanes_join(i);
      return e;
    }
  }
  return 0;
}

/* Each lane runs what is already queued, then exits. */
void apmsock__lanes_stop(void) {
  lanes_join(2);
}

/* Stops and joins lanes [0, n). */
static void lanes_join(int n) {
  for (int i = 0; i < n; i++) {
    lane_t *l = &lanes[i];
    atomic_store(&l->stop, true);
    wake(l);
    pthread_join(l->thread, NULL);
  }
}

/* The batch lists are newest first (apmsock__op_complete prepends), like the
 * stack they are pushed onto. */
void apmsock__batch_flush(apmsock__batch_t *b) {
  for (int i = 0; i < 2; i++) {
    if (b->head[i] == NULL)
      continue;
    lane_t *l = &lanes[i];
    apmsock__op_t *old = atomic_load(&l->stack);
    do
      b->tail[i]->next = old;
    while (!atomic_compare_exchange_weak(&l->stack, &old, b->head[i]));  // GCOVR_EXCL_BR_LINE: a retry needs a race
    /* Only the producer that lowers the flag rings: the ones that push
     * before the woken lane runs again (tens of microseconds when both CPUs
     * are busy) make no system call. */
    if (atomic_load(&l->sleeping) && atomic_exchange(&l->sleeping, false))  // GCOVR_EXCL_BR_LINE: whether the lane sleeps is timing
      wake(l);
    b->head[i] = b->tail[i] = NULL;
  }
}
