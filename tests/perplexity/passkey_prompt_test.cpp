// Passkey prompt construction (depth placement) and the answer check.
#include "perplexity/passkey_prompt.h"

#include <gtest/gtest.h>

#include <string>

using namespace tern::ppl;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST(PasskeyPrompt, KeyAtDepth) {
  const uint32_t key = 71432;
  const std::string sentence = passkey_sentence(key);
  EXPECT_EQ(sentence, "The pass key is 71432. Remember it. 71432 is the pass key. ");
  auto fillers = [](const std::string& s) {
    size_t n = 0;
    for (const char* f : k_passkey_fillers) n += count(s, f);
    return n;
  };
  for (double depth : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const std::string p = passkey_prompt(12, depth, key);
    EXPECT_EQ(fillers(p), 12u);
    EXPECT_EQ(count(p, k_passkey_fillers[0]), 3u);  // sentences used in turn
    EXPECT_EQ(count(p, sentence), 1u);
    EXPECT_EQ(p.rfind(k_passkey_question), p.size() - std::string(k_passkey_question).size());
    // Filler sentences before the key: round(depth * 12).
    const std::string before = p.substr(0, p.find(sentence));
    EXPECT_EQ(fillers(before), size_t(depth * 12)) << depth;
  }
  EXPECT_EQ(passkey_prompt(0, 0.5, key), std::string(k_passkey_intro) + sentence + k_passkey_question);
}

TEST(PasskeyPrompt, InsertIndexClamps) {
  EXPECT_EQ(passkey_insert_index(0.0, 10), 0u);
  EXPECT_EQ(passkey_insert_index(1.0, 10), 10u);
  EXPECT_EQ(passkey_insert_index(0.26, 10), 3u);
  EXPECT_EQ(passkey_insert_index(-1.0, 10), 0u);
  EXPECT_EQ(passkey_insert_index(2.0, 10), 10u);
}

TEST(PasskeyPrompt, KeysAreFiveDigitsAndSeeded) {
  for (uint64_t s = 0; s < 200; ++s) {
    const uint32_t k = passkey_from_seed(s);
    EXPECT_GE(k, 10000u);
    EXPECT_LE(k, 99999u);
    EXPECT_EQ(k, passkey_from_seed(s));
  }
  EXPECT_NE(passkey_from_seed(1), passkey_from_seed(2));
}

TEST(PasskeyPrompt, AnswerCheck) {
  EXPECT_TRUE(answer_has_key(" 71432.", 71432));
  EXPECT_TRUE(answer_has_key("71432", 71432));
  EXPECT_TRUE(answer_has_key("it is 12 and 71432", 71432));
  EXPECT_FALSE(answer_has_key(" 7143", 71432));
  EXPECT_FALSE(answer_has_key(" 714321", 71432));  // part of a longer number
  EXPECT_FALSE(answer_has_key("171432", 71432));
  EXPECT_TRUE(answer_has_key("171432 or 71432", 71432));
  EXPECT_FALSE(answer_has_key("7 1 4 3 2", 71432));
  EXPECT_FALSE(answer_has_key("", 71432));
}
