#version 330 core
// Mesh vertex shader. Positions arrive in model space; u_model_view is built
// relative to the eye in double precision on the CPU (RTE), so the float
// values here stay small near the camera.
// Variants (defines): CT_LIT, CT_NORMALS, CT_NORMALMAP, CT_TEX, CT_COLOR,
// CT_PICK, CT_LOG_DEPTH, CT_MASK, CT_DIRECT. Each carries only the varyings it
// needs: on a software rasterizer the cost of a triangle grows with every
// varying. CT_DIRECT (with CT_TEX, never CT_LIT): the base color texture is
// the output as is (unlit photogrammetry), so only uv0 travels.
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec4 a_tangent;
layout(location = 3) in vec2 a_uv0;
layout(location = 4) in vec2 a_uv1;
layout(location = 5) in vec4 a_color;
layout(location = 6) in uint a_feature;
layout(location = 7) in mat4 a_instance; // EXT_mesh_gpu_instancing (identity when not instanced)

uniform mat4 u_model_view;
uniform mat3 u_normal_matrix;
uniform mat4 u_projection;
uniform float u_point_size;
uniform bool u_billboard; // KHR_techniques_webgl billboard: a_position is a view-space offset from the origin

#ifdef CT_LIT
out vec3 v_pos_view;
#endif
#ifdef CT_NORMALS
out vec3 v_normal;
#endif
#ifdef CT_NORMALMAP
out vec4 v_tangent;
#endif
#if defined(CT_TEX) && defined(CT_DIRECT)
out vec2 v_uv; // uv0
#elif defined(CT_TEX)
out vec4 v_uv; // uv0, uv1
#endif
#ifdef CT_COLOR
out vec4 v_color;
#endif
#ifdef CT_PICK
flat out uint v_feature;
flat out uint v_instance;
#endif
#ifdef CT_LOG_DEPTH
out float v_log_w;
#endif

void main()
{
    mat4 mv = u_model_view * a_instance;
    vec4 p = u_billboard ? vec4(mv[3].xyz + a_position, 1.0) : mv * vec4(a_position, 1.0);
#ifdef CT_LIT
    v_pos_view = p.xyz;
#endif
#ifdef CT_NORMALS
    v_normal = u_normal_matrix * mat3(a_instance) * a_normal;
#endif
#ifdef CT_NORMALMAP
    v_tangent = vec4(mat3(mv) * a_tangent.xyz, a_tangent.w);
#endif
#if defined(CT_TEX) && defined(CT_DIRECT)
    v_uv = a_uv0;
#elif defined(CT_TEX)
    v_uv = vec4(a_uv0, a_uv1);
#endif
#ifdef CT_COLOR
    v_color = a_color;
#endif
#ifdef CT_PICK
    v_feature = a_feature;
    v_instance = uint(gl_InstanceID);
#endif
    gl_Position = u_projection * p;
#ifdef CT_LOG_DEPTH
    v_log_w = 1.0 + gl_Position.w;
#endif
    gl_PointSize = u_point_size;
}
