/* citytwin core: status codes, error messages, logging, files, time.
 *
 * Every function that can fail returns a ct_status and, when given a
 * ct_error, fills it with one line saying what failed and where (file, byte
 * offset, JSON path). The numeric values of ct_status are the CLI exit codes. */
#ifndef CT_CORE_H
#define CT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_status {
    CT_OK = 0,
    CT_ERR_USAGE = 1,   /* wrong call / wrong options */
    CT_ERR_INPUT = 2,   /* unreadable, corrupt or invalid input */
    CT_ERR_RUNTIME = 3, /* GL context, out of memory, I/O while writing */
} ct_status;

typedef struct ct_error {
    ct_status status;
    char msg[1024];
} ct_error;

/* Sets err (if not NULL) and returns st, so callers can `return ct_error_set(...)`. */
ct_status ct_error_set(ct_error *err, ct_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message with context ("tile x.b3dm: " + old message). */
ct_status ct_error_prefix(ct_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef enum ct_log_level { CT_LOG_DEBUG, CT_LOG_INFO, CT_LOG_WARN, CT_LOG_ERROR, CT_LOG_QUIET } ct_log_level;

/* Logs go to stderr; thread-safe. Default level WARN, or CT_LOG=debug|info|warn|error. */
void ct_log(ct_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ct_log_set_level(ct_log_level level);
ct_log_level ct_log_get_level(void);
/* Number of messages logged at WARN or above since start (for statistics/tests). */
uint64_t ct_log_count(ct_log_level level);

/* Reads a whole file. Fails with CT_ERR_INPUT when missing/unreadable or larger
 * than max_bytes (0 = 4 GiB). *data is malloc'ed, NUL-terminated (not counted). */
ct_status ct_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *size, ct_error *err);
ct_status ct_file_write(const char *path, const void *data, size_t size, ct_error *err);
bool ct_file_exists(const char *path);
/* Creates a directory and its parents (mkdir -p). */
ct_status ct_dir_create(const char *path, ct_error *err);

/* Path helpers; results are malloc'ed. */
char *ct_path_dirname(const char *path);          /* "a/b/c.gltf" -> "a/b", "c.gltf" -> "." */
char *ct_path_join(const char *dir, const char *rel);
const char *ct_path_ext(const char *path);         /* ".glb" or "" (points into path) */

/* Monotonic seconds. */
double ct_time_now(void);
/* Sleeps ms milliseconds (polling loops waiting on worker threads). */
void ct_sleep_ms(int ms);

/* Checked allocation helpers: return NULL on overflow or failure. */
void *ct_malloc_array(size_t count, size_t size);
void *ct_calloc_array(size_t count, size_t size);
char *ct_strdup(const char *s);
/* Makes a growable array hold at least NEED items of ITEM_SIZE bytes.
 * ITEMS is the address of the array pointer (a T **, NULL array when *CAP is
 * 0); the capacity doubles (from 16) so that pushing n items costs O(n).
 * Returns false when the size would overflow, ITEM_SIZE is 0 or realloc
 * fails; the array and *CAP are then left as they were. */
bool ct_array_grow(void *items, size_t *cap, size_t need, size_t item_size);

/* Progress of a long computation: fraction done in 0..1, called from the
 * calling thread only (analysis descriptors take one with a user pointer;
 * NULL = no progress). The CLI draws it as a bar on stderr (cli/progress.c). */
typedef void (*ct_progress_fn)(void *user, double fraction);

#ifdef __cplusplus
}
#endif
#endif
