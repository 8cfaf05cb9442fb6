/**
 * The request side of a gRPC-Web or Connect call over HTTP/1.1: the body
 * read whole (Connect unary), as envelopes (gRPC-Web, its base64 text form,
 * Connect streaming), and JSON turned into protobuf binary on the way in so
 * that everything after the transport sees binary only. Sizes are checked
 * before bytes are held: the HTTP/1.1 layer refuses a body over its limit,
 * and the envelope parser a message over `maxMessageBytes` from its prefix;
 * a compressed message is inflated no further than that limit.
 * @module
 */
import { RpcError, Status } from "../../core/errors.ts";
import type { CallStatus, RouteJsonCodec } from "../types.ts";
import type { Encoding, InflateGate } from "../native/compression.ts";
import { memoryFull } from "../native/call_requests.ts";
import { ALWAYS_GRANTED_BYTES, type MemoryBudget } from "../../util/memory_budget.ts";
import { EnvelopeParser, FLAG_COMPRESSED } from "./envelope.ts";
import { Base64StreamDecoder } from "./grpc_web_text.ts";
import type { RequestProtocol } from "./protocol.ts";
import { compressionHeaders, inflateMessage } from "./web_compression.ts";

/** How a request's flagged messages are inflated. */
export interface MessageInflation {
  /** The request's encoding (`grpc-encoding`, `connect-content-encoding`). */
  readonly encoding: Encoding;
  /** Told, for each message handed out, whether it was compressed on the wire. */
  readonly onMessage?: (compressed: boolean) => void;
  /** Paces inflation (the transport's InflateGate); absent: inflate at once. */
  readonly gate?: InflateGate;
}

const IDENTITY: MessageInflation = { encoding: "identity" };

/**
 * Request bytes held while a message is assembled, counted in the process's
 * memory budget as the HTTP/2 side counts its own: a thousand slow uploads
 * of a few megabytes each end RESOURCE_EXHAUSTED instead of growing the
 * process. A request holding less than a small message always fits (the
 * budget's own rule), so small calls never meet it.
 *
 * @example
 * ```ts
 * const hold = new BodyHold(new MemoryBudget(64 << 20));
 * if (!hold.add(chunk.length)) throw new RpcError(Status.RESOURCE_EXHAUSTED, "full");
 * hold.release();
 * ```
 */
export class BodyHold {
  readonly #memory: MemoryBudget | undefined;
  #held = 0;

  constructor(memory: MemoryBudget | undefined) {
    this.#memory = memory;
  }

  /** Counts `bytes` more; false, counting nothing, when they do not fit. */
  add(bytes: number): boolean {
    const memory = this.#memory;
    if (memory === undefined) return true;
    const held = this.#held + bytes;
    if (held >= ALWAYS_GRANTED_BYTES && memory.used + bytes > memory.limit) return false;
    memory.charge(bytes);
    this.#held = held;
    return true;
  }

  /** Gives back everything counted. */
  release(): void {
    if (this.#held === 0) return;
    this.#memory?.give(this.#held);
    this.#held = 0;
  }

  /** The error for a request that did not fit. */
  static full(bytes: number): RpcError {
    return new RpcError(Status.RESOURCE_EXHAUSTED, memoryFull("request", bytes));
  }
}

const NO_HOLD = new BodyHold(undefined);

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The whole body, or the status to end with when it is larger than `max`. */
export async function readWholeBody(
  body: AsyncIterable<Uint8Array>,
  max: number,
  hold: BodyHold = NO_HOLD,
): Promise<Uint8Array | CallStatus> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      length += chunk.length;
      if (length > max) {
        return failure(Status.RESOURCE_EXHAUSTED, `Received message larger than max (${max})`);
      }
      if (!hold.add(chunk.length)) {
        return failure(Status.RESOURCE_EXHAUSTED, memoryFull("request", length));
      }
      chunks.push(chunk);
    }
  } finally {
    hold.release();
  }
  if (chunks.length === 1) return chunks[0];
  const whole = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.length;
  }
  return whole;
}

/**
 * The enveloped messages of a body, in order, inflated when flagged
 * compressed. Throws RpcError on a malformed or oversized message (before
 * or after inflating), on a compressed one when the request named no
 * encoding, on bad base64, or on a body that ends inside a message.
 */
export async function* envelopedMessages(
  body: AsyncIterable<Uint8Array>,
  protocol: RequestProtocol,
  maxMessageBytes: number,
  inflation: MessageInflation = IDENTITY,
  hold: BodyHold = NO_HOLD,
): AsyncGenerator<Uint8Array> {
  try {
    yield* parseEnvelopes(body, protocol, maxMessageBytes, inflation, hold);
  } finally {
    hold.release();
  }
}

