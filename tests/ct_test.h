/* A tiny test harness: CT_CHECK records a failure and goes on; CT_REQUIRE
 * stops the test. Each test file defines tests with CT_TEST and lists them in
 * CT_TEST_MAIN. Exit status is the number of failed checks (capped). */
#ifndef CT_TEST_H
#define CT_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int ct_test_failures;
static const char *ct_test_current;

#define CT_CHECK(cond)                                                                                   \
    do {                                                                                                 \
        if (!(cond)) {                                                                                   \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, ct_test_current, #cond); \
            ct_test_failures++;                                                                          \
        }                                                                                                \
    } while (0)

#define CT_REQUIRE(cond)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            fprintf(stderr, "%s:%d: [%s] required check failed: %s\n", __FILE__, __LINE__, ct_test_current, #cond); \
            ct_test_failures++;                                                                            \
            return;                                                                                        \
        }                                                                                                  \
    } while (0)

#define CT_CHECK_NEAR(a, b, tol)                                                                               \
    do {                                                                                                       \
        double ct_a_ = (double)(a), ct_b_ = (double)(b);                                                       \
        if (!(fabs(ct_a_ - ct_b_) <= (tol))) {                                                                 \
            fprintf(stderr, "%s:%d: [%s] %s = %.9g, expected %s = %.9g (tol %g)\n", __FILE__, __LINE__,         \
                    ct_test_current, #a, ct_a_, #b, ct_b_, (double)(tol));                                     \
            ct_test_failures++;                                                                                \
        }                                                                                                      \
    } while (0)

#define CT_CHECK_EQ_INT(a, b)                                                                                  \
    do {                                                                                                       \
        long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);                                              \
        if (ct_a_ != ct_b_) {                                                                                  \
            fprintf(stderr, "%s:%d: [%s] %s = %lld, expected %lld\n", __FILE__, __LINE__, ct_test_current, #a,  \
                    ct_a_, ct_b_);                                                                             \
            ct_test_failures++;                                                                                \
        }                                                                                                      \
    } while (0)

typedef void (*ct_test_fn)(void);
typedef struct ct_test_case { const char *name; ct_test_fn fn; } ct_test_case;

#define CT_TEST(name) static void name(void)

/* Path to ../shared/data (CT_DATA_DIR from CMake). If it is missing: with CI
 * set the test fails; otherwise it is skipped (exit 77, ctest SKIP_RETURN_CODE). */
static inline const char *ct_test_data_dir(void)
{
    const char *d = getenv("CT_DATA_DIR");
#ifdef CT_DATA_DIR_DEFAULT
    if (!d)
        d = CT_DATA_DIR_DEFAULT;
#endif
    FILE *f = NULL;
    char probe[4096];
    if (d) {
        snprintf(probe, sizeof probe, "%s/SOURCES.md", d);
        f = fopen(probe, "r");
    }
    if (!f) {
        if (getenv("CI")) {
            fprintf(stderr, "shared test data missing at %s (CI is set: failing)\n", d ? d : "(unset)");
            exit(1);
        }
        fprintf(stderr, "shared test data missing at %s: skipping\n", d ? d : "(unset)");
        exit(77);
    }
    fclose(f);
    return d;
}

/* Joins the data dir and a relative path into a static buffer (one at a time). */
static inline const char *ct_test_data(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", ct_test_data_dir(), rel);
    return buf;
}

/* A path inside a per-process temporary folder, created on first use and
 * removed at exit. Eight rotating buffers, so a few may be held at once. */
static char ct_test_tmp_dir_[256];

static inline void ct_test_tmp_cleanup_(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ct_test_tmp_dir_);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", ct_test_tmp_dir_);
}

static inline const char *ct_test_tmp_dir_get_(void)
{
    if (!ct_test_tmp_dir_[0]) {
        snprintf(ct_test_tmp_dir_, sizeof ct_test_tmp_dir_, "/tmp/ct_test_XXXXXX");
        if (!mkdtemp(ct_test_tmp_dir_))
            abort();
        atexit(ct_test_tmp_cleanup_);
    }
    return ct_test_tmp_dir_;
}

static inline const char *ct_test_tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", ct_test_tmp_dir_get_(), name);
    return buf[k];
}

/* Runs a shell command line; returns its exit status (0..255), or -1 when it
 * could not be run or died from a signal. */
static inline int ct_test_sh(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads a whole stream into a malloc'd NUL-terminated string. A test has no
 * use for a half-read output, so running out of memory aborts. */
static inline char *ct_test_read_stream_(FILE *f)
{
    size_t cap = 1 << 16, n = 0, got;
    char *buf = (char *)malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap)
            buf = (char *)realloc(buf, cap *= 2);
    }
    if (!buf)
        abort();
    buf[n] = 0;
    return buf;
}

