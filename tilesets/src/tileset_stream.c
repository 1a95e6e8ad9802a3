/* Streaming: the tileset object, its worker pool, per-frame update (apply
 * finished loads, upload under a time budget, select, request, evict under a
 * byte budget) and statistics. Selection itself is in tileset_select.c.
 *
 * Threads: workers only touch jobs (uri in, bytes/decoded/parsed out). Tiles
 * and contents belong to the caller's thread; a job's tile/content pointers
 * are read and cleared only there. */
#include "tileset_select.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- jobs and workers ---- */

static void job_free_results(ct_tileset *ts, job *j)
{
    if (j->decoded) {
        if (ts->desc.callbacks.free_decoded && ts->desc.callbacks.decode)
            ts->desc.callbacks.free_decoded(ts->desc.callbacks.user, j->decoded);
        else if (!ts->desc.callbacks.decode) {
            ct_tileset_bytes *b = j->decoded;
            free(b->data);
            free(b);
        }
        j->decoded = NULL;
    }
    cJSON_Delete(j->doc);
    j->doc = NULL;
    ct_subtree_destroy(j->subtree);
    j->subtree = NULL;
}

static void job_link(ct_tileset *ts, job *j)
{
    j->all_next = ts->all_jobs;
    if (ts->all_jobs)
        ts->all_jobs->all_prev = j;
    ts->all_jobs = j;
}

static void job_destroy(ct_tileset *ts, job *j)
{
    if (j->all_prev)
        j->all_prev->all_next = j->all_next;
    else if (ts->all_jobs == j)
        ts->all_jobs = j->all_next;
    if (j->all_next)
        j->all_next->all_prev = j->all_prev;
    job_free_results(ts, j);
    free(j->uri);
    free(j);
}

