# Model fixtures converted once per test run by tern-quantize (skipped when ../shared lacks
# the source), and the C API test: C99, linked against the shared libtern.
set(TERN_TEST_MODELS ${PROJECT_BINARY_DIR}/test-models)
# Made at configure time: fixtures that write here run in parallel, and a tern-quantize -o into a
# folder another fixture has not made yet failed (fixture_bench_test_tiny, fresh build, ctest -j2).
file(MAKE_DIRECTORY ${TERN_TEST_MODELS})
add_test(NAME fixture_stories260K_f32
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/support/convert_if_present.sh $<TARGET_FILE:tern-quantize>
                 ${TERN_SHARED_DIR}/models/stories260K.bin ${TERN_TEST_MODELS}/stories260K-f32.gguf f32
                 --tokenizer ${TERN_SHARED_DIR}/models/tok512.bin)
set_tests_properties(fixture_stories260K_f32 PROPERTIES FIXTURES_SETUP stories260K SKIP_RETURN_CODE 77)

add_executable(c_api_test ${CMAKE_CURRENT_SOURCE_DIR}/api/c_api_test.c)
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/api/c_api_test.c PROPERTIES LANGUAGE C)
target_link_libraries(c_api_test PRIVATE tern Threads::Threads)
target_compile_options(c_api_test PRIVATE -Wall -Wextra -Wpedantic -Werror -std=c99)
add_test(NAME c_api_test COMMAND c_api_test ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}
                                   ${TERN_SHARED_DIR})
set_tests_properties(c_api_test PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77 TIMEOUT 600)

# tern-chat scripted through piped stdin (one message per line): a two-turn plain-completion
# chat with stories260K, /stats, /save and /load, and the statistics line at the end.
add_test(NAME tern_chat_scripted
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/support/chat_script_test.sh $<TARGET_FILE:tern-chat>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR})
set_tests_properties(tern_chat_scripted PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77 TIMEOUT 300)

# The shared library exports the C API and nothing else.
add_test(NAME exported_symbols COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/support/exported_symbols_test.sh $<TARGET_FILE:tern>)
# The layers of docs/architecture.md: no #include reaches up the stack.
add_test(NAME layering_check COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/support/layering_check.sh ${PROJECT_SOURCE_DIR})

# The C API's error paths that need no GPU (also run by the Windows and arm64 cross builds).
add_executable(c_api_errors_test ${CMAKE_CURRENT_SOURCE_DIR}/api/c_api_errors_test.c)
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/api/c_api_errors_test.c PROPERTIES LANGUAGE C)
target_link_libraries(c_api_errors_test PRIVATE tern)
target_compile_options(c_api_errors_test PRIVATE -Wall -Wextra -Wpedantic -Werror -std=c99)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/c_api_errors)
add_test(NAME c_api_errors_test COMMAND c_api_errors_test ${PROJECT_BINARY_DIR}/c_api_errors)
set_tests_properties(c_api_errors_test PROPERTIES LABELS api TIMEOUT 120)

# What users type wrong into the tools: bad numbers, tern-bench -n 0, and chat lines that fail
# (invalid UTF-8, a full context, /load of a device) without ending the session.
add_test(NAME tool_inputs
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/support/tool_inputs_test.sh $<TARGET_FILE:tern-chat>
                 $<TARGET_FILE:tern-bench> ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/test-scratch/tool_inputs)
set_tests_properties(tool_inputs PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS api)
