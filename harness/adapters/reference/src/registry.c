/* registry.c: the names the protocol uses ("s1", "r1") and what they stand
 * for.  Names are never reused, so a slot once filled keeps its entry until
 * quit; an entry is found by its number in O(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static pthread_mutex_t reg_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Index 0 is unused: names and tokens start at 1. */
static apmsock_socket_t *sockets;
static size_t socket_count, socket_cap;
static op_rec_t **ops;
static size_t op_count, op_cap;

static void *grow(void *array, size_t *cap, size_t need, size_t item) {
  if (need <= *cap)
    return array;
  size_t n = *cap ? *cap * 2 : 64;
  while (n < need)
    n *= 2;
  void *p = alloc_or_die(realloc(array, n * item));
  *cap = n;
  return p;
}

void registry_init(void) {
  pthread_mutex_lock(&reg_mutex);
  socket_count = 1;
  op_count = 1;
  sockets = grow(sockets, &socket_cap, 1, sizeof *sockets);
  ops = grow(ops, &op_cap, 1, sizeof *ops);
  pthread_mutex_unlock(&reg_mutex);
}

static void free_op(op_rec_t *rec) {
  if (rec == NULL)
    return;
  free(rec->buffer);
  free(rec->state);
  json_decref(rec->script);
  free(rec->hold_latch);
  free(rec);
}

void registry_clear(void) {
  pthread_mutex_lock(&reg_mutex);
  for (size_t i = 1; i < op_count; i++)
    free_op(ops[i]);
  free(ops);
  free(sockets);
  ops = NULL;
  sockets = NULL;
  op_count = op_cap = socket_count = socket_cap = 0;
  pthread_mutex_unlock(&reg_mutex);
}

/* "s12" -> 12 when `name` is exactly the prefix and a decimal number. */
static size_t parse_name(const char *name, char prefix) {
  if (name == NULL || name[0] != prefix || name[1] < '1' || name[1] > '9')
    return 0;
  size_t n = 0;
  for (const char *c = name + 1; *c; c++) {
    if (*c < '0' || *c > '9' || n > (SIZE_MAX - 9) / 10)
      return 0;
    n = n * 10 + (size_t)(*c - '0');
  }
  return n;
}

unsigned registry_add_socket(apmsock_socket_t s) {
  pthread_mutex_lock(&reg_mutex);
  sockets = grow(sockets, &socket_cap, socket_count + 1, sizeof *sockets);
  unsigned n = (unsigned)socket_count++;
  sockets[n] = s;
  pthread_mutex_unlock(&reg_mutex);
  return n;
}

bool registry_socket(const char *name, apmsock_socket_t *out) {
  size_t n = parse_name(name, 's');
  pthread_mutex_lock(&reg_mutex);
  bool found = n != 0 && n < socket_count;
  if (found)
    *out = sockets[n];
  pthread_mutex_unlock(&reg_mutex);
  return found;
}

void registry_socket_name(uint64_t handle, char *buf, size_t len) {
  size_t found = 0;
  pthread_mutex_lock(&reg_mutex);
  for (size_t i = 1; i < socket_count && !found; i++)
    if (sockets[i].handle == handle)
      found = i;
  pthread_mutex_unlock(&reg_mutex);
  if (found)
    snprintf(buf, len, "s%zu", found);
  else
    snprintf(buf, len, "handle:%llu", (unsigned long long)handle);
}

apmsock_socket_t *registry_sockets(size_t *count) {
  pthread_mutex_lock(&reg_mutex);
  size_t n = socket_count > 0 ? socket_count - 1 : 0;
  apmsock_socket_t *copy = malloc((n ? n : 1) * sizeof *copy);
  if (copy != NULL && n)
    memcpy(copy, sockets + 1, n * sizeof *copy);
  pthread_mutex_unlock(&reg_mutex);
  *count = copy ? n : 0;
  return copy;
}

op_rec_t *registry_new_op(send_method_t method, apmsock_socket_t s, uint8_t *buffer,
                          char *state, bool end_in_callback) {
  op_rec_t *rec = alloc_or_die(calloc(1, sizeof *rec));
  rec->method = method;
  rec->socket = s;
  rec->buffer = buffer;
  rec->state = state;
  rec->end_in_callback = end_in_callback;
  pthread_mutex_lock(&reg_mutex);
  ops = grow(ops, &op_cap, op_count + 1, sizeof *ops);
  rec->number = (unsigned)op_count++;
  ops[rec->number] = rec;
  pthread_mutex_unlock(&reg_mutex);
  return rec;
}

void registry_issue_op(op_rec_t *rec, apmsock_result_t r) {
  pthread_mutex_lock(&reg_mutex);
  rec->result = r;
  rec->issued = true;
  pthread_mutex_unlock(&reg_mutex);
}

void registry_drop_op(op_rec_t *rec) {
  /* The slot stays empty: the number is spent, the name never issued. */
  pthread_mutex_lock(&reg_mutex);
  ops[rec->number] = NULL;
  pthread_mutex_unlock(&reg_mutex);
  free_op(rec);
}

op_rec_t *registry_op(const char *name) {
  size_t n = parse_name(name, 'r');
  op_rec_t *rec = NULL;
  pthread_mutex_lock(&reg_mutex);
  if (n != 0 && n < op_count && ops[n] != NULL && ops[n]->issued)
    rec = ops[n];
  pthread_mutex_unlock(&reg_mutex);
  return rec;
}

/* The state handed to Begin is the op's number, not a pointer: whatever
 * the library gives back, looking it up can never touch freed memory. */
void *registry_op_token(const op_rec_t *rec) {
  return (void *)(uintptr_t)rec->number;
}

op_rec_t *registry_op_by_token(void *token) {
  uintptr_t n = (uintptr_t)token;
  op_rec_t *rec = NULL;
  pthread_mutex_lock(&reg_mutex);
  if (n != 0 && n < op_count)
    rec = ops[n];
  pthread_mutex_unlock(&reg_mutex);
  return rec;
}

apmsock_result_t registry_op_result(op_rec_t *rec) {
  pthread_mutex_lock(&reg_mutex);
  apmsock_result_t r = rec->result;
  pthread_mutex_unlock(&reg_mutex);
  return r;
}

void registry_free_buffer(op_rec_t *rec) {
  if (rec == NULL)
    return;
  pthread_mutex_lock(&reg_mutex);
  uint8_t *buffer = rec->buffer;
  rec->buffer = NULL;
  pthread_mutex_unlock(&reg_mutex);
  free(buffer);
}

void registry_release_buffer_if_done(op_rec_t *rec, apmsock_result_t r) {
  if (rec == NULL || r.handle == 0)
    return;
  apmsock_result_status_t st;
  memset(&st, 0, sizeof st);
  /* A released result fails here; only a completed one can be released. */
  if (apmsock_result_status(r, &st, NULL) != APMSOCK_OK || st.is_completed)
    registry_free_buffer(rec);
}
