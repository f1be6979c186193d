/* ops_send.c: the API under test.  BeginSend/BeginSendTo, their End, the
 * IAsyncResult (status, wait, release) and the AsyncCallback, which
 * reports itself as a "callback" event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static json_t *result_name(const op_rec_t *rec) {
  char name[24];
  snprintf(name, sizeof name, "r%u", rec->number);
  return json_string(name);
}

static apmsock_kind_t call_end(send_method_t method, apmsock_socket_t s, apmsock_result_t r,
                               int32_t *bytes, apmsock_error_t *err) {
  return method == METHOD_SEND ? apmsock_end_send(s, r, bytes, err)
                               : apmsock_end_send_to(s, r, bytes, err);
}

/* The AsyncCallback given to every Begin that asks for one.  It runs on a
 * library thread; all it needs comes from the result handle and the state
 * token, never from what Begin's caller has stored (it may not have yet). */
static void on_callback(apmsock_result_t r) {
  char identity[32];
  thread_identity(identity, sizeof identity);
  op_rec_t *rec = registry_op_by_token(apmsock_result_state(r));
  /* IsCompleted as the callback sees it, before any End (ASYNC-03). */
  apmsock_result_status_t st = {0};
  bool completed = apmsock_result_status(r, &st, NULL) == APMSOCK_OK && st.is_completed;

  json_t *ev = json_object();
  json_object_set_new(ev, "event", json_string("callback"));
  json_object_set_new(ev, "seq", json_integer(0));   /* numbered when written */
  json_object_set_new(ev, "result", rec ? result_name(rec) : json_null());
  json_object_set_new(ev, "thread", json_string(identity));
  json_object_set_new(ev, "is_completed", json_boolean(completed));
  json_object_set_new(ev, "state", rec && rec->state ? json_text(rec->state) : json_null());
  char name[24] = "";
  if (rec != NULL) {
    snprintf(name, sizeof name, "r%u", rec->number);
    /* The name must resolve inside the callback ($self in a script) even
     * when Begin has not returned yet: the same handle Begin will issue. */
    if (rec->script != NULL)
      registry_issue_op(rec, r);
  }
  if (rec != NULL && rec->hold_latch != NULL)
    json_object_set_new(ev, "hold", callback_hold(rec, name, identity));
  if (rec != NULL && rec->end_in_callback) {
    apmsock_error_t err = {0};
    int32_t bytes = 0;
    apmsock_kind_t kind = call_end(rec->method, rec->socket, r, &bytes, &err);
    json_object_set_new(ev, "end", kind == APMSOCK_OK
                                       ? json_pack("{s:b, s:i}", "ok", 1, "bytes", (int)bytes)
                                       : json_pack("{s:b, s:o}", "ok", 0, "error",
                                                   error_object(kind, &err)));
  }
  if (rec != NULL && rec->script != NULL)
    json_object_set_new(ev, "script", callback_script_run(rec, name, identity));
  if (rec == NULL)
    out_log("callback for a result whose state is not one the adapter gave to Begin");
  registry_release_buffer_if_done(rec, r);
  out_callback_event(ev);
}

