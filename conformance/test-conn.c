/* test-conn.c: CONN-01..CONN-13, connection-oriented and connectionless. */
#include "tests.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void recv_exact_dgram(int fd, const uint8_t *want, size_t n, const char *what);

static apmsock_socket_t open_socket(const cf_variant_t *v) {
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(cf_apm_family(v->family),
                                   v->transport == CF_TCP ? APMSOCK_STREAM : APMSOCK_DGRAM, &s, &e),
               &e, "open the socket under test");
  return s;
}

void cf_conn_send_unconnected_stream(const cf_variant_t *v) {
  /* CONN-01 (BeginSend) and CONN-02 (BeginSendTo): NotConnected from Begin. */
  struct sockaddr_storage laddr;
  int lfd = cf_tcp_listener(v->family, &laddr, 0);
  apmsock_socket_t s = open_socket(v);
  uint8_t buf[8] = "abcdefg";
  apmsock_result_t r = {0x5a5a};
  apmsock_error_t e = {0};
  apmsock_kind_t k =
      v->method == CF_SEND_TO
          ? apmsock_begin_send_to(s, buf, 8, 0, 8, 0, CF_SA(&laddr), NULL, NULL, &r, &e)
          : apmsock_begin_send(s, buf, 8, 0, 8, 0, NULL, NULL, &r, &e);
  cf_expect_socket_error(k, &e, APMSOCK_SE_NOT_CONNECTED, v->clause);
  ck_assert_msg(r.handle == 0, "%s: a Begin that threw left a result", v->clause);
  apmsock_close(s, NULL);
  close(lfd);
}

static void conn03(const cf_variant_t *v, int how) {
  cf_pair_t p;
  cf_pair_open(v, &p, how);
  uint8_t buf[3000];
  cf_pattern(buf, sizeof(buf), 3);
  cf_send_ok(&p, buf, 1000, "CONN-03: first send");
  cf_send_ok(&p, buf + 1000, 2000, "CONN-03: second send");
  cf_expect_peer_gets(&p, buf, sizeof(buf), "CONN-03: the bytes of both sends in order");
  cf_pair_close(&p);
}
void cf_conn_after_connect(const cf_variant_t *v) { conn03(v, 0); }
void cf_conn_after_begin_connect(const cf_variant_t *v) { conn03(v, CF_PAIR_BEGIN_CONNECT); }
void cf_conn_after_accept(const cf_variant_t *v) { conn03(v, CF_PAIR_ACCEPT); }
void cf_conn_after_begin_accept(const cf_variant_t *v) { conn03(v, CF_PAIR_BEGIN_ACCEPT); }

void cf_conn_after_pending_begin_accept(const cf_variant_t *v) {
  /* BeginAccept first, the peer connects afterwards: the accept completes
   * through its callback, and the accepted socket sends. */
  apmsock_socket_t ls, s;
  apmsock_error_t e = {0};
  struct sockaddr_storage la;
  ls = cf_listener_open(v, &la);
  cf_cb_t cb;
  cf_cb_init(&cb);
  apmsock_result_t r;
  bool sig = true;
  cf_expect_ok(apmsock_begin_accept(ls, cf_callback, &cb, &r, &e), &e, "BeginAccept");
  cf_expect_ok(apmsock_result_wait(r, 0, &sig, &e), &e, "WaitOne(0)");
  ck_assert_msg(!sig, "CONN-03: BeginAccept completed with nobody connecting");
  int fd = socket(v->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert(fd >= 0);
  ck_assert_msg(connect(fd, CF_SA(&la), cf_addr_len(&la)) == 0, "connect: %s", strerror(errno));
  ck_assert_msg(cf_cb_wait(&cb, 1, CF_WAIT_MS), "CONN-03: the BeginAccept callback never ran");
  cf_expect_ok(apmsock_end_accept(ls, r, &s, &e), &e, "EndAccept");
  cf_release(r);
  uint8_t buf[700];
  cf_pattern(buf, sizeof(buf), 16);
  apmsock_result_t rs;
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send(s, buf, 700, 0, 700, 0, NULL, NULL, &rs, &e), &e, "BeginSend");
  cf_expect_ok(apmsock_end_send(s, rs, &n, &e), &e, "EndSend");
  ck_assert_msg(n == 700, "CONN-03: EndSend returned %d", n);
  cf_release(rs);
  uint8_t got[700];
  cf_tcp_read_exact(fd, got, 700, "CONN-03: the connecting peer");
  ck_assert_msg(memcmp(got, buf, 700) == 0, "CONN-03: bytes differ");
  close(fd);
  apmsock_close(s, NULL);
  apmsock_close(ls, NULL);
}

