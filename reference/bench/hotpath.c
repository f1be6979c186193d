/*
 * hotpath.c: a fixed loop of sends, for counting what one operation costs
 * with deterministic tools (instruction and call counts, syscalls) rather
 * than timings, which this shared machine makes noisy.  Not run by `make`:
 *
 *   cc -O2 -g -pthread -Ireference/include reference/bench/hotpath.c \
 *      build/release/lib/libapmsock.a -luv -o build/release/bin/hotpath
 *   strace -f -c build/release/bin/hotpath udp-cb 10000
 *   valgrind --tool=callgrind build/release/bin/hotpath udp 10000
 *
 * Run each mode with 0 and with N operations and divide the difference by N:
 * what is left is the per-operation cost, start-up and cleanup cancel out.
 * Modes: udp (BeginSendTo + EndSendTo + release, no callback), udp-cb (the
 * same with a callback), udp-cb-end (the callback ends and releases, as in
 * the bench's in-flight case), udp-doc (the documented pattern: the callback
 * ends, releases and posts a semaphore the loop waits on before the next
 * Begin), tcp (BeginSend of 1 KiB + EndSend + release).
 */
#define _GNU_SOURCE
#include "apmsock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum mode { UDP, UDP_CB, UDP_CB_END, UDP_DOC, TCP };

static apmsock_socket_t sock;
static _Atomic int callbacks;
static uint8_t payload[1024];

static void count_cb(apmsock_result_t r) {
  atomic_fetch_add(&callbacks, 1);
}

static void end_cb(apmsock_result_t r) {
  int32_t n;
  apmsock_end_send_to(sock, r, &n, NULL);
  apmsock_result_release(r, NULL);
  atomic_fetch_add(&callbacks, 1);
}

static sem_t done;

static void doc_cb(apmsock_result_t r) {
  end_cb(r);
  sem_post(&done);
}

static void check(apmsock_kind_t kind, const char *what) {
  if (kind != APMSOCK_OK) {
    fprintf(stderr, "hotpath: %s: %s\n", what, apmsock_kind_name(kind));
    exit(2);
  }
}

int main(int argc, char **argv) {
  static const char *const names[] = { "udp", "udp-cb", "udp-cb-end", "udp-doc", "tcp" };
  int mode = UDP;
  while (argc == 3 && mode <= TCP && strcmp(argv[1], names[mode]) != 0)
    mode++;
  if (argc != 3 || mode > TCP) {
    fprintf(stderr, "usage: hotpath udp|udp-cb|udp-cb-end|udp-doc|tcp N\n");
    return 2;
  }
  int n = atoi(argv[2]);

  /* The receiver is a plain socket drained by this thread: nothing else runs. */
  int rx = socket(AF_INET, mode == TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  int big = 64 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  if (bind(rx, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(rx, (struct sockaddr *)&a, &len) != 0)
    return perror("bind"), 2;
  int peer = rx;
  if (mode == TCP) {
    listen(rx, 1);
    check(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_STREAM, &sock, NULL), "open");
    check(apmsock_connect(sock, (struct sockaddr *)&a, NULL), "connect");
    peer = accept(rx, NULL, NULL);
  } else {
    check(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &sock, NULL), "open");
  }

  apmsock_callback_t cb = mode == UDP_CB       ? count_cb
                          : mode == UDP_CB_END ? end_cb
                          : mode == UDP_DOC    ? doc_cb
                                               : NULL;
  sem_init(&done, 0, 0);
  uint8_t sink[2048];
  for (int i = 0; i < n; i++) {
    apmsock_result_t r;
    int32_t sent;
    if (mode == TCP) {
      check(apmsock_begin_send(sock, payload, sizeof payload, 0, sizeof payload, 0, NULL,
                               NULL, &r, NULL), "begin_send");
      check(apmsock_end_send(sock, r, &sent, NULL), "end_send");
      apmsock_result_release(r, NULL);
      /* Drain as we go so the stream never fills (no queued sends). */
      for (size_t got = 0; got < sizeof payload;) {
        ssize_t k = read(peer, sink, sizeof payload - got);
        if (k <= 0)
          return perror("read"), 2;
        got += (size_t)k;
      }
      continue;
    }
    check(apmsock_begin_send_to(sock, payload, sizeof payload, 0, 64, 0,
                                (struct sockaddr *)&a, cb, NULL, &r, NULL), "begin_send_to");
    if (mode == UDP_DOC) {
      /* Bounded: the callback is owed (ASYNC-01); 5 s without it is a bug. */
      struct timespec deadline;
      clock_gettime(CLOCK_MONOTONIC, &deadline);
      deadline.tv_sec += 5;
      if (sem_clockwait(&done, CLOCK_MONOTONIC, &deadline) != 0)
        return fprintf(stderr, "hotpath: no callback within 5 s\n"), 2;
    } else if (mode != UDP_CB_END) {
      check(apmsock_end_send_to(sock, r, &sent, NULL), "end_send_to");
      apmsock_result_release(r, NULL);
    }
    if (i % 512 == 511)
      while (recv(rx, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
  }
  /* Bounded: every callback is owed (ASYNC-01), so this ends unless the
   * library is broken, and then the count says so. */
  for (int spins = 0; cb != NULL && atomic_load(&callbacks) < n && spins < 10000000; spins++)
    sched_yield();
  apmsock_cleanup();
  printf("%s: %d operations, %d callbacks\n", names[mode], n, atomic_load(&callbacks));
  return cb != NULL && atomic_load(&callbacks) != n;
}
