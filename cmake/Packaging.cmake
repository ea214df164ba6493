# Install layout and the Debian package (included from the top-level CMakeLists.txt).
#
# Layout, relative to the prefix (/usr in the package): the daemon and sfts-admin in sbin, the
# clients in bin (their own install() rules); the systemd unit and the sysusers.d file where
# systemd looks for vendor files; man pages, the documentation and the sample configuration
# under share. The configuration itself goes to /etc/sftsd/sftsd.conf when the prefix is /usr
# (the package: a conffile), else to PREFIX/etc/sftsd/sftsd.conf, the GNUInstallDirs rule.
#
# `cpack -G DEB` (scripts/package.sh) makes one package, sfts: the server and both clients.
# One package because the client is small, shares every library with the server, and a
# workstation that installs it gets only a disabled unit and a system user.

install(FILES systemd/sftsd.service DESTINATION lib/systemd/system COMPONENT server)
install(FILES systemd/sftsd.sysusers DESTINATION lib/sysusers.d RENAME sftsd.conf COMPONENT server)
install(FILES systemd/sftsd.conf.sample docs/configuration.md docs/operations.md DESTINATION share/doc/sfts
        COMPONENT server)
install(FILES packaging/debian/copyright packaging/debian/README.Debian DESTINATION share/doc/sfts COMPONENT server)
install(PROGRAMS systemd/sfts-admin-service DESTINATION sbin COMPONENT server)
# Decided at install time, not at configure time: cpack installs with the prefix /usr into its
# staging DESTDIR, while a developer's `cmake --install --prefix DIR` must stay inside DIR.
# An existing configuration is an administrator's: it is kept (the package's staging tree is
# always empty, so the package always has the file).
install(CODE "
  if(CMAKE_INSTALL_PREFIX MATCHES \"^/usr/?\$\")
    set(_sfts_etc /etc/sftsd)
  else()
    set(_sfts_etc \"\${CMAKE_INSTALL_PREFIX}/etc/sftsd\")
  endif()
  if(EXISTS \"\$ENV{DESTDIR}\${_sfts_etc}/sftsd.conf\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${_sfts_etc}/sftsd.conf\")
  else()
    file(INSTALL DESTINATION \"\${_sfts_etc}\" TYPE FILE RENAME sftsd.conf
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${PROJECT_SOURCE_DIR}/systemd/sftsd.conf.sample\")
  endif()
  if(NOT EXISTS \"\$ENV{DESTDIR}\${_sfts_etc}/softhsm2.conf\")
    file(INSTALL DESTINATION \"\${_sfts_etc}\" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES \"${PROJECT_SOURCE_DIR}/systemd/softhsm2.conf\")
  endif()
" COMPONENT server)

# Man pages: the version is filled in, then each is compressed with gzip -9n (Debian policy
# 12.1: compressed, no name or time stamp inside, so the package is reproducible).
find_program(SFTS_GZIP gzip REQUIRED)
set(SFTS_VERSION ${PROJECT_VERSION})
set(_sfts_man_gz)
foreach(page sftsd.8 sfts-admin.8 sfts-admin-service.8 sftsd.conf.5 sfts.1 sfts-tui.1)
  string(REGEX MATCH "[0-9]$" section ${page})
  configure_file(docs/man/${page} ${PROJECT_BINARY_DIR}/man/${page} @ONLY)
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${page}.gz
    COMMAND ${SFTS_GZIP} -9n -c ${PROJECT_BINARY_DIR}/man/${page} > ${PROJECT_BINARY_DIR}/man/${page}.gz
    DEPENDS ${PROJECT_BINARY_DIR}/man/${page}
    COMMENT "Compressing man page ${page}" VERBATIM)
  list(APPEND _sfts_man_gz ${PROJECT_BINARY_DIR}/man/${page}.gz)
  if(section STREQUAL "1")
    set(_component client)
  else()
    set(_component server)
  endif()
  install(FILES ${PROJECT_BINARY_DIR}/man/${page}.gz DESTINATION share/man/man${section} COMPONENT ${_component})
endforeach()

# A native package's changelog, /usr/share/doc/sfts/changelog.gz (Debian policy 12.7).
set(SFTS_PACKAGE_MAINTAINER "sfts maintainers <sfts-maintainers@example.org>" CACHE STRING "Maintainer field of the .deb")
configure_file(packaging/debian/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  COMMAND ${SFTS_GZIP} -9n -c ${PROJECT_BINARY_DIR}/packaging/changelog > ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog VERBATIM)
install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.gz DESTINATION share/doc/sfts COMPONENT server)
add_custom_target(man ALL DEPENDS ${_sfts_man_gz} ${PROJECT_BINARY_DIR}/packaging/changelog.gz)

# ---- CPack: the Debian package ----------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sfts)
set(CPACK_PACKAGE_VENDOR sfts)
set(CPACK_PACKAGE_CONTACT "${SFTS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "secure file transfer with keys in hardware tokens")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# DESTDIR staging, so that the configuration's absolute /etc path lands in the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME sfts)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The body only: CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY on the first line itself.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "sftsd serves files over TLS 1.3 with mutual certificate authentication and a
SCRAM-SHA-256-PLUS password login; the keys of its CA and TLS certificate stay
in a PKCS#11 token. Uploads are signed by the client's token key and answered
with signed receipts. The package holds the server (sftsd, run as a sandboxed
systemd service, and the sfts-admin tool) and the clients (sfts, sfts-tui).")
# Library dependencies (OpenSSL, POCO, GNU SASL, libp11, ncurses, libsystemd...) come from
# dpkg-shlibdeps. The pkcs11 engine is dlopen()ed by path, so it is named here; sftsd is a
# systemd service and postinst calls systemd-sysusers.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# cracklib-runtime: the dictionary libpwquality checks passwords against; sftsd refuses to start
# without it, and libpwquality1 only recommends it (found by tests/ops/ops_boot_test.sh).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libengine-pkcs11-openssl, systemd | systemd-sysusers, cracklib-runtime")
# SoftHSM2 is the default token; a smartcard or an HSM replaces it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "softhsm2")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "opensc, pcscd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
