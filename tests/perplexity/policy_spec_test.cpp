// Policy spec parsing (and its errors), the equal-KV-bytes settings, and the command line.
#include "perplexity/policy_spec.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "perplexity/args.h"

using namespace tern::ppl;

// The grammar itself is tests/tools/kv_spec_test.cpp; here: the forms tern-perplexity's policy
// lists use, parsed through it.
TEST(PolicySpec, ParsesThePerplexityForms) {
  EXPECT_EQ(parse_policy_spec("dense").policy, TERN_KV_DENSE);
  EXPECT_EQ(parse_policy_spec("dense:512").slots, 512);
  EXPECT_EQ(parse_policy_spec("window").policy, TERN_KV_WINDOW);
  EXPECT_EQ(parse_policy_spec("sinks:4").sinks, 4);
  const PolicySpec b = parse_policy_spec("beacon:4:128");
  EXPECT_EQ(b.ratio, 4);
  EXPECT_EQ(b.beacon_window, 128);
  EXPECT_EQ(b.sinks, 0);
  EXPECT_EQ(b.label, "beacon:4:128");
  EXPECT_EQ(parse_policy_spec("beacon-sinks:2").sinks, 4);
  const PolicySpec sl = parse_policy_spec("sliding:8:19:4");
  EXPECT_EQ(sl.policy, TERN_KV_BEACON_SLIDING);
  EXPECT_EQ(sl.ratio, 8);
  EXPECT_EQ(sl.beacon_window, 19);  // a raw window need not be a multiple of the ratio
  EXPECT_EQ(sl.sinks, 4);
  EXPECT_EQ(parse_policy_spec("sliding:4").sinks, 0);
  EXPECT_EQ(kv_settings_for(sl, 32, 640).kv_budget_bytes, 32u * 640u);
  EXPECT_THROW(parse_policy_spec("sinks:four"), std::invalid_argument);
}

TEST(PolicySpec, EqualKvBytesSettings) {
  const uint64_t bps = 640;
  KvSettings k = kv_settings_for(parse_policy_spec("dense"), 256, bps);
  EXPECT_EQ(k.n_ctx, 256);
  EXPECT_EQ(kv_settings_for(parse_policy_spec("dense:512"), 256, bps).n_ctx, 512);
  k = kv_settings_for(parse_policy_spec("window"), 256, bps);
  EXPECT_EQ(k.policy, TERN_KV_WINDOW);
  EXPECT_EQ(k.kv_window, 256);
  EXPECT_EQ(k.kv_sinks, 0);
  k = kv_settings_for(parse_policy_spec("sinks:4"), 256, bps);
  EXPECT_EQ(k.kv_window, 256);  // total slots, sinks included
  EXPECT_EQ(k.kv_sinks, 4);
  k = kv_settings_for(parse_policy_spec("beacon-sinks:4:64"), 256, bps);
  EXPECT_EQ(k.policy, TERN_KV_BEACON);
  EXPECT_EQ(k.kv_budget_bytes, 256u * 640u);
  EXPECT_EQ(k.beacon_ratio, 4);
  EXPECT_EQ(k.beacon_window, 64);
  EXPECT_EQ(k.kv_sinks, 4);
  EXPECT_EQ(kv_settings_for(parse_policy_spec("beacon:2"), 256, bps).kv_sinks, 0);
  EXPECT_THROW(kv_settings_for(parse_policy_spec("sinks:256"), 256, bps), std::invalid_argument);
  // A spec's own N instead of the shared slots (beacon keeps the shared budget).
  EXPECT_EQ(kv_settings_for(parse_policy_spec("window:64"), 256, bps).kv_window, 64);
  EXPECT_EQ(kv_settings_for(parse_policy_spec("sinks:4:32"), 256, bps).kv_window, 32);
  EXPECT_THROW(kv_settings_for(parse_policy_spec("sinks:8"), 8, bps), std::invalid_argument);
  EXPECT_THROW(kv_settings_for(parse_policy_spec("beacon:2"), 256, 0), std::invalid_argument);
}

namespace {
Options parse(std::vector<std::string> a) { return parse_args(a); }
}  // namespace

TEST(PerplexityArgs, DefaultsToTheIssuePolicies) {
  const Options o = parse({"-m", "m.gguf", "-f", "t.txt"});
  ASSERT_EQ(o.policies.size(), 9u);
  EXPECT_EQ(o.policies[0].label, "dense");
  EXPECT_EQ(o.policies[8].label, "beacon-sinks:8");
  EXPECT_EQ(o.kv_slots, 256);
  EXPECT_EQ(o.segment, 512u);
}

