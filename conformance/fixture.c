/* fixture.c: loopback peers, pairs and bounded waits of the C suite. */
#define _GNU_SOURCE
#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

uint64_t cf_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- addresses --------------------------------------------------------- */

int cf_apm_family(int family) {
  return family == AF_INET6 ? APMSOCK_AF_INET6 : APMSOCK_AF_INET;
}

void cf_addr_loopback(int family, uint16_t port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof(*out));
  if (family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
  }
}

void cf_addr_ipv4(const char *dotted, uint16_t port, struct sockaddr_storage *out) {
  struct sockaddr_in *a = (struct sockaddr_in *)out;
  memset(out, 0, sizeof(*out));
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  ck_assert_msg(inet_pton(AF_INET, dotted, &a->sin_addr) == 1, "bad address %s", dotted);
}

socklen_t cf_addr_len(const struct sockaddr_storage *a) {
  return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

uint16_t cf_addr_port(const struct sockaddr_storage *a) {
  if (a->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
  if (a->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)a)->sin_port);
  return 0;
}

int cf_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family || cf_addr_port(a) != cf_addr_port(b)) return 0;
  if (a->ss_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  return 0;
}

const char *cf_addr_str(const struct sockaddr_storage *a, char *buf, size_t cap) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (a->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, host, sizeof(host));
  else if (a->ss_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, host, sizeof(host));
  else
    snprintf(host, sizeof(host), "family=%d", a->ss_family);
  snprintf(buf, cap, "%s port %u", host, cf_addr_port(a));
  return buf;
}

/* ---- raw peers ------------------------------------------------------- */

static int bound_socket(int family, int type, struct sockaddr_storage *addr) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  ck_assert_msg(fd >= 0, "fixture: socket(): %s", strerror(errno));
  socklen_t len = cf_addr_len(addr);
  ck_assert_msg(bind(fd, CF_SA(addr), len) == 0, "fixture: bind(): %s", strerror(errno));
  ck_assert_msg(getsockname(fd, (struct sockaddr *)addr, &len) == 0, "fixture: getsockname()");
  return fd;
}

int cf_udp_receiver(int family, struct sockaddr_storage *addr) {
  cf_addr_loopback(family, 0, addr);
  return bound_socket(family, SOCK_DGRAM, addr);
}

int cf_udp_receiver_any4(struct sockaddr_storage *addr) {
  struct sockaddr_in *a = (struct sockaddr_in *)addr;
  memset(addr, 0, sizeof(*addr));
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_ANY);
  return bound_socket(AF_INET, SOCK_DGRAM, addr);
}

static int wait_readable(int fd, int timeout_ms) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  int rc;
  do rc = poll(&pfd, 1, timeout_ms); while (rc < 0 && errno == EINTR);
  return rc > 0;
}

int cf_fd_readable_now(int fd) { return wait_readable(fd, 0); }

size_t cf_udp_recv(int fd, void *buf, size_t cap, struct sockaddr_storage *from,
                   const char *what) {
  struct sockaddr_storage dummy;
  socklen_t len = sizeof(dummy);
  ck_assert_msg(wait_readable(fd, CF_WAIT_MS), "%s: no datagram arrived within %d ms", what,
                CF_WAIT_MS);
  ssize_t n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
                       (struct sockaddr *)(from ? from : &dummy), &len);
  ck_assert_msg(n >= 0, "%s: recvfrom(): %s", what, strerror(errno));
  return (size_t)n;
}

int cf_tcp_listener(int family, struct sockaddr_storage *addr, int rcvbuf) {
  cf_addr_loopback(family, 0, addr);
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_msg(fd >= 0, "fixture: socket(): %s", strerror(errno));
  if (rcvbuf > 0) /* inherited by accepted sockets: the peer's window stays tiny */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  socklen_t len = cf_addr_len(addr);
  ck_assert_msg(bind(fd, CF_SA(addr), len) == 0, "fixture: bind(): %s", strerror(errno));
  ck_assert_msg(listen(fd, 16) == 0, "fixture: listen(): %s", strerror(errno));
  ck_assert_msg(getsockname(fd, (struct sockaddr *)addr, &len) == 0, "fixture: getsockname()");
  return fd;
}

