# tern-bench smoke tests: `tern-bench --quick` on the stories260K f32 fixture and on a tiny
# synthetic Q4_K model, then the JSON is parsed and its structure checked. No timing limits.
add_executable(bench_json_check ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_json_check.cpp)
target_link_libraries(bench_json_check PRIVATE nlohmann_json::nlohmann_json)
target_compile_options(bench_json_check PRIVATE ${TERN_WARNINGS})

set(TERN_BENCH_SMOKE ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_smoke.sh)

add_test(NAME fixture_bench_test_tiny
         COMMAND $<TARGET_FILE:tern-quantize> --synthetic test-tiny --type q4_k --quiet
                 -o ${TERN_TEST_MODELS}/test-tiny-q4_k.gguf)
set_tests_properties(fixture_bench_test_tiny PROPERTIES FIXTURES_SETUP bench_test_tiny LABELS bench)

add_test(NAME tern_bench_quick_stories260K
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/bench-stories260K.json --ops)
set_tests_properties(tern_bench_quick_stories260K PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77
                     TIMEOUT 300 LABELS bench)

add_test(NAME tern_bench_quick_test_tiny
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/test-tiny-q4_k.gguf ${PROJECT_BINARY_DIR}/bench-test-tiny.json)
set_tests_properties(tern_bench_quick_test_tiny PROPERTIES FIXTURES_REQUIRED bench_test_tiny TIMEOUT 300 LABELS bench)

# Sinks + window decodes at a depth past its 64-slot cache; a beacon policy under a byte budget
# runs too; unknown policies are refused (the --kv grammar is tools/cli/kv_spec).
add_test(NAME tern_bench_kv_sinks
         COMMAND $<TARGET_FILE:tern-bench> -m ${TERN_TEST_MODELS}/stories260K-f32.gguf --kv sinks:4:64
                 -p 16 -d 0,200 -n 4 -r 1 --bw-mib 4)
set_tests_properties(tern_bench_kv_sinks PROPERTIES FIXTURES_REQUIRED stories260K PASS_REGULAR_EXPRESSION
                     "tg4 @ d200 \\| [0-9]" LABELS bench TIMEOUT 300)
# The same over a q8_0 cache (its keys rotated by attention as it loads them).
add_test(NAME tern_bench_kv_sinks_q8_0
         COMMAND $<TARGET_FILE:tern-bench> -m ${TERN_TEST_MODELS}/stories260K-f32.gguf --kv sinks:4:64 --kv-type q8_0
                 -p 16 -d 0,200 -n 4 -r 1 --bw-mib 4)
set_tests_properties(tern_bench_kv_sinks_q8_0 PROPERTIES FIXTURES_REQUIRED stories260K PASS_REGULAR_EXPRESSION
                     "KV sinks 4 \\+ window [0-9]+ q8_0.*tg4 @ d200 \\| [0-9]" LABELS bench TIMEOUT 300)
# Depths reached by the synthetic fill (Context::fill_synthetic: the policy's steps committed, the
# cache rows random, no forward pass), under the validation layer; a bad --depth-fill is refused.
add_test(NAME tern_bench_depth_fill_synthetic
         COMMAND $<TARGET_FILE:tern-bench> -m ${TERN_TEST_MODELS}/stories260K-f32.gguf --kv sinks:4:64
                 --depth-fill synthetic --validate -p 0 -d 0,200 -n 4 -r 1 --bw-mib 4)
set_tests_properties(tern_bench_depth_fill_synthetic PROPERTIES FIXTURES_REQUIRED stories260K PASS_REGULAR_EXPRESSION
                     "filled by a synthetic fill.*tg4 @ d200 \\| [0-9]" LABELS bench TIMEOUT 300)
add_test(NAME tern_bench_depth_fill_unknown
         COMMAND $<TARGET_FILE:tern-bench> --depth-fill nope -m ${TERN_TEST_MODELS}/stories260K-f32.gguf)
set_tests_properties(tern_bench_depth_fill_unknown PROPERTIES PASS_REGULAR_EXPRESSION "'nope' is not prefill or synthetic"
                     LABELS bench)
add_test(NAME tern_bench_kv_beacon
         COMMAND $<TARGET_FILE:tern-bench> -m ${TERN_TEST_MODELS}/stories260K-f32.gguf --kv beacon:4:16 --kv-budget 40K
                 -p 16 -d 0,200 -n 4 -r 1 --bw-mib 4)
