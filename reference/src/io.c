/* io.c: moving a send's bytes.  The same routine runs inline in Begin and on
 * the loop thread when the fd becomes writable; s->mu is held. */
#include "apmsock-int.h"

/* 0 once the op has sent all it will (a datagram, or every byte of a stream
 * send: CONN-11), EAGAIN when the fd is full (op->done says how far it got),
 * or the errno of the failure. */
int apmsock__try_send(apmsock__sock_t *s, apmsock__op_t *op) {
  for (;;) {
    ssize_t n = op->has_dest
                    ? sendto(s->fd, op->buf + op->done, (size_t)(op->size - op->done),
                             op->msg_flags, (const struct sockaddr *)&op->dest, op->dest_len)
                    : send(s->fd, op->buf + op->done, (size_t)(op->size - op->done),
                           op->msg_flags);
    if (n < 0)
      return errno;
    op->done += (int32_t)n;
    if (s->type == SOCK_DGRAM || op->done == op->size)
      return 0;
  }
}

/* The loop thread saw the fd writable: send in queue order until it fills. */
void apmsock__io_sends(apmsock__sock_t *s, apmsock__batch_t *b) {
  int e;
  while (s->sq.head != NULL && (e = apmsock__try_send(s, s->sq.head)) != EAGAIN) {
    apmsock__op_t *op = apmsock__opq_pop(&s->sq);
    apmsock__op_finish(op, op->done, e, b);
  }
}
