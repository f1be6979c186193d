/* test-err.c: ERR-01..ERR-05, socket errors and their codes. */
#include "tests.h"

#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void cf_err_invalid_flags(const cf_variant_t *v) {
  /* Receive-only, undefined and (on datagrams) OutOfBand: OperationNotSupported
   * from Begin, no result, nothing sent. */
  static const int32_t bad[] = {0x4000, APMSOCK_FLAG_BROADCAST, APMSOCK_FLAG_MULTICAST,
                                APMSOCK_FLAG_PEEK, APMSOCK_FLAG_TRUNCATED,
                                APMSOCK_FLAG_CONTROL_DATA_TRUNCATED, APMSOCK_FLAG_PARTIAL,
                                APMSOCK_FLAG_MAX_IO_VECTOR_LENGTH,
                                APMSOCK_FLAG_DONT_ROUTE | 0x4000, APMSOCK_FLAG_OUT_OF_BAND};
  size_t count = sizeof(bad) / sizeof(bad[0]);
  if (v->transport == CF_TCP) count--; /* OutOfBand is valid on a stream */
  uint8_t buf[32];
  cf_pattern(buf, sizeof(buf), 1);
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  for (size_t i = 0; i < count; i++) {
    char what[96];
    snprintf(what, sizeof(what), "ERR-01: SocketFlags 0x%x", (unsigned)bad[i]);
    apmsock_result_t r = {0x5a5a};
    apmsock_error_t e = {0};
    apmsock_kind_t k = cf_begin(&p, buf, sizeof(buf), 0, sizeof(buf), bad[i], NULL, NULL, &r, &e);
    cf_expect_socket_error(k, &e, APMSOCK_SE_OPERATION_NOT_SUPPORTED, what);
    ck_assert_msg(r.handle == 0, "%s: a Begin that threw left a result", what);
  }
  cf_expect_sentinel(&p, "ERR-01");
  cf_pair_close(&p);
}

/* Transmission errors: BeginSend throws them, BeginSendTo's End does. */
static void expect_transmission_error(cf_pair_t *p, int se, const char *what) {
  uint8_t buf[64];
  cf_pattern(buf, sizeof(buf), 2);
  apmsock_result_t r = {0};
  apmsock_error_t e = {0};
  apmsock_kind_t k = cf_begin(p, buf, sizeof(buf), 0, sizeof(buf), 0, NULL, NULL, &r, &e);
  if (p->v->method == CF_SEND) {
    cf_expect_socket_error(k, &e, se, what);
    ck_assert_msg(r.handle == 0, "%s: a Begin that threw left a result", what);
    return;
  }
  cf_expect_ok(k, &e, "BeginSendTo (its transmission error belongs to EndSendTo)");
  int32_t n = -1;
  k = cf_end(p, r, &n, &e);
  cf_expect_socket_error(k, &e, se, what);
  cf_release(r);
}

void cf_err_shutdown(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_shutdown(p.s, APMSOCK_SHUTDOWN_SEND, &e), &e, "Shutdown(Send)");
  expect_transmission_error(&p, APMSOCK_SE_SHUTDOWN, "ERR-02: send after Shutdown(Send)");
  /* The peer sees the orderly end of the stream and no byte before it. */
  char c;
  ck_assert_msg(recv(p.peer_fd, &c, 1, 0) == 0, "ERR-02: the peer got data after Shutdown(Send)");
  cf_pair_close(&p);
}

