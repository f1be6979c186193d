/* test-gen.c: TRACE-01, CTX-01, SEC-01, EX-01. */
#include "tests.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- TRACE-01: the sink ---------------------------------------------------- */

#define MAX_REC 64
static struct {
  pthread_mutex_t mu;
  int n;
  apmsock_trace_record_t rec[MAX_REC];
  char op[MAX_REC][24];
} tr = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void sink(const apmsock_trace_record_t *rec, void *ctx) {
  pthread_mutex_lock(&tr.mu);
  if (tr.n < MAX_REC) {
    tr.rec[tr.n] = *rec;
    snprintf(tr.op[tr.n], sizeof(tr.op[0]), "%s", rec->operation ? rec->operation : "(null)");
    tr.rec[tr.n].operation = tr.op[tr.n];
  }
  tr.n++;
  pthread_mutex_unlock(&tr.mu);
}

static int rec_count(void) {
  pthread_mutex_lock(&tr.mu);
  int n = tr.n;
  pthread_mutex_unlock(&tr.mu);
  return n;
}

static int wait_records(int n) {
  uint64_t start = cf_now_ms();
  while (rec_count() < n && cf_now_ms() - start < CF_WAIT_MS) sched_yield();
  return rec_count() >= n;
}

static const apmsock_trace_record_t *find_rec(int event, apmsock_kind_t kind) {
  for (int i = 0; i < tr.n && i < MAX_REC; i++)
    if (tr.rec[i].event == event && tr.rec[i].kind == kind) return &tr.rec[i];
  return NULL;
}

/* A send that fails is traced with its outcome, the SocketException's
 * SocketError included: over UDP an oversize datagram (MessageSize, from
 * End for BeginSendTo), over TCP a BeginSend on a stream socket that never
 * connected (NotConnected, from Begin), so the pair stays usable. */
static void trace_failed_send(const cf_variant_t *v, cf_pair_t *p) {
  bool udp = v->transport == CF_UDP;
  int se = udp ? APMSOCK_SE_MESSAGE_SIZE : APMSOCK_SE_NOT_CONNECTED;
  int32_t size = udp ? (int32_t)cf_max_datagram(v->family) + 1 : 100;
  uint8_t *big = cf_pattern_alloc((size_t)size, 73);
  apmsock_socket_t s = p->s;
  apmsock_error_t e = {0};
  if (!udp)
    cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_STREAM, &s, &e), &e,
                 "open an unconnected stream socket");
  apmsock_result_t r = {0};
  apmsock_kind_t k = udp ? cf_begin(p, big, size, 0, size, 0, NULL, NULL, &r, &e)
                         : apmsock_begin_send(s, big, size, 0, size, 0, NULL, NULL, &r, &e);
  if (k == APMSOCK_OK) {
    int32_t n = -1;
    k = udp ? cf_end(p, r, &n, &e) : apmsock_end_send(s, r, &n, &e);
    cf_release(r);
  }
  cf_expect_socket_error(k, &e, se, "TRACE-01: the failing send");
  const apmsock_trace_record_t *f = NULL;
  uint64_t start = cf_now_ms();
  while (f == NULL && cf_now_ms() - start < CF_WAIT_MS) {
    pthread_mutex_lock(&tr.mu);
    f = find_rec(APMSOCK_TRACE_COMPLETE, APMSOCK_SOCKET);
    if (f == NULL) f = find_rec(APMSOCK_TRACE_BEGIN, APMSOCK_SOCKET);
    pthread_mutex_unlock(&tr.mu);
    if (f == NULL) sched_yield();
  }
  ck_assert_msg(f != NULL, "TRACE-01: the failed send left no record with its SocketException");
  ck_assert_msg(f->socket == s.handle, "TRACE-01: the failure's record names another socket");
  ck_assert_msg(f->socket_error == se, "TRACE-01: the failure's record has SocketError %d (%s), expected %d (%s)",
                f->socket_error, apmsock_socket_error_name(f->socket_error), se,
                apmsock_socket_error_name(se));
  if (!udp) apmsock_close(s, NULL);
  cf_big_free(big);
}

