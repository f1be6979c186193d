/* policy.c: the send-permission hook (SEC-01).  The pair (policy, ctx) is
 * swapped under a lock; the hot path reads one atomic flag and takes the lock
 * only when a policy is installed. */
#include "apmsock-int.h"

static pthread_mutex_t policy_mu = PTHREAD_MUTEX_INITIALIZER;
static apmsock_send_policy_t policy_fn;
static void *policy_ctx;
static atomic_bool policy_set;

void apmsock_set_send_policy(apmsock_send_policy_t policy, void *ctx) {
  pthread_mutex_lock(&policy_mu);
  policy_fn = policy;
  policy_ctx = ctx;
  atomic_store(&policy_set, policy != NULL);
  pthread_mutex_unlock(&policy_mu);
}

bool apmsock__policy_allows(const struct sockaddr *dest) {
  if (!atomic_load_explicit(&policy_set, memory_order_acquire))
    return true;
  pthread_mutex_lock(&policy_mu);
  apmsock_send_policy_t fn = policy_fn;
  void *ctx = policy_ctx;
  pthread_mutex_unlock(&policy_mu);
  return fn == NULL || fn(dest, ctx);  // GCOVR_EXCL_BR_LINE: NULL only by a race with unset
}
