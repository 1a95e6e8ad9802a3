/* Point cloud (pnts): POSITION / POSITION_QUANTIZED, RGBA / RGB / RGB565 /
 * CONSTANT_RGBA, NORMAL / NORMAL_OCT16P, BATCH_ID, RTC_CENTER, per-point or
 * per-batch batch tables, and 3DTILES_draco_point_compression. */
#include "content_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ct_status oom(const ct_content_ctx *ctx, ct_error *err)
{
    return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
}

/* content_draco.c: fills positions/colors/normals/batch ids and Draco-compressed
 * batch table properties from the 3DTILES_draco_point_compression stream. */
ct_status ct_content_decode_pnts_draco(const ct_content_ctx *ctx, const ct_ftable *ft, const cJSON *ext,
                                       ct_tile_model *m, ct_error *err);

ct_status ct_content_decode_pnts(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err)
{
    m->format = CT_TILE_FORMAT_PNTS;
    ct_tile_header h;
    ct_status st = ct_tile_header_parse(ctx, "pnts", d, n, off, 28, &h, err);
    if (st)
        return st;
    ct_ftable ft;
    st = ct_ftable_init(&ft, ctx, "feature table", d + h.ft_json_off, h.ft_json_len, off + h.ft_json_off,
                        d + h.ft_bin_off, h.ft_bin_len, off + h.ft_bin_off, err);
    if (st)
        return st;
    static const ct_ctype t_float[] = {CT_CT_FLOAT, CT_CT_NONE};
    static const ct_ctype t_ushort[] = {CT_CT_USHORT, CT_CT_NONE};
    static const ct_ctype t_ubyte[] = {CT_CT_UBYTE, CT_CT_NONE};
    static const ct_ctype t_batch[] = {CT_CT_UBYTE, CT_CT_USHORT, CT_CT_UINT, CT_CT_NONE};
    uint32_t count = 0, batch_length = 0;
    bool has_rtc = false, has_qo = false, has_qs = false, has_const = false, has_batch_length = false;
    double qoff[3] = {0}, qscale[3] = {0}, cc[4] = {0};
    ct_array pos = {0}, posq = {0}, rgba = {0}, rgb = {0}, rgb565 = {0}, nrm = {0}, nrmo = {0}, batch = {0};
    const cJSON *draco = NULL;
    st = ct_ftable_uint(&ft, "POINTS_LENGTH", true, &count, NULL, err);
    if (!st) st = ct_ftable_uint(&ft, "BATCH_LENGTH", false, &batch_length, &has_batch_length, err);
    if (!st) st = ct_ftable_vec(&ft, "RTC_CENTER", 3, m->rtc_center, &has_rtc, err);
    if (!st) st = ct_ftable_vec(&ft, "QUANTIZED_VOLUME_OFFSET", 3, qoff, &has_qo, err);
    if (!st) st = ct_ftable_vec(&ft, "QUANTIZED_VOLUME_SCALE", 3, qscale, &has_qs, err);
    if (!st) st = ct_ftable_vec(&ft, "CONSTANT_RGBA", 4, cc, &has_const, err);
    if (!st && ft.json) {
        const cJSON *ext = cJSON_GetObjectItemCaseSensitive(ft.json, "extensions");
        draco = cJSON_GetObjectItemCaseSensitive(ext, "3DTILES_draco_point_compression");
    }
    const cJSON *dprops = draco ? cJSON_GetObjectItemCaseSensitive(draco, "properties") : NULL;
#define NOT_DRACO(name) (!dprops || !cJSON_GetObjectItemCaseSensitive(dprops, name))
    /* Bounds checks before any per-point allocation: an absurd POINTS_LENGTH fails here. */
    if (!st && NOT_DRACO("POSITION")) st = ct_ftable_array(&ft, "POSITION", count, 3, CT_CT_FLOAT, t_float, &pos, err);
    if (!st && NOT_DRACO("POSITION_QUANTIZED"))
        st = ct_ftable_array(&ft, "POSITION_QUANTIZED", count, 3, CT_CT_USHORT, t_ushort, &posq, err);
    if (!st && NOT_DRACO("RGBA")) st = ct_ftable_array(&ft, "RGBA", count, 4, CT_CT_UBYTE, t_ubyte, &rgba, err);
    if (!st && NOT_DRACO("RGB")) st = ct_ftable_array(&ft, "RGB", count, 3, CT_CT_UBYTE, t_ubyte, &rgb, err);
    if (!st && NOT_DRACO("RGB565")) st = ct_ftable_array(&ft, "RGB565", count, 1, CT_CT_USHORT, t_ushort, &rgb565, err);
    if (!st && NOT_DRACO("NORMAL")) st = ct_ftable_array(&ft, "NORMAL", count, 3, CT_CT_FLOAT, t_float, &nrm, err);
    if (!st && NOT_DRACO("NORMAL_OCT16P"))
        st = ct_ftable_array(&ft, "NORMAL_OCT16P", count, 2, CT_CT_UBYTE, t_ubyte, &nrmo, err);
    if (!st && NOT_DRACO("BATCH_ID")) st = ct_ftable_array(&ft, "BATCH_ID", count, 1, CT_CT_USHORT, t_batch, &batch, err);
#undef NOT_DRACO
    if (!st && count > 0 && !pos.data && !posq.data && (!dprops || !cJSON_GetObjectItemCaseSensitive(dprops, "POSITION")))
        st = ct_error_set(err, CT_ERR_INPUT, "%s: pnts feature table at byte %zu has neither POSITION nor "
                          "POSITION_QUANTIZED", ctx->uri, off + h.ft_json_off);
    /* Draco-compressed positions come out of Draco already dequantized. */
    bool quantized = !pos.data && posq.data;
    if (!st && quantized && (!has_qo || !has_qs))
        st = ct_error_set(err, CT_ERR_INPUT, "%s: pnts POSITION_QUANTIZED needs QUANTIZED_VOLUME_OFFSET and "
                          "QUANTIZED_VOLUME_SCALE (feature table at byte %zu)", ctx->uri, off + h.ft_json_off);
    if (!st && has_const)
        for (int c = 0; c < 4; c++)
            if (!(cc[c] >= 0 && cc[c] <= 255))
                st = ct_error_set(err, CT_ERR_INPUT, "%s: pnts CONSTANT_RGBA[%d] is not in 0..255", ctx->uri, c);
    if (st) {
        ct_ftable_free(&ft);
        return st;
    }

    ct_tile_points *P = &m->points;
    P->count = count;
    m->has_rtc_center = has_rtc;
    /* Origin: RTC (+ the quantized volume offset), so float positions stay small. */
    for (int c = 0; c < 3; c++)
        m->origin[c] = m->rtc_center[c] + (quantized ? qoff[c] : 0);
    ct_dmat4_identity(m->model_matrix);
    m->model_matrix[12] = m->origin[0], m->model_matrix[13] = m->origin[1], m->model_matrix[14] = m->origin[2];
    if (has_const) {
        P->has_constant_color = true;
        for (int c = 0; c < 4; c++)
            P->constant_color[c] = (uint8_t)cc[c];
        P->translucent = P->constant_color[3] < 255;
    }

    /* Positions backed by the binary body are allocated now; Draco positions only
     * once the stream has shown it really holds POINTS_LENGTH points. */
    if (pos.data || posq.data || count == 0) {
        P->positions = ct_malloc_array(count ? count : 1, 3 * sizeof(float));
        if (!P->positions) {
            ct_ftable_free(&ft);
            return oom(ctx, err);
        }
    }
    bool has_batch_id = batch.data || (dprops && cJSON_GetObjectItemCaseSensitive(dprops, "BATCH_ID"));
    if (has_batch_id && !has_batch_length) {
        ct_ftable_free(&ft);
        return ct_error_set(err, CT_ERR_INPUT, "%s: pnts has BATCH_ID but no BATCH_LENGTH (feature table at byte %zu)",
                            ctx->uri, off + h.ft_json_off);
    }
    /* Features: batches when BATCH_ID is present, else (with a batch table) points. */
    m->feature_count = has_batch_id ? batch_length : (h.bt_json_len || h.bt_bin_len) ? count : 0;
    if (h.bt_json_len || h.bt_bin_len) {
        ct_error e;
        if (ct_batch_table_create(ctx, d + h.bt_json_off, h.bt_json_len, off + h.bt_json_off, d + h.bt_bin_off,
                                  h.bt_bin_len, off + h.bt_bin_off, m->feature_count, &m->batch_table, &e))
            ct_content_warn(ctx, &e);
    }
    if (draco) {
        st = ct_content_decode_pnts_draco(ctx, &ft, draco, m, err);
        if (st) {
            ct_ftable_free(&ft);
            return st;
        }
    }
    ct_ftable_free(&ft);
    if (!P->positions)
        return ct_error_set(err, CT_ERR_INPUT, "%s: pnts has no POSITION (feature table at byte %zu)", ctx->uri,
                            off + h.ft_json_off);
    for (uint32_t i = 0; i < count && (pos.data || posq.data); i++)
        for (int c = 0; c < 3; c++)
            P->positions[3 * (size_t)i + c] =
                pos.data ? (float)ct_ctype_read(pos.data, pos.ctype, i, 3, c)
                         : (float)(ct_ctype_read(posq.data, posq.ctype, i, 3, c) / 65535.0 * qscale[c]);
    if (rgba.data || rgb.data || rgb565.data) {
        P->colors = ct_malloc_array(count ? count : 1, 4);
        if (!P->colors)
            return oom(ctx, err);
        for (uint32_t i = 0; i < count; i++) {
            uint8_t *o = P->colors + 4 * (size_t)i;
            if (rgba.data) {
                memcpy(o, rgba.data + 4 * (size_t)i, 4);
            } else if (rgb.data) {
                memcpy(o, rgb.data + 3 * (size_t)i, 3);
                o[3] = 255;
            } else {
                uint32_t v = (uint32_t)ct_ctype_read(rgb565.data, rgb565.ctype, i, 1, 0);
                /* 5-6-5 bits, each scaled to 0..255 as CesiumJS decodeRGB565 does. */
                o[0] = (uint8_t)lround(((v >> 11) & 31) / 31.0 * 255.0);
                o[1] = (uint8_t)lround(((v >> 5) & 63) / 63.0 * 255.0);
                o[2] = (uint8_t)lround((v & 31) / 31.0 * 255.0);
                o[3] = 255;
            }
        }
        P->translucent = rgba.data != NULL;
    }
    if (nrm.data || nrmo.data) {
        P->normals = ct_malloc_array(count ? count : 1, 3 * sizeof(float));
        if (!P->normals)
            return oom(ctx, err);
        for (uint32_t i = 0; i < count; i++) {
            double v[3];
            if (nrm.data) {
                for (int c = 0; c < 3; c++)
                    v[c] = ct_ctype_read(nrm.data, nrm.ctype, i, 3, c);
            } else {
                ct_oct_decode(ct_ctype_read(nrmo.data, nrmo.ctype, i, 2, 0), ct_ctype_read(nrmo.data, nrmo.ctype, i, 2, 1),
                              255.0, v);
            }
            for (int c = 0; c < 3; c++)
                P->normals[3 * (size_t)i + c] = (float)v[c];
        }
    }
    if (batch.data) {
        P->batch_ids = ct_malloc_array(count ? count : 1, sizeof(uint32_t));
        if (!P->batch_ids)
            return oom(ctx, err);
        for (uint32_t i = 0; i < count; i++)
            P->batch_ids[i] = (uint32_t)ct_ctype_read(batch.data, batch.ctype, i, 1, 0);
    }
    for (size_t i = 0; i < 3 * (size_t)count; i++)
        if (!isfinite(P->positions[i]))
            return ct_error_set(err, CT_ERR_INPUT, "%s: pnts point %zu has a non-finite position", ctx->uri, i / 3);
    for (uint32_t i = 0; P->batch_ids && i < count; i++)
        if (P->batch_ids[i] >= m->feature_count) {
            /* Kept: picking such a point just finds no properties. */
            ct_error e;
            ct_error_set(&e, CT_ERR_INPUT, "%s: pnts BATCH_ID %u of point %u is not below BATCH_LENGTH %u", ctx->uri,
                         P->batch_ids[i], i, m->feature_count);
            ct_content_warn(ctx, &e);
            break;
        }
    /* A batch table without properties (e.g. "{}") makes no features. */
    if (!P->batch_ids && ct_tile_batch_table_property_count(m->batch_table) == 0)
        m->feature_count = 0;
    return CT_OK;
}
