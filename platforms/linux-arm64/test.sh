#!/usr/bin/env bash
# platforms/linux-arm64/test.sh [BUILD_DIR]: cross-compiles Tern for arm64 Linux
# (toolchain.cmake) and runs the CI subset of the test suite under qemu-user, on an arm64 build
# of Mesa's lavapipe. Packages: platforms/install-deps.sh. Default BUILD_DIR: build-arm64.
#
# Emulation costs 5-30x, lavapipe's LLVM included, so this runs a subset (SUBSET below; what it
# leaves out and why: platforms/README.md). TERN_ARM64_TESTS=ci builds and runs the set the
# default CI runs (CI below: every kernel family once, the stories260K golden prefill, the C
# API's error paths, the parsers, quantisers and sampler); =smoke a smaller set; =all everything
# that was built; =REGEX the ctest entries matching REGEX. TERN_SPIRV_FROM=path/to/build/shaders
# embeds that (native) build's SPIR-V instead of compiling the shaders again.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=$(mkdir -p "${1:-build-arm64}" && cd "${1:-build-arm64}" && pwd)  # relative to the root, or absolute
JOBS=${JOBS:-$(nproc)}
STAGE=$BUILD/stage
ARCH=aarch64-linux-gnu

# ---- packages that cannot be installed beside their amd64 versions, unpacked here -------------
stage_packages() {
  local stamp=$STAGE/.staged-1
  [[ -f $stamp ]] && return 0
  rm -rf "$STAGE" && mkdir -p "$STAGE/debs"
  (cd "$STAGE/debs" && apt-get download -qq libsentencepiece-dev:arm64 libsentencepiece0:arm64 \
    mesa-vulkan-drivers:arm64 2>/dev/null)
  for deb in "$STAGE"/debs/*.deb; do dpkg -x "$deb" "$STAGE/root"; done
  local lib=$STAGE/root/usr/lib/$ARCH
  sed -i "s|^prefix=.*|prefix=$STAGE/root/usr|" "$lib/pkgconfig/sentencepiece.pc"
  # The lavapipe ICD, pointing at the unpacked driver.
  sed "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$lib/libvulkan_lvp.so\"|" \
    "$STAGE/root/usr/share/vulkan/icd.d/lvp_icd.aarch64.json" >"$STAGE/lvp_icd.aarch64.json"
  touch "$stamp"
}
stage_packages

# ---- build --------------------------------------------------------------------------------
# -O1: half the compile time of -O2, and the host code is not what emulation spends its time on.
# -O1 compiles in about half the time of -O2. GCC 12 at -O1 (not -O2) takes std::vector::insert of
# a few bytes into an empty vector for an overflow (-Wstringop-overflow, a known false positive,
# seen in quant/gguf_writer.cpp): off for these builds only.
O1_CXX_FLAGS="-Wno-stringop-overflow"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
PKG_CONFIG_PATH=$STAGE/root/usr/lib/$ARCH/pkgconfig \
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/platforms/linux-arm64/toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG $O1_CXX_FLAGS" \
  -DCMAKE_BUILD_RPATH="$STAGE/root/usr/lib/$ARCH" "${launcher[@]}" -DTERN_SPIRV_FROM="${TERN_SPIRV_FROM:-}" \
  ${TERN_SHARED_DIR:+-DTERN_SHARED_DIR="$TERN_SHARED_DIR"} >/dev/null

# What the subset needs: libtern, tern-quantize (the model fixture) and these tests: every op
# test (tests/ops: each kernel family, every weight type), the forward pass, the stories260K
# golden case, the C API and its error paths, the CPU-side parsers, quantisers and sampler.
TEST_TARGETS=(c_api_test c_api_errors_test gguf_reader_test tokenizer_test sampler_test quantize_test
              golden_test forward_test)
for f in tests/ops/*_test.cpp; do TEST_TARGETS+=("$(basename "$f" .cpp)"); done
# The smoke set: libtern, the C API's error paths, the CPU-side parsers and quantisers (every
# weight type: where char signedness, alignment or byte order would show) and two op kernels on
# the arm64 lavapipe.
SMOKE_TARGETS=(c_api_errors_test gguf_reader_test quantize_test sampler_test rms_norm_test add_test)
# The CI set: the smoke set, one f32 case group of every kernel family the arm64 lavapipe
# compiles (the f16 ones below it cannot), and the stories260K golden prefill (llama2.c's logits:
# embedding, RMS norm, matmul, RoPE, f32 attention, SiLU-mul, on a real model).
CI_TARGETS=("${SMOKE_TARGETS[@]}" tern-quantize golden_test argmax_test bias_add_test embedding_test kv_store_test
            matmul_test matmul_fused_test matmul_rms_norm_test rope_test rope_ggml_test rope_freqs_test silu_mul_test
            softcap_test top_k_test)
case "${TERN_ARM64_TESTS:-}" in
  all) cmake --build "$BUILD" -j"$JOBS" ;;
  smoke) cmake --build "$BUILD" -j"$JOBS" --target tern "${SMOKE_TARGETS[@]}" ;;
  ci) cmake --build "$BUILD" -j"$JOBS" --target tern "${CI_TARGETS[@]}" ;;
  *) cmake --build "$BUILD" -j"$JOBS" --target tern tern-quantize "${TEST_TARGETS[@]}" ;;
esac

# ---- run ----------------------------------------------------------------------------------
# The subset: whatever of the above was built (tests of targets not built are *_NOT_BUILT
# entries), less the long-context, large-shape and other models' cases (SUBSET_OUT), the tools'
# command-line tests and the bindings (their tools and packages are not built for arm64), and
# the tests whose shaders convert between f16 and f32 (F16_OUT): Debian 12's arm64 lavapipe
# (Mesa 22.3, LLVM 15) under qemu-user either aborts compiling them ("LLVM ERROR: Cannot select:
# v4f32 = truncate", "... load (s16) ... zext from i16") or returns wrong f16 values (every
# element of the f16 embedding), while every f32 kernel passes, the stories260K f32 golden case
# included (platforms/README.md). That leaves f16 caches, every quantised weight type on the GPU
# and the f16 attention kernels untested on arm64 here.
SUBSET_OUT='_NOT_BUILT$|LongCache|TwentyThousand|TinyStories656K|Golden\.Stories260KQ8_0|Types/GoldenQ4'
SUBSET_OUT+='|^(tern_chat_scripted|tool_inputs)$'
F16_OUT='GpuTest\.Stories260KForwardMatchesReference|Synthetic/Forward|Golden\.Stories260KF32WeightsF16Kv'
F16_OUT+='|AttentionGgml(Args|Test)|AttentionMatrix|Attention(Decode|Prefill|Semantics)\.|AttentionWindowErrors'
F16_OUT+='|Shapes/AttentionWindow\.|Types/[A-Za-z0-9]+Test\.[A-Za-z]+/(f16|q8_0|q4_0|q4_K|q6_K)_'
F16_OUT+='|MatmulRmsNormArgs|QuantizeQ8_0(SwigluTest|Test)\.|QuantizeQ8_0Edges\.Ties|RopeConvention\.RejectsBadShapes'
F16_OUT+='|RopeTest\.F16|^c_api_test$'
SUBSET_LABELS_OUT='^(tools|bench|perplexity|bindings)$'
# gtest groups may start 'Shapes/' or 'Types/' (quantize_test's per-type RoundTrip and EdgeCases)
SMOKE='^c_api_errors_test$|GgufReader\.|Quantize|Types/(RoundTrip|EdgeCases)\.|Sampler\.|RmsNorm|AddTest'
CI="$SMOKE|Golden\.Stories260K(Tokenizer|F32Prefill)|RopeFreqs\.|Types/(Embedding|Matmul|MatmulFused|MatmulRmsNorm)Test\.[A-Za-z]+/f32_"
CI+='|Shapes/(Argmax|BiasAdd|Rope|RopeGgml|GatedActivation|Softcap)Test\.MatchesReference|Shapes/KvStoreTest\.F32Cache'  # RMS norm: SMOKE's
CI+='|Shapes/TopKTest\.TiesAcrossBlocks'
# The two slowest CPU-only cases under emulation (28 and 12 s, 2026-12-06), whose code the other
# RMS norm and sampler cases run too.
CI_OUT='RmsNormArgs\.FoldedGrid|Sampler\.BestKSamplesAsTheWholeRow'
exclude=()
case "${TERN_ARM64_TESTS:-}" in
  "") regex=.; exclude=(-E "$SUBSET_OUT|$F16_OUT" -LE "$SUBSET_LABELS_OUT") ;;
  smoke) regex=$SMOKE ;;
  ci) regex=$CI; exclude=(-E "$SUBSET_OUT|$F16_OUT|$CI_OUT") ;;
  all) regex='.' ;;
  *) regex=$TERN_ARM64_TESTS ;;
esac
export VK_ICD_FILENAMES=$STAGE/lvp_icd.aarch64.json
mkdir -p "$STAGE/no-layers"  # hides the amd64 validation layer, which the tests' IfAvailable would pick and fail to load
export VK_LAYER_PATH=$STAGE/no-layers
export VK_LOADER_LAYERS_DISABLE='~implicit~'   # the amd64 Mesa's implicit layer is not loadable here
export TERN_TEST_EMULATOR=${TERN_TEST_EMULATOR:-qemu-aarch64-static}
export QEMU_LD_PREFIX=/                         # the multiarch tree holds ld-linux-aarch64.so.1
cd "$BUILD"
echo "arm64 (qemu-user): running ctest -R '$regex' ${exclude[*]}"
ctest -R "$regex" "${exclude[@]}" -j"$JOBS" --output-on-failure --timeout 900
