/* ops_script.c: protocol 1.1 inside a callback (PROTOCOL.md, "Protocol
 * 1.1").  A Begin may carry `hold` (the callback waits on a named latch,
 * bounded) and `callback_script` (requests the callback runs, in order);
 * `release_latch` opens a latch; `send`/`send_to` are the synchronous
 * call, which the reference has no entry point for: Begin then End on the
 * requesting thread, so that they keep their place among the thread's other
 * requests.
 *
 * Design notes.  Latches live in one list under latch_mutex, a leaf lock
 * never held while calling the library or writing stdout.  A latch once
 * released stays open (releasing before anyone waits is allowed) and is
 * never freed before quit.  A held callback waits with a deadline, so a
 * latch nobody releases costs at most its timeout_ms, never a hang.  A
 * script is validated whole at Begin (shape, ops, nesting depth): a bad
 * script is a protocol_error and no operation starts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

#define SCRIPT_MAX_DEPTH 4
#define SCRIPT_MAX_STEPS 64

typedef struct latch {
  struct latch *next;
  char *name;
  bool open;
  int waiters;
} latch_t;

static pthread_mutex_t latch_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t latch_cond;
static pthread_once_t latch_once = PTHREAD_ONCE_INIT;
static latch_t *latches;

static void latch_init(void) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&latch_cond, &attr);
  pthread_condattr_destroy(&attr);
}

/* Caller holds latch_mutex. */
static latch_t *latch_get(const char *name) {
  for (latch_t *l = latches; l; l = l->next)
    if (strcmp(l->name, name) == 0)
      return l;
  latch_t *l = alloc_or_die(calloc(1, sizeof *l));
  l->name = alloc_or_die(strdup(name));
  l->next = latches;
  latches = l;
  return l;
}

/* Counts the calling (callback) thread as a waiter of `name`; then
 * latch_wait blocks it until the latch is released or timeout_ms passed
 * (true when released).  Two steps so that the "held" event is written
 * between them: a release_latch sent on seeing it finds the waiter. */
static latch_t *latch_enter(const char *name) {
  pthread_once(&latch_once, latch_init);
  pthread_mutex_lock(&latch_mutex);
  latch_t *l = latch_get(name);
  l->waiters++;
  pthread_mutex_unlock(&latch_mutex);
  return l;
}

static bool latch_wait(latch_t *l, int32_t timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&latch_mutex);
  int rc = 0;
  while (!l->open && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&latch_cond, &latch_mutex, &until);
  bool open = l->open;
  l->waiters--;
  pthread_mutex_unlock(&latch_mutex);
  return open;
}

json_t *op_release_latch(json_t *args, const request_ctx_t *ctx) {
  const char *name = json_string_value(json_object_get(args, "latch"));
  if (name == NULL || name[0] == '\0')
    return reply_protocol_error("argument \"latch\" must be a non-empty string");
  pthread_once(&latch_once, latch_init);
  pthread_mutex_lock(&latch_mutex);
  latch_t *l = latch_get(name);
  l->open = true;
  int waiters = l->waiters;
  pthread_cond_broadcast(&latch_cond);
  pthread_mutex_unlock(&latch_mutex);
  return reply_ok(json_pack("{s:i}", "waiters", waiters));
}

void latches_clear(void) {
  pthread_mutex_lock(&latch_mutex);
  while (latches) {
    latch_t *l = latches;
    latches = l->next;
    free(l->name);
    free(l);
  }
  pthread_mutex_unlock(&latch_mutex);
}

/* ---- validation at Begin -------------------------------------------------- */

static const char *const script_ops[] = {"end_send", "end_send_to", "close", "begin_send",
                                         "begin_send_to", "status", "wait", "shutdown",
                                         "set_option", NULL};

static bool script_op_allowed(const char *op) {
  for (const char *const *o = script_ops; op && *o; o++)
    if (strcmp(*o, op) == 0)
      return true;
  return false;
}