void cf_err_reset(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  /* Linger 0 makes close() send a reset instead of a FIN. */
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  ck_assert(setsockopt(p.peer_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
  close(p.peer_fd);
  p.peer_fd = -1;
  expect_transmission_error(&p, APMSOCK_SE_CONNECTION_RESET, "ERR-02: send after the peer's reset");
  cf_pair_close(&p);
}

void cf_err_errno_table(const cf_variant_t *v) {
  /* ERR-03: one table, every row: errno -> SocketError, number -> name/text. */
  int rows = 0;
#define XX(name, dotnet, number, errnum, text)                                                \
  do {                                                                                        \
    rows++;                                                                                   \
    ck_assert_msg(strcmp(apmsock_socket_error_name(number), dotnet) == 0,                     \
                  "ERR-03 row %s: name of %d is \"%s\", expected \"%s\"", #name, number,      \
                  apmsock_socket_error_name(number), dotnet);                                 \
    ck_assert_msg(apmsock_socket_error_text(number) && *apmsock_socket_error_text(number),    \
                  "ERR-03 row %s: no description", #name);                                    \
    if ((errnum) != 0)                                                                        \
      ck_assert_msg(apmsock_socket_error_from_errno(errnum) == (number),                      \
                    "ERR-03 row %s: errno %d maps to %d, expected %d", #name, (errnum),       \
                    apmsock_socket_error_from_errno(errnum), (number));                       \
  } while (0);
  APMSOCK_SOCKET_ERROR_MAP(XX)
#undef XX
  ck_assert_msg(rows > 30, "ERR-03: the table has only %d rows", rows);
  ck_assert_msg(apmsock_socket_error_from_errno(0) == APMSOCK_SE_SUCCESS, "ERR-03: errno 0");
  ck_assert_msg(apmsock_socket_error_from_errno(EWOULDBLOCK) == APMSOCK_SE_WOULD_BLOCK,
                "ERR-03: EWOULDBLOCK");
  ck_assert_msg(apmsock_socket_error_from_errno(987654) == APMSOCK_SE_SOCKET_ERROR,
                "ERR-03: an errno outside the table must map to SocketError (-1)");
  /* Every errno the system defines that has no row (EPERM, ENOENT, ...) is
   * SocketError too: one value far outside proves nothing about its
   * neighbours, and a small errno read as "no error" would hide a failure. */
  static const int in_table[] = {
#define XX(name, dotnet, number, errnum, text) errnum,
      APMSOCK_SOCKET_ERROR_MAP(XX)
#undef XX
  };
  for (int errnum = 1; errnum < 134; errnum++) {
    int listed = errnum == EWOULDBLOCK;
    for (size_t i = 0; i < sizeof in_table / sizeof in_table[0]; i++)
      listed |= in_table[i] == errnum;
    if (!listed)
      ck_assert_msg(apmsock_socket_error_from_errno(errnum) == APMSOCK_SE_SOCKET_ERROR,
                    "ERR-03: errno %d (%s), which has no row, maps to %d, expected SocketError (-1)",
                    errnum, strerror(errnum), apmsock_socket_error_from_errno(errnum));
  }
  ck_assert_msg(strcmp(apmsock_socket_error_name(424242), "Unknown") == 0,
                "ERR-03: a number outside the table must be named \"Unknown\"");
  const char *text = apmsock_socket_error_text(12345);
  ck_assert_msg(text && (strcmp(text, "") == 0 || strcmp(text, "Unknown") == 0),
                "ERR-03: the text of a number outside the table is \"%s\"", text ? text : "(null)");
}

void cf_err_kind_names(const cf_variant_t *v) {
  /* The exception type names every report carries. */
#define XX(name, type)                                                                        \
  ck_assert_msg(strcmp(apmsock_kind_name(APMSOCK_##name), type) == 0,                          \
                "ERR-03: kind %s is named \"%s\", expected \"%s\"", #name,                    \
                apmsock_kind_name(APMSOCK_##name), type);
  APMSOCK_KIND_MAP(XX)
#undef XX
  /* The header allows "" or "Unknown" for a value outside the table. */
  const char *unknown = apmsock_kind_name((apmsock_kind_t)999);
  ck_assert_msg(unknown && (strcmp(unknown, "") == 0 || strcmp(unknown, "Unknown") == 0),
                "ERR-03: an unknown kind is named \"%s\"", unknown ? unknown : "(null)");
}

void cf_err_disposed(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[16] = {0};
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_close(p.s, &e), &e, "Close");
  apmsock_result_t r = {0x5a5a};
  apmsock_kind_t k = cf_begin(&p, buf, sizeof(buf), 0, sizeof(buf), 0, NULL, NULL, &r, &e);
  cf_expect_kind(k, &e, APMSOCK_OBJECT_DISPOSED, NULL, "ERR-04: Begin on a closed socket");
  ck_assert_msg(r.handle == 0, "ERR-04: a Begin that threw left a result");
  cf_expect_ok(apmsock_close(p.s, &e), &e, "ERR-04: closing twice is a no-op");
  ck_assert_msg(!cf_fd_readable_now(p.peer_fd) || v->transport == CF_TCP,
                "ERR-04: the receiver got a datagram from a closed socket");
  cf_pair_close(&p);
}

void cf_err_disposed_reused_slot(const cf_variant_t *v) {
  /* "after close every call on it answers ObjectDisposedException", also
   * once the implementation has given what the closed handle named to a
   * new socket (an implementation that reuses slots does it at once): the
   * old handle must not name the new socket, and closing it again must not
   * close the new one. */
  struct sockaddr_storage ra;
  int rfd = cf_udp_receiver(v->family, &ra);
  apmsock_socket_t old, s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &old, &e), &e, "open");
  cf_expect_ok(apmsock_close(old, &e), &e, "Close");
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &s, &e), &e,
               "open a second socket");
  ck_assert_msg(s.handle != old.handle, "ERR-04: the new socket has the closed socket's handle");
  uint8_t buf[16];
  cf_pattern(buf, sizeof(buf), 3);
  apmsock_result_t r = {0x5a5a};
  cf_expect_kind(apmsock_begin_send_to(old, buf, sizeof(buf), 0, sizeof(buf), 0, CF_SA(&ra), NULL,
                                       NULL, &r, &e),
                 &e, APMSOCK_OBJECT_DISPOSED, NULL, "ERR-04: BeginSendTo on the closed socket's handle");
  ck_assert_msg(r.handle == 0, "ERR-04: a Begin that threw left a result");
  ck_assert_msg(!cf_fd_readable_now(rfd), "ERR-04: the closed socket's handle sent a datagram");
  cf_expect_ok(apmsock_close(old, &e), &e, "ERR-04: closing the closed socket again is a no-op");
  cf_expect_sentinel_to(s, &ra, rfd, "ERR-04: the new socket after Close of the old handle");
  apmsock_close(s, NULL);
  close(rfd);
}

void cf_err_family_mismatch(const cf_variant_t *v) {
  /* SHOULD: an IPv6 remoteEP on an IPv4 socket is AddressFamilyNotSupported,
   * from Begin (known before any byte), nothing sent. */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  struct sockaddr_storage other;
  int fd6 = cf_udp_receiver(AF_INET6, &other);
  uint8_t buf[16] = {0};
  apmsock_result_t r = {0x5a5a};
  apmsock_error_t e = {0};
  apmsock_kind_t k = apmsock_begin_send_to(p.s, buf, sizeof(buf), 0, sizeof(buf), 0,
                                           CF_SA(&other), NULL, NULL, &r, &e);
  cf_expect_socket_error(k, &e, APMSOCK_SE_ADDRESS_FAMILY_NOT_SUPPORTED,
                         "ERR-05: IPv6 remoteEP on an IPv4 socket");
  ck_assert_msg(r.handle == 0, "ERR-05: a Begin that threw left a result");
  ck_assert_msg(!cf_fd_readable_now(fd6), "ERR-05: the IPv6 receiver got a datagram");
  /* The same rule for Connect: an IPv6 default host for an IPv4 socket. */
  apmsock_socket_t c;
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &c, &e), &e, "open");
  cf_expect_socket_error(apmsock_connect(c, CF_SA(&other), &e), &e,
                         APMSOCK_SE_ADDRESS_FAMILY_NOT_SUPPORTED, "ERR-05: Connect to an IPv6 endpoint");
  apmsock_close(c, NULL);
  close(fd6);
  cf_expect_sentinel(&p, "ERR-05");
  cf_pair_close(&p);
}

