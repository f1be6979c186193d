/* test-dgram.c: BCAST-01/02 (on lo only) and SIZE-01..04. */
#include "tests.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BCAST_ADDR "127.255.255.255" /* lo's broadcast address: never leaves the host */

void cf_bcast_without_option(const cf_variant_t *v) {
  struct sockaddr_storage any, bcast, lo;
  int rfd = cf_udp_receiver_any4(&any);
  cf_addr_ipv4(BCAST_ADDR, cf_addr_port(&any), &bcast);
  cf_addr_ipv4("127.0.0.1", cf_addr_port(&any), &lo);
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &e), &e, "open");
  uint8_t buf[16];
  cf_pattern(buf, sizeof(buf), 21);
  apmsock_result_t r = {0};
  int32_t n = -1;
  cf_expect_ok(apmsock_begin_send_to(s, buf, 16, 0, 16, 0, CF_SA(&bcast), NULL, NULL, &r, &e), &e,
               "BCAST-01: BeginSendTo to the broadcast address (its error belongs to End)");
  apmsock_kind_t k = apmsock_end_send_to(s, r, &n, &e);
  cf_expect_socket_error(k, &e, APMSOCK_SE_ACCESS_DENIED, "BCAST-01: EndSendTo without Broadcast");
  cf_release(r);
  struct sockaddr_storage local;
  char a[80];
  apmsock_local_endpoint(s, &local, NULL);
  cf_info(v->clause, v->test, "LocalEndPoint after the denied broadcast: %s",
          local.ss_family == AF_UNSPEC ? "null" : cf_addr_str(&local, a, sizeof(a)));
  cf_expect_sentinel_to(s, &lo, rfd, "BCAST-01: after the denied broadcast");
  close(rfd);
  apmsock_close(s, NULL);
}

void cf_bcast_with_option(const cf_variant_t *v) {
  struct sockaddr_storage any, bcast;
  int rfd = cf_udp_receiver_any4(&any);
  cf_addr_ipv4(BCAST_ADDR, cf_addr_port(&any), &bcast);
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET, APMSOCK_DGRAM, &s, &e), &e, "open");
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_BROADCAST, 1, &e), &e, "SetSocketOption(Broadcast)");
  int32_t val = 0;
  cf_expect_ok(apmsock_get_option(s, APMSOCK_OPT_BROADCAST, &val, &e), &e, "GetSocketOption");
  ck_assert_msg(val == 1, "BCAST-02: the Broadcast option reads back %d", val);
  uint8_t buf[16];
  cf_pattern(buf, sizeof(buf), 22);
  apmsock_result_t r;
  int32_t n = -1;
  if (v->method == CF_SEND) {
    cf_expect_ok(apmsock_connect(s, CF_SA(&bcast), &e), &e, "BCAST-02: Connect to the broadcast address");
    cf_expect_ok(apmsock_begin_send(s, buf, 16, 0, 16, 0, NULL, NULL, &r, &e), &e, "BCAST-02: BeginSend");
    cf_expect_ok(apmsock_end_send(s, r, &n, &e), &e, "BCAST-02: EndSend");
  } else {
    cf_expect_ok(apmsock_begin_send_to(s, buf, 16, 0, 16, 0, CF_SA(&bcast), NULL, NULL, &r, &e), &e,
                 "BCAST-02: BeginSendTo");
    cf_expect_ok(apmsock_end_send_to(s, r, &n, &e), &e, "BCAST-02: EndSendTo");
  }
  ck_assert_msg(n == 16, "BCAST-02: End returned %d", n);
  cf_release(r);
  char got[64];
  size_t len = cf_udp_recv(rfd, got, sizeof(got), NULL, "BCAST-02: wildcard receiver");
  ck_assert_msg(len == 16 && memcmp(got, buf, 16) == 0, "BCAST-02: wrong datagram (%zu bytes)", len);
  close(rfd);
  apmsock_close(s, NULL);
}

