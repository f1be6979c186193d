/* socket.c: the socket table and the synchronous socket calls (open, bind,
 * connect, listen, accept, options, endpoints, shutdown, close).  Every fd is
 * O_NONBLOCK underneath; the .NET Blocking flag only decides whether an
 * operation that cannot go now waits or answers WouldBlock. */
#include "apmsock-int.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

static void init_socket(void *elem) {
  apmsock__sock_t *s = elem;
  pthread_mutex_init(&s->mu, NULL);
}

static void fini_socket(void *elem) {
  apmsock__sock_t *s = elem;
  pthread_mutex_destroy(&s->mu);
}

apmsock__table_t apmsock__sockets = {
  .mu = PTHREAD_MUTEX_INITIALIZER,
  .elem_size = sizeof(apmsock__sock_t),
  .tag = APMSOCK__TAG_SOCKET,
  .init = init_socket,
  .fini = fini_socket,
};

apmsock__sock_t *apmsock__sock_lock(apmsock_socket_t h, apmsock_kind_t *kind,
                                    apmsock_error_t *err) {
  if (h.handle == 0) {
    *kind = apmsock__fail(err, APMSOCK_ARGUMENT_NULL, "socket");
    return NULL;
  }
  int started = apmsock__ensure_started();
  if (started != 0) {
    *kind = apmsock__fail_errno(err, started);
    return NULL;
  }
  apmsock__sock_t *s = apmsock__table_get(&apmsock__sockets, h.handle);
  if (s != NULL) {
    pthread_mutex_lock(&s->mu);
    if (atomic_load_explicit(&s->slot.gen, memory_order_acquire) ==
            apmsock__handle_gen(h.handle) &&
        s->state == APMSOCK__OPEN)
      return s;
    pthread_mutex_unlock(&s->mu);
  }
  *kind = apmsock__fail(err, APMSOCK_OBJECT_DISPOSED, NULL);
  return NULL;
}

/* As apmsock__sock_lock, then the endpoint argument `param` must not be
 * NULL (ArgumentNullException).  The disposed check comes first. */
apmsock__sock_t *apmsock__sock_lock_ep(apmsock_socket_t h, const struct sockaddr *addr,
                                       const char *param, apmsock_kind_t *kind,
                                       apmsock_error_t *err) {
  apmsock__sock_t *s = apmsock__sock_lock(h, kind, err);
  if (s != NULL && addr == NULL) {
    pthread_mutex_unlock(&s->mu);
    *kind = apmsock__fail(err, APMSOCK_ARGUMENT_NULL, param);
    return NULL;
  }
  return s;
}

apmsock__sock_t *apmsock__sock_new(int fd, int family, int type) {
  apmsock__sock_t *s = apmsock__table_alloc(&apmsock__sockets);
  /* Called with a listener's mutex held (accept).  Nobody can wait on a
   * fresh slot's mutex for long (stale handles only peek at it), and a try
   * lock keeps this recycled mutex out of lock-order bookkeeping. */
  while (pthread_mutex_trylock(&s->mu) != 0) sched_yield();  // GCOVR_EXCL_BR_LINE: a race
  s->handle = apmsock__handle(&apmsock__sockets, s);
  s->state = APMSOCK__OPEN;
  s->fd = fd;
  s->family = family;
  s->type = type;
  s->blocking = true;
  s->dual_mode = false;
  s->connected = s->connecting = s->listening = false;
  s->bound = s->implicit_bound = false;
  s->peer_len = 0;
  apmsock__opq_init(&s->sq);
  apmsock__opq_init(&s->cq);
  apmsock__opq_init(&s->aq);
  s->contexts = NULL;
  s->poll_inited = s->in_work = false;
  pthread_mutex_unlock(&s->mu);
  return s;
}

void apmsock__sock_release_slot(apmsock__sock_t *s) {
  pthread_mutex_lock(&s->mu);
  close(s->fd);
  apmsock__ctx_free_all(s);
  s->state = APMSOCK__FREE;
  pthread_mutex_unlock(&s->mu);
  apmsock__table_free(&apmsock__sockets, s);
}

/* Fills *out with the address to hand to the kernel and returns 0, or
 * EAFNOSUPPORT when its family is not the socket's (*out is then the address
 * as given, for calls that let the kernel answer). */
int apmsock__map_endpoint(const apmsock__sock_t *s, const struct sockaddr *addr,
                          struct sockaddr_storage *out, socklen_t *len) {
  bool v4 = addr->sa_family == AF_INET;
  *len = v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  memcpy(out, addr, *len);
  /* An IPv4 endpoint on a dual-mode IPv6 socket travels as ::ffff:a.b.c.d. */
  if (v4 && s->dual_mode) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    memset(in6, 0, sizeof *in6);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = in->sin_port;
    in6->sin6_addr.s6_addr[10] = 0xff;
    in6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&in6->sin6_addr.s6_addr[12], &in->sin_addr, 4);
    *len = sizeof *in6;
  }
  return out->ss_family == s->family ? 0 : EAFNOSUPPORT;
}

