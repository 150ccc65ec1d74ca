package org.tern;

/** tern_kv_policy: what the KV cache keeps (README, "Long context"). */
public enum KvPolicy {
  /** Every token, up to nCtx; then {@link Status#CONTEXT_FULL}. */
  DENSE(0),
  /** The last kvWindow tokens. */
  WINDOW(1),
  /** kvSinks first tokens forever plus the most recent ones (StreamingLLM). */
  SINKS_WINDOW(2),
  /** Activation Beacon compression, with optional sinks. */
  BEACON(3),
  /** Beacons for what a sliding raw window evicts: beaconWindow raw tokens kept raw, beaconRatio raw tokens per beacon. */
  BEACON_SLIDING(4);

  final int code;

  KvPolicy(int code) {
    this.code = code;
  }
}
