#define BOOST_TEST_MODULE sfts protocol
#include <boost/test/unit_test.hpp>