int cf_tcp_accept(int lfd, const char *what) {
  ck_assert_msg(wait_readable(lfd, CF_WAIT_MS), "%s: no connection within %d ms", what,
                CF_WAIT_MS);
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  ck_assert_msg(fd >= 0, "%s: accept(): %s", what, strerror(errno));
  return fd;
}

void cf_tcp_read_exact(int fd, void *buf, size_t n, const char *what) {
  size_t got = 0;
  while (got < n) {
    ck_assert_msg(wait_readable(fd, CF_WAIT_MS), "%s: peer got %zu of %zu bytes, then nothing for %d ms",
                  what, got, n, CF_WAIT_MS);
    ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    ck_assert_msg(r > 0, "%s: peer got %zu of %zu bytes, then %s", what, got, n,
                  r == 0 ? "end of stream" : strerror(errno));
    got += (size_t)r;
  }
}

int cf_free_udp_port(int family, struct sockaddr_storage *addr) {
  /* A port that was just free: bound, read back, released. */
  int fd = cf_udp_receiver(family, addr);
  close(fd);
  return cf_addr_port(addr);
}

/* ---- the draining peer --------------------------------------------------- */

static void *drain_main(void *arg) {
  cf_drain_t *d = arg;
  uint64_t start = cf_now_ms();
  while (!atomic_load(&d->go)) {
    if (cf_now_ms() - start > 10u * CF_WAIT_MS) return NULL; /* never told to go */
    sched_yield();
  }
  if (d->wide) { /* speed only: a refusal leaves the tiny window */
    int wide = 256 * 1024;
    (void)setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &wide, sizeof(wide));
  }
  while (d->got < d->want) {
    if (!wait_readable(d->fd, CF_WAIT_MS)) break;
    ssize_t r = recv(d->fd, d->buf + d->got, d->want - d->got, MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) break;
    d->got += (size_t)r;
  }
  return NULL;
}

void cf_drain_start(cf_drain_t *d, int fd, uint8_t *buf, size_t want, int flags) {
  d->fd = fd;
  d->buf = buf;
  d->want = want;
  d->got = 0;
  d->wide = (flags & CF_DRAIN_WIDE) != 0;
  atomic_init(&d->go, (flags & CF_DRAIN_NOW) != 0);
  ck_assert_msg(pthread_create(&d->th, NULL, drain_main, d) == 0, "fixture: pthread_create");
}

void cf_drain_go(cf_drain_t *d) { atomic_store(&d->go, 1); }

size_t cf_drain_join(cf_drain_t *d) {
  pthread_join(d->th, NULL);
  return d->got;
}

/* ---- pairs ------------------------------------------------------------- */

static void set_small_send_buffer(apmsock_socket_t s, const char *what) {
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_SEND_BUFFER, 4096, &e), &e, what);
}

apmsock_socket_t cf_listener_open(const cf_variant_t *v, struct sockaddr_storage *bound) {
  apmsock_socket_t ls;
  apmsock_error_t e = {0};
  cf_addr_loopback(v->family, 0, bound);
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_STREAM, &ls, &e), &e,
               "open the listener under test");
  cf_expect_ok(apmsock_bind(ls, CF_SA(bound), &e), &e, "bind the listener under test");
  cf_expect_ok(apmsock_listen(ls, 8, &e), &e, "listen");
  cf_expect_ok(apmsock_local_endpoint(ls, bound, &e), &e, "listener LocalEndPoint");
  ck_assert_msg(cf_addr_port(bound) != 0, "listener LocalEndPoint has port 0");
  return ls;
}

