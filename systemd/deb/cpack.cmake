# systemd/deb/cpack.cmake - the Debian package, `cpack -G DEB` in a build
# configured with -DCMAKE_INSTALL_PREFIX=/usr (tests/install/deb.sh shows
# the whole recipe, with Debian's hardening flags from dpkg-buildflags).
#
# CPack rather than a debian/ directory: the install rules stay the one
# list of what is shipped (cmake --install and the package cannot differ),
# no second build system to keep in step, no new top-level folder; what
# Debian needs beyond the install tree is here and in systemd/deb/.
#
# One binary package, timebank: the daemon, the client, and libtimebank
# (static, with its headers and pkg-config file).  A libtimebank-dev split
# needs the library's install rules in client/CMakeLists.txt to name a
# component (COMPONENT dev); see docs/operations.md.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME timebank)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "timebank maintainers <timebank@lists.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "volunteer time-bank ledger daemon and client")
# CPack writes the summary as the synopsis and indents these lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"timebankd keeps a community's volunteer time bank: an append-only log of
signed entries in LMDB, each entry a leaf of an RFC 6962 Merkle tree, each
commit sealed by a C2SP signed checkpoint.  Terminals record service
hours, counters redeem and transfer points, and auditors verify the whole
log without trusting the daemon.

This package holds timebankd (with its systemd units, sysusers and
tmpfiles snippets), the timebank client, and libtimebank with its
headers and pkg-config file.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps names the libraries as Debian packages them (libsodium23,
# liblmdb0, libevent-core-2.1-7, libevent-pthreads-2.1-7, libc6) with
# their minimum versions; adduser for postinst without systemd-sysusers.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/systemd/deb/postinst
    ${PROJECT_SOURCE_DIR}/systemd/deb/prerm
    ${PROJECT_SOURCE_DIR}/systemd/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# strip and gzip as dh_strip and dh_compress would
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/systemd/deb/staging.cmake)
include(CPack)
