/*
 * apmsock-int.h: what the files of the reference implementation share.
 *
 * Ownership of memory: sockets and operations (results) live in slot tables
 * whose chunks never move and are freed only by apmsock_cleanup(), so a stale
 * handle can always be compared against its slot's generation without a
 * use-after-free.  Locks, outermost first:
 *   socket mu  ->  thread-record mu  ->  op mu  ->  trace mu, loop work mu
 * (lanes take no lock: callback.c).
 */
#ifndef APMSOCK_INT_H
#define APMSOCK_INT_H

#include "apmsock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <uv.h>

/* ---- slot tables (handle.c) -------------------------------------------- */

#define APMSOCK__CHUNK_SLOTS 256
#define APMSOCK__MAX_CHUNKS 4096

enum { APMSOCK__TAG_SOCKET = 0x53, APMSOCK__TAG_RESULT = 0x52 };

/* First member of every element of a table. */
typedef struct apmsock__slot {
  uint32_t index;
  uint32_t next_free;        /* index + 1 of the next free slot; 0 ends */
  _Atomic uint32_t gen;      /* 0 while the slot is free */
} apmsock__slot_t;

typedef struct apmsock__table {
  pthread_mutex_t mu;
  char *_Atomic chunks[APMSOCK__MAX_CHUNKS];
  uint32_t nchunks;
  uint32_t free_head;
  size_t elem_size;
  uint8_t tag;
  void (*init)(void *elem);
  void (*fini)(void *elem);
} apmsock__table_t;

void *apmsock__table_alloc(apmsock__table_t *t);
void *apmsock__table_get(apmsock__table_t *t, uint64_t handle);
void apmsock__table_free(apmsock__table_t *t, void *elem);
void apmsock__table_take(apmsock__table_t *t, void **elems, unsigned n);
void apmsock__table_give(apmsock__table_t *t, void **elems, unsigned n);
void apmsock__slot_regen(void *elem);
void apmsock__table_destroy(apmsock__table_t *t);
void apmsock__table_each(apmsock__table_t *t, void (*fn)(void *elem));
uint64_t apmsock__handle(const apmsock__table_t *t, const void *elem);
uint32_t apmsock__handle_gen(uint64_t handle);

/* ---- operations and sockets -------------------------------------------- */

enum apmsock__method { APMSOCK__SEND = 1, APMSOCK__SEND_TO, APMSOCK__CONNECT, APMSOCK__ACCEPT };
enum apmsock__sock_state { APMSOCK__FREE = 0, APMSOCK__OPEN, APMSOCK__CLOSED };

typedef struct apmsock__sock apmsock__sock_t;
typedef struct apmsock__thread apmsock__thread_t;

/* A circular doubly linked list node; a list is a sentinel node. */
typedef struct apmsock__link {
  struct apmsock__link *prev, *next;
} apmsock__link_t;

/* Fields are ordered by who touches them: the first ones travel between the
 * thread that calls Begin and the lane that runs the callback (End, release),
 * so they share as few cache lines as possible; the send's own data follows. */
typedef struct apmsock__op {
  apmsock__slot_t slot;
  pthread_mutex_t mu;
  uint64_t handle;
  uint64_t sock_handle;
  apmsock_callback_t callback;
  void *state;
  struct apmsock__op *next;         /* socket queue, then callback batch */
  _Atomic int refs;                 /* the caller's, and a pending callback's */
  int method;
  /* outcome, under mu (End of a send reads nothing below it) */
  int waiters;
  apmsock_kind_t kind;
  int socket_error;
  int native_errno;
  int32_t done;
  int8_t lane;
  bool completed;
  bool completed_sync;
  bool ended;
  uint64_t accepted;                /* BeginAccept's socket */
  /* the send itself, under the socket's mu while pending */
  apmsock__sock_t *_Atomic sock;   /* valid while pending */
  const uint8_t *buf;
  int32_t size;
  int msg_flags;
  bool has_dest;
  bool trace_complete;              /* completion emits the COMPLETE record (a send
                                       that Begin queued; Begin traces the rest) */
  socklen_t dest_len;
  apmsock__thread_t *_Atomic thr;   /* CANCEL-01 bookkeeping */
  apmsock__link_t thr_link;
  pthread_cond_t cond;              /* End and wait, only when they must block */
  struct sockaddr_storage dest;
} apmsock__op_t;