async function* parseEnvelopes(
  body: AsyncIterable<Uint8Array>,
  protocol: RequestProtocol,
  maxMessageBytes: number,
  inflation: MessageInflation,
  hold: BodyHold,
): AsyncGenerator<Uint8Array> {
  const parser = new EnvelopeParser({ maxMessageBytes, allowedFlags: FLAG_COMPRESSED });
  const text = protocol.protocol === "grpc-web-text" ? new Base64StreamDecoder() : null;
  for await (const chunk of body) {
    if (!hold.add(chunk.length)) throw BodyHold.full(chunk.length);
    try {
      parser.push(text === null ? chunk : text.push(chunk));
    } catch (error) {
      throw new RpcError(Status.INVALID_ARGUMENT, String((error as Error).message));
    }
    for (let next = parser.next(); next !== null; next = parser.next()) {
      if ("error" in next) throw new RpcError(next.code, next.message);
      // The message is whole: what was held to assemble it is the handler's now (a
      // partial next message in the same chunk goes uncounted until its next chunk).
      hold.release();
      const compressed = (next.flags & FLAG_COMPRESSED) !== 0;
      inflation.onMessage?.(compressed);
      if (!compressed) {
        // A view of a chunk the body may reuse: copy what outlives this turn.
        yield next.data.slice();
        continue;
      }
      if (inflation.encoding === "identity") {
        // gRPC's rule (compression.md), which Connect shares: a flag without an encoding is an error.
        const header = compressionHeaders(protocol).encoding;
        throw new RpcError(
          Status.INTERNAL,
          `Received compressed message but no ${header} was sent`,
        );
      }
      const inflated = await inflate(inflation, next.data, maxMessageBytes);
      if (!(inflated instanceof Uint8Array)) throw new RpcError(inflated.code, inflated.message);
      yield inflated;
    }
  }
  const ended = parser.end();
  if (ended !== null) throw new RpcError(ended.code, ended.message);
}

/**
 * A compressed message (or Connect unary body) inflated within `maxBytes`,
 * through the gate when there is one, or the status to end with.
 */
export function inflate(
  inflation: MessageInflation,
  bytes: Uint8Array,
  maxBytes: number,
): Uint8Array | CallStatus | Promise<Uint8Array | CallStatus> {
  const run = () => inflateMessage(inflation.encoding, bytes, maxBytes);
  if (inflation.encoding === "identity" || inflation.gate === undefined) return run();
  // Turns go round per request here: the HTTP/1.1 layer names no connection.
  return inflation.gate.run(run, inflation);
}

/** The single message of a unary or server-streaming enveloped request, or the status to end with. */
export async function readSingleMessage(
  body: AsyncIterable<Uint8Array>,
  protocol: RequestProtocol,
  maxMessageBytes: number,
  path: string,
  inflation: MessageInflation = IDENTITY,
  hold: BodyHold = NO_HOLD,
): Promise<Uint8Array | CallStatus> {
  let message: Uint8Array | null = null;
  try {
    for await (
      const data of envelopedMessages(body, protocol, maxMessageBytes, inflation, hold)
    ) {
      if (message !== null) {
        return failure(Status.UNIMPLEMENTED, `Received a second request message for ${path}`);
      }
      message = data;
    }
  } catch (error) {
    if (error instanceof RpcError) return failure(error.code, error.message);
    throw error; // the body failed: the HTTP/1.1 connection answers and closes
  }
  return message ?? failure(Status.UNIMPLEMENTED, `Received no request message for ${path}`);
}

/** JSON request bytes as protobuf binary, or INVALID_ARGUMENT naming the field. */
export function jsonRequestToBinary(
  json: RouteJsonCodec,
  bytes: Uint8Array,
): Uint8Array | CallStatus {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return failure(Status.INVALID_ARGUMENT, "Request JSON is not valid UTF-8");
  }
  try {
    return json.requestToBinary(text);
  } catch (error) {
    // JsonMappingError's message names the field path and nothing internal; anything
    // else is not the client's to read.
    const named = error instanceof Error && error.name === "JsonMappingError";
    return failure(
      Status.INVALID_ARGUMENT,
      named ? `Invalid request JSON: ${error.message}` : "Invalid request JSON",
    );
  }
}

/** Each message of `messages` converted from JSON; throws RpcError on the first bad one. */
export async function* jsonMessages(
  json: RouteJsonCodec,
  messages: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for await (const message of messages) {
    const converted = jsonRequestToBinary(json, message);
    if (!(converted instanceof Uint8Array)) throw new RpcError(converted.code, converted.message);
    yield converted;
  }
}

/** A status without trailers. */
export function failure(code: Status, message: string): CallStatus {
  return { code, message, trailers: null };
}
