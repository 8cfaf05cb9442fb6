/**
 * One request and its response on an HTTP/1.1 connection: the parts the
 * connection creates per request (body decoder, body stream, response
 * writer, abort signal) and the request the handler sees.
 * @module
 */
import { type BodyDecoder, createBodyDecoder } from "./body_decoder.ts";
import type { RequestFraming } from "./framing.ts";
import type { ParsedHead } from "./head_parser.ts";
import { RequestBody } from "./request_body.ts";
import { ResponseWriter } from "./response_writer.ts";
import type { Http1Limits, Http1Request } from "./types.ts";

/** What an exchange calls back into its connection for. */
export interface ExchangeHooks {
  /** The handler took body data or waits for it. */
  readonly onPull: () => void;
  /** The handler's first body read: time for 100 Continue. */
  readonly onFirstRead: () => void;
  /** Asked when the response head goes out. */
  readonly keepAlive: () => boolean;
  /** Writes response bytes in order. */
  readonly send: (bytes: Uint8Array) => Promise<void>;
}

/**
 * A request in flight.
 *
 * @example
 * ```ts
 * const exchange = new Exchange(head, framing, socket.peer, limits, hooks);
 * await handler(exchange.request, exchange.writer);
 * ```
 */
export class Exchange {
  readonly decoder: BodyDecoder;
  readonly body: RequestBody;
  readonly writer: ResponseWriter;
  readonly framing: RequestFraming;
  readonly request: Http1Request;
  /** 100 Continue has been sent. */
  continueSent = false;
  readonly #controller = new AbortController();

  constructor(
    head: ParsedHead,
    framing: RequestFraming,
    peer: string,
    limits: Http1Limits,
    hooks: ExchangeHooks,
  ) {
    const { maxBodyBytes, maxHeadBytes, maxHeaderCount } = limits;
    this.framing = framing;
    this.decoder = createBodyDecoder(framing.body, maxBodyBytes, maxHeadBytes, maxHeaderCount);
    this.body = new RequestBody(hooks);
    if (this.decoder.done) this.body.finish();
    this.writer = new ResponseWriter({
      method: head.method,
      httpVersion: head.httpVersion,
      keepAlive: hooks.keepAlive,
      send: hooks.send,
    });
    this.request = { ...head, peer, body: this.body, signal: this.#controller.signal };
  }

  /** The request is dead: its body read fails and its signal aborts, with `reason`. */
  abort(reason: unknown): void {
    this.body.fail(reason);
    this.#controller.abort(reason);
  }
}

/**
 * Answers a generic 500 on `writer` (what went wrong is for the handler's
 * log, not the client); false if even that failed.
 */
export async function answerFailure(writer: ResponseWriter): Promise<boolean> {
  try {
    const body = new TextEncoder().encode("internal error\n");
    writer.writeHead(500, [
      ["content-type", "text/plain; charset=utf-8"],
      ["content-length", String(body.length)],
    ]);
    await writer.write(body);
    await writer.end();
    return true;
  } catch {
    return false;
  }
}