/* A FIFO of operations, linked through op->next. */
typedef struct apmsock__opq {
  apmsock__op_t *head;
  apmsock__op_t **tailp;
} apmsock__opq_t;

typedef struct apmsock__ctx {
  int method;
  apmsock_callback_t callback;
  struct apmsock__ctx *next;
} apmsock__ctx_t;

struct apmsock__sock {
  apmsock__slot_t slot;
  pthread_mutex_t mu;
  uint64_t handle;
  int state;
  int fd;
  int family;                       /* AF_INET or AF_INET6 */
  int type;                         /* SOCK_STREAM or SOCK_DGRAM */
  bool blocking;                    /* the .NET flag; the fd is always O_NONBLOCK */
  bool dual_mode;
  bool connected, connecting, listening;
  bool bound;                       /* has a local address (explicit or not) */
  bool implicit_bound;              /* bound by a BeginSendTo (CONN-07) */
  socklen_t peer_len;
  struct sockaddr_storage peer;     /* the connected peer, or the first
                                       destination of an implicit bind */
  apmsock__opq_t sq;                /* sends waiting for POLLOUT, in Begin order */
  apmsock__opq_t cq;                /* the BeginConnect in progress */
  apmsock__opq_t aq;                /* BeginAccepts waiting for POLLIN */
  apmsock__ctx_t *contexts;
  /* loop thread side */
  uv_poll_t poll;
  bool poll_inited, in_work;
  apmsock__sock_t *work_next;
};

/* Completed operations whose callbacks are still to be handed to a lane,
 * per lane, newest first. */
typedef struct apmsock__batch {
  apmsock__op_t *head[2], *tail[2];
} apmsock__batch_t;

extern apmsock__table_t apmsock__sockets;
extern apmsock__table_t apmsock__results;

/* ---- library lifetime (loop.c) ----------------------------------------- */
/* Starts the library on first use (any thread; blocks while another thread
 * starts it).  0, or the errno of the set-up step that failed (the loop, its
 * wake-up handle, the loop thread, a callback lane): then everything already
 * set up is undone, the library stays stopped, and the next call tries again.
 * The caller reports the errno as its own error. */
int apmsock__ensure_started(void);
uint64_t apmsock__epoch(void);
void apmsock__loop_kick(apmsock__sock_t *s);  /* s->mu held */
void apmsock__sock_update(apmsock__sock_t *s);  /* loop thread, s->mu held */

/* ---- callback lanes (callback.c) --------------------------------------- */
int apmsock__lane_for_caller(void);
/* 0, or pthread_create's error with the lanes already started joined. */
int apmsock__lanes_start(void);
void apmsock__lanes_stop(void);
void apmsock__batch_flush(apmsock__batch_t *b);

/* ---- sockets (socket.c) ------------------------------------------------ */
/* Returns the socket locked, or NULL with err filled. */
apmsock__sock_t *apmsock__sock_lock(apmsock_socket_t s, apmsock_kind_t *kind,
                                    apmsock_error_t *err);
apmsock__sock_t *apmsock__sock_lock_ep(apmsock_socket_t s, const struct sockaddr *addr,
                                       const char *param, apmsock_kind_t *kind,
                                       apmsock_error_t *err);
apmsock__sock_t *apmsock__sock_new(int fd, int family, int type);
void apmsock__sock_release_slot(apmsock__sock_t *s);   /* closes the fd */
void apmsock__sock_close_all(void);
void apmsock__sock_unqueue(apmsock__sock_t *s, apmsock__op_t *op);
int apmsock__map_endpoint(const apmsock__sock_t *s, const struct sockaddr *addr,
                          struct sockaddr_storage *out, socklen_t *len);

