/**
 * Tells HTTP/2 (h2c with prior knowledge) from HTTP/1.1 on a plaintext
 * connection by its first bytes, for when the gRPC port also serves
 * gRPC-Web and Connect over HTTP/1.1. Only used when `server.web.enabled`:
 * with it off, sockets go straight to Http2Connection and no byte is looked
 * at twice.
 *
 * The decision is made at the first byte that differs from the 24-byte
 * HTTP/2 preface (`P` of `POST` matches, its `O` does not), so an HTTP/1.1
 * request costs one or two bytes of comparison. The wait is bounded by the
 * transport's tick: a client that sends nothing is closed at `deadline`.
 * @module
 */
import type { ByteSocket } from "./socket.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** What the first bytes said. */
export type SniffedProtocol = "h2" | "http/1.1";

/** Called once the protocol is known, with the socket to hand on and the bytes read so far. */
export type OnSniffed = (
  protocol: SniffedProtocol,
  socket: ByteSocket,
  sniffed: Uint8Array,
) => void;

/**
 * Reads a new connection's first bytes until the protocol is known, then
 * hands the socket on. Sits in the transport's connection set meanwhile, so
 * it is ticked, drained and closed like a connection.
 *
 * @example
 * ```ts
 * const sniffer = new ProtocolSniffer(socket, performance.now() + 10_000, (protocol, s, bytes) => {
 *   if (protocol === "h2") new Http2Connection(prefixedSocket(s, bytes), options).serve();
 * }, () => connections.delete(sniffer));
 * ```
 */
export class ProtocolSniffer {
  readonly #deadline: number;
  readonly #onDone: () => void;
  readonly #handover: HandoverSocket;
  #buffer: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(socket: ByteSocket, deadline: number, onSniffed: OnSniffed, onDone: () => void) {
    this.#deadline = deadline;
    this.#onDone = onDone;
    this.#handover = new HandoverSocket(socket, (chunk) => {
      if (this.#done) return;
      const buffer = concat(this.#buffer, chunk);
      this.#buffer = buffer;
      const protocol = decide(buffer);
      if (protocol === null) return;
      this.#finish();
      onSniffed(protocol, this.#handover, buffer);
    }, () => this.close());
  }

  /** Closes the socket if the protocol is not known by the deadline. */
  tick(now: number): void {
    if (!this.#done && now >= this.#deadline) this.close();
  }

  /** Nothing is in flight yet: draining closes. */
  drain(): void {
    this.close();
  }

  /** Closes the socket unless it has been handed on. */
  close(): void {
    if (this.#done) return;
    this.#finish();
    this.#handover.close();
  }

  #finish(): void {
    this.#done = true;
    this.#onDone();
  }
}

/** The protocol, or null while the bytes so far are a prefix of the HTTP/2 preface. */
function decide(bytes: Uint8Array): SniffedProtocol | null {
  const n = Math.min(bytes.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== PREFACE[i]) return "http/1.1";
  return bytes.length >= PREFACE.length ? "h2" : null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  // The chunk may be reused after onData returns (ByteSocket's contract): copy it.
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A ByteSocket whose input can be taken over: the sniffer starts the real
 * socket once, and a later `start()` redirects its input to the new owner.
 * The sniffed bytes are not replayed here; see {@link prefixedSocket}.
 */
class HandoverSocket implements ByteSocket {
  readonly #socket: ByteSocket;
  #onData: (chunk: Uint8Array) => void;
  #onEnd: () => void;
  #ended = false;

  constructor(socket: ByteSocket, onData: (chunk: Uint8Array) => void, onEnd: () => void) {
    this.#socket = socket;
    this.#onData = onData;
    this.#onEnd = onEnd;
    socket.start((chunk) => this.#onData(chunk), () => {
      this.#ended = true;
      this.#onEnd();
    });
  }

  get peer(): string {
    return this.#socket.peer;
  }

  get peerCertificate() {
    return this.#socket.peerCertificate;
  }

  start(onData: (chunk: Uint8Array) => void, onEnd: () => void): void {
    this.#onData = onData;
    this.#onEnd = onEnd;
    if (this.#ended) onEnd();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.#socket.write(bytes);
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * `socket`, with `prefix` delivered as the first chunk when started: for a
 * connection (Http2Connection) that expects to read the bytes the sniffer
 * already took.
 *
 * @example
 * ```ts
 * new Http2Connection(prefixedSocket(socket, sniffed), options).serve();
 * ```
 */
export function prefixedSocket(socket: ByteSocket, prefix: Uint8Array): ByteSocket {
  return {
    get peer() {
      return socket.peer;
    },
    get peerCertificate() {
      return socket.peerCertificate;
    },
    start(onData, onEnd) {
      // Before the real start: an end already seen must not overtake the bytes.
      if (prefix.length > 0) onData(prefix);
      socket.start(onData, onEnd);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    write: (bytes) => socket.write(bytes),
    close: () => socket.close(),
  };
}