static void job_run(ct_tileset *ts, tileset_fetcher *f, job *j)
{
    ct_error err = {0};
    tileset_fetch_opts fo = ts->fetch_opts;
    fo.cancel = &j->cancel;
    if (atomic_load(&j->cancel)) {
        j->status = CT_ERR_INPUT;
        j->cancelled = true;
        return;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    bool retryable = false;
    ct_status st = tileset_fetch(f, &fo, j->uri, &data, &size, &retryable, &err);
    if (!st && atomic_load(&j->cancel)) {
        j->cancelled = true;
        st = CT_ERR_INPUT;
    }
    if (!st) {
        j->raw_size = size;
        if (j->kind == JOB_SUBTREE) {
            st = tileset_subtree_parse(data, size, &j->imp, j->uri, f, &fo, &j->subtree, &err);
        } else {
            j->type = ct_content_type_sniff(data, size);
            if (j->type == CT_CONTENT_TYPE_JSON) {
                st = tileset_json_parse(data, size, tileset_uri_display(j->uri), &j->doc, &err);
            } else if (ts->desc.callbacks.decode) {
                size_t cpu = 0;
                st = ts->desc.callbacks.decode(ts->desc.callbacks.user, j->uri, j->type, data, size, j->tile_transform,
                                               &j->decoded, &cpu,
                                               &err);
                j->cpu_bytes = cpu;
                if (st && !err.msg[0])
                    ct_error_set(&err, st, "%s: decode failed", tileset_uri_display(j->uri));
            } else {
                ct_tileset_bytes *b = malloc(sizeof *b);
                if (!b) {
                    st = ct_error_set(&err, CT_ERR_RUNTIME, "out of memory");
                } else {
                    b->data = data;
                    b->size = size;
                    data = NULL;
                    j->decoded = b;
                    j->cpu_bytes = size + sizeof *b;
                }
            }
        }
    }
    free(data);
    j->status = st;
    j->retryable = retryable;
    if (st)
        snprintf(j->msg, sizeof j->msg, "%s", err.msg[0] ? err.msg : "failed");
}

static void *worker_main(void *arg)
{
    ct_tileset *ts = arg;
    tileset_fetcher f = {0};
    pthread_mutex_lock(&ts->mu);
    for (;;) {
        while (!ts->stopping && !ts->pending)
            pthread_cond_wait(&ts->cv, &ts->mu);
        if (ts->stopping)
            break;
        /* highest priority first */
        job **best = &ts->pending;
        for (job **p = &ts->pending; *p; p = &(*p)->next)
            if ((*p)->priority > (*best)->priority)
                best = p;
        job *j = *best;
        *best = j->next;
        j->next = NULL;
        j->running = true;
        ts->n_pending--;
        pthread_mutex_unlock(&ts->mu);
        job_run(ts, &f, j);
        pthread_mutex_lock(&ts->mu);
        j->next = ts->done;
        ts->done = j;
        pthread_cond_broadcast(&ts->done_cv);
    }
    pthread_mutex_unlock(&ts->mu);
    tileset_fetcher_cleanup(&f);
    return NULL;
}

/* ---- resident contents (byte accounting, LRU) ---- */

static void resident_add(ct_tileset *ts, ct_tile *t, ct_tileset_content *c)
{
    if (c->lru_prev >= 0)
        return;
    if (ts->n_res == ts->cap_res) {
        int cap = ts->cap_res ? ts->cap_res * 2 : 256;
        resident *r = realloc(ts->res, (size_t)cap * sizeof *r);
        if (!r)
            return; /* not tracked: it will simply never be evicted */
        ts->res = r;
        ts->cap_res = cap;
    }
    c->lru_prev = ts->n_res;
    ts->res[ts->n_res++] = (resident){t, c};
    ts->bytes_used += c->cpu_bytes + c->gpu_bytes;
    if (ts->bytes_used > ts->stats.bytes_peak)
        ts->stats.bytes_peak = ts->bytes_used;
}

static void resident_remove(ct_tileset *ts, ct_tileset_content *c)
{
    int i = c->lru_prev;
    if (i < 0 || i >= ts->n_res || ts->res[i].content != c)
        return;
    ts->bytes_used -= c->cpu_bytes + c->gpu_bytes;
    ts->res[i] = ts->res[--ts->n_res];
    if (i < ts->n_res)
        ts->res[i].content->lru_prev = i;
    c->lru_prev = -1;
}

static void free_decoded(ct_tileset *ts, ct_tileset_content *c)
{
    if (!c->decoded)
        return;
    if (ts->desc.callbacks.decode) {
        if (ts->desc.callbacks.free_decoded)
            ts->desc.callbacks.free_decoded(ts->desc.callbacks.user, c->decoded);
    } else {
        ct_tileset_bytes *b = c->decoded;
        free(b->data);
        free(b);
    }
    c->decoded = NULL;
}

static void release_children(ct_tileset *ts, ct_tile *t);

/* Frees everything a content holds (GPU, decoded, pending job) and, for an
 * external tileset or subtree, the tiles it brought in. */
static void content_unload(ct_tileset *ts, ct_tile *t, ct_tileset_content *c)
{
    if (c->job) {
        job *j = c->job;
        pthread_mutex_lock(&ts->mu);
        bool removed = false;
        for (job **p = &ts->pending; *p; p = &(*p)->next)
            if (*p == j) {
                *p = j->next;
                ts->n_pending--;
                removed = true;
                break;
            }
        if (!removed) {
            j->tile = NULL;
            j->content = NULL;
            atomic_store(&j->cancel, 1);
        }
        pthread_mutex_unlock(&ts->mu);
        if (removed) {
            job_destroy(ts, j);
            ts->n_jobs--;
        }
        c->job = NULL;
    }
    resident_remove(ts, c);
    if (c->gpu && ts->desc.callbacks.unload)
        ts->desc.callbacks.unload(ts->desc.callbacks.user, c->gpu);
    c->gpu = NULL;
    free_decoded(ts, c);
    c->cpu_bytes = c->gpu_bytes = 0;
    if (c == &t->expansion) {
        /* a subtree: its tiles (and the root's contents made from it) go too */
        release_children(ts, t);
        for (int i = 0; i < t->n_contents; i++) {
            content_unload(ts, t, &t->contents[i]);
            free(t->contents[i].uri);
            free(t->contents[i].metadata_json);
            free(t->contents[i].error);
        }
        free(t->contents);
        t->contents = NULL;
        t->n_contents = 0;
        if (t->own_subtree) {
            ct_subtree_destroy(t->own_subtree);
            t->own_subtree = NULL;
            t->subtree = NULL;
        }
        t->expanded = false;
    } else if (c->type == CT_CONTENT_TYPE_JSON && c->state == CT_CONTENT_READY) {
        release_children(ts, t);
        t->expanded = false;
    }
    if (c->state != CT_CONTENT_FAILED)
        c->state = CT_CONTENT_UNLOADED;
}

static void release_cb(void *user, ct_tile *t, ct_tileset_content *c)
{
    ct_tileset *ts = user;
    if (c->state == CT_CONTENT_READY && c != &t->expansion && c->type != CT_CONTENT_TYPE_JSON)
        ts->stats.contents_loaded--;
    c->state = CT_CONTENT_UNLOADED;
    content_unload(ts, t, c);
}

static void release_children(ct_tileset *ts, ct_tile *t)
{
    tileset_tile_free_children(t, release_cb, ts, &ts->nodes);
}

/* ---- creation ---- */

static bool all_zero(const double m[16])
{
    for (int i = 0; i < 16; i++)
        if (m[i] != 0)
            return false;
    return true;
}

ct_status ct_tileset_create(const ct_tileset_desc *desc, ct_tileset **out, ct_error *err)
{
    *out = NULL;
    if (!desc || !desc->uri)
        return ct_error_set(err, CT_ERR_USAGE, "ct_tileset_create: no uri");
    ct_tileset *ts = calloc(1, sizeof *ts);
    if (!ts)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    ts->desc = *desc;
    ts->desc.uri = NULL;
    ts->max_sse = desc->max_sse > 0 ? desc->max_sse : 16.0;
    ts->budget = desc->memory_budget ? desc->memory_budget : (size_t)512 << 20;
    ts->max_in_flight = desc->max_requests_in_flight > 0 ? desc->max_requests_in_flight : 16;
    ts->upload_budget_s = (desc->upload_budget_ms > 0 ? desc->upload_budget_ms : 4.0) / 1000.0;
    ts->upload_fraction = desc->upload_frame_fraction < 0 ? 0 : desc->upload_frame_fraction > 0 ? desc->upload_frame_fraction : 0.25;
    ts->upload_max_s = (desc->upload_budget_max_ms > 0 ? desc->upload_budget_max_ms : 100.0) / 1000.0;
    if (ts->upload_max_s < ts->upload_budget_s)
        ts->upload_max_s = ts->upload_budget_s;
    ts->retry_base_s = desc->retry_base_s > 0 ? desc->retry_base_s : 1.0;
    if (all_zero(desc->scene_from_tileset)) {
        ct_dmat4_identity(ts->placement);
    } else {
        memcpy(ts->placement, desc->scene_from_tileset, sizeof ts->placement);
        ts->has_placement = true;
    }
    if (!ct_dmat4_invert(ts->placement_inv, ts->placement)) {
        free(ts);
        return ct_error_set(err, CT_ERR_USAGE, "scene_from_tileset is not invertible");
    }
    pthread_mutex_init(&ts->mu, NULL);
    pthread_cond_init(&ts->cv, NULL);
    pthread_cond_init(&ts->done_cv, NULL);
    ts->mu_ok = true;
    ts->root_uri = tileset_root_uri(desc->uri, &ts->sandbox, err);
    if (!ts->root_uri) {
        ct_tileset_destroy(ts);
        return err ? err->status : CT_ERR_INPUT;
    }
    if (desc->n_http_headers > 0) {
        ts->headers = ct_calloc_array((size_t)desc->n_http_headers, sizeof(char *));
        for (int i = 0; ts->headers && i < desc->n_http_headers; i++)
            ts->headers[i] = ct_strdup(desc->http_headers[i]);
        ts->n_headers = ts->headers ? desc->n_http_headers : 0;
    }
    ts->fetch_opts = (tileset_fetch_opts){
        .sandbox_dir = desc->allow_outside_folder ? NULL : ts->sandbox,
        .headers = (const char *const *)ts->headers,
        .n_headers = ts->n_headers,
        .timeout_s = desc->http_timeout_s,
        .retries = desc->http_retries == 0 ? 2 : desc->http_retries,
    };
    ts->next_id = 1;
    const char *slash = strrchr(tileset_uri_display(ts->root_uri), '/');
    ts->ctx = (tileset_build_ctx){
        .base_uri = ts->root_uri,
        .root_uri = ts->root_uri,
        .label = slash ? slash + 1 : ts->root_uri,
        .next_id = &ts->next_id,
        .node_count = &ts->nodes,
        .max_depth = desc->max_depth > 0 ? desc->max_depth : 64,
        .max_external_depth = desc->max_external_depth > 0 ? desc->max_external_depth : 16,
    };
    tileset_fetcher f = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    bool retry = false;
    cJSON *doc = NULL;
    ct_status st = tileset_fetch(&f, &ts->fetch_opts, ts->root_uri, &data, &size, &retry, err);
    tileset_fetcher_cleanup(&f);
    if (!st)
        st = tileset_json_parse(data, size, tileset_uri_display(ts->root_uri), &doc, err);
    free(data);
    if (!st) {
        ts->root = calloc(1, sizeof *ts->root);
        if (!ts->root)
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        else {
            ts->nodes = 1;
            st = tileset_build(&ts->ctx, doc, NULL, ts->root, err);
            if (st) {
                free(ts->root);
                ts->root = NULL;
            }
        }
    }
    cJSON_Delete(doc);
    if (st) {
        ct_tileset_destroy(ts);
        return st;
    }
    int n = desc->workers;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 1 ? (int)cpus - 1 : 1;
    }
    if (n > 64)
        n = 64;
    ts->threads = ct_calloc_array((size_t)n, sizeof *ts->threads);
    for (int i = 0; ts->threads && i < n; i++) {
        if (pthread_create(&ts->threads[i], NULL, worker_main, ts))
            break;
        ts->n_threads++;
    }
    if (ts->n_threads == 0) {
        ct_tileset_destroy(ts);
        return ct_error_set(err, CT_ERR_RUNTIME, "cannot start worker threads");
    }
    ts->stats.bytes_budget = ts->budget;
    *out = ts;
    return CT_OK;
}