static void conn04(const cf_variant_t *v, int how) {
  /* BeginSendTo on a connected stream ignores remoteEP: bytes go to the
   * connected peer, nothing to the other listener. */
  cf_pair_t p;
  cf_pair_open(v, &p, how);
  struct sockaddr_storage other;
  int ofd = cf_tcp_listener(v->family, &other, 0);
  uint8_t buf[500];
  cf_pattern(buf, sizeof(buf), 4);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send_to(p.s, buf, sizeof(buf), 0, sizeof(buf), 0, CF_SA(&other), NULL,
                                     NULL, &r, &e),
               &e, "CONN-04: BeginSendTo to another endpoint");
  cf_expect_ok(apmsock_end_send_to(p.s, r, &n, &e), &e, "CONN-04: EndSendTo");
  ck_assert_msg(n == (int32_t)sizeof(buf), "CONN-04: EndSendTo returned %d", n);
  cf_release(r);
  cf_expect_peer_gets(&p, buf, sizeof(buf), "CONN-04: the connected peer");
  ck_assert_msg(!cf_fd_readable_now(ofd), "CONN-04: remoteEP got a connection");
  close(ofd);
  cf_pair_close(&p);
}
void cf_conn_two_pending_begin_accepts(const cf_variant_t *v) {
  /* Two BeginAccepts pending at once: the first connection completes the
   * first, the second the second; each accepted socket sends to its own
   * peer. */
  apmsock_socket_t ls, acc[2];
  apmsock_error_t e = {0};
  struct sockaddr_storage la;
  ls = cf_listener_open(v, &la);
  cf_cb_t cb[2];
  apmsock_result_t r[2];
  int fd[2];
  for (int i = 0; i < 2; i++) {
    cf_cb_init(&cb[i]);
    cf_expect_ok(apmsock_begin_accept(ls, cf_callback, &cb[i], &r[i], &e), &e, "BeginAccept");
  }
  for (int i = 0; i < 2; i++) {
    fd[i] = socket(v->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert(fd[i] >= 0);
    ck_assert_msg(connect(fd[i], CF_SA(&la), cf_addr_len(&la)) == 0, "connect: %s", strerror(errno));
    ck_assert_msg(cf_cb_wait(&cb[i], 1, CF_WAIT_MS), "CONN-03: BeginAccept %d did not complete", i);
    if (i == 0) {
      bool sig = true;
      cf_expect_ok(apmsock_result_wait(r[1], 0, &sig, &e), &e, "WaitOne(0)");
      ck_assert_msg(!sig, "CONN-03: the second BeginAccept completed with one connection");
    }
    cf_expect_ok(apmsock_end_accept(ls, r[i], &acc[i], &e), &e, "EndAccept");
    cf_release(r[i]);
  }
  for (int i = 0; i < 2; i++) {
    uint8_t b = (uint8_t)('A' + i), got = 0;
    apmsock_result_t rs;
    int32_t n = -1;
    cf_expect_ok(apmsock_begin_send(acc[i], &b, 1, 0, 1, 0, NULL, NULL, &rs, &e), &e, "BeginSend");
    cf_expect_ok(apmsock_end_send(acc[i], rs, &n, &e), &e, "EndSend");
    cf_release(rs);
    cf_tcp_read_exact(fd[i], &got, 1, "CONN-03: the peer of each accept");
    ck_assert_msg(got == b, "CONN-03: peer %d got '%c': the accepts completed out of Begin order", i, got);
    close(fd[i]);
    apmsock_close(acc[i], NULL);
  }
  apmsock_close(ls, NULL);
}

void cf_conn_after_nonblocking_connect(const cf_variant_t *v) {
  /* A non-blocking Connect may answer WouldBlock (connection in progress,
   * as .NET does); once the peer has accepted, BeginSend sends. */
  struct sockaddr_storage la;
  int lfd = cf_tcp_listener(v->family, &la, 0);
  apmsock_socket_t s = open_socket(v);
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  apmsock_kind_t k = apmsock_connect(s, CF_SA(&la), &e);
  if (k != APMSOCK_OK)
    cf_expect_socket_error(k, &e, APMSOCK_SE_WOULD_BLOCK, "CONN-03: non-blocking Connect");
  int pfd = cf_tcp_accept(lfd, "CONN-03: the peer");
  uint8_t buf[300];
  cf_pattern(buf, sizeof(buf), 17);
  apmsock_result_t r;
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send(s, buf, 300, 0, 300, 0, NULL, NULL, &r, &e), &e,
               "CONN-03: BeginSend after the non-blocking connect completed");
  cf_expect_ok(apmsock_end_send(s, r, &n, &e), &e, "EndSend");
  ck_assert_msg(n == 300, "CONN-03: EndSend returned %d", n);
  cf_release(r);
  uint8_t got[300];
  cf_tcp_read_exact(pfd, got, 300, "CONN-03: the peer");
  ck_assert_msg(memcmp(got, buf, 300) == 0, "CONN-03: bytes differ");
  close(pfd);
  close(lfd);
  apmsock_close(s, NULL);
}

