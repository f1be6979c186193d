#define _GNU_SOURCE /* accept4 */
/* conn.c: Connect/BeginConnect/EndConnect and Accept/BeginAccept/EndAccept.
 * They follow the sends' rules for results and callbacks; the synchronous
 * forms of a blocking socket are Begin + End. */
#include "apmsock-int.h"

#include <string.h>
#include <unistd.h>

/* Starts connecting s (locked): 0 when connected, EINPROGRESS, or an errno
 * (the socket's state is left as it was then). */
static int connect_now(apmsock__sock_t *s, const struct sockaddr *addr) {
  struct sockaddr_storage ss;
  socklen_t len;
  /* A family mismatch is left to the kernel, as .NET leaves it to the OS. */
  apmsock__map_endpoint(s, addr, &ss, &len);
  int e = connect(s->fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
  if (e == 0 || e == EINPROGRESS) {
    /* The destination the send policy is asked about for BeginSend (SEC-01). */
    memcpy(&s->peer, &ss, len);
    s->peer_len = len;
    s->connected = e == 0;
    s->connecting = e == EINPROGRESS;
    s->bound = true;
    s->implicit_bound = false;
  }
  return e;
}

/* The end of BeginConnect and BeginAccept, s locked: the operation waits in
 * `pending` for the loop thread, or (pending NULL) has finished with e. */
static apmsock_kind_t started(apmsock__sock_t *s, apmsock__op_t *op, apmsock__opq_t *pending,
                              int e, apmsock_result_t *result_out, apmsock_error_t *err) {
  apmsock__batch_t b = {0};
  apmsock__count_started();
  if (pending != NULL) {
    apmsock__queue_op(s, pending, op);
  } else {
    op->completed_sync = true;
    apmsock__op_finish(op, 0, e, &b);
  }
  result_out->handle = op->handle;
  pthread_mutex_unlock(&s->mu);
  apmsock__batch_flush(&b);
  return apmsock__ok(err);
}

apmsock_kind_t apmsock_begin_connect(apmsock_socket_t h, const struct sockaddr *addr,
                                     apmsock_callback_t callback, void *state,
                                     apmsock_result_t *result_out, apmsock_error_t *err) {
  *result_out = APMSOCK_NULL_RESULT;
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock_ep(h, addr, "remoteEP", &kind, err);
  if (s == NULL)
    return kind;
  apmsock__op_t *op = apmsock__op_new(s, APMSOCK__CONNECT, callback, state);
  int e = connect_now(s, addr);
  return started(s, op, e == EINPROGRESS ? &s->cq : NULL, e, result_out, err);
}

apmsock_kind_t apmsock_end_connect(apmsock_socket_t h, apmsock_result_t r,
                                   apmsock_error_t *err) {
  return apmsock__end(h, r, APMSOCK__CONNECT, NULL, NULL, err);
}

apmsock_kind_t apmsock_connect(apmsock_socket_t h, const struct sockaddr *addr,
                               apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  if (addr == NULL || s->blocking) {
    pthread_mutex_unlock(&s->mu);
    apmsock_result_t r;
    kind = apmsock_begin_connect(h, addr, NULL, NULL, &r, err);
    if (kind == APMSOCK_OK) {
      kind = apmsock_end_connect(h, r, err);
      apmsock_result_release(r, NULL);
    }
    return kind;
  }
  /* Non-blocking: a connect still in progress answers WouldBlock (as
   * EINPROGRESS does in .NET); it goes on, and a later send finds it done. */
  int e = connect_now(s, addr);
  pthread_mutex_unlock(&s->mu);
  return apmsock__errno_outcome(err, e == EINPROGRESS ? EAGAIN : e);
}

/* The loop thread saw the fd writable: the connect finished one way or the
 * other. */
void apmsock__io_connect(apmsock__sock_t *s, apmsock__batch_t *b) {
  int e = 0;
  socklen_t len = sizeof e;
  getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len);
  s->connected = e == 0;
  s->connecting = false;
  apmsock__op_finish(apmsock__opq_pop(&s->cq), 0, e, b);
}

/* Accepts a waiting connection into *out: 0, or the errno (EAGAIN: none). */
static int accept_now(apmsock__sock_t *s, uint64_t *out) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = accept4(s->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return errno;
  apmsock__sock_t *a = apmsock__sock_new(fd, s->family, SOCK_STREAM);
  /* Not published yet: the handle goes out with the operation's result. */
  a->connected = a->bound = true;
  a->dual_mode = s->dual_mode;
  memcpy(&a->peer, &ss, len);
  a->peer_len = len;
  *out = a->handle;
  return 0;
}

apmsock_kind_t apmsock_begin_accept(apmsock_socket_t h, apmsock_callback_t callback,
                                    void *state, apmsock_result_t *result_out,
                                    apmsock_error_t *err) {
  *result_out = APMSOCK_NULL_RESULT;
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  if (!s->listening) {
    pthread_mutex_unlock(&s->mu);
    return apmsock__fail(err, APMSOCK_INVALID_OPERATION, NULL);
  }
  apmsock__op_t *op = apmsock__op_new(s, APMSOCK__ACCEPT, callback, state);
  int e = s->aq.head != NULL ? EAGAIN : accept_now(s, &op->accepted);
  return started(s, op, e == EAGAIN ? &s->aq : NULL, e, result_out, err);
}

apmsock_kind_t apmsock_end_accept(apmsock_socket_t h, apmsock_result_t r,
                                  apmsock_socket_t *accepted, apmsock_error_t *err) {
  uint64_t a = 0;
  apmsock_kind_t kind = apmsock__end(h, r, APMSOCK__ACCEPT, NULL, &a, err);
  accepted->handle = a;
  return kind;
}

/* The loop thread saw the listener readable. */
void apmsock__io_accepts(apmsock__sock_t *s, apmsock__batch_t *b) {
  int e;
  while (s->aq.head != NULL && (e = accept_now(s, &s->aq.head->accepted)) != EAGAIN)
    apmsock__op_finish(apmsock__opq_pop(&s->aq), 0, e, b);
}

apmsock_kind_t apmsock_accept(apmsock_socket_t h, apmsock_socket_t *accepted,
                              apmsock_error_t *err) {
  *accepted = APMSOCK_NULL_SOCKET;
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  if (!s->listening || s->blocking) {
    pthread_mutex_unlock(&s->mu);
    apmsock_result_t r;
    kind = apmsock_begin_accept(h, NULL, NULL, &r, err);
    if (kind == APMSOCK_OK) {
      kind = apmsock_end_accept(h, r, accepted, err);
      apmsock_result_release(r, NULL);
    }
    return kind;
  }
  int e = accept_now(s, &accepted->handle);
  pthread_mutex_unlock(&s->mu);
  return apmsock__errno_outcome(err, e);
}