void cf_trace_sink(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  const char *opname = v->method == CF_SEND_TO ? "BeginSendTo" : "BeginSend";
  apmsock_trace_set_sink(sink, NULL);
  apmsock_trace_enable(true);
  ck_assert_msg(apmsock_trace_enabled(), "TRACE-01: tracing did not switch on");
  uint8_t buf[100];
  cf_pattern(buf, sizeof(buf), 70);
  cf_send_ok(&p, buf, 100, "TRACE-01: traced send");
  ck_assert_msg(wait_records(2), "TRACE-01: %d records for one send, expected 2 (begin, complete)",
                rec_count());
  apmsock_result_t r;
  apmsock_error_t e = {0};
  ck_assert(cf_begin(&p, buf, 100, 0, -1, 0, NULL, NULL, &r, &e) == APMSOCK_ARGUMENT_OUT_OF_RANGE);
  ck_assert_msg(wait_records(3), "TRACE-01: a Begin that threw left no record");
  pthread_mutex_lock(&tr.mu);
  int n = tr.n;
  const apmsock_trace_record_t *b = find_rec(APMSOCK_TRACE_BEGIN, APMSOCK_OK);
  const apmsock_trace_record_t *c = find_rec(APMSOCK_TRACE_COMPLETE, APMSOCK_OK);
  const apmsock_trace_record_t *x = find_rec(APMSOCK_TRACE_BEGIN, APMSOCK_ARGUMENT_OUT_OF_RANGE);
  pthread_mutex_unlock(&tr.mu);
  ck_assert_msg(n == 3, "TRACE-01: %d records, expected 3", n);
  ck_assert_msg(b && c && x, "TRACE-01: missing record (begin %p, complete %p, failed begin %p)",
                (void *)b, (void *)c, (void *)x);
  ck_assert_msg(b->socket == p.s.handle && c->socket == p.s.handle && x->socket == p.s.handle,
                "TRACE-01: a record names another socket");
  ck_assert_msg(strcmp(b->operation, opname) == 0 && strcmp(c->operation, opname) == 0,
                "TRACE-01: operation \"%s\"/\"%s\", expected \"%s\"", b->operation, c->operation,
                opname);
  ck_assert_msg(b->size == 100 && c->size == 100, "TRACE-01: sizes %d/%d, expected 100", b->size,
                c->size);
  ck_assert_msg(b->socket_error == 0 && c->socket_error == 0, "TRACE-01: success with a socket error");
  cf_expect_peer_gets(&p, buf, 100, "TRACE-01");
  trace_failed_send(v, &p);

  /* Off: nothing, even from completions still on their way (cleanup waits). */
  int on = rec_count();
  apmsock_trace_enable(false);
  ck_assert_msg(!apmsock_trace_enabled(), "TRACE-01: tracing did not switch off");
  cf_send_ok(&p, buf, 100, "TRACE-01: untraced send");
  cf_expect_peer_gets(&p, buf, 100, "TRACE-01 off");
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(rec_count() == on, "TRACE-01: %d records after tracing was switched off",
                rec_count() - on);
  apmsock_trace_set_sink(NULL, NULL);
}

/* ---- TRACE-01: APMSOCK_TRACE and the default line format ---------------- */

/* What the child (this binary with --trace-child) does under APMSOCK_TRACE. */
int cf_trace_child_main(void) {
  struct sockaddr_storage ra;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  cf_addr_loopback(AF_INET, 0, &ra);
  socklen_t len = sizeof(struct sockaddr_in);
  if (fd < 0 || bind(fd, CF_SA(&ra), len) != 0 || getsockname(fd, (struct sockaddr *)&ra, &len) != 0)
    return 2;
  apmsock_socket_t s;
  apmsock_result_t r;
  int32_t n = 0;
  const uint8_t msg[5] = "hello";
  if (apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, NULL) != APMSOCK_OK) return 3;
  if (apmsock_begin_send_to(s, msg, 5, 0, 5, 0, CF_SA(&ra), NULL, NULL, &r, NULL) != APMSOCK_OK) return 4;
  if (apmsock_end_send_to(s, r, &n, NULL) != APMSOCK_OK || n != 5) return 5;
  apmsock_result_release(r, NULL);
  if (apmsock_begin_send_to(s, msg, 5, 0, -1, 0, CF_SA(&ra), NULL, NULL, &r, NULL) == APMSOCK_OK)
    return 6;
  apmsock_close(s, NULL);
  apmsock_cleanup(); /* every record written before exit */
  close(fd);
  return 0;
}