void ct_tileset_destroy(ct_tileset *ts)
{
    if (!ts)
        return;
    if (ts->mu_ok) {
        pthread_mutex_lock(&ts->mu);
        ts->stopping = true;
        pthread_cond_broadcast(&ts->cv);
        pthread_mutex_unlock(&ts->mu);
    }
    for (int i = 0; i < ts->n_threads; i++)
        pthread_join(ts->threads[i], NULL);
    free(ts->threads);
    ts->n_threads = 0;
    /* pending jobs never ran; done jobs may hold results */
    for (job *j = ts->pending, *n; j; j = n) {
        n = j->next;
        if (j->content)
            j->content->job = NULL;
        job_destroy(ts, j);
    }
    ts->pending = NULL;
    for (job *j = ts->done, *n; j; j = n) {
        n = j->next;
        if (j->content)
            j->content->job = NULL;
        job_destroy(ts, j);
    }
    ts->done = NULL;
    if (ts->root) {
        tileset_tile_free_children(ts->root, release_cb, ts, &ts->nodes);
        tileset_tile_free_fields(ts->root, release_cb, ts);
        free(ts->root);
    }
    tileset_build_ctx_free(&ts->ctx);
    for (int i = 0; i < ts->n_headers; i++)
        free(ts->headers[i]);
    free(ts->headers);
    free(ts->res);
    free(ts->cand);
    free(ts->draws);
    free(ts->ev_loaded);
    free(ts->ev_unloaded);
    free(ts->ev_failed);
    free(ts->evict);
    free(ts->root_uri);
    free(ts->sandbox);
    if (ts->mu_ok) {
        pthread_mutex_destroy(&ts->mu);
        pthread_cond_destroy(&ts->cv);
        pthread_cond_destroy(&ts->done_cv);
    }
    free(ts);
}

