# Small helpers shared by the tests, demos and benchmarks.

# scaf_add_test(NAME SOURCES... [TIMEOUT seconds])
#   One GoogleTest binary, registered with CTest as a single test so that the
#   whole binary has one timeout (a hang fails instead of blocking CI).
function(scaf_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE scaf::framework scaf_options
                        GTest::gtest ${ARG_LIBRARIES})
  target_precompile_headers(${name} REUSE_FROM scaf_pch)
  add_test(NAME ${name} COMMAND ${name} --gtest_color=no)
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
endfunction()

# scaf_add_demo(NAME SOURCE [ARGS...])
#   A demo program, built by default and run by CTest as a smoke test.
function(scaf_add_demo name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE scaf::framework scaf::actors
                        scaf_options)
  target_precompile_headers(${name} REUSE_FROM scaf_pch)
  if(SCAF_BUILD_TESTS)
    add_test(NAME demo.${name} COMMAND ${name} ${ARGN})
    set_tests_properties(demo.${name} PROPERTIES TIMEOUT 120)
  endif()
endfunction()
