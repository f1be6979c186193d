/* test-cancel.c: CANCEL-01..04, thread exit and disposal. */
#include "tests.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SMALL 256

typedef struct starter {
  cf_pair_t *p;
  const uint8_t *buf;
  int32_t size;
  cf_cb_t *cb;
  int wait_done;         /* wait for completion before exiting */
  apmsock_result_t r;
  apmsock_kind_t kind;
  int done_before_exit;
} starter_t;

static void *starter_main(void *arg) {
  starter_t *st = arg;
  apmsock_error_t e = {0};
  st->kind = cf_begin(st->p, st->buf, st->size, 0, st->size, 0, st->cb ? cf_callback : NULL,
                      st->cb, &st->r, &e);
  if (st->kind == APMSOCK_OK && st->wait_done) {
    bool sig = false;
    apmsock_result_wait(st->r, CF_WAIT_MS, &sig, NULL);
    st->done_before_exit = sig;
  }
  return NULL; /* the thread exits here */
}

/* Runs Begin on a new thread that then exits; returns once it has. */
static apmsock_result_t begin_on_exiting_thread(starter_t *st) {
  pthread_t th;
  ck_assert(pthread_create(&th, NULL, starter_main, st) == 0);
  pthread_join(th, NULL);
  ck_assert_msg(st->kind == APMSOCK_OK, "Begin on the exiting thread failed: %s",
                apmsock_kind_name(st->kind));
  return st->r;
}

static void expect_aborted(cf_pair_t *p, apmsock_result_t r, cf_cb_t *cb, const char *what) {
  apmsock_error_t e = {0};
  bool sig = false;
  cf_expect_ok(apmsock_result_wait(r, CF_WAIT_MS, &sig, &e), &e, "WaitOne");
  ck_assert_msg(sig, "%s: the operation did not complete within %d ms after its thread exited",
                what, CF_WAIT_MS);
  int32_t n = -1;
  cf_expect_socket_error(cf_end(p, r, &n, &e), &e, APMSOCK_SE_OPERATION_ABORTED, what);
  ck_assert_msg(cf_cb_wait(cb, 1, CF_WAIT_MS), "%s: the aborted operation ran no callback", what);
}

void cf_cancel_thread_exit(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 60);
  cf_cb_t cb;
  cf_cb_init(&cb);
  starter_t st = {.p = &p, .buf = buf, .size = CF_BIG, .cb = &cb};
  apmsock_result_t r = begin_on_exiting_thread(&st);
  expect_aborted(&p, r, &cb, "CANCEL-01: pending send of an exited thread");
  cf_release(r);
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(cf_cb_calls(&cb) == 1, "CANCEL-01: the callback ran %d times", cf_cb_calls(&cb));
  cf_big_free(buf);
}

typedef struct restart {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int phase;            /* 1: worker done before the restart; 2: pair B ready */
  int phase1_ok;
  cf_pair_t *b;
  uint8_t *big;
  cf_cb_t *cb;
  apmsock_result_t r;
  apmsock_kind_t kind;
} restart_t;

static void set_phase(restart_t *rs, int phase) {
  pthread_mutex_lock(&rs->mu);
  rs->phase = phase;
  pthread_cond_broadcast(&rs->cv);
  pthread_mutex_unlock(&rs->mu);
}

static int wait_phase(restart_t *rs, int phase) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += CF_WAIT_MS / 1000 + 1;
  pthread_mutex_lock(&rs->mu);
  while (rs->phase < phase)
    if (pthread_cond_timedwait(&rs->cv, &rs->mu, &dl) != 0) break;
  int ok = rs->phase >= phase;
  pthread_mutex_unlock(&rs->mu);
  return ok;
}

static void *restart_worker(void *arg) {
  /* One thread on both sides of a restart: it sends, the test thread cleans
   * the library up (twice: the second is a no-op) while this one waits, and
   * after the restart it begins a send that stays pending, then exits. */
  restart_t *rs = arg;
  struct sockaddr_storage ra;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  cf_addr_loopback(AF_INET, 0, &ra);
  socklen_t len = sizeof(struct sockaddr_in);
  apmsock_socket_t s;
  apmsock_result_t r;
  int32_t n = -1;
  uint8_t small[SMALL] = {1};
  rs->phase1_ok = fd >= 0 && bind(fd, CF_SA(&ra), len) == 0 &&
                  getsockname(fd, (struct sockaddr *)&ra, &len) == 0 &&
                  apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, NULL) == APMSOCK_OK &&
                  apmsock_begin_send_to(s, small, SMALL, 0, SMALL, 0, CF_SA(&ra), NULL, NULL, &r,
                                        NULL) == APMSOCK_OK &&
                  apmsock_end_send_to(s, r, &n, NULL) == APMSOCK_OK && n == SMALL &&
                  apmsock_result_release(r, NULL) == APMSOCK_OK;
  if (fd >= 0) close(fd);
  set_phase(rs, 1);
  if (!wait_phase(rs, 2)) return NULL;
  rs->kind = cf_begin(rs->b, rs->big, CF_BIG, 0, CF_BIG, 0, cf_callback, rs->cb, &rs->r, NULL);
  return NULL;
}

