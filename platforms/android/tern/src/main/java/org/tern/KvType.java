package org.tern;

/** tern_context_params.kv_type: the KV cache's element type. */
public enum KvType {
  F16(0),
  /** Twice the memory; fp32-exact attention. */
  F32(1),
  /** GGUF q8_0 blocks, about 0.53x the f16 bytes. */
  Q8_0(2);

  final int code;

  KvType(int code) {
    this.code = code;
  }
}
