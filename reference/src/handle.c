/* handle.c: slot tables.  A table is a fixed array of lazily allocated
 * chunks; an element never moves and its memory outlives every handle that
 * names it (until apmsock_cleanup), so a stale or foreign handle is caught by
 * comparing generations, never by touching freed memory.  Generations come
 * from one process-wide counter, so handles stay unique across cleanup. */
#include "apmsock-int.h"

#include <stdlib.h>

static _Atomic uint32_t next_gen;

static char *elem_at(char *chunk, const apmsock__table_t *t, uint32_t i) {
  return chunk + (size_t)i * t->elem_size;
}

static void add_chunk(apmsock__table_t *t) {
  /* A million handles outstanding: no test can afford to reach it. */
  if (t->nchunks == APMSOCK__MAX_CHUNKS) abort();  // GCOVR_EXCL_BR_LINE
  char *chunk = apmsock__calloc(APMSOCK__CHUNK_SLOTS, t->elem_size);
  uint32_t base = t->nchunks * APMSOCK__CHUNK_SLOTS;
  /* Push in reverse so the lowest index is handed out first. */
  for (uint32_t i = APMSOCK__CHUNK_SLOTS; i-- > 0;) {
    apmsock__slot_t *slot = (apmsock__slot_t *)elem_at(chunk, t, i);
    slot->index = base + i;
    slot->next_free = t->free_head;
    t->free_head = base + i + 1;
    t->init(slot);
  }
  atomic_store_explicit(&t->chunks[t->nchunks], chunk, memory_order_release);
  t->nchunks++;
}

static apmsock__slot_t *slot_at(apmsock__table_t *t, uint32_t index) {
  char *chunk = atomic_load_explicit(&t->chunks[index / APMSOCK__CHUNK_SLOTS],
                                     memory_order_acquire);
  return chunk ? (apmsock__slot_t *)elem_at(chunk, t, index % APMSOCK__CHUNK_SLOTS) : NULL;
}

/* Takes n free elements under one lock; they still need a generation. */
void apmsock__table_take(apmsock__table_t *t, void **elems, unsigned n) {
  pthread_mutex_lock(&t->mu);
  for (unsigned i = 0; i < n; i++) {
    if (t->free_head == 0)
      add_chunk(t);
    apmsock__slot_t *slot = slot_at(t, t->free_head - 1);
    t->free_head = slot->next_free;
    elems[i] = slot;
  }
  pthread_mutex_unlock(&t->mu);
}

/* Gives n elements back under one lock. */
void apmsock__table_give(apmsock__table_t *t, void **elems, unsigned n) {
  pthread_mutex_lock(&t->mu);
  for (unsigned i = 0; i < n; i++) {
    apmsock__slot_t *slot = elems[i];
    atomic_store_explicit(&slot->gen, 0, memory_order_release);
    slot->next_free = t->free_head;
    t->free_head = slot->index + 1;
  }
  pthread_mutex_unlock(&t->mu);
}

void *apmsock__table_alloc(apmsock__table_t *t) {
  void *elem;
  apmsock__table_take(t, &elem, 1);
  apmsock__slot_regen(elem);
  return elem;
}

void apmsock__slot_regen(void *elem) {
  apmsock__slot_t *slot = elem;
  /* Never 0, which marks a free slot. */
  uint32_t gen = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed) % UINT32_MAX + 1;
  atomic_store_explicit(&slot->gen, gen, memory_order_release);
}

void apmsock__table_free(apmsock__table_t *t, void *elem) {
  apmsock__table_give(t, &elem, 1);
}

uint64_t apmsock__handle(const apmsock__table_t *t, const void *elem) {
  const apmsock__slot_t *slot = elem;
  uint64_t gen = atomic_load_explicit(&slot->gen, memory_order_acquire);
  return gen << 32 | (uint64_t)t->tag << 24 | (uint64_t)(slot->index + 1);
}

uint32_t apmsock__handle_gen(uint64_t handle) {
  return (uint32_t)(handle >> 32);
}

void *apmsock__table_get(apmsock__table_t *t, uint64_t handle) {
  /* The low 24 bits are index + 1; 0 wraps to an index out of range. */
  uint32_t index = (uint32_t)(handle & 0xffffff) - 1;
  bool ours = ((handle >> 24) & 0xff) == t->tag &&
              index < (uint32_t)APMSOCK__MAX_CHUNKS * APMSOCK__CHUNK_SLOTS;
  return ours ? slot_at(t, index) : NULL;
}

void apmsock__table_each(apmsock__table_t *t, void (*fn)(void *elem)) {
  /* Only apmsock_cleanup walks a table, with nothing else running. */
  for (uint32_t c = 0; c < t->nchunks; c++) {
    char *chunk = t->chunks[c];
    for (uint32_t i = 0; i < APMSOCK__CHUNK_SLOTS; i++)
      fn(elem_at(chunk, t, i));
  }
}

void apmsock__table_destroy(apmsock__table_t *t) {
  for (uint32_t c = 0; c < t->nchunks; c++) {
    char *chunk = t->chunks[c];
    for (uint32_t i = 0; i < APMSOCK__CHUNK_SLOTS; i++)
      t->fini(elem_at(chunk, t, i));
    atomic_store(&t->chunks[c], NULL);
    free(chunk);
  }
  t->nchunks = 0;
  t->free_head = 0;
}
