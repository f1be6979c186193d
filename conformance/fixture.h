/*
 * fixture.h: the loopback fixtures of the C conformance suite.
 *
 * Two sides in every test: the implementation under test (apmsock_* calls,
 * nothing else) and plain POSIX sockets as its peers, so that what arrives on
 * the wire is observed independently of the implementation.  Every wait is
 * bounded (CF_WAIT_MS) and fails the test with a message naming what did not
 * happen.  Nothing here sleeps to wait for an event.
 */
#ifndef CF_FIXTURE_H
#define CF_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "apmsock.h"

/* Bounded waits: long enough for a loaded 2-core machine and a sanitizer
 * build, short enough to stay under the tcase timeout. */
#define CF_WAIT_MS 3000

enum { CF_UDP = 1, CF_TCP = 2 };
enum { CF_SEND = 1, CF_SEND_TO = 2 };

/* One variant of a clause: transport, address family, method. */
typedef struct cf_variant {
  const char *test;   /* the Check test name, for messages */
  const char *clause; /* "ARG-01" */
  int transport;      /* CF_UDP / CF_TCP */
  int family;         /* AF_INET / AF_INET6 */
  int method;         /* CF_SEND / CF_SEND_TO */
} cf_variant_t;

/* ---- addresses --------------------------------------------------------- */
int cf_apm_family(int family);
void cf_addr_loopback(int family, uint16_t port, struct sockaddr_storage *out);
void cf_addr_ipv4(const char *dotted, uint16_t port, struct sockaddr_storage *out);
socklen_t cf_addr_len(const struct sockaddr_storage *a);
uint16_t cf_addr_port(const struct sockaddr_storage *a);
int cf_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
const char *cf_addr_str(const struct sockaddr_storage *a, char *buf, size_t cap);
#define CF_SA(p) ((const struct sockaddr *)(p))

/* ---- raw peers (plain POSIX sockets) ------------------------------------ */
int cf_udp_receiver(int family, struct sockaddr_storage *addr);
int cf_udp_receiver_any4(struct sockaddr_storage *addr); /* 0.0.0.0:0 */
/* Next datagram within CF_WAIT_MS (fails otherwise); returns its length. */
size_t cf_udp_recv(int fd, void *buf, size_t cap, struct sockaddr_storage *from,
                   const char *what);
int cf_fd_readable_now(int fd); /* poll(0): 1 if data/connection waiting */
int cf_tcp_listener(int family, struct sockaddr_storage *addr, int rcvbuf);
int cf_tcp_accept(int lfd, const char *what);
void cf_tcp_read_exact(int fd, void *buf, size_t n, const char *what);
int cf_free_udp_port(int family, struct sockaddr_storage *addr);

/* A thread that reads `want` bytes from a stream fd into buf, failing
 * (got < want) after CF_WAIT_MS without progress.  Flags: CF_DRAIN_NOW
 * starts reading at once, else on cf_drain_go.  CF_DRAIN_WIDE first widens
 * fd's receive buffer: for a CF_PAIR_SMALL peer whose tiny window only had
 * to keep a send pending until the drain starts.  Every byte still passes
 * the implementation's tiny send buffer, in order, but in fewer loopback
 * segments (4 MiB through a 4 KiB window cost ~25 ms of CPU a test).  Not
 * for a test whose clause is the transfer through tiny buffers itself. */
enum { CF_DRAIN_NOW = 1, CF_DRAIN_WIDE = 2 };
typedef struct cf_drain {
  int fd;
  uint8_t *buf;
  size_t want;
  size_t got;
  pthread_t th;
  int wide;      /* CF_DRAIN_WIDE given */
  atomic_int go; /* 0: wait for cf_drain_go (or start at once if created so) */
} cf_drain_t;
void cf_drain_start(cf_drain_t *d, int fd, uint8_t *buf, size_t want, int flags);
void cf_drain_go(cf_drain_t *d);
size_t cf_drain_join(cf_drain_t *d);

/* ---- the socket under test and its peer --------------------------------- */
enum {
  CF_PAIR_SMALL = 1,        /* TCP: tiny send and receive buffers, so that a
                               large send stays pending until the peer reads */
  CF_PAIR_BEGIN_CONNECT = 2,
  CF_PAIR_ACCEPT = 4,
  CF_PAIR_BEGIN_ACCEPT = 8
};
/* UDP: CF_SEND connects the socket to its receiver, CF_SEND_TO leaves it
 * unconnected.  TCP: connected (CF_PAIR_* says how); send_to passes the
 * peer's address as remoteEP, which a stream socket ignores. */
typedef struct cf_pair {
  const cf_variant_t *v;
  apmsock_socket_t s;       /* the socket under test */
  apmsock_socket_t lsock;   /* its listener in the accept modes */
  int peer_fd;              /* UDP receiver or the TCP peer */
  int listen_fd;
  struct sockaddr_storage peer_addr; /* the remoteEP used by send_to */
} cf_pair_t;
void cf_pair_open(const cf_variant_t *v, cf_pair_t *p, int flags);
/* A listening stream socket of the implementation on the variant's loopback
 * address, port 0; *bound receives its LocalEndPoint.  Fails the test on
 * any error. */
apmsock_socket_t cf_listener_open(const cf_variant_t *v, struct sockaddr_storage *bound);
void cf_pair_close(cf_pair_t *p);

