// Shaders by id. cmake/shader_table.py generates gpu/shader_ids.h at build time from
// shaders/*.comp (a module per file or @variant line) and the modules' SPIR-V: the enum
// ShaderId and what each module declares (storage buffers, push-constant bytes). Ops name
// shaders by id and static_assert what they bind and push against the declaration, so a
// misspelt shader, a wrong binding count or a wrong push block fails the build, not the first
// dispatch (ncnn generates its LayerShaderType enum the same way).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "gpu/shader_ids.h"

namespace tern::gpu {

constexpr const ShaderInterface& shader_interface(ShaderId id) { return k_shader_interfaces[uint32_t(id)]; }
constexpr std::string_view shader_name(ShaderId id) { return shader_interface(id).name; }

// The module named a + b + c (ops compose names: "matvec_" + "q4_0" + "_lane"), or nullopt.
constexpr std::optional<ShaderId> find_shader_id(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  for (uint32_t i = 0; i < k_shader_count; ++i) {
    const std::string_view n = k_shader_interfaces[i].name;
    if (n.size() == a.size() + b.size() + c.size() && n.substr(0, a.size()) == a &&
        n.substr(a.size(), b.size()) == b && n.substr(a.size() + b.size()) == c)
      return ShaderId(i);
  }
  return std::nullopt;
}

// The same, for a name that must exist: in a constant expression (a constexpr table, a
// static_assert) a name no module has fails the build; at run time it throws Internal.
constexpr ShaderId shader_id(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  if (const auto id = find_shader_id(a, b, c)) return *id;
  throw Error(Status::Internal, "no shader named '" + std::string(a) + std::string(b) + std::string(c) + "'");
}

// Whether every one of ids declares `buffers` storage buffers and `push_bytes` bytes of push
// constants. Ops static_assert it for the shaders they dispatch.
constexpr bool declares(std::initializer_list<ShaderId> ids, uint32_t buffers, uint32_t push_bytes) {
  for (ShaderId id : ids)
    if (shader_interface(id).buffers != buffers || shader_interface(id).push_bytes != push_bytes) return false;
  return true;
}

}  // namespace tern::gpu