const ct_tile *ct_tileset_root(const ct_tileset *ts) { return ts->root; }
const char *ct_tileset_version(const ct_tileset *ts) { return ts->ctx.version; }
char ct_tileset_gltf_up_axis(const ct_tileset *ts) { return ts->ctx.gltf_up_axis ? ts->ctx.gltf_up_axis : 'Y'; }
double ct_tileset_geometric_error(const ct_tileset *ts) { return ts->ctx.geometric_error; }
const char *ct_tileset_schema_json(const ct_tileset *ts) { return ts->ctx.schema_json; }
const char *ct_tileset_metadata_json(const ct_tileset *ts) { return ts->ctx.metadata_json; }
const char *ct_tileset_groups_json(const ct_tileset *ts) { return ts->ctx.groups_json; }
const char *ct_tileset_properties_json(const ct_tileset *ts) { return ts->ctx.properties_json; }
void ct_tileset_set_max_sse(ct_tileset *ts, double v) { ts->max_sse = v > 0 ? v : 16.0; }
void ct_tileset_set_max_geometric_error(ct_tileset *ts, double max_error)
{
    ts->by_error = !isnan(max_error);
    ts->max_error = max_error;
}
void ct_tileset_set_memory_budget(ct_tileset *ts, size_t b)
{
    ts->budget = b ? b : (size_t)512 << 20;
    ts->stats.bytes_budget = ts->budget;
}

bool ct_tileset_set_placement(ct_tileset *ts, const double m[16])
{
    double inv[16];
    if (!ct_dmat4_invert(inv, m))
        return false;
    memcpy(ts->placement, m, sizeof ts->placement);
    memcpy(ts->placement_inv, inv, sizeof inv);
    ts->has_placement = true;
    return true;
}

static const ct_tile *find_tile(const ct_tile *t, uint64_t id)
{
    if (t->id == id)
        return t;
    for (int i = 0; i < t->n_children; i++) {
        const ct_tile *r = find_tile(&t->children[i], id);
        if (r)
            return r;
    }
    return NULL;
}

const ct_tile *ct_tileset_find_tile(const ct_tileset *ts, uint64_t id)
{
    return ts->root ? find_tile(ts->root, id) : NULL;
}

/* ---- events ---- */

