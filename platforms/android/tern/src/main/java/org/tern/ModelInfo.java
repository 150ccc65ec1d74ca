package org.tern;

import java.nio.charset.StandardCharsets;

/** What a loaded model is (tern_model_info). */
public final class ModelInfo {
  public final String architecture, name, deviceName, weightTypes;
  /** tokenizer.chat_template, or null. */
  public final String chatTemplate;
  public final int nVocab, nCtxTrain, nEmbd, nLayer, nHead, nHeadKv, nFf;
  public final long nParams, weightBytes, deviceBytes;
  /** -1 when absent. */
  public final int bos, eos;
  /** The file has trained beacon projections or a beacon embedding (else beacons are training-free). */
  public final boolean hasBeaconWeights;
  /** The file's beacon settings (0 when it has none). */
  public final int beaconWindow, beaconSinkSize;
  /** "full-coverage", "sliding", another mode Tern refuses, or null; and one line describing them. */
  public final String beaconAttention, beaconSettings;

  ModelInfo(long[] n, byte[][] s) {
    nVocab = (int) n[0];
    nCtxTrain = (int) n[1];
    nEmbd = (int) n[2];
    nLayer = (int) n[3];
    nHead = (int) n[4];
    nHeadKv = (int) n[5];
    nFf = (int) n[6];
    nParams = n[7];
    weightBytes = n[8];
    deviceBytes = n[9];
    bos = (int) n[10];
    eos = (int) n[11];
    hasBeaconWeights = n[12] != 0;
    beaconWindow = (int) n[13];
    beaconSinkSize = (int) n[14];
    architecture = text(s[0]);
    name = text(s[1]);
    deviceName = text(s[2]);
    chatTemplate = text(s[3]);
    weightTypes = text(s[4]);
    beaconAttention = text(s[5]);
    beaconSettings = text(s[6]);
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
