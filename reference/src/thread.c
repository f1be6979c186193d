/* thread.c: "All I/O initiated by a given thread is canceled when that
 * thread exits" (CANCEL-01).  An operation that is still pending when Begin
 * returns is linked into its thread's record; a pthread key, set lazily the
 * first time a thread needs it, runs at thread exit and aborts whatever is
 * still linked.  The record lives in the thread's own TLS: no allocation, and
 * it cannot outlive the thread. */
#include "apmsock-int.h"

struct apmsock__thread {
  pthread_mutex_t mu;
  apmsock__link_t ops;     /* sentinel of the pending operations */
};

#define OP_OF(link) ((apmsock__op_t *)((char *)(link) - offsetof(apmsock__op_t, thr_link)))

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
    me.rec.ops.prev = me.rec.ops.next = &me.rec.ops;
  }
  apmsock__thread_register();
  return &me.rec;
}

void apmsock__thread_track(apmsock__op_t *op) {
  apmsock__thread_t *t = my_record();
  pthread_mutex_lock(&t->mu);
  op->thr = t;
  op->thr_link.next = &t->ops;
  op->thr_link.prev = t->ops.prev;
  t->ops.prev->next = &op->thr_link;
  t->ops.prev = &op->thr_link;
  pthread_mutex_unlock(&t->mu);
}

void apmsock__thread_untrack(apmsock__op_t *op) {
  apmsock__thread_t *t = op->thr;
  if (t == NULL)
    return;
  pthread_mutex_lock(&t->mu);
  op->thr_link.prev->next = op->thr_link.next;
  op->thr_link.next->prev = op->thr_link.prev;
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
    bool empty = t->ops.next == &t->ops;
    apmsock__op_t *op = OP_OF(t->ops.next);
    apmsock__sock_t *s = empty ? NULL : op->sock;
    pthread_mutex_unlock(&t->mu);
    if (empty)
      break;
    apmsock__batch_t b = {0};
    pthread_mutex_lock(&s->mu);
    if (op->thr == t && op->sock == s) {  // GCOVR_EXCL_BR_LINE: false only by a race
      apmsock__sock_unqueue(s, op);
      apmsock__op_complete(op, op->done, APMSOCK_SOCKET, APMSOCK_SE_OPERATION_ABORTED,
                           ECANCELED, &b);
      apmsock__loop_kick(s);
    }
    pthread_mutex_unlock(&s->mu);
    apmsock__batch_flush(&b);
  }
}
