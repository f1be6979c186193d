/* runner.c: builds the Check suite from test-list.h and runs it.
 *
 *   apmsock-conformance [--xml FILE] [--tap FILE] [--only GLOB] [--list]
 *
 * Every test runs in its own forked process with its TCase's timeout, so a
 * crash or a hang fails that test (Check names the signal or "Test timeout
 * expired") and the run goes on.  Exit status: 0 all passed, 1 otherwise.
 */
#include "tests.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* "ARG_01" -> "ARG-01" */
static void clause_id(const char *token, char *out, size_t cap) {
  snprintf(out, cap, "%s", token);
  char *us = strrchr(out, '_');
  if (us) *us = '-';
}

#define CF_DEFINE_TEST(F, C, VAR, B, T, AF, M)                                     \
  static void test_##C##_##VAR##_fn(int i_) {                                      \
    char clause[32];                                                               \
    clause_id(#C, clause, sizeof(clause));                                         \
    cf_variant_t v = {"test_" #C "_" #VAR, clause, (T), (AF), (M)};                \
    (void)i_;                                                                      \
    B(&v);                                                                         \
  }                                                                                \
  static const TTest test_##C##_##VAR##_ttest = {"test_" #C "_" #VAR,             \
                                                 test_##C##_##VAR##_fn, __FILE__, __LINE__};
CF_TEST_LIST(CF_DEFINE_TEST)
#undef CF_DEFINE_TEST

typedef struct entry {
  const char *family;
  const TTest *test;
} entry_t;

static const entry_t entries[] = {
#define CF_ENTRY(F, C, VAR, B, T, AF, M) {#F, &test_##C##_##VAR##_ttest},
    CF_TEST_LIST(CF_ENTRY)
#undef CF_ENTRY
};

static const struct {
  const char *name;
  double timeout;
} families[] = {
#define CF_FAMILY(F, T) {#F, (T)},
    CF_FAMILY_LIST(CF_FAMILY)
#undef CF_FAMILY
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_identity(void) {
  /* In a child: the implementation may start threads on first use, and the
   * runner must stay a single-threaded process for Check's forks. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("implementation: %s %s (contract %s); suite built against contract %s\n",
           apmsock_implementation_name(), apmsock_implementation_version(),
           apmsock_implementation_contract(), APMSOCK_CONTRACT_VERSION);
    exit(0); /* exit, not _exit: coverage data of the library gets written */
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
  const char *xml = NULL, *tap = NULL, *only = NULL;
  int list = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--trace-child") == 0) return cf_trace_child_main();
    if (strcmp(argv[i], "--xml") == 0 && i + 1 < argc) xml = argv[++i];
    else if (strcmp(argv[i], "--tap") == 0 && i + 1 < argc) tap = argv[++i];
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (strcmp(argv[i], "--list") == 0) list = 1;
    else {
      fprintf(stderr, "usage: %s [--xml FILE] [--tap FILE] [--only GLOB] [--list]\n", argv[0]);
      return 2;
    }
  }
  if (list) {
    for (size_t i = 0; i < COUNT(entries); i++)
      printf("%s\t%s\n", entries[i].family, entries[i].test->name);
    return 0;
  }

  /* Before the suite exists: the identity child exits normally (coverage
   * data), and LeakSanitizer must find nothing of the runner's in it. */
  print_identity();
  Suite *suite = suite_create("apmsock");
  size_t registered = 0;
  for (size_t f = 0; f < COUNT(families); f++) {
    TCase *tc = NULL; /* created only when it gets a test: an empty TCase would leak */
    for (size_t i = 0; i < COUNT(entries); i++) {
      if (strcmp(entries[i].family, families[f].name) != 0) continue;
      if (only && fnmatch(only, entries[i].test->name, 0) != 0) continue;
      if (tc == NULL) {
        tc = tcase_create(families[f].name);
        tcase_set_timeout(tc, families[f].timeout);
        suite_add_tcase(suite, tc);
      }
      _tcase_add_test(tc, entries[i].test, 0, 0, 0, 1);
      registered++;
    }
  }
  if (registered == 0) {
    fprintf(stderr, "no test matches %s\n", only ? only : "(all)");
    srunner_free(srunner_create(suite)); /* frees the suite */
    return 2;
  }
  SRunner *sr = srunner_create(suite);
  /* Fork mode is the isolation the suite relies on; CK_FORK=no is for
   * debugging one test under gdb only. */
  const char *fork_env = getenv("CK_FORK");
  srunner_set_fork_status(sr, fork_env && strcmp(fork_env, "no") == 0 ? CK_NOFORK : CK_FORK);
  if (xml) srunner_set_xml(sr, xml);
  if (tap) srunner_set_tap(sr, tap);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  int run = srunner_ntests_run(sr);
  srunner_free(sr);
  printf("apmsock-conformance: %d tests, %d failed\n", run, failed);
  return failed == 0 ? 0 : 1;
}
