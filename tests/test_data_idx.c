/* gs_data_load_idx: good idx files (plain and gzip, with and without limit) and every bad case a
 * user can hit, each with the file and field named. Files are generated here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "gradsweep/data.h"

static char tmpdir[256];

#define N 5
#define ROWS 2
#define COLS 3

/* Big-endian idx header: magic then dims. Returns its length. */
static size_t header(unsigned char *b, uint32_t magic, const uint32_t *dims, int rank)
{
    uint32_t v[4] = {magic, 0, 0, 0};
    for (int i = 0; i < rank; i++)
        v[i + 1] = dims[i];
    for (int i = 0; i <= rank; i++) {
        b[4 * i] = (unsigned char)(v[i] >> 24);
        b[4 * i + 1] = (unsigned char)(v[i] >> 16);
        b[4 * i + 2] = (unsigned char)(v[i] >> 8);
        b[4 * i + 3] = (unsigned char)v[i];
    }
    return 4 * (size_t)(rank + 1);
}

/* Writes len bytes of buf to tmpdir/name, gzip-compressed when gz; the path goes to out. */
static const char *write_file(char *out, size_t n, const char *name, const unsigned char *buf,
                              size_t len, int gz)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
    if (gz) {
        gzFile f = gzopen(out, "wb");
        CHECK(f != NULL);
        CHECK_EQ_INT(gzwrite(f, buf, (unsigned)len), len);
        gzclose(f);
    } else {
        FILE *f = fopen(out, "wb");
        CHECK(f != NULL);
        CHECK_EQ_INT(fwrite(buf, 1, len, f), len);
        fclose(f);
    }
    return out;
}

/* An images file of n images [ROWS][COLS], pixel (i, j) = 10 i + j (+ 200 for j = 0 of image 0),
 * cut to `cut` bytes when cut > 0. */
static const char *images(char *out, size_t sz, const char *name, uint32_t n, int gz, size_t cut)
{
    unsigned char b[16 + N * ROWS * COLS + 64];
    uint32_t dims[3] = {n, ROWS, COLS};
    size_t len = header(b, 0x803, dims, 3);
    for (uint32_t i = 0; i < n; i++)
        for (int j = 0; j < ROWS * COLS; j++)
            b[len++] = (unsigned char)(10 * i + (uint32_t)j + (i == 0 && j == 0 ? 255 - 0 : 0));
    return write_file(out, sz, name, b, cut ? cut : len, gz);
}

/* A labels file of n labels, label i = i % 10, with label `bad_at` set to bad when bad_at < n. */
static const char *labels(char *out, size_t sz, const char *name, uint32_t n, int gz,
                          uint32_t bad_at, unsigned char bad)
{
    unsigned char b[8 + 64];
    size_t len = header(b, 0x801, &n, 1);
    for (uint32_t i = 0; i < n; i++)
        b[len++] = i == bad_at ? bad : (unsigned char)(i % 10);
    return write_file(out, sz, name, b, len, gz);
}

static void check_good(const char *xp, const char *yp, int64_t limit, size_t n_want)
{
    gs_error err = {0};
    gs_dataset *ds = NULL;
    CHECK_EQ_INT(gs_data_load_idx(&ds, xp, yp, limit, &err), GS_OK);
    if (!ds) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(ds->n, n_want);
    CHECK_EQ_INT(ds->d, ROWS * COLS);
    CHECK_EQ_INT(ds->k, 10);
    CHECK_EQ_INT(ds->has_labels, 1);
    CHECK_NEAR(ds->x[0], 1.0, 0, 0); /* 255 / 255 */
    for (size_t i = 0; i < n_want; i++) {
        CHECK_EQ_INT(ds->label[i], i % 10);
        for (size_t j = i == 0 ? 1 : 0; j < ROWS * COLS; j++)
            CHECK_NEAR(ds->x[i * ROWS * COLS + j], (double)(10 * i + j) / 255.0, 1e-15, 0);
    }
    gs_dataset_destroy(ds);
}

static void test_good(void)
{
    char x[512], y[512], xg[512], yg[512];
    images(x, sizeof x, "img", N, 0, 0);
    labels(y, sizeof y, "lab", N, 0, N, 0);
    images(xg, sizeof xg, "img.gz", N, 1, 0);
    labels(yg, sizeof yg, "lab.gz", N, 1, N, 0);
    check_good(x, y, 0, N);
    check_good(xg, yg, 0, N);
    check_good(xg, y, 0, N); /* mixed: each file detected on its own */
    check_good(x, yg, 3, 3);
    check_good(xg, yg, 100, N); /* limit above n: all */
}