void cf_err_v4_on_v6_info(const cf_variant_t *v) {
  /* INFO: an IPv4 endpoint on an IPv6 socket, DualMode off and on. */
  for (int dual = 0; dual <= 1; dual++) {
    apmsock_socket_t s;
    apmsock_error_t e = {0};
    cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET6, APMSOCK_DGRAM, &s, &e), &e, "open v6");
    apmsock_kind_t ko = apmsock_set_option(s, APMSOCK_OPT_DUAL_MODE, dual, &e);
    struct sockaddr_storage a4;
    int fd = cf_udp_receiver(AF_INET, &a4);
    uint8_t buf[4] = {1, 2, 3, 4};
    apmsock_result_t r = {0};
    int32_t n = -1;
    apmsock_kind_t kb = apmsock_begin_send_to(s, buf, 4, 0, 4, 0, CF_SA(&a4), NULL, NULL, &r, &e);
    int seb = e.socket_error;
    apmsock_kind_t ke = APMSOCK_OK;
    int see = 0;
    if (kb == APMSOCK_OK) {
      ke = apmsock_end_send_to(s, r, &n, &e);
      see = e.socket_error;
      apmsock_result_release(r, NULL);
    }
    int got = 0;
    if (kb == APMSOCK_OK && ke == APMSOCK_OK) {
      char c[8];
      got = (int)cf_udp_recv(fd, c, sizeof(c), NULL, "ERR-05 INFO: dual-mode receive") == 4;
    }
    cf_info(v->clause, v->test,
            "DualMode=%d (set_option %s): Begin %s/%s, End %s/%s, bytes %d, delivered %d", dual,
            ko == APMSOCK_OK ? "ok" : apmsock_kind_name(ko),
            kb == APMSOCK_OK ? "OK" : apmsock_kind_name(kb), apmsock_socket_error_name(seb),
            ke == APMSOCK_OK ? "OK" : apmsock_kind_name(ke), apmsock_socket_error_name(see), n,
            got);
    close(fd);
    apmsock_close(s, NULL);
  }
}

