# libFuzzer targets, one per input surface, and the GGUF seed-corpus generator. Nothing happens
# unless -DTERN_FUZZ=ON with clang (scripts/fuzz.sh sets that up in build-fuzz). The targets
# share one library of the CPU code they reach (readers, tokenizers, chat templates, the state
# format), so the fuzz build compiles no Vulkan or shader code. Seed corpora: corpus/<target>/.
if(NOT TERN_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TERN_FUZZ=ON needs clang (-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)")
endif()

set(TERN_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
file(GLOB TERN_FUZZ_QUANT_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/quant/*.cpp)
file(GLOB TERN_FUZZ_TOKENIZER_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/runtime/tokenizer/*.cpp)
# platform/: the readers map files and the writers open them through it (POSIX: the fuzz build is
# clang on Linux).
set(TERN_FUZZ_PLATFORM_SOURCES ${PROJECT_SOURCE_DIR}/platform/mapped_file_posix.cpp
    ${PROJECT_SOURCE_DIR}/platform/file_io_posix.cpp ${PROJECT_SOURCE_DIR}/platform/file_io.cpp)
add_library(tern_fuzz_cpu STATIC ${TERN_FUZZ_QUANT_SOURCES} ${TERN_FUZZ_TOKENIZER_SOURCES} ${TERN_FUZZ_PLATFORM_SOURCES}
            ${PROJECT_SOURCE_DIR}/runtime/chat/chat_template.cpp ${PROJECT_SOURCE_DIR}/common/error.cpp
            ${PROJECT_SOURCE_DIR}/common/options.cpp
            ${PROJECT_SOURCE_DIR}/runtime/kv/kv_policy.cpp ${PROJECT_SOURCE_DIR}/runtime/api/state_format.cpp)
target_include_directories(tern_fuzz_cpu PUBLIC ${PROJECT_SOURCE_DIR}/runtime ${PROJECT_SOURCE_DIR}
                           ${PROJECT_SOURCE_DIR}/include)
target_compile_options(tern_fuzz_cpu PUBLIC ${TERN_FUZZ_FLAGS} PRIVATE ${TERN_WARNINGS})
target_link_libraries(tern_fuzz_cpu PUBLIC PkgConfig::SENTENCEPIECE PkgConfig::PCRE2 nlohmann_json::nlohmann_json ZLIB::ZLIB)

foreach(target gguf tokenizer chat_template state hf_import llama2c)
  add_executable(${target}_fuzz ${CMAKE_CURRENT_LIST_DIR}/${target}_fuzz.cpp)
  target_link_libraries(${target}_fuzz PRIVATE tern_fuzz_cpu)
  target_compile_options(${target}_fuzz PRIVATE ${TERN_WARNINGS})
  target_link_options(${target}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
endforeach()
# Real vocabularies for the tokenizer target (found again through the environment at run time).
target_compile_definitions(tokenizer_fuzz PRIVATE TERN_FUZZ_SHARED_DIR="${TERN_SHARED_DIR}"
                           TERN_FUZZ_TEST_VOCABS="${TERN_TEST_VOCABS}")

add_executable(gguf_fuzz_corpus ${CMAKE_CURRENT_LIST_DIR}/make_gguf_corpus.cpp
               ${PROJECT_SOURCE_DIR}/quant/gguf_writer.cpp ${PROJECT_SOURCE_DIR}/quant/gguf_reader.cpp
               ${PROJECT_SOURCE_DIR}/quant/gguf_types.cpp ${PROJECT_SOURCE_DIR}/common/error.cpp
               ${PROJECT_SOURCE_DIR}/quant/ggml_types.cpp ${TERN_FUZZ_PLATFORM_SOURCES})
target_include_directories(gguf_fuzz_corpus PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_options(gguf_fuzz_corpus PRIVATE ${TERN_WARNINGS})