static void run_trace_child(const char *env_value, const char *stderr_path) {
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0) _exit(90);
    setenv("APMSOCK_TRACE", env_value, 1);
    char *const argv[] = {"apmsock-conformance", "--trace-child", NULL};
    execv("/proc/self/exe", argv);
    _exit(91);
  }
  int status = 0;
  ck_assert_msg(cf_wait_child(pid, 2 * CF_WAIT_MS, &status), "TRACE-01: the traced child did not finish");
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "TRACE-01: the traced child failed (status 0x%x)", status);
}

/* Checks the default sink's lines in `path`: one per record, exact format. */
static void check_trace_lines(const char *path, const char *what) {
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "%s: no trace output at %s", what, path);
  regex_t re;
  ck_assert(regcomp(&re,
                    "^apmsock-trace socket=([0-9]+) op=(BeginSend|BeginSendTo) "
                    "event=(begin|complete) size=(-?[0-9]+) "
                    "outcome=(Success|System\\.[A-Za-z.]+(:[A-Za-z]+)?)$",
                    REG_EXTENDED) == 0);
  char line[512];
  int begin_ok = 0, complete_ok = 0, begin_fail = 0, lines = 0;
  while (fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "apmsock-trace", 13) != 0) continue; /* other stderr text */
    lines++;
    ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0, "%s: malformed trace line: \"%s\"", what, line);
    if (strstr(line, "op=BeginSendTo event=begin size=5 outcome=Success")) begin_ok++;
    if (strstr(line, "op=BeginSendTo event=complete size=5 outcome=Success")) complete_ok++;
    if (strstr(line, "op=BeginSendTo event=begin size=-1 outcome=System.ArgumentOutOfRangeException"))
      begin_fail++;
  }
  fclose(f);
  regfree(&re);
  ck_assert_msg(lines == 3 && begin_ok == 1 && complete_ok == 1 && begin_fail == 1,
                "%s: %d lines (begin ok %d, complete ok %d, failed begin %d), expected 3 (1/1/1)",
                what, lines, begin_ok, complete_ok, begin_fail);
}

void cf_trace_env(const cf_variant_t *v) {
  char dir[] = "/tmp/cf-trace-XXXXXX";
  ck_assert(mkdtemp(dir) != NULL);
  char file[256], err1[256], err2[256];
  snprintf(file, sizeof(file), "%s/trace.log", dir);
  snprintf(err1, sizeof(err1), "%s/stderr1", dir);
  snprintf(err2, sizeof(err2), "%s/stderr2", dir);
  run_trace_child(file, err1);
  check_trace_lines(file, "TRACE-01: APMSOCK_TRACE=<file>");
  run_trace_child("stderr", err2);
  check_trace_lines(err2, "TRACE-01: APMSOCK_TRACE=stderr");
  run_trace_child("1", err1);
  check_trace_lines(err1, "TRACE-01: APMSOCK_TRACE=1");
  unlink(file);
  unlink(err1);
  unlink(err2);
  rmdir(dir);
}

/* ---- CTX-01 ------------------------------------------------------------------ */

static atomic_int ctx_calls;
static void ctx_callback(apmsock_result_t r) { atomic_fetch_add(&ctx_calls, 1); }

#define WARM 32
#define MEASURED 200
#define CTX_SIZE 64

