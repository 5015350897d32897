/*
 * worker.c — the background-thread helper (worker.h).
 * Threading: see worker.h; `cond` is initialised once per worker and the
 * stop flag is read and written under `mu`.
 */
#define _GNU_SOURCE
#include "portico/worker.h"

#include <time.h>

#include "portico/log.h"
#include "portico/util.h"

int64_t worker_now_ms(void)
{
    return util_mono_us() / 1000;
}

void worker_prepare(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    if (!w->prepared) {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cond, &attr);
        pthread_condattr_destroy(&attr);
        w->prepared = true;
    }
    pthread_mutex_unlock(&w->mu);
}

int worker_start(struct worker *w, const char *what, void *(*fn)(void *), void *arg)
{
    worker_prepare(w);
    pthread_mutex_lock(&w->mu);
    w->stop = false;
    pthread_mutex_unlock(&w->mu);
    if (pthread_create(&w->thread, NULL, fn, arg) != 0) {
        log_error("%s: cannot start the thread", what);
        return -1;
    }
    w->running = true;
    return 0;
}

void worker_request_stop(struct worker *w)
{
    worker_prepare(w);
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void worker_stop(struct worker *w)
{
    worker_request_stop(w);
    if (!w->running) return;
    pthread_join(w->thread, NULL);
    w->running = false;
}

bool worker_stopping(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}

void worker_wake(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

bool worker_wait_until(struct worker *w, int64_t deadline_ms)
{
    int64_t left = deadline_ms - worker_now_ms();
    if (left <= 0) return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_cond_timedwait(&w->cond, &w->mu, &ts) == 0;
}

bool worker_sleep(struct worker *w, int64_t ms)
{
    int64_t deadline = worker_now_ms() + ms;
    pthread_mutex_lock(&w->mu);
    while (!w->stop)
        if (!worker_wait_until(w, deadline)) break;
    bool s = w->stop;
    pthread_mutex_unlock(&w->mu);
    return s;
}
