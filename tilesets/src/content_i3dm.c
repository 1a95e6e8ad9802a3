/* Instanced 3D Model (i3dm): per-instance matrices from the feature table
 * (POSITION / POSITION_QUANTIZED, NORMAL_UP+RIGHT or their OCT32P forms,
 * EAST_NORTH_UP, SCALE / SCALE_NON_UNIFORM, RTC_CENTER, BATCH_ID) and a glTF
 * that is embedded (gltfFormat 1) or referenced by URI (gltfFormat 0). */
#include "content_internal.h"

#include "citytwin/ct_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ct_status load_external_gltf(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_gltf **out,
                                    ct_error *err)
{
    /* The URI is padded with spaces or NULs. */
    while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == 0))
        n--;
    if (n == 0)
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm at byte %zu: empty glTF URI", ctx->uri, off);
    char *uri = malloc(n + 1);
    if (!uri)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    memcpy(uri, d, n);
    uri[n] = 0;
    if (strlen(uri) != n) {
        free(uri);
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm glTF URI at byte %zu contains a NUL byte", ctx->uri, off);
    }
    uint8_t *data = NULL;
    size_t size = 0;
    ct_status st = ct_content_fetch(ctx, uri, &data, &size, err);
    if (!st) {
        /* The glTF's own relative URIs resolve against the glTF's directory. */
        ct_tile_content_options o = *ctx->opts;
        char *sub = ct_path_dirname(uri);
        char *dir = o.base_dir && sub ? ct_path_join(o.base_dir, sub) : NULL;
        o.base_dir = dir;
        ct_content_ctx c2 = *ctx;
        c2.opts = &o;
        st = ct_content_load_gltf(&c2, data, size, off, out, err);
        if (st)
            ct_error_prefix(err, "external glTF %s: ", uri);
        free(dir);
        free(sub);
    }
    free(data);
    free(uri);
    return st;
}