static json_t *begin(json_t *args, const request_ctx_t *ctx, send_method_t method) {
  argp_t p;
  apmsock_socket_t s;
  uint8_t *buffer = NULL;
  int32_t length = 0, offset = 0, size = 0, flags = 0;
  struct sockaddr_storage ep;
  bool ep_null = true, callback = false, end_in_callback = false;
  char *state = NULL;

  argp_init(&p, args);
  arg_socket(&p, "socket", &s);
  arg_int32(&p, "offset", &offset);
  arg_int32(&p, "size", &size);
  arg_int32(&p, "flags", &flags);
  if (method == METHOD_SEND_TO)
    arg_endpoint(&p, "endpoint", &ep, &ep_null);
  arg_bool_opt(&p, "callback", false, &callback);
  arg_bool_opt(&p, "end_in_callback", false, &end_in_callback);
  if (argp_ok(&p) && end_in_callback && !callback)
    argp_fail(&p, "end_in_callback needs callback: true");
  arg_string_or_null_opt(&p, "state", &state);
  json_t *script = json_object_get(args, "callback_script");
  json_t *hold = json_object_get(args, "hold");
  char *latch = NULL;
  int32_t hold_ms = 0;
  if (json_is_null(script))
    script = NULL;
  if (json_is_null(hold))
    hold = NULL;
  if (argp_ok(&p) && (script != NULL || hold != NULL) && !callback)
    argp_fail(&p, "callback_script and hold need callback: true");
  if (argp_ok(&p) && script != NULL && !script_valid(script, 1, p.why, sizeof p.why))
    p.why[sizeof p.why - 1] = '\0';   /* argp_ok is now false: p.why is set */
  if (argp_ok(&p) && hold != NULL && !hold_parse(hold, &latch, &hold_ms, p.why, sizeof p.why))
    p.why[sizeof p.why - 1] = '\0';
  /* Last: on any earlier failure nothing was allocated for it. */
  arg_buffer(&p, "buffer", &buffer, &length);
  if (!argp_ok(&p)) {
    free(state);
    free(buffer);
    free(latch);
    return argp_reply(&p);
  }

  op_rec_t *rec = registry_new_op(method, s, buffer, state, end_in_callback);
  rec->script = json_incref(script);
  rec->hold_latch = latch;
  rec->hold_ms = hold_ms;
  apmsock_callback_t cb = callback ? on_callback : NULL;
  void *token = registry_op_token(rec);
  apmsock_result_t r = APMSOCK_NULL_RESULT;
  apmsock_error_t err = {0};
  apmsock_kind_t kind =
      method == METHOD_SEND
          ? apmsock_begin_send(s, buffer, length, offset, size, flags, cb, token, &r, &err)
          : apmsock_begin_send_to(s, buffer, length, offset, size, flags,
                                  ep_null ? NULL : (struct sockaddr *)&ep, cb, token, &r, &err);
  if (kind != APMSOCK_OK) {
    /* No operation started (ARG-10): nothing holds the buffer. */
    registry_drop_op(rec);
    return reply_error(kind, &err);
  }
  registry_issue_op(rec, r);
  apmsock_result_status_t st = {0};
  apmsock_result_status(r, &st, NULL);
  registry_release_buffer_if_done(rec, r);
  return reply_ok(json_pack("{s:o, s:s, s:b}", "result", result_name(rec), "thread",
                            ctx->identity, "completed_synchronously",
                            st.completed_synchronously));
}

json_t *op_begin_send(json_t *args, const request_ctx_t *ctx) {
  return begin(args, ctx, METHOD_SEND);
}

json_t *op_begin_send_to(json_t *args, const request_ctx_t *ctx) {
  return begin(args, ctx, METHOD_SEND_TO);
}

static json_t *end(json_t *args, send_method_t method) {
  argp_t p;
  apmsock_socket_t s;
  apmsock_result_t r;
  op_rec_t *rec;
  argp_init(&p, args);
  arg_socket(&p, "socket", &s);
  arg_result(&p, "result", &r, &rec);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  int32_t bytes = 0;
  apmsock_kind_t kind = call_end(method, s, r, &bytes, &err);
  registry_release_buffer_if_done(rec, r);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  return reply_ok(json_pack("{s:i}", "bytes", (int)bytes));
}

json_t *op_end_send(json_t *args, const request_ctx_t *ctx) { return end(args, METHOD_SEND); }

json_t *op_end_send_to(json_t *args, const request_ctx_t *ctx) {
  return end(args, METHOD_SEND_TO);
}

/* status, wait and release: a result first. */
static bool result_arg(argp_t *p, json_t *args, apmsock_result_t *r, op_rec_t **rec) {
  argp_init(p, args);
  arg_result(p, "result", r, rec);
  return argp_ok(p);
}

json_t *op_status(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_result_t r;
  op_rec_t *rec;
  if (!result_arg(&p, args, &r, &rec))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  apmsock_result_status_t st = {0};
  apmsock_kind_t kind = apmsock_result_status(r, &st, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  registry_release_buffer_if_done(rec, r);
  /* The state the library hands back, mapped to the string it stands for:
   * a wrong state shows as another result's string (ASYNC-01). */
  op_rec_t *owner = registry_op_by_token(st.state);
  if (owner == NULL)
    out_log("status: the result's state is not one the adapter gave to Begin");
  return reply_ok(json_pack("{s:b, s:b, s:o}", "is_completed", st.is_completed,
                            "completed_synchronously", st.completed_synchronously, "state",
                            owner && owner->state ? json_text(owner->state) : json_null()));
}

json_t *op_wait(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_result_t r;
  op_rec_t *rec;
  int32_t timeout = 0;
  result_arg(&p, args, &r, &rec);
  arg_int32(&p, "timeout_ms", &timeout);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  bool signaled = false;
  apmsock_kind_t kind = apmsock_result_wait(r, timeout, &signaled, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  if (signaled)
    registry_release_buffer_if_done(rec, r);
  return reply_ok(json_pack("{s:b}", "signaled", signaled));
}

json_t *op_release(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_result_t r;
  op_rec_t *rec;
  if (!result_arg(&p, args, &r, &rec))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  apmsock_kind_t kind = apmsock_result_release(r, &err);
  /* Only a completed operation's result can be released. */
  if (kind == APMSOCK_OK)
    registry_free_buffer(rec);
  return reply_outcome(kind, &err);
}
