/* tests.h: what the test files share: the fixtures, the body of every test
 * (declared from the one list in test-list.h) and the allocation counter
 * (reference/test-support/alloc-count.h). */
#ifndef CF_TESTS_H
#define CF_TESTS_H

#include "alloc-count.h"  /* reference/test-support/ */
#include "fixture.h"
#include "test-list.h"

#define CF_DECLARE_BODY(family, clause, variant, body, transport, af, method) \
  void body(const cf_variant_t *v);
CF_TEST_LIST(CF_DECLARE_BODY)
#undef CF_DECLARE_BODY

/* setup-fault.c: fail the nth call of one set-up function (ERR-02) */
enum { CF_FAIL_NONE, CF_FAIL_PTHREAD_CREATE, CF_FAIL_UV_LOOP_INIT, CF_FAIL_UV_ASYNC_INIT,
       CF_FAIL_SEND_EINTR,          /* the nth send/sendto: EINTR (FAULT-04) */
       CF_FAIL_SEND_SHORT_RESET };  /* 1st: half the bytes, 2nd: ECONNRESET (FAULT-07) */
void cf_setup_fault_arm(int what, int nth);
int cf_setup_fault_fired(void);
/* setup-fault.c: every FUTEX_WAIT made through syscall() first spins ns
 * nanoseconds (0: off); how many waits were slowed since armed. */
void cf_slow_futex_wait_arm(int ns);
int cf_slow_futex_waits(void);

/* test-gen.c: the body of `apmsock-conformance --trace-child` */
int cf_trace_child_main(void);

#endif /* CF_TESTS_H */
