/* test-end.c: END-01..END-05, EndSend / EndSendTo. */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMALL 64

static apmsock_kind_t end_other_method(cf_pair_t *p, apmsock_result_t r, int32_t *n,
                                       apmsock_error_t *e) {
  return p->v->method == CF_SEND_TO ? apmsock_end_send(p->s, r, n, e)
                                    : apmsock_end_send_to(p->s, r, n, e);
}

/* Opens the pair and begins a BeginSendTo `extra` bytes above the largest
 * datagram: Begin succeeds (its error belongs to End), End throws MessageSize
 * (`what`).  Returns the ended result; the caller releases it and closes p. */
static apmsock_result_t oversize_ended(const cf_variant_t *v, cf_pair_t *p, size_t extra,
                                       unsigned seed, const char *what) {
  size_t len = cf_max_datagram(v->family) + extra;
  uint8_t *buf = cf_pattern_alloc(len, seed);
  cf_pair_open(v, p, 0);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_begin(p, buf, (int32_t)len, 0, (int32_t)len, 0, NULL, NULL, &r, &e), &e,
               "BeginSendTo (oversize)");
  cf_expect_socket_error(cf_end(p, r, &n, &e), &e, APMSOCK_SE_MESSAGE_SIZE, what);
  cf_big_free(buf); /* the operation is over */
  return r;
}

void cf_end_null(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_error_t e = {0};
  int32_t n = 7;
  apmsock_kind_t k = cf_end(&p, APMSOCK_NULL_RESULT, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_ARGUMENT_NULL, "asyncResult", "END-01: End(null)");
  cf_expect_sentinel(&p, "END-01");
  cf_pair_close(&p);
}

void cf_end_foreign(const cf_variant_t *v) {
  cf_pair_t p, q;
  cf_pair_open(v, &p, 0);
  cf_pair_open(v, &q, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 50);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, NULL, &r, &e), &e, "Begin");
  /* Another socket's End. */
  apmsock_kind_t k = cf_end(&q, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_ARGUMENT, "asyncResult", "END-02: End on another socket");
  /* The other method's End (a BeginSendTo result to EndSend and back). */
  k = end_other_method(&p, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_ARGUMENT, "asyncResult", "END-02: End of the other method");
  /* Bad input loses nothing: the right End still reports the send. */
  cf_end_ok(&p, r, SMALL, "END-02: the right End afterwards");
  /* A released result is no longer this socket's. */
  k = cf_end(&p, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_ARGUMENT, "asyncResult", "END-02: End of a released result");
  cf_expect_peer_gets(&p, buf, SMALL, "END-02");
  cf_pair_close(&q);
  cf_pair_close(&p);
}

void cf_end_twice(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 51);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, NULL, &r, &e), &e, "Begin");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "first End");
  n = -1;
  apmsock_kind_t k = cf_end(&p, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_INVALID_OPERATION, NULL, "END-03: second End");
  cf_release(r);
  cf_expect_peer_gets(&p, buf, SMALL, "END-03");
  cf_pair_close(&p);
}

void cf_end_failed_datagram(const cf_variant_t *v) {
  /* A BeginSendTo that fails in transmission: End throws with its error. */
  cf_pair_t p;
  cf_release(oversize_ended(v, &p, 100, 56, "END-04: EndSendTo"));
  cf_expect_sentinel(&p, "END-04");
  cf_pair_close(&p);
}

void cf_end_failed_stream(const cf_variant_t *v) {
  /* A pending stream send whose peer resets: End throws ConnectionReset. */
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 52);
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r = cf_begin_pending(&p, buf, CF_BIG, cf_callback, &cb, "END-04: the send");
  apmsock_error_t e = {0};
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(p.peer_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(p.peer_fd);
  p.peer_fd = -1;
  int32_t n = -1;
  cf_expect_socket_error(cf_end(&p, r, &n, &e), &e, APMSOCK_SE_CONNECTION_RESET,
                         "END-04: End of a send the peer reset");
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "END-04: the failed operation ran no callback");
  cf_release(r);
  cf_pair_close(&p);
  cf_big_free(buf);
}

void cf_end_closed(const cf_variant_t *v) {
  /* Close with a send pending: End says ObjectDisposed carrying 995. */
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 53);
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r = cf_begin_pending(&p, buf, CF_BIG, cf_callback, &cb, "END-05: the send");
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_close(p.s, &e), &e, "Close with a send pending");
  int32_t n = -1;
  apmsock_kind_t k = cf_end(&p, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_OBJECT_DISPOSED, NULL, "END-05: End after Close");
  ck_assert_msg(e.socket_error == APMSOCK_SE_OPERATION_ABORTED,
                "END-05: ObjectDisposed carries SocketError %d, expected OperationAborted 995",
                e.socket_error);
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "END-05: the aborted operation ran no callback");
  cf_release(r);
  cf_pair_close(&p);
  cf_big_free(buf);
}

