/* GL contexts: headless EGL (device platform on real GPUs, Mesa surfaceless
 * otherwise) and SDL2 windows. libepoxy resolves GL entry points for both. */
#include "citytwin/ct_render.h"
#include "render_internal.h"

#include <SDL2/SDL.h>
#include <dlfcn.h>
#include <malloc.h>
#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_render_context {
    bool window;
    int width, height;
    bool fullscreen;
    EGLDisplay egl_display;
    EGLContext egl_context;
    SDL_Window *sdl_window;
    SDL_GLContext sdl_context;
    char renderer[256];
};

#ifdef CT_SANITIZE
#include <sanitizer/lsan_interface.h>
/* Mesa's DRI driver keeps a few allocations in its own globals and is
 * unloaded at eglTerminate, so LeakSanitizer later reports them as leaks from
 * "<unknown module>" (PLATFORM.md, "Sanitizers"). Keeping the driver loaded
 * (RTLD_NODELETE) keeps those globals, and so the blocks, reachable: the
 * reports disappear without suppressions, and leak detection stays on for
 * everything else (checked: without this the render tests report 112 bytes). */
static void keep_dri_drivers_loaded(void)
{
    static const char *const names[] = {"swrast_dri.so", "kms_swrast_dri.so"};
    static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu/dri", "/usr/lib/aarch64-linux-gnu/dri",
                                       "/usr/lib/dri"};
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
            dlopen(path, RTLD_NOW | RTLD_NODELETE | RTLD_GLOBAL);
        }
}
#endif

static bool has_ext(const char *list, const char *name)
{
    if (!list)
        return false;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return true;
    return false;
}

/* A hardware EGL device (not Mesa's software one), or NULL. */
static EGLDisplay device_display(void)
{
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!has_ext(client, "EGL_EXT_platform_device") || !has_ext(client, "EGL_EXT_device_enumeration"))
        return EGL_NO_DISPLAY;
    EGLDeviceEXT devs[16];
    EGLint n = 0;
    if (!eglQueryDevicesEXT(16, devs, &n))
        return EGL_NO_DISPLAY;
    for (EGLint i = 0; i < n; i++) {
        const char *ext = eglQueryDeviceStringEXT(devs[i], EGL_EXTENSIONS);
        if (has_ext(ext, "EGL_MESA_device_software"))
            continue;
        EGLDisplay d = eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devs[i], NULL);
        if (d == EGL_NO_DISPLAY)
            continue;
        EGLint major, minor;
        if (eglInitialize(d, &major, &minor))
            return d;
    }
    return EGL_NO_DISPLAY;
}

static ct_status create_headless(ct_render_context *c, ct_error *err)
{
#ifdef CT_SANITIZE
    keep_dri_drivers_loaded();
#endif
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!client)
        return ct_error_set(err, CT_ERR_RUNTIME, "EGL: no client extensions (libEGL missing?)");
    EGLDisplay d = device_display();
    if (d == EGL_NO_DISPLAY) {
        if (!has_ext(client, "EGL_MESA_platform_surfaceless"))
            return ct_error_set(err, CT_ERR_RUNTIME, "EGL: neither a hardware device nor Mesa's surfaceless platform");
        d = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
        EGLint major, minor;
        if (d == EGL_NO_DISPLAY || !eglInitialize(d, &major, &minor))
            return ct_error_set(err, CT_ERR_RUNTIME, "EGL: cannot initialize the surfaceless display (0x%x)",
                                eglGetError());
    }
    c->egl_display = d;
    if (!eglBindAPI(EGL_OPENGL_API))
        return ct_error_set(err, CT_ERR_RUNTIME, "EGL: OpenGL API not available");
    EGLConfig config = EGL_NO_CONFIG_KHR;
    if (!has_ext(eglQueryString(d, EGL_EXTENSIONS), "EGL_KHR_no_config_context")) {
        const EGLint attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_NONE};
        EGLint n = 0;
        if (!eglChooseConfig(d, attrs, &config, 1, &n) || n < 1)
            return ct_error_set(err, CT_ERR_RUNTIME, "EGL: no OpenGL config");
    }
    const EGLint versions[][2] = {{4, 5}, {3, 3}};
    for (int i = 0; i < 2 && c->egl_context == EGL_NO_CONTEXT; i++) {
        const EGLint attrs[] = {EGL_CONTEXT_MAJOR_VERSION, versions[i][0], EGL_CONTEXT_MINOR_VERSION, versions[i][1],
                                EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
        c->egl_context = eglCreateContext(d, config, EGL_NO_CONTEXT, attrs);
    }
    if (c->egl_context == EGL_NO_CONTEXT)
        return ct_error_set(err, CT_ERR_RUNTIME, "EGL: cannot create a GL 3.3 core context (0x%x)", eglGetError());
    if (!eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, c->egl_context))
        return ct_error_set(err, CT_ERR_RUNTIME, "EGL: cannot make the context current (0x%x)", eglGetError());
    return CT_OK;
}

