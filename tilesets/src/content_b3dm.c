/* Batched 3D Model (b3dm): header, feature table (BATCH_LENGTH, RTC_CENTER),
 * batch table, and an embedded GLB; the two legacy header layouts too. */
#include "content_internal.h"

#include <string.h>

ct_status ct_content_decode_b3dm(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err)
{
    m->format = CT_TILE_FORMAT_B3DM;
    ct_tile_header h;
    ct_status st = ct_tile_header_parse(ctx, "b3dm", d, n, off, 28, &h, err);
    if (st)
        return st;
    ct_ftable ft;
    st = ct_ftable_init(&ft, ctx, "feature table", d + h.ft_json_off, h.ft_json_len, off + h.ft_json_off,
                        d + h.ft_bin_off, h.ft_bin_len, off + h.ft_bin_off, err);
    if (st)
        return st;
    uint32_t batch_length = h.batch_length;
    if (!h.legacy)
        st = ct_ftable_uint(&ft, "BATCH_LENGTH", false, &batch_length, NULL, err);
    if (!st && batch_length > CT_CONTENT_MAX_COUNT)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: b3dm batchLength %u at byte %zu is absurd", ctx->uri, batch_length,
                          off + 12);
    bool has_rtc = false;
    if (!st)
        st = ct_ftable_vec(&ft, "RTC_CENTER", 3, m->rtc_center, &has_rtc, err);
    ct_ftable_free(&ft);
    if (st)
        return st;
    m->feature_count = batch_length;
    if (h.bt_json_len || h.bt_bin_len) {
        ct_error e;
        if (ct_batch_table_create(ctx, d + h.bt_json_off, h.bt_json_len, off + h.bt_json_off, d + h.bt_bin_off,
                                  h.bt_bin_len, off + h.bt_bin_off, batch_length, &m->batch_table, &e))
            ct_content_warn(ctx, &e);
    }
    if (h.end_off <= h.body_off)
        return ct_error_set(err, CT_ERR_INPUT, "%s: b3dm at byte %zu has no glTF body", ctx->uri, off);
    st = ct_content_load_gltf(ctx, d + h.body_off, h.end_off - h.body_off, off + h.body_off, &m->gltf, err);
    if (st)
        return st;
    if (!m->batch_table) {
        ct_error e;
        if (ct_content_load_metadata(ctx, d + h.body_off, h.end_off - h.body_off, off + h.body_off, m->gltf,
                                     &m->property_tables, &e))
            ct_content_warn(ctx, &e);
    }
    if (!has_rtc && m->gltf->has_rtc_center) {
        has_rtc = true;
        memcpy(m->rtc_center, m->gltf->rtc_center, sizeof m->rtc_center);
    }
    m->has_rtc_center = has_rtc;
    double yup[16], t[16];
    ct_tile_up_axis_to_z_up(ctx->opts->gltf_up_axis, yup);
    ct_dmat4_identity(t);
    if (has_rtc) {
        memcpy(m->origin, m->rtc_center, sizeof m->origin);
        t[12] = m->origin[0], t[13] = m->origin[1], t[14] = m->origin[2];
    }
    ct_dmat4_mul(m->model_matrix, t, yup);
    return CT_OK;
}
