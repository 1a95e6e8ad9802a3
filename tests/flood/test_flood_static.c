/* Static flood: hand-computed cases. */
#include "ct_test.h"
#include "flood_test_util.h"

CT_TEST(test_placeholder) { CT_CHECK(1); }

CT_TEST_MAIN(CT_CASE(test_placeholder))
