# systemd/deb/cpack.cmake - the Debian package, `cpack -G DEB` in a build
# configured with -DCMAKE_INSTALL_PREFIX=/usr (tests/install/deb.sh shows
# the whole recipe, with Debian's hardening flags from dpkg-buildflags).
#
# CPack rather than a debian/ directory: the install rules stay the one
# list of what is shipped (cmake --install and the package cannot differ),
# no second build system to keep in step, no new top-level folder; what
# Debian needs beyond the install tree is here and in systemd/deb/.
#
# Two binary packages, as Debian splits a library's development files:
#   timebank      the daemon, the client, timebank-bench, man pages, units,
#                 sysusers and tmpfiles snippets, the example configuration,
#                 bash completion (every install() rule without a COMPONENT:
#                 CMAKE_INSTALL_DEFAULT_COMPONENT_NAME is `main`);
#   timebank-dev  libtimebank and libtbproto (static: there is no shared
#                 library, so no runtime library package either), their
#                 headers and pkg-config file (COMPONENT dev in
#                 client/CMakeLists.txt).
# timebank-dev does not depend on timebank: a program built with it needs
# only a running daemon's socket, which may be on another machine.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME timebank)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL main dev)
set(CPACK_DEBIAN_MAIN_PACKAGE_NAME timebank)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME timebank-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "timebank maintainers <timebank@lists.example.org>")
# One description per package, its first line the synopsis.  CPack 3.25
# prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY to every package's description
# when it is set, so it is left at CPack's default (then nothing is
# prepended) and each synopsis is the first line here; CPack indents the
# other lines.
set(CPACK_DEBIAN_MAIN_DESCRIPTION
"volunteer time-bank ledger daemon and client
timebankd keeps a community's volunteer time bank: an append-only log of
signed entries in LMDB, each entry a leaf of an RFC 6962 Merkle tree, each
commit sealed by a C2SP signed checkpoint.  Terminals record service
hours, counters redeem and transfer points, and auditors verify the whole
log without trusting the daemon.

This package holds timebankd (with its systemd units, sysusers and
tmpfiles snippets), the timebank client and timebank-bench.  The client
library is in timebank-dev.")
set(CPACK_DEBIAN_DEV_DESCRIPTION
"timebank client library: development files
libtimebank connects to a timebankd socket, signs and sends requests and
checks the answers; libtbproto holds every byte format of timebank
(entries, keys, signed notes and checkpoints, Merkle proofs).

This package holds the static libraries, their headers and the
pkg-config file (pkg-config --static timebank).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps names the libraries as Debian packages them (libsodium23,
# liblmdb0, libevent-core-2.1-7, libevent-pthreads-2.1-7, libc6) with
# their minimum versions; adduser for postinst without systemd-sysusers.
set(CPACK_DEBIAN_MAIN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_MAIN_PACKAGE_DEPENDS "adduser")
# a static library's users link libsodium themselves (Requires.private)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libsodium-dev")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_MAIN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/systemd/deb/postinst
    ${PROJECT_SOURCE_DIR}/systemd/deb/prerm
    ${PROJECT_SOURCE_DIR}/systemd/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# strip and gzip as dh_strip and dh_compress would
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/systemd/deb/staging.cmake)
include(CPack)
