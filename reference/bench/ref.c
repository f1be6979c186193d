/* ref.c: the reference, driven the ways users write it.
 *
 * The documented pattern: Begin with a callback; the callback calls End and
 * sets an event; the thread that called Begin waits on that event before the
 * next Begin.  In flight: a counting semaphore holds the window, the callback
 * ends and posts it (the older window that spins on sched_yield is kept, it
 * measures the library without the user's wake-ups).  Without a callback:
 * Begin then End on the same thread. */
#include "bench.h"

#include <sched.h>
#include <stdio.h>

static apmsock_socket_t udp, tcp;

void ref_open(void) {
  if (apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &udp, NULL) != APMSOCK_OK ||
      apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_STREAM, &tcp, NULL) != APMSOCK_OK ||
      apmsock_connect(tcp, (struct sockaddr *)&bench_tcp_addr, NULL) != APMSOCK_OK)
    bench_die("apmsock setup");
}

void ref_close(void) {
  apmsock_close(udp, NULL);
  apmsock_close(tcp, NULL);
}

static void begin_udp(int size, apmsock_callback_t cb, apmsock_result_t *r) {
  if (apmsock_begin_send_to(udp, bench_payload, sizeof bench_payload, 0, size, 0,
                            (struct sockaddr *)&bench_udp_dest, cb, NULL, r, NULL) != APMSOCK_OK)
    bench_die("begin_send_to");
}

static void end_udp(apmsock_result_t r) {
  int32_t n;
  if (apmsock_end_send_to(udp, r, &n, NULL) != APMSOCK_OK)
    bench_die("end_send_to");
  apmsock_result_release(r, NULL);
}

/* ---- serial, End on this thread ---------------------------------------- */

static _Atomic int counted;

static void count_cb(apmsock_result_t r) {
  atomic_fetch_add(&counted, 1);
}

static run_t serial(const params_t *p, apmsock_callback_t cb) {
  uint64_t base = atomic_load(&bench_udp_delivered);
  atomic_store(&counted, 0);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    apmsock_result_t r;
    begin_udp(p->size, cb, &r);
    end_udp(r);
  }
  double deadline = bench_now() + 5;
  while (cb != NULL && atomic_load(&counted) < p->ops && bench_now() < deadline)
    sched_yield();
  return bench_udp_finish(t0, base, p->ops);
}

run_t ref_udp_serial(const params_t *p) {
  return serial(p, NULL);
}

run_t ref_udp_serial_counted(const params_t *p) {
  return serial(p, count_cb);
}

/* ---- the documented pattern -------------------------------------------- */

samples_t ref_latency_sem, ref_latency_spin;
static samples_t *latency;
static uint64_t begun_ns;          /* written before Begin, read by the callback */
static sem_t doc_sem;
static spin_event_t doc_spin;

static void note_latency(void) {
  uint64_t t = bench_now_ns();
  if (latency->n < latency->cap)
    latency->ns[latency->n++] = t - begun_ns;
}

static void doc_sem_cb(apmsock_result_t r) {
  note_latency();
  end_udp(r);
  sem_post(&doc_sem);
}

static void doc_spin_cb(apmsock_result_t r) {
  note_latency();
  end_udp(r);
  spin_event_set(&doc_spin);
}

run_t ref_udp_documented_sem(const params_t *p) {
  static bool inited;
  if (!inited)
    inited = sem_init(&doc_sem, 0, 0) == 0;
  latency = &ref_latency_sem;
  uint64_t base = atomic_load(&bench_udp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    apmsock_result_t r;
    begun_ns = bench_now_ns();
    begin_udp(p->size, doc_sem_cb, &r);
    sem_wait_bounded(&doc_sem);
  }
  return bench_udp_finish(t0, base, p->ops);
}

run_t ref_udp_documented_spin(const params_t *p) {
  latency = &ref_latency_spin;
  uint64_t base = atomic_load(&bench_udp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    apmsock_result_t r;
    begun_ns = bench_now_ns();
    begin_udp(p->size, doc_spin_cb, &r);
    spin_event_wait(&doc_spin);
  }
  return bench_udp_finish(t0, base, p->ops);
}

/* ---- in flight --------------------------------------------------------- */

static _Atomic int in_flight;
static sem_t window;
static int window_slots;

static void window_yield_cb(apmsock_result_t r) {
  end_udp(r);
  atomic_fetch_add(&counted, 1);
  atomic_fetch_sub(&in_flight, 1);
}

static void window_sem_cb(apmsock_result_t r) {
  end_udp(r);
  sem_post(&window);
}

run_t ref_udp_window_yield(const params_t *p) {
  uint64_t base = atomic_load(&bench_udp_delivered);
  atomic_store(&counted, 0);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    while (atomic_load(&in_flight) >= p->inflight)
      sched_yield();
    atomic_fetch_add(&in_flight, 1);
    apmsock_result_t r;
    begin_udp(p->size, window_yield_cb, &r);
  }
  double deadline = bench_now() + 5;
  while (atomic_load(&counted) < p->ops && bench_now() < deadline)
    sched_yield();
  return bench_udp_finish(t0, base, p->ops);
}

/* The window is a semaphore of p->inflight slots, made once per size. */
static void window_init(int slots) {
  if (window_slots == slots)
    return;
  if (window_slots != 0)
    sem_destroy(&window);
  if (sem_init(&window, 0, (unsigned)slots) != 0)
    bench_die("sem_init");
  window_slots = slots;
}

run_t ref_udp_window_sem(const params_t *p) {
  window_init(p->inflight);
  uint64_t base = atomic_load(&bench_udp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    sem_wait_bounded(&window);
    apmsock_result_t r;
    begin_udp(p->size, window_sem_cb, &r);
  }
  window_drain(&window, p->inflight);
  return bench_udp_finish(t0, base, p->ops);
}

/* ---- TCP --------------------------------------------------------------- */

static void end_tcp(apmsock_result_t r) {
  int32_t n;
  if (apmsock_end_send(tcp, r, &n, NULL) != APMSOCK_OK || n != TCP_CHUNK)
    bench_die("end_send");
  apmsock_result_release(r, NULL);
}

run_t ref_tcp_serial(const params_t *p) {
  uint64_t base = atomic_load(&bench_tcp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    apmsock_result_t r;
    if (apmsock_begin_send(tcp, bench_payload, TCP_CHUNK, 0, TCP_CHUNK, 0, NULL, NULL, &r,
                           NULL) != APMSOCK_OK)
      bench_die("begin_send");
    end_tcp(r);
  }
  return bench_tcp_finish(t0, base, (uint64_t)p->ops * TCP_CHUNK);
}

static void tcp_window_cb(apmsock_result_t r) {
  end_tcp(r);
  sem_post(&window);
}

run_t ref_tcp_window_sem(const params_t *p) {
  window_init(p->inflight);
  uint64_t base = atomic_load(&bench_tcp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    sem_wait_bounded(&window);
    apmsock_result_t r;
    if (apmsock_begin_send(tcp, bench_payload, TCP_CHUNK, 0, TCP_CHUNK, 0, tcp_window_cb, NULL,
                           &r, NULL) != APMSOCK_OK)
      bench_die("begin_send");
  }
  window_drain(&window, p->inflight);
  return bench_tcp_finish(t0, base, (uint64_t)p->ops * TCP_CHUNK);
}
