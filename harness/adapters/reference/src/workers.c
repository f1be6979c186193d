/* workers.c: the threads requests run on.  "main" is the process's main
 * thread; thread_start adds one pthread per "t<n>", each with its own FIFO
 * of requests.  thread_exit makes the thread return from its start routine
 * (so the library sees a real thread exit: CANCEL-01) and is answered once
 * pthread_join() has returned. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"

typedef struct item {
  struct item *next;
  json_t *request;              /* NULL: return from the loop */
} item_t;

struct worker {
  unsigned number;              /* 0 is main, else "t<number>" */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  item_t *head, *tail;
  char identity[32];
  bool ready;                   /* identity filled in */
  bool closed;                  /* takes no more requests (guarded by list_mu) */
  bool joined;                  /* guarded by list_mu */
  bool quitting;                /* quit ended it, not thread_exit (list_mu) */
};

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t list_cv = PTHREAD_COND_INITIALIZER;
static worker_t **workers;      /* index = number; [0] = main */
static size_t worker_count, worker_cap;
static unsigned joiners;        /* thread_exit joins in flight (list_mu) */

static worker_t *worker_new(unsigned number) {
  worker_t *w = alloc_or_die(calloc(1, sizeof *w));
  w->number = number;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  return w;
}

static void add_worker(worker_t *w) {
  /* Called with list_mu held. */
  if (worker_count == worker_cap) {
    size_t n = worker_cap ? worker_cap * 2 : 16;
    worker_t **p = alloc_or_die(realloc(workers, n * sizeof *p));
    workers = p;
    worker_cap = n;
  }
  workers[worker_count++] = w;
}

void workers_init(void) {
  worker_t *w = worker_new(0);
  w->thread = pthread_self();
  thread_identity(w->identity, sizeof w->identity);
  w->ready = true;
  pthread_mutex_lock(&list_mu);
  add_worker(w);
  pthread_mutex_unlock(&list_mu);
}

worker_t *workers_main(void) {
  pthread_mutex_lock(&list_mu);
  worker_t *w = workers[0];
  pthread_mutex_unlock(&list_mu);
  return w;
}

static void push_item(worker_t *w, json_t *request) {
  item_t *it = alloc_or_die(calloc(1, sizeof *it));
  it->request = request;
  pthread_mutex_lock(&w->mu);
  if (w->tail)
    w->tail->next = it;
  else
    w->head = it;
  w->tail = it;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void worker_push(worker_t *w, json_t *request) { push_item(w, request); }

void worker_run(worker_t *w) {
  for (;;) {
    pthread_mutex_lock(&w->mu);
    while (w->head == NULL)
      pthread_cond_wait(&w->cv, &w->mu);
    item_t *it = w->head;
    w->head = it->next;
    if (w->head == NULL)
      w->tail = NULL;
    pthread_mutex_unlock(&w->mu);
    json_t *request = it->request;
    free(it);
    if (request == NULL)
      return;
    execute_request(request, w->identity);
    json_decref(request);
  }
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  pthread_mutex_lock(&w->mu);
  thread_identity(w->identity, sizeof w->identity);
  w->ready = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  worker_run(w);
  return NULL;
}

worker_t *workers_find(const char *name, const char **why) {
  unsigned long n = 0;
  char *end = NULL;
  if (name != NULL && name[0] == 't' && name[1] >= '1' && name[1] <= '9')
    n = strtoul(name + 1, &end, 10);
  worker_t *w = NULL;
  *why = "no thread of that name";
  pthread_mutex_lock(&list_mu);
  if (n != 0 && end != NULL && *end == '\0' && n < worker_count) {
    w = workers[n];
    if (w->closed) {
      *why = "that thread has exited";
      w = NULL;
    }
  }
  pthread_mutex_unlock(&list_mu);
  return w;
}

void workers_start(json_t *id) {
  pthread_mutex_lock(&list_mu);
  worker_t *w = worker_new((unsigned)worker_count);
  add_worker(w);
  pthread_mutex_unlock(&list_mu);
  int rc = pthread_create(&w->thread, NULL, worker_main, w);
  if (rc != 0) {
    pthread_mutex_lock(&list_mu);
    w->closed = w->joined = true;
    pthread_mutex_unlock(&list_mu);
    out_reply(id, reply_protocol_error("adapter: pthread_create failed: %s", strerror(rc)));
    return;
  }
  pthread_mutex_lock(&w->mu);
  while (!w->ready)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  char name[24];
  snprintf(name, sizeof name, "t%u", w->number);
  out_reply(id, reply_ok(json_pack("{s:s, s:s}", "thread", name, "identity", w->identity)));
}

typedef struct join_job {
  worker_t *w;
  json_t *id;
} join_job_t;

static void *joiner_main(void *arg) {
  join_job_t *job = arg;
  pthread_join(job->w->thread, NULL);
  pthread_mutex_lock(&list_mu);
  job->w->joined = true;
  pthread_mutex_unlock(&list_mu);
  out_reply(job->id, reply_ok(NULL));
  json_decref(job->id);
  free(job);
  pthread_mutex_lock(&list_mu);
  joiners--;
  pthread_cond_broadcast(&list_cv);
  pthread_mutex_unlock(&list_mu);
  return NULL;
}

/* The join happens on a thread of its own so that a thread still blocked
 * in a request holds up nothing but the thread_exit reply. */
void workers_exit(json_t *id, json_t *args) {
  json_t *v = json_object_get(args, "thread");
  const char *why;
  worker_t *w = workers_find(json_string_value(v), &why);
  if (w == NULL) {
    out_reply(id, reply_protocol_error("thread_exit: argument \"thread\": %s", why));
    return;
  }
  join_job_t *job = malloc(sizeof *job);
  if (job == NULL) {
    out_reply(id, reply_protocol_error("adapter: out of memory"));
    return;
  }
  job->w = w;
  /* A copy, not a reference: jansson's reference counts are atomic only
   * inside the library, which ThreadSanitizer cannot see. */
  job->id = json_integer(json_integer_value(id));
  pthread_mutex_lock(&list_mu);
  w->closed = true;
  joiners++;
  pthread_mutex_unlock(&list_mu);
  push_item(w, NULL);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&t, &attr, joiner_main, job);
  pthread_attr_destroy(&attr);
  if (rc != 0)
    joiner_main(job);   /* no thread to spare: join right here */
}

