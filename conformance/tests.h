/* tests.h: what the test files share: the fixtures, the body of every test
 * (declared from the one list in test-list.h) and the allocation counter. */
#ifndef CF_TESTS_H
#define CF_TESTS_H

#include "fixture.h"
#include "test-list.h"

#define CF_DECLARE_BODY(family, clause, variant, body, transport, af, method) \
  void body(const cf_variant_t *v);
CF_TEST_LIST(CF_DECLARE_BODY)
#undef CF_DECLARE_BODY

/* alloc-count.c */
int cf_alloc_available(void);
void cf_alloc_arm(int on);
uint64_t cf_alloc_count(void);

/* test-gen.c: the body of `apmsock-conformance --trace-child` */
int cf_trace_child_main(void);

#endif /* CF_TESTS_H */