void cf_conn_send_to_connected_stream(const cf_variant_t *v) { conn04(v, 0); }
void cf_conn_send_to_accepted_stream(const cf_variant_t *v) { conn04(v, CF_PAIR_ACCEPT); }

void cf_conn_dgram_default_host(const cf_variant_t *v) {
  cf_pair_t p; /* CF_SEND: connected to the receiver */
  cf_pair_open(v, &p, 0);
  uint8_t buf[100];
  cf_pattern(buf, sizeof(buf), 5);
  struct sockaddr_storage remote;
  apmsock_error_t e = {0};
  char a[80], b[80];
  cf_expect_ok(apmsock_remote_endpoint(p.s, &remote, &e), &e, "RemoteEndPoint");
  ck_assert_msg(cf_addr_equal(&remote, &p.peer_addr), "CONN-05: RemoteEndPoint %s, connected to %s",
                cf_addr_str(&remote, a, sizeof(a)), cf_addr_str(&p.peer_addr, b, sizeof(b)));
  cf_send_ok(&p, buf, sizeof(buf), "CONN-05: BeginSend after Connect");
  cf_expect_peer_gets(&p, buf, sizeof(buf), "CONN-05: the default remote host");
  cf_pair_close(&p);
}

void cf_conn_dgram_default_host_nonblocking(const cf_variant_t *v) {
  /* A non-blocking datagram Connect sets the default host at once. */
  struct sockaddr_storage ra;
  int rfd = cf_udp_receiver(v->family, &ra);
  apmsock_socket_t s = open_socket(v);
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  cf_expect_ok(apmsock_connect(s, CF_SA(&ra), &e), &e, "CONN-05: non-blocking datagram Connect");
  uint8_t buf[40];
  cf_pattern(buf, sizeof(buf), 18);
  apmsock_result_t r;
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send(s, buf, 40, 0, 40, 0, NULL, NULL, &r, &e), &e, "CONN-05: BeginSend");
  cf_expect_ok(apmsock_end_send(s, r, &n, &e), &e, "CONN-05: EndSend");
  ck_assert_msg(n == 40, "CONN-05: EndSend returned %d", n);
  cf_release(r);
  recv_exact_dgram(rfd, buf, 40, "CONN-05: the default remote host");
  close(rfd);
  apmsock_close(s, NULL);
}