static void push_id(uint64_t **arr, int *n, int *cap, uint64_t id)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 64;
        uint64_t *a = realloc(*arr, (size_t)c * sizeof *a);
        if (!a)
            return;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = id;
}

/* ---- applying finished jobs ---- */

static void content_failed(ct_tileset *ts, ct_tile *t, ct_tileset_content *c, const char *msg)
{
    c->state = CT_CONTENT_FAILED;
    c->failures++;
    int k = c->failures - 1 < 6 ? c->failures - 1 : 6;
    c->retry_at = ct_time_now() + ts->retry_base_s * (double)(1 << k);
    free(c->error);
    c->error = ct_strdup(msg);
    ts->stats.failures_total++;
    push_id(&ts->ev_failed, &ts->n_failed, &ts->cap_failed, t->id);
    if (c->failures == 1)
        ct_log(CT_LOG_WARN, "tileset: %s", msg);
}

static void apply_job(ct_tileset *ts, job *j)
{
    ct_tile *t = j->tile;
    ct_tileset_content *c = j->content;
    if (!t || !c) { /* the tile went away meanwhile */
        job_destroy(ts, j);
        return;
    }
    c->job = NULL;
    if (j->cancelled) {
        c->state = c->failures ? CT_CONTENT_FAILED : CT_CONTENT_UNLOADED;
        job_destroy(ts, j);
        return;
    }
    if (j->status) {
        content_failed(ts, t, c, j->msg);
        job_destroy(ts, j);
        return;
    }
    ct_error err = {0};
    if (j->kind == JOB_SUBTREE) {
        if (t->own_subtree) { /* loaded twice: keep the first */
            job_destroy(ts, j);
            return;
        }
        size_t before = ts->nodes;
        tileset_implicit_attach_subtree(&ts->ctx, t, j->subtree);
        j->subtree = NULL;
        c->state = CT_CONTENT_READY;
        c->failures = 0;
        c->cpu_bytes = j->raw_size + (ts->nodes - before) * sizeof(ct_tile);
        resident_add(ts, t, c);
    } else if (j->doc) {
        size_t before = ts->nodes;
        if (tileset_attach_external(&ts->ctx, t, c->uri, j->doc, &err)) {
            content_failed(ts, t, c, err.msg);
            job_destroy(ts, j);
            return;
        }
        c->type = CT_CONTENT_TYPE_JSON;
        c->state = CT_CONTENT_READY;
        c->failures = 0;
        c->cpu_bytes = j->raw_size + (ts->nodes - before) * sizeof(ct_tile);
        resident_add(ts, t, c);
    } else {
        c->type = j->type;
        c->decoded = j->decoded;
        j->decoded = NULL;
        c->cpu_bytes = j->cpu_bytes;
        c->state = CT_CONTENT_DECODED;
        c->failures = 0;
        free(c->error);
        c->error = NULL;
        resident_add(ts, t, c);
        ts->stats.loads_total++;
    }
    job_destroy(ts, j);
}

static void drain_done(ct_tileset *ts)
{
    pthread_mutex_lock(&ts->mu);
    job *list = ts->done;
    ts->done = NULL;
    pthread_mutex_unlock(&ts->mu);
    /* oldest first */
    job *rev = NULL;
    while (list) {
        job *n = list->next;
        list->next = rev;
        rev = list;
        list = n;
    }
    while (rev) {
        job *n = rev->next;
        ts->n_jobs--;
        apply_job(ts, rev);
        rev = n;
    }
}

/* The render thread's upload time for this update. Interactive: the fixed
 * budget, or more when frames are slow (a share of the time since the last
 * update, capped): with 1-2 s llvmpipe frames a fixed 4 ms lands 3-4 tiles a
 * frame while the workers decode far more. FINAL mode: nothing is drawn
 * meanwhile, so only the cap (which keeps requests flowing between chunks). */
static double upload_budget(ct_tileset *ts, double now)
{
    double dt = ts->last_update_t > 0 ? now - ts->last_update_t : 0;
    ts->last_update_t = now;
    if (ts->mode == CT_TILESET_LOAD_FINAL)
        return ts->upload_max_s;
    double b = ts->upload_fraction * dt;
    if (b > ts->upload_max_s)
        b = ts->upload_max_s;
    return b > ts->upload_budget_s ? b : ts->upload_budget_s;
}

