/* test-arg.c: ARG-01..ARG-10, the argument exceptions raised by Begin. */
#include "tests.h"

#include <limits.h>
#include <string.h>

#define LEN 16

/* Begin with the given arguments must throw `want` naming `param`, leave no
 * result, and put nothing on the wire (the sentinel comes next). */
static void expect_arg_error(const cf_variant_t *v, const uint8_t *buf, int32_t len,
                             int32_t off, int32_t size, int null_ep, apmsock_kind_t want,
                             const char *param) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_result_t r = {0x5a5a};
  apmsock_error_t e = {0};
  apmsock_kind_t k;
  if (null_ep)
    k = apmsock_begin_send_to(p.s, buf, len, off, size, 0, NULL, NULL, NULL, &r, &e);
  else
    k = cf_begin(&p, buf, len, off, size, 0, NULL, NULL, &r, &e);
  cf_expect_kind(k, &e, want, param, v->clause);
  ck_assert_msg(r.handle == 0, "%s: a Begin that threw left a result handle", v->clause);
  cf_expect_sentinel(&p, v->clause);
  cf_pair_close(&p);
}

void cf_arg_null_buffer(const cf_variant_t *v) {
  expect_arg_error(v, NULL, 0, 0, 0, 0, APMSOCK_ARGUMENT_NULL, "buffer");
}

void cf_arg_offset_negative(const cf_variant_t *v) {
  uint8_t *b = cf_guarded(LEN);
  expect_arg_error(v, b, LEN, -1, 1, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "offset");
  cf_guarded_free(b, LEN);
}

void cf_arg_offset_past_end(const cf_variant_t *v) {
  uint8_t *b = cf_guarded(LEN);
  expect_arg_error(v, b, LEN, LEN + 1, 0, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "offset");
  cf_guarded_free(b, LEN);
}

void cf_arg_size_negative(const cf_variant_t *v) {
  uint8_t *b = cf_guarded(LEN);
  expect_arg_error(v, b, LEN, 0, -1, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "size");
  cf_guarded_free(b, LEN);
}

void cf_arg_size_past_end(const cf_variant_t *v) {
  uint8_t *b = cf_guarded(LEN);
  expect_arg_error(v, b, LEN, 4, LEN - 4 + 1, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "size");
  cf_guarded_free(b, LEN);
}

void cf_arg_remote_ep_null(const cf_variant_t *v) {
  uint8_t b[LEN] = {1};
  expect_arg_error(v, b, LEN, 0, LEN, 1, APMSOCK_ARGUMENT_NULL,
                   "remoteEP");
}

void cf_arg_overflow(const cf_variant_t *v) {
  /* offset + size wraps a 32-bit int: a naive check would accept it and
   * read past the buffer, which ends at a guard page. */
  uint8_t *b = cf_guarded(LEN);
  expect_arg_error(v, b, LEN, 8, INT32_MAX - 4, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "size");
  expect_arg_error(v, b, LEN, 1, INT32_MAX, 0, APMSOCK_ARGUMENT_OUT_OF_RANGE, "size");
  cf_guarded_free(b, LEN);
}

void cf_arg_boundaries(const cf_variant_t *v) {
  uint8_t *b = cf_guarded(LEN);
  cf_pattern(b, LEN, 6);
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_error_t e = {0};
  apmsock_result_t r;
  int32_t n = -1;

  /* offset == Length with size 0 is legal (an empty send). */
  cf_expect_ok(cf_begin(&p, b, LEN, LEN, 0, 0, NULL, NULL, &r, &e), &e,
               "ARG-06: offset == buffer.Length, size 0");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "ARG-06: End of the empty send");
  ck_assert_msg(n == 0, "ARG-06: End returned %d for size 0", n);
  cf_release(r);
  if (v->transport == CF_UDP) cf_expect_peer_gets(&p, b, 0, "ARG-06: the empty datagram");

  /* size == Length - offset reads up to the last byte and not beyond. */
  cf_expect_ok(cf_begin(&p, b, LEN, 5, LEN - 5, 0, NULL, NULL, &r, &e), &e,
               "ARG-06: size == buffer.Length - offset");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "ARG-06: End");
  ck_assert_msg(n == LEN - 5, "ARG-06: End returned %d, expected %d", n, LEN - 5);
  cf_release(r);
  cf_expect_peer_gets(&p, b + 5, LEN - 5, "ARG-06: the bytes [offset, Length)");
  cf_expect_sentinel(&p, "ARG-06");
  cf_pair_close(&p);
  cf_guarded_free(b, LEN);
}

static void record_combo(const cf_variant_t *v, const char *what, apmsock_kind_t k,
                         const apmsock_error_t *e) {
  cf_info(v->clause, v->test, "%s -> %s param=%s", what,
          k == APMSOCK_OK ? "OK" : apmsock_kind_name(k), e->param_name ? e->param_name : "-");
}