void cf_cancel_thread_exit_after_restart(const cf_variant_t *v) {
  restart_t rs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  cf_cb_t cb;
  cf_cb_init(&cb);
  cf_pair_t p;
  rs.b = &p;
  rs.cb = &cb;
  rs.big = cf_pattern_alloc(CF_BIG, 66);
  rs.kind = APMSOCK_KIND_COUNT;
  pthread_t th;
  ck_assert(pthread_create(&th, NULL, restart_worker, &rs) == 0);
  int before = wait_phase(&rs, 1);
  if (before) {
    apmsock_cleanup(); /* the worker is idle: no call runs concurrently */
    apmsock_cleanup();
    cf_pair_open(v, &p, CF_PAIR_SMALL); /* after the restart: a fresh library */
  }
  set_phase(&rs, 2);
  pthread_join(th, NULL);
  ck_assert_msg(before, "CANCEL-01: the worker did not get through its first send and the cleanup");
  ck_assert_msg(rs.phase1_ok, "CANCEL-01: the worker's send before the restart failed");
  ck_assert_msg(rs.kind == APMSOCK_OK, "CANCEL-01: the worker's Begin after the restart failed");
  expect_aborted(&p, rs.r, &cb, "CANCEL-01: pending send of a thread that exited after a restart");
  cf_release(rs.r);
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(cf_cb_calls(&cb) == 1, "CANCEL-01: the callback ran %d times", cf_cb_calls(&cb));
  cf_big_free(rs.big);
}

void cf_cancel_completed_before_exit(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[SMALL];
  cf_pattern(buf, SMALL, 61);
  cf_cb_t cb;
  cf_cb_init(&cb);
  starter_t st = {.p = &p, .buf = buf, .size = SMALL, .cb = &cb, .wait_done = 1};
  apmsock_result_t r = begin_on_exiting_thread(&st);
  ck_assert_msg(st.done_before_exit, "CANCEL-02: the send did not complete before its thread exited");
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_end(&p, r, &n, &e), &e, "CANCEL-02: End after the thread exited");
  ck_assert_msg(n == SMALL, "CANCEL-02: End returned %d", n);
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "CANCEL-02: no callback");
  cf_release(r);
  cf_expect_peer_gets(&p, buf, SMALL, "CANCEL-02");
  cf_pair_close(&p);
}

void cf_cancel_other_threads(const cf_variant_t *v) {
  /* The test thread's pending send A, then an exiting thread's send B
   * queued behind it: B aborts, A completes whole, B sends nothing. */
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *a = cf_pattern_alloc(CF_BIG, 62);
  uint8_t b[SMALL];
  memset(b, 'B', SMALL);
  apmsock_result_t ra = cf_begin_pending(&p, a, CF_BIG, NULL, NULL, "CANCEL-03: A");
  apmsock_error_t e = {0};
  bool sig = true;
  cf_cb_t cb;
  cf_cb_init(&cb);
  starter_t st = {.p = &p, .buf = b, .size = SMALL, .cb = &cb};
  apmsock_result_t rb = begin_on_exiting_thread(&st);
  expect_aborted(&p, rb, &cb, "CANCEL-03: B, begun by the exited thread");
  cf_release(rb);
  cf_expect_ok(apmsock_result_wait(ra, 0, &sig, &e), &e, "WaitOne(0)");
  ck_assert_msg(!sig, "CANCEL-03: A completed while the peer read nothing");
  cf_end_draining(&p, ra, a, CF_BIG, "CANCEL-03: A (another thread's exit)");
  cf_expect_sentinel(&p, "CANCEL-03: nothing of B was sent");
  cf_pair_close(&p);
  cf_big_free(a);
}

