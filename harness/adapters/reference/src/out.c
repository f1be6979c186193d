/* out.c: stdout belongs to the protocol; every line goes through here so
 * that replies, callback events and trace events never interleave. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"

static pthread_mutex_t out_mutex = PTHREAD_MUTEX_INITIALIZER;
static json_int_t callback_seq;   /* guarded by out_mutex */

static void write_locked(json_t *line) {
  char *text = json_dumps(line, JSON_COMPACT);
  if (text == NULL) {
    /* Only out of memory gets here; a partial line would be garbage. */
    fputs("apmsock-adapter: cannot encode a line\n", stderr);
    return;
  }
  fputs(text, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  free(text);
}

void *alloc_or_die(void *p) {
  if (p == NULL) {
    fputs("apmsock-adapter: out of memory\n", stderr);
    abort();
  }
  return p;
}

void out_line(json_t *line) {
  pthread_mutex_lock(&out_mutex);
  write_locked(line);
  pthread_mutex_unlock(&out_mutex);
  json_decref(line);
}

json_t *json_text(const char *s) {
  json_t *v = json_string(s ? s : "");
  /* Only a message cut in the middle of a character can fail here. */
  return v ? v : json_string("(message not valid UTF-8)");
}

void out_reply(json_t *id, json_t *body) {
  json_t *line = json_object();
  if (body == NULL)
    body = json_pack("{s:b, s:s}", "ok", 0, "protocol_error", "adapter: cannot encode the reply");
  json_object_set(line, "id", id ? id : json_null());
  json_object_update(line, body);
  json_decref(body);
  out_line(line);
}

void out_callback_event(json_t *event) {
  pthread_mutex_lock(&out_mutex);
  /* Numbered under the lock so that seq grows in the order lines appear. */
  json_object_set_new(event, "seq", json_integer(++callback_seq));
  write_locked(event);
  pthread_mutex_unlock(&out_mutex);
  json_decref(event);
}

void out_log(const char *fmt, ...) {
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  out_line(json_pack("{s:s, s:o}", "event", "log", "message", json_text(message)));
}

json_t *reply_ok(json_t *result) {
  return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_object());
}

json_t *error_object(apmsock_kind_t kind, const apmsock_error_t *err) {
  json_t *e = json_object();
  json_object_set_new(e, "type", json_text(apmsock_kind_name(kind)));
  json_object_set_new(e, "param", err->param_name ? json_text(err->param_name) : json_null());
  if (kind == APMSOCK_SOCKET || err->socket_error != 0) {
    json_object_set_new(e, "socket_error", json_text(apmsock_socket_error_name(err->socket_error)));
    json_object_set_new(e, "socket_error_code", json_integer(err->socket_error));
  } else {
    json_object_set_new(e, "socket_error", json_null());
    json_object_set_new(e, "socket_error_code", json_null());
  }
  json_object_set_new(e, "errno", err->native_errno ? json_integer(err->native_errno) : json_null());
  json_object_set_new(e, "message", json_text(err->message));
  return e;
}

json_t *reply_error(apmsock_kind_t kind, const apmsock_error_t *err) {
  return json_pack("{s:b, s:o}", "ok", 0, "error", error_object(kind, err));
}

json_t *reply_outcome(apmsock_kind_t kind, const apmsock_error_t *err) {
  return kind == APMSOCK_OK ? reply_ok(NULL) : reply_error(kind, err);
}

json_t *reply_protocol_error(const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return json_pack("{s:b, s:o}", "ok", 0, "protocol_error", json_text(why));
}

json_t *reply_unsupported(const char *why) {
  return json_pack("{s:b, s:s}", "ok", 0, "unsupported", why);
}

void thread_identity(char *buf, size_t len) {
  snprintf(buf, len, "tid:%ld", (long)gettid());
}
