package org.tern;

/** A context's counters (tern_context_stats). Times are totals since the last reset. */
public final class ContextStats {
  public final long tokensConsumed, kvBytes, deviceBytes;
  public final int kvSlotsUsed, kvSlotsCapacity, kvSinkSlots, kvRawSlots, kvBeaconSlots, beaconRatio, beaconWindow;
  public final double promptMs, promptTokens, decodeMs, decodeTokens;
  /** Per layer kind (models with sliding-window layers, e.g. Gemma 3): the slot counts above are the
   *  global layers'; each sliding-window layer keeps a ring of its last W positions. */
  public final int kvGlobalLayers, kvSlidingLayers, kvSlidingSlotsUsed, kvSlidingSlotsCapacity;
  public final long kvGlobalBytes, kvSlidingBytes;

  ContextStats(double[] v) {
    tokensConsumed = (long) v[0];
    kvSlotsUsed = (int) v[1];
    kvSlotsCapacity = (int) v[2];
    kvBytes = (long) v[3];
    deviceBytes = (long) v[4];
    promptMs = v[5];
    promptTokens = v[6];
    decodeMs = v[7];
    decodeTokens = v[8];
    kvSinkSlots = (int) v[9];
    kvRawSlots = (int) v[10];
    kvBeaconSlots = (int) v[11];
    beaconRatio = (int) v[12];
    beaconWindow = (int) v[13];
    kvGlobalLayers = (int) v[14];
    kvSlidingLayers = (int) v[15];
    kvSlidingSlotsUsed = (int) v[16];
    kvSlidingSlotsCapacity = (int) v[17];
    kvGlobalBytes = (long) v[18];
    kvSlidingBytes = (long) v[19];
  }

  /** Decode speed in tokens per second (0 before any decode step). */
  public double decodeTokensPerSecond() {
    return decodeMs > 0 ? decodeTokens * 1000.0 / decodeMs : 0.0;
  }
}
