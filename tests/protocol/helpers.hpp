// Assertions on sfts::Error kinds, shared by the protocol tests.
#pragma once

#include <boost/test/unit_test.hpp>

#include "sfts/error.hpp"

// Checks that expr throws sfts::Error of the given kind (and nothing else).
#define SFTS_CHECK_ERRC(expr, errc)                                                        \
    BOOST_CHECK_EXCEPTION((void)(expr), ::sfts::Error,                                    \
                          [](const ::sfts::Error& e_) {                                   \
                              BOOST_TEST_INFO("thrown: " << e_.what());                   \
                              return e_.kind() == (errc);                                 \
                          })
