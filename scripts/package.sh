#!/usr/bin/env bash
# Builds a Release tree in ${SFTS_PACKAGE_BUILD_DIR:-build-release} (no tests) and the Debian
# package from it with cpack -G DEB; prints the path of the .deb. Needs dpkg-dev (dpkg-shlibdeps
# for the library dependencies, dpkg-buildflags for Debian's compiler flags). Extra arguments go
# to cmake's configure step.
#   scripts/package.sh && sudo apt install ./build-release/sfts_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SFTS_PACKAGE_BUILD_DIR:-build-release}
# Debian's flags, as a Debian package build uses them: -O2 (CMake's Release would be -O3),
# stack protector, _FORTIFY_SOURCE, full RELRO and bind-now, and source paths mapped to "."
# so that no path of this machine ends up in the binaries. CPack strips the -g part.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSFTS_BUILD_TESTS=OFF \
  -DCMAKE_C_FLAGS_RELEASE=-DNDEBUG -DCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG \
  -DCMAKE_C_FLAGS="$CPPFLAGS $CFLAGS" -DCMAKE_CXX_FLAGS="$CPPFLAGS $CXXFLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" "${launcher[@]}" "$@" >/dev/null
cmake --build "$build" -- -j"${SFTS_JOBS:-2}"
rm -f "$build"/sfts_*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { tail -30 "$build/cpack.log" >&2; exit 1; }
deb=$(ls "$build"/sfts_*.deb)
echo "$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
