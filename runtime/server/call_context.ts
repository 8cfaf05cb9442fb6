/**
 * The CallContext implementation handed to handlers.
 * @module
 */
import type { MetadataValue } from "../errors.ts";
import type { Logger } from "../log/types.ts";
import { Metadata } from "../metadata.ts";
import type { TransportCall } from "../transport/types.ts";
import type { CallContext, PeerCertificate } from "./context.ts";

/** A call's context plus the response headers and trailers it collected. */
export class ServerCallContext implements CallContext {
  readonly #call: TransportCall;
  readonly #baseLog: Logger;
  #log: Logger | null = null;
  /** Response headers set by the handler, sent before the first message. */
  headers: Metadata | null = null;
  /** Trailers set by the handler, sent with the status. */
  trailers: Metadata | null = null;
  headersSent = false;

  constructor(call: TransportCall, log: Logger) {
    this.#call = call;
    this.#baseLog = log;
  }

  get metadata(): Metadata {
    return this.#call.metadata;
  }
  get peer(): string {
    return this.#call.peer;
  }
  get peerCertificate(): PeerCertificate | null {
    return this.#call.peerCertificate;
  }
  get deadline(): number {
    return this.#call.deadline;
  }
  get signal(): AbortSignal {
    return this.#call.signal;
  }
  get method(): string {
    return this.#call.route.path;
  }
  // Built on first use: most calls never log.
  get log(): Logger {
    return this.#log ??= this.#baseLog.child({ method: this.method, peer: this.peer });
  }

  setHeader(key: string, value: MetadataValue): void {
    if (this.headersSent) return;
    (this.headers ??= new Metadata()).add(key, value);
  }

  setTrailer(key: string, value: MetadataValue): void {
    (this.trailers ??= new Metadata()).add(key, value);
  }

  /** Sends pending response headers, once. */
  flushHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    if (this.headers) this.#call.sendHeaders(this.headers);
  }
}
