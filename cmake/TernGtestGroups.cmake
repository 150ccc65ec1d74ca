# tern_add_gtest_groups(TARGET LABEL label TIMEOUT seconds)
#
# Registers a GoogleTest executable with ctest as groups of its test cases, one ctest entry per
# group, each running its cases in one process:
#   - the instances of a parameterised test whose parameter name starts with a GGML type
#     ("Types/MatmulTest.MatchesReference/q4_K_13x256_b1" -> group ".../q4_K"): one per type;
#   - the other instances of a parameterised test ("Shapes/RopeTest.InPlace/*"): one group;
#   - a plain (not parameterised) test: its own entry, as before.
# Why not gtest_discover_tests' one process per case: on lavapipe every process compiles its
# Vulkan pipelines anew with LLVM, which cost more than the tests themselves (matmul_test: 219
# processes 162 s, one process 9 s, under AddressSanitizer). The list is read from the built
# executable after each build, as gtest_discover_tests does; a cross build lists and runs them
# through CMAKE_CROSSCOMPILING_EMULATOR (qemu-user, wine: see platforms/).
set(TERN_GTEST_GROUPS_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/tern_gtest_groups.cmake)

function(tern_add_gtest_groups target)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "" ${ARGN})
  set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_groups.cmake)
  add_custom_command(
    TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D EXE=$<TARGET_FILE:${target}> -D TARGET=${target} -D OUT=${list_file}
            -D LABEL=${ARG_LABEL} -D TIMEOUT=${ARG_TIMEOUT} -D WORKDIR=${CMAKE_CURRENT_BINARY_DIR}
            "-D EMULATOR=${CMAKE_CROSSCOMPILING_EMULATOR}"
            -P ${TERN_GTEST_GROUPS_SCRIPT}
    BYPRODUCTS ${list_file}
    VERBATIM)
  # ctest reads the groups when they exist, else one entry says the executable is not built.
  set(ctest_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake)
  file(WRITE ${ctest_file}
       "if(EXISTS \"${list_file}\")\n  include(\"${list_file}\")\nelse()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${ctest_file})
endfunction()
