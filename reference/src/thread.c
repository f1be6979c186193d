/* thread.c: "All I/O initiated by a given thread is canceled when that
 * thread exits" (CANCEL-01).  An operation that is still pending when Begin
 * returns is linked into its thread's record; a pthread key, set lazily the
 * first time a thread needs it, runs at thread exit and aborts whatever is
 * still linked.  The record lives in the thread's own TLS: no allocation, and
 * it cannot outlive the thread. */
#include "apmsock-int.h"

struct apmsock__thread {
  pthread_mutex_t mu;
  apmsock__op_t *head;
};

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static __thread struct {
  uint64_t epoch;          /* the library start this record belongs to */
  bool registered;
  apmsock__thread_t rec;
} me;

static void on_thread_exit(void *unused);

static void make_key(void) {
  pthread_key_create(&key, on_thread_exit);
}

void apmsock__thread_register(void) {
  if (me.registered)
    return;
  pthread_once(&key_once, make_key);
  pthread_setspecific(key, &me);
  me.registered = true;
}

static apmsock__thread_t *my_record(void) {
  uint64_t epoch = apmsock__epoch();
  if (me.epoch != epoch) {
    /* First use in this library start: records of an earlier start named
     * operations that apmsock_cleanup() has freed. */
    if (me.epoch == 0)
      pthread_mutex_init(&me.rec.mu, NULL);
    me.epoch = epoch;
    me.rec.head = NULL;
  }
  apmsock__thread_register();
  return &me.rec;
}

void apmsock__thread_track(apmsock__op_t *op) {
  apmsock__thread_t *t = my_record();
  pthread_mutex_lock(&t->mu);
  op->thr = t;
  op->thr_prev = NULL;
  op->thr_next = t->head;
  if (t->head != NULL)
    t->head->thr_prev = op;
  t->head = op;
  pthread_mutex_unlock(&t->mu);
}

void apmsock__thread_untrack(apmsock__op_t *op) {
  apmsock__thread_t *t = op->thr;
  if (t == NULL)
    return;
  pthread_mutex_lock(&t->mu);
  if (op->thr_prev != NULL)
    op->thr_prev->thr_next = op->thr_next;
  else
    t->head = op->thr_next;
  if (op->thr_next != NULL)
    op->thr_next->thr_prev = op->thr_prev;
  op->thr = NULL;
  pthread_mutex_unlock(&t->mu);
}

/* The lock order is socket, then record: take the first linked operation's
 * socket without holding the record, then re-check under both locks. */
static void on_thread_exit(void *unused) {
  apmsock__op_cache_flush();
  if (me.epoch != apmsock__epoch())
    return;
  apmsock__thread_t *t = &me.rec;
  for (;;) {
    pthread_mutex_lock(&t->mu);
    apmsock__op_t *op = t->head;
    apmsock__sock_t *s = op ? op->sock : NULL;
    pthread_mutex_unlock(&t->mu);
    if (op == NULL)
      break;
    apmsock__batch_t b = {0};
    pthread_mutex_lock(&s->mu);
    if (op->thr == t && op->sock == s) {
      apmsock__sock_unqueue(s, op);
      apmsock__op_complete(op, op->done, APMSOCK_SOCKET, APMSOCK_SE_OPERATION_ABORTED,
                           ECANCELED, &b);
      apmsock__loop_kick(s);
    }
    pthread_mutex_unlock(&s->mu);
    apmsock__batch_flush(&b);
  }
}