void cf_conn_dgram_unconnected_send(const cf_variant_t *v) {
  struct sockaddr_storage ra;
  int rfd = cf_udp_receiver(v->family, &ra);
  apmsock_socket_t s = open_socket(v);
  uint8_t buf[8] = {0};
  apmsock_result_t r = {0x5a5a};
  apmsock_error_t e = {0};
  apmsock_kind_t k = apmsock_begin_send(s, buf, 8, 0, 8, 0, NULL, NULL, &r, &e);
  cf_expect_socket_error(k, &e, APMSOCK_SE_NOT_CONNECTED, "CONN-06: BeginSend without Connect");
  ck_assert_msg(r.handle == 0, "CONN-06: a Begin that threw left a result");
  close(rfd);
  apmsock_close(s, NULL);
}

/* No Bind: after EndSendTo, LocalEndPoint is the source the receiver saw.
 * refused_listen: a Listen the datagram socket refuses comes first, and
 * binds nothing. */
static void implicit_bind(const cf_variant_t *v, bool refused_listen) {
  struct sockaddr_storage ra, from, local;
  int rfd = cf_udp_receiver(v->family, &ra);
  apmsock_socket_t s = open_socket(v);
  apmsock_error_t e0 = {0};
  if (refused_listen)
    cf_expect_socket_error(apmsock_listen(s, 1, &e0), &e0, APMSOCK_SE_OPERATION_NOT_SUPPORTED,
                           "CONN-07: Listen on a datagram socket");
  cf_expect_ok(apmsock_local_endpoint(s, &local, &e0), &e0, "LocalEndPoint before any send");
  ck_assert_msg(local.ss_family == AF_UNSPEC, "CONN-07: LocalEndPoint of an unbound socket is not null");
  cf_expect_ok(apmsock_remote_endpoint(s, &local, &e0), &e0, "RemoteEndPoint");
  ck_assert_msg(local.ss_family == AF_UNSPEC, "CONN-07: RemoteEndPoint of an unconnected socket is not null");
  uint8_t buf[32];
  cf_pattern(buf, sizeof(buf), 7);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send_to(s, buf, 32, 0, 32, 0, CF_SA(&ra), NULL, NULL, &r, &e), &e,
               "CONN-07: BeginSendTo on an unbound socket");
  cf_expect_ok(apmsock_end_send_to(s, r, &n, &e), &e, "CONN-07: EndSendTo");
  ck_assert_msg(n == 32, "CONN-07: EndSendTo returned %d", n);
  cf_release(r);
  char got[64];
  size_t len = cf_udp_recv(rfd, got, sizeof(got), &from, "CONN-07: receiver");
  ck_assert_msg(len == 32 && memcmp(got, buf, 32) == 0, "CONN-07: wrong datagram");
  cf_expect_ok(apmsock_local_endpoint(s, &local, &e), &e, "CONN-07: LocalEndPoint");
  char a[80], b[80];
  ck_assert_msg(local.ss_family == v->family, "CONN-07: LocalEndPoint is null (family %d)",
                local.ss_family);
  ck_assert_msg(cf_addr_port(&local) != 0, "CONN-07: LocalEndPoint port is 0");
  ck_assert_msg(cf_addr_equal(&local, &from), "CONN-07: LocalEndPoint %s, the receiver saw %s",
                cf_addr_str(&local, a, sizeof(a)), cf_addr_str(&from, b, sizeof(b)));
  close(rfd);
  apmsock_close(s, NULL);
}

void cf_conn_implicit_bind(const cf_variant_t *v) { implicit_bind(v, false); }
void cf_conn_implicit_bind_after_refused_listen(const cf_variant_t *v) { implicit_bind(v, true); }

static void recv_exact_dgram(int fd, const uint8_t *want, size_t n, const char *what) {
  char got[2048];
  size_t len = cf_udp_recv(fd, got, sizeof(got), NULL, what);
  ck_assert_msg(len == n && memcmp(got, want, n) == 0, "%s: got another datagram (%zu bytes)",
                what, len);
}

