// The one place that includes the PKCS#11 header (p11-kit's copy of the OASIS header).
#pragma once

#include <p11-kit/pkcs11.h>
