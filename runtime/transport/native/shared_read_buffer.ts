/**
 * Reads every plaintext connection into one buffer, instead of a new
 * 64 KiB one per read.
 *
 * Deno 2.8.3's node:net hands each read to JavaScript in a fresh 64 KiB
 * allocation (ext/node/ops/stream_wrap.rs, `on_uv_alloc`), however few bytes
 * arrived, and frees it only when V8 collects the Buffer around it. V8 is
 * told the bytes read, not the 64 KiB, so nothing hurries that collection,
 * and the free runs on V8's sweeper thread, whose pool keeps up to 128 of
 * them (8 MiB) that the event loop never reuses. Under small-call load that
 * is one allocation per read and the largest part of what malloc's arenas
 * grow by (heaptrack, 10 s of unary-small: 110,777 allocations of 65,536
 * bytes, 16.5 MB of them live at the peak).
 *
 * Node's `onread` option (a static buffer and a callback) is the documented
 * way out, but only for sockets svc would construct itself; an accepted
 * socket is made by the server. So this sets the same three fields that
 * option sets, found by their symbols' descriptions, and points the handle
 * at the buffer with `useUserBuffer`, as Deno's `_initSocketHandle` does.
 * Where any piece is missing (another Deno, a TLS socket's handle), it does
 * nothing and the socket keeps its own buffers.
 *
 * One buffer serves every connection because a read is delivered in the
 * same synchronous turn that fills it (libs/core/uv_compat/tcp.rs: alloc,
 * `try_read`, callback, per socket), and ByteSocket's consumers copy what
 * they keep before `onData` returns.
 * @module
 */
import type { Socket } from "node:net";

/** What libuv asks for per read; what Deno would allocate per read. */
const READ_BUFFER_BYTES = 64 * 1024;

/** The fields Node's `onread` option sets on a Socket, by symbol description. */
interface OnreadSymbols {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

let symbols: OnreadSymbols | null | undefined;
let shared: Uint8Array | null = null;

/**
 * Makes `socket` read into the shared buffer and deliver each read to
 * `onData` (valid only during the call). Returns what lets go of `onData`
 * again, or null, changing nothing, when this Deno's node:net does not
 * have what it needs.
 */
export function readIntoSharedBuffer(
  socket: Socket,
  onData: (chunk: Uint8Array) => void,
): (() => void) | null {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  if (typeof handle?.useUserBuffer !== "function") return null;
  const fields = symbols === undefined ? (symbols = findSymbols(socket)) : symbols;
  if (fields === null) return null;
  const buffer = shared ??= new Uint8Array(READ_BUFFER_BYTES);
  const target = socket as unknown as Record<symbol, unknown>;
  target[fields.generator] = null;
  target[fields.buffer] = buffer;
  target[fields.callback] = (nread: number, bytes: Uint8Array) => {
    onData(bytes.subarray(0, nread));
  };
  (handle.useUserBuffer as (buffer: Uint8Array) => void).call(handle, buffer);
  // A closed socket may stay reachable (socket.ts): it must not keep the reader.
  return () => target[fields.callback] = ignoreRead;
}

function ignoreRead(): void {}

function findSymbols(socket: Socket): OnreadSymbols | null {
  const byName = new Map<string, symbol>();
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== undefined) byName.set(symbol.description, symbol);
  }
  const buffer = byName.get("kBuffer");
  const callback = byName.get("kBufferCb");
  const generator = byName.get("kBufferGen");
  if (buffer === undefined || callback === undefined || generator === undefined) return null;
  return { buffer, callback, generator };
}
