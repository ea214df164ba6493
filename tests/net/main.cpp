#define BOOST_TEST_MODULE sfts net
#include <boost/test/unit_test.hpp>