void cf_cancel_close_pending(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t small[SMALL];
  cf_pattern(small, SMALL, 63);
  uint8_t *big = cf_pattern_alloc(CF_BIG, 64);
  cf_cb_t cbc, cb1, cb2;
  cf_cb_init(&cbc);
  cf_cb_init(&cb1);
  cf_cb_init(&cb2);
  apmsock_stats_t before, after;
  apmsock_get_stats(&before);
  apmsock_result_t rc, r1, r2;
  apmsock_error_t e = {0};
  bool sig = false;
  cf_expect_ok(cf_begin(&p, small, SMALL, 0, SMALL, 0, cf_callback, &cbc, &rc, &e), &e, "Begin C");
  cf_expect_ok(apmsock_result_wait(rc, CF_WAIT_MS, &sig, &e), &e, "WaitOne C");
  ck_assert_msg(sig, "CANCEL-04: the small send C did not complete");
  cf_expect_ok(cf_begin(&p, big, CF_BIG, 0, CF_BIG, 0, cf_callback, &cb1, &r1, &e), &e, "Begin P1");
  cf_expect_ok(cf_begin(&p, big, CF_BIG, 0, CF_BIG, 0, cf_callback, &cb2, &r2, &e), &e, "Begin P2");
  cf_expect_ok(apmsock_result_wait(r1, 0, &sig, &e), &e, "WaitOne(0)");
  ck_assert_msg(!sig, "CANCEL-04: P1 completed although the peer reads nothing");
  cf_expect_ok(apmsock_close(p.s, &e), &e, "CANCEL-04: Close with two sends pending");
  ck_assert_msg(cf_cb_wait(&cb1, 1, CF_WAIT_MS) && cf_cb_wait(&cb2, 1, CF_WAIT_MS),
                "CANCEL-04: the aborted operations did not all run their callbacks");
  int32_t n = -1;
  cf_expect_kind(cf_end(&p, r1, &n, &e), &e, APMSOCK_OBJECT_DISPOSED, NULL, "CANCEL-04: End of P1");
  ck_assert_msg(e.socket_error == APMSOCK_SE_OPERATION_ABORTED, "CANCEL-04: P1 carries %d, not 995",
                e.socket_error);
  cf_expect_kind(cf_end(&p, r2, &n, &e), &e, APMSOCK_OBJECT_DISPOSED, NULL, "CANCEL-04: End of P2");
  n = -1;
  cf_expect_ok(cf_end(&p, rc, &n, &e), &e, "CANCEL-04: End of C, completed before Close");
  ck_assert_msg(n == SMALL, "CANCEL-04: C's result changed to %d", n);
  cf_release(rc);
  cf_release(r1);
  cf_release(r2);
  apmsock_get_stats(&after);
  ck_assert_msg(after.operations_started - before.operations_started == 3 &&
                    after.operations_completed - before.operations_completed == 3,
                "CANCEL-04: started %llu, completed %llu (expected 3 and 3)",
                (unsigned long long)(after.operations_started - before.operations_started),
                (unsigned long long)(after.operations_completed - before.operations_completed));
  cf_pair_close(&p);
  apmsock_cleanup();
  ck_assert_msg(cf_cb_calls(&cbc) == 1 && cf_cb_calls(&cb1) == 1 && cf_cb_calls(&cb2) == 1,
                "CANCEL-04: callbacks ran %d/%d/%d times, expected once each", cf_cb_calls(&cbc),
                cf_cb_calls(&cb1), cf_cb_calls(&cb2));
  cf_big_free(big);
}

/* A callback that takes its time (a bounded hold, not a wait for an event):
 * whoever returns before it has finished did not wait for it. */
static atomic_int slow_done;
static void slow_callback(apmsock_result_t r) {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t never = PTHREAD_COND_INITIALIZER;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += 100 * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&mu);
  while (pthread_cond_timedwait(&never, &mu, &until) == 0) {
  }
  pthread_mutex_unlock(&mu);
  atomic_store(&slow_done, 1);
}

