/**
 * Malformed HPACK input (or a field the encoder cannot represent). The HTTP/2 layer maps it to a
 * connection error of type COMPRESSION_ERROR (RFC 9113 §4.3): after one, the compression context
 * is out of sync with the peer and must not be used again.
 */
export class HpackError extends Error {
  /** @param message what was wrong with the header block */
  constructor(message: string) {
    super(message);
    this.name = "HpackError";
  }
}
