/**
 * The one error class of the HTTP/1.1 connection: a request the server
 * refuses, with the status to answer it. After one, the connection closes,
 * since framing can no longer be trusted (RFC 9112 §6.3).
 * @module
 */

/**
 * A request refused with an HTTP status.
 *
 * @example
 * ```ts
 * throw new Http1ProtocolError(431, "too many header fields");
 * ```
 */
export class Http1ProtocolError extends Error {
  /** The status to answer with: 400, 408, 413, 417, 431, 501 or 505. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "Http1ProtocolError";
    this.status = status;
  }
}

/** Reason phrases for the statuses this package writes (RFC 9110 §15). */
export const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/**
 * The whole response refusing a request for `error`: its status (400 for
 * anything but an {@link Http1ProtocolError}), a one-line reason, and
 * `Connection: close`.
 *
 * @example
 * ```ts
 * refusal(new Http1ProtocolError(413, "body too large")); // "HTTP/1.1 413 Content Too Large..."
 * ```
 */
export function refusal(error: unknown): Uint8Array {
  const status = error instanceof Http1ProtocolError ? error.status : 400;
  const body = `${error instanceof Http1ProtocolError ? error.message : "bad request"}\n`;
  return new TextEncoder().encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
      `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
