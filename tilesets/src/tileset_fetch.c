/* Fetching tileset resources: local files (plain paths and file:// URLs, kept
 * inside the tileset's folder unless allowed), HTTP(S) through libcurl (one
 * easy handle per worker for keep-alive, gzip accepted, timeouts, immediate
 * retries with exponential back-off on 5xx / timeouts / truncated bodies,
 * cancellation), and gzip-encoded files on disk. */
#include "tileset_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

ct_status ct_gunzip_if_needed(const uint8_t *data, size_t size, size_t max_out, uint8_t **out, size_t *out_size,
                              ct_error *err)
{
    if (!max_out)
        max_out = (size_t)1 << 30;
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
        uint8_t *copy = malloc(size + 1);
        if (!copy)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory (%zu bytes)", size);
        memcpy(copy, data, size);
        copy[size] = 0;
        *out = copy;
        *out_size = size;
        return CT_OK;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return ct_error_set(err, CT_ERR_RUNTIME, "zlib init failed");
    size_t cap = size * 4 + 1024, n = 0;
    if (cap > max_out + 1)
        cap = max_out + 1;
    uint8_t *buf = malloc(cap + 1);
    ct_status st = CT_OK;
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)(size > UINT_MAX ? UINT_MAX : size);
    while (buf) {
        if (n == cap) {
            if (cap > max_out) {
                st = ct_error_set(err, CT_ERR_INPUT, "gzip data inflates beyond %zu bytes", max_out);
                break;
            }
            size_t ncap = cap * 2 > max_out + 1 ? max_out + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory inflating gzip data");
                break;
            }
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + n;
        zs.avail_out = (uInt)(cap - n > UINT_MAX ? UINT_MAX : cap - n);
        int r = inflate(&zs, Z_NO_FLUSH);
        n = (size_t)(zs.next_out - buf);
        if (r == Z_STREAM_END)
            break;
        if (r != Z_OK && !(r == Z_BUF_ERROR && n == cap)) {
            st = ct_error_set(err, CT_ERR_INPUT, "corrupt gzip data at byte %zu: %s",
                              (size_t)((const uint8_t *)zs.next_in - data), zs.msg ? zs.msg : "truncated");
            break;
        }
    }
    inflateEnd(&zs);
    if (!buf)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *out_size = n;
    return CT_OK;
}

bool tileset_path_inside(const char *path, const char *dir)
{
    char real[PATH_MAX];
    char *resolved = NULL;
    if (realpath(path, real)) {
        resolved = ct_strdup(real);
    } else {
        /* missing file: resolve its folder (symlinks, ..) and append the name */
        char *d = ct_path_dirname(path);
        const char *base = strrchr(path, '/');
        if (d && base && realpath(d, real))
            resolved = ct_path_join(real, base + 1);
        free(d);
        if (!resolved)
            resolved = ct_strdup(path);
    }
    if (!resolved)
        return false;
    size_t n = strlen(dir);
    bool ok = !strncmp(resolved, dir, n) && (resolved[n] == '/' || resolved[n] == 0 || (n > 0 && dir[n - 1] == '/'));
    free(resolved);
    return ok;
}

static ct_status fetch_local(const tileset_fetch_opts *o, const char *uri, uint8_t **data, size_t *size,
                             ct_error *err)
{
    char *path = tileset_uri_to_path(uri);
    if (!path)
        return ct_error_set(err, CT_ERR_INPUT, "%s: unsupported URI", uri);
    if (o->sandbox_dir && !tileset_path_inside(path, o->sandbox_dir)) {
        ct_status st = ct_error_set(err, CT_ERR_INPUT,
                                    "%s: outside the tileset's folder %s (not read; allow it with the "
                                    "allow-outside-folder option)",
                                    path, o->sandbox_dir);
        free(path);
        return st;
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    size_t max = o->max_bytes ? o->max_bytes : (size_t)1 << 30;
    ct_status st = ct_file_read(path, max, &raw, &n, err);
    if (!st) {
        st = ct_gunzip_if_needed(raw, n, max, data, size, err);
        if (st)
            ct_error_prefix(err, "%s: ", path);
    }
    free(raw);
    free(path);
    return st;
}

/* ---- HTTP ---- */

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct body {
    uint8_t *p;
    size_t n, cap, max;
    bool too_big;
    bool encoded;
} body;

static size_t on_data(char *ptr, size_t sz, size_t nm, void *u)
{
    body *b = u;
    size_t k = sz * nm;
    if (b->n + k > b->max) {
        b->too_big = true;
        return 0;
    }
    if (b->n + k + 1 > b->cap) {
        size_t cap = (b->n + k + 1) * 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, ptr, k);
    b->n += k;
    return k;
}

static size_t on_header(char *ptr, size_t sz, size_t nm, void *u)
{
    body *b = u;
    size_t k = sz * nm;
    if (k > 17 && !strncasecmp(ptr, "Content-Encoding:", 17))
        b->encoded = true;
    return k;
}

static int on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    atomic_int *cancel = u;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static ct_status fetch_http_once(tileset_fetcher *f, const tileset_fetch_opts *o, const char *uri, body *b,
                                 bool *retryable, ct_error *err)
{
    CURL *c = f->curl;
    curl_easy_reset(c);
    struct curl_slist *hdrs = NULL;
    for (int i = 0; i < o->n_headers; i++)
        hdrs = curl_slist_append(hdrs, o->headers[i]);
    char *clean = ct_strdup(uri);
    if (!clean)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    char *hash = strchr(clean, '#');
    if (hash)
        *hash = 0; /* fragments are never sent */
    double timeout = o->timeout_s > 0 ? o->timeout_s : 30;
    curl_easy_setopt(c, CURLOPT_URL, clean);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 8L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip/deflate/br as built, decoded by curl */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000 < 10000 ? timeout * 1000 : 10000));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, o->cancel);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "citytwin/0.1");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t cl = -1, got = 0;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    curl_slist_free_all(hdrs);
    ct_status st = CT_OK;
    *retryable = false;
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: cancelled", clean);
    } else if (b->too_big) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: larger than %zu bytes", clean, b->max);
    } else if (rc != CURLE_OK) {
        *retryable = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_PARTIAL_FILE || rc == CURLE_COULDNT_CONNECT ||
                     rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
                     rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_BAD_CONTENT_ENCODING;
        st = ct_error_set(err, CT_ERR_INPUT, "%s: %s%s", clean, curl_easy_strerror(rc),
                          rc == CURLE_PARTIAL_FILE ? " (truncated body)" : "");
    } else if (code >= 400) {
        *retryable = code >= 500 || code == 408 || code == 429;
        st = ct_error_set(err, CT_ERR_INPUT, "%s: HTTP %ld", clean, code);
    } else if (!b->encoded && cl >= 0 && got < cl) {
        *retryable = true;
        st = ct_error_set(err, CT_ERR_INPUT, "%s: truncated body (%lld of %lld bytes)", clean, (long long)got,
                          (long long)cl);
    }
    free(clean);
    return st;
}

