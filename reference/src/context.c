/* context.c: the per-socket cache of (method, callback) contexts (CTX-01).
 * The first send of a triple builds a context (one allocation, a miss); the
 * following ones find it (a hit) and allocate nothing. */
#include "apmsock-int.h"

#include <stdlib.h>

/* Bounded so a caller cycling through many callbacks cannot grow a socket
 * without limit: past it the oldest entry is recycled in place. */
#define CTX_MAX 8

void apmsock__ctx_lookup(apmsock__sock_t *s, int method, apmsock_callback_t cb) {
  for (apmsock__ctx_t *c = s->contexts; c != NULL; c = c->next) {
    if (c->method == method && c->callback == cb) {
      apmsock__count_context(true);
      return;
    }
  }
  apmsock__count_context(false);
  apmsock__ctx_t *c;
  if (s->ncontexts == CTX_MAX) {
    apmsock__ctx_t **tail = &s->contexts;
    while ((*tail)->next != NULL)
      tail = &(*tail)->next;
    c = *tail;
    *tail = NULL;
  } else {
    c = apmsock__malloc(sizeof *c);
    s->ncontexts++;
  }
  c->method = method;
  c->callback = cb;
  c->next = s->contexts;
  s->contexts = c;
}

void apmsock__ctx_free_all(apmsock__sock_t *s) {
  while (s->contexts != NULL) {
    apmsock__ctx_t *c = s->contexts;
    s->contexts = c->next;
    free(c);
  }
  s->ncontexts = 0;
}