/* ---- operations (op.c, result.c) --------------------------------------- */
apmsock__op_t *apmsock__op_new(apmsock__sock_t *s, int method, apmsock_callback_t cb,
                               void *state);
void apmsock__op_discard(apmsock__op_t *op);
void apmsock__op_unref(apmsock__op_t *op);
void apmsock__op_complete(apmsock__op_t *op, int32_t bytes, apmsock_kind_t kind,
                          int socket_error, int errnum, apmsock__batch_t *b);
void apmsock__op_finish(apmsock__op_t *op, int32_t bytes, int errnum, apmsock__batch_t *b);
void apmsock__opq_init(apmsock__opq_t *q);
void apmsock__opq_push(apmsock__opq_t *q, apmsock__op_t *op);
apmsock__op_t *apmsock__opq_pop(apmsock__opq_t *q);
void apmsock__opq_remove(apmsock__opq_t *q, apmsock__op_t *op);
void apmsock__queue_op(apmsock__sock_t *s, apmsock__opq_t *q, apmsock__op_t *op);  /* s->mu held */
void apmsock__op_abort_all(apmsock__sock_t *s, apmsock__batch_t *b);
void apmsock__op_cache_flush(void);
apmsock_kind_t apmsock__end(apmsock_socket_t s, apmsock_result_t r, int method,
                            int32_t *bytes, uint64_t *accepted, apmsock_error_t *err);

/* ---- I/O progress (io.c; connect and accept in conn.c), s->mu held ------ */
void apmsock__io_sends(apmsock__sock_t *s, apmsock__batch_t *b);
void apmsock__io_connect(apmsock__sock_t *s, apmsock__batch_t *b);
void apmsock__io_accepts(apmsock__sock_t *s, apmsock__batch_t *b);
int apmsock__try_send(apmsock__sock_t *s, apmsock__op_t *op);

/* ---- CANCEL-01 (thread.c) ---------------------------------------------- */
void apmsock__thread_track(apmsock__op_t *op);     /* s->mu held */
void apmsock__thread_untrack(apmsock__op_t *op);   /* s->mu held */
void apmsock__thread_register(void);  /* this thread needs its exit hook */

/* ---- context cache (context.c) ----------------------------------------- */
void apmsock__ctx_lookup(apmsock__sock_t *s, int method, apmsock_callback_t cb);
void apmsock__ctx_free_all(apmsock__sock_t *s);

/* ---- errors (error.c) -------------------------------------------------- */
apmsock_kind_t apmsock__ok(apmsock_error_t *err);
apmsock_kind_t apmsock__fail(apmsock_error_t *err, apmsock_kind_t kind, const char *param);
apmsock_kind_t apmsock__fail_se(apmsock_error_t *err, int socket_error);
apmsock_kind_t apmsock__fail_errno(apmsock_error_t *err, int errnum);
apmsock_kind_t apmsock__errno_outcome(apmsock_error_t *err, int errnum);  /* 0: OK */
apmsock_kind_t apmsock__fail_outcome(apmsock_error_t *err, apmsock_kind_t kind,
                                     int socket_error, int errnum);
int apmsock__errno_of(int socket_error);

/* ---- trace, policy, stats ---------------------------------------------- */
void apmsock__trace_start(void);
void apmsock__trace_stop(void);
void apmsock__trace(uint64_t sock, int method, int event, int32_t size,
                    apmsock_kind_t kind, int socket_error);
bool apmsock__trace_on(void);
bool apmsock__policy_allows(const struct sockaddr *dest);
void *apmsock__malloc(size_t n);
void *apmsock__calloc(size_t n, size_t size);
void apmsock__stats_reset(void);
void apmsock__count_started(void);
void apmsock__count_completed(void);
void apmsock__count_context(bool hit);

#endif /* APMSOCK_INT_H */
