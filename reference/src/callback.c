/* callback.c: the threads that run callbacks (ASYNC-02).  There are two
 * lanes: an operation begun on lane k's thread (from inside a callback) is
 * handed to the other lane, every other operation to lane 0, so a callback
 * never runs on the thread that called Begin.
 *
 * A cross-thread wake-up costs about as much as a send, so producers must not
 * pay one per completion, nor contend for a lock with the lane.  A batch is
 * pushed onto the lane's stack with one compare-and-swap.  A lane that has
 * just run callbacks naps (a short timed wait) and producers leave it alone
 * unless LANE_BATCH batches are waiting; only after several empty naps does
 * it sleep for real, and then the next producer wakes it.  Under load the
 * producers make no system call at all: the lane's naps bound the delay. */
#include "apmsock-int.h"

#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A lane's first nap after running callbacks is short, and each empty nap
 * doubles the next: 10 us .. 640 us, about 1.3 ms in all, then it sleeps.
 * Short first naps keep the hand-off prompt while completions stream in
 * (with 64 sends in flight, 50 us naps held the sender back: 0.84 of raw
 * against 1.0 with these); doubling makes an idle lane wake 7 times, not 20. */
#define NAP_NS 10000
#define NAPS_BEFORE_SLEEP 7
#define LANE_BATCH 48

typedef struct lane {
  pthread_t thread;
  apmsock__op_t *_Atomic stack;     /* newest first, linked through op->next */
  _Atomic unsigned waiting;         /* batches pushed since the lane last looked */
  _Atomic uint32_t bell;            /* the futex word: every wake-up rings it */
  atomic_bool sleeping;             /* producers must ring */
  atomic_bool stop;
} lane_t;

static lane_t lanes[2];
static __thread int this_lane = -1;

int apmsock__lane_for_caller(void) {
  return this_lane == 0 ? 1 : 0;
}

/* A futex rather than a mutex and a condition variable: glibc takes the
 * mutex back after a timed-out wait marked contended, so every nap cost a
 * second system call (a FUTEX_WAKE nobody waited for) on top of the wait. */
static void futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *rel) {
  syscall(SYS_futex, word, op, val, rel, NULL, 0);
}

static void wake(lane_t *l) {
  atomic_fetch_add(&l->bell, 1);
  futex(&l->bell, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Nothing to run: nap, or after enough empty naps sleep until woken.  The
 * bell is read first, so a ring after that makes the wait return at once.
 * The sleeping flag is raised before the stack is checked, and a producer
 * reads it after pushing (both sequentially consistent), so one of them sees
 * the other: no wake-up is lost. */
static void idle(lane_t *l, int *naps) {
  uint32_t rung = atomic_load(&l->bell);
  if (*naps < NAPS_BEFORE_SLEEP) {
    /* A relative timeout: FUTEX_WAIT measures it on CLOCK_MONOTONIC. */
    struct timespec nap = { 0, (long)NAP_NS << *naps };
    (*naps)++;
    futex(&l->bell, FUTEX_WAIT_PRIVATE, rung, &nap);
  } else {
    atomic_store(&l->sleeping, true);
    if (atomic_load(&l->stack) == NULL && !atomic_load(&l->stop))  // GCOVR_EXCL_BR_LINE: a producer or stop racing the check
      futex(&l->bell, FUTEX_WAIT_PRIVATE, rung, NULL);
    atomic_store(&l->sleeping, false);
  }
}

static void *lane_main(void *arg) {
  lane_t *l = arg;
  this_lane = (int)(l - lanes);
  /* Naps are tens of microseconds: the default 50 us timer slack would
   * stretch them. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int naps = 0;
  for (;;) {
    apmsock__op_t *op = atomic_exchange(&l->stack, NULL);
    if (op == NULL) {
      if (atomic_load(&l->stop))
        break;
      idle(l, &naps);
      continue;
    }
    naps = 0;
    atomic_store(&l->waiting, 0);
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
    atomic_store(&l->waiting, 0);
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
    unsigned waiting = atomic_fetch_add(&l->waiting, 1) + 1;
    if (atomic_load(&l->sleeping) || waiting == LANE_BATCH)  // GCOVR_EXCL_BR_LINE: whether 48 batches pile up between two naps is timing
      wake(l);
    b->head[i] = b->tail[i] = NULL;
  }
}
