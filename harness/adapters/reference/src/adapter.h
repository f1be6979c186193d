/*
 * adapter.h: the internals of apmsock-adapter, the program that speaks the
 * adapter protocol (harness/PROTOCOL.md) over stdin/stdout and wraps the
 * reference library through its public header only.
 *
 * Threads: a reader thread parses stdin and queues each request to the
 * worker that must run it (the process's main thread, or one made by
 * thread_start); library callbacks and trace records arrive on the
 * library's own threads.  Two leaf locks exist: the registry lock and the
 * stdout lock.  Neither is ever held while calling the library, so a trace
 * record or a callback can never deadlock against a request.
 */
#ifndef APMSOCK_ADAPTER_H
#define APMSOCK_ADAPTER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "apmsock.h"

#define ADAPTER_PROTOCOL "1.1"
#define ADAPTER_PROTOCOL_MAJOR 1

/* Largest buffer a request may ask for: bigger than any case needs (a few
 * MiB), small enough that a typo cannot exhaust memory. */
#define ADAPTER_MAX_BUFFER (256 * 1024 * 1024)

/* ---- out.c: the only writer of stdout --------------------------------- */

/* Each writes one line and flushes; they steal the reference to `line`. */
void out_line(json_t *line);
void out_reply(json_t *id, json_t *body);        /* id: integer or null */
void out_callback_event(json_t *event);          /* numbers it ("seq") */
void out_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reply bodies (without "id"). */
json_t *reply_ok(json_t *result);                /* steals; NULL means {} */
json_t *reply_error(apmsock_kind_t kind, const apmsock_error_t *err);
/* {} when the library call returned APMSOCK_OK, else its error. */
json_t *reply_outcome(apmsock_kind_t kind, const apmsock_error_t *err);
json_t *reply_protocol_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *reply_unsupported(const char *why);
json_t *error_object(apmsock_kind_t kind, const apmsock_error_t *err);
/* p itself; NULL (an allocation failed) ends the process with a message on
 * stderr: the adapter's own records (workers, queues, names) cannot be
 * dropped without losing requests. */
void *alloc_or_die(void *p);
/* A JSON string that is never NULL, whatever the bytes. */
json_t *json_text(const char *s);

/* "tid:<n>": the protocol's thread identity of the calling thread. */
void thread_identity(char *buf, size_t len);

/* ---- registry.c: names <-> handles ------------------------------------ */

typedef enum { METHOD_SEND, METHOD_SEND_TO } send_method_t;

/* One Begin the adapter made.  Immutable after registry_new_op() except
 * `result`, `issued` and `buffer`, which the registry guards. */
typedef struct op_rec {
  unsigned number;              /* the name is "r<number>" */
  send_method_t method;
  apmsock_socket_t socket;
  bool end_in_callback;
  char *state;                  /* NULL is the .NET null */
  uint8_t *buffer;              /* owned until the operation completed */
  apmsock_result_t result;      /* valid once issued */
  bool issued;                  /* Begin succeeded: the name was handed out */
  /* Protocol 1.1, set by begin() before the library is called, read only
   * by the callback: */
  json_t *script;               /* callback_script, or NULL */
  char *hold_latch;             /* the latch the callback waits on, or NULL */
  int32_t hold_ms;              /* the bound of that wait */
} op_rec_t;

void registry_init(void);
void registry_clear(void);      /* frees everything; no thread may use it */

unsigned registry_add_socket(apmsock_socket_t s);
bool registry_socket(const char *name, apmsock_socket_t *out);
void registry_socket_name(uint64_t handle, char *buf, size_t len);
/* A copy of every socket handle ever named; the caller frees it. */
apmsock_socket_t *registry_sockets(size_t *count);

/* Takes ownership of buffer and state. */
op_rec_t *registry_new_op(send_method_t method, apmsock_socket_t s, uint8_t *buffer,
                          char *state, bool end_in_callback);
void registry_issue_op(op_rec_t *rec, apmsock_result_t r);
void registry_drop_op(op_rec_t *rec);           /* Begin failed */
op_rec_t *registry_op(const char *name);        /* issued ones only */
op_rec_t *registry_op_by_token(void *token);    /* the state given to Begin */
void *registry_op_token(const op_rec_t *rec);
apmsock_result_t registry_op_result(op_rec_t *rec);
/* Frees the buffer once the library says the operation `r` (rec's result;
 * passed in because a callback may run before Begin returned it)
 * completed: the header's ownership rule.  A no-op before that, and after
 * the first time. */
void registry_release_buffer_if_done(op_rec_t *rec, apmsock_result_t r);
void registry_free_buffer(op_rec_t *rec);       /* known complete */

/* ---- workers.c: the threads that run requests --------------------------- */

typedef struct worker worker_t;

void workers_init(void);                  /* the calling thread is "main" */
worker_t *workers_main(void);
void worker_push(worker_t *w, json_t *request);   /* steals */
void worker_run(worker_t *w);             /* the loop; returns on exit */
/* Looks up "t<n>"; NULL and a reason when unknown or exited. */
worker_t *workers_find(const char *name, const char **why);
void workers_start(json_t *id);           /* the thread_start op */
void workers_exit(json_t *id, json_t *args);      /* the thread_exit op */
/* At quit: ends every thread (bounded); false if one would not end. */
bool workers_stop_all(void);
void workers_free(void);

/* ---- dispatch.c: the op table ------------------------------------------ */

typedef struct request_ctx {
  const char *identity;         /* thread identity of the thread running it */
} request_ctx_t;