void cf_cancel_cleanup_pending(const cf_variant_t *v) {
  /* The library's cleanup with a send pending on one socket and another
   * socket idle, neither closed first: cleanup closes both (the idle one's
   * peer sees the end of the stream), completes the pending send as
   * aborted and has run its callback to the end before it returns. */
  cf_pair_t busy, idle;
  cf_pair_open(v, &busy, CF_PAIR_SMALL);
  cf_pair_open(v, &idle, 0);
  uint8_t *big = cf_pattern_alloc(CF_BIG, 65);
  atomic_store(&slow_done, 0);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  bool sig = false;
  cf_expect_ok(cf_begin(&busy, big, CF_BIG, 0, CF_BIG, 0, slow_callback, NULL, &r, &e), &e, "Begin");
  cf_expect_ok(apmsock_result_wait(r, 0, &sig, &e), &e, "WaitOne(0)");
  ck_assert_msg(!sig, "CANCEL-04: the big send completed although the peer reads nothing");
  apmsock_cleanup();
  ck_assert_msg(atomic_load(&slow_done) == 1,
                "CANCEL-04: cleanup returned before the aborted operation's callback had finished");
  /* The counters are "since the library started": a library cleaned up
   * starts again from zero. */
  apmsock_stats_t st;
  apmsock_get_stats(&st);
  ck_assert_msg(st.heap_allocations == 0 && st.context_cache_hits == 0 && st.context_cache_misses == 0 &&
                    st.operations_started == 0 && st.operations_completed == 0,
                "CANCEL-04: after cleanup the counters read %llu/%llu/%llu/%llu/%llu, not zero",
                (unsigned long long)st.heap_allocations, (unsigned long long)st.context_cache_hits,
                (unsigned long long)st.context_cache_misses, (unsigned long long)st.operations_started,
                (unsigned long long)st.operations_completed);
  struct pollfd pfd = {.fd = idle.peer_fd, .events = POLLIN};
  ck_assert_msg(poll(&pfd, 1, CF_WAIT_MS) == 1, "CANCEL-04: after cleanup, the idle socket's peer "
                "saw nothing within %d ms: the socket was not closed", CF_WAIT_MS);
  char c;
  ssize_t got = recv(idle.peer_fd, &c, 1, 0);
  ck_assert_msg(got == 0 || (got < 0 && errno == ECONNRESET),
                "CANCEL-04: the idle socket's peer read %zd instead of the end of the stream", got);
  close(idle.peer_fd);
  close(busy.peer_fd);
  if (idle.listen_fd >= 0) close(idle.listen_fd);
  if (busy.listen_fd >= 0) close(busy.listen_fd);
  cf_big_free(big);
}

void cf_cancel_close_reuses_records(const cf_variant_t *v) {
  /* Closing a socket with nothing pending gives its record back: many more
   * opens and closes than one chunk of the reference's socket table (256)
   * make no heap allocation once warm.  A closed socket's record that never
   * went back would show as a new chunk. */
  (void)v;
  enum { WARM = 32, MANY = 800 };
  apmsock_stats_t s0, s1;
  apmsock_error_t e = {0};
  int bad = 0;
  for (int i = 0; i < WARM + MANY; i++) {
    if (i == WARM) apmsock_get_stats(&s0);
    apmsock_socket_t s;
    if (apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &e) != APMSOCK_OK ||
        apmsock_close(s, &e) != APMSOCK_OK)
      bad++;
  }
  apmsock_get_stats(&s1);
  ck_assert_msg(bad == 0, "CANCEL-04: %d of %d socket opens or closes failed", bad, WARM + MANY);
  ck_assert_msg(s1.heap_allocations == s0.heap_allocations,
                "CANCEL-04: %llu heap allocations in %d opens and closes: closed sockets' records "
                "are not reused", (unsigned long long)(s1.heap_allocations - s0.heap_allocations), MANY);
}

void cf_cancel_close_pending_accept(const cf_variant_t *v) {
  /* A BeginAccept pending on a listener that is closed completes as
   * aborted like a send, and its End hands out no socket. */
  apmsock_socket_t ls;
  apmsock_error_t e = {0};
  struct sockaddr_storage la;
  ls = cf_listener_open(v, &la);
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r;
  cf_expect_ok(apmsock_begin_accept(ls, cf_callback, &cb, &r, &e), &e, "BeginAccept");
  cf_expect_ok(apmsock_close(ls, &e), &e, "CANCEL-04: Close with an accept pending");
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "CANCEL-04: the aborted accept's callback never ran");
  apmsock_socket_t got = {0x5a5a};
  cf_expect_kind(apmsock_end_accept(ls, r, &got, &e), &e, APMSOCK_OBJECT_DISPOSED, NULL,
                 "CANCEL-04: EndAccept of the aborted accept");
  ck_assert_msg(got.handle == 0, "CANCEL-04: the aborted EndAccept handed out socket %#llx",
                (unsigned long long)got.handle);
  cf_release(r);
}

