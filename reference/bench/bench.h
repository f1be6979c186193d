/* bench.h: what the files of `make bench` share.
 *
 * One process, one run: a receiver thread per transport drains a plain
 * loopback socket and counts, every side of a case (raw sockets, the
 * reference, libuv) sends to the same receiver, and runs of the sides
 * alternate within each repetition (bench.c).  All of it is driven from the
 * main thread; callbacks run where their library runs them. */
#ifndef APMSOCK_BENCH_H
#define APMSOCK_BENCH_H

#define _GNU_SOURCE
#include "apmsock.h"

#include <netinet/in.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TCP_CHUNK (64 * 1024)
#define UDP_WINDOW 1024      /* datagrams sent but not yet received, at most */

/* What one run of one side did. */
typedef struct {
  double seconds;
  uint64_t sent;        /* datagrams, or bytes for TCP */
  uint64_t delivered;   /* the same, counted by the receiver */
} run_t;

/* The parameters of a case, shared by its sides. */
typedef struct {
  int size;             /* UDP payload */
  int ops;              /* operations per run */
  int inflight;         /* window, for the sides that keep several in flight */
} params_t;

typedef run_t (*side_fn)(const params_t *p);

/* ---- bench.c: the sockets and the receivers ---------------------------- */
extern struct sockaddr_in bench_udp_dest;
extern struct sockaddr_in bench_tcp_addr;
extern uint8_t bench_payload[TCP_CHUNK];
extern _Atomic uint64_t bench_udp_delivered;   /* datagrams */
extern _Atomic uint64_t bench_tcp_delivered;   /* bytes, every connection */
extern uint64_t bench_udp_sent;                /* by every side, main thread */
extern uint64_t bench_tcp_sent;

_Noreturn void bench_die(const char *what);
double bench_now(void);
uint64_t bench_now_ns(void);
/* Main thread (or a callback it waits for): before each datagram; blocks,
 * bounded, while UDP_WINDOW datagrams are unreceived. */
void bench_udp_flow(void);
/* Main thread: waits, bounded, until the receiver has everything sent. */
run_t bench_udp_finish(double t0, uint64_t base, int ops);
run_t bench_tcp_finish(double t0, uint64_t base, uint64_t bytes);

/* ---- event.c: how the thread that called Begin waits ------------------- */
/* A spin-then-block event, as .NET's ManualResetEventSlim: Wait spins a
 * bounded number of rounds checking the flag, then sleeps on a futex; Set
 * makes a system call only when a waiter sleeps.  Wait resets it (the user's
 * Wait + Reset).  One waiter, any number of setters. */
typedef struct {
  _Atomic uint32_t state;   /* 0 unset, 1 set, 2 unset and a waiter sleeps */
} spin_event_t;
void spin_event_set(spin_event_t *e);
void spin_event_wait(spin_event_t *e);
/* sem_wait that gives up (and ends the run) after 5 s. */
void sem_wait_bounded(sem_t *s);
/* Waits for every slot of a counting-semaphore window to be free again. */
void window_drain(sem_t *w, int slots);

/* ---- peers.c: raw sockets and libuv ------------------------------------ */
void peers_open(void);
void peers_close(void);
run_t raw_udp_serial(const params_t *p);       /* sendto() loop */
run_t raw_tcp_serial(const params_t *p);       /* blocking write() loop */
run_t uv_udp_window(const params_t *p);        /* uv_udp_send, p->inflight in flight */
run_t uv_tcp_window(const params_t *p);        /* uv_write, p->inflight in flight */

/* ---- ref.c: the reference, as users write it --------------------------- */
void ref_open(void);
void ref_close(void);
run_t ref_udp_serial(const params_t *p);        /* Begin + End, no callback */
run_t ref_udp_serial_counted(const params_t *p);/* Begin + End on this thread; the callback only counts */
run_t ref_udp_documented_sem(const params_t *p);  /* the callback ends and posts a sem_t */
run_t ref_udp_documented_spin(const params_t *p); /* ... sets a spin-then-block event */
run_t ref_udp_window_yield(const params_t *p);  /* in flight; the window spins on sched_yield */
run_t ref_udp_window_sem(const params_t *p);    /* in flight; the window is a counting semaphore */
run_t ref_tcp_serial(const params_t *p);        /* Begin + End, no callback */
run_t ref_tcp_window_sem(const params_t *p);    /* in flight, the callback ends */
/* Begin-to-callback-start latencies of the documented runs, in ns. */
typedef struct {
  uint64_t *ns;
  int n, cap;
} samples_t;
extern samples_t ref_latency_sem, ref_latency_spin;

#endif /* APMSOCK_BENCH_H */