apmsock_kind_t apmsock_socket_open(int family, int type, apmsock_socket_t *out,
                                   apmsock_error_t *err) {
  *out = APMSOCK_NULL_SOCKET;
  int started = apmsock__ensure_started();
  if (started != 0)
    return apmsock__fail_errno(err, started);
  int af = family == APMSOCK_AF_INET ? AF_INET : family == APMSOCK_AF_INET6 ? AF_INET6 : -1;
  if (af < 0)
    return apmsock__fail_se(err, APMSOCK_SE_ADDRESS_FAMILY_NOT_SUPPORTED);
  if (type != APMSOCK_STREAM && type != APMSOCK_DGRAM)
    return apmsock__fail_se(err, APMSOCK_SE_SOCKET_NOT_SUPPORTED);
  int st = type == APMSOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket(af, st | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return apmsock__fail_errno(err, errno);
  /* .NET's Socket(AddressFamily.InterNetworkV6, ...) starts with DualMode off. */
  int one = 1;
  if (af == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  apmsock__sock_t *s = apmsock__sock_new(fd, af, st);
  out->handle = s->handle;
  return apmsock__ok(err);
}

apmsock_kind_t apmsock_bind(apmsock_socket_t h, const struct sockaddr *addr,
                            apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock_ep(h, addr, "localEP", &kind, err);
  if (s == NULL)
    return kind;
  /* A family mismatch is left to the kernel, as .NET leaves it to the OS. */
  struct sockaddr_storage ss;
  socklen_t len;
  apmsock__map_endpoint(s, addr, &ss, &len);
  int e = bind(s->fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
  s->bound |= e == 0;
  pthread_mutex_unlock(&s->mu);
  return apmsock__errno_outcome(err, e);
}

apmsock_kind_t apmsock_listen(apmsock_socket_t h, int backlog, apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  int e = listen(s->fd, backlog) == 0 ? 0 : errno;
  s->listening |= e == 0;
  s->bound |= e == 0;
  pthread_mutex_unlock(&s->mu);
  return apmsock__errno_outcome(err, e);
}

/* XX(option, level, name, inverted) */
#define SOCKOPT_MAP(XX)                                          \
  XX(APMSOCK_OPT_BROADCAST, SOL_SOCKET, SO_BROADCAST, 0)         \
  XX(APMSOCK_OPT_SEND_BUFFER, SOL_SOCKET, SO_SNDBUF, 0)          \
  XX(APMSOCK_OPT_RECEIVE_BUFFER, SOL_SOCKET, SO_RCVBUF, 0)       \
  XX(APMSOCK_OPT_DUAL_MODE, IPPROTO_IPV6, IPV6_V6ONLY, 1)        \
  XX(APMSOCK_OPT_NO_DELAY, IPPROTO_TCP, TCP_NODELAY, 0)

static const struct sockopt_row {
  int option, level, name, inverted;
} sockopt_rows[] = {
#define XX(option, level, name, inverted) { option, level, name, inverted },
  SOCKOPT_MAP(XX)
#undef XX
};

static const struct sockopt_row *sockopt_row(int option) {
  for (size_t i = 0; i < sizeof sockopt_rows / sizeof sockopt_rows[0]; i++)
    if (sockopt_rows[i].option == option)
      return &sockopt_rows[i];
  return NULL;
}

/* Blocking (row NULL) is the .NET flag, not a socket option.  Each returns
 * 0 or the errno of the failed call. */
static int set_opt(apmsock__sock_t *s, const struct sockopt_row *row, int32_t value) {
  if (row == NULL) {
    s->blocking = value != 0;
    return 0;
  }
  int v = row->inverted ? !value : value;
  if (setsockopt(s->fd, row->level, row->name, &v, sizeof v) != 0)
    return errno;
  if (row->option == APMSOCK_OPT_DUAL_MODE)
    s->dual_mode = value != 0;
  return 0;
}

static int get_opt(apmsock__sock_t *s, const struct sockopt_row *row, int32_t *value) {
  if (row == NULL) {
    *value = s->blocking;
    return 0;
  }
  int v = 0;
  socklen_t len = sizeof v;
  int e = getsockopt(s->fd, row->level, row->name, &v, &len) == 0 ? 0 : errno;
  *value = row->inverted ? !v : v;
  return e;
}

/* Validate, then delegate: set when `in` is given, else get into *out.
 * DualMode exists only on IPv6 sockets (NotSupportedException elsewhere, as
 * in .NET). */
static apmsock_kind_t access_option(apmsock_socket_t h, apmsock_option_t option,
                                    const int32_t *in, int32_t *out, apmsock_error_t *err) {
  apmsock_kind_t kind = APMSOCK_OK;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  const struct sockopt_row *row = sockopt_row(option);
  int e = 0;
  if (option == APMSOCK_OPT_DUAL_MODE && s->family != AF_INET6)
    kind = apmsock__fail(err, APMSOCK_NOT_SUPPORTED, NULL);
  else if (row == NULL && option != APMSOCK_OPT_BLOCKING)
    kind = apmsock__fail(err, APMSOCK_ARGUMENT_OUT_OF_RANGE, "optionName");
  else
    e = in != NULL ? set_opt(s, row, *in) : get_opt(s, row, out);
  pthread_mutex_unlock(&s->mu);
  return kind != APMSOCK_OK ? kind : apmsock__errno_outcome(err, e);
}

apmsock_kind_t apmsock_set_option(apmsock_socket_t h, apmsock_option_t opt, int32_t value,
                                  apmsock_error_t *err) {
  return access_option(h, opt, &value, NULL, err);
}

apmsock_kind_t apmsock_get_option(apmsock_socket_t h, apmsock_option_t opt, int32_t *value,
                                  apmsock_error_t *err) {
  return access_option(h, opt, NULL, value, err);
}

/* The source address the route to s->peer would use: what a receiver sees
 * from a socket the kernel bound to the wildcard. */
static void route_source(const apmsock__sock_t *s, struct sockaddr_storage *out) {
  struct sockaddr_storage src;
  socklen_t len = sizeof src;
  /* A failure leaves the wildcard, which is what getsockname said anyway. */
  memcpy(&src, out, sizeof src);
  int fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  connect(fd, (const struct sockaddr *)&s->peer, s->peer_len);
  getsockname(fd, (struct sockaddr *)&src, &len);
  close(fd);
  if (s->family == AF_INET)
    ((struct sockaddr_in *)out)->sin_addr = ((struct sockaddr_in *)&src)->sin_addr;
  else
    ((struct sockaddr_in6 *)out)->sin6_addr = ((struct sockaddr_in6 *)&src)->sin6_addr;
}

/* A port of 0 means "not bound yet": .NET's LocalEndPoint is null then.  The
 * port sits at the same offset in sockaddr_in and sockaddr_in6. */
static apmsock_kind_t endpoint(apmsock_socket_t h, struct sockaddr_storage *out, bool local,
                               apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  memset(out, 0, sizeof *out);
  out->ss_family = AF_UNSPEC;
  if (s == NULL)
    return kind;
  socklen_t len = sizeof *out;
  int rc = local ? getsockname(s->fd, (struct sockaddr *)out, &len)
                 : getpeername(s->fd, (struct sockaddr *)out, &len);
  if (rc != 0 || ((struct sockaddr_in *)out)->sin_port == 0) {
    memset(out, 0, sizeof *out);
    out->ss_family = AF_UNSPEC;
  } else if (local && s->implicit_bound) {
    route_source(s, out);
  }
  pthread_mutex_unlock(&s->mu);
  return apmsock__ok(err);
}

apmsock_kind_t apmsock_local_endpoint(apmsock_socket_t h, struct sockaddr_storage *out,
                                      apmsock_error_t *err) {
  return endpoint(h, out, true, err);
}

apmsock_kind_t apmsock_remote_endpoint(apmsock_socket_t h, struct sockaddr_storage *out,
                                       apmsock_error_t *err) {
  return endpoint(h, out, false, err);
}

/* SocketShutdown's values equal SHUT_RD, SHUT_WR and SHUT_RDWR. */
apmsock_kind_t apmsock_shutdown(apmsock_socket_t h, int how, apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = apmsock__sock_lock(h, &kind, err);
  if (s == NULL)
    return kind;
  int e = shutdown(s->fd, how) == 0 ? 0 : errno;
  pthread_mutex_unlock(&s->mu);
  return apmsock__errno_outcome(err, e);
}

apmsock_kind_t apmsock_close(apmsock_socket_t h, apmsock_error_t *err) {
  apmsock_kind_t kind;
  apmsock__sock_t *s = h.handle ? apmsock__sock_lock(h, &kind, NULL) : NULL;
  if (s == NULL)
    return apmsock__ok(err);
  apmsock__batch_t b = {0};
  s->state = APMSOCK__CLOSED;
  apmsock__op_abort_all(s, &b);
  /* Once the loop thread knows the socket, it owns the fd until its poll
   * handle is closed; otherwise the slot can go now. */
  bool loop_owned = s->poll_inited || s->in_work;  // GCOVR_EXCL_BR_LINE: in_work alone is a race
  if (loop_owned)
    apmsock__loop_kick(s);
  pthread_mutex_unlock(&s->mu);
  if (!loop_owned)
    apmsock__sock_release_slot(s);
  apmsock__batch_flush(&b);
  return apmsock__ok(err);
}

/* A pending operation is in exactly one of these. */
void apmsock__sock_unqueue(apmsock__sock_t *s, apmsock__op_t *op) {
  apmsock__opq_remove(&s->sq, op);
  apmsock__opq_remove(&s->aq, op);
  apmsock__opq_remove(&s->cq, op);
}

static void close_if_open(void *elem) {
  apmsock__sock_t *s = elem;
  pthread_mutex_lock(&s->mu);
  apmsock_socket_t h = { s->state == APMSOCK__OPEN ? s->handle : 0 };
  pthread_mutex_unlock(&s->mu);
  apmsock_close(h, NULL);
}

void apmsock__sock_close_all(void) {
  apmsock__table_each(&apmsock__sockets, close_if_open);
}
