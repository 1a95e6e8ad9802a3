#version 330 core
// Screen-space text and panels (ct_text.h): positions in pixels, top-left origin.
layout(location = 0) in vec2 a_pos;
layout(location = 1) in vec2 a_uv;       // atlas texels
layout(location = 2) in vec4 a_color;    // sRGB + alpha
layout(location = 3) in vec4 a_halo;     // sRGB + alpha
layout(location = 4) in float a_halo_px;

uniform vec2 u_viewport;

out vec2 v_uv;
out vec4 v_color;
out vec4 v_halo;
out float v_halo_px;

void main()
{
    gl_Position = vec4(a_pos.x / u_viewport.x * 2.0 - 1.0, 1.0 - a_pos.y / u_viewport.y * 2.0, 0.0, 1.0);
    v_uv = a_uv;
    v_color = a_color;
    v_halo = a_halo;
    v_halo_px = a_halo_px;
}