typedef json_t *(*op_fn)(json_t *args, const request_ctx_t *ctx);

/* Where an op runs: on the worker named by the request's "thread" (RUN),
 * in the reader itself because it manages workers (READER), or as the end
 * of the session, after everything already queued to main (QUIT). */
typedef enum { OP_RUN, OP_READER, OP_QUIT } op_where_t;

typedef struct op_entry {
  const char *name;
  op_fn fn;
  op_where_t where;
} op_entry_t;

const op_entry_t *op_lookup(const char *name);
/* Runs one queued request on the current thread and writes its reply. */
void execute_request(json_t *request, const char *identity);

/* ---- args.c: validating request arguments ------------------------------ */

/* Collects the first problem; every getter is a no-op once one failed. */
typedef struct argp {
  json_t *args;
  char why[256];
} argp_t;

void argp_init(argp_t *p, json_t *args);
bool argp_ok(const argp_t *p);
json_t *argp_reply(const argp_t *p);
void argp_fail(argp_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

bool arg_int(argp_t *p, const char *key, int64_t lo, int64_t hi, int64_t *out);
bool arg_int32(argp_t *p, const char *key, int32_t *out);
bool arg_bool_opt(argp_t *p, const char *key, bool dflt, bool *out);
bool arg_string_or_null_opt(argp_t *p, const char *key, char **out);   /* strdup'd */

typedef struct name_value {
  const char *name;
  int value;
} name_value_t;
bool arg_choice(argp_t *p, const char *key, const name_value_t *table, int *out);
/* As arg_choice; a missing or null value leaves *out (the default). */
bool arg_choice_opt(argp_t *p, const char *key, const name_value_t *table, int *out);

bool arg_socket(argp_t *p, const char *key, apmsock_socket_t *out);
bool arg_result(argp_t *p, const char *key, apmsock_result_t *out, op_rec_t **rec);
/* *is_null when the value is JSON null (the .NET null). */
bool arg_endpoint(argp_t *p, const char *key, struct sockaddr_storage *out, bool *is_null);
bool parse_endpoint(json_t *v, struct sockaddr_storage *out, char *why, size_t why_len);
/* NULL with length 0 for the null array; otherwise at least one byte is
 * allocated so that an empty array is never confused with null. */
bool arg_buffer(argp_t *p, const char *key, uint8_t **out, int32_t *length);

json_t *endpoint_json(const struct sockaddr_storage *ss);

/* ---- op handlers -------------------------------------------------------- */

json_t *op_hello(json_t *args, const request_ctx_t *ctx);
json_t *op_socket(json_t *args, const request_ctx_t *ctx);
json_t *op_bind(json_t *args, const request_ctx_t *ctx);
json_t *op_connect(json_t *args, const request_ctx_t *ctx);
json_t *op_listen(json_t *args, const request_ctx_t *ctx);
json_t *op_accept(json_t *args, const request_ctx_t *ctx);
json_t *op_set_option(json_t *args, const request_ctx_t *ctx);
json_t *op_get_option(json_t *args, const request_ctx_t *ctx);
json_t *op_local_endpoint(json_t *args, const request_ctx_t *ctx);
json_t *op_remote_endpoint(json_t *args, const request_ctx_t *ctx);
json_t *op_shutdown(json_t *args, const request_ctx_t *ctx);
json_t *op_close(json_t *args, const request_ctx_t *ctx);
json_t *op_begin_send(json_t *args, const request_ctx_t *ctx);
json_t *op_begin_send_to(json_t *args, const request_ctx_t *ctx);
json_t *op_end_send(json_t *args, const request_ctx_t *ctx);
json_t *op_end_send_to(json_t *args, const request_ctx_t *ctx);
json_t *op_status(json_t *args, const request_ctx_t *ctx);
json_t *op_wait(json_t *args, const request_ctx_t *ctx);
json_t *op_release(json_t *args, const request_ctx_t *ctx);
json_t *op_trace(json_t *args, const request_ctx_t *ctx);
json_t *op_stats(json_t *args, const request_ctx_t *ctx);
json_t *op_cleanup(json_t *args, const request_ctx_t *ctx);
json_t *op_policy(json_t *args, const request_ctx_t *ctx);

json_t *op_release_latch(json_t *args, const request_ctx_t *ctx);
json_t *op_send(json_t *args, const request_ctx_t *ctx);
json_t *op_connected(json_t *args, const request_ctx_t *ctx);
json_t *op_send_to(json_t *args, const request_ctx_t *ctx);
/* ops_bench.c: runs the workloads on the requesting thread (blocks it for
 * the whole run, every wait bounded) and replies with their figures. */
json_t *op_bench(json_t *args, const request_ctx_t *ctx);

/* ops_script.c: protocol 1.1 in callbacks.  script_valid/hold_parse run at
 * Begin (why: the protocol_error text); callback_hold blocks the callback
 * thread up to rec->hold_ms and returns the "hold" member of the event;
 * callback_script_run runs rec->script there and returns the outcomes.
 * latches_clear at quit, when no callback can run. */
bool script_valid(json_t *script, int depth, char *why, size_t len);
bool hold_parse(json_t *hold, char **latch, int32_t *timeout_ms, char *why, size_t len);
json_t *callback_hold(op_rec_t *rec, const char *result_name, const char *identity);
json_t *callback_script_run(op_rec_t *rec, const char *result_name, const char *identity);
void latches_clear(void);

/* ops_misc.c: forgets the deny list (at quit, after apmsock_cleanup). */
void policy_clear(void);

#endif /* APMSOCK_ADAPTER_H */
