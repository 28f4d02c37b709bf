# timebankd, the daemon (the ledger engine is libtbledger, daemon/CMakeLists.txt).
add_executable(timebankd
  daemon/main.c daemon/config.c daemon/log.c daemon/pipeline.c
  daemon/server.c daemon/systemd.c)
target_link_libraries(timebankd PRIVATE tbledger tbkeyfile PkgConfig::EVENT
                      Threads::Threads)
install(TARGETS timebankd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# The man page is printed by the daemon itself from its option and settings
# tables, so it cannot drift from --help.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/timebankd.8
  COMMAND timebankd --man > ${CMAKE_BINARY_DIR}/timebankd.8
  DEPENDS timebankd VERBATIM)
add_custom_target(timebankd_man ALL DEPENDS ${CMAKE_BINARY_DIR}/timebankd.8)
install(FILES ${CMAKE_BINARY_DIR}/timebankd.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
configure_file(${PROJECT_SOURCE_DIR}/systemd/timebankd.service.in
               ${CMAKE_BINARY_DIR}/timebankd.service @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/timebankd.service
              ${PROJECT_SOURCE_DIR}/systemd/timebankd.socket
        DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/timebank.sysusers
        DESTINATION lib/sysusers.d RENAME timebank.conf)