bool script_valid(json_t *script, int depth, char *why, size_t len) {
  if (!json_is_array(script)) {
    snprintf(why, len, "\"callback_script\" must be an array");
    return false;
  }
  if (depth > SCRIPT_MAX_DEPTH || json_array_size(script) > SCRIPT_MAX_STEPS) {
    snprintf(why, len, "\"callback_script\": at most %d steps, nested %d deep", SCRIPT_MAX_STEPS,
             SCRIPT_MAX_DEPTH);
    return false;
  }
  size_t i;
  json_t *step;
  json_array_foreach(script, i, step) {
    const char *op = json_string_value(json_object_get(step, "op"));
    json_t *args = json_object_get(step, "args");
    if (!json_is_object(step) || !script_op_allowed(op) ||
        (args != NULL && !json_is_object(args))) {
      snprintf(why, len, "\"callback_script\"[%zu]: an object with \"op\" one of end_send, "
               "end_send_to, close, begin_send, begin_send_to, status, wait, shutdown, "
               "set_option and \"args\" an object", i);
      return false;
    }
    json_t *nested = json_object_get(args, "callback_script");
    if (nested != NULL && !json_is_null(nested) && !script_valid(nested, depth + 1, why, len))
      return false;
  }
  return true;
}

bool hold_parse(json_t *hold, char **latch, int32_t *timeout_ms, char *why, size_t len) {
  const char *name = json_string_value(json_object_get(hold, "latch"));
  json_t *t = json_object_get(hold, "timeout_ms");
  json_int_t ms = json_is_integer(t) ? json_integer_value(t) : -1;
  if (!json_is_object(hold) || name == NULL || name[0] == '\0' || ms < 1 || ms > 60000) {
    snprintf(why, len, "\"hold\" must be {\"latch\": name, \"timeout_ms\": 1..60000}");
    return false;
  }
  *latch = alloc_or_die(strdup(name));
  *timeout_ms = (int32_t)ms;
  return true;
}

/* ---- inside the callback -------------------------------------------------- */

json_t *callback_hold(op_rec_t *rec, const char *result_name, const char *identity) {
  latch_t *l = latch_enter(rec->hold_latch);
  out_line(json_pack("{s:s, s:s, s:s, s:s}", "event", "held", "result", result_name, "latch",
                     rec->hold_latch, "thread", identity));
  bool released = latch_wait(l, rec->hold_ms);
  return json_pack("{s:s, s:s}", "latch", rec->hold_latch, "by",
                   released ? "release_latch" : "timeout");
}

json_t *callback_script_run(op_rec_t *rec, const char *result_name, const char *identity) {
  json_t *outcomes = json_array();
  request_ctx_t ctx = {identity};
  size_t i;
  json_t *step;
  json_array_foreach(rec->script, i, step) {
    const char *op_name = json_string_value(json_object_get(step, "op"));
    const op_entry_t *op = op_lookup(op_name);
    json_t *args = json_deep_copy(json_object_get(step, "args"));
    if (args == NULL)
      args = json_object();
    /* "$self": the operation whose callback this is. */
    const char *res = json_string_value(json_object_get(args, "result"));
    if (res != NULL && strcmp(res, "$self") == 0)
      json_object_set_new(args, "result", json_string(result_name));
    json_t *body = op->fn(args, &ctx);
    json_decref(args);
    json_object_set_new(body, "op", json_string(op_name));
    json_array_append_new(outcomes, body);
  }
  return outcomes;
}

/* ---- the synchronous send ------------------------------------------------- */

static json_t *sync_send(json_t *args, const request_ctx_t *ctx, bool to) {
  json_t *a = json_deep_copy(args);
  json_object_set_new(a, "callback", json_false());
  json_object_del(a, "end_in_callback");
  json_object_del(a, "callback_script");
  json_object_del(a, "hold");
  json_t *b = to ? op_begin_send_to(a, ctx) : op_begin_send(a, ctx);
  json_decref(a);
  if (!json_is_true(json_object_get(b, "ok")))
    return b;
  json_t *r = json_object_get(json_object_get(b, "result"), "result");
  json_t *ea = json_pack("{s:O, s:O}", "socket", json_object_get(args, "socket"), "result", r);
  json_t *e = to ? op_end_send_to(ea, ctx) : op_end_send(ea, ctx);
  /* The operation is complete (End returned or threw): forget it. */
  json_t *ra = json_pack("{s:O}", "result", r);
  json_decref(op_release(ra, ctx));
  json_decref(ra);
  json_decref(ea);
  json_decref(b);
  return e;
}

json_t *op_send(json_t *args, const request_ctx_t *ctx) { return sync_send(args, ctx, false); }

json_t *op_send_to(json_t *args, const request_ctx_t *ctx) { return sync_send(args, ctx, true); }
