# bench_daemon: writes/s through a real timebankd, one client one request at
# a time vs many pipelining clients (what group commit buys).  A program,
# not a test: docs/performance.md has the command and the figures.  The
# smoke test keeps it from rotting and pipelines 8 writes per connection
# into a daemon that pauses a connection at 2 unanswered writes: every write
# must still be answered OK (the pause/resume path of daemon/server.c).
if(TARGET timebankd AND TARGET timebank AND TARGET tbkeyfile)
  add_executable(bench_daemon ${CMAKE_CURRENT_LIST_DIR}/bench_daemon.c)
  target_link_libraries(bench_daemon PRIVATE timebank tbkeyfile
                        Threads::Threads)
  target_include_directories(bench_daemon PRIVATE
                             ${CMAKE_CURRENT_LIST_DIR}/../common)
  target_compile_definitions(bench_daemon PRIVATE _XOPEN_SOURCE=700)
  add_test(NAME bench_daemon_smoke
           COMMAND bench_daemon -D $<TARGET_FILE:timebankd> -n 128 -c 4 -p 8 -i 2)
  set_tests_properties(bench_daemon_smoke PROPERTIES TIMEOUT 300)
endif()
