/**
 * The context object each call gets: what handlers and interceptors see,
 * plus the response headers, trailers and reply the pipeline collects.
 * @module
 */
import type { MetadataValue } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { Metadata } from "../core/metadata.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import type { TransportCall } from "../transport/types.ts";
import type { CallClients, ClientsForCalls } from "../core/clients.ts";
import type { CallKind, ServerCall } from "../core/context.ts";
import type { PeerCertificate } from "../core/peer.ts";
import type { Span } from "@opentelemetry/api";
import { NOOP_SPAN } from "../core/noop_span.ts";

/** A call's context plus what the pipeline collects while it runs. */
export class ServerCallContext implements ServerCall {
  readonly call: TransportCall;
  readonly descriptor: MethodDescriptor;
  readonly #baseLog: Logger;
  readonly #clients: ClientsForCalls;
  #log: Logger | null = null;
  #callClients: CallClients | null = null;
  /** Response headers set by the handler, sent before the first message. */
  headers: Metadata | null = null;
  /** Trailers set by the handler, sent with the status. */
  trailers: Metadata | null = null;
  headersSent = false;
  /** The encoded reply of a unary or client-streaming call. */
  response: Uint8Array | undefined = undefined;
  messagesReceived = 0;
  /** Estimated decoded bytes of the request being handled, held in the memory budget. */
  decodedBytes = 0;
  messagesSent = 0;
  /** The call's span when it is traced (set by the call tracer), else null. */
  callSpan: Span | null = null;

  constructor(
    call: TransportCall,
    descriptor: MethodDescriptor,
    log: Logger,
    clients: ClientsForCalls,
  ) {
    this.call = call;
    this.descriptor = descriptor;
    this.#baseLog = log;
    this.#clients = clients;
  }

  get metadata(): Metadata {
    return this.call.metadata;
  }
  get peer(): string {
    return this.call.peer;
  }
  get peerCertificate(): PeerCertificate | null {
    return this.call.peerCertificate;
  }
  get deadline(): number {
    return this.call.deadline;
  }
  get requestCompressed(): boolean | null {
    return this.call.requestCompressed ?? null;
  }
  compressResponses(enabled: boolean): void {
    this.call.compressResponses?.(enabled);
  }
  get signal(): AbortSignal {
    return this.call.signal;
  }
  get method(): string {
    return this.descriptor.path;
  }
  get service(): string {
    return this.descriptor.service;
  }
  get methodName(): string {
    return this.descriptor.name;
  }
  get kind(): CallKind {
    return this.descriptor.kind;
  }
  get span(): Span {
    return this.callSpan ?? NOOP_SPAN;
  }
  // Built on first use: most calls never log.
  get log(): Logger {
    if (this.#log) return this.#log;
    const span = this.callSpan;
    if (span === null) {
      return this.#log = this.#baseLog.child({ method: this.method, peer: this.peer });
    }
    // Traced: every line joins the call's trace in the logging backend.
    const { traceId, spanId } = span.spanContext();
    return this.#log = this.#baseLog.child({
      method: this.method,
      peer: this.peer,
      trace_id: traceId,
      span_id: spanId,
    });
  }

  // Built on first use: most calls never call out.
  get clients(): CallClients {
    return this.#callClients ??= this.#clients.forCall(this);
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
    if (this.headers) this.call.sendHeaders(this.headers);
  }
}
