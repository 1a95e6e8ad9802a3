#version 330 core
// Mesh vertex shader. Positions arrive in model space; u_model_view is built
// relative to the eye in double precision on the CPU (RTE), so the float
// values here stay small near the camera.
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

out vec3 v_pos_view;
out vec3 v_normal;
out vec4 v_tangent;
out vec2 v_uv0;
out vec2 v_uv1;
out vec4 v_color;
out float v_log_w;
flat out uint v_feature;
flat out uint v_instance;

void main()
{
    mat4 mv = u_model_view * a_instance;
    vec4 p = mv * vec4(a_position, 1.0);
    mat3 nm = u_normal_matrix * mat3(a_instance);
    v_pos_view = p.xyz;
    v_normal = nm * a_normal;
    v_tangent = vec4(mat3(mv) * a_tangent.xyz, a_tangent.w);
    v_uv0 = a_uv0;
    v_uv1 = a_uv1;
    v_color = a_color;
    v_feature = a_feature;
    v_instance = uint(gl_InstanceID);
    gl_Position = u_projection * p;
    v_log_w = 1.0 + gl_Position.w;
    gl_PointSize = u_point_size;
}
