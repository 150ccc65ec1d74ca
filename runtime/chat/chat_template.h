// Built-in chat templates (no Jinja interpreter, like llama.cpp): each renders a list of
// {role, content} messages the way the model family was trained. A model's GGUF
// tokenizer.chat_template is recognised by its markers.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// Qwen3: ChatML whose earlier assistant turns drop their reasoning (the text up to the last
// "</think>"), as Qwen3's own template does; the model's thinking tags are otherwise plain text.
// Gemma: <start_of_turn>user / model turns, the system prompt folded into the first user turn,
// every message's content trimmed (Gemma 3's template).
enum class ChatTemplate { ChatML, Llama2, Llama3, Mistral, Zephyr, Gemma, TinyLlama, Qwen3 };

std::string_view chat_template_name(ChatTemplate t);
std::optional<ChatTemplate> chat_template_from_name(std::string_view name);
// Recognises a Jinja chat template by its markers; nullopt when unknown.
std::optional<ChatTemplate> detect_chat_template(std::string_view jinja);

// Renders messages; add_assistant appends the opening of the assistant's turn. The BOS token
// is not included (the tokenizer adds it). Throws InvalidArgument for an unknown role.
std::string apply_chat_template(ChatTemplate t, const std::vector<ChatMessage>& messages, bool add_assistant);

}  // namespace tern