void cf_ctx_cached(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  static uint8_t sinkbuf[(WARM + MEASURED + 8) * CTX_SIZE];
  cf_drain_t d;
  size_t total = (size_t)(WARM + MEASURED + 3) * CTX_SIZE;
  if (v->transport == CF_TCP) cf_drain_start(&d, p.peer_fd, sinkbuf, total, CF_DRAIN_NOW);
  uint8_t buf[CTX_SIZE];
  cf_pattern(buf, CTX_SIZE, 71);
  apmsock_stats_t s0, s1, s2, s3;
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n;

  /* The first use of (socket, method, callback) builds the context. */
  apmsock_get_stats(&s0);
  cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, ctx_callback, NULL, &r, &e), &e, "first send");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "first End");
  cf_release(r);
  apmsock_get_stats(&s1);
  ck_assert_msg(s1.context_cache_misses - s0.context_cache_misses == 1,
                "CTX-01: the first use counted %llu misses, expected 1",
                (unsigned long long)(s1.context_cache_misses - s0.context_cache_misses));
  for (int i = 0; i < WARM; i++) {
    cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, ctx_callback, NULL, &r, &e), &e, "warm-up");
    cf_expect_ok(cf_end(&p, r, &n, &e), &e, "warm-up End");
    cf_release(r);
  }

  /* Steady state: no ck_assert inside (Check itself allocates to record a
   * passing assertion); failures are counted and reported after. */
  int bad = 0;
  apmsock_get_stats(&s1);
  uint64_t a0 = cf_alloc_count();
  cf_alloc_arm(1);
  for (int i = 0; i < MEASURED; i++) {
    if (cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, ctx_callback, NULL, &r, &e) != APMSOCK_OK) {
      bad++;
      continue;
    }
    if (cf_end(&p, r, &n, &e) != APMSOCK_OK || n != CTX_SIZE) bad++;
    if (apmsock_result_release(r, NULL) != APMSOCK_OK) bad++;
  }
  cf_alloc_arm(0);
  uint64_t allocs = cf_alloc_count() - a0;
  apmsock_get_stats(&s2);
  ck_assert_msg(bad == 0, "CTX-01: %d of %d steady-state sends failed", bad, MEASURED);
  if (cf_alloc_available()) {
    /* The counter must be live, also for allocations made inside shared
     * libraries (strdup allocates inside libc), or "0" would prove nothing. */
    uint64_t c0 = cf_alloc_count();
    cf_alloc_arm(1);
    char *dup = strdup("x");
    cf_alloc_arm(0);
    free(dup);
    ck_assert_msg(cf_alloc_count() > c0, "CTX-01: the allocation counter does not see libc's allocations");
  }
  if (cf_alloc_available())
    ck_assert_msg(allocs == 0, "CTX-01: %llu heap allocations (interposed malloc) in %d steady-state sends",
                  (unsigned long long)allocs, MEASURED);
  ck_assert_msg(s2.heap_allocations == s1.heap_allocations,
                "CTX-01: the implementation counted %llu heap allocations in %d steady-state sends",
                (unsigned long long)(s2.heap_allocations - s1.heap_allocations), MEASURED);
  ck_assert_msg(s2.context_cache_hits - s1.context_cache_hits == MEASURED,
                "CTX-01: %llu cache hits for %d sends on one context",
                (unsigned long long)(s2.context_cache_hits - s1.context_cache_hits), MEASURED);
  ck_assert_msg(s2.context_cache_misses == s1.context_cache_misses,
                "CTX-01: %llu cache misses in the steady state",
                (unsigned long long)(s2.context_cache_misses - s1.context_cache_misses));
  ck_assert_msg(s2.operations_started - s1.operations_started == MEASURED,
                "CTX-01: operations_started moved by %llu for %d sends",
                (unsigned long long)(s2.operations_started - s1.operations_started), MEASURED);

  /* Another callback is another context. */
  cf_cb_t cb;
  cf_cb_init(&cb);
  cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, cf_callback, &cb, &r, &e), &e, "other callback");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End");
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "CTX-01: no callback");
  cf_release(r);
  apmsock_get_stats(&s3);
  ck_assert_msg(s3.context_cache_misses - s2.context_cache_misses == 1,
                "CTX-01: a new callback counted %llu misses, expected 1",
                (unsigned long long)(s3.context_cache_misses - s2.context_cache_misses));
  cf_send_ok(&p, buf, CTX_SIZE, "last send");
  if (v->transport == CF_TCP) {
    size_t got = cf_drain_join(&d);
    ck_assert_msg(got == total, "CTX-01: the peer got %zu of %zu bytes", got, total);
  }
  cf_pair_close(&p);
}