static void upload_pending(ct_tileset *ts, double budget_s)
{
    double t0 = ct_time_now();
    const ct_tileset_callbacks *cb = &ts->desc.callbacks;
    ts->uploads_pending = 0;
    for (int i = 0; i < ts->n_res; i++) {
        ct_tileset_content *c = ts->res[i].content;
        ct_tile *t = ts->res[i].tile;
        if (c->state != CT_CONTENT_DECODED)
            continue;
        if (cb->upload) {
            if (ct_time_now() - t0 > budget_s) {
                ts->uploads_pending++;
                continue; /* counted: the caller knows more is waiting */
            }
            ct_error err = {0};
            void *gpu = NULL;
            size_t gpu_bytes = 0;
            int index = (int)(c - t->contents);
            if (cb->upload(cb->user, t, index, c->decoded, &gpu, &gpu_bytes, &err)) {
                free_decoded(ts, c);
                resident_remove(ts, c);
                c->cpu_bytes = 0;
                content_failed(ts, t, c, err.msg[0] ? err.msg : "upload failed");
                i--; /* the slot now holds another entry */
                continue;
            }
            c->gpu = gpu;
            ts->bytes_used += gpu_bytes;
            c->gpu_bytes = gpu_bytes;
            if (cb->free_decoded_after_upload) {
                ts->bytes_used -= c->cpu_bytes;
                c->cpu_bytes = 0;
                free_decoded(ts, c);
            }
            if (ts->bytes_used > ts->stats.bytes_peak)
                ts->stats.bytes_peak = ts->bytes_used;
        }
        c->state = CT_CONTENT_READY;
        ts->stats.contents_loaded++;
        push_id(&ts->ev_loaded, &ts->n_loaded, &ts->cap_loaded, t->id);
    }
}

/* ---- requests ---- */

static int cand_cmp(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return (x->priority < y->priority) - (x->priority > y->priority);
}

static void dispatch(ct_tileset *ts)
{
    /* Drop queued jobs nobody asked for this frame, cancel running ones. */
    pthread_mutex_lock(&ts->mu);
    job *dropped = NULL;
    for (job **p = &ts->pending; *p;) {
        job *j = *p;
        if (j->wanted_frame != ts->frame) {
            *p = j->next;
            ts->n_pending--;
            j->next = dropped;
            dropped = j;
        } else {
            p = &j->next;
        }
    }
    pthread_mutex_unlock(&ts->mu);
    for (job *j = dropped, *n; j; j = n) {
        n = j->next;
        if (j->content) {
            j->content->job = NULL;
            j->content->state = j->content->failures ? CT_CONTENT_FAILED : CT_CONTENT_UNLOADED;
        }
        job_destroy(ts, j);
        ts->n_jobs--;
    }
    if (ts->n_cand > 1) /* qsort(NULL, 0, ...) is undefined: nothing in view leaves cand NULL */
        qsort(ts->cand, (size_t)ts->n_cand, sizeof *ts->cand, cand_cmp);
    ts->stats.budget_limited = false;
    int started = 0;
    for (int i = 0; i < ts->n_cand; i++) {
        candidate *cd = &ts->cand[i];
        ct_tileset_content *c = cd->content;
        if (c->job)
            continue; /* already queued or running */
        if (ts->n_jobs >= ts->max_in_flight)
            break;
        bool expansion = c == &cd->tile->expansion || c->type == CT_CONTENT_TYPE_JSON;
        /* hold loads back when what is resident plus what is on its way
         * (estimated at the mean resident size) would pass the budget */
        size_t mean = ts->n_res ? ts->bytes_used / (size_t)ts->n_res : 0;
        if (!expansion && ts->bytes_used + (size_t)(ts->n_jobs + 1) * mean > ts->budget) {
            ts->stats.budget_limited = true;
            continue;
        }
        job *j = calloc(1, sizeof *j);
        if (!j)
            break;
        j->kind = c == &cd->tile->expansion ? JOB_SUBTREE : JOB_CONTENT;
        j->uri = ct_strdup(c->uri);
        if (!j->uri) {
            free(j);
            break;
        }
        j->tile = cd->tile;
        j->content = c;
        memcpy(j->tile_transform, cd->tile->transform, sizeof j->tile_transform);
        j->priority = cd->priority;
        j->wanted_frame = ts->frame;
        if (cd->tile->implicit)
            j->imp = (ct_implicit_desc){cd->tile->implicit->octree, cd->tile->implicit->subtree_levels};
        if (c->state == CT_CONTENT_FAILED)
            ts->stats.retries_total++;
        c->state = CT_CONTENT_QUEUED;
        c->job = j;
        job_link(ts, j);
        pthread_mutex_lock(&ts->mu);
        j->next = ts->pending;
        ts->pending = j;
        ts->n_pending++;
        pthread_mutex_unlock(&ts->mu);
        ts->n_jobs++;
        started++;
    }
    if (started) {
        pthread_mutex_lock(&ts->mu);
        pthread_cond_broadcast(&ts->cv);
        pthread_mutex_unlock(&ts->mu);
    }
    /* running HTTP requests for tiles that left the view: cancel them (local
     * reads are short, their results are kept) */
    pthread_mutex_lock(&ts->mu);
    for (job *j = ts->all_jobs; j; j = j->all_next)
        if (j->running && j->wanted_frame != ts->frame && tileset_uri_is_http(j->uri))
            atomic_store(&j->cancel, 1);
    ts->stats.requests_queued = ts->n_pending;
    pthread_mutex_unlock(&ts->mu);
}