void cf_conn_override_once(const cf_variant_t *v) {
  /* Connected to A; BeginSendTo(B) goes to B, the next BeginSend to A. */
  cf_pair_t p; /* method CF_SEND: connected to p.peer_fd (A) */
  cf_pair_open(v, &p, 0);
  struct sockaddr_storage baddr;
  int bfd = cf_udp_receiver(v->family, &baddr);
  uint8_t one[10], two[20];
  cf_pattern(one, sizeof(one), 81);
  cf_pattern(two, sizeof(two), 82);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n;
  cf_expect_ok(apmsock_begin_send_to(p.s, one, 10, 0, 10, 0, CF_SA(&baddr), NULL, NULL, &r, &e),
               &e, "CONN-08: BeginSendTo(B) on a connected datagram socket");
  cf_expect_ok(apmsock_end_send_to(p.s, r, &n, &e), &e, "CONN-08: EndSendTo");
  cf_release(r);
  cf_send_ok(&p, two, sizeof(two), "CONN-08: BeginSend afterwards");
  recv_exact_dgram(bfd, one, 10, "CONN-08: B gets the BeginSendTo datagram");
  recv_exact_dgram(p.peer_fd, two, 20, "CONN-08: A's first datagram is the BeginSend one");
  ck_assert_msg(!cf_fd_readable_now(bfd), "CONN-08: B got the BeginSend datagram too");
  ck_assert_msg(!cf_fd_readable_now(p.peer_fd), "CONN-08: A got more");
  close(bfd);
  cf_pair_close(&p);
}

void cf_conn_reconnect(const cf_variant_t *v) {
  cf_pair_t p; /* connected to A */
  cf_pair_open(v, &p, 0);
  struct sockaddr_storage baddr;
  int bfd = cf_udp_receiver(v->family, &baddr);
  uint8_t one[10], two[20];
  cf_pattern(one, sizeof(one), 91);
  cf_pattern(two, sizeof(two), 92);
  cf_send_ok(&p, one, 10, "CONN-09: BeginSend to A");
  recv_exact_dgram(p.peer_fd, one, 10, "CONN-09: A");
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_connect(p.s, CF_SA(&baddr), &e), &e, "CONN-09: Connect again, to B");
  struct sockaddr_storage remote;
  cf_expect_ok(apmsock_remote_endpoint(p.s, &remote, &e), &e, "RemoteEndPoint");
  ck_assert_msg(cf_addr_equal(&remote, &baddr), "CONN-09: RemoteEndPoint is not the new default host");
  cf_send_ok(&p, two, 20, "CONN-09: BeginSend after the second Connect");
  recv_exact_dgram(bfd, two, 20, "CONN-09: B gets the datagram");
  ck_assert_msg(!cf_fd_readable_now(p.peer_fd), "CONN-09: A still got a datagram");
  close(bfd);
  cf_pair_close(&p);
}

void cf_conn_several_hosts(const cf_variant_t *v) {
  enum { N = 4 };
  struct sockaddr_storage a[N];
  int fd[N];
  apmsock_socket_t s = open_socket(v);
  apmsock_result_t r[N];
  apmsock_error_t e = {0};
  uint8_t buf[N][16];
  for (int i = 0; i < N; i++) {
    fd[i] = cf_udp_receiver(v->family, &a[i]);
    cf_pattern(buf[i], 16, 100 + (unsigned)i);
  }
  for (int i = 0; i < N; i++)
    cf_expect_ok(apmsock_begin_send_to(s, buf[i], 16, 0, 16, 0, CF_SA(&a[i]), NULL, NULL, &r[i], &e),
                 &e, "CONN-10: BeginSendTo");
  for (int i = 0; i < N; i++) {
    int32_t n = -1;
    cf_expect_ok(apmsock_end_send_to(s, r[i], &n, &e), &e, "CONN-10: EndSendTo");
    ck_assert_msg(n == 16, "CONN-10: EndSendTo returned %d", n);
    cf_release(r[i]);
  }
  for (int i = 0; i < N; i++) {
    recv_exact_dgram(fd[i], buf[i], 16, "CONN-10: each receiver gets its own datagram");
    ck_assert_msg(!cf_fd_readable_now(fd[i]), "CONN-10: receiver %d got more than its own", i);
    close(fd[i]);
  }
  apmsock_close(s, NULL);
}

