#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include "common/error.h"

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

TEST(ChatTemplate, DetectsFromJinja) {
  EXPECT_EQ(detect_chat_template("{% for m in messages %}<|im_start|>{{m.role}}"), ChatTemplate::ChatML);
  EXPECT_EQ(detect_chat_template("<|start_header_id|>' + message['role']"), ChatTemplate::Llama3);
  EXPECT_EQ(detect_chat_template("[INST] <<SYS>>\\n"), ChatTemplate::Llama2);
  EXPECT_EQ(detect_chat_template("{{ '[INST] ' + message['content'] + ' [/INST]' }}"), ChatTemplate::Mistral);
  EXPECT_EQ(detect_chat_template("<start_of_turn>user"), ChatTemplate::Gemma);
  EXPECT_EQ(detect_chat_template("<|user|>\\n{{ message['content'] }}</s><|assistant|>"), ChatTemplate::Zephyr);
  EXPECT_EQ(detect_chat_template("something else"), std::nullopt);
}

TEST(ChatTemplate, NamesRoundTrip) {
  for (auto name : {"chatml", "llama2", "llama3", "mistral", "zephyr", "gemma", "tinyllama"}) {
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
