package org.tern;

/** Receives generated text as it comes (whole UTF-8 characters per piece). */
public interface PieceListener {
  /** @return false to stop generating (generate then returns normally) */
  boolean onPiece(String piece);
}
