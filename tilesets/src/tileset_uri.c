/* URI references (RFC 3986 section 5), query propagation and implicit tiling
 * templates. Strings only: no I/O here. */
#include "tileset_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Components as pointer+length slices into the source string; a NULL pointer
 * means "undefined" (which differs from empty, e.g. "?" vs no query). */
typedef struct slice { const char *p; size_t n; } slice;
typedef struct uri_parts { slice scheme, authority, path, query, fragment; } uri_parts;

static void uri_split(const char *s, uri_parts *u)
{
    memset(u, 0, sizeof *u);
    const char *p = s;
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (isalpha((unsigned char)*p)) {
        const char *q = p;
        while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            u->scheme = (slice){p, (size_t)(q - p)};
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        const char *q = p + 2;
        while (*q && *q != '/' && *q != '?' && *q != '#')
            q++;
        u->authority = (slice){p + 2, (size_t)(q - p - 2)};
        p = q;
    }
    const char *q = p;
    while (*q && *q != '?' && *q != '#')
        q++;
    u->path = (slice){p, (size_t)(q - p)};
    p = q;
    if (*p == '?') {
        q = p + 1;
        while (*q && *q != '#')
            q++;
        u->query = (slice){p + 1, (size_t)(q - p - 1)};
        p = q;
    }
    if (*p == '#')
        u->fragment = (slice){p + 1, strlen(p + 1)};
}

bool ct_uri_has_scheme(const char *uri)
{
    uri_parts u;
    uri_split(uri, &u);
    /* "C:/x" style drive letters are not schemes for our purposes. */
    return u.scheme.p && u.scheme.n > 1;
}

/* RFC 3986 5.2.4 remove_dot_segments, writing into out (capacity >= n+1). */
static void remove_dot_segments(const char *in, size_t n, char *out)
{
    char *buf = malloc(n + 1);
    if (!buf) {
        out[0] = 0;
        return;
    }
    memcpy(buf, in, n);
    buf[n] = 0;
    char *a = buf;
    size_t o = 0;
    while (*a) {
        if (!strncmp(a, "../", 3))
            a += 3;
        else if (!strncmp(a, "./", 2))
            a += 2;
        else if (!strncmp(a, "/./", 3))
            a += 2;
        else if (!strcmp(a, "/.")) {
            a[1] = 0; /* becomes "/" */
        } else if (!strncmp(a, "/../", 4) || !strcmp(a, "/..")) {
            if (a[3] == '/')
                a += 3;
            else {
                a += 2;
                a[0] = '/';
            }
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (!strcmp(a, ".") || !strcmp(a, "..")) {
            a += strlen(a);
        } else {
            /* move the first segment (with its leading '/') to the output */
            size_t k = (*a == '/') ? 1 : 0;
            while (a[k] && a[k] != '/')
                k++;
            memcpy(out + o, a, k);
            o += k;
            a += k;
        }
    }
    out[o] = 0;
    free(buf);
}

typedef struct sbuf { char *p; size_t n, cap; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (!b->p && b->cap == (size_t)-1)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            free(b->p);
            b->p = NULL;
            b->cap = (size_t)-1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_slice(sbuf *b, slice s) { sb_add(b, s.p, s.n); }
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static char *dot_segments(const char *p, size_t n)
{
    char *out = malloc(n + 1);
    if (out)
        remove_dot_segments(p, n, out);
    return out;
}

char *ct_uri_resolve(const char *base, const char *ref)
{
    if (!ref)
        return NULL;
    if (!base || !*base)
        return ct_strdup(ref);
    uri_parts b, r;
    uri_split(base, &b);
    uri_split(ref, &r);
    slice scheme, authority, query;
    char *path = NULL;
    if (r.scheme.p) {
        scheme = r.scheme;
        authority = r.authority;
        path = dot_segments(r.path.p, r.path.n);
        query = r.query;
    } else {
        scheme = b.scheme;
        if (r.authority.p) {
            authority = r.authority;
            path = dot_segments(r.path.p, r.path.n);
            query = r.query;
        } else {
            authority = b.authority;
            if (r.path.n == 0) {
                path = malloc(b.path.n + 1);
                if (path) {
                    memcpy(path, b.path.p, b.path.n);
                    path[b.path.n] = 0;
                }
                query = r.query.p ? r.query : b.query;
            } else {
                if (r.path.p[0] == '/') {
                    path = dot_segments(r.path.p, r.path.n);
                } else {
                    /* merge (5.2.3) */
                    sbuf m = {0};
                    if (b.authority.p && b.path.n == 0) {
                        sb_str(&m, "/");
                    } else {
                        size_t k = b.path.n;
                        while (k > 0 && b.path.p[k - 1] != '/')
                            k--;
                        sb_add(&m, b.path.p, k);
                    }
                    sb_slice(&m, r.path);
                    if (m.p) {
                        path = dot_segments(m.p, m.n);
                        free(m.p);
                    }
                }
                query = r.query;
            }
        }
    }
    if (!path)
        return NULL;
    sbuf o = {0};
    sb_add(&o, "", 0);
    if (scheme.p) {
        sb_slice(&o, scheme);
        sb_str(&o, ":");
    }
    if (authority.p) {
        sb_str(&o, "//");
        sb_slice(&o, authority);
    }
    sb_str(&o, path);
    if (query.p) {
        sb_str(&o, "?");
        sb_slice(&o, query);
    }
    if (r.fragment.p) {
        sb_str(&o, "#");
        sb_slice(&o, r.fragment);
    }
    free(path);
    return o.p;
}

/* True when the query (n bytes at q) has a parameter named like the one at p. */
static bool query_has_key(const char *q, size_t n, const char *p, size_t pn)
{
    size_t klen = 0;
    while (klen < pn && p[klen] != '=')
        klen++;
    const char *end = q + n;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        size_t len = amp ? (size_t)(amp - q) : (size_t)(end - q);
        size_t k = 0;
        while (k < len && q[k] != '=')
            k++;
        if (k == klen && !strncmp(q, p, klen))
            return true;
        q += len + (amp ? 1 : 0);
    }
    return false;
}

char *ct_uri_with_query_of(const char *uri, const char *base)
{
    uri_parts u, b;
    uri_split(uri, &u);
    uri_split(base, &b);
    if (!b.query.p || b.query.n == 0)
        return ct_strdup(uri);
    /* CesiumJS (Resource.getDerivedResource, preserveQueryParameters): the
     * child keeps its own parameters and gains the parent's other ones. */
    sbuf o = {0};
    size_t before = u.query.p ? (size_t)(u.query.p - uri) + u.query.n
                              : (u.fragment.p ? (size_t)(u.fragment.p - 1 - uri) : strlen(uri));
    sb_add(&o, uri, before);
    bool first = !u.query.p || u.query.n == 0;
    if (!u.query.p)
        sb_str(&o, "?");
    const char *q = b.query.p, *end = b.query.p + b.query.n;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        size_t len = amp ? (size_t)(amp - q) : (size_t)(end - q);
        if (len && !(u.query.p && query_has_key(u.query.p, u.query.n, q, len))) {
            if (!first)
                sb_str(&o, "&");
            sb_add(&o, q, len);
            first = false;
        }
        q += len + (amp ? 1 : 0);
    }
    if (u.fragment.p) {
        sb_str(&o, "#");
        sb_slice(&o, u.fragment);
    }
    return o.p;
}