/* Expects GS_EDATA and a message containing want (and, when want2, want2). */
static void expect_fail(const char *xp, const char *yp, const char *want, const char *want2)
{
    gs_error err = {0};
    gs_dataset *ds = NULL;
    CHECK_EQ_INT(gs_data_load_idx(&ds, xp, yp, 0, &err), GS_EDATA);
    CHECK(ds == NULL);
    CHECK_HAS_STR(err.msg, want);
    if (want2)
        CHECK_HAS_STR(err.msg, want2);
    gs_dataset_destroy(ds);
}

static void test_bad(void)
{
    char x[512], y[512], b[512], b2[512], want[1400];
    images(x, sizeof x, "img", N, 0, 0);
    labels(y, sizeof y, "lab", N, 0, N, 0);
    /* missing files */
    snprintf(b, sizeof b, "%s/nope", tmpdir);
    snprintf(want, sizeof want, "%s: data.images: cannot open", b);
    expect_fail(b, y, want, NULL);
    snprintf(want, sizeof want, "%s: data.labels: cannot open", b);
    expect_fail(x, b, want, NULL);
    /* wrong magic: labels given as images, and the other way round */
    snprintf(want, sizeof want, "%s: magic: 0x00000801, expected 0x00000803", y);
    expect_fail(y, y, want, NULL);
    snprintf(want, sizeof want, "%s: magic: 0x00000803, expected 0x00000801", x);
    expect_fail(x, x, want, NULL);
    /* truncated: inside the pixels, plain and gzip; inside the header */
    images(b, sizeof b, "img.cut", N, 0, 16 + 2 * ROWS * COLS + 1);
    snprintf(want, sizeof want, "%s: pixels: truncated", b);
    expect_fail(b, y, want, NULL);
    images(b, sizeof b, "img.cut.gz", N, 1, 16 + 2 * ROWS * COLS + 1);
    snprintf(want, sizeof want, "%s: pixels: truncated", b);
    expect_fail(b, y, want, "gzip");
    images(b, sizeof b, "img.hdr", N, 0, 10);
    snprintf(want, sizeof want, "%s: header: truncated", b);
    expect_fail(b, y, want, NULL);
    /* a gzip file whose compressed stream is cut short */
    {
        char full[512];
        images(full, sizeof full, "img.full.gz", N, 1, 0);
        FILE *f = fopen(full, "rb");
        unsigned char buf[4096];
        size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        write_file(b, sizeof b, "img.cutz.gz", buf, len / 2, 0);
        snprintf(want, sizeof want, "%s: ", b);
        expect_fail(b, y, want, "truncated or corrupt gzip stream");
    }
    /* count mismatch */
    labels(b, sizeof b, "lab4", N - 1, 0, N, 0);
    snprintf(want, sizeof want, "%s: count: %d labels, but %s holds %d images", b, N - 1, x, N);
    expect_fail(x, b, want, NULL);
    /* label out of range; labels file truncated */
    labels(b, sizeof b, "lab.bad", N, 1, 3, 10);
    snprintf(want, sizeof want, "%s: labels[3]: 10 out of range 0..9", b);
    expect_fail(x, b, want, NULL);
    {
        unsigned char hb[8 + 2];
        uint32_t n = N;
        size_t len = header(hb, 0x801, &n, 1);
        hb[len++] = 0;
        hb[len++] = 1;
        write_file(b, sizeof b, "lab.cut", hb, len, 0);
        snprintf(want, sizeof want, "%s: labels: truncated", b);
        expect_fail(x, b, want, NULL);
    }
    /* zero and oversized dims */
    {
        unsigned char hb[16];
        uint32_t d0[3] = {N, 0, COLS}, d1[3] = {N, ROWS, 1000000};
        write_file(b, sizeof b, "img.d0", hb, header(hb, 0x803, d0, 3), 0);
        snprintf(want, sizeof want, "%s: dims[1]: 0, expected", b);
        expect_fail(b, y, want, NULL);
        write_file(b2, sizeof b2, "img.d1", hb, header(hb, 0x803, d1, 3), 0);
        snprintf(want, sizeof want, "%s: dims[2]: 1000000, expected", b2);
        expect_fail(b2, y, want, NULL);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_data_idx.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_good();
    test_bad();
    int rc = CHECK_EXIT();
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return rc;
}