void cf_arg_several_info(const cf_variant_t *v) {
  /* INFO: which of several bad arguments is reported; recorded, never failed. */
  uint8_t b[LEN] = {0};
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  apmsock_kind_t k;
  k = apmsock_begin_send_to(p.s, NULL, 0, -1, -1, 0, NULL, NULL, NULL, &r, &e);
  record_combo(v, "buffer null, offset -1, size -1, remoteEP null", k, &e);
  k = apmsock_begin_send_to(p.s, b, LEN, -1, -1, 0, NULL, NULL, NULL, &r, &e);
  record_combo(v, "offset -1, size -1, remoteEP null", k, &e);
  k = apmsock_begin_send_to(p.s, b, LEN, LEN + 1, -1, 0, CF_SA(&p.peer_addr), NULL, NULL, &r, &e);
  record_combo(v, "offset > Length, size -1", k, &e);
  k = apmsock_begin_send(p.s, NULL, 0, -1, -1, 0x4000, NULL, NULL, &r, &e);
  record_combo(v, "BeginSend: buffer null, offset -1, size -1, invalid flags", k, &e);
  apmsock_close(p.s, NULL);
  k = apmsock_begin_send_to(p.s, NULL, 0, -1, -1, 0, NULL, NULL, NULL, &r, &e);
  record_combo(v, "closed socket, buffer null, offset -1, size -1, remoteEP null", k, &e);
  ck_assert_msg(k != APMSOCK_OK, "ARG-09: a Begin with every argument bad succeeded");
  cf_pair_close(&p);
}

void cf_arg_no_side_effect(const cf_variant_t *v) {
  /* ARG-10: every argument exception leaves nothing behind: no operation
   * counted, no result, no callback ever, nothing on the wire. */
  uint8_t *b = cf_guarded(LEN);
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  cf_cb_t cb;
  cf_cb_init(&cb);
  struct {
    const uint8_t *buf;
    int32_t off, size;
    int null_ep;
  } bad[] = {
      {NULL, 0, 0, 0},      {b, -1, 1, 0},         {b, LEN + 1, 0, 0}, {b, 0, -1, 0},
      {b, 4, LEN - 3, 0},   {b, 8, INT32_MAX - 4, 0}, {b, 0, LEN, 1},
  };
  apmsock_stats_t before, after;
  apmsock_get_stats(&before);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    apmsock_result_t r = {0x5a5a};
    apmsock_error_t e = {0};
    apmsock_kind_t k;
    if (bad[i].null_ep) {
      if (v->method != CF_SEND_TO) continue;
      k = apmsock_begin_send_to(p.s, bad[i].buf, LEN, bad[i].off, bad[i].size, 0, NULL,
                                cf_callback, &cb, &r, &e);
    } else {
      k = cf_begin(&p, bad[i].buf, LEN, bad[i].off, bad[i].size, 0, cf_callback, &cb, &r, &e);
    }
    ck_assert_msg(k == APMSOCK_ARGUMENT_NULL || k == APMSOCK_ARGUMENT_OUT_OF_RANGE,
                  "ARG-10: bad argument set %zu: expected an argument exception, got %s", i,
                  k == APMSOCK_OK ? "success" : apmsock_kind_name(k));
    ck_assert_msg(r.handle == 0, "ARG-10: bad argument set %zu left a result", i);
  }
  {
    /* A negative buffer_length (the header's, no .NET counterpart). */
    apmsock_result_t r = {0x5a5a};
    apmsock_error_t e = {0};
    apmsock_kind_t k = cf_begin(&p, b, -1, 0, 0, 0, cf_callback, &cb, &r, &e);
    cf_expect_kind(k, &e, APMSOCK_ARGUMENT_OUT_OF_RANGE, "buffer", "ARG-10: buffer_length -1");
    ck_assert_msg(r.handle == 0, "ARG-10: buffer_length -1 left a result");
  }
  apmsock_get_stats(&after);
  ck_assert_msg(after.operations_started == before.operations_started,
                "ARG-10: operations_started moved by %llu after argument exceptions",
                (unsigned long long)(after.operations_started - before.operations_started));
  cf_expect_sentinel(&p, "ARG-10");

  /* One good operation with the same callback: afterwards, with the library
   * cleaned up (no callback can still be on its way), exactly one call. */
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_pattern(b, LEN, 10);
  cf_expect_ok(cf_begin(&p, b, LEN, 0, LEN, 0, cf_callback, &cb, &r, &e), &e, "ARG-10: good send");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "ARG-10: End of the good send");
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "ARG-10: the good send's callback never ran");
  cf_release(r);
  cf_expect_peer_gets(&p, b, LEN, "ARG-10: good send");
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(cf_cb_calls(&cb) == 1,
                "ARG-10: %d callbacks ran; only the good send should have one", cf_cb_calls(&cb));
  cf_guarded_free(b, LEN);
}