/* The quit paths walk the workers by index: the count is read once, each
 * entry under the lock, since a thread_start may grow the array meanwhile. */
static size_t workers_now(void) {
  pthread_mutex_lock(&list_mu);
  size_t n = worker_count;
  pthread_mutex_unlock(&list_mu);
  return n;
}

static struct timespec deadline_in(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Joins the threads quit asked to end and waits for thread_exit joins in
 * flight, all within `ms`; true when every one of them has ended. */
static bool wait_all_ended(int ms) {
  struct timespec until = deadline_in(ms);
  bool all = true;
  size_t count = workers_now();
  for (size_t i = 1; i < count; i++) {
    pthread_mutex_lock(&list_mu);
    worker_t *w = workers[i];
    bool mine = w->quitting && !w->joined;
    pthread_mutex_unlock(&list_mu);
    if (!mine)
      continue;
    if (pthread_timedjoin_np(w->thread, NULL, &until) == 0) {
      pthread_mutex_lock(&list_mu);
      w->joined = true;
      pthread_mutex_unlock(&list_mu);
    } else {
      all = false;
    }
  }
  pthread_mutex_lock(&list_mu);
  while (joiners > 0) {
    if (pthread_cond_timedwait(&list_cv, &list_mu, &until) == ETIMEDOUT) {
      all = false;
      break;
    }
  }
  pthread_mutex_unlock(&list_mu);
  return all;
}

bool workers_stop_all(void) {
  size_t count = workers_now();
  /* Queued after whatever each thread still has to do. */
  for (size_t i = 1; i < count; i++) {
    pthread_mutex_lock(&list_mu);
    worker_t *w = workers[i];
    bool open = !w->closed;
    w->closed = true;
    w->quitting = open;
    pthread_mutex_unlock(&list_mu);
    if (open)
      push_item(w, NULL);
  }
  /* A moment for requests still queued to run as asked. */
  if (wait_all_ended(1000))
    return true;
  /* A thread is blocked on an operation that will not complete by itself
   * (an End on a send nobody reads): closing the sockets aborts every
   * pending operation (CANCEL-04), which unblocks it. */
  size_t n;
  apmsock_socket_t *socks = registry_sockets(&n);
  for (size_t i = 0; i < n; i++)
    apmsock_close(socks[i], NULL);
  free(socks);
  return wait_all_ended(5000);
}

void workers_free(void) {
  pthread_mutex_lock(&list_mu);
  for (size_t i = 0; i < worker_count; i++) {
    worker_t *w = workers[i];
    while (w->head) {
      item_t *it = w->head;
      w->head = it->next;
      json_decref(it->request);
      free(it);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
  }
  free(workers);
  workers = NULL;
  worker_count = worker_cap = 0;
  pthread_mutex_unlock(&list_mu);
}
