/* Helpers shared by the tiles tests: temp folders and small files. */
#ifndef TILES_TEST_UTIL_H
#define TILES_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *tt_tempdir(const char *tag)
{
    char tmpl[256];
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpl, sizeof tmpl, "%s/ct_%s_XXXXXX", base, tag);
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline void tt_write(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    /* create parent folders */
    for (char *s = p + strlen(dir) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static inline void tt_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static inline void tt_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[2048];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            tt_rmtree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A minimal valid GLB: a JSON chunk describing one buffer, and a BIN chunk
 * of `payload` bytes (so a tile has a known size). */
static inline size_t tt_make_glb(uint8_t **out, size_t payload)
{
    char json[256];
    int jn = snprintf(json, sizeof json, "{\"asset\":{\"version\":\"2.0\"},\"buffers\":[{\"byteLength\":%zu}]}", payload);
    size_t jpad = ((size_t)jn + 3) & ~(size_t)3, bpad = (payload + 3) & ~(size_t)3;
    size_t total = 12 + 8 + jpad + 8 + bpad;
    uint8_t *b = calloc(1, total);
    uint32_t v;
    memcpy(b, "glTF", 4);
    v = 2;
    memcpy(b + 4, &v, 4);
    v = (uint32_t)total;
    memcpy(b + 8, &v, 4);
    v = (uint32_t)jpad;
    memcpy(b + 12, &v, 4);
    memcpy(b + 16, "JSON", 4);
    memset(b + 20, ' ', jpad);
    memcpy(b + 20, json, (size_t)jn);
    v = (uint32_t)bpad;
    memcpy(b + 20 + jpad, &v, 4);
    memcpy(b + 24 + jpad, "BIN\0", 4);
    *out = b;
    return total;
}

#endif