static void pair_open_tcp_accept(const cf_variant_t *v, cf_pair_t *p, int flags) {
  apmsock_error_t e = {0};
  struct sockaddr_storage laddr;
  p->lsock = cf_listener_open(v, &laddr);

  int fd = socket(v->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_msg(fd >= 0, "fixture: socket()");
  if (flags & CF_PAIR_SMALL) {
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  }
  ck_assert_msg(connect(fd, CF_SA(&laddr), cf_addr_len(&laddr)) == 0, "fixture: connect(): %s",
                strerror(errno));
  p->peer_fd = fd;
  socklen_t len = sizeof(p->peer_addr);
  getsockname(fd, (struct sockaddr *)&p->peer_addr, &len);

  if (flags & CF_PAIR_BEGIN_ACCEPT) {
    apmsock_result_t r;
    cf_expect_ok(apmsock_begin_accept(p->lsock, NULL, NULL, &r, &e), &e, "BeginAccept");
    cf_expect_ok(apmsock_end_accept(p->lsock, r, &p->s, &e), &e, "EndAccept");
    cf_release(r);
  } else {
    cf_expect_ok(apmsock_accept(p->lsock, &p->s, &e), &e, "Accept");
  }
  if (flags & CF_PAIR_SMALL) set_small_send_buffer(p->s, "SendBuffer on the accepted socket");
}

void cf_pair_open(const cf_variant_t *v, cf_pair_t *p, int flags) {
  apmsock_error_t e = {0};
  memset(p, 0, sizeof(*p));
  p->v = v;
  p->peer_fd = -1;
  p->listen_fd = -1;
  if (v->transport == CF_UDP) {
    p->peer_fd = cf_udp_receiver(v->family, &p->peer_addr);
    cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &p->s, &e), &e,
                 "open a datagram socket");
    if (v->method == CF_SEND)
      cf_expect_ok(apmsock_connect(p->s, CF_SA(&p->peer_addr), &e), &e,
                   "Connect the datagram socket to its receiver");
    return;
  }
  if (flags & (CF_PAIR_ACCEPT | CF_PAIR_BEGIN_ACCEPT)) {
    pair_open_tcp_accept(v, p, flags);
    return;
  }
  p->listen_fd = cf_tcp_listener(v->family, &p->peer_addr, (flags & CF_PAIR_SMALL) ? 4096 : 0);
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_STREAM, &p->s, &e), &e,
               "open a stream socket");
  if (flags & CF_PAIR_SMALL) set_small_send_buffer(p->s, "SendBuffer");
  if (flags & CF_PAIR_BEGIN_CONNECT) {
    apmsock_result_t r;
    cf_expect_ok(apmsock_begin_connect(p->s, CF_SA(&p->peer_addr), NULL, NULL, &r, &e), &e,
                 "BeginConnect");
    cf_expect_ok(apmsock_end_connect(p->s, r, &e), &e, "EndConnect");
    cf_release(r);
  } else {
    cf_expect_ok(apmsock_connect(p->s, CF_SA(&p->peer_addr), &e), &e, "Connect");
  }
  p->peer_fd = cf_tcp_accept(p->listen_fd, "the peer accepting the connection");
}

void cf_pair_close(cf_pair_t *p) {
  apmsock_close(p->s, NULL);
  apmsock_close(p->lsock, NULL);
  if (p->peer_fd >= 0) close(p->peer_fd);
  if (p->listen_fd >= 0) close(p->listen_fd);
  p->peer_fd = p->listen_fd = -1;
}

/* ---- sends --------------------------------------------------------------- */

apmsock_kind_t cf_begin(cf_pair_t *p, const uint8_t *buf, int32_t len, int32_t off,
                        int32_t size, int32_t flags, apmsock_callback_t cb, void *state,
                        apmsock_result_t *r, apmsock_error_t *err) {
  if (p->v->method == CF_SEND_TO)
    return apmsock_begin_send_to(p->s, buf, len, off, size, flags, CF_SA(&p->peer_addr), cb,
                                 state, r, err);
  return apmsock_begin_send(p->s, buf, len, off, size, flags, cb, state, r, err);
}

apmsock_kind_t cf_end(cf_pair_t *p, apmsock_result_t r, int32_t *n, apmsock_error_t *err) {
  if (p->v->method == CF_SEND_TO) return apmsock_end_send_to(p->s, r, n, err);
  return apmsock_end_send(p->s, r, n, err);
}

void cf_release(apmsock_result_t r) {
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_result_release(r, &e), &e, "release the result");
}

void cf_end_ok(cf_pair_t *p, apmsock_result_t r, int32_t size, const char *what) {
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(cf_end(p, r, &n, &e), &e, what);
  ck_assert_msg(n == size, "%s: End returned %d bytes, expected %d", what, n, size);
  cf_release(r);
}

