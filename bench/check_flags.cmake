# SPDX-License-Identifier: MIT
# Runs one bench program with ARGS and checks its exit status (EXPECT_RC) and that its output
# matches EXPECT_RE: the strict flag parsing of the bench programs (bench/flags.hpp).
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "${PROGRAM} ${ARGS}: exit ${rc}, expected ${EXPECT_RC}\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_RE}")
  message(FATAL_ERROR "${PROGRAM} ${ARGS}: output does not match '${EXPECT_RE}':\n${out}${err}")
endif()
