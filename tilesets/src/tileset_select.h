/* Internal: the tileset object shared by tileset_stream.c and tileset_select.c. */
#ifndef CT_TILESET_SELECT_H
#define CT_TILESET_SELECT_H

#include "tileset_internal.h"

enum { JOB_CONTENT = 0, JOB_SUBTREE = 1 };

typedef struct ct_tileset_job {
    struct ct_tileset_job *next;           /* pending / done list (under ts->mu) */
    struct ct_tileset_job *all_prev, *all_next; /* every live job (main thread) */
    int kind;
    char *uri;
    ct_implicit_desc imp;
    double tile_transform[16];
    float priority;
    atomic_int cancel;
    bool running;                          /* taken by a worker (under ts->mu) */
    /* main thread only */
    ct_tile *tile;
    ct_tileset_content *content;
    uint64_t wanted_frame;
    /* results (written by the worker before it hands the job back) */
    ct_status status;
    bool retryable, cancelled;
    char msg[1024];
    ct_content_type type;
    void *decoded;
    size_t cpu_bytes, raw_size;
    cJSON *doc;
    ct_subtree *subtree;
} job;

typedef struct candidate {
    ct_tile *tile;
    ct_tileset_content *content; /* a tile content or tile->expansion (subtree) */
    float priority;
} candidate;

typedef struct resident {
    ct_tile *tile;
    ct_tileset_content *content;
} resident;

typedef struct tileset_view {
    ct_dvec3 position, direction;
    double planes[6][4];
    double sse_factor; /* viewport_height / (2 tan(fovy/2)) */
    double max_sse;
    bool by_error;     /* refine by geometric error (max_error), not SSE */
    double max_error;
    bool skip_levels;
    double now;
} tileset_view;

struct ct_tileset {
    ct_tileset_desc desc;
    char *root_uri, *sandbox;
    char **headers;
    int n_headers;
    tileset_fetch_opts fetch_opts;
    tileset_build_ctx ctx;
    uint64_t next_id;
    size_t nodes;
    ct_tile *root;
    double placement[16], placement_inv[16];
    bool has_placement;
    double max_sse;
    bool by_error;                        /* ct_tileset_set_max_geometric_error */
    double max_error;
    size_t budget;
    int max_in_flight;
    double upload_budget_s, retry_base_s;
    double upload_fraction, upload_max_s; /* budget grows with the frame interval up to upload_max_s */
    double last_update_t;                 /* ct_time_now() of the previous update, 0 before */
    ct_tileset_load_mode mode;
    bool final_fallback;                  /* FINAL mode hit the byte budget: select as INTERACTIVE */
    int uploads_pending;

    /* worker pool */
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t done_cv;            /* a worker put a job on done */
    bool mu_ok, stopping;
    job *pending, *done;
    int n_pending;
    int n_jobs;        /* dispatched and not yet applied (main thread) */
    job *all_jobs;

    /* resident contents */
    resident *res, *evict;
    int n_res, cap_res, cap_evict;
    size_t bytes_used;

    /* per frame */
    uint64_t frame;
    candidate *cand;
    int n_cand, cap_cand;
    ct_tileset_draw *draws;
    int n_draws, cap_draws;
    uint64_t *ev_loaded, *ev_unloaded, *ev_failed;
    int n_loaded, cap_loaded, n_unloaded, cap_unloaded, n_failed, cap_failed;
    int wanted_not_ready, failed_waiting;
    ct_tileset_stats stats;
};

void tileset_select(ct_tileset *ts, const tileset_view *v);

#endif
