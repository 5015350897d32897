/*
 * log.h — one-line logs to stderr with level, time and the current request
 * id. Never pass secrets to these functions.
 * Threading: each line is written with one fputs under stderr's lock; the
 * request id is thread-local (set by the dispatcher for its thread).
 */
#ifndef PORTICO_LOG_H
#define PORTICO_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Sets (or clears, with NULL) the request id shown on this thread's lines. */
void log_set_request_id(const char *id);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