/* Begin/End through the variant's method. */
apmsock_kind_t cf_begin(cf_pair_t *p, const uint8_t *buf, int32_t len, int32_t off,
                        int32_t size, int32_t flags, apmsock_callback_t cb, void *state,
                        apmsock_result_t *r, apmsock_error_t *err);
apmsock_kind_t cf_end(cf_pair_t *p, apmsock_result_t r, int32_t *n, apmsock_error_t *err);
/* End of r must succeed with exactly `size` bytes (messages prefixed by
 * `what`); then releases r. */
void cf_end_ok(cf_pair_t *p, apmsock_result_t r, int32_t size, const char *what);
/* Begin, End, release: must succeed with all bytes. */
void cf_send_ok(cf_pair_t *p, const uint8_t *buf, int32_t size, const char *what);
/* The peer gets exactly these bytes next (one datagram for UDP). */
void cf_expect_peer_gets(cf_pair_t *p, const uint8_t *buf, size_t n, const char *what);
/* Sends a sentinel and asserts it is the next and only thing the peer gets:
 * proof that nothing was delivered before it. */
void cf_expect_sentinel(cf_pair_t *p, const char *what);
/* The same for a datagram socket under test outside a pair: sends the
 * sentinel from s to `to` with BeginSendTo/EndSendTo and asserts it is the
 * next and only datagram the receiver rfd gets, messages prefixed by `what`. */
void cf_expect_sentinel_to(apmsock_socket_t s, const struct sockaddr_storage *to, int rfd,
                           const char *what);
/* The largest UDP payload of the family (65507 / 65527). */
size_t cf_max_datagram(int family);
void cf_release(apmsock_result_t r);

/* ---- pending stream sends (CF_PAIR_SMALL, the peer not reading) ---------- */
/* cf_big_alloc(n) filled with cf_pattern(seed); fails the test when out of
 * memory.  The caller frees it with cf_big_free. */
uint8_t *cf_pattern_alloc(size_t n, unsigned seed);
/* Begins a send of buf[0..size) with cb/state that must stay pending:
 * asserts Begin succeeds and WaitOne(0) is not signalled, the failure naming
 * `what` ("<what> completed although the peer reads nothing").  Returns the
 * result; the caller Ends and releases it. */
apmsock_result_t cf_begin_pending(cf_pair_t *p, const uint8_t *buf, int32_t size,
                                  apmsock_callback_t cb, void *state, const char *what);
/* Lets the peer read (a drain thread) while End of the pending send r runs:
 * asserts End succeeds with all `size` bytes and the peer gets exactly
 * buf[0..size) in order, messages prefixed by `what`.  Releases r. */
void cf_end_draining(cf_pair_t *p, apmsock_result_t r, const uint8_t *buf, size_t size,
                     const char *what);

/* ---- outcomes ------------------------------------------------------------ */
void cf_expect_ok(apmsock_kind_t got, const apmsock_error_t *err, const char *what);
void cf_expect_kind(apmsock_kind_t got, const apmsock_error_t *err, apmsock_kind_t want,
                    const char *param, const char *what);
void cf_expect_socket_error(apmsock_kind_t got, const apmsock_error_t *err, int se,
                            const char *what);

/* ---- callbacks ------------------------------------------------------------ */
/* The state every callback of the suite gets; cf_callback records into it. */
typedef struct cf_cb {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  pthread_t thread;           /* thread of the last call */
  apmsock_result_t result;    /* result of the last call */
  void *state_seen;
  int completed_in_cb;        /* IsCompleted inside the callback */
  int end_in_cb;              /* 1: the callback calls End */
  apmsock_socket_t s;
  int method;
  apmsock_kind_t end_kind;
  int end_se;
  int32_t end_bytes;
} cf_cb_t;
void cf_cb_init(cf_cb_t *cb);
void cf_callback(apmsock_result_t r);
int cf_cb_wait(cf_cb_t *cb, int calls, int timeout_ms); /* 1 when reached */
int cf_cb_calls(cf_cb_t *cb);

/* ---- big buffers -------------------------------------------------------- */
/* n bytes for a test's send or receive buffer, meant for the big ones
 * (CF_BIG): from 2 MiB up a huge-page-backed mapping between inaccessible
 * pages (a read past either end faults), below that malloc.  Contents
 * undefined.  Any thread may call; fails the test when out of memory.  The
 * caller owns it and gives it back with cf_big_free (never free). */
uint8_t *cf_big_alloc(size_t n);
/* Frees what cf_big_alloc or cf_pattern_alloc returned; NULL is a no-op. */
void cf_big_free(uint8_t *p);

/* ---- misc -------------------------------------------------------------- */
/* n bytes that depend on the seed and on each position (deterministic). */
void cf_pattern(uint8_t *buf, size_t n, unsigned seed);
/* A buffer of n bytes that ends exactly at an inaccessible page: a read past
 * its end faults. */
uint8_t *cf_guarded(size_t n);
void cf_guarded_free(uint8_t *p, size_t n);
void cf_info(const char *clause, const char *test, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t cf_now_ms(void);
/* Waits for a child process to exit, up to timeout_ms (a pidfd poll, no
 * sleeping); kills it when it does not.  Returns 1 with *status set when it
 * exited in time. */
int cf_wait_child(pid_t pid, int timeout_ms, int *status);

/* The default big stream size: far above the tiny buffers of CF_PAIR_SMALL. */
#define CF_BIG (4u << 20)
#define CF_SENTINEL "SENTINEL"
#define CF_SENTINEL_LEN 8

#endif /* CF_FIXTURE_H */
