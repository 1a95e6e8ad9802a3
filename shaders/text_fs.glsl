#version 330 core
// Glyph coverage (R) and its halo (G: the coverage dilated by the halo
// width, precomputed in the atlas); the halo is drawn under the text.
in vec2 v_uv;
in vec4 v_color;
in vec4 v_halo;
in float v_halo_px;

uniform sampler2D u_atlas;
uniform vec2 u_atlas_texel;     // 1 / atlas size

layout(location = 0) out vec4 o_color;

void main()
{
    vec2 c = texture(u_atlas, v_uv * u_atlas_texel).rg;
    float ta = c.r * v_color.a;
    float ha = (v_halo_px > 0.0 ? c.g : 0.0) * v_halo.a * (1.0 - ta);
    float alpha = ta + ha;
    if (alpha <= 0.002)
        discard;
    o_color = vec4((v_color.rgb * ta + v_halo.rgb * ha) / alpha, alpha);
}
