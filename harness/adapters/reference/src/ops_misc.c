/* ops_misc.c: hello, and the process-wide switches: trace, stats, cleanup, policy. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* Everything the reference can do (PROTOCOL.md, Capabilities). */
static const char *const capabilities[] = {
    "udp",           "tcp",          "ipv4",    "ipv6",  "dual_mode",
    "broadcast",     "blocking",     "send_buffer",      "begin_connect",
    "begin_accept",  "threads",      "trace",   "stats", "policy",
    /* protocol 1.1 */
    "callback_script", "hold",      "pipelining",       "sync_send",
    "bench",           "cleanup",
    NULL};

json_t *op_hello(json_t *args, const request_ctx_t *ctx) {
  json_t *caps = json_array();
  for (const char *const *c = capabilities; *c; c++)
    json_array_append_new(caps, json_string(*c));
  /* The major version is not checked here: the harness decides what to do
   * with an adapter of another major version (its exit code 4). */
  return reply_ok(json_pack("{s:o, s:o, s:s, s:o, s:o, s:s}",
                            "implementation", json_text(apmsock_implementation_name()),
                            "version", json_text(apmsock_implementation_version()),
                            "protocol", ADAPTER_PROTOCOL,
                            "contract", json_text(apmsock_implementation_contract()),
                            "capabilities", caps,
                            "thread", ctx->identity));
}

/* ---- trace ---------------------------------------------------------------- */

static void trace_sink(const apmsock_trace_record_t *rec, void *ctx) {
  char socket[48], outcome[160];
  registry_socket_name(rec->socket, socket, sizeof socket);
  if (rec->kind == APMSOCK_OK)
    snprintf(outcome, sizeof outcome, "Success");
  else if (rec->socket_error != 0)
    snprintf(outcome, sizeof outcome, "%s:%s", apmsock_kind_name(rec->kind),
             apmsock_socket_error_name(rec->socket_error));
  else
    snprintf(outcome, sizeof outcome, "%s", apmsock_kind_name(rec->kind));
  const char *event = rec->event == APMSOCK_TRACE_BEGIN      ? "begin"
                      : rec->event == APMSOCK_TRACE_COMPLETE ? "complete"
                                                             : "unknown";
  json_t *record = json_pack("{s:s, s:o, s:s, s:I, s:s}", "socket", socket, "operation",
                             json_text(rec->operation), "event", event, "size",
                             (json_int_t)rec->size, "outcome", outcome);
  out_line(json_pack("{s:s, s:o}", "event", "trace", "record", record));
}

json_t *op_trace(json_t *args, const request_ctx_t *ctx) {
  json_t *on = json_object_get(args, "on");
  if (!json_is_boolean(on))
    return reply_protocol_error("argument \"on\" must be a boolean");
  if (json_is_true(on)) {
    apmsock_trace_set_sink(trace_sink, NULL);
    apmsock_trace_enable(true);
  } else {
    apmsock_trace_enable(false);
    apmsock_trace_set_sink(NULL, NULL);
  }
  return reply_ok(NULL);
}

/* ---- stats ---------------------------------------------------------------- */

json_t *op_stats(json_t *args, const request_ctx_t *ctx) {
  apmsock_stats_t st;
  memset(&st, 0, sizeof st);
  apmsock_get_stats(&st);
  return reply_ok(json_pack("{s:I, s:I, s:I, s:I, s:I}",
                            "heap_allocations", (json_int_t)st.heap_allocations,
                            "context_cache_hits", (json_int_t)st.context_cache_hits,
                            "context_cache_misses", (json_int_t)st.context_cache_misses,
                            "operations_started", (json_int_t)st.operations_started,
                            "operations_completed", (json_int_t)st.operations_completed));
}

/* ---- cleanup ------------------------------------------------------------- */

/* apmsock_cleanup(): every socket closed, its pending operations aborted
 * (their callbacks run first), the counters back to zero; the library starts
 * anew on its next use.  The registry keeps its names: a socket name now
 * refers to a closed socket, as a .NET Socket object outlives its Dispose.
 * The harness sends it only while no other request runs (PROTOCOL.md). */
json_t *op_cleanup(json_t *args, const request_ctx_t *ctx) {
  apmsock_cleanup();
  return reply_ok(NULL);
}

/* ---- policy --------------------------------------------------------------- */

/* The deny list the policy hook reads; it is called on the thread calling
 * Begin, from any thread, so it is guarded. */
static pthread_mutex_t policy_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sockaddr_storage *deny;
static size_t deny_count;

/* An IPv4-mapped IPv6 address is the IPv4 address it maps (a dual-mode
 * socket sending to 127.0.0.1 may pass either form to the hook). */
static void normalize(const struct sockaddr *sa, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (sa->sa_family == AF_INET) {
    memcpy(out, sa, sizeof(struct sockaddr_in));
    return;
  }
  if (sa->sa_family != AF_INET6)
    return;
  const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
  if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    v4->sin_family = AF_INET;
    v4->sin_port = v6->sin6_port;
    memcpy(&v4->sin_addr, &v6->sin6_addr.s6_addr[12], 4);
  } else {
    struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)out;
    o6->sin6_family = AF_INET6;
    o6->sin6_port = v6->sin6_port;
    o6->sin6_addr = v6->sin6_addr;
  }
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return false;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

static bool policy_hook(const struct sockaddr *destination, void *ctx) {
  if (destination == NULL)
    return true;
  struct sockaddr_storage d;
  normalize(destination, &d);
  bool allowed = true;
  pthread_mutex_lock(&policy_mu);
  for (size_t i = 0; i < deny_count && allowed; i++)
    allowed = !same_endpoint(&deny[i], &d);
  pthread_mutex_unlock(&policy_mu);
  return allowed;
}

void policy_clear(void) {
  pthread_mutex_lock(&policy_mu);
  free(deny);
  deny = NULL;
  deny_count = 0;
  pthread_mutex_unlock(&policy_mu);
}

json_t *op_policy(json_t *args, const request_ctx_t *ctx) {
  json_t *list = json_object_get(args, "deny");
  if (list == NULL)
    return reply_protocol_error("missing argument \"deny\"");
  if (json_is_null(list)) {
    apmsock_set_send_policy(NULL, NULL);
    policy_clear();
    return reply_ok(NULL);
  }
  if (!json_is_array(list))
    return reply_protocol_error("argument \"deny\" must be a list of endpoints or null");
  size_t n = json_array_size(list);
  struct sockaddr_storage *fresh = calloc(n ? n : 1, sizeof *fresh);
  if (fresh == NULL)
    return reply_protocol_error("adapter: out of memory");
  for (size_t i = 0; i < n; i++) {
    char why[160];
    struct sockaddr_storage ss;
    if (!parse_endpoint(json_array_get(list, i), &ss, why, sizeof why)) {
      free(fresh);
      return reply_protocol_error("argument \"deny\"[%zu]: %s", i, why);
    }
    normalize((struct sockaddr *)&ss, &fresh[i]);
  }
  pthread_mutex_lock(&policy_mu);
  free(deny);
  deny = fresh;
  deny_count = n;
  pthread_mutex_unlock(&policy_mu);
  apmsock_set_send_policy(policy_hook, NULL);
  return reply_ok(NULL);
}
