# tern-perplexity: the unit tests (tests/perplexity/*_test.cpp, built by tests/CMakeLists.txt)
# link the tool's libraries (pure logic, and the C API driver for stream_eval_test); expat, when installed, checks that the SVG files are well-formed.
file(GLOB TERN_PPL_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/perplexity/*_test.cpp)
find_package(EXPAT QUIET)
foreach(src ${TERN_PPL_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(${name} PRIVATE tern_perplexity_eval)
endforeach()
if(EXPAT_FOUND)
  foreach(name svg_plot_test heatmap_svg_test)
    target_link_libraries(${name} PRIVATE EXPAT::EXPAT)
    target_compile_definitions(${name} PRIVATE TERN_HAVE_EXPAT=1)
  endforeach()
endif()

# CLI smoke test: 300 tokens of the stories stream on the stories260K fixture, dense and window,
# then the CSV must hold finite PPL rows.
add_test(NAME tern_perplexity_smoke
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/perplexity/perplexity_smoke.sh $<TARGET_FILE:tern-perplexity>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${TERN_SHARED_DIR}/golden/stories260K/stories-stream.txt
                 ${PROJECT_BINARY_DIR})
set_tests_properties(tern_perplexity_smoke PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77
                     TIMEOUT 120 LABELS perplexity)

# The long-range model (models/longrange, tools/longrange/build-model.sh): a short streaming run
# past the window and short passkey / secret-word runs; checks the files, not accuracies.
add_test(NAME tern_perplexity_longrange_smoke
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/perplexity/longrange_smoke.sh $<TARGET_FILE:tern-perplexity>
                 ${PROJECT_SOURCE_DIR}/models/longrange/longrange-2.7M-f16.gguf
                 ${PROJECT_SOURCE_DIR}/docs/long-context/longrange-heldout.txt ${PROJECT_BINARY_DIR})
set_tests_properties(tern_perplexity_longrange_smoke PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 240 LABELS perplexity)
