/* dispatch.c: the table of protocol operations and the running of one. */
#include <string.h>

#include "adapter.h"

/* XX(op name, where it runs).  OP_READER ops manage workers, or (release_latch)
 * must never wait behind a worker a held callback blocks, and are run by the
 * reader itself (main.c); the handlers of thread_start/thread_exit here are
 * never called. */
#define ADAPTER_OP_MAP(XX)                                                    \
  XX(hello, OP_RUN)                                                           \
  XX(socket, OP_RUN)                                                          \
  XX(bind, OP_RUN)                                                            \
  XX(connect, OP_RUN)                                                         \
  XX(listen, OP_RUN)                                                          \
  XX(accept, OP_RUN)                                                          \
  XX(set_option, OP_RUN)                                                      \
  XX(get_option, OP_RUN)                                                      \
  XX(local_endpoint, OP_RUN)                                                  \
  XX(remote_endpoint, OP_RUN)                                                 \
  XX(shutdown, OP_RUN)                                                        \
  XX(close, OP_RUN)                                                           \
  XX(begin_send, OP_RUN)                                                      \
  XX(begin_send_to, OP_RUN)                                                   \
  XX(end_send, OP_RUN)                                                        \
  XX(end_send_to, OP_RUN)                                                     \
  XX(status, OP_RUN)                                                          \
  XX(wait, OP_RUN)                                                            \
  XX(release, OP_RUN)                                                         \
  XX(trace, OP_RUN)                                                           \
  XX(stats, OP_RUN)                                                           \
  XX(cleanup, OP_RUN)                                                         \
  XX(policy, OP_RUN)                                                          \
  XX(release_latch, OP_READER)                                                \
  XX(send, OP_RUN)                                                            \
  XX(connected, OP_RUN)                                                       \
  XX(send_to, OP_RUN)                                                         \
  XX(bench, OP_RUN)                                                           \
  XX(thread_start, OP_READER)                                                 \
  XX(thread_exit, OP_READER)                                                  \
  XX(quit, OP_QUIT)

static json_t *op_reader_only(json_t *args, const request_ctx_t *ctx) {
  return reply_protocol_error("adapter: this op is not run on a worker");
}
#define op_thread_start op_reader_only
#define op_thread_exit op_reader_only
#define op_quit op_reader_only

static const op_entry_t op_table[] = {
#define ADAPTER_OP_ENTRY(name, where) {#name, op_##name, where},
    ADAPTER_OP_MAP(ADAPTER_OP_ENTRY)
#undef ADAPTER_OP_ENTRY
    {NULL, NULL, OP_RUN}};

const op_entry_t *op_lookup(const char *name) {
  for (const op_entry_t *e = op_table; name != NULL && e->name != NULL; e++)
    if (strcmp(e->name, name) == 0)
      return e;
  return NULL;
}

void execute_request(json_t *request, const char *identity) {
  json_t *id = json_object_get(request, "id");
  const op_entry_t *op = op_lookup(json_string_value(json_object_get(request, "op")));
  json_t *args = json_object_get(request, "args");
  request_ctx_t ctx = {identity};
  /* The reader checked both; a request only gets here well-formed. */
  json_t *body = op ? op->fn(args, &ctx) : reply_protocol_error("unknown op");
  out_reply(id, body);
}
