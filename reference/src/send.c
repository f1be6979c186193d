/* send.c: BeginSend and BeginSendTo.  Validate, then delegate: the public
 * functions check arguments and socket state in the documented order
 * (ARG-09: disposed, buffer, remoteEP, offset, size), then apmsock__send
 * tries the send inline on the caller's thread and queues it for the loop
 * thread only when the fd cannot take it now. */
#include "apmsock-int.h"

#include <netinet/in.h>
#include <string.h>

/* The largest UDP payload: 65535 minus the IP and UDP headers. */
#define UDP_MAX_V4 65507
#define UDP_MAX_V6 65527

static bool is_v4(const struct sockaddr_storage *a) {
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
  return a->ss_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
}

static apmsock_kind_t check_args(const uint8_t *buffer, int32_t buffer_length, int32_t offset,
                                 int32_t size, int method, const struct sockaddr *remote_ep,
                                 apmsock_error_t *err) {
  if (buffer == NULL)
    return apmsock__fail(err, APMSOCK_ARGUMENT_NULL, "buffer");
  if (buffer_length < 0)
    return apmsock__fail(err, APMSOCK_ARGUMENT_OUT_OF_RANGE, "buffer");
  if (method == APMSOCK__SEND_TO && remote_ep == NULL)
    return apmsock__fail(err, APMSOCK_ARGUMENT_NULL, "remoteEP");
  if (offset < 0 || offset > buffer_length)
    return apmsock__fail(err, APMSOCK_ARGUMENT_OUT_OF_RANGE, "offset");
  /* buffer_length - offset cannot overflow here, unlike offset + size (ARG-08). */
  if (size < 0 || size > buffer_length - offset)
    return apmsock__fail(err, APMSOCK_ARGUMENT_OUT_OF_RANGE, "size");
  return APMSOCK_OK;
}

/* The socket's own state, known before any byte is sent: from Begin for
 * both methods.  Fills the destination the op will use. */
static apmsock_kind_t check_state(apmsock__sock_t *s, int32_t flags, int method,
                                  const struct sockaddr *remote_ep, apmsock__op_t *op,
                                  apmsock_error_t *err) {
  if ((flags & ~APMSOCK_SEND_FLAGS_VALID) != 0 ||
      ((flags & APMSOCK_FLAG_OUT_OF_BAND) && s->type == SOCK_DGRAM))
    return apmsock__fail_se(err, APMSOCK_SE_OPERATION_NOT_SUPPORTED);
  /* A non-blocking connect answered WouldBlock; see whether it finished. */
  if (s->connecting) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    s->connected = getpeername(s->fd, (struct sockaddr *)&peer, &len) == 0;
    s->connecting = !s->connected;
  }
  bool to_peer = method == APMSOCK__SEND || s->type == SOCK_STREAM;
  if (to_peer && !s->connected)
    return apmsock__fail_se(err, APMSOCK_SE_NOT_CONNECTED);
  if (to_peer) {
    memcpy(&op->dest, &s->peer, s->peer_len);
    op->dest_len = s->peer_len;
  } else {
    int e = apmsock__map_endpoint(s, remote_ep, &op->dest, &op->dest_len);
    if (e != 0)
      return apmsock__fail_errno(err, e);
    op->has_dest = true;
    if (!s->bound) {
      /* The kernel binds the wildcard; LocalEndPoint reports the source
       * address the route to this destination uses (CONN-07). */
      s->bound = s->implicit_bound = true;
      memcpy(&s->peer, &op->dest, op->dest_len);
      s->peer_len = op->dest_len;
    }
  }
  if (!apmsock__policy_allows((const struct sockaddr *)&op->dest))
    return apmsock__fail(err, APMSOCK_SECURITY, NULL);
  return APMSOCK_OK;
}

/* s is locked and the op checked.  Returns the exception BeginSend throws,
 * or OK when the operation started (completed or queued). */
static apmsock_kind_t send_op(apmsock__sock_t *s, apmsock__op_t *op, apmsock__batch_t *b,
                              apmsock_error_t *err) {
  int e = 0;
  if (s->type == SOCK_DGRAM && op->size > (is_v4(&op->dest) ? UDP_MAX_V4 : UDP_MAX_V6))
    e = EMSGSIZE;
  else if (s->sq.head != NULL)
    e = EAGAIN;  /* bytes stay in Begin order behind what is queued (ASYNC-08) */
  else
    e = apmsock__try_send(s, op);
  if (e == EAGAIN && s->blocking) {
    op->trace_complete = true;
    apmsock__trace(s->handle, op->method, APMSOCK_TRACE_BEGIN, op->size, APMSOCK_OK, 0);
    apmsock__queue_op(s, &s->sq, op);
    return APMSOCK_OK;
  }
  /* Non-blocking: a stream send that got some bytes out reports them. */
  if (e == EAGAIN && op->done > 0)
    e = 0;
  /* Transmission errors: BeginSend throws, BeginSendTo's End will.  But once
   * a byte has left, the operation has started: Begin returns it and End
   * reports the error (apmsock.h: a Begin that fails puts no bytes on the
   * wire; FAULT-07). */
  if (e != 0 && op->method == APMSOCK__SEND && op->done == 0)
    return apmsock__fail_errno(err, e);
  op->completed_sync = true;
  apmsock__op_finish(op, op->done, e, b);
  return APMSOCK_OK;
}