void cf_conn_dual_mode_padded(const cf_variant_t *v) {
  /* A dual-mode IPv6 socket sending to an IPv4 host and an IPv6 host in
   * turn.  The IPv4 endpoint's padding (sin_zero) is filled: it is not part
   * of the address, so it must not leak into the ::ffff:a.b.c.d the socket
   * sends to. */
  struct sockaddr_storage a4, a6;
  int fd4 = cf_udp_receiver(AF_INET, &a4), fd6 = cf_udp_receiver(AF_INET6, &a6);
  memset(((struct sockaddr_in *)&a4)->sin_zero, 0xa5, sizeof ((struct sockaddr_in *)&a4)->sin_zero);
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET6, APMSOCK_DGRAM, &s, &e), &e, "open v6");
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_DUAL_MODE, 1, &e), &e, "DualMode = true");
  const struct sockaddr_storage *to[] = {&a4, &a6, &a4};
  const int fds[] = {fd4, fd6, fd4};
  for (int i = 0; i < 3; i++) {
    uint8_t buf[16];
    cf_pattern(buf, sizeof buf, 130 + (unsigned)i);
    apmsock_result_t r;
    int32_t n = -1;
    cf_expect_ok(apmsock_begin_send_to(s, buf, 16, 0, 16, 0, CF_SA(to[i]), NULL, NULL, &r, &e), &e,
                 "CONN-10: BeginSendTo from a dual-mode socket");
    cf_expect_ok(apmsock_end_send_to(s, r, &n, &e), &e, "CONN-10: EndSendTo");
    ck_assert_msg(n == 16, "CONN-10: EndSendTo returned %d", n);
    cf_release(r);
    recv_exact_dgram(fds[i], buf, 16, i == 1 ? "CONN-10: the IPv6 host gets its datagram"
                                             : "CONN-10: the IPv4 host (endpoint with padding) gets its datagram");
  }
  close(fd4);
  close(fd6);
  apmsock_close(s, NULL);
}

void cf_conn_descriptor_zero(const cf_variant_t *v) {
  /* With standard input closed the next socket is descriptor 0, a valid
   * descriptor like any other: BeginSendTo on it works and delivers. */
  struct sockaddr_storage a;
  int rfd = cf_udp_receiver(v->family, &a);
  apmsock_close(open_socket(v), NULL); /* the library has started: its own descriptors are taken */
  int saved = dup(0);
  ck_assert_msg(saved >= 0, "dup(0)");
  close(0);
  apmsock_socket_t s = open_socket(v);
  struct stat st;
  int zero_is_socket = fstat(0, &st) == 0 && S_ISSOCK(st.st_mode);
  uint8_t buf[16];
  cf_pattern(buf, sizeof buf, 140);
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  apmsock_kind_t kb = apmsock_begin_send_to(s, buf, 16, 0, 16, 0, CF_SA(&a), NULL, NULL, &r, &e);
  apmsock_kind_t ke = kb == APMSOCK_OK ? apmsock_end_send_to(s, r, &n, &e) : kb;
  if (kb == APMSOCK_OK) cf_release(r);
  apmsock_close(s, NULL);
  dup2(saved, 0);
  close(saved);
  ck_assert_msg(zero_is_socket, "CONN-07: the socket opened with stdin closed is not descriptor 0");
  ck_assert_msg(ke == APMSOCK_OK && n == 16, "CONN-07: BeginSendTo/End on descriptor 0 gave %s (%d bytes)",
                apmsock_kind_name(ke), n);
  recv_exact_dgram(rfd, buf, 16, "CONN-07: the datagram sent through descriptor 0 arrives");
  close(rfd);
}

