/* trace.c: network tracing (TRACE-01).  One record per Begin and per
 * completion; the default sink writes the header's line format to stderr or
 * to the file named by APMSOCK_TRACE. */
#include "apmsock-int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_bool trace_on;
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static apmsock_trace_sink_t trace_sink;
static void *trace_ctx;
static FILE *trace_file;  /* the APMSOCK_TRACE file, when it names one */

static void default_sink(const apmsock_trace_record_t *r, void *ctx) {
  FILE *f = ctx ? ctx : stderr;
  const char *sep = r->kind == APMSOCK_SOCKET ? ":" : "";
  const char *se = r->kind == APMSOCK_SOCKET ? apmsock_socket_error_name(r->socket_error) : "";
  fprintf(f, "apmsock-trace socket=%" PRIu64 " op=%s event=%s size=%" PRId32 " outcome=%s%s%s\n",
          r->socket, r->operation, r->event == APMSOCK_TRACE_BEGIN ? "begin" : "complete",
          r->size, r->kind == APMSOCK_OK ? "Success" : apmsock_kind_name(r->kind), sep, se);
  fflush(f);
}

/* Called once per library start. */
void apmsock__trace_start(void) {
  const char *env = getenv("APMSOCK_TRACE");
  pthread_mutex_lock(&trace_mu);
  if (env != NULL && *env != '\0') {
    if (strcmp(env, "1") != 0 && strcmp(env, "stderr") != 0)
      trace_file = fopen(env, "a");
    atomic_store(&trace_on, true);
  }
  pthread_mutex_unlock(&trace_mu);
}

void apmsock__trace_stop(void) {
  pthread_mutex_lock(&trace_mu);
  if (trace_file != NULL)
    fclose(trace_file);
  trace_file = NULL;
  atomic_store(&trace_on, false);
  pthread_mutex_unlock(&trace_mu);
}

bool apmsock__trace_on(void) {
  return atomic_load_explicit(&trace_on, memory_order_relaxed);
}

void apmsock__trace(uint64_t sock, int method, int event, int32_t size,
                    apmsock_kind_t kind, int socket_error) {
  if (!apmsock__trace_on())
    return;
  apmsock_trace_record_t r = {
    .socket = sock,
    .operation = method == APMSOCK__SEND ? "BeginSend" : "BeginSendTo",
    .event = event,
    .size = size,
    .kind = kind,
    .socket_error = kind == APMSOCK_OK ? 0 : socket_error,
  };
  /* Hold the lock across the default sink so lines never interleave and the
   * file cannot be closed under it; a user sink runs unlocked so it may call
   * back into the library. */
  pthread_mutex_lock(&trace_mu);
  apmsock_trace_sink_t sink = trace_sink;
  void *ctx = trace_ctx;
  if (sink == NULL) {
    default_sink(&r, trace_file);
    pthread_mutex_unlock(&trace_mu);
    return;
  }
  pthread_mutex_unlock(&trace_mu);
  sink(&r, ctx);
}

/* These two return no error: a failed start is reported by the next call
 * that opens or uses a socket, which tries the start again. */
void apmsock_trace_enable(bool on) {
  (void)apmsock__ensure_started();
  atomic_store(&trace_on, on);
}

bool apmsock_trace_enabled(void) {
  (void)apmsock__ensure_started();
  return apmsock__trace_on();
}

void apmsock_trace_set_sink(apmsock_trace_sink_t sink, void *ctx) {
  pthread_mutex_lock(&trace_mu);
  trace_sink = sink;
  trace_ctx = ctx;
  pthread_mutex_unlock(&trace_mu);
}
