/* Fuzz target: any bytes as label text (invalid UTF-8, every script, control
 * characters) shaped with HarfBuzz at a size taken from the first byte must
 * never crash, leak or abort; glyph positions stay finite. */
#include "citytwin/ct_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ct_font *font;
    static bool tried;
    ct_error err;
    if (!tried && ct_font_create(NULL, &font, &err) != CT_OK)
        font = NULL;
    tried = true;
    if (!font || size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    float px = size ? (float)(data[0] % 80) : 16;
    ct_text_line line;
    if (ct_font_shape(font, text, px, &line, &err) == CT_OK) {
        for (uint32_t i = 0; i < line.glyph_count; i++)
            if (!isfinite(line.glyphs[i].x) || !isfinite(line.glyphs[i].y))
                abort();
        ct_text_line_free(&line);
    }
    free(text);
    return 0;
}
