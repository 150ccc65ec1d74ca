#include "chat/chat_template.h"

#include <array>
#include <utility>

#include "common/error.h"

namespace tern {
namespace {

constexpr std::array<std::pair<ChatTemplate, std::string_view>, 7> k_names = {{
    {ChatTemplate::ChatML, "chatml"},
    {ChatTemplate::Llama2, "llama2"},
    {ChatTemplate::Llama3, "llama3"},
    {ChatTemplate::Mistral, "mistral"},
    {ChatTemplate::Zephyr, "zephyr"},
    {ChatTemplate::Gemma, "gemma"},
    {ChatTemplate::TinyLlama, "tinyllama"},
}};

void check_role(const ChatMessage& m) {
  check(m.role == "system" || m.role == "user" || m.role == "assistant", Status::InvalidArgument,
        "chat message role '" + m.role + "' is not one of system, user, assistant");
}

// Templates without a system role fold the system prompt into the first user message.
std::vector<ChatMessage> fold_system(const std::vector<ChatMessage>& in, std::string_view sep) {
  std::vector<ChatMessage> out;
  std::string system;
  for (const auto& m : in) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n") + m.content;
      continue;
    }
    out.push_back(m);
    if (m.role == "user" && !system.empty()) {
      out.back().content = system + std::string(sep) + m.content;
      system.clear();
    }
  }
  return out;
}

std::string render_chatml(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string s;
  for (const auto& m : msgs) s += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (add_assistant) s += "<|im_start|>assistant\n";
  return s;
}

std::string render_llama3(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string s;
  for (const auto& m : msgs) s += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  if (add_assistant) s += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return s;
}

std::string render_llama2(const std::vector<ChatMessage>& msgs) {
  // [INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...
  std::string s, system;
  bool first_user = true;
  for (const auto& m : msgs) {
    if (m.role == "system") {
      system = m.content;
    } else if (m.role == "user") {
      if (!first_user) s += "<s>";
      s += "[INST] ";
      if (!system.empty()) s += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
      system.clear();
      s += m.content + " [/INST]";
      first_user = false;
    } else {
      s += " " + m.content + " </s>";
    }
  }
  return s;
}

std::string render_mistral(const std::vector<ChatMessage>& in) {
  std::string s;
  for (const auto& m : fold_system(in, "\n\n")) {
    if (m.role == "user") s += "[INST] " + m.content + " [/INST]";
    else s += m.content + "</s>";
  }
  return s;
}

std::string render_zephyr(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string s;
  for (const auto& m : msgs) s += "<|" + m.role + "|>\n" + m.content + "</s>\n";
  if (add_assistant) s += "<|assistant|>\n";
  return s;
}

std::string render_gemma(const std::vector<ChatMessage>& in, bool add_assistant) {
  std::string s;
  for (const auto& m : fold_system(in, "\n\n")) {
    const std::string role = m.role == "assistant" ? "model" : m.role;
    s += "<start_of_turn>" + role + "\n" + m.content + "<end_of_turn>\n";
  }
  if (add_assistant) s += "<start_of_turn>model\n";
  return s;
}

}  // namespace

std::string_view chat_template_name(ChatTemplate t) {
  for (const auto& [k, n] : k_names)
    if (k == t) return n;
  return "chatml";
}

std::optional<ChatTemplate> chat_template_from_name(std::string_view name) {
  for (const auto& [k, n] : k_names)
    if (n == name) return k;
  return std::nullopt;
}

std::optional<ChatTemplate> detect_chat_template(std::string_view j) {
  auto has = [&](std::string_view s) { return j.find(s) != std::string_view::npos; };
  if (has("<|im_start|>")) return ChatTemplate::ChatML;
  if (has("<|start_header_id|>")) return ChatTemplate::Llama3;
  if (has("<start_of_turn>")) return ChatTemplate::Gemma;
  if (has("[INST]")) return has("<<SYS>>") ? ChatTemplate::Llama2 : ChatTemplate::Mistral;
  if (has("<|user|>") && has("<|assistant|>")) return ChatTemplate::Zephyr;
  return std::nullopt;
}

std::string apply_chat_template(ChatTemplate t, const std::vector<ChatMessage>& messages, bool add_assistant) {
  for (const auto& m : messages) check_role(m);
  switch (t) {
    case ChatTemplate::ChatML: return render_chatml(messages, add_assistant);
    case ChatTemplate::Llama3: return render_llama3(messages, add_assistant);
    case ChatTemplate::Llama2: return render_llama2(messages);
    case ChatTemplate::Mistral: return render_mistral(messages);
    case ChatTemplate::Zephyr:
    case ChatTemplate::TinyLlama: return render_zephyr(messages, add_assistant);
    case ChatTemplate::Gemma: return render_gemma(messages, add_assistant);
  }
  return render_chatml(messages, add_assistant);
}

}  // namespace tern
