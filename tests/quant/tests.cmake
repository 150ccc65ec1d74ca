# tern-quantize's command line: a positional GGUF INPUT is recognised by its magic and
# re-quantised, and a llama2.c checkpoint given without --tokenizer fails with a clear error
# (any file that is neither a directory nor GGUF is read as llama2.c; CMakeLists.txt serves).
add_test(NAME tern_quantize_gguf_input
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/support/convert_if_present.sh $<TARGET_FILE:tern-quantize>
                 ${TERN_SHARED_DIR}/models/TinyStories-656K-Q8_0.gguf
                 ${PROJECT_BINARY_DIR}/test-models/cli-656K-q4_0.gguf q4_0 --quiet)
set_tests_properties(tern_quantize_gguf_input PROPERTIES SKIP_RETURN_CODE 77 LABELS quant
                     PASS_REGULAR_EXPRESSION "wrote .*cli-656K-q4_0.gguf[^ ]*: 20 tensors")

add_test(NAME tern_quantize_llama2c_needs_tokenizer
         COMMAND tern-quantize ${PROJECT_SOURCE_DIR}/CMakeLists.txt -o ${PROJECT_BINARY_DIR}/never-written.gguf)
set_tests_properties(tern_quantize_llama2c_needs_tokenizer PROPERTIES LABELS quant
                     PASS_REGULAR_EXPRESSION "read as a llama2.c checkpoint.*add --tokenizer")