TEST(PerplexityArgs, PoliciesRepeatAndSplitOnCommas) {
  const Options o = parse({"-m", "m", "-f", "t", "--kv", "dense,window", "--policy", "sinks:4", "--dense-ctx",
                           "512", "--segment", "100", "--max-tokens", "300", "--kv-type", "f32"});
  ASSERT_EQ(o.policies.size(), 4u);
  EXPECT_EQ(o.policies[3].slots, 512);
  EXPECT_EQ(o.segment, 100u);
  EXPECT_EQ(o.max_tokens, 300u);
  EXPECT_EQ(o.kv_type, TERN_KV_TYPE_F32);
  EXPECT_EQ(o.numerics, TERN_NUMERICS_DEFAULT);
  EXPECT_EQ(parse_args({"-m", "m", "-f", "t", "--numerics", "llamacpp"}).numerics, TERN_NUMERICS_LLAMACPP);
}

TEST(PerplexityArgs, PasskeyLists) {
  const Options o = parse({"-m", "m", "--passkey", "--lengths", "128,256", "--depths", "0,0.5,1", "--trials", "3"});
  EXPECT_TRUE(o.passkey);
  EXPECT_EQ(o.lengths, (std::vector<int32_t>{128, 256}));
  EXPECT_EQ(o.depths, (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(o.trials, 3);
  EXPECT_EQ(o.needle, "key");
  EXPECT_TRUE(o.filler_file.empty());
  EXPECT_EQ(o.n_batch, 0);
  const Options w = parse({"-m", "m", "--passkey", "--needle", "word", "--filler", "f.txt", "--n-batch", "16",
                           "--passkey-csv", "c.csv", "--passkey-trials-csv", "t.csv", "--passkey-svg", "h.svg"});
  EXPECT_EQ(w.needle, "word");
  EXPECT_EQ(w.filler_file, "f.txt");
  EXPECT_EQ(w.n_batch, 16);
  EXPECT_EQ(w.passkey_csv, "c.csv");
  EXPECT_EQ(w.passkey_trials_csv, "t.csv");
  EXPECT_EQ(w.passkey_svg, "h.svg");
}

// Plot titles name the KV size every plotted policy holds, or each policy's own when they differ
// (a dense:512 heat map once said "256 KV slots", the shared default it did not use).
TEST(PolicySpec, TitlesNameTheSlotsEachPolicyHolds) {
  const auto specs = [](std::vector<std::string> v) {
    std::vector<PolicySpec> out;
    for (const auto& s : v) out.push_back(parse_policy_spec(s));
    return out;
  };
  EXPECT_EQ(slots_of(parse_policy_spec("dense:512"), 128), 512);
  EXPECT_EQ(slots_of(parse_policy_spec("sinks:4:64"), 128), 64);
  EXPECT_EQ(slots_of(parse_policy_spec("window"), 128), 128);
  EXPECT_EQ(slots_of(parse_policy_spec("beacon:4:128"), 96), 96);  // 128 is the chunk, not the slots
  EXPECT_EQ(kv_slots_caption(specs({"dense:512"}), 256), "512 KV slots");
  EXPECT_EQ(kv_slots_caption(specs({"window", "sinks:4", "beacon:4"}), 128), "128 KV slots");
  EXPECT_EQ(kv_slots_caption(specs({"dense:512", "window"}), 128), "KV slots 512 (dense:512), 128 (window)");
  EXPECT_EQ(kv_slots_caption({}, 64), "64 KV slots");
}

TEST(PerplexityArgs, RejectsBadCommandLines) {
  const std::vector<std::vector<std::string>> bad = {
      {"-f", "t"},                                           // no model
      {"-m", "m"},                                           // nothing to do
      {"-m", "m", "-f", "t", "--segment", "0"},
      {"-m", "m", "-f", "t", "--segment"},                   // missing value
      {"-m", "m", "-f", "t", "--kv-slots", "-5"},
      {"-m", "m", "-f", "t", "--kv-type", "q3"},
      {"-m", "m", "-f", "t", "--numerics", "ggml"},
      {"-m", "m", "-f", "t", "--policy", "sinks:300"},       // more sinks than slots
      {"-m", "m", "-f", "t", "--loop"},                      // loop without --max-tokens
      {"-m", "m", "--passkey", "--depths", "0,1.5"},
      {"-m", "m", "--passkey", "--lengths", "a"},
      {"-m", "m", "--passkey", "--needle", "number"},
      {"-m", "m", "--passkey", "--needle"},
      {"-m", "m", "--passkey", "--n-batch", "0"},
      {"-m", "m", "-f", "t", "--bogus"},
  };
  for (const auto& a : bad) {
    std::string line;
    for (const auto& s : a) line += s + " ";
    EXPECT_THROW(parse(a), std::invalid_argument) << line;
  }
  EXPECT_TRUE(parse({"--help"}).help);
}