/* Every call the header offers on a socket, on handle h: all must answer
 * `want` (ObjectDisposed for a closed socket, ArgumentNull("socket") for the
 * zero handle) and touch nothing. */
static void expect_every_call(apmsock_socket_t h, apmsock_kind_t want, const char *param,
                              int family, const char *what) {
  struct sockaddr_storage a;
  cf_addr_loopback(family, 0, &a);
  apmsock_error_t e = {0};
  apmsock_result_t r = {0x5a5a};
  apmsock_socket_t acc = {0x5a5a};
  int32_t val = 0;
  uint8_t buf[8] = {0};
  char msg[128];
#define CALL(name, expr)                                                   \
  do {                                                                     \
    snprintf(msg, sizeof(msg), "%s: %s", what, name);                      \
    memset(&e, 0, sizeof(e));                                              \
    cf_expect_kind((expr), &e, want, param, msg);                          \
  } while (0)
  CALL("Bind", apmsock_bind(h, CF_SA(&a), &e));
  CALL("Connect", apmsock_connect(h, CF_SA(&a), &e));
  CALL("Listen", apmsock_listen(h, 1, &e));
  CALL("Accept", apmsock_accept(h, &acc, &e));
  CALL("BeginConnect", apmsock_begin_connect(h, CF_SA(&a), NULL, NULL, &r, &e));
  CALL("BeginAccept", apmsock_begin_accept(h, NULL, NULL, &r, &e));
  CALL("SetSocketOption", apmsock_set_option(h, APMSOCK_OPT_SEND_BUFFER, 8192, &e));
  CALL("GetSocketOption", apmsock_get_option(h, APMSOCK_OPT_BLOCKING, &val, &e));
  CALL("LocalEndPoint", apmsock_local_endpoint(h, &a, &e));
  CALL("RemoteEndPoint", apmsock_remote_endpoint(h, &a, &e));
  CALL("Shutdown", apmsock_shutdown(h, APMSOCK_SHUTDOWN_BOTH, &e));
  CALL("BeginSend", apmsock_begin_send(h, buf, 8, 0, 8, 0, NULL, NULL, &r, &e));
  cf_addr_loopback(family, 9, &a);
  CALL("BeginSendTo", apmsock_begin_send_to(h, buf, 8, 0, 8, 0, CF_SA(&a), NULL, NULL, &r, &e));
#undef CALL
  ck_assert_msg(r.handle == 0, "%s: a failed Begin left a result", what);
  ck_assert_msg(acc.handle == 0, "%s: a failed Accept left a socket", what);
}

void cf_err_disposed_every_call(const cf_variant_t *v) {
  /* ERR-04 for the whole instance: after Close every call is
   * ObjectDisposedException, End of a result that completed before the
   * Close still reports it (the result outlives its socket). */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[16];
  cf_pattern(buf, 16, 3);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  bool sig = false;
  cf_expect_ok(cf_begin(&p, buf, 16, 0, 16, 0, NULL, NULL, &r, &e), &e, "Begin");
  cf_expect_ok(apmsock_result_wait(r, CF_WAIT_MS, &sig, &e), &e, "WaitOne");
  ck_assert_msg(sig, "ERR-04: the send did not complete");
  cf_expect_ok(apmsock_close(p.s, &e), &e, "Close");
  expect_every_call(p.s, APMSOCK_OBJECT_DISPOSED, NULL, v->family, "ERR-04: closed socket");
  cf_end_ok(&p, r, 16, "ERR-04: End of a send completed before Close");
  cf_pair_close(&p);
}

void cf_err_zero_handle(const cf_variant_t *v) {
  /* The zero handle is no instance at all: ArgumentNullException("socket"). */
  expect_every_call(APMSOCK_NULL_SOCKET, APMSOCK_ARGUMENT_NULL, "socket", AF_INET,
                    "zero socket handle");
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_close(APMSOCK_NULL_SOCKET, &e), &e, "Close(zero handle) is a no-op");
}

