/* context.c: the per-socket cache of (method, callback) contexts (CTX-01).
 * The first send of a triple builds a context (one allocation, a miss); the
 * following ones find it (a hit) and allocate nothing. */
#include "apmsock-int.h"

#include <stdlib.h>

void apmsock__ctx_lookup(apmsock__sock_t *s, int method, apmsock_callback_t cb) {
  for (apmsock__ctx_t *c = s->contexts; c != NULL; c = c->next) {
    if (c->method == method && c->callback == cb) {
      apmsock__count_context(true);
      return;
    }
  }
  /* No bound needed: callbacks are functions, so a program has finitely
   * many, and there are two methods. */
  apmsock__count_context(false);
  apmsock__ctx_t *c = apmsock__malloc(sizeof *c);
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
}