/* ---- eviction ---- */

static int evict_cmp(const void *a, const void *b)
{
    const resident *x = a, *y = b;
    uint64_t fx = x->content->last_used_frame, fy = y->content->last_used_frame;
    return (fx > fy) - (fx < fy);
}

static bool is_expansion(const resident *r)
{
    return r->content == &r->tile->expansion || r->content->type == CT_CONTENT_TYPE_JSON;
}

/* Snapshot of resident contents the current view did not touch, oldest
 * first; expansions (external tilesets, subtrees) only when asked. */
static int evict_snapshot(ct_tileset *ts, bool expansions)
{
    int n = 0;
    if (ts->cap_evict < ts->n_res) {
        resident *e = realloc(ts->evict, (size_t)ts->n_res * sizeof *e);
        if (!e)
            return 0;
        ts->evict = e;
        ts->cap_evict = ts->n_res;
    }
    for (int i = 0; i < ts->n_res; i++)
        if (ts->res[i].content->last_used_frame != ts->frame && is_expansion(&ts->res[i]) == expansions)
            ts->evict[n++] = ts->res[i];
    qsort(ts->evict, (size_t)n, sizeof *ts->evict, evict_cmp);
    return n;
}

static void evict_one(ct_tileset *ts, ct_tile *t, ct_tileset_content *c)
{
    bool drawable = c != &t->expansion && c->type != CT_CONTENT_TYPE_JSON;
    if (drawable && c->state == CT_CONTENT_READY)
        ts->stats.contents_loaded--;
    content_unload(ts, t, c);
    c->state = CT_CONTENT_UNLOADED;
    ts->stats.evictions_total++;
    push_id(&ts->ev_unloaded, &ts->n_unloaded, &ts->cap_unloaded, t->id);
}

static void evict(ct_tileset *ts)
{
    /* make room for what this view is about to request (estimated at the
     * mean resident size), not just for what is already resident */
    size_t mean = ts->n_res ? ts->bytes_used / (size_t)ts->n_res : 0;
    int coming = 0;
    for (int i = 0; i < ts->n_cand && coming < ts->max_in_flight; i++)
        if (!ts->cand[i].content->job)
            coming++;
    size_t reserve = (size_t)(coming + ts->n_jobs) * mean;
    size_t target = ts->budget > reserve ? ts->budget - reserve : 0;
    if (ts->bytes_used <= target)
        return;
    /* contents first: releasing them frees no tiles, so the snapshot stays valid */
    int n = evict_snapshot(ts, false);
    for (int i = 0; i < n && ts->bytes_used > target; i++)
        evict_one(ts, ts->evict[i].tile, ts->evict[i].content);
    /* then whole external tilesets / subtrees, one at a time (each frees tiles
     * and so invalidates the snapshot) */
    while (ts->bytes_used > target) {
        n = evict_snapshot(ts, true);
        if (!n)
            break;
        evict_one(ts, ts->evict[0].tile, ts->evict[0].content);
    }
}

/* ---- update ---- */