void cf_conn_large_stream(const cf_variant_t *v) {
  /* Several MiB through tiny buffers: End returns exactly size, every byte
   * arrives in order. */
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 11), *got = cf_big_alloc(CF_BIG);
  cf_drain_t d;
  cf_drain_start(&d, p.peer_fd, got, CF_BIG, CF_DRAIN_NOW);
  cf_send_ok(&p, buf, CF_BIG, "CONN-11: a send far above the buffers");
  size_t total = cf_drain_join(&d);
  ck_assert_msg(total == CF_BIG, "CONN-11: the peer got %zu of %u bytes", total, CF_BIG);
  ck_assert_msg(memcmp(buf, got, CF_BIG) == 0, "CONN-11: the peer got the bytes out of order");
  cf_big_free(buf);
  cf_big_free(got);
  cf_pair_close(&p);
}

void cf_conn_blocking_pending(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 12);
  apmsock_result_t r =
      cf_begin_pending(&p, buf, CF_BIG, NULL, NULL, "CONN-12: the blocking send");
  apmsock_error_t e = {0};
  bool sig = true;
  cf_expect_ok(apmsock_result_wait(r, 50, &sig, &e), &e, "WaitOne(50)");
  ck_assert_msg(!sig, "CONN-12: the send completed while the peer read nothing");
  cf_end_draining(&p, r, buf, CF_BIG, "CONN-12: the blocking send");
  cf_big_free(buf);
  cf_pair_close(&p);
}

void cf_conn_nonblocking_would_block(const cf_variant_t *v) {
  /* The buffers are full (a blocking send waits for the peer); a send on the
   * now non-blocking socket cannot go out: WouldBlock, and nothing of it is
   * sent (the peer gets the first send, then the sentinel). */
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 13);
  apmsock_result_t r =
      cf_begin_pending(&p, buf, CF_BIG, NULL, NULL, "CONN-12: the send filling the buffers");
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_set_option(p.s, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  const uint8_t x[4] = {'X', 'X', 'X', 'X'};
  apmsock_result_t r2 = {0};
  apmsock_kind_t k = cf_begin(&p, x, 4, 0, 4, 0, NULL, NULL, &r2, &e);
  if (v->method == CF_SEND) {
    cf_expect_socket_error(k, &e, APMSOCK_SE_WOULD_BLOCK, "CONN-12: non-blocking BeginSend");
  } else {
    cf_expect_ok(k, &e, "CONN-12: non-blocking BeginSendTo (its error belongs to End)");
    int32_t n2 = -1;
    k = cf_end(&p, r2, &n2, &e);
    cf_expect_socket_error(k, &e, APMSOCK_SE_WOULD_BLOCK, "CONN-12: non-blocking EndSendTo");
    cf_release(r2);
  }
  cf_end_draining(&p, r, buf, CF_BIG, "CONN-12: the first send");
  cf_expect_ok(apmsock_set_option(p.s, APMSOCK_OPT_BLOCKING, 1, &e), &e, "Blocking = true");
  cf_expect_sentinel(&p, "CONN-12: nothing of the WouldBlock send went out");
  cf_big_free(buf);
  cf_pair_close(&p);
}

