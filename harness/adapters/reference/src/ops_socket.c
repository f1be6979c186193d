/* ops_socket.c: the socket's life around the sends: open, bind, connect,
 * listen, accept, options, endpoints, shutdown, close.  Each validates its
 * arguments, then delegates to the library and reports what it returned. */
#include <stdio.h>
#include <string.h>

#include "adapter.h"

static const name_value_t families[] = {
    {"inet", APMSOCK_AF_INET}, {"inet6", APMSOCK_AF_INET6}, {NULL, 0}};
static const name_value_t types[] = {
    {"stream", APMSOCK_STREAM}, {"dgram", APMSOCK_DGRAM}, {NULL, 0}};
static const name_value_t options[] = {
    {"broadcast", APMSOCK_OPT_BROADCAST},   {"send_buffer", APMSOCK_OPT_SEND_BUFFER},
    {"receive_buffer", APMSOCK_OPT_RECEIVE_BUFFER}, {"blocking", APMSOCK_OPT_BLOCKING},
    {"dual_mode", APMSOCK_OPT_DUAL_MODE},   {"no_delay", APMSOCK_OPT_NO_DELAY},
    {NULL, 0}};
static const name_value_t shutdown_hows[] = {{"receive", APMSOCK_SHUTDOWN_RECEIVE},
                                             {"send", APMSOCK_SHUTDOWN_SEND},
                                             {"both", APMSOCK_SHUTDOWN_BOTH},
                                             {NULL, 0}};
enum { HOW_SYNC, HOW_BEGIN };
static const name_value_t connect_hows[] = {
    {"connect", HOW_SYNC}, {"begin_connect", HOW_BEGIN}, {NULL, 0}};
static const name_value_t accept_hows[] = {
    {"accept", HOW_SYNC}, {"begin_accept", HOW_BEGIN}, {NULL, 0}};

static json_t *socket_result(apmsock_socket_t s) {
  char name[24];
  snprintf(name, sizeof name, "s%u", registry_add_socket(s));
  return reply_ok(json_pack("{s:s}", "socket", name));
}

/* Every op but socket names its socket first, so a bad socket is the
 * problem reported whatever else is wrong. */
static bool socket_arg(argp_t *p, json_t *args, apmsock_socket_t *s) {
  argp_init(p, args);
  arg_socket(p, "socket", s);
  return argp_ok(p);
}

/* set_option, get_option (the option's name) and shutdown (how). */
static bool socket_and_choice(argp_t *p, json_t *args, apmsock_socket_t *s, const char *key,
                              const name_value_t *table, int *out) {
  socket_arg(p, args, s);
  arg_choice(p, key, table, out);
  return argp_ok(p);
}

/* bind and connect: a socket and an endpoint (null passes the .NET null). */
static bool socket_and_endpoint(argp_t *p, json_t *args, apmsock_socket_t *s,
                                struct sockaddr_storage *ss, bool *is_null) {
  socket_arg(p, args, s);
  arg_endpoint(p, "endpoint", ss, is_null);
  return argp_ok(p);
}

json_t *op_socket(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  int family = 0, type = 0;
  argp_init(&p, args);
  arg_choice(&p, "family", families, &family);
  arg_choice(&p, "type", types, &type);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  apmsock_socket_t s = APMSOCK_NULL_SOCKET;
  apmsock_kind_t kind = apmsock_socket_open(family, type, &s, &err);
  return kind == APMSOCK_OK ? socket_result(s) : reply_error(kind, &err);
}

json_t *op_bind(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  struct sockaddr_storage ss;
  bool is_null;
  if (!socket_and_endpoint(&p, args, &s, &ss, &is_null))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  return reply_outcome(apmsock_bind(s, is_null ? NULL : (struct sockaddr *)&ss, &err), &err);
}