void cf_size_oversize(const cf_variant_t *v) {
  /* One byte above the largest datagram: MessageSize, from Begin for
   * BeginSend (SIZE-02), from End for BeginSendTo (SIZE-01); not sent. */
  size_t n = cf_max_datagram(v->family) + 1;
  uint8_t *buf = cf_pattern_alloc(n, 20);
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  apmsock_result_t r = {0};
  apmsock_error_t e = {0};
  apmsock_kind_t k = cf_begin(&p, buf, (int32_t)n, 0, (int32_t)n, 0, NULL, NULL, &r, &e);
  if (v->method == CF_SEND) {
    cf_expect_socket_error(k, &e, APMSOCK_SE_MESSAGE_SIZE, "SIZE-02: BeginSend of an oversize datagram");
    ck_assert_msg(r.handle == 0, "SIZE-02: a Begin that threw left a result");
  } else {
    cf_expect_ok(k, &e, "SIZE-01: BeginSendTo of an oversize datagram (its error belongs to End)");
    int32_t sent = -1;
    k = cf_end(&p, r, &sent, &e);
    cf_expect_socket_error(k, &e, APMSOCK_SE_MESSAGE_SIZE, "SIZE-01: EndSendTo");
    cf_release(r);
  }
  cf_expect_sentinel(&p, v->clause);
  cf_pair_close(&p);
  cf_big_free(buf);
}

void cf_size_largest(const cf_variant_t *v) {
  size_t n = cf_max_datagram(v->family);
  uint8_t *buf = cf_pattern_alloc(n, 20);
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  cf_send_ok(&p, buf, (int32_t)n, "SIZE-03: the largest legal datagram");
  cf_expect_peer_gets(&p, buf, n, "SIZE-03: received whole");
  cf_pair_close(&p);
  cf_big_free(buf);
}

void cf_size_zero(const cf_variant_t *v) {
  uint8_t buf[4] = {0};
  cf_pair_t p;
  cf_pair_open(v, &p, 0);
  cf_send_ok(&p, buf, 0, "SIZE-04: a zero-length datagram");
  cf_expect_peer_gets(&p, buf, 0, "SIZE-04: the receiver gets an empty datagram");
  cf_expect_sentinel(&p, "SIZE-04");
  cf_pair_close(&p);
}

void cf_size_oversize_v4_mapped(const cf_variant_t *v) {
  /* A dual-mode IPv6 socket sending to an IPv4 endpoint: the IPv4 limit
   * applies (65507), so 65508 bytes is MessageSize from End; not sent. */
  size_t n = 65508;
  uint8_t *buf = cf_pattern_alloc(n, 20);
  struct sockaddr_storage ra;
  int rfd = cf_udp_receiver(AF_INET, &ra);
  apmsock_socket_t s;
  apmsock_error_t e = {0};
  cf_expect_ok(apmsock_socket_open(APMSOCK_AF_INET6, APMSOCK_DGRAM, &s, &e), &e, "open v6");
  cf_expect_ok(apmsock_set_option(s, APMSOCK_OPT_DUAL_MODE, 1, &e), &e, "DualMode = true");
  apmsock_result_t r;
  int32_t sent = -1;
  cf_expect_ok(apmsock_begin_send_to(s, buf, (int32_t)n, 0, (int32_t)n, 0, CF_SA(&ra), NULL, NULL, &r, &e),
               &e, "SIZE-01: BeginSendTo of 65508 bytes to an IPv4 endpoint");
  cf_expect_socket_error(apmsock_end_send_to(s, r, &sent, &e), &e, APMSOCK_SE_MESSAGE_SIZE,
                         "SIZE-01: EndSendTo (IPv4 limit over a dual-mode socket)");
  cf_release(r);
  cf_expect_sentinel_to(s, &ra, rfd, "SIZE-01: after the oversize datagram");
  close(rfd);
  apmsock_close(s, NULL);
  cf_big_free(buf);
}
