# The shader table's build-time checks (cmake/shader_table.py, runtime/gpu/shader_id.h) fail
# when they should: tests/gpu/shader_table_check.py.
if(TERN_GLSLC)
  add_test(NAME shader_table_build_checks
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/shader_table_check.py ${TERN_GLSLC}
                   ${PROJECT_SOURCE_DIR}/cmake/shader_table.py ${CMAKE_CXX_COMPILER} ${PROJECT_SOURCE_DIR}/runtime
                   ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/shaders/generated)
  set_tests_properties(shader_table_build_checks PROPERTIES LABELS gpu TIMEOUT 300)
endif()