void cf_send_ok(cf_pair_t *p, const uint8_t *buf, int32_t size, const char *what) {
  apmsock_error_t e = {0};
  apmsock_result_t r;
  cf_expect_ok(cf_begin(p, buf, size, 0, size, 0, NULL, NULL, &r, &e), &e, what);
  cf_end_ok(p, r, size, what);
}

void cf_expect_peer_gets(cf_pair_t *p, const uint8_t *buf, size_t n, const char *what) {
  uint8_t *got = cf_big_alloc(n + 1);
  if (p->v->transport == CF_UDP) {
    size_t len = cf_udp_recv(p->peer_fd, got, n + 1, NULL, what);
    ck_assert_msg(len == n, "%s: the receiver got a datagram of %zu bytes, expected %zu", what,
                  len, n);
  } else {
    cf_tcp_read_exact(p->peer_fd, got, n, what);
  }
  ck_assert_msg(n == 0 || memcmp(got, buf, n) == 0, "%s: the peer got other bytes than sent",
                what);
  cf_big_free(got);
}

size_t cf_max_datagram(int family) { return family == AF_INET6 ? 65527 : 65507; }

static void expect_sentinel_datagram(int fd, const char *what, const char *msg) {
  char got[CF_SENTINEL_LEN + 64];
  size_t n = cf_udp_recv(fd, got, sizeof(got), NULL, msg);
  ck_assert_msg(n == CF_SENTINEL_LEN && memcmp(got, CF_SENTINEL, n) == 0,
                "%s: the receiver's next datagram (%zu bytes) is not the sentinel: something "
                "was delivered before it", what, n);
}

void cf_expect_sentinel_to(apmsock_socket_t s, const struct sockaddr_storage *to, int rfd,
                           const char *what) {
  char msg[256];
  snprintf(msg, sizeof(msg), "%s (sentinel)", what);
  apmsock_error_t e = {0};
  apmsock_result_t r;
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send_to(s, (const uint8_t *)CF_SENTINEL, CF_SENTINEL_LEN, 0,
                                     CF_SENTINEL_LEN, 0, CF_SA(to), NULL, NULL, &r, &e),
               &e, msg);
  cf_expect_ok(apmsock_end_send_to(s, r, &n, &e), &e, msg);
  cf_release(r);
  expect_sentinel_datagram(rfd, what, msg);
  ck_assert_msg(!cf_fd_readable_now(rfd), "%s: more than the sentinel arrived", what);
}

void cf_expect_sentinel(cf_pair_t *p, const char *what) {
  char msg[256];
  snprintf(msg, sizeof(msg), "%s (sentinel)", what);
  cf_send_ok(p, (const uint8_t *)CF_SENTINEL, CF_SENTINEL_LEN, msg);
  if (p->v->transport == CF_UDP) {
    expect_sentinel_datagram(p->peer_fd, what, msg);
  } else {
    char got[CF_SENTINEL_LEN];
    cf_tcp_read_exact(p->peer_fd, got, CF_SENTINEL_LEN, msg);
    ck_assert_msg(memcmp(got, CF_SENTINEL, CF_SENTINEL_LEN) == 0,
                  "%s: the peer's next bytes are not the sentinel: something was sent before it",
                  what);
  }
  ck_assert_msg(!cf_fd_readable_now(p->peer_fd), "%s: the peer got more than the sentinel",
                what);
}

/* ---- pending stream sends ---------------------------------------------- */

uint8_t *cf_pattern_alloc(size_t n, unsigned seed) {
  uint8_t *buf = cf_big_alloc(n);
  cf_pattern(buf, n, seed);
  return buf;
}

apmsock_result_t cf_begin_pending(cf_pair_t *p, const uint8_t *buf, int32_t size,
                                  apmsock_callback_t cb, void *state, const char *what) {
  char msg[256];
  apmsock_result_t r;
  apmsock_error_t e = {0};
  bool sig = true;
  snprintf(msg, sizeof(msg), "%s: Begin", what);
  cf_expect_ok(cf_begin(p, buf, size, 0, size, 0, cb, state, &r, &e), &e, msg);
  snprintf(msg, sizeof(msg), "%s: WaitOne(0)", what);
  cf_expect_ok(apmsock_result_wait(r, 0, &sig, &e), &e, msg);
  ck_assert_msg(!sig, "%s completed although the peer reads nothing", what);
  return r;
}