void cf_err_setup_calls(const cf_variant_t *v) {
  /* ERR-03 beyond the sends: the calls that set a socket up report their
   * errors the same way (SocketError number and errno from the one table). */
  apmsock_socket_t s, t, acc;
  apmsock_error_t e = {0};
  cf_expect_socket_error(apmsock_socket_open(99, APMSOCK_DGRAM, &s, &e), &e,
                         APMSOCK_SE_ADDRESS_FAMILY_NOT_SUPPORTED, "open: unknown family");
  cf_expect_socket_error(apmsock_socket_open(APMSOCK_AF_INET, 99, &s, &e), &e,
                         APMSOCK_SE_SOCKET_NOT_SUPPORTED, "open: unknown socket type");

  struct sockaddr_storage la;
  int lfd = cf_tcp_listener(AF_INET, &la, 0); /* its port is taken */
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_STREAM, &s, &e), &e, "open");
  cf_expect_kind(apmsock_bind(s, NULL, &e), &e, APMSOCK_ARGUMENT_NULL, "localEP", "Bind(null)");
  cf_expect_socket_error(apmsock_bind(s, CF_SA(&la), &e), &e, APMSOCK_SE_ADDRESS_ALREADY_IN_USE,
                         "Bind to a port in use");
  cf_expect_kind(apmsock_connect(s, NULL, &e), &e, APMSOCK_ARGUMENT_NULL, "remoteEP", "Connect(null)");
  apmsock_result_t r = {0x5a5a};
  cf_expect_kind(apmsock_begin_accept(s, NULL, NULL, &r, &e), &e, APMSOCK_INVALID_OPERATION, NULL,
                 "BeginAccept on a socket that does not listen");
  ck_assert_msg(r.handle == 0, "a failed BeginAccept left a result");
  cf_expect_kind(apmsock_set_option(s, APMSOCK_OPT_DUAL_MODE, 1, &e), &e, APMSOCK_NOT_SUPPORTED,
                 NULL, "DualMode on an IPv4 socket");
  cf_expect_kind(apmsock_set_option(s, (apmsock_option_t)99, 1, &e), &e,
                 APMSOCK_ARGUMENT_OUT_OF_RANGE, "optionName", "an unknown option");
  int32_t got = -1;
  cf_expect_kind(apmsock_get_option(s, APMSOCK_OPT_DUAL_MODE, &got, &e), &e, APMSOCK_NOT_SUPPORTED,
                 NULL, "get DualMode on an IPv4 socket");
  cf_expect_kind(apmsock_get_option(s, (apmsock_option_t)99, &got, &e), &e,
                 APMSOCK_ARGUMENT_OUT_OF_RANGE, "optionName", "get an unknown option");
  cf_expect_ok(apmsock_get_option(s, APMSOCK_OPT_BLOCKING, &got, &e), &e, "get Blocking");
  ck_assert_msg(got == 1, "a new socket's Blocking reads %d, expected 1 (the default)", got);
  cf_expect_socket_error(apmsock_shutdown(s, APMSOCK_SHUTDOWN_SEND, &e), &e, APMSOCK_SE_NOT_CONNECTED,
                         "Shutdown(Send) of a stream that never connected");
  close(lfd);

  /* A TCP option on a datagram socket: the kernel's refusal, mapped. */
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &t, &e), &e, "open");
  cf_expect_socket_error(apmsock_listen(t, 1, &e), &e, APMSOCK_SE_OPERATION_NOT_SUPPORTED,
                         "Listen on a datagram socket");
  int32_t val = 0;
  apmsock_kind_t k1 = apmsock_set_option(t, APMSOCK_OPT_NO_DELAY, 1, &e);
  if (k1 != APMSOCK_OK)
    cf_expect_socket_error(k1, &e, apmsock_socket_error_from_errno(e.native_errno),
                           "NoDelay on a datagram socket");
  apmsock_kind_t k2 = apmsock_get_option(t, APMSOCK_OPT_NO_DELAY, &val, &e);
  if (k2 != APMSOCK_OK)
    cf_expect_socket_error(k2, &e, apmsock_socket_error_from_errno(e.native_errno),
                           "get NoDelay on a datagram socket");
  ck_assert_msg(e.native_errno == 0 || apmsock_socket_error_from_errno(e.native_errno) != APMSOCK_SE_SOCKET_ERROR,
                "the errno %d of a refused option is not in the table", e.native_errno);

  /* A non-blocking listener with nobody connecting: WouldBlock, not a wait. */
  struct sockaddr_storage a;
  cf_addr_loopback(AF_INET, 0, &a);
  apmsock_close(s, NULL);
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_STREAM, &s, &e), &e, "open");
  cf_expect_ok(apmsock_bind(s, CF_SA(&a), &e), &e, "Bind");
  cf_expect_ok(apmsock_listen(s, 2, &e), &e, "Listen");
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  cf_expect_socket_error(apmsock_accept(s, &acc, &e), &e, APMSOCK_SE_WOULD_BLOCK,
                         "non-blocking Accept with nobody connecting");
  ck_assert_msg(acc.handle == 0, "a failed Accept left a socket");
  /* With a connection waiting, the non-blocking Accept takes it. */
  struct sockaddr_storage sa;
  cf_expect_ok(apmsock_local_endpoint(s, &sa, &e), &e, "LocalEndPoint");
  int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert(cfd >= 0 && connect(cfd, CF_SA(&sa), cf_addr_len(&sa)) == 0);
  apmsock_kind_t ka = APMSOCK_SOCKET;
  uint64_t start = cf_now_ms();
  while (cf_now_ms() - start < CF_WAIT_MS) { /* the connection may take a moment to be queued */
    ka = apmsock_accept(s, &acc, &e);
    if (ka != APMSOCK_SOCKET || e.socket_error != APMSOCK_SE_WOULD_BLOCK) break;
    sched_yield();
  }
  cf_expect_ok(ka, &e, "non-blocking Accept with a connection waiting");
  apmsock_close(acc, NULL);
  close(cfd);
  /* Accept on a socket that does not listen, in both modes. */
  cf_expect_kind(apmsock_accept(t, &acc, &e), &e, APMSOCK_INVALID_OPERATION, NULL,
                 "Accept on a socket that does not listen (blocking)");
  cf_expect_ok(apmsock_set_option(t, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  cf_expect_kind(apmsock_accept(t, &acc, &e), &e, APMSOCK_INVALID_OPERATION, NULL,
                 "Accept on a socket that does not listen (non-blocking)");
  apmsock_close(t, NULL);
  apmsock_close(s, NULL);
}

void cf_err_forged_handles(const cf_variant_t *v) {
  /* Handles that were never issued: answered like a closed socket and a
   * released result, never a crash (the header: no call dereferences
   * anything because of a bad handle). */
  static const uint64_t forged[] = {0x12345678u, ~0ull, 0x8000000000000001ull};
  uint8_t buf[8] = {0};
  for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
    apmsock_socket_t s = {forged[i]};
    apmsock_result_t r = {0x5a5a};
    apmsock_error_t e = {0};
    cf_expect_kind(apmsock_begin_send(s, buf, 8, 0, 8, 0, NULL, NULL, &r, &e), &e,
                   APMSOCK_OBJECT_DISPOSED, NULL, "ERR-04: BeginSend on a forged socket handle");
    ck_assert_msg(r.handle == 0, "ERR-04: a forged handle's Begin left a result");
    cf_expect_ok(apmsock_close(s, &e), &e, "ERR-04: Close of a forged handle is a no-op");
    apmsock_result_t fr = {forged[i] ^ 0xdeadbeefu};
    apmsock_result_status_t st;
    bool sig = true;
    int32_t n;
    cf_expect_kind(apmsock_result_status(fr, &st, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                   "END-02: status of a forged result");
    cf_expect_kind(apmsock_result_wait(fr, 0, &sig, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                   "END-02: WaitOne of a forged result");
    cf_expect_kind(apmsock_result_release(fr, &e), &e, APMSOCK_ARGUMENT, "asyncResult",
                   "END-02: release of a forged result");
    ck_assert_msg(apmsock_result_state(fr) == NULL, "END-02: AsyncState of a forged result");
    cf_expect_kind(apmsock_end_send(s, fr, &n, &e), &e,
                   APMSOCK_ARGUMENT, "asyncResult", "END-02: EndSend of a forged result");
  }

  /* Every one-bit change of a live handle names nothing live: whatever the
   * implementation keeps in its handles (slot, generation, tag), a near
   * miss is caught. */
  struct sockaddr_storage ra;
  int rfd = cf_udp_receiver(AF_INET, &ra);
  apmsock_socket_t live;
  apmsock_error_t e = {0};
  apmsock_result_t lr;
  int32_t n = -1;
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &live, &e), &e, "open");
  cf_expect_ok(apmsock_begin_send_to(live, buf, 8, 0, 8, 0, CF_SA(&ra), NULL, NULL, &lr, &e), &e,
               "BeginSendTo");
  cf_expect_ok(apmsock_end_send_to(live, lr, &n, &e), &e, "EndSendTo");
  for (int bit = 0; bit < 64; bit++) {
    char what[96];
    apmsock_socket_t s = {live.handle ^ (1ull << bit)};
    apmsock_result_t r = {0x5a5a};
    snprintf(what, sizeof(what), "ERR-04: socket handle with bit %d flipped", bit);
    apmsock_kind_t k = apmsock_begin_send_to(s, buf, 8, 0, 8, 0, CF_SA(&ra), NULL, NULL, &r, &e);
    if (s.handle == 0)
      cf_expect_kind(k, &e, APMSOCK_ARGUMENT_NULL, "socket", what);
    else
      cf_expect_kind(k, &e, APMSOCK_OBJECT_DISPOSED, NULL, what);
    apmsock_result_t fr = {lr.handle ^ (1ull << bit)};
    apmsock_result_status_t st;
    snprintf(what, sizeof(what), "END-02: result handle with bit %d flipped", bit);
    cf_expect_kind(apmsock_result_status(fr, &st, &e), &e,
                   fr.handle == 0 ? APMSOCK_ARGUMENT_NULL : APMSOCK_ARGUMENT, "asyncResult", what);
  }
  cf_release(lr);
  ck_assert_msg(cf_udp_recv(rfd, buf, sizeof(buf), NULL, "the live send") == 8,
                "ERR-04: the live send did not arrive");
  ck_assert_msg(!cf_fd_readable_now(rfd), "ERR-04: a send on a forged handle went out");
  apmsock_close(live, NULL);
  close(rfd);
}