static ct_status fetch_http(tileset_fetcher *f, const tileset_fetch_opts *o, const char *uri, uint8_t **data,
                            size_t *size, bool *retryable, ct_error *err)
{
    pthread_once(&g_curl_once, curl_init_once);
    if (!f->curl)
        f->curl = curl_easy_init();
    if (!f->curl)
        return ct_error_set(err, CT_ERR_RUNTIME, "curl_easy_init failed");
    int retries = o->retries < 0 ? 0 : o->retries;
    double delay = 0.1;
    for (int attempt = 0;; attempt++) {
        body b = {.max = o->max_bytes ? o->max_bytes : (size_t)1 << 30};
        ct_status st = fetch_http_once(f, o, uri, &b, retryable, err);
        if (!st) {
            if (!b.p)
                b.p = calloc(1, 1);
            if (!b.p)
                return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            /* servers may send gzip files as-is (Content-Type application/gzip) */
            st = ct_gunzip_if_needed(b.p, b.n, b.max, data, size, err);
            free(b.p);
            return st;
        }
        free(b.p);
        if (!*retryable || attempt >= retries || (o->cancel && atomic_load(o->cancel)))
            return st;
        sleep_s(delay);
        delay *= 2;
    }
}

ct_status tileset_fetch(tileset_fetcher *f, const tileset_fetch_opts *o, const char *uri, uint8_t **data,
                        size_t *size, bool *retryable, ct_error *err)
{
    *data = NULL;
    *size = 0;
    *retryable = false;
    if (tileset_uri_is_http(uri))
        return fetch_http(f, o, uri, data, size, retryable, err);
    if (ct_uri_has_scheme(uri) && strncasecmp(uri, "file:", 5))
        return ct_error_set(err, CT_ERR_INPUT, "%s: unsupported URI scheme", uri);
    return fetch_local(o, uri, data, size, err);
}

void tileset_fetcher_cleanup(tileset_fetcher *f)
{
    if (f->curl)
        curl_easy_cleanup(f->curl);
    f->curl = NULL;
}

const char *ct_content_type_name(ct_content_type t)
{
    static const char *names[] = {"unknown", "b3dm", "i3dm", "pnts", "cmpt", "glb", "json"};
    return (unsigned)t < CT_CONTENT_TYPE_COUNT ? names[t] : "unknown";
}

ct_content_type ct_content_type_sniff(const uint8_t *d, size_t n)
{
    if (n >= 4) {
        if (!memcmp(d, "b3dm", 4))
            return CT_CONTENT_TYPE_B3DM;
        if (!memcmp(d, "i3dm", 4))
            return CT_CONTENT_TYPE_I3DM;
        if (!memcmp(d, "pnts", 4))
            return CT_CONTENT_TYPE_PNTS;
        if (!memcmp(d, "cmpt", 4))
            return CT_CONTENT_TYPE_CMPT;
        if (!memcmp(d, "glTF", 4))
            return CT_CONTENT_TYPE_GLB;
    }
    size_t i = 0;
    if (n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        i = 3;
    while (i < n && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
        i++;
    if (i < n && d[i] == '{') {
        /* a glTF JSON has "asset" too; a tileset has "root" */
        size_t lim = n < 65536 ? n : 65536;
        for (size_t k = i; k + 6 <= lim; k++)
            if (!memcmp(d + k, "\"root\"", 6))
                return CT_CONTENT_TYPE_JSON;
        return CT_CONTENT_TYPE_GLB;
    }
    return CT_CONTENT_TYPE_UNKNOWN;
}
