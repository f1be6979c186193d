/* ops_bench.c: the `bench` op (protocol 1.1, capability `bench`): the
 * workloads of PROTOCOL.md's "bench" section run inside this process, so
 * that no JSON line stands between two operations.
 *
 * Design notes:
 * - The documented pattern is the seeds' "Call the Set method on a
 *   ManualResetEvent in the callback method when you want the original
 *   thread to continue executing": the callback calls End, releases its
 *   result and posts a sem_t (a plain blocking event, as ManualResetEvent);
 *   the thread that called Begin waits on it before the next Begin.
 * - The C contract has no synchronous send: the "sync" workload is Begin
 *   then End on the same thread with no callback, as the adapter's `send_to`
 *   op is (PROTOCOL.md, Protocol 1.1).
 * - Every wait is bounded (BENCH_WAIT_S).  A callback that never comes
 *   leaves its doc_t to the library: it is leaked on purpose, never freed
 *   under a callback that may still run.
 * - Allocations are counted by reference/test-support/alloc-count.c when
 *   the program links it (apmsock-adapter does; the faulty adapters and the
 *   sanitizer builds do not, or cannot interpose): the symbols are weak, so
 *   without it alloc_per_op is null.  The count is the whole process's
 *   while armed; the reader thread is idle then (the harness is waiting
 *   for this reply).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "alloc-count.h"

#pragma weak cf_alloc_available
#pragma weak cf_alloc_arm
#pragma weak cf_alloc_count

#define BENCH_WAIT_S 5
#define BENCH_MAX_OPS 1000000
#define BENCH_MAX_FIRST 1000
#define BENCH_MAX_SIZE 65507

/* The first payload byte says which workload sent a datagram, so that a
 * receiver can count delivered/sent per workload. */
enum { TAG_UNTIMED = 1, TAG_DOCUMENTED = 2, TAG_SYNC = 3 };

/* One documented operation in flight: written by the Begin thread before
 * Begin, by the callback after.  The semaphore wakes the Begin thread; the
 * release/acquire on `ended` orders the callback's writes before its reads
 * (ThreadSanitizer does not see sem_clockwait as a synchronisation). */
typedef struct doc {
  sem_t done;
  _Atomic bool ended;
  apmsock_socket_t s;
  uint64_t begun_ns;
  uint64_t called_ns;
  pthread_t begin_thread;
  bool inline_cb;               /* the callback ran on the Begin thread */
  apmsock_kind_t end_kind;
  apmsock_error_t end_err;
} doc_t;

typedef struct bench {
  apmsock_socket_t s;
  struct sockaddr_storage ep;
  uint8_t *payload[4];          /* indexed by tag */
  int32_t size;
  doc_t *doc;
  json_t *failure;              /* the reply once something failed */
} bench_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool alloc_counted(void) {
  return cf_alloc_available != NULL && cf_alloc_available();
}

/* The callback of the documented pattern, on a library thread. */
static void doc_callback(apmsock_result_t r) {
  doc_t *d = apmsock_result_state(r);
  d->called_ns = now_ns();
  d->inline_cb = pthread_equal(pthread_self(), d->begin_thread);
  int32_t bytes = 0;
  d->end_kind = apmsock_end_send_to(d->s, r, &bytes, &d->end_err);
  apmsock_result_release(r, NULL);
  atomic_store_explicit(&d->ended, true, memory_order_release);
  sem_post(&d->done);
}

static void fail(bench_t *b, json_t *reply) {
  if (b->failure == NULL)
    b->failure = reply;
  else
    json_decref(reply);
}

/* One documented operation on socket s; its Begin-to-callback-start time
 * into *lat_ns.  False (and b->failure) when Begin or End threw or the
 * callback did not come in time. */
