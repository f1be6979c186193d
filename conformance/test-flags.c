/* test-flags.c: FLAGS-01 (DontRoute, in a private network namespace) and
 * FLAGS-02 (OutOfBand, INFO). */
#define _GNU_SOURCE
#include "tests.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_EXIT 77
/* TEST-NET-3 behind a gateway (TEST-NET-2) that is on-link on lo: routed,
 * so DontRoute must refuse it.  Only inside the namespace made here. */
#define NETNS_SETUP                                                             \
  "ip link set lo up && ip route add 198.51.100.1/32 dev lo scope link && "     \
  "ip route add 203.0.113.0/24 via 198.51.100.1 dev lo"
#define OFFLINK_ADDR "203.0.113.5"

static char child_msg[512];

static int child_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(child_msg, sizeof(child_msg), fmt, ap);
  va_end(ap);
  return 1;
}

static const char *kname(apmsock_kind_t k) { return k == APMSOCK_OK ? "OK" : apmsock_kind_name(k); }

/* Begin+End of 16 bytes; returns the kind and where it surfaced. */
static apmsock_kind_t send16(apmsock_socket_t s, int method, const struct sockaddr_storage *to,
                             int32_t flags, apmsock_error_t *e, const char **where) {
  uint8_t buf[16];
  cf_pattern(buf, 16, 30);
  apmsock_result_t r = {0};
  int32_t n = -1;
  apmsock_kind_t k = method == CF_SEND_TO
                         ? apmsock_begin_send_to(s, buf, 16, 0, 16, flags, CF_SA(to), NULL, NULL, &r, e)
                         : apmsock_begin_send(s, buf, 16, 0, 16, flags, NULL, NULL, &r, e);
  *where = "Begin";
  if (k != APMSOCK_OK) return k;
  *where = "End";
  k = method == CF_SEND_TO ? apmsock_end_send_to(s, r, &n, e) : apmsock_end_send(s, r, &n, e);
  apmsock_result_release(r, NULL);
  if (k == APMSOCK_OK && n != 16) {
    *where = "End (byte count)";
    return APMSOCK_SOCKET;
  }
  return k;
}

static int child_udp(const cf_variant_t *v) {
  struct sockaddr_storage off;
  cf_addr_ipv4(OFFLINK_ADDR, 9, &off);
  apmsock_error_t e = {0};
  const char *where;
  for (int dont = 0; dont <= 1; dont++) {
    apmsock_socket_t s;
    if (apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &e) != APMSOCK_OK)
      return child_fail("open: %s", e.message);
    if (v->method == CF_SEND && apmsock_connect(s, CF_SA(&off), &e) != APMSOCK_OK)
      return child_fail("Connect to %s: %s", OFFLINK_ADDR, e.message);
    apmsock_kind_t k = send16(s, v->method, &off, dont ? APMSOCK_FLAG_DONT_ROUTE : 0, &e, &where);
    apmsock_close(s, NULL);
    if (!dont && k != APMSOCK_OK)
      return child_fail("FLAGS-01: the routed send without DontRoute failed at %s: %s %s", where,
                        kname(k), apmsock_socket_error_name(e.socket_error));
    if (dont) {
      const char *want_where = v->method == CF_SEND ? "Begin" : "End";
      if (k != APMSOCK_SOCKET || e.socket_error != APMSOCK_SE_NETWORK_UNREACHABLE)
        return child_fail("FLAGS-01: DontRoute to an off-link address: expected SocketException "
                          "NetworkUnreachable (10051) from %s, got %s %s (%d) at %s",
                          want_where, kname(k), apmsock_socket_error_name(e.socket_error),
                          e.socket_error, where);
      if (strcmp(where, want_where) != 0)
        return child_fail("FLAGS-01: NetworkUnreachable surfaced at %s, expected %s", where,
                          want_where);
      if (e.native_errno != ENETUNREACH)
        return child_fail("FLAGS-01: NetworkUnreachable carries errno %d", e.native_errno);
    }
  }
  return 0;
}

static int wait_fd(int fd) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  return poll(&pfd, 1, CF_WAIT_MS) > 0;
}

