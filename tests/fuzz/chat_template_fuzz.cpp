// libFuzzer target for chat templates: a model's tokenizer.chat_template string (recognised by
// detect_chat_template) and messages, rendered by the template it names (or by each built-in
// one in turn). Input: a flags byte, then NUL-separated fields: the Jinja template text, then
// (role, content) pairs. A role field's first byte picks system / user / assistant, or (3) the
// field itself as the role, which must then be refused with InvalidArgument unless it is one of
// the three. Every content must appear in the rendering, in order (but a system prompt with no
// user message after it, in the templates that have no system role), as the template writes it:
// Gemma's template trims each turn (Jinja's `| trim`, as Google's own template does), and Qwen3's
// rewrites an assistant turn that holds "</think>" (its reasoning moved or dropped: not looked
// for) and may drop an assistant turn's leading newlines.
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.h"
#include "common/error.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "chat_template_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The text of m that the rendering by t must contain.
std::optional<std::string> expected_text(tern::ChatTemplate t, const tern::ChatMessage& m) {
  if (t == tern::ChatTemplate::Qwen3 && m.role == "assistant") {
    if (m.content.find("</think>") != std::string::npos) return std::nullopt;
    return m.content.substr(std::min(m.content.find_first_not_of('\n'), m.content.size()));  // the last turn's
  }
  if (t != tern::ChatTemplate::Gemma) return m.content;
  constexpr std::string_view ws = " \t\n\r\f\v";
  const size_t b = m.content.find_first_not_of(ws);
  return b == std::string::npos ? std::string() : m.content.substr(b, m.content.find_last_not_of(ws) - b + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::vector<std::string_view> fields;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at; (at = rest.find('\0')) != std::string_view::npos;) {
    fields.push_back(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  fields.push_back(rest);

  const std::optional<tern::ChatTemplate> detected = tern::detect_chat_template(fields[0]);
  std::vector<tern::ChatMessage> messages;
  bool valid_roles = true;
  for (size_t i = 1; i + 1 < fields.size(); i += 2) {
    const std::string_view r = fields[i];
    const int pick = r.empty() ? 1 : uint8_t(r[0]) % 4;
    std::string role = pick == 0 ? "system" : pick == 1 ? "user" : pick == 2 ? "assistant" : std::string(r);
    valid_roles = valid_roles && (role == "system" || role == "user" || role == "assistant");
    messages.push_back({std::move(role), std::string(fields[i + 1])});
  }
  const bool add_assistant = flags & 1;
  std::vector<tern::ChatTemplate> templates;
  if (detected && (flags & 2)) {
    templates.push_back(*detected);
  } else {
    for (const char* name : {"chatml", "llama2", "llama3", "mistral", "zephyr", "gemma", "tinyllama"})
      templates.push_back(*tern::chat_template_from_name(name));
  }
  for (tern::ChatTemplate t : templates) {
    std::string out;
    try {
      out = tern::apply_chat_template(t, messages, add_assistant);
    } catch (const tern::Error& e) {
      if (!valid_roles && e.status() == tern::Status::InvalidArgument) continue;
      fail("apply_chat_template threw", e.what());
    }
    if (!valid_roles) fail("a bad role was accepted", std::string(tern::chat_template_name(t)));
    // Templates without a system role put a system prompt into the next user message (so it may
    // come after an assistant message that followed it); one with no user message after it has
    // nowhere to go. Other messages appear in order.
    const bool folds = t == tern::ChatTemplate::Llama2 || t == tern::ChatTemplate::Mistral || t == tern::ChatTemplate::Gemma;
    size_t at = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
      const auto& m = messages[i];
      const std::optional<std::string> text = expected_text(t, m);
      if (!text) continue;
      if (folds && m.role == "system") {
        bool user_after = false;
        for (size_t j = i + 1; j < messages.size(); ++j) user_after = user_after || messages[j].role == "user";
        if (user_after && out.find(*text) == std::string::npos)
          fail("a system prompt is missing from the rendering", std::string(tern::chat_template_name(t)) + ": '" + *text + "'");
        continue;
      }
      const size_t found = out.find(*text, at);
      if (found == std::string::npos)
        fail("a message is missing from the rendering", std::string(tern::chat_template_name(t)) + ": '" + *text + "'");
      at = found + text->size();
    }
  }
  return 0;
}
