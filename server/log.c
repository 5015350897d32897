/*
 * log.c — leveled one-line logging to stderr.
 * Threading: the level is an atomic read; the request id is thread-local.
 */
#include "portico/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "portico/util.h"

static atomic_int log_level = LOG_INFO;
static _Thread_local char log_request_id[40];

void log_set_level(enum log_level level)
{
    atomic_store(&log_level, (int)level);
}

void log_set_request_id(const char *id)
{
    util_copy(log_request_id, sizeof log_request_id, id ? id : "");
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if ((int)level < atomic_load(&log_level)) return;
    char when[32], msg[1024], line[1200];
    util_time_format(util_now_ms(), when);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (log_request_id[0])
        n = snprintf(line, sizeof line, "%s %s [%s] %s\n", when, names[level], log_request_id, msg);
    else
        n = snprintf(line, sizeof line, "%s %s %s\n", when, names[level], msg);
    if (n < 0) return;
    fputs(line, stderr);
}