static apmsock_kind_t begin(apmsock_socket_t h, int method, const uint8_t *buffer,
                            int32_t buffer_length, int32_t offset, int32_t size,
                            int32_t flags, const struct sockaddr *remote_ep,
                            apmsock_callback_t callback, void *state,
                            apmsock_result_t *result_out, apmsock_error_t *err) {
  *result_out = APMSOCK_NULL_RESULT;
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s != NULL) {
    kind = check_args(buffer, buffer_length, offset, size, method, remote_ep, err);
    if (kind != APMSOCK_OK)
      pthread_mutex_unlock(&s->mu);
  }
  if (kind != APMSOCK_OK) {
    apmsock__trace(h.handle, method, APMSOCK_TRACE_BEGIN, size, kind,
                   err ? err->socket_error : 0);
    return kind;
  }
  apmsock__op_t *op = apmsock__op_new(s, method, callback, state);
  op->buf = buffer + offset;
  op->size = size;
  op->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT |
                  (flags & APMSOCK_FLAG_OUT_OF_BAND ? MSG_OOB : 0) |
                  (flags & APMSOCK_FLAG_DONT_ROUTE ? MSG_DONTROUTE : 0);
  apmsock_error_t e2;
  apmsock_error_t *e = err ? err : &e2;
  apmsock__batch_t b = {0};
  kind = check_state(s, flags, method, remote_ep, op, e);
  if (kind == APMSOCK_OK) {
    apmsock__ctx_lookup(s, method, callback);
    kind = send_op(s, op, &b, e);
  }
  bool started = kind == APMSOCK_OK;
  bool traced = op->trace_complete;
  /* Once unlocked, a queued op may complete and its callback release it. */
  apmsock_result_t r = { op->handle };
  pthread_mutex_unlock(&s->mu);
  if (!started) {
    apmsock__op_discard(op);
    apmsock__trace(h.handle, method, APMSOCK_TRACE_BEGIN, size, kind, e->socket_error);
    return kind;
  }
  apmsock__count_started();
  if (!traced) {
    /* Completed inline: the Begin record comes first. */
    apmsock__trace(h.handle, method, APMSOCK_TRACE_BEGIN, size, APMSOCK_OK, 0);
    apmsock__trace(h.handle, method, APMSOCK_TRACE_COMPLETE, op->done, op->kind,
                   op->socket_error);
  }
  *result_out = r;
  apmsock__batch_flush(&b);
  return apmsock__ok(err);
}

apmsock_kind_t apmsock_begin_send(apmsock_socket_t s, const uint8_t *buffer,
                                  int32_t buffer_length, int32_t offset, int32_t size,
                                  int32_t flags, apmsock_callback_t callback, void *state,
                                  apmsock_result_t *result_out, apmsock_error_t *err) {
  return begin(s, APMSOCK__SEND, buffer, buffer_length, offset, size, flags, NULL,
               callback, state, result_out, err);
}

apmsock_kind_t apmsock_begin_send_to(apmsock_socket_t s, const uint8_t *buffer,
                                     int32_t buffer_length, int32_t offset, int32_t size,
                                     int32_t flags, const struct sockaddr *remote_ep,
                                     apmsock_callback_t callback, void *state,
                                     apmsock_result_t *result_out, apmsock_error_t *err) {
  return begin(s, APMSOCK__SEND_TO, buffer, buffer_length, offset, size, flags, remote_ep,
               callback, state, result_out, err);
}

apmsock_kind_t apmsock_end_send(apmsock_socket_t s, apmsock_result_t result,
                                int32_t *bytes_sent, apmsock_error_t *err) {
  return apmsock__end(s, result, APMSOCK__SEND, bytes_sent, NULL, err);
}

apmsock_kind_t apmsock_end_send_to(apmsock_socket_t s, apmsock_result_t result,
                                   int32_t *bytes_sent, apmsock_error_t *err) {
  return apmsock__end(s, result, APMSOCK__SEND_TO, bytes_sent, NULL, err);
}