set_tests_properties(tern_bench_kv_beacon PROPERTIES FIXTURES_REQUIRED stories260K PASS_REGULAR_EXPRESSION
                     "KV beacon ratio 4, window 16.*tg4 @ d200 \\| [0-9]" LABELS bench TIMEOUT 300)
add_test(NAME tern_bench_kv_policy_unknown
         COMMAND $<TARGET_FILE:tern-bench> --kv nope -m ${TERN_TEST_MODELS}/stories260K-f32.gguf)
set_tests_properties(tern_bench_kv_policy_unknown PROPERTIES PASS_REGULAR_EXPRESSION "unknown kind 'nope'"
                     LABELS bench)

# Kernel variants of one product, interleaved (tern-bench's kernel A/B, where kernel tuning is
# measured): every kernel family, a lanes tile, matvec options, the fused and unfused FFN down
# product, under validation; a malformed variant is refused by name.
add_test(NAME tern_bench_kernels
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check> none
                 ${PROJECT_BINARY_DIR}/bench-kernels.json --ops --op-groups kernels --kernel-type q8_0
                 --kernels auto,gpu,gpu:rows=2:wg=64:words,lanes:4x8,q8act,gpu+fused,gpu+ops)
set_tests_properties(tern_bench_kernels PROPERTIES TIMEOUT 300 LABELS bench)
add_test(NAME tern_bench_kernels_bad_variant
         COMMAND $<TARGET_FILE:tern-bench> --ops --op-groups kernels --kernels gpu,lanes:99x1)
set_tests_properties(tern_bench_kernels_bad_variant PROPERTIES LABELS bench
                     PASS_REGULAR_EXPRESSION "kernel variant 'lanes:99x1': '99' is not a number in 1..32")
add_test(NAME tern_bench_kernels_bad_type
         COMMAND $<TARGET_FILE:tern-bench> --ops --op-groups kernels --kernel-type q5_1)
set_tests_properties(tern_bench_kernels_bad_type PROPERTIES LABELS bench
                     PASS_REGULAR_EXPRESSION "--kernel-type: 'q5_1' is not a weight type")
add_test(NAME tern_bench_kernels_bad_shape
         COMMAND $<TARGET_FILE:tern-bench> --ops --op-groups kernels --kernel-shape 4096)
set_tests_properties(tern_bench_kernels_bad_shape PROPERTIES LABELS bench
                     PASS_REGULAR_EXPRESSION "--kernel-shape: '4096' is not ROWSxCOLS")

# The fusion A/B (fused and unfused decode steps alternating in one context) under validation.
add_test(NAME tern_bench_ab_fusion
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/bench-ab-fusion.json --ab-fusion)
set_tests_properties(tern_bench_ab_fusion PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77 TIMEOUT 300
                     LABELS bench)

# The same for the RMSNorm-into-product fusion alone (forced on in every other step on lavapipe).
add_test(NAME tern_bench_ab_norm_fusion
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/bench-ab-norm-fusion.json
                 --ab-norm-fusion)
set_tests_properties(tern_bench_ab_norm_fusion PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77
                     TIMEOUT 300 LABELS bench)

# The GPU sampling A/B (eval + sample each step, selection on the GPU every other step), top-k 40.
add_test(NAME tern_bench_ab_gpu_sampling
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/bench-ab-gpu-sampling.json
                 --ab-gpu-sampling 40)
set_tests_properties(tern_bench_ab_gpu_sampling PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77
                     TIMEOUT 300 LABELS bench)

# The KV policy A/B (dense and sinks + window in two contexts, steps alternating; the sinks cache
# full and evicting at depth 64).
add_test(NAME tern_bench_ab_kv
         COMMAND ${TERN_BENCH_SMOKE} $<TARGET_FILE:tern-bench> $<TARGET_FILE:bench_json_check>
                 ${TERN_TEST_MODELS}/stories260K-f32.gguf ${PROJECT_BINARY_DIR}/bench-ab-kv.json
                 --depth-fill synthetic -d 64 --ab-kv sinks:4:32)
set_tests_properties(tern_bench_ab_kv PROPERTIES FIXTURES_REQUIRED stories260K SKIP_RETURN_CODE 77
                     TIMEOUT 300 LABELS bench)
add_test(NAME tern_bench_ab_kv_needs_synthetic
         COMMAND $<TARGET_FILE:tern-bench> --ab-kv sinks:4:32 -m ${TERN_TEST_MODELS}/stories260K-f32.gguf)
set_tests_properties(tern_bench_ab_kv_needs_synthetic PROPERTIES PASS_REGULAR_EXPRESSION
                     "--ab-kv needs --depth-fill synthetic" LABELS bench)
