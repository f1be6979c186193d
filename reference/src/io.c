/* io.c: moving a send's bytes.  The same routine runs inline in Begin and on
 * the loop thread when the fd becomes writable; s->mu is held. */
#include "apmsock-int.h"

/* An interrupted send (EINTR) is no error of the socket: it is retried at
 * once, at most this many times in a row, then left to the loop thread as if
 * the fd were full (FAULT-04).  Retrying in place also keeps a stream whole:
 * the rest of a partly sent chunk goes before anything else. */
#define APMSOCK__EINTR_RETRIES 64

/* 0 once the op has sent all it will (a datagram, or every byte of a stream
 * send: CONN-11), EAGAIN when the fd is full (op->done says how far it got),
 * or the errno of the failure (never EINTR). */
int apmsock__try_send(apmsock__sock_t *s, apmsock__op_t *op) {
  int interrupted = 0;
  for (;;) {
    ssize_t n = op->has_dest
                    ? sendto(s->fd, op->buf + op->done, (size_t)(op->size - op->done),
                             op->msg_flags, (const struct sockaddr *)&op->dest, op->dest_len)
                    : send(s->fd, op->buf + op->done, (size_t)(op->size - op->done),
                           op->msg_flags);
    if (n < 0) {
      if (errno != EINTR)
        return errno;
      if (++interrupted == APMSOCK__EINTR_RETRIES)
        return EAGAIN;  /* GCOVR_EXCL_LINE: needs 64 EINTR in a row */
      continue;
    }
    interrupted = 0;
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
