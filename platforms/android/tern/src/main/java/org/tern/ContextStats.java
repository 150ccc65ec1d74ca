package org.tern;

/** A context's counters (tern_context_stats). Times are totals since the last reset. */
public final class ContextStats {
  public final long tokensConsumed, kvBytes, deviceBytes;
  public final int kvSlotsUsed, kvSlotsCapacity, kvSinkSlots, kvRawSlots, kvBeaconSlots, beaconRatio, beaconWindow;
  public final double promptMs, promptTokens, decodeMs, decodeTokens;

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
  }

  /** Decode speed in tokens per second (0 before any decode step). */
  public double decodeTokensPerSecond() {
    return decodeMs > 0 ? decodeTokens * 1000.0 / decodeMs : 0.0;
  }
}
