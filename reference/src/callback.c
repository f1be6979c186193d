/* callback.c: the threads that run callbacks (ASYNC-02).  There are two
 * lanes: an operation begun on lane k's thread (from inside a callback) is
 * handed to the other lane, every other operation to lane 0, so a callback
 * never runs on the thread that called Begin.
 *
 * A cross-thread wake-up costs about as much as a send, so producers must not
 * pay one per completion.  A lane that has just run callbacks naps (a short
 * timed wait) and producers leave it alone unless LANE_BATCH callbacks are
 * waiting; only after several empty naps does it sleep for real, and then
 * the next producer wakes it.  Under load that is one wake-up per batch. */
#include "apmsock-int.h"

#include <sys/prctl.h>
#include <time.h>

#define NAP_NS 100000      /* how long a lane waits for more work when busy */
#define NAPS_BEFORE_SLEEP 10
#define LANE_BATCH 32

typedef struct lane {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  apmsock__op_t *head, *tail;
  unsigned waiting;       /* callbacks queued since the lane last looked */
  bool sleeping;          /* producers must signal */
  bool stop;
} lane_t;

static lane_t lanes[2];
static __thread int this_lane = -1;

int apmsock__lane_for_caller(void) {
  return this_lane == 0 ? 1 : 0;
}

static void *lane_main(void *arg) {
  lane_t *l = arg;
  this_lane = (int)(l - lanes);
  /* Naps are tens of microseconds: the default 50 us timer slack would
   * double them. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int naps = 0;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    if (l->head == NULL) {
      if (l->stop)
        break;
      if (naps < NAPS_BEFORE_SLEEP) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += NAP_NS;
        t.tv_sec += t.tv_nsec / 1000000000;
        t.tv_nsec %= 1000000000;
        naps++;
        pthread_cond_timedwait(&l->cond, &l->mu, &t);
        continue;
      }
      l->sleeping = true;
      pthread_cond_wait(&l->cond, &l->mu);
      l->sleeping = false;
      continue;
    }
    naps = 0;
    apmsock__op_t *op = l->head;
    l->head = l->tail = NULL;
    l->waiting = 0;
    pthread_mutex_unlock(&l->mu);
    while (op != NULL) {
      /* Read everything first: the callback may release the result. */
      apmsock__op_t *next = op->next;
      apmsock_callback_t cb = op->callback;
      apmsock_result_t r = { op->handle };
      cb(r);
      apmsock__op_unref(op);
      op = next;
    }
    pthread_mutex_lock(&l->mu);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

void apmsock__lanes_start(void) {
  for (int i = 0; i < 2; i++) {
    lane_t *l = &lanes[i];
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    l->head = l->tail = NULL;
    l->waiting = 0;
    l->sleeping = true;
    l->stop = false;
    pthread_create(&l->thread, NULL, lane_main, l);
  }
}

void apmsock__lanes_stop(void) {
  for (int i = 0; i < 2; i++) {
    lane_t *l = &lanes[i];
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cond);
  }
}

void apmsock__batch_flush(apmsock__batch_t *b) {
  for (int i = 0; i < 2; i++) {
    if (b->head[i] == NULL)
      continue;
    lane_t *l = &lanes[i];
    pthread_mutex_lock(&l->mu);
    if (l->tail != NULL)
      l->tail->next = b->head[i];
    else
      l->head = b->head[i];
    l->tail = b->tail[i];
    l->waiting++;
    if (l->sleeping || l->waiting == LANE_BATCH)
      pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mu);
    b->head[i] = b->tail[i] = NULL;
  }
}
