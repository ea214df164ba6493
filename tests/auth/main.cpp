#define BOOST_TEST_MODULE sfts_auth
#include <boost/test/unit_test.hpp>
