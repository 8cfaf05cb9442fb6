/**
 * `grpc-status-details-bin`: a serialized `google.rpc.Status` (code,
 * message, details as `google.protobuf.Any`) that gRPC carries as a binary
 * trailer, and the only place an svc RpcError keeps typed error details
 * (in its metadata). Connect sends the same details as JSON
 * (`{"type", "value"}`), so errors cross between the two through this small
 * codec of just those two messages (google/rpc/status.proto,
 * google/protobuf/any.proto).
 * @module
 */
import type { Status } from "../../core/errors.ts";

/** The trailer gRPC puts a serialized google.rpc.Status in. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** One error detail: a message's fully-qualified name and its serialized bytes. */
export interface ErrorDetail {
  /** Fully-qualified message name, e.g. `google.rpc.RetryInfo` (no type URL prefix). */
  readonly type: string;
  readonly value: Uint8Array;
}

/** A decoded google.rpc.Status. */
export interface RpcStatusProto {
  readonly code: Status;
  readonly message: string;
  readonly details: ErrorDetail[];
}

// Any.type_url is "type.googleapis.com/pkg.Msg": the name is after the last "/".
const TYPE_URL_PREFIX = "type.googleapis.com/";

/**
 * Decodes a google.rpc.Status; null when the bytes are not one.
 *
 * @example
 * ```ts
 * const status = decodeRpcStatus(bytes);
 * status?.details[0].type; // "google.rpc.RetryInfo"
 * ```
 */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatusProto | null {
  const reader = new _Reader(bytes);
  let code = 0, message = "";
  const details: ErrorDetail[] = [];
  try {
    while (!reader.done) {
      const tag = reader.varint();
      const field = tag >>> 3;
      if (field === 1 && (tag & 7) === 0) code = reader.varint() | 0;
      else if (field === 2 && (tag & 7) === 2) message = new TextDecoder().decode(reader.bytes());
      else if (field === 3 && (tag & 7) === 2) details.push(decodeAny(reader.bytes()));
      else reader.skip(tag & 7);
    }
  } catch {
    return null;
  }
  return { code: code as Status, message, details };
}

function decodeAny(bytes: Uint8Array): ErrorDetail {
  const reader = new _Reader(bytes);
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array(0);
  while (!reader.done) {
    const tag = reader.varint();
    if (tag === (1 << 3 | 2)) typeUrl = new TextDecoder().decode(reader.bytes());
    else if (tag === (2 << 3 | 2)) value = reader.bytes();
    else reader.skip(tag & 7);
  }
  return { type: typeUrl.slice(typeUrl.lastIndexOf("/") + 1), value };
}

/**
 * Encodes a google.rpc.Status, naming each detail with the
 * `type.googleapis.com/` URL gRPC clients expect.
 *
 * @example
 * ```ts
 * const bytes = encodeRpcStatus({ code: Status.UNAVAILABLE, message: "overloaded", details: [] });
 * metadata.set(STATUS_DETAILS_KEY, bytes);
 * ```
 */
export function encodeRpcStatus(status: RpcStatusProto): Uint8Array {
  const out: number[] = [];
  if (status.code !== 0) {
    out.push(1 << 3);
    // int32: negative values are 10-byte varints; codes are 0..16 anyway.
    writeVarint(out, status.code);
  }
  if (status.message) writeBytes(out, 2, new TextEncoder().encode(status.message));
  for (const detail of status.details) {
    const any: number[] = [];
    writeBytes(any, 1, new TextEncoder().encode(TYPE_URL_PREFIX + detail.type));
    writeBytes(any, 2, detail.value);
    writeBytes(out, 3, any);
  }
  return new Uint8Array(out);
}

function writeVarint(out: number[], value: number): void {
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function writeBytes(out: number[], field: number, bytes: ArrayLike<number>): void {
  out.push(field << 3 | 2);
  writeVarint(out, bytes.length);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
}

/** A protobuf reader that throws RangeError on truncated input. */
class _Reader {
  #at = 0;
  constructor(readonly buffer: Uint8Array) {}

  get done(): boolean {
    return this.#at >= this.buffer.length;
  }

  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.#at >= this.buffer.length) throw new RangeError("truncated varint");
      const byte = this.buffer[this.#at++];
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new RangeError("varint too long");
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (this.#at + length > this.buffer.length) throw new RangeError("truncated field");
    const bytes = this.buffer.subarray(this.#at, this.#at + length);
    this.#at += length;
    return bytes;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.#advance(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.#advance(4);
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }

  #advance(n: number): void {
    if (this.#at + n > this.buffer.length) throw new RangeError("truncated field");
    this.#at += n;
  }
}