void cf_end_draining(cf_pair_t *p, apmsock_result_t r, const uint8_t *buf, size_t size,
                     const char *what) {
  char msg[256];
  uint8_t *got = cf_big_alloc(size);
  cf_drain_t d;
  cf_drain_start(&d, p->peer_fd, got, size, CF_DRAIN_NOW | CF_DRAIN_WIDE);
  apmsock_error_t e = {0};
  int32_t n = -1;
  snprintf(msg, sizeof(msg), "%s: End once the peer reads", what);
  cf_expect_ok(cf_end(p, r, &n, &e), &e, msg);
  ck_assert_msg(n == (int32_t)size, "%s: End returned %d of %zu bytes", what, n, size);
  cf_release(r);
  size_t total = cf_drain_join(&d);
  ck_assert_msg(total == size, "%s: the peer got %zu of %zu bytes", what, total, size);
  ck_assert_msg(memcmp(buf, got, size) == 0, "%s: the peer got other bytes than sent", what);
  cf_big_free(got);
}

/* ---- outcomes ------------------------------------------------------------ */

static const char *kind_str(apmsock_kind_t k) {
  const char *n = apmsock_kind_name(k);
  return (n && *n) ? n : (k == APMSOCK_OK ? "OK" : "?");
}

void cf_expect_ok(apmsock_kind_t got, const apmsock_error_t *err, const char *what) {
  ck_assert_msg(got == APMSOCK_OK, "%s: expected success, got %s (param %s, SocketError %d, errno %d: %s)",
                what, kind_str(got), err && err->param_name ? err->param_name : "-",
                err ? err->socket_error : 0, err ? err->native_errno : 0,
                err && err->message ? err->message : "-");
}

void cf_expect_kind(apmsock_kind_t got, const apmsock_error_t *err, apmsock_kind_t want,
                    const char *param, const char *what) {
  ck_assert_msg(got == want, "%s: expected %s, got %s (param %s, SocketError %d)", what,
                kind_str(want), kind_str(got), err->param_name ? err->param_name : "-",
                err->socket_error);
  ck_assert_msg(err->kind == got, "%s: err->kind %d differs from the returned %d", what,
                (int)err->kind, (int)got);
  ck_assert_msg(err->message != NULL, "%s: err->message is NULL after a failed call", what);
  /* The contract's apmsock_error_t: a SocketError and an errno only behind a
   * SocketException (and the OperationAborted of End after a close). */
  if (want != APMSOCK_SOCKET && want != APMSOCK_OBJECT_DISPOSED)
    ck_assert_msg(err->socket_error == 0 && err->native_errno == 0,
                  "%s: %s carries SocketError %d, errno %d (the contract says 0 and 0)", what,
                  kind_str(want), err->socket_error, err->native_errno);
  if (param)
    ck_assert_msg(err->param_name && strcmp(err->param_name, param) == 0,
                  "%s: expected ParamName \"%s\", got \"%s\"", what, param,
                  err->param_name ? err->param_name : "(null)");
}

/* The errno the contract's table pairs with a SocketError (ERR-03). */
static int table_errno(int se) {
#define XX(name, dotnet, number, errnum, text) \
  if (se == (number)) return (errnum);
  APMSOCK_SOCKET_ERROR_MAP(XX)
#undef XX
  return 0;
}

void cf_expect_socket_error(apmsock_kind_t got, const apmsock_error_t *err, int se,
                            const char *what) {
  ck_assert_msg(got == APMSOCK_SOCKET,
                "%s: expected SocketException %s (%d), got %s (SocketError %d, param %s)", what,
                apmsock_socket_error_name(se), se, kind_str(got), err->socket_error,
                err->param_name ? err->param_name : "-");
  ck_assert_msg(err->kind == APMSOCK_SOCKET, "%s: err->kind differs from the returned kind", what);
  ck_assert_msg(err->socket_error == se, "%s: expected SocketError %s (%d), got %s (%d)", what,
                apmsock_socket_error_name(se), se, apmsock_socket_error_name(err->socket_error),
                err->socket_error);
  int want_errno = table_errno(se);
  ck_assert_msg(want_errno == 0 || err->native_errno == want_errno,
                "%s: ERR-03: SocketError %d carries native errno %d, the table says %d", what, se,
                err->native_errno, want_errno);
  ck_assert_msg(err->message != NULL, "%s: err->message is NULL", what);
}

