/**
 * Adapts grpc-js's four call objects to the runtime's TransportCall.
 * @module
 */
import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";
import { Status } from "../../core/errors.ts";
import { Metadata } from "../../core/metadata.ts";
import type { PeerCertificate } from "../../core/peer.ts";
import { toPeerCertificate } from "../peer_certificate.ts";
import type { CallStatus, Route, TransportCall } from "../types.ts";
import { MessageReader } from "./message_reader.ts";
import {
  belowLowWater,
  type BufferedStream,
  http2StreamOf,
  overHighWater,
} from "./backpressure.ts";
import { fromGrpcMetadata, toBuffer, toGrpcMetadata } from "./metadata.ts";

type AnyGrpcCall =
  | ServerUnaryCall<Buffer, Buffer>
  | ServerReadableStream<Buffer, Buffer>
  | ServerWritableStream<Buffer, Buffer>
  | ServerDuplexStream<Buffer, Buffer>;

/** One grpc-js call seen through the TransportCall interface. */
export class GrpcJsCall implements TransportCall {
  readonly route: Route;
  readonly request: Uint8Array | null;
  // Read up front: grpc-js answers "unknown" once the stream has closed.
  readonly peer: string;
  readonly #call: AnyGrpcCall;
  readonly #callback: sendUnaryData<Buffer> | null;
  // Both built on first use: most unary calls never look at either.
  #abort: AbortController | null = null;
  #metadata: Metadata | null = null;
  #http2: BufferedStream | null | undefined;
  #headersSent = false;
  #ended = false;
  /** The code end() sent; see TransportCall.end. */
  #sentCode: Status = Status.OK;
  readonly #maxSend: number;

  constructor(
    route: Route,
    call: AnyGrpcCall,
    callback: sendUnaryData<Buffer> | null,
    maxSendMessageBytes = Infinity,
  ) {
    this.route = route;
    this.#maxSend = maxSendMessageBytes;
    this.#call = call;
    this.#callback = callback;
    this.request = "request" in call ? call.request : null;
    this.peer = call.getPeer();
  }

  get metadata(): Metadata {
    return this.#metadata ??= fromGrpcMetadata(this.#call.metadata);
  }

  header(name: string): string | undefined {
    const value = this.#call.metadata.get(name)[0];
    return typeof value === "string" ? value : undefined;
  }

  get peerCertificate(): PeerCertificate | null {
    return toPeerCertificate(this.#call.getAuthContext().sslPeerCertificate);
  }

  get deadline(): number {
    const deadline = this.#call.getDeadline();
    return deadline instanceof Date ? deadline.getTime() : deadline;
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      const abort = this.#abort = new AbortController();
      const cancel = () => abort.abort(new DOMException("call cancelled", "AbortError"));
      // grpc-js sets `cancelled` before it emits the event.
      const call = this.#call as ServerUnaryCall<Buffer, Buffer>;
      if (call.cancelled) cancel();
      else call.once("cancelled", cancel);
    }
    return this.#abort.signal;
  }

  get aborted(): boolean {
    if (this.#abort) return this.#abort.signal.aborted;
    return (this.#call as ServerUnaryCall<Buffer, Buffer>).cancelled;
  }

  requests(): AsyncIterable<Uint8Array> {
    return new MessageReader(this.#call as ServerReadableStream<Buffer, Buffer>, this.signal);
  }

  sendHeaders(headers: Metadata): void {
    if (this.#headersSent || this.#ended) return;
    this.#headersSent = true;
    this.#call.sendMetadata(toGrpcMetadata(headers));
  }

  write(message: Uint8Array): Promise<void> | void {
    if (this.#ended) return;
    if (this.#tooLarge(message)) return;
    const stream = this.#call as ServerWritableStream<Buffer, Buffer>;
    this.#headersSent = true;
    const accepted = stream.write(toBuffer(message));
    const http2 = this.#http2 === undefined ? (this.#http2 = http2StreamOf(stream)) : this.#http2;
    if (http2 && overHighWater(http2)) return belowLowWater(http2, this.signal);
    if (accepted) return;
    return whenDrained(stream, this.signal);
  }

  /**
   * grpc-js would refuse a message over the send limit itself, but not say
   * so to the pipeline, which would count the handler's code: refused here,
   * with grpc-js's wording, and the signal aborted so a streaming handler stops.
   */
  #tooLarge(message: Uint8Array): boolean {
    if (message.length <= this.#maxSend) return false;
    const signal = this.signal; // hooks cancellation before aborting it ourselves
    this.end({
      code: Status.RESOURCE_EXHAUSTED,
      message: `Sent message larger than max (${message.length + 5} vs. ${this.#maxSend})`,
      trailers: null,
    });
    if (!signal.aborted) this.#abort!.abort(new DOMException("call ended", "AbortError"));
    return true;
  }

  end(status: CallStatus, response?: Uint8Array): Status {
    if (this.#ended) return this.#sentCode;
    if (status.code === Status.OK && response !== undefined && this.#tooLarge(response)) {
      return this.#sentCode;
    }
    this.#ended = true;
    this.#sentCode = status.code;
    const trailers = status.trailers ? toGrpcMetadata(status.trailers) : undefined;
    if (this.#callback) {
      if (status.code === 0) this.#callback(null, response && toBuffer(response), trailers);
      else {
        this.#callback({ code: status.code, details: status.message, metadata: trailers });
      }
      return status.code;
    }
    const stream = this.#call as ServerWritableStream<Buffer, Buffer>;
    if (status.code === 0) stream.end(trailers);
    else stream.emit("error", { code: status.code, details: status.message, metadata: trailers });
    return status.code;
  }
}

function whenDrained(stream: ServerWritableStream<Buffer, Buffer>, signal: AbortSignal) {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    stream.on("drain", done);
    signal.addEventListener("abort", done);
  });
}
