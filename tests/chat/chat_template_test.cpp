#include "chat/chat_template.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "support/test_env.h"

namespace tern {
namespace {

const std::vector<ChatMessage> k_chat = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}};

TEST(ChatTemplate, ChatML) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::ChatML, k_chat, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, Llama3) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::Llama3, {{"user", "Hi"}}, true),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Llama2) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::Llama2, k_chat, true),
            "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]");
}

TEST(ChatTemplate, Mistral) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::Mistral, k_chat, true),
            "[INST] Be brief.\n\nHi [/INST]Hello!</s>[INST] Bye [/INST]");
}

TEST(ChatTemplate, ZephyrAndTinyLlama) {
  const std::string want = "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|user|>\nBye</s>\n<|assistant|>\n";
  EXPECT_EQ(apply_chat_template(ChatTemplate::Zephyr, k_chat, true), want);
  EXPECT_EQ(apply_chat_template(ChatTemplate::TinyLlama, k_chat, true), want);
}

TEST(ChatTemplate, Gemma) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::Gemma, k_chat, true),
            "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n");
}

// Gemma 3's template trims every message.
TEST(ChatTemplate, GemmaTrimsContent) {
  EXPECT_EQ(apply_chat_template(ChatTemplate::Gemma, {{"user", "  Hi there \n"}}, true),
            "<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n");
}

// Qwen3: chatml; assistant turns before the last user message lose their reasoning, later ones
// (and the model's output) keep the thinking tags as text.
TEST(ChatTemplate, Qwen3DropsOldReasoning) {
  const std::vector<ChatMessage> chat = {{"user", "2+2?"},
                                         {"assistant", "<think>\nadd them\n</think>\n\n4"},
                                         {"user", "and 3+3?"},
                                         {"assistant", "<think>\nagain\n</think>\n\n6"}};
  EXPECT_EQ(apply_chat_template(ChatTemplate::Qwen3, chat, false),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
            "<|im_start|>user\nand 3+3?<|im_end|>\n"
            "<|im_start|>assistant\n<think>\nagain\n</think>\n\n6<|im_end|>\n");
  EXPECT_EQ(apply_chat_template(ChatTemplate::Qwen3, {{"user", "hi"}}, true),
            apply_chat_template(ChatTemplate::ChatML, {{"user", "hi"}}, true));
}

// Conversations rendered by Qwen3's and Gemma 3's own Jinja templates (tests/chat/golden, written
// by scripts/gen-chat-goldens.py): the built-in templates give the same text (Gemma's starts
// with <bos>, which the tokenizer adds instead). With the vocabularies fetched, each real
// template is also recognised.
TEST(ChatTemplate, MatchesTheModelsOwnTemplates) {
  for (const auto& [name, kind] : {std::pair{"qwen3", ChatTemplate::Qwen3}, std::pair{"gemma3", ChatTemplate::Gemma}}) {
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(test::source_file(std::string("tests/chat/golden/") + name + ".json")));
    ASSERT_GE(j.at("cases").size(), 4u) << name;
    for (const auto& c : j.at("cases")) {
      std::vector<ChatMessage> msgs;
      for (const auto& m : c.at("messages")) msgs.push_back({m.at("role"), m.at("content")});
      std::string want = c.at("text");
      if (want.starts_with("<bos>")) want.erase(0, 5);
      EXPECT_EQ(apply_chat_template(kind, msgs, c.at("add_generation_prompt")), want) << name;
    }
    const auto cfg = test::test_vocab_file(std::string(name) + "/tokenizer_config.json");
    if (cfg.empty()) continue;
    const nlohmann::json t = nlohmann::json::parse(std::ifstream(cfg));
    EXPECT_EQ(detect_chat_template(t.at("chat_template").get<std::string>()), kind) << name;
  }
}

TEST(ChatTemplate, DetectsFromJinja) {
  EXPECT_EQ(detect_chat_template("{% for m in messages %}<|im_start|>{{m.role}}"), ChatTemplate::ChatML);
  EXPECT_EQ(detect_chat_template("<|start_header_id|>' + message['role']"), ChatTemplate::Llama3);
  EXPECT_EQ(detect_chat_template("[INST] <<SYS>>\\n"), ChatTemplate::Llama2);
  EXPECT_EQ(detect_chat_template("{{ '[INST] ' + message['content'] + ' [/INST]' }}"), ChatTemplate::Mistral);
  EXPECT_EQ(detect_chat_template("<start_of_turn>user"), ChatTemplate::Gemma);
  EXPECT_EQ(detect_chat_template("<|user|>\\n{{ message['content'] }}</s><|assistant|>"), ChatTemplate::Zephyr);
  EXPECT_EQ(detect_chat_template("<|im_start|>' + message.role + '\\n<think>\\n' + reasoning + '\\n</think>"),
            ChatTemplate::Qwen3);
  EXPECT_EQ(detect_chat_template("something else"), std::nullopt);
}

TEST(ChatTemplate, NamesRoundTrip) {
  for (auto name : {"chatml", "llama2", "llama3", "mistral", "zephyr", "gemma", "tinyllama", "qwen3"}) {
    auto t = chat_template_from_name(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(chat_template_name(*t), name);
  }
  EXPECT_EQ(chat_template_from_name("jinja"), std::nullopt);
}

TEST(ChatTemplate, UnknownRoleIsAnError) {
  try {
    apply_chat_template(ChatTemplate::ChatML, {{"tool", "x"}}, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::InvalidArgument);
  }
}

}  // namespace
}  // namespace tern