struct churn {
  cf_pair_t *p;
  const uint8_t *buf;
  int bad;
};

static void *churn_thread(void *arg) {
  struct churn *c = arg;
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n;
  if (cf_begin(c->p, c->buf, CTX_SIZE, 0, CTX_SIZE, 0, NULL, NULL, &r, &e) != APMSOCK_OK)
    c->bad++;
  else if (cf_end(c->p, r, &n, &e) != APMSOCK_OK || n != CTX_SIZE || apmsock_result_release(r, NULL) != APMSOCK_OK)
    c->bad++;
  return NULL;
}

static atomic_int long_run_callbacks;
static void long_run_callback(apmsock_result_t r) {
  (void)r;
  atomic_fetch_add(&long_run_callbacks, 1);
}

/* The documented pattern: the callback calls End and releases, and the
 * thread that called Begin waits for it. */
struct doc_run {
  cf_pair_t *p;
  atomic_int calls, bad;
};

static void long_run_doc_callback(apmsock_result_t r) {
  struct doc_run *d = apmsock_result_state(r);
  int32_t n;
  apmsock_error_t e = {0};
  if (cf_end(d->p, r, &n, &e) != APMSOCK_OK || n != CTX_SIZE || apmsock_result_release(r, NULL) != APMSOCK_OK)
    atomic_fetch_add(&d->bad, 1);
  atomic_fetch_add(&d->calls, 1);
}