static ct_status create_window(ct_render_context *c, const ct_render_context_desc *desc, ct_error *err)
{
#ifdef CT_SANITIZE
    keep_dri_drivers_loaded();
    /* SDL's video init connects to D-Bus (IME, screensaver), whose library
     * keeps a connection buffer for the life of the process (it is only freed
     * by dbus_shutdown, which SDL 2.26 never calls): not ours to free. */
    __lsan_disable();
#endif
    int init = SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
#ifdef CT_SANITIZE
    __lsan_enable();
#endif
    if (init != 0)
        return ct_error_set(err, CT_ERR_RUNTIME, "SDL: cannot initialize video: %s", SDL_GetError());
    /* A viewer nobody can see is no viewer: refuse SDL's invisible fallbacks
     * unless asked for by name (SDL_VIDEODRIVER=offscreen, for tests). */
    const char *driver = SDL_GetCurrentVideoDriver();
    const char *asked = getenv("SDL_VIDEODRIVER");
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy")) && !(asked && !strcmp(asked, driver)))
        return ct_error_set(err, CT_ERR_RUNTIME, "no display to open a window on (SDL chose the '%s' driver; set "
                            "DISPLAY, or use citytwin render for images)", driver);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    /* The renderer draws into its own (multisampled) framebuffer and blits. */
    SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);
    SDL_GL_SetAttribute(SDL_GL_MULTISAMPLEBUFFERS, 0);
    int display = desc->display;
    if (display < 0 || display >= SDL_GetNumVideoDisplays())
        display = 0;
    Uint32 flags = SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (desc->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    if (desc->hidden)
        flags |= SDL_WINDOW_HIDDEN;
    c->sdl_window = SDL_CreateWindow(desc->title ? desc->title : "citytwin", SDL_WINDOWPOS_CENTERED_DISPLAY(display),
                                     SDL_WINDOWPOS_CENTERED_DISPLAY(display), c->width, c->height, flags);
    if (!c->sdl_window)
        return ct_error_set(err, CT_ERR_RUNTIME, "SDL: cannot create a window: %s", SDL_GetError());
    c->sdl_context = SDL_GL_CreateContext(c->sdl_window);
    if (!c->sdl_context)
        return ct_error_set(err, CT_ERR_RUNTIME, "SDL: cannot create a GL 3.3 core context: %s", SDL_GetError());
    SDL_GL_MakeCurrent(c->sdl_window, c->sdl_context);
    if (desc->no_vsync)
        SDL_GL_SetSwapInterval(0);
    else if (SDL_GL_SetSwapInterval(-1) != 0) /* adaptive vsync when offered */
        SDL_GL_SetSwapInterval(1);
    c->fullscreen = desc->fullscreen;
    return CT_OK;
}

ct_status ct_render_context_create(const ct_render_context_desc *desc, ct_render_context **out, ct_error *err)
{
    ct_render_context_desc d = desc ? *desc : (ct_render_context_desc){0};
    *out = NULL;
    ct_render_context *c = calloc(1, sizeof *c);
    if (!c)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    c->window = d.window;
    c->width = d.width > 0 ? d.width : (d.window ? 1280 : 256);
    c->height = d.height > 0 ? d.height : (d.window ? 720 : 256);
    c->egl_context = EGL_NO_CONTEXT;
    c->egl_display = EGL_NO_DISPLAY;
    ct_status st = d.window ? create_window(c, &d, err) : create_headless(c, err);
    if (st != CT_OK) {
        ct_render_context_destroy(c);
        return st;
    }
    int major = epoxy_gl_version();
    if (major < 33) {
        ct_render_context_destroy(c);
        return ct_error_set(err, CT_ERR_RUNTIME, "OpenGL 3.3 core needed, got %d.%d", major / 10, major % 10);
    }
    snprintf(c->renderer, sizeof c->renderer, "%s (%s)", (const char *)glGetString(GL_RENDERER),
             (const char *)glGetString(GL_VERSION));
    if (strstr(c->renderer, "llvmpipe")) {
        /* llvmpipe mallocs and frees large per-frame buffers (binned scenes,
         * vertex outputs). With glibc's defaults these are fresh mmaps every
         * frame and page faults cost more than the rasterizing (measured:
         * 230k -> 98k faults, CPU time -33% for 1M triangles). Keep them in
         * the heap instead. */
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
    *out = c;
    return CT_OK;
}

void ct_render_context_destroy(ct_render_context *c)
{
    if (!c)
        return;
    if (c->egl_display != EGL_NO_DISPLAY) {
        eglMakeCurrent(c->egl_display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        if (c->egl_context != EGL_NO_CONTEXT)
            eglDestroyContext(c->egl_display, c->egl_context);
        eglTerminate(c->egl_display);
        eglReleaseThread();
    }
    if (c->sdl_context)
        SDL_GL_DeleteContext(c->sdl_context);
    if (c->sdl_window)
        SDL_DestroyWindow(c->sdl_window);
    if (c->window) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
        SDL_Quit();
    }
    free(c);
}

void ct_render_context_size(const ct_render_context *c, int *w, int *h)
{
    if (c->sdl_window) {
        SDL_GL_GetDrawableSize(c->sdl_window, w, h);
        return;
    }
    *w = c->width;
    *h = c->height;
}

const char *ct_render_context_renderer(const ct_render_context *c) { return c->renderer; }
void *ct_render_context_window(const ct_render_context *c) { return c->sdl_window; }

void ct_render_context_swap(ct_render_context *c)
{
    if (c->sdl_window)
        SDL_GL_SwapWindow(c->sdl_window);
}

void ct_render_context_set_fullscreen(ct_render_context *c, bool fullscreen)
{
    if (!c->sdl_window || fullscreen == c->fullscreen)
        return;
    if (SDL_SetWindowFullscreen(c->sdl_window, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0) == 0)
        c->fullscreen = fullscreen;
    else
        ct_log(CT_LOG_WARN, "fullscreen toggle failed: %s", SDL_GetError());
}

bool ct_render_context_fullscreen(const ct_render_context *c) { return c->fullscreen; }

bool ct_render_context_is_window_internal(const ct_render_context *c) { return c->window; }
