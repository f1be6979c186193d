/* op.c: operation records (the async results) and their completion.  Records
 * come from the result table through a small per-thread cache, so a steady
 * stream of operations allocates nothing and takes no global lock (CTX-01). */
#include "apmsock-int.h"

#include <string.h>

static void init_op(void *elem) {
  apmsock__op_t *op = elem;
  /* apmsock_result_wait's timeout must not move when the date is set. */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&op->mu, NULL);
  pthread_cond_init(&op->cond, &ca);
  pthread_condattr_destroy(&ca);
}

static void fini_op(void *elem) {
  apmsock__op_t *op = elem;
  pthread_mutex_destroy(&op->mu);
  pthread_cond_destroy(&op->cond);
}

apmsock__table_t apmsock__results = {
  .mu = PTHREAD_MUTEX_INITIALIZER,
  .elem_size = sizeof(apmsock__op_t),
  .tag = APMSOCK__TAG_RESULT,
  .init = init_op,
  .fini = fini_op,
};

#define CACHE_MAX 64
#define CACHE_MOVE 32   /* records moved to or from the table at once */

/* Free records this thread may reuse without the table lock.  A record in
 * the cache has generation 0, so its old handles are already dead.  Records
 * freed on one thread (a lane, after a callback) and allocated on another
 * (the one calling Begin) travel through the table CACHE_MOVE at a time, so
 * the table lock is taken once per batch, not per operation. */
static __thread struct {
  uint64_t epoch;
  unsigned n;
  void *ops[CACHE_MAX];
} cache;

static void cache_check(void) {
  uint64_t epoch = apmsock__epoch();
  if (cache.epoch != epoch) {
    cache.epoch = epoch;
    cache.n = 0;
    apmsock__thread_register();
  }
}

static apmsock__op_t *op_alloc(void) {
  cache_check();
  if (cache.n == 0) {
    apmsock__table_take(&apmsock__results, cache.ops, CACHE_MOVE);
    cache.n = CACHE_MOVE;
  }
  apmsock__op_t *op = cache.ops[--cache.n];
  apmsock__slot_regen(op);
  return op;
}

static void op_free(apmsock__op_t *op) {
  cache_check();
  atomic_store_explicit(&op->slot.gen, 0, memory_order_release);
  if (cache.n == CACHE_MAX) {
    cache.n -= CACHE_MOVE;
    apmsock__table_give(&apmsock__results, cache.ops + cache.n, CACHE_MOVE);
  }
  cache.ops[cache.n++] = op;
}

/* Thread exit: give the cached records back to the table. */
void apmsock__op_cache_flush(void) {
  if (cache.epoch != apmsock__epoch()) return;  /* cleanup freed them */
  apmsock__table_give(&apmsock__results, cache.ops, cache.n);
  cache.n = 0;
}

apmsock__op_t *apmsock__op_new(apmsock__sock_t *s, int method, apmsock_callback_t cb,
                               void *state) {
  apmsock__op_t *op = op_alloc();
  op->handle = apmsock__handle(&apmsock__results, op);
  op->sock_handle = s->handle;
  op->sock = s;
  op->method = method;
  op->buf = NULL;
  op->size = op->done = 0;
  op->msg_flags = 0;
  op->has_dest = false;
  op->trace_complete = false;
  op->callback = cb;
  op->state = state;
  op->lane = apmsock__lane_for_caller();
  op->completed = op->completed_sync = op->ended = false;
  op->waiters = 0;
  op->kind = APMSOCK_OK;
  op->socket_error = op->native_errno = 0;
  op->accepted = 0;
  atomic_store_explicit(&op->refs, cb ? 2 : 1, memory_order_relaxed);
  op->next = NULL;
  op->thr = NULL;
  return op;
}

/* A Begin that throws after building its record: no operation started. */
void apmsock__op_discard(apmsock__op_t *op) {
  op_free(op);
}

void apmsock__op_unref(apmsock__op_t *op) {
  if (atomic_fetch_sub_explicit(&op->refs, 1, memory_order_acq_rel) == 1)
    op_free(op);
}

