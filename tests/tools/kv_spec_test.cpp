// The --kv grammar the tools share (tools/cli/kv_spec): every kind and its defaults, the errors,
// and what a spec sets in tern_context_params.
#include "cli/kv_spec.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace tern::tools;

TEST(KvSpec, ParsesEveryKind) {
  KvSpec s = parse_kv_spec("dense");
  EXPECT_EQ(s.policy, TERN_KV_DENSE);
  EXPECT_EQ(s.slots, 0);
  EXPECT_EQ(parse_kv_spec("dense:512").slots, 512);
  s = parse_kv_spec("window:64");
  EXPECT_EQ(s.policy, TERN_KV_WINDOW);
  EXPECT_EQ(s.slots, 64);
  EXPECT_EQ(s.sinks, 0);
  EXPECT_EQ(parse_kv_spec("window").slots, 0);
  s = parse_kv_spec("sinks:4:256");
  EXPECT_EQ(s.policy, TERN_KV_SINKS_WINDOW);
  EXPECT_EQ(s.sinks, 4);
  EXPECT_EQ(s.slots, 256);
  EXPECT_EQ(parse_kv_spec("sinks:4").slots, 0);
  s = parse_kv_spec("beacon:4:128:2");
  EXPECT_EQ(s.policy, TERN_KV_BEACON);
  EXPECT_EQ(s.ratio, 4);
  EXPECT_EQ(s.beacon_window, 128);
  EXPECT_EQ(s.sinks, 2);
  EXPECT_EQ(s.label, "beacon:4:128:2");
  s = parse_kv_spec("beacon");  // ratio and window derived, no sinks
  EXPECT_EQ(s.ratio, 0);
  EXPECT_EQ(s.beacon_window, 0);
  EXPECT_EQ(s.sinks, 0);
  EXPECT_EQ(parse_kv_spec("beacon:8").beacon_window, 0);
  EXPECT_EQ(parse_kv_spec("beacon:2::4").sinks, 4);  // default window, 4 sinks
  EXPECT_EQ(parse_kv_spec("beacon-sinks:2").sinks, 4);
  s = parse_kv_spec("beacon-sinks:2:64:8");
  EXPECT_EQ(s.ratio, 2);
  EXPECT_EQ(s.beacon_window, 64);
  EXPECT_EQ(s.sinks, 8);
  s = parse_kv_spec("sliding:8:19:4");
  EXPECT_EQ(s.policy, TERN_KV_BEACON_SLIDING);
  EXPECT_EQ(s.ratio, 8);
  EXPECT_EQ(s.beacon_window, 19);  // the raw window need not be a multiple of the ratio
  EXPECT_EQ(s.sinks, 4);
  EXPECT_EQ(parse_kv_spec("sliding:4").sinks, 0);
}

TEST(KvSpec, RejectsMalformedSpecs) {
  for (const char* bad : {"", "dense2", "dense:0", "dense:x", "dense:1:2", "window:-4", "window:4:4", "sinks",
                          "sinks:0", "sinks:-1", "sinks:4:4", "sinks:8:4", "beacon:-1", "beacon:2.5", "beacon:4:10",
                          "beacon:2:64:4:1", "beacon-sinks", "beacon-sinks:0", "sliding", "sliding:0", "sliding:8:4", "sliding:2:8:4:1", "streaming", "Dense", "dense:99999999999"}) {
    EXPECT_THROW(parse_kv_spec(bad), std::invalid_argument) << "'" << bad << "'";
  }
  try {
    parse_kv_spec("sinks:four");
    FAIL();
  } catch (const std::invalid_argument& e) {  // names the spec, the field and the grammar
    const std::string m = e.what();
    EXPECT_NE(m.find("sinks:four"), std::string::npos) << m;
    EXPECT_NE(m.find("sink count"), std::string::npos) << m;
    EXPECT_NE(m.find(kv_spec_grammar()), std::string::npos) << m;
  }
}

TEST(KvSpec, AppliesToContextParams) {
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 100;
  apply_kv_spec(parse_kv_spec("sinks:4:64"), p);
  EXPECT_EQ(p.kv_policy, TERN_KV_SINKS_WINDOW);
  EXPECT_EQ(p.kv_window, 64);
  EXPECT_EQ(p.kv_sinks, 4);
  EXPECT_EQ(p.n_ctx, 100);  // untouched
  p = tern_context_default_params();
  apply_kv_spec(parse_kv_spec("dense:300"), p);
  EXPECT_EQ(p.kv_policy, TERN_KV_DENSE);
  EXPECT_EQ(p.n_ctx, 300);
  p = tern_context_default_params();
  p.kv_window = 77;
  apply_kv_spec(parse_kv_spec("window"), p);  // no N: the caller's settings stay
  EXPECT_EQ(p.kv_policy, TERN_KV_WINDOW);
  EXPECT_EQ(p.kv_window, 77);
  p = tern_context_default_params();
  apply_kv_spec(parse_kv_spec("beacon:4:32"), p);
  EXPECT_EQ(p.kv_policy, TERN_KV_BEACON);
  EXPECT_EQ(p.beacon_ratio, 4);
  EXPECT_EQ(p.beacon_window, 32);
  EXPECT_EQ(p.kv_sinks, 0);
}

TEST(KvSpec, KvTypes) {
  EXPECT_EQ(parse_kv_type("f16"), TERN_KV_TYPE_F16);
  EXPECT_EQ(parse_kv_type("f32"), TERN_KV_TYPE_F32);
  EXPECT_EQ(parse_kv_type("q8_0"), TERN_KV_TYPE_Q8_0);
  for (const char* bad : {"", "q8", "F16", "q4_0", "f16 "}) EXPECT_THROW(parse_kv_type(bad), std::invalid_argument) << bad;
}
