/**
 * Writing one response (RFC 9112 §4, §6, §7): the status line and fields,
 * then a body delimited by Content-Length when the handler set one, else by
 * chunked coding (HTTP/1.1) or by closing the connection (HTTP/1.0). HEAD,
 * 204 and 304 responses carry no body (RFC 9110 §6.4.1) whatever is written.
 * @module
 */
import { REASONS } from "./errors.ts";
import { isToken } from "./head_parser.ts";
import type { Http1ResponseWriter } from "./types.ts";

/** What a writer needs from its connection. */
export interface ResponseTarget {
  readonly method: string;
  readonly httpVersion: "1.0" | "1.1";
  /** Asked once, when the head goes out: may the connection be kept after this response? */
  keepAlive(): boolean;
  /** Writes bytes in order; rejects if the socket is gone. */
  send(bytes: Uint8Array): Promise<void>;
}

/** Header fields the connection owns (RFC 9112 §9.6, §6.1): a handler's are dropped. */
const CONNECTION_FIELDS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

type Framing = "length" | "chunked" | "close" | "none";

/**
 * The writer handed to a handler.
 *
 * @example
 * ```ts
 * const writer = new ResponseWriter(target);
 * writer.writeHead(200, [["content-type", "text/plain"]]);
 * await writer.write(new TextEncoder().encode("hi"));
 * await writer.end();
 * ```
 */
export class ResponseWriter implements Http1ResponseWriter {
  readonly #target: ResponseTarget;
  #head: Uint8Array | null = null;
  #headSent = false;
  #framing: Framing = "none";
  #length = 0;
  #written = 0;
  #keepAlive = false;
  #ended: Promise<void> | null = null;
  #preempted = false;
  readonly #done = Promise.withResolvers<boolean>();

  constructor(target: ResponseTarget) {
    this.#target = target;
  }

  get headSent(): boolean {
    return this.#headSent || this.#head !== null;
  }

  /**
   * Resolves once the response is fully written: true if the connection
   * can carry another request (kept alive, framing complete).
   */
  get finished(): Promise<boolean> {
    return this.#done.promise;
  }

  writeHead(status: number, headers: readonly (readonly [string, string])[]): void {
    this.#checkUsable();
    if (this.headSent) throw new Error("Cannot write a response head twice");
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new Error(`Cannot write status ${status}: must be 200-599`);
    }
    const { method, httpVersion } = this.#target;
    const bodyless = method === "HEAD" || status === 204 || status === 304;
    let lines = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
    let length: number | null = null;
    for (const [rawName, value] of headers) {
      const name = rawName.toLowerCase();
      if (!isToken(name)) throw new Error(`Cannot write header "${rawName}": invalid name`);
      // No CR, LF or NUL may reach the wire (response splitting).
      if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
        throw new Error(`Cannot write header "${rawName}": invalid value`);
      }
      if (CONNECTION_FIELDS.has(name)) continue;
      if (name === "content-length") {
        if (length !== null || !/^\d{1,15}$/.test(value)) {
          throw new Error(`Cannot write header "${rawName}": invalid content-length`);
        }
        length = Number(value);
        if (status === 204) continue; // a 204 has no Content-Length (RFC 9110 §8.6)
      }
      lines += `${name}: ${value}\r\n`;
    }
    if (bodyless) this.#framing = "none";
    else if (length !== null) [this.#framing, this.#length] = ["length", length];
    else if (httpVersion === "1.1") this.#framing = "chunked";
    else this.#framing = "close";
    this.#keepAlive = this.#framing !== "close" && this.#target.keepAlive();
    if (this.#framing === "chunked") lines += "transfer-encoding: chunked\r\n";
    if (!this.#keepAlive) lines += "connection: close\r\n";
    else if (httpVersion === "1.0") lines += "connection: keep-alive\r\n";
    this.#head = encoder.encode(lines + "\r\n");
  }

  write(chunk: Uint8Array): Promise<void> {
    try {
      this.#checkUsable();
      if (this.#ended !== null) throw new Error("Cannot write after end()");
      if (!this.headSent) this.writeHead(200, []);
    } catch (error) {
      return Promise.reject(error);
    }
    if (chunk.length === 0 || this.#framing === "none") return this.#flushHead();
    if (this.#framing === "length") {
      if (this.#written + chunk.length > this.#length) {
        return Promise.reject(new Error("Cannot write more than content-length"));
      }
      this.#written += chunk.length;
      return this.#send([chunk]);
    }
    if (this.#framing === "chunked") {
      // An empty chunk would end the body (RFC 9112 §7.1): never sent, see above.
      return this.#send([encoder.encode(chunk.length.toString(16) + "\r\n"), chunk, CRLF]);
    }
    return this.#send([chunk]);
  }

  end(): Promise<void> {
    if (this.#ended !== null) return this.#ended;
    try {
      this.#checkUsable();
      if (!this.headSent) this.writeHead(200, []);
    } catch (error) {
      return Promise.reject(error);
    }
    const complete = this.#framing !== "length" || this.#written === this.#length;
    const reusable = this.#keepAlive && complete;
    const last = this.#framing === "chunked" ? this.#send([LAST_CHUNK]) : this.#flushHead();
    this.#ended = last.then(
      () => this.#done.resolve(reusable),
      (error) => {
        this.#done.resolve(false);
        throw error;
      },
    );
    return this.#ended;
  }

  /**
   * Takes the response away from the handler so the connection can send its
   * own error response; false if the head has gone out already.
   */
  preempt(): boolean {
    if (this.#headSent || this.#preempted) return false;
    this.#preempted = true;
    this.#head = null;
    this.#done.resolve(false);
    return true;
  }

  #checkUsable(): void {
    if (this.#preempted) throw new Error("Cannot write a response the connection has answered");
  }

  #flushHead(): Promise<void> {
    return this.#head === null ? Promise.resolve() : this.#send([]);
  }

  /**
   * Sends the parts (behind the head, the first time); the connection joins
   * what one turn sends into one socket write (output_queue.ts).
   */
  #send(parts: Uint8Array[]): Promise<void> {
    if (this.#head !== null) {
      parts.unshift(this.#head);
      this.#head = null;
      this.#headSent = true;
    }
    if (parts.length === 0) return Promise.resolve();
    for (let i = 0; i < parts.length - 1; i++) {
      // Written with the last part or not at all: its promise reports for all of them.
      this.#target.send(parts[i]).catch(() => {});
    }
    return this.#target.send(parts[parts.length - 1]);
  }
}