void cf_ctx_long_run(const cf_variant_t *v) {
  /* Many more sends than the steady-state window above, each ended and
   * released before the next and without a callback, so no more than one
   * operation is ever alive: a released record that never goes back to
   * its pool shows as growth once the pool is used up (longer than two
   * chunks of any plausible pool; the reference's holds 256). */
  enum { LONG_WARM = 32, LONG = 800 };
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[CTX_SIZE];
  cf_pattern(buf, CTX_SIZE, 77);
  apmsock_stats_t s0, s1;
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n;
  int bad = 0;
  for (int i = 0; i < LONG_WARM + LONG; i++) {
    if (i == LONG_WARM) apmsock_get_stats(&s0);
    if (cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, NULL, NULL, &r, &e) != APMSOCK_OK)
      bad++;
    else if (cf_end(&p, r, &n, &e) != APMSOCK_OK || n != CTX_SIZE || apmsock_result_release(r, NULL) != APMSOCK_OK)
      bad++;
  }
  apmsock_get_stats(&s1);
  ck_assert_msg(bad == 0, "CTX-01: %d of %d sends failed", bad, LONG_WARM + LONG);
  ck_assert_msg(s1.heap_allocations == s0.heap_allocations,
                "CTX-01: %llu heap allocations in %d sends with one operation alive at a time: "
                "released records are not reused", (unsigned long long)(s1.heap_allocations - s0.heap_allocations), LONG);

  /* The same with a callback: the record is shared with the callback's lane
   * until the callback returns, then goes back like the others.  Each send
   * waits for its callback before the next Begin (End does not), so no more
   * than two records are ever alive and a backlog of callbacks on a loaded
   * machine cannot pass for growth. */
  atomic_store(&long_run_callbacks, 0);
  for (int i = 0; i < LONG_WARM + LONG && bad == 0; i++) {
    if (i == LONG_WARM) apmsock_get_stats(&s0);
    if (cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, long_run_callback, NULL, &r, &e) != APMSOCK_OK)
      bad++;
    else if (cf_end(&p, r, &n, &e) != APMSOCK_OK || n != CTX_SIZE || apmsock_result_release(r, NULL) != APMSOCK_OK)
      bad++;
    uint64_t start = cf_now_ms();
    while (atomic_load(&long_run_callbacks) <= i && cf_now_ms() - start < CF_WAIT_MS)
      sched_yield();
    ck_assert_msg(atomic_load(&long_run_callbacks) == i + 1,
                  "CTX-01: the callback of send %d did not run within %d ms", i, CF_WAIT_MS);
  }
  apmsock_get_stats(&s1);
  ck_assert_msg(bad == 0, "CTX-01: a send with a callback failed");
  ck_assert_msg(s1.heap_allocations == s0.heap_allocations,
                "CTX-01: %llu heap allocations in %d sends with a callback, each waited for: "
                "the records of operations whose callback ran are not reused",
                (unsigned long long)(s1.heap_allocations - s0.heap_allocations), LONG);

  /* The documented pattern: every record is released inside its callback,
   * so it is freed on the callback's thread and allocated on this one; the
   * records must travel back to this thread (a pool kept per thread that
   * never hands back what one thread frees grows by the whole run). */
  struct doc_run d = {&p, 0, 0};
  for (int i = 0; i < LONG_WARM + LONG; i++) {
    if (i == LONG_WARM) apmsock_get_stats(&s0);
    if (cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, long_run_doc_callback, &d, &r, &e) != APMSOCK_OK) {
      bad++;
      break;  /* no callback to wait for */
    }
    uint64_t start = cf_now_ms();
    while (atomic_load(&d.calls) <= i && cf_now_ms() - start < CF_WAIT_MS)
      sched_yield();
    ck_assert_msg(atomic_load(&d.calls) == i + 1,
                  "CTX-01: the callback of send %d did not run within %d ms", i, CF_WAIT_MS);
  }
  apmsock_get_stats(&s1);
  ck_assert_msg(bad == 0 && atomic_load(&d.bad) == 0,
                "CTX-01: a send failed (Begin: %d; End or release in the callback: %d)", bad,
                atomic_load(&d.bad));
  ck_assert_msg(s1.heap_allocations == s0.heap_allocations,
                "CTX-01: %llu heap allocations in %d sends of the documented pattern (End and "
                "release in the callback): records freed on the callback's thread are not reused",
                (unsigned long long)(s1.heap_allocations - s0.heap_allocations), LONG);
  cf_pair_close(&p);

  /* The same for a Begin that fails: BeginSend on a datagram socket with no
   * default remote host (NotConnected, CONN-06; from Begin or End). */
  apmsock_socket_t u;
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &u, &e), &e, "open");
  int accepted = 0;
  for (int i = 0; i < LONG_WARM + LONG; i++) {
    if (i == LONG_WARM) apmsock_get_stats(&s0);
    if (apmsock_begin_send(u, buf, CTX_SIZE, 0, CTX_SIZE, 0, NULL, NULL, &r, &e) == APMSOCK_OK) {
      accepted += apmsock_end_send(u, r, &n, &e) == APMSOCK_OK;
      apmsock_result_release(r, NULL);
    }
  }
  apmsock_get_stats(&s1);
  apmsock_close(u, NULL);
  ck_assert_msg(accepted == 0, "CTX-01: %d sends without a remote host succeeded", accepted);
  ck_assert_msg(s1.heap_allocations == s0.heap_allocations,
                "CTX-01: %llu heap allocations in %d refused sends: a refused Begin keeps its record",
                (unsigned long long)(s1.heap_allocations - s0.heap_allocations), LONG);
}

void cf_ctx_thread_churn(const cf_variant_t *v) {
  /* Threads that come and go, one send each, on one context: whatever a
   * thread kept for its next operation goes back when it exits, so a
   * steady stream of short-lived threads costs no new allocations once
   * warm (one pool refill allowed). */
  enum { WARM_THREADS = 16, THREADS = 128, SLACK = 2 };
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[CTX_SIZE];
  cf_pattern(buf, CTX_SIZE, 75);
  struct churn c = {&p, buf, 0};
  apmsock_stats_t s0, s1;
  for (int i = 0; i < WARM_THREADS + THREADS; i++) {
    if (i == WARM_THREADS) apmsock_get_stats(&s0);
    pthread_t t;
    ck_assert_msg(pthread_create(&t, NULL, churn_thread, &c) == 0, "CTX-01: pthread_create");
    pthread_join(t, NULL);
  }
  apmsock_get_stats(&s1);
  ck_assert_msg(c.bad == 0, "CTX-01: %d of %d sends from short-lived threads failed", c.bad,
                WARM_THREADS + THREADS);
  ck_assert_msg(s1.heap_allocations - s0.heap_allocations <= SLACK,
                "CTX-01: %d threads that sent once and exited cost %llu heap allocations (at most %d "
                "expected): records a thread held are not given back when it exits",
                THREADS, (unsigned long long)(s1.heap_allocations - s0.heap_allocations), SLACK);
  cf_pair_close(&p);
}