void cf_err_too_many_sockets(const cf_variant_t *v) {
  /* ERR-03 for a resource error: with no descriptor left, new Socket fails
   * with TooManyOpenSockets (10024, EMFILE), and works again once one is
   * free.  The limit is lowered in this test's own process only. */
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &s, &e), &e,
               "open (starts the library)");
  apmsock_close(s, NULL);
  struct rlimit rl;
  ck_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  struct rlimit low = {.rlim_cur = 256, .rlim_max = rl.rlim_max};
  ck_assert_msg(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit: %s", strerror(errno));
  int fds[256], nfds = 0;
  while (nfds < 256) {
    int fd = dup(2);
    if (fd < 0) break;
    fds[nfds++] = fd;
  }
  apmsock_kind_t k = apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &s, &e);
  for (int i = 0; i < nfds; i++) close(fds[i]);
  setrlimit(RLIMIT_NOFILE, &rl);
  cf_expect_socket_error(k, &e, APMSOCK_SE_TOO_MANY_OPEN_SOCKETS, "ERR-03: new Socket without a descriptor");
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family), APMSOCK_DGRAM, &s, &e), &e,
               "open once descriptors are free again");
  apmsock_close(s, NULL);
}

void cf_err_setup_failures(const cf_variant_t *v) {
  /* ERR-02 for the library's own start: a set-up step that fails (its loop,
   * its wake-up handle, its loop thread, a callback lane) is an error of the
   * call that needed it, and nothing is lost: the next call starts the
   * library and a send completes with its callback. */
  static const struct { int what, nth; const char *name; } steps[] = {
    {CF_FAIL_UV_LOOP_INIT, 1, "uv_loop_init"},
    {CF_FAIL_UV_ASYNC_INIT, 1, "uv_async_init"},
    {CF_FAIL_PTHREAD_CREATE, 1, "the 1st pthread_create of the start"},
    {CF_FAIL_PTHREAD_CREATE, 2, "the 2nd pthread_create of the start"},
    {CF_FAIL_PTHREAD_CREATE, 3, "the 3rd pthread_create of the start"},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    apmsock_cleanup();  /* the next call starts the library again */
    apmsock_socket_t s = {0x5a5a};
    apmsock_error_t e = {0};
    cf_setup_fault_arm(steps[i].what, steps[i].nth);
    apmsock_kind_t k = apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &e);
    int fired = cf_setup_fault_fired();
    cf_setup_fault_arm(CF_FAIL_NONE, 0);
    if (fired) {
      ck_assert_msg(k == APMSOCK_SOCKET,
                    "ERR-02: %s failed during the library's start, but Socket() returned kind %d",
                    steps[i].name, (int)k);
      ck_assert_msg(s.handle == 0, "ERR-02: a failed Socket() after %s left a handle", steps[i].name);
    } else if (k == APMSOCK_OK) {
      apmsock_close(s, &e);
    }
    /* nothing lost: the library starts now and a callback runs */
    cf_pair_t p;
    cf_pair_open(v, &p, 0);
    cf_cb_t cb;
    cf_cb_init(&cb);
    cb.s = p.s;
    cb.method = v->method;
    uint8_t buf[32];
    cf_pattern(buf, sizeof buf, 11);
    apmsock_result_t r;
    cf_expect_ok(cf_begin(&p, buf, sizeof buf, 0, sizeof buf, 0, cf_callback, &cb, &r, &e), &e, "Begin");
    int32_t n = -1;
    cf_expect_ok(cf_end(&p, r, &n, &e), &e, "End after the failed start");
    ck_assert_msg(n == (int32_t)sizeof buf, "End returned %d of %zu", (int)n, sizeof buf);
    ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS),
                  "ERR-02: after %s failed once, a callback never ran", steps[i].name);
    cf_release(r);
    cf_pair_close(&p);
  }
}

