/**
 * One logical outgoing call: what client middleware and observers see
 * (`ClientCall`), plus what the attempts under it share. Its deadline is
 * the earliest of the caller's, the call options' and, when the caller set
 * none, the dependency's default timeout.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { Metadata } from "../core/metadata.ts";
import type { CallKind } from "../core/call_kind.ts";
import type { CallParent, ClientCall, ClientCallOptions, OutgoingSpan } from "../core/clients.ts";
import type { MethodDescriptor } from "../protos/types.ts";

/** A dependency's default deadlines, ms; 0 = none. */
export interface DefaultTimeouts {
  readonly unary: number;
  readonly stream: number;
}

/** The call state shared by the chain, the attempts and the observer. */
export class OutgoingCall implements ClientCall {
  readonly service: string;
  readonly methodName: string;
  readonly method: string;
  readonly kind: CallKind;
  readonly metadata: Metadata;
  deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly parent: CallParent | undefined;
  messagesSent = 0;
  messagesReceived = 0;
  attempts = 0;
  peer = "";
  /** The call's CLIENT span, told which instance was picked; null when not traced. */
  readonly span: OutgoingSpan | null;
  /** When the call started (epoch ms). */
  readonly startedAt: number;

  constructor(
    method: MethodDescriptor,
    parent: CallParent | undefined,
    options: ClientCallOptions | undefined,
    timeouts: DefaultTimeouts,
    span: OutgoingSpan | null,
  ) {
    this.service = method.service;
    this.methodName = method.name;
    this.method = method.path;
    this.kind = method.kind;
    this.parent = parent;
    this.span = span;
    const now = this.startedAt = Date.now();
    let deadline = Math.min(
      parent?.deadline ?? Infinity,
      options?.deadline ?? Infinity,
      options?.timeoutMs === undefined ? Infinity : now + options.timeoutMs,
    );
    const fallback = method.kind === "unary" ? timeouts.unary : timeouts.stream;
    if (deadline === Infinity && fallback > 0) deadline = now + fallback;
    this.deadline = deadline;
    const signals = [parent?.signal, options?.signal].filter((s): s is AbortSignal =>
      s !== undefined
    );
    this.signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    this.metadata = Metadata.from(options?.metadata ?? {});
    // The trace context replaces any the caller set by hand: it names this call's span.
    if (span) { for (const [key, value] of span.headers) this.metadata.set(key, value); }
  }

  #grpcMetadata: grpc.Metadata | null = null;

  /** The metadata as grpc-js sends it; built after the middleware ran, once per call. */
  grpcMetadata(): grpc.Metadata {
    if (this.#grpcMetadata) return this.#grpcMetadata;
    const out = this.#grpcMetadata = new grpc.Metadata();
    for (const [key, values] of this.metadata.entries()) {
      for (const value of values) {
        out.add(
          key,
          typeof value === "string"
            ? value
            : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        );
      }
    }
    return out;
  }
}