json_t *op_connect(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  struct sockaddr_storage ss;
  bool is_null;
  int how = HOW_SYNC;
  if (socket_and_endpoint(&p, args, &s, &ss, &is_null))
    arg_choice_opt(&p, "how", connect_hows, &how);
  if (!argp_ok(&p))
    return argp_reply(&p);
  const struct sockaddr *addr = is_null ? NULL : (struct sockaddr *)&ss;
  apmsock_error_t err = {0};
  if (how == HOW_SYNC)
    return reply_outcome(apmsock_connect(s, addr, &err), &err);
  /* BeginConnect then EndConnect, no callback: the harness sees one
   * connect; the result is the adapter's own and given back at once. */
  apmsock_result_t r = APMSOCK_NULL_RESULT;
  apmsock_kind_t kind = apmsock_begin_connect(s, addr, NULL, NULL, &r, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  kind = apmsock_end_connect(s, r, &err);
  apmsock_result_release(r, NULL);
  return reply_outcome(kind, &err);
}

json_t *op_listen(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  int32_t backlog = 0;
  socket_arg(&p, args, &s);
  arg_int32(&p, "backlog", &backlog);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  return reply_outcome(apmsock_listen(s, backlog, &err), &err);
}

json_t *op_accept(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  int how = HOW_SYNC;
  socket_arg(&p, args, &s);
  arg_choice_opt(&p, "how", accept_hows, &how);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  apmsock_socket_t accepted = APMSOCK_NULL_SOCKET;
  apmsock_kind_t kind;
  if (how == HOW_SYNC) {
    kind = apmsock_accept(s, &accepted, &err);
  } else {
    apmsock_result_t r = APMSOCK_NULL_RESULT;
    kind = apmsock_begin_accept(s, NULL, NULL, &r, &err);
    if (kind == APMSOCK_OK) {
      kind = apmsock_end_accept(s, r, &accepted, &err);
      apmsock_result_release(r, NULL);
    }
  }
  return kind == APMSOCK_OK ? socket_result(accepted) : reply_error(kind, &err);
}

json_t *op_set_option(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  int name = 0;
  int32_t value = 0;
  socket_and_choice(&p, args, &s, "name", options, &name);
  /* Booleans are 0/1 in the protocol; true/false are taken as well. */
  json_t *v = json_object_get(args, "value");
  if (argp_ok(&p) && json_is_boolean(v))
    value = json_is_true(v);
  else
    arg_int32(&p, "value", &value);
  if (!argp_ok(&p))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  return reply_outcome(apmsock_set_option(s, (apmsock_option_t)name, value, &err), &err);
}

json_t *op_get_option(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  int name = 0;
  if (!socket_and_choice(&p, args, &s, "name", options, &name))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  int32_t value = 0;
  apmsock_kind_t kind = apmsock_get_option(s, (apmsock_option_t)name, &value, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  return reply_ok(json_pack("{s:i}", "value", (int)value));
}

static json_t *endpoint_op(json_t *args,
                           apmsock_kind_t (*get)(apmsock_socket_t, struct sockaddr_storage *,
                                                 apmsock_error_t *)) {
  argp_t p;
  apmsock_socket_t s;
  if (!socket_arg(&p, args, &s))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  apmsock_kind_t kind = get(s, &ss, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  return reply_ok(json_pack("{s:o}", "endpoint", endpoint_json(&ss)));
}

json_t *op_local_endpoint(json_t *args, const request_ctx_t *ctx) {
  return endpoint_op(args, apmsock_local_endpoint);
}

json_t *op_remote_endpoint(json_t *args, const request_ctx_t *ctx) {
  return endpoint_op(args, apmsock_remote_endpoint);
}

json_t *op_shutdown(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  int how = 0;
  if (!socket_and_choice(&p, args, &s, "how", shutdown_hows, &how))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  return reply_outcome(apmsock_shutdown(s, how, &err), &err);
}

json_t *op_close(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  apmsock_socket_t s;
  if (!socket_arg(&p, args, &s))
    return argp_reply(&p);
  apmsock_error_t err = {0};
  return reply_outcome(apmsock_close(s, &err), &err);
}

/* Socket.Connected (protocol 1.1): the C contract has no such property, so
 * the capability is not advertised and the op says why. */
json_t *op_connected(json_t *args, const request_ctx_t *ctx) {
  return reply_unsupported("the C contract (apmsock.h) has no Connected property");
}
