/*
 * worker.h — one background thread with the parts every Portico worker
 * needs: a mutex, a condition variable on the monotonic clock, a stop flag
 * and deadline arithmetic. Used by the audit writer, the events listener,
 * the gateway status monitor, the demo gateways and the OIDC refresher.
 *
 * A module keeps `static struct worker w = WORKER_INIT;` and may guard its
 * own state with w.mu (then w.cond wakes anyone waiting for that state:
 * worker_wake). Threading: worker_start/worker_stop run on the main thread;
 * everything else on any thread.
 */
#ifndef PORTICO_WORKER_H
#define PORTICO_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct worker {
    pthread_mutex_t mu;  /* guards `stop` and whatever state the owner keeps with it */
    pthread_cond_t cond; /* CLOCK_MONOTONIC; see worker_wait_until */
    bool prepared;       /* mu: cond is initialised */
    pthread_t thread;
    bool running; /* main thread only */
    bool stop;    /* mu: the owner asked the thread to end */
};

#define WORKER_INIT                                                                                \
    {                                                                                              \
        .mu = PTHREAD_MUTEX_INITIALIZER                                                            \
    }

/* Monotonic milliseconds (for deadlines; not wall time). */
int64_t worker_now_ms(void);
/* Makes w.cond usable before the thread starts (for waiters that are not the
 * worker, like event streams); worker_start does it too. */
void worker_prepare(struct worker *w);
/* Clears the stop flag and runs fn(arg) on a new thread. 0, or -1 logged
 * with `what` ("audit: writer"). */
int worker_start(struct worker *w, const char *what, void *(*fn)(void *), void *arg);
/* Sets the stop flag, wakes every waiter and joins the thread (no-op when
 * it is not running). */
void worker_stop(struct worker *w);
/* Sets the stop flag and wakes every waiter, without joining. */
void worker_request_stop(struct worker *w);
/* True once stop was requested (takes w.mu). */
bool worker_stopping(struct worker *w);
/* Wakes every waiter on w.cond (takes w.mu). */
void worker_wake(struct worker *w);
/* With w.mu held: waits until woken or until the monotonic deadline
 * (worker_now_ms() + x); returns false when the deadline passed. Callers
 * loop on their own condition. */
bool worker_wait_until(struct worker *w, int64_t deadline_ms);
/* Without w.mu: sleeps up to ms, ending early when stop is requested.
 * Returns true when the worker should stop. */
bool worker_sleep(struct worker *w, int64_t ms);

#endif
