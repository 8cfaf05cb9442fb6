/**
 * The idle-connections case (issue 20): open many HTTP/2 connections to a
 * server, make one unary call on each, hold them idle and read the server's
 * RSS, then close them. A bare HTTP/2 client over Deno.connect, so that a
 * thousand connections cost the bench a socket and a small buffer each, not
 * a client library's session per connection.
 * @module
 */
import type { BenchCase } from "./_cases.ts";
import { cpuSettled, memoryMiB, within } from "./_process.ts";

/** What holding the connections did to the server's memory. */
export interface IdleConnectionsSample {
  readonly connections: number;
  /** RSS (MiB) just before the first connection, with all of them held idle, after closing. */
  readonly rssBefore: number;
  readonly rssHeld: number;
  readonly rssAfterClose: number;
  /** (rssHeld − rssBefore) per connection, KiB. */
  readonly kibPerConnection: number;
  /** Seconds from the first connect until every call had its trailers. */
  readonly openSeconds: number;
}

/** Connections opened at once: bounded, so the server's accept backlog never overflows. */
const PARALLEL = 50;
/** Bound on the whole open-and-call phase, and on each connection's call. */
const OPEN_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;

const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
const END_STREAM = 1;
const END_HEADERS = 4;
const ACK = 1;

/**
 * Opens `benchCase.connections` connections to `port`, one unary call of
 * `benchCase.body` on each, and reads `pid`'s RSS once the server is idle
 * with all of them held; closes them and reads it again.
 */
export async function measureIdleConnections(
  benchCase: BenchCase,
  pid: number,
  port: number,
): Promise<IdleConnectionsSample> {
  await cpuSettled(pid);
  const rssBefore = memoryMiB(pid).rss;
  const open: IdleConnection[] = [];
  const t0 = performance.now();
  try {
    await within(
      (async () => {
        for (let i = 0; i < benchCase.connections; i += PARALLEL) {
          const batch = Math.min(PARALLEL, benchCase.connections - i);
          const made = await Promise.all(
            Array.from({ length: batch }, () => IdleConnection.open(port)),
          );
          open.push(...made);
          await Promise.all(made.map((c) => c.call(benchCase)));
        }
      })(),
      OPEN_TIMEOUT_MS,
      `${benchCase.connections} connections`,
    );
    const openSeconds = (performance.now() - t0) / 1000;
    // Idle means idle: whatever the calls left (GC, timers) is over.
    await cpuSettled(pid);
    const rssHeld = memoryMiB(pid).rss;
    const lost = open.filter((c) => c.closed).length;
    if (lost) throw new Error(`the server closed ${lost} of the idle connections`);
    for (const c of open.splice(0)) c.close();
    await new Promise((r) => setTimeout(r, 500));
    await cpuSettled(pid);
    return {
      connections: benchCase.connections,
      rssBefore,
      rssHeld,
      rssAfterClose: memoryMiB(pid).rss,
      kibPerConnection: (rssHeld - rssBefore) * 1024 / benchCase.connections,
      openSeconds,
    };
  } finally {
    for (const c of open) c.close();
  }
}

/**
 * One client connection: the preface and an empty SETTINGS, an ACK of the
 * server's SETTINGS and every PING answered (grpc-go pings after data to
 * size its window), so a held connection is as a well-behaved idle client's.
 */
class IdleConnection {
  closed = false;
  #conn: Deno.TcpConn;
  #buffer: Uint8Array = new Uint8Array(0);
  #trailers: PromiseWithResolvers<void> = Promise.withResolvers();

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    // Handled here; call() still sees a rejection it awaits.
    this.#trailers.promise.catch(() => {});
    this.#read();
  }

  static async open(port: number): Promise<IdleConnection> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const preface = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    await writeAll(conn, concat(preface, frame(FRAME.SETTINGS, 0, 0, new Uint8Array(0))));
    return new IdleConnection(conn);
  }

  /** One unary call on stream 1; resolves at its trailers (HEADERS with END_STREAM). */
  async call(benchCase: BenchCase): Promise<void> {
    const headers = hpackLiterals([
      [":method", "POST"],
      [":scheme", "http"],
      [":path", `/${benchCase.service}/${benchCase.method}`],
      [":authority", "127.0.0.1"],
      ...benchCase.headers.map((h) => h.split(":", 2) as [string, string]),
    ]);
    await writeAll(
      this.#conn,
      concat(
        frame(FRAME.HEADERS, END_HEADERS, 1, headers),
        frame(FRAME.DATA, END_STREAM, 1, benchCase.body!),
      ),
    );
    await within(this.#trailers.promise, CALL_TIMEOUT_MS, "idle connection's call");
  }

  /**
   * Sends FIN, then closes. close() alone can leave the socket open while
   * the read loop's read is pending (seen on Deno 2.8.3): the FIN makes the
   * server close its side, which ends that read.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#conn.closeWrite().catch(() => {}).finally(() => {
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    });
  }

  async #read(): Promise<void> {
    const chunk = new Uint8Array(16_384);
    try {
      for (;;) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
        await this.#frames();
      }
    } catch {
      // closed by us or reset: `closed` tells
    }
    this.#trailers.reject(new Error("connection closed before the call ended"));
    this.closed = true;
  }

  async #frames(): Promise<void> {
    while (this.#buffer.length >= 9) {
      const b = this.#buffer;
      const length = (b[0] << 16) | (b[1] << 8) | b[2];
      if (b.length < 9 + length) return;
      const type = b[3], flags = b[4];
      const stream = ((b[5] & 0x7f) << 24) | (b[6] << 16) | (b[7] << 8) | b[8];
      const payload = b.slice(9, 9 + length);
      this.#buffer = b.slice(9 + length);
      if (type === FRAME.SETTINGS && !(flags & ACK)) {
        await writeAll(this.#conn, frame(FRAME.SETTINGS, ACK, 0, new Uint8Array(0)));
      } else if (type === FRAME.PING && !(flags & ACK)) {
        await writeAll(this.#conn, frame(FRAME.PING, ACK, 0, payload));
      } else if (type === FRAME.HEADERS && stream === 1 && flags & END_STREAM) {
        this.#trailers.resolve();
      } else if (type === FRAME.RST_STREAM || type === FRAME.GOAWAY) {
        this.#trailers.reject(new Error(`the server sent frame type ${type}`));
      }
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = (payload.length >>> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, stream);
  out.set(payload, 9);
  return out;
}

/**
 * HPACK "literal header field without indexing, new name" for each header,
 * no Huffman: valid for any decoder, and no dynamic table on either side.
 * Names and values here are under 127 bytes (one-byte lengths).
 */
export function hpackLiterals(headers: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  const text = new TextEncoder();
  for (const [name, value] of headers) {
    const n = text.encode(name), v = text.encode(value);
    if (n.length > 126 || v.length > 126) throw new Error(`header too long: ${name}`);
    out.push(0x00, n.length, ...n, v.length, ...v);
  }
  return Uint8Array.from(out);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
