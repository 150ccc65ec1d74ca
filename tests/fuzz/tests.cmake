# libFuzzer target for the GGUF reader and its seed-corpus generator. Nothing happens unless
# -DTERN_FUZZ=ON with clang (scripts/fuzz.sh sets that up in build-fuzz). The targets compile
# just the sources they need, so the fuzz build does not build Vulkan or shader code.
if(NOT TERN_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TERN_FUZZ=ON needs clang (-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)")
endif()

set(TERN_GGUF_READER_SOURCES
    ${PROJECT_SOURCE_DIR}/quant/gguf_reader.cpp
    ${PROJECT_SOURCE_DIR}/quant/gguf_types.cpp
    ${PROJECT_SOURCE_DIR}/common/error.cpp
    ${PROJECT_SOURCE_DIR}/quant/ggml_types.cpp
    # the reader maps files and the writer opens them through platform/ (POSIX: the fuzz build
    # is clang on Linux)
    ${PROJECT_SOURCE_DIR}/platform/mapped_file_posix.cpp
    ${PROJECT_SOURCE_DIR}/platform/file_io_posix.cpp)

add_executable(gguf_fuzz ${CMAKE_CURRENT_LIST_DIR}/gguf_fuzz.cpp ${TERN_GGUF_READER_SOURCES})
target_include_directories(gguf_fuzz PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_options(gguf_fuzz PRIVATE ${TERN_WARNINGS} -fsanitize=fuzzer,address,undefined
                       -fno-sanitize-recover=all -fno-omit-frame-pointer)
target_link_options(gguf_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)

add_executable(gguf_fuzz_corpus ${CMAKE_CURRENT_LIST_DIR}/make_gguf_corpus.cpp
               ${PROJECT_SOURCE_DIR}/quant/gguf_writer.cpp ${TERN_GGUF_READER_SOURCES})
target_include_directories(gguf_fuzz_corpus PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_options(gguf_fuzz_corpus PRIVATE ${TERN_WARNINGS})
