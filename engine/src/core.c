#include "citytwin/ct_core.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

ct_status ct_error_set(ct_error *err, ct_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}

ct_status ct_error_prefix(ct_error *err, const char *fmt, ...)
{
    if (!err)
        return CT_ERR_RUNTIME;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    int n = snprintf(err->msg, sizeof err->msg, "%s", prefix);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", old);
    return err->status;
}

static _Atomic int g_log_level = -1;
static _Atomic uint64_t g_log_counts[CT_LOG_QUIET];
static pthread_mutex_t g_log_mutex = PTHREAD_MUTEX_INITIALIZER;

ct_log_level ct_log_get_level(void)
{
    int lv = atomic_load(&g_log_level);
    if (lv >= 0)
        return (ct_log_level)lv;
    const char *env = getenv("CT_LOG");
    lv = CT_LOG_WARN;
    if (env) {
        if (!strcmp(env, "debug")) lv = CT_LOG_DEBUG;
        else if (!strcmp(env, "info")) lv = CT_LOG_INFO;
        else if (!strcmp(env, "error")) lv = CT_LOG_ERROR;
        else if (!strcmp(env, "quiet")) lv = CT_LOG_QUIET;
    }
    atomic_store(&g_log_level, lv);
    return (ct_log_level)lv;
}

void ct_log_set_level(ct_log_level level) { atomic_store(&g_log_level, (int)level); }

uint64_t ct_log_count(ct_log_level level)
{
    uint64_t n = 0;
    for (int i = level; i < CT_LOG_QUIET; i++)
        n += atomic_load(&g_log_counts[i]);
    return n;
}

void ct_log(ct_log_level level, const char *fmt, ...)
{
    if (level >= CT_LOG_QUIET)
        return;
    atomic_fetch_add(&g_log_counts[level], 1);
    if (level < ct_log_get_level())
        return;
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&g_log_mutex);
    fprintf(stderr, "citytwin: %s: %s\n", names[level], line);
    pthread_mutex_unlock(&g_log_mutex);
}

ct_status ct_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *size, ct_error *err)
{
    *data = NULL;
    *size = 0;
    if (max_bytes == 0)
        max_bytes = (size_t)4 << 30;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return ct_error_set(err, CT_ERR_INPUT, "%s: file is %lld bytes, larger than the limit of %zu",
                            path, (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    fclose(f);
    if (got != n) {
        free(buf);
        return ct_error_set(err, CT_ERR_INPUT, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return CT_OK;
}

ct_status ct_file_write(const char *path, const void *data, size_t size, ct_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create: %s", path, strerror(errno));
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    int rc = fclose(f);
    if (put != size || rc != 0)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed: %s", path, strerror(errno));
    return CT_OK;
}

bool ct_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

ct_status ct_dir_create(const char *path, ct_error *err)
{
    char *p = ct_strdup(path);
    if (!p)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (char *s = p + 1; ; s++) {
        char c = *s;
        if (c == '/' || c == 0) {
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                ct_status st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create directory: %s", p, strerror(errno));
                free(p);
                return st;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return CT_OK;
}

char *ct_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ct_strdup(".");
    if (slash == path)
        return ct_strdup("/");
    size_t n = (size_t)(slash - path);
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, path, n);
        out[n] = 0;
    }
    return out;
}

char *ct_path_join(const char *dir, const char *rel)
{
    if (!dir || !*dir || rel[0] == '/')
        return ct_strdup(rel);
    size_t a = strlen(dir), b = strlen(rel);
    char *out = malloc(a + b + 2);
    if (!out)
        return NULL;
    memcpy(out, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        out[k++] = '/';
    memcpy(out + k, rel, b + 1);
    return out;
}

const char *ct_path_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        return "";
    return dot;
}

double ct_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ct_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void *ct_malloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return malloc(count && size ? count * size : 1);
}

void *ct_calloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

bool ct_array_grow(void *items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return true;
    if (item_size == 0 || need > SIZE_MAX / item_size)
        return false;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    if (nc > SIZE_MAX / item_size)
        nc = need; /* doubling overshot what fits: take just enough */
    /* the pointer is copied in and out with memcpy: ITEMS is a T **, and
     * reading it through a void ** would break strict aliasing */
    void *old, *grown;
    memcpy(&old, items, sizeof old);
    grown = realloc(old, nc * item_size);
    if (!grown)
        return false;
    memcpy(items, &grown, sizeof grown);
    *cap = nc;
    return true;
}

char *ct_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