/* Every operation passes here exactly once.  Called with the socket's mu
 * held (or, for an operation completed inside Begin, completed_sync, before
 * anyone else can see it); the callback is only queued in the batch, which
 * the caller flushes after dropping its locks. */
void apmsock__op_complete(apmsock__op_t *op, int32_t bytes, apmsock_kind_t kind,
                          int socket_error, int errnum, apmsock__batch_t *b) {
  apmsock__thread_untrack(op);
  op->sock = NULL;
  if (op->trace_complete)
    apmsock__trace(op->sock_handle, op->method, APMSOCK_TRACE_COMPLETE, bytes, kind,
                   socket_error);
  apmsock__count_completed();
  /* Without a callback the record may be ended, released and reused as soon
   * as completed is set: read what is needed first. */
  bool has_cb = op->callback != NULL;
  int l = op->lane;
  /* Inside Begin the handle is not out yet: nobody can lock or wait. */
  bool in_begin = op->completed_sync;
  if (!in_begin)
    pthread_mutex_lock(&op->mu);
  op->done = bytes;
  op->kind = kind;
  op->socket_error = socket_error;
  op->native_errno = errnum;
  op->completed = true;
  if (!in_begin) {
    if (op->waiters > 0)
      pthread_cond_broadcast(&op->cond);
    pthread_mutex_unlock(&op->mu);
  }
  if (has_cb) {
    /* Newest first: the lane reverses what it takes (callback.c). */
    op->next = b->head[l];
    b->head[l] = op;
    b->tail[l] = b->tail[l] ? b->tail[l] : op;
  }
}

void apmsock__op_finish(apmsock__op_t *op, int32_t bytes, int errnum, apmsock__batch_t *b) {
  if (errnum == 0)
    apmsock__op_complete(op, bytes, APMSOCK_OK, 0, 0, b);
  else
    apmsock__op_complete(op, bytes, APMSOCK_SOCKET, apmsock_socket_error_from_errno(errnum),
                         errnum, b);
}

void apmsock__opq_init(apmsock__opq_t *q) {
  q->head = NULL;
  q->tailp = &q->head;
}

void apmsock__opq_push(apmsock__opq_t *q, apmsock__op_t *op) {
  op->next = NULL;
  *q->tailp = op;
  q->tailp = &op->next;
}

/* An operation that must wait for its fd: queued on s (locked) behind the
 * others, tracked for CANCEL-01.  The loop thread already polls for a queue
 * that was not empty. */
void apmsock__queue_op(apmsock__sock_t *s, apmsock__opq_t *q, apmsock__op_t *op) {
  bool was_empty = q->head == NULL;
  apmsock__opq_push(q, op);
  apmsock__thread_track(op);
  if (was_empty)
    apmsock__loop_kick(s);
}

apmsock__op_t *apmsock__opq_pop(apmsock__opq_t *q) {
  apmsock__op_t *op = q->head;
  q->head = op->next;
  if (q->head == NULL)
    q->tailp = &q->head;
  return op;
}

void apmsock__opq_remove(apmsock__opq_t *q, apmsock__op_t *op) {
  for (apmsock__op_t **link = &q->head; *link != NULL; link = &(*link)->next) {
    if (*link == op) {
      *link = op->next;
      q->tailp = op->next ? q->tailp : link;
      return;
    }
  }
}

static void abort_op(apmsock__op_t *op, apmsock__batch_t *b) {
  apmsock__op_complete(op, 0, APMSOCK_OBJECT_DISPOSED, APMSOCK_SE_OPERATION_ABORTED,
                       ECANCELED, b);
}

/* Close with operations pending (CANCEL-04). */
void apmsock__op_abort_all(apmsock__sock_t *s, apmsock__batch_t *b) {
  apmsock__opq_t *queues[] = { &s->sq, &s->cq, &s->aq };
  for (int i = 0; i < 3; i++)
    while (queues[i]->head != NULL)
      abort_op(apmsock__opq_pop(queues[i]), b);
}
