// Needle prompts (depth placement, both needle kinds, filler files) and the answer check.
#include "perplexity/passkey_prompt.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include "perplexity/text_checks.h"

using namespace tern::ppl;
using tern::ppl::test::count_of;

namespace {
size_t fillers(const std::string& s, const Filler& f) {
  size_t n = 0;
  for (const auto& sentence : f.sentences) n += count_of(s, sentence);
  return n;
}
const Needle k_key{NeedleKind::Key, "71432"};
const Needle k_word{NeedleKind::Word, "garden"};
}  // namespace

TEST(PasskeyPrompt, KeyAtDepth) {
  const std::string sentence = needle_sentence(k_key);
  EXPECT_EQ(sentence, "The pass key is 71432. Remember it. 71432 is the pass key. ");
  const Filler f = default_filler();
  ASSERT_EQ(f.sentences.size(), 5u);
  for (double depth : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const std::string p = needle_prompt(k_key, f, 12, depth);
    EXPECT_EQ(fillers(p, f), 12u);
    EXPECT_EQ(count_of(p, f.sentences[0]), 3u);  // sentences used in turn
    EXPECT_EQ(count_of(p, sentence), 1u);
    const std::string q = needle_question(NeedleKind::Key);
    EXPECT_EQ(p.rfind(q), p.size() - q.size());
    // Filler sentences before the key: round(depth * 12).
    const std::string before = p.substr(0, p.find(sentence));
    EXPECT_EQ(fillers(before, f), size_t(depth * 12)) << depth;
  }
  EXPECT_EQ(needle_prompt(k_key, f, 0, 0.5),
            "There is a pass key hidden inside a lot of unimportant text. Find it and remember it. "
            "I will ask you about the pass key later. " + sentence + "What is the pass key? The pass key is");
}

TEST(PasskeyPrompt, WordNeedle) {
  EXPECT_EQ(needle_sentence(k_word), "The secret word is garden. Remember it. garden is the secret word. ");
  EXPECT_EQ(needle_question(NeedleKind::Word), "What is the secret word? The secret word is");
  const std::string p = needle_prompt(k_word, default_filler(), 4, 1.0);
  EXPECT_EQ(p.rfind(needle_intro(NeedleKind::Word), 0), 0u);
  EXPECT_NE(p.find("Here we go. " + needle_sentence(k_word) + "What is the secret word?"), std::string::npos);
  EXPECT_EQ(parse_needle_kind("key"), NeedleKind::Key);
  EXPECT_EQ(parse_needle_kind("word"), NeedleKind::Word);
  EXPECT_THROW(parse_needle_kind("Key"), std::invalid_argument);
  EXPECT_STREQ(needle_kind_name(NeedleKind::Word), "word");
}

TEST(PasskeyPrompt, InsertIndexClamps) {
  EXPECT_EQ(needle_insert_index(0.0, 10), 0u);
  EXPECT_EQ(needle_insert_index(1.0, 10), 10u);
  EXPECT_EQ(needle_insert_index(0.26, 10), 3u);
  EXPECT_EQ(needle_insert_index(-1.0, 10), 0u);
  EXPECT_EQ(needle_insert_index(2.0, 10), 10u);
}

TEST(PasskeyPrompt, NeedlesAreSeeded) {
  std::set<std::string> words;
  for (uint64_t s = 0; s < 400; ++s) {
    const Needle k = needle_from_seed(NeedleKind::Key, s);
    ASSERT_EQ(k.value.size(), 5u);
    EXPECT_GE(std::stoi(k.value), 10000);
    EXPECT_EQ(k.value, needle_from_seed(NeedleKind::Key, s).value);
    const Needle w = needle_from_seed(NeedleKind::Word, s);
    EXPECT_EQ(w.kind, NeedleKind::Word);
    EXPECT_EQ(w.value, needle_from_seed(NeedleKind::Word, s).value);
    words.insert(w.value);
  }
  EXPECT_NE(needle_from_seed(NeedleKind::Key, 1).value, needle_from_seed(NeedleKind::Key, 2).value);
  EXPECT_EQ(words.size(), k_needle_words.size());  // 400 draws reach all 40 words
  // Keys are the ones tern-perplexity drew before needles had kinds, so runs stay comparable.
  for (uint64_t s : {1ull, 7ull, 123456789ull}) {
    std::mt19937_64 rng(s);
    EXPECT_EQ(needle_from_seed(NeedleKind::Key, s).value,
              std::to_string(std::uniform_int_distribution<uint32_t>(10000, 99999)(rng)));
  }
}

TEST(PasskeyPrompt, FillerFromText) {
  const Filler f = filler_from_text(
      "Once upon a time, there was a cat.  She said, \"Hi!\" and left.\nThe end\n\n  Why?   Because. 3.5 is a number.",
      "story.txt");
  EXPECT_EQ(f.source, "story.txt");
  ASSERT_EQ(f.sentences.size(), 7u);
  EXPECT_EQ(f.sentences[0], "Once upon a time, there was a cat. ");
  EXPECT_EQ(f.sentences[1], "She said, \"Hi!\" ");
  EXPECT_EQ(f.sentences[2], "and left. ");
  EXPECT_EQ(f.sentences[3], "The end ");  // a line break ends a sentence too
  EXPECT_EQ(f.sentences[4], "Why? ");
  EXPECT_EQ(f.sentences[5], "Because. ");
  EXPECT_EQ(f.sentences[6], "3.5 is a number. ");  // no cut inside a number
  EXPECT_THROW(filler_from_text(" \n\t\n", "empty.txt"), std::invalid_argument);
  // Sentences are used in order and cycled.
  const std::string p = needle_prompt(k_key, f, 9, 0);
  EXPECT_NE(p.find(needle_sentence(k_key) + "Once upon a time, there was a cat. She said"), std::string::npos);
  EXPECT_EQ(count_of(p, "Once upon a time"), 2u);
  EXPECT_NE(p.find("Because. 3.5 is a number. Once upon a time, there was a cat. She said, \"Hi!\" What is"),
            std::string::npos);
}

TEST(PasskeyPrompt, AnswerCheck) {
  auto key = [](const std::string& a) { return answer_has_needle(a, k_key); };
  EXPECT_TRUE(key(" 71432."));
  EXPECT_TRUE(key("71432"));
  EXPECT_TRUE(key("it is 12 and 71432"));
  EXPECT_FALSE(key(" 7143"));
  EXPECT_FALSE(key(" 714321"));  // part of a longer number
  EXPECT_FALSE(key("171432"));
  EXPECT_TRUE(key("171432 or 71432"));
  EXPECT_FALSE(key("7 1 4 3 2"));
  EXPECT_FALSE(key(""));
  auto word = [](const std::string& a) { return answer_has_needle(a, k_word); };
  EXPECT_TRUE(word(" garden."));
  EXPECT_TRUE(word(" Garden"));
  EXPECT_TRUE(word("the GARDEN, yes"));
  EXPECT_FALSE(word(" gardens"));   // inside a longer word
  EXPECT_FALSE(word(" kindergarden"));
  EXPECT_TRUE(word(" gardener or garden"));
  EXPECT_TRUE(word("garden1"));     // digits do not extend a word
  EXPECT_FALSE(word(" gard"));
  EXPECT_FALSE(answer_has_needle("anything", Needle{NeedleKind::Word, ""}));
}
