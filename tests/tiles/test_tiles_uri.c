/* URI resolution against RFC 3986 section 5.4 (normal and abnormal examples),
 * CesiumJS-style query propagation, implicit templates, gzip and the folder
 * sandbox. */
#include "ct_test.h"

#include "citytwin/ct_tileset.h"

#include <stdlib.h>
#include <unistd.h>

static void check_resolve(const char *base, const char *ref, const char *want)
{
    char *got = ct_uri_resolve(base, ref);
    if (!got || strcmp(got, want)) {
        fprintf(stderr, "resolve(%s, %s) = %s, expected %s\n", base, ref, got ? got : "(null)", want);
        ct_test_failures++;
    }
    free(got);
}

CT_TEST(rfc3986_normal_examples)
{
    const char *b = "http://a/b/c/d;p?q";
    const char *cases[][2] = {
        {"g:h", "g:h"},           {"g", "http://a/b/c/g"},       {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"},           {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"}, {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"}, {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"}, {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},    {"./", "http://a/b/c/"},        {"..", "http://a/b/"},
        {"../", "http://a/b/"},    {"../g", "http://a/b/g"},       {"../..", "http://a/"},
        {"../../", "http://a/"},   {"../../g", "http://a/g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_resolve(b, cases[i][0], cases[i][1]);
}

CT_TEST(rfc3986_abnormal_examples)
{
    const char *b = "http://a/b/c/d;p?q";
    const char *cases[][2] = {
        {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},      {"g.", "http://a/b/c/g."},       {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},  {"..g", "http://a/b/c/..g"},     {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"}, {"g/./h", "http://a/b/c/g/h"},   {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_resolve(b, cases[i][0], cases[i][1]);
}

CT_TEST(file_urls_and_query)
{
    check_resolve("file:///data/ts/tileset.json", "tiles/0.b3dm", "file:///data/ts/tiles/0.b3dm");
    check_resolve("file:///data/ts/tileset.json", "../x.b3dm", "file:///data/x.b3dm");
    check_resolve("file:///data/ts/sub/t.json", "../a.glb?v=1#f", "file:///data/ts/a.glb?v=1#f");
    CT_CHECK(ct_uri_has_scheme("https://x/y"));
    CT_CHECK(!ct_uri_has_scheme("a/b.json"));
    CT_CHECK(!ct_uri_has_scheme("C:/tiles/a.json")); /* drive letters are not schemes */
    /* CesiumJS propagates the tileset URL's query (tokens) to children without one */
    char *q = ct_uri_with_query_of("http://h/t/0.b3dm", "http://h/t/tileset.json?key=abc");
    CT_CHECK(q && !strcmp(q, "http://h/t/0.b3dm?key=abc"));
    free(q);
    /* the child's own parameters stay, the parent's others are added */
    q = ct_uri_with_query_of("http://h/t/0.b3dm?v=2", "http://h/t/tileset.json?key=abc");
    CT_CHECK(q && !strcmp(q, "http://h/t/0.b3dm?v=2&key=abc"));
    free(q);
    q = ct_uri_with_query_of("http://h/t/0.b3dm?key=1&v=2#f", "http://h/t/tileset.json?key=abc&s=9");
    CT_CHECK(q && !strcmp(q, "http://h/t/0.b3dm?key=1&v=2&s=9#f"));
    free(q);
    q = ct_uri_with_query_of("http://h/t/0.b3dm#frag", "http://h/t/tileset.json?key=abc");
    CT_CHECK(q && !strcmp(q, "http://h/t/0.b3dm?key=abc#frag"));
    free(q);
}

CT_TEST(implicit_templates)
{
    char *s = ct_uri_template("content/{level}/{x}_{y}_{z}.glb", 5, 31, 7, 2);
    CT_CHECK(s && !strcmp(s, "content/5/31_7_2.glb"));
    free(s);
    s = ct_uri_template("sub/{level}.{x}.{y}.subtree?tok={x}", 3, 0, 4, 0);
    CT_CHECK(s && !strcmp(s, "sub/3.0.4.subtree?tok=0"));
    free(s);
    s = ct_uri_template("{levelx}{", 1, 2, 3, 4); /* not a key: kept */
    CT_CHECK(s && !strcmp(s, "{levelx}{"));
    free(s);
}

CT_TEST(gzip_sniffed_and_inflated)
{
    /* "hello\n" gzip-compressed (gzip -n): bytes checked by inflating */
    const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd,
                          0xc9, 0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00};
    uint8_t *out = NULL;
    size_t n = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_gunzip_if_needed(gz, sizeof gz, 0, &out, &n, &err) == CT_OK);
    CT_CHECK(n == 6 && !memcmp(out, "hello\n", 6));
    free(out);
    /* plain data passes through */
    CT_REQUIRE(ct_gunzip_if_needed((const uint8_t *)"b3dm", 4, 0, &out, &n, &err) == CT_OK);
    CT_CHECK(n == 4 && !memcmp(out, "b3dm", 4));
    free(out);
    /* truncated gzip is an error, not a crash */
    CT_CHECK(ct_gunzip_if_needed(gz, 14, 0, &out, &n, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "gzip") != NULL);
}

CT_TEST_MAIN(CT_CASE(rfc3986_normal_examples), CT_CASE(rfc3986_abnormal_examples), CT_CASE(file_urls_and_query),
             CT_CASE(implicit_templates), CT_CASE(gzip_sniffed_and_inflated))