ct_status ct_content_decode_i3dm(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err)
{
    m->format = CT_TILE_FORMAT_I3DM;
    ct_tile_header h;
    ct_status st = ct_tile_header_parse(ctx, "i3dm", d, n, off, 32, &h, err);
    if (st)
        return st;
    if (h.gltf_format > 1)
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm gltfFormat %u at byte %zu is not 0 (URI) or 1 (embedded)",
                            ctx->uri, h.gltf_format, off + 28);
    ct_ftable ft;
    st = ct_ftable_init(&ft, ctx, "feature table", d + h.ft_json_off, h.ft_json_len, off + h.ft_json_off,
                        d + h.ft_bin_off, h.ft_bin_len, off + h.ft_bin_off, err);
    if (st)
        return st;
    uint32_t count = 0;
    bool has_rtc = false, has_qo = false, has_qs = false;
    double qoff[3] = {0}, qscale[3] = {0};
    static const ct_ctype t_float[] = {CT_CT_FLOAT, CT_CT_NONE};
    static const ct_ctype t_ushort[] = {CT_CT_USHORT, CT_CT_NONE};
    static const ct_ctype t_batch[] = {CT_CT_UBYTE, CT_CT_USHORT, CT_CT_UINT, CT_CT_NONE};
    ct_array pos = {0}, posq = {0}, up = {0}, right = {0}, upo = {0}, righto = {0}, scale = {0}, scale3 = {0},
             batch = {0};
    st = ct_ftable_uint(&ft, "INSTANCES_LENGTH", true, &count, NULL, err);
    if (!st) st = ct_ftable_vec(&ft, "RTC_CENTER", 3, m->rtc_center, &has_rtc, err);
    if (!st) st = ct_ftable_vec(&ft, "QUANTIZED_VOLUME_OFFSET", 3, qoff, &has_qo, err);
    if (!st) st = ct_ftable_vec(&ft, "QUANTIZED_VOLUME_SCALE", 3, qscale, &has_qs, err);
    /* Every array is bounds-checked against the body before anything is
     * allocated per instance, so an absurd INSTANCES_LENGTH fails here. */
    if (!st) st = ct_ftable_array(&ft, "POSITION", count, 3, CT_CT_FLOAT, t_float, &pos, err);
    if (!st) st = ct_ftable_array(&ft, "POSITION_QUANTIZED", count, 3, CT_CT_USHORT, t_ushort, &posq, err);
    if (!st) st = ct_ftable_array(&ft, "NORMAL_UP", count, 3, CT_CT_FLOAT, t_float, &up, err);
    if (!st) st = ct_ftable_array(&ft, "NORMAL_RIGHT", count, 3, CT_CT_FLOAT, t_float, &right, err);
    if (!st) st = ct_ftable_array(&ft, "NORMAL_UP_OCT32P", count, 2, CT_CT_USHORT, t_ushort, &upo, err);
    if (!st) st = ct_ftable_array(&ft, "NORMAL_RIGHT_OCT32P", count, 2, CT_CT_USHORT, t_ushort, &righto, err);
    if (!st) st = ct_ftable_array(&ft, "SCALE", count, 1, CT_CT_FLOAT, t_float, &scale, err);
    if (!st) st = ct_ftable_array(&ft, "SCALE_NON_UNIFORM", count, 3, CT_CT_FLOAT, t_float, &scale3, err);
    if (!st) st = ct_ftable_array(&ft, "BATCH_ID", count, 1, CT_CT_USHORT, t_batch, &batch, err);
    bool enu = ct_ftable_bool(&ft, "EAST_NORTH_UP");
    ct_ftable_free(&ft);
    if (st)
        return st;
    if (count > 0 && !pos.data && !posq.data)
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm feature table at byte %zu has neither POSITION nor "
                            "POSITION_QUANTIZED", ctx->uri, off + h.ft_json_off);
    if (!pos.data && posq.data && (!has_qo || !has_qs))
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm POSITION_QUANTIZED needs QUANTIZED_VOLUME_OFFSET and "
                            "QUANTIZED_VOLUME_SCALE (feature table at byte %zu)", ctx->uri, off + h.ft_json_off);
    if ((up.data != NULL) != (right.data != NULL) || (upo.data != NULL) != (righto.data != NULL))
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm NORMAL_UP and NORMAL_RIGHT must come together "
                            "(feature table at byte %zu)", ctx->uri, off + h.ft_json_off);
    m->has_rtc_center = has_rtc;
    memcpy(m->origin, m->rtc_center, sizeof m->origin);
    m->instance_count = count;
    m->feature_count = count;
    m->instance_matrices = ct_malloc_array(count ? count : 1, 16 * sizeof(double));
    if (batch.data)
        m->instance_batch_ids = ct_malloc_array(count ? count : 1, sizeof(uint32_t));
    if (!m->instance_matrices || (batch.data && !m->instance_batch_ids))
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for %u instances", ctx->uri, count);

    double tile[16], tile_inv[16];
    if (ctx->opts->tile_transform)
        memcpy(tile, ctx->opts->tile_transform, sizeof tile);
    else
        ct_dmat4_identity(tile);
    if (!ct_dmat4_invert(tile_inv, tile))
        ct_dmat4_identity(tile_inv);
    for (uint32_t i = 0; i < count; i++) {
        double p[3];
        for (int c = 0; c < 3; c++) {
            if (pos.data)
                p[c] = ct_ctype_read(pos.data, pos.ctype, i, 3, c);
            else
                p[c] = qoff[c] + ct_ctype_read(posq.data, posq.ctype, i, 3, c) / 65535.0 * qscale[c];
            p[c] += m->rtc_center[c];
        }
        /* Rotation columns: right, up, forward = right x up (CesiumJS). */
        double r[3] = {1, 0, 0}, u[3] = {0, 1, 0}, f[3] = {0, 0, 1};
        if (up.data || upo.data) {
            for (int c = 0; c < 3 && up.data; c++) {
                u[c] = ct_ctype_read(up.data, up.ctype, i, 3, c);
                r[c] = ct_ctype_read(right.data, right.ctype, i, 3, c);
            }
            if (upo.data) {
                ct_oct_decode(ct_ctype_read(upo.data, upo.ctype, i, 2, 0), ct_ctype_read(upo.data, upo.ctype, i, 2, 1),
                              65535.0, u);
                ct_oct_decode(ct_ctype_read(righto.data, righto.ctype, i, 2, 0),
                              ct_ctype_read(righto.data, righto.ctype, i, 2, 1), 65535.0, r);
            }
            ct_dvec3 fw = ct_dvec3_cross((ct_dvec3){r[0], r[1], r[2]}, (ct_dvec3){u[0], u[1], u[2]});
            f[0] = fw.x, f[1] = fw.y, f[2] = fw.z;
        } else if (enu) {
            /* East/north/up at the instance's place on the globe, expressed in the tile frame. */
            ct_dvec3 w = ct_dmat4_transform_point(tile, (ct_dvec3){p[0], p[1], p[2]});
            double e[16];
            ct_geo_enu_frame(w, e);
            ct_dvec3 ee = ct_dmat4_transform_dir(tile_inv, (ct_dvec3){e[0], e[1], e[2]});
            ct_dvec3 nn = ct_dmat4_transform_dir(tile_inv, (ct_dvec3){e[4], e[5], e[6]});
            ct_dvec3 uu = ct_dmat4_transform_dir(tile_inv, (ct_dvec3){e[8], e[9], e[10]});
            /* Far inside the earth (local, non-geographic coordinates) an ENU frame
             * means nothing: keep the identity there. */
            if (ct_dvec3_length(w) > 1e5 && isfinite(ee.x + ee.y + ee.z + nn.x + nn.y + nn.z + uu.x + uu.y + uu.z)) {
                r[0] = ee.x, r[1] = ee.y, r[2] = ee.z;
                u[0] = nn.x, u[1] = nn.y, u[2] = nn.z;
                f[0] = uu.x, f[1] = uu.y, f[2] = uu.z;
            }
        }
        double s[3] = {1, 1, 1};
        if (scale.data)
            s[0] = s[1] = s[2] = ct_ctype_read(scale.data, scale.ctype, i, 1, 0);
        if (scale3.data)
            for (int c = 0; c < 3; c++)
                s[c] *= ct_ctype_read(scale3.data, scale3.ctype, i, 3, c);
        for (int c = 0; c < 3; c++)
            if (!isfinite(p[c]) || !isfinite(s[c]) || !isfinite(r[c]) || !isfinite(u[c]))
                return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm instance %u has a non-finite position, rotation or "
                                    "scale", ctx->uri, i);
        double *M = m->instance_matrices + 16 * (size_t)i;
        for (int c = 0; c < 3; c++) {
            M[0 + c] = r[c] * s[0];
            M[4 + c] = u[c] * s[1];
            M[8 + c] = f[c] * s[2];
            M[12 + c] = p[c];
        }
        M[3] = M[7] = M[11] = 0;
        M[15] = 1;
        if (batch.data)
            m->instance_batch_ids[i] = (uint32_t)ct_ctype_read(batch.data, batch.ctype, i, 1, 0);
    }
    if (batch.data) {
        /* Features are the distinct batch ids: BATCH_ID indexes the batch table. */
        uint32_t mx = 0;
        for (uint32_t i = 0; i < count; i++)
            if (m->instance_batch_ids[i] + 1 > mx)
                mx = m->instance_batch_ids[i] + 1;
        m->feature_count = mx;
    }
    if (h.bt_json_len || h.bt_bin_len) {
        ct_error e;
        if (ct_batch_table_create(ctx, d + h.bt_json_off, h.bt_json_len, off + h.bt_json_off, d + h.bt_bin_off,
                                  h.bt_bin_len, off + h.bt_bin_off, m->feature_count, &m->batch_table, &e))
            ct_content_warn(ctx, &e);
    }
    if (h.end_off <= h.body_off)
        return ct_error_set(err, CT_ERR_INPUT, "%s: i3dm at byte %zu has no glTF body", ctx->uri, off);
    if (h.gltf_format == 1)
        st = ct_content_load_gltf(ctx, d + h.body_off, h.end_off - h.body_off, off + h.body_off, &m->gltf, err);
    else
        st = load_external_gltf(ctx, d + h.body_off, h.end_off - h.body_off, off + h.body_off, &m->gltf, err);
    if (st)
        return st;
    /* EXT_structural_metadata / EXT_mesh_features of an embedded glTF body
     * (an external one's buffers are not at hand here) */
    ct_error e;
    if (h.gltf_format == 1 && ct_content_load_metadata(ctx, d + h.body_off, h.end_off - h.body_off, off + h.body_off,
                                                       m->gltf, &m->property_tables, &e))
        ct_content_warn(ctx, &e);
    ct_tile_up_axis_to_z_up(ctx->opts->gltf_up_axis, m->model_matrix);
    return CT_OK;
}
