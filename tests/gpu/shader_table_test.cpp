// The shader table generated at build time (cmake/shader_table.py -> gpu/shader_ids.h and the
// embedded modules): every id names a real module with a sane interface, lookups by name, and
// the weight-type families the product kernels use. That a misspelt name or a wrong interface
// fails the build is checked by tests/gpu/shader_table_check.py (ctest shader_table_build_checks).
#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

#include "common/error.h"
#include "gpu/shader_registry.h"
#include "ops/weight_view.h"

namespace tern::test {
namespace {

using gpu::ShaderId;

TEST(ShaderTable, EveryIdIsAModuleWithItsInterface) {
  ASSERT_GT(gpu::k_shader_count, 50u);  // shaders/*.comp and their @variant lines
  std::set<std::string> names;
  for (uint32_t i = 0; i < gpu::k_shader_count; ++i) {
    const ShaderId id = ShaderId(i);
    const std::string name(gpu::shader_name(id));
    ASSERT_FALSE(name.empty()) << i;
    EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(name[0]))) << name;
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    const gpu::EmbeddedShader& m = gpu::embedded_shader(id);
    ASSERT_NE(m.code, nullptr) << name;
    ASSERT_GT(m.words, 5u) << name;
    EXPECT_EQ(m.code[0], 0x07230203u) << name << ": not SPIR-V";
    EXPECT_GE(gpu::shader_interface(id).buffers, 1u) << name;
    EXPECT_LE(gpu::shader_interface(id).push_bytes, 128u) << name;
    EXPECT_EQ(gpu::shader_interface(id).push_bytes % 4, 0u) << name;
    EXPECT_EQ(gpu::find_shader_id(name), id) << name;
  }
}

// Interfaces as the shaders declare them, spot-checked against their sources.
TEST(ShaderTable, InterfacesAreTheDeclaredOnes) {
  EXPECT_EQ(gpu::shader_interface(ShaderId::add).buffers, 3u);      // a, b, y
  EXPECT_EQ(gpu::shader_interface(ShaderId::add).push_bytes, 4u);   // n
  EXPECT_EQ(gpu::shader_interface(ShaderId::rope).buffers, 4u);     // x, positions, freqs, y
  EXPECT_EQ(gpu::shader_interface(ShaderId::rope).push_bytes, 24u); // six words
  EXPECT_EQ(gpu::shader_interface(ShaderId::rope_f16_q8).push_bytes, 28u);
  // The optimiser drops bindings a variant never reads (the ggml split kernel writes its
  // output itself, without partials); the table keeps what the source declares.
  EXPECT_EQ(gpu::shader_interface(ShaderId::attention_split_ggml).buffers, 6u);  // q k v out key_pos query_pos
}

TEST(ShaderTable, LookupsByName) {
  EXPECT_EQ(gpu::find_shader_id("matvec_", "q4_0", "_lane"), ShaderId::matvec_q4_0_lane);
  EXPECT_EQ(gpu::find_shader_id("matvec_q4_0", "_lane"), ShaderId::matvec_q4_0_lane);
  EXPECT_EQ(gpu::find_shader_id("matvec_", "q4_1", "_lane"), std::nullopt);
  EXPECT_EQ(gpu::find_shader_id("add_"), std::nullopt);
  static_assert(gpu::shader_id("add") == ShaderId::add);
  try {
    (void)gpu::shader_id("matvec_", "q4_1");
    ADD_FAILURE() << "a missing shader was found";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Internal);
    EXPECT_NE(std::string(e.what()).find("matvec_q4_1"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(gpu::declares({ShaderId::add, ShaderId::bias_add}, 3, 4) == false);  // bias_add pushes 8
  EXPECT_TRUE(gpu::declares({ShaderId::silu_mul, ShaderId::gelu_mul}, 3, 4));
}

TEST(ShaderTable, WeightTypeFamilies) {
  constexpr ops::WeightShaders all{"matvec_", "_lane", 5, 20};
  for (GgmlType t : ops::k_kernel_types) {
    EXPECT_TRUE(all.has(t)) << ggml_type_name(t);
    EXPECT_EQ(gpu::shader_name(all(t)), "matvec_" + std::string(ops::kernel_type_name(t)) + "_lane");
  }
  constexpr ops::WeightShaders some{"matmul_", "_q8act", 4, 28, {GgmlType::Q8_0, GgmlType::Q4_0}};
  EXPECT_TRUE(some.has(GgmlType::Q4_0));
  EXPECT_FALSE(some.has(GgmlType::Q4_K));
  EXPECT_FALSE(some.has(GgmlType::Q5_0));  // no kernels at all
  try {
    (void)some(GgmlType::Q6_K);
    ADD_FAILURE() << "a family member that does not exist was returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Unsupported);
    EXPECT_NE(std::string(e.what()).find("q6_K"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tern::test
