/* loop.c: the library's lifetime and its libuv loop thread.  The loop thread
 * only waits on file descriptors: Begin sends inline on the caller's thread
 * and hands a socket over (apmsock__loop_kick) only when its fd must be
 * polled (a send that would block, a connect in progress, an accept) or its
 * poll handle must be closed. */
#include "apmsock-int.h"

#include <stdlib.h>

static pthread_mutex_t life_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool started;
static _Atomic uint64_t epoch;

static uv_loop_t loop;
static uv_async_t wake;
static pthread_t loop_thread;
static pthread_mutex_t work_mu = PTHREAD_MUTEX_INITIALIZER;
static apmsock__sock_t *work_head;
static bool loop_stop;

uint64_t apmsock__epoch(void) {
  return atomic_load_explicit(&epoch, memory_order_acquire);
}

void apmsock__loop_kick(apmsock__sock_t *s) {
  if (s->in_work)
    return;
  s->in_work = true;
  pthread_mutex_lock(&work_mu);
  s->work_next = work_head;
  work_head = s;
  pthread_mutex_unlock(&work_mu);
  uv_async_send(&wake);
}

static void on_poll_closed(uv_handle_t *handle) {
  apmsock__sock_release_slot(handle->data);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  apmsock__sock_t *s = handle->data;
  apmsock__batch_t b = {0};
  pthread_mutex_lock(&s->mu);
  /* A closed socket's operations were aborted by close; its poll handle is
   * about to be closed.  Errors (status < 0) surface through the syscalls. */
  if (s->state == APMSOCK__OPEN) {  // GCOVR_EXCL_BR_LINE: closed only by a race with close
    if (s->cq.head != NULL)
      apmsock__io_connect(s, &b);
    apmsock__io_sends(s, &b);
    apmsock__io_accepts(s, &b);
    apmsock__sock_update(s);
  }
  pthread_mutex_unlock(&s->mu);
  apmsock__batch_flush(&b);
}

/* Makes the poll handle match what s waits for.  A socket reaches the loop
 * at most once after close (later kicks need pending operations, and close
 * aborted them all), and closing its poll handle frees its slot: the handle
 * is created here even then, so there is one way for a slot to go. */
void apmsock__sock_update(apmsock__sock_t *s) {
  if (!s->poll_inited) {
    uv_poll_init_socket(&loop, &s->poll, s->fd);
    s->poll.data = s;
    s->poll_inited = true;
  }
  if (s->state != APMSOCK__OPEN) {
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
    return;
  }
  int want = (s->sq.head || s->cq.head ? UV_WRITABLE : 0) | (s->aq.head ? UV_READABLE : 0);
  if (want != 0)
    uv_poll_start(&s->poll, want, on_poll);
  else
    uv_poll_stop(&s->poll);
}

static void on_wake(uv_async_t *handle) {
  pthread_mutex_lock(&work_mu);
  apmsock__sock_t *s = work_head;
  work_head = NULL;
  bool stop = loop_stop;
  pthread_mutex_unlock(&work_mu);
  while (s != NULL) {
    apmsock__sock_t *next = s->work_next;
    pthread_mutex_lock(&s->mu);
    s->in_work = false;
    apmsock__sock_update(s);
    pthread_mutex_unlock(&s->mu);
    s = next;
  }
  /* Every socket was closed before the stop request, so the poll handles are
   * closing already; the loop ends when their close callbacks have run. */
  if (stop)
    uv_close((uv_handle_t *)&wake, NULL);
}

static void *loop_main(void *arg) {
  uv_run(&loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Asks the loop thread to end once the wake handle is closed (no socket is
 * open: the caller made sure) and joins it. */
static void loop_thread_stop(void) {
  pthread_mutex_lock(&work_mu);
  loop_stop = true;
  pthread_mutex_unlock(&work_mu);
  uv_async_send(&wake);
  pthread_join(loop_thread, NULL);
}

/* Every step is checked and undone in reverse on a later step's failure:
 * the library is either fully started or not at all (life_mu held). */
static int start(void) {
  int e;
  atomic_fetch_add(&epoch, 1);
  apmsock__trace_start();
  e = -uv_loop_init(&loop);
  if (e != 0)
    goto fail_trace;
  e = -uv_async_init(&loop, &wake, on_wake);
  if (e != 0)
    goto fail_loop;
  loop_stop = false;
  e = pthread_create(&loop_thread, NULL, loop_main, NULL);
  if (e != 0)
    goto fail_wake;
  e = apmsock__lanes_start();
  if (e != 0)
    goto fail_thread;
  return 0;
fail_thread:
  loop_thread_stop();  /* on_wake closes the wake handle; the loop ends */
  goto fail_loop;
fail_wake:
  uv_close((uv_handle_t *)&wake, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);  /* runs the close: nothing else is active */
fail_loop:
  uv_loop_close(&loop);
fail_trace:
  apmsock__trace_stop();
  return e;
}

int apmsock__ensure_started(void) {
  if (atomic_load_explicit(&started, memory_order_acquire))
    return 0;
  int e = 0;
  pthread_mutex_lock(&life_mu);
  if (!atomic_load_explicit(&started, memory_order_relaxed)) {  // GCOVR_EXCL_BR_LINE: a race
    e = start();
    if (e == 0)
      atomic_store_explicit(&started, true, memory_order_release);
  }
  pthread_mutex_unlock(&life_mu);
  return e;
}

static void stop(void) {
  /* Close first so every pending operation completes and queues its
   * callback, then let the lanes run them all, then stop the loop. */
  apmsock__sock_close_all();
  apmsock__lanes_stop();
  loop_thread_stop();
  uv_loop_close(&loop);
  apmsock__table_destroy(&apmsock__sockets);
  apmsock__table_destroy(&apmsock__results);
  apmsock__trace_stop();
  apmsock__stats_reset();
  atomic_store(&started, false);
}

void apmsock_cleanup(void) {
  pthread_mutex_lock(&life_mu);
  if (atomic_load(&started)) stop();
  pthread_mutex_unlock(&life_mu);
}