char *ct_uri_template(const char *tmpl, int level, uint32_t x, uint32_t y, uint32_t z)
{
    sbuf o = {0};
    sb_add(&o, "", 0);
    for (const char *p = tmpl; *p;) {
        char num[32];
        const char *key = NULL;
        if (!strncmp(p, "{level}", 7)) {
            snprintf(num, sizeof num, "%d", level);
            key = "{level}";
        } else if (!strncmp(p, "{x}", 3)) {
            snprintf(num, sizeof num, "%u", x);
            key = "{x}";
        } else if (!strncmp(p, "{y}", 3)) {
            snprintf(num, sizeof num, "%u", y);
            key = "{y}";
        } else if (!strncmp(p, "{z}", 3)) {
            snprintf(num, sizeof num, "%u", z);
            key = "{z}";
        }
        if (key) {
            sb_str(&o, num);
            p += strlen(key);
        } else {
            sb_add(&o, p, 1);
            p++;
        }
    }
    return o.p;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

char *tileset_uri_to_path(const char *uri)
{
    uri_parts u;
    uri_split(uri, &u);
    slice p = u.path;
    if (!(u.scheme.p && u.scheme.n == 4 && !strncasecmp(u.scheme.p, "file", 4))) {
        if (u.scheme.p && u.scheme.n > 1)
            return NULL;
        /* plain path: keep it whole, including a '?' or '#' that is part of a file name */
        return ct_strdup(uri);
    }
    char *out = malloc(p.n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < p.n; i++) {
        if (p.p[i] == '%' && i + 2 < p.n && hexval(p.p[i + 1]) >= 0 &&
            hexval(p.p[i + 2]) >= 0) {
            int v = hexval(p.p[i + 1]) * 16 + hexval(p.p[i + 2]);
            if (v == 0) { /* a NUL byte in a path is never valid */
                free(out);
                return NULL;
            }
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = p.p[i];
        }
    }
    out[o] = 0;
    if (o == 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *ct_uri_to_path(const char *uri)
{
    if (!uri)
        return NULL;
    char *p = tileset_uri_to_path(uri);
    if (p && strncasecmp(uri, "file:", 5)) {
        /* a plain path may carry a query or fragment from the tileset */
        p[strcspn(p, "?#")] = 0;
    }
    return p;
}

char *tileset_path_to_uri(const char *abs_path)
{
    sbuf o = {0};
    sb_str(&o, "file://");
    for (const char *p = abs_path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' || c == '?' || c == '#' || c == ' ' || c < 0x20 || c >= 0x7f) {
            char e[4];
            snprintf(e, sizeof e, "%%%02X", c);
            sb_str(&o, e);
        } else {
            sb_add(&o, (const char *)p, 1);
        }
    }
    return o.p;
}

bool tileset_uri_is_http(const char *uri)
{
    return !strncasecmp(uri, "http://", 7) || !strncasecmp(uri, "https://", 8);
}

const char *tileset_uri_display(const char *uri)
{
    if (!strncmp(uri, "file://", 7))
        return uri + 7;
    return uri;
}
