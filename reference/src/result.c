/* result.c: End and the IAsyncResult calls.  A result handle is checked
 * against its slot's generation under the record's own lock, so a released,
 * reused or foreign handle answers ArgumentException("asyncResult"). */
#include "apmsock-int.h"

#include <time.h>

static apmsock__op_t *op_lock(apmsock_result_t r, apmsock_kind_t *kind, apmsock_error_t *err) {
  if (r.handle == 0) {
    *kind = apmsock__fail(err, APMSOCK_ARGUMENT_NULL, "asyncResult");
    return NULL;
  }
  apmsock__op_t *op = apmsock__table_get(&apmsock__results, r.handle);
  if (op != NULL) {
    pthread_mutex_lock(&op->mu);
    if (atomic_load_explicit(&op->slot.gen, memory_order_acquire) ==
        apmsock__handle_gen(r.handle))
      return op;
    pthread_mutex_unlock(&op->mu);
  }
  *kind = apmsock__fail(err, APMSOCK_ARGUMENT, "asyncResult");
  return NULL;
}

apmsock_kind_t apmsock__end(apmsock_socket_t h, apmsock_result_t r, int method,
                            int32_t *bytes, uint64_t *accepted, apmsock_error_t *err) {
  if (h.handle == 0)
    return apmsock__fail(err, APMSOCK_ARGUMENT_NULL, "socket");
  apmsock_kind_t kind;
  apmsock__op_t *op = op_lock(r, &kind, err);
  if (op == NULL)
    return kind;
  /* END-02: a result of another socket, or of the other method. */
  if (op->sock_handle != h.handle || op->method != method) {
    pthread_mutex_unlock(&op->mu);
    return apmsock__fail(err, APMSOCK_ARGUMENT, "asyncResult");
  }
  if (op->ended) {
    pthread_mutex_unlock(&op->mu);
    return apmsock__fail(err, APMSOCK_INVALID_OPERATION, NULL);
  }
  op->ended = true;
  op->waiters++;
  while (!op->completed)
    pthread_cond_wait(&op->cond, &op->mu);
  op->waiters--;
  kind = op->kind;
  int se = op->socket_error, errnum = op->native_errno;
  int32_t done = op->done;
  if (accepted != NULL)
    *accepted = op->accepted;
  pthread_mutex_unlock(&op->mu);
  if (bytes != NULL)
    *bytes = kind == APMSOCK_OK ? done : 0;
  return kind == APMSOCK_OK ? apmsock__ok(err) : apmsock__fail_outcome(err, kind, se, errnum);
}

apmsock_kind_t apmsock_result_status(apmsock_result_t r, apmsock_result_status_t *out,
                                     apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__op_t *op = op_lock(r, &kind, err);
  if (op == NULL)
    return kind;
  out->state = op->state;
  out->is_completed = op->completed;
  out->completed_synchronously = op->completed_sync;
  pthread_mutex_unlock(&op->mu);
  return apmsock__ok(err);
}

void *apmsock_result_state(apmsock_result_t r) {
  apmsock_kind_t kind;
  apmsock__op_t *op = op_lock(r, &kind, NULL);
  if (op == NULL)
    return NULL;
  void *state = op->state;
  pthread_mutex_unlock(&op->mu);
  return state;
}

apmsock_kind_t apmsock_result_wait(apmsock_result_t r, int32_t timeout_ms, bool *signaled,
                                   apmsock_error_t *err) {
  *signaled = false;
  if (timeout_ms < -1)
    return apmsock__fail(err, APMSOCK_ARGUMENT_OUT_OF_RANGE, "millisecondsTimeout");
  apmsock_kind_t kind;
  apmsock__op_t *op = op_lock(r, &kind, err);
  if (op == NULL)
    return kind;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  int64_t ns = deadline.tv_nsec + (int64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
  deadline.tv_sec += ns / 1000000000;
  deadline.tv_nsec = ns % 1000000000;
  op->waiters++;
  int rc = 0;
  while (!op->completed && rc == 0)
    rc = timeout_ms < 0 ? pthread_cond_wait(&op->cond, &op->mu)
                        : pthread_cond_timedwait(&op->cond, &op->mu, &deadline);
  op->waiters--;
  *signaled = op->completed;
  pthread_mutex_unlock(&op->mu);
  return apmsock__ok(err);
}

apmsock_kind_t apmsock_result_release(apmsock_result_t r, apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__op_t *op = op_lock(r, &kind, err);
  if (op == NULL)
    return kind;
  if (!op->completed) {
    pthread_mutex_unlock(&op->mu);
    return apmsock__fail(err, APMSOCK_INVALID_OPERATION, NULL);
  }
  /* The handle dies now; the record itself waits for a pending callback. */
  atomic_store_explicit(&op->slot.gen, 0, memory_order_release);
  pthread_mutex_unlock(&op->mu);
  apmsock__op_unref(op);
  return apmsock__ok(err);
}
