/* The flood time series CSV reader (ct_flood_series_parse/load): accepted
 * dialects and clear, line-numbered errors on malformed files. */
#include "citytwin/ct_flood.h"
#include "ct_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ct_status parse(const char *text, ct_flood_series *s, ct_error *err)
{
    memset(err, 0, sizeof *err);
    return ct_flood_series_parse(text, strlen(text), "s.csv", s, err);
}

/* Parses text, expects failure with msg containing want. */
static void expect_error(const char *text, const char *want)
{
    ct_flood_series s;
    ct_error err;
    CT_CHECK(parse(text, &s, &err) == CT_ERR_INPUT);
    if (!strstr(err.msg, want))
        fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, want);
    CT_CHECK(strstr(err.msg, want) != NULL);
    CT_CHECK(s.n == 0 && s.t == NULL && s.v == NULL);
}

CT_TEST(plain_and_dialects)
{
    const char *texts[] = {
        "time_s,mm_per_h\n0,0\n600,30\n1200,0\n",             /* header, LF */
        "\xef\xbb\xbftime_s,mm_per_h\r\n0,0\r\n600,30\r\n1200,0\r\n", /* BOM, CRLF */
        "# rain\n\n0;0\n  \n600 ; 30\n\t\n1200;0",            /* comments, blanks, ';', no final newline */
        "0\t0\r600\t30\r1200\t0\r",                          /* tabs, old Mac CR */
        "0 0\n600   30\n1200 0\n",                           /* spaces */
        "0,0,\n600,30,\n1200,0,\n",                          /* trailing separator */
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        ct_flood_series s;
        ct_error err;
        CT_REQUIRE(parse(texts[k], &s, &err) == CT_OK);
        CT_CHECK_EQ_INT(s.n, 3);
        CT_CHECK(s.t[0] == 0 && s.t[1] == 600 && s.t[2] == 1200);
        CT_CHECK(s.v[0] == 0 && s.v[1] == 30 && s.v[2] == 0);
        ct_flood_series_free(&s);
        CT_CHECK(s.t == NULL && s.n == 0);
    }
}

CT_TEST(errors_name_the_line)
{
    expect_error("t,v\n0,1\n10\n", "s.csv:3: expected 2 columns time_s,value, found 1");
    expect_error("0,1\n10,2,3\n", "s.csv:2: expected 2 columns time_s,value, found 3");
    expect_error("0,1\n\n10,x\n", "s.csv:3: value is not a number");
    expect_error("0,1\nten,2\n", "s.csv:2: time is not a number");
    expect_error("0,nan\n", "s.csv:1: value is not a finite number");
    expect_error("0,1\ninf,2\n", "s.csv:2: time is not a finite number");
    expect_error("0,1\r\n10,2\r\n5,3\r\n", "s.csv:3: time 5 is not after the previous 10");
    expect_error("0,1\n0,2\n", "s.csv:2: time 0 is not after the previous 0");
    expect_error("", "s.csv: no time_s,value rows");
    expect_error("\xef\xbb\xbf# only a comment\r\ntime,value\r\n", "s.csv: no time_s,value rows");
    expect_error("0,1\n1,00000000000000000000000000000000000000000000000000000000000000000000001\n",
                 "s.csv:2: value field longer than 63 characters");
    /* an embedded NUL byte: length-bounded parsing still reports it */
    ct_flood_series s;
    ct_error err = {0};
    CT_CHECK(ct_flood_series_parse("0,1\n5,\0\n", 8, "s.csv", &s, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "s.csv:2:") != NULL);
}

CT_TEST(huge_file)
{
    /* 200,000 rows parse; the row count and the last row are right. */
    size_t cap = 200000 * 24;
    char *text = malloc(cap), *p = text;
    for (int i = 0; i < 200000; i++)
        p += snprintf(p, cap - (size_t)(p - text), "%d,%d.5\n", i * 10, i % 7);
    ct_flood_series s;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_series_parse(text, (size_t)(p - text), "big.csv", &s, &err) == CT_OK);
    CT_CHECK_EQ_INT(s.n, 200000);
    CT_CHECK(s.t[199999] == 1999990 && s.v[199999] == 199999 % 7 + 0.5);
    ct_flood_series_free(&s);
    /* a bad row at the end of a big file still names its line */
    p += snprintf(p, 16, "oops\n");
    CT_CHECK(ct_flood_series_parse(text, (size_t)(p - text), "big.csv", &s, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "big.csv:200001: expected 2 columns") != NULL);
    free(text);
}

CT_TEST(load_file)
{
    const char *path = ct_test_tmp_path("rain.csv");
    ct_error err = {0};
    const char *csv = "time_s,mm_per_h\n0,10\n3600,0\n";
    CT_REQUIRE(ct_file_write(path, csv, strlen(csv), &err) == CT_OK);
    ct_flood_series s;
    CT_REQUIRE(ct_flood_series_load(path, &s, &err) == CT_OK);
    CT_CHECK_EQ_INT(s.n, 2);
    ct_flood_series_free(&s);
    CT_CHECK(ct_flood_series_load(ct_test_tmp_path("missing.csv"), &s, &err) != CT_OK);
    CT_CHECK(strstr(err.msg, "missing.csv") != NULL);
}

CT_TEST_MAIN(CT_CASE(plain_and_dialects), CT_CASE(errors_name_the_line), CT_CASE(huge_file), CT_CASE(load_file))