/* ---- FAULT: a send syscall fails under the implementation ----------------- */

/* Begins one send of buf with the fault armed.  Returns 1 when the fault
 * fired (*k and *r are Begin's outcome); otherwise records why as INFO,
 * ends what started, closes the pair and returns 0: the implementation made
 * no call to fail, so there is nothing to judge. */
static int begin_under_fault(cf_pair_t *p, int fault, int nth, const uint8_t *buf, int32_t size,
                             const char *clause, const char *test, const char *none,
                             apmsock_kind_t *k, apmsock_result_t *r, apmsock_error_t *e) {
  cf_setup_fault_arm(fault, nth);
  *k = cf_begin(p, buf, size, 0, size, 0, NULL, NULL, r, e);
  int fired = cf_setup_fault_fired();
  cf_setup_fault_arm(CF_FAIL_NONE, 0);
  if (!fired) {
    cf_info(clause, test, "%s", none);
    if (*k == APMSOCK_OK)
      cf_end_ok(p, *r, size, "End");
    cf_pair_close(p);
  }
  return fired;
}

void cf_fault_eintr(const cf_variant_t *v) {
  /* FAULT-04: an interrupted send is retried; it never surfaces and the
   * stream stays whole (the next operation's bytes follow). */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[3000];
  cf_pattern(buf, sizeof buf, 21);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  apmsock_kind_t k;
  if (!begin_under_fault(&p, CF_FAIL_SEND_EINTR, 1, buf, sizeof buf, "FAULT-04", "eintr",
                         "the implementation made no send/sendto call in Begin", &k, &r, &e))
    return;
  ck_assert_msg(k == APMSOCK_OK, "FAULT-04: Begin threw (kind %d, SocketError %d) for an EINTR",
                (int)k, e.socket_error);
  cf_end_ok(&p, r, sizeof buf, "FAULT-04: End of a send interrupted once");
  cf_expect_peer_gets(&p, buf, sizeof buf, "FAULT-04: the interrupted send");
  cf_send_ok(&p, (const uint8_t *)"next", 4, "FAULT-04: the next send");
  cf_expect_peer_gets(&p, (const uint8_t *)"next", 4, "FAULT-04: the next send");
  cf_pair_close(&p);
}

void cf_fault_partial(const cf_variant_t *v) {
  /* FAULT-07: a stream send whose first syscall wrote half the bytes and
   * whose second failed has started: Begin returns, End throws. */
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  uint8_t buf[4000];
  cf_pattern(buf, sizeof buf, 22);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  apmsock_kind_t k;
  if (!begin_under_fault(&p, CF_FAIL_SEND_SHORT_RESET, 0, buf, sizeof buf, "FAULT-07", "short_then_reset",
                         "Begin made fewer than two send calls", &k, &r, &e))
    return;
  ck_assert_msg(k == APMSOCK_OK,
                "FAULT-07: BeginSend threw (SocketError %d) after %zu of its bytes were on the wire",
                e.socket_error, sizeof buf / 2);
  int32_t n = -1;
  cf_expect_socket_error(cf_end(&p, r, &n, &e), &e, APMSOCK_SE_CONNECTION_RESET,
                         "FAULT-07: End of the send that failed half way");
  cf_release(r);
  cf_expect_peer_gets(&p, buf, sizeof buf / 2, "FAULT-07: the half that left");
  cf_pair_close(&p);
}
