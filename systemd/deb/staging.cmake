# systemd/deb/staging.cmake - run by CPack (CPACK_PRE_BUILD_SCRIPTS) on its
# staging tree, after the install and before the .deb is made: what
# dh_strip and dh_compress would do in a debian/ build, so that lintian
# finds nothing to say about it.  CPACK_STRIP_FILES has already stripped
# the programs; their .comment and .note sections go too, the static
# libraries lose their debug sections, the man pages are gzipped -9n.
set(root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
function(staging_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}: exit ${rc}")
  endif()
endfunction()

# With one package per component (timebank, timebank-dev) the tree holds
# one directory per component (main/usr/..., dev/usr/...): look in both.
file(GLOB programs "${root}/usr/bin/*" "${root}/usr/sbin/*"
     "${root}/*/usr/bin/*" "${root}/*/usr/sbin/*")
foreach(f ${programs})
  staging_run(strip --remove-section=.comment --remove-section=.note ${f})
endforeach()
file(GLOB_RECURSE archives "${root}/*.a")
foreach(f ${archives})
  staging_run(strip --strip-debug --remove-section=.comment
              --remove-section=.note --enable-deterministic-archives ${f})
endforeach()
file(GLOB_RECURSE pages "${root}/*")
list(FILTER pages INCLUDE REGEX "/share/man/man[1-8]/[^/]+[.][1-8]$")
foreach(f ${pages})
  staging_run(gzip -9nf ${f})
endforeach()
