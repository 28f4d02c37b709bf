# bench_daemon: writes/s through a real timebankd, one client one request at
# a time vs many pipelining clients (what group commit buys).  A program,
# not a test: docs/performance.md has the command and the figures.  The
# smoke test only keeps it from rotting (every write must be answered OK).
if(TARGET timebankd AND TARGET timebank AND TARGET tbkeyfile)
  add_executable(bench_daemon ${CMAKE_CURRENT_LIST_DIR}/bench_daemon.c)
  target_link_libraries(bench_daemon PRIVATE timebank tbkeyfile
                        Threads::Threads)
  add_test(NAME bench_daemon_smoke
           COMMAND bench_daemon -D $<TARGET_FILE:timebankd> -n 64 -c 4 -p 4)
  set_tests_properties(bench_daemon_smoke PROPERTIES TIMEOUT 300)
endif()
