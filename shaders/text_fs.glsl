#version 330 core
// Glyph coverage from the atlas; the halo is the coverage dilated by
// v_halo_px (the maximum over two rings of samples), drawn under the text.
in vec2 v_uv;
in vec4 v_color;
in vec4 v_halo;
in float v_halo_px;

uniform sampler2D u_atlas;

layout(location = 0) out vec4 o_color;

float coverage(vec2 texel)
{
    return texture(u_atlas, texel / vec2(textureSize(u_atlas, 0))).r;
}

void main()
{
    float a = coverage(v_uv);
    float h = 0.0;
    if (v_halo_px > 0.0) {
        for (int i = 0; i < 16; i++) {
            float ang = 6.2831853 * float(i) / 16.0;
            vec2 d = vec2(cos(ang), sin(ang));
            h = max(h, coverage(v_uv + d * v_halo_px));
            h = max(h, coverage(v_uv + d * v_halo_px * 0.5));
        }
        h = min(1.0, h * 1.5); // a solid rim, soft only at its outer edge
    }
    float ta = a * v_color.a;
    float ha = h * v_halo.a * (1.0 - ta);
    float alpha = ta + ha;
    if (alpha <= 0.002)
        discard;
    o_color = vec4((v_color.rgb * ta + v_halo.rgb * ha) / alpha, alpha);
}