#define CTX_CB(n) \
  static void ctx_cb_##n(apmsock_result_t r) { atomic_fetch_add(&ctx_calls, 1); }
CTX_CB(0) CTX_CB(1) CTX_CB(2) CTX_CB(3) CTX_CB(4) CTX_CB(5) CTX_CB(6) CTX_CB(7)
CTX_CB(8) CTX_CB(9) CTX_CB(10) CTX_CB(11)
#undef CTX_CB

void cf_ctx_many(const cf_variant_t *v) {
  /* More (method, callback) contexts on one socket than any small cache
   * holds, used round robin: every send still works, and each counts as
   * exactly one hit or one miss; a context used again right away hits. */
  static const apmsock_callback_t cbs[] = {ctx_cb_0, ctx_cb_1, ctx_cb_2, ctx_cb_3,
                                           ctx_cb_4, ctx_cb_5, ctx_cb_6, ctx_cb_7,
                                           ctx_cb_8, ctx_cb_9, ctx_cb_10, ctx_cb_11};
  enum { NCB = sizeof(cbs) / sizeof(cbs[0]), ROUNDS = 3 };
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[CTX_SIZE];
  cf_pattern(buf, CTX_SIZE, 73);
  apmsock_stats_t s0, s1, s2;
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n;
  atomic_store(&ctx_calls, 0);
  apmsock_get_stats(&s0);
  for (int round = 0; round < ROUNDS; round++)
    for (int i = 0; i < NCB; i++) {
      cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, cbs[i], NULL, &r, &e), &e, "Begin");
      cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End");
      ck_assert_msg(n == CTX_SIZE, "CTX-01: End returned %d", n);
      cf_release(r);
    }
  apmsock_get_stats(&s1);
  uint64_t hits = s1.context_cache_hits - s0.context_cache_hits;
  uint64_t misses = s1.context_cache_misses - s0.context_cache_misses;
  ck_assert_msg(hits + misses == ROUNDS * NCB, "CTX-01: %llu hits + %llu misses for %d sends",
                (unsigned long long)hits, (unsigned long long)misses, ROUNDS * NCB);
  ck_assert_msg(misses >= NCB, "CTX-01: %llu misses for %d new contexts", (unsigned long long)misses, NCB);
  cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, cbs[0], NULL, &r, &e), &e, "Begin");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End");
  cf_release(r);
  cf_expect_ok(cf_begin(&p, buf, CTX_SIZE, 0, CTX_SIZE, 0, cbs[0], NULL, &r, &e), &e, "Begin");
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End");
  cf_release(r);
  apmsock_get_stats(&s2);
  ck_assert_msg(s2.context_cache_hits - s1.context_cache_hits >= 1,
                "CTX-01: a context used twice in a row did not hit the second time");
  uint64_t start = cf_now_ms();
  while (atomic_load(&ctx_calls) < ROUNDS * NCB + 2 && cf_now_ms() - start < CF_WAIT_MS) sched_yield();
  ck_assert_msg(atomic_load(&ctx_calls) == ROUNDS * NCB + 2, "CTX-01: %d of %d callbacks ran",
                atomic_load(&ctx_calls), ROUNDS * NCB + 2);
  cf_pair_close(&p);
}

/* ---- SEC-01 ---------------------------------------------------------------- */

static atomic_int sec_deny, sec_asked;
static pthread_t sec_thread;
static struct sockaddr_storage sec_dest;

