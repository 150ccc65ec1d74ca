// How RoPE pairs the dimensions of a head (shared by ops::rope and ref::rope).
#pragma once
#include <cstdint>

namespace tern {
enum class RopeMode : uint32_t {
  Interleaved = 0,  // GPT-J / llama: pairs (2i, 2i+1)
  Neox = 1,         // GPT-NeoX / qwen2: pairs (i, i + n_rot/2)
};
}  // namespace tern
