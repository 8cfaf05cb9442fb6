/**
 * The byte stream under one HTTP/2 connection: a node:net or node:tls
 * socket. Not `Deno.Conn`: in Deno 2.8.3 closing a Conn while a read is
 * pending leaves the socket open until the peer sends or closes, so a
 * client that sends nothing could never be disconnected.
 * @module
 */
import type { Socket } from "node:net";
import type { PeerCertificate } from "../../core/peer.ts";
import { readIntoSharedBuffer } from "./shared_read_buffer.ts";

/** What an HTTP/2 connection needs from its socket. */
export interface ByteSocket {
  /** `ip:port`, IPv6 in brackets. */
  readonly peer: string;
  /** The verified client certificate (mTLS), else null. */
  readonly peerCertificate: PeerCertificate | null;
  /**
   * Starts delivering input: `onData` per chunk (the chunk may be reused
   * after the call returns), then `onEnd` once, when the peer closes or the
   * socket fails or is closed.
   */
  start(onData: (chunk: Uint8Array) => void, onEnd: () => void): void;
  /** Stops delivering input until `resume()`. */
  pause(): void;
  resume(): void;
  /** Writes all of `bytes`; resolves once handed to the kernel. Rejects if the socket is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes now, discarding unwritten bytes. Idempotent. */
  close(): void;
}

/**
 * Wraps a node:net socket, or a node:tls one that has finished its
 * handshake. With `sharedReadBuffer` (plaintext sockets: a TLS socket's
 * reads go through its TLS layer first) it reads into the buffer all such
 * sockets share (shared_read_buffer.ts), where this Deno allows it.
 */
export function nodeSocket(
  socket: Socket,
  peerCertificate: PeerCertificate | null,
  sharedReadBuffer = false,
): ByteSocket {
  let detach = () => {};
  return {
    peer: formatPeer(socket.remoteAddress ?? "unknown", socket.remotePort ?? 0),
    peerCertificate,
    start(onData, onEnd) {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        detach();
        onEnd();
      };
      // Still listened to: bytes read before the switch, or without it, arrive here.
      socket.on("data", onData);
      const unshare = sharedReadBuffer ? readIntoSharedBuffer(socket, onData) : null;
      socket.on("end", end);
      socket.on("close", end);
      // Every error also closes the socket; "close" reports it.
      socket.on("error", ignoreError);
      socket.once("close", forgetError);
      // Deno 2.8.3 keeps a socket whose write failed reachable after it has
      // closed (its TCPWrap stays in V8's global handles). Without our
      // listeners on it, that leaked socket no longer holds the connection,
      // its buffers and its streams.
      detach = () => {
        unshare?.();
        socket.off("data", onData);
        socket.off("end", end);
        socket.off("close", end);
      };
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    write(bytes) {
      if (socket.destroyed) return Promise.reject(new Error("socket closed"));
      return new Promise<void>((resolve, reject) => {
        socket.write(bytes, (error) => error ? reject(error) : resolve());
      });
    },
    close() {
      detach();
      socket.destroy();
    },
  };
}

function ignoreError(): void {}

// Replaces the error a closed socket keeps. Deno attaches the call sites of
// its stack to an Error, and one of them holds the failed write's buffer: a
// connection's whole output buffer (up to 4 MiB), kept as long as Deno keeps
// the socket (see `detach`).
const FORGOTTEN = new Error("socket closed after an error");

function forgetError(this: Socket): void {
  const streamStates = this as unknown as {
    _readableState?: { errored: unknown };
    _writableState?: { errored: unknown };
  };
  for (const state of [streamStates._readableState, streamStates._writableState]) {
    if (!state?.errored) continue;
    // Node's setter stores only truthy values; null then clears the flag.
    state.errored = FORGOTTEN;
    state.errored = null;
  }
}

function formatPeer(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