void cf_end_null_everywhere(const cf_variant_t *v) {
  /* The null result on every call that takes one, and End on the null socket. */
  apmsock_error_t e = {0};
  apmsock_result_status_t st;
  bool sig = true;
  cf_expect_kind(apmsock_result_status(APMSOCK_NULL_RESULT, &st, &e), &e, APMSOCK_ARGUMENT_NULL,
                 "asyncResult", "END-01: status(null)");
  cf_expect_kind(apmsock_result_wait(APMSOCK_NULL_RESULT, 0, &sig, &e), &e, APMSOCK_ARGUMENT_NULL,
                 "asyncResult", "END-01: WaitOne(null)");
  ck_assert_msg(!sig, "END-01: WaitOne(null) signaled");
  cf_expect_kind(apmsock_result_release(APMSOCK_NULL_RESULT, &e), &e, APMSOCK_ARGUMENT_NULL,
                 "asyncResult", "END-01: release(null)");
  ck_assert_msg(apmsock_result_state(APMSOCK_NULL_RESULT) == NULL, "END-01: AsyncState(null)");
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 54);
  apmsock_result_t r;
  int32_t n = -1;
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, NULL, &r, &e), &e, "Begin");
  apmsock_kind_t k = v->method == CF_SEND_TO ? apmsock_end_send_to(APMSOCK_NULL_SOCKET, r, &n, &e)
                                             : apmsock_end_send(APMSOCK_NULL_SOCKET, r, &n, &e);
  cf_expect_kind(k, &e, APMSOCK_ARGUMENT_NULL, "socket", "END-01: End on the null socket");
  cf_end_ok(&p, r, SMALL, "END-01: the right End afterwards");
  cf_expect_peer_gets(&p, buf, SMALL, "END-01");
  cf_pair_close(&p);
}

void cf_end_released_everywhere(const cf_variant_t *v) {
  /* A released result is nobody's: ArgumentException("asyncResult") everywhere. */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 55);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, &p, &r, &e), &e, "Begin");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End");
  cf_release(r);
  apmsock_result_status_t st;
  bool sig = true;
  cf_expect_kind(apmsock_result_status(r, &st, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: status of a released result");
  cf_expect_kind(apmsock_result_wait(r, 0, &sig, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: WaitOne of a released result");
  cf_expect_kind(apmsock_result_release(r, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: release twice");
  ck_assert_msg(apmsock_result_state(r) == NULL, "END-02: AsyncState of a released result");
  cf_expect_peer_gets(&p, buf, SMALL, "END-02");
  cf_pair_close(&p);
}

void cf_end_released_reused(const cf_variant_t *v) {
  /* A released result stays nobody's when the implementation has given its
   * record to the next operation (a thread's next Begin, in an
   * implementation that reuses records): it must not name that operation,
   * and releasing it again must not release the new one. */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 58);
  apmsock_result_t old, r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, NULL, &old, &e), &e, "Begin");
  cf_expect_ok(cf_end(&p, old, &n, &e), &e, "End");
  cf_release(old);
  cf_expect_ok(cf_begin(&p, buf, SMALL, 0, SMALL, 0, NULL, &p, &r, &e), &e, "the next Begin");
  ck_assert_msg(r.handle != old.handle, "END-02: the next operation's result has the released handle");
  apmsock_result_status_t st;
  cf_expect_kind(apmsock_result_status(old, &st, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: status of a released result whose record was reused");
  ck_assert_msg(apmsock_result_state(old) == NULL, "END-02: AsyncState of a released result");
  cf_expect_kind(cf_end(&p, old, &n, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: End of a released result whose record was reused");
  cf_expect_kind(apmsock_result_release(old, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                 "END-02: release of a released result whose record was reused");
  ck_assert_msg(apmsock_result_state(r) == &p, "END-02: the next operation lost its state");
  cf_end_ok(&p, r, SMALL, "END-02: End of the next operation");
  cf_expect_peer_gets(&p, buf, SMALL, "END-02: the first send");
  cf_expect_peer_gets(&p, buf, SMALL, "END-02: the next send");
  cf_pair_close(&p);
}

void cf_end_twice_failed(const cf_variant_t *v) {
  /* A second End of an operation that failed: InvalidOperation, not the
   * failure again. */
  cf_pair_t p;
  apmsock_result_t r = oversize_ended(v, &p, 1, 57, "END-03: first EndSendTo");
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_kind(cf_end(&p, r, &n, &e), &e, APMSOCK_INVALID_OPERATION, NULL,
                 "END-03: second End of a failed operation");
  cf_release(r);
  cf_pair_close(&p);
}
