/**
 * Flood limits: frames that cost us work and get a client nothing (the
 * 2019 HTTP/2 denial-of-service advisories: PING, SETTINGS, empty-frame
 * and reset floods; "rapid reset"; CONTINUATION floods). Each breach is a
 * connection error, ENHANCE_YOUR_CALM.
 * @module
 */
import { TokenBucket } from "../../util/token_bucket.ts";
import { ConnectionError, ErrorCode } from "./frame.ts";
import type { NativeLimits } from "./limits.ts";

/** Header block fragments accepted before the block counts as a flood. */
export const MAX_CONTINUATIONS = 64;
/**
 * Entries in one SETTINGS frame (nghttp2's default; Go's net/http2 allows
 * 100). There are seven settings; 2,730 per frame, 300 frames, cost 5 s
 * of CPU before (issue 19).
 */
export const MAX_SETTINGS_ENTRIES = 32;

/** The flood accounting of one connection. */
export class FloodLimits {
  /** Stream resets, ours for errors and the client's alike. */
  readonly #resets: TokenBucket;
  /** Frames we must answer or that carry nothing: SETTINGS, PING, PRIORITY, empty DATA/HEADERS. */
  readonly #controlFrames: TokenBucket;
  /** A compressed header block this much bigger than the list limit can only be a flood. */
  readonly #headerBlockCap: number;

  constructor(limits: NativeLimits) {
    this.#resets = new TokenBucket(limits.resetRate, limits.resetBurst);
    this.#controlFrames = new TokenBucket(limits.controlFrameRate, limits.controlFrameBurst);
    this.#headerBlockCap = Math.max(4 * limits.maxHeaderListBytes, 64 * 1024);
  }

  /** Counts one control (or empty) frame; throws once they come too fast. */
  controlFrame(): void {
    if (!this.#controlFrames.tryTake()) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many control frames");
    }
  }

  /** Counts one SETTINGS frame of `entries` entries; throws when it has too many or they come too fast. */
  settings(entries: number): void {
    if (entries > MAX_SETTINGS_ENTRIES) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `too many settings (${entries})`);
    }
    this.controlFrame();
  }

  /** Counts one stream reset; throws once they come too fast. */
  streamReset(): void {
    if (!this.#resets.tryTake()) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "too many stream resets");
    }
  }

  /** Checks a header block still being received: `size` bytes so far in `fragments` frames. */
  headerBlock(size: number, fragments: number): void {
    if (size > this.#headerBlockCap || fragments >= MAX_CONTINUATIONS) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
  }
}