void cf_conn_nonblocking_fill(const cf_variant_t *v) {
  /* Non-blocking from the start: sends are accepted, whole or in part, until
   * the buffers are full; then WouldBlock.  Nothing is lost or invented: the
   * peer gets exactly the bytes the Ends reported, then the sentinel. */
  enum { CHUNK = 64 * 1024, MAX_SENDS = 256 };
  cf_pair_t p;
  cf_pair_open(v, &p, CF_PAIR_SMALL);
  uint8_t *buf = cf_pattern_alloc(CF_BIG, 15);
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_set_option(p.s, APMSOCK_OPT_BLOCKING, 0, &e), &e, "Blocking = false");
  int32_t blocking = -1;
  cf_expect_ok(apmsock_get_option(p.s, APMSOCK_OPT_BLOCKING, &blocking, &e), &e, "get Blocking");
  ck_assert_msg(blocking == 0, "CONN-12: Blocking reads back %d after setting false", blocking);
  size_t sent = 0;
  int would_block = 0, sends = 0;
  apmsock_kind_t k = APMSOCK_OK;
  while (!would_block && sends < MAX_SENDS && sent + CHUNK <= CF_BIG) {
    apmsock_result_t r = {0};
    int32_t n = -1;
    sends++;
    k = cf_begin(&p, buf, CF_BIG, (int32_t)sent, CHUNK, 0, NULL, NULL, &r, &e);
    if (k == APMSOCK_SOCKET && v->method == CF_SEND) {
      would_block = 1;
      break;
    }
    cf_expect_ok(k, &e, "CONN-12: a non-blocking Begin while the buffers have room");
    k = cf_end(&p, r, &n, &e);
    cf_release(r);
    if (k == APMSOCK_SOCKET && v->method == CF_SEND_TO) {
      would_block = 1;
      break;
    }
    cf_expect_ok(k, &e, "CONN-12: End of a non-blocking send");
    ck_assert_msg(n > 0 && n <= CHUNK, "CONN-12: a non-blocking send completed with %d bytes of %d",
                  n, CHUNK);
    sent += (size_t)n;
  }
  ck_assert_msg(would_block, "CONN-12: %d non-blocking sends (%zu bytes) into a peer that reads nothing, "
                "and no WouldBlock", sends, sent);
  cf_expect_socket_error(k, &e, APMSOCK_SE_WOULD_BLOCK,
                         v->method == CF_SEND ? "CONN-12: non-blocking BeginSend, buffers full"
                                              : "CONN-12: non-blocking EndSendTo, buffers full");
  uint8_t *got = cf_big_alloc(sent);
  cf_tcp_read_exact(p.peer_fd, got, sent, "CONN-12: the bytes the Ends reported");
  ck_assert_msg(memcmp(got, buf, sent) == 0, "CONN-12: the peer got other bytes than reported sent");
  cf_expect_ok(apmsock_set_option(p.s, APMSOCK_OPT_BLOCKING, 1, &e), &e, "Blocking = true");
  cf_expect_sentinel(&p, "CONN-12: the WouldBlock send sent nothing");
  cf_big_free(got);
  cf_big_free(buf);
  cf_pair_close(&p);
}

void cf_conn_no_listener(const cf_variant_t *v) {
  /* Completion does not mean delivery: nobody listens, all bytes "sent". */
  struct sockaddr_storage dead;
  cf_free_udp_port(v->family, &dead);
  apmsock_socket_t s = open_socket(v);
  apmsock_error_t e = {0};
  uint8_t buf[64];
  cf_pattern(buf, sizeof(buf), 14);
  apmsock_result_t r;
  int32_t n = -1;
  if (v->method == CF_SEND) {
    cf_expect_ok(apmsock_connect(s, CF_SA(&dead), &e), &e, "CONN-13: Connect to a dead port");
    cf_expect_ok(apmsock_begin_send(s, buf, 64, 0, 64, 0, NULL, NULL, &r, &e), &e,
                 "CONN-13: BeginSend");
    cf_expect_ok(apmsock_end_send(s, r, &n, &e), &e, "CONN-13: EndSend");
  } else {
    cf_expect_ok(apmsock_begin_send_to(s, buf, 64, 0, 64, 0, CF_SA(&dead), NULL, NULL, &r, &e), &e,
                 "CONN-13: BeginSendTo");
    cf_expect_ok(apmsock_end_send_to(s, r, &n, &e), &e, "CONN-13: EndSendTo");
  }
  ck_assert_msg(n == 64, "CONN-13: End returned %d, expected all 64 bytes", n);
  cf_release(r);
  apmsock_close(s, NULL);
}
