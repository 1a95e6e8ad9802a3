/* Builds b3dm / i3dm / pnts / cmpt buffers in memory for tests and fuzz seeds:
 * JSON parts padded with spaces and binary parts with zeros to 8 bytes. */
#ifndef CT_CONTENT_BUILD_H
#define CT_CONTENT_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tb_buf {
    uint8_t *d;
    size_t n, cap;
} tb_buf;

static inline void tb_put(tb_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
    }
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}

static inline void tb_u32(tb_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tb_put(b, x, 4);
}

static inline void tb_set_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static inline size_t tb_pad(size_t n) { return (n + 7) & ~(size_t)7; }

/* magic "b3dm"/"pnts" (28-byte header) or "i3dm" (32, gltf_format used). */
static inline uint8_t *tb_tile(const char *magic, const char *ft_json, const void *ft_bin, size_t ft_bin_len,
                        const char *bt_json, const void *bt_bin, size_t bt_bin_len, const void *body, size_t body_len,
                        uint32_t gltf_format, size_t *out_size)
{
    size_t hs = strcmp(magic, "i3dm") == 0 ? 32 : 28;
    size_t fj = ft_json ? strlen(ft_json) : 0, bj = bt_json ? strlen(bt_json) : 0;
    size_t fjp = fj ? tb_pad(hs + fj) - hs : 0, fbp = tb_pad(ft_bin_len);
    size_t bjp = bj ? tb_pad(bj) : 0, bbp = tb_pad(bt_bin_len);
    tb_buf b = {0};
    tb_put(&b, magic, 4);
    tb_u32(&b, 1);
    tb_u32(&b, 0); /* byteLength, set below */
    tb_u32(&b, (uint32_t)fjp);
    tb_u32(&b, (uint32_t)fbp);
    tb_u32(&b, (uint32_t)bjp);
    tb_u32(&b, (uint32_t)bbp);
    if (hs == 32)
        tb_u32(&b, gltf_format);
    static const char spaces[8] = "        ";
    static const uint8_t zeros[8] = {0};
    tb_put(&b, ft_json, fj);
    tb_put(&b, spaces, fjp - fj);
    tb_put(&b, ft_bin, ft_bin_len);
    tb_put(&b, zeros, fbp - ft_bin_len);
    tb_put(&b, bt_json, bj);
    tb_put(&b, spaces, bjp - bj);
    tb_put(&b, bt_bin, bt_bin_len);
    tb_put(&b, zeros, bbp - bt_bin_len);
    tb_put(&b, body, body_len);
    tb_set_u32(b.d + 8, (uint32_t)b.n);
    *out_size = b.n;
    return b.d;
}

/* A cmpt holding the given inner tiles. */
static inline uint8_t *tb_cmpt(int n, uint8_t *const *tiles, const size_t *sizes, size_t *out_size)
{
    tb_buf b = {0};
    tb_put(&b, "cmpt", 4);
    tb_u32(&b, 1);
    tb_u32(&b, 0);
    tb_u32(&b, (uint32_t)n);
    for (int i = 0; i < n; i++)
        tb_put(&b, tiles[i], sizes[i]);
    tb_set_u32(b.d + 8, (uint32_t)b.n);
    *out_size = b.n;
    return b.d;
}

static inline uint8_t *tb_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(d, 1, (size_t)(len > 0 ? len : 0), f);
    fclose(f);
    return d;
}

#endif
