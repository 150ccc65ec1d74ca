// Forward's output head: the logit rows gathered, the output norm and product on those only, in
// pieces that fit one storage-buffer binding, and the GPU selection (argmax / top-k) of each.
#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.h"
#include "model/forward.h"
#include "ops/argmax.h"
#include "ops/softcap.h"
#include "ops/top_k.h"

namespace tern {
namespace {

// Bytes of one logit row's selection: an argmax id, or select_k top-k entries.
uint64_t selection_row_bytes(uint32_t select_k) {
  return select_k == 1 ? 4 : uint64_t(select_k) * sizeof(ops::TopKEntry);
}

// bytes bytes of b from offset off.
gpu::BufferRef sub(const gpu::Buffer& b, uint64_t off, uint64_t bytes) { return gpu::BufferRef(b, off, bytes); }

}  // namespace

void Forward::output_head(const StepPlan& p) {
  const uint32_t rows = uint32_t(p.logit_rows.size());
  const uint64_t E4 = uint64_t(c_.n_embd) * 4, V4 = uint64_t(c_.n_vocab) * 4;
  const uint64_t S = selection_row_bytes(p.select_k);
  std::vector<VkBufferCopy> gather;  // the rows that need logits
  for (uint32_t j = 0; j < rows; ++j) gather.push_back({p.logit_rows[j] * E4, j * E4, E4});
  rec_.copy(x_, last_, gather);
  if (!p.norm_in_head) rms_norm(last_, model_->output_norm(), last_, rows);
  // Logits bound in pieces: maxStorageBufferRange (128 MiB on lavapipe and many mobile GPUs)
  // holds only ~220 rows of Qwen2's 151936 logits, less than a prefill batch asking for all.
  const uint32_t piece = std::min(rows, p.head_piece);
  if (p.select_k) reserve_selection(rows, piece);
  for (uint32_t r0 = 0; r0 < rows; r0 += piece) {
    const uint32_t m = std::min(piece, rows - r0);
    const gpu::BufferRef logits = sub(logits_, r0 * V4, m * V4);
    matmul(model_->output(), sub(last_, r0 * E4, m * E4), logits, m,
           {.norm = p.norm_in_head ? &model_->output_norm() : nullptr});
    if (c_.final_logit_softcap > 0.f) ops::softcap(rec_, logits, logits, m * c_.n_vocab, c_.final_logit_softcap);
    if (p.select_k == 1)
      ops::argmax(rec_, logits, sub(select_out_, r0 * S, m * S), select_scratch_, m, c_.n_vocab);
    else if (p.select_k > 1)
      ops::top_k(rec_, logits, sub(select_out_, r0 * S, m * S), select_scratch_, m, c_.n_vocab, p.select_k);
  }
}

void Forward::read_selection(const StepPlan& p) {
  const uint32_t rows = uint32_t(p.logit_rows.size());
  logit_rows_ = rows;
  auto& alloc = model_->device().allocator();
  if (p.select_k == 1) {
    std::vector<int32_t> best(rows);
    alloc.read(select_out_, 0, best.data(), best.size() * 4);
    for (int32_t id : best) selected_.push_back({id, std::numeric_limits<float>::quiet_NaN()});
  } else if (p.select_k > 1) {
    selected_.resize(size_t(rows) * p.select_k);
    alloc.read(select_out_, 0, selected_.data(), selected_.size() * sizeof(ops::TopKEntry));
  }
}

void Forward::read_logits(std::vector<float>& logits) {
  logits.resize(size_t(logit_rows_) * c_.n_vocab);
  model_->device().allocator().read(logits_, 0, logits.data(), logits.size() * 4);
}

uint32_t Forward::head_piece_rows(uint32_t select_k) const {
  const auto& info = model_->device().info();
  const uint64_t align = std::max<uint64_t>(4, info.min_storage_buffer_offset_alignment);
  const uint64_t logit_bytes = uint64_t(c_.n_vocab) * 4;
  // A piece starts at a row whose offset in last_, logits_ and the selection output is aligned.
  uint64_t step = 1;
  for (uint64_t b : {uint64_t(c_.n_embd) * 4, logit_bytes, selection_row_bytes(select_k)})
    step = std::lcm(step, align / std::gcd(b, align));
  const uint64_t range = std::min(info.max_storage_buffer_range, max_logits_binding_);
  const uint64_t fit = range / logit_bytes / step * step;
  check(fit > 0, Status::Unsupported, [&] {
    return "the device's storage buffer range (" + std::to_string(range) + " bytes) cannot hold " +
           std::to_string(step) + " rows of " + std::to_string(c_.n_vocab) + " logits";
  });
  return uint32_t(std::min<uint64_t>(fit, max_logit_rows_));
}

void Forward::reserve_selection(uint32_t rows, uint32_t piece) {
  if (rows <= select_rows_ && piece <= select_piece_) return;
  rows = std::max(rows, select_rows_);
  piece = std::max(piece, select_piece_);
  const auto& dev = model_->device();
  device_bytes_ -= select_out_.size() + select_scratch_.size();
  select_out_ = make(uint64_t(rows) * ops::k_top_k_max * sizeof(ops::TopKEntry), "selection output");
  const uint64_t scratch =
      std::max({ops::argmax_scratch_bytes(piece, c_.n_vocab),
                ops::top_k_scratch_bytes(dev, piece, c_.n_vocab, std::min(ops::k_top_k_max, c_.n_vocab)), uint64_t(16)});
  select_scratch_ = make(scratch, "selection scratch");
  select_rows_ = rows;
  select_piece_ = piece;
}

}  // namespace tern
