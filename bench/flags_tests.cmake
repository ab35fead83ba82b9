# SPDX-License-Identifier: MIT
# CTest: the bench programs parse their flags strictly (bench/flags.hpp): --help prints the usage and
# exits 0, a bad value exits 2 with a message that names the flag. Nothing is measured.
if(NOT STATICRT_BUILD_TESTS)
  return()
endif()
function(staticrt_bench_flag_test name target args rc re)
  if(TARGET ${target})
    add_test(NAME bench_flags.${name}
      COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=${args}" -DEXPECT_RC=${rc}
              "-DEXPECT_RE=${re}" -P ${CMAKE_CURRENT_SOURCE_DIR}/check_flags.cmake)
    set_tests_properties(bench_flags.${name} PROPERTIES LABELS "bench_flags" TIMEOUT 60)
  endif()
endfunction()
staticrt_bench_flag_test(peers.help staticrt-bench-peers "--help" 0 "usage: staticrt-bench-peers")
staticrt_bench_flag_test(peers.reps_not_a_number staticrt-bench-peers "--reps x" 2 "--reps: not a whole number \\('x'\\)")
staticrt_bench_flag_test(peers.reps_zero staticrt-bench-peers "--reps 0" 2 "--reps: out of range")
staticrt_bench_flag_test(peers.scale_trailing staticrt-bench-peers "--scale 0.5x" 2 "--scale: not a number")
staticrt_bench_flag_test(peers.cpus_second staticrt-bench-peers "--cpus 0,y" 2 "--cpus: not a whole number \\('y'\\)")
staticrt_bench_flag_test(peers.missing_value staticrt-bench-peers "--stall-s" 2 "--stall-s: needs a value")
staticrt_bench_flag_test(peers.unknown staticrt-bench-peers "--bogus" 2 "unknown argument '--bogus'")
staticrt_bench_flag_test(peers.state_bands_order staticrt-bench-peers "--state-bands 170,90" 2 "--state-bands: needs FAST < SLOW")
staticrt_bench_flag_test(peers.state_bands_comma staticrt-bench-peers "--state-bands 90" 2 "--state-bands: needs FAST,SLOW")
staticrt_bench_flag_test(peers.settle_range staticrt-bench-peers "--settle-ms 60001" 2 "--settle-ms: out of range")
staticrt_bench_flag_test(peers.row_probe_bad staticrt-bench-peers "--row-probe -1" 2 "--row-probe: not a whole number")
staticrt_bench_flag_test(peers.list staticrt-bench-peers "--list --filter spsc_throughput --reps 2" 0 "spsc_throughput staticrt items/s")
staticrt_bench_flag_test(queue_ab.help staticrt-queue-ab "--help" 0 "usage: staticrt-queue-ab")
staticrt_bench_flag_test(queue_ab.reps_negative staticrt-queue-ab "spsc -3" 2 "reps: not a whole number \\('-3'\\)")
staticrt_bench_flag_test(queue_ab.items_bad staticrt-queue-ab "spsc 3 2e6" 2 "items: not a whole number \\('2e6'\\)")
staticrt_bench_flag_test(queue_ab.workload staticrt-queue-ab "fifo" 2 "workload: not one of")
# bench/layouts.py (one layout per repetition of the peer program): its merging of single-repetition
# outputs, checked on made-up outputs (renumbered repetitions and states, ratios recomputed); runs nothing.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME bench_flags.layouts_merge COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/layouts.py --self-test)
  set_tests_properties(bench_flags.layouts_merge PROPERTIES LABELS "bench_flags" TIMEOUT 60
                       PASS_REGULAR_EXPRESSION "self-test: [0-9]+ checks passed")
  # bench/report.py: a same-repetition ratio takes the state of its two rows' row_rtt probes.
  add_test(NAME bench_flags.report_row_states COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/report.py --self-test)
  set_tests_properties(bench_flags.report_row_states PROPERTIES LABELS "bench_flags" TIMEOUT 60
                       PASS_REGULAR_EXPRESSION "self-test: [0-9]+ checks passed")
  # bench/ab/peers_ab.py: its summary over two made-up programs (NEW prints twice OLD's values).
  add_test(NAME bench_flags.peers_ab_summary COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/ab/peers_ab.py --self-test)
  set_tests_properties(bench_flags.peers_ab_summary PROPERTIES LABELS "bench_flags" TIMEOUT 60
                       PASS_REGULAR_EXPRESSION "self-test: [0-9]+ checks passed")
endif()
