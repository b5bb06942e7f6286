/*
 * atomic.h: the one home of lb4's atomic accesses.
 *
 * Every variable shared between the main thread and the workers is read and
 * written through these, never plainly (TSan checks it: make check-tsan).
 * The name says the ordering, so a reader sees at the call which accesses
 * publish (release), which consume a publication (acquire), and which are
 * only counters or flags that order nothing (relaxed).  Statistics are
 * relaxed; a pointer or an epoch that hands over an object is release on
 * the writer's side and acquire on the reader's.
 */
#ifndef LB4_ATOMIC_H
#define LB4_ATOMIC_H

#define load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Read-modify-write; each returns the new value. */
#define add_relaxed(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define sub_relaxed(p, v)	__atomic_sub_fetch((p), (v), __ATOMIC_RELAXED)
#define add_release(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELEASE)
#define sub_release(p, v)	__atomic_sub_fetch((p), (v), __ATOMIC_RELEASE)

/* Returns the old value. */
#define exchange_relaxed(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_RELAXED)

/*
 * Stores <v> if *<p> still equals *<old>; returns 1 if it did, else 0 with
 * *<old> updated to what *<p> held (strong: no spurious failure).
 */
#define cas_relaxed(p, old, v)	__atomic_compare_exchange_n((p), (old), (v), \
				    0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)

#endif
