/* main.c: apmsock-adapter's life: start, read requests, quit.
 *
 * The reader thread owns stdin.  It answers malformed lines itself, runs
 * the thread-management ops, and queues every other request to the worker
 * that must run it, so a request blocked on one thread never stops the
 * adapter from reading the next one.  The process's main thread is the
 * "main" worker; when it pops the end-of-session marker it cleans up. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"

static json_t *quit_id;   /* set by the reader before it ends the session */

static bool blank(const char *line, ssize_t n) {
  for (ssize_t i = 0; i < n; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
      return false;
  return true;
}

/* The id of a line jansson could not load, or NULL.  Valid JSON can still
 * fail to load: an integer beyond json_int_t ("too big integer", e.g. a
 * size of 99999999999999999999).  Read again with every number as a real,
 * the id is found when it is a positive whole number a double holds
 * exactly; the reply then carries it, so the harness can tie the
 * protocol_error to its request instead of to none.  Duplicate keys stay
 * refused: which "id" was meant is not readable.  Returns a new reference. */
static json_t *salvage_id(const char *line, ssize_t n) {
  json_t *req = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
  json_t *id = json_object_get(req, "id");   /* NULL when req is not an object */
  json_t *out = NULL;
  if (json_is_real(id)) {
    double v = json_real_value(id);
    if (v >= 1.0 && v <= 9007199254740992.0 && v == (double)(json_int_t)v)
      out = json_integer((json_int_t)v);
  }
  json_decref(req);
  return out;
}

/* One line of stdin; true when it ends the session (quit). */
static bool handle_line(const char *line, ssize_t n) {
  if (blank(line, n))
    return false;
  json_error_t jerr;
  json_t *req = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(req)) {
    json_t *id = req ? NULL : salvage_id(line, n);
    out_reply(id, req ? reply_protocol_error("a request is a JSON object")
                 : id ? reply_protocol_error("cannot read the request: %s", jerr.text)
                      : reply_protocol_error("not JSON: %s", jerr.text));
    json_decref(id);
    json_decref(req);
    return false;
  }
  json_t *id = json_object_get(req, "id");
  json_t *args = json_object_get(req, "args");
  json_t *thread = json_object_get(req, "thread");
  const char *op_name = json_string_value(json_object_get(req, "op"));
  const op_entry_t *op = op_lookup(op_name);
  json_t *body = NULL;
  worker_t *w = workers_main();
  if (!json_is_integer(id) || json_integer_value(id) <= 0)
    body = reply_protocol_error("\"id\" must be a positive integer");
  else if (op_name == NULL)
    body = reply_protocol_error("\"op\" must be a string");
  else if (op == NULL)
    body = reply_protocol_error("unknown op \"%.64s\"", op_name);
  else if (args != NULL && !json_is_object(args))
    body = reply_protocol_error("\"args\" must be an object");
  else if (thread != NULL && !json_is_null(thread) && op->where == OP_RUN) {
    const char *why = "must be a thread name";
    w = json_is_string(thread) ? workers_find(json_string_value(thread), &why) : NULL;
    if (w == NULL)
      body = reply_protocol_error("\"thread\": %s", why);
  }
  if (body != NULL) {
    /* Echo the id only when it is one: a made-up id would be garbage. */
    out_reply(json_is_integer(id) ? id : NULL, body);
    json_decref(req);
    return false;
  }
  if (args == NULL)
    json_object_set_new(req, "args", json_object());
  args = json_object_get(req, "args");
  bool quit = false;
  switch (op->where) {
  case OP_READER:
    if (strcmp(op->name, "thread_start") == 0)
      workers_start(id);
    else if (strcmp(op->name, "release_latch") == 0)
      out_reply(id, op->fn(args, NULL));
    else
      workers_exit(id, args);
    json_decref(req);
    break;
  case OP_QUIT:
    quit_id = json_integer(json_integer_value(id));   /* see workers_exit */
    json_decref(req);
    quit = true;
    break;
  case OP_RUN:
    worker_push(w, req);
    break;
  }
  return quit;
}

static void *reader_main(void *arg) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0)
    if (handle_line(line, n))
      break;
  free(line);
  /* quit or end of input: the main worker ends after what it has queued. */
  worker_push(workers_main(), NULL);
  return NULL;
}

int main(void) {
  /* A peer that resets a connection, or a harness that went away, must
   * give an error, not kill the adapter. */
  signal(SIGPIPE, SIG_IGN);
  json_object_seed(0);
  registry_init();
  workers_init();
  pthread_t reader;
  if (pthread_create(&reader, NULL, reader_main, NULL) != 0) {
    fputs("apmsock-adapter: cannot start the reader thread\n", stderr);
    return 1;
  }
  worker_run(workers_main());

  bool ended = workers_stop_all();
  if (ended) {
    apmsock_cleanup();
    apmsock_trace_enable(false);
    apmsock_trace_set_sink(NULL, NULL);
    apmsock_set_send_policy(NULL, NULL);
    policy_clear();
    latches_clear();
  } else {
    fputs("apmsock-adapter: a thread did not end; exiting without cleanup\n", stderr);
  }
  pthread_join(reader, NULL);
  if (quit_id != NULL)
    out_reply(quit_id, reply_ok(NULL));
  json_decref(quit_id);
  if (!ended)
    _exit(0);
  workers_free();
  registry_clear();
  return 0;
}