static int child_onlink(const cf_variant_t *v) {
  /* On-link loopback peer: DontRoute still delivers. */
  struct sockaddr_storage a;
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  const char *where;
  int type = v->transport == CF_TCP ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket(v->family, type, 0), cfd = -1;
  cf_addr_loopback(v->family, 0, &a);
  socklen_t len = cf_addr_len(&a);
  if (fd < 0 || bind(fd, CF_SA(&a), len) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
    return child_fail("peer socket: %s", strerror(errno));
  if (type == SOCK_STREAM && listen(fd, 1) != 0) return child_fail("listen");
  if (apmsock_socket_open(cf_apm_family(v->family),
                          v->transport == CF_TCP ? APMSOCK_STREAM : APMSOCK_DGRAM, &s, &e) != APMSOCK_OK)
    return child_fail("open: %s", e.message);
  if ((v->method == CF_SEND || v->transport == CF_TCP) && apmsock_connect(s, CF_SA(&a), &e) != APMSOCK_OK)
    return child_fail("Connect: %s", e.message);
  if (type == SOCK_STREAM) {
    if (!wait_fd(fd)) return child_fail("no connection");
    cfd = accept(fd, NULL, NULL);
  }
  apmsock_kind_t k = send16(s, v->method, &a, APMSOCK_FLAG_DONT_ROUTE, &e, &where);
  if (k != APMSOCK_OK)
    return child_fail("FLAGS-01: DontRoute to the on-link loopback peer failed at %s: %s %s", where,
                      kname(k), apmsock_socket_error_name(e.socket_error));
  int rfd = cfd >= 0 ? cfd : fd;
  uint8_t got[32], want[16];
  cf_pattern(want, 16, 30);
  size_t have = 0;
  while (have < 16) {
    if (!wait_fd(rfd)) return child_fail("FLAGS-01: the on-link peer got %zu of 16 bytes", have);
    ssize_t r = recv(rfd, got + have, sizeof(got) - have, 0);
    if (r <= 0) return child_fail("FLAGS-01: the on-link peer's recv: %zd", r);
    have += (size_t)r;
  }
  if (have != 16 || memcmp(got, want, 16) != 0) return child_fail("FLAGS-01: on-link bytes differ");
  apmsock_close(s, NULL);
  return 0;
}

void cf_flags_dont_route(const cf_variant_t *v) {
  int pfd[2];
  ck_assert(pipe(pfd) == 0);
  pid_t pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    /* Before any apmsock call, so that every thread the implementation
     * starts lives in the new namespace. */
    close(pfd[0]);
    int rc;
    if (unshare(CLONE_NEWNET) != 0) {
      snprintf(child_msg, sizeof(child_msg), "unshare(CLONE_NEWNET): %s", strerror(errno));
      rc = SKIP_EXIT;
    } else if (system(NETNS_SETUP " >/dev/null 2>&1") != 0) {
      rc = child_fail("network namespace setup failed: %s", NETNS_SETUP);
    } else {
      /* The routed case is IPv4 only: Linux refuses an IPv6 gateway route
       * through lo, and the namespace has no other interface. */
      rc = v->transport == CF_UDP && v->family == AF_INET ? child_udp(v) : 0;
      if (rc == 0) rc = child_onlink(v);
    }
    if (write(pfd[1], child_msg, strlen(child_msg)) < 0) rc = 3;
    _exit(rc);
  }
  close(pfd[1]);
  char msg[sizeof(child_msg)] = "";
  size_t have = 0;
  struct pollfd p = {.fd = pfd[0], .events = POLLIN};
  uint64_t start = cf_now_ms();
  while (cf_now_ms() - start < 2u * CF_WAIT_MS) {
    if (poll(&p, 1, 2 * CF_WAIT_MS) <= 0) break;
    ssize_t r = read(pfd[0], msg + have, sizeof(msg) - 1 - have);
    if (r <= 0) break;
    have += (size_t)r;
  }
  close(pfd[0]);
  int status = 0;
  ck_assert_msg(cf_wait_child(pid, 2 * CF_WAIT_MS, &status),
                "FLAGS-01: the namespace child did not finish within %d ms (%s)", 2 * CF_WAIT_MS,
                have ? msg : "no message");
  if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT) {
    cf_info(v->clause, v->test, "SKIP: %s", msg);
    return;
  }
  ck_assert_msg(WIFEXITED(status), "FLAGS-01: the namespace child died with signal %d",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  ck_assert_msg(WEXITSTATUS(status) == 0, "%s", msg);
}

void cf_flags_out_of_band_info(const cf_variant_t *v) {
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  const uint8_t u = 'U';
  apmsock_result_t r;
  apmsock_error_t e = {0};
  int32_t n = -1;
  apmsock_kind_t k = cf_begin(&p, &u, 1, 0, 1, APMSOCK_FLAG_OUT_OF_BAND, NULL, NULL, &r, &e);
  apmsock_kind_t ke = APMSOCK_OK;
  if (k == APMSOCK_OK) {
    ke = cf_end(&p, r, &n, &e);
    apmsock_result_release(r, NULL);
  }
  char oob = 0;
  ssize_t got = -1;
  if (k == APMSOCK_OK && ke == APMSOCK_OK) {
    struct pollfd pf = {.fd = p.peer_fd, .events = POLLPRI};
    if (poll(&pf, 1, CF_WAIT_MS) > 0) got = recv(p.peer_fd, &oob, 1, MSG_OOB | MSG_DONTWAIT);
  }
  cf_info(v->clause, v->test, "OutOfBand send: Begin %s, End %s (%d bytes); peer urgent data: %s%c",
          kname(k), kname(ke), n, got == 1 ? "read as urgent: " : "none",
          got == 1 ? oob : ' ');
  cf_pair_close(&p);
}
