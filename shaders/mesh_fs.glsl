#version 330 core
// Mesh fragment shader: base color (factor * texture * vertex color), alpha
// modes, directional sun + ambient with a simple metallic/roughness
// approximation, normal maps, emissive, unlit; ids for picking.
// Variants as in mesh_vs.glsl; CT_MASK: alpha mode MASK (the only variant
// with a discard), CT_DIRECT: see below.
#ifdef CT_LIT
in vec3 v_pos_view;
#endif
#ifdef CT_NORMALS
in vec3 v_normal;
#endif
#ifdef CT_NORMALMAP
in vec4 v_tangent;
#endif
#if defined(CT_TEX) && defined(CT_DIRECT)
in vec2 v_uv;
#elif defined(CT_TEX)
in vec4 v_uv;
#endif
#ifdef CT_COLOR
in vec4 v_color;
#endif
#ifdef CT_PICK
flat in uint v_feature;
flat in uint v_instance;
#endif
#ifdef CT_LOG_DEPTH
in float v_log_w;
#endif

layout(location = 0) out vec4 o_color;
#ifdef CT_PICK
layout(location = 1) out uvec4 o_id;
#endif

uniform vec4 u_base_color;
uniform vec3 u_emissive;
uniform float u_metallic;
uniform float u_roughness;
uniform int u_alpha_mode;      // 0 opaque, 1 mask, 2 blend
uniform float u_alpha_cutoff;
uniform int u_double_sided;
// textures: 0 base color, 1 metallic-roughness, 2 normal, 3 occlusion, 4 emissive
uniform sampler2D u_tex[5];
uniform int u_tex_on[5];
uniform int u_tex_uv[5];
uniform mat3 u_tex_matrix[5];
uniform float u_normal_scale;
uniform float u_occlusion_strength;

uniform vec3 u_sun_view;       // towards the light, view space
uniform float u_sun;
uniform float u_ambient;

uniform float u_log_coef;      // 1 / log2(far + 1)

uniform uint u_pick_id;
uniform uint u_draw_id;        // index of the draw in this frame + 1
uniform uint u_primitive;
uniform int u_instance_features;

vec3 srgb_to_linear(vec3 c)
{
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c));
}

vec3 linear_to_srgb(vec3 c)
{
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

#if defined(CT_TEX) && !defined(CT_DIRECT)
vec2 tex_uv(int i)
{
    vec2 uv = u_tex_uv[i] == 1 ? v_uv.zw : v_uv.xy;
    return (u_tex_matrix[i] * vec3(uv, 1.0)).xy;
}
// Sampler arrays may only be indexed by constants: a macro, not a function.
#define tex(i) texture(u_tex[i], tex_uv(i))
#endif

void main()
{
#if defined(CT_DIRECT) && defined(CT_TEX)
    // Opaque unlit base color texture on uv0, factor white, no vertex color,
    // transform or emissive: sRGB in, sRGB out, the texel is the color. This
    // skips two sRGB conversions (six pow) per fragment, half the frame on
    // llvmpipe for photogrammetry tiles.
    o_color = vec4(texture(u_tex[0], v_uv).rgb, 1.0);
#else
    vec4 base = u_base_color;
#ifdef CT_COLOR
    base *= v_color;
#endif
#ifdef CT_TEX
    if (u_tex_on[0] != 0) {
        vec4 t = tex(0);
        base *= vec4(srgb_to_linear(t.rgb), t.a);
    }
#endif
#ifdef CT_MASK
    if (base.a < u_alpha_cutoff)
        discard;
#endif
    float alpha = u_alpha_mode == 2 ? base.a : 1.0;

    vec3 color;
#ifndef CT_LIT
    color = base.rgb;
#else
#ifdef CT_NORMALS
    vec3 n = normalize(v_normal);
#else
    vec3 n = normalize(cross(dFdx(v_pos_view), dFdy(v_pos_view))); // flat normals
#endif
    if (u_double_sided != 0 && !gl_FrontFacing)
        n = -n;
#if defined(CT_NORMALMAP) && defined(CT_TEX)
    if (u_tex_on[2] != 0) {
        vec3 t = normalize(v_tangent.xyz - n * dot(n, v_tangent.xyz));
        vec3 b = cross(n, t) * (v_tangent.w < 0.0 ? -1.0 : 1.0);
        if (u_double_sided != 0 && !gl_FrontFacing)
            b = -b;
        vec3 tn = tex(2).xyz * 2.0 - 1.0;
        tn.xy *= u_normal_scale;
        n = normalize(mat3(t, b, n) * tn);
    }
#endif
    float metallic = u_metallic, roughness = u_roughness, ao = 1.0;
#ifdef CT_TEX
    if (u_tex_on[1] != 0) {
        vec4 mr = tex(1);
        roughness *= mr.g;
        metallic *= mr.b;
    }
    if (u_tex_on[3] != 0)
        ao = 1.0 + u_occlusion_strength * (tex(3).r - 1.0);
#endif
    vec3 l = normalize(u_sun_view);
    float ndl = max(dot(n, l), 0.0);
    // Without environment lighting, full PBR metals turn black; keep half the diffuse.
    vec3 diffuse = base.rgb * (1.0 - 0.5 * metallic);
    color = diffuse * (u_ambient * ao + u_sun * ndl);
    float gloss = (1.0 - roughness) * (1.0 - roughness);
    if (gloss > 0.0 && ndl > 0.0) {
        vec3 v = normalize(-v_pos_view);
        float spec = pow(max(dot(n, normalize(l + v)), 0.0), mix(128.0, 4.0, roughness)) * gloss;
        color += mix(vec3(0.04), base.rgb, metallic) * spec * u_sun;
    }
#endif
    vec3 emissive = u_emissive;
#ifdef CT_TEX
    if (u_tex_on[4] != 0)
        emissive *= srgb_to_linear(tex(4).rgb);
#endif
    color += emissive;

    o_color = vec4(linear_to_srgb(color), alpha);
#endif
#ifdef CT_PICK
    uint feature = u_instance_features != 0 ? v_instance + 1u : (v_feature == 0xFFFFFFFFu ? 0u : v_feature + 1u);
    o_id = uvec4(u_pick_id, feature, u_draw_id, (u_primitive & 0xFFFFu) | (v_instance << 16));
#endif
#ifdef CT_LOG_DEPTH
    // Only in the log-depth variant: writing gl_FragDepth disables early depth tests.
    gl_FragDepth = log2(v_log_w) * u_log_coef;
#endif
}
