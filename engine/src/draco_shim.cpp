// KHR_draco_mesh_compression support: a C interface over Debian's C++ libdraco.
// This is the only C++ file in the engine; everything Draco-specific stays here.
#include "gltf_internal.h"

#include <draco/compression/decode.h>

#include <cstdio>
#include <memory>
#include <new>

struct ct_draco_geometry {
    std::unique_ptr<draco::PointCloud> pc; // a draco::Mesh when mesh != nullptr
    const draco::Mesh *mesh = nullptr;
};

extern "C" int ct_draco_decode(const uint8_t *data, size_t size, ct_draco_geometry **out, char *msg, size_t msg_size)
{
    *out = nullptr;
    try {
        draco::DecoderBuffer buf;
        buf.Init(reinterpret_cast<const char *>(data), size);
        auto type = draco::Decoder::GetEncodedGeometryType(&buf);
        if (!type.ok()) {
            snprintf(msg, msg_size, "Draco: %s", type.status().error_msg());
            return 1;
        }
        std::unique_ptr<ct_draco_geometry> g(new ct_draco_geometry);
        draco::Decoder dec;
        if (type.value() == draco::TRIANGULAR_MESH) {
            auto r = dec.DecodeMeshFromBuffer(&buf);
            if (!r.ok()) {
                snprintf(msg, msg_size, "Draco: %s", r.status().error_msg());
                return 1;
            }
            std::unique_ptr<draco::Mesh> m = std::move(r).value();
            g->mesh = m.get();
            g->pc = std::move(m);
        } else if (type.value() == draco::POINT_CLOUD) {
            auto r = dec.DecodePointCloudFromBuffer(&buf);
            if (!r.ok()) {
                snprintf(msg, msg_size, "Draco: %s", r.status().error_msg());
                return 1;
            }
            g->pc = std::move(r).value();
        } else {
            snprintf(msg, msg_size, "Draco: unsupported geometry type %d", (int)type.value());
            return 1;
        }
        // Corner indices must point at existing points; Draco does not promise that for corrupt input.
        if (g->mesh) {
            uint32_t np = g->pc->num_points();
            for (draco::FaceIndex f(0); f < g->mesh->num_faces(); ++f)
                for (int k = 0; k < 3; k++)
                    if (g->mesh->face(f)[k].value() >= np) {
                        snprintf(msg, msg_size, "Draco: face %u refers to point %u of %u", f.value(),
                                 g->mesh->face(f)[k].value(), np);
                        return 1;
                    }
        }
        *out = g.release();
        return 0;
    } catch (const std::bad_alloc &) {
        snprintf(msg, msg_size, "Draco: out of memory");
    } catch (...) {
        snprintf(msg, msg_size, "Draco: decoder failed");
    }
    return 1;
}

extern "C" uint32_t ct_draco_point_count(const ct_draco_geometry *g)
{
    return g->pc->num_points();
}

extern "C" uint32_t ct_draco_face_count(const ct_draco_geometry *g)
{
    return g->mesh ? g->mesh->num_faces() : 0;
}

extern "C" void ct_draco_indices(const ct_draco_geometry *g, uint32_t *out)
{
    if (!g->mesh)
        return;
    size_t i = 0;
    for (draco::FaceIndex f(0); f < g->mesh->num_faces(); ++f)
        for (int k = 0; k < 3; k++)
            out[i++] = g->mesh->face(f)[k].value();
}

extern "C" int ct_draco_attribute_components(const ct_draco_geometry *g, uint32_t unique_id)
{
    const draco::PointAttribute *a = g->pc->GetAttributeByUniqueId(unique_id);
    return a ? a->num_components() : 0;
}

extern "C" int ct_draco_attribute_floats(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, float *out)
{
    const draco::PointAttribute *a = g->pc->GetAttributeByUniqueId(unique_id);
    if (!a || ncomp <= 0 || ncomp > a->num_components())
        return 1;
    uint32_t np = g->pc->num_points();
    for (uint32_t p = 0; p < np; p++) {
        draco::AttributeValueIndex vi = a->mapped_index(draco::PointIndex(p));
        if (vi.value() >= a->size() || !a->ConvertValue<float>(vi, (int8_t)ncomp, out + (size_t)p * ncomp))
            return 1;
    }
    return 0;
}

// Integer attributes (point-cloud colors, batch ids, 3D Tiles batch table
// properties) read without going through float. Fails (1) for float attributes.
extern "C" int ct_draco_attribute_uints(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, uint32_t *out)
{
    const draco::PointAttribute *a = g->pc->GetAttributeByUniqueId(unique_id);
    if (!a || ncomp <= 0 || ncomp > a->num_components())
        return 1;
    switch (a->data_type()) {
    case draco::DT_INT8: case draco::DT_UINT8: case draco::DT_INT16: case draco::DT_UINT16:
    case draco::DT_INT32: case draco::DT_UINT32: case draco::DT_BOOL:
        break;
    default:
        return 1;
    }
    uint32_t np = g->pc->num_points();
    for (uint32_t p = 0; p < np; p++) {
        draco::AttributeValueIndex vi = a->mapped_index(draco::PointIndex(p));
        if (vi.value() >= a->size() || !a->ConvertValue<uint32_t>(vi, (int8_t)ncomp, out + (size_t)p * ncomp))
            return 1;
    }
    return 0;
}

extern "C" void ct_draco_destroy(ct_draco_geometry *g)
{
    delete g;
}
