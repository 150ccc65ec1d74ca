#include "chat/chat_template.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/error.h"

namespace tern {
namespace {

constexpr std::array<std::pair<ChatTemplate, std::string_view>, 8> k_names = {{
    {ChatTemplate::ChatML, "chatml"},
    {ChatTemplate::Llama2, "llama2"},
    {ChatTemplate::Llama3, "llama3"},
    {ChatTemplate::Mistral, "mistral"},
    {ChatTemplate::Zephyr, "zephyr"},
    {ChatTemplate::Gemma, "gemma"},
    {ChatTemplate::TinyLlama, "tinyllama"},
    {ChatTemplate::Qwen3, "qwen3"},
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

std::string_view strip_newlines(std::string_view t, bool left, bool right) {
  while (left && !t.empty() && t.front() == '\n') t.remove_prefix(1);
  while (right && !t.empty() && t.back() == '\n') t.remove_suffix(1);
  return t;
}

// Qwen3's template: an assistant turn's reasoning is what precedes its last "</think>" (after
// the "<think>"). Turns before the last user message keep only their answer; later ones are
// written "<think>\n{reasoning}\n</think>\n\n{answer}" when they have reasoning or are the
// conversation's last message, else as the answer alone.
std::string render_qwen3(std::vector<ChatMessage> msgs, bool add_assistant) {
  size_t last_user = msgs.empty() ? 0 : msgs.size() - 1;  // the template's default without a user turn
  for (size_t i = msgs.size(); i-- > 0;)
    if (msgs[i].role == "user") {
      last_user = i;
      break;
    }
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].role != "assistant") continue;
    const std::string_view c = msgs[i].content;
    std::string_view answer = c, reasoning;
    if (const size_t end = c.rfind("</think>"); end != std::string_view::npos) {
      answer = strip_newlines(c.substr(end + 8), true, false);
      reasoning = c.substr(0, c.find("</think>"));
      if (const size_t open = reasoning.rfind("<think>"); open != std::string_view::npos)
        reasoning.remove_prefix(open + 7);
      reasoning = strip_newlines(reasoning, true, true);
    }
    if (i > last_user && (i + 1 == msgs.size() || !reasoning.empty()))
      msgs[i].content = "<think>\n" + std::string(reasoning) + "\n</think>\n\n" + std::string(strip_newlines(answer, true, false));
    else
      msgs[i].content = std::string(answer);
  }
  return render_chatml(msgs, add_assistant);
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
      system += (system.empty() ? "" : "\n") + m.content;  // several join, as fold_system does
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

// Jinja's trim: surrounding whitespace off.
std::string trim(std::string_view t) {
  constexpr std::string_view ws = " \t\n\r\f\v";
  const size_t b = t.find_first_not_of(ws);
  return b == std::string_view::npos ? std::string() : std::string(t.substr(b, t.find_last_not_of(ws) - b + 1));
}

std::string render_gemma(const std::vector<ChatMessage>& in, bool add_assistant) {
  std::string s;
  for (const auto& m : fold_system(in, "\n\n")) {
    const std::string role = m.role == "assistant" ? "model" : m.role;
    s += "<start_of_turn>" + role + "\n" + trim(m.content) + "<end_of_turn>\n";
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
  if (has("<|im_start|>")) return has("</think>") ? ChatTemplate::Qwen3 : ChatTemplate::ChatML;
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
    case ChatTemplate::Qwen3: return render_qwen3(messages, add_assistant);
  }
  return render_chatml(messages, add_assistant);
}

}  // namespace tern
