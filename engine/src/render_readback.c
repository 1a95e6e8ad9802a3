/* Asynchronous depth read-back (render_internal.h): a ring of pixel buffer
 * objects, each filled by one glReadPixels of the whole single-sample depth
 * buffer and followed by a fence. Consumers take the newest slot whose fence
 * has signalled (polled with timeout 0), so no call here waits for the GPU:
 * a synchronous glReadPixels during the frame would wait until the GPU has
 * drawn everything queued before it (several ms per frame on a real GPU). */
#include "render_internal.h"

#include <stdlib.h>
#include <string.h>

enum { RING = 3 };

typedef enum slot_state { SLOT_EMPTY, SLOT_PENDING, SLOT_READY } slot_state;

typedef struct slot {
    GLuint pbo;
    GLsync fence;            /* while pending */
    slot_state state;
    int width, height;
    size_t bytes;            /* the PBO's storage */
    ct_depth_params params;
    uint64_t frame;
} slot;

struct ct_depth_ring {
    slot slots[RING];
    int mapped;              /* slot mapped for this frame's consumers, -1 = none */
    const float *data;
};

ct_depth_ring *ct_depth_ring_create(void)
{
    ct_depth_ring *q = calloc(1, sizeof *q);
    if (q)
        q->mapped = -1;
    return q;
}

void ct_depth_ring_reset(ct_depth_ring *q)
{
    if (!q)
        return;
    ct_depth_ring_release(q);
    for (int i = 0; i < RING; i++) {
        slot *s = &q->slots[i];
        if (s->fence)
            glDeleteSync(s->fence);
        if (s->pbo)
            glDeleteBuffers(1, &s->pbo);
        memset(s, 0, sizeof *s);
    }
}

void ct_depth_ring_destroy(ct_depth_ring *q)
{
    ct_depth_ring_reset(q);
    free(q);
}

/* Pending slots whose fence has signalled become ready; false when the GL
 * failed (the ring has then been reset). Never waits (timeout 0). */
static bool poll(ct_depth_ring *q)
{
    for (int i = 0; i < RING; i++) {
        slot *s = &q->slots[i];
        if (s->state != SLOT_PENDING)
            continue;
        GLenum e = glClientWaitSync(s->fence, 0, 0);
        if (e == GL_WAIT_FAILED) {
            ct_log(CT_LOG_WARN, "render: depth read-back fence failed; buffers recreated");
            ct_depth_ring_reset(q);
            return false;
        }
        if (e == GL_ALREADY_SIGNALED || e == GL_CONDITION_SATISFIED) {
            glDeleteSync(s->fence);
            s->fence = NULL;
            s->state = SLOT_READY;
        }
    }
    return true;
}

/* The newest ready slot of this size from max_frame or before, -1 when none. */
static int newest_ready(const ct_depth_ring *q, int width, int height, uint64_t max_frame)
{
    int best = -1;
    for (int i = 0; i < RING; i++) {
        const slot *s = &q->slots[i];
        if (s->state == SLOT_READY && s->width == width && s->height == height && s->frame <= max_frame &&
            (best < 0 || s->frame > q->slots[best].frame))
            best = i;
    }
    return best;
}

bool ct_depth_ring_issue(ct_depth_ring *q, GLuint read_fbo, int width, int height, const ct_depth_params *params,
                         uint64_t frame, uint64_t keep_max_frame)
{
    if (!q || width <= 0 || height <= 0 || !poll(q))
        return false;
    /* Keep the newest ready slot for this frame's consumers; write into an
     * empty slot, else the oldest other ready one. A slot still pending is
     * never reused: glReadPixels into it would wait for the GPU. */
    int keep = newest_ready(q, width, height, keep_max_frame), w = -1;
    for (int i = 0; i < RING; i++) {
        slot *s = &q->slots[i];
        if (i == keep || i == q->mapped || s->state == SLOT_PENDING)
            continue;
        if (s->state == SLOT_EMPTY) {
            w = i;
            break;
        }
        if (w < 0 || s->frame < q->slots[w].frame)
            w = i;
    }
    if (w < 0)
        return false; /* the GPU is more than two read-backs behind: skip this one */
    slot *s = &q->slots[w];
    size_t bytes = (size_t)width * height * sizeof(float);
    if (!s->pbo)
        glGenBuffers(1, &s->pbo);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, s->pbo);
    if (s->bytes != bytes) { /* first use or resize */
        glBufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)bytes, NULL, GL_STREAM_READ);
        s->bytes = bytes;
    }
    glBindFramebuffer(GL_READ_FRAMEBUFFER, read_fbo);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(0, 0, width, height, GL_DEPTH_COMPONENT, GL_FLOAT, NULL); /* into the PBO: returns at once */
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    s->fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR || !s->fence) {
        ct_log(CT_LOG_WARN, "render: depth read-back failed (0x%x); buffers recreated", e);
        ct_depth_ring_reset(q);
        return false;
    }
    glFlush(); /* the fence must reach the GPU, or polling it with timeout 0 never sees it signal */
    s->state = SLOT_PENDING;
    s->width = width;
    s->height = height;
    s->params = *params;
    s->frame = frame;
    return true;
}

bool ct_depth_ring_latest(ct_depth_ring *q, int width, int height, uint64_t min_frame, uint64_t max_frame,
                          ct_depth_view *out)
{
    if (!q)
        return false;
    if (q->mapped < 0) {
        if (!poll(q))
            return false;
        int i = newest_ready(q, width, height, max_frame);
        if (i < 0 || q->slots[i].frame < min_frame)
            return false;
        slot *s = &q->slots[i];
        glBindBuffer(GL_PIXEL_PACK_BUFFER, s->pbo);
        q->data = glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, (GLsizeiptr)s->bytes, GL_MAP_READ_BIT);
        glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
        if (!q->data) { /* e.g. the context was lost */
            ct_log(CT_LOG_WARN, "render: cannot map the depth read-back (0x%x); buffers recreated", glGetError());
            ct_depth_ring_reset(q);
            return false;
        }
        q->mapped = i;
    }
    const slot *s = &q->slots[q->mapped];
    if (s->width != width || s->height != height)
        return false;
    *out = (ct_depth_view){.depth = q->data, .width = s->width, .height = s->height, .params = s->params,
                           .frame = s->frame};
    return true;
}

void ct_depth_ring_release(ct_depth_ring *q)
{
    if (!q || q->mapped < 0)
        return;
    glBindBuffer(GL_PIXEL_PACK_BUFFER, q->slots[q->mapped].pbo);
    if (!glUnmapBuffer(GL_PIXEL_PACK_BUFFER)) /* contents lost (e.g. mode switch): do not use this slot again */
        q->slots[q->mapped].state = SLOT_EMPTY;
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    q->mapped = -1;
    q->data = NULL;
}
