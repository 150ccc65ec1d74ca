// Context::fill_synthetic: a context at depth d without the d-token forward pass, for
// tern-bench's decode-at-depth figures (the fill by prefill of a TinyLlama-shape context to
// 1536 tokens did not finish in 72 minutes on a loaded 2-core lavapipe machine; the decode
// step after it costs the same whatever the cached values are).
#include <algorithm>
#include <random>

#include "api/context.h"
#include "common/error.h"
#include "ops/kv_store.h"

namespace tern {

void Context::fill_synthetic(std::span<const int32_t> tokens, uint64_t seed) {
  reset();
  check_tokens(tokens);
  // The policy's own steps, as eval takes them, committed without running them.
  for (size_t done = 0; done < tokens.size();) {
    if (policy_->wants_rebase()) policy_->rebase_keys();  // the cache is filled below: nothing to turn
    const KvStep step = plan_step(tokens.size() - done);
    commit_step(step);
    done += step.n_raw;
  }
  history_.assign(tokens.begin(), tokens.end());
  stats_.tokens_consumed = tokens.size();
  fill_cache_random(seed);
}

void Context::fill_cache_random(uint64_t seed) {
  // One block of random f32 rows, uniform in [-1, 1): keys from its first half, values from its
  // second; each chunk of slots repeats it (the values only need to be finite and not all equal).
  constexpr uint32_t k_rows = 512;
  const uint32_t row = kv_->row_elems();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> host(size_t(2) * k_rows * row);
  for (float& x : host) x = dist(rng);
  auto& alloc = model_->device().allocator();
  gpu::Buffer src = alloc.create(host.size() * sizeof(float), gpu::MemoryUse::Device, "synthetic fill rows");
  alloc.write(src, 0, host.data(), host.size() * sizeof(float));
  const uint64_t half = uint64_t(k_rows) * row * sizeof(float);
  const gpu::BufferRef keys(src, 0, half), values(src, half, half);

  gpu::Recorder& rec = forward_->recorder();
  rec.begin();
  for (uint32_t l = 0; l < kv_->n_layer(); ++l) {
    const uint32_t used = ring_ && model_->config().sliding(l) ? ring_->used() : policy_->n_kv();
    for (uint32_t first = 0; first < used; first += k_rows) {
      const uint32_t n = std::min(k_rows, used - first);
      ops::kv_store(rec, keys, kv_->k(l), first, n, row, kv_->dtype());
      ops::kv_store(rec, values, kv_->v(l), first, n, row, kv_->dtype());
    }
  }
  rec.submit_and_wait();
}

}  // namespace tern