/* ---- callbacks ----------------------------------------------------------- */

void cf_cb_init(cf_cb_t *cb) {
  memset(cb, 0, sizeof(*cb));
  pthread_mutex_init(&cb->mu, NULL);
  pthread_cond_init(&cb->cv, NULL);
}

void cf_callback(apmsock_result_t r) {
  cf_cb_t *cb = apmsock_result_state(r);
  if (cb == NULL) return; /* recorded as "no call" by the waiting test */
  apmsock_result_status_t st = {0};
  int completed = apmsock_result_status(r, &st, NULL) == APMSOCK_OK && st.is_completed;
  apmsock_kind_t k = APMSOCK_OK;
  apmsock_error_t e = {0};
  int32_t n = -1;
  if (cb->end_in_cb)
    k = cb->method == CF_SEND_TO ? apmsock_end_send_to(cb->s, r, &n, &e)
                                 : apmsock_end_send(cb->s, r, &n, &e);
  pthread_mutex_lock(&cb->mu);
  cb->calls++;
  cb->thread = pthread_self();
  cb->result = r;
  cb->state_seen = cb;
  cb->completed_in_cb = completed;
  if (cb->end_in_cb) {
    cb->end_kind = k;
    cb->end_se = e.socket_error;
    cb->end_bytes = n;
  }
  pthread_cond_broadcast(&cb->cv);
  pthread_mutex_unlock(&cb->mu);
}

int cf_cb_wait(cf_cb_t *cb, int calls, int timeout_ms) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += timeout_ms / 1000;
  dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&cb->mu);
  while (cb->calls < calls)
    if (pthread_cond_timedwait(&cb->cv, &cb->mu, &dl) != 0) break;
  int ok = cb->calls >= calls;
  pthread_mutex_unlock(&cb->mu);
  return ok;
}

int cf_cb_calls(cf_cb_t *cb) {
  pthread_mutex_lock(&cb->mu);
  int n = cb->calls;
  pthread_mutex_unlock(&cb->mu);
  return n;
}

/* ---- misc -------------------------------------------------------------- */

/* splitmix64's finaliser: every input bit flips about half the output bits. */
static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void cf_pattern(uint8_t *buf, size_t n, unsigned seed) {
  /* Position-dependent bytes: a lost, repeated or reordered chunk shows.
   * Each 8-byte word is a mix of (seed, word index), independent of the
   * others, so a 4 MiB buffer fills in a fraction of a millisecond (the
   * byte-at-a-time multiply chain this replaces took ~4 M dependent steps);
   * words differ from each other and from other seeds' words, so a shift by
   * any number of bytes shows too. */
  const uint64_t key = mix64((uint64_t)seed + 0x9e3779b97f4a7c15u);
  size_t words = n / 8;
  for (size_t w = 0; w < words; w++) {
    uint64_t x = mix64(key + (uint64_t)w * 0x9e3779b97f4a7c15u);
    memcpy(buf + w * 8, &x, 8);
  }
  if (n % 8) {
    uint64_t x = mix64(key + (uint64_t)words * 0x9e3779b97f4a7c15u);
    memcpy(buf + words * 8, &x, n % 8);
  }
}

/* ---- big buffers --------------------------------------------------------- */

/* Why huge pages: on the VMs the suite runs on, a 4 KiB page fault costs
 * ~12 us, so filling or receiving into a fresh 4 MiB buffer spent ~12 ms in
 * page faults alone, and the CF_BIG tests (forked one per test, every buffer
 * fresh) made most of the suite's CPU time that way.  A 2 MiB-aligned region
 * with MADV_HUGEPAGE takes one fault per 2 MiB (~0.3 ms for 4 MiB) where
 * transparent huge pages are "always" or "madvise"; where they are "never",
 * or madvise fails, the region keeps plain pages and only costs the time.
 *
 * Layout of a mapping (all of it reserved PROT_NONE, then the buffer's
 * 2 MiB-aligned span made read-write):
 *   [guard >= 1 page][span: n rounded up to 2 MiB, buffer at its end][guard]
 * The buffer ends at an inaccessible page, so an implementation reading past
 * its end faults in every build (on the heap only ASan's redzones caught
 * it); the span begins after one, so reading before the start faults too
 * when n is a multiple of 2 MiB (CF_BIG is).
 *
 * Invariant: every live mapping is in `bigs` with what munmap needs; a
 * pointer not found there came from malloc.  The table is shared by all
 * threads of a test (mutex); when it is full the allocation falls back to
 * malloc, which cf_big_free handles the same way. */
