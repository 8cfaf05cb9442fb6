/**
 * One byte stream a connection reads and writes: a Deno TCP or TLS
 * connection, or a node:tls socket (the only way to verify client
 * certificates: Deno.listenTls cannot request them).
 * @module
 */
import type { TLSSocket } from "node:tls";
import type { PeerCertificate } from "../../server/context.ts";
import { toPeerCertificate } from "../peer_certificate.ts";

/** What an HTTP/2 connection needs from its socket. */
export interface ByteSocket {
  /** `ip:port`, IPv6 in brackets. */
  readonly peer: string;
  /** The verified client certificate (mTLS), else null. */
  readonly peerCertificate: PeerCertificate | null;
  /** The next chunk, valid until the next call; null at end of stream. */
  read(): Promise<Uint8Array | null>;
  /** Writes all of `bytes`. Rejects if the socket is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes now; pending reads end. Idempotent. */
  close(): void;
}

const READ_BUFFER_BYTES = 64 * 1024;

/** Wraps a `Deno.Conn` (TCP or TLS). */
export function denoSocket(conn: Deno.Conn): ByteSocket {
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  const addr = conn.remoteAddr as Deno.NetAddr;
  let closed = false;
  return {
    peer: formatPeer(addr.hostname, addr.port),
    peerCertificate: null,
    async read() {
      if (closed) return null;
      try {
        const n = await conn.read(buffer);
        return n === null ? null : buffer.subarray(0, n);
      } catch {
        return null;
      }
    },
    async write(bytes) {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // Already closed by the peer.
      }
    },
  };
}

/** Wraps a node:tls socket that has finished its handshake. */
export function nodeTlsSocket(socket: TLSSocket): ByteSocket {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    // One chunk queued is enough: reading resumes when the connection asks.
    socket.pause();
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", () => {
    ended = true;
    notify();
  });
  return {
    peer: formatPeer(socket.remoteAddress ?? "unknown", socket.remotePort ?? 0),
    peerCertificate: toPeerCertificate(socket.getPeerCertificate()),
    async read() {
      while (chunks.length === 0) {
        if (ended) return null;
        socket.resume();
        await new Promise<void>((resolve) => wake = resolve);
      }
      return chunks.shift()!;
    },
    write(bytes) {
      if (socket.destroyed) return Promise.reject(new Error("socket closed"));
      return new Promise<void>((resolve, reject) => {
        socket.write(bytes, (error) => error ? reject(error) : resolve());
      });
    },
    close() {
      ended = true;
      socket.destroy();
      notify();
    },
  };
}

function formatPeer(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
