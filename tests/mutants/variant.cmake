# SPDX-License-Identifier: MIT
# staticrt_mutant_header(<out var> <variant include dir> <mutant id>): a build rule that writes the
# runtime header patched by the block `=== <id>` of tests/mutants/mutants.txt into <variant include
# dir> (tests/dsched/make_variant.cmake: exact text, the build fails when the text is gone) and
# sets <out var> to the patched file. A test target that lists it as a source and puts the dir
# first on its include path is built against the bug (tests/dsched, tests/relacy).
set(STATICRT_MUTANTS_FILE ${PROJECT_SOURCE_DIR}/tests/mutants/mutants.txt)
function(staticrt_mutant_header out vdir id)
  file(READ ${STATICRT_MUTANTS_FILE} all)
  string(REGEX MATCH "=== ${id}\nfile: ([^\n]*)" m "${all}")
  if(NOT m)
    message(FATAL_ERROR "staticrt_mutant_header: no mutant '=== ${id}' followed by 'file:' in ${STATICRT_MUTANTS_FILE}")
  endif()
  set(file ${CMAKE_MATCH_1})
  string(REGEX REPLACE "^(runtime|platform)/include/" "" rel "${file}")
  set(script ${PROJECT_SOURCE_DIR}/tests/dsched/make_variant.cmake)
  add_custom_command(OUTPUT ${vdir}/${rel}
    COMMAND ${CMAKE_COMMAND} -DMUTANTS=${STATICRT_MUTANTS_FILE} -DID=${id} -DROOT=${PROJECT_SOURCE_DIR}
            -DOUT_DIR=${vdir} -P ${script}
    DEPENDS ${PROJECT_SOURCE_DIR}/${file} ${STATICRT_MUTANTS_FILE} ${script}
    COMMENT "patching ${rel} with mutant ${id}" VERBATIM)
  set(${out} ${vdir}/${rel} PARENT_SCOPE)
endfunction()
