/* peers.c: the baselines a user could write instead of the reference, sending
 * to the same receivers: raw sockets (sendto, blocking write) and libuv
 * (uv_udp_send, uv_write with a window of requests, each callback sending the
 * next), its loop run on the main thread as libuv users do. */
#include "bench.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define UV_MAX_INFLIGHT 64

static int raw_udp, raw_tcp;
static uv_loop_t loop;
static uv_udp_t uv_udp;
static uv_tcp_t uv_tcp;
static uv_connect_t uv_conn;

void peers_open(void) {
  raw_udp = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (raw_udp < 0 || bind(raw_udp, (struct sockaddr *)&lo, sizeof lo) != 0)
    bench_die("raw udp socket");
  raw_tcp = socket(AF_INET, SOCK_STREAM, 0);
  if (raw_tcp < 0 || connect(raw_tcp, (struct sockaddr *)&bench_tcp_addr, sizeof bench_tcp_addr) != 0)
    bench_die("raw tcp connect");

  if (uv_loop_init(&loop) != 0 || uv_udp_init(&loop, &uv_udp) != 0 ||
      uv_udp_bind(&uv_udp, (struct sockaddr *)&lo, 0) != 0 || uv_tcp_init(&loop, &uv_tcp) != 0 ||
      uv_tcp_connect(&uv_conn, &uv_tcp, (struct sockaddr *)&bench_tcp_addr, NULL) != 0)
    bench_die("libuv setup");
  uv_run(&loop, UV_RUN_DEFAULT);   /* until connected */
}

static void on_close(uv_handle_t *h) {
}

void peers_close(void) {
  close(raw_udp);
  close(raw_tcp);
  uv_close((uv_handle_t *)&uv_udp, on_close);
  uv_close((uv_handle_t *)&uv_tcp, on_close);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

run_t raw_udp_serial(const params_t *p) {
  uint64_t base = atomic_load(&bench_udp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    bench_udp_flow();
    if (sendto(raw_udp, bench_payload, p->size, 0, (struct sockaddr *)&bench_udp_dest,
               sizeof bench_udp_dest) != p->size)
      bench_die("sendto");
  }
  return bench_udp_finish(t0, base, p->ops);
}

run_t raw_tcp_serial(const params_t *p) {
  uint64_t base = atomic_load(&bench_tcp_delivered);
  double t0 = bench_now();
  for (int i = 0; i < p->ops; i++) {
    size_t off = 0;
    while (off < TCP_CHUNK) {
      ssize_t n = write(raw_tcp, bench_payload + off, TCP_CHUNK - off);
      if (n <= 0)
        bench_die("write");
      off += (size_t)n;
    }
  }
  return bench_tcp_finish(t0, base, (uint64_t)p->ops * TCP_CHUNK);
}

/* ---- libuv: each completion sends the next ----------------------------- */

static int uv_left, uv_size;
static uv_udp_send_t udp_reqs[UV_MAX_INFLIGHT];
static uv_write_t write_reqs[UV_MAX_INFLIGHT];

static void udp_sent(uv_udp_send_t *req, int status);

static void udp_next(uv_udp_send_t *req) {
  if (uv_left == 0)
    return;
  uv_left--;
  bench_udp_flow();
  uv_buf_t b = uv_buf_init((char *)bench_payload, (unsigned)uv_size);
  if (uv_udp_send(req, &uv_udp, &b, 1, (struct sockaddr *)&bench_udp_dest, udp_sent) != 0)
    bench_die("uv_udp_send");
}

static void udp_sent(uv_udp_send_t *req, int status) {
  if (status != 0)
    bench_die("uv_udp_send callback");
  udp_next(req);
}

run_t uv_udp_window(const params_t *p) {
  uint64_t base = atomic_load(&bench_udp_delivered);
  double t0 = bench_now();
  uv_left = p->ops;
  uv_size = p->size;
  for (int i = 0; i < p->inflight && i < UV_MAX_INFLIGHT; i++)
    udp_next(&udp_reqs[i]);
  uv_run(&loop, UV_RUN_DEFAULT);   /* until the last request completed */
  return bench_udp_finish(t0, base, p->ops);
}

static void written(uv_write_t *req, int status);

static void write_next(uv_write_t *req) {
  if (uv_left == 0)
    return;
  uv_left--;
  uv_buf_t b = uv_buf_init((char *)bench_payload, TCP_CHUNK);
  if (uv_write(req, (uv_stream_t *)&uv_tcp, &b, 1, written) != 0)
    bench_die("uv_write");
}

static void written(uv_write_t *req, int status) {
  if (status != 0)
    bench_die("uv_write callback");
  write_next(req);
}

run_t uv_tcp_window(const params_t *p) {
  uint64_t base = atomic_load(&bench_tcp_delivered);
  double t0 = bench_now();
  uv_left = p->ops;
  for (int i = 0; i < p->inflight && i < UV_MAX_INFLIGHT; i++)
    write_next(&write_reqs[i]);
  uv_run(&loop, UV_RUN_DEFAULT);
  return bench_tcp_finish(t0, base, (uint64_t)p->ops * TCP_CHUNK);
}