static bool sec_policy(const struct sockaddr *d, void *ctx) {
  sec_thread = pthread_self();
  memset(&sec_dest, 0, sizeof(sec_dest));
  if (d) memcpy(&sec_dest, d, d->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  atomic_fetch_add(&sec_asked, 1);
  return !atomic_load(&sec_deny);
}

/* pair_flags: how the socket under test got its connection (cf_pair_open). */
static void sec_denied(const cf_variant_t *v, int pair_flags) {
  cf_pair_t p;
  cf_pair_open(v, &p, pair_flags);
  int marker;
  apmsock_set_send_policy(sec_policy, &marker);
  atomic_store(&sec_deny, 1);
  uint8_t buf[32];
  cf_pattern(buf, 32, 72);
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r = {0x5a5a};
  apmsock_error_t e = {0};
  apmsock_kind_t k = cf_begin(&p, buf, 32, 0, 32, 0, cf_callback, &cb, &r, &e);
  cf_expect_kind(k, &e, APMSOCK_SECURITY, NULL, "SEC-01: a denied destination");
  ck_assert_msg(r.handle == 0, "SEC-01: a denied Begin left a result");
  ck_assert_msg(atomic_load(&sec_asked) >= 1, "SEC-01: the policy was never asked");
  ck_assert_msg(pthread_equal(sec_thread, pthread_self()),
                "SEC-01: the policy ran on another thread than the one calling Begin");
  char a[80], b[80];
  ck_assert_msg(cf_addr_equal(&sec_dest, &p.peer_addr), "SEC-01: the policy was asked about %s, expected %s",
                cf_addr_str(&sec_dest, a, sizeof(a)), cf_addr_str(&p.peer_addr, b, sizeof(b)));
  atomic_store(&sec_deny, 0);
  cf_expect_sentinel(&p, "SEC-01: nothing of the denied send went out");
  apmsock_set_send_policy(NULL, NULL);
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(cf_cb_calls(&cb) == 0, "SEC-01: the denied send ran its callback");
}

void cf_sec_denied(const cf_variant_t *v) {
  sec_denied(v, 0);
}

void cf_sec_denied_accepted(const cf_variant_t *v) {
  /* A socket that Accept made: its remote host is the peer that connected,
   * and the policy is asked about that peer as for a socket that connected. */
  sec_denied(v, CF_PAIR_ACCEPT);
}

/* ---- EX-01 --------------------------------------------------------------------- */

void cf_example(const cf_variant_t *v) {
  /* The documented example: a stream socket calls BeginSendTo without
   * connecting -> SocketException (CONN-02). */
  static const char text[] = "This is a test";
  const int32_t len = (int32_t)strlen(text);
  struct sockaddr_storage lep;
  int lfd = cf_tcp_listener(v->family, &lep, 0);
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_STREAM, &s, &e), &e, "new Socket");
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r = {0x5a5a};
  apmsock_kind_t k = apmsock_begin_send_to(s, (const uint8_t *)text, len, 0, len, 0, CF_SA(&lep),
                                           cf_callback, &cb, &r, &e);
  cf_expect_socket_error(k, &e, APMSOCK_SE_NOT_CONNECTED, "EX-01: the example as documented");
  ck_assert_msg(r.handle == 0, "EX-01: a Begin that threw left a result");

  /* Corrected: connect first; the callback calls EndSendTo. */
  cf_expect_ok(apmsock_connect(s, CF_SA(&lep), &e), &e, "EX-01: Connect");
  int pfd = cf_tcp_accept(lfd, "EX-01: the listener");
  cb.end_in_cb = 1;
  cb.s = s;
  cb.method = CF_SEND_TO;
  cf_expect_ok(apmsock_begin_send_to(s, (const uint8_t *)text, len, 0, len, 0, CF_SA(&lep),
                                     cf_callback, &cb, &r, &e),
               &e, "EX-01: the corrected example's BeginSendTo");
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "EX-01: SendTo_Callback never ran");
  ck_assert_msg(cb.end_kind == APMSOCK_OK && cb.end_bytes == len,
                "EX-01: EndSendTo in the callback: %s, %d bytes",
                cb.end_kind == APMSOCK_OK ? "OK" : apmsock_kind_name(cb.end_kind), cb.end_bytes);
  char got[32] = {0};
  cf_tcp_read_exact(pfd, got, (size_t)len, "EX-01: the listener");
  ck_assert_msg(memcmp(got, text, (size_t)len) == 0, "EX-01: received \"%s\"", got);
  cf_release(r);
  apmsock_close(s, NULL);
  close(pfd);
  close(lfd);
}