static bool documented_once(bench_t *b, apmsock_socket_t s, int tag, uint64_t *lat_ns) {
  doc_t *d = b->doc;
  d->s = s;
  d->begin_thread = pthread_self();
  atomic_store_explicit(&d->ended, false, memory_order_relaxed);
  apmsock_result_t r;
  apmsock_error_t err = {0};
  d->begun_ns = now_ns();
  apmsock_kind_t kind = apmsock_begin_send_to(s, b->payload[tag], b->size, 0, b->size, 0,
                                              (struct sockaddr *)&b->ep, doc_callback, d, &r, &err);
  if (kind != APMSOCK_OK) {
    fail(b, reply_error(kind, &err));
    return false;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += BENCH_WAIT_S;
  while (sem_clockwait(&d->done, CLOCK_MONOTONIC, &deadline) != 0) {
    if (errno != EINTR) {
      b->doc = NULL;   /* the late callback may still use it: leaked */
      fail(b, reply_protocol_error("bench: no callback within %d s of BeginSendTo", BENCH_WAIT_S));
      return false;
    }
  }
  if (!atomic_load_explicit(&d->ended, memory_order_acquire)) {
    fail(b, reply_protocol_error("bench: woken before the callback ended"));
    return false;
  }
  if (d->end_kind != APMSOCK_OK) {
    fail(b, reply_error(d->end_kind, &d->end_err));
    return false;
  }
  if (lat_ns != NULL)
    *lat_ns = d->called_ns - d->begun_ns;
  return true;
}

/* One "synchronous" send: Begin then End on this thread, no callback. */
static bool sync_once(bench_t *b, int tag) {
  apmsock_result_t r;
  apmsock_error_t err = {0};
  apmsock_kind_t kind = apmsock_begin_send_to(b->s, b->payload[tag], b->size, 0, b->size, 0,
                                              (struct sockaddr *)&b->ep, NULL, NULL, &r, &err);
  int32_t bytes = 0;
  if (kind == APMSOCK_OK) {
    kind = apmsock_end_send_to(b->s, r, &bytes, &err);
    apmsock_result_release(r, NULL);
  }
  if (kind != APMSOCK_OK)
    fail(b, reply_error(kind, &err));
  return kind == APMSOCK_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* {"n", "p50", "p99"} in microseconds, nearest rank; null percentiles
 * without samples.  Sorts ns. */
static json_t *percentiles(uint64_t *ns, size_t n) {
  if (n == 0)
    return json_pack("{s:i, s:n, s:n}", "n", 0, "p50", "p99");
  qsort(ns, n, sizeof *ns, cmp_u64);
  size_t i50 = (50 * n + 99) / 100 - 1, i99 = (99 * n + 99) / 100 - 1;   /* ceil(q n) - 1 */
  return json_pack("{s:I, s:f, s:f}", "n", (json_int_t)n, "p50", (double)ns[i50] / 1000.0,
                   "p99", (double)ns[i99] / 1000.0);
}

/* The timed part of one workload in one round: ops operations; adds to
 * the workload's time and allocation count. */
typedef struct tally {
  uint64_t ns;
  uint64_t allocs;
  int64_t done;
  int64_t inline_cbs;           /* documented: callbacks on the Begin thread */
} tally_t;

static bool run_chunk(bench_t *b, bool documented, int64_t ops, tally_t *t, uint64_t *lat) {
  bool counted = alloc_counted();
  uint64_t a0 = counted ? cf_alloc_count() : 0;
  if (counted)
    cf_alloc_arm(1);
  uint64_t t0 = now_ns();
  bool ok = true;
  for (int64_t i = 0; i < ops && ok; i++) {
    ok = documented ? documented_once(b, b->s, TAG_DOCUMENTED, &lat[t->done + i])
                    : sync_once(b, TAG_SYNC);
    t->inline_cbs += documented && ok && b->doc->inline_cb;
  }
  t->ns += now_ns() - t0;
  if (counted) {
    cf_alloc_arm(0);
    t->allocs += cf_alloc_count() - a0;
  }
  t->done += ops;
  return ok;
}

static json_t *workload_json(int tag, const char *what, const tally_t *t) {
  double s = (double)t->ns / 1e9;
  return json_pack("{s:i, s:s, s:I, s:f, s:f, s:o}", "tag", tag, "what", what, "sent",
                   (json_int_t)t->done, "seconds", s, "rate", s > 0 ? (double)t->done / s : 0.0,
                   "alloc_per_op",
                   alloc_counted() && t->done > 0 ? json_real((double)t->allocs / (double)t->done)
                                                   : json_null());
}

/* The workloads, once the arguments are known good.  Returns the reply. */
static json_t *run_bench(bench_t *b, int64_t ops, int64_t rounds, int64_t warmup, int64_t first) {
  uint64_t *lat = alloc_or_die(calloc((size_t)ops, sizeof *lat));
  uint64_t *first_lat = alloc_or_die(calloc((size_t)first + 1, sizeof *first_lat));
  tally_t doc = {0}, sync = {0};
  int64_t untimed = 0;

  /* First use: a fresh socket each time, one documented operation. */
  for (int64_t i = 0; i < first && b->failure == NULL; i++) {
    apmsock_socket_t s;
    apmsock_error_t err = {0};
    apmsock_kind_t kind = apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &err);
    if (kind != APMSOCK_OK) {
      fail(b, reply_error(kind, &err));
      break;
    }
    if (documented_once(b, s, TAG_UNTIMED, &first_lat[i]))
      untimed++;
    apmsock_close(s, NULL);
  }
  /* Warm-up of the timed socket, both workloads, untimed. */
  for (int64_t i = 0; i < warmup && b->failure == NULL; i++)
    untimed += documented_once(b, b->s, TAG_UNTIMED, NULL) + sync_once(b, TAG_UNTIMED);
  /* Interleaved: round k runs its share of each, alternating which first. */
  for (int64_t k = 0; k < rounds && b->failure == NULL; k++) {
    int64_t share = ops / rounds + (k < ops % rounds);
    bool doc_first = k % 2 == 0;
    for (int pass = 0; pass < 2 && b->failure == NULL; pass++) {
      bool documented = (pass == 0) == doc_first;
      run_chunk(b, documented, share, documented ? &doc : &sync, lat);
    }
  }
  json_t *reply = b->failure;
  if (reply == NULL) {
    json_t *d = workload_json(TAG_DOCUMENTED,
                              "BeginSendTo with a callback that calls EndSendTo and posts a "
                              "sem_t; the thread that called Begin waits on it", &doc);
    json_object_set_new(d, "callbacks_inline", json_integer(doc.inline_cbs));
    json_object_set_new(d, "latency_us", json_pack("{s:o, s:o}", "first",
                                                   percentiles(first_lat, (size_t)first),
                                                   "steady", percentiles(lat, (size_t)ops)));
    json_t *s = workload_json(TAG_SYNC,
                              "BeginSendTo then EndSendTo on the same thread, no callback "
                              "(the C contract has no synchronous send)", &sync);
    json_t *alloc = alloc_counted()
                        ? json_pack("{s:s, s:s, s:s}", "unit", "allocations", "scope", "process",
                                    "how", "malloc & co. interposed (alloc-count.c)")
                        : json_null();
    reply = reply_ok(json_pack("{s:i, s:I, s:I, s:I, s:{s:o, s:o}, s:o}", "size", (int)b->size,
                               "ops", (json_int_t)ops, "rounds", (json_int_t)rounds,
                               "untimed_sent", (json_int_t)untimed, "workloads", "documented", d,
                               "sync", s, "alloc", alloc));
  }
  free(lat);
  free(first_lat);
  return reply;
}

json_t *op_bench(json_t *args, const request_ctx_t *ctx) {
  argp_t p;
  int64_t size = 0, ops = 0, rounds = 4, warmup = 100, first = 16;
  bool ep_null = true;
  bench_t b = {0};
  argp_init(&p, args);
  arg_endpoint(&p, "endpoint", &b.ep, &ep_null);
  arg_int(&p, "size", 1, BENCH_MAX_SIZE, &size);
  arg_int(&p, "ops", 1, BENCH_MAX_OPS, &ops);
  if (json_object_get(args, "rounds") != NULL)
    arg_int(&p, "rounds", 1, BENCH_MAX_OPS, &rounds);
  if (json_object_get(args, "warmup") != NULL)
    arg_int(&p, "warmup", 0, BENCH_MAX_OPS, &warmup);
  if (json_object_get(args, "first_uses") != NULL)
    arg_int(&p, "first_uses", 0, BENCH_MAX_FIRST, &first);
  if (argp_ok(&p) && (ep_null || b.ep.ss_family != AF_INET))
    argp_fail(&p, "bench: \"endpoint\" must be an IPv4 endpoint");
  if (!argp_ok(&p))
    return argp_reply(&p);
  if (rounds > ops)
    rounds = ops;
  b.size = (int32_t)size;
  apmsock_error_t err = {0};
  apmsock_kind_t kind = apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &b.s, &err);
  if (kind != APMSOCK_OK)
    return reply_error(kind, &err);
  for (int tag = TAG_UNTIMED; tag <= TAG_SYNC; tag++) {
    b.payload[tag] = alloc_or_die(calloc((size_t)size, 1));
    b.payload[tag][0] = (uint8_t)tag;
  }
  b.doc = alloc_or_die(calloc(1, sizeof *b.doc));
  sem_init(&b.doc->done, 0, 0);
  json_t *reply = run_bench(&b, ops, rounds, warmup, first);
  apmsock_close(b.s, NULL);
  if (b.doc != NULL) {   /* else a callback may still come: see the notes */
    sem_destroy(&b.doc->done);
    free(b.doc);
    for (int tag = TAG_UNTIMED; tag <= TAG_SYNC; tag++)
      free(b.payload[tag]);
  }
  return reply;
}
