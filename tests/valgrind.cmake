# ---- valgrind (memcheck) over the non-sanitizer build ----------------------
# ASan and valgrind cannot run on the same binary, so scripts/test runs the
# suite under ASan + UBSan first, then builds without sanitizers and runs
# `ctest -L valgrind`: the unit, ledger and fuzz-replay programs under
# memcheck, and two end-to-end scenarios with timebankd (and, for the CLI
# scenario, the timebank client too) under memcheck.  Any memcheck error or
# definite leak fails the test (exit 97).  test_merkle is left to ASan: its
# exhaustive proof check is pure hashing and would take minutes here.
if(NOT TIMEBANK_SANITIZE)
  find_program(TB_VALGRIND valgrind)
endif()
if(TB_VALGRIND)
  set(TB_VG_LOGS ${CMAKE_BINARY_DIR}/valgrind-logs)
  file(MAKE_DIRECTORY ${TB_VG_LOGS})
  set(TB_VG_ARGS -q --error-exitcode=97 --leak-check=full
      --errors-for-leak-kinds=definite --show-leak-kinds=definite)
  string(REPLACE ";" " " TB_VG_ARGS_STR "${TB_VG_ARGS}")

  foreach(t test_entry test_error test_frame test_key test_keyfile test_msg
            test_note test_status test_ledger_idem test_ledger_rules
            test_ledger_storage test_ledger_threads test_ledger_tree
            test_ledger_model)
    if(TARGET ${t})
      add_test(NAME valgrind_${t}
               COMMAND ${TB_VALGRIND} ${TB_VG_ARGS} $<TARGET_FILE:${t}>)
      set_tests_properties(valgrind_${t} PROPERTIES LABELS valgrind
                           TIMEOUT 900)
    endif()
  endforeach()

  # e2e: wrappers that run the real programs under memcheck; their reports
  # go to files so the scripts see the programs' own stderr unchanged.
  foreach(prog timebankd timebank_cli)
    if(TARGET ${prog})
      file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/vg-${prog}
           CONTENT "#!/bin/sh\nexec ${TB_VALGRIND} ${TB_VG_ARGS_STR} --log-file=${TB_VG_LOGS}/${prog}.%p.log $<TARGET_FILE:${prog}> \"$@\"\n"
           FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                            GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    endif()
  endforeach()
  if(TARGET timebankd AND TARGET timebank_cli AND TARGET rawclient)
    foreach(case "cli_commands;vg-timebankd;vg-timebank_cli"
                 "hostile_clients;vg-timebankd;")
      list(GET case 0 script)
      list(GET case 1 daemon)
      list(GET case 2 cli)
      if(cli)
        set(cli_path ${CMAKE_BINARY_DIR}/${cli})
      else()
        set(cli_path $<TARGET_FILE:timebank_cli>)
      endif()
      add_test(NAME valgrind_e2e_${script}
               COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/${script}.sh)
      set_tests_properties(valgrind_e2e_${script} PROPERTIES
        LABELS valgrind TIMEOUT 900 SKIP_RETURN_CODE 77
        ENVIRONMENT "TIMEBANKD=${CMAKE_BINARY_DIR}/${daemon};TIMEBANK=${cli_path};RAWCLIENT=$<TARGET_FILE:rawclient>")
    endforeach()
  endif()
endif()