#define CF_HUGE ((size_t)2 << 20)
#define CF_BIG_SLOTS 64

static struct {
  uint8_t *p;  /* what cf_big_alloc returned; NULL: slot free */
  void *base;  /* the whole reservation, for munmap */
  size_t len;
} bigs[CF_BIG_SLOTS];
static pthread_mutex_t bigs_mu = PTHREAD_MUTEX_INITIALIZER;

static uint8_t *big_map(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t span = (n + CF_HUGE - 1) / CF_HUGE * CF_HUGE;
  size_t len = span + CF_HUGE + page; /* alignment slack with the guards */
  uint8_t *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return NULL;
  uint8_t *a = (uint8_t *)(((uintptr_t)base + page + CF_HUGE - 1) & ~(uintptr_t)(CF_HUGE - 1));
  if (mprotect(a, span, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, len);
    return NULL;
  }
  (void)madvise(a, span, MADV_HUGEPAGE); /* advice only: plain pages otherwise */
  uint8_t *p = a + span - n;
  pthread_mutex_lock(&bigs_mu);
  int slot = -1;
  for (int i = 0; i < CF_BIG_SLOTS && slot < 0; i++)
    if (bigs[i].p == NULL) slot = i;
  if (slot >= 0) {
    bigs[slot].p = p;
    bigs[slot].base = base;
    bigs[slot].len = len;
  }
  pthread_mutex_unlock(&bigs_mu);
  if (slot < 0) { /* CK_FORK=no after many failed tests: heap instead */
    munmap(base, len);
    return NULL;
  }
  return p;
}

uint8_t *cf_big_alloc(size_t n) {
  uint8_t *p = n >= CF_HUGE ? big_map(n) : NULL;
  if (p == NULL) p = malloc(n ? n : 1);
  ck_assert_msg(p != NULL, "fixture: cannot allocate %zu bytes", n);
  return p;
}

void cf_big_free(uint8_t *p) {
  if (p == NULL) return;
  void *base = NULL;
  size_t len = 0;
  pthread_mutex_lock(&bigs_mu);
  for (int i = 0; i < CF_BIG_SLOTS; i++)
    if (bigs[i].p == p) {
      base = bigs[i].base;
      len = bigs[i].len;
      bigs[i].p = NULL;
      break;
    }
  pthread_mutex_unlock(&bigs_mu);
  if (base != NULL)
    munmap(base, len);
  else
    free(p);
}

uint8_t *cf_guarded(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t span = ((n + page - 1) / page + 1) * page;
  uint8_t *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_msg(base != MAP_FAILED, "fixture: mmap");
  ck_assert(mprotect(base + span - page, page, PROT_NONE) == 0);
  return base + span - page - n;
}

void cf_guarded_free(uint8_t *p, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t span = ((n + page - 1) / page + 1) * page;
  munmap(p + n + page - span, span);
}

void cf_info(const char *clause, const char *test, const char *fmt, ...) {
  /* INFO clauses record what happens and never fail: the line goes to
   * stderr and, when CF_INFO_LOG names a file, to that file. */
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int off = snprintf(line, sizeof(line), "INFO %s %s: ", clause, test);
  vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
  const char *path = getenv("CF_INFO_LOG");
  if (path && *path) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dprintf(fd, "%s\n", line);
      close(fd);
    }
  }
}

int cf_wait_child(pid_t pid, int timeout_ms, int *status) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd >= 0) {
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int rc;
    do rc = poll(&p, 1, timeout_ms); while (rc < 0 && errno == EINTR);
    close(pfd);
  }
  if (waitpid(pid, status, WNOHANG) == pid) return 1;
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return 0;
}