ct_status ct_tileset_update(ct_tileset *ts, const ct_tileset_view *view, ct_tileset_frame *frame, ct_error *err)
{
    if (!view)
        return ct_error_set(err, CT_ERR_USAGE, "ct_tileset_update: no view");
    ts->frame++;
    ts->n_loaded = ts->n_unloaded = ts->n_failed = 0;
    drain_done(ts);
    double budget_s = upload_budget(ts, ct_time_now());
    upload_pending(ts, budget_s);

    /* the view in the tileset frame */
    tileset_view v;
    v.position = ct_dmat4_transform_point(ts->placement_inv, view->position);
    v.direction = ct_dvec3_normalize(ct_dmat4_transform_dir(ts->placement_inv, view->direction));
    if (!(ct_dvec3_length(view->direction) > 0))
        v.direction = (ct_dvec3){0, 0, 0};
    /* planes: p_ts = M^T p_scene */
    const double *m = ts->placement;
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            v.planes[i][k] = m[k * 4 + 0] * view->planes[i][0] + m[k * 4 + 1] * view->planes[i][1] +
                             m[k * 4 + 2] * view->planes[i][2] + m[k * 4 + 3] * view->planes[i][3];
    v.sse_factor = view->viewport_height / (2.0 * tan((view->fovy > 0 ? view->fovy : M_PI / 3) * 0.5));
    v.max_sse = ts->max_sse;
    v.by_error = ts->by_error;
    v.max_error = ts->max_error;
    v.skip_levels = ts->desc.skip_levels || (ts->mode == CT_TILESET_LOAD_FINAL && !ts->final_fallback);
    v.now = ct_time_now();

    ts->n_draws = 0;
    ts->n_cand = 0;
    ts->stats.tiles_visited = ts->stats.tiles_culled = ts->stats.tiles_selected = 0;
    ts->wanted_not_ready = 0;
    ts->failed_waiting = 0;
    if (ts->root)
        tileset_select(ts, &v);
    /* evict before requesting: only tiles not visited this frame go, and
     * the candidates all were visited */
    evict(ts);
    dispatch(ts);

    ct_tileset_stats *s = &ts->stats;
    s->frame = ts->frame;
    s->requests_in_flight = ts->n_jobs - s->requests_queued;
    s->bytes_used = ts->bytes_used;
    s->bytes_budget = ts->budget;
    if (ts->bytes_used > s->bytes_peak)
        s->bytes_peak = ts->bytes_used;
    s->tree_nodes = ts->nodes;
    s->tiles_failed = ts->failed_waiting;
    s->all_loaded = ts->wanted_not_ready == 0 && ts->n_jobs == 0;
    s->uploads_pending = ts->uploads_pending;
    s->upload_budget_ms = budget_s * 1000.0;
    /* FINAL skips ancestors; with the byte budget full they could not come
     * in later to stand in for children that do not fit: select as
     * INTERACTIVE from now on */
    if (ts->mode == CT_TILESET_LOAD_FINAL && s->budget_limited)
        ts->final_fallback = true;
    if (frame) {
        frame->draws = ts->draws;
        frame->n_draws = ts->n_draws;
        frame->loaded = ts->ev_loaded;
        frame->n_loaded = ts->n_loaded;
        frame->unloaded = ts->ev_unloaded;
        frame->n_unloaded = ts->n_unloaded;
        frame->failed = ts->ev_failed;
        frame->n_failed = ts->n_failed;
        frame->stats = *s;
    }
    return CT_OK;
}

void ct_tileset_get_stats(const ct_tileset *ts, ct_tileset_stats *stats) { *stats = ts->stats; }

void ct_tileset_set_load_mode(ct_tileset *ts, ct_tileset_load_mode mode)
{
    ts->mode = mode == CT_TILESET_LOAD_FINAL ? CT_TILESET_LOAD_FINAL : CT_TILESET_LOAD_INTERACTIVE;
    ts->final_fallback = false;
}

bool ct_tileset_wait(ct_tileset *ts, double timeout_s)
{
    if (ts->uploads_pending > 0)
        return true;
    if (ts->n_jobs == 0)
        return false;
    double until = ct_time_now() + (timeout_s > 0 ? timeout_s : 0);
    struct timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    double ns = abs.tv_nsec + (timeout_s > 0 ? timeout_s : 0) * 1e9;
    abs.tv_sec += (time_t)(ns / 1e9);
    abs.tv_nsec = (long)fmod(ns, 1e9);
    pthread_mutex_lock(&ts->mu);
    while (!ts->done && ct_time_now() < until)
        if (pthread_cond_timedwait(&ts->done_cv, &ts->mu, &abs) != 0)
            break; /* timed out (or an error: do not spin) */
    bool any = ts->done != NULL;
    pthread_mutex_unlock(&ts->mu);
    return any;
}

ct_status ct_tileset_fetch_resource(const ct_tileset *ts, const char *base_uri, const char *ref, uint8_t **data,
                                    size_t *size, ct_error *err)
{
    *data = NULL;
    *size = 0;
    char *abs = ct_uri_resolve(base_uri, ref);
    char *uri = abs && ct_uri_has_scheme(abs) && strncmp(abs, "file:", 5) != 0 ? ct_uri_with_query_of(abs, base_uri)
                                                                              : NULL;
    if (!abs) {
        free(uri);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    tileset_fetcher f = {0};
    tileset_fetch_opts fo = ts->fetch_opts;
    fo.cancel = NULL;
    bool retryable = false;
    ct_status st = tileset_fetch(&f, &fo, uri ? uri : abs, data, size, &retryable, err);
    tileset_fetcher_cleanup(&f);
    free(uri);
    free(abs);
    return st;
}