/* Runs the citytwin executable (CT_BINARY_DIR/cli/citytwin, or $CT_CITYTWIN)
 * with ARGS through the shell, as a user would type them (redirections in ARGS
 * apply after ours, so "2>&1" still joins stderr to OUT). When OUT / ERR are
 * not NULL they get its whole stdout / stderr as malloc'd NUL-terminated
 * strings (free them; never NULL, also when it could not run); otherwise that
 * stream is dropped. Returns the exit status (0..255), or -1 when it could not
 * be run or died from a signal, so a test can check the CLI.md exit codes. */
static inline int ct_test_run_cli(const char *args, char **out, char **err)
{
    const char *bin = getenv("CT_CITYTWIN");
    char dflt[4096];
    if (!bin) {
#ifdef CT_BINARY_DIR
        snprintf(dflt, sizeof dflt, "%s/cli/citytwin", CT_BINARY_DIR);
#else
        snprintf(dflt, sizeof dflt, "citytwin");
#endif
        bin = dflt;
    }
    /* stderr goes to a file, not a second pipe, so a chatty child can never
     * block on a full pipe while we read the other one. Not through
     * ct_test_tmp_path: that would recycle one of the caller's held paths. */
    char err_path[600] = "/dev/null";
    if (err)
        snprintf(err_path, sizeof err_path, "%s/ct_test_run_cli.stderr", ct_test_tmp_dir_get_());
    size_t len = strlen(bin) + strlen(args) + strlen(err_path) + 16;
    char *cmd = (char *)malloc(len);
    if (!cmd)
        abort();
    /* our redirection first: one written in ARGS ("2>&1", "> f") comes later and wins */
    snprintf(cmd, len, "%s 2>%s %s", bin, err_path, args);
    fflush(NULL); /* keeps the test's own log lines before the child's */
    FILE *p = popen(cmd, "r");
    free(cmd);
    char *o = p ? ct_test_read_stream_(p) : (char *)calloc(1, 1);
    int st = p ? pclose(p) : -1;
    if (out)
        *out = o;
    else
        free(o);
    if (err) {
        FILE *e = fopen(err_path, "r");
        *err = e ? ct_test_read_stream_(e) : (char *)calloc(1, 1);
        if (e)
            fclose(e);
        remove(err_path);
    }
    if ((out && !*out) || (err && !*err))
        abort(); /* calloc failed */
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Records the calls of a ct_progress_fn (user = a ct_test_progress): how many,
 * the first and last fraction, how many strictly inside (0, 1), and whether
 * the fractions never went down and stayed within [0, 1]. */
typedef struct ct_test_progress {
    int calls, inside;
    double first, last;
    int decreasing, out_of_range;
} ct_test_progress;

static inline void ct_test_progress_record(void *user, double f)
{
    ct_test_progress *p = (ct_test_progress *)user;
    if (p->calls == 0)
        p->first = f;
    else if (f < p->last)
        p->decreasing++;
    if (!(f >= 0 && f <= 1))
        p->out_of_range++;
    if (f > 0 && f < 1)
        p->inside++;
    p->last = f;
    p->calls++;
}

/* A sound progress: at least min_inside calls strictly between 0 and 1 (a bar
 * that moves, not 0 then 100 %), never decreasing, in range, ending at 1. */
#define CT_CHECK_PROGRESS(p, min_inside)                                                              \
    do {                                                                                              \
        CT_CHECK((p).inside >= (min_inside));                                                         \
        CT_CHECK_EQ_INT((p).decreasing, 0);                                                           \
        CT_CHECK_EQ_INT((p).out_of_range, 0);                                                         \
        CT_CHECK((p).calls > 0 && (p).last == 1.0);                                                   \
    } while (0)

#define CT_TEST_MAIN(...)                                                                        \
    int main(int argc, char **argv)                                                              \
    {                                                                                            \
        ct_test_case cases[] = {__VA_ARGS__};                                                    \
        int n = (int)(sizeof cases / sizeof cases[0]), ran = 0;                                  \
        for (int i = 0; i < n; i++) {                                                            \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)                                 \
                continue;                                                                        \
            ct_test_current = cases[i].name;                                                     \
            int before = ct_test_failures;                                                       \
            cases[i].fn();                                                                       \
            fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name); \
            ran++;                                                                               \
        }                                                                                        \
        if (!ran) {                                                                              \
            fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(none)");                \
            return 1;                                                                            \
        }                                                                                        \
        return ct_test_failures > 100 ? 100 : ct_test_failures;                                  \
    }
#define CT_CASE(fn) {#fn, fn}

#endif
